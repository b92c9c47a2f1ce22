// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_test: a seeded, reproducible ioctl fuzzer for /dev/memview.
 *
 * Every call uses a valid command number (plus a few invalid ones) with
 * random or boundary field values: struct sizes, flags, reserved fields,
 * addresses, lengths that wrap, pids that do not exist or just exited,
 * pidfds (MEMVIEW_PIDFD) of its victims, of an exited process and fds that
 * are not pidfds, regions and slices that do not exist, bad user pointers.  Valid calls are
 * interleaved, so the fuzzed ones meet attached processes, demoted pages,
 * fenced and poisoned slices.  A child that has dropped every privilege
 * fuzzes in parallel with its own seed.
 *
 * Every failed call must return an errno of the command's documented set
 * (Documentation/uapi.rst, table below); anything else fails the run with
 * the seed, the call number and the struct printed.  Privileged commands
 * must never succeed for the unprivileged child.  At the end the fuzzer's
 * victims are killed, its regions must empty and be removable, the module's
 * reference count must be back where it was, and the policy is restored.
 *
 * Data-destroying calls (REGION_REMOVE, SLICE_FENCE, ERROR_INJECT,
 * ERROR_REPORT) only ever name the fuzzer's own regions and slices, or ids
 * and addresses that belong to no region that existed before it started.
 *
 * usage: fuzz_test [--iter N] [--seed S] [--unpriv-iter N] [-v]
 * Defaults come from MEMVIEW_FUZZ_ITER (3000), MEMVIEW_FUZZ_SEED (time),
 * MEMVIEW_FUZZ_UNPRIV_ITER (iter / 2).  The range used is
 * MEMVIEW_PMEM_RANGE, else MEMVIEW_CXL_RANGE (RAM-backed PMEM is faster
 * under TCG).  Output is TAP: "1..2", one line for the root fuzzer and one
 * for the unprivileged child, then the call count and errno histogram.
 * MEMVIEW_FAULT_INJECT=<percent> turns on failslab/fail_page_alloc for the
 * fuzzing thread on a kernel that has them (the debug kernel).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "memview_test.h"

#define NCMD		(MEMVIEW_CMD_ERROR_INJECT - MEMVIEW_CMD_BASE + 1)
#define NBAD		NCMD		/* index of "invalid command number" */
#define MAXERR		140
#define ARENA		(64 * 1024)
#define NVICTIMS	3
#define VICTIM_LEN	(4 * MV_MIB)
#define MAX_OWN		16
#define SLOW_CALL_S	30
#define CANARY_LEN	(4 * MV_MIB)
#define VICTIM_ADDR	((void *)0x5f0000000000UL)

struct cmd {
	const char *name;
	unsigned long nr;
	unsigned int size;
	bool priv;			/* needs CAP_SYS_ADMIN */
	int allowed[12];		/* besides the common ones; 0 ends */
};

/* Errors common to every command (uapi.rst, "Conventions"). */
static const int common_errs[] = { EFAULT, EINVAL, E2BIG, ENOMEM, ENOTTY, 0 };

#define C(n) MEMVIEW_IOCTL_##n
static const struct cmd cmds[NCMD] = {
	{ "GET_INFO", C(GET_INFO), sizeof(struct memview_info), false, { 0 } },
	{ "REGION_ADD", C(REGION_ADD), sizeof(struct memview_region_add), true,
	  { EPERM, EOVERFLOW, ERANGE, EEXIST, ENOSPC, EADDRNOTAVAIL, ENXIO,
	    EBUSY, 0 } },
	{ "REGION_REMOVE", C(REGION_REMOVE), sizeof(struct memview_region_remove),
	  true, { EPERM, ENOENT, EBUSY, EINTR, EHWPOISON, 0 } },
	{ "REGION_LIST", C(REGION_LIST), sizeof(struct memview_region_list),
	  false, { EMSGSIZE, 0 } },
	{ "SLICE_LIST", C(SLICE_LIST), sizeof(struct memview_slice_list), false,
	  { ENOENT, EMSGSIZE, 0 } },
	{ "PROC_ATTACH", C(PROC_ATTACH), sizeof(struct memview_proc_attach),
	  false, { ESRCH, EPERM, EEXIST, ENOSPC, EBADF, 0 } },
	{ "PROC_DETACH", C(PROC_DETACH), sizeof(struct memview_proc_detach),
	  false, { ESRCH, EPERM, ENOENT, EBADF, 0 } },
	{ "PROC_LIST", C(PROC_LIST), sizeof(struct memview_proc_list), false,
	  { EMSGSIZE, 0 } },
	{ "DEMOTE", C(DEMOTE), sizeof(struct memview_migrate), false,
	  { EOVERFLOW, ESRCH, EPERM, ENOENT, EINTR, EBADF, 0 } },
	{ "PROMOTE", C(PROMOTE), sizeof(struct memview_migrate), false,
	  { EOVERFLOW, ESRCH, EPERM, ENOENT, EINTR, EBADF, 0 } },
	{ "RESIDENCY", C(RESIDENCY), sizeof(struct memview_residency), false,
	  { EOVERFLOW, ESRCH, EPERM, EINTR, EMSGSIZE, EBADF, 0 } },
	{ "SET_POLICY", C(SET_POLICY), sizeof(struct memview_policy), true,
	  { EPERM, 0 } },
	{ "GET_POLICY", C(GET_POLICY), sizeof(struct memview_policy), false,
	  { 0 } },
	{ "STATS", C(STATS), sizeof(struct memview_stats), false,
	  { ESRCH, EPERM, ENOENT, EBADF, 0 } },
	{ "SLICE_FENCE", C(SLICE_FENCE), sizeof(struct memview_slice_fence),
	  true, { EPERM, ENOENT, EBUSY, EINTR, 0 } },
	{ "SLICE_UNFENCE", C(SLICE_UNFENCE), sizeof(struct memview_slice_fence),
	  true, { EPERM, ENOENT, EHWPOISON, EBUSY, ENODEV, 0 } },
	{ "ERROR_REPORT", C(ERROR_REPORT), sizeof(struct memview_error), true,
	  { EPERM, EOVERFLOW, ENOENT, 0 } },
	{ "ERROR_INJECT", C(ERROR_INJECT), sizeof(struct memview_error), true,
	  { EPERM, EOVERFLOW, ENOENT, 0 } },
};

/* Results, in a shared mapping so the unprivileged child's come back. */
struct results {
	unsigned long long calls[NCMD + 1];
	unsigned long long hist[NCMD + 1][MAXERR + 1];	/* [0] = success */
	unsigned long long valid_calls;
	unsigned long long failures;
};

struct fuzz {
	const char *who;
	bool priv;
	int fd;
	__u64 seed, rng;
	unsigned long iter, n;
	struct results *res;
	unsigned char *arena;		/* ARENA bytes, then a PROT_NONE page */
	/*
	 * ro: a page that is never writable (an array pointer the kernel
	 * must fail to write); rs: a page made read-only around a call with
	 * the struct in it.  Each is followed by a PROT_NONE guard page, so
	 * a kernel write running past them faults instead of landing in
	 * whatever mapping happens to be next.
	 */
	unsigned char *ro, *rs;
	unsigned char *list;		/* list arrays */
	/* the fuzzer's own things */
	struct mv_range range;
	__u32 own_regions[MAX_OWN];
	int nown;
	/* what existed before: never touched by destructive calls */
	__u32 foreign_regions[64], foreign_slices[512];
	int nforeign_r, nforeign_s;
	struct { __u64 start, len; } foreign_ranges[64];
	pid_t victims[NVICTIMS];
	int vpidfd[NVICTIMS];		/* pidfds of the victims (-1: none) */
	int gone_pidfd;			/* a pidfd of a process that exited */
	char *victim_buf;
	pid_t gone_pid;			/* a pid that just exited */
	__u64 ram_addr, ecam_addr;
	bool verbose;
	bool fault_inject;
	bool no_ue;			/* MEMVIEW_FUZZ_NO_UE: no uncorrectable errors */
	bool no_self_attach;		/* MEMVIEW_FUZZ_NO_SELF_ATTACH (unpriv) */
};

static volatile sig_atomic_t alarmed;

static void on_alarm(int sig)
{
	(void)sig;
	alarmed = 1;
}

static __u64 rnd(struct fuzz *f)
{
	__u64 z = (f->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u64 below(struct fuzz *f, __u64 n)
{
	return n ? rnd(f) % n : 0;
}

static bool chance(struct fuzz *f, int pct)
{
	return below(f, 100) < (__u64)pct;
}

/* A boundary or random 64-bit value. */
static __u64 any64(struct fuzz *f)
{
	static const __u64 b[] = {
		0, 1, 2, 7, 8, 4095, 4096, 4097, 0x1fffff, 0x200000, 0x200001,
		0x10000000, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
		0x7ffffffff000ULL, 0x800000000000ULL, 0xfffffffffffff000ULL,
		0x8000000000000000ULL, 0x7fffffffffffffffULL, ~0ULL, ~0ULL - 4095,
	};

	switch (below(f, 4)) {
	case 0:
		return b[below(f, sizeof(b) / sizeof(b[0]))];
	case 1:
		return rnd(f) & ~4095ULL;
	case 2:
		return below(f, 1 << 20);
	default:
		return rnd(f);
	}
}

static __u32 any32(struct fuzz *f)
{
	static const __u32 b[] = { 0, 1, 2, 3, 4, 5, 6, 0x10, 0x80, 0xff,
				   0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe };

	return chance(f, 50) ? b[below(f, sizeof(b) / sizeof(b[0]))] :
	       (__u32)rnd(f);
}

/* Flags: mostly the valid bits, sometimes one more, sometimes random. */
static __u32 flags(struct fuzz *f, __u32 valid)
{
	switch (below(f, 6)) {
	case 0:
		return 0;
	case 1:
		return 1U << below(f, 32);
	case 2:
		return any32(f);
	default:
		return (__u32)rnd(f) & valid;
	}
}

/* Reserved fields: zero most of the time. */
static __u32 rsv(struct fuzz *f)
{
	return chance(f, 90) ? 0 : any32(f);
}

static pid_t any_pid(struct fuzz *f)
{
	switch (below(f, 10)) {
	case 0:
	case 1:
	case 2:
	case 3:
		return f->priv ? f->victims[below(f, NVICTIMS)] : getpid();
	case 4:
		return f->priv ? getpid() : f->victims[below(f, NVICTIMS)];
	case 5:
		return f->gone_pid;
	case 6:
		return (pid_t)any32(f);
	case 7:
		return 2;		/* kthreadd: a kernel thread */
	case 8:
		return 0x3ffffff;	/* above any pid_max */
	default:
		return -(pid_t)below(f, 3);
	}
}

/* With MEMVIEW_PIDFD: a pidfd of ours, of an exited process, or not one. */
static __s32 any_pidfd(struct fuzz *f)
{
	switch (below(f, 8)) {
	case 0:
	case 1:
	case 2:
		return f->vpidfd[below(f, NVICTIMS)];
	case 3:
		return f->gone_pidfd;
	case 4:
		return f->fd;			/* not a pidfd: /dev/memview */
	case 5:
		return -1;
	case 6:
		return (__s32)below(f, 64);	/* whatever that fd is */
	default:
		return (__s32)any32(f);
	}
}

/* Process commands: sometimes MEMVIEW_PIDFD, then a pidfd in @pid. */
static void maybe_pidfd(struct fuzz *f, __u32 *flags, __s32 *pid)
{
	if (chance(f, 25)) {
		*flags |= MEMVIEW_PIDFD;
		*pid = any_pidfd(f);
	}
}

/* A user pointer for a list array. */
static __u64 any_ptr(struct fuzz *f)
{
	switch (below(f, 8)) {
	case 0:
		return 0;
	case 1:
		return (uintptr_t)f->ro;
	case 2:
		return 0xffff888000000000ULL;	/* kernel direct map */
	case 3:
		return (uintptr_t)f->list + 1 + below(f, 7);
	case 4:
		return any64(f);
	default:
		return (uintptr_t)f->list;
	}
}

static bool is_foreign_region(struct fuzz *f, __u32 id)
{
	for (int i = 0; i < f->nforeign_r; i++)
		if (f->foreign_regions[i] == id)
			return true;
	return false;
}

static bool is_foreign_slice(struct fuzz *f, __u32 id)
{
	for (int i = 0; i < f->nforeign_s; i++)
		if (f->foreign_slices[i] == id)
			return true;
	return false;
}

static bool is_foreign_addr(struct fuzz *f, __u64 a, __u64 len)
{
	for (int i = 0; i < f->nforeign_r; i++)
		if (a < f->foreign_ranges[i].start + f->foreign_ranges[i].len &&
		    a + (len ? len : 1) > f->foreign_ranges[i].start)
			return true;
	return false;
}

static __u32 any_region(struct fuzz *f)
{
	__u32 id;

	if (f->nown && chance(f, 60))
		return f->own_regions[below(f, f->nown)];
	id = chance(f, 50) ? (__u32)below(f, 70) : any32(f);
	return is_foreign_region(f, id) ? 0xfffffff0 : id;
}

/* One of our slices (from SLICE_LIST of our regions) or a random id. */
static __u32 any_slice(struct fuzz *f)
{
	struct memview_slice_entry *s;
	__u32 n, id = 0xfffffff1;

	if (chance(f, 70) && f->nown) {
		__u32 r = f->own_regions[below(f, f->nown)];

		if (!mv_slice_list(f->fd, MEMVIEW_SLICE_LIST_REGION, r, &s, &n)) {
			if (n)
				id = s[below(f, n)].id;
			free(s);
		}
		return id;
	}
	id = chance(f, 50) ? (__u32)below(f, 300) : any32(f);
	return is_foreign_slice(f, id) ? 0xfffffff1 : id;
}

static __u64 any_phys(struct fuzz *f)
{
	switch (below(f, 8)) {
	case 0:
	case 1:
	case 2:
		return f->range.start + (below(f, f->range.size / MV_ALIGN + 2) * MV_ALIGN);
	case 3:
		return f->range.start + below(f, f->range.size);
	case 4:
		return f->ram_addr;
	case 5:
		return f->ecam_addr;
	default:
		return any64(f);
	}
}

static __u64 any_len(struct fuzz *f)
{
	static const __u64 l[] = { 0, MV_ALIGN, MV_SLICE_SIZE - MV_ALIGN,
				   MV_SLICE_SIZE, MV_SLICE_SIZE + MV_ALIGN,
				   2 * MV_SLICE_SIZE, ~0ULL - MV_ALIGN + 1 };

	if (chance(f, 30))
		return f->range.size;
	return chance(f, 70) ? l[below(f, sizeof(l) / sizeof(l[0]))] : any64(f);
}

/* A virtual range: mostly the victims' buffer, sometimes wild. */
static void any_vrange(struct fuzz *f, __u64 *addr, __u64 *len)
{
	__u64 base = (uintptr_t)f->victim_buf;

	switch (below(f, 6)) {
	case 0:
	case 1:
	case 2:
		*addr = base + below(f, VICTIM_LEN / 4096) * 4096;
		*len = (1 + below(f, VICTIM_LEN / 4096)) * 4096;
		return;
	case 3:
		*addr = base + below(f, VICTIM_LEN);
		*len = below(f, VICTIM_LEN + 8192);
		return;
	case 4:
		*addr = 0;
		*len = chance(f, 50) ? 0 : 0x800000000000ULL;
		return;
	default:
		*addr = any64(f);
		*len = any64(f);
	}
}

static void dump(const void *p, size_t n)
{
	const unsigned char *b = p;
	char line[128];
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		o += snprintf(line + o, sizeof(line) - o, "%02x", b[i]);
		if (i % 32 == 31 || i == n - 1) {
			mv_log("    %s", line);
			o = 0;
		} else if (i % 8 == 7) {
			line[o++] = ' ';
			line[o] = 0;
		}
	}
}

static const char *errname(int e)
{
	const char *n = e ? strerrorname_np(e) : "ok";

	return n ? n : "?";
}

/*
 * An unprivileged caller may act on its own process only: success on a
 * victim (root's) or on pid 1 is a permission bug.
 */
static void check_unpriv_success(struct fuzz *f, int ci, const void *k, int ret)
{
	pid_t pid;
	int i;

	if (f->priv || ret)
		return;
	switch (ci + MEMVIEW_CMD_BASE) {
	case MEMVIEW_CMD_PROC_ATTACH:
	case MEMVIEW_CMD_PROC_DETACH:
	case MEMVIEW_CMD_STATS:
		pid = ((const struct memview_proc_detach *)k)->pid;
		break;
	case MEMVIEW_CMD_DEMOTE:
	case MEMVIEW_CMD_PROMOTE:
		pid = ((const struct memview_migrate *)k)->pid;
		break;
	case MEMVIEW_CMD_RESIDENCY:
		pid = ((const struct memview_residency *)k)->pid;
		break;
	default:
		return;
	}
	if (((const struct memview_proc_detach *)k)->flags & MEMVIEW_PIDFD) {
		for (i = 0; i < NVICTIMS; i++)
			if (pid >= 0 && pid == f->vpidfd[i])
				break;
		if (i == NVICTIMS)
			return;	/* another fd: not a pidfd of root's */
		goto bad;
	}
	for (i = 0; i < NVICTIMS; i++)
		if (pid == f->victims[i] || pid == 1)
			break;
	if (i == NVICTIMS && pid != 1)
		return;
bad:
	f->res->failures++;
	mv_log("%s FAIL: seed %#llx call %lu: %s on root's pid %d succeeded",
	       f->who, (unsigned long long)f->seed, f->n, cmds[ci].name, pid);
}

static bool allowed(int ci, int err)
{
	int i;

	for (i = 0; common_errs[i]; i++)
		if (common_errs[i] == err)
			return true;
	if (ci == NBAD)
		return false;
	for (i = 0; cmds[ci].allowed[i]; i++)
		if (cmds[ci].allowed[i] == err)
			return true;
	return false;
}

/*
 * Issue one call; check the errno against the table.  @arg points into the
 * arena (or is a bad pointer); @show/@len is what to dump on a failure.
 */
static int last_ci, last_ret;
static unsigned long last_nr;
static unsigned char last_struct[512];
static size_t last_len;

static int call(struct fuzz *f, int ci, unsigned long nr, void *arg,
		const void *show, size_t len, bool fuzzed)
{
	struct timespec t0, t1;
	unsigned char copy[512];
	int ret, err;

	if (show && len)
		memcpy(copy, show, len < sizeof(copy) ? len : sizeof(copy));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	alarmed = 0;
	alarm(SLOW_CALL_S);
	if (f->fault_inject && fuzzed)
		mv_fault_inject_thread(true);
	ret = ioctl(f->fd, nr, arg);
	err = ret < 0 ? errno : 0;
	if (f->fault_inject && fuzzed)
		mv_fault_inject_thread(false);
	alarm(0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	f->res->calls[ci]++;
	last_ci = ci;
	last_nr = nr;
	last_ret = ret < 0 ? -err : ret;
	last_len = show && len ? (len < sizeof(last_struct) ? len : sizeof(last_struct)) : 0;
	if (last_len)
		memcpy(last_struct, copy, last_len);
	f->res->hist[ci][err > MAXERR ? MAXERR : err]++;
	if (!fuzzed)
		f->res->valid_calls++;
	if (ret > 0 || (ret < 0 && !allowed(ci, err)) ||
	    (ret == 0 && !f->priv && ci != NBAD && cmds[ci].priv) ||
	    t1.tv_sec - t0.tv_sec >= SLOW_CALL_S || alarmed) {
		f->res->failures++;
		mv_log("%s FAIL: seed %#llx call %lu: %s (nr %#lx) returned %d (%s)%s",
		       f->who, (unsigned long long)f->seed, f->n,
		       ci == NBAD ? "invalid" : cmds[ci].name, nr, ret,
		       ret < 0 ? strerror(err) : "success",
		       alarmed ? ", took 30 s or more" : "");
		if (show && len) {
			mv_log("  struct as passed (%zu bytes):", len);
			dump(copy, len < sizeof(copy) ? len : sizeof(copy));
		}
	} else if (f->verbose) {
		mv_log("%s %lu %s -> %s", f->who, f->n,
		       ci == NBAD ? "invalid" : cmds[ci].name,
		       ret < 0 ? strerror(err) : "ok");
	}
	return ret < 0 ? -err : ret;
}

/*
 * Where the struct goes in the (zeroed) arena, and its size field: short,
 * exact, longer with a zero or a dirty tail, huge, or running into the
 * guard page.  *copy gets how many bytes of the struct fit there.
 */
static unsigned char *place(struct fuzz *f, size_t ksize, size_t *size,
			    size_t *copy)
{
	size_t room;

	*copy = ksize;
	switch (below(f, 14)) {
	case 0:
		*size = below(f, ksize);			/* short */
		break;
	case 1:
		*size = ksize + 8 * (1 + below(f, 8));	/* zero tail */
		break;
	case 2:
		*size = ksize + 8 * (1 + below(f, 8));	/* dirty tail */
		f->arena[ARENA - 1 - below(f, *size - ksize)] =
			(unsigned char)(1 + below(f, 255));
		return f->arena + ARENA - *size;
	case 3:
		*size = chance(f, 50) ? ARENA + 4096 : any32(f);
		return f->arena;
	case 4:
		*size = ksize;					/* into the guard */
		*copy = ksize - 8;
		return f->arena + ARENA - *copy;
	default:
		*size = ksize;
	}
	room = *size > ksize ? *size : ksize;
	return f->arena + ARENA - room;
}

/* REGION_ADD's bad_ranges point here (or anywhere). */
#define FUZZ_BAD_RANGES	8
static struct memview_bad_range fuzz_bad[FUZZ_BAD_RANGES];

/*
 * Build a struct for command @ci in @k (ksize bytes, zeroed by the caller):
 * random and boundary field values.
 */
static void build(struct fuzz *f, int ci, void *k)
{
	switch (ci + MEMVIEW_CMD_BASE) {
	case MEMVIEW_CMD_GET_INFO: {
		struct memview_info *s = k;

		s->flags = flags(f, 0);
		s->__reserved = rsv(f);
		if (chance(f, 10))
			s->out_api_version = any32(f);	/* out: ignored */
		break;
	}
	case MEMVIEW_CMD_REGION_ADD: {
		struct memview_region_add *s = k;
		size_t i, n;

		s->flags = flags(f, 0);
		s->phys_addr = any_phys(f);
		s->length = any_len(f);
		s->kind = chance(f, 80) ? (__u32)below(f, 3) : any32(f);
		s->__reserved = rsv(f);
		n = chance(f, 90) ? below(f, MEMVIEW_LABEL_LEN) : MEMVIEW_LABEL_LEN;
		/* Mostly printable (the rest is EINVAL: a log line). */
		for (i = 0; i < n; i++)
			s->label[i] = chance(f, 95) ? (char)(0x20 + below(f, 0x5f)) :
				      (char)(1 + below(f, 255));
		if (chance(f, 5))
			s->__reserved2 = any32(f);
		if (chance(f, 5))
			s->out_region_id = any32(f);
		/* Bad ranges: mostly inside the range, a few anywhere. */
		if (chance(f, 20)) {
			n = below(f, FUZZ_BAD_RANGES + 1);
			for (i = 0; i < n; i++) {
				fuzz_bad[i].phys_addr = chance(f, 70) ?
					s->phys_addr + below(f, s->length ? : 1) :
					any64(f);
				fuzz_bad[i].length = chance(f, 80) ?
					below(f, 1 << 20) : any64(f);
			}
			s->bad_ranges = chance(f, 90) ? (__u64)(uintptr_t)fuzz_bad :
					any64(f);
			s->nr_bad_ranges = chance(f, 90) ? (__u32)n : any32(f);
		} else if (chance(f, 5)) {
			s->bad_ranges = any64(f);
		}
		if (chance(f, 5))
			s->__reserved3 = any32(f);
		if (chance(f, 5))
			s->out_bad_pages = any64(f);
		break;
	}
	case MEMVIEW_CMD_REGION_REMOVE: {
		struct memview_region_remove *s = k;

		/*
		 * Always FORGET_BAD: the bad ranges fuzzed into our regions
		 * must not retire pages of the tests that run after us.
		 */
		s->flags = flags(f, MEMVIEW_REGION_REMOVE_EVACUATE) |
			   MEMVIEW_REGION_REMOVE_FORGET_BAD;
		s->region_id = any_region(f);
		s->__reserved = rsv(f);
		break;
	}
	case MEMVIEW_CMD_REGION_LIST:
	case MEMVIEW_CMD_PROC_LIST: {
		struct memview_region_list *s = k;	/* same layout */

		s->flags = flags(f, 0);
		s->num_regions = chance(f, 70) ? (__u32)below(f, 8) : any32(f);
		s->__reserved = rsv(f);
		s->regions = any_ptr(f);
		break;
	}
	case MEMVIEW_CMD_SLICE_LIST: {
		struct memview_slice_list *s = k;

		s->flags = flags(f, MEMVIEW_SLICE_LIST_REGION);
		s->num_slices = chance(f, 70) ? (__u32)below(f, 8) : any32(f);
		s->region_id = chance(f, 50) ? any_region(f) : 0;
		s->slices = any_ptr(f);
		s->entry_size = chance(f, 60) ? (__u32)sizeof(struct memview_slice_entry) :
				chance(f, 50) ? (__u32)(8 * below(f, 520)) : any32(f);
		s->__reserved = rsv(f);
		break;
	}
	case MEMVIEW_CMD_PROC_ATTACH: {
		struct memview_proc_attach *s = k;

		s->flags = flags(f, MEMVIEW_ATTACH_AUTO | MEMVIEW_ATTACH_FOLLOW_CHILDREN);
		s->pid = any_pid(f);
		maybe_pidfd(f, &s->flags, &s->pid);
		s->__reserved = rsv(f);
		s->dram_budget = chance(f, 50) ? below(f, 8) * MV_MIB : any64(f);
		break;
	}
	case MEMVIEW_CMD_PROC_DETACH: {
		struct memview_proc_detach *s = k;

		s->flags = flags(f, 0);
		s->pid = any_pid(f);
		maybe_pidfd(f, &s->flags, &s->pid);
		s->__reserved = rsv(f);
		break;
	}
	case MEMVIEW_CMD_DEMOTE:
	case MEMVIEW_CMD_PROMOTE: {
		struct memview_migrate *s = k;

		s->flags = flags(f, MEMVIEW_MIGRATE_NODE |
				    MEMVIEW_MIGRATE_MOVE_ALL);
		s->pid = any_pid(f);
		maybe_pidfd(f, &s->flags, &s->pid);
		s->node = chance(f, 70) ? 0 : chance(f, 50) ? (__s32)below(f, 4) :
			  (__s32)any32(f);
		any_vrange(f, &s->addr, &s->length);
		if (chance(f, 5))
			s->out_moved = any64(f);	/* out: ignored */
		break;
	}
	case MEMVIEW_CMD_RESIDENCY: {
		struct memview_residency *s = k;

		s->flags = flags(f, 0);
		s->pid = chance(f, 20) ? 1 : any_pid(f);
		maybe_pidfd(f, &s->flags, &s->pid);
		s->num_slices = chance(f, 70) ? (__u32)below(f, 8) : any32(f);
		any_vrange(f, &s->addr, &s->length);
		s->slices = any_ptr(f);
		break;
	}
	case MEMVIEW_CMD_SET_POLICY:
	case MEMVIEW_CMD_GET_POLICY: {
		struct memview_policy *s = k;
		__u32 *w = &s->scan_interval_ms;
		int i;

		s->flags = flags(f, 0);
		s->valid = chance(f, 10) ? any32(f) : (__u32)rnd(f) & MEMVIEW_POLICY_ALL;
		/*
		 * Valid-ish values; but a scan_interval at its minimum with the
		 * most pages per round would eat the TCG guest: keep the
		 * placer's load bounded.
		 */
		for (i = 0; i < 13; i++)
			w[i] = chance(f, 60) ? (__u32)(1 + below(f, 64)) : any32(f);
		s->scan_interval_ms = chance(f, 80) ? (__u32)(100 + below(f, 2000)) :
				      any32(f);
		s->pages_per_round = chance(f, 80) ? (__u32)(512 + below(f, 8192)) :
				     any32(f);
		s->max_scan_us = chance(f, 80) ? (__u32)(100 + below(f, 5000)) : any32(f);
		s->out_fault_sampler = chance(f, 90) ? 0 : any32(f);
		s->__reserved = rsv(f);
		s->ce_threshold = chance(f, 80) ? (__u32)(1 + below(f, 100)) : any32(f);
		s->ce_window_ms = chance(f, 80) ? (__u32)(100 + below(f, 100000)) :
				  any32(f);
		s->ras_flags = chance(f, 80) ? (__u32)below(f, 4) : any32(f);
		s->__reserved2 = rsv(f);
		break;
	}
	case MEMVIEW_CMD_STATS: {
		struct memview_stats *s = k;

		s->flags = flags(f, 0);
		s->pid = chance(f, 20) ? 0 : any_pid(f);
		maybe_pidfd(f, &s->flags, &s->pid);
		s->__reserved = rsv(f);
		break;
	}
	case MEMVIEW_CMD_SLICE_FENCE:
	case MEMVIEW_CMD_SLICE_UNFENCE: {
		struct memview_slice_fence *s = k;

		s->flags = flags(f, ci + MEMVIEW_CMD_BASE == MEMVIEW_CMD_SLICE_FENCE ?
				 MEMVIEW_FENCE_WAIT | MEMVIEW_FENCE_RETIRE :
				 MEMVIEW_UNFENCE_FORCE);
		s->slice_id = any_slice(f);
		if (chance(f, 5))
			s->out_state = any32(f);
		break;
	}
	case MEMVIEW_CMD_ERROR_REPORT:
	case MEMVIEW_CMD_ERROR_INJECT: {
		struct memview_error *s = k;
		bool inj = ci + MEMVIEW_CMD_BASE == MEMVIEW_CMD_ERROR_INJECT;

		s->flags = flags(f, inj ? MEMVIEW_INJECT_SLICE : 0);
		s->phys_addr = chance(f, 30) ? 0 : any_phys(f);
		s->length = chance(f, 50) ? below(f, 3) * 4096 : any64(f);
		s->severity = chance(f, 80) ? (__u32)below(f, 2) : any32(f);
		s->source = inj ? (chance(f, 85) ? 0 : any32(f)) :
			    chance(f, 80) ? (__u32)below(f, 7) : any32(f);
		s->slice_id = chance(f, 50) ? 0 : any_slice(f);
		s->count = chance(f, 80) ? (__u32)below(f, 4) : any32(f);
		/* few uncorrectable errors: each poisons victims' pages */
		if (s->severity == MEMVIEW_ERROR_UNCORRECTABLE &&
		    (chance(f, 70) || f->no_ue))
			s->severity = MEMVIEW_ERROR_CORRECTED;
		if (s->count > 1000 && chance(f, 90))
			s->count = 1000;
		break;
	}
	}
}

static bool is_ours(struct fuzz *f, pid_t pid)
{
	for (int i = 0; i < NVICTIMS; i++)
		if (f->victims[i] == pid)
			return true;
	return pid == f->gone_pid;
}

/*
 * Keep destructive commands away from what is not the fuzzer's: a region,
 * slice or address that existed before it started.  Returns false if the
 * call must be dropped.
 */
static bool safe(struct fuzz *f, int ci, void *k)
{
	switch (ci + MEMVIEW_CMD_BASE) {
	case MEMVIEW_CMD_REGION_REMOVE:
		return !is_foreign_region(f, ((struct memview_region_remove *)k)->region_id);
	case MEMVIEW_CMD_SLICE_FENCE:
	case MEMVIEW_CMD_SLICE_UNFENCE:
		return !is_foreign_slice(f, ((struct memview_slice_fence *)k)->slice_id);
	case MEMVIEW_CMD_ERROR_REPORT:
	case MEMVIEW_CMD_ERROR_INJECT: {
		struct memview_error *e = k;

		return !is_foreign_slice(f, e->slice_id) &&
		       !is_foreign_addr(f, e->phys_addr,
					e->length > MV_SLICE_SIZE ? MV_SLICE_SIZE : e->length);
	}
	case MEMVIEW_CMD_REGION_ADD: {
		struct memview_region_add *a = k;

		return !is_foreign_addr(f, a->phys_addr,
					a->length > (1ULL << 40) ? 1ULL << 40 : a->length);
	}
	case MEMVIEW_CMD_PROC_ATTACH:
	case MEMVIEW_CMD_PROC_DETACH:
	case MEMVIEW_CMD_DEMOTE:
	case MEMVIEW_CMD_PROMOTE: {
		/* never manage or move the pages of pid 1 or processes not ours */
		pid_t pid = ((struct memview_proc_detach *)k)->pid;

		if (ci + MEMVIEW_CMD_BASE == MEMVIEW_CMD_DEMOTE ||
		    ci + MEMVIEW_CMD_BASE == MEMVIEW_CMD_PROMOTE)
			pid = ((struct memview_migrate *)k)->pid;
		/* a pidfd: every pidfd this process holds is of its own victims */
		if (((struct memview_proc_detach *)k)->flags & MEMVIEW_PIDFD)
			return true;
		if (pid == 1)
			return false;
		/* a random pid that exists and is not ours: leave it alone */
		if (pid > 2 && pid != getpid() && !is_ours(f, pid) && !kill(pid, 0))
			return false;
		if (!f->priv && pid == getpid() && f->no_self_attach &&
		    ci + MEMVIEW_CMD_BASE == MEMVIEW_CMD_PROC_ATTACH)
			return false;
		if (!f->priv && pid == getpid() &&
		    ci + MEMVIEW_CMD_BASE == MEMVIEW_CMD_PROC_ATTACH &&
		    ((struct memview_proc_attach *)k)->flags & MEMVIEW_ATTACH_AUTO)
			return false;	/* no placer on the fuzzer itself */
		if (pid == getpid() && f->priv &&
		    (ci + MEMVIEW_CMD_BASE == MEMVIEW_CMD_PROC_ATTACH ||
		     ci + MEMVIEW_CMD_BASE == MEMVIEW_CMD_DEMOTE))
			return false;	/* our own stack and code stay in DRAM */
		return true;
	}
	}
	return true;
}

/* Remember regions we added, forget ones removed. */
static void track(struct fuzz *f, int ci, const void *k, int ret)
{
	int i;

	if (ret)
		return;
	if (ci + MEMVIEW_CMD_BASE == MEMVIEW_CMD_REGION_ADD) {
		const struct memview_region_add *a = k;

		if (f->nown < MAX_OWN)
			f->own_regions[f->nown++] = a->out_region_id;
		else
			mv_region_remove(f->fd, a->out_region_id,
					 MEMVIEW_REGION_REMOVE_EVACUATE |
					 MEMVIEW_REGION_REMOVE_FORGET_BAD, NULL);
	} else if (ci + MEMVIEW_CMD_BASE == MEMVIEW_CMD_REGION_REMOVE) {
		const struct memview_region_remove *r = k;

		for (i = 0; i < f->nown; i++)
			if (f->own_regions[i] == r->region_id) {
				f->own_regions[i] = f->own_regions[--f->nown];
				break;
			}
	}
}

/* Our regions: every region that is not foreign. */
static void resync_regions(struct fuzz *f)
{
	struct memview_region_entry *r;
	__u32 n, i;

	if (mv_region_list(f->fd, &r, &n))
		return;
	f->nown = 0;
	for (i = 0; i < n; i++)
		if (!is_foreign_region(f, r[i].id) && f->nown < MAX_OWN)
			f->own_regions[f->nown++] = r[i].id;
	free(r);
}

static void one_fuzzed_call(struct fuzz *f)
{
	unsigned char k[1024];
	size_t size, ksize, copy;
	unsigned char *p;
	unsigned long nr;
	void *arg;
	__u32 sz32;
	int ci, ret;

	if (chance(f, 2)) {
		/* A number that is not a command: ENOTTY (or EFAULT/EINVAL never) */
		static const unsigned long bad[] = {
			_IO(MEMVIEW_TYPE, 0x7f), _IO(MEMVIEW_TYPE, MEMVIEW_CMD_BASE + NCMD),
			_IO(MEMVIEW_TYPE, 0xff), _IO(0xCE, MEMVIEW_CMD_BASE),
			_IOWR(MEMVIEW_TYPE, MEMVIEW_CMD_BASE, struct memview_info),
			_IOR(MEMVIEW_TYPE, MEMVIEW_CMD_DEMOTE, __u64), 0, ~0UL,
		};

		nr = bad[below(f, sizeof(bad) / sizeof(bad[0]))];
		ret = call(f, NBAD, nr, f->arena, NULL, 0, true);
		if (ret != -ENOTTY) {
			f->res->failures++;
			mv_log("%s FAIL: seed %#llx call %lu: invalid command %#lx gave %d, not ENOTTY",
			       f->who, (unsigned long long)f->seed, f->n, nr, ret);
		}
		return;
	}
	ci = (int)below(f, NCMD);
	ksize = cmds[ci].size;
	memset(k, 0, sizeof(k));
	build(f, ci, k);
	if (!safe(f, ci, k))
		return;
	/* After build(): place() draws random numbers too. */
	memset(f->arena, 0, ARENA);
	p = place(f, ksize, &size, &copy);
	memcpy(p, k, copy);
	sz32 = (__u32)size;
	memcpy(p, &sz32, sizeof(sz32));
	arg = p;
	switch (below(f, 40)) {
	case 0:
		arg = NULL;
		break;
	case 1:
		arg = f->arena + ARENA;			/* the guard page */
		break;
	case 2:
		arg = (void *)0xffff888000000000ULL;
		break;
	case 3:
		/* size in the read-only page: the write-back faults */
		memcpy(f->rs, p, copy);
		if (mprotect(f->rs, 4096, PROT_READ) == 0)
			arg = f->rs;
		break;
	}
	/* A dirty tail of place() case 2 must survive the memcpy above. */
	ret = call(f, ci, cmds[ci].nr, arg, arg == (void *)p ? (void *)p : (void *)k,
		   copy, true);
	check_unpriv_success(f, ci, k, ret);
	if (arg == (void *)p)
		track(f, ci, p, ret);
	/*
	 * A REGION_ADD or _REMOVE whose write-back faulted still happened
	 * (the struct is copied back after the command ran): learn our
	 * regions from REGION_LIST then.
	 */
	if (f->priv && ret == -EFAULT &&
	    (ci + MEMVIEW_CMD_BASE == MEMVIEW_CMD_REGION_ADD ||
	     ci + MEMVIEW_CMD_BASE == MEMVIEW_CMD_REGION_REMOVE))
		resync_regions(f);
	mprotect(f->rs, 4096, PROT_READ | PROT_WRITE);
}

/* A valid call, so the fuzzed ones meet a module that has state. */
static void one_valid_call(struct fuzz *f)
{
	struct memview_migrate m;
	struct memview_slice_fence fe;
	struct memview_error e;
	pid_t v = f->priv ? f->victims[below(f, NVICTIMS)] : getpid();
	__u64 a, l;
	int ret, k;

	a = below(f, VICTIM_LEN / 4096);
	l = (1 + below(f, VICTIM_LEN / 4096 - a)) * 4096;
	a = (uintptr_t)f->victim_buf + a * 4096;
	switch (below(f, 9)) {
	case 0: {
		struct memview_proc_attach at = { .size = sizeof(at), .pid = v,
			.flags = chance(f, 30) ? MEMVIEW_ATTACH_AUTO : 0,
			.dram_budget = chance(f, 50) ? MV_MIB : 0 };

		if (!f->priv && (chance(f, 50) || f->no_self_attach))
			break;	/* the unprivileged one keeps its stack in DRAM */
		call(f, 5, C(PROC_ATTACH), &at, &at, sizeof(at), false);
		break;
	}
	case 1: {
		struct memview_proc_detach d = { .size = sizeof(d), .pid = v };

		call(f, 6, C(PROC_DETACH), &d, &d, sizeof(d), false);
		break;
	}
	case 2:
	case 3:
		memset(&m, 0, sizeof(m));
		m.size = sizeof(m);
		m.pid = v;
		m.addr = a;
		m.length = l;
		if (!f->priv)
			break;
		ret = call(f, 8, C(DEMOTE), &m, &m, sizeof(m), false);
		if (!ret && mv_migrate_sum(&m) != l / 4096) {
			f->res->failures++;
			mv_log("%s FAIL: seed %#llx call %lu: DEMOTE of %llu pages counted %llu",
			       f->who, (unsigned long long)f->seed, f->n,
			       (unsigned long long)(l / 4096),
			       (unsigned long long)mv_migrate_sum(&m));
			mv_migrate_print("DEMOTE", &m);
		}
		break;
	case 4:
		memset(&m, 0, sizeof(m));
		m.size = sizeof(m);
		m.pid = v;
		m.addr = a;
		m.length = l;
		ret = call(f, 9, C(PROMOTE), &m, &m, sizeof(m), false);
		if (!ret && mv_migrate_sum(&m) != l / 4096) {
			f->res->failures++;
			mv_log("%s FAIL: seed %#llx call %lu: PROMOTE of %llu pages counted %llu",
			       f->who, (unsigned long long)f->seed, f->n,
			       (unsigned long long)(l / 4096),
			       (unsigned long long)mv_migrate_sum(&m));
		}
		break;
	case 5: {
		struct memview_residency r = { .size = sizeof(r), .pid = v,
			.num_slices = 16, .addr = a, .length = l,
			.slices = (uintptr_t)f->list };

		call(f, 10, C(RESIDENCY), &r, &r, sizeof(r), false);
		break;
	}
	case 6:
		if (!f->priv || !f->nown)
			break;
		fe = (struct memview_slice_fence){ .size = sizeof(fe),
			.slice_id = any_slice(f) };
		if (is_foreign_slice(f, fe.slice_id))
			break;
		k = (int)below(f, 2);
		call(f, 14 + k, k ? C(SLICE_UNFENCE) : C(SLICE_FENCE), &fe, &fe,
		     sizeof(fe), false);
		break;
	case 7:
		if (!f->priv || !f->nown)
			break;
		mv_error_init(&e);
		e.flags = MEMVIEW_INJECT_SLICE;
		e.slice_id = any_slice(f);
		e.severity = MEMVIEW_ERROR_CORRECTED;
		e.count = 1 + (__u32)below(f, 20);
		if (is_foreign_slice(f, e.slice_id))
			break;
		call(f, 17, C(ERROR_INJECT), &e, &e, sizeof(e), false);
		break;
	default:
		/* a region of our own when there is none */
		if (f->priv && !f->nown) {
			struct memview_region_add ad;

			mv_region_add_init(&ad, f->range.start, f->range.size,
					   f->range.kind, "fuzz");
			ret = call(f, 1, C(REGION_ADD), &ad, &ad, sizeof(ad), false);
			track(f, 1, &ad, ret);
		} else {
			struct memview_info in = { .size = sizeof(in) };

			call(f, 0, C(GET_INFO), &in, &in, sizeof(in), false);
		}
	}
}

/*
 * Victims and the unprivileged fuzzer are exec()ed: a fresh address space
 * shares no copy-on-write page with the root fuzzer, so what is done to
 * theirs (demotion, injected uncorrectable errors) never reaches it.
 */
static char *map_victim_buf(void)
{
	char *p = mmap(VICTIM_ADDR, VICTIM_LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p != VICTIM_ADDR)
		return NULL;
	madvise(p, VICTIM_LEN, MADV_NOHUGEPAGE);
	return p;
}

static int victim_main(void)
{
	char *p = map_victim_buf();

	if (!p)
		return 1;
	mv_fill(p, 0, VICTIM_LEN, MV_PAT_RANDOM, getpid());
	for (;;)
		pause();
}

static int pidfd_of(pid_t pid)
{
	return pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
}

static pid_t spawn_victim(struct fuzz *f, int i)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl("/proc/self/exe", "fuzz_test", "--victim", (char *)NULL);
		_exit(127);
	}
	if (f->vpidfd[i] >= 0)
		close(f->vpidfd[i]);
	f->vpidfd[i] = pidfd_of(pid);
	return pid;
}

/* Respawn victims that died (SIGBUS after an injected uncorrectable error). */
static void check_victims(struct fuzz *f)
{
	int st;

	for (int i = 0; i < NVICTIMS; i++) {
		if (waitpid(f->victims[i], &st, WNOHANG) == f->victims[i]) {
			f->gone_pid = f->victims[i];
			f->victims[i] = spawn_victim(f, i);
		}
	}
}

static void new_gone_pid(struct fuzz *f)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	if (pid > 0) {
		if (f->gone_pidfd >= 0)
			close(f->gone_pidfd);
		f->gone_pidfd = pidfd_of(pid);
		waitpid(pid, NULL, 0);
		f->gone_pid = pid;
	}
}

/*
 * Sentinels: small separate anonymous mappings (like ld.so's own
 * allocations) that the unprivileged fuzzer moves along with everything
 * else; checked every 16 calls, so a corruption is pinned to a window.
 */
#define NSENT	64
static char *sent[NSENT];
static bool sent_bad;

static void sentinels_init(__u64 seed)
{
	for (int i = 0; i < NSENT; i++) {
		sent[i] = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (sent[i] == MAP_FAILED) {
			sent[i] = NULL;
			continue;
		}
		mv_fill(sent[i], 0, 4096, MV_PAT_RANDOM, seed + i);
	}
}

static void sentinels_check(struct fuzz *f)
{
	for (int i = 0; i < NSENT && !sent_bad; i++) {
		const __u64 *w = (const __u64 *)sent[i];
		size_t off;

		if (!w || !mv_verify(sent[i], 0, 4096, MV_PAT_RANDOM, f->seed + i, &off))
			continue;
		sent_bad = true;
		f->res->failures++;
		mv_log("%s FAIL: seed %#llx: sentinel page %d (%p) changed between calls %lu and %lu: word %zu; words 0..3 now %#llx %#llx %#llx %#llx",
		       f->who, (unsigned long long)f->seed, i, sent[i],
		       f->n > 16 ? f->n - 16 : 0, f->n, off / 8,
		       (unsigned long long)w[0], (unsigned long long)w[1],
		       (unsigned long long)w[2], (unsigned long long)w[3]);
	}
}

/*
 * The dynamic loader's list of loaded objects (link_maps it allocated at
 * start-up, in its own data and in small anonymous mappings): recorded at
 * the start, compared at the end, so a change in memory the fuzzer never
 * writes is reported with where it lives.
 */
#define NLM	16
struct lm_snap {
	struct link_map *lm;
	struct link_map copy;
};
static struct lm_snap lm_start[NLM];
static int nlm;

static void lm_record(void)
{
	struct link_map *l;

	nlm = 0;
	for (l = _r_debug.r_map; l && nlm < NLM; l = l->l_next) {
		lm_start[nlm].lm = l;
		lm_start[nlm++].copy = *l;
	}
}

static void lm_where(const void *p)
{
	FILE *fp = fopen("/proc/self/maps", "r");
	char line[512];

	if (!fp) {
		mv_log("  /proc/self/maps: %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), fp)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
		    (uintptr_t)p >= lo && (uintptr_t)p < hi) {
			line[strcspn(line, "\n")] = 0;
			mv_log("  %p is in: %s", p, line);
		}
	}
	fclose(fp);
}

static bool lm_check(struct fuzz *f)
{
	struct link_map *l = _r_debug.r_map;
	bool ok = true;
	int i;

	for (i = 0; i < nlm; i++, l = l ? l->l_next : NULL) {
		const struct link_map *c = &lm_start[i].copy;
		struct link_map *m = lm_start[i].lm;

		if (l == m && !memcmp(m, c, sizeof(*c)))
			continue;
		ok = false;
		f->res->failures++;
		mv_log("%s FAIL: seed %#llx: the loader's link_map %d (%p, %s) changed: l_next %p (was %p), l_addr %#lx (was %#lx), list entry %p",
		       f->who, (unsigned long long)f->seed, i, (void *)m,
		       c->l_name ? c->l_name : "?", (void *)m->l_next,
		       (void *)c->l_next, (unsigned long)m->l_addr,
		       (unsigned long)c->l_addr, (void *)l);
		lm_where(m);
		break;
	}
	return ok;
}

static void run(struct fuzz *f)
{
	for (f->n = 0; f->n < f->iter; f->n++) {
		if (!f->priv && f->n % 16 == 0)
			sentinels_check(f);
		if (!f->priv && nlm && !lm_check(f)) {
			mv_log("  after call %lu: %s (nr %#lx, ret %d), struct:", f->n - 1,
			       last_ci == NBAD ? "invalid" : cmds[last_ci].name,
			       last_nr, last_ret);
			dump(last_struct, last_len);
			nlm = 0;
		}
		if (chance(f, 15))
			one_valid_call(f);
		else
			one_fuzzed_call(f);
		if (f->priv && f->n % 64 == 0) {
			check_victims(f);
			if (f->n % 512 == 0)
				new_gone_pid(f);
		}
	}
}

static int read_refcnt(void)
{
	FILE *fp = fopen("/sys/module/memview/refcnt", "r");
	int n = -1;

	if (fp) {
		if (fscanf(fp, "%d", &n) != 1)
			n = -1;
		fclose(fp);
	}
	return n;
}

static void snapshot_foreign(struct fuzz *f)
{
	struct memview_region_entry *r;
	struct memview_slice_entry *s;
	__u32 n, i;

	if (!mv_region_list(f->fd, &r, &n)) {
		for (i = 0; i < n && i < 64; i++) {
			f->foreign_regions[f->nforeign_r] = r[i].id;
			f->foreign_ranges[f->nforeign_r].start = r[i].phys_addr;
			f->foreign_ranges[f->nforeign_r++].len = r[i].length;
		}
		free(r);
	}
	if (!mv_slice_list(f->fd, 0, 0, &s, &n)) {
		for (i = 0; i < n && i < 512; i++)
			f->foreign_slices[f->nforeign_s++] = s[i].id;
		free(s);
	}
}

static void print_hist(const char *who, const struct results *r)
{
	unsigned long long total = 0;
	int c, e;

	for (c = 0; c <= NCMD; c++)
		total += r->calls[c];
	printf("# %s: %llu calls (%llu valid), %llu failures\n", who, total,
	       r->valid_calls, r->failures);
	for (c = 0; c <= NCMD; c++) {
		char line[1024] = "";
		int o = 0;

		if (!r->calls[c])
			continue;
		for (e = 0; e <= MAXERR; e++)
			if (r->hist[c][e])
				o += snprintf(line + o, sizeof(line) - o, " %s:%llu",
					      errname(e),
					      r->hist[c][e]);
		printf("#   %-14s %8llu:%s\n", c == NCMD ? "invalid-nr" : cmds[c].name,
		       r->calls[c], line);
	}
	/* the errno histogram over all commands */
	{
		char line[2048] = "";
		int o = 0;

		for (e = 0; e <= MAXERR; e++) {
			unsigned long long n = 0;

			for (c = 0; c <= NCMD; c++)
				n += r->hist[c][e];
			if (n)
				o += snprintf(line + o, sizeof(line) - o, " %s:%llu",
					      errname(e), n);
		}
		printf("# %s errno histogram:%s\n", who, line);
	}
}

static void setup_fault_inject(struct fuzz *f)
{
	const char *pct = getenv("MEMVIEW_FAULT_INJECT");

	if (!pct || !*pct || !strcmp(pct, "0"))
		return;
	f->fault_inject = mv_fault_inject_setup(pct);
	mv_log("fault injection %s at %s%%",
	       f->fault_inject ? "on" : "unavailable", pct);
}

static unsigned long env_ul(const char *name, unsigned long dflt)
{
	const char *e = getenv(name);

	return e && *e ? strtoul(e, NULL, 0) : dflt;
}

/* Buffers every fuzzer needs; *f is zeroed by the caller. */
static int setup_maps(struct fuzz *f)
{
	f->res = calloc(1, sizeof(*f->res));
	f->arena = mmap(NULL, ARENA + 4096, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	f->ro = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->ro != MAP_FAILED) {
		f->rs = f->ro + 2 * 4096;
		memset(f->ro, 0x5a, 4096);
		mprotect(f->ro, 4096, PROT_READ);
		mprotect(f->ro + 4096, 4096, PROT_NONE);
		mprotect(f->rs + 4096, 4096, PROT_NONE);
	}
	f->list = mmap(NULL, 65 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->list != MAP_FAILED)
		mprotect(f->list + 64 * 4096, 4096, PROT_NONE);
	if (!f->res || f->arena == MAP_FAILED || f->ro == MAP_FAILED ||
	    f->list == MAP_FAILED)
		return -1;
	mprotect(f->arena + ARENA, 4096, PROT_NONE);
	f->victim_buf = VICTIM_ADDR;
	if (mv_find_system_ram(MV_SLICE_SIZE, &f->ram_addr))
		f->ram_addr = 0x100000000ULL;
	{
		char what[64];

		if (mv_find_non_device_range(MV_SLICE_SIZE, &f->ecam_addr, what,
					     sizeof(what)))
			f->ecam_addr = 0xb0000000ULL;
	}
	return 0;
}

static void range_from_env(struct fuzz *f)
{
	if (mv_target_range(&mv_target_pmem, &f->range))
		mv_target_range(&mv_target_cxl, &f->range);
}

/*
 * The unprivileged fuzzer (exec()ed by the root one as root): drops every
 * privilege, fuzzes with its own seed, moves its own buffer at VICTIM_ADDR,
 * prints its histogram; exit 0 if every call was as documented.
 */
static int unpriv_main(void)
{
	struct fuzz f = { .who = "unpriv" };
	const char *v = getenv("MEMVIEW_FUZZ_VICTIMS");
	struct sigaction sa = { .sa_handler = on_alarm };
	char *buf, *canary;
	__u64 canary_sum;
	int i, bad = 0;

	f.seed = env_ul("MEMVIEW_FUZZ_SEED", 1);
	f.rng = f.seed;
	f.iter = env_ul("MEMVIEW_FUZZ_ITER", 1000);
	f.verbose = env_ul("MEMVIEW_FUZZ_VERBOSE", 0);
	for (i = 0; v && *v && i < NVICTIMS; i++) {
		f.victims[i] = (pid_t)strtol(v, (char **)&v, 10);
		if (*v == ',')
			v++;
	}
	f.gone_pid = (pid_t)env_ul("MEMVIEW_FUZZ_GONE", 0x3ffffff);
	f.gone_pidfd = -1;
	for (i = 0; i < NVICTIMS; i++)
		f.vpidfd[i] = pidfd_of(f.victims[i]);	/* anyone may open one */
	f.no_ue = env_ul("MEMVIEW_FUZZ_NO_UE", 0);
	f.no_self_attach = env_ul("MEMVIEW_FUZZ_NO_SELF_ATTACH", 0);
	range_from_env(&f);
	sigaction(SIGALRM, &sa, NULL);
	if (setup_maps(&f))
		return 3;
	if (mv_drop_privileges()) {
		mv_log("unpriv: cannot drop privileges");
		return 4;
	}
	f.fd = mv_open();
	if (f.fd < 0)
		return 5;
	buf = map_victim_buf();
	if (!buf)
		return 6;
	mv_fill(buf, 0, VICTIM_LEN, MV_PAT_RANDOM, 1);
	/*
	 * This fuzzer moves its own pages (the whole address space at
	 * times): a canary checks they keep their data.
	 */
	canary = malloc(CANARY_LEN);
	if (!canary)
		return 7;
	canary_sum = mv_fill(canary, 0, CANARY_LEN, MV_PAT_RANDOM, f.seed);
	sentinels_init(f.seed);
	lm_record();
	run(&f);
	sentinels_check(&f);
	if (!lm_check(&f)) {
		mv_log("  after call %lu: %s (nr %#lx, ret %d), struct:", f.n - 1,
		       last_ci == NBAD ? "invalid" : cmds[last_ci].name,
		       last_nr, last_ret);
		dump(last_struct, last_len);
		bad = 1;
	}
	if (mv_checksum(canary, 0, CANARY_LEN) != canary_sum) {
		size_t off = 0;

		mv_verify(canary, 0, CANARY_LEN, MV_PAT_RANDOM, f.seed, &off);
		mv_log("unpriv: its own memory changed while it moved it (canary byte %#zx)",
		       off);
		bad = 1;
	}
	mv_detach(f.fd, getpid());
	print_hist("unpriv", f.res);
	fflush(NULL);
	return f.res->failures || bad ? 1 : 0;
}

static pid_t spawn_unpriv(struct fuzz *f, unsigned long iter, __u64 seed)
{
	char buf[128];
	pid_t pid;

	snprintf(buf, sizeof(buf), "%d,%d,%d", f->victims[0], f->victims[1],
		 f->victims[2]);
	pid = fork();
	if (pid == 0) {
		char n[32];

		setenv("MEMVIEW_FUZZ_VICTIMS", buf, 1);
		snprintf(n, sizeof(n), "%lu", iter);
		setenv("MEMVIEW_FUZZ_ITER", n, 1);
		snprintf(n, sizeof(n), "%#llx", (unsigned long long)seed);
		setenv("MEMVIEW_FUZZ_SEED", n, 1);
		snprintf(n, sizeof(n), "%d", f->gone_pid);
		setenv("MEMVIEW_FUZZ_GONE", n, 1);
		setenv("MEMVIEW_FUZZ_VERBOSE", f->verbose ? "1" : "0", 1);
		execl("/proc/self/exe", "fuzz_test", "--unpriv", (char *)NULL);
		_exit(127);
	}
	return pid;
}

int main(int argc, char **argv)
{
	struct memview_policy saved;
	struct fuzz f = { .who = "root", .priv = true };
	unsigned long uiter;
	int refcnt0, refcnt1, i, st, ret, fails = 0;
	pid_t child;
	struct sigaction sa = { .sa_handler = on_alarm };
	__u64 useed, canary_sum;
	char *canary;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "--victim"))
		return victim_main();
	if (argc == 2 && !strcmp(argv[1], "--unpriv"))
		return unpriv_main();
	f.iter = env_ul("MEMVIEW_FUZZ_ITER", 3000);
	f.seed = env_ul("MEMVIEW_FUZZ_SEED", (unsigned long)time(NULL) ^ getpid());
	f.no_ue = env_ul("MEMVIEW_FUZZ_NO_UE", 0);
	uiter = env_ul("MEMVIEW_FUZZ_UNPRIV_ITER", ~0UL);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--iter") && i + 1 < argc)
			f.iter = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			f.seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--unpriv-iter") && i + 1 < argc)
			uiter = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-v"))
			f.verbose = true;
		else {
			fprintf(stderr, "usage: %s [--iter N] [--seed S] [--unpriv-iter N] [-v]\n",
				argv[0]);
			return 2;
		}
	}
	if (uiter == ~0UL)
		uiter = f.iter / 2;
	useed = f.seed ^ 0x5555aaaa5555aaaaULL;
	printf("TAP version 13\n1..2\n");
	printf("# fuzz_test: seed %#llx, %lu calls as root; unprivileged: seed %#llx, %lu calls\n",
	       (unsigned long long)f.seed, f.iter, (unsigned long long)useed, uiter);
	f.rng = f.seed;
	sigaction(SIGALRM, &sa, NULL);

	range_from_env(&f);
	if (!f.range.size) {
		printf("ok 1 fuzz_root # SKIP no MEMVIEW_PMEM_RANGE or MEMVIEW_CXL_RANGE\n");
		printf("ok 2 fuzz_unpriv # SKIP no range\n");
		return 0;
	}
	f.fd = mv_open();
	if (f.fd < 0) {
		printf("not ok 1 fuzz_root # open: %s\nnot ok 2 fuzz_unpriv\n",
		       strerror(-f.fd));
		return 1;
	}
	ret = mv_remove_overlapping(f.fd, f.range.start, f.range.size, true);
	if (ret < 0)
		mv_log("cannot remove stale regions: %s", strerror(-ret));
	snapshot_foreign(&f);
	if (mv_get_policy(f.fd, &saved) || setup_maps(&f)) {
		printf("not ok 1 fuzz_root # setup\nnot ok 2 fuzz_unpriv\n");
		return 1;
	}
	refcnt0 = read_refcnt();
	/*
	 * A canary: the fuzzer never lets its own pages be moved, so nothing
	 * the module does may change them.
	 */
	canary = malloc(CANARY_LEN);
	if (!canary) {
		printf("not ok 1 fuzz_root # malloc\nnot ok 2 fuzz_unpriv\n");
		return 1;
	}
	canary_sum = mv_fill(canary, 0, CANARY_LEN, MV_PAT_RANDOM, f.seed);
	f.gone_pidfd = -1;
	for (i = 0; i < NVICTIMS; i++) {
		f.vpidfd[i] = -1;
		f.victims[i] = spawn_victim(&f, i);
	}
	new_gone_pid(&f);

	/* The unprivileged fuzzer, in parallel. */
	fflush(NULL);
	child = spawn_unpriv(&f, uiter, useed);

	setup_fault_inject(&f);
	run(&f);

	/* Reap the unprivileged fuzzer. */
	st = mv_wait_child(child, 600000);
	/* The end: kill the victims, empty and remove our regions. */
	for (i = 0; i < NVICTIMS; i++) {
		kill(f.victims[i], SIGKILL);
		waitpid(f.victims[i], NULL, 0);
	}
	ret = mv_set_policy(f.fd, &saved);
	if (ret) {
		mv_log("restoring the policy: %s", strerror(-ret));
		fails++;
	}
	resync_regions(&f);
	for (i = 0; i < f.nown; i++) {
		__u64 used = ~0ULL;
		struct mv_totals t;

		ret = mv_wait_region_used(f.fd, f.own_regions[i], 0, 20000, &used);
		mv_region_totals(f.fd, f.own_regions[i], &t);
		if (ret || t.used_pages) {
			mv_log("region %u: %llu pages still used after every process exited (%s)",
			       f.own_regions[i], (unsigned long long)t.used_pages,
			       ret ? strerror(-ret) : "ok");
			fails++;
		}
		ret = mv_region_remove(f.fd, f.own_regions[i],
				       MEMVIEW_REGION_REMOVE_FORGET_BAD, NULL);
		if (ret) {
			mv_log("REGION_REMOVE %u at the end: %s", f.own_regions[i],
			       strerror(-ret));
			fails++;
			mv_region_remove(f.fd, f.own_regions[i],
					 MEMVIEW_REGION_REMOVE_EVACUATE |
					 MEMVIEW_REGION_REMOVE_FORGET_BAD, NULL);
		}
	}
	{
		struct memview_proc_entry *pe;
		__u32 n;

		if (!mv_proc_list(f.fd, &pe, &n)) {
			for (__u32 j = 0; j < n; j++)
				for (i = 0; i < NVICTIMS; i++)
					if (pe[j].pid == f.victims[i]) {
						mv_log("victim %d still listed", pe[j].pid);
						fails++;
					}
			free(pe);
		}
	}
	if (mv_checksum(canary, 0, CANARY_LEN) != canary_sum) {
		size_t off = 0;

		mv_verify(canary, 0, CANARY_LEN, MV_PAT_RANDOM, f.seed, &off);
		mv_log("the fuzzer's own memory changed under it (canary byte %#zx)", off);
		fails++;
	}
	refcnt1 = read_refcnt();
	if (refcnt1 != refcnt0) {
		mv_log("module refcnt %d at the start, %d at the end", refcnt0, refcnt1);
		fails++;
	}

	print_hist("root", f.res);
	if (f.res->failures || fails)
		printf("not ok 1 fuzz_root # seed %#llx: %llu bad calls, %d end-state failures\n",
		       (unsigned long long)f.seed, f.res->failures, fails);
	else
		printf("ok 1 fuzz_root\n");
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		printf("not ok 2 fuzz_unpriv # seed %#llx, status %#x\n",
		       (unsigned long long)useed, st);
	else
		printf("ok 2 fuzz_unpriv\n");
	close(f.fd);
	return f.res->failures || fails || st ? 1 : 0;
}
