/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the target kernels (6.1 LTS and 6.12 LTS) lives
 * here and nowhere else.
 */
#ifndef _MEMVIEW_COMPAT_H
#define _MEMVIEW_COMPAT_H

#include <linux/version.h>
#include <linux/numa.h>
#include <linux/pgtable.h>

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
#else
#error "memview's access-bit sampler knows x86-64 page tables only"
#endif

#endif /* _MEMVIEW_COMPAT_H */
