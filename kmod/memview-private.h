/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memview internals shared by the files of the module.
 * Design, page lifecycle and locking: Documentation/design.rst.
 */
#ifndef _MEMVIEW_PRIVATE_H
#define _MEMVIEW_PRIVATE_H

#include <linux/list.h>
#include <linux/memremap.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/rculist.h>
#include <linux/srcu.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/xarray.h>
#include <linux/workqueue.h>
#include <linux/poll.h>
#include <linux/kref.h>
#include <linux/memview.h>

#include "compat.h"

#define MEMVIEW_MAX_REGIONS	64
#define MEMVIEW_MAX_PROCS	4096
/* Pages one migration step handles: one PMD, the batch of migrate_vma_*. */
#define MEMVIEW_BATCH_PAGES	(PMD_SIZE >> PAGE_SHIFT)

extern unsigned long memview_slice_size;

/*
 * Lock order, outermost first:
 *   memview_region_mutex -> memview_srcu (read) -> memview_procs_lock ->
 *   mmap_lock -> page lock -> slice->lock
 * page_free (memview_page_free) may run in any of these contexts and takes
 * slice->lock only.  Documentation/design.rst, Locking.
 *
 * memview_regions is read under memview_srcu, whose readers may sleep and
 * never wait for a writer: a memory error (memory_failure(), entered with
 * the kernel's mf_mutex) is handled while a region is added or removed.
 * Writers hold memview_region_mutex, publish with list_add_tail_rcu() and
 * unlink with list_del_rcu() + synchronize_srcu() before a region is freed.
 */
extern struct srcu_struct memview_srcu;
extern struct mutex memview_region_mutex;
extern struct list_head memview_regions;

#define memview_regions_held()						\
	(srcu_read_lock_held(&memview_srcu) ||				\
	 lockdep_is_held(&memview_region_mutex))
#define memview_assert_regions()					\
	RCU_LOCKDEP_WARN(!memview_regions_held(),			\
			 "memview_regions without memview_srcu or memview_region_mutex")
/* Every region; under memview_srcu (read) or memview_region_mutex. */
#define for_each_memview_region(r)					\
	list_for_each_entry_srcu(r, &memview_regions, node,		\
				 memview_regions_held())
/* Identity of memview's pages: dev_pagemap.owner and migrate_vma.pgmap_owner. */
extern char memview_owner;

/**
 * struct memview_slice - a slice_size piece of a region with its own allocator
 * @region: the region the slice belongs to
 * @id: slice id, unique while the module is loaded
 * @index: position in the region
 * @start_pfn: first page frame of the slice
 * @nr_pages: pages in the slice
 * @lock: protects @busy_map, @poison_map, @used, @busy, @poisoned, @hint
 *	and @state; taken with interrupts off because page_free can run
 *	wherever the last reference to a page is dropped
 * @busy_map: bit set = page allocated or retired (poisoned)
 * @poison_map: bit set = page had a memory error; never allocated again
 * @used: pages allocated now
 * @busy: bits set in @busy_map: @used + @poisoned
 * @poisoned: pages retired after a memory error: poisoned and freed (a
 *	poisoned page still mapped counts in @used until it is freed)
 * @hint: where the next allocation starts looking
 * @state: enum memview_slice_state
 * @saved_state: @state before a region removal began, restored if it fails
 *	(memview_region_mutex; ras.c)
 * @saved_ue: @ue when a region removal began (memview_region_mutex)
 * @migrations_in: pages migrated into the slice
 * @migrations_out: pages migrated out of the slice
 * @errors: memory errors reported on the slice
 * @ce: corrected errors reported on the slice
 * @ue: uncorrectable errors reported on the slice
 *
 * Fault isolation (ras.c), under @lock:
 * @nr_poison: bits set in @poison_map
 * @fence_reason: enum memview_fence_reason of the last fence
 * @retire: the evacuation under way ends in RETIRED, not FENCED
 * @window_start: jiffies when the corrected-error window began
 * @window_ce: corrected errors in the window
 * @evac_total: used pages when the last evacuation began
 * @evac_moved: pages it moved
 * @evac_poisoned: poisoned pages it unmapped without a copy
 * @evac_pending: used pages left after its last pass
 * @evac_passes: passes it made
 * @evac_start: ktime_get_ns() when it began
 * @evac_ns: nanoseconds it took, or has taken so far
 * @evac_backoff_ms: delay before the next retry pass
 * @evac_work: the evacuation worker (memview_ras_wq); the work item, not
 *	@lock, serialises the passes
 */
struct memview_slice {
	struct memview_region *region;
	u32 id;
	u32 index;
	unsigned long start_pfn;
	unsigned long nr_pages;

	spinlock_t lock;
	unsigned long *busy_map;
	unsigned long *poison_map;
	unsigned long used;
	unsigned long busy;
	unsigned long poisoned;
	unsigned long hint;
	u32 state;
	u32 saved_state;
	u64 saved_ue;

	atomic64_t migrations_in;
	atomic64_t migrations_out;
	atomic64_t errors;
	atomic64_t ce;
	atomic64_t ue;

	unsigned long nr_poison;
	u32 fence_reason;
	bool retire;
	unsigned long window_start;
	u32 window_ce;
	u64 evac_total;
	u64 evac_moved;
	u64 evac_poisoned;
	u64 evac_pending;
	u64 evac_passes;
	u64 evac_start;
	u64 evac_ns;
	unsigned int evac_backoff_ms;
	struct delayed_work evac_work;
};

/**
 * struct memview_region - a physical range memview owns, carved into slices
 * @node: entry in memview_regions (memview_srcu, memview_region_mutex)
 * @id: region id
 * @kind: enum memview_region_kind
 * @nid: NUMA node the pages were mapped on
 * @label: NUL-terminated name
 * @start: first byte of the range as added
 * @length: bytes as added
 * @unusable: tail bytes not in a slice (and not claimed)
 * @res: the claimed resource, covering the slices
 * @pgmap: MEMORY_DEVICE_COHERENT mapping of the slices
 * @start_pfn: first page frame of slice 0
 * @end_pfn: one past the last page frame of the last slice
 * @nr_slices: entries in @slices
 * @slices: the slices, lowest address first
 *
 * Everything but the slices' own locked fields is set before the region is
 * put on memview_regions and constant until it is taken off.
 */
struct memview_region {
	struct list_head node;
	u32 id;
	u32 kind;
	int nid;
	char label[MEMVIEW_LABEL_LEN];
	phys_addr_t start;
	u64 length;
	u64 unusable;
	struct resource *res;
	struct dev_pagemap pgmap;
	unsigned long start_pfn;
	unsigned long end_pfn;
	u32 nr_slices;
	struct memview_slice slices[];
};

/**
 * struct memview_slice_pick - allocation cursor for one batch of pages
 * @slice: slice pages come from until it is full, then the next least used
 */
struct memview_slice_pick {
	struct memview_slice *slice;
};

/* region.c */
int memview_region_add(struct memview_region_add *cmd);
int memview_region_remove(struct memview_region_remove *cmd);
int memview_region_list(struct memview_region_list *cmd);
int memview_slice_list(struct memview_slice_list *cmd);
void memview_slice_fill_entry(struct memview_slice *s, struct memview_slice_entry *e);
struct memview_slice *memview_pfn_to_slice(unsigned long pfn);
u32 memview_nr_slices(void);
unsigned long memview_region_used(struct memview_region *r);
u32 memview_nr_regions(void);

/* alloc.c */
int memview_slice_init(struct memview_slice *s, struct memview_region *r,
		       u32 index);
void memview_slice_destroy(struct memview_slice *s);
struct page *memview_alloc_page(struct memview_slice_pick *pick);
struct page *memview_alloc_page_locked(struct memview_slice_pick *pick);
void memview_page_free(struct page *page);
bool memview_slice_poison(struct memview_slice *s, unsigned long pfn,
			  bool *in_use);
unsigned long memview_slice_used(struct memview_slice *s);
bool memview_slice_takes_pages(u32 state);
bool memview_slices_take_pages(void);
u32 memview_slice_set_state(struct memview_slice *s, u32 state);

/**
 * struct memview_stats_counters - what the placer did, per process and total
 *
 * One atomic64_t per counter of struct memview_stats; see its kernel-doc.
 */
struct memview_stats_counters {
	atomic64_t rounds;
	atomic64_t pages_scanned;
	atomic64_t scan_ns;
	atomic64_t access_samples;
	atomic64_t fault_samples;
	atomic64_t promotions;
	atomic64_t demotions;
	atomic64_t pingpongs;
	atomic64_t skipped_hysteresis;
	atomic64_t skipped_rate;
	atomic64_t skipped_busy;
	atomic64_t skipped_no_space;
};

#define MEMVIEW_MAX_SAMPLES	1024
#define MEMVIEW_MAX_CHILDREN	16
/*
 * memview_proc.flags, not uAPI: attached by a caller with CAP_SYS_NICE, so
 * the placer moves the pages it shares with other processes too (as
 * MEMVIEW_MIGRATE_MOVE_ALL does); children it adopts inherit it.
 */
#define MEMVIEW_PROC_MOVE_ALL	(1U << 30)

/**
 * struct memview_proc - a managed process
 * @node: entry in memview_procs (memview_procs_lock)
 * @ref: the list holds one reference, each user in flight another
 * @pid: the process's thread-group pid
 * @flags: MEMVIEW_ATTACH_*, and MEMVIEW_PROC_MOVE_ALL
 * @dram_budget: bytes of DRAM it may keep, 0 = no limit
 * @demoted: pages memview demoted for it (by ioctl or placer)
 * @promoted: pages memview promoted for it (by ioctl or placer)
 * @heat: virtual page number -> packed heat (placer.c); placer thread
 *	only; its nodes are charged to the process's memcg
 * @scan_cursor: where the next scan resumes; placer thread only
 * @round: rounds that scanned the process; placer thread only
 * @dram_pages: DRAM pages at the last full scan, adjusted by the placer's
 *	moves since (read racily by STATS)
 * @slice_pages: slice pages at the last full scan, adjusted likewise
 * @hot_pages: pages accessed in the last full scan
 * @pass_dram: DRAM pages seen so far in the scan pass under way
 * @pass_slice: slice pages seen so far in the pass under way
 * @pass_hot: pages seen accessed so far in the pass under way
 * @stats: the placer's counters for this process
 * @sample_lock: protects @samples, @nr_samples, @children, @nr_children;
 *	taken in the page-fault path by the perf overflow handler
 * @samples: faulting addresses not yet seen by the placer
 * @nr_samples: entries in @samples
 * @children: forked children seen faulting, to attach (FOLLOW_CHILDREN)
 * @nr_children: entries in @children
 * @events: one perf page-fault counter per thread at attach time (new
 *	threads inherit them); set at attach, released with the entry
 * @nr_events: entries in @events
 * @cred: the credentials of whoever attached the process (of the parent's
 *	attacher, for an adopted child): the placer checks them again after
 *	an exec, and before it adopts a child
 * @exec_id: the process's self_exec_id when the placer last looked; placer
 *	thread only once listed
 */
struct memview_proc {
	struct list_head node;
	struct kref ref;
	struct pid *pid;
	u32 flags;
	u64 dram_budget;
	atomic64_t demoted;
	atomic64_t promoted;

	struct xarray heat;
	unsigned long scan_cursor;
	u32 round;
	u64 dram_pages;
	u64 slice_pages;
	u64 hot_pages;
	u64 pass_dram;
	u64 pass_slice;
	u64 pass_hot;
	struct memview_stats_counters stats;

	spinlock_t sample_lock;
	unsigned long samples[MEMVIEW_MAX_SAMPLES];
	u32 nr_samples;
	struct pid *children[MEMVIEW_MAX_CHILDREN];
	u32 nr_children;

	struct perf_event **events;
	u32 nr_events;

	const struct cred *cred;
	u64 exec_id;
};

/* proc.c */
int memview_procs_get_auto(struct memview_proc ***procsp);
int memview_proc_adopt(struct memview_proc *parent, struct pid *pid);
bool memview_proc_may_keep(struct memview_proc *p, struct task_struct *task);
void memview_proc_let_go(struct memview_proc *p);
int memview_proc_attach(struct memview_proc_attach *cmd);
int memview_proc_detach(struct memview_proc_detach *cmd);
int memview_proc_list(struct memview_proc_list *cmd);
struct mm_struct *memview_proc_get_mm(pid_t nr, u32 flags, bool need_attached,
				      struct memview_proc **procp);
void memview_proc_account(struct memview_proc *proc, u64 demoted,
			  u64 promoted);
void memview_proc_put(struct memview_proc *proc);
void memview_procs_exit(void);

/* migrate.c */
/**
 * struct memview_dst_policy - the memory policy a promoted page follows
 * @mode: MPOL_* of the VMA's policy, else of the mm owner's task
 * @nodes: the policy's nodes
 * @allowed: the nodes the owner's cpuset allows (with memory)
 * @local: the node of the CPU the owner last ran on
 */
struct memview_dst_policy {
	unsigned short mode;
	nodemask_t nodes;
	nodemask_t allowed;
	int local;
};

/**
 * struct memview_migration - one DEMOTE or PROMOTE call in progress
 * @cmd: the caller's request; its out_ counters are filled in here
 * @demote: true for DRAM -> slice, false for slice -> DRAM
 * @nid: node for promoted pages, NUMA_NO_NODE for the local policy
 * @pick: slice allocation cursor (demotion)
 * @src: migrate_vma source array, one PMD
 * @dst: migrate_vma destination array, one PMD
 * @kinds: what the page tables held before the migration (walk.c)
 * @mask: if not NULL, only the pages whose bit is set are migrated
 * @moved: out: bit set for each page of the last batch that moved
 * @mce: slice pages of the last batch whose copy hit poison
 * @evac: evacuation (@demote false): destinations as memview_evac.to_slices
 *	says, copies verified: the source read again into the first page of
 *	@bounce, the destination read back into the second, both compared
 * @to_slices: see memview_evac
 * @bounce: a buffer of two pages, for @evac
 * @policy: where the promoted pages of the batch go (memview_dst_policy())
 * @move_all: move pages other processes map too (MEMVIEW_MIGRATE_MOVE_ALL,
 *	or the placer for a process attached with CAP_SYS_NICE); @evac moves
 *	them whatever this says
 * @pfns: the pfns the page tables held before the migration (walk.c)
 * @shared: pages of the last batch left out because other processes map them
 */
struct memview_migration {
	struct memview_migrate *cmd;
	bool demote;
	bool evac;
	bool to_slices;
	void *bounce;
	bool move_all;
	int nid;
	struct memview_slice_pick pick;
	unsigned long src[MEMVIEW_BATCH_PAGES];
	unsigned long dst[MEMVIEW_BATCH_PAGES];
	unsigned long pfns[MEMVIEW_BATCH_PAGES];
	u8 kinds[MEMVIEW_BATCH_PAGES];
	const unsigned long *mask;
	DECLARE_BITMAP(moved, MEMVIEW_BATCH_PAGES);
	DECLARE_BITMAP(mce, MEMVIEW_BATCH_PAGES);
	struct memview_dst_policy policy;
	DECLARE_BITMAP(shared, MEMVIEW_BATCH_PAGES);
};
int memview_migrate_pmd(struct memview_migration *m, struct mm_struct *mm,
			struct vm_area_struct *vma, unsigned long start,
			unsigned long end, struct memview_proc *proc);
bool memview_vma_supported(struct vm_area_struct *vma);
extern atomic_t memview_fail_dst_verify;
int memview_demote(struct memview_migrate *cmd);
int memview_promote(struct memview_migrate *cmd);
int memview_evacuate_region(struct memview_region *r, u64 *moved);
/**
 * struct memview_evac - one evacuation walk over every process (migrate.c)
 * @s: the slice whose pages are moved or unmapped, for @take_srcu and
 *	@fencing; NULL for a region removal
 * @lo: first pfn acted on (slice pages only)
 * @hi: pfn after the last one acted on
 * @poison_only: unmap the poisoned pages only (hwpoison entries), move
 *	nothing else
 * @to_slices: destinations come from healthy slices first, then DRAM;
 *	otherwise DRAM only
 * @take_srcu: take memview_srcu (read) around each process (the
 *	caller, @s's worker, does not hold it); stop when @s is REMOVING
 * @fencing: stop when @s is no longer FENCING; progress goes to @s's
 *	evac_moved and evac_poisoned as it is made
 * @moved: out: pages moved, copies verified
 * @poisoned: out: poisoned pages unmapped, not copied
 */
struct memview_evac {
	struct memview_slice *s;
	unsigned long lo;
	unsigned long hi;
	bool poison_only;
	bool to_slices;
	bool take_srcu;
	bool fencing;
	unsigned long moved;
	unsigned long poisoned;
};
int memview_evacuate(struct memview_evac *ev);

/* walk.c */
/* What a lockless look at one page of a mapping found. */
enum memview_pte_kind {
	MEMVIEW_PTE_NONE,	/* nothing mapped, the zero page */
	MEMVIEW_PTE_SWAP,	/* not present: swap or migration entry */
	MEMVIEW_PTE_POISON,	/* a hwpoison entry for a slice page */
	MEMVIEW_PTE_DRAM,	/* a page of system RAM */
	MEMVIEW_PTE_THP,	/* a page of a PMD-mapped THP in system RAM */
	/*
	 * A page of a large folio in system RAM mapped by PTEs (a THP whose
	 * PMD was split, an mTHP), on kernels where migrate_vma_setup() does
	 * not collect it and the kernel's folio split is not exported
	 * (!MEMVIEW_MIGRATE_SPLITS_PTE_FOLIOS; Documentation/design.rst,
	 * Large folios).  Elsewhere such a page is MEMVIEW_PTE_DRAM.
	 */
	MEMVIEW_PTE_LARGE,
	MEMVIEW_PTE_SLICE,	/* a memview slice page */
	MEMVIEW_PTE_OTHER,	/* other device memory, or a PFN map */
};
pmd_t *memview_pmd_offset(struct mm_struct *mm, unsigned long addr,
			  bool *leaf, unsigned long *hole_end);
void __memview_walk_pmd(struct vm_area_struct *vma, unsigned long start,
			unsigned long end, u8 *kinds,
			struct memview_slice **slices, unsigned long *pfns);
static inline void memview_walk_pmd(struct vm_area_struct *vma,
				    unsigned long start, unsigned long end,
				    u8 *kinds, struct memview_slice **slices)
{
	__memview_walk_pmd(vma, start, end, kinds, slices, NULL);
}
int memview_for_each_mm(int (*fn)(struct mm_struct *mm, void *arg),
			void *arg);
int memview_residency(struct memview_residency *cmd);
bool memview_region_poison_mapped(struct memview_region *r);

/* placer.c */
extern struct memview_stats_counters memview_totals;
int memview_placer_start(void);
void memview_placer_stop(void);
int memview_set_policy(struct memview_policy *cmd);
int memview_get_policy(struct memview_policy *cmd);
int memview_stats(struct memview_stats *cmd);
void memview_ras_policy(u32 *ce_threshold, u32 *ce_window_ms, u32 *ras_flags);

/* ras.c */
int memview_ras_init(void);
void memview_ras_exit(void);
void memview_ras_slice_init(struct memview_slice *s);
void memview_ras_region_removing(struct memview_region *r, bool removing);
void memview_ras_region_removed(struct memview_region *r);
void memview_ras_copy_failed(unsigned long pfn);
unsigned long memview_region_retire_pfns(struct memview_region *r,
					 unsigned long pfn, unsigned long nr);
unsigned long memview_bad_pages_restore(struct memview_region *r);
void memview_bad_pages_save(struct memview_region *r, bool forget);
int memview_ras_memory_failure(struct memview_region *r, unsigned long pfn,
			       unsigned long nr_pages);
u64 memview_poisoned_pages(void);
int memview_slice_fence(struct memview_slice_fence *cmd);
int memview_slice_unfence(struct memview_slice_fence *cmd);
int memview_error_report(struct memview_error *cmd);
int memview_error_inject(struct memview_error *cmd);
int memview_events_open(struct inode *inode, struct file *file);
int memview_events_release(struct inode *inode, struct file *file);
ssize_t memview_events_read(struct file *file, char __user *buf, size_t len,
			    loff_t *ppos);
__poll_t memview_events_poll(struct file *file, struct poll_table_struct *pt);
void memview_proc_heat_destroy(struct memview_proc *p);

/* sample.c */
void memview_sampler_init(void);
void memview_sampler_exit(void);
void memview_sampler_start(struct memview_proc *p);
void memview_sampler_stop(struct memview_proc *p);
u32 memview_sample_period(void);
extern int memview_fault_sampler;

/* debugfs.c */
void memview_debugfs_init(void);
void memview_debugfs_exit(void);

#endif /* _MEMVIEW_PRIVATE_H */
