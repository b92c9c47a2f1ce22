// SPDX-License-Identifier: GPL-2.0
/*
 * memview process management: PROC_ATTACH / PROC_DETACH / PROC_LIST, their
 * errnos, and who may manage whom (/dev/memview is 0666; attaching needs the
 * access move_pages(2) needs; region control needs CAP_SYS_ADMIN).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "memview_harness.h"

FIXTURE(perm) {
	struct mv_fixture f;
};

FIXTURE_VARIANT(perm) {
	const struct mv_target *target;
};

MV_TARGET_VARIANTS(perm);

FIXTURE_SETUP(perm)
{
	MV_FIXTURE_SETUP(&self->f, variant->target, true, false);
}

FIXTURE_TEARDOWN(perm)
{
	MV_FIXTURE_TEARDOWN(&self->f);
}

/*
 * The unprivileged child of unprivileged_attach: nothing on its root parent
 * (attached by the parent), everything on itself.
 */
static int unprivileged_child(pid_t parent)
{
	size_t len = MV_MIB;
	struct memview_residency r;
	struct memview_migrate m;
	int fd, ret, bad;
	char *buf;

	ret = mv_drop_privileges();
	if (ret || mv_cap_eff()) {
		mv_log("child: cannot drop privileges: %s", strerror(-ret));
		return 10;
	}
	fd = mv_open();
	if (fd < 0) {
		mv_log("child: open %s as uid %d: %s", MEMVIEW_DEVICE,
		       MV_NOBODY, strerror(-fd));
		return 11;
	}
	bad = mv_child_check("PROC_ATTACH root's process", -EPERM,
			   mv_attach(fd, parent, 0), 12);
	bad = bad ?: mv_child_check("PROC_DETACH root's process", -EPERM,
				  mv_detach(fd, parent), 13);
	bad = bad ?: mv_child_check("DEMOTE root's process", -EPERM,
				  mv_demote(fd, parent, (void *)MV_MIB, len, &m),
				  14);
	bad = bad ?: mv_child_check("PROMOTE root's process", -EPERM,
				  mv_promote(fd, parent, (void *)MV_MIB, len, 0,
					     0, &m), 15);
	bad = bad ?: mv_child_check("RESIDENCY root's process", -EPERM,
				  mv_residency(fd, parent, NULL, 0, &r, NULL, 0),
				  16);
	if (bad)
		return bad;

	/* Its own process: allowed. */
	bad = mv_child_check("PROC_ATTACH self", 0, mv_attach(fd, getpid(), 0), 20);
	bad = bad ?: mv_child_check("PROC_ATTACH self again", -EEXIST,
				  mv_attach(fd, getpid(), 0), 21);
	if (bad)
		return bad;
	buf = mv_map_anon(len, 0, false);
	if (!buf)
		return 22;
	mv_fill(buf, 0, len, MV_PAT_STAMP, getpid());
	ret = mv_demote(fd, getpid(), buf, len, &m);
	if (ret || m.out_moved != mv_pages(len)) {
		mv_log("child: DEMOTE self: %s", ret ? strerror(-ret) : "");
		mv_migrate_print("child: DEMOTE self", &m);
		return 23;
	}
	ret = mv_residency(fd, getpid(), buf, len, &r, NULL, 0);
	if (ret != -EMSGSIZE || r.out_slice_pages != mv_pages(len)) {
		mv_log("child: RESIDENCY self: %d, %llu slice pages", ret,
		       (unsigned long long)r.out_slice_pages);
		return 24;
	}
	ret = mv_promote(fd, getpid(), buf, len, 0, 0, &m);
	if (ret || m.out_moved != mv_pages(len)) {
		mv_migrate_print("child: PROMOTE self", &m);
		return 25;
	}
	if (mv_verify(buf, 0, len, MV_PAT_STAMP, getpid(), NULL))
		return 26;
	bad = mv_child_check("PROC_DETACH self", 0, mv_detach(fd, getpid()), 27);
	close(fd);
	return bad;
}

/*
 * An unprivileged process cannot attach (or detach, migrate, inspect) a
 * root process: EPERM; it can attach and migrate itself.
 */
TEST_F(perm, unprivileged_attach)
{
	int status;
	pid_t pid;

	MV_SETUP_SKIPPED();
	/* Attached, so that EPERM cannot be confused with ENOENT. */
	ASSERT_EQ(0, mv_attach(self->f.fd, self->f.pid, 0));
	self->f.attached = true;
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(unprivileged_child(getppid()));
	status = mv_wait_child(pid, 60000);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child failed at step %d",
						 WEXITSTATUS(status));
}

/* DEMOTE / PROMOTE of a process that is not attached: ENOENT. */
TEST_F(perm, demote_not_attached)
{
	struct memview_migrate m;
	char *buf;

	MV_SETUP_SKIPPED();
	buf = mv_map_anon(MV_MIB, 0, false);
	ASSERT_NE(NULL, buf);
	mv_touch_pages(buf, MV_MIB);
	EXPECT_EQ(-ENOENT, mv_demote(self->f.fd, self->f.pid, buf, MV_MIB, &m));
	EXPECT_EQ(-ENOENT, mv_promote(self->f.fd, self->f.pid, buf, MV_MIB, 0,
				      0, &m));
	mv_unmap_anon(buf, MV_MIB);
}

/* A pid that does not exist: ESRCH for attach, detach and migration. */
TEST_F(perm, attach_nonexistent)
{
	struct memview_migrate m;
	int status;
	pid_t pid;

	MV_SETUP_SKIPPED();
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	/* Reaped: the pid is free (reuse within the test is not expected). */
	ASSERT_EQ(-1, kill(pid, 0));
	EXPECT_EQ(-ESRCH, mv_attach(self->f.fd, pid, 0));
	EXPECT_EQ(-ESRCH, mv_detach(self->f.fd, pid));
	EXPECT_EQ(-ESRCH, mv_demote(self->f.fd, pid, (void *)MV_MIB, MV_MIB,
				    &m));
}

/* pid <= 0, a kernel thread, nonzero flags/reserved, short struct: EINVAL. */
TEST_F(perm, attach_bad_args)
{
	struct memview_proc_attach a;

	MV_SETUP_SKIPPED();
	EXPECT_EQ(-EINVAL, mv_attach(self->f.fd, 0, 0));
	EXPECT_EQ(-EINVAL, mv_attach(self->f.fd, -1, 0));
	EXPECT_EQ(-EINVAL, mv_attach(self->f.fd, 2, 0));	/* kthreadd */

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.pid = self->f.pid;
	a.flags = 1U << 30;	/* no such flag (31 is MEMVIEW_PIDFD) */
	EXPECT_EQ(-EINVAL, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_PROC_ATTACH, &a));
	a.flags = MEMVIEW_ATTACH_FOLLOW_CHILDREN;	/* needs AUTO */
	EXPECT_EQ(-EINVAL, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_PROC_ATTACH, &a));
	a.flags = 0;
	a.__reserved = 1;
	EXPECT_EQ(-EINVAL, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_PROC_ATTACH, &a));
	a.__reserved = 0;
	a.size = 8;
	EXPECT_EQ(-EINVAL, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_PROC_ATTACH, &a));
	/* None of these attached us. */
	EXPECT_EQ(-ENOENT, mv_detach(self->f.fd, self->f.pid));
}

/* PROC_DETACH of a live process that is not attached: ENOENT. */
TEST_F(perm, detach_not_attached)
{
	MV_SETUP_SKIPPED();
	EXPECT_EQ(-ENOENT, mv_detach(self->f.fd, self->f.pid));
	EXPECT_EQ(-ENOENT, mv_detach(self->f.fd, getppid()));
}

/* A second PROC_ATTACH of the same process: EEXIST; detach twice: ENOENT. */
TEST_F(perm, double_attach)
{
	MV_SETUP_SKIPPED();
	ASSERT_EQ(0, mv_attach(self->f.fd, self->f.pid, 0));
	EXPECT_EQ(-EEXIST, mv_attach(self->f.fd, self->f.pid, 0));
	EXPECT_EQ(-EEXIST, mv_attach(self->f.fd, self->f.pid, 64 * MV_MIB));
	EXPECT_EQ(0, mv_detach(self->f.fd, self->f.pid));
	EXPECT_EQ(-ENOENT, mv_detach(self->f.fd, self->f.pid));
}

/* PROC_LIST shows an attached process with its comm and budget. */
TEST_F(perm, proc_list)
{
	struct memview_proc_entry *p, found;
	struct memview_proc_list l;
	char comm[32] = "";
	__u32 n, i, hits = 0;
	FILE *f;

	MV_SETUP_SKIPPED();
	f = fopen("/proc/self/comm", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;

	ASSERT_EQ(0, mv_attach(self->f.fd, self->f.pid, 64 * MV_MIB));
	self->f.attached = true;
	ASSERT_EQ(0, mv_proc_list(self->f.fd, &p, &n));
	for (i = 0; i < n; i++) {
		if (p[i].pid == self->f.pid) {
			found = p[i];
			hits++;
		}
	}
	free(p);
	ASSERT_EQ(1U, hits);
	EXPECT_STREQ(comm, found.comm);
	EXPECT_EQ(64 * MV_MIB, found.dram_budget);
	EXPECT_EQ(0ULL, found.pages_demoted);
	EXPECT_EQ(0ULL, found.pages_promoted);

	memset(&l, 0, sizeof(l));
	l.size = sizeof(l);
	EXPECT_EQ(-EMSGSIZE, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_PROC_LIST, &l));
	EXPECT_EQ(n, l.num_procs);
	l.flags = 1;
	EXPECT_EQ(-EINVAL, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_PROC_LIST, &l));

	ASSERT_EQ(0, mv_detach(self->f.fd, self->f.pid));
	self->f.attached = false;
	ASSERT_EQ(0, mv_proc_list(self->f.fd, &p, &n));
	for (i = 0; i < n; i++)
		EXPECT_NE(self->f.pid, p[i].pid);
	free(p);
}

/*
 * The attachment is to the process, not its address space: it survives
 * execve() (what "memviewctl run" relies on) and ends when the process
 * exits.
 */
TEST_F(perm, attach_survives_exec)
{
	struct memview_proc_entry *p;
	struct memview_migrate m;
	struct mv_chan c;
	char msg, comm[32] = "";
	__u32 n, i, hits;
	int status, tries;
	pid_t pid;
	FILE *f;

	MV_SETUP_SKIPPED();
	ASSERT_EQ(0, mv_chan_open(&c));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		mv_chan_child(&c);
		if (mv_chan_recv(c.to_child[0], &msg, 30000))
			_exit(10);
		execlp("sleep", "sleep", "60", (char *)NULL);
		_exit(11);
	}
	mv_chan_parent(&c);
	ASSERT_EQ(0, mv_attach(self->f.fd, pid, 0));
	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'x'));
	/* Wait for the exec (the pipe's write end closes with O_CLOEXEC). */
	EXPECT_EQ(-EPIPE, mv_chan_recv(c.to_parent[0], &msg, 30000));
	for (tries = 0; tries < 100 && strcmp(comm, "sleep"); tries++) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		f = fopen(path, "r");
		ASSERT_NE(NULL, f);
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		comm[strcspn(comm, "\n")] = 0;
		usleep(10000);
	}
	ASSERT_STREQ("sleep", comm);

	ASSERT_EQ(0, mv_proc_list(self->f.fd, &p, &n));
	for (i = 0, hits = 0; i < n; i++) {
		if (p[i].pid != pid)
			continue;
		hits++;
		EXPECT_STREQ("sleep", p[i].comm);
	}
	free(p);
	EXPECT_EQ(1U, hits);
	/* Still managed: a migration is accepted (nothing is mapped there). */
	EXPECT_EQ(0, mv_demote(self->f.fd, pid, (void *)MV_MIB, MV_PAGE_SIZE, &m));

	kill(pid, SIGKILL);
	status = mv_wait_child(pid, 30000);
	EXPECT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(0, mv_proc_list(self->f.fd, &p, &n));
	for (i = 0; i < n; i++)
		EXPECT_NE(pid, p[i].pid);
	free(p);
	mv_chan_close(&c);
}

/*
 * Target of same_uid_dumpable: an unprivileged process that becomes
 * non-dumpable on 'n' and exits on 'q'.
 */
static int target_child(struct mv_chan *c)
{
	char msg;

	if (mv_drop_privileges())
		return 10;
	if (mv_chan_send(c->to_parent[1], 'r'))
		return 11;
	for (;;) {
		if (mv_chan_recv(c->to_child[0], &msg, 60000))
			return 12;
		if (msg == 'q')
			return 0;
		if (msg == 'n' && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
			return 13;
		if (mv_chan_send(c->to_parent[1], 'k'))
			return 14;
	}
}

/* Manager of same_uid_dumpable: attach @target as another unprivileged uid. */
static int manager_child(pid_t target, int want)
{
	int fd, ret;

	if (mv_drop_privileges())
		return 20;
	fd = mv_open();
	if (fd < 0)
		return 21;
	ret = mv_attach(fd, target, 0);
	if (ret != want) {
		mv_log("child: PROC_ATTACH %d: %s, expected %s", target,
		       ret ? strerror(-ret) : "success",
		       want ? strerror(-want) : "success");
		return 22;
	}
	if (!ret && mv_detach(fd, target))
		return 23;
	return 0;
}

static int run_manager(struct __test_metadata *_metadata, pid_t target,
		       int want)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(manager_child(target, want));
	return mv_wait_child(pid, 30000);
}

/*
 * An unprivileged process may attach another process of the same uid and
 * gid, unless that one is not dumpable (then only CAP_SYS_PTRACE may).
 */
TEST_F(perm, same_uid_dumpable)
{
	struct mv_chan c;
	int status;
	char msg;
	pid_t target;

	MV_SETUP_SKIPPED();
	ASSERT_EQ(0, mv_chan_open(&c));
	fflush(NULL);
	target = fork();
	ASSERT_LE(0, target);
	if (!target) {
		mv_chan_child(&c);
		_exit(target_child(&c));
	}
	mv_chan_parent(&c);
	ASSERT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, 30000));

	EXPECT_EQ(0, run_manager(_metadata, target, 0))
		TH_LOG("same uid, dumpable: attach must succeed");
	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'n'));
	ASSERT_EQ(0, mv_chan_recv(c.to_parent[0], &msg, 30000));
	EXPECT_EQ(0, run_manager(_metadata, target, -EPERM))
		TH_LOG("same uid, not dumpable: attach must give EPERM");
	/* root (CAP_SYS_PTRACE) still may */
	EXPECT_EQ(0, mv_attach(self->f.fd, target, 0));
	EXPECT_EQ(0, mv_detach(self->f.fd, target));

	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'q'));
	status = mv_wait_child(target, 30000);
	EXPECT_EQ(0, status);
	mv_chan_close(&c);
}

/*
 * A managed process that has exited but is not reaped yet (a zombie) has no
 * address space: DEMOTE and RESIDENCY give ESRCH; once reaped it is gone
 * from PROC_LIST.
 */
TEST_F(perm, zombie)
{
	struct memview_proc_entry *p;
	struct memview_residency r;
	struct memview_migrate m;
	struct mv_chan c;
	siginfo_t si;
	__u32 n, i;
	char msg;
	pid_t pid;

	MV_SETUP_SKIPPED();
	ASSERT_EQ(0, mv_chan_open(&c));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		mv_chan_child(&c);
		mv_chan_recv(c.to_child[0], &msg, 30000);
		_exit(0);
	}
	mv_chan_parent(&c);
	ASSERT_EQ(0, mv_attach(self->f.fd, pid, 0));
	ASSERT_EQ(0, mv_chan_send(c.to_child[1], 'q'));
	/* Wait for the exit without reaping. */
	memset(&si, 0, sizeof(si));
	ASSERT_EQ(0, waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	ASSERT_EQ(pid, si.si_pid);

	EXPECT_EQ(-ESRCH, mv_demote(self->f.fd, pid, (void *)MV_MIB,
				    MV_PAGE_SIZE, &m));
	EXPECT_EQ(-ESRCH, mv_residency(self->f.fd, pid, NULL, 0, &r, NULL, 0));

	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	ASSERT_EQ(0, mv_proc_list(self->f.fd, &p, &n));
	for (i = 0; i < n; i++)
		EXPECT_NE(pid, p[i].pid);
	free(p);
	mv_chan_close(&c);
}

static int pidfd_open_(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

/*
 * A pidfd instead of a pid (MEMVIEW_PIDFD): attach, demote, residency,
 * stats and detach work through it; something that is not a pidfd is
 * EBADF; the pidfd of a process that is gone is ESRCH, never some other
 * process that got its pid.
 */
TEST_F(perm, pidfd)
{
	struct memview_proc_attach a;
	struct memview_proc_detach d;
	struct memview_residency r;
	struct memview_migrate m;
	struct memview_stats st;
	int pfd, nfd, cfd;
	size_t len = MV_MIB;
	char *buf;
	pid_t pid;

	MV_SETUP_SKIPPED();
	ASSERT_TRUE(!!(self->f.info.out_features & MEMVIEW_FEATURE_PIDFD));
	pfd = pidfd_open_(getpid());
	ASSERT_LE(0, pfd);

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.flags = MEMVIEW_PIDFD;
	a.pid = pfd;
	ASSERT_EQ(0, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_PROC_ATTACH, &a));
	EXPECT_EQ(-EEXIST, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_PROC_ATTACH, &a));

	buf = mv_map_anon(len, 0, false);
	ASSERT_NE(NULL, buf);
	mv_touch_pages(buf, len);
	mv_migrate_init(&m, pfd, buf, len, MEMVIEW_PIDFD, 0);
	ASSERT_EQ(0, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_DEMOTE, &m));
	EXPECT_EQ(len / MV_PAGE_SIZE, m.out_moved);

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.flags = MEMVIEW_PIDFD;
	r.pid = pfd;
	r.addr = (uintptr_t)buf;
	r.length = len;
	/* No room for per-slice entries: EMSGSIZE, the totals are written. */
	ASSERT_EQ(-EMSGSIZE, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_RESIDENCY, &r));
	EXPECT_EQ(len / MV_PAGE_SIZE, r.out_slice_pages);

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	st.flags = MEMVIEW_PIDFD;
	st.pid = pfd;
	EXPECT_EQ(0, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_STATS, &st));

	mv_migrate_init(&m, pfd, buf, len, MEMVIEW_PIDFD, 0);
	ASSERT_EQ(0, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_PROMOTE, &m));
	EXPECT_EQ(len / MV_PAGE_SIZE, m.out_moved);

	memset(&d, 0, sizeof(d));
	d.size = sizeof(d);
	d.flags = MEMVIEW_PIDFD;
	d.pid = pfd;
	EXPECT_EQ(0, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_PROC_DETACH, &d));
	EXPECT_EQ(-ENOENT, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_PROC_DETACH, &d));

	/* Not a pidfd. */
	a.pid = -1;
	EXPECT_EQ(-EBADF, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_PROC_ATTACH, &a));
	nfd = open("/dev/null", O_RDONLY);
	ASSERT_LE(0, nfd);
	a.pid = nfd;
	EXPECT_EQ(-EBADF, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_PROC_ATTACH, &a));
	a.pid = self->f.fd;	/* /dev/memview itself */
	EXPECT_EQ(-EBADF, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_PROC_ATTACH, &a));
	close(nfd);

	/* A process that exited and was reaped: its pidfd names nobody. */
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(0);
	cfd = pidfd_open_(pid);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	a.pid = cfd;
	EXPECT_EQ(-ESRCH, mv_ioctl(self->f.fd, MEMVIEW_IOCTL_PROC_ATTACH, &a));
	close(cfd);

	mv_unmap_anon(buf, len);
	close(pfd);
}

TEST_HARNESS_MAIN
