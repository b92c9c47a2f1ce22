// SPDX-License-Identifier: GPL-2.0
/*
 * memview DEMOTE / PROMOTE / RESIDENCY on the test process itself: data
 * integrity over tens of MiB with several patterns, partial ranges, every
 * argument error, untouched pages, mappings memview does not migrate, and
 * transparent huge pages.
 *
 * Each test runs in its own process (the harness forks), which the fixture
 * attaches to memview after adding the variant's range as a region.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "memview_harness.h"

/* Tests that move 32 MiB through a slice get more than the default 30 s. */
#define MV_SLOW_TIMEOUT	180

FIXTURE(migrate) {
	struct mv_fixture f;
};

FIXTURE_VARIANT(migrate) {
	const struct mv_target *target;
};

MV_TARGET_VARIANTS(migrate);

FIXTURE_SETUP(migrate)
{
	MV_FIXTURE_SETUP(&self->f, variant->target, true, true);
}

FIXTURE_TEARDOWN(migrate)
{
	MV_FIXTURE_TEARDOWN(&self->f);
}

/* Our PROC_LIST entry. */
static void own_proc_entry(struct __test_metadata *_metadata,
			   struct mv_fixture *fx, struct memview_proc_entry *out)
{
	struct memview_proc_entry *p;
	bool found = false;
	__u32 n, i;

	ASSERT_EQ(0, mv_proc_list(fx->fd, &p, &n));
	for (i = 0; i < n; i++) {
		if (p[i].pid == fx->pid) {
			*out = p[i];
			found = true;
		}
	}
	free(p);
	ASSERT_TRUE(found) TH_LOG("pid %d not in PROC_LIST", fx->pid);
}

/*
 * Fill 32 MiB with @p, demote it, check where it is and that it reads back,
 * overwrite it in the slice, promote it (to node 0 if @node0) and check
 * again.
 */
static void roundtrip(struct __test_metadata *_metadata, struct mv_fixture *fx,
		      enum mv_pattern p, bool node0)
{
	size_t len = mv_data_len(32), pages = mv_pages(len);
	struct mv_totals t0, t1, t2;
	struct memview_proc_entry pe0, pe1;
	struct memview_residency r;
	struct memview_migrate m;
	__u64 seed1, seed2, sum1, sum2;
	__u32 flags = 0;
	char *buf;

	seed1 = p == MV_PAT_STAMP ? (__u64)fx->pid : 0x5eed0001ULL;
	seed2 = p == MV_PAT_STAMP ? (__u64)fx->pid ^ 0x5a5a0000ULL : 0x5eed0002ULL;
	if (node0 && !(fx->info.out_features & MEMVIEW_FEATURE_PROMOTE_NODE))
		node0 = false;
	if (node0)
		flags = MEMVIEW_MIGRATE_NODE;

	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	sum1 = mv_fill(buf, 0, len, p, seed1);
	mv_check_residency(_metadata, fx, fx->pid, buf, len, pages, 0);
	ASSERT_EQ(0, mv_region_totals(fx->fd, fx->region_id, &t0));
	own_proc_entry(_metadata, fx, &pe0);

	/* DRAM -> slices: all move; a second time: all already there. */
	mv_demote_all(_metadata, fx, fx->pid, buf, len);
	ASSERT_EQ(0, mv_demote(fx->fd, fx->pid, buf, len, &m));
	EXPECT_EQ((__u64)pages, m.out_already) mv_migrate_print("DEMOTE again", &m);
	EXPECT_EQ(0ULL, m.out_moved);

	mv_check_residency(_metadata, fx, fx->pid, buf, len, 0, pages);
	/* No room for the per-slice entries: EMSGSIZE, totals still there. */
	EXPECT_EQ(-EMSGSIZE, mv_residency(fx->fd, fx->pid, buf, len, &r, NULL, 0));
	EXPECT_EQ((__u64)pages, r.out_slice_pages);
	EXPECT_LE(1U, r.num_slices);

	ASSERT_EQ(0, mv_region_totals(fx->fd, fx->region_id, &t1));
	EXPECT_EQ(t0.used_pages + pages, t1.used_pages);
	EXPECT_EQ(t0.migrations_in + pages, t1.migrations_in);
	EXPECT_EQ(t0.free_pages - pages, t1.free_pages);

	/* Read back from the slices, then overwrite there. */
	mv_check_data(_metadata, buf, 0, len, p, seed1, sum1);
	sum2 = mv_fill(buf, 0, len, p, seed2);
	mv_check_residency(_metadata, fx, fx->pid, buf, len, 0, pages);

	/* Slices -> DRAM. */
	mv_promote_all(_metadata, fx, fx->pid, buf, len, flags, 0);
	ASSERT_EQ(0, mv_promote(fx->fd, fx->pid, buf, len, flags, 0, &m));
	EXPECT_EQ((__u64)pages, m.out_already) mv_migrate_print("PROMOTE again", &m);
	EXPECT_EQ(0ULL, m.out_moved);
	mv_check_residency(_metadata, fx, fx->pid, buf, len, pages, 0);

	ASSERT_EQ(0, mv_region_totals(fx->fd, fx->region_id, &t2));
	EXPECT_EQ(t0.used_pages, t2.used_pages);
	EXPECT_EQ(t0.migrations_out + pages, t2.migrations_out);
	own_proc_entry(_metadata, fx, &pe1);
	EXPECT_EQ(pe0.pages_demoted + pages, pe1.pages_demoted);
	EXPECT_EQ(pe0.pages_promoted + pages, pe1.pages_promoted);

	mv_check_data(_metadata, buf, 0, len, p, seed2, sum2);
	mv_unmap_anon(buf, len);
}

/* 32 MiB of incrementing words survive demotion and promotion. */
TEST_F_TIMEOUT(migrate, roundtrip_increment, MV_SLOW_TIMEOUT)
{
	MV_SETUP_SKIPPED();
	roundtrip(_metadata, &self->f, MV_PAT_INCREMENT, false);
}

/* 32 MiB of seeded PRNG data survive, promoted with MIGRATE_NODE 0. */
TEST_F_TIMEOUT(migrate, roundtrip_random_node0, MV_SLOW_TIMEOUT)
{
	MV_SETUP_SKIPPED();
	roundtrip(_metadata, &self->f, MV_PAT_RANDOM, true);
}

/* 32 MiB of per-page pid/index stamps survive demotion and promotion. */
TEST_F_TIMEOUT(migrate, roundtrip_stamp, MV_SLOW_TIMEOUT)
{
	MV_SETUP_SKIPPED();
	roundtrip(_metadata, &self->f, MV_PAT_STAMP, false);
}

/* Sub-ranges across a PMD boundary move exactly the pages asked for. */
TEST_F(migrate, partial_range)
{
	size_t len = 4 * MV_MIB, pages = mv_pages(len);
	size_t a = 2 * MV_MIB - 64 * MV_PAGE_SIZE, alen = 128 * MV_PAGE_SIZE;
	size_t b = 2 * MV_MIB, blen = MV_MIB;
	size_t b_new = mv_pages(blen) - 64;	/* b overlaps a by 64 pages */
	struct memview_residency r;
	struct memview_migrate m;
	__u64 sum;
	char *buf;

	MV_SETUP_SKIPPED();
	buf = mv_map_anon(len, 2 * MV_MIB, false);
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_RANDOM, 77);

	mv_demote_all(_metadata, &self->f, self->f.pid, buf + a, alen);
	mv_check_residency(_metadata, &self->f, self->f.pid, buf, len,
			   pages - mv_pages(alen), mv_pages(alen));
	mv_check_residency(_metadata, &self->f, self->f.pid, buf + a, alen,
			   0, mv_pages(alen));
	/* The page just before and just after the range stayed. */
	mv_check_residency(_metadata, &self->f, self->f.pid,
			   buf + a - MV_PAGE_SIZE, MV_PAGE_SIZE, 1, 0);
	mv_check_residency(_metadata, &self->f, self->f.pid,
			   buf + a + alen, MV_PAGE_SIZE, 1, 0);

	ASSERT_EQ(0, mv_demote(self->f.fd, self->f.pid, buf + b, blen, &m));
	EXPECT_EQ((__u64)b_new, m.out_moved) mv_migrate_print("DEMOTE b", &m);
	EXPECT_EQ(64ULL, m.out_already) mv_migrate_print("DEMOTE b", &m);
	mv_check_residency(_metadata, &self->f, self->f.pid, buf, len,
			   pages - mv_pages(alen) - b_new,
			   mv_pages(alen) + b_new);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_RANDOM, 77, sum);

	/* The whole address space (addr 0, length 0) holds them too. */
	EXPECT_EQ(-EMSGSIZE, mv_residency(self->f.fd, self->f.pid, NULL, 0, &r,
					  NULL, 0));
	EXPECT_LE((__u64)(mv_pages(alen) + b_new), r.out_slice_pages);

	ASSERT_EQ(0, mv_promote(self->f.fd, self->f.pid, buf, len, 0, 0, &m));
	EXPECT_EQ((__u64)(mv_pages(alen) + b_new), m.out_moved)
		mv_migrate_print("PROMOTE", &m);
	EXPECT_EQ((__u64)(pages - mv_pages(alen) - b_new), m.out_already)
		mv_migrate_print("PROMOTE", &m);
	mv_check_residency(_metadata, &self->f, self->f.pid, buf, len, pages, 0);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_RANDOM, 77, sum);
	mv_unmap_anon(buf, len);
}

/* An address or length that is not page aligned, or length 0: EINVAL. */
TEST_F(migrate, bad_alignment)
{
	struct memview_migrate m;
	char *buf;

	MV_SETUP_SKIPPED();
	buf = mv_map_anon(MV_MIB, 0, false);
	ASSERT_NE(NULL, buf);
	mv_touch_pages(buf, MV_MIB);
	EXPECT_EQ(-EINVAL, mv_demote(self->f.fd, self->f.pid, buf + 1,
				     MV_PAGE_SIZE, &m));
	EXPECT_EQ(-EINVAL, mv_demote(self->f.fd, self->f.pid, buf + 2048,
				     MV_PAGE_SIZE, &m));
	EXPECT_EQ(-EINVAL, mv_demote(self->f.fd, self->f.pid, buf, 100, &m));
	EXPECT_EQ(-EINVAL, mv_demote(self->f.fd, self->f.pid, buf,
				     MV_PAGE_SIZE + 8, &m));
	EXPECT_EQ(-EINVAL, mv_demote(self->f.fd, self->f.pid, buf, 0, &m));
	EXPECT_EQ(-EINVAL, mv_promote(self->f.fd, self->f.pid, buf + 1,
				      MV_PAGE_SIZE, 0, 0, &m));
	EXPECT_EQ(-EINVAL, mv_promote(self->f.fd, self->f.pid, buf, 0, 0, 0,
				      &m));
	/* Nothing moved. */
	mv_check_residency(_metadata, &self->f, self->f.pid, buf, MV_MIB,
			   mv_pages(MV_MIB), 0);
	mv_unmap_anon(buf, MV_MIB);
}

/* addr + length wrapping: EOVERFLOW; beyond user space: EINVAL. */
TEST_F(migrate, wrap_and_range)
{
	struct memview_migrate m;

	MV_SETUP_SKIPPED();
	EXPECT_EQ(-EOVERFLOW, mv_demote(self->f.fd, self->f.pid,
					(void *)(uintptr_t)-MV_PAGE_SIZE,
					2 * MV_PAGE_SIZE, &m));
	EXPECT_EQ(-EOVERFLOW, mv_promote(self->f.fd, self->f.pid,
					 (void *)(uintptr_t)-MV_PAGE_SIZE,
					 2 * MV_PAGE_SIZE, 0, 0, &m));
	EXPECT_EQ(-EOVERFLOW, mv_demote(self->f.fd, self->f.pid,
					(void *)(uintptr_t)MV_MIB,
					-MV_PAGE_SIZE, &m));
	EXPECT_EQ(-EINVAL, mv_demote(self->f.fd, self->f.pid,
				     (void *)(uintptr_t)(1ULL << 62),
				     MV_PAGE_SIZE, &m));
}

/* Unknown flags, MIGRATE_NODE on DEMOTE, bad nodes: EINVAL. */
TEST_F(migrate, bad_flags_and_node)
{
	struct memview_migrate m;
	char *buf;

	MV_SETUP_SKIPPED();
	buf = mv_map_anon(MV_MIB, 0, false);
	ASSERT_NE(NULL, buf);
	mv_touch_pages(buf, MV_MIB);

	ASSERT_EQ(0, mv_demote(self->f.fd, self->f.pid, buf, MV_MIB, &m));
	m.flags = 1u << 30;
	EXPECT_EQ(-EINVAL, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_DEMOTE, &m));
	m.flags = MEMVIEW_MIGRATE_NODE;
	EXPECT_EQ(-EINVAL, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_DEMOTE, &m));
	EXPECT_EQ(-EINVAL, mv_promote(self->f.fd, self->f.pid, buf, MV_MIB,
				      1u << 30, 0, &m));
	/* node without the flag */
	EXPECT_EQ(-EINVAL, mv_promote(self->f.fd, self->f.pid, buf, MV_MIB, 0,
				      1, &m));
	/* not a node */
	EXPECT_EQ(-EINVAL, mv_promote(self->f.fd, self->f.pid, buf, MV_MIB,
				      MEMVIEW_MIGRATE_NODE, -1, &m));
	EXPECT_EQ(-EINVAL, mv_promote(self->f.fd, self->f.pid, buf, MV_MIB,
				      MEMVIEW_MIGRATE_NODE, 1 << 20, &m));
	/* Short struct. */
	memset(&m, 0, sizeof(m));
	m.size = 16;
	m.pid = self->f.pid;
	EXPECT_EQ(-EINVAL, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_DEMOTE, &m));

	/* The failed calls moved nothing back. */
	mv_check_residency(_metadata, &self->f, self->f.pid, buf, MV_MIB, 0,
			   mv_pages(MV_MIB));
	mv_unmap_anon(buf, MV_MIB);
}

/* DEMOTE and PROMOTE of a process that is not attached: ENOENT. */
TEST_F(migrate, pid_not_attached)
{
	struct memview_migrate m;
	struct mv_chan c;
	char msg;
	pid_t pid;

	MV_SETUP_SKIPPED();
	ASSERT_EQ(0, mv_chan_open(&c));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char *p = mv_map_anon(MV_MIB, 0, false);

		mv_chan_child(&c);
		if (p)
			mv_touch_pages(p, MV_MIB);
		mv_chan_send(c.to_parent[1], 'r');
		/* Until the parent is done (or gone). */
		mv_chan_recv(c.to_child[0], &msg, 60000);
		_exit(0);
	}
	mv_chan_parent(&c);
	ASSERT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, 30000));
	EXPECT_EQ(-ENOENT, mv_demote(self->f.fd, pid, (void *)MV_MIB, MV_MIB,
				     &m));
	EXPECT_EQ(-ENOENT, mv_promote(self->f.fd, pid, (void *)MV_MIB, MV_MIB,
				      0, 0, &m));
	mv_chan_send(c.to_child[1], 'q');
	EXPECT_EQ(0, mv_wait_child(pid, 30000));
	mv_chan_close(&c);
}

/*
 * Untouched pages, zero-page pages and a hole in the range are counted in
 * out_not_present; only the written pages move.
 */
TEST_F(migrate, not_present)
{
	size_t len = 4 * MV_MIB, pages = mv_pages(len), i, written = 0;
	size_t hole = 16;	/* pages unmapped at the end and in the middle */
	size_t mid = pages / 2 + 1;	/* first page of the middle hole */
	struct memview_migrate m;
	volatile char *buf;
	char sink = 0;

	MV_SETUP_SKIPPED();
	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	for (i = 0; i < pages - hole; i++) {
		if (i >= mid && i < mid + hole)
			continue;
		if (i % 4 == 0) {
			buf[i * MV_PAGE_SIZE] = (char)(i | 1);
			written++;
		} else if (i % 4 == 1) {
			sink += buf[i * MV_PAGE_SIZE];	/* maps the zero page */
		}
	}
	ASSERT_EQ(0, sink);
	ASSERT_EQ(0, munmap((char *)buf + (pages - hole) * MV_PAGE_SIZE,
			    hole * MV_PAGE_SIZE));
	ASSERT_EQ(0, munmap((char *)buf + mid * MV_PAGE_SIZE,
			    hole * MV_PAGE_SIZE));

	ASSERT_EQ(0, mv_demote(self->f.fd, self->f.pid, (void *)buf, len, &m));
	EXPECT_EQ((__u64)written, m.out_moved) mv_migrate_print("DEMOTE", &m);
	EXPECT_EQ((__u64)(pages - written), m.out_not_present)
		mv_migrate_print("DEMOTE", &m);
	EXPECT_EQ(0ULL, m.out_already + m.out_busy + m.out_no_space +
			m.out_unsupported + m.out_thp_split_failed);

	mv_check_residency(_metadata, &self->f, self->f.pid, (void *)buf,
			   (pages - hole) * MV_PAGE_SIZE, 0, written);
	for (i = 0; i < pages - hole; i++) {
		char want = i % 4 == 0 ? (char)(i | 1) : 0;

		if (i >= mid && i < mid + hole)
			continue;
		ASSERT_EQ(want, buf[i * MV_PAGE_SIZE]) TH_LOG("page %zu", i);
	}

	ASSERT_EQ(0, mv_promote(self->f.fd, self->f.pid, (void *)buf, len, 0,
				0, &m));
	EXPECT_EQ((__u64)written, m.out_moved) mv_migrate_print("PROMOTE", &m);
	EXPECT_EQ((__u64)(pages - written), m.out_not_present)
		mv_migrate_print("PROMOTE", &m);
	munmap((void *)buf, (pages - hole) * MV_PAGE_SIZE);
}

/* Read one value from a sysfs file; "" if it cannot. */
static void read_sysfs(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "r");

	out[0] = 0;
	if (f) {
		if (!fgets(out, n, f))
			out[0] = 0;
		fclose(f);
	}
}

/*
 * Read faults in a MADV_HUGEPAGE range map the huge zero page: like the
 * 4 KiB zero page it is neither DRAM of the process nor movable, so
 * RESIDENCY counts no DRAM page and DEMOTE counts every page not present.
 */
TEST_F(migrate, huge_zero_page)
{
	size_t len = 4 * MV_MIB, pages = mv_pages(len), i;
	struct memview_residency r;
	struct memview_migrate m;
	volatile char *buf;
	char mode[128], zero[16];
	char sink = 0;

	MV_SETUP_SKIPPED();
	read_sysfs("/sys/kernel/mm/transparent_hugepage/enabled", mode,
		   sizeof(mode));
	read_sysfs("/sys/kernel/mm/transparent_hugepage/use_zero_page", zero,
		   sizeof(zero));
	if (!*mode || strstr(mode, "[never]") || zero[0] != '1')
		SKIP(return, "no huge zero page (THP %s, use_zero_page %s)",
		     mode, zero);
	buf = mv_map_anon(len, 2 * MV_MIB, true);
	ASSERT_NE(NULL, buf);
	for (i = 0; i < len; i += 2 * MV_MIB)
		sink += buf[i];
	ASSERT_EQ(0, sink);

	ASSERT_EQ(0, mv_residency(self->f.fd, self->f.pid, (void *)buf, len,
				  &r, NULL, 0));
	EXPECT_EQ(0ULL, r.out_dram_pages);
	EXPECT_EQ(0ULL, r.out_slice_pages);

	ASSERT_EQ(0, mv_demote(self->f.fd, self->f.pid, (void *)buf, len, &m));
	EXPECT_EQ(0ULL, m.out_moved) mv_migrate_print("DEMOTE", &m);
	EXPECT_EQ((__u64)pages, m.out_not_present) mv_migrate_print("DEMOTE", &m);
	for (i = 0; i < len; i += MV_PAGE_SIZE)
		ASSERT_EQ(0, buf[i]);
	mv_unmap_anon((void *)buf, len);
}

/* A file in /tmp (or a memfd if /tmp has no O_TMPFILE), @len bytes. */
static int scratch_file(size_t len)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0)
		fd = memfd_create("memview-test", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Every page of a written @flags mapping of @fd is out_unsupported. */
static void expect_unsupported(struct __test_metadata *_metadata,
			       struct mv_fixture *fx, int flags, int fd)
{
	size_t len = MV_MIB, pages = mv_pages(len);
	struct memview_migrate m;
	__u64 sum;
	char *buf;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, 0);
	ASSERT_NE(MAP_FAILED, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_INCREMENT, 5);

	ASSERT_EQ(0, mv_demote(fx->fd, fx->pid, buf, len, &m));
	EXPECT_EQ((__u64)pages, m.out_unsupported) mv_migrate_print("DEMOTE", &m);
	EXPECT_EQ(0ULL, m.out_moved);
	mv_check_residency(_metadata, fx, fx->pid, buf, len, pages, 0);
	ASSERT_EQ(0, mv_promote(fx->fd, fx->pid, buf, len, 0, 0, &m));
	EXPECT_EQ((__u64)pages, m.out_unsupported) mv_migrate_print("PROMOTE", &m);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_INCREMENT, 5, sum);
	munmap(buf, len);
}

/* A written MAP_PRIVATE file mapping is not migrated: out_unsupported. */
TEST_F(migrate, file_private)
{
	int fd;

	MV_SETUP_SKIPPED();
	fd = scratch_file(MV_MIB);
	ASSERT_LE(0, fd);
	expect_unsupported(_metadata, &self->f, MAP_PRIVATE, fd);
	close(fd);
}

/* A MAP_SHARED file mapping is not migrated: out_unsupported. */
TEST_F(migrate, file_shared)
{
	int fd;

	MV_SETUP_SKIPPED();
	fd = scratch_file(MV_MIB);
	ASSERT_LE(0, fd);
	expect_unsupported(_metadata, &self->f, MAP_SHARED, fd);
	close(fd);
}

/* A MAP_SHARED anonymous mapping (shmem) is not migrated: out_unsupported. */
TEST_F(migrate, shared_anon)
{
	MV_SETUP_SKIPPED();
	expect_unsupported(_metadata, &self->f, MAP_SHARED | MAP_ANONYMOUS, -1);
}

/*
 * THP-backed memory (MADV_HUGEPAGE, 2 MiB aligned) moves, split into
 * 4 KiB pages, data intact.
 */
TEST_F_TIMEOUT(migrate, thp, MV_SLOW_TIMEOUT)
{
	size_t len = 8 * MV_MIB, pages = mv_pages(len);
	struct memview_migrate m;
	__u64 sum;
	long huge_kb;
	char *buf;
	FILE *f;
	char mode[128] = "";

	MV_SETUP_SKIPPED();
	f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f) {
		if (!fgets(mode, sizeof(mode), f))
			mode[0] = 0;
		fclose(f);
	}
	if (!*mode || strstr(mode, "[never]"))
		SKIP(return, "transparent huge pages are not available");

	buf = mv_map_anon(len, 2 * MV_MIB, true);
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_STAMP, self->f.pid);
	huge_kb = mv_anon_huge_kb(buf);
	if (huge_kb <= 0) {
		mv_unmap_anon(buf, len);
		SKIP(return, "no huge page was allocated (AnonHugePages %ld kB)",
		     huge_kb);
	}
	TH_LOG("AnonHugePages %ld kB before DEMOTE", huge_kb);
	mv_check_residency(_metadata, &self->f, self->f.pid, buf, len, pages, 0);

	ASSERT_EQ(0, mv_demote(self->f.fd, self->f.pid, buf, len, &m));
	EXPECT_EQ((__u64)pages, m.out_moved) mv_migrate_print("DEMOTE", &m);
	EXPECT_EQ(0ULL, m.out_thp_split_failed);
	mv_check_residency(_metadata, &self->f, self->f.pid, buf, len, 0, pages);
	/*
	 * Split on the way down on every target kernel, 7.3 too: slices
	 * hold order-0 pages only (Documentation/design.rst, Large folios).
	 */
	EXPECT_EQ(0L, mv_anon_huge_kb(buf)) TH_LOG("AnonHugePages after DEMOTE");
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, self->f.pid, sum);

	mv_promote_all(_metadata, &self->f, self->f.pid, buf, len, 0, 0);
	mv_check_residency(_metadata, &self->f, self->f.pid, buf, len, pages, 0);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, self->f.pid, sum);
	mv_unmap_anon(buf, len);
}

/*
 * A THP mapped by PTEs (an mprotect() of one of its pages split the PMD
 * mapping, the folio stays whole).  From 6.19 (7.3 here)
 * migrate_vma_setup() splits the folio as it collects its PTEs: every page
 * moves, data intact.  Before, a module cannot migrate it: DEMOTE reports
 * all its pages as out_thp_split_failed and leaves them in DRAM
 * (Documentation/design.rst, Large folios).
 */
TEST_F_TIMEOUT(migrate, pte_mapped_thp, MV_SLOW_TIMEOUT)
{
	size_t len = 4 * MV_MIB, huge = 2 * MV_MIB, pages = mv_pages(huge);
	struct memview_migrate m;
	long huge_kb;
	__u64 sum;
	char *buf;

	MV_SETUP_SKIPPED();
	buf = mv_map_anon(len, 2 * MV_MIB, true);
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, huge, MV_PAT_STAMP, self->f.pid);
	mv_fill(buf + huge, 0, len - huge, MV_PAT_STAMP, self->f.pid);
	huge_kb = mv_anon_huge_kb(buf);
	if (huge_kb < 2048) {
		mv_unmap_anon(buf, len);
		SKIP(return, "no huge page was allocated (AnonHugePages %ld kB)",
		     huge_kb);
	}
	ASSERT_EQ(0, mprotect(buf + MV_PAGE_SIZE, MV_PAGE_SIZE, PROT_READ));
	ASSERT_EQ(0, mv_demote(self->f.fd, self->f.pid, buf, huge, &m));
	mv_migrate_print("DEMOTE", &m);
	if (mv_kernel_at_least(6, 19)) {
		EXPECT_EQ((__u64)pages, m.out_moved);
		EXPECT_EQ(0ULL, m.out_thp_split_failed);
		mv_check_residency(_metadata, &self->f, self->f.pid, buf, huge,
				   0, pages);
	} else {
		EXPECT_EQ(0ULL, m.out_moved);
		EXPECT_EQ((__u64)pages, m.out_thp_split_failed);
		mv_check_residency(_metadata, &self->f, self->f.pid, buf, huge,
				   pages, 0);
	}
	mv_check_data(_metadata, buf, 0, huge, MV_PAT_STAMP, self->f.pid, sum);
	mv_unmap_anon(buf, len);
}

/*
 * One call over three adjacent VMAs (private anon, shared anon, private
 * anon): the private pages move, the shared ones are out_unsupported.
 */
TEST_F(migrate, mixed_vmas)
{
	size_t part = MV_MIB, len = 3 * part, pp = mv_pages(part);
	struct memview_migrate m;
	__u64 sum;
	char *buf, *mid;

	MV_SETUP_SKIPPED();
	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	mid = mmap(buf + part, part, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(buf + part, mid);
	sum = mv_fill(buf, 0, len, MV_PAT_RANDOM, 31);

	ASSERT_EQ(0, mv_demote(self->f.fd, self->f.pid, buf, len, &m));
	EXPECT_EQ((__u64)(2 * pp), m.out_moved) mv_migrate_print("DEMOTE", &m);
	EXPECT_EQ((__u64)pp, m.out_unsupported) mv_migrate_print("DEMOTE", &m);
	EXPECT_EQ((__u64)mv_pages(len), mv_migrate_sum(&m));
	mv_check_residency(_metadata, &self->f, self->f.pid, buf, part, 0, pp);
	mv_check_residency(_metadata, &self->f, self->f.pid, mid, part, pp, 0);
	mv_check_residency(_metadata, &self->f, self->f.pid, mid + part, part,
			   0, pp);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_RANDOM, 31, sum);

	ASSERT_EQ(0, mv_promote(self->f.fd, self->f.pid, buf, len, 0, 0, &m));
	EXPECT_EQ((__u64)(2 * pp), m.out_moved) mv_migrate_print("PROMOTE", &m);
	EXPECT_EQ((__u64)pp, m.out_unsupported) mv_migrate_print("PROMOTE", &m);
	EXPECT_EQ((__u64)mv_pages(len), mv_migrate_sum(&m));
	mv_check_residency(_metadata, &self->f, self->f.pid, buf, len,
			   mv_pages(len), 0);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_RANDOM, 31, sum);
	munmap(buf, len);
}

/*
 * A page with an extra reference (vmsplice()d into a pipe, not yet read)
 * cannot be migrated: it is out_busy, the others move; once the pipe is
 * drained it moves too.
 */
TEST_F(migrate, referenced_page_busy)
{
	size_t pages = 16, len = pages * MV_PAGE_SIZE, off = 3 * MV_PAGE_SIZE;
	struct memview_migrate m;
	struct iovec iov;
	char *buf, page[MV_PAGE_SIZE];
	int p[2];
	__u64 sum;

	MV_SETUP_SKIPPED();
	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_STAMP, self->f.pid);
	ASSERT_EQ(0, pipe(p));
	iov.iov_base = buf + off;
	iov.iov_len = MV_PAGE_SIZE;
	ASSERT_EQ((ssize_t)MV_PAGE_SIZE, vmsplice(p[1], &iov, 1, 0));

	ASSERT_EQ(0, mv_demote(self->f.fd, self->f.pid, buf, len, &m));
	EXPECT_EQ((__u64)(pages - 1), m.out_moved) mv_migrate_print("DEMOTE", &m);
	EXPECT_EQ(1ULL, m.out_busy) mv_migrate_print("DEMOTE", &m);
	EXPECT_EQ((__u64)pages, mv_migrate_sum(&m));
	mv_check_residency(_metadata, &self->f, self->f.pid, buf + off,
			   MV_PAGE_SIZE, 1, 0);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, self->f.pid, sum);

	/* The pipe holds the page as it was. */
	ASSERT_EQ((ssize_t)MV_PAGE_SIZE, read(p[0], page, sizeof(page)));
	EXPECT_EQ(0, memcmp(page, buf + off, MV_PAGE_SIZE));
	close(p[0]);
	close(p[1]);

	ASSERT_EQ(0, mv_demote(self->f.fd, self->f.pid, buf, len, &m));
	EXPECT_EQ(1ULL, m.out_moved) mv_migrate_print("DEMOTE again", &m);
	EXPECT_EQ((__u64)(pages - 1), m.out_already);
	mv_check_residency(_metadata, &self->f, self->f.pid, buf, len, 0, pages);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, self->f.pid, sum);
	mv_unmap_anon(buf, len);
}

/* A thread that keeps writing to the pages while they are migrated. */
struct writer {
	volatile __u64 *buf;		/* one counter word per page */
	size_t pages;
	__u64 *last;			/* last value written to each page */
	volatile int stop;
	__u64 rounds;
};

static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	size_t i;

	while (!w->stop) {
		w->rounds++;
		for (i = 0; i < w->pages; i++) {
			__u64 v = w->rounds << 20 | i;

			w->buf[i * (MV_PAGE_SIZE / 8)] = v;
			w->last[i] = v;
		}
	}
	return NULL;
}

/*
 * Demote and promote 2 MiB four times each while another thread writes
 * every page: no write is lost, every page ends in one tier.
 */
TEST_F_TIMEOUT(migrate, concurrent_writer, MV_SLOW_TIMEOUT)
{
	size_t len = 2 * MV_MIB, pages = mv_pages(len), i;
	struct memview_migrate m;
	struct writer w = { 0 };
	__u64 moved_in = 0, moved_out = 0;
	pthread_t t;
	int round;

	MV_SETUP_SKIPPED();
	w.buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, w.buf);
	w.last = calloc(pages, sizeof(*w.last));
	ASSERT_NE(NULL, w.last);
	w.pages = pages;
	mv_touch_pages((void *)w.buf, len);
	ASSERT_EQ(0, pthread_create(&t, NULL, writer_thread, &w));

	for (round = 0; round < 4; round++) {
		ASSERT_EQ(0, mv_demote(self->f.fd, self->f.pid, (void *)w.buf,
				       len, &m));
		EXPECT_EQ((__u64)pages, mv_migrate_sum(&m))
			mv_migrate_print("DEMOTE", &m);
		moved_in += m.out_moved;
		ASSERT_EQ(0, mv_promote(self->f.fd, self->f.pid, (void *)w.buf,
					len, 0, 0, &m));
		EXPECT_EQ((__u64)pages, mv_migrate_sum(&m))
			mv_migrate_print("PROMOTE", &m);
		moved_out += m.out_moved;
	}
	w.stop = 1;
	ASSERT_EQ(0, pthread_join(t, NULL));
	TH_LOG("%llu writer rounds, %llu pages demoted, %llu promoted",
	       (unsigned long long)w.rounds, (unsigned long long)moved_in,
	       (unsigned long long)moved_out);
	/* Most pages must have moved despite the writer. */
	EXPECT_LT((__u64)pages, moved_in);

	for (i = 0; i < pages; i++)
		ASSERT_EQ(w.last[i], w.buf[i * (MV_PAGE_SIZE / 8)])
			TH_LOG("page %zu lost a write", i);
	/* Promote whatever the last round left behind; all in DRAM then. */
	ASSERT_EQ(0, mv_promote(self->f.fd, self->f.pid, (void *)w.buf, len, 0,
				0, &m));
	mv_check_residency(_metadata, &self->f, self->f.pid, (void *)w.buf,
			   len, pages, 0);
	for (i = 0; i < pages; i++)
		ASSERT_EQ(w.last[i], w.buf[i * (MV_PAGE_SIZE / 8)]);
	free(w.last);
	mv_unmap_anon((void *)w.buf, len);
}

/* A thread that maps, touches and unmaps a page in a loop, counting. */
struct mapper {
	__u64 iters;			/* loops completed (atomic) */
	int stop;			/* atomic */
	int err;			/* errno of a failed mmap */
};

static void *mapper_thread(void *arg)
{
	struct mapper *mp = arg;

	while (!__atomic_load_n(&mp->stop, __ATOMIC_ACQUIRE)) {
		char *p = mmap(NULL, MV_PAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			mp->err = errno;
			break;
		}
		*p = 1;
		munmap(p, MV_PAGE_SIZE);
		__atomic_add_fetch(&mp->iters, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/*
 * One DEMOTE of 32 MiB while another thread of the target mmaps and
 * munmaps in a loop: the demotion drops the mmap lock between batches,
 * so the mapper (which needs the lock for writing) completes several
 * loops while the ioctl runs; all pages move, data intact.
 */
TEST_F_TIMEOUT(migrate, mmap_writer_progress, MV_SLOW_TIMEOUT)
{
	/* 16 batches whatever MEMVIEW_TEST_MB says: the gaps are the test. */
	size_t len = 32 * MV_MIB, pages = mv_pages(len);
	struct mapper mp = { 0 };
	struct memview_migrate m;
	__u64 before, after, sum;
	pthread_t t;
	char *buf;
	int ret;

	MV_SETUP_SKIPPED();
	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_INCREMENT, 0x5eed0005ULL);
	ASSERT_EQ(0, pthread_create(&t, NULL, mapper_thread, &mp));
	/* The mapper is under way before the demotion starts. */
	while (!__atomic_load_n(&mp.iters, __ATOMIC_ACQUIRE))
		sched_yield();

	before = __atomic_load_n(&mp.iters, __ATOMIC_ACQUIRE);
	ret = mv_demote(self->f.fd, self->f.pid, buf, len, &m);
	after = __atomic_load_n(&mp.iters, __ATOMIC_ACQUIRE);
	__atomic_store_n(&mp.stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(0, mp.err) TH_LOG("mapper mmap: %s", strerror(mp.err));
	ASSERT_EQ(0, ret) TH_LOG("DEMOTE: %s", strerror(-ret));
	TH_LOG("%llu mapper loops during the DEMOTE of %zu pages",
	       (unsigned long long)(after - before), pages);
	EXPECT_EQ((__u64)pages, mv_migrate_sum(&m)) mv_migrate_print("DEMOTE", &m);
	EXPECT_EQ((__u64)pages, m.out_moved) mv_migrate_print("DEMOTE", &m);
	/*
	 * A lock held for the whole range lets the mapper through only
	 * before the first batch and after the last.
	 */
	EXPECT_LE(before + 3, after);
	mv_check_residency(_metadata, &self->f, self->f.pid, buf, len,
			   pages - m.out_moved, m.out_moved);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_INCREMENT, 0x5eed0005ULL,
		      sum);
	mv_unmap_anon(buf, len);
}

TEST_HARNESS_MAIN
