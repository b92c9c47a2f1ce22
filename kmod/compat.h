/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the target kernels (6.1 LTS and 6.12 LTS) lives
 * here and nowhere else.
 */
#ifndef _MEMVIEW_COMPAT_H
#define _MEMVIEW_COMPAT_H

#include <linux/version.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/numa.h>
#include <linux/pgtable.h>
#include <linux/string.h>

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
#else
#error "memview's access-bit sampler knows x86-64 page tables only"
#endif

/*
 * Is @page mapped by more than one process?  The test move_pages(2) makes
 * before moving a page without MPOL_MF_MOVE_ALL: page_mapcount() > 1 on
 * 6.1; folio_likely_mapped_shared() (added in 6.9) on 6.12, where
 * move_pages() uses it and page_mapcount() is gone.  Exact for the order-0
 * anonymous pages memview moves; for a THP, as the kernel's own estimate.
 * The caller holds a reference on the folio.
 */
static inline bool memview_page_shared(struct page *page)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	return folio_likely_mapped_shared(page_folio(page));
#else
	return page_mapcount(page) > 1;
#endif
}

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
