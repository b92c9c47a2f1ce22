// SPDX-License-Identifier: GPL-2.0
/*
 * Lockless looks at a process's page tables.
 *
 * Modules cannot call walk_page_range() or, since 6.5, pte_offset_map(), so
 * memview reads page tables the way the kernel's own lockless walkers do:
 * with the mmap lock held for reading, the PMD read once and re-validated,
 * huge/none/bad PMDs handled before a PTE table is touched, and the PTE
 * table read under RCU (see compat.h).  What is read is a snapshot: callers
 * use it to classify and count, never to take a page reference.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "memview-private.h"

/* Caller holds memview_srcu, so slices do not go away under us. */
static u8 memview_pfn_kind(unsigned long pfn, struct memview_slice **slicep)
{
	struct memview_slice *s;

	if (is_zero_pfn(pfn))
		return MEMVIEW_PTE_NONE;
	if (!pfn_valid(pfn))
		return MEMVIEW_PTE_OTHER;
	s = memview_pfn_to_slice(pfn);
	if (s) {
		if (slicep)
			*slicep = s;
		return MEMVIEW_PTE_SLICE;
	}
	if (is_zone_device_page(pfn_to_page(pfn)))
		return MEMVIEW_PTE_OTHER;
	return MEMVIEW_PTE_DRAM;
}

/*
 * The PMD entry of @addr in @mm, reached without the page-table locks (the
 * caller holds the mmap lock: the upper tables stay), or NULL if there is
 * no PMD table: then *@leaf says whether the PUD maps a huge page (or is
 * bad) rather than nothing, and *@hole_end (if not NULL) gets the end of
 * the range the missing table would map: nothing is mapped up to there.
 */
pmd_t *memview_pmd_offset(struct mm_struct *mm, unsigned long addr,
			  bool *leaf, unsigned long *hole_end)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	unsigned long hole;
	p4d_t *p4d;
	pud_t *pud;

	*leaf = false;
	hole = pgd_addr_end(addr, TASK_SIZE_MAX);
	if (pgd_none(READ_ONCE(*pgd)) || pgd_bad(READ_ONCE(*pgd)))
		goto none;
	p4d = p4d_offset(pgd, addr);
	hole = p4d_addr_end(addr, TASK_SIZE_MAX);
	if (p4d_none(READ_ONCE(*p4d)) || p4d_bad(READ_ONCE(*p4d)))
		goto none;
	pud = pud_offset(p4d, addr);
	hole = pud_addr_end(addr, TASK_SIZE_MAX);
	if (pud_none(READ_ONCE(*pud)))
		goto none;
	if (pud_trans_huge(READ_ONCE(*pud)) || pud_bad(READ_ONCE(*pud))) {
		*leaf = true;
		return NULL;
	}
	return pmd_offset(pud, addr);
none:
	if (hole_end)
		*hole_end = hole;
	return NULL;
}

/*
 * Fill @kinds (and @slices and @pfns, if not NULL) for [start, end), which
 * lies in @vma and one PMD.  @pfns gets the pfn of each present page, the
 * pages of a PMD-mapped THP too (0 for the others).  Caller holds the mmap
 * read lock and memview_srcu.
 */
void __memview_walk_pmd(struct vm_area_struct *vma, unsigned long start,
			unsigned long end, u8 *kinds,
			struct memview_slice **slices, unsigned long *pfns)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long n = (end - start) >> PAGE_SHIFT, i;
	pmd_t *pmdp, pmd;
	pte_t *ptep;
	bool leaf;
	u8 kind;

	memset(kinds, MEMVIEW_PTE_NONE, n);
	if (slices)
		memset(slices, 0, n * sizeof(*slices));
	if (pfns)
		memset(pfns, 0, n * sizeof(*pfns));

	pmdp = memview_pmd_offset(mm, start, &leaf, NULL);
	if (!pmdp) {
		if (leaf)
			memset(kinds, MEMVIEW_PTE_OTHER, n);
		return;
	}
	pmd = memview_pmdp_get_lockless(pmdp);
	if (pmd_none(pmd))
		return;
	if (!pmd_present(pmd)) {
		memset(kinds, MEMVIEW_PTE_SWAP, n);	/* THP migration entry */
		return;
	}
	if (pmd_trans_huge(pmd)) {
		/*
		 * In an anonymous mapping a huge page that is not anonymous is
		 * the huge zero page (is_huge_zero_pmd() needs unexported data).
		 */
		if (vma_is_anonymous(vma) && !PageAnon(pmd_page(pmd)))
			return;
		kind = memview_pfn_kind(pmd_pfn(pmd), NULL);
		memset(kinds, kind == MEMVIEW_PTE_DRAM ? MEMVIEW_PTE_THP : kind, n);
		for (i = 0; pfns && i < n; i++)
			pfns[i] = pmd_pfn(pmd) +
				  ((start & ~PMD_MASK) >> PAGE_SHIFT) + i;
		return;
	}
	if (pmd_bad(pmd))
		return;

	rcu_read_lock();
	ptep = pte_offset_kernel(&pmd, start);
	for (i = 0; i < n; i++) {
		pte_t pte = ptep_get(ptep + i);

		if (pte_none(pte))
			continue;
		if (!pte_present(pte)) {
			struct memview_slice *s = NULL;
			unsigned long pfn;

			kinds[i] = MEMVIEW_PTE_SWAP;
			if (memview_pte_hwpoison_pfn(pte, &pfn))
				s = memview_pfn_to_slice(pfn);
			if (s) {
				kinds[i] = MEMVIEW_PTE_POISON;
				if (slices)
					slices[i] = s;
			}
			continue;
		}
		kinds[i] = memview_pfn_kind(pte_pfn(pte),
					    slices ? &slices[i] : NULL);
		if (!MEMVIEW_MIGRATE_SPLITS_PTE_FOLIOS &&
		    kinds[i] == MEMVIEW_PTE_DRAM &&
		    PageCompound(pfn_to_page(pte_pfn(pte))))
			kinds[i] = MEMVIEW_PTE_LARGE;
		if (pfns)
			pfns[i] = pte_pfn(pte);
	}
	rcu_read_unlock();
}

/* Map a slice to its position in the slice list (regions in order). */
static u32 memview_slice_pos(struct memview_slice *s)
{
	struct memview_region *r;
	u32 pos = 0;

	for_each_memview_region(r) {
		if (r == s->region)
			return pos + s->index;
		pos += r->nr_slices;
	}
	return U32_MAX;
}

struct memview_residency_walk {
	u8 kinds[MEMVIEW_BATCH_PAGES];
	struct memview_slice *slices[MEMVIEW_BATCH_PAGES];
	u64 *per_slice;
	struct memview_slice **by_pos;
	u32 nr_slices;		/* entries in @per_slice and @by_pos */
};

static void memview_residency_vma(struct vm_area_struct *vma,
				  unsigned long start, unsigned long end,
				  struct memview_residency_walk *w,
				  struct memview_residency *cmd)
{
	unsigned long addr, next, i, n;

	if (is_vm_hugetlb_page(vma) || (vma->vm_flags & (VM_IO | VM_PFNMAP)))
		return;
	for (addr = start; addr < end; addr = next) {
		next = min(end, (addr + PMD_SIZE) & PMD_MASK);
		n = (next - addr) >> PAGE_SHIFT;
		memview_walk_pmd(vma, addr, next, w->kinds, w->slices);
		for (i = 0; i < n; i++) {
			switch (w->kinds[i]) {
			case MEMVIEW_PTE_NONE:
				break;
			case MEMVIEW_PTE_SWAP:
			case MEMVIEW_PTE_POISON:
				cmd->out_not_present++;
				break;
			case MEMVIEW_PTE_DRAM:
			case MEMVIEW_PTE_THP:
			case MEMVIEW_PTE_LARGE:
				cmd->out_dram_pages++;
				break;
			case MEMVIEW_PTE_SLICE: {
				u32 pos = memview_slice_pos(w->slices[i]);

				cmd->out_slice_pages++;
				/* Not a slice of a region added since the count. */
				if (pos < w->nr_slices) {
					w->per_slice[pos]++;
					w->by_pos[pos] = w->slices[i];
				}
				break;
			}
			default:
				cmd->out_other_pages++;
			}
		}
		/* A huge sparse mapping is millions of PMDs: stay killable. */
		if (fatal_signal_pending(current))
			return;
		cond_resched();
	}
}

int memview_residency(struct memview_residency *cmd)
{
	int idx;
	struct memview_residency_entry *out = NULL;
	struct memview_residency_walk *w;
	unsigned long start, end;
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	u32 nr_slices, i, n = 0;
	int ret = 0;

	if (cmd->flags & ~MEMVIEW_PIDFD)
		return -EINVAL;
	if (!cmd->addr && !cmd->length) {
		start = 0;
		end = TASK_SIZE_MAX;
	} else {
		if (!cmd->length || !PAGE_ALIGNED(cmd->addr) ||
		    !PAGE_ALIGNED(cmd->length))
			return -EINVAL;
		if (cmd->addr + cmd->length < cmd->addr)
			return -EOVERFLOW;
		start = cmd->addr;
		end = min_t(u64, cmd->addr + cmd->length, TASK_SIZE_MAX);
	}

	mm = memview_proc_get_mm(cmd->pid, cmd->flags, false, NULL);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w) {
		ret = -ENOMEM;
		goto out_mm;
	}

	idx = srcu_read_lock(&memview_srcu);
	nr_slices = memview_nr_slices();
	w->nr_slices = nr_slices;
	w->per_slice = kvcalloc(max(nr_slices, 1U), sizeof(u64), GFP_KERNEL);
	w->by_pos = kvcalloc(max(nr_slices, 1U), sizeof(void *), GFP_KERNEL);
	out = kvcalloc(max(nr_slices, 1U), sizeof(*out), GFP_KERNEL);
	if (!w->per_slice || !w->by_pos || !out) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	cmd->out_dram_pages = 0;
	cmd->out_slice_pages = 0;
	cmd->out_other_pages = 0;
	cmd->out_not_present = 0;

	if (mmap_read_lock_killable(mm)) {
		ret = -EINTR;
		goto out_unlock;
	}
	{
		VMA_ITERATOR(vmi, mm, start);

		for_each_vma_range(vmi, vma, end)
			memview_residency_vma(vma, max(start, vma->vm_start),
					      min(end, vma->vm_end), w, cmd);
	}
	mmap_read_unlock(mm);
	if (fatal_signal_pending(current)) {
		ret = -EINTR;
		goto out_unlock;
	}

	for (i = 0; i < nr_slices; i++) {
		if (!w->per_slice[i])
			continue;
		out[n].slice_id = w->by_pos[i]->id;
		out[n].pages = w->per_slice[i];
		n++;
	}
out_unlock:
	srcu_read_unlock(&memview_srcu, idx);
	if (!ret) {
		if (n > cmd->num_slices)
			ret = -EMSGSIZE;
		else if (n && copy_to_user(u64_to_user_ptr(cmd->slices), out,
					   n * sizeof(*out)))
			ret = -EFAULT;
		cmd->num_slices = n;
	}
	kvfree(out);
	kvfree(w->per_slice);
	kvfree(w->by_pos);
	kfree(w);
out_mm:
	mmput(mm);
	return ret;
}

/**
 * memview_for_each_mm - call @fn on the mm of every user process
 * @fn: called without locks, with a user reference on the mm; a nonzero
 *	return stops the walk and is returned
 * @arg: passed to @fn
 *
 * Processes are taken from a snapshot of the task list: one forked during
 * the walk is a child of one that is walked, and it was forked with copies
 * of its parent's mappings.  Threads share their process's mm, which is
 * walked once (found through any live thread).  Returns 0, what @fn returned, -ENOMEM, or -EAGAIN if more
 * processes appeared than the snapshot had room for (those are not walked).
 */
int memview_for_each_mm(int (*fn)(struct mm_struct *mm, void *arg), void *arg)
{
	unsigned int n = 0, max = 0, i;
	struct task_struct *p;
	struct pid **pids;
	int ret = 0;

	rcu_read_lock();
	for_each_process(p)
		max++;
	rcu_read_unlock();
	max += 64;	/* processes forked meanwhile */
	pids = kvcalloc(max, sizeof(*pids), GFP_KERNEL);
	if (!pids)
		return -ENOMEM;
	rcu_read_lock();
	for_each_process(p) {
		if (n == max) {
			ret = -EAGAIN;
			break;
		}
		if (!(p->flags & PF_KTHREAD))
			pids[n++] = get_pid(task_tgid(p));
	}
	rcu_read_unlock();

	for (i = 0; i < n; i++) {
		struct mm_struct *mm = NULL;
		struct task_struct *t, *th;
		int err;

		/*
		 * The leader may have exited (its mm is gone) while other
		 * threads still run on the process's mm: take it from any.
		 */
		rcu_read_lock();
		t = pid_task(pids[i], PIDTYPE_TGID);
		if (t)
			for_each_thread(t, th) {
				mm = get_task_mm(th);
				if (mm)
					break;
			}
		rcu_read_unlock();
		if (!mm)
			continue;
		err = fn(mm, arg);
		mmput(mm);
		if (err) {
			ret = err;
			break;
		}
	}
	for (i = 0; i < n; i++)
		put_pid(pids[i]);
	kvfree(pids);
	return ret;
}

struct memview_poison_look {
	struct memview_region *r;
	u8 kinds[MEMVIEW_BATCH_PAGES];
	struct memview_slice *slices[MEMVIEW_BATCH_PAGES];
};

/* Does @mm have a hwpoison entry for a page of l->r?  1 if it does. */
static int memview_mm_poison_mapped(struct mm_struct *mm, void *arg)
{
	struct memview_poison_look *l = arg;
	struct vm_area_struct *vma;
	unsigned long addr, next, i;
	int found = 0;
	VMA_ITERATOR(vmi, mm, 0);

	mmap_read_lock(mm);
	for_each_vma(vmi, vma) {
		if (is_vm_hugetlb_page(vma) ||
		    (vma->vm_flags & (VM_IO | VM_PFNMAP)))
			continue;
		for (addr = vma->vm_start; addr < vma->vm_end && !found;
		     addr = next) {
			next = min(vma->vm_end, (addr + PMD_SIZE) & PMD_MASK);
			memview_walk_pmd(vma, addr, next, l->kinds, l->slices);
			for (i = 0; i < (next - addr) >> PAGE_SHIFT; i++)
				if (l->kinds[i] == MEMVIEW_PTE_POISON &&
				    l->slices[i]->region == l->r)
					found = 1;
			cond_resched();
		}
		if (found)
			break;
	}
	mmap_read_unlock(mm);
	return found;
}

/**
 * memview_region_poison_mapped - is a poisoned page of @r still named by a
 * hwpoison entry in some process?
 * @r: the region being removed
 *
 * A process that survived the SIGBUS of a poisoned page keeps a hwpoison
 * entry naming its pfn until it unmaps the address or exits.  The region's
 * struct pages must outlive such entries (6.12's smaps and pagemap look the
 * page up), so removal waits for them.  New entries are made only for
 * pages in use, and the caller found none in use after no page could be
 * allocated on @r any more; a fork copies an entry from a process this walk
 * sees.  Returns true if one was found (or the walk could not be completed).
 */
bool memview_region_poison_mapped(struct memview_region *r)
{
	struct memview_poison_look *l;
	unsigned int any = 0, i;
	bool found;

	for (i = 0; i < r->nr_slices; i++)
		any += READ_ONCE(r->slices[i].nr_poison) ? 1 : 0;
	if (!any)
		return false;
	l = kmalloc(sizeof(*l), GFP_KERNEL);
	if (!l)
		return true;
	l->r = r;
	found = memview_for_each_mm(memview_mm_poison_mapped, l) != 0;
	kfree(l);
	return found;
}
