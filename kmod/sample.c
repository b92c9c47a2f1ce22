// SPDX-License-Identifier: GPL-2.0
/*
 * Page-fault sampling: one kernel perf counter on the software page-fault
 * event per thread of a tiered process, sampling the faulting address.
 *
 * What it sees: faults that happen - first touch, copy-on-write, swap-in,
 * NUMA hint faults.  Loads and stores to present pages do not fault, so it
 * complements the access-bit scan (placer.c) rather than replacing it: a
 * sampled address marks its page hot for the next scan.  See
 * Documentation/tiering.rst.
 *
 * Threads created after the attach inherit the counters; forked children
 * do too when the process follows its children, and are then attached by
 * the placer the first time they fault.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/perf_event.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "memview-private.h"

/* Threads that get a counter of their own at attach; later ones inherit. */
#define MEMVIEW_MAX_THREADS	256

int memview_fault_sampler = MEMVIEW_FAULT_SAMPLER_SW;

/* Runs in the faulting task, in the page-fault path: no sleeping. */
static void memview_fault_overflow(struct perf_event *event,
				   struct perf_sample_data *data,
				   struct pt_regs *regs)
{
	struct memview_proc *p = event->overflow_handler_context;
	struct pid *tgid = task_tgid(current);
	unsigned long flags;
	u32 i;

	spin_lock_irqsave(&p->sample_lock, flags);
	if (tgid == p->pid) {
		if (p->nr_samples < MEMVIEW_MAX_SAMPLES)
			p->samples[p->nr_samples++] = data->addr;
	} else if (p->flags & MEMVIEW_ATTACH_FOLLOW_CHILDREN) {
		for (i = 0; i < p->nr_children; i++)
			if (p->children[i] == tgid)
				break;
		if (i == p->nr_children && i < MEMVIEW_MAX_CHILDREN)
			p->children[p->nr_children++] = get_pid(tgid);
	}
	spin_unlock_irqrestore(&p->sample_lock, flags);
}

static struct perf_event *memview_fault_counter(struct memview_proc *p,
						struct task_struct *t)
{
	struct perf_event_attr attr = {
		.type		= PERF_TYPE_SOFTWARE,
		.config		= PERF_COUNT_SW_PAGE_FAULTS,
		.size		= sizeof(attr),
		.sample_period	= memview_sample_period(),
		.sample_type	= PERF_SAMPLE_ADDR,
		.inherit	= 1,
		.inherit_thread	= !(p->flags & MEMVIEW_ATTACH_FOLLOW_CHILDREN),
		.exclude_kernel	= 0,
	};

	return perf_event_create_kernel_counter(&attr, -1, t,
						memview_fault_overflow, p);
}

/*
 * The kernel's page-fault path tests a static key before it calls into the
 * software-event code (perf_sw_event() in do_user_addr_fault()): the first
 * page-fault counter on the machine enables it and the last one gone
 * disables it, each time patching kernel text, with interrupts to every
 * CPU.  Attaching and detaching processes one after the other would patch
 * it again and again.  One counter kept for the module's life, bound to a
 * CPU and never enabled, keeps the key on: the text is patched at load and
 * at unload only.  The cost is the key's, paid by every page fault on the
 * machine while memview is loaded: a look at the CPU's software-event list
 * for the page-fault event, which is empty unless some process is sampled.
 */
static struct perf_event *memview_fault_key_pin;

void memview_sampler_init(void)
{
	struct perf_event_attr attr = {
		.type		= PERF_TYPE_SOFTWARE,
		.config		= PERF_COUNT_SW_PAGE_FAULTS,
		.size		= sizeof(attr),
		.disabled	= 1,
	};
	struct perf_event *ev;

	if (!READ_ONCE(memview_fault_sampler))
		return;
	ev = perf_event_create_kernel_counter(&attr,
					      cpumask_first(cpu_online_mask),
					      NULL, NULL, NULL);
	if (IS_ERR(ev)) {
		pr_info("page-fault event not kept on (%ld): attaches patch kernel text\n",
			PTR_ERR(ev));
		return;
	}
	memview_fault_key_pin = ev;
}

void memview_sampler_exit(void)
{
	if (memview_fault_key_pin)
		perf_event_release_kernel(memview_fault_key_pin);
	memview_fault_key_pin = NULL;
}

/* Start sampling @p's threads.  Failure leaves @p tiered by access bits. */
void memview_sampler_start(struct memview_proc *p)
{
	struct task_struct *task, *t, **threads;
	struct perf_event *ev;
	u32 n = 0, i;

	if (!READ_ONCE(memview_fault_sampler))
		return;
	task = get_pid_task(p->pid, PIDTYPE_TGID);
	if (!task)
		return;
	threads = kcalloc(MEMVIEW_MAX_THREADS, sizeof(*threads), GFP_KERNEL);
	p->events = kcalloc(MEMVIEW_MAX_THREADS, sizeof(*p->events),
			    GFP_KERNEL);
	if (!threads || !p->events)
		goto out;

	rcu_read_lock();
	for_each_thread(task, t) {
		if (n == MEMVIEW_MAX_THREADS)
			break;
		get_task_struct(t);
		threads[n++] = t;
	}
	rcu_read_unlock();

	for (i = 0; i < n; i++) {
		ev = memview_fault_counter(p, threads[i]);
		if (!IS_ERR(ev)) {
			p->events[p->nr_events++] = ev;
		} else if (PTR_ERR(ev) != -ESRCH && PTR_ERR(ev) != -ENOMEM) {
			/* Not a thread that is exiting: the host cannot. */
			pr_info_once("page-fault sampling unavailable: %ld\n",
				     PTR_ERR(ev));
			WRITE_ONCE(memview_fault_sampler,
				   MEMVIEW_FAULT_SAMPLER_NONE);
		}
		put_task_struct(threads[i]);
	}
out:
	if (!p->nr_events) {
		kfree(p->events);
		p->events = NULL;
	}
	kfree(threads);
	put_task_struct(task);
}

/* Stop sampling @p and wait until no overflow handler can still run on it. */
void memview_sampler_stop(struct memview_proc *p)
{
	u32 i;

	if (!p->nr_events)
		return;
	for (i = 0; i < p->nr_events; i++)
		perf_event_release_kernel(p->events[i]);
	/* Handlers run under RCU (the software-event path holds it). */
	synchronize_rcu();
	kfree(p->events);
	p->events = NULL;
	p->nr_events = 0;
}
