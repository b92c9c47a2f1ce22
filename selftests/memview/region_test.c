// SPDX-License-Identifier: GPL-2.0
/*
 * memview region control: REGION_ADD / REGION_REMOVE / REGION_LIST /
 * SLICE_LIST / GET_INFO, the struct rules of the uAPI (size, flags,
 * reserved fields) and every validation errno of REGION_ADD.
 *
 * The "device" fixture needs no test range; the "region" fixture runs on the
 * CXL and the PMEM range the harness exports (and a volatile CXL range when
 * there is one), SKIPping a variant whose range is not exported.
 */
#include <errno.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "memview_harness.h"

/* ---- tests that need only the device ---- */

FIXTURE(device) {
	int fd;
};

FIXTURE_SETUP(device)
{
	self->fd = mv_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", MEMVIEW_DEVICE,
				      strerror(-self->fd));
}

FIXTURE_TEARDOWN(device)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* GET_INFO reports API version 1, 256 MiB slices and 4 KiB pages. */
TEST_F(device, get_info)
{
	struct memview_info info;

	ASSERT_EQ(0, mv_get_info(self->fd, &info));
	EXPECT_EQ((__u32)MEMVIEW_API_VERSION, info.out_api_version);
	EXPECT_EQ(MV_SLICE_SIZE, info.out_slice_size);
	EXPECT_EQ(MV_PAGE_SIZE, info.out_page_size);
	EXPECT_EQ((long)MV_PAGE_SIZE, sysconf(_SC_PAGESIZE));
	EXPECT_EQ(0ULL, info.__reserved);
	TH_LOG("features %#llx, %u regions, %u slices",
	       (unsigned long long)info.out_features, info.out_nr_regions,
	       info.out_nr_slices);
}

/* GET_INFO obeys the struct rules: flags, reserved, short and long size. */
TEST_F(device, get_info_struct_rules)
{
	struct {
		struct memview_info info;
		__u64 tail[2];
	} big;
	struct memview_info info;

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.flags = 1;
	EXPECT_EQ(-EINVAL, mv_ioctl(self->fd, MEMVIEW_IOCTL_GET_INFO, &info));

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.__reserved = 1;
	EXPECT_EQ(-EINVAL, mv_ioctl(self->fd, MEMVIEW_IOCTL_GET_INFO, &info));

	/* Shorter than the first version (before out_poisoned_pages). */
	memset(&info, 0, sizeof(info));
	info.size = offsetof(struct memview_info, out_poisoned_pages) - 8;
	EXPECT_EQ(-EINVAL, mv_ioctl(self->fd, MEMVIEW_IOCTL_GET_INFO, &info));
	/* The first version itself: accepted, nothing written beyond it. */
	memset(&info, 0, sizeof(info));
	info.size = offsetof(struct memview_info, out_poisoned_pages);
	info.out_poisoned_pages = 0x5a5a;
	EXPECT_EQ(0, mv_ioctl(self->fd, MEMVIEW_IOCTL_GET_INFO, &info));
	EXPECT_EQ((__u32)MEMVIEW_API_VERSION, info.out_api_version);
	EXPECT_EQ(0x5a5aULL, info.out_poisoned_pages);

	memset(&info, 0, sizeof(info));
	info.size = 0;
	EXPECT_EQ(-EINVAL, mv_ioctl(self->fd, MEMVIEW_IOCTL_GET_INFO, &info));

	memset(&big, 0, sizeof(big));
	big.info.size = sizeof(big);
	big.tail[1] = 1;
	EXPECT_EQ(-E2BIG, mv_ioctl(self->fd, MEMVIEW_IOCTL_GET_INFO, &big));

	memset(&big, 0, sizeof(big));
	big.info.size = sizeof(big);
	EXPECT_EQ(0, mv_ioctl(self->fd, MEMVIEW_IOCTL_GET_INFO, &big));
	EXPECT_EQ((__u32)MEMVIEW_API_VERSION, big.info.out_api_version);
	EXPECT_EQ(0ULL, big.tail[0]);
	EXPECT_EQ(0ULL, big.tail[1]);
}

/* Command numbers the module does not know give ENOTTY. */
TEST_F(device, unknown_ioctl)
{
	__u64 buf[32];

	memset(buf, 0, sizeof(buf));
	buf[0] = sizeof(buf);
	EXPECT_EQ(-ENOTTY, mv_ioctl(self->fd,
				    _IO(MEMVIEW_TYPE, MEMVIEW_CMD_BASE - 1), buf));
	EXPECT_EQ(-ENOTTY, mv_ioctl(self->fd,
				    _IO(MEMVIEW_TYPE, MEMVIEW_CMD_ERROR_INJECT + 1),
				    buf));
	EXPECT_EQ(-ENOTTY, mv_ioctl(self->fd, _IO(MEMVIEW_TYPE, 0xff), buf));
	EXPECT_EQ(-ENOTTY, mv_ioctl(self->fd,
				    _IOWR('x', MEMVIEW_CMD_GET_INFO, __u64),
				    buf));
}

/* A struct or array pointer the module cannot use gives EFAULT. */
TEST_F(device, bad_pointers)
{
	EXPECT_EQ(-EFAULT, mv_ioctl(self->fd, MEMVIEW_IOCTL_GET_INFO, NULL));
	EXPECT_EQ(-EFAULT, mv_ioctl(self->fd, MEMVIEW_IOCTL_REGION_LIST,
				    (void *)8));
	EXPECT_EQ(-EFAULT, mv_ioctl(self->fd, MEMVIEW_IOCTL_DEMOTE,
				    (void *)-4096L));
}

/* REGION_REMOVE of an id that was never handed out gives ENOENT. */
TEST_F(device, remove_nonexistent)
{
	struct memview_region_entry *r;
	__u32 n, i, id = 0xfffffff0;

	ASSERT_EQ(0, mv_region_list(self->fd, &r, &n));
	for (i = 0; i < n; i++)
		ASSERT_NE(id, r[i].id);
	free(r);
	EXPECT_EQ(-ENOENT, mv_region_remove(self->fd, id, 0, NULL));
	EXPECT_EQ(-ENOENT, mv_region_remove(self->fd, id,
					    MEMVIEW_REGION_REMOVE_EVACUATE,
					    NULL));
}

/* A range whose end wraps around the address space gives EOVERFLOW. */
TEST_F(device, add_wrap)
{
	EXPECT_EQ(-EOVERFLOW, mv_region_add(self->fd, 0xfffffffff0000000ULL,
					    2 * MV_SLICE_SIZE,
					    MEMVIEW_REGION_RAW, "wrap", NULL));
	EXPECT_EQ(-EOVERFLOW, mv_region_add(self->fd,
					    -(__u64)MV_SLICE_SIZE,
					    MV_SLICE_SIZE + MV_ALIGN,
					    MEMVIEW_REGION_RAW, "wrap", NULL));
}

/* A System RAM range (from /proc/iomem) gives EADDRNOTAVAIL. */
TEST_F(device, add_system_ram)
{
	__u64 start;
	int ret;

	if (mv_find_system_ram(MV_SLICE_SIZE, &start))
		SKIP(return, "no 256 MiB of System RAM in /proc/iomem");
	TH_LOG("System RAM window %#llx+%#llx", (unsigned long long)start,
	       MV_SLICE_SIZE);
	ret = mv_region_add(self->fd, start, MV_SLICE_SIZE,
			    MEMVIEW_REGION_RAW, "ram", NULL);
	EXPECT_EQ(-EADDRNOTAVAIL, ret);
	if (!ret)	/* do not leave system RAM in the module's hands */
		mv_remove_overlapping(self->fd, start, MV_SLICE_SIZE, false);
}

/* A range that ends beyond the physical address space gives ERANGE. */
TEST_F(device, add_beyond_phys)
{
	/* 2^60: beyond MAX_PHYSMEM_BITS (46 or 52 on x86-64), no wrap. */
	EXPECT_EQ(-ERANGE, mv_region_add(self->fd, 1ULL << 60, MV_SLICE_SIZE,
					 MEMVIEW_REGION_RAW, "far", NULL));
}

/*
 * A range that is neither RAM nor device memory (CXL window, PMEM,
 * soft-reserved) gives ENXIO.  The range is the PCI ECAM window ("PCI
 * MMCONFIG" on 6.1, "PCI ECAM" on 6.12; 256 MiB on q35, held busy by the x86
 * PCI code), or failing that the 256 MiB around the local APIC or the
 * IO-APIC: neither is RAM, so the System RAM
 * check cannot answer first, and the device-memory check comes before the
 * claim, so their being busy does not matter.
 */
TEST_F(device, add_not_device_memory)
{
	char what[128];
	__u64 start;
	int ret;

	if (mv_find_non_device_range(MV_SLICE_SIZE, &start, what,
				     sizeof(what)))
		SKIP(return, "no non-RAM platform range in /proc/iomem");
	TH_LOG("range %#llx+%#llx: %s", (unsigned long long)start,
	       MV_SLICE_SIZE, what);
	ret = mv_region_add(self->fd, start, MV_SLICE_SIZE,
			    MEMVIEW_REGION_RAW, "mmio", NULL);
	EXPECT_EQ(-ENXIO, ret);
	if (!ret)
		mv_remove_overlapping(self->fd, start, MV_SLICE_SIZE, false);
}

/* ---- tests on the exported ranges ---- */

FIXTURE(region) {
	struct mv_fixture f;
};

FIXTURE_VARIANT(region) {
	const struct mv_target *target;
};

MV_TARGET_VARIANTS_ALL(region);

FIXTURE_SETUP(region)
{
	MV_FIXTURE_SETUP(&self->f, variant->target, false, false);
}

/* Remove whatever a test added in the range, reporting failures. */
FIXTURE_TEARDOWN(region)
{
	if (self->f.fd < 0)
		return;
	EXPECT_LE(0, mv_remove_overlapping(self->f.fd, self->f.range.start,
					   self->f.range.size, false));
	close(self->f.fd);
}

static __u32 nr_regions(struct __test_metadata *_metadata, int fd)
{
	struct memview_region_entry *r;
	__u32 n;

	ASSERT_EQ(0, mv_region_list(fd, &r, &n));
	free(r);
	return n;
}

/*
 * REGION_ADD with @add must fail with @err and leave no region behind.
 * A success is undone so that it cannot break the next checks.
 */
static void add_fails(struct __test_metadata *_metadata, int fd,
		      struct memview_region_add *add, int err)
{
	__u32 before = nr_regions(_metadata, fd);
	int ret = mv_ioctl(fd, MEMVIEW_IOCTL_REGION_ADD, add);

	EXPECT_EQ(err, ret) TH_LOG("REGION_ADD %#llx+%#llx kind %u flags %#x size %u: got %s",
				   (unsigned long long)add->phys_addr,
				   (unsigned long long)add->length, add->kind,
				   add->flags, add->size,
				   ret ? strerror(-ret) : "success");
	if (!ret)
		mv_region_remove(fd, add->out_region_id,
				 MEMVIEW_REGION_REMOVE_FORGET_BAD, NULL);
	EXPECT_EQ(before, nr_regions(_metadata, fd));
}

static struct memview_region_entry *
find_region(struct __test_metadata *_metadata, int fd, __u32 id,
	    struct memview_region_entry *out)
{
	struct memview_region_entry *r, *found = NULL;
	__u32 n, i;

	ASSERT_EQ(0, mv_region_list(fd, &r, &n));
	for (i = 0; i < n; i++) {
		if (r[i].id == id) {
			*out = r[i];
			found = out;
		}
	}
	free(r);
	return found;
}

/* Add the whole range, find it in REGION_LIST and GET_INFO, remove it. */
TEST_F(region, add_remove)
{
	struct memview_info before, during, after;
	struct memview_region_entry e;
	struct memview_region_add a;
	__u64 nslices, evacuated = ~0ULL;
	int fd = self->f.fd;

	MV_SETUP_SKIPPED();
	nslices = self->f.range.size / MV_SLICE_SIZE;
	ASSERT_EQ(0, mv_get_info(fd, &before));
	ASSERT_EQ(0, mv_region_add(fd, self->f.range.start, self->f.range.size,
				   self->f.range.kind, self->f.range.label, &a));
	EXPECT_EQ(nslices, a.out_nr_slices);
	EXPECT_EQ(self->f.range.size % MV_SLICE_SIZE, a.out_unusable_bytes);
	EXPECT_LE(0, a.out_nid);
	EXPECT_EQ(0ULL, a.__reserved2);

	ASSERT_NE(NULL, find_region(_metadata, fd, a.out_region_id, &e));
	EXPECT_EQ(self->f.range.kind, e.kind);
	EXPECT_EQ(a.out_nid, e.nid);
	EXPECT_EQ(nslices, e.nr_slices);
	EXPECT_EQ(self->f.range.start, e.phys_addr);
	EXPECT_EQ(self->f.range.size, e.length);
	EXPECT_EQ(a.out_unusable_bytes, e.unusable_bytes);
	EXPECT_EQ(0ULL, e.used_pages);
	EXPECT_STREQ(self->f.range.label, e.label);

	ASSERT_EQ(0, mv_get_info(fd, &during));
	EXPECT_EQ(before.out_nr_regions + 1, during.out_nr_regions);
	EXPECT_EQ(before.out_nr_slices + nslices, during.out_nr_slices);

	ASSERT_EQ(0, mv_region_remove(fd, a.out_region_id, 0, &evacuated));
	EXPECT_EQ(0ULL, evacuated);
	EXPECT_EQ(NULL, find_region(_metadata, fd, a.out_region_id, &e));
	ASSERT_EQ(0, mv_get_info(fd, &after));
	EXPECT_EQ(before.out_nr_regions, after.out_nr_regions);
	EXPECT_EQ(before.out_nr_slices, after.out_nr_slices);

	/* The range is free again: it can be added a second time. */
	ASSERT_EQ(0, mv_region_add(fd, self->f.range.start, self->f.range.size,
				   self->f.range.kind, self->f.range.label, &a));
	EXPECT_EQ(0, mv_region_remove(fd, a.out_region_id,
				      MEMVIEW_REGION_REMOVE_EVACUATE,
				      &evacuated));
	EXPECT_EQ(0ULL, evacuated);
}

/* The slices of a region: 256 MiB each, 65536 pages, all free, online. */
TEST_F(region, slice_list)
{
	struct memview_slice_list l;
	struct memview_slice_entry *s;
	struct memview_region_add a;
	__u64 nslices;
	__u32 n, i;
	int fd = self->f.fd;

	MV_SETUP_SKIPPED();
	nslices = self->f.range.size / MV_SLICE_SIZE;
	ASSERT_EQ(0, mv_region_add(fd, self->f.range.start, self->f.range.size,
				   self->f.range.kind, self->f.range.label, &a));
	ASSERT_EQ(0, mv_slice_list(fd, MEMVIEW_SLICE_LIST_REGION,
				   a.out_region_id, &s, &n));
	ASSERT_EQ(nslices, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(a.out_region_id, s[i].region_id);
		EXPECT_EQ(i, s[i].index);
		EXPECT_EQ((__u32)MEMVIEW_SLICE_ONLINE, s[i].state);
		EXPECT_EQ(self->f.range.start + i * MV_SLICE_SIZE,
			  s[i].phys_addr);
		EXPECT_EQ(65536ULL, s[i].total_pages);
		EXPECT_EQ(0ULL, s[i].used_pages);
		EXPECT_EQ(65536ULL, s[i].free_pages);
		EXPECT_EQ(0ULL, s[i].poisoned_pages);
		EXPECT_EQ(0ULL, s[i].migrations_in);
		EXPECT_EQ(0ULL, s[i].migrations_out);
		EXPECT_EQ(0ULL, s[i].errors);
	}
	if (n == 2)
		EXPECT_NE(s[0].id, s[1].id);
	free(s);

	/* The unfiltered list holds them too. */
	ASSERT_EQ(0, mv_slice_list(fd, 0, 0, &s, &n));
	EXPECT_LE(nslices, n);
	free(s);

	/* Too small an array: EMSGSIZE and the real count. */
	memset(&l, 0, sizeof(l));
	l.size = sizeof(l);
	l.flags = MEMVIEW_SLICE_LIST_REGION;
	l.region_id = a.out_region_id;
	l.num_slices = 0;
	EXPECT_EQ(-EMSGSIZE, mv_ioctl(fd, MEMVIEW_IOCTL_SLICE_LIST, &l));
	EXPECT_EQ(nslices, l.num_slices);
	if (nslices > 1) {
		struct memview_slice_entry one;

		l.num_slices = 1;
		l.slices = (uintptr_t)&one;
		EXPECT_EQ(-EMSGSIZE, mv_ioctl(fd, MEMVIEW_IOCTL_SLICE_LIST, &l));
		EXPECT_EQ(nslices, l.num_slices);
	}

	/* Unknown flags; a region id without the flag; an unknown region. */
	memset(&l, 0, sizeof(l));
	l.size = sizeof(l);
	l.flags = 1u << 31;
	EXPECT_EQ(-EINVAL, mv_ioctl(fd, MEMVIEW_IOCTL_SLICE_LIST, &l));
	l.flags = 0;
	l.region_id = 0xfffffff0;	/* any nonzero id: region ids start at 0 */
	EXPECT_EQ(-EINVAL, mv_ioctl(fd, MEMVIEW_IOCTL_SLICE_LIST, &l));
	l.flags = MEMVIEW_SLICE_LIST_REGION;
	l.region_id = 0xfffffff0;
	EXPECT_EQ(-ENOENT, mv_ioctl(fd, MEMVIEW_IOCTL_SLICE_LIST, &l));
}

/* A tail shorter than a slice is not carved and is reported as unusable. */
TEST_F(region, unusable_tail)
{
	struct memview_region_entry e;
	struct memview_region_add a;
	int fd = self->f.fd;

	MV_SETUP_SKIPPED();
	if (self->f.range.size < MV_SLICE_SIZE + MV_ALIGN)
		SKIP(return, "range smaller than a slice + 2 MiB");
	ASSERT_EQ(0, mv_region_add(fd, self->f.range.start,
				   MV_SLICE_SIZE + MV_ALIGN,
				   self->f.range.kind, self->f.range.label, &a));
	EXPECT_EQ(1ULL, a.out_nr_slices);
	EXPECT_EQ(MV_ALIGN, a.out_unusable_bytes);
	ASSERT_NE(NULL, find_region(_metadata, fd, a.out_region_id, &e));
	EXPECT_EQ(MV_SLICE_SIZE + MV_ALIGN, e.length);
	EXPECT_EQ(MV_ALIGN, e.unusable_bytes);
	EXPECT_EQ(1ULL, e.nr_slices);
	EXPECT_EQ(0, mv_region_remove(fd, a.out_region_id, 0, NULL));
}

/* Adding a range that overlaps a memview region gives EEXIST. */
TEST_F(region, add_overlap)
{
	struct memview_region_add a, b;
	int fd = self->f.fd;

	MV_SETUP_SKIPPED();
	ASSERT_EQ(0, mv_region_add(fd, self->f.range.start, self->f.range.size,
				   self->f.range.kind, self->f.range.label, &a));
	mv_region_add_init(&b, self->f.range.start, self->f.range.size,
			   self->f.range.kind, "again");
	add_fails(_metadata, fd, &b, -EEXIST);
	if (self->f.range.size >= 2 * MV_SLICE_SIZE) {
		mv_region_add_init(&b, self->f.range.start + MV_SLICE_SIZE,
				   MV_SLICE_SIZE, self->f.range.kind, "half");
		add_fails(_metadata, fd, &b, -EEXIST);
	}
	EXPECT_EQ(0, mv_region_remove(fd, a.out_region_id, 0, NULL));
}

/*
 * A range another driver holds gives EBUSY: the pmem variant enables its
 * namespace (nd_pmem then claims the range, as "namespaceX.Y" in
 * /proc/iomem), tries REGION_ADD and disables the namespace again.  Other
 * variants have no driver the test may bind, and SKIP.
 */
TEST_F(region, add_busy)
{
	const char *ns = getenv("MEMVIEW_PMEM_NS");
	struct memview_region_add a;
	int ret, off;

	MV_SETUP_SKIPPED();
	if (variant->target != &mv_target_pmem || !ns || !*ns)
		SKIP(return, "needs the PMEM namespace (MEMVIEW_PMEM_NS)");
	if (mv_run("command -v ndctl >/dev/null"))
		SKIP(return, "ndctl not found");
	if (mv_run("ndctl enable-namespace %s", ns))
		SKIP(return, "ndctl enable-namespace %s failed", ns);
	TH_LOG("%s %s in /proc/iomem", ns,
	       mv_iomem_has(self->f.range.start, self->f.range.size, ns) ?
	       "claimed" : "NOT claimed");
	ret = mv_region_add(self->f.fd, self->f.range.start,
			    self->f.range.size, self->f.range.kind,
			    self->f.range.label, &a);
	if (!ret)
		mv_region_remove(self->f.fd, a.out_region_id, 0, NULL);
	mv_run("udevadm settle --timeout=30 2>/dev/null");
	off = mv_run("ndctl disable-namespace %s", ns);
	EXPECT_EQ(-EBUSY, ret);
	ASSERT_EQ(0, off) TH_LOG("%s is enabled again: later pmem tests fail", ns);
}

/* A start that is not 2 MiB aligned gives EINVAL. */
TEST_F(region, add_misaligned_start)
{
	struct memview_region_add a;

	MV_SETUP_SKIPPED();
	mv_region_add_init(&a, self->f.range.start + MV_PAGE_SIZE,
			   MV_SLICE_SIZE, self->f.range.kind, "x");
	add_fails(_metadata, self->f.fd, &a, -EINVAL);
	mv_region_add_init(&a, self->f.range.start + MV_ALIGN / 2,
			   MV_SLICE_SIZE, self->f.range.kind, "x");
	add_fails(_metadata, self->f.fd, &a, -EINVAL);
}

/* A length that is not a multiple of 2 MiB gives EINVAL. */
TEST_F(region, add_misaligned_length)
{
	struct memview_region_add a;

	MV_SETUP_SKIPPED();
	mv_region_add_init(&a, self->f.range.start,
			   MV_SLICE_SIZE + MV_PAGE_SIZE, self->f.range.kind,
			   "x");
	add_fails(_metadata, self->f.fd, &a, -EINVAL);
	mv_region_add_init(&a, self->f.range.start,
			   MV_SLICE_SIZE + MV_ALIGN / 2, self->f.range.kind,
			   "x");
	add_fails(_metadata, self->f.fd, &a, -EINVAL);
}

/* A zero length gives EINVAL. */
TEST_F(region, add_zero_length)
{
	struct memview_region_add a;

	MV_SETUP_SKIPPED();
	mv_region_add_init(&a, self->f.range.start, 0, self->f.range.kind, "x");
	add_fails(_metadata, self->f.fd, &a, -EINVAL);
}

/* A length shorter than one slice gives EINVAL. */
TEST_F(region, add_shorter_than_slice)
{
	struct memview_region_add a;

	MV_SETUP_SKIPPED();
	mv_region_add_init(&a, self->f.range.start, MV_SLICE_SIZE - MV_ALIGN,
			   self->f.range.kind, "x");
	add_fails(_metadata, self->f.fd, &a, -EINVAL);
	mv_region_add_init(&a, self->f.range.start, MV_ALIGN,
			   self->f.range.kind, "x");
	add_fails(_metadata, self->f.fd, &a, -EINVAL);
}

/* A kind beyond MEMVIEW_REGION_KIND_MAX gives EINVAL. */
TEST_F(region, add_bad_kind)
{
	struct memview_region_add a;

	MV_SETUP_SKIPPED();
	mv_region_add_init(&a, self->f.range.start, self->f.range.size,
			   MEMVIEW_REGION_KIND_MAX + 1, "x");
	add_fails(_metadata, self->f.fd, &a, -EINVAL);
	mv_region_add_init(&a, self->f.range.start, self->f.range.size,
			   0xffffffff, "x");
	add_fails(_metadata, self->f.fd, &a, -EINVAL);
}

/* Unknown flags give EINVAL. */
TEST_F(region, add_bad_flags)
{
	struct memview_region_add a;

	MV_SETUP_SKIPPED();
	mv_region_add_init(&a, self->f.range.start, self->f.range.size,
			   self->f.range.kind, "x");
	a.flags = 1;
	add_fails(_metadata, self->f.fd, &a, -EINVAL);
	a.flags = 1u << 31;
	add_fails(_metadata, self->f.fd, &a, -EINVAL);
}

/* Nonzero reserved fields give EINVAL. */
TEST_F(region, add_reserved_nonzero)
{
	struct memview_region_add a;

	MV_SETUP_SKIPPED();
	mv_region_add_init(&a, self->f.range.start, self->f.range.size,
			   self->f.range.kind, "x");
	a.__reserved = 1;
	add_fails(_metadata, self->f.fd, &a, -EINVAL);
	mv_region_add_init(&a, self->f.range.start, self->f.range.size,
			   self->f.range.kind, "x");
	a.__reserved2 = 1;
	add_fails(_metadata, self->f.fd, &a, -EINVAL);
}

/*
 * REGION_ADD with a list of bad ranges: every page they touch is poisoned
 * (retired) from the start, in SLICE_LIST and out_bad_pages; the rest of
 * the region is free.
 */
TEST_F(region, add_bad_ranges)
{
	__u64 start = self->f.range.start, pages;
	struct memview_bad_range bad[3];
	struct memview_slice_entry *s;
	struct memview_region_add a;
	struct mv_totals t;
	__u32 n;
	int ret;

	MV_SETUP_SKIPPED();
	if (!(self->f.info.out_features & MEMVIEW_FEATURE_BAD_RANGES))
		SKIP(return, "module without MEMVIEW_FEATURE_BAD_RANGES");
	/* One byte; two pages from a range across a page boundary; a sector. */
	bad[0] = (struct memview_bad_range){ start + 5 * MV_PAGE_SIZE + 17, 1 };
	bad[1] = (struct memview_bad_range){ start + 9 * MV_PAGE_SIZE - 512, 1024 };
	bad[2] = (struct memview_bad_range){ start + MV_SLICE_SIZE - 512, 512 };
	pages = 4;
	mv_region_add_init(&a, start, self->f.range.size, self->f.range.kind,
			   "bad");
	a.bad_ranges = (__u64)(uintptr_t)bad;
	a.nr_bad_ranges = 3;
	ret = mv_ioctl(self->f.fd, MEMVIEW_IOCTL_REGION_ADD, &a);
	ASSERT_EQ(0, ret) TH_LOG("REGION_ADD: %s", strerror(-ret));
	EXPECT_EQ(pages, a.out_bad_pages);
	ASSERT_EQ(0, mv_region_totals(self->f.fd, a.out_region_id, &t));
	EXPECT_EQ(pages, t.poisoned_pages);
	EXPECT_EQ(t.total_pages - pages, t.free_pages);
	ASSERT_EQ(0, mv_slice_list(self->f.fd, MEMVIEW_SLICE_LIST_REGION,
				   a.out_region_id, &s, &n));
	ASSERT_LE(1U, n);
	EXPECT_EQ(pages, s[0].poisoned_pages);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_ONLINE, s[0].state);
	free(s);
	EXPECT_EQ(0, mv_region_remove(self->f.fd, a.out_region_id,
				      MEMVIEW_REGION_REMOVE_FORGET_BAD, NULL));
	/* Forgotten: added again without the list, nothing is poisoned. */
	ASSERT_EQ(0, mv_region_add(self->f.fd, start, self->f.range.size,
				   self->f.range.kind, "bad", &a));
	EXPECT_EQ(0ULL, a.out_bad_pages);
	ASSERT_EQ(0, mv_region_totals(self->f.fd, a.out_region_id, &t));
	EXPECT_EQ(0ULL, t.poisoned_pages);
	EXPECT_EQ(0, mv_region_remove(self->f.fd, a.out_region_id, 0, NULL));
}

/* The errors of a bad-range list: each one leaves no region behind. */
TEST_F(region, add_bad_ranges_invalid)
{
	__u64 start = self->f.range.start, size = self->f.range.size;
	struct memview_bad_range *many, bad;
	struct memview_region_add a;

	MV_SETUP_SKIPPED();
	if (!(self->f.info.out_features & MEMVIEW_FEATURE_BAD_RANGES))
		SKIP(return, "module without MEMVIEW_FEATURE_BAD_RANGES");
#define ADD_BAD(_ptr, _nr, _err) do {					\
	mv_region_add_init(&a, start, size, self->f.range.kind, "x");	\
	a.bad_ranges = (__u64)(uintptr_t)(_ptr);			\
	a.nr_bad_ranges = (_nr);					\
	add_fails(_metadata, self->f.fd, &a, (_err));			\
} while (0)
	/* Outside the range: before it, after it, across its end. */
	bad = (struct memview_bad_range){ start - MV_PAGE_SIZE, 1 };
	ADD_BAD(&bad, 1, -EINVAL);
	bad = (struct memview_bad_range){ start + size, 1 };
	ADD_BAD(&bad, 1, -EINVAL);
	bad = (struct memview_bad_range){ start + size - 1, 2 };
	ADD_BAD(&bad, 1, -EINVAL);
	/* Empty, and wrapping. */
	bad = (struct memview_bad_range){ start, 0 };
	ADD_BAD(&bad, 1, -EINVAL);
	bad = (struct memview_bad_range){ start, ~0ULL };
	ADD_BAD(&bad, 1, -EINVAL);
	/* A pointer without a count; a count without a readable array. */
	ADD_BAD(&bad, 0, -EINVAL);
	ADD_BAD(8, 1, -EFAULT);
	/* Too many, even if readable. */
	many = calloc(MEMVIEW_MAX_BAD_RANGES + 1, sizeof(*many));
	ASSERT_NE(NULL, many);
	for (size_t i = 0; i <= MEMVIEW_MAX_BAD_RANGES; i++)
		many[i] = (struct memview_bad_range){ start, 1 };
	ADD_BAD(many, MEMVIEW_MAX_BAD_RANGES + 1, -E2BIG);
	free(many);
	/* Reserved. */
	mv_region_add_init(&a, start, size, self->f.range.kind, "x");
	a.__reserved3 = 1;
	add_fails(_metadata, self->f.fd, &a, -EINVAL);
#undef ADD_BAD
}

/* A label that fills its 32 bytes without a NUL gives EINVAL. */
TEST_F(region, add_label_unterminated)
{
	struct memview_region_add a;

	MV_SETUP_SKIPPED();
	mv_region_add_init(&a, self->f.range.start, self->f.range.size,
			   self->f.range.kind, "x");
	memset(a.label, 'l', sizeof(a.label));
	add_fails(_metadata, self->f.fd, &a, -EINVAL);
}

/* A label goes into the kernel log: only printable ASCII is taken. */
TEST_F(region, add_label_unprintable)
{
	static const char *const bad[] = {
		"two\nlines", "\x1b[31mred", "tab\there", "latin\xe9", "del\x7f",
	};
	struct memview_region_add a;
	unsigned int i;

	MV_SETUP_SKIPPED();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mv_region_add_init(&a, self->f.range.start, self->f.range.size,
				   self->f.range.kind, bad[i]);
		add_fails(_metadata, self->f.fd, &a, -EINVAL);
	}
	/* Printable punctuation and spaces are fine. */
	mv_region_add_init(&a, self->f.range.start, self->f.range.size,
			   self->f.range.kind, "cxl region0 (test) ~#");
	ASSERT_EQ(0, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_REGION_ADD, &a));
	ASSERT_EQ(0, mv_region_remove(self->f.fd, a.out_region_id, 0, NULL));
}

/*
 * A REGION_ADD whose result cannot be written back (the struct is in a
 * read-only page) fails with EFAULT and leaves no region: the caller could
 * not learn its id.  The range can be added again at once.
 */
TEST_F(region, add_writeback_fault)
{
	struct memview_region_add *a;
	__u32 before;

	MV_SETUP_SKIPPED();
	a = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, a);
	mv_region_add_init(a, self->f.range.start, self->f.range.size,
			   self->f.range.kind, "ro");
	ASSERT_EQ(0, mprotect(a, 4096, PROT_READ));
	before = nr_regions(_metadata, self->f.fd);
	EXPECT_EQ(-EFAULT, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_REGION_ADD, a));
	EXPECT_EQ(before, nr_regions(_metadata, self->f.fd));
	ASSERT_EQ(0, mprotect(a, 4096, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_REGION_ADD, a));
	EXPECT_EQ(0, mv_region_remove(self->f.fd, a->out_region_id, 0, NULL));
	munmap(a, 4096);
}

/* A size smaller than the first version of the struct gives EINVAL. */
TEST_F(region, add_short_struct)
{
	struct memview_region_add a;

	MV_SETUP_SKIPPED();
	mv_region_add_init(&a, self->f.range.start, self->f.range.size,
			   self->f.range.kind, "x");
	/* Shorter than the first version (which ends at out_unusable_bytes). */
	a.size = offsetof(struct memview_region_add, bad_ranges) - 8;
	add_fails(_metadata, self->f.fd, &a, -EINVAL);
	a.size = 8;
	add_fails(_metadata, self->f.fd, &a, -EINVAL);
	a.size = 0;
	add_fails(_metadata, self->f.fd, &a, -EINVAL);
}

/*
 * The first version of the struct (before MEMVIEW_FEATURE_BAD_RANGES, up to
 * out_unusable_bytes) is accepted: old userspace keeps working.
 */
TEST_F(region, add_struct_v1)
{
	struct memview_region_add a;
	int ret;

	MV_SETUP_SKIPPED();
	mv_region_add_init(&a, self->f.range.start, self->f.range.size,
			   self->f.range.kind, "v1");
	a.size = offsetof(struct memview_region_add, bad_ranges);
	a.out_bad_pages = 12345;	/* past the struct: not written back */
	ret = mv_ioctl(self->f.fd, MEMVIEW_IOCTL_REGION_ADD, &a);
	ASSERT_EQ(0, ret) TH_LOG("REGION_ADD of the v1 struct: %s",
				 strerror(-ret));
	EXPECT_EQ(12345ULL, a.out_bad_pages);
	EXPECT_EQ(0, mv_region_remove(self->f.fd, a.out_region_id,
				      MEMVIEW_REGION_REMOVE_FORGET_BAD, NULL));
}

/* A longer struct is refused (E2BIG) if its tail is not zero. */
TEST_F(region, add_long_struct_nonzero_tail)
{
	struct {
		struct memview_region_add a;
		__u64 tail[4];
	} big;

	MV_SETUP_SKIPPED();
	memset(&big, 0, sizeof(big));
	mv_region_add_init(&big.a, self->f.range.start, self->f.range.size,
			   self->f.range.kind, "x");
	big.a.size = sizeof(big);
	big.tail[3] = 1;
	add_fails(_metadata, self->f.fd, &big.a, -E2BIG);
}

/* A longer struct with a zero tail is accepted and its tail left alone. */
TEST_F(region, add_long_struct_zero_tail)
{
	struct {
		struct memview_region_add a;
		__u64 tail[4];
	} big;
	struct memview_region_entry e;

	MV_SETUP_SKIPPED();
	memset(&big, 0, sizeof(big));
	mv_region_add_init(&big.a, self->f.range.start, self->f.range.size,
			   self->f.range.kind, self->f.range.label);
	big.a.size = sizeof(big);
	ASSERT_EQ(0, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_REGION_ADD, &big));
	EXPECT_EQ(self->f.range.size / MV_SLICE_SIZE, big.a.out_nr_slices);
	EXPECT_EQ(0ULL, big.tail[0]);
	EXPECT_EQ(0ULL, big.tail[3]);
	ASSERT_NE(NULL, find_region(_metadata, self->f.fd,
				    big.a.out_region_id, &e));
	EXPECT_EQ(self->f.range.start, e.phys_addr);
	EXPECT_EQ(0, mv_region_remove(self->f.fd, big.a.out_region_id, 0,
				      NULL));
}

/* REGION_REMOVE obeys the struct rules and leaves the region on error. */
TEST_F(region, remove_bad_args)
{
	struct memview_region_remove rm;
	struct memview_region_entry e;
	struct memview_region_add a;
	int fd = self->f.fd;

	MV_SETUP_SKIPPED();
	ASSERT_EQ(0, mv_region_add(fd, self->f.range.start, self->f.range.size,
				   self->f.range.kind, self->f.range.label, &a));
	memset(&rm, 0, sizeof(rm));
	rm.size = sizeof(rm);
	rm.region_id = a.out_region_id;
	rm.flags = 1u << 7;
	EXPECT_EQ(-EINVAL, mv_ioctl(fd, MEMVIEW_IOCTL_REGION_REMOVE, &rm));
	rm.flags = 0;
	rm.__reserved = 1;
	EXPECT_EQ(-EINVAL, mv_ioctl(fd, MEMVIEW_IOCTL_REGION_REMOVE, &rm));
	rm.__reserved = 0;
	rm.size = 8;
	EXPECT_EQ(-EINVAL, mv_ioctl(fd, MEMVIEW_IOCTL_REGION_REMOVE, &rm));
	EXPECT_NE(NULL, find_region(_metadata, fd, a.out_region_id, &e));
	EXPECT_EQ(0, mv_region_remove(fd, a.out_region_id, 0, NULL));
	/* Removing it twice: it is gone. */
	EXPECT_EQ(-ENOENT, mv_region_remove(fd, a.out_region_id, 0, NULL));
}

/* REGION_LIST with too small an array: EMSGSIZE and the real count. */
TEST_F(region, region_list_too_small)
{
	struct memview_region_entry *all, one;
	struct memview_region_list l;
	struct memview_region_add a, b;
	__u32 before, n, i, found = 0;
	bool two;
	int fd = self->f.fd;

	MV_SETUP_SKIPPED();
	before = nr_regions(_metadata, fd);
	/* Two regions (the two slices of the range) when it is big enough. */
	two = self->f.range.size >= 2 * MV_SLICE_SIZE;
	ASSERT_EQ(0, mv_region_add(fd, self->f.range.start,
				   two ? MV_SLICE_SIZE : self->f.range.size,
				   self->f.range.kind, "first", &a));
	if (two)
		ASSERT_EQ(0, mv_region_add(fd,
					   self->f.range.start + MV_SLICE_SIZE,
					   MV_SLICE_SIZE, self->f.range.kind,
					   "second", &b));
	n = before + 1 + two;

	memset(&l, 0, sizeof(l));
	l.size = sizeof(l);
	l.num_regions = 0;
	EXPECT_EQ(-EMSGSIZE, mv_ioctl(fd, MEMVIEW_IOCTL_REGION_LIST, &l));
	EXPECT_EQ(n, l.num_regions);

	if (n > 1) {
		memset(&one, 0xa5, sizeof(one));
		l.num_regions = 1;
		l.regions = (uintptr_t)&one;
		EXPECT_EQ(-EMSGSIZE, mv_ioctl(fd, MEMVIEW_IOCTL_REGION_LIST, &l));
		EXPECT_EQ(n, l.num_regions);
		/* "nothing is copied then" */
		EXPECT_EQ(0xa5a5a5a5, one.id);
	}

	/* With room for all, all are listed, each once. */
	all = calloc(n + 1, sizeof(*all));
	ASSERT_NE(NULL, all);
	memset(&l, 0, sizeof(l));
	l.size = sizeof(l);
	l.num_regions = n + 1;
	l.regions = (uintptr_t)all;
	ASSERT_EQ(0, mv_ioctl(fd, MEMVIEW_IOCTL_REGION_LIST, &l));
	EXPECT_EQ(n, l.num_regions);
	for (i = 0; i < l.num_regions; i++) {
		if (all[i].id == a.out_region_id) {
			found++;
			EXPECT_STREQ("first", all[i].label);
		}
		if (two && all[i].id == b.out_region_id) {
			found++;
			EXPECT_STREQ("second", all[i].label);
			EXPECT_EQ(self->f.range.start + MV_SLICE_SIZE,
				  all[i].phys_addr);
		}
	}
	EXPECT_EQ((__u32)(1 + two), found);
	free(all);

	/* An array the module cannot write. */
	memset(&l, 0, sizeof(l));
	l.size = sizeof(l);
	l.num_regions = n;
	l.regions = 8;
	EXPECT_EQ(-EFAULT, mv_ioctl(fd, MEMVIEW_IOCTL_REGION_LIST, &l));

	/* Unknown flags and reserved bits. */
	memset(&l, 0, sizeof(l));
	l.size = sizeof(l);
	l.flags = 1;
	EXPECT_EQ(-EINVAL, mv_ioctl(fd, MEMVIEW_IOCTL_REGION_LIST, &l));
	l.flags = 0;
	l.__reserved = 1;
	EXPECT_EQ(-EINVAL, mv_ioctl(fd, MEMVIEW_IOCTL_REGION_LIST, &l));
}

/* Child of region.unprivileged: steps and exit codes for the parent. */
enum { STEP_ADD = 'a', STEP_REMOVE = 'r' };

static int unprivileged_child(struct mv_chan *c, const struct mv_range *r)
{
	struct memview_region_add a;
	__u32 id;
	int fd, ret;

	ret = mv_drop_privileges();
	if (ret) {
		mv_log("child: dropping privileges: %s", strerror(-ret));
		return 10;
	}
	if (mv_cap_eff()) {
		mv_log("child: CapEff %#llx after setuid",
		       (unsigned long long)mv_cap_eff());
		return 11;
	}
	fd = mv_open();	/* the device node is 0666 */
	if (fd < 0) {
		mv_log("child: open %s as uid %d: %s", MEMVIEW_DEVICE,
		       MV_NOBODY, strerror(-fd));
		return 12;
	}
	ret = mv_region_add(fd, r->start, r->size, r->kind, r->label, &a);
	if (ret != -EPERM) {
		mv_log("child: REGION_ADD unprivileged: %s, expected EPERM",
		       ret ? strerror(-ret) : "success");
		if (!ret)
			mv_region_remove(fd, a.out_region_id, 0, NULL);
		return 13;
	}
	/* The parent adds the region now and sends its id. */
	if (mv_chan_send(c->to_parent[1], STEP_ADD) ||
	    read(c->to_child[0], &id, sizeof(id)) != sizeof(id))
		return 14;
	ret = mv_region_remove(fd, id, 0, NULL);
	if (ret != -EPERM) {
		mv_log("child: REGION_REMOVE unprivileged: %s, expected EPERM",
		       ret ? strerror(-ret) : "success");
		return 15;
	}
	ret = mv_region_remove(fd, id, MEMVIEW_REGION_REMOVE_EVACUATE, NULL);
	if (ret != -EPERM) {
		mv_log("child: REGION_REMOVE EVACUATE unprivileged: %s, expected EPERM",
		       ret ? strerror(-ret) : "success");
		return 16;
	}
	/* Looking needs no privilege. */
	{
		struct memview_region_entry *re;
		struct memview_slice_entry *se;
		struct memview_info info;
		__u32 n;

		ret = mv_get_info(fd, &info);
		if (!ret) {
			ret = mv_region_list(fd, &re, &n);
			if (!ret)
				free(re);
		}
		if (!ret) {
			ret = mv_slice_list(fd, MEMVIEW_SLICE_LIST_REGION, id,
					    &se, &n);
			if (!ret)
				free(se);
		}
		if (ret) {
			mv_log("child: GET_INFO/REGION_LIST/SLICE_LIST unprivileged: %s",
			       strerror(-ret));
			return 18;
		}
	}
	return mv_chan_send(c->to_parent[1], STEP_REMOVE) ? 17 : 0;
}

/*
 * Without CAP_SYS_ADMIN, REGION_ADD and REGION_REMOVE give EPERM; GET_INFO
 * and the lists still work.
 */
TEST_F(region, unprivileged)
{
	struct memview_region_entry e;
	struct memview_region_add a;
	struct mv_chan c;
	int status, fd = self->f.fd;
	char msg = 0;
	pid_t pid;

	MV_SETUP_SKIPPED();
	ASSERT_EQ(0, mv_chan_open(&c));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		mv_chan_child(&c);
		_exit(unprivileged_child(&c, &self->f.range));
	}
	mv_chan_parent(&c);

	ASSERT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, 30000));
	ASSERT_EQ(STEP_ADD, msg);
	/* The child's REGION_ADD must not have taken the range. */
	ASSERT_EQ(0, mv_region_add(fd, self->f.range.start, self->f.range.size,
				   self->f.range.kind, self->f.range.label, &a));
	ASSERT_EQ(sizeof(a.out_region_id),
		  (size_t)write(c.to_child[1], &a.out_region_id,
				sizeof(a.out_region_id)));
	EXPECT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, 30000));
	EXPECT_EQ(STEP_REMOVE, msg);
	status = mv_wait_child(pid, 30000);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_NE(NULL, find_region(_metadata, fd, a.out_region_id, &e));
	EXPECT_EQ(0, mv_region_remove(fd, a.out_region_id, 0, NULL));
	mv_chan_close(&c);
}

TEST_HARNESS_MAIN
