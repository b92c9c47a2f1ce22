// SPDX-License-Identifier: GPL-2.0
/*
 * Every ioctl's write-back copies no uninitialised kernel bytes.
 *
 * Before each call the user struct (and any list array) is filled with a
 * poison byte, then the inputs are set.  After the call every out_ field
 * must hold a value the kernel wrote (not the poison pattern of its width),
 * reserved fields must be zero, strings must be zero after their NUL, list
 * entries must be fully written and the room beyond the listed entries
 * left alone; a call that fails without results must leave the struct as
 * it was.  read() of events is checked the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memview_harness.h"

#define POISON	0xa5

static bool all_bytes(const void *p, size_t n, unsigned char v)
{
	const unsigned char *b = p;

	while (n--)
		if (*b++ != v)
			return false;
	return true;
}

#define poisoned(p, n)	all_bytes(p, n, POISON)

/* An out field must not be the poison pattern of its width. */
#define CHECK_OUT(s, f)							\
	EXPECT_FALSE(poisoned(&(s)->f, sizeof((s)->f)))			\
		TH_LOG("%s: " #f " left as the poison pattern", __func__)
#define CHECK_ZERO(s, f)						\
	EXPECT_TRUE(all_bytes(&(s)->f, sizeof((s)->f), 0))		\
		TH_LOG("%s: " #f " not zero", __func__)
/* A string: NUL-terminated, zero after the NUL. */
#define CHECK_STR(s, f) do {						\
	size_t __l = strnlen((s)->f, sizeof((s)->f));			\
	EXPECT_LT(__l, sizeof((s)->f)) TH_LOG(#f " without a NUL");	\
	if (__l < sizeof((s)->f))					\
		EXPECT_TRUE(all_bytes((s)->f + __l, sizeof((s)->f) - __l, 0)) \
			TH_LOG("%s: " #f " not zero after its NUL", __func__); \
} while (0)

FIXTURE(uninit) {
	struct mv_fixture f;
	char *buf;
	size_t len;
};

FIXTURE_VARIANT(uninit) {
	const struct mv_target *target;
};

/* The RAM-backed PMEM range is fast under TCG; CXL where there is none. */
FIXTURE_VARIANT_ADD(uninit, pmem) { .target = &mv_target_pmem };

FIXTURE_SETUP(uninit)
{
	MV_FIXTURE_SETUP(&self->f, variant->target, true, true);
	self->len = 2 * MV_MIB;
	self->buf = mv_map_anon(self->len, 0, false);
	ASSERT_NE(NULL, self->buf);
	mv_fill(self->buf, 0, self->len, MV_PAT_RANDOM, 7);
}

FIXTURE_TEARDOWN(uninit)
{
	mv_unmap_anon(self->buf, self->len);
	MV_FIXTURE_TEARDOWN(&self->f);
}

static void check_info(struct __test_metadata *_metadata, const struct memview_info *s)
{
	CHECK_OUT(s, out_api_version);
	CHECK_OUT(s, out_nr_regions);
	CHECK_OUT(s, out_features);
	CHECK_OUT(s, out_slice_size);
	CHECK_OUT(s, out_page_size);
	CHECK_OUT(s, out_nr_slices);
	CHECK_ZERO(s, __reserved);
	CHECK_OUT(s, out_poisoned_pages);
}

static void check_migrate(struct __test_metadata *_metadata, const struct memview_migrate *s)
{
	CHECK_OUT(s, out_moved);
	CHECK_OUT(s, out_not_present);
	CHECK_OUT(s, out_already);
	CHECK_OUT(s, out_busy);
	CHECK_OUT(s, out_no_space);
	CHECK_OUT(s, out_unsupported);
	CHECK_OUT(s, out_thp_split_failed);
	CHECK_OUT(s, out_shared);
}

static void check_policy(struct __test_metadata *_metadata, const struct memview_policy *s)
{
	CHECK_OUT(s, valid);
	CHECK_OUT(s, scan_interval_ms);
	CHECK_OUT(s, pages_per_round);
	CHECK_OUT(s, max_scan_us);
	CHECK_OUT(s, hot_rounds);
	CHECK_OUT(s, cold_rounds);
	CHECK_OUT(s, hysteresis_rounds);
	CHECK_OUT(s, pingpong_rounds);
	CHECK_OUT(s, promote_rate_mbps);
	CHECK_OUT(s, demote_rate_mbps);
	CHECK_OUT(s, sample_period);
	CHECK_OUT(s, samplers);
	CHECK_OUT(s, out_fault_sampler);
	CHECK_ZERO(s, __reserved);
	CHECK_OUT(s, ce_threshold);
	CHECK_OUT(s, ce_window_ms);
	CHECK_OUT(s, ras_flags);
	CHECK_ZERO(s, __reserved2);
}

static void check_stats(struct __test_metadata *_metadata, const struct memview_stats *s)
{
	CHECK_ZERO(s, __reserved);
	CHECK_OUT(s, out_rounds);
	CHECK_OUT(s, out_pages_scanned);
	CHECK_OUT(s, out_scan_ns);
	CHECK_OUT(s, out_access_samples);
	CHECK_OUT(s, out_fault_samples);
	CHECK_OUT(s, out_promotions);
	CHECK_OUT(s, out_demotions);
	CHECK_OUT(s, out_pingpongs);
	CHECK_OUT(s, out_skipped_hysteresis);
	CHECK_OUT(s, out_skipped_rate);
	CHECK_OUT(s, out_skipped_busy);
	CHECK_OUT(s, out_skipped_no_space);
	CHECK_OUT(s, out_dram_pages);
	CHECK_OUT(s, out_slice_pages);
	CHECK_OUT(s, out_dram_budget_pages);
	CHECK_OUT(s, out_hot_pages);
}

static void check_slice_entry(struct __test_metadata *_metadata,
			      const struct memview_slice_entry *s, size_t esize)
{
	CHECK_OUT(s, id);
	CHECK_OUT(s, region_id);
	CHECK_OUT(s, index);
	CHECK_OUT(s, state);
	CHECK_OUT(s, phys_addr);
	CHECK_OUT(s, total_pages);
	CHECK_OUT(s, used_pages);
	CHECK_OUT(s, free_pages);
	CHECK_OUT(s, poisoned_pages);
	CHECK_OUT(s, migrations_in);
	CHECK_OUT(s, migrations_out);
	CHECK_OUT(s, errors);
	if (esize < sizeof(*s))
		return;
	CHECK_OUT(s, corrected_errors);
	CHECK_OUT(s, uncorrectable_errors);
	CHECK_OUT(s, window_corrected);
	CHECK_OUT(s, fence_reason);
	CHECK_ZERO(s, __reserved);
	CHECK_OUT(s, evac_total);
	CHECK_OUT(s, evac_moved);
	CHECK_OUT(s, evac_poisoned);
	CHECK_OUT(s, evac_pending);
	CHECK_OUT(s, evac_passes);
	CHECK_OUT(s, evac_ns);
	/* the kernel zeroes what it does not know of a larger entry */
	if (esize > sizeof(*s))
		EXPECT_TRUE(all_bytes((const char *)s + sizeof(*s), esize - sizeof(*s), 0))
			TH_LOG("slice entry tail (%zu bytes) not zeroed", esize - sizeof(*s));
}

TEST_F(uninit, info_policy_stats)
{
	struct memview_info info;
	struct memview_policy pol;
	struct memview_stats st;
	pid_t pids[2] = { 0, getpid() };
	int i;

	MV_SETUP_SKIPPED();
	memset(&info, POISON, sizeof(info));
	info.size = sizeof(info);
	info.flags = 0;
	info.__reserved = 0;
	ASSERT_EQ(0, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_GET_INFO, &info));
	check_info(_metadata, &info);

	memset(&pol, POISON, sizeof(pol));
	pol.size = sizeof(pol);
	pol.flags = 0;
	pol.__reserved = 0;
	pol.__reserved2 = 0;
	ASSERT_EQ(0, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_GET_POLICY, &pol));
	check_policy(_metadata, &pol);

	/* SET_POLICY with one valid field writes the whole policy back. */
	{
		struct memview_policy cur = pol;

		memset(&pol, POISON, sizeof(pol));
		pol.size = sizeof(pol);
		pol.flags = 0;
		pol.__reserved = 0;
		pol.__reserved2 = 0;
		pol.valid = MEMVIEW_POLICY_SCAN_INTERVAL;
		pol.scan_interval_ms = cur.scan_interval_ms;
		ASSERT_EQ(0, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_SET_POLICY, &pol));
		check_policy(_metadata, &pol);
		EXPECT_EQ(cur.pages_per_round, pol.pages_per_round);
	}

	for (i = 0; i < 2; i++) {
		memset(&st, POISON, sizeof(st));
		st.size = sizeof(st);
		st.flags = 0;
		st.pid = pids[i];
		st.__reserved = 0;
		ASSERT_EQ(0, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_STATS, &st))
			TH_LOG("STATS pid %d", pids[i]);
		check_stats(_metadata, &st);
	}
}

/* A call that fails before it has results writes nothing back. */
TEST_F(uninit, errors_write_nothing)
{
	unsigned char before[sizeof(struct memview_stats)];
	struct memview_stats st;
	struct memview_migrate m;
	struct memview_info info;

	MV_SETUP_SKIPPED();
	memset(&info, POISON, sizeof(info));
	info.size = sizeof(info);
	info.flags = 1;			/* EINVAL */
	info.__reserved = 0;
	memcpy(before, &info, sizeof(info));
	ASSERT_EQ(-EINVAL, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_GET_INFO, &info));
	EXPECT_EQ(0, memcmp(before, &info, sizeof(info)));

	memset(&st, POISON, sizeof(st));
	st.size = sizeof(st);
	st.flags = 0;
	st.pid = 0x3ffffff;		/* ESRCH */
	st.__reserved = 0;
	memcpy(before, &st, sizeof(st));
	ASSERT_EQ(-ESRCH, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_STATS, &st));
	EXPECT_EQ(0, memcmp(before, &st, sizeof(st)));

	memset(&m, POISON, sizeof(m));
	m.size = sizeof(m);
	m.flags = 0;
	m.node = 0;
	m.pid = getpid();
	m.addr = 1;			/* not aligned: EINVAL */
	m.length = 4096;
	{
		unsigned char b2[sizeof(m)];

		memcpy(b2, &m, sizeof(m));
		ASSERT_EQ(-EINVAL, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_DEMOTE, &m));
		EXPECT_EQ(0, memcmp(b2, &m, sizeof(m)));
	}
}

TEST_F(uninit, migrate_residency)
{
	struct memview_residency_entry ents[8];
	struct memview_residency r;
	struct memview_migrate m;
	int k;

	MV_SETUP_SKIPPED();
	for (k = 0; k < 2; k++) {
		memset(&m, POISON, sizeof(m));
		m.size = sizeof(m);
		m.flags = 0;
		m.pid = getpid();
		m.node = 0;
		m.addr = (uintptr_t)self->buf;
		m.length = self->len;
		ASSERT_EQ(0, mv_ioctl(self->f.fd, k ? MEMVIEW_IOCTL_PROMOTE :
					MEMVIEW_IOCTL_DEMOTE, &m));
		check_migrate(_metadata, &m);
		EXPECT_EQ((__u64)mv_pages(self->len), mv_migrate_sum(&m));
		if (k)
			break;

		/* RESIDENCY with the pages in a slice: one entry */
		memset(&r, POISON, sizeof(r));
		memset(ents, POISON, sizeof(ents));
		r.size = sizeof(r);
		r.flags = 0;
		r.pid = getpid();
		r.num_slices = 8;
		r.addr = (uintptr_t)self->buf;
		r.length = self->len;
		r.slices = (uintptr_t)ents;
		ASSERT_EQ(0, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_RESIDENCY, &r));
		CHECK_OUT(&r, out_dram_pages);
		CHECK_OUT(&r, out_slice_pages);
		CHECK_OUT(&r, out_other_pages);
		CHECK_OUT(&r, out_not_present);
		ASSERT_LE(1U, r.num_slices);
		ASSERT_GE(8U, r.num_slices);
		for (__u32 i = 0; i < r.num_slices; i++) {
			CHECK_OUT(&ents[i], slice_id);
			CHECK_ZERO(&ents[i], __reserved);
			CHECK_OUT(&ents[i], pages);
		}
		EXPECT_TRUE(poisoned(&ents[r.num_slices],
				     (8 - r.num_slices) * sizeof(ents[0])))
			TH_LOG("RESIDENCY wrote beyond its %u entries", r.num_slices);

		/* EMSGSIZE: totals and count written, the array untouched */
		memset(&r, POISON, sizeof(r));
		memset(ents, POISON, sizeof(ents));
		r.size = sizeof(r);
		r.flags = 0;
		r.pid = getpid();
		r.num_slices = 0;
		r.addr = (uintptr_t)self->buf;
		r.length = self->len;
		r.slices = (uintptr_t)ents;
		ASSERT_EQ(-EMSGSIZE, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_RESIDENCY, &r));
		CHECK_OUT(&r, out_dram_pages);
		CHECK_OUT(&r, out_slice_pages);
		CHECK_OUT(&r, out_other_pages);
		CHECK_OUT(&r, out_not_present);
		EXPECT_TRUE(poisoned(ents, sizeof(ents)))
			TH_LOG("RESIDENCY EMSGSIZE wrote into the array");
	}
}

TEST_F(uninit, lists)
{
	size_t room = 8, esize;
	unsigned char *arr = malloc(room * 4096);
	struct memview_region_list rl;
	struct memview_slice_list sl;
	struct memview_proc_list pl;
	__u32 i, n;
	static const size_t esizes[] = {
		MEMVIEW_SLICE_ENTRY_SIZE_V1, sizeof(struct memview_slice_entry),
		sizeof(struct memview_slice_entry) + 24,
	};

	MV_SETUP_SKIPPED();
	ASSERT_NE(NULL, arr);

	/* REGION_LIST */
	memset(arr, POISON, room * 4096);
	memset(&rl, POISON, sizeof(rl));
	rl.size = sizeof(rl);
	rl.flags = 0;
	rl.__reserved = 0;
	rl.num_regions = (__u32)room;
	rl.regions = (uintptr_t)arr;
	ASSERT_EQ(0, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_REGION_LIST, &rl));
	n = rl.num_regions;
	ASSERT_LE(1U, n);
	for (i = 0; i < n; i++) {
		struct memview_region_entry *e = (void *)(arr + i * sizeof(*e));

		CHECK_OUT(e, id);
		CHECK_OUT(e, kind);
		CHECK_OUT(e, nid);
		CHECK_OUT(e, nr_slices);
		CHECK_OUT(e, phys_addr);
		CHECK_OUT(e, length);
		CHECK_OUT(e, unusable_bytes);
		CHECK_OUT(e, used_pages);
		CHECK_STR(e, label);
	}
	EXPECT_TRUE(poisoned(arr + n * sizeof(struct memview_region_entry),
			     (room - n) * sizeof(struct memview_region_entry)))
		TH_LOG("REGION_LIST wrote beyond its %u entries", n);
	/* EMSGSIZE: nothing copied into the array */
	memset(arr, POISON, room * 4096);
	rl.num_regions = 0;
	rl.regions = (uintptr_t)arr;
	ASSERT_EQ(-EMSGSIZE, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_REGION_LIST, &rl));
	EXPECT_EQ(n, rl.num_regions);
	EXPECT_TRUE(poisoned(arr, room * 4096));

	/* SLICE_LIST with the three entry sizes */
	for (unsigned int k = 0; k < sizeof(esizes) / sizeof(esizes[0]); k++) {
		esize = esizes[k];
		memset(arr, POISON, room * 4096);
		memset(&sl, POISON, sizeof(sl));
		sl.size = sizeof(sl);
		sl.flags = 0;
		sl.region_id = 0;
		sl.__reserved = 0;
		sl.num_slices = (__u32)room;
		sl.slices = (uintptr_t)arr;
		sl.entry_size = (__u32)esize;
		ASSERT_EQ(0, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_SLICE_LIST, &sl))
			TH_LOG("entry_size %zu", esize);
		n = sl.num_slices;
		ASSERT_LE(1U, n);
		for (i = 0; i < n; i++)
			check_slice_entry(_metadata, (void *)(arr + i * esize), esize);
		EXPECT_TRUE(poisoned(arr + n * esize, (room - n) * esize))
			TH_LOG("SLICE_LIST (entry_size %zu) wrote beyond its %u entries",
			       esize, n);
	}

	/* PROC_LIST: we are attached */
	memset(arr, POISON, room * 4096);
	memset(&pl, POISON, sizeof(pl));
	pl.size = sizeof(pl);
	pl.flags = 0;
	pl.__reserved = 0;
	pl.num_procs = (__u32)room;
	pl.procs = (uintptr_t)arr;
	ASSERT_EQ(0, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_PROC_LIST, &pl));
	n = pl.num_procs;
	ASSERT_LE(1U, n);
	for (i = 0; i < n; i++) {
		struct memview_proc_entry *e = (void *)(arr + i * sizeof(*e));

		CHECK_OUT(e, pid);
		CHECK_OUT(e, flags);
		CHECK_STR(e, comm);
		CHECK_OUT(e, dram_budget);
		CHECK_OUT(e, pages_demoted);
		CHECK_OUT(e, pages_promoted);
	}
	EXPECT_TRUE(poisoned(arr + n * sizeof(struct memview_proc_entry),
			     (room - n) * sizeof(struct memview_proc_entry)));
	free(arr);
}

/* REGION_ADD / REGION_REMOVE of a region of our own (the fixture's is removed first). */
TEST_F(uninit, region_add_remove)
{
	struct memview_region_remove rm;
	struct memview_region_add a;
	struct mv_fixture *fx = &self->f;

	MV_SETUP_SKIPPED();
	ASSERT_EQ(0, mv_region_remove(fx->fd, fx->region_id,
				      MEMVIEW_REGION_REMOVE_EVACUATE, NULL));
	fx->region_added = false;

	memset(&a, POISON, sizeof(a));
	mv_region_add_init(&a, fx->range.start, fx->range.size, fx->range.kind,
			   "uninit");
	memset(&a.out_region_id, POISON,
	       sizeof(a) - offsetof(struct memview_region_add, out_region_id));
	a.__reserved2 = 0;
	a.bad_ranges = 0;	/* inputs past the out_ fields */
	a.nr_bad_ranges = 0;
	a.__reserved3 = 0;
	ASSERT_EQ(0, mv_ioctl(fx->fd, MEMVIEW_IOCTL_REGION_ADD, &a));
	fx->region_added = true;
	fx->region_id = a.out_region_id;
	CHECK_OUT(&a, out_region_id);
	CHECK_OUT(&a, out_nr_slices);
	CHECK_OUT(&a, out_nid);
	CHECK_ZERO(&a, __reserved2);
	CHECK_OUT(&a, out_unusable_bytes);
	CHECK_OUT(&a, out_bad_pages);

	memset(&rm, POISON, sizeof(rm));
	rm.size = sizeof(rm);
	rm.flags = MEMVIEW_REGION_REMOVE_EVACUATE;
	rm.region_id = a.out_region_id;
	rm.__reserved = 0;
	ASSERT_EQ(0, mv_ioctl(fx->fd, MEMVIEW_IOCTL_REGION_REMOVE, &rm));
	fx->region_added = false;
	CHECK_OUT(&rm, out_pages_evacuated);
}

TEST_F(uninit, ras_calls_and_events)
{
	struct memview_slice_entry *sl;
	struct memview_slice_fence fe;
	struct memview_event ev[4];
	struct memview_error e;
	__u32 n, id;
	ssize_t got;
	int efd, k;

	MV_SETUP_SKIPPED();
	if (!mv_has_ras(&self->f.info))
		SKIP(return, "no MEMVIEW_FEATURE_RAS");
	efd = open(MEMVIEW_DEVICE, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, mv_slice_list(self->f.fd, MEMVIEW_SLICE_LIST_REGION,
				   self->f.region_id, &sl, &n));
	ASSERT_LE(1U, n);
	id = sl[0].id;
	free(sl);

	/* one corrected error: counted, no fence */
	memset(&e, POISON, sizeof(e));
	e.size = sizeof(e);
	e.flags = MEMVIEW_INJECT_SLICE;
	e.phys_addr = 0;
	e.length = 0;
	e.severity = MEMVIEW_ERROR_CORRECTED;
	e.source = 0;
	e.slice_id = id;
	e.count = 1;
	ASSERT_EQ(0, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_ERROR_INJECT, &e));
	CHECK_OUT(&e, out_slice_id);
	CHECK_OUT(&e, out_state);
	CHECK_OUT(&e, out_pages_poisoned);

	/* ERROR_REPORT of a corrected error at the slice's first byte */
	memset(&e, POISON, sizeof(e));
	e.size = sizeof(e);
	e.flags = 0;
	e.phys_addr = self->f.range.start;
	e.length = 64;
	e.severity = MEMVIEW_ERROR_CORRECTED;
	e.source = MEMVIEW_SRC_OTHER;
	e.slice_id = 0;
	e.count = 1;
	ASSERT_EQ(0, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_ERROR_REPORT, &e));
	CHECK_OUT(&e, out_slice_id);
	CHECK_OUT(&e, out_state);
	CHECK_OUT(&e, out_pages_poisoned);

	for (k = 0; k < 2; k++) {
		memset(&fe, POISON, sizeof(fe));
		fe.size = sizeof(fe);
		fe.flags = k ? 0 : MEMVIEW_FENCE_WAIT;
		fe.slice_id = id;
		ASSERT_EQ(0, mv_ioctl(self->f.fd, k ? MEMVIEW_IOCTL_SLICE_UNFENCE :
					MEMVIEW_IOCTL_SLICE_FENCE, &fe));
		CHECK_OUT(&fe, out_state);
		CHECK_OUT(&fe, out_evac_moved);
		CHECK_OUT(&fe, out_evac_pending);
	}

	/* the events those made, read into a poisoned buffer */
	memset(ev, POISON, sizeof(ev));
	got = read(efd, ev, sizeof(ev));
	ASSERT_LE((ssize_t)sizeof(ev[0]), got) TH_LOG("read: %s", strerror(errno));
	ASSERT_EQ(0, got % (ssize_t)sizeof(ev[0]));
	for (k = 0; k < got / (ssize_t)sizeof(ev[0]); k++) {
		struct memview_event *v = &ev[k];

		EXPECT_EQ(sizeof(*v), v->size);
		CHECK_OUT(v, type);
		CHECK_OUT(v, seq);
		CHECK_OUT(v, time_ns);
		CHECK_OUT(v, slice_id);
		CHECK_OUT(v, region_id);
		CHECK_OUT(v, old_state);
		CHECK_OUT(v, new_state);
		CHECK_OUT(v, reason);
		CHECK_OUT(v, source);
		CHECK_OUT(v, phys_addr);
		CHECK_OUT(v, count);
		CHECK_OUT(v, pending);
		CHECK_ZERO(v, __reserved);
	}
	if (got < (ssize_t)sizeof(ev))
		EXPECT_TRUE(poisoned((char *)ev + got, sizeof(ev) - got));
	close(efd);
}

TEST_HARNESS_MAIN
