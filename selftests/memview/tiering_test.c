// SPDX-License-Identifier: GPL-2.0
/*
 * Automatic tiering (Documentation/tiering.rst): the placer keeps the hot
 * pages of a process attached with MEMVIEW_ATTACH_AUTO in DRAM and its cold
 * pages in the slices, within its DRAM budget, without moving pages back
 * and forth faster than its hysteresis allows; it copes with threads, fork,
 * exec and exit; its policy and statistics ioctls check their input.
 *
 * Time is counted in placer rounds (STATS of pid 0, out_rounds), never in
 * seconds: every wait is bounded by a number of rounds.  The tiering
 * fixture sets a 50 ms scan interval and a scan time that covers a whole
 * process, and restores the policy it found.
 *
 * The workloads run in forked children.  They report through their exit
 * status (the harness's ASSERTs would run the fixture teardown in them)
 * and exit when the test process goes away (their command pipe reads EOF).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "memview_harness.h"

#define SCAN_MS		50	/* the tiering fixture's scan interval */
#define CHILD_WAIT_MS	120000	/* parent/child hand-offs */
#define TIER_TIMEOUT	240	/* seconds per test (a guard: waits count rounds) */

/* One PMD: the batch the placer migrates at a time. */
#define BATCH_PAGES	512
/*
 * Pages a workload child may fault in outside its buffers between two
 * rounds (stack, stdio, pipe buffers): it only loops over memory it
 * faulted in before it was attached.
 */
#define FAULT_SLACK	64

#define HOT_PCT		95	/* of a hot set that must be in DRAM */
#define COLD_PCT	90	/* of a cold set that must be in slices */
#define SETTLE_ROUNDS	40	/* placer rounds a placement may take */

/* ------------------------------------------------------------------ */
/* The policy knobs as Documentation/tiering.rst lists them.          */

struct knob {
	const char *name;
	__u32 bit;
	size_t off;
	__u32 dflt, min, max;
};

#define KNOB(field, bit, dflt, min, max) \
	{ #field, MEMVIEW_POLICY_##bit, offsetof(struct memview_policy, field), \
	  dflt, min, max }

static const struct knob knobs[] = {
	KNOB(scan_interval_ms, SCAN_INTERVAL, 200, 10, 60000),
	KNOB(pages_per_round, PAGES_PER_ROUND, 262144, 512, 16777216),
	KNOB(max_scan_us, MAX_SCAN_US, 50000, 100, 10000000),
	KNOB(hot_rounds, HOT_ROUNDS, 2, 1, 64),
	KNOB(cold_rounds, COLD_ROUNDS, 3, 1, 64),
	KNOB(hysteresis_rounds, HYSTERESIS, 8, 0, 1000),
	KNOB(pingpong_rounds, PINGPONG_ROUNDS, 16, 1, 1000),
	KNOB(promote_rate_mbps, PROMOTE_RATE, 256, 0, 1048576),
	KNOB(demote_rate_mbps, DEMOTE_RATE, 256, 0, 1048576),
	KNOB(sample_period, SAMPLE_PERIOD, 1, 1, 1000000),
	KNOB(samplers, SAMPLERS,
	     MEMVIEW_SAMPLE_ACCESS_BIT | MEMVIEW_SAMPLE_FAULTS, 0,
	     MEMVIEW_SAMPLE_ACCESS_BIT | MEMVIEW_SAMPLE_FAULTS),
	/* Documentation/ras.rst; their effect is tested by ras_test */
	KNOB(ce_threshold, CE_THRESHOLD, 16, 1, 1000000),
	KNOB(ce_window_ms, CE_WINDOW, 86400000, 100, 604800000),
	KNOB(ras_flags, RAS_FLAGS,
	     MEMVIEW_RAS_FENCE_ON_UE | MEMVIEW_RAS_FENCE_ON_CE, 0,
	     MEMVIEW_RAS_FENCE_ON_UE | MEMVIEW_RAS_FENCE_ON_CE),
};
#define NR_KNOBS	(sizeof(knobs) / sizeof(knobs[0]))

static __u32 *knob_ptr(struct memview_policy *p, const struct knob *k)
{
	return (__u32 *)((char *)p + k->off);
}

static __u32 knob_get(const struct memview_policy *p, const struct knob *k)
{
	return *(const __u32 *)((const char *)p + k->off);
}

/* Are all knobs of @a and @b equal?  Logs the first difference. */
static bool knobs_equal(const struct memview_policy *a,
			const struct memview_policy *b)
{
	size_t i;

	for (i = 0; i < NR_KNOBS; i++) {
		if (knob_get(a, &knobs[i]) != knob_get(b, &knobs[i])) {
			mv_log("%s: %u, expected %u", knobs[i].name,
			       knob_get(a, &knobs[i]), knob_get(b, &knobs[i]));
			return false;
		}
	}
	return true;
}

/* SET_POLICY of one knob; *now (may be NULL) gets the policy in force. */
static int set_knob(int fd, const struct knob *k, __u32 v,
		    struct memview_policy *now)
{
	struct memview_policy p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.valid = k->bit;
	*knob_ptr(&p, k) = v;
	ret = mv_set_policy(fd, &p);
	if (now)
		*now = p;
	return ret;
}

/*
 * Children a test forked: the teardown kills and reaps the ones a failed
 * test left behind.
 */
struct kids {
	pid_t pid[8];
	int n;
};

static void kid_add(struct kids *k, pid_t pid)
{
	if (k->n < (int)(sizeof(k->pid) / sizeof(k->pid[0])))
		k->pid[k->n++] = pid;
}

/* Wait for @pid (SIGKILL after @timeout_ms) and forget it; its status. */
static int kid_reap(struct kids *k, pid_t pid, int timeout_ms)
{
	int i, status = mv_wait_child(pid, timeout_ms);

	for (i = 0; i < k->n; i++) {
		if (k->pid[i] == pid) {
			memmove(&k->pid[i], &k->pid[i + 1],
				(k->n - i - 1) * sizeof(k->pid[0]));
			k->n--;
			break;
		}
	}
	return status;
}

/* In the order they were added: a parent dies before its orphans. */
static void kids_kill(struct kids *k)
{
	int i;

	for (i = 0; i < k->n; i++)
		kill(k->pid[i], SIGKILL);
	for (i = 0; i < k->n; i++)
		waitpid(k->pid[i], NULL, 0);
	k->n = 0;
}

/* Seconds since the test's fixture setup, for the logs only. */
static struct timespec tier_t0;

static double tier_elapsed(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - tier_t0.tv_sec) +
	       (t.tv_nsec - tier_t0.tv_nsec) / 1e9;
}

/* Pages the placer may move per round in one direction (placer.c). */
static __u64 rate_pages(__u32 mbps, __u32 interval_ms)
{
	__u64 n;

	if (!mbps)
		return ~0ULL;
	n = ((__u64)mbps << 20) / MV_PAGE_SIZE * interval_ms / 1000;
	return n ? n : 1;
}

static void log_stats(const char *who, const struct memview_stats *s)
{
	mv_log("%s: rounds %llu scanned %llu scan_ms %llu access %llu faults %llu promoted %llu demoted %llu pingpongs %llu skipped hysteresis %llu rate %llu busy %llu no_space %llu; dram %llu slice %llu budget %llu hot %llu",
	       who, (unsigned long long)s->out_rounds,
	       (unsigned long long)s->out_pages_scanned,
	       (unsigned long long)s->out_scan_ns / 1000000,
	       (unsigned long long)s->out_access_samples,
	       (unsigned long long)s->out_fault_samples,
	       (unsigned long long)s->out_promotions,
	       (unsigned long long)s->out_demotions,
	       (unsigned long long)s->out_pingpongs,
	       (unsigned long long)s->out_skipped_hysteresis,
	       (unsigned long long)s->out_skipped_rate,
	       (unsigned long long)s->out_skipped_busy,
	       (unsigned long long)s->out_skipped_no_space,
	       (unsigned long long)s->out_dram_pages,
	       (unsigned long long)s->out_slice_pages,
	       (unsigned long long)s->out_dram_budget_pages,
	       (unsigned long long)s->out_hot_pages);
}

/* Read exactly @len bytes from @fd, waiting at most @timeout_ms for each. */
static int recv_all(int fd, void *buf, size_t len, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char *c = buf;
	ssize_t n;
	int ret;

	while (len) {
		ret = poll(&p, 1, timeout_ms);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return -errno;
		if (!ret)
			return -ETIMEDOUT;
		n = read(fd, c, len);
		if (n <= 0)
			return -EPIPE;
		c += n;
		len -= n;
	}
	return 0;
}

/* Is @pid in PROC_LIST?  *e gets its entry if so. */
static bool proc_listed(int fd, pid_t pid, struct memview_proc_entry *e)
{
	struct memview_proc_entry *p;
	bool found = false;
	__u32 n, i;

	if (mv_proc_list(fd, &p, &n))
		return false;
	for (i = 0; i < n; i++) {
		if (p[i].pid == pid) {
			if (e)
				*e = p[i];
			found = true;
		}
	}
	free(p);
	return found;
}

/* ------------------------------------------------------------------ */
/* placer: the policy and statistics ioctls (no region needed).        */

FIXTURE(placer) {
	int fd;
	struct memview_policy saved;
	struct kids kids;
};

FIXTURE_SETUP(placer)
{
	self->fd = mv_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", MEMVIEW_DEVICE,
				      strerror(-self->fd));
	ASSERT_EQ(0, mv_get_policy(self->fd, &self->saved));
}

FIXTURE_TEARDOWN(placer)
{
	struct memview_policy p;

	_metadata->trigger = 0;
	kids_kill(&self->kids);
	if (self->fd < 0)
		return;
	/* Whatever a test did, the policy it found comes back. */
	p = self->saved;
	p.flags = 0;
	p.valid = MEMVIEW_POLICY_ALL;
	p.__reserved = 0;
	EXPECT_EQ(0, mv_set_policy(self->fd, &p));
	EXPECT_TRUE(knobs_equal(&p, &self->saved));
	close(self->fd);
}

/* GET_POLICY: every knob at its documented default, valid = ALL. */
TEST_F(placer, policy_defaults)
{
	struct memview_policy p;
	__u32 all = 0;
	size_t i;

	for (i = 0; i < NR_KNOBS; i++)
		all |= knobs[i].bit;
	ASSERT_EQ((__u32)MEMVIEW_POLICY_ALL, all) TH_LOG("the knob table misses a field");

	ASSERT_EQ(0, mv_get_policy(self->fd, &p));
	EXPECT_EQ((__u32)MEMVIEW_POLICY_ALL, p.valid);
	EXPECT_EQ(sizeof(p), p.size);
	for (i = 0; i < NR_KNOBS; i++) {
		const struct knob *k = &knobs[i];

		EXPECT_EQ(k->dflt, knob_get(&p, k)) TH_LOG("%s", k->name);
	}
	/* sw-page-fault unless a perf counter could not be created */
	EXPECT_TRUE(p.out_fault_sampler == MEMVIEW_FAULT_SAMPLER_SW ||
		    p.out_fault_sampler == MEMVIEW_FAULT_SAMPLER_NONE);
	EXPECT_EQ(0U, p.__reserved);

	/* GET checks its header too. */
	memset(&p, 0, sizeof(p));
	p.size = sizeof(p);
	p.flags = 1;
	EXPECT_EQ(-EINVAL, mv_ioctl(self->fd, MEMVIEW_IOCTL_GET_POLICY, &p));
	memset(&p, 0, sizeof(p));
	p.size = sizeof(p);
	p.__reserved = 1;
	EXPECT_EQ(-EINVAL, mv_ioctl(self->fd, MEMVIEW_IOCTL_GET_POLICY, &p));
}

/* SET_POLICY: each knob just below its minimum and above its maximum. */
TEST_F(placer, policy_out_of_range)
{
	struct memview_policy before, after, p;
	size_t i;

	ASSERT_EQ(0, mv_get_policy(self->fd, &before));
	for (i = 0; i < NR_KNOBS; i++) {
		const struct knob *k = &knobs[i];

		if (k->min > 0) {
			EXPECT_EQ(-EINVAL, set_knob(self->fd, k, k->min - 1, NULL))
				TH_LOG("%s = %u", k->name, k->min - 1);
			ASSERT_EQ(0, mv_get_policy(self->fd, &after));
			EXPECT_TRUE(knobs_equal(&after, &before))
				TH_LOG("%s = %u changed the policy", k->name,
				       k->min - 1);
		}
		EXPECT_EQ(-EINVAL, set_knob(self->fd, k, k->max + 1, NULL))
			TH_LOG("%s = %u", k->name, k->max + 1);
		EXPECT_EQ(-EINVAL, set_knob(self->fd, k, ~0U, NULL))
			TH_LOG("%s = %u", k->name, ~0U);
		ASSERT_EQ(0, mv_get_policy(self->fd, &after));
		EXPECT_TRUE(knobs_equal(&after, &before))
			TH_LOG("%s = %u changed the policy", k->name, k->max + 1);
	}

	/* One bad knob among good ones: nothing at all changes. */
	memset(&p, 0, sizeof(p));
	p.valid = MEMVIEW_POLICY_SCAN_INTERVAL | MEMVIEW_POLICY_HOT_ROUNDS |
		  MEMVIEW_POLICY_COLD_ROUNDS;
	p.scan_interval_ms = before.scan_interval_ms + 1;
	p.hot_rounds = 65;
	p.cold_rounds = before.cold_rounds + 1;
	EXPECT_EQ(-EINVAL, mv_set_policy(self->fd, &p));
	ASSERT_EQ(0, mv_get_policy(self->fd, &after));
	EXPECT_TRUE(knobs_equal(&after, &before));
}

/* SET_POLICY: valid = 0, unknown valid bits, flags and __reserved. */
TEST_F(placer, policy_bad_header)
{
	struct memview_policy before, after, p;
	__u32 bad_valid[] = {
		0,
		MEMVIEW_POLICY_ALL + 1,				/* first unknown bit */
		MEMVIEW_POLICY_HOT_ROUNDS | (MEMVIEW_POLICY_ALL + 1),
		1U << 31,
		~0U,
	};
	size_t i;

	ASSERT_EQ(0, mv_get_policy(self->fd, &before));
	for (i = 0; i < sizeof(bad_valid) / sizeof(bad_valid[0]); i++) {
		p = before;
		p.valid = bad_valid[i];
		p.hot_rounds = before.hot_rounds + 1;	/* in range */
		EXPECT_EQ(-EINVAL, mv_set_policy(self->fd, &p))
			TH_LOG("valid = %#x", bad_valid[i]);
	}
	p = before;
	p.valid = MEMVIEW_POLICY_HOT_ROUNDS;
	p.hot_rounds = before.hot_rounds + 1;
	p.flags = 1;
	EXPECT_EQ(-EINVAL, mv_set_policy(self->fd, &p));
	p.flags = 0;
	p.__reserved = 1;
	EXPECT_EQ(-EINVAL, mv_set_policy(self->fd, &p));
	ASSERT_EQ(0, mv_get_policy(self->fd, &after));
	EXPECT_TRUE(knobs_equal(&after, &before));

	/* Fields whose valid bit is clear are ignored, even out of range. */
	memset(&p, 0, sizeof(p));
	p.valid = MEMVIEW_POLICY_COLD_ROUNDS;
	p.cold_rounds = before.cold_rounds + 1;
	p.scan_interval_ms = 1;			/* below its minimum, ignored */
	p.out_fault_sampler = 77;		/* ignored on input */
	ASSERT_EQ(0, mv_set_policy(self->fd, &p));
	EXPECT_EQ(before.cold_rounds + 1, p.cold_rounds);
	EXPECT_EQ(before.scan_interval_ms, p.scan_interval_ms);
	EXPECT_EQ((__u32)MEMVIEW_POLICY_ALL, p.valid);
	EXPECT_EQ(before.out_fault_sampler, p.out_fault_sampler);
}

/*
 * SET_POLICY takes each knob's minimum and maximum.  The maximum scan
 * interval is harmless: SET_POLICY wakes the placer, so the restore takes
 * effect at once rather than after a minute.
 */
TEST_F(placer, policy_limits_accepted)
{
	struct memview_policy now;
	size_t i;

	for (i = 0; i < NR_KNOBS; i++) {
		const struct knob *k = &knobs[i];

		ASSERT_EQ(0, set_knob(self->fd, k, k->min, &now))
			TH_LOG("%s = %u", k->name, k->min);
		EXPECT_EQ(k->min, knob_get(&now, k)) TH_LOG("%s", k->name);
		ASSERT_EQ(0, set_knob(self->fd, k, k->max, &now))
			TH_LOG("%s = %u", k->name, k->max);
		EXPECT_EQ(k->max, knob_get(&now, k)) TH_LOG("%s", k->name);
		ASSERT_EQ(0, set_knob(self->fd, k, knob_get(&self->saved, k),
				      NULL));
	}
}

/* SET_POLICY needs CAP_SYS_ADMIN; GET_POLICY does not. */
TEST_F(placer, policy_unprivileged)
{
	struct memview_policy after;
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct memview_policy p;
		int fd, ret;

		ret = mv_drop_privileges();
		if (ret || mv_cap_eff())
			_exit(10);
		fd = mv_open();
		if (fd < 0)
			_exit(11);
		ret = mv_get_policy(fd, &p);
		if (ret) {
			mv_log("child: GET_POLICY as uid %d: %s", MV_NOBODY,
			       strerror(-ret));
			_exit(12);
		}
		p.valid = MEMVIEW_POLICY_HOT_ROUNDS;
		p.hot_rounds++;
		ret = mv_set_policy(fd, &p);
		if (ret != -EPERM) {
			mv_log("child: SET_POLICY as uid %d: %s, expected EPERM",
			       MV_NOBODY, ret ? strerror(-ret) : "success");
			_exit(13);
		}
		_exit(0);
	}
	status = mv_wait_child(pid, CHILD_WAIT_MS);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child failed at step %d",
						 WEXITSTATUS(status));
	ASSERT_EQ(0, mv_get_policy(self->fd, &after));
	EXPECT_TRUE(knobs_equal(&after, &self->saved));
}

/* STATS errnos: a process that is not managed, no process, bad header. */
TEST_F(placer, stats_errnos)
{
	struct memview_stats s;
	int status;
	pid_t pid;

	EXPECT_EQ(-ENOENT, mv_stats(self->fd, getpid(), &s));
	/* A pid nobody has: a child that has been reaped. */
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(0);
	status = mv_wait_child(pid, CHILD_WAIT_MS);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(-ESRCH, mv_stats(self->fd, pid, &s));

	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.pid = -1;
	EXPECT_EQ(-EINVAL, mv_ioctl(self->fd, MEMVIEW_IOCTL_STATS, &s));
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.flags = 1;
	EXPECT_EQ(-EINVAL, mv_ioctl(self->fd, MEMVIEW_IOCTL_STATS, &s));
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.__reserved = 1;
	EXPECT_EQ(-EINVAL, mv_ioctl(self->fd, MEMVIEW_IOCTL_STATS, &s));

	/* The totals: per-process fields are 0. */
	ASSERT_EQ(0, mv_stats(self->fd, 0, &s));
	EXPECT_EQ(0ULL, s.out_dram_pages);
	EXPECT_EQ(0ULL, s.out_slice_pages);
	EXPECT_EQ(0ULL, s.out_dram_budget_pages);
	EXPECT_EQ(0ULL, s.out_hot_pages);
}

/*
 * STATS of pid 0 counts placer rounds, one per round however many
 * processes the round scans (Documentation/uapi.rst: "rounds the placer
 * has run (tests wait on it)"): with two managed processes, each scanned
 * every round, it advances as much as each process's own count.
 */
TEST_F(placer, round_counter)
{
	struct memview_stats g0, g1, a0, a1, b1;
	struct memview_policy p;
	pid_t kids[2];
	int i, waited, status;

	memset(&p, 0, sizeof(p));
	p.valid = MEMVIEW_POLICY_SCAN_INTERVAL;
	p.scan_interval_ms = SCAN_MS;
	ASSERT_EQ(0, mv_set_policy(self->fd, &p));

	/* Two idle processes, no budget: every round scans both. */
	for (i = 0; i < 2; i++) {
		fflush(NULL);
		kids[i] = fork();
		ASSERT_LE(0, kids[i]);
		if (!kids[i]) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			pause();
			_exit(0);
		}
		kid_add(&self->kids, kids[i]);
		ASSERT_EQ(0, mv_attach_flags(self->fd, kids[i],
					     MEMVIEW_ATTACH_AUTO, 0));
	}
	/* The first round may have scanned one of them only. */
	ASSERT_EQ(0, mv_wait_rounds(self->fd, 2, NULL));
	ASSERT_EQ(0, mv_stats(self->fd, 0, &g0));
	ASSERT_EQ(0, mv_stats(self->fd, kids[0], &a0));
	for (waited = 1; waited <= 60; waited++) {
		ASSERT_EQ(0, mv_wait_rounds(self->fd, 1, NULL));
		ASSERT_EQ(0, mv_stats(self->fd, kids[0], &a1));
		if (a1.out_rounds - a0.out_rounds >= 10)
			break;
	}
	ASSERT_EQ(0, mv_stats(self->fd, kids[1], &b1));
	ASSERT_EQ(0, mv_stats(self->fd, 0, &g1));
	for (i = 0; i < 2; i++) {
		kill(kids[i], SIGKILL);
		status = kid_reap(&self->kids, kids[i], CHILD_WAIT_MS);
		EXPECT_TRUE(WIFSIGNALED(status));
	}
	mv_log("placer rounds (pid 0) %llu -> %llu; process %d rounds %llu -> %llu",
	       (unsigned long long)g0.out_rounds,
	       (unsigned long long)g1.out_rounds, kids[0],
	       (unsigned long long)a0.out_rounds,
	       (unsigned long long)a1.out_rounds);
	ASSERT_LE(10ULL, a1.out_rounds - a0.out_rounds)
		TH_LOG("the placer did not scan the process 10 times in %d rounds",
		       waited);
	EXPECT_LE(10ULL, b1.out_rounds);
	/*
	 * Each round adds one to pid 0 and one to each process; reading
	 * the two counters is not atomic, hence the one round either side.
	 */
	EXPECT_LE(g1.out_rounds - g0.out_rounds,
		  a1.out_rounds - a0.out_rounds + 2)
		TH_LOG("pid 0 counted %llu rounds while the placer scanned process %d in %llu",
		       (unsigned long long)(g1.out_rounds - g0.out_rounds),
		       kids[0],
		       (unsigned long long)(a1.out_rounds - a0.out_rounds));
	EXPECT_GE(g1.out_rounds - g0.out_rounds + 2,
		  a1.out_rounds - a0.out_rounds);
}

/* ------------------------------------------------------------------ */
/* Where a workload child's pages are.                                 */

/* Pages by tier, added up over ranges. */
struct tiers {
	__u64 dram, slice, other, absent;
};

/* Add the residency of [addr, addr + len) of @pid to *t. */
static int tiers_add(int fd, pid_t pid, const void *addr, size_t len,
		     struct tiers *t)
{
	struct memview_residency r;
	int ret;

	/* No room for per-slice entries: -EMSGSIZE still gives the totals. */
	ret = mv_residency(fd, pid, addr, len, &r, NULL, 0);
	if (ret && ret != -EMSGSIZE)
		return ret;
	t->dram += r.out_dram_pages;
	t->slice += r.out_slice_pages;
	t->other += r.out_other_pages;
	t->absent += r.out_not_present;
	return 0;
}

/*
 * *managed: the pages of @pid its DRAM budget covers, those of its private
 * anonymous mappings (heap, stacks, anonymous mmap()s, .bss beyond the
 * file; Documentation/tiering.rst): the lines of /proc/<pid>/maps that
 * are private, have no file, and are named nothing, [heap], [stack] or
 * [anon:...] ([vdso] and the like are special mappings).
 * *all: the whole address space (RESIDENCY with addr 0, length 0), which
 * also counts file pages (program text, libraries) the placer leaves alone.
 */
static int proc_tiers(int fd, pid_t pid, struct tiers *managed,
		      struct tiers *all)
{
	char path[64], line[512];
	int ret = 0;
	FILE *f;

	memset(managed, 0, sizeof(*managed));
	memset(all, 0, sizeof(*all));
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (!ret && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, ino;
		char perms[8], *name;
		int n = 0;

		if (sscanf(line, "%lx-%lx %7s %*x %*x:%*x %lu %n", &lo, &hi,
			   perms, &ino, &n) != 4 || !n)
			continue;
		name = line + n;
		name[strcspn(name, "\n")] = 0;
		if (perms[3] != 'p' || ino)
			continue;
		if (*name && strcmp(name, "[heap]") && strcmp(name, "[stack]") &&
		    strncmp(name, "[anon:", 6))
			continue;
		ret = tiers_add(fd, pid, (void *)lo, hi - lo, managed);
	}
	fclose(f);
	return ret ?: tiers_add(fd, pid, NULL, 0, all);
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Slice pages the processes @pids map: the distinct page frames of
 * [start, end) (the region's physical range) in their page tables, from
 * /proc/<pid>/pagemap (which gives frame numbers to CAP_SYS_ADMIN).  A
 * page shared copy-on-write counts once.  Returns the count or -errno.
 */
static long slice_pages_mapped(const pid_t *pids, int n, __u64 start,
			       __u64 end)
{
	__u64 *pfn = NULL, ent[512];
	size_t nr = 0, room = 0, i, k;
	char path[64], line[512];
	long ret = 0;
	int j;

	for (j = 0; j < n && !ret; j++) {
		FILE *maps;
		int pm;

		snprintf(path, sizeof(path), "/proc/%d/maps", pids[j]);
		maps = fopen(path, "r");
		snprintf(path, sizeof(path), "/proc/%d/pagemap", pids[j]);
		pm = open(path, O_RDONLY);
		if (!maps || pm < 0) {
			ret = -errno;
			if (maps)
				fclose(maps);
			break;
		}
		while (!ret && fgets(line, sizeof(line), maps)) {
			unsigned long lo, hi, a;

			if (sscanf(line, "%lx-%lx", &lo, &hi) != 2 ||
			    hi > 0x800000000000UL)	/* [vsyscall] */
				continue;
			for (a = lo; a < hi && !ret; a += k * MV_PAGE_SIZE) {
				ssize_t got;

				k = (hi - a) / MV_PAGE_SIZE;
				if (k > 512)
					k = 512;
				got = pread(pm, ent, k * 8,
					    a / MV_PAGE_SIZE * 8);
				if (got != (ssize_t)(k * 8)) {
					ret = got < 0 ? -errno : -EIO;
					break;
				}
				for (i = 0; i < k; i++) {
					__u64 f = ent[i] & ((1ULL << 55) - 1);

					if (!(ent[i] >> 63) ||
					    f * MV_PAGE_SIZE < start ||
					    f * MV_PAGE_SIZE >= end)
						continue;
					if (nr == room) {
						__u64 *p;

						room = room ? 2 * room : 1024;
						p = realloc(pfn, room * sizeof(*p));
						if (!p) {
							ret = -ENOMEM;
							break;
						}
						pfn = p;
					}
					pfn[nr++] = f;
				}
			}
		}
		fclose(maps);
		close(pm);
	}
	if (!ret && nr) {
		qsort(pfn, nr, sizeof(*pfn), cmp_u64);
		for (i = k = 1; i < nr; i++)
			if (pfn[i] != pfn[i - 1])
				k++;
		ret = k;
	}
	free(pfn);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Zipfian ranks (Vose's alias method: one uniform draw per sample).   */

#define ZIPF_S		0.99

struct zipf {
	size_t n;
	double *prob;
	__u32 *alias;
};

static __u64 xorshift64s(__u64 *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dULL;
}

static size_t gcd(size_t a, size_t b)
{
	while (b) {
		size_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * Rank -> page of the hot set: popular pages spread over all of it
 * (rank * m mod n, with m prime to n, is a permutation).
 */
static size_t zipf_page(size_t rank, size_t n)
{
	size_t m = 40503;

	while (gcd(m, n) != 1)
		m++;
	return rank * m % n;
}

static int zipf_init(struct zipf *z, size_t n, double s)
{
	__u32 *small = calloc(n, sizeof(*small));
	__u32 *large = calloc(n, sizeof(*large));
	double *q = calloc(n, sizeof(*q)), sum = 0;
	size_t ns = 0, nl = 0, i;
	int ret = -ENOMEM;

	z->n = n;
	z->prob = calloc(n, sizeof(*z->prob));
	z->alias = calloc(n, sizeof(*z->alias));
	if (!small || !large || !q || !z->prob || !z->alias)
		goto out;
	for (i = 0; i < n; i++) {
		q[i] = pow((double)(i + 1), -s);
		sum += q[i];
	}
	for (i = 0; i < n; i++) {
		q[i] = q[i] * n / sum;
		if (q[i] < 1.0)
			small[ns++] = i;
		else
			large[nl++] = i;
	}
	while (ns && nl) {
		__u32 l = small[--ns], g = large[--nl];

		z->prob[l] = q[l];
		z->alias[l] = g;
		q[g] += q[l] - 1.0;
		if (q[g] < 1.0)
			small[ns++] = g;
		else
			large[nl++] = g;
	}
	while (nl) {
		i = large[--nl];
		z->prob[i] = 1.0;
		z->alias[i] = i;
	}
	while (ns) {
		i = small[--ns];
		z->prob[i] = 1.0;
		z->alias[i] = i;
	}
	ret = 0;
out:
	free(small);
	free(large);
	free(q);
	return ret;
}

/* A rank, 0 the most popular. */
static size_t zipf_rank(const struct zipf *z, __u64 *rng)
{
	__u64 r = xorshift64s(rng);
	size_t i = (r >> 32) % z->n;
	double u = (double)(r & 0xffffffffULL) / 4294967296.0;

	return u < z->prob[i] ? i : z->alias[i];
}

/* ------------------------------------------------------------------ */
/* The hot/cold workload child.                                        */

/* Shared with the child (MAP_SHARED: outside what its budget covers). */
struct wl_shared {
	volatile __u64 passes;		/* passes over the hot set */
	volatile __u64 accesses;	/* pages touched */
};

/*
 * @len bytes filled with a pattern; the child touches the @hot_len bytes at
 * hot_off[0], or at hot_off[1] after a shift, uniformly (every page once
 * per pass) or zipfian (hot_len / 4096 draws per pass).
 */
struct wl {
	size_t len;
	size_t hot_len;
	size_t hot_off[2];
	bool zipf;
	__u64 seed;
	struct wl_shared *sh;
};

/*
 * A touch reads and writes word 1 of the page (+1); *touches counts it,
 * so the child can take the increments out at the end and compare the
 * whole buffer with the checksum of the fill: a write lost in a migration
 * shows up.
 */
static inline void wl_touch(char *buf, __u32 *touches, size_t pg)
{
	volatile __u64 *w = (volatile __u64 *)(buf + pg * MV_PAGE_SIZE);

	w[1]++;
	touches[pg]++;
}

/*
 * The child: fill, send the buffer's address (ready), wait for 'g' (it is
 * attached then), touch until 's' (shift the hot set; acknowledged with
 * 's') or 'v' (check the data and exit: 0 if intact).
 */
static int wl_child(struct mv_chan *c, const struct wl *w)
{
	size_t pages = mv_pages(w->len), hot = mv_pages(w->hot_len), i, base;
	size_t tlen = (pages * sizeof(__u32) + MV_PAGE_SIZE - 1) &
		      ~(MV_PAGE_SIZE - 1);
	__u64 sum, rng = w->seed * 2 + 1;
	struct zipf z = { 0 };
	int phase = 0, ret;
	__u32 *touches;
	char msg, *buf;

	buf = mv_map_anon(w->len, 0, false);
	touches = mv_map_anon(tlen, 0, false);
	if (!buf || !touches)
		return 10;
	memset(touches, 0, tlen);	/* faulted in now, not while attached */
	if (w->zipf && zipf_init(&z, hot, ZIPF_S))
		return 11;
	sum = mv_fill(buf, 0, w->len, MV_PAT_RANDOM, w->seed);
	if (write(c->to_parent[1], &buf, sizeof(buf)) != sizeof(buf))
		return 12;
	if (mv_chan_recv(c->to_child[0], &msg, CHILD_WAIT_MS) || msg != 'g')
		return 13;
	for (;;) {
		base = mv_pages(w->hot_off[phase]);
		for (i = 0; i < hot; i++)
			wl_touch(buf, touches, base + (w->zipf ?
				 zipf_page(zipf_rank(&z, &rng), hot) : i));
		w->sh->passes++;
		w->sh->accesses += hot;
		ret = mv_chan_recv(c->to_child[0], &msg, 0);
		if (ret == -ETIMEDOUT)
			continue;
		if (ret)
			return 14;	/* the test went away */
		if (msg == 'v')
			break;
		if (msg != 's')
			return 15;
		phase = 1;
		if (mv_chan_send(c->to_parent[1], 's'))
			return 16;
	}
	for (i = 0; i < pages; i++)
		((volatile __u64 *)(buf + i * MV_PAGE_SIZE))[1] -= touches[i];
	if (mv_checksum(buf, 0, w->len) != sum) {
		size_t bad = 0;

		mv_verify(buf, 0, w->len, MV_PAT_RANDOM, w->seed, &bad);
		mv_log("child: data differs from the fill at byte %#zx", bad);
		return 20;
	}
	return 0;
}

/* A running workload child, and what its budget check needs. */
struct wl_run {
	pid_t pid;
	struct mv_chan c;
	char *buf;		/* its buffer, in its address space */
	struct wl_shared *sh;
	__u64 budget;		/* the DRAM budget in pages */
	__u64 excess0;		/* budget-covered DRAM pages above it at attach */
	__u64 rate;		/* pages the placer may demote per round */
};

/*
 * Fork the child, wait until it is ready, note how far above the budget it
 * is, attach it with AUTO and @budget bytes and let it start touching.
 */
static void wl_start(struct __test_metadata *_metadata, struct mv_fixture *fx,
		     struct kids *kids, struct wl *w, struct wl_run *run,
		     __u64 budget)
{
	struct memview_policy pol;
	struct tiers m, a;
	int ret;

	memset(run, 0, sizeof(*run));
	run->sh = mmap(NULL, MV_PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, run->sh);
	w->sh = run->sh;
	w->seed = getpid();
	ASSERT_EQ(0, mv_chan_open(&run->c));
	fflush(NULL);
	run->pid = fork();
	ASSERT_LE(0, run->pid);
	if (!run->pid) {
		mv_chan_child(&run->c);
		_exit(wl_child(&run->c, w));
	}
	kid_add(kids, run->pid);
	mv_chan_parent(&run->c);
	ret = recv_all(run->c.to_parent[0], &run->buf, sizeof(run->buf),
		       CHILD_WAIT_MS);
	ASSERT_EQ(0, ret) TH_LOG("workload child: no buffer (status %#x)",
				 kid_reap(kids, run->pid, 1000));

	ASSERT_EQ(0, proc_tiers(fx->fd, run->pid, &m, &a));
	ASSERT_EQ(0, mv_get_policy(fx->fd, &pol));
	run->budget = budget / MV_PAGE_SIZE;
	run->excess0 = m.dram > run->budget ? m.dram - run->budget : 0;
	run->rate = rate_pages(pol.demote_rate_mbps, pol.scan_interval_ms);
	mv_log("child %d: %llu MiB, hot %llu MiB; %llu budget-covered pages in DRAM (%llu in all), budget %llu, demotion rate %llu pages per round",
	       run->pid, (unsigned long long)(w->len / MV_MIB),
	       (unsigned long long)(w->hot_len / MV_MIB),
	       (unsigned long long)m.dram, (unsigned long long)a.dram,
	       (unsigned long long)run->budget,
	       (unsigned long long)run->rate);
	ret = mv_attach_flags(fx->fd, run->pid, MEMVIEW_ATTACH_AUTO, budget);
	ASSERT_EQ(0, ret) TH_LOG("PROC_ATTACH AUTO: %s", strerror(-ret));
	ASSERT_EQ(0, mv_chan_send(run->c.to_child[1], 'g'));
}

/* Have the child check its data and exit; it must exit 0. */
static void wl_finish(struct __test_metadata *_metadata, int fd,
		      struct kids *kids, struct wl_run *run)
{
	struct memview_stats s;
	int status;

	if (!mv_stats(fd, run->pid, &s))
		log_stats("child", &s);
	ASSERT_EQ(0, mv_chan_send(run->c.to_child[1], 'v'));
	status = kid_reap(kids, run->pid, CHILD_WAIT_MS);
	mv_log("%.1fs child checked its data", tier_elapsed());
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("child status %#x", status);
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child failed at step %d (20: data changed)",
		       WEXITSTATUS(status));
	mv_chan_close(&run->c);
	munmap(run->sh, MV_PAGE_SIZE);
}

/*
 * The budget check, after every round of the tiering tests.  The DRAM
 * pages the budget covers (its private anonymous memory, see proc_tiers();
 * the whole address space has file pages besides, which no budget covers)
 * may exceed the budget by:
 *  - what the placer cannot have demoted yet: the child is attached with
 *    excess0 pages above its budget, and a round may demote `rate' pages
 *    (demote_rate_mbps) and promotes nothing while the process is above
 *    its budget, so after r rounds of the process at most
 *    max(0, excess0 - r * rate) remain;
 *  - BATCH_PAGES: promotions are sized assuming every chosen demotion
 *    succeeds, and the kernel may refuse a batch (busy);
 *  - FAULT_SLACK: pages the child faults in between two rounds, beyond its
 *    buffers, which it faulted in before it was attached.
 */
static void check_budget(struct __test_metadata *_metadata, int fd,
			 const struct wl_run *run, struct tiers *managed)
{
	struct memview_stats s;
	struct tiers m, a;
	__u64 owed, allowed;

	ASSERT_EQ(0, mv_stats(fd, run->pid, &s));
	ASSERT_EQ(0, proc_tiers(fd, run->pid, &m, &a));
	if (run->rate == ~0ULL)
		owed = s.out_rounds ? 0 : run->excess0;
	else if (run->excess0 > s.out_rounds * run->rate)
		owed = run->excess0 - s.out_rounds * run->rate;
	else
		owed = 0;
	allowed = run->budget + owed + BATCH_PAGES + FAULT_SLACK;
	if (m.dram > allowed)
		log_stats("child", &s);
	ASSERT_LE(m.dram, allowed)
		TH_LOG("%llu budget-covered pages in DRAM (%llu in all) after %llu rounds: budget %llu + %llu not yet demoted + %d + %d",
		       (unsigned long long)m.dram, (unsigned long long)a.dram,
		       (unsigned long long)s.out_rounds,
		       (unsigned long long)run->budget,
		       (unsigned long long)owed, BATCH_PAGES, FAULT_SLACK);
	if (managed)
		*managed = m;
}

/* Pages [first, first + nr) of the child's buffer. */
struct seg {
	size_t first, nr;
};

/* A set of pages that must be at least @pct % in DRAM (or in slices). */
struct crit {
	const char *what;
	const struct seg *segs;
	size_t nr_segs;
	bool dram;
	unsigned int pct;
};

/* Is @c met now?  Appends "what: in/pages" to @line. */
static bool crit_met(struct __test_metadata *_metadata, int fd,
		     const struct wl_run *run, const struct crit *c,
		     char *line, size_t room)
{
	struct tiers t = { 0 };
	size_t i, pages = 0;
	__u64 in;

	for (i = 0; i < c->nr_segs; i++) {
		ASSERT_EQ(0, tiers_add(fd, run->pid,
				       run->buf + c->segs[i].first * MV_PAGE_SIZE,
				       c->segs[i].nr * MV_PAGE_SIZE, &t));
		pages += c->segs[i].nr;
	}
	in = c->dram ? t.dram : t.slice;
	snprintf(line + strlen(line), room - strlen(line), "%s%s %llu/%zu in %s",
		 *line ? ", " : "", c->what, (unsigned long long)in, pages,
		 c->dram ? "DRAM" : "slices");
	return in * 100 >= (__u64)pages * c->pct;
}

/*
 * Wait until all @nr criteria hold, one placer round at a time and at most
 * @max rounds, checking the budget after every round.  Returns the rounds
 * it took.
 */
static int settle(struct __test_metadata *_metadata, int fd,
		  const struct wl_run *run, const struct crit *c, size_t nr,
		  int max)
{
	struct memview_stats s;
	char line[512];
	struct tiers m;
	bool met = false;
	__u64 now;
	int r;
	size_t i;

	for (r = 1; r <= max && !met; r++) {
		ASSERT_EQ(0, mv_wait_rounds(fd, 1, &now));
		check_budget(_metadata, fd, run, &m);
		line[0] = 0;
		met = true;
		for (i = 0; i < nr; i++)
			met &= crit_met(_metadata, fd, run, &c[i], line,
					sizeof(line));
		ASSERT_EQ(0, mv_stats(fd, run->pid, &s));
		mv_log("%.1fs round %d (placer %llu, child %llu): %s; DRAM %llu/%llu budget; %llu passes",
		       tier_elapsed(), r, (unsigned long long)now,
		       (unsigned long long)s.out_rounds, line,
		       (unsigned long long)m.dram,
		       (unsigned long long)run->budget,
		       (unsigned long long)run->sh->passes);
	}
	if (!met)
		log_stats("child", &s);
	ASSERT_TRUE(met) TH_LOG("not placed after %d placer rounds: %s", max,
				line);
	return r - 1;
}

/* ------------------------------------------------------------------ */
/* tiering: the placer at work on a region of each kind.               */

FIXTURE(tiering) {
	struct mv_fixture f;
	struct memview_policy saved;
	bool restore;
	struct kids kids;
};

FIXTURE_VARIANT(tiering) {
	const struct mv_target *target;
};

/*
 * CXL and PMEM.  Not cxl_ram: its slices are the same emulated CXL memory
 * as cxl's (slow under TCG), and the whole binary must stay within about
 * three minutes.
 */
FIXTURE_VARIANT_ADD(tiering, cxl) { .target = &mv_target_cxl };
FIXTURE_VARIANT_ADD(tiering, pmem) { .target = &mv_target_pmem };

/*
 * A 50 ms round, and scans that finish in one round: under TCG, with
 * other guests on the host, scanning a 32 MiB process can take longer
 * than the default 50 ms max_scan_us, and what the tests check is the
 * placement (budget_partial_scans covers scans spread over rounds).
 */
#define TIER_MAX_SCAN_US	1000000

FIXTURE_SETUP(tiering)
{
	struct memview_policy p;

	clock_gettime(CLOCK_MONOTONIC, &tier_t0);
	MV_FIXTURE_SETUP(&self->f, variant->target, true, false);
	ASSERT_EQ(0, mv_get_policy(self->f.fd, &self->saved));
	memset(&p, 0, sizeof(p));
	p.valid = MEMVIEW_POLICY_SCAN_INTERVAL | MEMVIEW_POLICY_MAX_SCAN_US;
	p.scan_interval_ms = SCAN_MS;
	p.max_scan_us = TIER_MAX_SCAN_US;
	ASSERT_EQ(0, mv_set_policy(self->f.fd, &p));
	self->restore = true;
}

FIXTURE_TEARDOWN(tiering)
{
	struct memview_policy p;

	_metadata->trigger = 0;
	kids_kill(&self->kids);
	if (self->restore) {
		p = self->saved;
		p.flags = 0;
		p.valid = MEMVIEW_POLICY_ALL;
		p.__reserved = 0;
		EXPECT_EQ(0, mv_set_policy(self->f.fd, &p));
	}
	MV_FIXTURE_TEARDOWN(&self->f);
}

/*
 * 32 MiB (MEMVIEW_TEST_MB), hot 1/8 of it at 1/4 (at 5/8 after a shift),
 * budget 3/8: emulated CXL memory is slow under TCG.
 */
static void hot_cold_layout(struct wl *w, bool zipf)
{
	memset(w, 0, sizeof(*w));
	w->len = mv_data_len(32);
	w->hot_len = w->len / 8;
	w->hot_off[0] = w->len / 4;
	w->hot_off[1] = w->len / 8 * 5;
	w->zipf = zipf;
}

/* The pages of @w outside hot range @phase: two segments. */
static void cold_segs(const struct wl *w, int phase, struct seg cold[2])
{
	cold[0].first = 0;
	cold[0].nr = mv_pages(w->hot_off[phase]);
	cold[1].first = mv_pages(w->hot_off[phase] + w->hot_len);
	cold[1].nr = mv_pages(w->len) - cold[1].first;
}

/*
 * Uniform touches of a 4 MiB hot set in a 32 MiB buffer, 12 MiB budget:
 * within 40 rounds >= 95% of the hot set in DRAM, >= 90% of the rest in
 * slices, the budget kept every round, the data intact.
 */
TEST_F_TIMEOUT(tiering, hot_cold_uniform, TIER_TIMEOUT)
{
	struct seg hot, cold[2];
	struct wl_run run;
	struct wl w;
	struct crit c[2] = {
		{ "hot", &hot, 1, true, HOT_PCT },
		{ "cold", cold, 2, false, COLD_PCT },
	};

	MV_SETUP_SKIPPED();
	hot_cold_layout(&w, false);
	hot.first = mv_pages(w.hot_off[0]);
	hot.nr = mv_pages(w.hot_len);
	cold_segs(&w, 0, cold);
	wl_start(_metadata, &self->f, &self->kids, &w, &run, w.len / 8 * 3);
	settle(_metadata, self->f.fd, &run, c, 2, SETTLE_ROUNDS);
	wl_finish(_metadata, self->f.fd, &self->kids, &run);
}

/*
 * Zipfian touches (s = 0.99) of the hot set: within 40 rounds >= 95% of
 * its most popular quarter (by rank) in DRAM, >= 90% of the pages outside
 * the hot set in slices, the budget kept, the data intact.
 */
TEST_F_TIMEOUT(tiering, hot_cold_zipfian, TIER_TIMEOUT)
{
	struct seg *top, cold[2];
	size_t n, ntop, nseg = 0, i, *pg;
	struct wl_run run;
	struct wl w;

	MV_SETUP_SKIPPED();
	hot_cold_layout(&w, true);
	n = mv_pages(w.hot_len);
	ntop = n / 4;
	pg = calloc(ntop, sizeof(*pg));
	top = calloc(ntop, sizeof(*top));
	ASSERT_TRUE(pg && top);
	/* The pages of ranks [0, n / 4), in address order, runs merged. */
	for (i = 0; i < ntop; i++)
		pg[i] = zipf_page(i, n);
	for (i = 1; i < ntop; i++) {	/* insertion sort: small n */
		size_t v = pg[i], j = i;

		for (; j && pg[j - 1] > v; j--)
			pg[j] = pg[j - 1];
		pg[j] = v;
	}
	for (i = 0; i < ntop; i++) {
		if (nseg && top[nseg - 1].first + top[nseg - 1].nr ==
			    mv_pages(w.hot_off[0]) + pg[i]) {
			top[nseg - 1].nr++;
			continue;
		}
		top[nseg].first = mv_pages(w.hot_off[0]) + pg[i];
		top[nseg++].nr = 1;
	}
	cold_segs(&w, 0, cold);
	{
		struct crit c[2] = {
			{ "top quarter", top, nseg, true, HOT_PCT },
			{ "cold", cold, 2, false, COLD_PCT },
		};

		wl_start(_metadata, &self->f, &self->kids, &w, &run,
			 w.len / 8 * 3);
		settle(_metadata, self->f.fd, &run, c, 2, SETTLE_ROUNDS);
	}
	mv_log("%llu zipfian draws", (unsigned long long)run.sh->accesses);
	wl_finish(_metadata, self->f.fd, &self->kids, &run);
	free(pg);
	free(top);
}

/*
 * After the uniform case settles the child moves its hot set to another
 * 4 MiB that was cold (in slices): within 40 rounds the new hot set is
 * >= 95% in DRAM and the old one >= 90% in slices; the data intact.
 */
TEST_F_TIMEOUT(tiering, hot_set_shift, TIER_TIMEOUT)
{
	struct seg hot[2], cold[2];
	struct wl_run run;
	struct wl w;
	struct crit before[2] = {
		{ "hot", &hot[0], 1, true, HOT_PCT },
		{ "cold", cold, 2, false, COLD_PCT },
	};
	struct crit after[2] = {
		{ "new hot", &hot[1], 1, true, HOT_PCT },
		{ "old hot", &hot[0], 1, false, COLD_PCT },
	};
	char msg;
	int r;

	MV_SETUP_SKIPPED();
	hot_cold_layout(&w, false);
	hot[0].first = mv_pages(w.hot_off[0]);
	hot[1].first = mv_pages(w.hot_off[1]);
	hot[0].nr = hot[1].nr = mv_pages(w.hot_len);
	cold_segs(&w, 0, cold);
	wl_start(_metadata, &self->f, &self->kids, &w, &run, w.len / 8 * 3);
	settle(_metadata, self->f.fd, &run, before, 2, SETTLE_ROUNDS);
	/* The new hot set was cold: it is in the slices now. */
	{
		struct tiers t = { 0 };

		ASSERT_EQ(0, tiers_add(self->f.fd, run.pid,
				       run.buf + w.hot_off[1], w.hot_len, &t));
		mv_log("new hot set before the shift: %llu pages in DRAM, %llu in slices",
		       (unsigned long long)t.dram,
		       (unsigned long long)t.slice);
	}
	ASSERT_EQ(0, mv_chan_send(run.c.to_child[1], 's'));
	ASSERT_EQ(0, mv_chan_recv(run.c.to_parent[0], &msg, CHILD_WAIT_MS));
	ASSERT_EQ('s', msg);
	r = settle(_metadata, self->f.fd, &run, after, 2, SETTLE_ROUNDS);
	mv_log("shifted in %d rounds", r);
	wl_finish(_metadata, self->f.fd, &self->kids, &run);
}

/* ------------------------------------------------------------------ */
/* Ping-pong.                                                          */

#define PP_WARMUP	2	/* child rounds before the window: the budget */
#define PP_WINDOW	32	/* child rounds measured */
#define PP_NEG_WARMUP	2	/* the same for the negative check: shorter, */
#define PP_NEG_WINDOW	16	/* every round moves ~500 pages there */
#define PP_MAX_ROUNDS	200	/* placer rounds the whole run may take */

/* What a ping-pong window measured, and the bound for hysteresis @h. */
struct pp_window {
	__u64 rounds;		/* child rounds in the window */
	__u64 pages;		/* budget-covered pages of the child */
	__u64 pingpongs, promotions, demotions, skipped_hysteresis;
};

/*
 * A page the placer moves is not moved back within h rounds, so in a
 * window of T rounds of the process one page moves at most T / h + 1
 * times, the first of which may reverse a move made before the window:
 * at most pages * (T / h + 1) ping-pongs.  The window is read between
 * rounds but a round may be under way at either end: T + 1 rounds count.
 */
static __u64 pp_bound(const struct pp_window *pw, __u32 h)
{
	return pw->pages * ((pw->rounds + 1) / h + 1);
}

/*
 * A hot set a quarter larger than the budget (5 MiB, 4 MiB budget; the
 * child touches every page every pass): the budget holds four fifths of
 * it, and the placer can only trade hot pages for hot pages.  Measures
 * @window rounds of the child after @warmup, with hysteresis_rounds
 * @hysteresis and the budget checked every round.
 */
static void pingpong_window(struct __test_metadata *_metadata,
			    struct mv_fixture *fx, struct kids *kids,
			    __u32 hysteresis, __u64 warmup, __u64 window,
			    struct pp_window *pw)
{
	__u64 budget = mv_data_len(4);
	struct memview_stats s0, s;
	struct memview_policy p;
	struct wl_run run;
	struct tiers m;
	struct wl w;
	int g;

	memset(&p, 0, sizeof(p));
	p.valid = MEMVIEW_POLICY_HYSTERESIS;
	p.hysteresis_rounds = hysteresis;
	ASSERT_EQ(0, mv_set_policy(fx->fd, &p));
	memset(&w, 0, sizeof(w));
	w.len = budget / 4 * 5;
	w.hot_len = w.len;
	wl_start(_metadata, fx, kids, &w, &run, budget);
	for (g = 1;; g++) {
		ASSERT_LE(g, PP_MAX_ROUNDS);
		ASSERT_EQ(0, mv_wait_rounds(fx->fd, 1, NULL));
		check_budget(_metadata, fx->fd, &run, &m);
		ASSERT_EQ(0, mv_stats(fx->fd, run.pid, &s0));
		if (s0.out_rounds >= warmup)
			break;
	}
	log_stats("child after the warm-up", &s0);
	pw->pages = m.dram + m.slice;
	do {
		ASSERT_LE(++g, PP_MAX_ROUNDS);
		ASSERT_EQ(0, mv_wait_rounds(fx->fd, 1, NULL));
		check_budget(_metadata, fx->fd, &run, &m);
		ASSERT_EQ(0, mv_stats(fx->fd, run.pid, &s));
	} while (s.out_rounds - s0.out_rounds < window);
	pw->rounds = s.out_rounds - s0.out_rounds;
	pw->pingpongs = s.out_pingpongs - s0.out_pingpongs;
	pw->promotions = s.out_promotions - s0.out_promotions;
	pw->demotions = s.out_demotions - s0.out_demotions;
	pw->skipped_hysteresis = s.out_skipped_hysteresis -
				 s0.out_skipped_hysteresis;
	mv_log("window of %llu child rounds, %llu pages: %llu ping-pongs, %llu promotions, %llu demotions, %llu moves held back by hysteresis",
	       (unsigned long long)pw->rounds, (unsigned long long)pw->pages,
	       (unsigned long long)pw->pingpongs,
	       (unsigned long long)pw->promotions,
	       (unsigned long long)pw->demotions,
	       (unsigned long long)pw->skipped_hysteresis);
	wl_finish(_metadata, fx->fd, kids, &run);
}

/*
 * A hot set larger than the budget provokes ping-pong; with the default
 * hysteresis (8 rounds) the ping-pongs of 32 rounds stay within
 * pages * (32 / 8 + 1) (see pp_bound()), the budget holds every round and
 * the data stays intact.
 */
TEST_F_TIMEOUT(tiering, pingpong_bound, TIER_TIMEOUT)
{
	struct memview_policy pol;
	struct pp_window pw;

	MV_SETUP_SKIPPED();
	ASSERT_EQ(0, mv_get_policy(self->f.fd, &pol));
	ASSERT_LT(0U, pol.hysteresis_rounds);
	pingpong_window(_metadata, &self->f, &self->kids,
			pol.hysteresis_rounds, PP_WARMUP, PP_WINDOW, &pw);
	/* The workload does provoke: pages traded, reversals held back. */
	EXPECT_LT(0ULL, pw.promotions);
	EXPECT_LT(0ULL, pw.demotions);
	EXPECT_LT(0ULL, pw.skipped_hysteresis);
	EXPECT_GE(pp_bound(&pw, pol.hysteresis_rounds), pw.pingpongs)
		TH_LOG("%llu ping-pongs in %llu rounds of %llu pages, hysteresis %u",
		       (unsigned long long)pw.pingpongs,
		       (unsigned long long)pw.rounds,
		       (unsigned long long)pw.pages, pol.hysteresis_rounds);
}

/*
 * The negative check of pingpong_bound: without hysteresis the same
 * workload exceeds the bound pingpong_bound allows with the default
 * hysteresis -- the bound does tell a working hysteresis from none.
 */
TEST_F_TIMEOUT(tiering, pingpong_no_hysteresis, TIER_TIMEOUT)
{
	struct memview_policy pol;
	struct pp_window pw;
	__u32 h = 0;
	size_t i;

	MV_SETUP_SKIPPED();
	/* Without hysteresis: tens of thousands of moves, a minute on CXL. */
	if (variant->target != &mv_target_pmem)
		SKIP(return, "the negative check runs on the pmem variant only");
	for (i = 0; i < NR_KNOBS; i++)
		if (knobs[i].bit == MEMVIEW_POLICY_HYSTERESIS)
			h = knobs[i].dflt;
	ASSERT_EQ(0, mv_get_policy(self->f.fd, &pol));
	pingpong_window(_metadata, &self->f, &self->kids, 0, PP_NEG_WARMUP,
			PP_NEG_WINDOW, &pw);
	EXPECT_LT(pp_bound(&pw, h), pw.pingpongs)
		TH_LOG("%llu ping-pongs in %llu rounds of %llu pages without hysteresis: within the bound for %u",
		       (unsigned long long)pw.pingpongs,
		       (unsigned long long)pw.rounds,
		       (unsigned long long)pw.pages, h);
}

/* ------------------------------------------------------------------ */
/* Scans spread over rounds.                                           */

#define PARTIAL_PAGES	2048	/* pages_per_round: a quarter of the child */
#define PARTIAL_ROUNDS	30	/* ten full scans of it */

/*
 * pages_per_round below the size of the process, so that each round scans
 * a part of it and the next resumes there: a child touching all of its
 * 16 MiB (nothing goes idle) with an 8 MiB budget still gets within the
 * budget (+ BATCH_PAGES + FAULT_SLACK, see check_budget()) in 30 rounds,
 * about ten full scans; STATS out_dram_pages ("DRAM pages at the last
 * complete scan") counts all of the process, not the part last scanned.
 */
TEST_F_TIMEOUT(tiering, budget_partial_scans, TIER_TIMEOUT)
{
	__u64 budget = mv_data_len(8);
	struct memview_policy p;
	struct memview_stats s;
	struct wl_run run;
	struct tiers m, a;
	bool within = false;
	struct wl w;
	__u64 pass;
	int r;

	MV_SETUP_SKIPPED();
	memset(&p, 0, sizeof(p));
	p.valid = MEMVIEW_POLICY_PAGES_PER_ROUND;
	p.pages_per_round = PARTIAL_PAGES;
	ASSERT_EQ(0, mv_set_policy(self->f.fd, &p));
	memset(&w, 0, sizeof(w));
	w.len = 2 * budget;
	w.hot_len = w.len;
	wl_start(_metadata, &self->f, &self->kids, &w, &run, budget);
	for (r = 1; r <= PARTIAL_ROUNDS && !within; r++) {
		ASSERT_EQ(0, mv_wait_rounds(self->f.fd, 1, NULL));
		ASSERT_EQ(0, proc_tiers(self->f.fd, run.pid, &m, &a));
		ASSERT_EQ(0, mv_stats(self->f.fd, run.pid, &s));
		within = m.dram <= run.budget + BATCH_PAGES + FAULT_SLACK;
		mv_log("%.1fs round %d (child %llu, %llu scanned): DRAM %llu/%llu budget, slices %llu; STATS dram %llu slice %llu",
		       tier_elapsed(), r, (unsigned long long)s.out_rounds,
		       (unsigned long long)s.out_pages_scanned,
		       (unsigned long long)m.dram,
		       (unsigned long long)run.budget,
		       (unsigned long long)m.slice,
		       (unsigned long long)s.out_dram_pages,
		       (unsigned long long)s.out_slice_pages);
	}
	log_stats("child", &s);
	EXPECT_TRUE(within)
		TH_LOG("%llu budget-covered pages in DRAM after %d rounds, budget %llu",
		       (unsigned long long)m.dram, PARTIAL_ROUNDS,
		       (unsigned long long)run.budget);
	/*
	 * out_dram_pages is the count of the last complete pass: let one
	 * pass finish after the budget was reached (its pages / PARTIAL_PAGES
	 * rounds, one more for a pass under way), then it must match what
	 * RESIDENCY sees, up to budget-neutral trades: a batch.
	 */
	pass = s.out_rounds + (m.dram + m.slice) / PARTIAL_PAGES + 2;
	for (r = 0; s.out_rounds < pass; r++) {
		ASSERT_GT(PARTIAL_ROUNDS, r);
		ASSERT_EQ(0, mv_wait_rounds(self->f.fd, 1, NULL));
		ASSERT_EQ(0, mv_stats(self->f.fd, run.pid, &s));
	}
	ASSERT_EQ(0, proc_tiers(self->f.fd, run.pid, &m, &a));
	log_stats("child after a full pass", &s);
	EXPECT_GE(s.out_dram_pages + BATCH_PAGES + FAULT_SLACK, m.dram)
		TH_LOG("STATS out_dram_pages %llu, RESIDENCY %llu",
		       (unsigned long long)s.out_dram_pages,
		       (unsigned long long)m.dram);
	EXPECT_LE(s.out_dram_pages, m.dram + BATCH_PAGES + FAULT_SLACK)
		TH_LOG("STATS out_dram_pages %llu, RESIDENCY %llu",
		       (unsigned long long)s.out_dram_pages,
		       (unsigned long long)m.dram);
	wl_finish(_metadata, self->f.fd, &self->kids, &run);
}

/* ------------------------------------------------------------------ */
/* Lifecycle: threads, fork, exec and exit of a tiered process.        */

#define LC_THREADS	4
#define LC_SCRATCH	(256 * 1024)	/* mapped and unmapped by every pass */
#define LC_OWN		(4 * MV_MIB)	/* fresh memory of the children */
#define LC_ROUNDS	20	/* placer rounds for demotions, adoption */
#define LC_QUIET_ROUNDS	8	/* rounds a child must not be adopted in */
#define LC_DRAIN_ROUNDS	10	/* rounds for the slices to empty */
#define LC_ZOMBIE_ROUNDS 4	/* rounds exited children stay unreaped */

struct lc_thread {
	pthread_t t;
	char *base;
	size_t len;
	volatile int bad;
};

/*
 * A thread of the lifecycle process: reads and writes (the same value)
 * every page of its part of the buffer, then maps, fills, checks and unmaps
 * fresh memory (first-touch faults for the sampler, mappings that come and
 * go under the scan), forever.
 */
static void *lc_toucher(void *arg)
{
	struct lc_thread *t = arg;
	__u64 seed = (uintptr_t)t;
	size_t off;
	char *s;

	for (;;) {
		for (off = 0; off < t->len; off += MV_PAGE_SIZE) {
			volatile __u64 *w = (volatile __u64 *)(t->base + off);

			w[2] = w[2];
		}
		s = mmap(NULL, LC_SCRATCH, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (s == MAP_FAILED) {
			t->bad++;
			continue;
		}
		mv_fill(s, 0, LC_SCRATCH, MV_PAT_STAMP, seed);
		if (mv_verify(s, 0, LC_SCRATCH, MV_PAT_STAMP, seed, NULL))
			t->bad++;
		munmap(s, LC_SCRATCH);
	}
	return NULL;
}

/* Forked, touches and exits: its copy of the buffer, COW, fresh memory. */
static int lc_forked(char *buf, size_t len, __u64 sum)
{
	char *own;
	size_t off;

	if (mv_checksum(buf, 0, len) != sum)
		return 30;
	for (off = 0; off < len; off += 2 * MV_PAGE_SIZE) {
		volatile __u64 *w = (volatile __u64 *)(buf + off);

		w[3] = w[3];	/* copy-on-write */
	}
	own = mv_map_anon(LC_OWN, 0, false);
	if (!own)
		return 31;
	mv_fill(own, 0, LC_OWN, MV_PAT_STAMP, getpid());
	if (mv_verify(own, 0, LC_OWN, MV_PAT_STAMP, getpid(), NULL))
		return 32;
	if (mv_checksum(buf, 0, len) != sum)
		return 33;
	return 0;
}

/*
 * Forked, keeps running and faulting until 'q' on @c3 (from the test: it
 * outlives its parent), then checks its own memory and its copy of the
 * parent's buffer.
 */
static int lc_runner(struct mv_chan *c3, const char *pbuf, size_t plen,
		     __u64 psum)
{
	__u64 seed = getpid(), sum;
	char msg, *own, *s;
	int ret;

	own = mv_map_anon(LC_OWN, 0, false);
	if (!own)
		return 40;
	sum = mv_fill(own, 0, LC_OWN, MV_PAT_STAMP, seed);
	for (;;) {
		s = mmap(NULL, LC_SCRATCH, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (s == MAP_FAILED)
			return 41;
		mv_touch_pages(s, LC_SCRATCH);
		munmap(s, LC_SCRATCH);
		mv_touch_pages(own, LC_OWN);
		ret = mv_chan_recv(c3->to_child[0], &msg, 0);
		if (ret == -ETIMEDOUT)
			continue;
		if (ret || msg != 'q')
			return 42;
		break;
	}
	if (mv_checksum(own, 0, LC_OWN) != sum)
		return 43;
	if (mv_checksum(pbuf, 0, plen) != psum)
		return 44;
	return 0;
}

/*
 * The tiered process: 4 threads touching its buffer (2 started before the
 * attach, 2 after: sampled by counters made at attach and by inherited
 * ones), and three children forked while it is tiered: one touches and
 * exits, one execs /bin/true, one keeps running (the "runner", talking to
 * the test over @c3).  Commands on @c: 'g' (attached), 'f' (fork), 'r'
 * (reap the two that exit: until then they are zombies), 'c' (check the
 * data, answered 'k'), 'x' (exit at once, threads running).
 * Sent to the test: the buffer's address, the runner's pid, the exit
 * statuses of the two others.
 */
static int lc_process(struct mv_chan *c, struct mv_chan *c3, size_t len)
{
	struct lc_thread th[LC_THREADS];
	__u64 seed = getpid(), sum;
	pid_t kid[3];
	int st[2], i;
	char msg, *buf;

	buf = mv_map_anon(len, 0, false);
	if (!buf)
		return 10;
	sum = mv_fill(buf, 0, len, MV_PAT_RANDOM, seed);
	for (i = 0; i < LC_THREADS; i++) {
		th[i].base = buf + i * (len / LC_THREADS);
		th[i].len = len / LC_THREADS;
		th[i].bad = 0;
	}
	for (i = 0; i < LC_THREADS / 2; i++)
		if (pthread_create(&th[i].t, NULL, lc_toucher, &th[i]))
			return 11;
	if (write(c->to_parent[1], &buf, sizeof(buf)) != sizeof(buf))
		return 12;
	if (mv_chan_recv(c->to_child[0], &msg, CHILD_WAIT_MS) || msg != 'g')
		return 13;
	for (; i < LC_THREADS; i++)
		if (pthread_create(&th[i].t, NULL, lc_toucher, &th[i]))
			return 14;
	if (mv_chan_recv(c->to_child[0], &msg, CHILD_WAIT_MS) || msg != 'f')
		return 15;

	fflush(NULL);
	kid[0] = fork();
	if (!kid[0]) {
		mv_chan_close(c3);
		_exit(lc_forked(buf, len, sum));
	}
	kid[1] = fork();
	if (!kid[1]) {
		mv_touch_pages(buf, len / 2);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	kid[2] = fork();
	if (!kid[2]) {
		mv_chan_close(c);
		mv_chan_child(c3);
		_exit(lc_runner(c3, buf, len, sum));
	}
	mv_chan_close(c3);
	if (kid[0] < 0 || kid[1] < 0 || kid[2] < 0)
		return 16;
	if (write(c->to_parent[1], &kid[2], sizeof(kid[2])) != sizeof(kid[2]))
		return 17;
	/* The two others stay zombies until the test says 'r'. */
	if (mv_chan_recv(c->to_child[0], &msg, CHILD_WAIT_MS) || msg != 'r')
		return 25;
	for (i = 0; i < 2; i++)
		if (waitpid(kid[i], &st[i], 0) != kid[i])
			return 18;
	if (write(c->to_parent[1], st, sizeof(st)) != sizeof(st))
		return 19;

	if (mv_chan_recv(c->to_child[0], &msg, CHILD_WAIT_MS) || msg != 'c')
		return 20;
	/* The threads keep touching: they write what is there. */
	if (mv_checksum(buf, 0, len) != sum)
		return 21;
	for (i = 0; i < LC_THREADS; i++)
		if (th[i].bad)
			return 22;
	if (mv_chan_send(c->to_parent[1], 'k'))
		return 23;
	if (mv_chan_recv(c->to_child[0], &msg, CHILD_WAIT_MS) || msg != 'x')
		return 24;
	return 0;	/* _exit() with every thread running */
}

/*
 * Tell @pid to exit ('x') while the placer is inside its round: when its
 * pages_scanned moved but its rounds did not (the scan is under way; the
 * migrations follow it).  Tried for at most @max placer rounds; whether
 * it was caught mid-round is logged, it cannot be forced.
 */
static void exit_mid_round(struct __test_metadata *_metadata, int fd,
			   pid_t pid, struct mv_chan *c, int max)
{
	struct timespec ts = { .tv_nsec = 500 * 1000 };
	struct memview_stats g0, g, a, b;
	bool caught = false;

	ASSERT_EQ(0, mv_stats(fd, 0, &g0));
	ASSERT_EQ(0, mv_stats(fd, pid, &a));
	do {
		nanosleep(&ts, NULL);
		ASSERT_EQ(0, mv_stats(fd, pid, &b));
		caught = b.out_pages_scanned != a.out_pages_scanned &&
			 b.out_rounds == a.out_rounds;
		a = b;
		ASSERT_EQ(0, mv_stats(fd, 0, &g));
	} while (!caught && g.out_rounds - g0.out_rounds < (__u64)max);
	ASSERT_EQ(0, mv_chan_send(c->to_child[1], 'x'));
	mv_log("process %d told to exit %s", pid,
	       caught ? "while the placer scanned it" : "between rounds");
}

/*
 * A process tiered with AUTO (and @flags) while it runs 4 threads, forks,
 * a child execs and it exits mid-round: the children's data intact, the
 * runner adopted iff FOLLOW_CHILDREN, every slice page back once all have
 * exited (the kernel log is checked by run_tests.sh).
 */
static void lifecycle(struct __test_metadata *_metadata, struct mv_fixture *fx,
		      struct kids *kids, __u32 flags)
{
	bool follow = flags & MEMVIEW_ATTACH_FOLLOW_CHILDREN;
	size_t len = mv_data_len(8);
	__u64 budget = len / 2, used = ~0ULL;
	struct memview_stats s, s2;
	struct memview_proc_entry e;
	struct memview_policy pol;
	pid_t us[2] = { getpid(), getppid() };
	__u32 sampler0;
	long ours = 0;
	struct mv_chan c, c3;
	int st[2], status, r, ret;
	bool listed = false;
	pid_t p, runner;
	char msg, *buf;

	ASSERT_EQ(0, mv_get_policy(fx->fd, &pol));
	sampler0 = pol.out_fault_sampler;
	if (follow)
		ASSERT_EQ((__u32)MEMVIEW_FAULT_SAMPLER_SW, sampler0)
			TH_LOG("fault sampling is off (out_fault_sampler %u): FOLLOW_CHILDREN cannot see children",
			       sampler0);
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));	/* the runner's parent exits */
	ASSERT_EQ(0, mv_chan_open(&c));
	ASSERT_EQ(0, mv_chan_open(&c3));
	fflush(NULL);
	p = fork();
	ASSERT_LE(0, p);
	if (!p) {
		mv_chan_child(&c);
		_exit(lc_process(&c, &c3, len));
	}
	kid_add(kids, p);
	mv_chan_parent(&c);
	mv_chan_parent(&c3);
	ASSERT_EQ(0, recv_all(c.to_parent[0], &buf, sizeof(buf), CHILD_WAIT_MS))
		TH_LOG("process: status %#x", kid_reap(kids, p, 1000));
	ret = mv_attach_flags(fx->fd, p, MEMVIEW_ATTACH_AUTO | flags, budget);
	ASSERT_EQ(0, ret) TH_LOG("PROC_ATTACH: %s", strerror(-ret));
	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'g'));

	/* Sampled and migrated: the budget is half its buffer. */
	for (r = 1; r <= LC_ROUNDS; r++) {
		ASSERT_EQ(0, mv_wait_rounds(fx->fd, 1, NULL));
		ASSERT_EQ(0, mv_stats(fx->fd, p, &s));
		if (s.out_demotions && s.out_rounds >= 2)
			break;
	}
	log_stats("process", &s);
	ASSERT_LT(0ULL, s.out_demotions)
		TH_LOG("nothing demoted in %d placer rounds", LC_ROUNDS);

	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'f'));
	ASSERT_EQ(0, recv_all(c.to_parent[0], &runner, sizeof(runner),
			      CHILD_WAIT_MS));
	kid_add(kids, runner);
	/*
	 * The two children that exit are left unreaped for a few rounds:
	 * followed, they have faulted and the placer tries to adopt them as
	 * zombies, which must not switch fault sampling off for everyone.
	 */
	ASSERT_EQ(0, mv_wait_rounds(fx->fd, LC_ZOMBIE_ROUNDS, NULL));
	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'r'));
	ASSERT_EQ(0, recv_all(c.to_parent[0], st, sizeof(st), CHILD_WAIT_MS));
	EXPECT_TRUE(WIFEXITED(st[0]) && !WEXITSTATUS(st[0]))
		TH_LOG("forked child: status %#x (exit 30s: its data)", st[0]);
	EXPECT_TRUE(WIFEXITED(st[1]) && !WEXITSTATUS(st[1]))
		TH_LOG("child that execs /bin/true: status %#x", st[1]);

	/*
	 * FOLLOW_CHILDREN: the runner, faulting all the time, is attached
	 * with the parent's flags and budget the first time the inherited
	 * counter samples it; without, never.
	 */
	for (r = 1; r <= (follow ? LC_ROUNDS : LC_QUIET_ROUNDS); r++) {
		ASSERT_EQ(0, mv_wait_rounds(fx->fd, 1, NULL));
		listed = proc_listed(fx->fd, runner, &e);
		if (listed)
			break;
	}
	if (follow) {
		ASSERT_TRUE(listed)
			TH_LOG("child %d not in PROC_LIST after %d rounds",
			       runner, LC_ROUNDS);
		mv_log("child %d adopted after %d rounds", runner, r);
		EXPECT_EQ((__u32)MEMVIEW_ATTACH_AUTO | flags, e.flags);
		EXPECT_EQ(budget, e.dram_budget);
	} else {
		ASSERT_FALSE(listed)
			TH_LOG("child %d of a process attached without FOLLOW_CHILDREN is managed",
			       runner);
	}

	/* Its data, with the threads and the placer at work; then exit. */
	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'c'));
	ASSERT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, CHILD_WAIT_MS))
		TH_LOG("process: status %#x (exit 21: data, 22: a thread's memory)",
		       kid_reap(kids, p, 1000));
	ASSERT_EQ(0, mv_stats(fx->fd, p, &s));
	log_stats("process", &s);
	exit_mid_round(_metadata, fx->fd, p, &c, LC_ROUNDS);
	status = kid_reap(kids, p, CHILD_WAIT_MS);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("process: status %#x", status);
	mv_log("%.1fs process exited", tier_elapsed());

	/* Its entry goes; the runner, its orphan, is still tiered if adopted. */
	ASSERT_EQ(0, mv_wait_rounds(fx->fd, 2, NULL));
	EXPECT_FALSE(proc_listed(fx->fd, p, NULL));
	if (follow) {
		ASSERT_EQ(0, mv_stats(fx->fd, runner, &s));
		ASSERT_EQ(0, mv_wait_rounds(fx->fd, 3, NULL));
		ASSERT_EQ(0, mv_stats(fx->fd, runner, &s2));
		EXPECT_LT(s.out_rounds, s2.out_rounds);
		log_stats("runner", &s2);
	}
	ASSERT_EQ(0, mv_chan_send(c3.to_child[1], 'q'));
	status = kid_reap(kids, runner, CHILD_WAIT_MS);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("runner: status %#x (exit 40s: its data)", status);

	/*
	 * Everyone has exited: the slices empty once the placer lets go --
	 * all but pages this test process and the harness process (its
	 * parent) still map: the process was forked from them and the placer
	 * demoted pages they shared copy-on-write (migrating a shared
	 * anonymous page moves it for every process that maps it).  Those
	 * are counted by frame number, each once.
	 */
	for (r = 1; r <= LC_DRAIN_ROUNDS; r++) {
		ASSERT_EQ(0, mv_wait_rounds(fx->fd, 1, NULL));
		ASSERT_EQ(0, mv_wait_region_used(fx->fd, fx->region_id, 0, 0,
						 &used));
		ours = slice_pages_mapped(us, 2, fx->range.start,
					  fx->range.start + fx->range.size);
		ASSERT_LE(0, ours) TH_LOG("pagemap: %s", strerror(-ours));
		if (used == (__u64)ours)
			break;
	}
	EXPECT_EQ((__u64)ours, used)
		TH_LOG("%llu slice pages used %d rounds after the last exit, %ld of them mapped by the test and harness processes",
		       (unsigned long long)used, LC_DRAIN_ROUNDS, ours);
	mv_log("%llu slice pages left, %ld mapped by the test and harness processes",
	       (unsigned long long)used, ours);
	/* No exit may have switched the fault sampler off for everyone. */
	ASSERT_EQ(0, mv_get_policy(fx->fd, &pol));
	EXPECT_EQ(sampler0, pol.out_fault_sampler)
		TH_LOG("out_fault_sampler %u after the test, %u before",
		       pol.out_fault_sampler, sampler0);
	EXPECT_FALSE(proc_listed(fx->fd, p, NULL));
	EXPECT_FALSE(proc_listed(fx->fd, runner, NULL));
	mv_chan_close(&c);
	mv_chan_close(&c3);
}

/* Lifecycle of a process attached with AUTO: its children are not tiered. */
TEST_F_TIMEOUT(tiering, lifecycle, TIER_TIMEOUT)
{
	MV_SETUP_SKIPPED();
	lifecycle(_metadata, &self->f, &self->kids, 0);
}

/* Lifecycle with AUTO | FOLLOW_CHILDREN: a running child gets tiered. */
TEST_F_TIMEOUT(tiering, lifecycle_follow_children, TIER_TIMEOUT)
{
	MV_SETUP_SKIPPED();
	lifecycle(_metadata, &self->f, &self->kids,
		  MEMVIEW_ATTACH_FOLLOW_CHILDREN);
}

TEST_HARNESS_MAIN
