// SPDX-License-Identifier: GPL-2.0
/*
 * Moving pages between DRAM and the slices with migrate_vma_* on a virtual
 * range of one process, one PMD at a time under its mmap lock, which is
 * dropped between PMDs.  The sequence is the one lib/test_hmm.c uses:
 * setup -> allocate and copy -> pages -> finalize.
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

#include <linux/capability.h>
#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/mempolicy.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/rmap.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
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

/*
 * The policy the pages of @vma are allocated by, as a fault of its owner
 * would find it: the VMA's (mbind()), else the task's (set_mempolicy(),
 * numactl), within the task's cpuset.  The task is the mm's owner (the one
 * its memcg charges go to): memview allocates from its own thread, whose
 * policy and cpuset are not the workload's.  Read under the task lock, the
 * way the kernel changes them; no reference is kept (mpol_put() is not
 * exported).  Caller holds the mmap lock, which keeps the VMA's policy.
 */
static void memview_dst_policy(struct memview_dst_policy *d,
			       struct vm_area_struct *vma)
{
	struct task_struct *owner;
	struct mempolicy *pol;

	mmap_assert_locked(vma->vm_mm);
	d->mode = MPOL_DEFAULT;
	d->allowed = node_states[N_MEMORY];
	d->local = numa_node_id();
	rcu_read_lock();
	owner = memview_mm_owner(vma->vm_mm);
	if (owner) {
		task_lock(owner);
		d->local = cpu_to_node(task_cpu(owner));
		nodes_and(d->allowed, d->allowed, owner->mems_allowed);
		pol = vma->vm_policy ? vma->vm_policy : owner->mempolicy;
		if (pol) {
			d->mode = pol->mode;
			d->nodes = pol->nodes;
		}
		task_unlock(owner);
	}
	rcu_read_unlock();
	if (nodes_empty(d->allowed))
		d->allowed = node_states[N_MEMORY];
}

/* The node of @nodes the interleaving of @vma gives the page at @addr. */
static int memview_interleave_nid(const nodemask_t *nodes,
				  struct vm_area_struct *vma,
				  unsigned long addr)
{
	unsigned int n = nodes_weight(*nodes), target;
	int nid;

	if (!n)
		return NUMA_NO_NODE;
	target = (vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT)) % n;
	nid = first_node(*nodes);
	while (target--)
		nid = next_node(nid, *nodes);
	return nid;
}

/* A DRAM page for the promotion of the page at @addr of @vma, or NULL. */
static struct page *memview_promote_page(struct memview_migration *m,
					 struct vm_area_struct *vma,
					 unsigned long addr)
{
	const gfp_t gfp = GFP_HIGHUSER_MOVABLE | __GFP_NOWARN;
	struct memview_dst_policy *d = &m->policy;
	nodemask_t mask = d->allowed;
	struct folio *folio;
	int nid = d->local;

	if (m->nid != NUMA_NO_NODE)	/* MIGRATE_NODE: that node only */
		return alloc_pages_node(m->nid, gfp | __GFP_THISNODE, 0);
	if (d->mode == MPOL_BIND) {
		nodes_and(mask, mask, d->nodes);
		if (nodes_empty(mask))
			mask = d->allowed;
		if (!node_isset(nid, mask))
			nid = first_node(mask);
	} else if (d->mode == MPOL_PREFERRED) {
		nid = first_node(d->nodes);
	} else if (d->mode == MPOL_PREFERRED_MANY) {
		if (!node_isset(nid, d->nodes))
			nid = first_node(d->nodes);
	} else if (memview_mpol_interleaves(d->mode)) {
		nid = memview_interleave_nid(&d->nodes, vma, addr);
	}
	if (nid == NUMA_NO_NODE || nid >= MAX_NUMNODES || !node_online(nid))
		nid = first_node(mask);
	folio = __folio_alloc(gfp, 0, nid, &mask);
	return folio ? &folio->page : NULL;
}

/* A destination page, initialised and locked, or NULL. */
static struct page *memview_dst_page(struct memview_migration *m,
				     struct vm_area_struct *vma,
				     unsigned long addr)
{
	struct page *page;

	if (m->evac)
		return memview_evac_dst(&m->pick, m->to_slices);
	if (m->demote)
		return memview_alloc_page_locked(&m->pick);
	page = memview_promote_page(m, vma, addr);
	if (page)
		lock_page(page);
	return page;
}

/*
 * May pages of @mm be moved to @nid?  The check move_pages(2) makes: the
 * node must be one the owner's cpuset allows.
 */
static bool memview_node_allowed(struct mm_struct *mm, int nid)
{
	struct task_struct *owner;
	bool ok = true;

	rcu_read_lock();
	owner = memview_mm_owner(mm);
	if (owner) {
		task_lock(owner);
		ok = node_isset(nid, owner->mems_allowed);
		task_unlock(owner);
	}
	rcu_read_unlock();
	return ok;
}


/*
 * A destination page whose read-back hit poison, given back unused.  A
 * slice page is an uncorrectable error on its slice (poisoned, so
 * page_free retires it; the slice is fenced as for any such error),
 * reported after the page is unlocked (memview_ras_copy_failed() wants no
 * page lock of it) while our reference keeps it from being freed, and
 * handed out again, before it is poisoned.  A DRAM page goes to the
 * kernel's memory_failure(), queued (x86 queues it only as task work of
 * the task that took the machine check, which a kernel worker never runs;
 * called here, under an mmap lock, it could wait for an mf_mutex holder
 * that waits for that lock), and our reference is never dropped: freed
 * before the queued handling marks it, the page could be allocated again
 * and its poison consumed.  A poisoned page is never reused, as the kernel
 * keeps its own.  Caller holds memview_srcu.
 */
static void memview_drop_bad_dst(struct page *dpage)
{
	unsigned long pfn = page_to_pfn(dpage);
	bool slice = memview_pfn_to_slice(pfn);

	unlock_page(dpage);
	if (slice) {
		memview_ras_copy_failed(pfn);
		put_page(dpage);
	} else {
		memory_failure_queue(pfn, 0);
	}
}

/* Destinations tried for one page whose copies keep failing on them. */
#define MEMVIEW_COPY_TRIES	3

/*
 * Copy @spage to a new destination page (initialised and locked).  A
 * destination that fails its read-back is dropped as bad and another one
 * taken, up to MEMVIEW_COPY_TRIES: the source is fine, only its copy is
 * not.  Returns the page, or ERR_PTR(-ENOSPC) (no destination),
 * -EHWPOISON (the source is bad) or -EIO (every destination was bad).
 * @spage is mapped at @addr of @vma.  Caller holds memview_srcu and the
 * mmap lock.
 */
static struct page *memview_copy_to_new(struct memview_migration *m,
					struct vm_area_struct *vma,
					unsigned long addr, struct page *spage)
{
	struct page *dpage;
	int tries;

	memview_assert_regions();
	mmap_assert_locked(vma->vm_mm);
	for (tries = 0; tries < MEMVIEW_COPY_TRIES; tries++) {
		dpage = memview_dst_page(m, vma, addr);
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

/* Why page @i of the batch, which is not moved, stays where it is. */
static void memview_count_skipped(struct memview_migration *m, unsigned long i)
{
	struct memview_migrate *cmd = m->cmd;

	if (test_bit(i, m->shared)) {
		cmd->out_shared++;
		return;
	}
	switch (m->kinds[i]) {
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
	case MEMVIEW_PTE_LARGE:
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
 * Mark in m->shared the pages of the batch that would move (@want, or a THP
 * to demote) but that other processes map too, copy-on-write after fork():
 * move_pages(2) moves those only with MPOL_MF_MOVE_ALL, which needs
 * CAP_SYS_NICE, because moving them moves another process's memory.  The
 * same here unless m->move_all; an evacuation must empty the slice, so it
 * moves them all.  This must run before migrate_vma_setup(), which unmaps
 * the pages (their mapcount is 0 then).
 *
 * The mapcount is read as move_pages() reads it, with a page reference but
 * no lock, so it can change under us.  A page becomes shared only by a
 * fork of this mm, which waits for the mmap lock held here, or by a KSM
 * merge; one that stops being shared meanwhile merely stays where it is.
 */
static void memview_find_shared(struct memview_migration *m, unsigned long n,
				u8 want)
{
	struct folio *folio;
	unsigned long i;

	bitmap_zero(m->shared, MEMVIEW_BATCH_PAGES);
	if (m->evac || m->move_all)
		return;
	for (i = 0; i < n; i++) {
		if (m->mask && !test_bit(i, m->mask))
			continue;
		if (!m->pfns[i] || (m->kinds[i] != want &&
				    !(m->demote && m->kinds[i] == MEMVIEW_PTE_THP)))
			continue;
		folio = page_folio(pfn_to_page(m->pfns[i]));
		if (!folio_try_get(folio))
			continue;	/* freed meanwhile: setup will not find it */
		if (memview_page_shared(pfn_to_page(m->pfns[i])))
			__set_bit(i, m->shared);
		folio_put(folio);
	}
}

/*
 * Migrate [start, end): inside one VMA and one PMD (only the pages in
 * m->mask, if set, and not those other processes map, see
 * memview_find_shared()).  Caller holds the mmap read lock (the VMA and
 * the page tables stay) and memview_srcu (the slices stay), for this one
 * batch: it may drop them between batches.
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

	mmap_assert_locked(mm);
	memview_assert_regions();
	bitmap_zero(m->moved, MEMVIEW_BATCH_PAGES);
	bitmap_zero(m->mce, MEMVIEW_BATCH_PAGES);
	__memview_walk_pmd(vma, start, end, m->kinds, NULL, m->pfns);
	memview_find_shared(m, n, want);
	for (i = 0; i < n; i++) {
		if ((m->mask && !test_bit(i, m->mask)) ||
		    test_bit(i, m->shared))
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
				memview_count_skipped(m, i);
		return 0;
	}
	/*
	 * No slice can take a page: don't unmap the batch (and drain every
	 * CPU's LRU lists, as migrate_vma_setup() does) for nothing.
	 */
	if (m->demote && !m->evac && !memview_slices_take_pages()) {
		for (i = 0; i < n; i++) {
			if (m->mask && !test_bit(i, m->mask))
				continue;
			if (!test_bit(i, m->shared) &&
			    (m->kinds[i] == want ||
			     m->kinds[i] == MEMVIEW_PTE_THP))
				cmd->out_no_space++;
			else
				memview_count_skipped(m, i);
		}
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
	if (!m->demote && !m->evac)
		memview_dst_policy(&m->policy, vma);
	memset(m->src, 0, n * sizeof(*m->src));
	memset(m->dst, 0, n * sizeof(*m->dst));
	ret = migrate_vma_setup(&args);
	if (ret)
		return ret;
	if (!args.cpages) {
		for (i = 0; i < n; i++)
			if (!m->mask || test_bit(i, m->mask))
				memview_count_skipped(m, i);
		return 0;
	}

	for (i = 0; i < n; i++) {
		struct page *spage, *dpage;

		/* Left without a destination, migrate_vma_pages() restores it. */
		if (m->mask && !test_bit(i, m->mask))
			continue;
		/*
		 * Collected within the span, so unmapped from every process
		 * until finalize: all of them get the same page back.
		 */
		if (test_bit(i, m->shared)) {
			cmd->out_shared++;
			continue;
		}
		if (!(m->src[i] & MIGRATE_PFN_MIGRATE)) {
			if (m->src[i])
				cmd->out_busy++;	/* could not isolate */
			else
				memview_count_skipped(m, i);
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
		dpage = memview_copy_to_new(m, vma, start + (i << PAGE_SHIFT),
					    spage);
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

/*
 * One step of a DEMOTE or PROMOTE, made under the locks: from *@addr, the
 * gap before the next VMA and an unsupported VMA are counted, or one PMD
 * of a supported one is migrated.  *@addr moves past what was done.  The
 * VMA is looked up afresh at every step: between steps the locks are not
 * held, and the process may have unmapped or changed it (the pages then
 * count as not present or unsupported, as they are now).
 */
static int memview_migrate_step(struct memview_migration *m,
				struct mm_struct *mm, unsigned long *addr,
				unsigned long end, struct memview_proc *proc)
{
	struct memview_migrate *cmd = m->cmd;
	struct vm_area_struct *vma = find_vma(mm, *addr);
	unsigned long vend, next;
	int ret;

	if (!vma || vma->vm_start >= end) {
		cmd->out_not_present += (end - *addr) >> PAGE_SHIFT;
		*addr = end;
		return 0;
	}
	if (vma->vm_start > *addr) {
		cmd->out_not_present += (vma->vm_start - *addr) >> PAGE_SHIFT;
		*addr = vma->vm_start;
	}
	vend = min(end, vma->vm_end);
	if (!memview_vma_supported(vma)) {
		cmd->out_unsupported += (vend - *addr) >> PAGE_SHIFT;
		*addr = vend;
		return 0;
	}
	next = min(vend, (*addr + PMD_SIZE) & PMD_MASK);
	ret = memview_migrate_pmd(m, mm, vma, *addr, next, proc);
	if (!ret)
		*addr = next;
	return ret;
}

/*
 * DEMOTE or PROMOTE [cmd->addr, + cmd->length) of a process.  The range is
 * user-chosen and may be huge, so memview_srcu and the mmap read lock are
 * taken for one step (one PMD, MEMVIEW_BATCH_PAGES pages) at a time and
 * dropped in between: a queued mmap writer (mmap, munmap, mprotect of the
 * target) -- and on 6.1 every fault of the target, queued behind it --
 * waits for one batch at most, not for the whole range.  On a fatal signal
 * the call ends with -EINTR, the out_ counters saying what was done.
 *
 * Between steps only the mm_struct is held (mmgrab()), not its address
 * space: a process that exits meanwhile has its pages freed at once, and
 * the rest of the range counts as not present.  A region removal, which
 * may come between two steps, would otherwise find the exited process's
 * pages in use and fail with -EBUSY.
 */
static int memview_migrate(struct memview_migrate *cmd, bool demote)
{
	struct memview_proc *proc = NULL;
	struct memview_migration *m;
	unsigned long addr, end;
	struct mm_struct *mm;
	int ret = 0, idx;

	if (cmd->flags & ~(MEMVIEW_MIGRATE_NODE | MEMVIEW_MIGRATE_MOVE_ALL |
			   MEMVIEW_PIDFD))
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
	/* Moving another process's pages takes what move_pages(2) takes. */
	if (cmd->flags & MEMVIEW_MIGRATE_MOVE_ALL && !capable(CAP_SYS_NICE))
		return -EPERM;
	end = cmd->addr + cmd->length;

	cmd->out_moved = 0;
	cmd->out_not_present = 0;
	cmd->out_already = 0;
	cmd->out_busy = 0;
	cmd->out_no_space = 0;
	cmd->out_unsupported = 0;
	cmd->out_thp_split_failed = 0;
	cmd->out_shared = 0;

	mm = memview_proc_get_mm(cmd->pid, cmd->flags, true, &proc);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	if (cmd->flags & MEMVIEW_MIGRATE_NODE &&
	    !memview_node_allowed(mm, cmd->node)) {
		ret = -EACCES;
		goto out_mm;
	}
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m) {
		ret = -ENOMEM;
		goto out_mm;
	}
	m->cmd = cmd;
	m->demote = demote;
	m->move_all = cmd->flags & MEMVIEW_MIGRATE_MOVE_ALL;
	m->nid = cmd->flags & MEMVIEW_MIGRATE_NODE ? cmd->node : NUMA_NO_NODE;

	mmgrab(mm);
	mmput(mm);
	for (addr = cmd->addr; addr < end && !ret;) {
		if (!mmget_not_zero(mm)) {
			cmd->out_not_present += (end - addr) >> PAGE_SHIFT;
			break;
		}
		idx = srcu_read_lock(&memview_srcu);
		if (mmap_read_lock_killable(mm)) {
			ret = -EINTR;
		} else {
			ret = memview_migrate_step(m, mm, &addr, end, proc);
			mmap_read_unlock(mm);
		}
		/* Before the read side ends: see memview_scan_and_place(). */
		mmput(mm);
		srcu_read_unlock(&memview_srcu, idx);
		if (!ret && addr < end && fatal_signal_pending(current))
			ret = -EINTR;
		cond_resched();
	}
	mmdrop(mm);
	kfree(m);
	memview_proc_put(proc);
	return ret;
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
	int srcu_idx;	/* memview_srcu, between memview_evac_lock() and _unlock() */
};

/* Is @folio's anon_vma one that @vma links?  Caller: mmap lock, page lock. */
static bool memview_vma_links_anon_vma(struct vm_area_struct *vma,
				       struct folio *folio)
{
	unsigned long mapping = (unsigned long)READ_ONCE(folio->mapping);
	struct anon_vma_chain *avc;

	if ((mapping & MEMVIEW_MAPPING_FLAGS) != MEMVIEW_MAPPING_ANON)
		return false;
	/* With vma->anon_vma set, the chain changes only under mmap_write_lock. */
	if (!READ_ONCE(vma->anon_vma))
		return false;
	list_for_each_entry(avc, &vma->anon_vma_chain, same_vma)
		if ((unsigned long)avc->anon_vma == mapping - MEMVIEW_MAPPING_ANON)
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
	ok = PageHWPoison(page) && folio_mapped(page_folio(page)) &&
	     memview_vma_links_anon_vma(vma, page_folio(page));
	unlock_page(page);
	if (ok) {
		migrate_device_range(&src, pfn, 1);
		migrate_device_pages(&src, &dst, 1);
		migrate_device_finalize(&src, &dst, 1);
		ok = !folio_mapped(page_folio(page));
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

/*
 * Take what one step of evacuating @mm needs: memview_srcu (if the caller
 * is not in it) and the mmap read lock.  Returns 0; 1 if the slice's
 * worker is to stop (unfenced, or its region being removed), -EINTR.
 */
static int memview_evac_lock(struct memview_evacuation *x,
			     struct mm_struct *mm, bool killable)
{
	struct memview_evac *e = x->e;

	if (e->take_srcu) {
		x->srcu_idx = srcu_read_lock(&memview_srcu);
		if (e->fencing ?
		    READ_ONCE(e->s->state) != MEMVIEW_SLICE_FENCING :
		    READ_ONCE(e->s->state) == MEMVIEW_SLICE_REMOVING) {
			srcu_read_unlock(&memview_srcu, x->srcu_idx);
			return 1;
		}
	}
	if (!killable) {
		mmap_read_lock(mm);
	} else if (mmap_read_lock_killable(mm)) {
		if (e->take_srcu)
			srcu_read_unlock(&memview_srcu, x->srcu_idx);
		return -EINTR;
	}
	return 0;
}

static void memview_evac_unlock(struct memview_evacuation *x,
				struct mm_struct *mm)
{
	mmap_read_unlock(mm);
	if (x->e->take_srcu)
		srcu_read_unlock(&memview_srcu, x->srcu_idx);
}

/*
 * Evacuate one PMD of the first supported VMA at or after *@addr, under
 * the locks, and move *@addr past it.  False if no VMA is left.
 */
static bool memview_evac_step(struct memview_evacuation *x,
			      struct mm_struct *mm, unsigned long *addr)
{
	struct vm_area_struct *vma;
	unsigned long start, next;
	VMA_ITERATOR(vmi, mm, *addr);

	for_each_vma(vmi, vma) {
		if (!memview_vma_supported(vma))
			continue;
		start = max(*addr, vma->vm_start);
		next = min(vma->vm_end, (start + PMD_SIZE) & PMD_MASK);
		memview_evac_pmd(x, vma, start, next);
		*addr = next;
		return true;
	}
	return false;
}

/*
 * memview_for_each_mm() callback: evacuate what @mm maps of the slice, one
 * PMD per taking of the locks, which are dropped in between (as a DEMOTE
 * does, memview_migrate()): a process mapping a fenced slice's pages, and
 * one that maps none, waits for one batch at most when it needs its mmap
 * lock for writing.  A region removal stays in memview_srcu throughout
 * (its caller's choice); only the mmap lock is dropped then.
 * The walk resumes at the address where it stopped, in whatever VMA is
 * there now.
 */
static int memview_evac_mm(struct mm_struct *mm, void *arg)
{
	struct memview_evacuation *x = arg;
	bool killable = !(current->flags & PF_KTHREAD);
	unsigned long addr = 0;
	bool more = true;
	int ret;

	while (more) {
		/*
		 * The process has exited, this walk's reference the only one
		 * left: its pages are freed when the walk lets go, and a
		 * region removal must not find them in use.
		 */
		if (atomic_read(&mm->mm_users) <= 1)
			return 0;
		ret = memview_evac_lock(x, mm, killable);
		if (ret)
			return ret;
		more = memview_evac_step(x, mm, &addr);
		memview_evac_unlock(x, mm);
		if (killable && fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
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
 * next pass.  Caller holds memview_srcu unless e->take_srcu.  Returns 0,
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
 * afterwards stays (the caller checks).  Caller holds memview_srcu.
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
