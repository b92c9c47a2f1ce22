/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the target kernels (6.1 LTS, 6.12 LTS and 7.3)
 * lives here and nowhere else.  A version test names the release that
 * brought the change upstream; Documentation/design.rst has the table.
 */
#ifndef _MEMVIEW_COMPAT_H
#define _MEMVIEW_COMPAT_H

#include <linux/version.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/numa.h>
#include <linux/pgtable.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <linux/string.h>
#include <linux/swap.h>
#include <linux/swapops.h>
#include <linux/user_namespace.h>
#include <asm/tlbflush.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
#include <linux/leafops.h>
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 3, 0)
#include <linux/sched/exec_state.h>
#endif

/*
 * A PMD value read without the page-table lock.  6.5 added
 * pmdp_get_lockless(); on x86-64 a PMD is one word, so READ_ONCE() is the
 * same thing on 6.1.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define memview_pmdp_get_lockless(pmdp)	pmdp_get_lockless(pmdp)
#else
#define memview_pmdp_get_lockless(pmdp)	READ_ONCE(*(pmdp))
#endif

/*
 * Since 6.5 a PTE table can be freed under the mmap read lock (khugepaged
 * retracting page tables), after an RCU grace period: a lockless walk must
 * hold rcu_read_lock() around its PTE reads.  On 6.1 the mmap read lock
 * alone is enough; taking RCU there too is harmless, so both do.
 */

/*
 * Test and clear the accessed bit of a PTE or PMD, with the PTE (PMD) lock
 * held.  The kernel's ptep_test_and_clear_young() is out of line on x86 and
 * not exported; this is what it does there: an atomic bit operation, which
 * is safe against the CPU setting the bit concurrently.  The TLB is flushed
 * once per round by the caller (placer.c).
 */
#ifdef CONFIG_X86
static inline bool memview_ptep_test_and_clear_young(pte_t *ptep)
{
	return pte_young(ptep_get(ptep)) &&
	       test_and_clear_bit(_PAGE_BIT_ACCESSED,
				  (unsigned long *)&ptep->pte);
}

static inline bool memview_pmdp_test_and_clear_young(pmd_t *pmdp)
{
	return pmd_young(READ_ONCE(*pmdp)) &&
	       test_and_clear_bit(_PAGE_BIT_ACCESSED,
				  (unsigned long *)pmdp);
}
/*
 * Make every CPU that switches back to @mm flush its TLB entries first, as
 * flush_tlb_mm_range() does before it interrupts the CPUs in mm_cpumask():
 * a CPU that left @mm keeps its entries under their PCID and flushes them
 * at switch_mm() only if the mm's generation is newer than the one it
 * flushed at.  The kernel's helper (inc_mm_tlb_gen()) is hidden from
 * modules; this is its body, a full barrier before mm_cpumask() is read.
 */
static inline void memview_inc_mm_tlb_gen(struct mm_struct *mm)
{
	atomic64_inc_return(&mm->context.tlb_gen);
}

/*
 * Flush this CPU's TLB entries of the address space it has loaded, from an
 * interrupt (or with preemption off).  The kernel's flush_tlb_local() is
 * not exported, and __flush_tlb_all(), which 6.1 and 6.12 export, is for
 * KVM only on 7.3 (EXPORT_SYMBOL_FOR_KVM); __flush_tlb_local() goes
 * through pv_ops, which every kernel exports: it flushes the loaded PCID
 * (and, under page-table isolation, marks the user PCID for a flush on the
 * way back to user mode).  Entries of other PCIDs are the TLB generation's
 * business (memview_inc_mm_tlb_gen()).
 */
#ifdef CONFIG_PARAVIRT
#define memview_flush_tlb_this_cpu()	__flush_tlb_local()
#else
#define memview_flush_tlb_this_cpu()	__flush_tlb_all()
#endif
#else
#error "memview's access-bit sampler knows x86-64 page tables only"
#endif

/*
 * Is @page mapped by more than one process?  The test move_pages(2) makes
 * before moving a page without MPOL_MF_MOVE_ALL: page_mapcount() > 1 on
 * 6.1; folio_likely_mapped_shared() (6.9, renamed
 * folio_maybe_mapped_shared() in 6.15) on 6.12 and 7.3, where move_pages()
 * uses it and page_mapcount() is gone.  Exact for the order-0 anonymous
 * pages memview moves; for a THP, as the kernel's own estimate.  The caller
 * holds a reference on the folio.
 */
static inline bool memview_page_shared(struct page *page)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
	return folio_maybe_mapped_shared(page_folio(page));
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	return folio_likely_mapped_shared(page_folio(page));
#else
	return page_mapcount(page) > 1;
#endif
}

/* The dev_pagemap of ZONE_DEVICE @page: page_pgmap() since 6.14. */
static inline struct dev_pagemap *memview_page_pgmap(struct page *page)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
	return page_pgmap(page);
#else
	return page->pgmap;
#endif
}

/*
 * Initialise a free order-0 page of @pgmap for use: refcount 1, locked (the
 * kernel locks it; locking it again hangs).  6.19 gave the function an
 * order and 7.x the pgmap.
 */
static inline void memview_zone_device_page_init(struct page *page,
						 struct dev_pagemap *pgmap)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 0, 0)
	zone_device_page_init(page, pgmap, 0);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
	zone_device_page_init(page, 0);
#else
	zone_device_page_init(page);
#endif
}

/*
 * The dev_pagemap_ops member called when the last reference to a device
 * page is dropped: page_free(struct page *) until 6.19, folio_free(struct
 * folio *) since.  memview hands out order-0 folios only, so the folio is
 * the page.  Use as MEMVIEW_PGMAP_FREE_OP(fn) in the ops initialiser, with
 * fn taking a struct page *.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
#define MEMVIEW_DEFINE_PGMAP_FREE(fn)					\
	static void fn##_folio(struct folio *folio)			\
	{								\
		VM_WARN_ON_ONCE(folio_test_large(folio));		\
		fn(&folio->page);					\
	}
#define MEMVIEW_PGMAP_FREE_OP(fn)	.folio_free = fn##_folio
#else
#define MEMVIEW_DEFINE_PGMAP_FREE(fn)
#define MEMVIEW_PGMAP_FREE_OP(fn)	.page_free = fn
#endif

/*
 * The low bits of folio->mapping that mark an anonymous folio (PAGE_ to
 * FOLIO_MAPPING_ in 6.17).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
#define MEMVIEW_MAPPING_ANON	FOLIO_MAPPING_ANON
#define MEMVIEW_MAPPING_FLAGS	FOLIO_MAPPING_FLAGS
#else
#define MEMVIEW_MAPPING_ANON	PAGE_MAPPING_ANON
#define MEMVIEW_MAPPING_FLAGS	PAGE_MAPPING_FLAGS
#endif

/*
 * If non-present @pte is a hwpoison entry, its pfn in *@pfn.  6.19 put
 * the swap-entry tests behind softleaf_t.
 */
static inline bool memview_pte_hwpoison_pfn(pte_t pte, unsigned long *pfn)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
	softleaf_t e = softleaf_from_pte(pte);

	if (!softleaf_is_hwpoison(e))
		return false;
	*pfn = softleaf_to_pfn(e);
#else
	swp_entry_t e = pte_to_swp_entry(pte);

	if (!is_hwpoison_entry(e))
		return false;
	*pfn = swp_offset_pfn(e);
#endif
	return true;
}

/*
 * ptrace's dumpability test, the second half of the check move_pages(2)
 * makes (__ptrace_may_access()): may the caller touch @task, whose
 * credentials it has already passed, given @task's dumpability?  A task
 * dumpable by its owner (SUID_DUMP_USER), or a caller with CAP_SYS_PTRACE
 * in the user namespace the task's image was executed in (mm->user_ns;
 * task->exec_state on 7.3, where dumpability moved out of the mm).  A task
 * with no mm (a kernel thread, an exited process) passes.
 */
static inline bool memview_task_dumpable_ok(struct task_struct *task)
{
	bool ok = true;

	task_lock(task);
	if (task->mm) {
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 3, 0)
		const struct task_exec_state *es;

		rcu_read_lock();
		es = rcu_dereference(task->exec_state);
		ok = READ_ONCE(es->dumpable) == TASK_DUMPABLE_OWNER ||
		     ns_capable(es->user_ns, CAP_SYS_PTRACE);
		rcu_read_unlock();
#else
		ok = get_dumpable(task->mm) == SUID_DUMP_USER ||
		     ns_capable(task->mm->user_ns, CAP_SYS_PTRACE);
#endif
	}
	task_unlock(task);
	return ok;
}

/*
 * Does migrate_vma_setup() split a large folio it finds mapped by PTEs (an
 * mTHP, a THP whose PMD mapping was split) and collect its pages?  Since
 * 6.19 (migrate_vma_split_folio() in migrate_vma_collect_pmd()); before,
 * it skips such PTEs, and a module cannot split them first (split_folio()
 * is not exported): Documentation/design.rst, Large folios.
 */
#define MEMVIEW_MIGRATE_SPLITS_PTE_FOLIOS				\
	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0))

/*
 * The struct pid a pidfd refers to, or ERR_PTR(-EBADF) if @file is not a
 * pidfd: what the kernel's pidfd_pid() does, which is not exported.  Since
 * 6.9 pidfds live on pidfs and the pid is the inode's i_private; before,
 * a pidfd is an anonymous-inode file named "[pidfd]" whose private_data is
 * the pid.  No other file has that superblock (or that anon-inode name).
 */
static inline struct pid *memview_pidfd_pid(struct file *file)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	if (file_inode(file)->i_sb->s_magic != PID_FS_MAGIC)
		return ERR_PTR(-EBADF);
	return file_inode(file)->i_private;
#else
	if (file_inode(file)->i_sb->s_magic != ANON_INODE_FS_MAGIC ||
	    strcmp(file->f_path.dentry->d_name.name, "[pidfd]"))
		return ERR_PTR(-EBADF);
	return file->private_data;
#endif
}

/*
 * The task an mm's memcg charges go to (mm->owner exists with CONFIG_MEMCG,
 * which the target kernels have), under rcu_read_lock(); NULL without.
 */
#ifdef CONFIG_MEMCG
#define memview_mm_owner(mm)	rcu_dereference((mm)->owner)
#else
#define memview_mm_owner(mm)	((struct task_struct *)NULL)
#endif

/*
 * Weighted interleaving (6.9) spreads pages like interleaving, by weights
 * memview does not read; it places them as plain interleaving would.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
#define memview_mpol_interleaves(mode)					\
	((mode) == MPOL_INTERLEAVE || (mode) == MPOL_WEIGHTED_INTERLEAVE)
#else
#define memview_mpol_interleaves(mode)	((mode) == MPOL_INTERLEAVE)
#endif

#endif /* _MEMVIEW_COMPAT_H */
