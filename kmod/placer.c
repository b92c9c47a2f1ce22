// SPDX-License-Identifier: GPL-2.0
/*
 * The placer: a kernel thread that, every scan interval, scans the page
 * tables of the automatically tiered processes, keeps a heat estimate per
 * page, and moves cold pages to the slices and hot pages back to DRAM,
 * within each process's DRAM budget, a rate limit and hysteresis.
 * Documentation/tiering.rst describes the algorithm and every knob.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kthread.h>
#include <linux/memcontrol.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/sort.h>
#include <linux/xarray.h>
#include <asm/tlbflush.h>

#include "memview-private.h"

/* protects memview_policy; the placer reads a copy at the start of a round */
static DEFINE_MUTEX(memview_policy_lock);
static struct memview_policy memview_policy = {
	.scan_interval_ms	= 200,
	.pages_per_round	= 262144,
	.max_scan_us		= 50000,
	.hot_rounds		= 2,
	.cold_rounds		= 3,
	.hysteresis_rounds	= 8,
	.pingpong_rounds	= 16,
	.promote_rate_mbps	= 256,
	.demote_rate_mbps	= 256,
	.sample_period		= 1,
	.samplers		= MEMVIEW_SAMPLE_ACCESS_BIT | MEMVIEW_SAMPLE_FAULTS,
	.ce_threshold		= 16,
	.ce_window_ms		= 86400000,
	.ras_flags		= MEMVIEW_RAS_FENCE_ON_UE | MEMVIEW_RAS_FENCE_ON_CE,
};

struct memview_stats_counters memview_totals;
static struct task_struct *memview_placer_task;

/*
 * Packed heat of one page, an xarray value entry (62 bits):
 *   0..7    young: consecutive scans that found the page accessed (<= 64)
 *   8..15   idle: consecutive scans that found it not accessed (<= 64)
 *   16..23  heat: decayed score, +64 per access, x3/4 per scan
 *   24      sampled: a fault sample hit it since the last scan
 *   25..26  dir: last move by the placer, 0 none, 1 down, 2 up, 3 down
 *           with no trade (forced or idle; memview_too_recent())
 *   27..58  moved: the process's round of that move
 */
#define H_YOUNG(e)	((e) & 0xff)
#define H_IDLE(e)	(((e) >> 8) & 0xff)
#define H_HEAT(e)	(((e) >> 16) & 0xff)
#define H_SAMPLED	(1UL << 24)
#define H_DIR(e)	(((e) >> 25) & 3)
#define H_MOVED(e)	(((e) >> 27) & 0xffffffffUL)
#define H_MAKE(young, idle, heat, dir, moved)				\
	((unsigned long)(young) | (unsigned long)(idle) << 8 |		\
	 (unsigned long)(heat) << 16 | (unsigned long)(dir) << 25 |	\
	 (unsigned long)(moved) << 27)
#define DIR_DOWN	1
#define DIR_UP		2
#define DIR_ALONE	3	/* down, not traded for a promotion */
/* The direction of the last move recorded in @e. */
#define H_WAY(e)	(H_DIR(e) == DIR_ALONE ? DIR_DOWN : H_DIR(e))

/*
 * A candidate's entry (struct memview_cand) is its heat entry plus bits the
 * entry in the xarray never has: a promotion candidate's C_WARM (below),
 * a demotion candidate's class (C_CLASS(), memview_place()).
 */
#define C_WARM		(1UL << 62)

u32 memview_sample_period(void)
{
	return READ_ONCE(memview_policy.sample_period);
}

void memview_proc_heat_destroy(struct memview_proc *p)
{
	xa_destroy(&p->heat);
}

/*
 * Heat entries are charged to the memcg of the process they describe (the
 * xarray has XA_FLAGS_ACCOUNT; memview_round_proc() makes that memcg the
 * active one), and a process at its memory limit loses heat rather than
 * making the placer reclaim or OOM-kill for it.
 */
#define MEMVIEW_HEAT_GFP	(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN)

static void memview_heat_store(struct memview_proc *p, unsigned long vpn,
			       unsigned long e)
{
	xa_store(&p->heat, vpn, xa_mk_value(e), MEMVIEW_HEAT_GFP);
}

/* Entries erased with the xarray lock held, at most, before a reschedule. */
#define MEMVIEW_HEAT_ERASE_BATCH	1024

/*
 * Forget the heat of the pages [first, last] (virtual page numbers): no
 * mapping memview tiers is there any more (a gap between VMAs, an
 * unsupported VMA, an empty page table).
 */
static void memview_heat_erase(struct memview_proc *p, unsigned long first,
			       unsigned long last)
{
	XA_STATE(xas, &p->heat, first);
	unsigned int n = 0;
	void *entry;

	if (first > last)
		return;
	xas_lock(&xas);
	xas_for_each(&xas, entry, last) {
		xas_store(&xas, NULL);
		if (++n % MEMVIEW_HEAT_ERASE_BATCH == 0) {
			xas_pause(&xas);
			xas_unlock(&xas);
			cond_resched();
			xas_lock(&xas);
		}
	}
	xas_unlock(&xas);
}

/* The same for the virtual addresses [start, end). */
static void memview_heat_erase_addr(struct memview_proc *p, unsigned long start,
				    unsigned long end)
{
	if (end > start)
		memview_heat_erase(p, start >> PAGE_SHIFT,
				   (end >> PAGE_SHIFT) - 1);
}

/* A page the scan found, for the placement decisions. */
struct memview_cand {
	unsigned long addr;
	unsigned long entry;
};

/**
 * struct memview_scan - one round's work on one process
 * @p: the process
 * @mm: its mm (a user reference)
 * @pol: the policy of this round
 * @budget: entries left to examine this round
 * @deadline: ktime after which the scan stops
 * @complete: the scan reached the end of the address space
 * @dram: DRAM pages seen
 * @slice: slice pages seen
 * @hot: pages seen accessed
 * @cold: DRAM pages, candidates for demotion (coldest first once sorted)
 * @nr_cold: entries in @cold
 * @hotc: slice pages accessed in hot_rounds consecutive scans
 * @nr_hot: entries in @hotc
 * @max_cand: room in @cold and in @hotc
 * @want_cold: collect @cold (the process has a DRAM budget)
 * @dram_heat: keep heat for DRAM pages (a budget, or no access bits to
 *	count them by; memview_scan_update())
 * @cleared: accessed bits were cleared (a TLB flush is due)
 * @hist: eligible demotion candidates by heat (memview_place())
 * @young: per page of the current PMD, accessed bit found set
 * @kinds: per page of the current PMD, what it is (walk.c)
 */
struct memview_scan {
	struct memview_proc *p;
	struct mm_struct *mm;
	struct memview_policy pol;
	long budget;
	ktime_t deadline;
	bool complete;
	u64 dram, slice, hot;
	struct memview_cand *cold;
	u32 nr_cold;
	struct memview_cand *hotc;
	u32 nr_hot;
	u32 max_cand;
	bool want_cold;
	bool dram_heat;
	bool cleared;
	u32 hist[256];
	bool young[MEMVIEW_BATCH_PAGES];
	u8 kinds[MEMVIEW_BATCH_PAGES];
};

static void memview_stat_add(struct memview_proc *p, size_t off, u64 n)
{
	atomic64_add(n, (atomic64_t *)((char *)&p->stats + off));
	atomic64_add(n, (atomic64_t *)((char *)&memview_totals + off));
}
#define STAT_ADD(p, field, n) \
	memview_stat_add(p, offsetof(struct memview_stats_counters, field), n)

/*
 * Fold the fault samples taken since the last round into the heat map.
 * With @known_only, only into pages it has already (see
 * memview_scan_update(): a process without a budget has heat for its slice
 * pages only).  A sample outside the mappings memview tiers is dropped: the
 * fault event fires before the fault looks for a VMA, so a process could
 * otherwise fill its heat map with addresses it never mapped.
 */
static void memview_drain_samples(struct memview_proc *p, struct mm_struct *mm,
				  bool known_only)
{
	unsigned long *addrs, e;
	u32 n, i;

	mmap_assert_locked(mm);
	addrs = kmalloc_array(MEMVIEW_MAX_SAMPLES, sizeof(*addrs), GFP_KERNEL);
	if (!addrs)
		return;
	spin_lock_irq(&p->sample_lock);
	n = p->nr_samples;
	memcpy(addrs, p->samples, n * sizeof(*addrs));
	p->nr_samples = 0;
	spin_unlock_irq(&p->sample_lock);

	for (i = 0; i < n; i++) {
		unsigned long vpn = addrs[i] >> PAGE_SHIFT;
		struct vm_area_struct *vma = vma_lookup(mm, addrs[i]);
		void *old;

		if (!vma || !memview_vma_supported(vma))
			continue;
		old = xa_load(&p->heat, vpn);
		if (!old && known_only)
			continue;
		e = old ? xa_to_value(old) : 0;
		memview_heat_store(p, vpn, e | H_SAMPLED);
	}
	STAT_ADD(p, fault_samples, n);
	kfree(addrs);
}

/*
 * Attach the children the fault sampler saw (FOLLOW_CHILDREN), each if the
 * attacher may manage it, and not if it was let go before.
 */
static void memview_adopt_children(struct memview_proc *p)
{
	struct pid *kids[MEMVIEW_MAX_CHILDREN];
	u32 n, i;

	spin_lock_irq(&p->sample_lock);
	n = p->nr_children;
	memcpy(kids, p->children, n * sizeof(*kids));
	p->nr_children = 0;
	spin_unlock_irq(&p->sample_lock);
	for (i = 0; i < n; i++) {
		memview_proc_adopt(p, kids[i]);
		put_pid(kids[i]);
	}
}

static void memview_add_cand(struct memview_cand *arr, u32 *nr, u32 max,
			     unsigned long addr, unsigned long e)
{
	if (*nr < max) {
		arr[*nr].addr = addr;
		arr[*nr].entry = e;
		(*nr)++;
	}
}

/*
 * The heat a slice page found accessed needs to be promoted even if its
 * accesses were not in hot_rounds consecutive scans: one access adds 64 and
 * the heat loses a quarter per scan, so for hot_rounds 2 this is an access
 * now and another within the last 7 scans.  A workload whose passes over
 * its hot set take longer than a scan interval (a hot set partly in slow
 * memory) is seen accessed in scattered scans, never in consecutive ones.
 */
static unsigned long memview_hot_heat(const struct memview_policy *pol)
{
	return min(64UL + 8UL * (pol->hot_rounds - 1), 255UL);
}

/*
 * The hottest DRAM page promotion candidate @e may be exchanged for.  A hot
 * one (the test above) for any page not hotter than itself.  A *warm* one
 * (C_WARM: found accessed in this scan, not yet hot; collected for a
 * process with a budget only) for a page with at most half its heat: with
 * one access worth 64 that is a page not accessed in the last three scans
 * or more.  Warm pages are also promoted into the room under the budget.
 * Under slow memory a hot set in the slices is seen accessed once every
 * few scans, rarely twice in a row, and would otherwise wait behind DRAM
 * pages nobody touches.
 */
static unsigned long memview_exch_max(unsigned long e)
{
	return e & C_WARM ? H_HEAT(e) / 2 : H_HEAT(e);
}

/* Update the heat of the pages of one PMD after the accessed bits were read. */
static void memview_scan_update(struct memview_scan *sc, unsigned long start,
				unsigned long n)
{
	struct memview_proc *p = sc->p;
	unsigned long i, e, ne, young, idle, heat;

	for (i = 0; i < n; i++) {
		unsigned long addr = start + (i << PAGE_SHIFT);
		unsigned long vpn = addr >> PAGE_SHIFT;
		u8 kind = sc->kinds[i];
		bool accessed;
		void *old;

		if (kind != MEMVIEW_PTE_DRAM && kind != MEMVIEW_PTE_THP &&
		    kind != MEMVIEW_PTE_LARGE && kind != MEMVIEW_PTE_SLICE) {
			if (kind == MEMVIEW_PTE_NONE && xa_load(&p->heat, vpn))
				xa_erase(&p->heat, vpn);
			continue;
		}
		/*
		 * Without a budget nothing is demoted: a DRAM page's heat
		 * decides nothing, it is only counted (and its accessed bit
		 * is the hot count, when the access sampler is on).  This
		 * skips the heat map for nearly every page of such a process.
		 */
		if (kind != MEMVIEW_PTE_SLICE && !sc->dram_heat) {
			sc->dram++;
			sc->hot += sc->young[i];
			continue;
		}
		old = xa_load(&p->heat, vpn);
		e = old ? xa_to_value(old) : 0;
		accessed = sc->young[i] || (e & H_SAMPLED);
		young = H_YOUNG(e);
		idle = H_IDLE(e);
		heat = H_HEAT(e);
		heat = heat * 3 / 4;	/* reaches 0: no access for ~17 scans */
		/*
		 * young and idle stop at 64, the largest hot_rounds and
		 * cold_rounds: the entry of a page as hot or as idle as it
		 * gets stays the same, and is not stored again.
		 */
		if (accessed) {
			young = min(young + 1, 64UL);
			idle = 0;
			heat = min(heat + 64, 255UL);
			sc->hot++;
		} else {
			young = 0;
			idle = min(idle + 1, 64UL);
		}
		ne = H_MAKE(young, idle, heat, H_DIR(e), H_MOVED(e));
		if (!old || ne != e)
			memview_heat_store(p, vpn, ne);
		e = ne;

		if (kind == MEMVIEW_PTE_SLICE) {
			sc->slice++;
			if (young >= sc->pol.hot_rounds ||
			    (accessed && heat >= memview_hot_heat(&sc->pol)))
				memview_add_cand(sc->hotc, &sc->nr_hot,
						 sc->max_cand, addr, e);
			else if (accessed && sc->want_cold)
				/* Warm: see memview_exch_max(). */
				memview_add_cand(sc->hotc, &sc->nr_hot,
						 sc->max_cand, addr,
						 e | C_WARM);
		} else {
			sc->dram++;
			/*
			 * Every DRAM page of a process with a budget, in
			 * address order: the budget may need more than the
			 * idle ones.  Without a budget nothing is demoted.
			 * Nor is a page memview cannot move (a PTE-mapped
			 * large folio): the budget is met with others.
			 */
			if (sc->want_cold && kind != MEMVIEW_PTE_LARGE)
				memview_add_cand(sc->cold, &sc->nr_cold,
						 sc->max_cand, addr, e);
		}
	}
}

/*
 * An accessed bit the scan cleared is an access reclaim would have seen
 * (folio_referenced() reads and clears the same bits): hand it on to the
 * page's LRU state, as the kernel does for the accessed bits of mappings
 * it zaps, so that the pages memview keeps hot in DRAM are not the ones
 * reclaim takes for idle.  Slice pages are on no LRU.  Caller holds the
 * page-table lock of a present entry mapping @pfn: the page stays.
 */
static void memview_pass_young(unsigned long pfn)
{
	struct page *page;

	if (is_zero_pfn(pfn) || !pfn_valid(pfn))
		return;
	page = pfn_to_page(pfn);
	if (!is_zone_device_page(page))
		folio_mark_accessed(page_folio(page));
}

/*
 * Read and clear the accessed bits of [start, end), one PMD of one VMA, with
 * the page-table lock held, after the lockless checks walk.c makes.
 */
static void memview_scan_pmd(struct memview_scan *sc,
			     struct vm_area_struct *vma, unsigned long start,
			     unsigned long end)
{
	unsigned long n = (end - start) >> PAGE_SHIFT, i, nr_young;
	struct mm_struct *mm = sc->mm;
	pmd_t *pmdp, pmd;
	spinlock_t *ptl;
	pte_t *ptep;
	bool leaf;

	memset(sc->young, 0, n);
	memview_walk_pmd(vma, start, end, sc->kinds, NULL);
	sc->budget -= n;
	STAT_ADD(sc->p, pages_scanned, n);

	pmdp = memview_pmd_offset(mm, start, &leaf, NULL);
	if (!pmdp)
		goto update;
	pmd = memview_pmdp_get_lockless(pmdp);
	if (pmd_none(pmd) || !pmd_present(pmd))
		goto update;
	if (pmd_trans_huge(pmd)) {
		bool young = false;

		ptl = pmd_lock(mm, pmdp);
		if (pmd_same(READ_ONCE(*pmdp), pmd))
			young = memview_pmdp_test_and_clear_young(pmdp);
		if (young && sc->kinds[0] == MEMVIEW_PTE_THP)
			memview_pass_young(pmd_pfn(pmd));
		spin_unlock(ptl);
		memset(sc->young, young, n);
		goto update;
	}
	if (pmd_bad(pmd))
		goto update;

	rcu_read_lock();
	ptep = pte_offset_kernel(&pmd, start);
	ptl = pte_lockptr(mm, &pmd);
	spin_lock(ptl);
	/* The table may have been freed or replaced since the lockless read. */
	if (pmd_same(memview_pmdp_get_lockless(pmdp), pmd)) {
		for (i = 0; i < n; i++) {
			pte_t pte = ptep_get(ptep + i);

			if ((sc->kinds[i] != MEMVIEW_PTE_DRAM &&
			     sc->kinds[i] != MEMVIEW_PTE_LARGE &&
			     sc->kinds[i] != MEMVIEW_PTE_SLICE) ||
			    !pte_present(pte))
				continue;
			sc->young[i] =
				memview_ptep_test_and_clear_young(ptep + i);
			if (sc->young[i])
				memview_pass_young(pte_pfn(pte));
		}
	}
	spin_unlock(ptl);
	rcu_read_unlock();
update:
	for (i = 0, nr_young = 0; i < n; i++)
		nr_young += sc->young[i];
	if (nr_young) {
		STAT_ADD(sc->p, access_samples, nr_young);
		sc->cleared = true;
	}
	memview_scan_update(sc, start, n);
}

/*
 * Second chance: clear from @mask (pages of [start, end), one PMD of @vma)
 * the pages whose accessed bit is set again, that is, accessed since this
 * round's scan cleared it (the TLBs were flushed after the scan).  A
 * lockless look, as in walk.c: a page it misses is demoted as chosen.
 */
static void memview_second_chance(struct mm_struct *mm,
				  struct vm_area_struct *vma,
				  unsigned long start, unsigned long end,
				  unsigned long *mask)
{
	unsigned long n = (end - start) >> PAGE_SHIFT, i;
	pmd_t *pmdp, pmd;
	pte_t *ptep;
	bool leaf;

	pmdp = memview_pmd_offset(mm, start, &leaf, NULL);
	if (!pmdp)
		return;
	pmd = memview_pmdp_get_lockless(pmdp);
	if (pmd_none(pmd) || !pmd_present(pmd))
		return;
	if (pmd_trans_huge(pmd)) {
		if (pmd_young(pmd))
			bitmap_zero(mask, MEMVIEW_BATCH_PAGES);
		return;
	}
	if (pmd_bad(pmd))
		return;
	rcu_read_lock();
	ptep = pte_offset_kernel(&pmd, start);
	for (i = 0; i < n; i++) {
		pte_t pte;

		if (!test_bit(i, mask))
			continue;
		pte = ptep_get(ptep + i);
		if (pte_present(pte) && pte_young(pte))
			__clear_bit(i, mask);
	}
	rcu_read_unlock();
}

/*
 * Has the process exited, leaving the placer's reference the only user of
 * its mm?  Then the round stops: its pages are freed (exit_mmap()) when the
 * placer lets go, and someone may be waiting for that (a REGION_REMOVE
 * right after the process ended gets -EBUSY while they are in use).
 */
static bool memview_mm_orphaned(struct mm_struct *mm)
{
	return atomic_read(&mm->mm_users) <= 1;
}

/*
 * If no page table maps @addr: the end of that hole (at most @end), else 0.
 * An empty range costs the scan one unit of its budget, whatever its size:
 * a large reservation nobody touched (a JVM heap, ASan's shadow) must not
 * take the place of the pages that are mapped.
 */
static unsigned long memview_scan_hole(struct mm_struct *mm,
				       unsigned long addr, unsigned long end)
{
	unsigned long hole;
	pmd_t *pmdp;
	bool leaf;

	pmdp = memview_pmd_offset(mm, addr, &leaf, &hole);
	if (!pmdp)
		return leaf ? 0 : min(hole, end);
	if (pmd_none(memview_pmdp_get_lockless(pmdp)))
		return pmd_addr_end(addr, end);
	return 0;
}

/*
 * Scan from the cursor until the budget or the time is spent.  The heat of
 * what the scan passes over without scanning (gaps between VMAs, VMAs
 * memview does not tier, ranges no page table maps) is erased: a process's
 * heat map holds entries for the pages of its tiered mappings only, and
 * forgets an unmapped or moved range when the scan next passes it.
 */
static void memview_scan(struct memview_scan *sc)
{
	struct memview_proc *p = sc->p;
	unsigned long addr = p->scan_cursor, next, end;
	struct vm_area_struct *vma;
	bool access = sc->pol.samplers & MEMVIEW_SAMPLE_ACCESS_BIT;
	VMA_ITERATOR(vmi, sc->mm, addr);

	mmap_assert_locked(sc->mm);
	sc->complete = true;
	for_each_vma(vmi, vma) {
		memview_heat_erase_addr(p, addr, vma->vm_start);
		addr = max(addr, vma->vm_start);
		end = vma->vm_end;
		if (!memview_vma_supported(vma)) {
			memview_heat_erase_addr(p, addr, end);
			addr = end;
			continue;
		}
		for (; addr < end; addr = next) {
			if (sc->budget <= 0 ||
			    ktime_after(ktime_get(), sc->deadline) ||
			    memview_mm_orphaned(sc->mm)) {
				p->scan_cursor = addr;
				sc->complete = false;
				return;
			}
			next = memview_scan_hole(sc->mm, addr, end);
			if (next) {
				memview_heat_erase_addr(p, addr, next);
				sc->budget--;
				continue;
			}
			next = min(end, (addr + PMD_SIZE) & PMD_MASK);
			if (access) {
				memview_scan_pmd(sc, vma, addr, next);
			} else {
				/* Heat from fault samples alone. */
				memset(sc->young, 0, MEMVIEW_BATCH_PAGES);
				memview_walk_pmd(vma, addr, next, sc->kinds,
						 NULL);
				sc->budget -= (next - addr) >> PAGE_SHIFT;
				memview_scan_update(sc, addr,
						    (next - addr) >> PAGE_SHIFT);
			}
		}
	}
	memview_heat_erase_addr(p, addr, TASK_SIZE_MAX);
	p->scan_cursor = 0;
}

static int memview_cand_coldest_first(const void *a, const void *b)
{
	const struct memview_cand *x = a, *y = b;

	if (H_HEAT(x->entry) != H_HEAT(y->entry))
		return H_HEAT(x->entry) < H_HEAT(y->entry) ? -1 : 1;
	if (H_IDLE(x->entry) != H_IDLE(y->entry))
		return H_IDLE(x->entry) > H_IDLE(y->entry) ? -1 : 1;
	return 0;
}

static int memview_cand_hottest_first(const void *a, const void *b)
{
	return memview_cand_coldest_first(b, a);
}

static int memview_cand_by_addr(const void *a, const void *b)
{
	const struct memview_cand *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * Would moving this page now undo a move made within the hysteresis?  The
 * hysteresis keeps trades from see-sawing: a page promoted is not demoted
 * within it, and a page demoted in an exchange is not promoted within it.
 * A page demoted alone -- forced by the budget or idle -- may come back as
 * soon as it is found accessed: it was only the coldest page when DRAM ran
 * over or had been idle (a hot set written first and idle while the rest
 * of a buffer is filled), no hotter page came in for it, and holding it in
 * the slices for hysteresis_rounds (seconds when rounds are slow) is what
 * keeps a workload slow.  Its return still counts as a ping-pong.
 */
static bool memview_too_recent(struct memview_scan *sc, unsigned long e,
			       int dir)
{
	u32 since = sc->p->round - (u32)H_MOVED(e);

	return H_DIR(e) && H_DIR(e) != DIR_ALONE && H_DIR(e) != dir &&
	       since < sc->pol.hysteresis_rounds;
}

/*
 * What a page move costs, an average over the placer's last batches (ns per
 * page; 0: none measured yet).  Only the placer thread uses it.
 */
static u64 memview_move_ns;

/*
 * Pages the promotions and exchanges of a round may move: about a scan
 * interval's worth at memview_move_ns, one batch at least (and at most
 * until a move has been timed).  On slow memory
 * (emulated CXL under TCG moves a few hundred pages a second, fewer while
 * the workload itself is busy in CXL memory) a round that moved all it
 * chose would decide on a scan many seconds old: a hot set that shifted
 * meanwhile would be brought back after it went cold.
 */
static u64 memview_move_cap(const struct memview_policy *pol)
{
	if (!memview_move_ns)
		return MEMVIEW_BATCH_PAGES;	/* nothing measured yet */
	return max_t(u64, MEMVIEW_BATCH_PAGES,
		     (u64)pol->scan_interval_ms * NSEC_PER_MSEC /
		     memview_move_ns);
}

/*
 * Forced demotions of one process in one round, at most: 1 GiB, the
 * default pages_per_round (which bounds them too, as they are chosen among
 * the pages the round's scan examined), so a higher pages_per_round
 * without a demote rate still leaves every round bounded.
 */
#define MEMVIEW_FORCED_MAX	(SZ_1G >> PAGE_SHIFT)

/* A demotion candidate's class (see C_WARM). */
#define C_CLASS(e)	(((e) >> 59) & 7)
#define C_MK(e, cls)	((e) | (unsigned long)(cls) << 59)
#define CL_FORCED	1	/* down to the budget */
#define CL_EXCH		2	/* room for a promotion */
#define CL_RESERVE	3	/* for forced ones given a second chance */
#define CL_IDLE		4	/* idle for cold_rounds scans */

/*
 * Between two batches of a round's moves, let a queued mmap writer of the
 * process in -- and, on 6.1, every fault of it queued behind that writer:
 * held throughout, they would wait for every move of the round.  The
 * caller looks the VMA up again afterwards.  memview_srcu stays held for
 * the round (which is bounded): a region removal, which waits for the
 * readers, would otherwise find the pages of a process that has just
 * exited still in use, as the round holds its address space until the
 * next batch notices.
 */
static void memview_move_yield(struct mm_struct *mm)
{
	mmap_read_unlock(mm);
	cond_resched();
	mmap_read_lock(mm);
}

/*
 * Move the pages of @c[0..n) (sorted by address) of class @cls (0: all) in
 * direction @dir, one PMD batch at a time, until @want have moved; record
 * the move in their heat entries.  The mmap lock is dropped between
 * batches (memview_move_yield()).  After the first batch, stop once
 * @deadline (if not 0) has passed: the pages left count as skipped_rate.
 * With @second_chance, the pages accessed since the scan are left out.
 * Returns pages moved.
 */
static u64 memview_move(struct memview_scan *sc, struct memview_migration *m,
			struct memview_cand *c, u32 n, u32 cls, int dir,
			ktime_t deadline, u64 want, bool second_chance)
{
	DECLARE_BITMAP(mask, MEMVIEW_BATCH_PAGES);
	struct memview_migrate counters = {};
	struct memview_proc *p = sc->p;
	u64 moved = 0, picked, nr;
	ktime_t t0;
	bool alone = dir == DIR_DOWN && cls != CL_EXCH;
	u32 i = 0, j, k, batches = 0;

	m->cmd = &counters;
	m->demote = dir == DIR_DOWN;
	m->move_all = p->flags & MEMVIEW_PROC_MOVE_ALL;
	m->nid = NUMA_NO_NODE;
	m->mask = mask;
	while (i < n && moved < want) {
		struct vm_area_struct *vma;
		unsigned long pmd_start = c[i].addr & PMD_MASK, start, end;

		if (cls && C_CLASS(c[i].entry) != cls) {
			i++;
			continue;
		}
		vma = vma_lookup(sc->mm, c[i].addr);
		if (!vma || !memview_vma_supported(vma)) {
			i++;
			continue;
		}
		if (memview_mm_orphaned(sc->mm))
			break;
		if (batches && deadline && ktime_after(ktime_get(), deadline)) {
			for (; i < n; i++)
				if (!cls || C_CLASS(c[i].entry) == cls)
					STAT_ADD(p, skipped_rate, 1);
			break;
		}
		start = max(pmd_start, vma->vm_start);
		end = min(pmd_start + PMD_SIZE, vma->vm_end);
		bitmap_zero(mask, MEMVIEW_BATCH_PAGES);
		for (j = i, picked = 0; j < n && c[j].addr < end &&
		     moved + picked < want; j++) {
			if (cls && C_CLASS(c[j].entry) != cls)
				continue;
			__set_bit((c[j].addr - start) >> PAGE_SHIFT, mask);
			picked++;
		}
		if (second_chance)
			memview_second_chance(sc->mm, vma, start, end, mask);
		if (bitmap_empty(mask, MEMVIEW_BATCH_PAGES)) {
			i = j;
			continue;
		}
		batches++;
		t0 = ktime_get();
		if (memview_migrate_pmd(m, sc->mm, vma, start, end, p))
			break;
		nr = bitmap_weight(m->moved, MEMVIEW_BATCH_PAGES);
		if (nr) {
			u64 ns = ktime_to_ns(ktime_sub(ktime_get(), t0)) / nr;

			memview_move_ns = memview_move_ns ?
					  (3 * memview_move_ns + ns) / 4 : ns;
		}
		for (k = i; k < j; k++) {
			unsigned long vpn = c[k].addr >> PAGE_SHIFT, e;
			void *old;

			if (cls && C_CLASS(c[k].entry) != cls)
				continue;
			if (!test_bit((c[k].addr - start) >> PAGE_SHIFT,
				      m->moved))
				continue;
			moved++;
			old = xa_load(&p->heat, vpn);
			e = old ? xa_to_value(old) : c[k].entry;
			if (H_DIR(e) && H_WAY(e) != dir &&
			    p->round - (u32)H_MOVED(e) <= sc->pol.pingpong_rounds)
				STAT_ADD(p, pingpongs, 1);
			e = H_MAKE(H_YOUNG(e), H_IDLE(e), H_HEAT(e),
				   alone ? DIR_ALONE : dir, p->round);
			memview_heat_store(p, vpn, e);
		}
		i = j;
		memview_move_yield(sc->mm);
	}
	STAT_ADD(p, skipped_busy, counters.out_busy + counters.out_thp_split_failed);
	STAT_ADD(p, skipped_no_space, counters.out_no_space);
	m->mask = NULL;
	return moved;
}

/* Token buckets: pages each direction may still move this round. */
static u64 memview_rate_pages(u32 mbps, u32 interval_ms)
{
	if (!mbps)
		return U64_MAX;
	return max_t(u64, 1, ((u64)mbps << 20) / PAGE_SIZE * interval_ms / 1000);
}

/* Keep the page counts true after @n pages moved down (or up). */
static void memview_account_move(struct memview_proc *p, u64 n, bool down)
{
	u64 *from_pass = down ? &p->pass_dram : &p->pass_slice;
	u64 *to_pass = down ? &p->pass_slice : &p->pass_dram;
	u64 from = down ? p->dram_pages : p->slice_pages;
	u64 to = down ? p->slice_pages : p->dram_pages;

	*from_pass -= min(*from_pass, n);
	*to_pass += n;
	from -= min(from, n);
	to += n;
	WRITE_ONCE(p->dram_pages, down ? from : to);
	WRITE_ONCE(p->slice_pages, down ? to : from);
}

/*
 * The @k coldest of the candidates counted in @hist: those whose heat is
 * below *@cut, and *@take of those at *@cut (0 and 0 if @k is 0).
 */
static void memview_cut(const u32 *hist, u64 k, u32 *cut, u32 *take)
{
	u64 below = 0;
	u32 h;

	*cut = 0;
	*take = 0;
	if (!k)
		return;
	for (h = 0; h < 256; h++) {
		if (below + hist[h] >= k)
			break;
		below += hist[h];
	}
	*cut = h;
	*take = h < 256 ? k - below : 0;
}

/* Ranks of the eligible demotion candidates, coldest first (sc->hist). */
struct memview_rank {
	u32 heat;
	u32 left;
};

static bool memview_rank_next(const u32 *hist, struct memview_rank *r,
			      u32 *heat)
{
	while (r->heat < 256 && !r->left) {
		if (++r->heat < 256)
			r->left = hist[r->heat];
	}
	if (r->heat >= 256)
		return false;
	r->left--;
	*heat = r->heat;
	return true;
}

/*
 * Decide and make the moves of one process after its scan
 * (Documentation/tiering.rst, Placement):
 *
 *  1. over the budget: the coldest DRAM pages down to the budget (forced);
 *  2. promotion candidates, hottest first: into the room under the budget,
 *     then in exchange for the coldest DRAM pages left, as long as the
 *     DRAM page is not hotter than the slice page (a warm one: not more
 *     than half as hot, memview_exch_max());
 *  3. if no promotion candidate is left waiting in the slices: the DRAM
 *     pages idle for cold_rounds scans (with a budget only).
 *
 * Demotions are chosen coldest first by heat, so a page is never demoted
 * while a colder one stays.  The moves are made in the order exchange
 * demotions, promotions, forced demotions (all whatever the time), idle
 * demotions (stopped after a scan interval of moving, one batch at least).
 */
static void memview_place(struct memview_scan *sc, struct memview_migration *m)
{
	/* The forced demotions' passes, in order (see below). */
	static const struct {
		u32 cls;
		bool second_chance;
	} forced_passes[] = {
		{ CL_FORCED, true }, { CL_RESERVE, true },
		{ CL_FORCED, false }, { CL_RESERVE, false },
	};
	struct memview_proc *p = sc->p;
	u64 budget = p->dram_budget >> PAGE_SHIFT;
	u64 up_room = memview_rate_pages(sc->pol.promote_rate_mbps,
					 sc->pol.scan_interval_ms);
	u64 down_room = memview_rate_pages(sc->pol.demote_rate_mbps,
					   sc->pol.scan_interval_ms);
	ktime_t deadline;
	/*
	 * DRAM use: the last full pass, or what the pass under way has seen
	 * already if that is more (a pass can take many rounds).
	 */
	u64 dram = max(READ_ONCE(p->dram_pages), p->pass_dram);
	u64 forced = 0, room, n_direct, nr_exch = 0, k, moved, moved_down, mf;
	u64 cap;
	u32 nr_up = 0, nr_down = 0, nr_idle = 0, i;
	u32 cut[3], take[3], heat;
	struct memview_rank rank;
	bool idle_ok;

	/* Promotion candidates, hottest first, within rate and hysteresis. */
	sort(sc->hotc, sc->nr_hot, sizeof(*sc->hotc),
	     memview_cand_hottest_first, NULL);
	for (i = 0; i < sc->nr_hot; i++) {
		if (memview_too_recent(sc, sc->hotc[i].entry, DIR_UP)) {
			STAT_ADD(p, skipped_hysteresis, 1);
			continue;
		}
		if (nr_up >= up_room) {
			STAT_ADD(p, skipped_rate, 1);
			continue;
		}
		sc->hotc[nr_up++] = sc->hotc[i];
	}

	/* Demotion candidates (address order) by heat, outside hysteresis. */
	memset(sc->hist, 0, sizeof(sc->hist));
	for (i = 0; i < sc->nr_cold; i++) {
		if (!memview_too_recent(sc, sc->cold[i].entry, DIR_DOWN))
			sc->hist[H_HEAT(sc->cold[i].entry)]++;
	}
	rank.heat = 0;
	rank.left = sc->hist[0];

	/*
	 * A demote rate of 0 (no limit) and a pages_per_round raised to its
	 * maximum would make the round demote 64 GiB: at most
	 * MEMVIEW_FORCED_MAX per round; the next round takes the rest.
	 */
	if (budget && dram > budget)
		forced = min3(dram - budget, down_room,
			      (u64)MEMVIEW_FORCED_MAX);
	for (k = 0; k < forced; k++)
		if (!memview_rank_next(sc->hist, &rank, &heat))
			break;
	forced = k;

	room = !budget ? U64_MAX : budget + forced > dram ?
	       budget + forced - dram : 0;
	cap = memview_move_cap(&sc->pol);
	n_direct = min3(nr_up, room, cap);
	/*
	 * Exchanges: hottest slice page for coldest DRAM page, not hotter
	 * (memview_exch_max()); two moves each.
	 */
	while (n_direct + nr_exch < nr_up && forced + nr_exch < down_room &&
	       n_direct + 2 * (nr_exch + 1) <= cap &&
	       memview_rank_next(sc->hist, &rank, &heat) &&
	       heat <= memview_exch_max(sc->hotc[n_direct + nr_exch].entry))
		nr_exch++;
	if (n_direct + nr_exch < nr_up) {
		/* Out of time (next round), or no DRAM page to trade. */
		if (n_direct + 2 * (nr_exch + 1) > cap)
			STAT_ADD(p, skipped_rate, nr_up - n_direct - nr_exch);
		else
			STAT_ADD(p, skipped_no_space,
				 nr_up - n_direct - nr_exch);
		nr_up = n_direct + nr_exch;
	}
	/* Idle demotions only when no hot page waits in the slices. */
	idle_ok = budget && nr_up == sc->nr_hot;

	/*
	 * By rank, coldest first: the forced ones, then the exchanges, then
	 * as many as the forced ones again as their reserve (all below
	 * cut[i], the first take[i] at it).
	 */
	k = forced + nr_exch;
	memview_cut(sc->hist, forced, &cut[0], &take[0]);
	memview_cut(sc->hist, k, &cut[1], &take[1]);
	memview_cut(sc->hist, k + forced, &cut[2], &take[2]);
	for (i = 0; i < sc->nr_cold; i++) {
		unsigned long e = sc->cold[i].entry, heat_e = H_HEAT(e);
		u32 cls = 0;
		int j;

		if (memview_too_recent(sc, e, DIR_DOWN)) {
			if ((k && heat_e <= cut[2]) ||
			    (idle_ok && H_IDLE(e) >= sc->pol.cold_rounds))
				STAT_ADD(p, skipped_hysteresis, 1);
			continue;
		}
		for (j = 2; j >= 0; j--) {
			if (heat_e < cut[j] || (heat_e == cut[j] && take[j]))
				cls = j == 0 ? CL_FORCED : j == 1 ? CL_EXCH :
				      CL_RESERVE;
			if (heat_e == cut[j] && take[j])
				take[j]--;
		}
		if (!cls && idle_ok && H_IDLE(e) >= sc->pol.cold_rounds) {
			if (nr_idle < (down_room > k ? down_room - k : 0)) {
				cls = CL_IDLE;
				nr_idle++;
			} else {
				STAT_ADD(p, skipped_rate, 1);
			}
		}
		if (cls)
			sc->cold[nr_down++] = (struct memview_cand){
				.addr = sc->cold[i].addr,
				.entry = C_MK(e, cls),
			};
	}

	/*
	 * Exchanges first, and their promotions right after: on slow memory
	 * a hot set left in the slices slows everything down (the workload,
	 * and the copies of the forced demotions), so it comes back before
	 * the budget's excess goes.  The room counts the forced demotions
	 * still to come as made, as they are made in this round uncut: DRAM
	 * never rises above max(its level at the scan, the budget) and is
	 * within the budget at the end of the round as before.  Exchanges are
	 * between pages the scan found hot: no second chance.
	 */
	moved_down = 0;
	if (nr_exch)
		moved_down = memview_move(sc, m, sc->cold, nr_down, CL_EXCH,
					  DIR_DOWN, 0, nr_exch, false);
	STAT_ADD(p, demotions, moved_down);
	memview_account_move(p, moved_down, true);
	/* What could not be made room for is not promoted. */
	if (budget) {
		u64 now = dram > moved_down ? dram - moved_down : 0;

		room = budget + forced > now ? budget + forced - now : 0;
		if (nr_up > room) {
			STAT_ADD(p, skipped_no_space, nr_up - room);
			nr_up = room;
		}
	}
	sort(sc->hotc, nr_up, sizeof(*sc->hotc), memview_cand_by_addr, NULL);
	moved = memview_move(sc, m, sc->hotc, nr_up, 0, DIR_UP, 0, U64_MAX,
			     false);
	STAT_ADD(p, promotions, moved);
	memview_account_move(p, moved, false);

	/*
	 * Forced demotions give the pages accessed since the scan a second
	 * chance and take from the reserve instead; but the budget holds even
	 * if every chosen page was accessed (a hot set larger than the
	 * budget): then the forced ones go anyway, and the reserve if some of
	 * those could not move (busy), since the promotions above counted on
	 * them.
	 */
	for (i = 0, mf = 0; i < ARRAY_SIZE(forced_passes) && mf < forced; i++)
		mf += memview_move(sc, m, sc->cold, nr_down,
				   forced_passes[i].cls, DIR_DOWN, 0,
				   forced - mf, forced_passes[i].second_chance);
	STAT_ADD(p, demotions, mf);
	memview_account_move(p, mf, true);
	/* Only idle demotions are cut short, after a scan interval of moving. */
	deadline = ktime_add_ms(ktime_get(), sc->pol.scan_interval_ms);
	if (nr_idle) {
		moved = memview_move(sc, m, sc->cold, nr_down, CL_IDLE,
				     DIR_DOWN, deadline, U64_MAX, true);
		STAT_ADD(p, demotions, moved);
		memview_account_move(p, moved, true);
	}
}

static void memview_flush_tlb_local(void *unused)
{
	memview_flush_tlb_this_cpu();
}

/*
 * Flush the TLB entries of @mm as flush_tlb_mm() (not exported) does on
 * x86: bump the mm's TLB generation, so that a CPU that left the mm with
 * its entries still tagged by their PCID flushes them when it switches
 * back, and interrupt only the CPUs in its mm_cpumask() now.  A round never
 * interrupts CPUs that are not running the process.
 */
static void memview_flush_tlb_mm(struct mm_struct *mm)
{
	memview_inc_mm_tlb_gen(mm);
	on_each_cpu_mask(mm_cpumask(mm), memview_flush_tlb_local, NULL, true);
}

/*
 * Has the process exec'd since the placer last looked?  Its new address
 * space has nothing to do with the heat of the old one, and its new
 * credentials (a set-user-ID program) may be ones the attacher may not
 * manage: then the process is let go, as ptrace lets go of a process whose
 * exec its tracer could not follow.  False if @p was let go.
 */
static bool memview_check_exec(struct memview_proc *p, struct task_struct *task)
{
	u64 id = READ_ONCE(task->self_exec_id);

	if (id == p->exec_id)
		return true;
	if (!memview_proc_may_keep(p, task)) {
		memview_proc_let_go(p);
		return false;
	}
	p->exec_id = id;
	xa_destroy(&p->heat);
	p->scan_cursor = 0;
	p->pass_dram = p->pass_slice = p->pass_hot = 0;
	return true;
}

/*
 * The scan and the moves of one round, with the process's memcg active:
 * its heat entries are charged to it (memview_heat_store()).  Puts the
 * round's reference on sc->mm.
 */
static void memview_scan_and_place(struct memview_scan *sc,
				   struct memview_migration *m, ktime_t t0)
{
	int idx;
	struct memview_proc *p = sc->p;
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(sc->mm);
	struct mem_cgroup *old_memcg = set_active_memcg(memcg);

	idx = srcu_read_lock(&memview_srcu);
	mmap_read_lock(sc->mm);
	memview_drain_samples(p, sc->mm, !sc->dram_heat);
	memview_scan(sc);
	STAT_ADD(p, scan_ns, ktime_to_ns(ktime_sub(ktime_get(), t0)));
	/*
	 * Cleared accessed bits are set again only when the CPU walks the
	 * page table, so stale TLB entries must go (what reclaim leaves to
	 * chance, the sampler cannot): after the scan, so that the second
	 * chance (memview_second_chance()) and the next scan see accesses
	 * made from now on.  Only if the bits will be decided on: a process
	 * with neither a budget nor slice pages has nothing to decide, and
	 * its scan is for the statistics only.
	 */
	if (sc->cleared &&
	    (p->dram_budget || sc->slice || READ_ONCE(p->slice_pages)))
		memview_flush_tlb_mm(sc->mm);
	p->pass_dram += sc->dram;
	p->pass_slice += sc->slice;
	p->pass_hot += sc->hot;
	memview_place(sc, m);
	mmap_read_unlock(sc->mm);
	/*
	 * The mm goes before the SRCU read side ends: a process that exited
	 * during the round has its pages freed before a region removal that
	 * waits for the readers looks at them.
	 */
	mmput(sc->mm);
	srcu_read_unlock(&memview_srcu, idx);
	set_active_memcg(old_memcg);
	mem_cgroup_put(memcg);
}

/* One round of @p: scan, flush, place. */
static void memview_round_proc(struct memview_proc *p,
			       struct memview_policy *pol, long budget,
			       struct memview_migration *m,
			       struct memview_scan *sc)
{
	struct task_struct *task;
	ktime_t t0 = ktime_get();

	memview_adopt_children(p);
	task = get_pid_task(p->pid, PIDTYPE_TGID);
	if (!task)
		return;
	/*
	 * An exec replaces the mm, the credentials and the exec id under
	 * exec_update_lock: held for reading, the three seen belong together.
	 */
	down_read(&task->signal->exec_update_lock);
	sc->mm = memview_check_exec(p, task) ? get_task_mm(task) : NULL;
	up_read(&task->signal->exec_update_lock);
	put_task_struct(task);
	if (!sc->mm)
		return;

	sc->p = p;
	sc->pol = *pol;
	sc->budget = budget;
	sc->deadline = ktime_add_us(t0, pol->max_scan_us);
	sc->dram = sc->slice = sc->hot = 0;
	sc->nr_cold = sc->nr_hot = 0;
	/*
	 * Accesses made through a secondary MMU (a KVM guest's memory) leave
	 * the accessed bits alone, and the kernel's way to ask for them
	 * (mmu_notifier_clear_young()) is not exported: such a process would
	 * look idle.  It is not demoted automatically.
	 */
	sc->want_cold = p->dram_budget && !mm_has_notifiers(sc->mm);
	sc->dram_heat = p->dram_budget ||
			!(pol->samplers & MEMVIEW_SAMPLE_ACCESS_BIT);
	sc->cleared = false;
	p->round++;

	memview_scan_and_place(sc, m, t0);
	if (sc->complete) {
		WRITE_ONCE(p->dram_pages, p->pass_dram);
		WRITE_ONCE(p->slice_pages, p->pass_slice);
		WRITE_ONCE(p->hot_pages, p->pass_hot);
		p->pass_dram = p->pass_slice = p->pass_hot = 0;
	}
	/* Only the process's: the totals count the placer's own rounds. */
	atomic64_inc(&p->stats.rounds);
	sc->mm = NULL;	/* put by memview_scan_and_place() */
}

static int memview_placer_fn(void *unused)
{
	struct memview_migration *m = kzalloc(sizeof(*m), GFP_KERNEL);
	struct memview_scan *sc = kzalloc(sizeof(*sc), GFP_KERNEL);
	struct memview_policy pol;
	u32 max_cand = 0;

	while (!kthread_should_stop()) {
		struct memview_proc **procs = NULL;
		int n, i;

		mutex_lock(&memview_policy_lock);
		pol = memview_policy;
		mutex_unlock(&memview_policy_lock);

		n = (m && sc) ? memview_procs_get_auto(&procs) : 0;
		if (n > 0 && max_cand < pol.pages_per_round) {
			kvfree(sc->cold);
			kvfree(sc->hotc);
			max_cand = pol.pages_per_round;
			sc->cold = kvcalloc(max_cand, sizeof(*sc->cold),
					    GFP_KERNEL);
			sc->hotc = kvcalloc(max_cand, sizeof(*sc->hotc),
					    GFP_KERNEL);
			if (!sc->cold || !sc->hotc)
				max_cand = 0;
		}
		sc->max_cand = max_cand;
		for (i = 0; i < n; i++) {
			/* At least one PMD each: every process moves on. */
			if (max_cand)
				memview_round_proc(procs[i], &pol,
						   max_t(long, MEMVIEW_BATCH_PAGES,
							 pol.pages_per_round / n),
						   m, sc);
			memview_proc_put(procs[i]);
		}
		kfree(procs);
		atomic64_inc(&memview_totals.rounds);
		schedule_timeout_interruptible(
			msecs_to_jiffies(pol.scan_interval_ms));
	}
	if (sc) {
		kvfree(sc->cold);
		kvfree(sc->hotc);
	}
	kfree(sc);
	kfree(m);
	return 0;
}

int memview_placer_start(void)
{
	memview_placer_task = kthread_run(memview_placer_fn, NULL, "memviewd");
	if (IS_ERR(memview_placer_task))
		return PTR_ERR(memview_placer_task);
	return 0;
}

void memview_placer_stop(void)
{
	kthread_stop(memview_placer_task);
}

struct memview_policy_range {
	u32 bit;
	size_t off;
	u32 min, max;
};

#define POLICY_RANGE(_bit, _field, _min, _max) \
	{ _bit, offsetof(struct memview_policy, _field), _min, _max }

static const struct memview_policy_range memview_policy_ranges[] = {
	POLICY_RANGE(MEMVIEW_POLICY_SCAN_INTERVAL, scan_interval_ms, 10, 60000),
	POLICY_RANGE(MEMVIEW_POLICY_PAGES_PER_ROUND, pages_per_round, 512, 16777216),
	POLICY_RANGE(MEMVIEW_POLICY_MAX_SCAN_US, max_scan_us, 100, 10000000),
	POLICY_RANGE(MEMVIEW_POLICY_HOT_ROUNDS, hot_rounds, 1, 64),
	POLICY_RANGE(MEMVIEW_POLICY_COLD_ROUNDS, cold_rounds, 1, 64),
	POLICY_RANGE(MEMVIEW_POLICY_HYSTERESIS, hysteresis_rounds, 0, 1000),
	POLICY_RANGE(MEMVIEW_POLICY_PINGPONG_ROUNDS, pingpong_rounds, 1, 1000),
	POLICY_RANGE(MEMVIEW_POLICY_PROMOTE_RATE, promote_rate_mbps, 0, 1048576),
	POLICY_RANGE(MEMVIEW_POLICY_DEMOTE_RATE, demote_rate_mbps, 0, 1048576),
	POLICY_RANGE(MEMVIEW_POLICY_SAMPLE_PERIOD, sample_period, 1, 1000000),
	POLICY_RANGE(MEMVIEW_POLICY_SAMPLERS, samplers, 0,
		     MEMVIEW_SAMPLE_ACCESS_BIT | MEMVIEW_SAMPLE_FAULTS),
	POLICY_RANGE(MEMVIEW_POLICY_CE_THRESHOLD, ce_threshold, 1, 1000000),
	POLICY_RANGE(MEMVIEW_POLICY_CE_WINDOW, ce_window_ms, 100, 604800000),
	POLICY_RANGE(MEMVIEW_POLICY_RAS_FLAGS, ras_flags, 0,
		     MEMVIEW_RAS_FENCE_ON_UE | MEMVIEW_RAS_FENCE_ON_CE),
};

static u32 *memview_policy_field(struct memview_policy *pol, size_t off)
{
	return (u32 *)((char *)pol + off);
}

/* Copy the policy in force into @cmd, keeping its size and flags. */
static void memview_policy_fill(struct memview_policy *cmd)
{
	u32 size = cmd->size, flags = cmd->flags;

	mutex_lock(&memview_policy_lock);
	*cmd = memview_policy;
	mutex_unlock(&memview_policy_lock);
	cmd->size = size;
	cmd->flags = flags;
	cmd->valid = MEMVIEW_POLICY_ALL;
	cmd->out_fault_sampler = READ_ONCE(memview_fault_sampler);
}

int memview_set_policy(struct memview_policy *cmd)
{
	const struct memview_policy_range *r;
	int i;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (cmd->flags || cmd->__reserved || cmd->__reserved2 || !cmd->valid ||
	    cmd->valid & ~MEMVIEW_POLICY_ALL)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(memview_policy_ranges); i++) {
		u32 v;

		r = &memview_policy_ranges[i];
		v = *memview_policy_field(cmd, r->off);
		if ((cmd->valid & r->bit) && (v < r->min || v > r->max))
			return -EINVAL;
	}
	mutex_lock(&memview_policy_lock);
	for (i = 0; i < ARRAY_SIZE(memview_policy_ranges); i++) {
		r = &memview_policy_ranges[i];
		if (cmd->valid & r->bit)
			*memview_policy_field(&memview_policy, r->off) =
				*memview_policy_field(cmd, r->off);
	}
	mutex_unlock(&memview_policy_lock);
	/* A shorter interval takes effect now, not after the old one. */
	wake_up_process(memview_placer_task);
	memview_policy_fill(cmd);
	return 0;
}

/* The fault-isolation knobs in force (ras.c). */
void memview_ras_policy(u32 *ce_threshold, u32 *ce_window_ms, u32 *ras_flags)
{
	mutex_lock(&memview_policy_lock);
	*ce_threshold = memview_policy.ce_threshold;
	*ce_window_ms = memview_policy.ce_window_ms;
	*ras_flags = memview_policy.ras_flags;
	mutex_unlock(&memview_policy_lock);
}

int memview_get_policy(struct memview_policy *cmd)
{
	if (cmd->flags || cmd->__reserved || cmd->__reserved2)
		return -EINVAL;
	memview_policy_fill(cmd);
	return 0;
}

static void memview_stats_fill(struct memview_stats *cmd,
			       struct memview_stats_counters *c)
{
	cmd->out_rounds = atomic64_read(&c->rounds);
	cmd->out_pages_scanned = atomic64_read(&c->pages_scanned);
	cmd->out_scan_ns = atomic64_read(&c->scan_ns);
	cmd->out_access_samples = atomic64_read(&c->access_samples);
	cmd->out_fault_samples = atomic64_read(&c->fault_samples);
	cmd->out_promotions = atomic64_read(&c->promotions);
	cmd->out_demotions = atomic64_read(&c->demotions);
	cmd->out_pingpongs = atomic64_read(&c->pingpongs);
	cmd->out_skipped_hysteresis = atomic64_read(&c->skipped_hysteresis);
	cmd->out_skipped_rate = atomic64_read(&c->skipped_rate);
	cmd->out_skipped_busy = atomic64_read(&c->skipped_busy);
	cmd->out_skipped_no_space = atomic64_read(&c->skipped_no_space);
}

int memview_stats(struct memview_stats *cmd)
{
	struct memview_proc *p = NULL;
	struct mm_struct *mm;

	if (cmd->flags & ~MEMVIEW_PIDFD || cmd->__reserved ||
	    (cmd->pid < 0 && !(cmd->flags & MEMVIEW_PIDFD)))
		return -EINVAL;
	cmd->out_dram_pages = 0;
	cmd->out_slice_pages = 0;
	cmd->out_dram_budget_pages = 0;
	cmd->out_hot_pages = 0;
	if (!cmd->pid && !(cmd->flags & MEMVIEW_PIDFD)) {
		memview_stats_fill(cmd, &memview_totals);
		return 0;
	}
	mm = memview_proc_get_mm(cmd->pid, cmd->flags, true, &p);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	mmput(mm);
	memview_stats_fill(cmd, &p->stats);
	/* The last full pass, or the pass under way if it has seen more. */
	cmd->out_dram_pages = max(READ_ONCE(p->dram_pages),
				  READ_ONCE(p->pass_dram));
	cmd->out_slice_pages = max(READ_ONCE(p->slice_pages),
				   READ_ONCE(p->pass_slice));
	cmd->out_dram_budget_pages = p->dram_budget >> PAGE_SHIFT;
	cmd->out_hot_pages = READ_ONCE(p->hot_pages);
	memview_proc_put(p);
	return 0;
}
