// SPDX-License-Identifier: GPL-2.0
/*
 * memview on a host shared by many users: what a tiered process can make
 * the kernel allocate, whom the placer interrupts, what reclaim still sees,
 * and how long an attacher keeps a process (Documentation/security.rst).
 * Every claim is checked from outside the module: /proc/slabinfo, memory.stat,
 * /proc/interrupts, /proc/PID/pagemap and /proc/kpageflags.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "memview_harness.h"

/* Bytes of one radix_tree_node (the xarray's node: struct xa_node). */
#define XA_NODE_BYTES		576
/* Fault samples a process may have waiting for the placer (the kernel's). */
#define MAX_SAMPLES		1024
/*
 * The documented bound (Documentation/security.rst): heat entries for at
 * most the resident pages of the tiered mappings plus MAX_SAMPLES, each at
 * worst in xarray nodes of its own on every level (6 for 36-bit indexes).
 */
#define NODES_PER_ENTRY		6
/* Other users of radix_tree_node in the guest while a test runs. */
#define SLAB_NOISE		2048

FIXTURE(host) {
	int fd;
};

FIXTURE_SETUP(host)
{
	self->fd = mv_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(host)
{
	if (self->fd >= 0)
		close(self->fd);
}

static long slab_objects(const char *cache)
{
	char line[512], name[64];
	long active = -1, n;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld", name, &n) == 2 &&
		    !strcmp(name, cache)) {
			active = n;
			break;
		}
	fclose(f);
	return active;
}

/* A field of /proc/PID/status in kB, or -1. */
static long status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			v = strtol(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return v;
}

static unsigned long long rnd_state;

static unsigned long long rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* A random page address in the middle of the user address space. */
static char *rnd_addr(void)
{
	return (char *)((0x100000000000ULL + rnd() % 0x500000000000ULL) &
			~(MV_PAGE_SIZE - 1));
}

static sigjmp_buf segv_jmp;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(segv_jmp, 1);
}

/*
 * Unprivileged, tiered under a 16 MiB budget, for @secs seconds: touch
 * random addresses nobody mapped (@mapping false), or map 64 KiB at random
 * addresses, touch it and unmap it again, 256 mappings live at a time.
 */
static int churn_child(int fd, int secs, bool mapping)
{
	enum { LIVE = 256, LEN = 64 * 1024 };
	static char *live[LIVE];
	struct sigaction sa = { .sa_handler = on_segv };
	time_t end = time(NULL) + secs;
	volatile unsigned long n = 0;
	int ret, i;

	ret = mv_drop_privileges();
	if (ret)
		return 10;
	ret = mv_attach_flags(fd, getpid(), MEMVIEW_ATTACH_AUTO, 16 * MV_MIB);
	if (ret) {
		mv_log("churn: PROC_ATTACH as uid %d: %s", MV_NOBODY,
		       strerror(-ret));
		return 11;
	}
	rnd_state = 0x9e3779b97f4a7c15ULL ^ getpid();
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	while (time(NULL) < end) {
		volatile char *p;

		if (!mapping) {
			p = rnd_addr();
			if (!sigsetjmp(segv_jmp, 1))
				(void)*p;
			n++;
			continue;
		}
		i = n++ % LIVE;
		if (live[i])
			munmap(live[i], LEN);
		live[i] = mmap(rnd_addr(), LEN, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (live[i] == MAP_FAILED) {
			live[i] = NULL;
			continue;
		}
		for (p = live[i]; p < live[i] + LEN; p += MV_PAGE_SIZE)
			*p = 1;
	}
	mv_log("churn (%s): %lu %s in %d s", mapping ? "mappings" : "faults",
	       n, mapping ? "mappings" : "faults", secs);
	return 0;
}

/*
 * The heat map of a tiered process stays within the documented bound while
 * it faults on addresses it never mapped and churns small mappings.
 */
TEST_F_TIMEOUT(host, heat_bounded_under_churn, 300)
{
	int secs = getenv("MEMVIEW_CHURN_S") ? atoi(getenv("MEMVIEW_CHURN_S")) : 60;
	long before, now, peak = 0, rss, rss_max = 0, bound;
	pid_t kids[2];
	int i, st;

	before = slab_objects("radix_tree_node");
	if (before < 0)
		SKIP(return, "no radix_tree_node in /proc/slabinfo");
	for (i = 0; i < 2; i++) {
		fflush(NULL);
		kids[i] = fork();
		ASSERT_LE(0, kids[i]);
		if (!kids[i])
			_exit(churn_child(self->fd, secs, i));
	}
	for (;;) {
		usleep(250 * 1000);
		for (i = 0; i < 2; i++) {
			rss = kids[i] > 0 ? status_kb(kids[i], "RssAnon") : -1;
			if (rss / 4 > rss_max)
				rss_max = rss / 4;
		}
		now = slab_objects("radix_tree_node");
		if (now > peak)
			peak = now;
		for (i = 0; i < 2; i++) {
			if (kids[i] > 0 &&
			    waitpid(kids[i], &st, WNOHANG) == kids[i]) {
				EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st));
				kids[i] = -1;
			}
		}
		if (kids[0] < 0 && kids[1] < 0)
			break;
	}
	/* Both children, each at most at the larger resident size seen. */
	bound = 2 * NODES_PER_ENTRY * (rss_max + MAX_SAMPLES) + SLAB_NOISE;
	mv_log("radix_tree_node: %ld before, %ld at most during %d s of churn (bound %ld: resident pages at most %ld)",
	       before, peak, secs, bound, rss_max);
	EXPECT_LE(peak - before, bound);
}

/* Write the caller's pid into cgroup @cg (created here). */
static int cg_enter(const char *cg)
{
	char val[32];

	if (mkdir(cg, 0755) && errno != EEXIST)
		return -errno;
	snprintf(val, sizeof(val), "%d", getpid());
	return mv_cg_write(cg, "cgroup.procs", val);
}

/*
 * In cgroup @cg: map and touch @len bytes, tiered (with a budget larger
 * than that: heat for every page, nothing demoted) if @tier; tell the
 * parent, then wait to be killed.
 */
static int charged_child(int fd, const char *cg, size_t len, bool tier,
			 struct mv_chan *c)
{
	char *buf;

	if (cg_enter(cg))
		return 10;
	buf = mv_map_anon(len, MV_PAGE_SIZE, false);
	if (!buf)
		return 11;
	mv_touch_pages(buf, len);
	if (tier && mv_attach_flags(fd, getpid(), MEMVIEW_ATTACH_AUTO, 4 * len))
		return 12;
	mv_chan_send(c->to_parent[1], 'r');
	pause();
	return 0;
}

/* The heat entries of a tiered process are charged to its memcg. */
TEST_F_TIMEOUT(host, heat_charged_to_memcg, 300)
{
	size_t len = 64 * MV_MIB;
	long long slab[2];
	char cg[2][128];
	struct mv_chan c[2];
	pid_t kids[2];
	char msg;
	int i;

	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK))
		SKIP(return, "no cgroup2 at /sys/fs/cgroup");
	if (mv_cg_write("/sys/fs/cgroup", "cgroup.subtree_control", "+memory"))
		SKIP(return, "no memory controller (CONFIG_MEMCG)");
	for (i = 0; i < 2; i++) {
		snprintf(cg[i], sizeof(cg[i]), "/sys/fs/cgroup/memview-host-%d-%d",
			 getpid(), i);
		kids[i] = mv_chan_fork(&c[i]);
		ASSERT_LE(0, kids[i]);
		if (!kids[i])
			_exit(charged_child(self->fd, cg[i], len, i == 1, &c[i]));
		ASSERT_EQ(0, mv_chan_recv(c[i].to_parent[0], &msg, 60000));
	}
	/* Heat for every page after a full pass; stats flush every 2 s. */
	ASSERT_EQ(0, mv_wait_rounds(self->fd, 8, NULL));
	sleep(3);
	for (i = 0; i < 2; i++)
		slab[i] = mv_cg_read(cg[i], "memory.stat", "slab_reclaimable");
	for (i = 0; i < 2; i++) {
		kill(kids[i], SIGKILL);
		mv_wait_child(kids[i], 30000);
		mv_chan_close(&c[i]);
		rmdir(cg[i]);
	}
	ASSERT_LE(0, slab[0]);
	/* 16384 entries, 64 to a leaf node: 256 nodes of 576 bytes, at least. */
	mv_log("slab_reclaimable: %lld bytes untiered, %lld tiered", slab[0],
	       slab[1]);
	EXPECT_GE(slab[1] - slab[0],
		  (long long)(len / MV_PAGE_SIZE / 64 * XA_NODE_BYTES / 2));
}

/*
 * A 64 GiB reservation nobody touched, below 16 MiB of data: the scan
 * reaches the data in a few rounds, as if the reservation were not there.
 */
TEST_F_TIMEOUT(host, empty_reservation_scanned_fast, 300)
{
	size_t len = 16 * MV_MIB, resv = 64ULL << 30;
	struct memview_stats s;
	struct mv_chan c;
	pid_t pid;
	char msg;
	int ret;

	pid = mv_chan_fork(&c);
	ASSERT_LE(0, pid);
	if (!pid) {
		char *data, *r;

		data = mv_map_anon(len, MV_PAGE_SIZE, false);
		r = mmap(NULL, resv, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (!data || r == MAP_FAILED || r > data)
			_exit(10);	/* the scan must meet it first */
		mv_touch_pages(data, len);
		mv_chan_send(c.to_parent[1], 'r');
		pause();
		_exit(0);
	}
	ASSERT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, 60000));
	ret = mv_attach_flags(self->fd, pid, MEMVIEW_ATTACH_AUTO, 1ULL << 30);
	ASSERT_EQ(0, ret) TH_LOG("PROC_ATTACH: %s", strerror(-ret));
	/* Without the reservation a pass takes one round, two under load. */
	ASSERT_EQ(0, mv_wait_rounds(self->fd, 6, NULL));
	ASSERT_EQ(0, mv_stats(self->fd, pid, &s));
	mv_log("after 6 rounds: %llu rounds of the process, %llu pages scanned, %llu DRAM pages seen",
	       (unsigned long long)s.out_rounds,
	       (unsigned long long)s.out_pages_scanned,
	       (unsigned long long)s.out_dram_pages);
	EXPECT_GE(s.out_dram_pages, (__u64)mv_pages(len));
	kill(pid, SIGKILL);
	mv_wait_child(pid, 30000);
	mv_chan_close(&c);
}

/* Function-call and TLB-shootdown interrupts received by @cpu so far. */
static long long ipis(int cpu)
{
	char line[4096];
	long long sum = 0;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;
		int col;

		while (*p == ' ')
			p++;
		if (strncmp(p, "CAL:", 4) && strncmp(p, "TLB:", 4))
			continue;
		p += 4;
		for (col = 0; col <= cpu; col++) {
			long long v = strtoll(p, &end, 10);

			if (end == p)
				break;
			if (col == cpu)
				sum += v;
			p = end;
		}
	}
	fclose(f);
	return sum;
}

static pid_t find_comm(const char *comm)
{
	char path[64], buf[64];
	pid_t pid;

	for (pid = 2; pid < 4096; pid++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) &&
		    !strncmp(buf, comm, strlen(comm)) &&
		    buf[strlen(comm)] == '\n') {
			fclose(f);
			return pid;
		}
		fclose(f);
	}
	return -1;
}

static int pin(pid_t pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (cpu < 0) {
		for (int i = 0; i < CPU_SETSIZE; i++)
			CPU_SET(i, &set);
	} else {
		CPU_SET(cpu, &set);
	}
	return sched_setaffinity(pid, sizeof(set), &set) ? -errno : 0;
}

/*
 * Interrupts CPU 1 gets in @rounds placer rounds, the fewest of three
 * windows: the other sources are noise added on top.
 */
static long long ipis_in_rounds(int fd, __u64 rounds)
{
	long long best = -1, t0;

	for (int k = 0; k < 3; k++) {
		t0 = ipis(1);
		if (mv_wait_rounds(fd, rounds, NULL))
			return -1;
		t0 = ipis(1) - t0;
		if (best < 0 || t0 < best)
			best = t0;
	}
	return best;
}

/*
 * The TLB flush after a scan goes to the CPUs the process ran on: with the
 * tiered process and memviewd on CPU 0, tiering it adds no interrupt on
 * CPU 1 (counted against the same rounds with the process not tiered).
 */
TEST_F_TIMEOUT(host, tlb_flush_stays_on_the_process_cpus, 300)
{
	const __u64 rounds = 32;
	size_t len = 4 * MV_MIB;
	long long base, tiered;
	struct memview_stats s0, s1;
	pid_t placer, pid;
	int ret;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs");
	placer = find_comm("memviewd");
	ASSERT_LT(0, placer) TH_LOG("memviewd not found");
	ASSERT_EQ(0, pin(placer, 0));
	/* Born on CPU 0: its mm never ran on CPU 1. */
	ASSERT_EQ(0, pin(getpid(), 0));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		volatile char *buf;

		buf = mv_map_anon(len, MV_PAGE_SIZE, false);
		if (!buf)
			_exit(10);
		for (;;)
			for (size_t off = 0; off < len; off += MV_PAGE_SIZE)
				buf[off]++;
	}
	ASSERT_EQ(0, pin(getpid(), 1));
	ASSERT_EQ(0, mv_wait_rounds(self->fd, 3, NULL));
	base = ipis_in_rounds(self->fd, rounds);
	/* A budget: the accessed bits are decided on, so they are flushed. */
	ret = mv_attach_flags(self->fd, pid, MEMVIEW_ATTACH_AUTO, 1ULL << 30);
	ASSERT_EQ(0, ret) TH_LOG("PROC_ATTACH: %s", strerror(-ret));
	ASSERT_EQ(0, mv_wait_rounds(self->fd, 3, NULL));
	ASSERT_EQ(0, mv_stats(self->fd, pid, &s0));
	tiered = ipis_in_rounds(self->fd, rounds);
	ASSERT_EQ(0, mv_stats(self->fd, pid, &s1));
	kill(pid, SIGKILL);
	mv_wait_child(pid, 30000);
	pin(placer, -1);
	pin(getpid(), -1);
	mv_log("CPU 1: %lld function-call/TLB interrupts in %llu rounds untiered, %lld tiered (fewest of 3 windows; %llu pages seen accessed)",
	       base, (unsigned long long)rounds, tiered,
	       (unsigned long long)(s1.out_access_samples -
				    s0.out_access_samples));
	ASSERT_LE(0, base);
	ASSERT_LE(0, tiered);
	ASSERT_LT(0ULL, s1.out_access_samples - s0.out_access_samples);
	/*
	 * Fewer than one interrupt a round: a flush of every CPU each round
	 * (one or more a round) fails it.  The count also holds the
	 * scheduler's and RCU's kicks to CPU 1 (wakeups, idle balancing),
	 * which grow with memviewd's work on CPU 0: on a loaded host up to
	 * half a round's worth was seen (Documentation/testing.rst).
	 */
	EXPECT_LT(tiered - base, (long long)rounds);
}

#define KPF_REFERENCED	2
#define KPF_ACTIVE	6

/*
 * Pages the scan found accessed are referenced for reclaim too: the
 * accessed bits memview clears are handed to the page's LRU state.
 */
TEST_F_TIMEOUT(host, accessed_pages_stay_referenced, 300)
{
	size_t len = 4 * MV_MIB, pages = mv_pages(len), i, seen = 0, hot = 0;
	volatile char *buf;
	pid_t pid;
	int kfd, ret;

	kfd = open("/proc/kpageflags", O_RDONLY);
	if (kfd < 0)
		SKIP(return, "no /proc/kpageflags");
	buf = mv_map_anon(len, MV_PAGE_SIZE, false);
	ASSERT_NE(NULL, buf);
	madvise((void *)buf, len, MADV_NOHUGEPAGE);
	mv_touch_pages((void *)buf, len);
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		for (;;)
			for (size_t off = 0; off < len; off += MV_PAGE_SIZE)
				buf[off]++;
	}
	ret = mv_attach_flags(self->fd, pid, MEMVIEW_ATTACH_AUTO, 1ULL << 30);
	ASSERT_EQ(0, ret) TH_LOG("PROC_ATTACH: %s", strerror(-ret));
	ASSERT_EQ(0, mv_wait_rounds(self->fd, 8, NULL));
	for (i = 0; i < pages; i++) {
		__u64 pfn, flags;

		if (mv_pagemap_pfn(pid, (char *)buf + i * MV_PAGE_SIZE, &pfn) ||
		    !pfn)
			continue;
		if (pread(kfd, &flags, sizeof(flags), pfn * 8) != sizeof(flags))
			continue;
		seen++;
		hot += !!(flags & (1ULL << KPF_REFERENCED | 1ULL << KPF_ACTIVE));
	}
	kill(pid, SIGKILL);
	mv_wait_child(pid, 30000);
	close(kfd);
	mv_log("%zu of %zu pages of the busy child referenced or active", hot,
	       seen);
	ASSERT_EQ(pages, seen);
	EXPECT_GE(hot * 10, seen * 9);
}

/* Copies of /bin/sleep in /tmp: set-user-ID root, and plain. */
static int make_sleeps(char *suid, char *plain, size_t size)
{
	char cmd[512];

	snprintf(suid, size, "/tmp/mv-suid-sleep-%d", getpid());
	snprintf(plain, size, "/tmp/mv-plain-sleep-%d", getpid());
	snprintf(cmd, sizeof(cmd),
		 "cp /bin/sleep %s && cp /bin/sleep %s && chown root:root %s && chmod 4755 %s && chmod 755 %s",
		 suid, plain, suid, suid, plain);
	return system(cmd) ? -EIO : 0;
}

static bool listed(int fd, pid_t pid)
{
	struct memview_proc_entry *e;
	bool found = false;
	__u32 n, i;

	if (mv_proc_list(fd, &e, &n))
		return false;
	for (i = 0; i < n; i++)
		found |= e[i].pid == pid;
	free(e);
	return found;
}

/* Has @pid exec'd @path (its comm is the start of the file's name)? */
static bool execd(pid_t pid, const char *path)
{
	const char *base = strrchr(path, '/') + 1;
	char p[64], buf[64] = "";
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/comm", pid);
	f = fopen(p, "r");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return buf[0] && !strncmp(base, buf, strlen(buf));
}

/*
 * A child that drops to nobody, is attached (by itself if @self_attach,
 * else by its root parent), and execs @prog.  Returns its pid once it has.
 */
static pid_t spawn_exec(int fd, const char *prog, bool self_attach, __u32 flags)
{
	struct mv_chan c;
	pid_t pid;
	char msg;

	pid = mv_chan_fork(&c);
	if (pid < 0)
		return -1;
	if (!pid) {
		if (mv_drop_privileges())
			_exit(10);
		if (self_attach &&
		    mv_attach_flags(fd, getpid(), flags, 16 * MV_MIB))
			_exit(11);
		mv_chan_send(c.to_parent[1], 'a');
		if (mv_chan_recv(c.to_child[0], &msg, 60000))
			_exit(12);
		execl(prog, prog, "60", (char *)NULL);
		_exit(13);
	}
	if (mv_chan_recv(c.to_parent[0], &msg, 60000) ||
	    (!self_attach && mv_attach_flags(fd, pid, flags, 16 * MV_MIB)))
		goto fail;
	mv_chan_send(c.to_child[1], 'x');
	for (int i = 0; i < 6000 && !execd(pid, prog); i++)
		usleep(10 * 1000);
	mv_chan_close(&c);
	return execd(pid, prog) ? pid : -1;
fail:
	kill(pid, SIGKILL);
	mv_wait_child(pid, 30000);
	mv_chan_close(&c);
	return -1;
}

/*
 * An exec of a set-user-ID program ends the management by an attacher that
 * may not manage the result, as it ends a ptrace; a plain exec keeps it,
 * and so does an exec an administrator's attach may follow.
 */
TEST_F_TIMEOUT(host, setuid_exec_lets_go, 300)
{
	char suid[64], plain[64];
	pid_t by_self_suid, by_self_plain, by_root_suid;

	ASSERT_EQ(0, make_sleeps(suid, plain, sizeof(suid)));
	by_self_suid = spawn_exec(self->fd, suid, true, MEMVIEW_ATTACH_AUTO);
	by_self_plain = spawn_exec(self->fd, plain, true, MEMVIEW_ATTACH_AUTO);
	by_root_suid = spawn_exec(self->fd, suid, false, MEMVIEW_ATTACH_AUTO);
	ASSERT_LT(0, by_self_suid);
	ASSERT_LT(0, by_self_plain);
	ASSERT_LT(0, by_root_suid);
	ASSERT_EQ(0, mv_wait_rounds(self->fd, 4, NULL));
	EXPECT_FALSE(listed(self->fd, by_self_suid))
		TH_LOG("still managed by uid %d after exec of a set-user-ID root program",
		       MV_NOBODY);
	EXPECT_TRUE(listed(self->fd, by_self_plain))
		TH_LOG("an exec of a plain program ended the management");
	EXPECT_TRUE(listed(self->fd, by_root_suid))
		TH_LOG("root's attach ended at an exec root may follow");
	/* The process let go of is not taken back by a detach-attach race. */
	EXPECT_EQ(-ENOENT, mv_detach(self->fd, by_self_suid));
	kill(by_self_suid, SIGKILL);
	kill(by_self_plain, SIGKILL);
	kill(by_root_suid, SIGKILL);
	mv_wait_child(by_self_suid, 30000);
	mv_wait_child(by_self_plain, 30000);
	mv_wait_child(by_root_suid, 30000);
	unlink(suid);
	unlink(plain);
}

/* Fault now and then, for ever: each round sees samples from it. */
static void fault_forever(void)
{
	for (;;) {
		char *p = mmap(NULL, 16 * MV_PAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED) {
			mv_touch_pages(p, 16 * MV_PAGE_SIZE);
			munmap(p, 16 * MV_PAGE_SIZE);
		}
		usleep(10 * 1000);
	}
}

/*
 * A process that follows its children, attached by nobody: a child that
 * execs a set-user-ID root program is not adopted, one that execs a plain
 * program is; a child detached by hand is not adopted again, though it
 * keeps faulting.
 */
TEST_F_TIMEOUT(host, children_checked_and_detach_sticks, 300)
{
	char suid[64], plain[64];
	struct mv_chan c;
	pid_t parent, kid[3] = { 0, 0, 0 };
	int i;

	ASSERT_EQ(0, make_sleeps(suid, plain, sizeof(suid)));
	parent = mv_chan_fork(&c);
	ASSERT_LE(0, parent);
	if (!parent) {
		if (mv_drop_privileges())
			_exit(10);
		if (mv_attach_flags(self->fd, getpid(),
				    MEMVIEW_ATTACH_AUTO |
				    MEMVIEW_ATTACH_FOLLOW_CHILDREN, 16 * MV_MIB))
			_exit(11);
		for (i = 0; i < 3; i++) {
			pid_t k = fork();

			if (!k && i == 2)
				fault_forever();
			if (!k) {
				const char *prog = i ? plain : suid;

				execl(prog, prog, "60", (char *)NULL);
				_exit(12);
			}
			if (write(c.to_parent[1], &k, sizeof(k)) != sizeof(k))
				_exit(13);
		}
		pause();
		_exit(0);
	}
	for (i = 0; i < 3; i++)
		ASSERT_EQ((ssize_t)sizeof(kid[i]),
			  read(c.to_parent[0], &kid[i], sizeof(kid[i])));
	for (i = 0; i < 6000 && (!execd(kid[0], suid) || !execd(kid[1], plain));
	     i++)
		usleep(10 * 1000);
	ASSERT_TRUE(execd(kid[0], suid));
	ASSERT_TRUE(execd(kid[1], plain));
	ASSERT_EQ(0, mv_wait_rounds(self->fd, 4, NULL));
	EXPECT_FALSE(listed(self->fd, kid[0]))
		TH_LOG("a set-user-ID root child of nobody's process was adopted");
	EXPECT_TRUE(listed(self->fd, kid[1]))
		TH_LOG("a plain child was not adopted");
	ASSERT_TRUE(listed(self->fd, kid[2]))
		TH_LOG("a faulting child was not adopted");
	ASSERT_EQ(0, mv_detach(self->fd, kid[2]));
	ASSERT_EQ(0, mv_wait_rounds(self->fd, 4, NULL));
	EXPECT_FALSE(listed(self->fd, kid[2]))
		TH_LOG("a detached child was adopted again");
	/* An explicit attach still takes it. */
	EXPECT_EQ(0, mv_attach_flags(self->fd, kid[2], MEMVIEW_ATTACH_AUTO, 0));
	EXPECT_TRUE(listed(self->fd, kid[2]));
	for (i = 0; i < 3; i++)
		kill(kid[i], SIGKILL);
	kill(parent, SIGKILL);
	mv_wait_child(parent, 30000);
	mv_chan_close(&c);
	unlink(suid);
	unlink(plain);
}

struct removal {
	int fd;
	__u32 id;
	int ret;
	volatile int done;
};

static void *remove_region_thread(void *arg)
{
	struct removal *rm = arg;

	rm->ret = mv_region_remove(rm->fd, rm->id, MEMVIEW_REGION_REMOVE_EVACUATE,
				   NULL);
	rm->done = 1;
	return NULL;
}

/* Is some slice of region @id REMOVING? */
static bool region_removing(int fd, __u32 id)
{
	struct memview_slice_entry *e;
	bool yes = false;
	__u32 n, i;

	if (mv_slice_list(fd, MEMVIEW_SLICE_LIST_REGION, id, &e, &n))
		return false;
	for (i = 0; i < n; i++)
		yes |= e[i].state == MEMVIEW_SLICE_REMOVING;
	free(e);
	return yes;
}

/*
 * In a child: map @len bytes, fill them, demote them (to the region with
 * the most room), say so, then on 'p' poison one demoted page and one DRAM
 * page with MADV_HWPOISON and say when both calls have returned.
 */
static int poison_child(int fd, size_t len, struct mv_chan *c)
{
	struct memview_migrate m;
	struct mv_sigbus sb;
	char *buf, *dram, msg;

	buf = mv_map_anon(len, MV_PAGE_SIZE, false);
	dram = mv_map_anon(MV_PAGE_SIZE, MV_PAGE_SIZE, false);
	if (!buf || !dram)
		return 10;
	mv_fill(buf, 0, len, MV_PAT_INCREMENT, 1);
	mv_touch_pages(dram, MV_PAGE_SIZE);
	if (mv_attach(fd, getpid(), 0) || mv_demote(fd, getpid(), buf, len, &m) ||
	    m.out_moved != mv_pages(len))
		return 11;
	mv_chan_send(c->to_parent[1], 'd');
	if (mv_chan_recv(c->to_child[0], &msg, 600000) || msg != 'p')
		return 12;
	/* Handled: the call returns, or the kernel's SIGBUS comes first. */
	if (mv_probe_madvise(buf, MV_PAGE_SIZE, MADV_HWPOISON, &sb) < 0 ||
	    mv_probe_madvise(dram, MV_PAGE_SIZE, MADV_HWPOISON, &sb) < 0)
		return 13;
	mv_chan_send(c->to_parent[1], 'h');
	pause();
	return 0;
}

/*
 * A memory error (on a slice page of another region, then on DRAM) is
 * handled while a region holding tens of MiB is being removed, not after:
 * the removal holds no lock memory_failure() waits for.
 */
TEST_F_TIMEOUT(host, memory_errors_during_region_removal, 900)
{
	size_t len = mv_data_len(64), small = 2 * MV_MIB;
	struct memview_region_add a, b;
	struct mv_range cxl, pmem;
	struct removal rm = { .fd = self->fd };
	struct mv_chan cx, cy;
	pthread_t t;
	pid_t x, y;
	char msg;
	int ret, i;

	if (mv_target_range(&mv_target_cxl, &cxl) ||
	    mv_target_range(&mv_target_pmem, &pmem))
		SKIP(return, "needs the cxl and the pmem ranges");
	ASSERT_LE(0, mv_remove_overlapping(self->fd, cxl.start, cxl.size, true));
	ASSERT_LE(0, mv_remove_overlapping(self->fd, pmem.start, pmem.size, true));
	/* The slow one (emulated CXL) first: the big process lands there. */
	ret = mv_region_add(self->fd, cxl.start, cxl.size, cxl.kind, cxl.label, &a);
	ASSERT_EQ(0, ret) TH_LOG("REGION_ADD cxl: %s", strerror(-ret));
	x = mv_chan_fork(&cx);
	ASSERT_LE(0, x);
	if (!x)
		_exit(poison_child(self->fd, len, &cx));
	ASSERT_EQ(0, mv_chan_recv(cx.to_parent[0], &msg, 600000));
	/* Then the other, empty: the small process's pages land there. */
	ret = mv_region_add(self->fd, pmem.start, pmem.size, pmem.kind,
			    pmem.label, &b);
	ASSERT_EQ(0, ret) TH_LOG("REGION_ADD pmem: %s", strerror(-ret));
	y = mv_chan_fork(&cy);
	ASSERT_LE(0, y);
	if (!y)
		_exit(poison_child(self->fd, small, &cy));
	ASSERT_EQ(0, mv_chan_recv(cy.to_parent[0], &msg, 600000));

	rm.id = a.out_region_id;
	ASSERT_EQ(0, pthread_create(&t, NULL, remove_region_thread, &rm));
	for (i = 0; i < 60000 && !region_removing(self->fd, rm.id) && !rm.done;
	     i++)
		usleep(1000);
	ASSERT_TRUE(region_removing(self->fd, rm.id))
		TH_LOG("the removal of %llu MiB ended before it could be seen",
		       (unsigned long long)(len / MV_MIB));
	ASSERT_EQ(0, mv_chan_send(cy.to_child[1], 'p'));
	ASSERT_EQ(0, mv_chan_recv(cy.to_parent[0], &msg, 600000));
	EXPECT_FALSE(rm.done)
		TH_LOG("MADV_HWPOISON returned only after the removal of region %u",
		       rm.id);
	pthread_join(t, NULL);
	EXPECT_EQ(0, rm.ret) TH_LOG("REGION_REMOVE: %s", strerror(-rm.ret));
	kill(x, SIGKILL);
	kill(y, SIGKILL);
	mv_wait_child(x, 30000);
	mv_wait_child(y, 30000);
	mv_chan_close(&cx);
	mv_chan_close(&cy);
	ret = mv_region_remove(self->fd, b.out_region_id,
			       MEMVIEW_REGION_REMOVE_EVACUATE, NULL);
	EXPECT_EQ(0, ret) TH_LOG("REGION_REMOVE pmem: %s", strerror(-ret));
}

/* ---- Two DRAM nodes (make check's NUMA guest) ---- */

#define MPOL_BIND_MODE	2

static bool node_has_memory(int nid)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo",
		 nid);
	return !access(path, F_OK) && nid >= 0;
}

/* The node of each page of [buf, buf + len) of @pid (move_pages query). */
static int nodes_of(pid_t pid, char *buf, size_t len, int *status)
{
	size_t n = len / MV_PAGE_SIZE, i;
	void **pages = calloc(n, sizeof(*pages));
	long ret;

	if (!pages)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		pages[i] = buf + i * MV_PAGE_SIZE;
	ret = syscall(SYS_move_pages, pid, n, pages, NULL, status, 0);
	free(pages);
	return ret ? -errno : 0;
}

static size_t count_node(const int *status, size_t n, int nid)
{
	size_t c = 0;

	while (n--)
		c += status[n] == nid;
	return c;
}

/*
 * A child bound to node 1, by its task policy (@vma false) or by mbind() on
 * the buffer: map and touch @len bytes, say so, wait.
 */
static int bound_child(size_t len, bool vma, struct mv_chan *c)
{
	unsigned long mask = 1UL << 1;
	char *buf;

	buf = mv_map_anon(len, MV_PAGE_SIZE, false);
	if (!buf)
		return 10;
	if (vma ? syscall(SYS_mbind, buf, len, MPOL_BIND_MODE, &mask, 64, 0) :
		  syscall(SYS_set_mempolicy, MPOL_BIND_MODE, &mask, 64))
		return 11;
	mv_touch_pages(buf, len);
	if (write(c->to_parent[1], &buf, sizeof(buf)) != sizeof(buf))
		return 12;
	pause();
	return 0;
}

/*
 * Promoted pages follow the owner's memory policy (the task's, then the
 * VMA's), not that of the thread that moves them: bound to node 1, they
 * come back to node 1 when the promotion runs on node 0's CPU.
 */
TEST_F_TIMEOUT(host, promotion_follows_the_policy, 600)
{
	size_t len = 4 * MV_MIB, n = mv_pages(len);
	struct memview_region_add a;
	struct memview_migrate m;
	struct mv_range pmem;
	int *status, ret, v;

	if (!node_has_memory(1))
		SKIP(return, "needs a second DRAM node (make check's NUMA guest)");
	if (mv_target_range(&mv_target_pmem, &pmem))
		SKIP(return, "needs the pmem range");
	ASSERT_LE(0, mv_remove_overlapping(self->fd, pmem.start, pmem.size, true));
	ret = mv_region_add(self->fd, pmem.start, pmem.size, pmem.kind,
			    pmem.label, &a);
	ASSERT_EQ(0, ret) TH_LOG("REGION_ADD: %s", strerror(-ret));
	status = calloc(n, sizeof(*status));
	ASSERT_NE(NULL, status);
	ASSERT_EQ(0, pin(getpid(), 0));
	for (v = 0; v < 2; v++) {
		struct mv_chan c;
		char *buf;
		pid_t pid;

		pid = mv_chan_fork(&c);
		ASSERT_LE(0, pid);
		if (!pid)
			_exit(bound_child(len, v, &c));
		ASSERT_EQ((ssize_t)sizeof(buf),
			  read(c.to_parent[0], &buf, sizeof(buf)));
		ASSERT_EQ(0, nodes_of(pid, buf, len, status));
		ASSERT_EQ(n, count_node(status, n, 1));
		ASSERT_EQ(0, mv_attach(self->fd, pid, 0));
		ASSERT_EQ(0, mv_demote(self->fd, pid, buf, len, &m));
		ASSERT_EQ((__u64)n, m.out_moved);
		ASSERT_EQ(0, mv_promote(self->fd, pid, buf, len, 0, 0, &m));
		ASSERT_EQ((__u64)n, m.out_moved);
		ASSERT_EQ(0, nodes_of(pid, buf, len, status));
		EXPECT_EQ(n, count_node(status, n, 1))
			TH_LOG("%s policy: %zu of %zu promoted pages on node 1",
			       v ? "VMA" : "task", count_node(status, n, 1), n);
		kill(pid, SIGKILL);
		mv_wait_child(pid, 30000);
		mv_chan_close(&c);
	}
	pin(getpid(), -1);
	free(status);
	EXPECT_EQ(0, mv_region_remove(self->fd, a.out_region_id,
				      MEMVIEW_REGION_REMOVE_EVACUATE, NULL));
}

/*
 * PROMOTE to a node the owner's cpuset does not allow is EACCES, as for
 * move_pages(2); to an allowed one it works.  And a region whose own node
 * is offline (the CXL window's) is mapped on an online one.
 */
TEST_F_TIMEOUT(host, promote_node_within_the_cpuset, 600)
{
	size_t len = 2 * MV_MIB, n = mv_pages(len);
	struct memview_region_add a;
	struct memview_migrate m;
	struct mv_range pmem, cxl;
	char cg[128];
	struct mv_chan c;
	char *buf, online[64] = "";
	int *status, ret;
	pid_t pid;
	FILE *f;

	if (!node_has_memory(1))
		SKIP(return, "needs a second DRAM node (make check's NUMA guest)");
	if (mv_target_range(&mv_target_pmem, &pmem))
		SKIP(return, "needs the pmem range");
	mv_cg_write("/sys/fs/cgroup", "cgroup.subtree_control", "+cpuset");
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/memview-cpuset-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	if (mv_cg_write(cg, "cpuset.mems", "0")) {
		rmdir(cg);
		SKIP(return, "no cpuset controller in cgroup2");
	}
	ASSERT_LE(0, mv_remove_overlapping(self->fd, pmem.start, pmem.size, true));
	ret = mv_region_add(self->fd, pmem.start, pmem.size, pmem.kind,
			    pmem.label, &a);
	ASSERT_EQ(0, ret) TH_LOG("REGION_ADD: %s", strerror(-ret));
	pid = mv_chan_fork(&c);
	ASSERT_LE(0, pid);
	if (!pid) {
		if (cg_enter(cg))
			_exit(10);
		buf = mv_map_anon(len, MV_PAGE_SIZE, false);
		if (!buf)
			_exit(11);
		mv_touch_pages(buf, len);
		if (write(c.to_parent[1], &buf, sizeof(buf)) != sizeof(buf))
			_exit(12);
		pause();
		_exit(0);
	}
	ASSERT_EQ((ssize_t)sizeof(buf), read(c.to_parent[0], &buf, sizeof(buf)));
	ASSERT_EQ(0, mv_attach(self->fd, pid, 0));
	ASSERT_EQ(0, mv_demote(self->fd, pid, buf, len, &m));
	EXPECT_EQ(-EACCES, mv_promote(self->fd, pid, buf, len,
				      MEMVIEW_MIGRATE_NODE, 1, &m));
	ASSERT_EQ(0, mv_promote(self->fd, pid, buf, len, MEMVIEW_MIGRATE_NODE,
				0, &m));
	EXPECT_EQ((__u64)n, m.out_moved);
	status = calloc(n, sizeof(*status));
	ASSERT_NE(NULL, status);
	ASSERT_EQ(0, nodes_of(pid, buf, len, status));
	EXPECT_EQ(n, count_node(status, n, 0));
	free(status);
	kill(pid, SIGKILL);
	mv_wait_child(pid, 30000);
	mv_chan_close(&c);
	rmdir(cg);
	EXPECT_EQ(0, mv_region_remove(self->fd, a.out_region_id,
				      MEMVIEW_REGION_REMOVE_EVACUATE, NULL));

	/* The CXL window's node has no memory online: mapped elsewhere. */
	if (mv_target_range(&mv_target_cxl, &cxl))
		return;
	ASSERT_LE(0, mv_remove_overlapping(self->fd, cxl.start, cxl.size, true));
	ret = mv_region_add(self->fd, cxl.start, cxl.size, cxl.kind, cxl.label,
			    &a);
	ASSERT_EQ(0, ret) TH_LOG("REGION_ADD cxl: %s", strerror(-ret));
	EXPECT_TRUE(node_has_memory(a.out_nid))
		TH_LOG("the CXL region was mapped on node %d", a.out_nid);
	f = fopen("/sys/devices/system/node/has_memory", "r");
	if (f) {
		if (!fgets(online, sizeof(online), f))
			online[0] = 0;
		fclose(f);
	}
	mv_log("CXL region on node %d; nodes with memory: %s", a.out_nid,
	       online);
	EXPECT_EQ(0, mv_region_remove(self->fd, a.out_region_id, 0, NULL));
}

/*
 * Reading events is decided by the credentials the device was opened
 * with: nobody may read from a descriptor root opened (a monitor handed
 * on), not from one it opened itself.
 */
TEST_F(host, events_follow_the_opener)
{
	struct memview_event ev;
	struct mv_chan c;
	int rootfd, st;
	pid_t pid;

	rootfd = open(MEMVIEW_DEVICE, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, rootfd);
	pid = mv_chan_fork(&c);
	ASSERT_LE(0, pid);
	if (!pid) {
		struct pollfd pfd = { .events = POLLIN };
		int own;

		if (mv_drop_privileges())
			_exit(10);
		/* Nothing is waiting: EAGAIN, not EPERM. */
		if (read(rootfd, &ev, sizeof(ev)) != -1 || errno != EAGAIN)
			_exit(11);
		pfd.fd = rootfd;
		if (poll(&pfd, 1, 0) < 0 || (pfd.revents & POLLERR))
			_exit(12);
		own = open(MEMVIEW_DEVICE, O_RDONLY | O_NONBLOCK);
		if (own < 0)
			_exit(13);
		if (read(own, &ev, sizeof(ev)) != -1 || errno != EPERM)
			_exit(14);
		_exit(0);
	}
	st = mv_wait_child(pid, 30000);
	EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st))
		TH_LOG("child status %#x (11: reading root's descriptor as nobody failed; 14: nobody's own descriptor read)",
		       st);
	mv_chan_close(&c);
	close(rootfd);
}

/*
 * More tiered processes than pages_per_round: each still gets a PMD's
 * worth of scanning a round (pages_per_round / n would be 0, and no
 * process's scan would ever move on).
 */
TEST_F_TIMEOUT(host, many_processes_all_scanned, 600)
{
	enum { N = 600 };
	struct memview_policy p, saved;
	struct memview_stats s;
	static pid_t kids[N];
	int i, ret, scanned = 0;

	ASSERT_EQ(0, mv_get_policy(self->fd, &saved));
	memset(&p, 0, sizeof(p));
	p.valid = MEMVIEW_POLICY_PAGES_PER_ROUND;
	p.pages_per_round = 512;
	ASSERT_EQ(0, mv_set_policy(self->fd, &p));
	for (i = 0; i < N; i++) {
		fflush(NULL);
		kids[i] = fork();
		if (kids[i] < 0)
			break;
		if (!kids[i]) {
			pause();
			_exit(0);
		}
		ret = mv_attach_flags(self->fd, kids[i], MEMVIEW_ATTACH_AUTO, 0);
		if (ret) {
			mv_log("PROC_ATTACH of child %d: %s", i, strerror(-ret));
			break;
		}
	}
	EXPECT_EQ(N, i);
	if (i == N) {
		__u64 before[6] = { 0 };

		/* Scanned since all N are tiered, not while fewer were. */
		ASSERT_EQ(0, mv_wait_rounds(self->fd, 1, NULL));
		for (int j = 0; j < 6; j++)
			if (!mv_stats(self->fd, kids[j * (N / 6)], &s))
				before[j] = s.out_pages_scanned;
		ret = mv_wait_rounds(self->fd, 3, NULL);
		EXPECT_EQ(0, ret);
		for (int j = 0; j < 6; j++) {
			if (mv_stats(self->fd, kids[j * (N / 6)], &s))
				continue;
			scanned += s.out_pages_scanned > before[j];
		}
		mv_log("%d of 6 sampled processes scanned in 3 rounds, with %d tiered and pages_per_round 512",
		       scanned, N);
		EXPECT_EQ(6, scanned);
	}
	for (int j = 0; j < N && j <= i; j++)
		if (kids[j] > 0)
			kill(kids[j], SIGKILL);
	for (int j = 0; j < N && j <= i; j++)
		if (kids[j] > 0)
			waitpid(kids[j], NULL, 0);
	saved.flags = 0;
	saved.valid = MEMVIEW_POLICY_ALL;
	saved.__reserved = 0;
	EXPECT_EQ(0, mv_set_policy(self->fd, &saved));
}

TEST_HARNESS_MAIN
