// SPDX-License-Identifier: GPL-2.0
/*
 * memview and fork(): demoted pages are shared copy-on-write like any
 * anonymous page, each side sees only its own writes, and every slice page
 * goes back to its slice once the last process mapping it unmaps or exits.
 *
 * Children report through their exit status (they must not use the
 * harness's ASSERTs, which would run the fixture teardown in the child).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "memview_harness.h"

#define FORK_TIMEOUT	180	/* seconds per test: 16 MiB through a slice */
#define CHILD_WAIT_MS	120000	/* parent/child hand-offs */

/* Pattern A, written by the parent before the fork. */
#define SEED_A	0xa11ceULL
/* Pattern C, written by the parent after the child wrote its own. */
#define SEED_C	0xc0ffeeULL

FIXTURE(fork) {
	struct mv_fixture f;
};

FIXTURE_VARIANT(fork) {
	const struct mv_target *target;
};

MV_TARGET_VARIANTS(fork);

FIXTURE_SETUP(fork)
{
	MV_FIXTURE_SETUP(&self->f, variant->target, true, true);
}

FIXTURE_TEARDOWN(fork)
{
	MV_FIXTURE_TEARDOWN(&self->f);
}

/* In a child: does [0, len) of @buf hold pattern @p / @seed? */
static bool child_data_ok(const char *who, const void *buf, size_t len,
			  enum mv_pattern p, __u64 seed)
{
	size_t bad;

	if (!mv_verify(buf, 0, len, p, seed, &bad))
		return true;
	mv_log("child: %s: %s data (seed %#llx) wrong at byte %#zx", who,
	       mv_pattern_name(p), (unsigned long long)seed, bad);
	return false;
}

/* Fill @len of fresh anonymous memory with pattern A and demote it. */
static char *filled_and_demoted(struct __test_metadata *_metadata,
				struct mv_fixture *fx, size_t len, __u64 *sum)
{
	char *buf = mv_map_anon(len, 0, false);

	ASSERT_NE(NULL, buf);
	*sum = mv_fill(buf, 0, len, MV_PAT_RANDOM, SEED_A);
	mv_demote_all(_metadata, fx, fx->pid, buf, len);
	mv_check_residency(_metadata, fx, fx->pid, buf, len, 0, mv_pages(len));
	return buf;
}

static void expect_used(struct __test_metadata *_metadata,
			struct mv_fixture *fx, __u64 want, const char *when)
{
	__u64 used = ~0ULL;

	ASSERT_EQ(0, mv_wait_region_used(fx->fd, fx->region_id, want, 2000,
					 &used));
	EXPECT_EQ(want, used) TH_LOG("used pages %s", when);
}

/* Child of cow_after_demote; see the parent for the sequence. */
static int cow_child(struct mv_chan *c, char *buf, size_t len)
{
	__u64 seed_b = getpid();
	char msg;

	if (!child_data_ok("after fork", buf, len, MV_PAT_RANDOM, SEED_A))
		return 10;
	if (mv_chan_send(c->to_parent[1], 'v') ||
	    mv_chan_recv(c->to_child[0], &msg, CHILD_WAIT_MS) || msg != 'g')
		return 11;
	mv_fill(buf, 0, len, MV_PAT_STAMP, seed_b);
	if (!child_data_ok("own writes", buf, len, MV_PAT_STAMP, seed_b))
		return 12;
	if (mv_chan_send(c->to_parent[1], 'w') ||
	    mv_chan_recv(c->to_child[0], &msg, CHILD_WAIT_MS) || msg != 'c')
		return 13;
	/* The parent has promoted and overwritten its copy by now. */
	if (!child_data_ok("after parent wrote", buf, len, MV_PAT_STAMP,
			   seed_b))
		return 14;
	return 0;
}

/*
 * Fork after demote: both sides read the demoted data, each then writes its
 * own pattern (COW) and sees only its own; the parent promotes after the
 * child wrote.
 */
TEST_F_TIMEOUT(fork, cow_after_demote, FORK_TIMEOUT)
{
	size_t len = mv_data_len(16), pages = mv_pages(len);
	struct mv_fixture *fx = &self->f;
	struct mv_totals t0;
	__u64 sum_a, sum_c;
	struct mv_chan c;
	int status;
	char msg, *buf;
	pid_t pid;

	MV_SETUP_SKIPPED();
	ASSERT_EQ(0, mv_region_totals(fx->fd, fx->region_id, &t0));
	EXPECT_EQ(0ULL, t0.used_pages);
	buf = filled_and_demoted(_metadata, fx, len, &sum_a);
	expect_used(_metadata, fx, t0.used_pages + pages, "after demote");

	ASSERT_EQ(0, mv_chan_open(&c));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		mv_chan_child(&c);
		_exit(cow_child(&c, buf, len));
	}
	mv_chan_parent(&c);

	ASSERT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, CHILD_WAIT_MS));
	ASSERT_EQ('v', msg);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_RANDOM, SEED_A, sum_a);
	/* Shared: the child maps the very same slice pages. */
	mv_check_residency(_metadata, fx, pid, buf, len, 0, pages);

	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'g'));
	ASSERT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, CHILD_WAIT_MS));
	ASSERT_EQ('w', msg);
	/* The child's writes went to its own (DRAM) copies. */
	mv_check_data(_metadata, buf, 0, len, MV_PAT_RANDOM, SEED_A, sum_a);
	mv_check_residency(_metadata, fx, pid, buf, len, pages, 0);
	mv_check_residency(_metadata, fx, fx->pid, buf, len, 0, pages);
	expect_used(_metadata, fx, t0.used_pages + pages, "after the child's COW");

	/* Promote the parent's copy, check it, overwrite it. */
	mv_promote_all(_metadata, fx, fx->pid, buf, len, 0, 0);
	mv_check_residency(_metadata, fx, fx->pid, buf, len, pages, 0);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_RANDOM, SEED_A, sum_a);
	expect_used(_metadata, fx, t0.used_pages, "after promote");
	sum_c = mv_fill(buf, 0, len, MV_PAT_INCREMENT, SEED_C);
	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'c'));

	status = mv_wait_child(pid, CHILD_WAIT_MS);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child failed at step %d",
						 WEXITSTATUS(status));
	mv_check_data(_metadata, buf, 0, len, MV_PAT_INCREMENT, SEED_C, sum_c);
	mv_unmap_anon(buf, len);
	mv_chan_close(&c);
}

/* Child exits first, then the parent unmaps: the pages return to the slices. */
TEST_F_TIMEOUT(fork, child_exit_then_munmap, FORK_TIMEOUT)
{
	size_t len = mv_data_len(16), pages = mv_pages(len);
	struct mv_fixture *fx = &self->f;
	struct mv_totals t0;
	int status;
	__u64 sum;
	char *buf;
	pid_t pid;

	MV_SETUP_SKIPPED();
	ASSERT_EQ(0, mv_region_totals(fx->fd, fx->region_id, &t0));
	EXPECT_EQ(0ULL, t0.used_pages);
	buf = filled_and_demoted(_metadata, fx, len, &sum);

	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(child_data_ok("after fork", buf, len, MV_PAT_RANDOM,
				    SEED_A) ? 0 : 10);
	status = mv_wait_child(pid, CHILD_WAIT_MS);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* The parent still maps every page. */
	expect_used(_metadata, fx, t0.used_pages + pages, "after the child exited");
	mv_check_data(_metadata, buf, 0, len, MV_PAT_RANDOM, SEED_A, sum);
	mv_unmap_anon(buf, len);
	expect_used(_metadata, fx, t0.used_pages, "after munmap");
}

/* Parent unmaps first, the child still reads the data, then exits. */
TEST_F_TIMEOUT(fork, munmap_then_child_exit, FORK_TIMEOUT)
{
	size_t len = mv_data_len(16), pages = mv_pages(len);
	struct mv_fixture *fx = &self->f;
	struct mv_totals t0;
	struct mv_chan c;
	int status;
	__u64 sum;
	char msg, *buf;
	pid_t pid;

	MV_SETUP_SKIPPED();
	ASSERT_EQ(0, mv_region_totals(fx->fd, fx->region_id, &t0));
	EXPECT_EQ(0ULL, t0.used_pages);
	buf = filled_and_demoted(_metadata, fx, len, &sum);

	ASSERT_EQ(0, mv_chan_open(&c));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		mv_chan_child(&c);
		if (!child_data_ok("after fork", buf, len, MV_PAT_RANDOM,
				   SEED_A))
			_exit(10);
		if (mv_chan_send(c.to_parent[1], 'v') ||
		    mv_chan_recv(c.to_child[0], &msg, CHILD_WAIT_MS))
			_exit(11);
		_exit(child_data_ok("after the parent's munmap", buf, len,
				    MV_PAT_RANDOM, SEED_A) ? 0 : 12);
	}
	mv_chan_parent(&c);
	ASSERT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, CHILD_WAIT_MS));

	mv_unmap_anon(buf, len);
	/* The child still maps every page. */
	expect_used(_metadata, fx, t0.used_pages + pages, "after the parent's munmap");
	mv_check_residency(_metadata, fx, pid, buf, len, 0, pages);

	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'q'));
	status = mv_wait_child(pid, CHILD_WAIT_MS);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	expect_used(_metadata, fx, t0.used_pages, "after the child exited");
	mv_chan_close(&c);
}

/* Child of exit_without_munmap: attach itself, demote, exit on 'q'. */
static int demote_and_exit_child(struct mv_chan *c, int fd, size_t len)
{
	struct memview_migrate m;
	char msg, *buf;
	int ret;

	ret = mv_attach(fd, getpid(), 0);
	if (ret) {
		mv_log("child: PROC_ATTACH self: %s", strerror(-ret));
		return 10;
	}
	buf = mv_map_anon(len, 0, false);
	if (!buf)
		return 11;
	mv_fill(buf, 0, len, MV_PAT_STAMP, getpid());
	ret = mv_demote(fd, getpid(), buf, len, &m);
	if (ret || m.out_moved != mv_pages(len)) {
		mv_log("child: DEMOTE: %s", ret ? strerror(-ret) : "not all moved");
		mv_migrate_print("child: DEMOTE", &m);
		return 12;
	}
	if (mv_chan_send(c->to_parent[1], 'd') ||
	    mv_chan_recv(c->to_child[0], &msg, CHILD_WAIT_MS))
		return 13;
	return 0;	/* exit with the pages still mapped and demoted */
}

/* A process that exits with demoted pages mapped gives them all back. */
TEST_F_TIMEOUT(fork, exit_without_munmap, FORK_TIMEOUT)
{
	size_t len = mv_data_len(16), pages = mv_pages(len);
	struct mv_fixture *fx = &self->f;
	struct memview_proc_entry *p;
	struct mv_totals t0;
	struct mv_chan c;
	int status;
	__u32 n, i;
	char msg;
	pid_t pid;

	MV_SETUP_SKIPPED();
	ASSERT_EQ(0, mv_region_totals(fx->fd, fx->region_id, &t0));
	EXPECT_EQ(0ULL, t0.used_pages);
	ASSERT_EQ(0, mv_chan_open(&c));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		mv_chan_child(&c);
		_exit(demote_and_exit_child(&c, fx->fd, len));
	}
	mv_chan_parent(&c);
	ASSERT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, CHILD_WAIT_MS))
		TH_LOG("child status %d", mv_wait_child(pid, 1000));
	expect_used(_metadata, fx, t0.used_pages + pages, "while the child runs");

	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'q'));
	status = mv_wait_child(pid, CHILD_WAIT_MS);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	expect_used(_metadata, fx, t0.used_pages, "after waitpid");

	/* The exited child is no longer managed. */
	ASSERT_EQ(0, mv_proc_list(fx->fd, &p, &n));
	for (i = 0; i < n; i++)
		EXPECT_NE(pid, p[i].pid);
	free(p);
	mv_chan_close(&c);
}

/* Child of manage_other_process: fill, publish the address, verify on cue. */
static int managed_child(struct mv_chan *c, size_t len)
{
	__u64 seed = getpid();
	char msg, *buf;
	int step;

	buf = mv_map_anon(len, 0, false);
	if (!buf)
		return 10;
	mv_fill(buf, 0, len, MV_PAT_STAMP, seed);
	if (write(c->to_parent[1], &buf, sizeof(buf)) != sizeof(buf))
		return 11;
	/* 'v': verify (after demote, after promote); 'q': quit. */
	for (step = 0;; step++) {
		if (mv_chan_recv(c->to_child[0], &msg, CHILD_WAIT_MS))
			return 12;
		if (msg == 'q')
			return 0;
		if (!child_data_ok("managed", buf, len, MV_PAT_STAMP, seed))
			return 20 + step;
		if (mv_chan_send(c->to_parent[1], 'k'))
			return 13;
	}
}

/*
 * The usual case: a manager attaches another process and demotes and
 * promotes a range of it; that process's data stays intact throughout.
 */
TEST_F_TIMEOUT(fork, manage_other_process, FORK_TIMEOUT)
{
	size_t len = mv_data_len(16), pages = mv_pages(len);
	struct mv_fixture *fx = &self->f;
	struct memview_migrate m;
	struct mv_chan c;
	int status, ret;
	char msg, *buf;
	pid_t pid;

	MV_SETUP_SKIPPED();
	ASSERT_EQ(0, mv_chan_open(&c));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		mv_chan_child(&c);
		_exit(managed_child(&c, len));
	}
	mv_chan_parent(&c);
	ASSERT_EQ((ssize_t)sizeof(buf), read(c.to_parent[0], &buf, sizeof(buf)));

	ret = mv_attach(fx->fd, pid, 0);
	ASSERT_EQ(0, ret) TH_LOG("PROC_ATTACH child: %s", strerror(-ret));
	mv_demote_all(_metadata, fx, pid, buf, len);
	mv_check_residency(_metadata, fx, pid, buf, len, 0, pages);
	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'v'));
	ASSERT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, CHILD_WAIT_MS));

	mv_promote_all(_metadata, fx, pid, buf, len, 0, 0);
	mv_check_residency(_metadata, fx, pid, buf, len, pages, 0);
	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'v'));
	ASSERT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, CHILD_WAIT_MS));

	/* Detached, it cannot be migrated any more. */
	ASSERT_EQ(0, mv_detach(fx->fd, pid));
	EXPECT_EQ(-ENOENT, mv_demote(fx->fd, pid, buf, len, &m));

	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'q'));
	status = mv_wait_child(pid, CHILD_WAIT_MS);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child failed at step %d",
						 WEXITSTATUS(status));
	mv_chan_close(&c);
}

/*
 * Pages shared copy-on-write (Documentation/security.rst): a DEMOTE or
 * PROMOTE of one process moves none of them unless MEMVIEW_MIGRATE_MOVE_ALL
 * (CAP_SYS_NICE) says so, as move_pages(2) does with MPOL_MF_MOVE_ALL.
 * Where the pages are is checked from outside the module, in
 * /proc/PID/pagemap.
 */

/* Pattern B, written by a child over its copy of pattern A. */
#define SEED_B	0xb0b0ULL

/* What a child did, sent to its parent. */
struct shared_report {
	int ret;		/* of the migration */
	int move_all_ret;	/* of the same with MOVE_ALL, unprivileged */
	struct memview_migrate m;
};

/* A child's body, with an argument of the test's; returns the exit code. */
typedef int (*child_fn)(struct mv_chan *c, char *buf, size_t len, int arg);

/* Fork a child running @fn; returns its pid, or -1. */
static pid_t fork_child(struct mv_chan *c, child_fn fn, char *buf, size_t len,
			int arg)
{
	pid_t pid;

	if (mv_chan_open(c))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		mv_chan_close(c);
		return -1;
	}
	if (!pid) {
		mv_chan_child(c);
		_exit(fn(c, buf, len, arg));
	}
	mv_chan_parent(c);
	return pid;
}

/* In the parent: send @msg, wait for the child, which must exit with 0. */
static void end_child(struct __test_metadata *_metadata, struct mv_chan *c,
		      pid_t pid, char msg)
{
	int status;

	ASSERT_EQ(0, mv_chan_send(c->to_child[1], msg));
	status = mv_wait_child(pid, CHILD_WAIT_MS);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child failed at step %d",
						 WEXITSTATUS(status));
	mv_chan_close(c);
}

/* @len of fresh anonymous memory (THP if @thp) with pattern A. */
static char *filled(struct __test_metadata *_metadata, size_t len, bool thp,
		    __u64 *sum)
{
	char *buf = mv_map_anon(len, thp ? 2 * MV_MIB : 0, thp);

	ASSERT_NE(NULL, buf);
	*sum = mv_fill(buf, 0, len, MV_PAT_RANDOM, SEED_A);
	return buf;
}

/* In the parent: how many pages of [buf, buf + len) of @pid are in the region. */
static void expect_in_region(struct __test_metadata *_metadata,
			     struct mv_fixture *fx, pid_t pid, const char *who,
			     const void *buf, size_t len, size_t want)
{
	size_t present, in;
	int ret;

	ret = mv_pagemap_count(pid, buf, len, fx->range.start, fx->range.size,
			       &present, &in);
	ASSERT_EQ(0, ret) TH_LOG("pagemap of %s: %s", who, strerror(-ret));
	/* Every page present with its pfn, or the check below proves nothing. */
	ASSERT_EQ(mv_pages(len), present) TH_LOG("%s: pages present", who);
	EXPECT_EQ(want, in) TH_LOG("%s: pages in the region", who);
}

/*
 * In the parent: @parent_pages of its [buf, buf + len) and @child_pages of
 * the child's are in the region; its own data is still pattern A.
 */
static void expect_placed(struct __test_metadata *_metadata,
			  struct mv_fixture *fx, pid_t child, const char *buf,
			  size_t len, size_t parent_pages, size_t child_pages,
			  __u64 sum_a)
{
	expect_in_region(_metadata, fx, getpid(), "parent", buf, len,
			 parent_pages);
	expect_in_region(_metadata, fx, child, "child", buf, len, child_pages);
	mv_check_data(_metadata, buf, 0, len, MV_PAT_RANDOM, SEED_A, sum_a);
}

/*
 * In the child: DEMOTE (or PROMOTE) @buf of itself, first with MOVE_ALL,
 * then without, and send the report.  Returns 0, or 1 if it was not sent.
 */
static int child_move(struct mv_chan *c, int fd, char *buf, size_t len,
		      bool promote)
{
	unsigned long cmd = promote ? MEMVIEW_IOCTL_PROMOTE : MEMVIEW_IOCTL_DEMOTE;
	struct shared_report r = { 0 };

	mv_migrate_init(&r.m, getpid(), buf, len, MEMVIEW_MIGRATE_MOVE_ALL, 0);
	r.move_all_ret = mv_ioctl(fd, cmd, &r.m);
	mv_migrate_init(&r.m, getpid(), buf, len, 0, 0);
	r.ret = mv_ioctl(fd, cmd, &r.m);
	return write(c->to_parent[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1;
}

/* In the child: become unprivileged, attach itself; the fd, or -1. */
static int child_unprivileged_attach(void)
{
	int fd;

	if (mv_drop_privileges() || mv_cap_eff())
		return -1;
	fd = mv_open();
	if (fd < 0 || mv_attach(fd, getpid(), 0))
		return -1;
	return fd;
}

/*
 * In the parent: read a child's report: MOVE_ALL was -EPERM, the migration
 * worked and moved @moved pages, @shared pages were left as shared.
 */
static void expect_report(struct __test_metadata *_metadata, struct mv_chan *c,
			  __u64 moved, __u64 shared)
{
	struct shared_report r = { 0 };

	ASSERT_EQ((ssize_t)sizeof(r), read(c->to_parent[0], &r, sizeof(r)))
		TH_LOG("child exited early");
	EXPECT_EQ(-EPERM, r.move_all_ret) TH_LOG("MOVE_ALL unprivileged");
	ASSERT_EQ(0, r.ret) TH_LOG("child's migration: %s", strerror(-r.ret));
	EXPECT_EQ(moved, r.m.out_moved) mv_migrate_print("child", &r.m);
	EXPECT_EQ(shared, r.m.out_shared) mv_migrate_print("child", &r.m);
	EXPECT_EQ(moved + shared, mv_migrate_sum(&r.m));
}

/* shared_child()'s argument: bits. */
#define CHILD_PROMOTE	1	/* PROMOTE rather than DEMOTE */
#define CHILD_COW	2	/* then on 'w' write pattern B and DEMOTE again */

/*
 * Child of the shared_* tests: unprivileged, move its range, all of it
 * shared with the parent, and report; with CHILD_COW, on 'w' check the
 * data, write pattern B (COW gives it private copies), demote again and
 * report; on 'q' check its data and exit.
 */
static int shared_child(struct mv_chan *c, char *buf, size_t len, int arg)
{
	int fd = child_unprivileged_attach();
	__u64 seed = SEED_A;
	char msg;

	if (fd < 0)
		return 10;
	if (child_move(c, fd, buf, len, arg & CHILD_PROMOTE))
		return 11;
	if (arg & CHILD_COW) {
		if (mv_chan_recv(c->to_child[0], &msg, CHILD_WAIT_MS) ||
		    msg != 'w')
			return 12;
		if (!child_data_ok("shared", buf, len, MV_PAT_RANDOM, seed))
			return 13;
		seed = SEED_B;
		mv_fill(buf, 0, len, MV_PAT_RANDOM, seed);
		if (child_move(c, fd, buf, len, false))
			return 14;
	}
	if (mv_chan_recv(c->to_child[0], &msg, CHILD_WAIT_MS) || msg != 'q')
		return 15;
	if (!child_data_ok("at the end", buf, len, MV_PAT_RANDOM, seed))
		return 16;
	close(fd);
	return 0;
}

/*
 * An unprivileged child's DEMOTE of pages it shares with its parent moves
 * none (out_shared), neither for it nor for the parent, and with MOVE_ALL
 * is -EPERM; once it has written them, its private copies move and the
 * parent's stay.
 */
TEST_F_TIMEOUT(fork, shared_unprivileged, FORK_TIMEOUT)
{
	size_t len = mv_data_len(4), pages = mv_pages(len);
	struct mv_fixture *fx = &self->f;
	struct mv_chan c;
	__u64 sum_a;
	char *buf;
	pid_t pid;

	MV_SETUP_SKIPPED();
	buf = filled(_metadata, len, false, &sum_a);
	pid = fork_child(&c, shared_child, buf, len, CHILD_COW);
	ASSERT_LT(0, pid);
	expect_report(_metadata, &c, 0, pages);
	expect_placed(_metadata, fx, pid, buf, len, 0, 0, sum_a);

	/* Its own copies now: they move, the parent's pages stay. */
	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'w'));
	expect_report(_metadata, &c, pages, 0);
	expect_placed(_metadata, fx, pid, buf, len, 0, pages, sum_a);
	end_child(_metadata, &c, pid, 'q');
	mv_unmap_anon(buf, len);
}

/*
 * A transparent huge page shared after fork() is not moved by the child's
 * DEMOTE either, nor split for it.
 */
TEST_F_TIMEOUT(fork, shared_thp, FORK_TIMEOUT)
{
	size_t len = 4 * MV_MIB, pages = mv_pages(len);
	struct mv_fixture *fx = &self->f;
	struct mv_chan c;
	long huge_kb;
	__u64 sum_a;
	char *buf;
	pid_t pid;

	MV_SETUP_SKIPPED();
	buf = filled(_metadata, len, true, &sum_a);
	huge_kb = mv_anon_huge_kb(buf);
	if (huge_kb <= 0) {
		mv_unmap_anon(buf, len);
		SKIP(return, "no huge page was allocated (AnonHugePages %ld kB)",
		     huge_kb);
	}
	pid = fork_child(&c, shared_child, buf, len, 0);
	ASSERT_LT(0, pid);
	expect_report(_metadata, &c, 0, pages);
	EXPECT_EQ(huge_kb, mv_anon_huge_kb(buf)) TH_LOG("AnonHugePages");
	expect_placed(_metadata, fx, pid, buf, len, 0, 0, sum_a);
	end_child(_metadata, &c, pid, 'q');
	mv_unmap_anon(buf, len);
}

/*
 * Slice pages shared after fork() stay in the slice on the child's
 * PROMOTE: the parent demoted them and keeps them there.
 */
TEST_F_TIMEOUT(fork, shared_promote, FORK_TIMEOUT)
{
	size_t len = mv_data_len(4), pages = mv_pages(len);
	struct mv_fixture *fx = &self->f;
	struct mv_chan c;
	__u64 sum_a;
	char *buf;
	pid_t pid;

	MV_SETUP_SKIPPED();
	buf = filled(_metadata, len, false, &sum_a);
	mv_demote_all(_metadata, fx, fx->pid, buf, len);
	pid = fork_child(&c, shared_child, buf, len, CHILD_PROMOTE);
	ASSERT_LT(0, pid);
	expect_report(_metadata, &c, 0, pages);
	expect_placed(_metadata, fx, pid, buf, len, pages, pages, sum_a);
	end_child(_metadata, &c, pid, 'q');
	mv_unmap_anon(buf, len);
}

/* Child of shared_move_all: wait for 'v', check the data, exit. */
static int waiting_child(struct mv_chan *c, char *buf, size_t len, int arg)
{
	char msg;

	if (mv_chan_recv(c->to_child[0], &msg, CHILD_WAIT_MS) || msg != arg)
		return 10;
	if (!child_data_ok("after MOVE_ALL", buf, len, MV_PAT_RANDOM, SEED_A))
		return 11;
	return 0;
}

/* Root's DEMOTE with MOVE_ALL moves the shared pages, for both processes. */
TEST_F_TIMEOUT(fork, shared_move_all, FORK_TIMEOUT)
{
	size_t len = mv_data_len(4), pages = mv_pages(len);
	struct mv_fixture *fx = &self->f;
	struct memview_migrate m;
	struct mv_chan c;
	__u64 sum_a;
	char *buf;
	pid_t pid;
	int ret;

	MV_SETUP_SKIPPED();
	buf = filled(_metadata, len, false, &sum_a);
	pid = fork_child(&c, waiting_child, buf, len, 'v');
	ASSERT_LT(0, pid);
	ret = mv_attach(fx->fd, pid, 0);
	ASSERT_EQ(0, ret) TH_LOG("PROC_ATTACH child: %s", strerror(-ret));
	mv_migrate_init(&m, pid, buf, len, MEMVIEW_MIGRATE_MOVE_ALL, 0);
	ret = mv_ioctl(fx->fd, MEMVIEW_IOCTL_DEMOTE, &m);
	ASSERT_EQ(0, ret) TH_LOG("DEMOTE MOVE_ALL: %s", strerror(-ret));
	EXPECT_EQ((__u64)pages, m.out_moved) mv_migrate_print("DEMOTE", &m);
	EXPECT_EQ(0ULL, m.out_shared);
	expect_placed(_metadata, fx, pid, buf, len, pages, pages, sum_a);
	end_child(_metadata, &c, pid, 'v');
	mv_unmap_anon(buf, len);
}

TEST_HARNESS_MAIN
