/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the memview selftests: device and ioctl wrappers, the
 * test ranges handed over by the QEMU harness in the environment, data
 * patterns.  Nothing here depends on the kselftest harness, so mv-hold and
 * mv-region use it too; the fixture lives in memview_harness.h.
 *
 * Every wrapper returns 0 or a negative errno, so tests can assert exact
 * errnos with ASSERT_EQ(-EINVAL, mv_...()).
 */
#ifndef MEMVIEW_TEST_H
#define MEMVIEW_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/memview.h>

#define MV_MIB			(1024ULL * 1024)
#define MV_PAGE_SIZE		4096UL
#define MV_SLICE_SIZE		(256 * MV_MIB)	/* the module's default slice_size */
#define MV_ALIGN		(2 * MV_MIB)	/* REGION_ADD alignment */
#define MV_NOBODY		65534		/* uid/gid of an unprivileged caller */

/* A test range: one of the physical ranges the harness exports. */
struct mv_target {
	const char *name;	/* variant name, used as label fallback */
	const char *range_env;	/* "0xSTART:0xSIZE" */
	const char *label_env;	/* CXL region or namespace name */
	__u32 kind;		/* enum memview_region_kind */
};

extern const struct mv_target mv_target_cxl;
extern const struct mv_target mv_target_pmem;
extern const struct mv_target mv_target_cxl_ram;

struct mv_range {
	__u64 start;
	__u64 size;
	__u32 kind;
	char label[MEMVIEW_LABEL_LEN];
};

/* Parse t->range_env; -ENOENT if unset, -EINVAL if malformed. */
int mv_target_range(const struct mv_target *t, struct mv_range *r);

/* Open /dev/memview; returns the fd or -errno. */
int mv_open(void);

/* ioctl() returning 0 (or the positive result) or -errno. */
int mv_ioctl(int fd, unsigned long cmd, void *arg);

int mv_get_info(int fd, struct memview_info *info);

/* Fill a memview_region_add for [start, start + length) with a valid header. */
void mv_region_add_init(struct memview_region_add *add, __u64 start,
			__u64 length, __u32 kind, const char *label);
int mv_region_add(int fd, __u64 start, __u64 length, __u32 kind,
		  const char *label, struct memview_region_add *out);
int mv_region_remove(int fd, __u32 id, __u32 flags, __u64 *evacuated);
/*
 * REGION_REMOVE_FORGET_BAD if the module has it, else 0: the fixtures
 * remove their regions with it, so that the pages a test poisoned are not
 * retired again for the next test (Documentation/ras.rst).
 */
static inline __u32 mv_forget_bad(const struct memview_info *info)
{
	return info->out_features & MEMVIEW_FEATURE_BAD_RANGES ?
	       MEMVIEW_REGION_REMOVE_FORGET_BAD : 0;
}

/*
 * REGION_LIST / SLICE_LIST / PROC_LIST into a malloc()ed array sized by a
 * first call; *n gets the count.  The caller free()s *out (NULL if n == 0).
 */
int mv_region_list(int fd, struct memview_region_entry **out, __u32 *n);
int mv_slice_list(int fd, __u32 flags, __u32 region_id,
		  struct memview_slice_entry **out, __u32 *n);
int mv_proc_list(int fd, struct memview_proc_entry **out, __u32 *n);

/* Sums over the slices of one region. */
struct mv_totals {
	__u32 nr_slices;
	__u64 total_pages;
	__u64 used_pages;
	__u64 free_pages;
	__u64 poisoned_pages;
	__u64 migrations_in;
	__u64 migrations_out;
	__u64 errors;
};
int mv_region_totals(int fd, __u32 region_id, struct mv_totals *t);
/*
 * Poll the region's used pages until they equal @want or @timeout_ms pass
 * (page_free runs when the last reference goes, which may trail an exit).
 * Returns 0 or -errno; *used gets the last value seen.
 */
int mv_wait_region_used(int fd, __u32 region_id, __u64 want, int timeout_ms,
			__u64 *used);

/*
 * Remove every memview region that overlaps [start, start + size), with
 * EVACUATE: leftovers of an earlier test killed before its teardown (logged
 * as such if @stale), or regions a test added itself.
 * Returns how many were removed, or -errno.
 */
int mv_remove_overlapping(int fd, __u64 start, __u64 size, bool stale);

int mv_attach(int fd, pid_t pid, __u64 dram_budget);
/* PROC_ATTACH with MEMVIEW_ATTACH_* @flags (mv_attach() attaches with 0). */
int mv_attach_flags(int fd, pid_t pid, __u32 flags, __u64 dram_budget);
int mv_detach(int fd, pid_t pid);

/*
 * The placer (Documentation/tiering.rst).  mv_get_policy() and mv_stats()
 * initialise *p / *s.  mv_set_policy() sends *p as given (only size is set
 * here), so tests can pass bad flags, valid bits and values; on success *p
 * holds the policy in force.
 */
int mv_get_policy(int fd, struct memview_policy *p);
int mv_set_policy(int fd, struct memview_policy *p);
int mv_stats(int fd, pid_t pid, struct memview_stats *s);

/*
 * Wait until the placer's round counter (STATS of pid 0, out_rounds) has
 * advanced by @n from its value at the call; *now (may be NULL) gets the
 * last value read.  Tests wait on rounds, not on the clock: the only time
 * limit is a liveness guard, -ETIMEDOUT when the counter does not move at
 * all for MV_ROUND_STALL_MS (the placer thread is stuck or gone).
 */
#define MV_ROUND_STALL_MS	60000
int mv_wait_rounds(int fd, __u64 n, __u64 *now);

/* DEMOTE / PROMOTE; *m is initialised here and holds the out_ fields. */
/* A DEMOTE/PROMOTE struct for [addr, addr + len) of @pid (or a pidfd). */
void mv_migrate_init(struct memview_migrate *m, pid_t pid,
		     const void *addr, size_t len, __u32 flags, int node);
int mv_demote(int fd, pid_t pid, const void *addr, size_t len,
	      struct memview_migrate *m);
int mv_promote(int fd, pid_t pid, const void *addr, size_t len, __u32 flags,
	       int node, struct memview_migrate *m);
/* The sum of every out_ field: each page of the range is in exactly one. */
static inline __u64 mv_migrate_sum(const struct memview_migrate *m)
{
	return m->out_moved + m->out_not_present + m->out_already +
	       m->out_busy + m->out_no_space + m->out_unsupported +
	       m->out_thp_split_failed + m->out_shared;
}
/* Log every out_ field of *m, prefixed with @what. */
void mv_migrate_print(const char *what, const struct memview_migrate *m);

/*
 * RESIDENCY of [addr, addr + len) of @pid.  @ents/@room may be NULL/0.
 * *r is initialised here and holds the out_ fields.
 */
int mv_residency(int fd, pid_t pid, const void *addr, size_t len,
		 struct memview_residency *r,
		 struct memview_residency_entry *ents, __u32 room);

/* Data patterns, 64-bit words, word i at byte offset 8 * i of the buffer. */
enum mv_pattern {
	MV_PAT_INCREMENT,	/* seed + i */
	MV_PAT_RANDOM,		/* splitmix64 of (seed, i): a seeded PRNG */
	MV_PAT_STAMP,		/* per-page stamp: seed (a pid), page index, word */
};
const char *mv_pattern_name(enum mv_pattern p);
__u64 mv_pattern_word(enum mv_pattern p, __u64 seed, size_t i);

/*
 * Fill / verify bytes [off, off + len) of @base (both multiples of 8) with
 * the pattern as it is defined for the whole buffer.  mv_fill() returns the
 * checksum of what it wrote; mv_checksum() that of what is there now.
 * mv_verify() returns 0 or -1 with the first bad byte offset in *bad_off.
 */
__u64 mv_fill(void *base, size_t off, size_t len, enum mv_pattern p,
	      __u64 seed);
__u64 mv_checksum(const void *base, size_t off, size_t len);
int mv_verify(const void *base, size_t off, size_t len, enum mv_pattern p,
	      __u64 seed, size_t *bad_off);
/* Touch one byte per page for writing (the rest keeps its content). */
void mv_touch_pages(void *base, size_t len);

/* Anonymous private mapping of @len, aligned to @align (0: page), THP off/on. */
void *mv_map_anon(size_t len, size_t align, bool thp);
void mv_unmap_anon(void *p, size_t len);
/* AnonHugePages of the mapping containing @addr, in kB (-1 if unknown). */
long mv_anon_huge_kb(const void *addr);
bool mv_kernel_at_least(int major, int minor);
/*
 * Where [addr, addr + len) of @pid is in physical memory, seen from outside
 * the module: /proc/PID/pagemap.  *present gets the pages present with a
 * pfn (pagemap shows pfns to CAP_SYS_ADMIN only: 0 without it), the zero
 * page left out (/proc/kpageflags), *in_range those whose frame lies in
 * [phys, phys + phys_len).  Returns 0 or -errno.
 */
#define MV_KPF_ZERO_PAGE	24
int mv_pagemap_count(pid_t pid, const void *addr, size_t len, __u64 phys,
		     __u64 phys_len, size_t *present, size_t *in_range);

/*
 * Fault isolation (Documentation/ras.rst).  mv_slice_list() above asks for
 * whole struct memview_slice_entry records (entry_size = sizeof); from a
 * module without MEMVIEW_FEATURE_RAS it gets the 80-byte ones and the RAS
 * fields are zero.
 */
static inline bool mv_has_ras(const struct memview_info *info)
{
	return info->out_features & MEMVIEW_FEATURE_RAS;
}
const char *mv_slice_state_name(__u32 state);
/* The slice @id of any region; -ENOENT if it does not exist. */
int mv_slice_get(int fd, __u32 id, struct memview_slice_entry *e);
/* Log every field of *e that a test may want to see on a failure. */
void mv_slice_print(const struct memview_slice_entry *e);
/*
 * Wait while slice @id is FENCING; *e gets its last entry.  Like
 * mv_wait_rounds(), the only limit is a liveness guard: -ETIMEDOUT when
 * neither evac_moved nor evac_passes moves for MV_FENCE_STALL_MS.
 */
#define MV_FENCE_STALL_MS	60000
int mv_wait_slice_settled(int fd, __u32 id, struct memview_slice_entry *e);
/* SLICE_FENCE / SLICE_UNFENCE; *out (may be NULL) gets the struct back. */
int mv_fence(int fd, __u32 id, __u32 flags, struct memview_slice_fence *out);
int mv_unfence(int fd, __u32 id, __u32 flags, struct memview_slice_fence *out);
/* A zeroed memview_error with its size set. */
void mv_error_init(struct memview_error *e);
/* ERROR_INJECT on a whole slice (MEMVIEW_INJECT_SLICE). */
int mv_inject_slice(int fd, __u32 id, __u32 severity, __u32 count,
		    struct memview_error *out);
/* ERROR_REPORT of one error at [phys, phys + len). */
int mv_report(int fd, __u64 phys, __u64 len, __u32 severity, __u32 source,
	      struct memview_error *out);
/*
 * RESIDENCY helpers: the slice holding most pages of the range (-ENOENT if
 * none), and the pages of the range in slice @slice_id (~0 on error).
 */
int mv_residency_slice(int fd, pid_t pid, const void *addr, size_t len,
		       __u32 *slice_id, __u64 *pages);
__u64 mv_residency_in(int fd, pid_t pid, const void *addr, size_t len,
		      __u32 slice_id);

/*
 * SIGBUS probes: run an access with a SIGBUS handler installed (the old
 * one is restored).  A SIGBUS is caught and described in *out (may be
 * NULL).  mv_probe_read() returns 1 on SIGBUS, else 0; mv_probe_verify()
 * 1 on SIGBUS, -1 if the data differs from the pattern, else 0;
 * mv_probe_madvise() 1 on SIGBUS, else madvise()'s 0 or -errno.
 */
struct mv_sigbus {
	int hit;
	int code;		/* si_code, e.g. BUS_MCEERR_AR */
	void *addr;		/* si_addr */
	short addr_lsb;		/* si_addr_lsb */
};
int mv_probe_read(const void *addr, struct mv_sigbus *out);
int mv_probe_verify(const void *base, size_t off, size_t len,
		    enum mv_pattern p, __u64 seed, struct mv_sigbus *out);
int mv_probe_madvise(void *addr, size_t len, int advice, struct mv_sigbus *out);

/*
 * Become uid/gid MV_NOBODY with no supplementary groups and no
 * capabilities, still dumpable.  Returns 0 or -errno.
 */
int mv_drop_privileges(void);
/* CapEff of the calling process from /proc/self/status (~0 on error). */
__u64 mv_cap_eff(void);

/* One-shot notifications between a parent and a forked child. */
struct mv_chan {
	int to_child[2];
	int to_parent[2];
};
int mv_chan_open(struct mv_chan *c);
/* After fork(): keep only this side's ends, so a dead peer reads as EOF. */
void mv_chan_parent(struct mv_chan *c);
void mv_chan_child(struct mv_chan *c);
void mv_chan_close(struct mv_chan *c);
/*
 * mv_chan_open(), fork() and the side's mv_chan_parent()/mv_chan_child():
 * the child's pid in the parent, 0 in the child, or a negative errno.
 */
pid_t mv_chan_fork(struct mv_chan *c);
/* Send / wait for one byte; wait gives -ETIMEDOUT after @timeout_ms. */
int mv_chan_send(int fd, char msg);
int mv_chan_recv(int fd, char *msg, int timeout_ms);
/* waitpid() with a timeout (SIGKILLs the child on expiry); returns status. */
int mv_wait_child(pid_t pid, int timeout_ms);

/*
 * Look for ranges for the negative REGION_ADD tests in /proc/iomem:
 * a 2 MiB aligned window of @len bytes inside "System RAM", and one that is
 * neither RAM nor device memory (but held busy by the platform).
 * Return 0 and fill *start, or -ENOENT.
 */
int mv_find_system_ram(__u64 len, __u64 *start);
int mv_find_non_device_range(__u64 len, __u64 *start, char *what,
			     size_t what_len);
/* Does a busy resource named @name lie inside [start, start + len)? */
bool mv_iomem_has(__u64 start, __u64 len, const char *name);

/* Run a shell command line (output to stderr); returns its exit status. */
int mv_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * In a forked child (which must not use ASSERT/EXPECT): 0 if @got is
 * @want, else log both and return @code (the child's exit status).
 */
int mv_child_check(const char *what, int want, int got, int code);

/* Print a message prefixed "# " on stderr (TAP diagnostics). */
void mv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Fault injection on a kernel with CONFIG_FAILSLAB / CONFIG_FAIL_PAGE_ALLOC
 * (the debug kernel): set both to fail @pct percent of the allocations of
 * the tasks marked with mv_fault_inject_thread(true) (task-filter).
 * Returns false if neither is there.
 */
bool mv_fault_inject_setup(const char *pct);
void mv_fault_inject_thread(bool on);

/* Pages of MV_PAGE_SIZE in @len bytes. */
/*
 * cgroup v2 files: write @val to @dir/@file; read the number on its first
 * line (@key NULL) or after "@key " (-1 if absent).
 */
int mv_cg_write(const char *dir, const char *file, const char *val);
long long mv_cg_read(const char *dir, const char *file, const char *key);

/*
 * The frame number /proc/@pid/pagemap gives for @addr (root sees them):
 * 0 if the page is not present.  0 or a negative errno.
 */
int mv_pagemap_pfn(pid_t pid, const void *addr, __u64 *pfn);

static inline size_t mv_pages(size_t len)
{
	return len / MV_PAGE_SIZE;
}

#endif /* MEMVIEW_TEST_H */
