// SPDX-License-Identifier: GPL-2.0
/*
 * memview fault isolation (Documentation/ras.rst): memory errors on slices,
 * fences and their evacuations, the slice state machine, RAS policy, the
 * event stream of /dev/memview, ERROR_REPORT / ERROR_INJECT validation and
 * the SLICE_LIST entry_size ABI.
 *
 * Every test leaves the module as it found it: slices it fenced outside
 * the fixture's region are unfenced (with FORCE) and a policy it changed is
 * put back in the teardown; the fixture's region, whatever state its
 * slices are in (RETIRED included), is removed and added again by the
 * next test's setup.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "memview_harness.h"

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#ifndef EHWPOISON
#define EHWPOISON 133
#endif

#define PS		MV_PAGE_SIZE
#define MAX_TRACKED	256
#define CHILD_MS	120000	/* liveness guard for a child's answer */
#define BAD_ID		0xfffffff0u

FIXTURE(ras) {
	struct mv_fixture f;
	struct memview_policy saved;
	bool policy_changed;
	/* slices of any region fenced here, unfenced in the teardown */
	__u32 tracked[MAX_TRACKED];
	__u32 nr_tracked;
};

FIXTURE_VARIANT(ras) {
	const struct mv_target *target;
};

MV_TARGET_VARIANTS(ras);

FIXTURE_SETUP(ras)
{
	MV_FIXTURE_SETUP(&self->f, variant->target, true, true);
	if (!mv_has_ras(&self->f.info))
		SKIP(return, "module without MEMVIEW_FEATURE_RAS");
	ASSERT_EQ(0, mv_get_policy(self->f.fd, &self->saved));
}

FIXTURE_TEARDOWN(ras)
{
	struct memview_slice_entry e;
	struct memview_policy p;
	__u32 i;
	int ret;

	_metadata->trigger = 0;
	if (self->f.fd >= 0) {
		for (i = 0; i < self->nr_tracked; i++) {
			if (mv_slice_get(self->f.fd, self->tracked[i], &e))
				continue;	/* its region is gone */
			if (e.state == MEMVIEW_SLICE_FENCING)
				EXPECT_EQ(0, mv_wait_slice_settled(self->f.fd,
								   e.id, &e));
			if (e.state != MEMVIEW_SLICE_FENCED)
				continue;
			ret = mv_unfence(self->f.fd, e.id,
					 MEMVIEW_UNFENCE_FORCE, NULL);
			EXPECT_EQ(0, ret) TH_LOG("teardown: UNFENCE %u: %s",
						 e.id, strerror(-ret));
		}
		if (self->policy_changed) {
			p = self->saved;
			p.valid = MEMVIEW_POLICY_ALL;
			ret = mv_set_policy(self->f.fd, &p);
			EXPECT_EQ(0, ret) TH_LOG("teardown: SET_POLICY: %s",
						 strerror(-ret));
		}
	}
	MV_FIXTURE_TEARDOWN(&self->f);
}

static void track(struct __test_metadata *_metadata,
		  FIXTURE_DATA(ras) *self, __u32 id)
{
	ASSERT_GT((__u32)MAX_TRACKED, self->nr_tracked);
	self->tracked[self->nr_tracked++] = id;
}

/* total = used + free + poisoned, on one slice. */
#define EXPECT_CONSISTENT(e)						\
	EXPECT_EQ((e).total_pages, (e).used_pages + (e).free_pages +	\
		  (e).poisoned_pages) mv_slice_print(&(e))

/* Get slice @id and wait until it is no longer FENCING. */
#define SETTLE(fx, id, e) do {						\
	int __s = mv_wait_slice_settled((fx)->fd, (id), &(e));		\
	ASSERT_EQ(0, __s) TH_LOG("waiting for slice %u: %s", (id),	\
				 strerror(-__s));			\
} while (0)

static void get_slice(struct __test_metadata *_metadata, int fd, __u32 id,
		      struct memview_slice_entry *e)
{
	int ret = mv_slice_get(fd, id, e);

	ASSERT_EQ(0, ret) TH_LOG("slice %u: %s", id, strerror(-ret));
}

/* The slices of the fixture's region, malloc()ed; *n at least 1. */
static struct memview_slice_entry *region_slices(
	struct __test_metadata *_metadata, struct mv_fixture *fx, __u32 *n)
{
	struct memview_slice_entry *s = NULL;

	ASSERT_EQ(0, mv_slice_list(fx->fd, MEMVIEW_SLICE_LIST_REGION,
				   fx->region_id, &s, n));
	ASSERT_LE(1U, *n);
	return s;
}

/* A forked child: die with the test process, never linger. */
static void child_init(struct mv_chan *c)
{
	mv_chan_child(c);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

/*
 * A process of its own that holds @len bytes of stamped pages in slices:
 * it attaches itself, fills, demotes and sends 'r'.  Then 'v' verifies the
 * data (with SIGBUS caught) and exits 0, 11 (SIGBUS) or 12 (data differs);
 * 'q' exits 0 at once.
 */
static int holder_main(struct mv_chan *c, size_t len)
{
	struct memview_migrate m;
	int fd, ret;
	char msg, *buf;

	fd = mv_open();
	if (fd < 0 || mv_attach(fd, getpid(), 0))
		return 2;
	buf = mv_map_anon(len, 0, false);
	if (!buf)
		return 3;
	mv_fill(buf, 0, len, MV_PAT_STAMP, getpid());
	ret = mv_demote(fd, getpid(), buf, len, &m);
	if (ret || m.out_moved != mv_pages(len)) {
		mv_migrate_print("holder: DEMOTE", &m);
		return 4;
	}
	if (mv_chan_send(c->to_parent[1], 'r'))
		return 5;
	if (mv_chan_recv(c->to_child[0], &msg, CHILD_MS))
		return 6;
	if (msg != 'v')
		return 0;
	ret = mv_probe_verify(buf, 0, len, MV_PAT_STAMP, getpid(), NULL);
	return ret == 1 ? 11 : ret ? 12 : 0;
}

static pid_t start_holder(struct __test_metadata *_metadata,
			  struct mv_chan *c, size_t len)
{
	pid_t pid;
	char msg;

	ASSERT_EQ(0, mv_chan_open(c));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		child_init(c);
		_exit(holder_main(c, len));
	}
	mv_chan_parent(c);
	ASSERT_EQ(0, mv_chan_recv(c->to_parent[0], &msg, CHILD_MS))
		TH_LOG("holder %d did not get ready", pid);
	return pid;
}

static void expect_child_ok(struct __test_metadata *_metadata, pid_t pid,
			    const char *what)
{
	int status = mv_wait_child(pid, CHILD_MS);

	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("%s: %s %d", what,
		       status < 0 ? "wait failed" :
		       WIFEXITED(status) ? "exit status" : "killed by signal",
		       status < 0 ? status : WIFEXITED(status) ?
		       WEXITSTATUS(status) : WTERMSIG(status));
}

/*
 * MADV_HWPOISON on a demoted page (memory_failure() on a slice page): the
 * owner gets SIGBUS BUS_MCEERR_AR at that page when it touches it, and
 * nobody else loses anything: not its other pages, not a forked child
 * that has its own copy of that page (the rest shared copy-on-write), not
 * an unrelated process.  The error is counted (errors, uncorrectable,
 * poisoned, GET_INFO out_poisoned_pages) and, by the default policy
 * (FENCE_ON_UE), the slice is fenced and evacuated.
 */
#define HWP_PAGES	64
#define HWP_PAGE	5

TEST_F_TIMEOUT(ras, hwpoison_sigbus, 180)
{
	size_t len = HWP_PAGES * PS, poff = HWP_PAGE * PS;
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry before, e;
	struct memview_info i0, i1;
	struct mv_chan cc, oc;
	struct mv_sigbus sb;
	__u64 sum_lo, sum_hi, n;
	pid_t child, other;
	__u32 sid;
	char msg, *buf;
	int ret;

	MV_SETUP_SKIPPED();
	if (access("/proc/sys/vm/memory_failure_early_kill", F_OK))
		SKIP(return, "kernel without CONFIG_MEMORY_FAILURE");
	ASSERT_EQ(0, (self->saved.ras_flags & MEMVIEW_RAS_FENCE_ON_UE) ? 0 : 1)
		TH_LOG("policy without FENCE_ON_UE: another test left it so");

	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	sum_lo = mv_fill(buf, 0, poff, MV_PAT_STAMP, fx->pid);
	mv_fill(buf, poff, PS, MV_PAT_STAMP, fx->pid);
	sum_hi = mv_fill(buf, poff + PS, len - poff - PS, MV_PAT_STAMP,
			 fx->pid);
	mv_demote_all(_metadata, fx, fx->pid, buf, len);
	ASSERT_EQ(0, mv_residency_slice(fx->fd, fx->pid, buf + poff, PS,
					&sid, &n));

	/* A child sharing the buffer, with its own copy of the page. */
	ASSERT_EQ(0, mv_chan_open(&cc));
	fflush(NULL);
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		pid_t parent = getppid();

		child_init(&cc);
		mv_fill(buf, poff, PS, MV_PAT_STAMP, parent);	/* COW */
		if (mv_chan_send(cc.to_parent[1], 'r') ||
		    mv_chan_recv(cc.to_child[0], &msg, CHILD_MS))
			_exit(10);
		ret = mv_probe_verify(buf, 0, len, MV_PAT_STAMP, parent, NULL);
		_exit(ret == 1 ? 11 : ret ? 12 : 0);
	}
	mv_chan_parent(&cc);
	ASSERT_EQ(0, mv_chan_recv(cc.to_parent[0], &msg, CHILD_MS));
	/* And a process of its own with its pages in the region. */
	other = start_holder(_metadata, &oc, HWP_PAGES * PS);

	/* The parent's page is still the slice page. */
	EXPECT_EQ(1ULL, mv_residency_in(fx->fd, fx->pid, buf + poff, PS, sid));
	ASSERT_EQ(0, mv_get_info(fx->fd, &i0));
	get_slice(_metadata, fx->fd, sid, &before);

	ret = mv_probe_madvise(buf + poff, PS, MADV_HWPOISON, &sb);
	if (ret == -EINVAL || ret == -EPERM) {
		kill(child, SIGKILL);
		kill(other, SIGKILL);
		mv_wait_child(child, CHILD_MS);
		mv_wait_child(other, CHILD_MS);
		SKIP(return, "MADV_HWPOISON: %s", strerror(-ret));
	}
	if (ret == 1) {
		/* Not sent by memview (ras.rst), but the kernel may. */
		TH_LOG("SIGBUS during MADV_HWPOISON: si_code %d, addr %p",
		       sb.code, sb.addr);
		EXPECT_EQ(BUS_MCEERR_AR, sb.code);
		EXPECT_EQ((void *)(buf + poff), sb.addr);
	} else {
		EXPECT_EQ(0, ret) TH_LOG("MADV_HWPOISON: %s", strerror(-ret));
	}

	/* Counted at once. */
	ASSERT_EQ(0, mv_get_info(fx->fd, &i1));
	EXPECT_EQ(i0.out_poisoned_pages + 1, i1.out_poisoned_pages);
	get_slice(_metadata, fx->fd, sid, &e);
	EXPECT_EQ(before.errors + 1, e.errors) mv_slice_print(&e);
	EXPECT_EQ(before.uncorrectable_errors + 1, e.uncorrectable_errors);
	EXPECT_EQ(before.corrected_errors, e.corrected_errors);

	/* Fenced (FENCE_ON_UE) and evacuated; the page stays poisoned. */
	SETTLE(fx, sid, e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, e.state) mv_slice_print(&e);
	EXPECT_EQ((__u32)MEMVIEW_FENCE_UNCORRECTABLE, e.fence_reason);
	EXPECT_EQ(0ULL, e.used_pages) mv_slice_print(&e);
	EXPECT_EQ(0ULL, e.evac_pending);
	EXPECT_EQ(before.poisoned_pages + 1, e.poisoned_pages)
		mv_slice_print(&e);
	EXPECT_CONSISTENT(e);
	EXPECT_EQ(0ULL, mv_residency_in(fx->fd, fx->pid, buf, len, sid));

	/* The owner: SIGBUS at the page, every time it touches it. */
	EXPECT_EQ(1, mv_probe_read(buf + poff, &sb));
	EXPECT_EQ(BUS_MCEERR_AR, sb.code);
	EXPECT_EQ((void *)(buf + poff), sb.addr);
	EXPECT_EQ(12, sb.addr_lsb);
	EXPECT_EQ(1, mv_probe_read(buf + poff + PS - 1, &sb));
	EXPECT_EQ(BUS_MCEERR_AR, sb.code);
	/* Its other pages: intact, no SIGBUS. */
	EXPECT_EQ(0, mv_probe_verify(buf, 0, poff, MV_PAT_STAMP, fx->pid,
				     NULL));
	EXPECT_EQ(0, mv_probe_verify(buf, poff + PS, len - poff - PS,
				     MV_PAT_STAMP, fx->pid, NULL));
	mv_check_data(_metadata, buf, 0, poff, MV_PAT_STAMP, fx->pid, sum_lo);
	mv_check_data(_metadata, buf, poff + PS, len - poff - PS,
		      MV_PAT_STAMP, fx->pid, sum_hi);

	/* The others: all of their data, no SIGBUS. */
	ASSERT_EQ(0, mv_chan_send(cc.to_child[1], 'v'));
	expect_child_ok(_metadata, child, "forked child");
	ASSERT_EQ(0, mv_chan_send(oc.to_child[1], 'v'));
	expect_child_ok(_metadata, other, "unrelated process");
	mv_chan_close(&cc);
	mv_chan_close(&oc);

	/* Unmapped: everything freed, the poisoned page stays retired. */
	mv_unmap_anon(buf, len);
	ASSERT_EQ(0, mv_wait_region_used(fx->fd, fx->region_id, 0, 10000, &n));
	EXPECT_EQ(0ULL, n);
	get_slice(_metadata, fx->fd, sid, &e);
	EXPECT_EQ(before.poisoned_pages + 1, e.poisoned_pages);
	EXPECT_CONSISTENT(e);
	ASSERT_EQ(0, mv_get_info(fx->fd, &i1));
	EXPECT_EQ(i0.out_poisoned_pages + 1, i1.out_poisoned_pages);
}

/*
 * The workload of ue_during_workload: WL_THREADS threads of a child each
 * own every WL_THREADS-th page of the buffer, and keep checking a page
 * against the generation they last wrote and rewriting it with the next.
 */
#define WL_THREADS	2

struct wl_shared {
	volatile int stop;
	volatile int bad;
	volatile long bad_page;
	volatile unsigned long passes[WL_THREADS];
};

struct wl_thread {
	pthread_t tid;
	char *buf;
	size_t pages;
	unsigned int t;
	__u32 *gen;
	struct wl_shared *sh;
};

static inline __u64 wl_word(size_t page, __u32 gen, size_t i)
{
	return (__u64)page << 40 | (__u64)(gen & 0x7fffffff) << 9 | i;
}

static bool wl_check(const char *buf, size_t page, __u32 gen)
{
	const volatile __u64 *w = (const void *)(buf + page * PS);
	size_t i;

	for (i = 0; i < PS / 8; i++)
		if (w[i] != wl_word(page, gen, i))
			return false;
	return true;
}

static void wl_write(char *buf, size_t page, __u32 gen)
{
	volatile __u64 *w = (void *)(buf + page * PS);
	size_t i;

	for (i = 0; i < PS / 8; i++)
		w[i] = wl_word(page, gen, i);
}

static void *wl_run(void *arg)
{
	struct wl_thread *w = arg;
	size_t p;

	for (;;) {
		for (p = w->t; p < w->pages; p += WL_THREADS) {
			if (w->sh->stop)
				return NULL;
			if (!wl_check(w->buf, p, w->gen[p])) {
				w->sh->bad++;
				w->sh->bad_page = p;
			}
			wl_write(w->buf, p, ++w->gen[p]);
		}
		w->sh->passes[w->t]++;
	}
}

static int wl_main(struct mv_chan *c, char *buf, size_t pages,
		   struct wl_shared *sh)
{
	struct wl_thread th[WL_THREADS];
	__u32 *gen = calloc(pages, sizeof(*gen));
	unsigned int t;
	size_t p;
	char msg;

	if (!gen)
		return 2;
	for (p = 0; p < pages; p++)
		wl_write(buf, p, 0);
	if (mv_chan_send(c->to_parent[1], 'r') ||
	    mv_chan_recv(c->to_child[0], &msg, CHILD_MS))
		return 3;
	for (t = 0; t < WL_THREADS; t++) {
		th[t] = (struct wl_thread){ .buf = buf, .pages = pages, .t = t,
					    .gen = gen, .sh = sh };
		if (pthread_create(&th[t].tid, NULL, wl_run, &th[t]))
			return 4;
	}
	for (t = 0; t < WL_THREADS; t++)
		pthread_join(th[t].tid, NULL);
	for (p = 0; p < pages; p++) {
		if (!wl_check(buf, p, gen[p])) {
			mv_log("workload: page %zu differs at the end", p);
			return 5;
		}
	}
	if (sh->bad) {
		mv_log("workload: %d bad checks, last on page %ld", sh->bad,
		       sh->bad_page);
		return 6;
	}
	return 0;
}

/* Wait until every workload thread has made @n passes from @base on. */
static int wl_wait(struct wl_shared *sh, const unsigned long *base,
		   unsigned long n)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	unsigned long last = ~0UL, sum;
	unsigned int t;
	int still = 0;
	bool done;

	for (;;) {
		done = true;
		sum = 0;
		for (t = 0; t < WL_THREADS; t++) {
			done &= sh->passes[t] - (base ? base[t] : 0) >= n;
			sum += sh->passes[t];
		}
		if (done)
			return 0;
		if (sh->stop || sh->bad)
			return -EIO;
		if (sum != last) {
			last = sum;
			still = 0;
		} else if ((still += 10) >= CHILD_MS) {
			return -ETIMEDOUT;
		}
		nanosleep(&ts, NULL);
	}
}

/*
 * An uncorrectable error on a slice (ERROR_INJECT, MEMVIEW_INJECT_SLICE)
 * under a workload rewriting and checking its pages in that slice: the
 * slice ends FENCED, none of the workload's pages is left in it, every
 * page that was there was moved (evac_moved), no data changed, and new
 * demotions avoid the slice.
 */
TEST_F_TIMEOUT(ras, ue_during_workload, 240)
{
	size_t len = mv_data_len(4), pages = mv_pages(len);
	struct mv_fixture *fx = &self->f;
	unsigned long base[WL_THREADS];
	struct memview_residency_entry ents[64];
	struct memview_slice_entry e;
	struct memview_residency r;
	struct memview_migrate m;
	struct memview_error err;
	struct wl_shared *sh;
	struct mv_chan c;
	__u64 n_s, sum;
	char msg, *buf, *mine;
	unsigned int t;
	__u32 sid;
	pid_t pid;
	int ret;

	MV_SETUP_SKIPPED();
	sh = mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	buf = mv_map_anon(len, 0, false);	/* the child's; untouched here */
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, mv_chan_open(&c));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		child_init(&c);
		_exit(wl_main(&c, buf, pages, sh));
	}
	mv_chan_parent(&c);
	ASSERT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, CHILD_MS));
	ASSERT_EQ(0, mv_attach(fx->fd, pid, 0));
	mv_demote_all(_metadata, fx, pid, buf, len);
	ASSERT_EQ(0, mv_residency_slice(fx->fd, pid, buf, len, &sid, &n_s));
	TH_LOG("%llu of %zu workload pages in slice %u",
	       (unsigned long long)n_s, pages, sid);
	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'g'));
	ASSERT_EQ(0, wl_wait(sh, NULL, 1));

	ret = mv_inject_slice(fx->fd, sid, MEMVIEW_ERROR_UNCORRECTABLE, 1, &err);
	ASSERT_EQ(0, ret) TH_LOG("ERROR_INJECT: %s", strerror(-ret));
	EXPECT_EQ(sid, err.out_slice_id);
	EXPECT_TRUE(err.out_state == MEMVIEW_SLICE_FENCING ||
		    err.out_state == MEMVIEW_SLICE_FENCED)
		TH_LOG("state after the error: %s",
		       mv_slice_state_name(err.out_state));
	EXPECT_EQ(0ULL, err.out_pages_poisoned);
	SETTLE(fx, sid, e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, e.state) mv_slice_print(&e);

	/* The workload goes on over the moved pages. */
	for (t = 0; t < WL_THREADS; t++)
		base[t] = sh->passes[t];
	EXPECT_EQ(0, wl_wait(sh, base, 2)) TH_LOG("%d bad checks", sh->bad);

	EXPECT_EQ(0ULL, mv_residency_in(fx->fd, pid, buf, len, sid));
	ASSERT_EQ(0, mv_residency(fx->fd, pid, buf, len, &r, ents, 64));
	EXPECT_EQ((__u64)pages, r.out_dram_pages + r.out_slice_pages);

	get_slice(_metadata, fx->fd, sid, &e);
	EXPECT_EQ((__u32)MEMVIEW_FENCE_UNCORRECTABLE, e.fence_reason);
	EXPECT_EQ(1ULL, e.uncorrectable_errors);
	EXPECT_EQ(1ULL, e.errors);
	EXPECT_EQ(0ULL, e.used_pages);
	EXPECT_EQ(0ULL, e.poisoned_pages);
	EXPECT_EQ(n_s, e.evac_total) mv_slice_print(&e);
	EXPECT_EQ(n_s, e.evac_moved) mv_slice_print(&e);
	EXPECT_EQ(0ULL, e.evac_poisoned);
	EXPECT_EQ(0ULL, e.evac_pending);
	EXPECT_LE(1ULL, e.evac_passes);
	EXPECT_CONSISTENT(e);

	/* New demotions go elsewhere (another slice, or no space). */
	mine = mv_map_anon(MV_MIB, 0, false);
	ASSERT_NE(NULL, mine);
	sum = mv_fill(mine, 0, MV_MIB, MV_PAT_RANDOM, 7);
	ASSERT_EQ(0, mv_demote(fx->fd, fx->pid, mine, MV_MIB, &m));
	EXPECT_EQ((__u64)mv_pages(MV_MIB), m.out_moved + m.out_no_space)
		mv_migrate_print("DEMOTE", &m);
	EXPECT_EQ(0ULL, mv_residency_in(fx->fd, fx->pid, mine, MV_MIB, sid));
	get_slice(_metadata, fx->fd, sid, &e);
	EXPECT_EQ(0ULL, e.used_pages);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, e.state);
	mv_check_data(_metadata, mine, 0, MV_MIB, MV_PAT_RANDOM, 7, sum);
	mv_unmap_anon(mine, MV_MIB);

	sh->stop = 1;
	expect_child_ok(_metadata, pid, "workload");
	EXPECT_EQ(0, sh->bad);
	mv_chan_close(&c);
	munmap(sh, PS);
}

static void set_ras_policy(struct __test_metadata *_metadata,
			   FIXTURE_DATA(ras) *self, __u32 threshold,
			   __u32 flags)
{
	struct memview_policy p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.valid = MEMVIEW_POLICY_CE_THRESHOLD | MEMVIEW_POLICY_CE_WINDOW |
		  MEMVIEW_POLICY_RAS_FLAGS;
	p.ce_threshold = threshold;
	p.ce_window_ms = 86400000;	/* no window ends during the test */
	p.ras_flags = flags;
	self->policy_changed = true;
	ret = mv_set_policy(self->f.fd, &p);
	ASSERT_EQ(0, ret) TH_LOG("SET_POLICY: %s", strerror(-ret));
	EXPECT_EQ(threshold, p.ce_threshold);
	EXPECT_EQ(86400000U, p.ce_window_ms);
	EXPECT_EQ(flags, p.ras_flags);
}

/*
 * Corrected errors: below ce_threshold the slice is DEGRADED and still
 * takes pages; at the threshold it is fenced (CE_THRESHOLD).  Unfencing
 * restarts the window.  Without FENCE_ON_CE it only degrades.
 */
TEST_F_TIMEOUT(ras, ce_threshold, 180)
{
	size_t len = 2 * MV_MIB, len2;
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry e, *s;
	struct memview_slice_fence f;
	struct memview_policy p;
	struct memview_error err;
	__u64 sum, sum2, n_s, used0, imbalance = 0;
	__u32 sid, n, i, healthy = 0;
	char *buf, *buf2;

	MV_SETUP_SKIPPED();
	/*
	 * The knobs' defaults and ranges are checked with the others by
	 * tiering_test (placer.policy_*); here only the RAS reserved word.
	 */
	memset(&p, 0, sizeof(p));
	p.valid = MEMVIEW_POLICY_RAS_FLAGS;
	p.ras_flags = MEMVIEW_RAS_FENCE_ON_UE;
	p.__reserved2 = 1;
	EXPECT_EQ(-EINVAL, mv_set_policy(fx->fd, &p));
	ASSERT_EQ(0, mv_get_policy(fx->fd, &p));
	EXPECT_EQ(self->saved.ras_flags, p.ras_flags);

	set_ras_policy(_metadata, self, 3,
		       MEMVIEW_RAS_FENCE_ON_UE | MEMVIEW_RAS_FENCE_ON_CE);
	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_STAMP, fx->pid);
	mv_demote_all(_metadata, fx, fx->pid, buf, len);
	ASSERT_EQ(0, mv_residency_slice(fx->fd, fx->pid, buf, len, &sid, &n_s));

	/* Two corrected errors: DEGRADED, counted in the window. */
	for (i = 1; i <= 2; i++) {
		ASSERT_EQ(0, mv_inject_slice(fx->fd, sid,
					     MEMVIEW_ERROR_CORRECTED, 1, &err));
		EXPECT_EQ(sid, err.out_slice_id);
		EXPECT_EQ((__u32)MEMVIEW_SLICE_DEGRADED, err.out_state);
		get_slice(_metadata, fx->fd, sid, &e);
		EXPECT_EQ((__u32)MEMVIEW_SLICE_DEGRADED, e.state);
		EXPECT_EQ((__u64)i, e.corrected_errors);
		EXPECT_EQ((__u64)i, e.window_corrected);
		EXPECT_EQ((__u64)i, e.errors);
		EXPECT_EQ(0ULL, e.uncorrectable_errors);
		EXPECT_EQ(n_s, e.used_pages);
	}

	/*
	 * A DEGRADED slice still takes pages: demote enough that the least
	 * used healthy slice is this one for some of them.
	 */
	used0 = e.used_pages;
	s = region_slices(_metadata, fx, &n);
	for (i = 0; i < n; i++) {
		if (s[i].state > MEMVIEW_SLICE_DEGRADED)
			continue;
		healthy++;
		if (s[i].id != sid && s[i].used_pages < used0)
			imbalance += used0 - s[i].used_pages;
	}
	free(s);
	len2 = (imbalance + 1024ULL * healthy) * PS;
	buf2 = mv_map_anon(len2, 0, false);
	ASSERT_NE(NULL, buf2);
	sum2 = mv_fill(buf2, 0, len2, MV_PAT_RANDOM, 5);
	mv_demote_all(_metadata, fx, fx->pid, buf2, len2);
	get_slice(_metadata, fx->fd, sid, &e);
	EXPECT_LT(used0, e.used_pages) mv_slice_print(&e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_DEGRADED, e.state);

	/* The third: fenced, CE_THRESHOLD, evacuated, data intact. */
	ASSERT_EQ(0, mv_inject_slice(fx->fd, sid, MEMVIEW_ERROR_CORRECTED, 1,
				     &err));
	EXPECT_TRUE(err.out_state == MEMVIEW_SLICE_FENCING ||
		    err.out_state == MEMVIEW_SLICE_FENCED)
		TH_LOG("state at the threshold: %s",
		       mv_slice_state_name(err.out_state));
	SETTLE(fx, sid, e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, e.state) mv_slice_print(&e);
	EXPECT_EQ((__u32)MEMVIEW_FENCE_CE_THRESHOLD, e.fence_reason);
	EXPECT_EQ(3ULL, e.corrected_errors);
	EXPECT_EQ(0ULL, e.used_pages);
	EXPECT_EQ(0ULL, e.poisoned_pages);
	EXPECT_CONSISTENT(e);
	EXPECT_EQ(0ULL, mv_residency_in(fx->fd, fx->pid, buf, len, sid));
	EXPECT_EQ(0ULL, mv_residency_in(fx->fd, fx->pid, buf2, len2, sid));
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, fx->pid, sum);
	mv_check_data(_metadata, buf2, 0, len2, MV_PAT_RANDOM, 5, sum2);

	/* No uncorrectable error: unfence without FORCE, window restarts. */
	ASSERT_EQ(0, mv_unfence(fx->fd, sid, 0, &f));
	EXPECT_EQ((__u32)MEMVIEW_SLICE_DEGRADED, f.out_state);
	get_slice(_metadata, fx->fd, sid, &e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_DEGRADED, e.state);
	EXPECT_EQ(0ULL, e.window_corrected);
	EXPECT_EQ(3ULL, e.corrected_errors);

	/* Without FENCE_ON_CE: many corrected errors, still DEGRADED. */
	set_ras_policy(_metadata, self, 3, MEMVIEW_RAS_FENCE_ON_UE);
	ASSERT_EQ(0, mv_inject_slice(fx->fd, sid, MEMVIEW_ERROR_CORRECTED, 5,
				     &err));
	EXPECT_EQ((__u32)MEMVIEW_SLICE_DEGRADED, err.out_state);
	get_slice(_metadata, fx->fd, sid, &e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_DEGRADED, e.state);
	EXPECT_EQ(8ULL, e.corrected_errors);
	EXPECT_EQ(5ULL, e.window_corrected);

	mv_unmap_anon(buf, len);
	mv_unmap_anon(buf2, len2);
}

/*
 * The state machine: fence (WAIT) -> FENCED, idempotent; unfence ->
 * ONLINE, and of an ONLINE slice a no-op; after an uncorrectable error
 * unfence is EHWPOISON unless FORCE (-> DEGRADED); RETIRE -> RETIRED, for
 * good (unfence ENODEV), from a DEGRADED and from a FENCED slice.
 */
TEST_F_TIMEOUT(ras, fence_unfence_states, 180)
{
	size_t len = MV_MIB;
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry e, *s;
	struct memview_slice_fence f;
	__u64 sum, n_s;
	__u32 sid, n, i;
	char *buf;

	MV_SETUP_SKIPPED();
	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_STAMP, fx->pid);
	mv_demote_all(_metadata, fx, fx->pid, buf, len);
	ASSERT_EQ(0, mv_residency_slice(fx->fd, fx->pid, buf, len, &sid, &n_s));

	ASSERT_EQ(0, mv_fence(fx->fd, sid, MEMVIEW_FENCE_WAIT, &f));
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, f.out_state);
	EXPECT_EQ(n_s, f.out_evac_moved);
	EXPECT_EQ(0ULL, f.out_evac_pending);
	get_slice(_metadata, fx->fd, sid, &e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, e.state);
	EXPECT_EQ((__u32)MEMVIEW_FENCE_ADMIN, e.fence_reason);
	EXPECT_EQ(0ULL, e.used_pages);
	EXPECT_EQ(n_s, e.evac_moved);
	EXPECT_EQ(0ULL, e.errors);
	EXPECT_CONSISTENT(e);
	EXPECT_EQ(0ULL, mv_residency_in(fx->fd, fx->pid, buf, len, sid));
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, fx->pid, sum);

	/* Idempotent. */
	ASSERT_EQ(0, mv_fence(fx->fd, sid, 0, &f));
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, f.out_state);
	ASSERT_EQ(0, mv_fence(fx->fd, sid, MEMVIEW_FENCE_WAIT, &f));
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, f.out_state);
	get_slice(_metadata, fx->fd, sid, &e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, e.state);
	EXPECT_EQ(n_s, e.evac_moved);

	/* No errors: back ONLINE; unfencing an ONLINE slice changes nothing. */
	ASSERT_EQ(0, mv_unfence(fx->fd, sid, 0, &f));
	EXPECT_EQ((__u32)MEMVIEW_SLICE_ONLINE, f.out_state);
	ASSERT_EQ(0, mv_unfence(fx->fd, sid, 0, &f));
	EXPECT_EQ((__u32)MEMVIEW_SLICE_ONLINE, f.out_state);
	get_slice(_metadata, fx->fd, sid, &e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_ONLINE, e.state);

	/* After an uncorrectable error: EHWPOISON, then FORCE. */
	ASSERT_EQ(0, mv_inject_slice(fx->fd, sid, MEMVIEW_ERROR_UNCORRECTABLE,
				     1, NULL));
	SETTLE(fx, sid, e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, e.state);
	EXPECT_EQ((__u32)MEMVIEW_FENCE_UNCORRECTABLE, e.fence_reason);
	EXPECT_EQ(-EHWPOISON, mv_unfence(fx->fd, sid, 0, &f));
	get_slice(_metadata, fx->fd, sid, &e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, e.state);
	ASSERT_EQ(0, mv_unfence(fx->fd, sid, MEMVIEW_UNFENCE_FORCE, &f));
	EXPECT_EQ((__u32)MEMVIEW_SLICE_DEGRADED, f.out_state);
	get_slice(_metadata, fx->fd, sid, &e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_DEGRADED, e.state);
	EXPECT_EQ(0ULL, e.poisoned_pages);	/* a slice error poisons nothing */
	EXPECT_CONSISTENT(e);

	/* RETIRE from DEGRADED: for good. */
	ASSERT_EQ(0, mv_fence(fx->fd, sid,
			      MEMVIEW_FENCE_RETIRE | MEMVIEW_FENCE_WAIT, &f));
	EXPECT_EQ((__u32)MEMVIEW_SLICE_RETIRED, f.out_state);
	get_slice(_metadata, fx->fd, sid, &e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_RETIRED, e.state);
	EXPECT_EQ(0ULL, e.used_pages);
	EXPECT_EQ(-ENODEV, mv_unfence(fx->fd, sid, 0, NULL));
	EXPECT_EQ(-ENODEV, mv_unfence(fx->fd, sid, MEMVIEW_UNFENCE_FORCE, NULL));
	ASSERT_EQ(0, mv_fence(fx->fd, sid, 0, &f));
	EXPECT_EQ((__u32)MEMVIEW_SLICE_RETIRED, f.out_state);
	ASSERT_EQ(0, mv_fence(fx->fd, sid, MEMVIEW_FENCE_WAIT, &f));
	EXPECT_EQ((__u32)MEMVIEW_SLICE_RETIRED, f.out_state);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, fx->pid, sum);

	/* RETIRE of a FENCED slice. */
	s = region_slices(_metadata, fx, &n);
	for (i = 0; i < n; i++) {
		if (s[i].id == sid)
			continue;
		ASSERT_EQ(0, mv_fence(fx->fd, s[i].id, MEMVIEW_FENCE_WAIT, &f));
		EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, f.out_state);
		ASSERT_EQ(0, mv_fence(fx->fd, s[i].id, MEMVIEW_FENCE_RETIRE, &f));
		EXPECT_EQ((__u32)MEMVIEW_SLICE_RETIRED, f.out_state);
		get_slice(_metadata, fx->fd, s[i].id, &e);
		EXPECT_EQ((__u32)MEMVIEW_SLICE_RETIRED, e.state);
		EXPECT_CONSISTENT(e);
		break;
	}
	free(s);
	/* Every page of the buffer is out of the retired slices. */
	EXPECT_EQ(0ULL, mv_residency_in(fx->fd, fx->pid, buf, len, sid));
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, fx->pid, sum);
	mv_unmap_anon(buf, len);
	/* The teardown removes the region: the only way back from RETIRED. */
}

/*
 * Without CAP_SYS_ADMIN: fence, unfence, error report and inject, and
 * event read() are EPERM, and change nothing.
 */
static int unprivileged_child(__u32 sid, __u64 phys)
{
	struct memview_event ev;
	int fd, bad;
	ssize_t r;

	if (mv_drop_privileges() || mv_cap_eff())
		return 10;
	fd = open(MEMVIEW_DEVICE, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 11;
	bad = mv_child_check("SLICE_FENCE", -EPERM,
			     mv_fence(fd, sid, 0, NULL), 12);
	bad = bad ?: mv_child_check("SLICE_FENCE WAIT", -EPERM,
				    mv_fence(fd, sid, MEMVIEW_FENCE_WAIT, NULL),
				    13);
	bad = bad ?: mv_child_check("SLICE_UNFENCE", -EPERM,
				    mv_unfence(fd, sid, MEMVIEW_UNFENCE_FORCE,
					       NULL), 14);
	bad = bad ?: mv_child_check("ERROR_REPORT", -EPERM,
				    mv_report(fd, phys, 64,
					      MEMVIEW_ERROR_UNCORRECTABLE,
					      MEMVIEW_SRC_CXL_POISON, NULL), 15);
	bad = bad ?: mv_child_check("ERROR_INJECT", -EPERM,
				    mv_inject_slice(fd, sid,
						    MEMVIEW_ERROR_UNCORRECTABLE,
						    1, NULL), 16);
	r = read(fd, &ev, sizeof(ev));
	bad = bad ?: mv_child_check("read() events", -EPERM,
				    r < 0 ? -errno : (int)r, 17);
	close(fd);
	return bad;
}

TEST_F(ras, unprivileged)
{
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry e, *s;
	__u32 n;
	pid_t pid;

	MV_SETUP_SKIPPED();
	s = region_slices(_metadata, fx, &n);
	e = s[0];
	free(s);
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		_exit(unprivileged_child(e.id, e.phys_addr + 16 * PS));
	}
	expect_child_ok(_metadata, pid, "unprivileged child");
	get_slice(_metadata, fx->fd, e.id, &e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_ONLINE, e.state);
	EXPECT_EQ(0ULL, e.errors);
	EXPECT_EQ(0ULL, e.poisoned_pages);
}

/*
 * Argument checks of SLICE_FENCE / SLICE_UNFENCE / ERROR_INJECT: unknown
 * slice ENOENT, unknown flags and bad fields EINVAL, a short struct
 * EINVAL, a longer one with a non-zero tail E2BIG.
 */
TEST_F(ras, bad_args)
{
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry e, *s;
	struct {
		struct memview_slice_fence f;
		__u64 tail;
	} bf;
	struct {
		struct memview_error e;
		__u64 tail;
	} be;
	struct memview_error err;
	__u32 sid, n;

	MV_SETUP_SKIPPED();
	s = region_slices(_metadata, fx, &n);
	sid = s[0].id;
	free(s);

	EXPECT_EQ(-ENOENT, mv_fence(fx->fd, BAD_ID, 0, NULL));
	EXPECT_EQ(-ENOENT, mv_fence(fx->fd, BAD_ID, MEMVIEW_FENCE_WAIT, NULL));
	EXPECT_EQ(-ENOENT, mv_unfence(fx->fd, BAD_ID, 0, NULL));
	EXPECT_EQ(-ENOENT, mv_inject_slice(fx->fd, BAD_ID,
					   MEMVIEW_ERROR_CORRECTED, 1, NULL));

	EXPECT_EQ(-EINVAL, mv_fence(fx->fd, sid, 1U << 2, NULL));
	EXPECT_EQ(-EINVAL, mv_fence(fx->fd, sid, 1U << 31, NULL));
	EXPECT_EQ(-EINVAL, mv_unfence(fx->fd, sid, 1U << 1, NULL));
	EXPECT_EQ(-EINVAL, mv_unfence(fx->fd, sid, 1U << 31, NULL));

	memset(&bf, 0, sizeof(bf));
	bf.f.slice_id = sid;
	bf.f.size = 8;
	EXPECT_EQ(-EINVAL, mv_ioctl(fx->fd, MEMVIEW_IOCTL_SLICE_FENCE, &bf));
	EXPECT_EQ(-EINVAL, mv_ioctl(fx->fd, MEMVIEW_IOCTL_SLICE_UNFENCE, &bf));
	bf.f.size = sizeof(bf);
	bf.tail = 1;
	EXPECT_EQ(-E2BIG, mv_ioctl(fx->fd, MEMVIEW_IOCTL_SLICE_FENCE, &bf));
	EXPECT_EQ(-E2BIG, mv_ioctl(fx->fd, MEMVIEW_IOCTL_SLICE_UNFENCE, &bf));

	memset(&be, 0, sizeof(be));
	be.e.flags = MEMVIEW_INJECT_SLICE;
	be.e.slice_id = sid;
	be.e.size = 8;
	EXPECT_EQ(-EINVAL, mv_ioctl(fx->fd, MEMVIEW_IOCTL_ERROR_INJECT, &be));
	EXPECT_EQ(-EINVAL, mv_ioctl(fx->fd, MEMVIEW_IOCTL_ERROR_REPORT, &be));
	be.e.size = sizeof(be);
	be.tail = 1;
	EXPECT_EQ(-E2BIG, mv_ioctl(fx->fd, MEMVIEW_IOCTL_ERROR_INJECT, &be));

	/* ERROR_INJECT fields. */
	mv_error_init(&err);
	err.flags = MEMVIEW_INJECT_SLICE | 1U << 1;
	err.slice_id = sid;
	EXPECT_EQ(-EINVAL, mv_ioctl(fx->fd, MEMVIEW_IOCTL_ERROR_INJECT, &err));
	mv_error_init(&err);
	err.flags = MEMVIEW_INJECT_SLICE;
	err.slice_id = sid;
	err.phys_addr = 1;
	EXPECT_EQ(-EINVAL, mv_ioctl(fx->fd, MEMVIEW_IOCTL_ERROR_INJECT, &err));
	err.phys_addr = 0;
	err.length = PS;
	EXPECT_EQ(-EINVAL, mv_ioctl(fx->fd, MEMVIEW_IOCTL_ERROR_INJECT, &err));
	err.length = 0;
	err.source = MEMVIEW_SRC_CXL_POISON;
	EXPECT_EQ(-EINVAL, mv_ioctl(fx->fd, MEMVIEW_IOCTL_ERROR_INJECT, &err));
	err.source = 0;
	err.severity = MEMVIEW_ERROR_UNCORRECTABLE + 1;
	EXPECT_EQ(-EINVAL, mv_ioctl(fx->fd, MEMVIEW_IOCTL_ERROR_INJECT, &err));
	err.severity = MEMVIEW_ERROR_CORRECTED;
	err.count = 1000001;
	EXPECT_EQ(-EINVAL, mv_ioctl(fx->fd, MEMVIEW_IOCTL_ERROR_INJECT, &err));
	/* An address in no region. */
	mv_error_init(&err);
	err.phys_addr = 0x1000;
	EXPECT_EQ(-ENOENT, mv_ioctl(fx->fd, MEMVIEW_IOCTL_ERROR_INJECT, &err));

	/* None of it counted or changed anything. */
	get_slice(_metadata, fx->fd, sid, &e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_ONLINE, e.state);
	EXPECT_EQ(0ULL, e.errors);

	/* The same structs, valid, with a zero tail: accepted. */
	bf.tail = 0;
	bf.f.flags = MEMVIEW_FENCE_WAIT;
	EXPECT_EQ(0, mv_ioctl(fx->fd, MEMVIEW_IOCTL_SLICE_FENCE, &bf));
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, bf.f.out_state);
	bf.f.flags = 0;
	EXPECT_EQ(0, mv_ioctl(fx->fd, MEMVIEW_IOCTL_SLICE_UNFENCE, &bf));
	EXPECT_EQ((__u32)MEMVIEW_SLICE_ONLINE, bf.f.out_state);
	be.tail = 0;
	EXPECT_EQ(0, mv_ioctl(fx->fd, MEMVIEW_IOCTL_ERROR_INJECT, &be));
	EXPECT_EQ(sid, be.e.out_slice_id);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_DEGRADED, be.e.out_state);
}

/*
 * Fencing the last healthy slice is allowed: with every slice of every
 * region fenced, pages go to DRAM and DEMOTE finds no space; unfenced,
 * demotion works again.
 */
TEST_F_TIMEOUT(ras, fence_all_slices, 180)
{
	size_t len = 2 * MV_MIB, len2 = MV_MIB;
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry *s, e;
	struct memview_slice_fence f;
	struct memview_migrate m;
	__u64 sum, sum2;
	__u32 n, i, k, fenced = 0;
	char *buf, *buf2;
	int ret;

	MV_SETUP_SKIPPED();
	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_STAMP, fx->pid);
	mv_demote_all(_metadata, fx, fx->pid, buf, len);

	ASSERT_EQ(0, mv_slice_list(fx->fd, 0, 0, &s, &n));
	for (i = 0; i < n; i++) {
		if (s[i].state > MEMVIEW_SLICE_DEGRADED)
			continue;	/* not ours to touch */
		track(_metadata, self, s[i].id);
		ret = mv_fence(fx->fd, s[i].id, MEMVIEW_FENCE_WAIT, &f);
		EXPECT_EQ(0, ret) TH_LOG("FENCE %u: %s", s[i].id, strerror(-ret));
		EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, f.out_state);
		fenced++;
	}
	ASSERT_LE(1U, fenced);

	mv_check_residency(_metadata, fx, fx->pid, buf, len, mv_pages(len), 0);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, fx->pid, sum);

	buf2 = mv_map_anon(len2, 0, false);
	ASSERT_NE(NULL, buf2);
	sum2 = mv_fill(buf2, 0, len2, MV_PAT_RANDOM, 11);
	ASSERT_EQ(0, mv_demote(fx->fd, fx->pid, buf2, len2, &m));
	EXPECT_EQ(0ULL, m.out_moved) mv_migrate_print("DEMOTE", &m);
	EXPECT_EQ((__u64)mv_pages(len2), m.out_no_space)
		mv_migrate_print("DEMOTE", &m);
	mv_check_data(_metadata, buf2, 0, len2, MV_PAT_RANDOM, 11, sum2);

	/* Back in service. */
	for (k = 0; k < self->nr_tracked; k++) {
		get_slice(_metadata, fx->fd, self->tracked[k], &e);
		ret = mv_unfence(fx->fd, self->tracked[k],
				 e.uncorrectable_errors ?
				 MEMVIEW_UNFENCE_FORCE : 0, &f);
		EXPECT_EQ(0, ret) TH_LOG("UNFENCE %u: %s", self->tracked[k],
					 strerror(-ret));
		EXPECT_TRUE(f.out_state == MEMVIEW_SLICE_ONLINE ||
			    f.out_state == MEMVIEW_SLICE_DEGRADED);
		get_slice(_metadata, fx->fd, self->tracked[k], &e);
		EXPECT_EQ(0ULL, e.used_pages);
		EXPECT_CONSISTENT(e);
	}
	free(s);
	mv_demote_all(_metadata, fx, fx->pid, buf2, len2);
	mv_check_data(_metadata, buf2, 0, len2, MV_PAT_RANDOM, 11, sum2);
	mv_unmap_anon(buf, len);
	mv_unmap_anon(buf2, len2);
}

/*
 * A fence under way when its region is removed (EVACUATE): the removal
 * succeeds or says EBUSY, never hangs; the data survives either way, and
 * the region can be added again.
 */
TEST_F_TIMEOUT(ras, fence_during_region_remove, 180)
{
	size_t len = mv_data_len(8), pages = mv_pages(len);
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry e, *s;
	struct memview_region_add a;
	__u64 sum, n_s, evacuated = 0;
	__u32 sid, n, i;
	char *buf;
	int ret;

	MV_SETUP_SKIPPED();
	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_STAMP, fx->pid);
	mv_demote_all(_metadata, fx, fx->pid, buf, len);
	ASSERT_EQ(0, mv_residency_slice(fx->fd, fx->pid, buf, len, &sid, &n_s));

	ASSERT_EQ(0, mv_fence(fx->fd, sid, 0, NULL));
	ret = mv_region_remove(fx->fd, fx->region_id,
			       MEMVIEW_REGION_REMOVE_EVACUATE, &evacuated);
	TH_LOG("REGION_REMOVE during the fence of slice %u (%llu pages): %s, %llu evacuated",
	       sid, (unsigned long long)n_s, ret ? strerror(-ret) : "ok",
	       (unsigned long long)evacuated);
	EXPECT_TRUE(ret == 0 || ret == -EBUSY);
	if (ret) {
		/* Still there: the fence goes on and ends. */
		SETTLE(fx, sid, e);
		EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, e.state);
		EXPECT_EQ(0ULL, e.used_pages);
		EXPECT_CONSISTENT(e);
	} else {
		fx->region_added = false;
		EXPECT_EQ(-ENOENT, mv_slice_get(fx->fd, sid, &e));
		mv_check_residency(_metadata, fx, fx->pid, buf, len, pages, 0);
		ret = mv_region_add(fx->fd, fx->range.start, fx->range.size,
				    fx->range.kind, fx->range.label, &a);
		ASSERT_EQ(0, ret) TH_LOG("REGION_ADD again: %s", strerror(-ret));
		fx->region_added = true;
		fx->region_id = a.out_region_id;
		s = region_slices(_metadata, fx, &n);
		for (i = 0; i < n; i++) {
			EXPECT_EQ((__u32)MEMVIEW_SLICE_ONLINE, s[i].state);
			EXPECT_EQ(0ULL, s[i].used_pages);
		}
		free(s);
	}
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, fx->pid, sum);
	mv_unmap_anon(buf, len);
}

/*
 * A fence under way while the process owning the slice's pages dies
 * (SIGKILL) or exits: the slice ends FENCED and empty, every page freed.
 */
TEST_F_TIMEOUT(ras, fence_during_exit, 180)
{
	size_t len = mv_data_len(4);
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry e;
	struct memview_slice_fence f;
	struct mv_chan c;
	__u64 n_s, used;
	int round, status;
	__u32 sid;
	pid_t pid;

	MV_SETUP_SKIPPED();
	for (round = 0; round < 2; round++) {
		pid = start_holder(_metadata, &c, len);
		ASSERT_EQ(0, mv_residency_slice(fx->fd, pid, NULL, 0, &sid,
						&n_s));
		ASSERT_EQ(0, mv_fence(fx->fd, sid, 0, NULL));
		if (round == 0) {
			kill(pid, SIGKILL);
			status = mv_wait_child(pid, CHILD_MS);
			EXPECT_TRUE(status >= 0 && WIFSIGNALED(status));
		} else {
			ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'q'));
			expect_child_ok(_metadata, pid, "holder");
		}
		mv_chan_close(&c);
		SETTLE(fx, sid, e);
		EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, e.state)
			mv_slice_print(&e);
		EXPECT_EQ(0ULL, e.used_pages) mv_slice_print(&e);
		EXPECT_EQ(0ULL, e.evac_pending);
		EXPECT_CONSISTENT(e);
		ASSERT_EQ(0, mv_wait_region_used(fx->fd, fx->region_id, 0,
						 10000, &used));
		EXPECT_EQ(0ULL, used) TH_LOG("round %d", round);
		ASSERT_EQ(0, mv_unfence(fx->fd, sid, 0, &f));
		EXPECT_EQ((__u32)MEMVIEW_SLICE_ONLINE, f.out_state);
	}
}

/* The holder's last thread, once its leader has gone: 'v' or 'q'. */
struct orphan {
	struct mv_chan *c;
	char *buf;
	size_t len;
	pid_t pid;
};

static void *orphan_run(void *arg)
{
	struct orphan *o = arg;
	char msg;
	int ret;

	if (mv_chan_recv(o->c->to_child[0], &msg, CHILD_MS))
		_exit(6);
	if (msg != 'v')
		_exit(0);
	ret = mv_probe_verify(o->buf, 0, o->len, MV_PAT_STAMP, o->pid, NULL);
	_exit(ret == 1 ? 11 : ret ? 12 : 0);
}

/*
 * A process whose main thread has exited (pthread_exit()) while another
 * thread lives on: the process and its pages stay, but its leader has no
 * mm any more.  The evacuation must find the process's mappings through
 * the live thread: the fence ends FENCED and empty and the data is intact.
 */
TEST_F_TIMEOUT(ras, fence_leader_exited, 180)
{
	size_t len = mv_data_len(4);
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry e, *sl;
	struct memview_slice_fence f;
	struct memview_migrate m;
	struct mv_chan c;
	char msg, state = 0, path[64];
	__u64 n_s;
	__u32 sid = 0, n;
	pid_t pid;
	int i;

	MV_SETUP_SKIPPED();
	ASSERT_EQ(0, mv_chan_open(&c));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		static struct orphan o;
		pthread_t tid;
		int fd;

		child_init(&c);
		fd = mv_open();
		o.c = &c;
		o.len = len;
		o.pid = getpid();
		o.buf = mv_map_anon(len, 0, false);
		if (fd < 0 || !o.buf || mv_attach(fd, getpid(), 0))
			_exit(2);
		mv_fill(o.buf, 0, len, MV_PAT_STAMP, getpid());
		if (mv_demote(fd, getpid(), o.buf, len, &m) ||
		    m.out_moved != mv_pages(len))
			_exit(4);
		if (pthread_create(&tid, NULL, orphan_run, &o) ||
		    mv_chan_send(c.to_parent[1], 'r'))
			_exit(5);
		pthread_exit(NULL);
	}
	mv_chan_parent(&c);
	ASSERT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, CHILD_MS));
	/* The leader is a zombie once its thread has exited. */
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (i = 0; i < 2000 && state != 'Z'; i++) {
		FILE *s = fopen(path, "r");

		ASSERT_NE(NULL, s);
		ASSERT_EQ(1, fscanf(s, "%*d %*s %c", &state));
		fclose(s);
		if (state != 'Z')
			usleep(10000);
	}
	ASSERT_EQ('Z', state) TH_LOG("leader of %d did not exit", pid);

	/* Its slice from the slice list: pid lookups need the leader. */
	sl = region_slices(_metadata, fx, &n);
	for (i = 0, n_s = 0; i < (int)n; i++)
		if (sl[i].used_pages > n_s) {
			n_s = sl[i].used_pages;
			sid = sl[i].id;
		}
	free(sl);
	ASSERT_LT(0ULL, n_s);
	ASSERT_EQ(0, mv_fence(fx->fd, sid, 0, NULL));
	SETTLE(fx, sid, e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, e.state) mv_slice_print(&e);
	EXPECT_EQ(0ULL, e.used_pages) mv_slice_print(&e);
	EXPECT_CONSISTENT(e);
	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'v'));
	expect_child_ok(_metadata, pid, "thread of a process whose leader exited");
	mv_chan_close(&c);
	ASSERT_EQ(0, mv_unfence(fx->fd, sid, 0, &f));
}

/* Interrupt the test process every 100 ms until told to stop. */
struct pester {
	pthread_t tid, target;
	volatile int stop;
};

static void on_sigusr1(int sig)
{
	(void)sig;
}

static void *pester_run(void *arg)
{
	struct pester *p = arg;
	struct timespec ts = { .tv_nsec = 100 * 1000 * 1000 };

	while (!p->stop) {
		nanosleep(&ts, NULL);
		if (!p->stop)
			pthread_kill(p->target, SIGUSR1);
	}
	return NULL;
}

/*
 * A page that cannot move (an extra reference: vmsplice()d into a pipe)
 * keeps its slice FENCING, counted in evac_pending, with every other page
 * moved; FENCE_WAIT on it ends with EINTR on a signal; a REGION_REMOVE
 * EVACUATE meanwhile fails with EBUSY and the fence resumes; once the
 * reference is gone the slice ends FENCED and empty.
 */
TEST_F_TIMEOUT(ras, fence_pinned_page, 180)
{
	size_t pages = 64, len = pages * PS, off = 7 * PS;
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry e, *s;
	struct memview_slice_fence f;
	struct sigaction sa, old;
	struct pester pe;
	struct iovec iov;
	char page[PS], *buf;
	__u64 sum, n_s, ev = 0;
	int p[2], ret, tries;
	__u32 sid, n, i;

	MV_SETUP_SKIPPED();
	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_STAMP, fx->pid);
	mv_demote_all(_metadata, fx, fx->pid, buf, len);
	ASSERT_EQ(0, mv_residency_slice(fx->fd, fx->pid, buf + off, PS, &sid,
					&n_s));
	n_s = mv_residency_in(fx->fd, fx->pid, buf, len, sid);
	ASSERT_EQ(0, pipe(p));
	iov.iov_base = buf + off;
	iov.iov_len = PS;
	ASSERT_EQ((ssize_t)PS, vmsplice(p[1], &iov, 1, 0));

	ASSERT_EQ(0, mv_fence(fx->fd, sid, 0, &f));
	/* Wait for a pass to end with the page pending. */
	for (tries = 0; tries < 6000; tries++) {
		get_slice(_metadata, fx->fd, sid, &e);
		if (e.evac_passes >= 1 && e.evac_pending >= 1)
			break;
		usleep(10000);
	}
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCING, e.state) mv_slice_print(&e);
	EXPECT_EQ(1ULL, e.evac_pending) mv_slice_print(&e);
	EXPECT_EQ(n_s - 1, e.evac_moved) mv_slice_print(&e);
	EXPECT_EQ(1ULL, e.used_pages);
	EXPECT_CONSISTENT(e);

	/* FENCE_WAIT cannot end: a signal ends it with EINTR. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, &old));
	memset(&pe, 0, sizeof(pe));
	pe.target = pthread_self();
	ASSERT_EQ(0, pthread_create(&pe.tid, NULL, pester_run, &pe));
	ret = mv_fence(fx->fd, sid, MEMVIEW_FENCE_WAIT, &f);
	pe.stop = 1;
	pthread_join(pe.tid, NULL);
	sigaction(SIGUSR1, &old, NULL);
	EXPECT_EQ(-EINTR, ret) TH_LOG("FENCE_WAIT with a pinned page: %s",
				      ret ? strerror(-ret) : "success");
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCING, f.out_state);
	EXPECT_EQ(1ULL, f.out_evac_pending);
	/* Nor can UNFENCE while FENCING. */
	EXPECT_EQ(-EBUSY, mv_unfence(fx->fd, sid, 0, NULL));

	/* Region removal: EBUSY, and the fence goes on. */
	ret = mv_region_remove(fx->fd, fx->region_id,
			       MEMVIEW_REGION_REMOVE_EVACUATE, &ev);
	EXPECT_EQ(-EBUSY, ret) TH_LOG("REGION_REMOVE with a pinned page: %s",
				      ret ? strerror(-ret) : "success");
	if (!ret)
		fx->region_added = false;
	if (fx->region_added) {
		s = region_slices(_metadata, fx, &n);
		for (i = 0; i < n; i++)
			EXPECT_EQ(s[i].id == sid ? (__u32)MEMVIEW_SLICE_FENCING :
				  (__u32)MEMVIEW_SLICE_ONLINE, s[i].state)
				mv_slice_print(&s[i]);
		free(s);
	}
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, fx->pid, sum);

	/* The reference goes: the fence ends. */
	ASSERT_EQ((ssize_t)PS, read(p[0], page, sizeof(page)));
	EXPECT_EQ(0, memcmp(page, buf + off, PS));
	close(p[0]);
	close(p[1]);
	if (fx->region_added) {
		SETTLE(fx, sid, e);
		EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, e.state)
			mv_slice_print(&e);
		EXPECT_EQ(0ULL, e.used_pages);
		EXPECT_EQ(0ULL, e.evac_pending);
		EXPECT_CONSISTENT(e);
		EXPECT_EQ(0ULL, mv_residency_in(fx->fd, fx->pid, buf, len,
						sid));
	}
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, fx->pid, sum);
	mv_unmap_anon(buf, len);
}

/* Read every waiting event (O_NONBLOCK fd) into ev[]; returns the count. */
static int read_events(int fd, struct memview_event *ev, int max)
{
	int n = 0;

	while (n < max) {
		ssize_t r = read(fd, ev + n, (max - n) * sizeof(*ev));

		if (r < 0)
			return errno == EAGAIN ? n : -errno;
		if (!r || r % sizeof(*ev))
			return -EPROTO;
		n += r / sizeof(*ev);
	}
	return n;
}

static int find_event(const struct memview_event *ev, int n, int from,
		      __u32 type, __u32 sid, __u32 old_state, __u32 new_state)
{
	int i;

	for (i = from; i < n; i++)
		if (ev[i].type == type && ev[i].slice_id == sid &&
		    (type != MEMVIEW_EVENT_STATE ||
		     (ev[i].old_state == old_state &&
		      ev[i].new_state == new_state)))
			return i;
	return -1;
}

/*
 * The event stream: nothing to read at first (EAGAIN, poll not readable);
 * a fence makes it readable and gives STATE records ONLINE -> FENCING ->
 * FENCED with EVACUATION records between them, in sequence; an error gives
 * an ERROR record, an unfence a STATE record.  A buffer smaller than one
 * record is EINVAL.  A reader opened later sees none of it.
 */
#define MAX_EV	256

TEST_F_TIMEOUT(ras, events, 180)
{
	size_t len = MV_MIB;
	struct mv_fixture *fx = &self->f;
	struct memview_event *ev, small;
	struct pollfd pfd;
	__u64 n_s, moved = 0;
	int efd, efd2, n, i, a, b, z;
	__u32 sid;
	char *buf;

	MV_SETUP_SKIPPED();
	ev = calloc(MAX_EV, sizeof(*ev));
	ASSERT_NE(NULL, ev);
	efd = open(MEMVIEW_DEVICE, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(-1, read(efd, ev, sizeof(*ev)));
	EXPECT_EQ(EAGAIN, errno);
	pfd = (struct pollfd){ .fd = efd, .events = POLLIN };
	EXPECT_EQ(0, poll(&pfd, 1, 0));

	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	mv_fill(buf, 0, len, MV_PAT_STAMP, fx->pid);
	mv_demote_all(_metadata, fx, fx->pid, buf, len);
	ASSERT_EQ(0, mv_residency_slice(fx->fd, fx->pid, buf, len, &sid, &n_s));
	ASSERT_EQ(0, mv_fence(fx->fd, sid, MEMVIEW_FENCE_WAIT, NULL));

	pfd.revents = 0;
	EXPECT_EQ(1, poll(&pfd, 1, 10000));
	EXPECT_TRUE(pfd.revents & POLLIN);
	/* Too small a buffer, while records wait: EINVAL, nothing lost. */
	EXPECT_EQ(-1, read(efd, &small, 8));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(efd, &small, sizeof(small) - 1));
	EXPECT_EQ(EINVAL, errno);

	n = read_events(efd, ev, MAX_EV);
	ASSERT_LE(3, n) TH_LOG("read: %d", n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(sizeof(*ev), ev[i].size);
		EXPECT_NE(0ULL, ev[i].time_ns);
		EXPECT_EQ(0ULL, ev[i].__reserved);
		if (i)
			EXPECT_EQ(ev[i - 1].seq + 1, ev[i].seq)
				TH_LOG("record %d: seq %llu after %llu", i,
				       (unsigned long long)ev[i].seq,
				       (unsigned long long)ev[i - 1].seq);
	}
	a = find_event(ev, n, 0, MEMVIEW_EVENT_STATE, sid,
		       MEMVIEW_SLICE_ONLINE, MEMVIEW_SLICE_FENCING);
	ASSERT_LE(0, a) TH_LOG("no STATE ONLINE -> FENCING for slice %u", sid);
	EXPECT_EQ((__u32)MEMVIEW_FENCE_ADMIN, ev[a].reason);
	EXPECT_EQ(fx->region_id, ev[a].region_id);
	b = find_event(ev, n, a + 1, MEMVIEW_EVENT_STATE, sid,
		       MEMVIEW_SLICE_FENCING, MEMVIEW_SLICE_FENCED);
	ASSERT_LT(a, b) TH_LOG("no STATE FENCING -> FENCED for slice %u", sid);
	z = -1;
	for (i = a + 1; i < b; i++) {
		if (ev[i].type != MEMVIEW_EVENT_EVACUATION ||
		    ev[i].slice_id != sid)
			continue;
		moved += ev[i].count;
		z = i;
	}
	ASSERT_LE(0, z) TH_LOG("no EVACUATION record between the two");
	EXPECT_EQ(n_s, moved);
	EXPECT_EQ(0ULL, ev[z].pending);
	/* Nothing else for this slice after FENCED. */
	EXPECT_EQ(-1, find_event(ev, n, b + 1, MEMVIEW_EVENT_EVACUATION, sid,
				 0, 0));

	/* A reader opened now sees none of the past. */
	efd2 = open(MEMVIEW_DEVICE, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, efd2);
	EXPECT_EQ(-1, read(efd2, ev, sizeof(*ev)));
	EXPECT_EQ(EAGAIN, errno);

	/* An error, then an unfence: both readers see them. */
	ASSERT_EQ(0, mv_inject_slice(fx->fd, sid, MEMVIEW_ERROR_CORRECTED, 1,
				     NULL));
	ASSERT_EQ(0, mv_unfence(fx->fd, sid, 0, NULL));
	for (i = 0; i < 2; i++) {
		n = read_events(i ? efd2 : efd, ev, MAX_EV);
		ASSERT_LE(2, n);
		a = find_event(ev, n, 0, MEMVIEW_EVENT_ERROR, sid, 0, 0);
		ASSERT_LE(0, a);
		EXPECT_EQ((__u32)MEMVIEW_ERROR_CORRECTED, ev[a].reason);
		EXPECT_EQ((__u32)MEMVIEW_SRC_INJECT, ev[a].source);
		EXPECT_EQ(0ULL, ev[a].phys_addr);
		EXPECT_EQ(1ULL, ev[a].count);
		b = find_event(ev, n, a + 1, MEMVIEW_EVENT_STATE, sid,
			       MEMVIEW_SLICE_FENCED, MEMVIEW_SLICE_DEGRADED);
		EXPECT_LT(a, b) TH_LOG("no STATE FENCED -> DEGRADED");
	}
	EXPECT_EQ(-1, read(efd, ev, sizeof(*ev)));
	EXPECT_EQ(EAGAIN, errno);

	close(efd);
	close(efd2);
	free(ev);
	mv_unmap_anon(buf, len);
}

/*
 * ERROR_REPORT checks: an address in no region ENOENT; the sources only
 * the module itself raises, an unknown source or severity, too long a
 * range or more than one error EINVAL.  A corrected error is counted on
 * the slice holding the address; an uncorrectable one at free pages
 * poisons exactly those pages and fences the slice.
 */
TEST_F_TIMEOUT(ras, error_report, 120)
{
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry *s, first, last, e;
	struct memview_info i0, i1;
	struct memview_error err;
	__u32 n;

	MV_SETUP_SKIPPED();
	s = region_slices(_metadata, fx, &n);
	first = s[0];
	last = s[n - 1];
	free(s);

	EXPECT_EQ(-ENOENT, mv_report(fx->fd, 0x1000, 64,
				     MEMVIEW_ERROR_CORRECTED,
				     MEMVIEW_SRC_CXL_GENERAL_MEDIA, NULL));
	EXPECT_EQ(-EINVAL, mv_report(fx->fd, last.phys_addr, 64,
				     MEMVIEW_ERROR_CORRECTED,
				     MEMVIEW_SRC_INJECT, NULL));
	EXPECT_EQ(-EINVAL, mv_report(fx->fd, last.phys_addr, 64,
				     MEMVIEW_ERROR_UNCORRECTABLE,
				     MEMVIEW_SRC_MEMORY_FAILURE, NULL));
	EXPECT_EQ(-EINVAL, mv_report(fx->fd, last.phys_addr, 64,
				     MEMVIEW_ERROR_CORRECTED,
				     MEMVIEW_SRC_MAX + 1, NULL));
	EXPECT_EQ(-EINVAL, mv_report(fx->fd, last.phys_addr, 64,
				     MEMVIEW_ERROR_UNCORRECTABLE + 1,
				     MEMVIEW_SRC_CXL_DRAM, NULL));
	EXPECT_EQ(-EINVAL, mv_report(fx->fd, last.phys_addr, MV_SLICE_SIZE + 1,
				     MEMVIEW_ERROR_CORRECTED,
				     MEMVIEW_SRC_CXL_DRAM, NULL));
	mv_error_init(&err);
	err.phys_addr = last.phys_addr;
	err.source = MEMVIEW_SRC_CXL_DRAM;
	err.count = 2;
	EXPECT_EQ(-EINVAL, mv_ioctl(fx->fd, MEMVIEW_IOCTL_ERROR_REPORT, &err));
	err.count = 0;
	err.flags = MEMVIEW_INJECT_SLICE;
	EXPECT_EQ(-EINVAL, mv_ioctl(fx->fd, MEMVIEW_IOCTL_ERROR_REPORT, &err));
	get_slice(_metadata, fx->fd, last.id, &e);
	EXPECT_EQ(0ULL, e.errors);

	/* Corrected, in the last slice: counted there, and only there. */
	ASSERT_EQ(0, mv_report(fx->fd, last.phys_addr + 3 * PS + 128, 64,
			       MEMVIEW_ERROR_CORRECTED,
			       MEMVIEW_SRC_CXL_GENERAL_MEDIA, &err));
	EXPECT_EQ(last.id, err.out_slice_id);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_DEGRADED, err.out_state);
	EXPECT_EQ(0ULL, err.out_pages_poisoned);
	get_slice(_metadata, fx->fd, last.id, &e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_DEGRADED, e.state);
	EXPECT_EQ(1ULL, e.corrected_errors);
	EXPECT_EQ(1ULL, e.errors);
	EXPECT_EQ(0ULL, e.poisoned_pages);
	/* length 0 is one byte; count 1 is one error */
	mv_error_init(&err);
	err.phys_addr = last.phys_addr + last.total_pages * PS - 1;
	err.source = MEMVIEW_SRC_CXL_DRAM;
	err.count = 1;
	ASSERT_EQ(0, mv_ioctl(fx->fd, MEMVIEW_IOCTL_ERROR_REPORT, &err));
	EXPECT_EQ(last.id, err.out_slice_id);
	get_slice(_metadata, fx->fd, last.id, &e);
	EXPECT_EQ(2ULL, e.corrected_errors);
	if (n > 1) {
		get_slice(_metadata, fx->fd, first.id, &e);
		EXPECT_EQ(0ULL, e.errors);
		EXPECT_EQ((__u32)MEMVIEW_SLICE_ONLINE, e.state);
	}

	/* Uncorrectable at free pages of the first slice. */
	ASSERT_EQ(0, mv_get_info(fx->fd, &i0));
	ASSERT_EQ(0, mv_report(fx->fd, first.phys_addr + 10 * PS, 64,
			       MEMVIEW_ERROR_UNCORRECTABLE,
			       MEMVIEW_SRC_CXL_POISON, &err));
	EXPECT_EQ(first.id, err.out_slice_id);
	EXPECT_EQ(1ULL, err.out_pages_poisoned);
	SETTLE(fx, first.id, e);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, e.state);
	EXPECT_EQ((__u32)MEMVIEW_FENCE_UNCORRECTABLE, e.fence_reason);
	EXPECT_EQ(1ULL, e.poisoned_pages);
	EXPECT_EQ(1ULL, e.uncorrectable_errors);
	EXPECT_EQ(0ULL, e.used_pages);
	EXPECT_CONSISTENT(e);
	/* Two pages; then the same page again (nothing new poisoned). */
	ASSERT_EQ(0, mv_report(fx->fd, first.phys_addr + 20 * PS, 2 * PS,
			       MEMVIEW_ERROR_UNCORRECTABLE,
			       MEMVIEW_SRC_CXL_GENERAL_MEDIA, &err));
	EXPECT_EQ(2ULL, err.out_pages_poisoned);
	ASSERT_EQ(0, mv_report(fx->fd, first.phys_addr + 10 * PS, 1,
			       MEMVIEW_ERROR_UNCORRECTABLE,
			       MEMVIEW_SRC_CXL_POISON, &err));
	EXPECT_EQ(0ULL, err.out_pages_poisoned);
	get_slice(_metadata, fx->fd, first.id, &e);
	EXPECT_EQ(3ULL, e.poisoned_pages);
	EXPECT_EQ(3ULL, e.uncorrectable_errors);
	EXPECT_CONSISTENT(e);
	ASSERT_EQ(0, mv_get_info(fx->fd, &i1));
	EXPECT_EQ(i0.out_poisoned_pages + 3, i1.out_poisoned_pages);
}

/*
 * SLICE_LIST entry sizes: the struct without entry_size (24 bytes) and
 * entry_size MEMVIEW_SLICE_ENTRY_SIZE_V1 give 80-byte entries, the first
 * 80 bytes of today's; a bigger entry_size gets today's entry and zeroes
 * after it; entry_size below V1 or not a multiple of 8 is EINVAL.
 */
struct slice_list_v1 {
	__u32 size;
	__u32 flags;
	__u32 num_slices;
	__u32 region_id;
	__aligned_u64 slices;
};

TEST_F(ras, slice_list_abi)
{
	const size_t v1 = MEMVIEW_SLICE_ENTRY_SIZE_V1, v2 = sizeof(struct memview_slice_entry);
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry *s;
	struct memview_slice_list l;
	struct slice_list_v1 o;
	unsigned char *raw;
	__u32 n, i;
	size_t k;

	_Static_assert(sizeof(struct slice_list_v1) == 24, "");
	_Static_assert(MEMVIEW_SLICE_ENTRY_SIZE_V1 ==
		       offsetof(struct memview_slice_entry, corrected_errors),
		       "");
	MV_SETUP_SKIPPED();
	s = region_slices(_metadata, fx, &n);
	raw = malloc(n * (v2 + 16));
	ASSERT_NE(NULL, raw);

	/* The old struct. */
	memset(raw, 0xa5, n * (v2 + 16));
	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.flags = MEMVIEW_SLICE_LIST_REGION;
	o.region_id = fx->region_id;
	o.num_slices = n;
	o.slices = (uintptr_t)raw;
	ASSERT_EQ(0, mv_ioctl(fx->fd, MEMVIEW_IOCTL_SLICE_LIST, &o));
	ASSERT_EQ(n, o.num_slices);
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, memcmp(raw + i * v1, &s[i], v1))
			TH_LOG("v1 entry %u differs", i);
	EXPECT_EQ(0xa5, raw[n * v1]);	/* nothing written beyond */

	/* entry_size = V1, and 0, in today's struct. */
	for (k = 0; k < 2; k++) {
		memset(raw, 0xa5, n * (v2 + 16));
		memset(&l, 0, sizeof(l));
		l.size = sizeof(l);
		l.flags = MEMVIEW_SLICE_LIST_REGION;
		l.region_id = fx->region_id;
		l.num_slices = n;
		l.slices = (uintptr_t)raw;
		l.entry_size = k ? 0 : v1;
		ASSERT_EQ(0, mv_ioctl(fx->fd, MEMVIEW_IOCTL_SLICE_LIST, &l));
		for (i = 0; i < n; i++)
			EXPECT_EQ(0, memcmp(raw + i * v1, &s[i], v1));
		EXPECT_EQ(0xa5, raw[n * v1]);
	}

	/* A bigger entry than the module knows: zeroed tail. */
	memset(raw, 0xa5, n * (v2 + 16));
	l.entry_size = v2 + 16;
	ASSERT_EQ(0, mv_ioctl(fx->fd, MEMVIEW_IOCTL_SLICE_LIST, &l));
	for (i = 0; i < n; i++) {
		unsigned char *ent = raw + i * (v2 + 16);

		EXPECT_EQ(0, memcmp(ent, &s[i], v2));
		for (k = v2; k < v2 + 16; k++)
			EXPECT_EQ(0, ent[k]);
	}

	/* Bad entry sizes and reserved. */
	l.entry_size = 7;
	EXPECT_EQ(-EINVAL, mv_ioctl(fx->fd, MEMVIEW_IOCTL_SLICE_LIST, &l));
	l.entry_size = 84;
	EXPECT_EQ(-EINVAL, mv_ioctl(fx->fd, MEMVIEW_IOCTL_SLICE_LIST, &l));
	l.entry_size = 72;
	EXPECT_EQ(-EINVAL, mv_ioctl(fx->fd, MEMVIEW_IOCTL_SLICE_LIST, &l));
	l.entry_size = v2;
	l.__reserved = 1;
	EXPECT_EQ(-EINVAL, mv_ioctl(fx->fd, MEMVIEW_IOCTL_SLICE_LIST, &l));

	/* A fresh region: today's fields all quiet. */
	for (i = 0; i < n; i++) {
		EXPECT_EQ((__u32)MEMVIEW_SLICE_ONLINE, s[i].state);
		EXPECT_EQ(0ULL, s[i].corrected_errors);
		EXPECT_EQ(0ULL, s[i].uncorrectable_errors);
		EXPECT_EQ(0ULL, s[i].window_corrected);
		EXPECT_EQ(0U, s[i].fence_reason);
		EXPECT_EQ(0U, s[i].__reserved);
		EXPECT_EQ(0ULL, s[i].evac_total + s[i].evac_moved +
				s[i].evac_poisoned + s[i].evac_pending +
				s[i].evac_passes);
	}
	free(raw);
	free(s);
}

/*
 * A thread of the process being evacuated that maps, touches and unmaps a
 * page in a loop, and counts the loops made wholly while the evacuation
 * was part-way (some of the slice's pages moved before it began, not all
 * after it ended): each needed the mmap lock for writing in between the
 * evacuation's batches.
 */
struct evac_mapper {
	int fd;
	__u32 sid;
	__u64 total;			/* the slice's pages, all ours */
	__u64 inside;			/* loops within the evacuation */
	__u64 iters;			/* all loops (atomic) */
	int stop;			/* atomic */
	int err;
};

static void *evac_mapper_run(void *arg)
{
	struct evac_mapper *em = arg;
	struct memview_slice_entry e;
	__u64 before;
	char *p;

	while (!__atomic_load_n(&em->stop, __ATOMIC_ACQUIRE)) {
		em->err = -mv_slice_get(em->fd, em->sid, &e);
		if (em->err)
			break;
		before = e.evac_moved;
		p = mmap(NULL, PS, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			em->err = errno;
			break;
		}
		*p = 1;
		munmap(p, PS);
		em->err = -mv_slice_get(em->fd, em->sid, &e);
		if (em->err)
			break;
		if (before && e.evac_moved < em->total)
			em->inside++;
		__atomic_add_fetch(&em->iters, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/*
 * Fence the slice holding 32 MiB of ours while a thread of ours mmaps and
 * munmaps in a loop: the evacuation drops our mmap lock between batches,
 * so the thread gets through several times while it is under way; every
 * page moves, data intact.
 */
TEST_F_TIMEOUT(ras, fence_mmap_writer_progress, 240)
{
	/* 16 batches whatever MEMVIEW_TEST_MB says: the gaps are the test. */
	size_t len = 32 * MV_MIB, pages = mv_pages(len);
	struct mv_fixture *fx = &self->f;
	struct evac_mapper em = { .fd = fx->fd };
	struct memview_slice_entry e, *sl;
	struct memview_slice_fence f;
	__u32 n, i;
	__u64 sum;
	pthread_t t;
	char *buf;

	MV_SETUP_SKIPPED();
	if (fx->nr_slices < 2)
		SKIP(return, "needs a second slice to evacuate to");
	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_STAMP, fx->pid);
	/*
	 * All of it into the first slice (batches go to the least used
	 * one): the others fenced, empty, while it is demoted.
	 */
	sl = region_slices(_metadata, fx, &n);
	em.sid = sl[0].id;
	for (i = 1; i < n; i++) {
		track(_metadata, self, sl[i].id);
		ASSERT_EQ(0, mv_fence(fx->fd, sl[i].id, 0, NULL));
		SETTLE(fx, sl[i].id, e);
	}
	mv_demote_all(_metadata, fx, fx->pid, buf, len);
	for (i = 1; i < n; i++)
		ASSERT_EQ(0, mv_unfence(fx->fd, sl[i].id, 0, NULL));
	free(sl);
	em.total = pages;
	get_slice(_metadata, fx->fd, em.sid, &e);
	ASSERT_EQ(em.total, e.used_pages) mv_slice_print(&e);

	ASSERT_EQ(0, pthread_create(&t, NULL, evac_mapper_run, &em));
	while (!__atomic_load_n(&em.iters, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&em.err, __ATOMIC_ACQUIRE))
		sched_yield();
	track(_metadata, self, em.sid);
	ASSERT_EQ(0, mv_fence(fx->fd, em.sid, 0, NULL));
	SETTLE(fx, em.sid, e);
	__atomic_store_n(&em.stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(0, em.err) TH_LOG("mapper: %s", strerror(em.err));
	TH_LOG("%llu of %llu mapper loops while the evacuation was under way",
	       (unsigned long long)em.inside, (unsigned long long)em.iters);
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, e.state) mv_slice_print(&e);
	EXPECT_EQ(em.total, e.evac_moved) mv_slice_print(&e);
	EXPECT_EQ(0ULL, e.used_pages) mv_slice_print(&e);
	/*
	 * The mmap lock held for the whole process lets no loop that began
	 * once a page had moved end before the last one had.
	 */
	EXPECT_LE(3ULL, em.inside);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, fx->pid, sum);
	mv_unmap_anon(buf, len);
	ASSERT_EQ(0, mv_unfence(fx->fd, em.sid, 0, &f));
}

/* --- known-bad pages: destinations and re-added regions ----------------- */

#define FAIL_DST_VERIFY	"/sys/kernel/debug/memview/fail_dst_verify"

/*
 * The page frame of each page of [buf, buf + len) from /proc/self/pagemap
 * (frame numbers need CAP_SYS_ADMIN), 0 for a page not present.
 */
static int pagemap_pfns(const void *buf, size_t len, __u64 *pfn)
{
	size_t n = len / PS, i;
	ssize_t got;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return -errno;
	got = pread(fd, pfn, n * 8, (uintptr_t)buf / PS * 8);
	close(fd);
	if (got != (ssize_t)(n * 8))
		return got < 0 ? -errno : -EIO;
	for (i = 0; i < n; i++)
		pfn[i] = pfn[i] >> 63 ? pfn[i] & ((1ULL << 55) - 1) : 0;
	return 0;
}

/* ERROR_INJECT of an uncorrectable error on the (free) page at @phys. */
static void inject_ue_free(struct __test_metadata *_metadata, int fd,
			   __u64 phys)
{
	struct memview_error e;
	int ret;

	mv_error_init(&e);
	e.phys_addr = phys;
	e.severity = MEMVIEW_ERROR_UNCORRECTABLE;
	e.source = MEMVIEW_SRC_INJECT;
	ret = mv_ioctl(fd, MEMVIEW_IOCTL_ERROR_INJECT, &e);
	ASSERT_EQ(0, ret) TH_LOG("ERROR_INJECT %#llx: %s",
				 (unsigned long long)phys, strerror(-ret));
	EXPECT_EQ(1ULL, e.out_pages_poisoned);
}

/*
 * Every pfn of @pfn[0..n) present, inside [lo, hi) and none of @bad[0..nbad);
 * returns whether one of them is @want (0: none wanted).
 */
static bool check_pfns(struct __test_metadata *_metadata, const __u64 *pfn,
		       size_t n, __u64 lo, __u64 hi, const __u64 *bad,
		       size_t nbad, __u64 want)
{
	bool seen = false;
	size_t i, k;

	for (i = 0; i < n; i++) {
		EXPECT_TRUE(pfn[i] >= lo && pfn[i] < hi)
			TH_LOG("page %zu at pfn %#llx, outside the region", i,
			       (unsigned long long)pfn[i]);
		for (k = 0; k < nbad; k++)
			EXPECT_NE(bad[k], pfn[i])
				TH_LOG("page %zu is on poisoned pfn %#llx", i,
				       (unsigned long long)pfn[i]);
		seen |= want && pfn[i] == want;
	}
	return seen;
}

/*
 * A page poisoned while free is remembered across REGION_REMOVE: the same
 * range added again has it poisoned from the start (SLICE_LIST,
 * out_bad_pages) and the allocator passes over it.  Page 0 of each slice
 * is poisoned: the first page a fresh slice hands out, so a demotion into
 * the re-added region reaches it; pagemap shows page 1 used, page 0 not.
 */
TEST_F_TIMEOUT(ras, poison_remembered, 180)
{
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry *s;
	struct memview_region_add a;
	size_t len = 64 * PS;
	__u64 bad[64], pfn[64], sum, lo, hi;
	__u32 n, i;
	bool seen = false;
	char *buf;
	int ret;

	MV_SETUP_SKIPPED();
	if (!(fx->info.out_features & MEMVIEW_FEATURE_BAD_RANGES))
		SKIP(return, "module without MEMVIEW_FEATURE_BAD_RANGES");
	s = region_slices(_metadata, fx, &n);
	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++) {
		bad[i] = s[i].phys_addr / PS;
		inject_ue_free(_metadata, fx->fd, s[i].phys_addr);
	}
	free(s);

	ret = mv_region_remove(fx->fd, fx->region_id,
			       MEMVIEW_REGION_REMOVE_EVACUATE, NULL);
	ASSERT_EQ(0, ret) TH_LOG("REGION_REMOVE: %s", strerror(-ret));
	fx->region_added = false;
	ret = mv_region_add(fx->fd, fx->range.start, fx->range.size,
			    fx->range.kind, fx->range.label, &a);
	ASSERT_EQ(0, ret) TH_LOG("REGION_ADD again: %s", strerror(-ret));
	fx->region_added = true;
	fx->region_id = a.out_region_id;
	EXPECT_EQ((__u64)n, a.out_bad_pages);

	s = region_slices(_metadata, fx, &i);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(1ULL, s[i].poisoned_pages) mv_slice_print(&s[i]);
		EXPECT_EQ(s[i].total_pages - 1, s[i].free_pages);
		EXPECT_EQ((__u32)MEMVIEW_SLICE_ONLINE, s[i].state);
		EXPECT_EQ(0ULL, s[i].uncorrectable_errors);
	}
	lo = s[0].phys_addr / PS;
	hi = lo + (__u64)n * s[0].total_pages;
	free(s);

	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_STAMP, fx->pid);
	mv_demote_all(_metadata, fx, fx->pid, buf, len);
	ASSERT_EQ(0, pagemap_pfns(buf, len, pfn));
	for (i = 0; i < n && !seen; i++)
		seen = check_pfns(_metadata, pfn, len / PS, lo, hi, bad, n,
				  bad[i] + 1);
	EXPECT_TRUE(seen) TH_LOG("no page landed next to a poisoned one: the allocator never reached it");
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, fx->pid, sum);
	mv_unmap_anon(buf, len);
}

/* Set the fail_dst_verify hook; false if debugfs does not have it. */
static bool set_fail_dst_verify(unsigned int n)
{
	FILE *f = fopen(FAIL_DST_VERIFY, "w");
	bool ok;

	if (!f)
		return false;
	ok = fprintf(f, "%u\n", n) > 0;
	return !fclose(f) && ok;
}

static int get_fail_dst_verify(void)
{
	FILE *f = fopen(FAIL_DST_VERIFY, "r");
	int n = -1;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/*
 * Demote @len of @buf, return the slice that took it (all of it), after
 * poisoning the first @k pages (free) of every slice without fencing on
 * uncorrectable errors.  *bad gets their pfns, *nbad their number.
 * @buf must lie inside one PMD: a demotion picks a slice per PMD batch, so
 * a buffer across a PMD boundary may land in two.
 */
static __u32 demote_among_poison(struct __test_metadata *_metadata,
				 FIXTURE_DATA(ras) *self, char *buf,
				 size_t len, __u32 k, __u64 *bad,
				 size_t *nbad, size_t room)
{
	struct mv_fixture *fx = &self->f;
	struct memview_slice_entry *s;
	__u32 n, i, j, src = 0;
	__u64 pages = 0;

	set_ras_policy(_metadata, self, 16, MEMVIEW_RAS_FENCE_ON_CE);
	s = region_slices(_metadata, fx, &n);
	*nbad = 0;
	for (i = 0; i < n; i++)
		for (j = 0; j < k && *nbad < room; j++) {
			bad[(*nbad)++] = s[i].phys_addr / PS + j;
			inject_ue_free(_metadata, fx->fd, s[i].phys_addr + j * PS);
		}
	free(s);
	mv_demote_all(_metadata, fx, fx->pid, buf, len);
	EXPECT_EQ(0, mv_residency_slice(fx->fd, fx->pid, buf, len, &src,
					&pages));
	EXPECT_EQ((__u64)(len / PS), pages);
	return src;
}

/*
 * Evacuation never copies into a page poisoned while free: the first
 * pages of every slice are poisoned (the policy keeps the slices in
 * service), a slice holding a buffer is fenced, and pagemap shows every
 * destination in the other slices, none on a poisoned pfn, one on the
 * first page after them (so the allocator did reach them).
 */
TEST_F_TIMEOUT(ras, evac_skips_poisoned, 180)
{
	struct mv_fixture *fx = &self->f;
	size_t len = 64 * PS, nbad, i;
	struct memview_slice_entry e;
	struct memview_slice_fence f;
	__u64 bad[64], pfn[64], sum, lo, hi;
	bool seen = false;
	__u32 src;
	char *buf;
	int ret;

	MV_SETUP_SKIPPED();
	if (fx->nr_slices < 2)
		SKIP(return, "the region has one slice: nowhere to evacuate to");
	buf = mv_map_anon(len, MV_ALIGN, false);	/* one PMD */
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_STAMP, fx->pid);
	src = demote_among_poison(_metadata, self, buf, len, 4, bad, &nbad, 64);
	get_slice(_metadata, fx->fd, src, &e);
	track(_metadata, self, src);
	ret = mv_fence(fx->fd, src, MEMVIEW_FENCE_WAIT, &f);
	ASSERT_EQ(0, ret) TH_LOG("FENCE %u: %s", src, strerror(-ret));
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, f.out_state);
	EXPECT_EQ((__u64)(len / PS), f.out_evac_moved);
	EXPECT_EQ(0ULL, mv_residency_in(fx->fd, fx->pid, buf, len, src));
	mv_check_residency(_metadata, fx, fx->pid, buf, len, 0, len / PS);

	ASSERT_EQ(0, pagemap_pfns(buf, len, pfn));
	lo = fx->range.start / PS;
	hi = lo + fx->nr_slices * (MV_SLICE_SIZE / PS);
	for (i = 0; i < nbad; i += 4)
		if (bad[i] != e.phys_addr / PS)
			seen |= check_pfns(_metadata, pfn, len / PS, lo, hi,
					   bad, nbad, bad[i] + 4);
	EXPECT_TRUE(seen) TH_LOG("no destination right after the poisoned pages");
	for (i = 0; i < len / PS; i++)
		EXPECT_FALSE(pfn[i] >= e.phys_addr / PS &&
			     pfn[i] < e.phys_addr / PS + e.total_pages);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_STAMP, fx->pid, sum);
	mv_unmap_anon(buf, len);
}

/*
 * The retry of a destination whose read-back fails: poison in a
 * destination page cannot be produced under TCG, so the debugfs hook
 * fail_dst_verify makes the next read-back fail as poison would.  The
 * evacuation still moves every page, intact; the bad destination is an
 * uncorrectable error on its slice, retired (poisoned_pages + 1).
 */
TEST_F_TIMEOUT(ras, evac_dst_verify_retry, 180)
{
	struct mv_fixture *fx = &self->f;
	size_t len = 16 * PS, nbad;
	struct memview_slice_entry *s;
	struct memview_slice_fence f;
	__u64 bad[1], sum, ue0 = 0, poisoned0 = 0, ue1 = 0, poisoned1 = 0;
	__u32 src, n, i;
	char *buf;
	int ret;

	MV_SETUP_SKIPPED();
	if (fx->nr_slices < 2)
		SKIP(return, "the region has one slice: nowhere to evacuate to");
	if (get_fail_dst_verify() < 0)
		SKIP(return, "no %s (debugfs)", FAIL_DST_VERIFY);
	buf = mv_map_anon(len, MV_ALIGN, false);	/* one PMD */
	ASSERT_NE(NULL, buf);
	sum = mv_fill(buf, 0, len, MV_PAT_RANDOM, 5);
	src = demote_among_poison(_metadata, self, buf, len, 0, bad, &nbad, 0);
	s = region_slices(_metadata, fx, &n);
	for (i = 0; i < n; i++)
		if (s[i].id != src) {
			ue0 += s[i].uncorrectable_errors;
			poisoned0 += s[i].poisoned_pages;
		}
	free(s);

	ASSERT_TRUE(set_fail_dst_verify(1));
	track(_metadata, self, src);
	ret = mv_fence(fx->fd, src, MEMVIEW_FENCE_WAIT, &f);
	EXPECT_EQ(0, get_fail_dst_verify());
	set_fail_dst_verify(0);
	ASSERT_EQ(0, ret) TH_LOG("FENCE %u: %s", src, strerror(-ret));
	EXPECT_EQ((__u32)MEMVIEW_SLICE_FENCED, f.out_state);
	EXPECT_EQ((__u64)(len / PS), f.out_evac_moved);
	mv_check_residency(_metadata, fx, fx->pid, buf, len, 0, len / PS);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_RANDOM, 5, sum);

	s = region_slices(_metadata, fx, &n);
	for (i = 0; i < n; i++)
		if (s[i].id != src) {
			ue1 += s[i].uncorrectable_errors;
			poisoned1 += s[i].poisoned_pages;
		}
	free(s);
	EXPECT_EQ(ue0 + 1, ue1);
	EXPECT_EQ(poisoned0 + 1, poisoned1);
	mv_unmap_anon(buf, len);
}

TEST_HARNESS_MAIN
