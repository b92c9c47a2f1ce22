// SPDX-License-Identifier: GPL-2.0
/*
 * Moving pages between DRAM and the slices with migrate_vma_* (a virtual
 * range of one process) and migrate_device_* (every user of a slice page,
 * for evacuation).  The sequence is the one lib/test_hmm.c uses:
 * setup -> allocate and copy -> pages -> finalize.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "memview-private.h"


bool memview_vma_supported(struct vm_area_struct *vma)
{
	return vma_is_anonymous(vma) && !is_vm_hugetlb_page(vma) &&
	       !(vma->vm_flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP | VM_SHARED));
}

/*
 * Copy @spage to @dpage surviving a machine check on the source (slice
 * media may hold poison nobody has reported yet): false if the copy hit
 * poison.  @bounce, if not NULL, is a page-sized buffer: the source is read
 * a second time into it and compared with the copy.
 */
static bool memview_copy_page(struct page *dpage, struct page *spage,
			      void *bounce)
{
	void *d = kmap_local_page(dpage), *s = kmap_local_page(spage);
	bool ok = !copy_mc_to_kernel(d, s, PAGE_SIZE);

	if (ok && bounce)
		ok = !copy_mc_to_kernel(bounce, s, PAGE_SIZE) &&
		     !memcmp(d, bounce, PAGE_SIZE);
	kunmap_local(s);
	kunmap_local(d);
	return ok;
}

/* Give back a destination page that will not be used. */
static void memview_drop_dst(struct page *dpage)
{
	unlock_page(dpage);
	put_page(dpage);
}

/* A destination page, initialised and locked, or NULL. */
static struct page *memview_dst_page(struct memview_migration *m)
{
	struct page *page;

	if (m->demote)
		return memview_alloc_page_locked(&m->pick);
	if (m->nid == NUMA_NO_NODE)
		page = alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_NOWARN);
	else
		page = alloc_pages_node(m->nid, GFP_HIGHUSER_MOVABLE |
					__GFP_THISNODE | __GFP_NOWARN, 0);
	if (page)
		lock_page(page);
	return page;
}

/* Why a page migrate_vma_setup() did not collect stays where it is. */
static void memview_count_skipped(struct memview_migration *m, u8 kind)
{
	struct memview_migrate *cmd = m->cmd;

	switch (kind) {
	case MEMVIEW_PTE_NONE:
	case MEMVIEW_PTE_SWAP:
	case MEMVIEW_PTE_POISON:
		cmd->out_not_present++;
		break;
	case MEMVIEW_PTE_SLICE:
		if (m->demote)
			cmd->out_already++;
		else
			cmd->out_busy++;
		break;
	case MEMVIEW_PTE_DRAM:
		if (m->demote)
			cmd->out_busy++;
		else
			cmd->out_already++;
		break;
	case MEMVIEW_PTE_THP:
		if (m->demote)
			cmd->out_thp_split_failed++;
		else
			cmd->out_already++;
		break;
	default:
		cmd->out_unsupported++;
	}
}

/*
 * Migrate [start, end): inside one VMA and one PMD (only the pages in
 * m->mask, if set).  Caller holds the mmap read lock and memview_rwsem.
 */
int memview_migrate_pmd(struct memview_migration *m,
			       struct mm_struct *mm, struct vm_area_struct *vma,
			       unsigned long start, unsigned long end,
			       struct memview_proc *proc)
{
	unsigned long n = (end - start) >> PAGE_SHIFT, i;
	struct memview_migrate *cmd = m->cmd;
	u8 want = m->demote ? MEMVIEW_PTE_DRAM : MEMVIEW_PTE_SLICE;
	struct migrate_vma args = {
		.vma		= vma,
		.start		= start,
		.end		= end,
		.src		= m->src,
		.dst		= m->dst,
		.pgmap_owner	= &memview_owner,
		.flags		= m->demote ? MIGRATE_VMA_SELECT_SYSTEM :
					      MIGRATE_VMA_SELECT_DEVICE_COHERENT,
	};
	u64 moved = 0;
	bool any = false;
	int ret;

	bitmap_zero(m->moved, MEMVIEW_BATCH_PAGES);
	bitmap_zero(m->mce, MEMVIEW_BATCH_PAGES);
	memview_walk_pmd(vma, start, end, m->kinds, NULL);
	for (i = 0; i < n; i++) {
		if (m->mask && !test_bit(i, m->mask))
			continue;
		if (m->kinds[i] == want ||
		    (m->demote && m->kinds[i] == MEMVIEW_PTE_THP))
			any = true;
	}
	/* Nothing to move: don't let migrate_vma_setup() split a THP for it. */
	if (!any) {
		for (i = 0; i < n; i++)
			if (!m->mask || test_bit(i, m->mask))
				memview_count_skipped(m, m->kinds[i]);
		return 0;
	}

	/* Each batch goes to the least used healthy slice of the moment. */
	m->pick.slice = NULL;
	memset(m->src, 0, n * sizeof(*m->src));
	memset(m->dst, 0, n * sizeof(*m->dst));
	ret = migrate_vma_setup(&args);
	if (ret)
		return ret;
	if (!args.cpages) {
		for (i = 0; i < n; i++)
			if (!m->mask || test_bit(i, m->mask))
				memview_count_skipped(m, m->kinds[i]);
		return 0;
	}

	for (i = 0; i < n; i++) {
		struct page *spage, *dpage;

		/* Left without a destination, migrate_vma_pages() restores it. */
		if (m->mask && !test_bit(i, m->mask))
			continue;
		if (!(m->src[i] & MIGRATE_PFN_MIGRATE)) {
			if (m->src[i])
				cmd->out_busy++;	/* could not isolate */
			else
				memview_count_skipped(m, m->kinds[i]);
			continue;
		}
		spage = migrate_pfn_to_page(m->src[i]);
		if (!spage) {
			cmd->out_not_present++;	/* hole or zero page */
			continue;
		}
		/* Poisoned: never read; evacuation unmaps it with hwpoison. */
		if (PageHWPoison(spage)) {
			cmd->out_busy++;
			continue;
		}
		dpage = memview_dst_page(m);
		if (!dpage) {
			cmd->out_no_space++;
			continue;
		}
		if (!memview_copy_page(dpage, spage, NULL)) {
			memview_drop_dst(dpage);
			cmd->out_busy++;
			if (!m->demote)
				__set_bit(i, m->mce);
			continue;
		}
		m->dst[i] = migrate_pfn(page_to_pfn(dpage));
	}

	migrate_vma_pages(&args);

	for (i = 0; i < n; i++) {
		struct memview_slice *s;
		struct page *page;

		if (!m->dst[i])
			continue;
		if (!(m->src[i] & MIGRATE_PFN_MIGRATE)) {
			cmd->out_busy++;	/* lost a race, still mapped */
			continue;
		}
		moved++;
		__set_bit(i, m->moved);
		page = m->demote ? migrate_pfn_to_page(m->dst[i]) :
				   migrate_pfn_to_page(m->src[i]);
		s = memview_pfn_to_slice(page_to_pfn(page));
		if (s)
			atomic64_inc(m->demote ? &s->migrations_in :
						 &s->migrations_out);
	}
	/* Unlocks and puts every page; failed destinations return to the pool. */
	migrate_vma_finalize(&args);
	/* A slice page whose copy hit poison: poisoned, unmapped, fenced. */
	for_each_set_bit(i, m->mce, n)
		memview_ras_copy_failed(m->src[i] >> MIGRATE_PFN_SHIFT);

	cmd->out_moved += moved;
	memview_proc_account(proc, m->demote ? moved : 0, m->demote ? 0 : moved);
	return 0;
}

static int memview_migrate(struct memview_migrate *cmd, bool demote)
{
	unsigned long start, end, addr, next, vend;
	struct memview_proc *proc = NULL;
	struct memview_migration *m;
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	int ret = 0;

	if (cmd->flags & ~(MEMVIEW_MIGRATE_NODE | MEMVIEW_PIDFD))
		return -EINVAL;
	if (demote && (cmd->flags & MEMVIEW_MIGRATE_NODE || cmd->node))
		return -EINVAL;
	if (!(cmd->flags & MEMVIEW_MIGRATE_NODE) && cmd->node)
		return -EINVAL;
	if (cmd->flags & MEMVIEW_MIGRATE_NODE &&
	    (cmd->node < 0 || cmd->node >= MAX_NUMNODES ||
	     !node_state(cmd->node, N_MEMORY)))
		return -EINVAL;
	if (!cmd->length || !PAGE_ALIGNED(cmd->addr) ||
	    !PAGE_ALIGNED(cmd->length))
		return -EINVAL;
	if (cmd->addr + cmd->length < cmd->addr)
		return -EOVERFLOW;
	if (cmd->addr + cmd->length > TASK_SIZE_MAX)
		return -EINVAL;
	start = cmd->addr;
	end = cmd->addr + cmd->length;

	cmd->out_moved = 0;
	cmd->out_not_present = 0;
	cmd->out_already = 0;
	cmd->out_busy = 0;
	cmd->out_no_space = 0;
	cmd->out_unsupported = 0;
	cmd->out_thp_split_failed = 0;

	mm = memview_proc_get_mm(cmd->pid, cmd->flags, true, &proc);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m) {
		ret = -ENOMEM;
		goto out_mm;
	}
	m->cmd = cmd;
	m->demote = demote;
	m->nid = cmd->flags & MEMVIEW_MIGRATE_NODE ? cmd->node : NUMA_NO_NODE;

	down_read(&memview_rwsem);
	if (mmap_read_lock_killable(mm)) {
		ret = -EINTR;
		goto out_unlock;
	}
	for (addr = start; addr < end; addr = vend) {
		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start >= end) {
			cmd->out_not_present += (end - addr) >> PAGE_SHIFT;
			break;
		}
		if (vma->vm_start > addr) {
			cmd->out_not_present += (vma->vm_start - addr) >> PAGE_SHIFT;
			addr = vma->vm_start;
		}
		vend = min(end, vma->vm_end);
		if (!memview_vma_supported(vma)) {
			cmd->out_unsupported += (vend - addr) >> PAGE_SHIFT;
			continue;
		}
		for (; addr < vend; addr = next) {
			next = min(vend, (addr + PMD_SIZE) & PMD_MASK);
			ret = memview_migrate_pmd(m, mm, vma, addr, next, proc);
			if (ret)
				goto out_mmap;
			if (fatal_signal_pending(current)) {
				ret = -EINTR;
				goto out_mmap;
			}
			cond_resched();
		}
	}
out_mmap:
	mmap_read_unlock(mm);
out_unlock:
	up_read(&memview_rwsem);
	kfree(m);
out_mm:
	mmput(mm);
	memview_proc_put(proc);
	return ret;
}

int memview_demote(struct memview_migrate *cmd)
{
	return memview_migrate(cmd, true);
}

int memview_promote(struct memview_migrate *cmd)
{
	return memview_migrate(cmd, false);
}

/* A destination for an evacuated page: a healthy slice's, else DRAM. */
static struct page *memview_evac_dst(struct memview_slice_pick *pick,
				     bool to_slices)
{
	struct page *page = to_slices ? memview_alloc_page_locked(pick) : NULL;

	if (page)
		return page;
	page = alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_NOWARN);
	if (page)
		lock_page(page);
	return page;
}


/**
 * memview_evacuate_batch - move the used pages of [pfn, pfn + n) of @s out
 * @s: the slice; it takes no new pages
 * @pfn: first page of the batch
 * @n: pages in the batch, at most MEMVIEW_BATCH_PAGES
 * @src: migrate_device array of @n entries
 * @dst: migrate_device array of @n entries
 * @to_slices: destinations come from healthy slices first, then DRAM;
 *	otherwise DRAM only
 * @ev: counts to add to
 *
 * migrate_device_range() unmaps the pages from every process through the
 * rmap (forked children and detached processes included).  A page with
 * PG_hwpoison gets a hwpoison entry in each mapping instead and no
 * destination: it is freed, and retired, without being read.  Copies
 * survive poison in the source (copy_mc_to_kernel()) and are compared with
 * a second read of it; a page whose copy fails either way stays and is
 * reported as an uncorrectable error (memview_ras_copy_failed()).  Caller
 * holds memview_rwsem.
 */
void memview_evacuate_batch(struct memview_slice *s, unsigned long pfn,
			    unsigned long n, unsigned long *src,
			    unsigned long *dst, bool to_slices,
			    struct memview_evac *ev)
{
	struct memview_slice_pick pick = { };
	DECLARE_BITMAP(mce, MEMVIEW_BATCH_PAGES);
	unsigned long i, moved = 0;
	void *bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);

	if (!bounce)
		return;		/* the caller retries */
	bitmap_zero(mce, MEMVIEW_BATCH_PAGES);
	memset(dst, 0, n * sizeof(*dst));
	migrate_device_range(src, pfn, n);
	for (i = 0; i < n; i++) {
		struct page *spage = migrate_pfn_to_page(src[i]), *dpage;

		if (!spage || !(src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		if (PageHWPoison(spage)) {
			ev->poisoned++;
			continue;
		}
		dpage = memview_evac_dst(&pick, to_slices);
		if (!dpage)
			continue;
		if (!memview_copy_page(dpage, spage, bounce)) {
			memview_drop_dst(dpage);
			__set_bit(i, mce);	/* poison, or a copy that differs */
			continue;
		}
		dst[i] = migrate_pfn(page_to_pfn(dpage));
	}
	migrate_device_pages(src, dst, n);
	for (i = 0; i < n; i++) {
		struct memview_slice *to;

		if (!dst[i] || !(src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		moved++;
		to = memview_pfn_to_slice(dst[i] >> MIGRATE_PFN_SHIFT);
		if (to)
			atomic64_inc(&to->migrations_in);
	}
	/* Unlocks and puts every page; unused destinations go back. */
	migrate_device_finalize(src, dst, n);
	atomic64_add(moved, &s->migrations_out);
	ev->moved += moved;
	kfree(bounce);
	for_each_set_bit(i, mce, n)
		memview_ras_copy_failed(pfn + i);
}

/**
 * memview_evacuate_slice - move every used page of @s to DRAM
 * @s: a slice that takes no new pages (FENCING or REMOVING)
 *
 * Pages that are pinned or locked are retried a few times; whatever is
 * still used afterwards stays (the caller checks memview_slice_used()).
 * Caller holds memview_rwsem.  Returns pages moved or -EINTR/-ENOMEM.
 */
long memview_evacuate_slice(struct memview_slice *s)
{
	unsigned long *src, *dst, pfn, n;
	struct memview_evac ev = { };
	int pass;

	src = kcalloc(MEMVIEW_BATCH_PAGES, sizeof(*src), GFP_KERNEL);
	dst = kcalloc(MEMVIEW_BATCH_PAGES, sizeof(*dst), GFP_KERNEL);
	if (!src || !dst) {
		kfree(src);
		kfree(dst);
		return -ENOMEM;
	}
	for (pass = 0; pass < 3 && memview_slice_used(s); pass++) {
		for (pfn = s->start_pfn; pfn < s->start_pfn + s->nr_pages;
		     pfn += n) {
			n = min_t(unsigned long, MEMVIEW_BATCH_PAGES,
				  s->start_pfn + s->nr_pages - pfn);
			if (bitmap_empty(s->busy_map + BIT_WORD(pfn - s->start_pfn),
					 n))
				continue;
			memview_evacuate_batch(s, pfn, n, src, dst, false, &ev);
			if (fatal_signal_pending(current)) {
				kfree(src);
				kfree(dst);
				return -EINTR;
			}
			cond_resched();
		}
		/* Give whoever holds a page lock or a pin a moment. */
		if (memview_slice_used(s))
			msleep(20);
	}
	kfree(src);
	kfree(dst);
	return ev.moved;
}
