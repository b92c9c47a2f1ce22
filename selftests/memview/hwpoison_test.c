// SPDX-License-Identifier: GPL-2.0
/*
 * memview and memory_failure() without a fence: MADV_HWPOISON on a demoted
 * page with the RAS policy's FENCE_ON_UE off.  The page is unmapped from
 * every process that maps it (a hwpoison entry in its place: RESIDENCY
 * counts it not present, a forked child sharing it copy-on-write gets
 * SIGBUS too), the slice is DEGRADED and stays in service, and the
 * poisoned page is retired for good: poisoned_pages, not used, not free,
 * after every owner has unmapped it.
 *
 * With the default policy (fence on an uncorrectable error), the owner's
 * SIGBUS, the counters and the fence are checked by ras_test's
 * hwpoison_sigbus; this file does not repeat them.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "memview_harness.h"

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif

#define NR_PAGES	64
#define POISON_PAGE	5

FIXTURE(hwpoison) {
	struct mv_fixture f;
	struct memview_policy saved;
	bool policy_changed;
};

FIXTURE_VARIANT(hwpoison) {
	const struct mv_target *target;
};

MV_TARGET_VARIANTS(hwpoison);

FIXTURE_SETUP(hwpoison)
{
	MV_FIXTURE_SETUP(&self->f, variant->target, true, true);
	if (!mv_has_ras(&self->f.info))
		SKIP(return, "module without MEMVIEW_FEATURE_RAS");
	ASSERT_EQ(0, mv_get_policy(self->f.fd, &self->saved));
}

FIXTURE_TEARDOWN(hwpoison)
{
	struct memview_policy p;
	int ret;

	_metadata->trigger = 0;
	if (self->f.fd >= 0 && self->policy_changed) {
		p = self->saved;
		p.valid = MEMVIEW_POLICY_ALL;
		ret = mv_set_policy(self->f.fd, &p);
		EXPECT_EQ(0, ret) TH_LOG("teardown: SET_POLICY: %s",
					 strerror(-ret));
	}
	MV_FIXTURE_TEARDOWN(&self->f);
}

/*
 * MADV_HWPOISON on one demoted page shared with a forked child, no fence:
 * both lose that page (SIGBUS, BUS_MCEERR_AR), keep every other one; the
 * slice is DEGRADED and still takes pages; the page is retired.
 */
TEST_F_TIMEOUT(hwpoison, poison_shared_page_no_fence, 120)
{
	size_t len = NR_PAGES * MV_PAGE_SIZE, poff = POISON_PAGE * MV_PAGE_SIZE;
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry before, e;
	struct memview_residency r;
	struct memview_policy p;
	struct mv_sigbus sb;
	struct mv_totals t;
	struct mv_chan c;
	__u64 n, used;
	__u32 sid;
	char msg, *buf, *buf2;
	pid_t pid;
	int ret;

	MV_SETUP_SKIPPED();
	if (access("/proc/sys/vm/memory_failure_early_kill", F_OK))
		SKIP(return, "kernel without CONFIG_MEMORY_FAILURE");

	memset(&p, 0, sizeof(p));
	p.valid = MEMVIEW_POLICY_RAS_FLAGS;
	p.ras_flags = MEMVIEW_RAS_FENCE_ON_CE;
	self->policy_changed = true;
	ASSERT_EQ(0, mv_set_policy(fx->fd, &p));

	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	mv_fill(buf, 0, len, MV_PAT_STAMP, fx->pid);
	mv_demote_all(_metadata, fx, fx->pid, buf, len);
	ASSERT_EQ(0, mv_residency_slice(fx->fd, fx->pid, buf + poff,
					MV_PAGE_SIZE, &sid, &n));

	/* A child sharing every page copy-on-write, the poisoned one too. */
	ASSERT_EQ(0, mv_chan_open(&c));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		pid_t parent = getppid();

		mv_chan_child(&c);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (mv_chan_send(c.to_parent[1], 'r') ||
		    mv_chan_recv(c.to_child[0], &msg, 60000))
			_exit(10);
		if (mv_probe_read(buf + poff, &sb) != 1)
			_exit(11);
		if (sb.code != BUS_MCEERR_AR || sb.addr != buf + poff)
			_exit(12);
		if (mv_probe_verify(buf, 0, poff, MV_PAT_STAMP, parent, NULL) ||
		    mv_probe_verify(buf, poff + MV_PAGE_SIZE,
				    len - poff - MV_PAGE_SIZE, MV_PAT_STAMP,
				    parent, NULL))
			_exit(13);
		_exit(0);
	}
	mv_chan_parent(&c);
	ASSERT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, 60000));
	ASSERT_EQ(0, mv_slice_get(fx->fd, sid, &before));

	ret = mv_probe_madvise(buf + poff, MV_PAGE_SIZE, MADV_HWPOISON, &sb);
	if (ret == -EINVAL || ret == -EPERM) {
		kill(pid, SIGKILL);
		mv_wait_child(pid, 60000);
		SKIP(return, "MADV_HWPOISON: %s", strerror(-ret));
	}
	if (ret == 1)
		TH_LOG("SIGBUS during MADV_HWPOISON: si_code %d, addr %p",
		       sb.code, sb.addr);
	else
		EXPECT_EQ(0, ret) TH_LOG("MADV_HWPOISON: %s", strerror(-ret));

	/* Counted, DEGRADED, not fenced; the page is unmapped everywhere. */
	ASSERT_EQ(0, mv_slice_get(fx->fd, sid, &e));
	EXPECT_EQ((__u32)MEMVIEW_SLICE_DEGRADED, e.state) mv_slice_print(&e);
	EXPECT_EQ(before.uncorrectable_errors + 1, e.uncorrectable_errors);
	EXPECT_EQ(before.poisoned_pages + 1, e.poisoned_pages)
		mv_slice_print(&e);
	EXPECT_EQ(before.used_pages - 1, e.used_pages) mv_slice_print(&e);
	EXPECT_EQ(e.total_pages, e.used_pages + e.free_pages + e.poisoned_pages);
	ASSERT_EQ(0, mv_residency(fx->fd, fx->pid, buf + poff, MV_PAGE_SIZE,
				  &r, NULL, 0));
	EXPECT_EQ(0ULL, r.out_slice_pages + r.out_dram_pages);
	EXPECT_EQ(1ULL, r.out_not_present);
	ASSERT_EQ(0, mv_residency(fx->fd, pid, buf + poff, MV_PAGE_SIZE,
				  &r, NULL, 0));
	EXPECT_EQ(0ULL, r.out_slice_pages + r.out_dram_pages);
	EXPECT_EQ(1ULL, r.out_not_present);

	/* The owner and the child: SIGBUS at that page only. */
	EXPECT_EQ(1, mv_probe_read(buf + poff, &sb));
	EXPECT_EQ(BUS_MCEERR_AR, sb.code);
	EXPECT_EQ((void *)(buf + poff), sb.addr);
	EXPECT_EQ(0, mv_probe_verify(buf, 0, poff, MV_PAT_STAMP, fx->pid,
				     NULL));
	EXPECT_EQ(0, mv_probe_verify(buf, poff + MV_PAGE_SIZE,
				     len - poff - MV_PAGE_SIZE, MV_PAT_STAMP,
				     fx->pid, NULL));
	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'g'));
	ret = mv_wait_child(pid, 60000);
	EXPECT_TRUE(ret >= 0 && WIFEXITED(ret) && !WEXITSTATUS(ret))
		TH_LOG("child: status %#x (11: no SIGBUS, 12: wrong siginfo, 13: other pages)",
		       ret);
	mv_chan_close(&c);

	/* Still in service: a DEGRADED slice takes new pages. */
	/*
	 * Pages go to the least used healthy slice a 2 MiB batch at a time:
	 * of two aligned batches, one lands on this slice (it holds 63 pages,
	 * another slice at most none).
	 */
	buf2 = mv_map_anon(4 * MV_MIB, MV_ALIGN, false);
	ASSERT_NE(NULL, buf2);
	mv_fill(buf2, 0, 4 * MV_MIB, MV_PAT_INCREMENT, 1);
	mv_demote_all(_metadata, fx, fx->pid, buf2, 4 * MV_MIB);
	ASSERT_EQ(0, mv_slice_get(fx->fd, sid, &e));
	EXPECT_LT(before.migrations_in, e.migrations_in) mv_slice_print(&e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_DEGRADED, e.state);
	ASSERT_EQ(0, mv_region_totals(fx->fd, fx->region_id, &t));
	EXPECT_EQ(t.total_pages, t.used_pages + t.free_pages + t.poisoned_pages);
	mv_unmap_anon(buf2, 4 * MV_MIB);

	/* Every owner gone: all freed, the poisoned page stays retired. */
	ASSERT_EQ(0, munmap(buf, len));
	ASSERT_EQ(0, mv_wait_region_used(fx->fd, fx->region_id, 0, 10000,
					 &used));
	EXPECT_EQ(0ULL, used);
	ASSERT_EQ(0, mv_slice_get(fx->fd, sid, &e));
	EXPECT_EQ(before.poisoned_pages + 1, e.poisoned_pages);
	EXPECT_EQ(e.total_pages - e.poisoned_pages, e.free_pages);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_DEGRADED, e.state);
}

TEST_HARNESS_MAIN
