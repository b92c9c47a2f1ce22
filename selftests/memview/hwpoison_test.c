// SPDX-License-Identifier: GPL-2.0
/*
 * memview and memory errors: MADV_HWPOISON on a demoted page reaches the
 * module's dev_pagemap memory_failure hook.  The kernel must survive, the
 * slice must count the error, the process must survive (a SIGBUS is
 * allowed and caught) and unmap, and the other pages must read back intact.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "memview_harness.h"

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif

#define NR_PAGES	64
#define POISON_PAGE	5

static sigjmp_buf sigbus_env;
static volatile sig_atomic_t sigbus_code;
static void *volatile sigbus_addr;

static void sigbus_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	sigbus_code = si->si_code;
	sigbus_addr = si->si_addr;
	siglongjmp(sigbus_env, 1);
}

FIXTURE(hwpoison) {
	struct mv_fixture f;
};

FIXTURE_VARIANT(hwpoison) {
	const struct mv_target *target;
};

MV_TARGET_VARIANTS(hwpoison);

FIXTURE_SETUP(hwpoison)
{
	MV_FIXTURE_SETUP(&self->f, variant->target, true, true);
}

FIXTURE_TEARDOWN(hwpoison)
{
	MV_FIXTURE_TEARDOWN(&self->f);
}

/* Verify [off, off + len) with SIGBUS caught: 0, -1 (data), 1 (SIGBUS). */
static int read_back(const char *buf, size_t off, size_t len, __u64 seed)
{
	if (sigsetjmp(sigbus_env, 1))
		return 1;
	return mv_verify(buf, off, len, MV_PAT_STAMP, seed, NULL);
}

/*
 * MADV_HWPOISON on one demoted page: no crash, the slice's error counter
 * rises, the process survives and unmaps, the other pages are intact.
 */
TEST_F_TIMEOUT(hwpoison, poison_demoted_page, 60)
{
	size_t len = NR_PAGES * MV_PAGE_SIZE, poff = POISON_PAGE * MV_PAGE_SIZE;
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry *s;
	struct sigaction sa = { 0 }, old;
	struct mv_totals t0, t1, t2;
	volatile int madv_ret = 0, madv_errno = 0, during_madvise = 0;
	__u64 used = ~0ULL;
	__u32 n, i;
	char *buf;

	MV_SETUP_SKIPPED();
	if (access("/proc/sys/vm/memory_failure_early_kill", F_OK))
		SKIP(return, "kernel without CONFIG_MEMORY_FAILURE");

	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	mv_fill(buf, 0, len, MV_PAT_STAMP, fx->pid);
	mv_demote_all(_metadata, fx, fx->pid, buf, len);
	ASSERT_EQ(0, mv_region_totals(fx->fd, fx->region_id, &t0));

	sa.sa_sigaction = sigbus_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, &old));

	if (!sigsetjmp(sigbus_env, 1)) {
		madv_ret = madvise(buf + poff, MV_PAGE_SIZE, MADV_HWPOISON);
		madv_errno = errno;
	} else {
		during_madvise = 1;
	}
	if (during_madvise)
		TH_LOG("SIGBUS (si_code %d, addr %p) during MADV_HWPOISON",
		       (int)sigbus_code, sigbus_addr);
	else
		TH_LOG("MADV_HWPOISON returned %d (%s)", madv_ret,
		       madv_ret ? strerror(madv_errno) : "ok");
	if (!during_madvise && madv_ret &&
	    (madv_errno == EINVAL || madv_errno == EPERM)) {
		sigaction(SIGBUS, &old, NULL);
		SKIP(return, "MADV_HWPOISON not available: %s",
		     strerror(madv_errno));
	}

	/* The slice counted the error and is DEGRADED. */
	ASSERT_EQ(0, mv_region_totals(fx->fd, fx->region_id, &t1));
	EXPECT_LT(t0.errors, t1.errors);
	ASSERT_EQ(0, mv_slice_list(fx->fd, MEMVIEW_SLICE_LIST_REGION,
				   fx->region_id, &s, &n));
	for (i = 0; i < n; i++) {
		if (!s[i].errors)
			continue;
		TH_LOG("slice %u: state %u, %llu errors, %llu poisoned, %llu used",
		       s[i].id, s[i].state, (unsigned long long)s[i].errors,
		       (unsigned long long)s[i].poisoned_pages,
		       (unsigned long long)s[i].used_pages);
		EXPECT_EQ((__u32)MEMVIEW_SLICE_DEGRADED, s[i].state);
	}
	free(s);

	/*
	 * total = used + free + poisoned holds with the poisoned page mapped:
	 * it counts as used until it is freed, then as poisoned (retired).
	 */
	ASSERT_EQ(0, mv_region_totals(fx->fd, fx->region_id, &t1));
	EXPECT_EQ(t0.poisoned_pages, t1.poisoned_pages);
	EXPECT_EQ(t1.total_pages - t1.used_pages - t1.poisoned_pages,
		  t1.free_pages)
		TH_LOG("while mapped: %llu used, %llu poisoned, %llu free of %llu",
		       (unsigned long long)t1.used_pages,
		       (unsigned long long)t1.poisoned_pages,
		       (unsigned long long)t1.free_pages,
		       (unsigned long long)t1.total_pages);

	/* Every other page reads back, without SIGBUS. */
	EXPECT_EQ(0, read_back(buf, 0, poff, fx->pid));
	EXPECT_EQ(0, read_back(buf, poff + MV_PAGE_SIZE,
			       len - poff - MV_PAGE_SIZE, fx->pid));
	/* The poisoned page itself: SIGBUS or old data; only logged. */
	switch (read_back(buf, poff, MV_PAGE_SIZE, fx->pid)) {
	case 1:
		TH_LOG("poisoned page: SIGBUS, si_code %d%s", (int)sigbus_code,
		       sigbus_code == BUS_MCEERR_AR ? " (BUS_MCEERR_AR)" : "");
		break;
	case 0:
		TH_LOG("poisoned page: still readable, data unchanged");
		break;
	default:
		TH_LOG("poisoned page: readable, data changed");
	}

	ASSERT_EQ(0, munmap(buf, len));
	sigaction(SIGBUS, &old, NULL);

	/* Freed pages go back; the poisoned one is retired, not reused. */
	ASSERT_EQ(0, mv_wait_region_used(fx->fd, fx->region_id,
					 t0.used_pages - NR_PAGES, 2000, &used));
	EXPECT_EQ(t0.used_pages - NR_PAGES, used);
	ASSERT_EQ(0, mv_region_totals(fx->fd, fx->region_id, &t2));
	TH_LOG("after munmap: %llu used, %llu poisoned, %llu free of %llu",
	       (unsigned long long)t2.used_pages,
	       (unsigned long long)t2.poisoned_pages,
	       (unsigned long long)t2.free_pages,
	       (unsigned long long)t2.total_pages);
	EXPECT_LE(1ULL, t2.poisoned_pages);
	EXPECT_EQ(t2.total_pages - t2.used_pages - t2.poisoned_pages,
		  t2.free_pages);
}

TEST_HARNESS_MAIN
