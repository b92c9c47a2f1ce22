// SPDX-License-Identifier: GPL-2.0
/*
 * Regions: physical ranges memview claims, maps as MEMORY_DEVICE_COHERENT
 * memory and carves into slices.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/idr.h>
#include <linux/ioport.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "memview-private.h"

/* readers of memview_regions and of each region's life (memview-private.h) */
DEFINE_SRCU(memview_srcu);
/* serialises REGION_ADD and REGION_REMOVE: the region list's writers */
DEFINE_MUTEX(memview_region_mutex);
LIST_HEAD(memview_regions);
char memview_owner;

static DEFINE_IDA(memview_region_ida);
static DEFINE_IDA(memview_slice_ida);

static int memview_memory_failure(struct dev_pagemap *pgmap, unsigned long pfn,
				  unsigned long nr_pages, int mf_flags)
{
	return memview_ras_memory_failure(container_of(pgmap,
						       struct memview_region,
						       pgmap),
					  pfn, nr_pages);
}

MEMVIEW_DEFINE_PGMAP_FREE(memview_page_free)

static const struct dev_pagemap_ops memview_pgmap_ops = {
	MEMVIEW_PGMAP_FREE_OP(memview_page_free),
	.memory_failure	= memview_memory_failure,
};

/* Caller holds memview_srcu (read) or memview_region_mutex. */
static struct memview_region *memview_region_find(u32 id)
{
	struct memview_region *r;

	for_each_memview_region(r)
		if (r->id == id)
			return r;
	return NULL;
}

/* The slice holding @pfn, or NULL.  Caller: memview_srcu or the mutex. */
struct memview_slice *memview_pfn_to_slice(unsigned long pfn)
{
	struct memview_region *r;

	for_each_memview_region(r)
		if (pfn >= r->start_pfn && pfn < r->end_pfn)
			return &r->slices[(pfn - r->start_pfn) /
					  (memview_slice_size >> PAGE_SHIFT)];
	return NULL;
}

u32 memview_nr_regions(void)
{
	struct memview_region *r;
	u32 n = 0;

	for_each_memview_region(r)
		n++;
	return n;
}

u32 memview_nr_slices(void)
{
	struct memview_region *r;
	u32 n = 0;

	for_each_memview_region(r)
		n += r->nr_slices;
	return n;
}

/* Is [start, start + len) inside memory a device driver could hand us? */
static bool memview_range_is_device_memory(phys_addr_t start, u64 len)
{
	static const unsigned long descs[] = {
		IORES_DESC_PERSISTENT_MEMORY,
		IORES_DESC_PERSISTENT_MEMORY_LEGACY,
		IORES_DESC_CXL,
		IORES_DESC_SOFT_RESERVED,
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(descs); i++)
		if (region_intersects(start, len, IORESOURCE_MEM, descs[i]) ==
		    REGION_INTERSECTS)
			return true;
	return false;
}

/*
 * A label is printed in the kernel log and shown by tools: NUL-terminated,
 * printable ASCII only (no escape sequences, no newlines).
 */
static bool memview_label_valid(const char *label, size_t size)
{
	size_t len = strnlen(label, size), i;

	if (len == size)
		return false;
	for (i = 0; i < len; i++)
		if (label[i] < 0x20 || label[i] > 0x7e)
			return false;
	return true;
}

static int memview_region_validate(struct memview_region_add *cmd)
{
	u64 align = max_t(u64, PMD_SIZE, SUBSECTION_SIZE);
	u64 end;

	if (cmd->flags || cmd->__reserved || cmd->__reserved2 ||
	    cmd->__reserved3)
		return -EINVAL;
	if (!cmd->nr_bad_ranges && cmd->bad_ranges)
		return -EINVAL;
	if (cmd->kind > MEMVIEW_REGION_KIND_MAX)
		return -EINVAL;
	if (!memview_label_valid(cmd->label, sizeof(cmd->label)))
		return -EINVAL;
	if (!cmd->length || !IS_ALIGNED(cmd->phys_addr, align) ||
	    !IS_ALIGNED(cmd->length, align))
		return -EINVAL;
	if (check_add_overflow(cmd->phys_addr, cmd->length - 1, &end))
		return -EOVERFLOW;
	if (cmd->length < memview_slice_size)
		return -EINVAL;
	if (end >= (1ULL << MAX_PHYSMEM_BITS))
		return -ERANGE;
	if (cmd->nr_bad_ranges > MEMVIEW_MAX_BAD_RANGES)
		return -E2BIG;
	return 0;
}

/*
 * The bad ranges of a validated @cmd, copied from userspace and checked to
 * lie inside its range: NULL if it has none, else a kvmalloc()ed array of
 * cmd->nr_bad_ranges entries (at most 64 KiB), or an ERR_PTR().
 */
static struct memview_bad_range *
memview_region_bad_ranges(const struct memview_region_add *cmd)
{
	u64 last_byte = cmd->phys_addr + cmd->length - 1, last;
	struct memview_bad_range *b;
	u32 i;

	if (!cmd->nr_bad_ranges)
		return NULL;
	b = kvmalloc_array(cmd->nr_bad_ranges, sizeof(*b), GFP_KERNEL);
	if (!b)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(b, u64_to_user_ptr(cmd->bad_ranges),
			   cmd->nr_bad_ranges * sizeof(*b))) {
		kvfree(b);
		return ERR_PTR(-EFAULT);
	}
	for (i = 0; i < cmd->nr_bad_ranges; i++) {
		if (!b[i].length || b[i].phys_addr < cmd->phys_addr ||
		    check_add_overflow(b[i].phys_addr, b[i].length - 1, &last) ||
		    last > last_byte) {
			kvfree(b);
			return ERR_PTR(-EINVAL);
		}
	}
	return b;
}

/*
 * Retire, before @r is published, the pages @bad names and those an
 * earlier region over the same pages saw poisoned.  Returns their number.
 */
static u64 memview_region_retire_bad(struct memview_region *r,
				     const struct memview_bad_range *bad,
				     u32 nr)
{
	u64 n = memview_bad_pages_restore(r);
	unsigned long first, last;
	u32 i;

	for (i = 0; i < nr; i++) {
		first = PHYS_PFN(bad[i].phys_addr);
		last = PHYS_PFN(bad[i].phys_addr + bad[i].length - 1);
		n += memview_region_retire_pfns(r, first, last - first + 1);
	}
	return n;
}

/*
 * The node to map the range on: the range's own node (@target, from the
 * SRAT/CEDT: phys_to_target_node()) if it is online, else the nearest online
 * node (memremap_pages() with an offline nid oopses).  A CXL window usually
 * has a node of its own that is offline until memory is hot-added to it, so
 * @target is kept for the log.
 */
static int memview_region_nid(phys_addr_t start, int *target)
{
	int nid = phys_to_target_node(start);

	if (nid == NUMA_NO_NODE)
		nid = memory_add_physaddr_to_nid(start);
	*target = nid;
	if (nid == NUMA_NO_NODE || !node_online(nid))
		nid = numa_map_to_online_node(nid);
	if (nid == NUMA_NO_NODE || !node_online(nid))
		nid = first_online_node;
	return nid;
}

static bool memview_region_overlaps(phys_addr_t start, u64 len)
{
	struct memview_region *r;

	lockdep_assert_held(&memview_region_mutex);
	for_each_memview_region(r)
		if (start < r->start + r->length && r->start < start + len)
			return true;
	return false;
}

static void memview_region_free(struct memview_region *r)
{
	u32 i;

	for (i = 0; i < r->nr_slices; i++) {
		if (r->slices[i].id != U32_MAX)
			ida_free(&memview_slice_ida, r->slices[i].id);
		memview_slice_destroy(&r->slices[i]);
	}
	kvfree(r);
}

/* Is [start, start + len) a range memview may take?  The mutex is held. */
static int memview_region_check_range(phys_addr_t start, u64 len)
{
	if (memview_region_overlaps(start, len))
		return -EEXIST;
	if (memview_nr_regions() >= MEMVIEW_MAX_REGIONS)
		return -ENOSPC;
	if (region_intersects(start, len, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT)
		return -EADDRNOTAVAIL;
	if (!memview_range_is_device_memory(start, len))
		return -ENXIO;
	return 0;
}

/* REGION_ADD of a validated @cmd whose bad ranges are @bad. */
static int memview_region_create(struct memview_region_add *cmd,
				 const struct memview_bad_range *bad)
{
	u64 slices_len, nr_slices;
	struct memview_region *r;
	void *vaddr;
	int ret, target_nid;
	u32 i;

	nr_slices = div64_u64(cmd->length, memview_slice_size);
	slices_len = nr_slices * memview_slice_size;

	/*
	 * The range is checked before anything is allocated for it: the slice
	 * table grows with the length, which the caller chooses.  Only other
	 * additions and removals wait for the mutex; readers of the region
	 * list (memory errors among them) go on, and see the region once it
	 * is published at the end.
	 */
	mutex_lock(&memview_region_mutex);
	ret = memview_region_check_range(cmd->phys_addr, cmd->length);
	if (ret) {
		mutex_unlock(&memview_region_mutex);
		return ret;
	}
	r = kvzalloc(struct_size(r, slices, nr_slices),
		     GFP_KERNEL | __GFP_NOWARN);
	if (!r) {
		mutex_unlock(&memview_region_mutex);
		return -ENOMEM;
	}
	r->kind = cmd->kind;
	strscpy(r->label, cmd->label, sizeof(r->label));
	r->start = cmd->phys_addr;
	r->length = cmd->length;
	r->unusable = cmd->length - slices_len;
	r->start_pfn = PHYS_PFN(r->start);
	r->end_pfn = PHYS_PFN(r->start + slices_len);
	for (i = 0; i < nr_slices; i++) {
		r->slices[i].id = U32_MAX;
		r->nr_slices = i + 1;
		ret = memview_slice_init(&r->slices[i], r, i);
		if (ret)
			goto out_unlock;
	}
	ret = ida_alloc(&memview_region_ida, GFP_KERNEL);
	if (ret < 0)
		goto out_unlock;
	r->id = ret;
	for (i = 0; i < nr_slices; i++) {
		ret = ida_alloc(&memview_slice_ida, GFP_KERNEL);
		if (ret < 0)
			goto out_ida;
		r->slices[i].id = ret;
	}

	r->res = request_mem_region(r->start, slices_len, "memview");
	if (!r->res) {
		ret = -EBUSY;
		goto out_ida;
	}

	r->nid = memview_region_nid(r->start, &target_nid);
	r->pgmap.type = MEMORY_DEVICE_COHERENT;
	r->pgmap.range.start = r->start;
	r->pgmap.range.end = r->start + slices_len - 1;
	r->pgmap.nr_range = 1;
	r->pgmap.ops = &memview_pgmap_ops;
	r->pgmap.owner = &memview_owner;
	vaddr = memremap_pages(&r->pgmap, r->nid);
	if (IS_ERR(vaddr)) {
		ret = PTR_ERR(vaddr);
		pr_err("%s: cannot map %#llx-%#llx: %d\n", r->label,
		       (u64)r->start, (u64)(r->start + slices_len - 1), ret);
		goto out_release;
	}

	cmd->out_bad_pages = memview_region_retire_bad(r, bad,
						       cmd->nr_bad_ranges);
	__module_get(THIS_MODULE);
	list_add_tail_rcu(&r->node, &memview_regions);
	mutex_unlock(&memview_region_mutex);

	if (target_nid != r->nid)
		pr_info("%s: the range belongs to node %d, which is not online: mapped on node %d, the nearest online one\n",
			r->label, target_nid, r->nid);
	pr_info("%s: region %u %#llx-%#llx on node %d: %u slices, %llu bytes unusable, %llu known-bad pages retired\n",
		r->label, r->id, (u64)r->start, (u64)(r->start + r->length - 1),
		r->nid, r->nr_slices, r->unusable, cmd->out_bad_pages);
	cmd->out_region_id = r->id;
	cmd->out_nr_slices = r->nr_slices;
	cmd->out_nid = r->nid;
	cmd->out_unusable_bytes = r->unusable;
	return 0;

out_release:
	release_mem_region(r->start, slices_len);
out_ida:
	ida_free(&memview_region_ida, r->id);
out_unlock:
	mutex_unlock(&memview_region_mutex);
	memview_region_free(r);
	return ret;
}

int memview_region_add(struct memview_region_add *cmd)
{
	struct memview_bad_range *bad;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = memview_region_validate(cmd);
	if (ret)
		return ret;
	/* Copied before memview_region_mutex is taken: it may fault. */
	bad = memview_region_bad_ranges(cmd);
	if (IS_ERR(bad))
		return PTR_ERR(bad);
	ret = memview_region_create(cmd, bad);
	kvfree(bad);
	return ret;
}

unsigned long memview_region_used(struct memview_region *r)
{
	unsigned long used = 0;
	u32 i;

	for (i = 0; i < r->nr_slices; i++)
		used += memview_slice_used(&r->slices[i]);
	return used;
}

/*
 * Evacuate @r, whose slices take no new pages, if asked, and check that
 * nothing of it is left in use.  No lock but memview_region_mutex is held
 * for it: the placer, every command and memory errors go on meanwhile.
 */
static int memview_region_empty(struct memview_region *r, bool evacuate,
				u64 *evacuated)
{
	int idx, ret = 0;

	lockdep_assert_held(&memview_region_mutex);
	/*
	 * A migration that picked one of @r's slices before it was REMOVING
	 * may still be copying into it: wait it out.  Its page is then mapped
	 * (and found by the evacuation) or freed.
	 */
	synchronize_srcu(&memview_srcu);
	if (memview_region_used(r) && evacuate) {
		idx = srcu_read_lock(&memview_srcu);
		ret = memview_evacuate_region(r, evacuated);
		srcu_read_unlock(&memview_srcu, idx);
	}
	if (!ret && memview_region_used(r))
		ret = -EBUSY;
	/* Its struct pages must outlive every hwpoison entry naming them. */
	if (!ret && memview_region_poison_mapped(r))
		ret = -EHWPOISON;
	return ret;
}

int memview_region_remove(struct memview_region_remove *cmd)
{
	struct memview_region *r;
	u64 evacuated = 0;
	int ret;
	u32 i;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (cmd->flags & ~(MEMVIEW_REGION_REMOVE_EVACUATE |
			   MEMVIEW_REGION_REMOVE_FORGET_BAD) || cmd->__reserved)
		return -EINVAL;

	mutex_lock(&memview_region_mutex);
	r = memview_region_find(cmd->region_id);
	if (!r) {
		mutex_unlock(&memview_region_mutex);
		return -ENOENT;
	}
	/* No new page lands on the region from here on. */
	memview_ras_region_removing(r, true);
	ret = memview_region_empty(r, cmd->flags &
				   MEMVIEW_REGION_REMOVE_EVACUATE, &evacuated);
	cmd->out_pages_evacuated = evacuated;
	if (ret) {
		memview_ras_region_removing(r, false);
		mutex_unlock(&memview_region_mutex);
		return ret;
	}

	list_del_rcu(&r->node);
	/* Nobody finds the region any more once the readers are done. */
	synchronize_srcu(&memview_srcu);
	memview_ras_region_removed(r);
	/* Adding the range again must not hand its bad pages out. */
	memview_bad_pages_save(r, cmd->flags & MEMVIEW_REGION_REMOVE_FORGET_BAD);
	/*
	 * PG_hwpoison of retired pages: memview's, not the kernel's count
	 * (section removal would subtract them from num_poisoned_pages).
	 */
	for (i = 0; i < r->nr_slices; i++) {
		struct memview_slice *s = &r->slices[i];
		unsigned long bit;

		for_each_set_bit(bit, s->poison_map, s->nr_pages)
			ClearPageHWPoison(pfn_to_page(s->start_pfn + bit));
	}

	/*
	 * Every page is free: this waits only for a memory_failure() still
	 * holding the pagemap (memview_ras_memory_failure() ends without us).
	 */
	memunmap_pages(&r->pgmap);
	release_mem_region(r->start, PFN_PHYS(r->end_pfn - r->start_pfn));
	pr_info("%s: region %u removed, %llu pages evacuated\n", r->label,
		r->id, evacuated);
	ida_free(&memview_region_ida, r->id);
	memview_region_free(r);
	mutex_unlock(&memview_region_mutex);
	module_put(THIS_MODULE);
	return 0;
}

static void memview_region_fill_entry(struct memview_region *r,
				      struct memview_region_entry *e)
{
	e->id = r->id;
	e->kind = r->kind;
	e->nid = r->nid;
	e->nr_slices = r->nr_slices;
	e->phys_addr = r->start;
	e->length = r->length;
	e->unusable_bytes = r->unusable;
	e->used_pages = memview_region_used(r);
	memcpy(e->label, r->label, sizeof(e->label));
}

int memview_region_list(struct memview_region_list *cmd)
{
	int idx;
	struct memview_region_entry *buf;
	struct memview_region *r;
	u32 n = 0, count;
	int ret = 0;

	if (cmd->flags || cmd->__reserved)
		return -EINVAL;

	idx = srcu_read_lock(&memview_srcu);
	count = memview_nr_regions();
	if (count > cmd->num_regions) {
		cmd->num_regions = count;
		srcu_read_unlock(&memview_srcu, idx);
		return -EMSGSIZE;
	}
	buf = kvcalloc(max(count, 1U), sizeof(*buf), GFP_KERNEL);
	if (!buf) {
		srcu_read_unlock(&memview_srcu, idx);
		return -ENOMEM;
	}
	/* A region added since the count is left for the next call. */
	for_each_memview_region(r) {
		if (n == count)
			break;
		memview_region_fill_entry(r, &buf[n++]);
	}
	srcu_read_unlock(&memview_srcu, idx);

	cmd->num_regions = n;
	if (n && copy_to_user(u64_to_user_ptr(cmd->regions), buf,
			      n * sizeof(*buf)))
		ret = -EFAULT;
	kvfree(buf);
	return ret;
}

void memview_slice_fill_entry(struct memview_slice *s,
			      struct memview_slice_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->id = s->id;
	e->region_id = s->region->id;
	e->index = s->index;
	e->phys_addr = PFN_PHYS(s->start_pfn);
	e->total_pages = s->nr_pages;
	spin_lock_irq(&s->lock);
	e->state = s->state;
	e->used_pages = s->used;
	e->free_pages = s->nr_pages - s->busy;
	e->poisoned_pages = s->poisoned;
	e->fence_reason = s->fence_reason;
	e->window_corrected = s->window_ce;
	e->evac_total = s->evac_total;
	e->evac_moved = s->evac_moved;
	e->evac_poisoned = s->evac_poisoned;
	e->evac_pending = s->evac_pending;
	e->evac_passes = s->evac_passes;
	e->evac_ns = s->state == MEMVIEW_SLICE_FENCING ?
		     ktime_get_ns() - s->evac_start : s->evac_ns;
	spin_unlock_irq(&s->lock);
	e->migrations_in = atomic64_read(&s->migrations_in);
	e->migrations_out = atomic64_read(&s->migrations_out);
	e->errors = atomic64_read(&s->errors);
	e->corrected_errors = atomic64_read(&s->ce);
	e->uncorrectable_errors = atomic64_read(&s->ue);
}

int memview_slice_list(struct memview_slice_list *cmd)
{
	int idx;
	bool one = cmd->flags & MEMVIEW_SLICE_LIST_REGION;
	u32 esz = cmd->entry_size ? : MEMVIEW_SLICE_ENTRY_SIZE_V1;
	u32 n = 0, count = 0, i;
	u32 part = min_t(u32, esz, sizeof(struct memview_slice_entry));
	struct memview_slice_entry *buf;
	struct memview_region *r;
	char __user *out;
	int ret = 0;

	if (cmd->flags & ~MEMVIEW_SLICE_LIST_REGION || (!one && cmd->region_id))
		return -EINVAL;
	if (esz < MEMVIEW_SLICE_ENTRY_SIZE_V1 || esz > PAGE_SIZE || esz % 8 ||
	    cmd->__reserved)
		return -EINVAL;

	idx = srcu_read_lock(&memview_srcu);
	if (one) {
		r = memview_region_find(cmd->region_id);
		if (!r) {
			srcu_read_unlock(&memview_srcu, idx);
			return -ENOENT;
		}
		count = r->nr_slices;
	} else {
		count = memview_nr_slices();
	}
	if (count > cmd->num_slices) {
		cmd->num_slices = count;
		srcu_read_unlock(&memview_srcu, idx);
		return -EMSGSIZE;
	}
	buf = kvcalloc(max(count, 1U), sizeof(*buf), GFP_KERNEL);
	if (!buf) {
		srcu_read_unlock(&memview_srcu, idx);
		return -ENOMEM;
	}
	for_each_memview_region(r) {
		if (one && r->id != cmd->region_id)
			continue;
		/* The slices of a region added since the count: next call. */
		for (i = 0; i < r->nr_slices && n < count; i++)
			memview_slice_fill_entry(&r->slices[i], &buf[n++]);
	}
	srcu_read_unlock(&memview_srcu, idx);

	/* Each entry as long as userspace knows it; zeroes past ours. */
	cmd->num_slices = n;
	out = u64_to_user_ptr(cmd->slices);
	for (i = 0; i < n && !ret; i++, out += esz) {
		if (copy_to_user(out, &buf[i], part) ||
		    (esz > part && clear_user(out + part, esz - part)))
			ret = -EFAULT;
	}
	kvfree(buf);
	return ret;
}
