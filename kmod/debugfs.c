// SPDX-License-Identifier: GPL-2.0
/*
 * Administrator's view: /sys/kernel/debug/memview/{regions,slices}, and
 * the test hook fail_dst_verify.
 * Format: Documentation/ABI/testing/debugfs-memview.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "memview-private.h"

static struct dentry *memview_debugfs_dir;

static const char *const memview_kind_names[] = {
	[MEMVIEW_REGION_RAW]	= "raw",
	[MEMVIEW_REGION_CXL]	= "cxl",
	[MEMVIEW_REGION_PMEM]	= "pmem",
};

static const char *const memview_state_names[] = {
	[MEMVIEW_SLICE_ONLINE]		= "online",
	[MEMVIEW_SLICE_DEGRADED]	= "degraded",
	[MEMVIEW_SLICE_FENCING]		= "fencing",
	[MEMVIEW_SLICE_FENCED]		= "fenced",
	[MEMVIEW_SLICE_RETIRED]		= "retired",
	[MEMVIEW_SLICE_REMOVING]	= "removing",
};

static int memview_regions_show(struct seq_file *m, void *v)
{
	int idx;
	struct memview_region *r;

	seq_puts(m, "id kind label start end nid slices unusable_bytes\n");
	idx = srcu_read_lock(&memview_srcu);
	for_each_memview_region(r)
		seq_printf(m, "%u %s %s %#llx %#llx %d %u %llu\n", r->id,
			   memview_kind_names[r->kind], r->label, (u64)r->start,
			   (u64)(r->start + r->length - 1), r->nid,
			   r->nr_slices, r->unusable);
	srcu_read_unlock(&memview_srcu, idx);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(memview_regions);

static int memview_slices_show(struct seq_file *m, void *v)
{
	int idx;
	struct memview_slice_entry e;
	struct memview_region *r;
	u32 i;

	seq_puts(m, "id region index state start total used free poisoned migrations_in migrations_out errors\n");
	idx = srcu_read_lock(&memview_srcu);
	for_each_memview_region(r) {
		for (i = 0; i < r->nr_slices; i++) {
			memview_slice_fill_entry(&r->slices[i], &e);
			seq_printf(m, "%u %u %u %s %#llx %llu %llu %llu %llu %llu %llu %llu\n",
				   e.id, e.region_id, e.index,
				   memview_state_names[e.state], e.phys_addr,
				   e.total_pages, e.used_pages, e.free_pages,
				   e.poisoned_pages, e.migrations_in,
				   e.migrations_out, e.errors);
		}
	}
	srcu_read_unlock(&memview_srcu, idx);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(memview_slices);

void memview_debugfs_init(void)
{
	memview_debugfs_dir = debugfs_create_dir("memview", NULL);
	debugfs_create_file("regions", 0444, memview_debugfs_dir, NULL,
			    &memview_regions_fops);
	debugfs_create_file("slices", 0444, memview_debugfs_dir, NULL,
			    &memview_slices_fops);
	debugfs_create_atomic_t("fail_dst_verify", 0600, memview_debugfs_dir,
				&memview_fail_dst_verify);
}

void memview_debugfs_exit(void)
{
	debugfs_remove_recursive(memview_debugfs_dir);
}
