/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kselftest harness (extracted from linux-source-6.1 by the Makefile)
 * plus the memview helpers, the region fixture shared by the tests and
 * assertion helpers built on the harness's ASSERT_* / EXPECT_*.
 * Test files include this and nothing else of the suite.
 */
#ifndef MEMVIEW_HARNESS_H
#define MEMVIEW_HARNESS_H

/* The 6.1 harness has an unused parameter in its SIGALRM handler. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include <stdlib.h>

#include "memview_test.h"

/*
 * Data sizes: "tens of MiB".  Slice memory is slow under TCG (CXL is
 * emulated MMIO), so MEMVIEW_TEST_MB can shrink the big buffers.
 */
static inline size_t mv_data_len(size_t dflt_mb)
{
	const char *e = getenv("MEMVIEW_TEST_MB");
	size_t mb = e && atoi(e) > 0 ? (size_t)atoi(e) : dflt_mb;

	return mb * MV_MIB;
}

/*
 * The region fixture shared by the tests: each test process opens the
 * device, adds the variant's whole range as a region and optionally
 * attaches itself.  FIXTURE_VARIANT(name) must be
 * "{ const struct mv_target *target; }".
 */
struct mv_fixture {
	int fd;
	bool region_added;
	bool attached;
	pid_t pid;
	__u32 region_id;
	__u32 nr_slices;
	struct mv_range range;
	struct memview_info info;
};

/*
 * Declares the cxl and pmem variants of fixture @f: emulated CXL memory
 * (MMIO under TCG) and RAM-backed legacy PMEM, the two kinds of slice
 * memory the guests have.
 */
#define MV_TARGET_VARIANTS(f)						\
	FIXTURE_VARIANT_ADD(f, cxl) { .target = &mv_target_cxl };	\
	FIXTURE_VARIANT_ADD(f, pmem) { .target = &mv_target_pmem }

/*
 * The same plus cxl_ram, a volatile CXL region (6.12 and 7.3 guests): its
 * slices are the same emulated CXL memory as cxl's, and once added it is a
 * region like any other, so only the tests of finding and adding regions
 * (region_test) run on it; every other binary would repeat its cxl run.
 */
#define MV_TARGET_VARIANTS_ALL(f)					\
	MV_TARGET_VARIANTS(f);						\
	FIXTURE_VARIANT_ADD(f, cxl_ram) { .target = &mv_target_cxl_ram }

/*
 * Body of a FIXTURE_SETUP: SKIP()s when the variant's range is not
 * exported, otherwise ASSERTs that the device opens, that GET_INFO matches
 * what the tests assume, and (if @add) that the region is added and (if
 * @attach) that the test process is attached.
 */
#define MV_FIXTURE_SETUP(fx, tgt, add, attach) do {			\
	int __r;							\
	(fx)->fd = -1;							\
	(fx)->pid = getpid();						\
	__r = mv_target_range((tgt), &(fx)->range);			\
	if (__r == -ENOENT)						\
		SKIP(return, "%s not set: no %s range in this guest",	\
		     (tgt)->range_env, (tgt)->name);			\
	ASSERT_EQ(0, __r) TH_LOG("cannot parse %s", (tgt)->range_env);	\
	(fx)->fd = mv_open();						\
	ASSERT_LE(0, (fx)->fd) TH_LOG("open %s: %s", MEMVIEW_DEVICE,	\
				      strerror(-(fx)->fd));		\
	ASSERT_EQ(0, mv_get_info((fx)->fd, &(fx)->info));		\
	ASSERT_EQ(MV_SLICE_SIZE, (fx)->info.out_slice_size);		\
	ASSERT_EQ(MV_PAGE_SIZE, (fx)->info.out_page_size);		\
	__r = mv_remove_overlapping((fx)->fd, (fx)->range.start,	\
				    (fx)->range.size, true);		\
	ASSERT_LE(0, __r);						\
	if (add) {							\
		struct memview_region_add __a;				\
		__r = mv_region_add((fx)->fd, (fx)->range.start,	\
				    (fx)->range.size, (fx)->range.kind,	\
				    (fx)->range.label, &__a);		\
		ASSERT_EQ(0, __r) TH_LOG("REGION_ADD %#llx+%#llx: %s",	\
			(unsigned long long)(fx)->range.start,		\
			(unsigned long long)(fx)->range.size,		\
			strerror(-__r));				\
		(fx)->region_added = true;				\
		(fx)->region_id = __a.out_region_id;			\
		(fx)->nr_slices = __a.out_nr_slices;			\
	}								\
	if (attach) {							\
		__r = mv_attach((fx)->fd, (fx)->pid, 0);		\
		ASSERT_EQ(0, __r) TH_LOG("PROC_ATTACH self: %s",	\
					 strerror(-__r));		\
		(fx)->attached = true;					\
	}								\
} while (0)

/*
 * Body of a FIXTURE_TEARDOWN: detach, remove the region (EVACUATE, so pages
 * a failed test left behind do not block it; FORGET_BAD, so pages it
 * poisoned are not retired in the next test's region) and close.  Failures are
 * reported, not ignored.
 */
#define MV_FIXTURE_TEARDOWN(fx) do {					\
	int __r;							\
	/* A failed ASSERT leaves the handler armed: disarm it. */	\
	_metadata->trigger = 0;						\
	if ((fx)->fd < 0)						\
		break;							\
	if ((fx)->attached) {						\
		__r = mv_detach((fx)->fd, (fx)->pid);			\
		EXPECT_EQ(0, __r) TH_LOG("PROC_DETACH self: %s",	\
					 strerror(-__r));		\
	}								\
	if ((fx)->region_added) {					\
		__r = mv_region_remove((fx)->fd, (fx)->region_id,	\
				       MEMVIEW_REGION_REMOVE_EVACUATE |	\
				       mv_forget_bad(&(fx)->info),	\
				       NULL);				\
		EXPECT_EQ(0, __r) TH_LOG("REGION_REMOVE %u: %s",	\
					 (fx)->region_id,		\
					 strerror(-__r));		\
	}								\
	close((fx)->fd);						\
	(fx)->fd = -1;							\
} while (0)

/*
 * First statement of every TEST_F: the 6.1 harness runs the test body even
 * when FIXTURE_SETUP called SKIP(), so leave at once then.
 */
#define MV_SETUP_SKIPPED() do {						\
	if (_metadata->skip)						\
		return;							\
} while (0)

/*
 * Check the residency of [addr, addr + len) of @pid: @dram pages in DRAM,
 * @slice in slices, nothing elsewhere, and the per-slice entries adding up to
 * @slice, every one a slice of the fixture's region.  Checked twice: by the
 * module (RESIDENCY) and from outside it, by the frame numbers of
 * /proc/PID/pagemap against the region's physical range.
 */
static inline void mv_check_residency(struct __test_metadata *_metadata,
				      struct mv_fixture *fx, pid_t pid,
				      const void *addr, size_t len,
				      __u64 dram, __u64 slice)
{
	struct memview_residency_entry ents[64];
	struct memview_slice_entry *s;
	struct memview_residency r;
	size_t present, in;
	__u64 sum = 0;
	__u32 i, j, n;
	int ret;

	ret = mv_pagemap_count(pid, addr, len, fx->range.start, fx->range.size,
			       &present, &in);
	ASSERT_EQ(0, ret) TH_LOG("pagemap of %d: %s", pid, strerror(-ret));
	EXPECT_EQ(slice, (__u64)in) TH_LOG("pagemap: pages in the region's range");
	EXPECT_EQ(dram, (__u64)(present - in)) TH_LOG("pagemap: pages outside it");

	ret = mv_residency(fx->fd, pid, addr, len, &r, ents, 64);
	ASSERT_EQ(0, ret) TH_LOG("RESIDENCY: %s", strerror(-ret));
	EXPECT_EQ(dram, r.out_dram_pages);
	EXPECT_EQ(slice, r.out_slice_pages);
	EXPECT_EQ(0ULL, r.out_other_pages);
	if (!r.num_slices) {
		EXPECT_EQ(0ULL, slice);
		return;
	}
	ASSERT_EQ(0, mv_slice_list(fx->fd, MEMVIEW_SLICE_LIST_REGION,
				   fx->region_id, &s, &n));
	for (i = 0; i < r.num_slices; i++) {
		bool ours = false;

		for (j = 0; j < n; j++)
			ours |= s[j].id == ents[i].slice_id;
		EXPECT_TRUE(ours) TH_LOG("slice %u is not in region %u",
					 ents[i].slice_id, fx->region_id);
		EXPECT_NE(0ULL, ents[i].pages);
		sum += ents[i].pages;
	}
	free(s);
	EXPECT_EQ(slice, sum);
}

/* DEMOTE [addr, addr + len) of @pid: every page must move. */
static inline void mv_demote_all(struct __test_metadata *_metadata,
				 struct mv_fixture *fx, pid_t pid,
				 const void *addr, size_t len)
{
	struct memview_migrate m;
	int ret;

	ret = mv_demote(fx->fd, pid, addr, len, &m);
	ASSERT_EQ(0, ret) TH_LOG("DEMOTE: %s", strerror(-ret));
	EXPECT_EQ((__u64)mv_pages(len), m.out_moved)
		mv_migrate_print("DEMOTE", &m);
	EXPECT_EQ(0ULL, m.out_not_present + m.out_already + m.out_busy +
			m.out_no_space + m.out_unsupported +
			m.out_thp_split_failed + m.out_shared)
		mv_migrate_print("DEMOTE", &m);
}

/* PROMOTE [addr, addr + len) of @pid: every page must move. */
static inline void mv_promote_all(struct __test_metadata *_metadata,
				  struct mv_fixture *fx, pid_t pid,
				  const void *addr, size_t len, __u32 flags,
				  int node)
{
	struct memview_migrate m;
	int ret;

	ret = mv_promote(fx->fd, pid, addr, len, flags, node, &m);
	ASSERT_EQ(0, ret) TH_LOG("PROMOTE: %s", strerror(-ret));
	EXPECT_EQ((__u64)mv_pages(len), m.out_moved)
		mv_migrate_print("PROMOTE", &m);
	EXPECT_EQ(0ULL, m.out_not_present + m.out_already + m.out_busy +
			m.out_no_space + m.out_unsupported +
			m.out_thp_split_failed + m.out_shared)
		mv_migrate_print("PROMOTE", &m);
}

/*
 * The data of [off, off + len) must have checksum @sum; on a mismatch the
 * first wrong word is located (and logged) against the pattern.
 */
static inline void mv_check_data(struct __test_metadata *_metadata,
				 const void *base, size_t off, size_t len,
				 enum mv_pattern p, __u64 seed, __u64 sum)
{
	__u64 now = mv_checksum(base, off, len);
	size_t bad = 0;

	if (now != sum)
		mv_verify(base, off, len, p, seed, &bad);
	ASSERT_EQ(sum, now) TH_LOG("%s data (seed %#llx) differs, first at byte %#zx",
				   mv_pattern_name(p),
				   (unsigned long long)seed, bad);
}

#endif /* MEMVIEW_HARNESS_H */
