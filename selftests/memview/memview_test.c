// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the memview selftests; see memview_test.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "memview_test.h"

const struct mv_target mv_target_cxl = {
	.name = "cxl",
	.range_env = "MEMVIEW_CXL_RANGE",
	.label_env = "MEMVIEW_CXL_REGION",
	.kind = MEMVIEW_REGION_CXL,
};

const struct mv_target mv_target_pmem = {
	.name = "pmem",
	.range_env = "MEMVIEW_PMEM_RANGE",
	.label_env = "MEMVIEW_PMEM_NS",
	.kind = MEMVIEW_REGION_PMEM,
};

/* A volatile CXL region (6.12 guests only); its label is the variant name. */
const struct mv_target mv_target_cxl_ram = {
	.name = "cxl_ram",
	.range_env = "MEMVIEW_CXL_RAM_RANGE",
	.label_env = "MEMVIEW_CXL_RAM_REGION",
	.kind = MEMVIEW_REGION_CXL,
};

void mv_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("# ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int mv_child_check(const char *what, int want, int got, int code)
{
	if (want == got)
		return 0;
	mv_log("child: %s: got %s (%d), expected %s (%d)", what,
	       got ? strerror(-got) : "success", got,
	       want ? strerror(-want) : "success", want);
	return code;
}

int mv_target_range(const struct mv_target *t, struct mv_range *r)
{
	const char *env = getenv(t->range_env);
	const char *label;
	unsigned long long start, size;
	char *end;

	memset(r, 0, sizeof(*r));
	if (!env || !*env)
		return -ENOENT;
	errno = 0;
	start = strtoull(env, &end, 0);
	if (errno || *end != ':')
		return -EINVAL;
	size = strtoull(end + 1, &end, 0);
	if (errno || *end || !size)
		return -EINVAL;
	r->start = start;
	r->size = size;
	r->kind = t->kind;
	label = getenv(t->label_env);
	snprintf(r->label, sizeof(r->label), "%s",
		 label && *label ? label : t->name);
	return 0;
}

int mv_open(void)
{
	int fd = open(MEMVIEW_DEVICE, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int mv_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

int mv_get_info(int fd, struct memview_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return mv_ioctl(fd, MEMVIEW_IOCTL_GET_INFO, info);
}

void mv_region_add_init(struct memview_region_add *add, __u64 start,
			__u64 length, __u32 kind, const char *label)
{
	memset(add, 0, sizeof(*add));
	add->size = sizeof(*add);
	add->phys_addr = start;
	add->length = length;
	add->kind = kind;
	snprintf(add->label, sizeof(add->label), "%s", label ? label : "");
}

int mv_region_add(int fd, __u64 start, __u64 length, __u32 kind,
		  const char *label, struct memview_region_add *out)
{
	struct memview_region_add add;
	int ret;

	mv_region_add_init(&add, start, length, kind, label);
	ret = mv_ioctl(fd, MEMVIEW_IOCTL_REGION_ADD, &add);
	if (out)
		*out = add;
	return ret;
}

int mv_region_remove(int fd, __u32 id, __u32 flags, __u64 *evacuated)
{
	struct memview_region_remove rm = {
		.size = sizeof(rm),
		.flags = flags,
		.region_id = id,
	};
	int ret;

	ret = mv_ioctl(fd, MEMVIEW_IOCTL_REGION_REMOVE, &rm);
	if (evacuated)
		*evacuated = rm.out_pages_evacuated;
	return ret;
}

/*
 * REGION_LIST and PROC_LIST share a shape: size, flags, a count in/out, a
 * 32-bit word and a user pointer (SLICE_LIST has that too, plus
 * entry_size: see mv_slice_list()).  Ask for the count, then for the
 * entries; retry if the count grew in between.  @entry_size 0: the struct
 * is the 24-byte shape; otherwise SLICE_LIST's, with that entry_size.
 */
static int mv_list(int fd, unsigned long cmd, size_t esize, __u32 flags,
		   __u32 word, __u32 entry_size, void **out, __u32 *n)
{
	struct {
		__u32 size;
		__u32 flags;
		__u32 num;
		__u32 word;
		__aligned_u64 ptr;
		__u32 entry_size;
		__u32 __reserved;
	} l;
	size_t lsize = entry_size ? sizeof(l) : offsetof(typeof(l), entry_size);
	void *buf = NULL;
	__u32 room = 0;
	int ret;

	/* The layout above must match all three structs. */
	_Static_assert(offsetof(typeof(l), entry_size) ==
		       sizeof(struct memview_region_list), "");
	_Static_assert(offsetof(typeof(l), entry_size) ==
		       sizeof(struct memview_proc_list), "");
	_Static_assert(sizeof(l) == sizeof(struct memview_slice_list), "");
	_Static_assert(offsetof(typeof(l), entry_size) ==
		       offsetof(struct memview_slice_list, entry_size), "");

	for (;;) {
		memset(&l, 0, sizeof(l));
		l.size = lsize;
		l.flags = flags;
		l.num = room;
		l.word = word;
		l.ptr = (uintptr_t)buf;
		l.entry_size = entry_size;
		ret = mv_ioctl(fd, cmd, &l);
		if (ret != -EMSGSIZE)
			break;
		if (l.num <= room) {	/* EMSGSIZE must report more */
			ret = -EPROTO;
			break;
		}
		room = l.num;
		free(buf);
		buf = calloc(room, esize);
		if (!buf)
			return -ENOMEM;
	}
	if (ret < 0) {
		free(buf);
		return ret;
	}
	*n = l.num;
	if (!l.num) {
		free(buf);
		buf = NULL;
	}
	*out = buf;
	return 0;
}

int mv_region_list(int fd, struct memview_region_entry **out, __u32 *n)
{
	return mv_list(fd, MEMVIEW_IOCTL_REGION_LIST, sizeof(**out), 0, 0, 0,
		       (void **)out, n);
}

int mv_slice_list(int fd, __u32 flags, __u32 region_id,
		  struct memview_slice_entry **out, __u32 *n)
{
	struct memview_slice_entry *s;
	char *v1;
	__u32 i;
	int ret;

	ret = mv_list(fd, MEMVIEW_IOCTL_SLICE_LIST, sizeof(**out), flags,
		      region_id, sizeof(**out), (void **)out, n);
	if (ret != -E2BIG)
		return ret;
	/*
	 * A module from before MEMVIEW_FEATURE_RAS: the 24-byte struct and
	 * 80-byte entries, widened here with the RAS fields zero.
	 */
	ret = mv_list(fd, MEMVIEW_IOCTL_SLICE_LIST,
		      MEMVIEW_SLICE_ENTRY_SIZE_V1, flags, region_id, 0,
		      (void **)&v1, n);
	if (ret || !*n) {
		*out = NULL;
		return ret;
	}
	s = calloc(*n, sizeof(*s));
	if (!s) {
		free(v1);
		return -ENOMEM;
	}
	for (i = 0; i < *n; i++)
		memcpy(&s[i], v1 + (size_t)i * MEMVIEW_SLICE_ENTRY_SIZE_V1,
		       MEMVIEW_SLICE_ENTRY_SIZE_V1);
	free(v1);
	*out = s;
	return 0;
}

int mv_proc_list(int fd, struct memview_proc_entry **out, __u32 *n)
{
	return mv_list(fd, MEMVIEW_IOCTL_PROC_LIST, sizeof(**out), 0, 0, 0,
		       (void **)out, n);
}

int mv_region_totals(int fd, __u32 region_id, struct mv_totals *t)
{
	struct memview_slice_entry *s;
	__u32 n, i;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = mv_slice_list(fd, MEMVIEW_SLICE_LIST_REGION, region_id, &s, &n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		if (s[i].region_id != region_id)
			continue;
		t->nr_slices++;
		t->total_pages += s[i].total_pages;
		t->used_pages += s[i].used_pages;
		t->free_pages += s[i].free_pages;
		t->poisoned_pages += s[i].poisoned_pages;
		t->migrations_in += s[i].migrations_in;
		t->migrations_out += s[i].migrations_out;
		t->errors += s[i].errors;
	}
	free(s);
	return 0;
}

int mv_wait_region_used(int fd, __u32 region_id, __u64 want, int timeout_ms,
			__u64 *used)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	struct mv_totals t;
	int waited, ret;

	for (waited = 0;; waited += 10) {
		ret = mv_region_totals(fd, region_id, &t);
		if (ret)
			return ret;
		*used = t.used_pages;
		if (t.used_pages == want || waited >= timeout_ms)
			return 0;
		nanosleep(&ts, NULL);
	}
}

int mv_remove_overlapping(int fd, __u64 start, __u64 size, bool stale)
{
	struct memview_region_entry *r;
	struct memview_info info;
	__u64 evacuated;
	int ret, removed = 0;
	__u32 n, i;

	ret = mv_get_info(fd, &info);
	if (ret)
		return ret;
	ret = mv_region_list(fd, &r, &n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		if (r[i].phys_addr >= start + size ||
		    r[i].phys_addr + r[i].length <= start)
			continue;
		ret = mv_region_remove(fd, r[i].id,
				       MEMVIEW_REGION_REMOVE_EVACUATE |
				       mv_forget_bad(&info), &evacuated);
		if (stale || ret)
			mv_log("removing %sregion %u (%#llx+%#llx): %s, %llu pages evacuated",
			       stale ? "stale " : "", r[i].id,
			       (unsigned long long)r[i].phys_addr,
			       (unsigned long long)r[i].length,
			       ret ? strerror(-ret) : "ok",
			       (unsigned long long)evacuated);
		if (ret)
			break;
		removed++;
	}
	free(r);
	return ret ? ret : removed;
}

int mv_attach(int fd, pid_t pid, __u64 dram_budget)
{
	struct memview_proc_attach a = {
		.size = sizeof(a),
		.pid = pid,
		.dram_budget = dram_budget,
	};

	return mv_ioctl(fd, MEMVIEW_IOCTL_PROC_ATTACH, &a);
}

int mv_attach_flags(int fd, pid_t pid, __u32 flags, __u64 dram_budget)
{
	struct memview_proc_attach a = {
		.size = sizeof(a),
		.flags = flags,
		.pid = pid,
		.dram_budget = dram_budget,
	};

	return mv_ioctl(fd, MEMVIEW_IOCTL_PROC_ATTACH, &a);
}

int mv_detach(int fd, pid_t pid)
{
	struct memview_proc_detach d = {
		.size = sizeof(d),
		.pid = pid,
	};

	return mv_ioctl(fd, MEMVIEW_IOCTL_PROC_DETACH, &d);
}

int mv_get_policy(int fd, struct memview_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
	return mv_ioctl(fd, MEMVIEW_IOCTL_GET_POLICY, p);
}

int mv_set_policy(int fd, struct memview_policy *p)
{
	p->size = sizeof(*p);
	return mv_ioctl(fd, MEMVIEW_IOCTL_SET_POLICY, p);
}

int mv_stats(int fd, pid_t pid, struct memview_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	s->pid = pid;
	return mv_ioctl(fd, MEMVIEW_IOCTL_STATS, s);
}

int mv_wait_rounds(int fd, __u64 n, __u64 *now)
{
	struct timespec ts = { .tv_nsec = 5 * 1000 * 1000 };
	struct memview_stats s;
	__u64 start, last;
	int ret, still = 0;

	ret = mv_stats(fd, 0, &s);
	if (ret)
		return ret;
	start = last = s.out_rounds;
	while (s.out_rounds - start < n) {
		nanosleep(&ts, NULL);
		ret = mv_stats(fd, 0, &s);
		if (ret)
			return ret;
		if (s.out_rounds != last) {
			last = s.out_rounds;
			still = 0;
		} else if ((still += 5) >= MV_ROUND_STALL_MS) {
			mv_log("the placer's round counter stayed at %llu for %d ms",
			       (unsigned long long)last, MV_ROUND_STALL_MS);
			ret = -ETIMEDOUT;
			break;
		}
	}
	if (now)
		*now = s.out_rounds;
	return ret;
}

void mv_migrate_init(struct memview_migrate *m, pid_t pid,
		     const void *addr, size_t len, __u32 flags, int node)
{
	memset(m, 0, sizeof(*m));
	m->size = sizeof(*m);
	m->flags = flags;
	m->pid = pid;
	m->node = node;
	m->addr = (uintptr_t)addr;
	m->length = len;
}

int mv_demote(int fd, pid_t pid, const void *addr, size_t len,
	      struct memview_migrate *m)
{
	mv_migrate_init(m, pid, addr, len, 0, 0);
	return mv_ioctl(fd, MEMVIEW_IOCTL_DEMOTE, m);
}

int mv_promote(int fd, pid_t pid, const void *addr, size_t len, __u32 flags,
	       int node, struct memview_migrate *m)
{
	mv_migrate_init(m, pid, addr, len, flags, node);
	return mv_ioctl(fd, MEMVIEW_IOCTL_PROMOTE, m);
}

void mv_migrate_print(const char *what, const struct memview_migrate *m)
{
	mv_log("%s: moved %llu not_present %llu already %llu busy %llu no_space %llu unsupported %llu thp_split_failed %llu shared %llu",
	       what, (unsigned long long)m->out_moved,
	       (unsigned long long)m->out_not_present,
	       (unsigned long long)m->out_already,
	       (unsigned long long)m->out_busy,
	       (unsigned long long)m->out_no_space,
	       (unsigned long long)m->out_unsupported,
	       (unsigned long long)m->out_thp_split_failed,
	       (unsigned long long)m->out_shared);
}

int mv_residency(int fd, pid_t pid, const void *addr, size_t len,
		 struct memview_residency *r,
		 struct memview_residency_entry *ents, __u32 room)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	r->pid = pid;
	r->num_slices = room;
	r->addr = (uintptr_t)addr;
	r->length = len;
	r->slices = (uintptr_t)ents;
	return mv_ioctl(fd, MEMVIEW_IOCTL_RESIDENCY, r);
}

const char *mv_pattern_name(enum mv_pattern p)
{
	switch (p) {
	case MV_PAT_INCREMENT:
		return "increment";
	case MV_PAT_RANDOM:
		return "random";
	case MV_PAT_STAMP:
		return "stamp";
	}
	return "?";
}

static __u64 mv_splitmix64(__u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

#define MV_WORDS_PER_PAGE	(MV_PAGE_SIZE / sizeof(__u64))
#define MV_STAMP_MAGIC		0x4d56000000000000ULL	/* "MV" */

__u64 mv_pattern_word(enum mv_pattern p, __u64 seed, size_t i)
{
	__u64 page, word, stamp;

	switch (p) {
	case MV_PAT_INCREMENT:
		return seed + i;
	case MV_PAT_RANDOM:
		/* counter-mode splitmix64: word i of the stream seeded @seed */
		return mv_splitmix64(seed * 0x9e3779b97f4a7c15ULL + i);
	case MV_PAT_STAMP:
		/* seed (a pid) | page index | word index, magic in word 0 */
		page = i / MV_WORDS_PER_PAGE;
		word = i % MV_WORDS_PER_PAGE;
		stamp = (seed & 0xffffffffULL) << 32 |
			(page & 0x7fffffULL) << 9 | word;
		return word ? stamp : stamp ^ MV_STAMP_MAGIC;
	}
	return 0;
}

#define MV_FNV_BASIS	0xcbf29ce484222325ULL
#define MV_FNV_PRIME	0x100000001b3ULL

__u64 mv_fill(void *base, size_t off, size_t len, enum mv_pattern p,
	      __u64 seed)
{
	volatile __u64 *w = base;
	__u64 h = MV_FNV_BASIS, v;
	size_t i;

	for (i = off / 8; i < (off + len) / 8; i++) {
		v = mv_pattern_word(p, seed, i);
		w[i] = v;
		h = (h ^ v) * MV_FNV_PRIME;
	}
	return h;
}

__u64 mv_checksum(const void *base, size_t off, size_t len)
{
	const volatile __u64 *w = base;
	__u64 h = MV_FNV_BASIS;
	size_t i;

	for (i = off / 8; i < (off + len) / 8; i++)
		h = (h ^ w[i]) * MV_FNV_PRIME;
	return h;
}

int mv_verify(const void *base, size_t off, size_t len, enum mv_pattern p,
	      __u64 seed, size_t *bad_off)
{
	const volatile __u64 *w = base;
	size_t i;

	for (i = off / 8; i < (off + len) / 8; i++) {
		__u64 want = mv_pattern_word(p, seed, i), got = w[i];

		if (got != want) {
			mv_log("mismatch at byte %#zx (page %zu): %#llx, expected %#llx (%s, seed %#llx)",
			       i * 8, i * 8 / MV_PAGE_SIZE,
			       (unsigned long long)got,
			       (unsigned long long)want, mv_pattern_name(p),
			       (unsigned long long)seed);
			if (bad_off)
				*bad_off = i * 8;
			return -1;
		}
	}
	return 0;
}

void mv_touch_pages(void *base, size_t len)
{
	volatile char *c = base;
	size_t off;

	for (off = 0; off < len; off += MV_PAGE_SIZE)
		c[off] = c[off];
}

void *mv_map_anon(size_t len, size_t align, bool thp)
{
	size_t extra = align > MV_PAGE_SIZE ? align : 0;
	char *p, *a;

	p = mmap(NULL, len + extra, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = p;
	if (extra) {
		a = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
		if (a > p)
			munmap(p, a - p);
		if (a + len < p + len + extra)
			munmap(a + len, p + len + extra - (a + len));
	}
	/* Without CONFIG_TRANSPARENT_HUGEPAGE madvise() fails: no matter. */
	madvise(a, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	return a;
}

void mv_unmap_anon(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

/* Is the running kernel @major.@minor or newer? */
bool mv_kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

long mv_anon_huge_kb(const void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool in = false;
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

int mv_pagemap_count(pid_t pid, const void *addr, size_t len, __u64 phys,
		     __u64 phys_len, size_t *present, size_t *in_range)
{
	size_t i, n = len / MV_PAGE_SIZE;
	char path[64];
	__u64 e, pa;
	int fd, kf, ret = 0;

	*present = *in_range = 0;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	kf = open("/proc/kpageflags", O_RDONLY);
	for (i = 0; i < n; i++) {
		off_t off = ((uintptr_t)addr / MV_PAGE_SIZE + i) * sizeof(e);
		__u64 flags = 0;

		if (pread(fd, &e, sizeof(e), off) != sizeof(e)) {
			ret = -EIO;
			break;
		}
		/* Bit 63: present; bits 0-54: the pfn. */
		if (!(e >> 63) || !(e & ((1ULL << 55) - 1)))
			continue;
		pa = (e & ((1ULL << 55) - 1)) * MV_PAGE_SIZE;
		/* The zero page is mapped, but it is no page of the process. */
		if (kf >= 0 &&
		    pread(kf, &flags, sizeof(flags),
			  pa / MV_PAGE_SIZE * sizeof(flags)) == sizeof(flags) &&
		    flags & (1ULL << MV_KPF_ZERO_PAGE))
			continue;
		(*present)++;
		if (pa >= phys && pa - phys < phys_len)
			(*in_range)++;
	}
	if (kf >= 0)
		close(kf);
	close(fd);
	return ret;
}

int mv_drop_privileges(void)
{
	if (setgroups(0, NULL))
		return -errno;
	if (setresgid(MV_NOBODY, MV_NOBODY, MV_NOBODY))
		return -errno;
	/* From uid 0 to non-zero ids: the kernel clears every capability. */
	if (setresuid(MV_NOBODY, MV_NOBODY, MV_NOBODY))
		return -errno;
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		return -errno;
	return 0;
}

__u64 mv_cap_eff(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	unsigned long long cap = ~0ULL;
	char line[256];

	if (!f)
		return cap;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &cap) == 1)
			break;
	fclose(f);
	return cap;
}

int mv_chan_open(struct mv_chan *c)
{
	if (pipe2(c->to_child, O_CLOEXEC))
		return -errno;
	if (pipe2(c->to_parent, O_CLOEXEC)) {
		int err = -errno;

		close(c->to_child[0]);
		close(c->to_child[1]);
		return err;
	}
	return 0;
}

static void mv_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void mv_chan_parent(struct mv_chan *c)
{
	mv_close_fd(&c->to_child[0]);
	mv_close_fd(&c->to_parent[1]);
}

void mv_chan_child(struct mv_chan *c)
{
	mv_close_fd(&c->to_child[1]);
	mv_close_fd(&c->to_parent[0]);
}

pid_t mv_chan_fork(struct mv_chan *c)
{
	pid_t pid;
	int ret = mv_chan_open(c);

	if (ret)
		return ret;
	/* The child must not write out the parent's buffered output again. */
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		mv_chan_close(c);
		return ret;
	}
	if (pid)
		mv_chan_parent(c);
	else
		mv_chan_child(c);
	return pid;
}

void mv_chan_close(struct mv_chan *c)
{
	mv_close_fd(&c->to_child[0]);
	mv_close_fd(&c->to_child[1]);
	mv_close_fd(&c->to_parent[0]);
	mv_close_fd(&c->to_parent[1]);
}

int mv_chan_send(int fd, char msg)
{
	return write(fd, &msg, 1) == 1 ? 0 : -EPIPE;
}

int mv_chan_recv(int fd, char *msg, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ret;

	do {
		ret = poll(&p, 1, timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (!ret)
		return -ETIMEDOUT;
	if (read(fd, msg, 1) != 1)
		return -EPIPE;	/* the other side exited */
	return 0;
}

int mv_wait_child(pid_t pid, int timeout_ms)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	int status, waited;

	for (waited = 0; waited < timeout_ms; waited += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0)
			return -errno;
		nanosleep(&ts, NULL);
	}
	mv_log("child %d did not finish in %d ms: killing it", pid, timeout_ms);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -ETIMEDOUT;
}

/* One line of /proc/iomem: its range, its depth (indent) and its name. */
struct mv_iomem {
	__u64 start, end;	/* inclusive */
	int depth;
	char name[128];
};

static int mv_iomem_next(FILE *f, struct mv_iomem *e)
{
	char line[256];
	unsigned long long s, t;
	int n = 0;

	while (fgets(line, sizeof(line), f)) {
		char *name;

		n = strspn(line, " ");
		if (sscanf(line + n, "%llx-%llx : ", &s, &t) != 2)
			continue;
		name = strstr(line, " : ");
		if (!name)
			continue;
		e->start = s;
		e->end = t;
		e->depth = n / 2;
		snprintf(e->name, sizeof(e->name), "%s", name + 3);
		e->name[strcspn(e->name, "\n")] = 0;
		return 1;
	}
	return 0;
}

/* Does [start, start + len) meet a line of /proc/iomem named @prefix...? */
static bool mv_overlaps(__u64 start, __u64 len, const char *prefix)
{
	FILE *f = fopen("/proc/iomem", "r");
	struct mv_iomem e;
	bool hit = false;

	if (!f)
		return true;
	while (!hit && mv_iomem_next(f, &e))
		hit = !strncmp(e.name, prefix, strlen(prefix)) &&
		      e.start < start + len && e.end >= start;
	fclose(f);
	return hit;
}

/* RAM, or memory memview may take (CXL window, PMEM, soft-reserved)? */
static bool mv_overlaps_memory(__u64 start, __u64 len)
{
	static const char *const names[] = {
		"System RAM", "Persistent Memory", "CXL Window", "Soft Reserved",
	};
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (mv_overlaps(start, len, names[i]))
			return true;
	return false;
}

int mv_find_system_ram(__u64 len, __u64 *start)
{
	FILE *f = fopen("/proc/iomem", "r");
	struct mv_iomem e;
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (mv_iomem_next(f, &e)) {
		__u64 s = (e.start + MV_ALIGN - 1) & ~(MV_ALIGN - 1);

		/* iomem shows 0 for everything to readers without privileges */
		if (strcmp(e.name, "System RAM") || !e.end)
			continue;
		if (s + len - 1 <= e.end && s + len > s) {
			*start = s;
			ret = 0;	/* keep the highest: far from the kernel image */
		}
	}
	fclose(f);
	return ret;
}

/*
 * A range that is not RAM (so the System RAM check does not answer first)
 * and not device memory memview may take (no CXL window, PMEM or
 * soft-reserved range in it).  Preferred: the PCI ECAM window, inserted busy
 * by arch/x86/pci/mmconfig-shared.c ("PCI MMCONFIG" on 6.1, "PCI ECAM" on
 * 6.12; 256 MiB at 0xb0000000 on q35).  Fallback: the @len-aligned window
 * around the local APIC or the IO-APIC (just below 4 GiB).
 */
int mv_find_non_device_range(__u64 len, __u64 *start, char *what,
			     size_t what_len)
{
	FILE *f = fopen("/proc/iomem", "r");
	struct mv_iomem e, apic = { 0 };
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (mv_iomem_next(f, &e)) {
		__u64 s = (e.start + MV_ALIGN - 1) & ~(MV_ALIGN - 1);

		if (!e.end)
			continue;
		if ((!strncmp(e.name, "PCI MMCONFIG", 12) ||
		     !strncmp(e.name, "PCI ECAM", 8)) &&
		    s + len - 1 <= e.end && !mv_overlaps_memory(s, len)) {
			*start = s;
			snprintf(what, what_len, "%s", e.name);
			ret = 0;
			break;
		}
		if (!apic.end && (!strcmp(e.name, "Local APIC") ||
				  !strncmp(e.name, "IOAPIC", 6)))
			apic = e;
	}
	fclose(f);
	if (ret && apic.end && !(len & (len - 1))) {
		__u64 s = apic.start & ~(len - 1);

		if (!mv_overlaps_memory(s, len)) {
			*start = s;
			snprintf(what, what_len, "window around %s", apic.name);
			ret = 0;
		}
	}
	return ret;
}

bool mv_iomem_has(__u64 start, __u64 len, const char *name)
{
	FILE *f = fopen("/proc/iomem", "r");
	struct mv_iomem e;
	bool found = false;

	if (!f)
		return false;
	while (!found && mv_iomem_next(f, &e))
		found = !strcmp(e.name, name) && e.start >= start &&
			e.end < start + len;
	fclose(f);
	return found;
}

int mv_run(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	mv_log("running: %s", cmd);
	fflush(NULL);
	/* Keep stdout for TAP: the command's output goes to stderr. */
	snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), " 1>&2");
	status = system(cmd);
	if (status < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- Fault isolation (Documentation/ras.rst) ---- */

const char *mv_slice_state_name(__u32 state)
{
	static const char *const names[] = {
		[MEMVIEW_SLICE_ONLINE] = "ONLINE",
		[MEMVIEW_SLICE_DEGRADED] = "DEGRADED",
		[MEMVIEW_SLICE_FENCING] = "FENCING",
		[MEMVIEW_SLICE_FENCED] = "FENCED",
		[MEMVIEW_SLICE_RETIRED] = "RETIRED",
		[MEMVIEW_SLICE_REMOVING] = "REMOVING",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

int mv_slice_get(int fd, __u32 id, struct memview_slice_entry *e)
{
	struct memview_slice_entry *s;
	int ret = -ENOENT;
	__u32 n, i;

	if (mv_slice_list(fd, 0, 0, &s, &n))
		return -EIO;
	for (i = 0; i < n; i++) {
		if (s[i].id == id) {
			*e = s[i];
			ret = 0;
			break;
		}
	}
	free(s);
	return ret;
}

void mv_slice_print(const struct memview_slice_entry *e)
{
	mv_log("slice %u (region %u #%u) %s reason %u: used %llu free %llu poisoned %llu of %llu; errors %llu (ce %llu, ue %llu, window %llu); evac total %llu moved %llu poisoned %llu pending %llu passes %llu",
	       e->id, e->region_id, e->index, mv_slice_state_name(e->state),
	       e->fence_reason, (unsigned long long)e->used_pages,
	       (unsigned long long)e->free_pages,
	       (unsigned long long)e->poisoned_pages,
	       (unsigned long long)e->total_pages,
	       (unsigned long long)e->errors,
	       (unsigned long long)e->corrected_errors,
	       (unsigned long long)e->uncorrectable_errors,
	       (unsigned long long)e->window_corrected,
	       (unsigned long long)e->evac_total,
	       (unsigned long long)e->evac_moved,
	       (unsigned long long)e->evac_poisoned,
	       (unsigned long long)e->evac_pending,
	       (unsigned long long)e->evac_passes);
}

int mv_wait_slice_settled(int fd, __u32 id, struct memview_slice_entry *e)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	__u64 moved = ~0ULL, passes = ~0ULL;
	int ret, still = 0;

	for (;;) {
		ret = mv_slice_get(fd, id, e);
		if (ret)
			return ret;
		if (e->state != MEMVIEW_SLICE_FENCING)
			return 0;
		if (e->evac_moved != moved || e->evac_passes != passes) {
			moved = e->evac_moved;
			passes = e->evac_passes;
			still = 0;
		} else if ((still += 10) >= MV_FENCE_STALL_MS) {
			mv_log("slice %u made no evacuation progress for %d ms",
			       id, MV_FENCE_STALL_MS);
			mv_slice_print(e);
			return -ETIMEDOUT;
		}
		nanosleep(&ts, NULL);
	}
}

static int mv_fence_call(int fd, unsigned long cmd, __u32 id, __u32 flags,
			 struct memview_slice_fence *out)
{
	struct memview_slice_fence f = {
		.size = sizeof(f),
		.flags = flags,
		.slice_id = id,
	};
	int ret;

	ret = mv_ioctl(fd, cmd, &f);
	if (out)
		*out = f;
	return ret;
}

int mv_fence(int fd, __u32 id, __u32 flags, struct memview_slice_fence *out)
{
	return mv_fence_call(fd, MEMVIEW_IOCTL_SLICE_FENCE, id, flags, out);
}

int mv_unfence(int fd, __u32 id, __u32 flags, struct memview_slice_fence *out)
{
	return mv_fence_call(fd, MEMVIEW_IOCTL_SLICE_UNFENCE, id, flags, out);
}

void mv_error_init(struct memview_error *e)
{
	memset(e, 0, sizeof(*e));
	e->size = sizeof(*e);
}

int mv_inject_slice(int fd, __u32 id, __u32 severity, __u32 count,
		    struct memview_error *out)
{
	struct memview_error e;
	int ret;

	mv_error_init(&e);
	e.flags = MEMVIEW_INJECT_SLICE;
	e.slice_id = id;
	e.severity = severity;
	e.count = count;
	ret = mv_ioctl(fd, MEMVIEW_IOCTL_ERROR_INJECT, &e);
	if (out)
		*out = e;
	return ret;
}

int mv_report(int fd, __u64 phys, __u64 len, __u32 severity, __u32 source,
	      struct memview_error *out)
{
	struct memview_error e;
	int ret;

	mv_error_init(&e);
	e.phys_addr = phys;
	e.length = len;
	e.severity = severity;
	e.source = source;
	ret = mv_ioctl(fd, MEMVIEW_IOCTL_ERROR_REPORT, &e);
	if (out)
		*out = e;
	return ret;
}

int mv_residency_slice(int fd, pid_t pid, const void *addr, size_t len,
		       __u32 *slice_id, __u64 *pages)
{
	struct memview_residency_entry ents[64];
	struct memview_residency r;
	__u32 i;
	int ret;

	ret = mv_residency(fd, pid, addr, len, &r, ents, 64);
	if (ret)
		return ret;
	*pages = 0;
	for (i = 0; i < r.num_slices; i++) {
		if (ents[i].pages > *pages) {
			*pages = ents[i].pages;
			*slice_id = ents[i].slice_id;
		}
	}
	return *pages ? 0 : -ENOENT;
}

__u64 mv_residency_in(int fd, pid_t pid, const void *addr, size_t len,
		      __u32 slice_id)
{
	struct memview_residency_entry ents[64];
	struct memview_residency r;
	__u32 i;

	if (mv_residency(fd, pid, addr, len, &r, ents, 64))
		return ~0ULL;
	for (i = 0; i < r.num_slices; i++)
		if (ents[i].slice_id == slice_id)
			return ents[i].pages;
	return 0;
}

/* SIGBUS probing: the handler jumps back to the probe with the siginfo. */
static sigjmp_buf mv_sigbus_env;
static volatile sig_atomic_t mv_sigbus_armed;
static siginfo_t mv_sigbus_info;

static void mv_sigbus_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!mv_sigbus_armed) {
		/* Not probing: die of it as if there were no handler. */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	mv_sigbus_info = *si;
	mv_sigbus_armed = 0;
	siglongjmp(mv_sigbus_env, 1);
}

static int mv_sigbus_arm(struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = mv_sigbus_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, old) ? -errno : 0;
}

static void mv_sigbus_out(struct mv_sigbus *out, int hit)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	out->hit = hit;
	if (hit) {
		out->code = mv_sigbus_info.si_code;
		out->addr = mv_sigbus_info.si_addr;
		out->addr_lsb = mv_sigbus_info.si_addr_lsb;
	}
}

int mv_probe_read(const void *addr, struct mv_sigbus *out)
{
	struct sigaction old;
	int hit, ret;

	ret = mv_sigbus_arm(&old);
	if (ret)
		return ret;
	if (sigsetjmp(mv_sigbus_env, 1)) {
		hit = 1;
	} else {
		mv_sigbus_armed = 1;
		(void)*(const volatile char *)addr;
		mv_sigbus_armed = 0;
		hit = 0;
	}
	sigaction(SIGBUS, &old, NULL);
	mv_sigbus_out(out, hit);
	return hit;
}

int mv_probe_verify(const void *base, size_t off, size_t len,
		    enum mv_pattern p, __u64 seed, struct mv_sigbus *out)
{
	struct sigaction old;
	int ret;

	ret = mv_sigbus_arm(&old);
	if (ret)
		return ret;
	if (sigsetjmp(mv_sigbus_env, 1)) {
		ret = 1;
	} else {
		mv_sigbus_armed = 1;
		ret = mv_verify(base, off, len, p, seed, NULL) ? -1 : 0;
		mv_sigbus_armed = 0;
	}
	sigaction(SIGBUS, &old, NULL);
	mv_sigbus_out(out, ret == 1);
	return ret;
}

int mv_probe_madvise(void *addr, size_t len, int advice, struct mv_sigbus *out)
{
	struct sigaction old;
	volatile int ret;

	ret = mv_sigbus_arm(&old);
	if (ret)
		return ret;
	if (sigsetjmp(mv_sigbus_env, 1)) {
		ret = 1;
	} else {
		mv_sigbus_armed = 1;
		ret = madvise(addr, len, advice) ? -errno : 0;
		mv_sigbus_armed = 0;
	}
	sigaction(SIGBUS, &old, NULL);
	mv_sigbus_out(out, ret == 1);
	return ret;
}

/* ---- Fault injection (a debug kernel's failslab / fail_page_alloc) ---- */

bool mv_fault_inject_setup(const char *pct)
{
	static const char *const dirs[] = { "/sys/kernel/debug/failslab",
					    "/sys/kernel/debug/fail_page_alloc" };
	static const char *const keys[] = { "probability", "interval", "times",
					    "task-filter", "verbose" };
	const char *vals[] = { pct, "1", "-1", "Y", "0" };
	bool any = false;
	unsigned int i, j;
	char path[128];

	for (i = 0; i < 2; i++) {
		bool ok = true;

		for (j = 0; j < 5; j++) {
			FILE *fp;

			snprintf(path, sizeof(path), "%s/%s", dirs[i], keys[j]);
			fp = fopen(path, "w");
			if (!fp) {
				ok = false;
				break;
			}
			fputs(vals[j], fp);
			ok &= fclose(fp) == 0;
		}
		if (ok)
			any = true;
		else
			mv_log("fault injection: %s: %s", path, strerror(errno));
	}
	return any;
}

void mv_fault_inject_thread(bool on)
{
	int fd = open("/proc/thread-self/make-it-fail", O_WRONLY);

	if (fd < 0)
		return;
	if (write(fd, on ? "1" : "0", 1) < 0)
		mv_log("make-it-fail: %s", strerror(errno));
	close(fd);
}

int mv_cg_write(const char *dir, const char *file, const char *val)
{
	char path[256];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

long long mv_cg_read(const char *dir, const char *file, const char *key)
{
	char path[256], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!key) {
			v = strtoll(line, NULL, 0);
			break;
		}
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ' ') {
			v = strtoll(line + strlen(key) + 1, NULL, 0);
			break;
		}
	}
	fclose(f);
	return v;
}

int mv_pagemap_pfn(pid_t pid, const void *addr, __u64 *pfn)
{
	char path[64];
	__u64 e;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = pread(fd, &e, sizeof(e),
		  (off_t)((uintptr_t)addr / MV_PAGE_SIZE) * sizeof(e));
	close(fd);
	if (n != sizeof(e))
		return n < 0 ? -errno : -EIO;
	*pfn = e & (1ULL << 63) ? e & ((1ULL << 55) - 1) : 0;
	return 0;
}
