// SPDX-License-Identifier: GPL-2.0
/*
 * The slice page allocator.
 *
 * Each slice keeps a bitmap of its pages: a set bit is a page that is
 * allocated or retired after a memory error.  Pages are handed out from the
 * least used healthy slice; page_free returns them to their own slice.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>

#include "memview-private.h"

int memview_slice_init(struct memview_slice *s, struct memview_region *r,
		       u32 index)
{
	unsigned long pages = memview_slice_size >> PAGE_SHIFT;

	s->region = r;
	s->index = index;
	s->start_pfn = r->start_pfn + index * pages;
	s->nr_pages = pages;
	spin_lock_init(&s->lock);
	s->state = MEMVIEW_SLICE_ONLINE;
	atomic64_set(&s->migrations_in, 0);
	atomic64_set(&s->migrations_out, 0);
	atomic64_set(&s->errors, 0);
	atomic64_set(&s->ce, 0);
	atomic64_set(&s->ue, 0);
	memview_ras_slice_init(s);
	s->busy_map = bitmap_zalloc(pages, GFP_KERNEL);
	s->poison_map = bitmap_zalloc(pages, GFP_KERNEL);
	if (!s->busy_map || !s->poison_map) {
		memview_slice_destroy(s);
		return -ENOMEM;
	}
	return 0;
}

void memview_slice_destroy(struct memview_slice *s)
{
	bitmap_free(s->busy_map);
	bitmap_free(s->poison_map);
	s->busy_map = NULL;
	s->poison_map = NULL;
}

bool memview_slice_takes_pages(u32 state)
{
	return state == MEMVIEW_SLICE_ONLINE || state == MEMVIEW_SLICE_DEGRADED;
}

/* Caller holds memview_srcu (read). */
static struct memview_slice *memview_pick_slice(void)
{
	struct memview_slice *best = NULL;
	unsigned long best_free = 0;
	struct memview_region *r;
	u32 i;

	for_each_memview_region(r) {
		for (i = 0; i < r->nr_slices; i++) {
			struct memview_slice *s = &r->slices[i];
			unsigned long free;
			u32 state;

			spin_lock_irq(&s->lock);
			free = s->nr_pages - s->busy;
			state = s->state;
			spin_unlock_irq(&s->lock);
			if (memview_slice_takes_pages(state) && free > best_free) {
				best = s;
				best_free = free;
			}
		}
	}
	return best;
}

/* Has some slice room for a page now?  Caller holds memview_srcu. */
bool memview_slices_take_pages(void)
{
	return memview_pick_slice();
}

static struct page *memview_slice_alloc(struct memview_slice *s)
{
	unsigned long flags, bit;
	struct page *page = NULL;

	spin_lock_irqsave(&s->lock, flags);
	if (!memview_slice_takes_pages(s->state) || s->busy == s->nr_pages)
		goto out;
	bit = find_next_zero_bit(s->busy_map, s->nr_pages, s->hint);
	if (bit >= s->nr_pages)
		bit = find_first_zero_bit(s->busy_map, s->nr_pages);
	if (WARN_ON_ONCE(bit >= s->nr_pages))
		goto out;
	__set_bit(bit, s->busy_map);
	s->busy++;
	s->used++;
	s->hint = bit + 1 < s->nr_pages ? bit + 1 : 0;
	page = pfn_to_page(s->start_pfn + bit);
out:
	spin_unlock_irqrestore(&s->lock, flags);
	return page;
}

/**
 * memview_alloc_page - allocate one slice page
 * @pick: cursor of the current batch; starts with slice == NULL
 *
 * Caller holds memview_srcu (read), so no slice goes away.  The page comes
 * back not yet initialised: the caller passes it to zone_device_page_init().
 * Returns NULL when every healthy slice is full.
 */
struct page *memview_alloc_page(struct memview_slice_pick *pick)
{
	struct page *page;

	memview_assert_regions();
	if (pick->slice) {
		page = memview_slice_alloc(pick->slice);
		if (page)
			return page;
	}
	/* Slices fill concurrently: retry the pick a bounded number of times. */
	for (int tries = 0; tries < 4; tries++) {
		pick->slice = memview_pick_slice();
		if (!pick->slice)
			return NULL;
		page = memview_slice_alloc(pick->slice);
		if (page)
			return page;
	}
	return NULL;
}

/**
 * memview_alloc_page_locked - allocate one slice page, initialised and locked
 * @pick: as for memview_alloc_page()
 *
 * A page poisoned between its allocation and zone_device_page_init() (it
 * got PG_hwpoison while its refcount was 0, so nobody could unmap it) is
 * given back, to be retired by page_free, and another one is taken.
 */
struct page *memview_alloc_page_locked(struct memview_slice_pick *pick)
{
	struct page *page;

	while ((page = memview_alloc_page(pick))) {
		memview_zone_device_page_init(page, &pick->slice->region->pgmap);
		if (!PageHWPoison(page))
			break;
		unlock_page(page);
		put_page(page);
	}
	return page;
}

/* dev_pagemap_ops.page_free: the last reference to a slice page is gone. */
void memview_page_free(struct page *page)
{
	unsigned long pfn = page_to_pfn(page), flags, bit;
	struct memview_region *r =
		container_of(memview_page_pgmap(page), struct memview_region, pgmap);
	struct memview_slice *s;

	s = &r->slices[(pfn - r->start_pfn) / (memview_slice_size >> PAGE_SHIFT)];
	bit = pfn - s->start_pfn;
	spin_lock_irqsave(&s->lock, flags);
	if (WARN_ON_ONCE(!test_bit(bit, s->busy_map) || !s->used)) {
		spin_unlock_irqrestore(&s->lock, flags);
		return;
	}
	s->used--;
	/* A poisoned page stays busy: it is retired, never handed out again. */
	if (test_bit(bit, s->poison_map)) {
		s->poisoned++;
	} else {
		__clear_bit(bit, s->busy_map);
		s->busy--;
	}
	spin_unlock_irqrestore(&s->lock, flags);
}

/**
 * memview_slice_poison - mark @pfn of @s poisoned: never handed out again
 * @s: the slice
 * @pfn: a page of @s
 * @in_use: out: the page is allocated (mapped or in flight)
 *
 * A free page is retired at once.  A page in use gets PG_hwpoison, under the
 * slice lock so that no allocation or free races with it: from then on every
 * unmap of it (migrate_device_range(), evacuation) leaves a hwpoison entry,
 * and page_free retires it; *@in_use tells the caller to unmap it.
 * Returns false if the page was poisoned already.
 */
bool memview_slice_poison(struct memview_slice *s, unsigned long pfn,
			  bool *in_use)
{
	unsigned long bit = pfn - s->start_pfn, flags;
	bool fresh = false;

	*in_use = false;
	spin_lock_irqsave(&s->lock, flags);
	if (!__test_and_set_bit(bit, s->poison_map)) {
		fresh = true;
		s->nr_poison++;
		if (!__test_and_set_bit(bit, s->busy_map)) {
			s->busy++;
			s->poisoned++;
		} else {
			SetPageHWPoison(pfn_to_page(pfn));
			*in_use = true;
		}
	}
	spin_unlock_irqrestore(&s->lock, flags);
	return fresh;
}

unsigned long memview_slice_used(struct memview_slice *s)
{
	unsigned long used;

	spin_lock_irq(&s->lock);
	used = s->used;
	spin_unlock_irq(&s->lock);
	return used;
}

/* Set @s's state; returns the previous one. */
u32 memview_slice_set_state(struct memview_slice *s, u32 state)
{
	u32 old;

	spin_lock_irq(&s->lock);
	old = s->state;
	s->state = state;
	spin_unlock_irq(&s->lock);
	return old;
}
