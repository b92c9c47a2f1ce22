// SPDX-License-Identifier: GPL-2.0
/*
 * Fault isolation: memory errors counted per slice, poisoned pages unmapped
 * with hwpoison entries, slices fenced and evacuated by a worker, and the
 * events userspace reads from /dev/memview.  Documentation/ras.rst.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "memview-private.h"

#define MEMVIEW_EVENTS		1024	/* events kept for readers */
#define MEMVIEW_EVAC_MAX_BACKOFF_MS	1000
#define MEMVIEW_INJECT_MAX	1000000

static struct workqueue_struct *memview_ras_wq;

/*
 * Known-bad physical pages, kept across the removal of their region so
 * that adding the range again does not hand them out: pfn -> xa_mk_value(0).
 * Entries are added when a slice page is poisoned and, for every poisoned
 * page, when its region is removed; they go only with the module.  One
 * entry per page of the regions ever added, at most (only CAP_SYS_ADMIN
 * adds regions, so the memory is charged to nobody): about 9 bytes per
 * entry when they are dense (a 64-slot xarray node per 64 pages), about
 * 600 when they are scattered.  The xarray's own lock is the only one.
 */
static DEFINE_XARRAY(memview_bad_pfns);
static void memview_evac_work(struct work_struct *work);

/*
 * protects memview_events[] and memview_event_next; a leaf lock, taken
 * inside a slice's lock by the evacuation worker
 */
static DEFINE_SPINLOCK(memview_events_lock);
static struct memview_event memview_events[MEMVIEW_EVENTS];
/* sequence number of the next event; the ring holds the last MEMVIEW_EVENTS */
static u64 memview_event_next = 1;
static DECLARE_WAIT_QUEUE_HEAD(memview_event_wait);

static void memview_event_emit(struct memview_event *e)
{
	unsigned long flags;

	e->size = sizeof(*e);
	e->time_ns = ktime_get_real_ns();
	spin_lock_irqsave(&memview_events_lock, flags);
	e->seq = memview_event_next++;
	memview_events[e->seq % MEMVIEW_EVENTS] = *e;
	spin_unlock_irqrestore(&memview_events_lock, flags);
	wake_up_interruptible_all(&memview_event_wait);
}

static u64 memview_event_seq(void)
{
	unsigned long flags;
	u64 seq;

	spin_lock_irqsave(&memview_events_lock, flags);
	seq = memview_event_next;
	spin_unlock_irqrestore(&memview_events_lock, flags);
	return seq;
}

static void memview_event_state(struct memview_slice *s, u32 old, u32 new,
				u32 reason)
{
	struct memview_event e = {
		.type = MEMVIEW_EVENT_STATE,
		.slice_id = s->id,
		.region_id = s->region->id,
		.old_state = old,
		.new_state = new,
		.reason = reason,
	};

	memview_event_emit(&e);
}

void memview_ras_slice_init(struct memview_slice *s)
{
	s->nr_poison = 0;
	s->fence_reason = MEMVIEW_FENCE_NONE;
	s->retire = false;
	s->window_ce = 0;
	s->window_start = jiffies;
	s->evac_total = 0;
	s->evac_moved = 0;
	s->evac_poisoned = 0;
	s->evac_pending = 0;
	s->evac_passes = 0;
	s->evac_start = 0;
	s->evac_ns = 0;
	s->evac_backoff_ms = 0;
	INIT_DELAYED_WORK(&s->evac_work, memview_evac_work);
}

/* Caller holds memview_srcu. */
static struct memview_slice *memview_slice_find(u32 id)
{
	struct memview_region *r;
	u32 i;

	for_each_memview_region(r)
		for (i = 0; i < r->nr_slices; i++)
			if (r->slices[i].id == id)
				return &r->slices[i];
	return NULL;
}

u64 memview_poisoned_pages(void)
{
	struct memview_region *r;
	u64 n = 0;
	u32 i;

	memview_assert_regions();
	for_each_memview_region(r)
		for (i = 0; i < r->nr_slices; i++)
			n += READ_ONCE(r->slices[i].nr_poison);
	return n;
}

/*
 * Fence @s: no new page lands on it from now on, and the worker moves its
 * used pages out.  Returns the state it is in afterwards.  Caller holds
 * memview_srcu.
 */
static u32 memview_fence(struct memview_slice *s, u32 reason, bool retire)
{
	u32 old, new;

	spin_lock_irq(&s->lock);
	old = s->state;
	if (memview_slice_takes_pages(old)) {
		s->state = MEMVIEW_SLICE_FENCING;
		s->fence_reason = reason;
		s->retire = retire;
		s->evac_total = s->used;
		s->evac_moved = 0;
		s->evac_poisoned = 0;
		s->evac_pending = s->used;
		s->evac_passes = 0;
		s->evac_start = ktime_get_ns();
		s->evac_ns = 0;
		s->evac_backoff_ms = 0;
	} else if (retire && old == MEMVIEW_SLICE_FENCING) {
		s->retire = true;
	} else if (retire && old == MEMVIEW_SLICE_FENCED) {
		s->state = MEMVIEW_SLICE_RETIRED;
	}
	new = s->state;
	spin_unlock_irq(&s->lock);

	if (new == old)
		return new;
	memview_event_state(s, old, new, reason);
	if (new == MEMVIEW_SLICE_FENCING) {
		pr_warn("%s: slice %u fenced (%s), evacuating\n", s->region->label,
			s->id, reason == MEMVIEW_FENCE_ADMIN ? "administrator" :
			reason == MEMVIEW_FENCE_UNCORRECTABLE ?
			"uncorrectable error" : "corrected-error threshold");
		queue_delayed_work(memview_ras_wq, &s->evac_work, 0);
	}
	return new;
}

/*
 * Unmap the poisoned pages of @s that are still mapped, in every process.
 * Caller holds memview_srcu and no mmap lock.
 */
static void memview_unmap_poisoned(struct memview_slice *s, unsigned long pfn,
				   unsigned long nr_pages)
{
	struct memview_evac e = {
		.s = s,
		.lo = pfn,
		.hi = pfn + nr_pages,
		.poison_only = true,
	};

	memview_evacuate(&e);
}

/*
 * The evacuation worker.  The region cannot go away under it: removal
 * moves the slice to REMOVING (which stops the pass at its next batch) and
 * cancels this work before it frees the region.
 */
static void memview_evac_work(struct work_struct *work)
{
	struct memview_slice *s = container_of(to_delayed_work(work),
					       struct memview_slice, evac_work);
	struct memview_evac ev = {
		.s = s,
		.lo = s->start_pfn,
		.hi = s->start_pfn + s->nr_pages,
		.to_slices = true,
		.take_srcu = true,
		.fencing = true,
	};
	u32 old = 0, new = 0;
	bool news;
	struct memview_event e = { .type = MEMVIEW_EVENT_EVACUATION };

	/*
	 * Not (or no longer) FENCING: queued by an uncorrectable error found
	 * under an mmap lock (memview_ras_copy_failed()), or unfenced by
	 * force during the pass: unmap the slice's poisoned pages.  A slice
	 * of a region being removed is evacuated by the removal.
	 */
	if (READ_ONCE(s->state) != MEMVIEW_SLICE_FENCING ||
	    memview_evacuate(&ev) == 1) {
		if (READ_ONCE(s->nr_poison)) {
			ev.fencing = false;
			ev.poison_only = true;
			memview_evacuate(&ev);
		}
		return;
	}

	spin_lock_irq(&s->lock);
	if (s->state != MEMVIEW_SLICE_FENCING) {
		spin_unlock_irq(&s->lock);
		return;
	}
	s->evac_passes++;
	/* A retry that changed nothing is not an event: no flood at 1/s. */
	news = ev.moved || ev.poisoned || s->evac_pending != s->used ||
	       s->evac_passes == 1;
	s->evac_pending = s->used;
	s->evac_ns = ktime_get_ns() - s->evac_start;
	old = s->state;
	if (!s->used) {
		s->state = s->retire ? MEMVIEW_SLICE_RETIRED :
				       MEMVIEW_SLICE_FENCED;
	} else {
		s->evac_backoff_ms = s->evac_backoff_ms ?
			min(s->evac_backoff_ms * 2, MEMVIEW_EVAC_MAX_BACKOFF_MS) : 10;
	}
	new = s->state;
	e.slice_id = s->id;
	e.region_id = s->region->id;
	e.old_state = new;
	e.new_state = new;
	e.count = ev.moved;
	e.pending = s->evac_pending;
	/*
	 * The records go into the ring before the new state can be seen
	 * (memview_events_lock nests inside the slice lock): a FENCE_WAIT
	 * that returns on FENCED finds them there.
	 */
	if (news || new != old)
		memview_event_emit(&e);
	if (new != old)
		memview_event_state(s, old, new, 0);
	spin_unlock_irq(&s->lock);

	if (new != old) {
		pr_info("%s: slice %u %s: %llu pages moved, %llu poisoned, in %llu ms\n",
			s->region->label, s->id,
			new == MEMVIEW_SLICE_RETIRED ? "retired" : "fenced",
			s->evac_moved, s->evac_poisoned, s->evac_ns / NSEC_PER_MSEC);
	} else {
		queue_delayed_work(memview_ras_wq, &s->evac_work,
				   msecs_to_jiffies(s->evac_backoff_ms));
	}
}

/*
 * Remember @pfn as bad.  Best effort: if the allocation fails, the removal
 * of its region records it again (memview_bad_pages_save()).
 */
static int memview_bad_pfn_record(unsigned long pfn)
{
	might_sleep();
	return xa_err(xa_store(&memview_bad_pfns, pfn, xa_mk_value(0),
			       GFP_KERNEL));
}

/**
 * memview_region_retire_pfns - mark pages of a region not yet published bad
 * @r: the region, not on memview_regions yet (memview_region_mutex held):
 *	none of its pages is in use
 * @pfn: first page
 * @nr: pages from @pfn; what lies outside the slices is skipped
 *
 * Each page is retired (poisoned and never handed out) at once.  Returns
 * the pages newly retired.
 */
unsigned long memview_region_retire_pfns(struct memview_region *r,
					 unsigned long pfn, unsigned long nr)
{
	unsigned long pages = memview_slice_size >> PAGE_SHIFT, n = 0, p;
	unsigned long lo = max(pfn, r->start_pfn), hi = min(pfn + nr, r->end_pfn);
	bool in_use;

	lockdep_assert_held(&memview_region_mutex);
	for (p = lo; p < hi; p++) {
		struct memview_slice *s = &r->slices[(p - r->start_pfn) / pages];

		n += memview_slice_poison(s, p, &in_use);
		WARN_ON_ONCE(in_use);
	}
	return n;
}

/*
 * REGION_ADD: retire the pages of @r known to be bad from an earlier life
 * of the range.  Caller holds memview_region_mutex; @r is not
 * published yet.  Returns the pages retired.
 */
unsigned long memview_bad_pages_restore(struct memview_region *r)
{
	unsigned long pfn, n = 0;
	void *entry;

	lockdep_assert_held(&memview_region_mutex);
	xa_for_each_range(&memview_bad_pfns, pfn, entry, r->start_pfn,
			  r->end_pfn - 1)
		n += memview_region_retire_pfns(r, pfn, 1);
	return n;
}

/*
 * REGION_REMOVE: remember every poisoned page of @r (off memview_regions,
 * about to be freed) for the next REGION_ADD of its range; with @forget,
 * forget instead every bad page of its range (REMOVE_FORGET_BAD: the media
 * was replaced).
 */
void memview_bad_pages_save(struct memview_region *r, bool forget)
{
	unsigned long bit, lost = 0;
	void *entry;
	u32 i;

	if (forget) {
		xa_for_each_range(&memview_bad_pfns, bit, entry, r->start_pfn,
				  r->end_pfn - 1)
			xa_erase(&memview_bad_pfns, bit);
		return;
	}
	for (i = 0; i < r->nr_slices; i++) {
		struct memview_slice *s = &r->slices[i];

		for_each_set_bit(bit, s->poison_map, s->nr_pages)
			if (memview_bad_pfn_record(s->start_pfn + bit))
				lost++;
	}
	if (lost)
		pr_warn("%s: %lu poisoned pages not remembered (no memory): adding the range again hands them out\n",
			r->label, lost);
}

/**
 * memview_slice_error - count memory errors on @s and act on them
 * @s: the slice
 * @pfn: first page the error covers, 0 for the slice as a whole
 * @nr_pages: pages from @pfn the error covers (inside @s)
 * @severity: enum memview_error_severity
 * @source: enum memview_error_source
 * @count: errors to count (injection), >= 1
 * @addr: the address reported (for the event)
 * @poisoned: out: pages newly poisoned
 * @mapped: out, NULL when the caller holds an mmap lock: pages poisoned
 *	that are still mapped (pinned or locked now; an evacuation pass or the
 *	next error retries).  Without it, the pages are unmapped by the
 *	slice's worker.
 *
 * Caller holds memview_srcu.  Returns the slice's state afterwards.
 */
static u32 memview_slice_error(struct memview_slice *s, unsigned long pfn,
			       unsigned long nr_pages, u32 severity,
			       u32 source, u32 count, u64 addr, u64 *poisoned,
			       unsigned long *mapped)
{
	bool ue = severity == MEMVIEW_ERROR_UNCORRECTABLE, fence = false;
	u32 thr, window_ms, ras, old, new, reason;
	struct memview_event e = {
		.type = MEMVIEW_EVENT_ERROR,
		.slice_id = s->id,
		.region_id = s->region->id,
		.reason = severity,
		.source = source,
		.phys_addr = addr,
	};
	unsigned long i, in_use = 0;

	memview_ras_policy(&thr, &window_ms, &ras);
	*poisoned = 0;
	for (i = 0; ue && pfn && i < nr_pages; i++) {
		bool used;

		if (memview_slice_poison(s, pfn + i, &used)) {
			(*poisoned)++;
			memview_bad_pfn_record(pfn + i);
		} else {	/* poisoned before: still mapped? */
			used = folio_mapped(pfn_folio(pfn + i));
		}
		in_use += used;
		/* An error report may cover a whole slice. */
		cond_resched();
	}
	if (in_use && mapped) {
		memview_unmap_poisoned(s, pfn, nr_pages);
		for (i = 0; i < nr_pages; i++)
			if (folio_mapped(pfn_folio(pfn + i)))
				(*mapped)++;
	} else if (in_use) {
		queue_delayed_work(memview_ras_wq, &s->evac_work, 0);
	}

	atomic64_add(count, &s->errors);
	e.count = atomic64_add_return(count, ue ? &s->ue : &s->ce);

	spin_lock_irq(&s->lock);
	if (!ue) {
		if (time_after(jiffies, s->window_start +
					msecs_to_jiffies(window_ms)) ||
		    !s->window_ce) {
			s->window_start = jiffies;
			s->window_ce = 0;
		}
		s->window_ce = min_t(u64, (u64)s->window_ce + count, U32_MAX);
		fence = (ras & MEMVIEW_RAS_FENCE_ON_CE) && s->window_ce >= thr;
		reason = MEMVIEW_FENCE_CE_THRESHOLD;
	} else {
		fence = ras & MEMVIEW_RAS_FENCE_ON_UE;
		reason = MEMVIEW_FENCE_UNCORRECTABLE;
	}
	old = s->state;
	if (old == MEMVIEW_SLICE_ONLINE)
		s->state = MEMVIEW_SLICE_DEGRADED;
	new = s->state;
	e.old_state = e.new_state = new;
	spin_unlock_irq(&s->lock);

	pr_err_ratelimited("%s: %s memory error at %#llx (slice %u, source %u)\n",
			   s->region->label, ue ? "uncorrectable" : "corrected",
			   e.phys_addr, s->id, source);
	memview_event_emit(&e);
	if (new != old)
		memview_event_state(s, old, new, 0);
	if (fence)
		new = memview_fence(s, reason, false);
	return new;
}

/* dev_pagemap_ops.memory_failure: an uncorrectable error on slice pages. */
int memview_ras_memory_failure(struct memview_region *r, unsigned long pfn,
			       unsigned long nr_pages)
{
	int idx;
	unsigned long pages = memview_slice_size >> PAGE_SHIFT, i, n;
	unsigned long mapped = 0;
	u64 poisoned;

	idx = srcu_read_lock(&memview_srcu);
	for (i = 0; i < nr_pages; i += n) {
		unsigned long p = pfn + i;
		struct memview_slice *s;

		n = 1;
		if (p < r->start_pfn || p >= r->end_pfn)
			continue;
		s = &r->slices[(p - r->start_pfn) / pages];
		n = min(nr_pages - i, s->start_pfn + s->nr_pages - p);
		memview_slice_error(s, p, n, MEMVIEW_ERROR_UNCORRECTABLE,
				    MEMVIEW_SRC_MEMORY_FAILURE, 1, PFN_PHYS(p),
				    &poisoned, &mapped);
		cond_resched();
	}
	srcu_read_unlock(&memview_srcu, idx);
	/*
	 * A page that could not be unmapped now: not recovered.  The kernel
	 * then kills the task that consumed the poison, as it does for memory
	 * it cannot isolate.
	 */
	return mapped ? -EBUSY : 0;
}

/*
 * memview's own copy from slice page @pfn hit poison (or read back
 * different data), or the read-back of @pfn as a copy's destination hit
 * poison: an uncorrectable error.  Caller holds memview_srcu, an mmap
 * lock and no page lock of @pfn: the slice's worker unmaps the page if it
 * is mapped (a destination is not; its caller's put_page() retires it).
 * Nothing for a pfn outside the slices (DRAM: the kernel's own).
 */
void memview_ras_copy_failed(unsigned long pfn)
{
	struct memview_slice *s = memview_pfn_to_slice(pfn);
	u64 poisoned;

	memview_assert_regions();
	if (s)
		memview_slice_error(s, pfn, 1, MEMVIEW_ERROR_UNCORRECTABLE,
				    MEMVIEW_SRC_MEMORY_FAILURE, 1, PFN_PHYS(pfn),
				    &poisoned, NULL);
}

/*
 * ERROR_REPORT and ERROR_INJECT: validate, find the slice, count the
 * error.  @inject selects the rules of ERROR_INJECT.
 */
static int memview_error(struct memview_error *cmd, bool inject)
{
	int idx;
	unsigned long pfn = 0, nr = 0, mapped = 0;
	struct memview_slice *s;
	u32 count = cmd->count ? cmd->count : 1;
	u64 len = cmd->length ? cmd->length : 1, last;
	bool whole = inject && (cmd->flags & MEMVIEW_INJECT_SLICE);
	int ret = 0;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (cmd->flags & ~(inject ? MEMVIEW_INJECT_SLICE : 0))
		return -EINVAL;
	if (cmd->severity > MEMVIEW_ERROR_UNCORRECTABLE)
		return -EINVAL;
	if (inject ? cmd->source != MEMVIEW_SRC_INJECT :
		     (cmd->source < MEMVIEW_SRC_CXL_POISON ||
		      cmd->source > MEMVIEW_SRC_MAX))
		return -EINVAL;
	if (inject ? count > MEMVIEW_INJECT_MAX : count > 1)
		return -EINVAL;
	if (whole ? cmd->phys_addr || cmd->length :
		    cmd->slice_id || cmd->length > memview_slice_size)
		return -EINVAL;
	if (!whole && check_add_overflow(cmd->phys_addr, len - 1, &last))
		return -EOVERFLOW;

	idx = srcu_read_lock(&memview_srcu);
	if (whole) {
		s = memview_slice_find(cmd->slice_id);
	} else {
		s = memview_pfn_to_slice(PHYS_PFN(cmd->phys_addr));
		if (s) {
			/* The pages covered, up to the end of the slice. */
			pfn = PHYS_PFN(cmd->phys_addr);
			nr = min(PHYS_PFN(last) + 1, s->start_pfn + s->nr_pages) -
			     pfn;
		}
	}
	if (!s) {
		ret = -ENOENT;
		goto out;
	}
	cmd->out_slice_id = s->id;
	cmd->out_state = memview_slice_error(s, pfn, nr, cmd->severity,
					     inject ? MEMVIEW_SRC_INJECT :
						      cmd->source,
					     count, cmd->phys_addr,
					     &cmd->out_pages_poisoned, &mapped);
out:
	srcu_read_unlock(&memview_srcu, idx);
	return ret;
}

int memview_error_report(struct memview_error *cmd)
{
	return memview_error(cmd, false);
}

int memview_error_inject(struct memview_error *cmd)
{
	return memview_error(cmd, true);
}

static void memview_fence_fill(struct memview_slice *s,
			       struct memview_slice_fence *cmd)
{
	spin_lock_irq(&s->lock);
	cmd->out_state = s->state;
	cmd->out_evac_moved = s->evac_moved;
	cmd->out_evac_pending = s->evac_pending;
	spin_unlock_irq(&s->lock);
}

/* Wait until slice @id is no longer FENCING (or gone). */
static int memview_fence_wait(struct memview_slice_fence *cmd)
{
	int idx;
	for (;;) {
		struct memview_slice *s;
		u64 seq = memview_event_seq();
		bool done;

		idx = srcu_read_lock(&memview_srcu);
		s = memview_slice_find(cmd->slice_id);
		if (s)
			memview_fence_fill(s, cmd);
		done = !s || cmd->out_state != MEMVIEW_SLICE_FENCING;
		srcu_read_unlock(&memview_srcu, idx);
		if (done)
			return s ? 0 : -ENOENT;
		/* Every end of a pass is an event. */
		if (wait_event_interruptible(memview_event_wait,
					     memview_event_seq() != seq))
			return -EINTR;
	}
}

int memview_slice_fence(struct memview_slice_fence *cmd)
{
	int idx;
	struct memview_slice *s;
	int ret = 0;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (cmd->flags & ~(MEMVIEW_FENCE_WAIT | MEMVIEW_FENCE_RETIRE))
		return -EINVAL;
	idx = srcu_read_lock(&memview_srcu);
	s = memview_slice_find(cmd->slice_id);
	if (!s) {
		ret = -ENOENT;
	} else {
		if (READ_ONCE(s->state) == MEMVIEW_SLICE_REMOVING)
			ret = -EBUSY;
		else
			memview_fence(s, MEMVIEW_FENCE_ADMIN,
				      cmd->flags & MEMVIEW_FENCE_RETIRE);
		memview_fence_fill(s, cmd);
	}
	srcu_read_unlock(&memview_srcu, idx);
	if (ret || !(cmd->flags & MEMVIEW_FENCE_WAIT))
		return ret;
	return memview_fence_wait(cmd);
}

int memview_slice_unfence(struct memview_slice_fence *cmd)
{
	int idx;
	struct memview_slice *s;
	u32 old = 0, new = 0;
	int ret = 0;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (cmd->flags & ~MEMVIEW_UNFENCE_FORCE)
		return -EINVAL;
	idx = srcu_read_lock(&memview_srcu);
	s = memview_slice_find(cmd->slice_id);
	if (!s) {
		ret = -ENOENT;
		goto out;
	}
	spin_lock_irq(&s->lock);
	old = new = s->state;
	switch (old) {
	case MEMVIEW_SLICE_FENCING:
		/* FORCE stops an evacuation that cannot finish (pinned pages). */
		if (!(cmd->flags & MEMVIEW_UNFENCE_FORCE)) {
			ret = -EBUSY;
			break;
		}
		fallthrough;
	case MEMVIEW_SLICE_FENCED:
		if (atomic64_read(&s->ue) &&
		    !(cmd->flags & MEMVIEW_UNFENCE_FORCE)) {
			ret = -EHWPOISON;
			break;
		}
		if (old == MEMVIEW_SLICE_FENCING)
			s->evac_ns = ktime_get_ns() - s->evac_start;
		new = atomic64_read(&s->errors) ? MEMVIEW_SLICE_DEGRADED :
						  MEMVIEW_SLICE_ONLINE;
		s->state = new;
		s->window_ce = 0;
		s->window_start = jiffies;
		break;
	case MEMVIEW_SLICE_RETIRED:
		ret = -ENODEV;
		break;
	case MEMVIEW_SLICE_REMOVING:
		ret = -EBUSY;
		break;
	default:	/* ONLINE, DEGRADED: nothing to do */
		break;
	}
	spin_unlock_irq(&s->lock);
	memview_fence_fill(s, cmd);
	if (new != old) {
		memview_event_state(s, old, new, 0);
		pr_info("%s: slice %u back in service\n", s->region->label,
			s->id);
	}
out:
	srcu_read_unlock(&memview_srcu, idx);
	return ret;
}

/**
 * memview_ras_region_removing - a region removal begins or fails
 * @r: the region
 * @removing: true: every slice goes to REMOVING (a fence under way stops at
 *	its next batch); false: the removal failed, the slices get their
 *	states back and a stopped fence resumes
 *
 * Caller holds memview_region_mutex.  The transitions are events, so
 * a FENCE_WAIT on a slice of @r wakes up.
 */
void memview_ras_region_removing(struct memview_region *r, bool removing)
{
	u32 i, thr, window_ms, ras;

	lockdep_assert_held(&memview_region_mutex);
	memview_ras_policy(&thr, &window_ms, &ras);
	for (i = 0; i < r->nr_slices; i++) {
		struct memview_slice *s = &r->slices[i];
		u32 from, to;

		if (removing) {
			s->saved_ue = atomic64_read(&s->ue);
			from = memview_slice_set_state(s, MEMVIEW_SLICE_REMOVING);
			s->saved_state = from;
			to = MEMVIEW_SLICE_REMOVING;
		} else {
			from = MEMVIEW_SLICE_REMOVING;
			to = s->saved_state;
			memview_slice_set_state(s, to);
			/* Resume a fence; unmap what an error left mapped. */
			if (to == MEMVIEW_SLICE_FENCING || s->nr_poison)
				queue_delayed_work(memview_ras_wq,
						   &s->evac_work, 0);
		}
		if (from != to)
			memview_event_state(s, from, to, 0);
		/*
		 * An uncorrectable error during the removal found the slice
		 * REMOVING, which a fence leaves alone: fence it now.
		 */
		if (!removing && (ras & MEMVIEW_RAS_FENCE_ON_UE) &&
		    atomic64_read(&s->ue) != s->saved_ue)
			memview_fence(s, MEMVIEW_FENCE_UNCORRECTABLE, false);
	}
}

/*
 * Region removal: the region is off the list and its slices are
 * REMOVING, so no pass restarts; wait for a pass under way to see that.
 * Called with memview_region_mutex, outside memview_srcu.
 */
void memview_ras_region_removed(struct memview_region *r)
{
	u32 i;

	for (i = 0; i < r->nr_slices; i++)
		cancel_delayed_work_sync(&r->slices[i].evac_work);
}

/**
 * struct memview_file - an open /dev/memview
 * @lock: serialises readers of this file; protects @seq
 * @seq: sequence number of the next event this file reads
 */
struct memview_file {
	struct mutex lock;
	u64 seq;
};

/*
 * Events are for whoever opened the device with CAP_SYS_ADMIN: the check is
 * on the opener's credentials (f_cred), as the kernel does for files whose
 * use is decided at open.  A descriptor an unprivileged process opened
 * gives no events even to a set-user-ID program it tricks into reading it;
 * one an administrator opened and handed to a monitor keeps working.
 */
static bool memview_file_admin(struct file *file)
{
	return file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN);
}

int memview_events_open(struct inode *inode, struct file *file)
{
	struct memview_file *mf = kzalloc(sizeof(*mf), GFP_KERNEL);

	if (!mf)
		return -ENOMEM;
	mutex_init(&mf->lock);
	mf->seq = memview_event_seq();
	file->private_data = mf;
	return 0;
}

int memview_events_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

/* Take the next event for @mf into @e; false if none is waiting. */
static bool memview_event_take(struct memview_file *mf,
			       struct memview_event *e)
{
	unsigned long flags;
	bool got = true;

	spin_lock_irqsave(&memview_events_lock, flags);
	if (mf->seq >= memview_event_next) {
		got = false;
	} else if (memview_event_next - mf->seq > MEMVIEW_EVENTS) {
		u64 oldest = memview_event_next - MEMVIEW_EVENTS;

		memset(e, 0, sizeof(*e));
		e->size = sizeof(*e);
		e->type = MEMVIEW_EVENT_LOST;
		e->seq = mf->seq;
		e->time_ns = ktime_get_real_ns();
		e->count = oldest - mf->seq;
		mf->seq = oldest;
	} else {
		*e = memview_events[mf->seq % MEMVIEW_EVENTS];
		mf->seq++;
	}
	spin_unlock_irqrestore(&memview_events_lock, flags);
	return got;
}

ssize_t memview_events_read(struct file *file, char __user *buf, size_t len,
			    loff_t *ppos)
{
	struct memview_file *mf = file->private_data;
	struct memview_event e;
	size_t done = 0;
	int ret;

	if (!memview_file_admin(file))
		return -EPERM;
	if (len < sizeof(e))
		return -EINVAL;
	if (file->f_flags & O_NONBLOCK) {
		if (!mutex_trylock(&mf->lock))
			return -EAGAIN;
	} else if (mutex_lock_interruptible(&mf->lock)) {
		return -ERESTARTSYS;
	}
	while (done + sizeof(e) <= len) {
		if (!memview_event_take(mf, &e)) {
			if (done)
				break;
			if (file->f_flags & O_NONBLOCK) {
				ret = -EAGAIN;
				goto out;
			}
			mutex_unlock(&mf->lock);
			ret = wait_event_interruptible(memview_event_wait,
					memview_event_seq() > READ_ONCE(mf->seq));
			if (ret)
				return ret;
			if (mutex_lock_interruptible(&mf->lock))
				return -ERESTARTSYS;
			continue;
		}
		if (copy_to_user(buf + done, &e, sizeof(e))) {
			mf->seq = e.seq;	/* not read: read it again */
			ret = done ? 0 : -EFAULT;
			goto out;
		}
		done += sizeof(e);
	}
	ret = 0;
out:
	mutex_unlock(&mf->lock);
	return done ? done : ret;
}

__poll_t memview_events_poll(struct file *file, struct poll_table_struct *pt)
{
	struct memview_file *mf = file->private_data;

	if (!memview_file_admin(file))
		return EPOLLERR;
	poll_wait(file, &memview_event_wait, pt);
	return memview_event_seq() > READ_ONCE(mf->seq) ? EPOLLIN | EPOLLRDNORM : 0;
}

int memview_ras_init(void)
{
	memview_ras_wq = alloc_workqueue("memview_ras", WQ_UNBOUND, 0);
	return memview_ras_wq ? 0 : -ENOMEM;
}

void memview_ras_exit(void)
{
	destroy_workqueue(memview_ras_wq);
	xa_destroy(&memview_bad_pfns);
}
