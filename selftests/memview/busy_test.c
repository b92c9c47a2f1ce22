// SPDX-License-Identifier: GPL-2.0
/*
 * memview REGION_REMOVE while pages of the region are in use: refused with
 * EBUSY (data untouched) unless MEMVIEW_REGION_REMOVE_EVACUATE is given,
 * which moves every page back to DRAM first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memview_harness.h"

FIXTURE(busy) {
	struct mv_fixture f;
};

FIXTURE_VARIANT(busy) {
	const struct mv_target *target;
};

MV_TARGET_VARIANTS(busy);

FIXTURE_SETUP(busy)
{
	MV_FIXTURE_SETUP(&self->f, variant->target, true, true);
}

FIXTURE_TEARDOWN(busy)
{
	MV_FIXTURE_TEARDOWN(&self->f);
}

static bool region_listed(struct __test_metadata *_metadata, int fd, __u32 id)
{
	struct memview_region_entry *r;
	bool found = false;
	__u32 n, i;

	ASSERT_EQ(0, mv_region_list(fd, &r, &n));
	for (i = 0; i < n; i++)
		found |= r[i].id == id;
	free(r);
	return found;
}

/*
 * Remove with pages in use: EBUSY and the data intact; remove with
 * EVACUATE: success, every demoted page evacuated, data intact in DRAM.
 */
TEST_F_TIMEOUT(busy, remove_in_use_then_evacuate, 180)
{
	size_t len = mv_data_len(16), pages = mv_pages(len);
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry *s;
	struct mv_totals t;
	__u64 sum, evacuated = ~0ULL;
	__u32 n, i;
	char *buf;
	int ret;

	MV_SETUP_SKIPPED();
	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_STAMP, fx->pid);
	mv_demote_all(_metadata, fx, fx->pid, buf, len);

	ret = mv_region_remove(fx->fd, fx->region_id, 0, &evacuated);
	ASSERT_EQ(-EBUSY, ret) TH_LOG("REGION_REMOVE with %zu pages in use: %s",
				      pages, ret ? strerror(-ret) : "success");
	if (!ret)
		fx->region_added = false;
	EXPECT_EQ(0ULL, evacuated);
	ASSERT_TRUE(region_listed(_metadata, fx->fd, fx->region_id));
	/* The failed removal put the slices back as they were. */
	ASSERT_EQ(0, mv_slice_list(fx->fd, MEMVIEW_SLICE_LIST_REGION,
				   fx->region_id, &s, &n));
	for (i = 0; i < n; i++)
		EXPECT_EQ((__u32)MEMVIEW_SLICE_ONLINE, s[i].state);
	free(s);
	ASSERT_EQ(0, mv_region_totals(fx->fd, fx->region_id, &t));
	EXPECT_EQ((__u64)pages, t.used_pages);
	mv_check_residency(_metadata, fx, fx->pid, buf, len, 0, pages);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, fx->pid, sum);

	ret = mv_region_remove(fx->fd, fx->region_id,
			       MEMVIEW_REGION_REMOVE_EVACUATE, &evacuated);
	ASSERT_EQ(0, ret) TH_LOG("REGION_REMOVE EVACUATE: %s", strerror(-ret));
	fx->region_added = false;
	EXPECT_EQ((__u64)pages, evacuated);
	EXPECT_FALSE(region_listed(_metadata, fx->fd, fx->region_id));

	mv_check_residency(_metadata, fx, fx->pid, buf, len, pages, 0);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, fx->pid, sum);
	/* And the memory is ordinary memory again: writable, readable. */
	sum = mv_fill(buf, 0, len, MV_PAT_RANDOM, 99);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_RANDOM, 99, sum);
	mv_unmap_anon(buf, len);
}

/* A region with no page in use is removed without EVACUATE. */
TEST_F(busy, remove_after_promote)
{
	size_t len = 4 * MV_MIB;
	struct mv_fixture *fx = &self->f;
	__u64 sum, evacuated = ~0ULL;
	char *buf;

	MV_SETUP_SKIPPED();
	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_INCREMENT, 3);
	mv_demote_all(_metadata, fx, fx->pid, buf, len);
	mv_promote_all(_metadata, fx, fx->pid, buf, len, 0, 0);
	ASSERT_EQ(0, mv_region_remove(fx->fd, fx->region_id, 0, &evacuated));
	fx->region_added = false;
	EXPECT_EQ(0ULL, evacuated);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_INCREMENT, 3, sum);
	mv_unmap_anon(buf, len);
}

TEST_HARNESS_MAIN
