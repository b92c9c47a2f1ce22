// SPDX-License-Identifier: GPL-2.0
/*
 * memview REGION_REMOVE while pages of the region are in use: refused with
 * EBUSY (data untouched) unless MEMVIEW_REGION_REMOVE_EVACUATE is given,
 * which moves every page back to DRAM first.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>
#include <sys/wait.h>

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

/*
 * EVACUATE moves pages wherever they are mapped: pages a forked child
 * shares copy-on-write and pages of a process that has been detached.
 */
TEST_F_TIMEOUT(busy, evacuate_shared_and_detached, 120)
{
	size_t len = 4 * MV_MIB, pages = mv_pages(len);
	struct mv_fixture *fx = &self->f;
	__u64 sum, evacuated = ~0ULL;
	struct mv_chan c;
	int status, ret;
	char msg, *buf;
	pid_t pid;

	MV_SETUP_SKIPPED();
	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_RANDOM, 1234);
	mv_demote_all(_metadata, fx, fx->pid, buf, len);
	ASSERT_EQ(0, mv_detach(fx->fd, fx->pid));
	fx->attached = false;

	ASSERT_EQ(0, mv_chan_open(&c));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		mv_chan_child(&c);
		if (mv_chan_send(c.to_parent[1], 'r') ||
		    mv_chan_recv(c.to_child[0], &msg, 60000))
			_exit(10);
		/* After the evacuation: same data, now in DRAM. */
		_exit(mv_verify(buf, 0, len, MV_PAT_RANDOM, 1234, NULL) ? 11 : 0);
	}
	mv_chan_parent(&c);
	ASSERT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, 60000));
	mv_check_residency(_metadata, fx, pid, buf, len, 0, pages);

	ret = mv_region_remove(fx->fd, fx->region_id,
			       MEMVIEW_REGION_REMOVE_EVACUATE, &evacuated);
	ASSERT_EQ(0, ret) TH_LOG("REGION_REMOVE EVACUATE: %s", strerror(-ret));
	fx->region_added = false;
	/* Shared pages are one page each. */
	EXPECT_EQ((__u64)pages, evacuated);
	mv_check_residency(_metadata, fx, fx->pid, buf, len, pages, 0);
	mv_check_residency(_metadata, fx, pid, buf, len, pages, 0);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_RANDOM, 1234, sum);

	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'g'));
	status = mv_wait_child(pid, 60000);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	mv_chan_close(&c);
	mv_unmap_anon(buf, len);
}

/*
 * A slice page with an extra reference (vmsplice()d into a pipe) cannot be
 * evacuated: REGION_REMOVE EVACUATE fails with EBUSY after moving the
 * others, and leaves the region as it was; once the pipe is drained it
 * succeeds.
 */
TEST_F_TIMEOUT(busy, evacuate_referenced_page, 120)
{
	size_t pages = 16, len = pages * MV_PAGE_SIZE, off = 7 * MV_PAGE_SIZE;
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry *s;
	__u64 sum, evacuated = ~0ULL;
	char page[MV_PAGE_SIZE], *buf;
	struct iovec iov;
	int p[2], ret;
	__u32 n, i;

	MV_SETUP_SKIPPED();
	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_STAMP, fx->pid);
	mv_demote_all(_metadata, fx, fx->pid, buf, len);
	ASSERT_EQ(0, pipe(p));
	iov.iov_base = buf + off;
	iov.iov_len = MV_PAGE_SIZE;
	ASSERT_EQ((ssize_t)MV_PAGE_SIZE, vmsplice(p[1], &iov, 1, 0));

	ret = mv_region_remove(fx->fd, fx->region_id,
			       MEMVIEW_REGION_REMOVE_EVACUATE, &evacuated);
	EXPECT_EQ(-EBUSY, ret) TH_LOG("REGION_REMOVE EVACUATE with a referenced page: %s",
				      ret ? strerror(-ret) : "success");
	if (!ret)
		fx->region_added = false;
	EXPECT_EQ((__u64)(pages - 1), evacuated);
	if (fx->region_added) {
		ASSERT_EQ(0, mv_slice_list(fx->fd, MEMVIEW_SLICE_LIST_REGION,
					   fx->region_id, &s, &n));
		for (i = 0; i < n; i++)
			EXPECT_EQ((__u32)MEMVIEW_SLICE_ONLINE, s[i].state);
		free(s);
		mv_check_residency(_metadata, fx, fx->pid, buf, len,
				   pages - 1, 1);
	}
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, fx->pid, sum);
	ASSERT_EQ((ssize_t)MV_PAGE_SIZE, read(p[0], page, sizeof(page)));
	EXPECT_EQ(0, memcmp(page, buf + off, MV_PAGE_SIZE));
	close(p[0]);
	close(p[1]);

	if (fx->region_added) {
		ret = mv_region_remove(fx->fd, fx->region_id,
				       MEMVIEW_REGION_REMOVE_EVACUATE,
				       &evacuated);
		ASSERT_EQ(0, ret) TH_LOG("REGION_REMOVE EVACUATE: %s",
					 strerror(-ret));
		fx->region_added = false;
		EXPECT_EQ(1ULL, evacuated);
	}
	mv_check_residency(_metadata, fx, fx->pid, buf, len, pages, 0);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, fx->pid, sum);
	mv_unmap_anon(buf, len);
}

TEST_HARNESS_MAIN
