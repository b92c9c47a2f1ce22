// SPDX-License-Identifier: GPL-2.0
/*
 * Exhaustion and error paths.
 *
 * slices_full: with one slice of the region left healthy (the other
 * fenced), demoting more than it holds fills it and stops cleanly: every
 * page it could not take is counted in out_no_space (the "why"), stays in
 * DRAM and keeps its data; freeing slice pages lets demotion go on; and
 * everything comes back.
 *
 * promote_in_memcg: the workload runs in a cgroup whose memory.max leaves
 * it almost no room.  Promotion must end cleanly: every page in exactly one
 * out_ field, the data intact wherever each page is, the workload not
 * OOM-killed, and afterwards no slice page and no memcg charge left
 * behind.  (What the kernel does with the charge of a promoted page: on 6.1
 * mem_cgroup_migrate() force-charges the new page, on 6.12 it moves the
 * charge; a slice page is charged like the DRAM page it replaced, so
 * memory.max does not make the page allocator fail — allocation failures
 * inside the module's paths are covered by fault injection on the debug
 * kernel.)  What happened is logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "memview_harness.h"

FIXTURE(exhaust) {
	struct mv_fixture f;
	char cg[128];
};

FIXTURE_VARIANT(exhaust) {
	const struct mv_target *target;
};

/* Filling a 256 MiB slice is only quick on the RAM-backed PMEM range. */
FIXTURE_VARIANT_ADD(exhaust, pmem) { .target = &mv_target_pmem };

FIXTURE_SETUP(exhaust)
{
	self->cg[0] = 0;
	MV_FIXTURE_SETUP(&self->f, variant->target, true, true);
}

FIXTURE_TEARDOWN(exhaust)
{
	if (self->cg[0])
		rmdir(self->cg);
	MV_FIXTURE_TEARDOWN(&self->f);
}

TEST_F_TIMEOUT(exhaust, slices_full, 300)
{
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry *s, keep;
	struct memview_migrate m;
	size_t extra = 1024, cap, len, pages, freed = 1024;
	__u64 sum, used;
	__u32 n;
	char *buf;

	MV_SETUP_SKIPPED();
	if (!mv_has_ras(&fx->info))
		SKIP(return, "no MEMVIEW_FEATURE_RAS: cannot fence the other slices");
	ASSERT_EQ(0, mv_slice_list(fx->fd, MEMVIEW_SLICE_LIST_REGION,
				   fx->region_id, &s, &n));
	ASSERT_LE(1U, n);
	keep = s[0];
	for (__u32 i = 1; i < n; i++)
		ASSERT_EQ(0, mv_fence(fx->fd, s[i].id, MEMVIEW_FENCE_WAIT, NULL));
	free(s);
	ASSERT_EQ(0ULL, keep.used_pages);
	cap = keep.free_pages;
	pages = cap + extra;
	len = pages * MV_PAGE_SIZE;
	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_STAMP, fx->pid);

	/* Full: every page it has moves, the rest is no_space, nothing fails. */
	ASSERT_EQ(0, mv_demote(fx->fd, fx->pid, buf, len, &m));
	mv_migrate_print("DEMOTE into one slice", &m);
	EXPECT_EQ((__u64)pages, mv_migrate_sum(&m));
	EXPECT_EQ((__u64)cap, m.out_moved);
	EXPECT_EQ((__u64)extra, m.out_no_space);
	ASSERT_EQ(0, mv_slice_get(fx->fd, keep.id, &keep));
	EXPECT_EQ(0ULL, keep.free_pages);
	EXPECT_EQ((__u64)cap, keep.used_pages);
	mv_check_residency(_metadata, fx, fx->pid, buf, len, extra, cap);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, fx->pid, sum);

	/* Again: the slice pages are "already", the rest still no_space. */
	ASSERT_EQ(0, mv_demote(fx->fd, fx->pid, buf, len, &m));
	EXPECT_EQ((__u64)cap, m.out_already);
	EXPECT_EQ((__u64)extra, m.out_no_space);
	EXPECT_EQ(0ULL, m.out_moved);

	/* Free slice pages (unmap the first MiBs): demotion goes on. */
	munmap(buf, freed * MV_PAGE_SIZE);
	ASSERT_EQ(0, mv_wait_region_used(fx->fd, fx->region_id, cap - freed,
					 10000, &used));
	EXPECT_EQ((__u64)(cap - freed), used);
	ASSERT_EQ(0, mv_demote(fx->fd, fx->pid, buf + freed * MV_PAGE_SIZE,
			       len - freed * MV_PAGE_SIZE, &m));
	mv_migrate_print("DEMOTE after freeing", &m);
	EXPECT_EQ((__u64)freed, m.out_moved);
	EXPECT_EQ((__u64)(extra - freed), m.out_no_space);

	/* Everything back to DRAM, data intact. */
	mv_promote_all(_metadata, fx, fx->pid, buf + freed * MV_PAGE_SIZE,
		       len - freed * MV_PAGE_SIZE, 0, 0);
	EXPECT_EQ(0, mv_verify(buf, freed * MV_PAGE_SIZE,
			       len - freed * MV_PAGE_SIZE, MV_PAT_STAMP, fx->pid,
			       NULL));
	ASSERT_EQ(0, mv_wait_region_used(fx->fd, fx->region_id, 0, 10000, &used));
	EXPECT_EQ(0ULL, used);
	munmap(buf + freed * MV_PAGE_SIZE, len - freed * MV_PAGE_SIZE);
}

/*
 * REGION_ADD of a range far longer than any device memory (16 TiB from the
 * start of ours) must be refused for what it is (ENXIO: not device memory
 * a driver could hand over), without the module first trying to allocate
 * a slice table for 65536 slices: that allocation is beyond the page
 * allocator's largest order, fails with a WARNING in the kernel log (which
 * fails the run) and gives ENOMEM.
 */
TEST_F(exhaust, region_add_too_long)
{
	struct mv_fixture *fx = &self->f;
	struct memview_region_add a;
	int ret;

	MV_SETUP_SKIPPED();
	ret = mv_region_add(fx->fd, fx->range.start + fx->range.size,
			    1ULL << 44, fx->range.kind, "too-long", &a);
	if (!ret)
		mv_region_remove(fx->fd, a.out_region_id, 0, NULL);
	EXPECT_NE(-ENOMEM, ret) TH_LOG("REGION_ADD of 16 TiB: ENOMEM (the slice table was allocated before the range was checked)");
	EXPECT_TRUE(ret == -ENXIO || ret == -EADDRNOTAVAIL || ret == -ERANGE ||
		    ret == -EEXIST)
		TH_LOG("REGION_ADD of 16 TiB: %s", ret ? strerror(-ret) : "success");
}

TEST_F_TIMEOUT(exhaust, promote_in_memcg, 300)
{
	struct mv_fixture *fx = &self->f;
	size_t len = mv_data_len(16), pages = mv_pages(len);
	struct memview_migrate m;
	struct memview_residency r;
	struct mv_chan c;
	long long cur, max, ooms;
	char msg, val[64];
	pid_t child;
	char *buf;
	int st, ret;
	__u64 used;

	MV_SETUP_SKIPPED();
	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK))
		SKIP(return, "no cgroup2 at /sys/fs/cgroup");
	mv_cg_write("/sys/fs/cgroup", "cgroup.subtree_control", "+memory");
	snprintf(self->cg, sizeof(self->cg), "/sys/fs/cgroup/memview-exhaust-%d",
		 getpid());
	ASSERT_EQ(0, mkdir(self->cg, 0755)) TH_LOG("mkdir %s: %s", self->cg,
						  strerror(errno));
	{
		char p[256];

		snprintf(p, sizeof(p), "%s/memory.max", self->cg);
		if (access(p, F_OK)) {
			rmdir(self->cg);
			self->cg[0] = 0;
			SKIP(return, "no memory controller in cgroup2");
		}
	}
	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, mv_chan_open(&c));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		size_t room;
		char *hog;
		__u64 sum;

		mv_chan_child(&c);
		snprintf(val, sizeof(val), "%d", getpid());
		if (mv_cg_write(self->cg, "cgroup.procs", val))
			_exit(10);
		sum = mv_fill(buf, 0, len, MV_PAT_STAMP, getpid());
		mv_chan_send(c.to_parent[1], 'F');	/* filled: demote me */
		if (mv_chan_recv(c.to_child[0], &msg, 120000) || msg != 'H')
			_exit(11);
		/* Use DRAM up to 1 MiB under memory.max. */
		cur = mv_cg_read(self->cg, "memory.current", NULL);
		max = mv_cg_read(self->cg, "memory.max", NULL);
		room = max > cur + (long long)MV_MIB ? max - cur - MV_MIB : 0;
		hog = mv_map_anon(room + MV_PAGE_SIZE, 0, false);
		if (!hog)
			_exit(12);
		memset(hog, 1, room);
		mv_chan_send(c.to_parent[1], 'H');	/* full: promote me */
		if (mv_chan_recv(c.to_child[0], &msg, 120000) || msg != 'V')
			_exit(13);
		_exit(mv_checksum(buf, 0, len) == sum ? 0 : 14);
	}
	mv_chan_parent(&c);
	ASSERT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, 120000));
	ASSERT_EQ(0, mv_attach(fx->fd, child, 0));
	mv_demote_all(_metadata, fx, child, buf, len);
	cur = mv_cg_read(self->cg, "memory.current", NULL);
	/* 4 MiB of room above what it has now (slice pages are charged too) */
	snprintf(val, sizeof(val), "%lld", cur + 4 * (long long)MV_MIB);
	ASSERT_EQ(0, mv_cg_write(self->cg, "memory.max", val));
	mv_log("after demotion: memory.current %lld, memory.max %s", cur, val);
	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'H'));
	ASSERT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, 120000));
	cur = mv_cg_read(self->cg, "memory.current", NULL);
	max = mv_cg_read(self->cg, "memory.max", NULL);
	mv_log("workload at memory.current %lld of memory.max %lld", cur, max);

	ret = mv_promote(fx->fd, child, buf, len, 0, 0, &m);
	ASSERT_EQ(0, ret) TH_LOG("PROMOTE: %s", strerror(-ret));
	mv_migrate_print("PROMOTE under memory.max", &m);
	EXPECT_EQ((__u64)pages, mv_migrate_sum(&m));
	EXPECT_EQ((__u64)pages, m.out_moved + m.out_no_space + m.out_busy);
	mv_log("after promotion: memory.current %lld of memory.max %lld, oom_kill %lld",
	       mv_cg_read(self->cg, "memory.current", NULL), max,
	       mv_cg_read(self->cg, "memory.events", "oom_kill"));
	/* Pages that did not move are still valid in the slice. */
	ret = mv_residency(fx->fd, child, buf, len, &r, NULL, 0);
	ASSERT_TRUE(ret == 0 || ret == -EMSGSIZE) TH_LOG("RESIDENCY: %s", strerror(-ret));
	EXPECT_EQ((__u64)pages, r.out_dram_pages + r.out_slice_pages);
	EXPECT_EQ(m.out_moved, r.out_dram_pages);

	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'V'));
	st = mv_wait_child(child, 120000);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("workload status %#x (14: data differs; killed: OOM?)", st);
	ooms = mv_cg_read(self->cg, "memory.events", "oom_kill");
	EXPECT_EQ(0LL, ooms) TH_LOG("the workload's cgroup saw OOM kills");
	mv_chan_close(&c);

	/* No leak: no slice page, no charge left. */
	ASSERT_EQ(0, mv_wait_region_used(fx->fd, fx->region_id, 0, 10000, &used));
	EXPECT_EQ(0ULL, used);
	for (int i = 0; i < 100 && mv_cg_read(self->cg, "memory.stat", "anon") > 0; i++)
		usleep(50000);
	EXPECT_EQ(0LL, mv_cg_read(self->cg, "memory.stat", "anon"))
		TH_LOG("anon charges left in the workload's cgroup after it exited");
	mv_log("after exit: memory.current %lld, anon %lld",
	       mv_cg_read(self->cg, "memory.current", NULL),
	       mv_cg_read(self->cg, "memory.stat", "anon"));
	EXPECT_EQ(0, rmdir(self->cg)) TH_LOG("rmdir %s: %s", self->cg, strerror(errno));
	self->cg[0] = 0;
	mv_unmap_anon(buf, len);
}

TEST_HARNESS_MAIN
