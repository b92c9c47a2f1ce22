// SPDX-License-Identifier: GPL-2.0
/*
 * Moving pages between DRAM and the slices with migrate_vma_* on a virtual
 * range of one process, whose mmap lock is held.  The sequence is the one
 * lib/test_hmm.c uses: setup -> allocate and copy -> pages -> finalize.
 *
 * Evacuation, too, goes process by process (memview_evacuate()): the rmap
 * walks that unmap a page and later restore its mappings need the page's
 * anon_vma to stay alive in between, and what keeps it alive is a VMA that
 * links it, which only the mmap lock of a process mapping the page pins.
 * migrate_device_range() on bare pfns takes no such lock (nor a reference
 * on the anon_vma, whose helpers are not exported): a process exiting in
 * the window frees the anon_vma under the rmap walk (a use-after-free that
 * KASAN found).  So it is used only for a poisoned page, never reused once
 * freed, and only under the mmap lock of a process mapping it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/rmap.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "memview-private.h"


bool memview_vma_supported(struct vm_area_struct *vma)
{
	return vma_is_anonymous(vma) && !is_vm_hugetlb_page(vma) &&
	       !(vma->vm_flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP | VM_SHARED));
}

/* What memview_copy_page() found. */
enum memview_copy_result {
	MEMVIEW_COPY_OK,
	MEMVIEW_COPY_SRC_BAD,	/* the source hit poison, or read back different */
	MEMVIEW_COPY_DST_BAD,	/* the destination hit poison when read back */
};

/*
 * Read-backs of slice destinations still to fail as if they hit poison
 * (debugfs fail_dst_verify): poison in a destination page cannot be made
 * under QEMU TCG, and this is how the tests reach its retry path.  Never
 * a DRAM destination: that would poison a good page of the kernel's.
 */
atomic_t memview_fail_dst_verify = ATOMIC_INIT(0);

/*
 * Copy @spage to @dpage surviving a machine check on the source (slice
 * media may hold poison nobody has reported yet).  @bounce, if not NULL,
 * is two pages: the source is read a second time into the first, the
 * destination back into the second, and the two are compared.  Every read
 * of slice memory goes through copy_mc_to_kernel(), the destination's too:
 * poison there is an error returned, not a machine check in the kernel
 * (Documentation/design.rst, "Machine checks").
 */
static enum memview_copy_result memview_copy_page(struct page *dpage,
						  struct page *spage,
						  void *bounce)
{
	void *d = kmap_local_page(dpage), *s = kmap_local_page(spage);
	enum memview_copy_result ret = MEMVIEW_COPY_OK;

	if (copy_mc_to_kernel(d, s, PAGE_SIZE))
		ret = MEMVIEW_COPY_SRC_BAD;
	else if (bounce && copy_mc_to_kernel(bounce, s, PAGE_SIZE))
		ret = MEMVIEW_COPY_SRC_BAD;
	else if (bounce &&
		 (copy_mc_to_kernel(bounce + PAGE_SIZE, d, PAGE_SIZE) ||
		  (is_zone_device_page(dpage) &&
		   atomic_add_unless(&memview_fail_dst_verify, -1, 0))))
		ret = MEMVIEW_COPY_DST_BAD;
	/*
	 * Both reads succeeded but differ: the source is suspect (it is
	 * unmapped and locked, nothing may write it), as it always was.
	 */
	else if (bounce && memcmp(bounce, bounce + PAGE_SIZE, PAGE_SIZE))
		ret = MEMVIEW_COPY_SRC_BAD;
	kunmap_local(s);
	kunmap_local(d);
	return ret;
}

/* Give back a destination page that will not be used. */
static void memview_drop_dst(struct page *dpage)
{
	unlock_page(dpage);
	put_page(dpage);
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

/* A destination page, initialised and locked, or NULL. */
static struct page *memview_dst_page(struct memview_migration *m)
{
	struct page *page;

	if (m->evac)
		return memview_evac_dst(&m->pick, m->to_slices);
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

/*
 * A destination page whose read-back hit poison, given back unused.  A
 * slice page is an uncorrectable error on its slice (poisoned, so
 * page_free retires it; the slice is fenced as for any such error),
 * reported after the page is unlocked (memview_ras_copy_failed() wants no
 * page lock of it) while our reference keeps it from being freed, and
 * handed out again, before it is poisoned.  A DRAM page is handed to the
 * kernel's memory_failure() once freed: x86 queues that only as task work
 * of the task that took the machine check, which a kernel worker never
 * runs.  Caller holds memview_rwsem.
 */
static void memview_drop_bad_dst(struct page *dpage)
{
	unsigned long pfn = page_to_pfn(dpage);
	bool slice = memview_pfn_to_slice(pfn);

	unlock_page(dpage);
	if (slice)
		memview_ras_copy_failed(pfn);
	put_page(dpage);
	if (!slice)
		memory_failure_queue(pfn, 0);
}

/* Destinations tried for one page whose copies keep failing on them. */
#define MEMVIEW_COPY_TRIES	3

/*
 * Copy @spage to a new destination page (initialised and locked).  A
 * destination that fails its read-back is dropped as bad and another one
 * taken, up to MEMVIEW_COPY_TRIES: the source is fine, only its copy is
 * not.  Returns the page, or ERR_PTR(-ENOSPC) (no destination),
 * -EHWPOISON (the source is bad) or -EIO (every destination was bad).
 * Caller holds memview_rwsem and the mmap lock.
 */
static struct page *memview_copy_to_new(struct memview_migration *m,
					struct page *spage)
{
	struct page *dpage;
	int tries;

	lockdep_assert_held(&memview_rwsem);
	for (tries = 0; tries < MEMVIEW_COPY_TRIES; tries++) {
		dpage = memview_dst_page(m);
		if (!dpage)
			return ERR_PTR(-ENOSPC);
		switch (memview_copy_page(dpage, spage,
					  m->evac ? m->bounce : NULL)) {
		case MEMVIEW_COPY_OK:
			return dpage;
		case MEMVIEW_COPY_SRC_BAD:
			memview_drop_dst(dpage);
			return ERR_PTR(-EHWPOISON);
		case MEMVIEW_COPY_DST_BAD:
			memview_drop_bad_dst(dpage);
			break;
		}
	}
	return ERR_PTR(-EIO);
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
	unsigned long first = n, last = 0;
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
		    (m->demote && m->kinds[i] == MEMVIEW_PTE_THP)) {
			any = true;
			first = min(first, i);
			last = i;
		}
	}
	/* Nothing to move: don't let migrate_vma_setup() split a THP for it. */
	if (!any) {
		for (i = 0; i < n; i++)
			if (!m->mask || test_bit(i, m->mask))
				memview_count_skipped(m, m->kinds[i]);
		return 0;
	}

	/*
	 * Only the span of the pages wanted: every page collected is unmapped
	 * until finalize, and a THP outside the span stays whole.  The arrays
	 * keep their indexes from @start.
	 */
	if (!m->demote) {
		args.start = start + (first << PAGE_SHIFT);
		args.end = start + ((last + 1) << PAGE_SHIFT);
		args.src = m->src + first;
		args.dst = m->dst + first;
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
		dpage = memview_copy_to_new(m, spage);
		if (IS_ERR(dpage)) {
			if (PTR_ERR(dpage) == -ENOSPC) {
				cmd->out_no_space++;
			} else {
				cmd->out_busy++;
				if (PTR_ERR(dpage) == -EHWPOISON && !m->demote)
					__set_bit(i, m->mce);
			}
			continue;
		}
		m->dst[i] = migrate_pfn(page_to_pfn(dpage));
	}

	migrate_vma_pages(&args);

	for (i = 0; i < n; i++) {
		struct memview_slice *from, *to;

		if (!m->dst[i])
			continue;
		if (!(m->src[i] & MIGRATE_PFN_MIGRATE)) {
			cmd->out_busy++;	/* lost a race, still mapped */
			continue;
		}
		moved++;
		__set_bit(i, m->moved);
		from = memview_pfn_to_slice(m->src[i] >> MIGRATE_PFN_SHIFT);
		to = memview_pfn_to_slice(m->dst[i] >> MIGRATE_PFN_SHIFT);
		if (from)
			atomic64_inc(&from->migrations_out);
		if (to)
			atomic64_inc(&to->migrations_in);
	}
	/* Unlocks and puts every page; failed destinations return to the pool. */
	migrate_vma_finalize(&args);
	/*
	 * A slice page whose copy hit poison: poisoned now, unmapped by the
	 * slice's worker (this mmap lock is held), fenced.
	 */
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



/* The evacuation's walk and its buffers. */
struct memview_evacuation {
	struct memview_evac *e;
	struct memview_migration m;
	struct memview_migrate cmd;	/* counts of m, unused */
	struct memview_slice *slices[MEMVIEW_BATCH_PAGES];
	unsigned long pfns[MEMVIEW_BATCH_PAGES];
	DECLARE_BITMAP(mask, MEMVIEW_BATCH_PAGES);
	u8 kinds[MEMVIEW_BATCH_PAGES];
};

/* Is @folio's anon_vma one that @vma links?  Caller: mmap lock, page lock. */
static bool memview_vma_links_anon_vma(struct vm_area_struct *vma,
				       struct folio *folio)
{
	unsigned long mapping = (unsigned long)READ_ONCE(folio->mapping);
	struct anon_vma_chain *avc;

	if ((mapping & PAGE_MAPPING_FLAGS) != PAGE_MAPPING_ANON)
		return false;
	/* With vma->anon_vma set, the chain changes only under mmap_write_lock. */
	if (!READ_ONCE(vma->anon_vma))
		return false;
	list_for_each_entry(avc, &vma->anon_vma_chain, same_vma)
		if ((unsigned long)avc->anon_vma == mapping - PAGE_MAPPING_ANON)
			return true;
	return false;
}

/*
 * Unmap poisoned slice page @pfn, which a lockless look found mapped in
 * @vma, from every process: try_to_migrate() leaves a hwpoison entry for a
 * PG_hwpoison page in each mapping; with no destination the page is then
 * freed, and page_free retires it.
 *
 * migrate_device_range()'s rmap walks need the page's anon_vma alive, which
 * nothing in it ensures: here the caller holds @vma's mmap lock, and the
 * page is checked, under its lock, to be poisoned and mapped through an
 * anon_vma that @vma links (which cannot go away under that lock).  Our
 * reference, kept until the end, stops the page from being reused by a COW
 * fault (which would move it to another anon_vma) or freed and handed out
 * again.  Returns true if the page is no longer mapped.
 */
static bool memview_unmap_poisoned_pfn(struct vm_area_struct *vma,
				       unsigned long pfn)
{
	struct page *page = pfn_to_page(pfn);
	unsigned long src = 0, dst = 0;
	bool ok;

	if (!get_page_unless_zero(page))
		return false;		/* freed meanwhile: retired */
	if (!trylock_page(page)) {
		put_page(page);
		return false;		/* the next pass retries */
	}
	ok = PageHWPoison(page) && page_mapped(page) &&
	     memview_vma_links_anon_vma(vma, page_folio(page));
	unlock_page(page);
	if (ok) {
		migrate_device_range(&src, pfn, 1);
		migrate_device_pages(&src, &dst, 1);
		migrate_device_finalize(&src, &dst, 1);
		ok = !page_mapped(page);
	}
	put_page(page);
	return ok;
}

/* Evacuate what [start, end) of @vma (one PMD) maps of the slice. */
static void memview_evac_pmd(struct memview_evacuation *x,
			     struct vm_area_struct *vma, unsigned long start,
			     unsigned long end)
{
	struct memview_evac *e = x->e;
	unsigned long n = (end - start) >> PAGE_SHIFT, i, moved, poisoned = 0;
	bool any = false;

	__memview_walk_pmd(vma, start, end, x->kinds, x->slices, x->pfns);
	bitmap_zero(x->mask, MEMVIEW_BATCH_PAGES);
	for (i = 0; i < n; i++) {
		if (x->kinds[i] != MEMVIEW_PTE_SLICE ||
		    x->pfns[i] < e->lo || x->pfns[i] >= e->hi)
			continue;
		if (PageHWPoison(pfn_to_page(x->pfns[i]))) {
			poisoned += memview_unmap_poisoned_pfn(vma, x->pfns[i]);
		} else if (!e->poison_only) {
			__set_bit(i, x->mask);
			any = true;
		}
	}
	moved = x->cmd.out_moved;
	if (any)
		memview_migrate_pmd(&x->m, vma->vm_mm, vma, start, end, NULL);
	moved = x->cmd.out_moved - moved;
	e->moved += moved;
	e->poisoned += poisoned;
	if (e->fencing && (moved || poisoned)) {
		/* Progress shows batch by batch in SLICE_LIST. */
		spin_lock_irq(&e->s->lock);
		e->s->evac_moved += moved;
		e->s->evac_poisoned += poisoned;
		spin_unlock_irq(&e->s->lock);
	}
}

/* memview_for_each_mm() callback: evacuate what @mm maps of the slice. */
static int memview_evac_mm(struct mm_struct *mm, void *arg)
{
	struct memview_evacuation *x = arg;
	struct memview_evac *e = x->e;
	bool killable = !(current->flags & PF_KTHREAD);
	unsigned long addr, next;
	struct vm_area_struct *vma;
	int ret = 0;
	VMA_ITERATOR(vmi, mm, 0);

	if (e->take_rwsem)
		down_read(&memview_rwsem);
	/* The worker stops when the slice is unfenced or its region removed. */
	if (e->take_rwsem &&
	    (e->fencing ? READ_ONCE(e->s->state) != MEMVIEW_SLICE_FENCING :
			  READ_ONCE(e->s->state) == MEMVIEW_SLICE_REMOVING)) {
		ret = 1;
		goto out;
	}
	if (!killable) {
		mmap_read_lock(mm);
	} else if (mmap_read_lock_killable(mm)) {
		ret = -EINTR;
		goto out;
	}
	for_each_vma(vmi, vma) {
		if (!memview_vma_supported(vma))
			continue;
		for (addr = vma->vm_start; addr < vma->vm_end; addr = next) {
			next = min(vma->vm_end, (addr + PMD_SIZE) & PMD_MASK);
			memview_evac_pmd(x, vma, addr, next);
			if (killable && fatal_signal_pending(current)) {
				ret = -EINTR;
				goto out_mmap;
			}
			cond_resched();
		}
	}
out_mmap:
	mmap_read_unlock(mm);
out:
	if (e->take_rwsem)
		up_read(&memview_rwsem);
	return ret;
}

/**
 * memview_evacuate - move (or, poisoned, unmap) the used pages of a slice
 * @e: what to do; its @moved and @poisoned are added to
 *
 * Walks every process that maps memory, under its mmap lock, and migrates
 * the pages of e->s in [e->lo, e->hi) it maps with migrate_vma_*: each
 * migration unmaps the page from every process through the rmap, and
 * restores the mappings to the copy.  Copies survive poison in the source
 * (copy_mc_to_kernel()) and are verified by reading the source again and
 * the destination back, both with copy_mc_to_kernel(); a page whose source
 * fails either way stays and is reported as an uncorrectable error
 * (memview_ras_copy_failed()); a destination that fails its read-back is
 * reported (a slice page) and replaced by another.  Pages pinned or locked stay, for the
 * next pass.  Caller holds memview_rwsem unless e->take_rwsem.  Returns 0,
 * 1 if the slice stopped FENCING (e->fencing), -EINTR, -ENOMEM or -EAGAIN
 * (see memview_for_each_mm()).
 */
int memview_evacuate(struct memview_evac *e)
{
	struct memview_evacuation *x;
	int ret;

	x = kvzalloc(sizeof(*x), GFP_KERNEL);
	if (!x)
		return -ENOMEM;
	x->m.bounce = kmalloc(2 * PAGE_SIZE, GFP_KERNEL);
	if (!x->m.bounce) {
		kvfree(x);
		return -ENOMEM;
	}
	x->e = e;
	x->m.cmd = &x->cmd;
	x->m.evac = true;
	x->m.to_slices = e->to_slices;
	x->m.nid = NUMA_NO_NODE;
	x->m.mask = x->mask;
	ret = memview_for_each_mm(memview_evac_mm, x);
	kfree(x->m.bounce);
	kvfree(x);
	return ret;
}

/**
 * memview_evacuate_region - move every used page of @r to DRAM
 * @r: a region whose slices take no new pages (REMOVING)
 * @moved: out: pages moved
 *
 * One walk of the processes per pass covers every slice.  Pages that are
 * pinned or locked are retried a few times; whatever is still used
 * afterwards stays (the caller checks).  Caller holds memview_rwsem.
 * Returns 0 or -EINTR/-ENOMEM.
 */
int memview_evacuate_region(struct memview_region *r, u64 *moved)
{
	struct memview_evac e = {
		.lo = r->start_pfn,
		.hi = r->end_pfn,
	};
	int pass, ret;

	for (pass = 0; pass < 3 && memview_region_used(r); pass++) {
		if (pass)	/* a page lock or a pin: give it a moment */
			msleep(20);
		ret = memview_evacuate(&e);
		*moved = e.moved;
		if (ret == -EINTR || ret == -ENOMEM)
			return ret;
		if (fatal_signal_pending(current))
			return -EINTR;
	}
	*moved = e.moved;
	return 0;
}
