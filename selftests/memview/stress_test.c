// SPDX-License-Identifier: GPL-2.0
/*
 * stress_test: concurrency stress of memview, bounded and self-stopping.
 *
 * Managed worker processes, each with several threads, keep rewriting
 * checksummed pages (every page carries its index and a generation and is
 * verified before each rewrite) while, concurrently:
 *  - two migrator threads DEMOTE and PROMOTE random, overlapping ranges of
 *    the workers' buffers and scratch areas;
 *  - in each worker, a chaos thread munmap()s and maps again, mremap()s
 *    away and back, mprotect()s, MADV_DONTNEED and MADV_FREEs its scratch
 *    area (the migrators' ranges cover it), checking what each op must
 *    leave; a fork thread forks children that verify the whole buffer as
 *    of the fork (copy-on-write from slices) and exit;
 *  - detach / attach again (manual, or AUTO with a DRAM budget and
 *    FOLLOW_CHILDREN, so the placer moves pages too);
 *  - SET_POLICY with random valid knobs;
 *  - SIGKILL of a worker in the middle of migrations, and a new one;
 *  - a second region added and removed (EVACUATE) under the workers, and
 *    admin fence / unfence of the first region's slices;
 *  - module unload attempts (delete_module, which must be refused).
 * The migrators stop after --iter operations each; then everything stops,
 * every surviving worker verifies all its data, the slices must empty once
 * the workers exit, the regions must be removable without EVACUATE and the
 * module's reference count must be back where it was.
 *
 * usage: stress_test [--iter N] [--workers N] [--threads N] [--mb N]
 *                    [--seed S] [--long] [--cxl-toggle]
 * --long: 4 workers x 3 threads x 32 MiB and 1600 iterations unless given.
 * Defaults (the short form in the suite): 2 workers x 2 threads x 8 MiB,
 * 250 iterations; MEMVIEW_STRESS_ITER / _WORKERS / _MB / _SEED override.
 * Ranges: MEMVIEW_PMEM_RANGE (else MEMVIEW_CXL_RANGE); its first half is
 * the region kept throughout, its second half the one added and removed
 * (--cxl-toggle: MEMVIEW_CXL_RANGE is the one added and removed).  MEMVIEW_FAULT_INJECT=<pct>
 * (a kernel with failslab / fail_page_alloc, i.e. the debug kernel): the
 * migrator threads' allocations fail at that rate; ENOMEM from any call is
 * then accepted, the data must still verify.
 * Output is TAP (one test) with the bytes migrated and the operations done.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "memview_test.h"

#define MAXW		8
#define SCRATCH		(2 * MV_MIB)

enum op {
	OP_DEMOTE, OP_PROMOTE, OP_DETACH, OP_ATTACH, OP_POLICY, OP_KILL,
	OP_REGION_ADD, OP_REGION_REMOVE, OP_FENCE, OP_UNFENCE, OP_UNLOAD,
	OP_FORK, OP_MUNMAP, OP_MREMAP, OP_MPROTECT, OP_DONTNEED, OP_FREE,
	OP_WRITE, OP_MAX
};
static const char *const op_names[OP_MAX] = {
	"demote", "promote", "detach", "attach", "set_policy", "kill9",
	"region_add", "region_remove", "fence", "unfence", "unload_attempt",
	"fork", "munmap", "mremap", "mprotect", "madv_dontneed", "madv_free",
	"page_writes",
};

/* Shared with the workers (MAP_SHARED). */
struct shared {
	atomic_ullong ops[OP_MAX];
	atomic_ullong errors;		/* data or protocol errors */
	atomic_ullong pages_verified;
	atomic_ullong final_verified;
};

struct worker {
	pid_t pid;
	int ctl;			/* write end of its control pipe */
	char *buf;			/* same address in every worker */
	char *scratch;
};

static struct {
	int fd;
	unsigned long iter;
	int nworkers, nthreads;
	size_t len;
	__u64 seed;
	bool fault_inject;
	struct shared *sh;
	struct worker w[MAXW];
	pthread_mutex_t wlock;		/* w[].pid while replacing a worker */
	atomic_bool running;
	atomic_ullong bytes_migrated, bytes_evacuated;
	atomic_int migrators_left;
	struct mv_range keep, toggle;
	bool have_toggle;
	__u32 keep_id, toggle_id;
	atomic_bool toggle_added;
	pthread_mutex_t rlock;		/* toggle region add/remove */
	atomic_ullong unexpected;	/* ioctls failing with errnos not expected */
} g;

/* ---- a per-thread PRNG ---- */
static __u64 mix(__u64 z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u64 rnd(__u64 *s)
{
	return mix(*s += 0x632be59bd9b4e019ULL);
}

static void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void count(enum op o)
{
	atomic_fetch_add(&g.sh->ops[o], 1);
}

static void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void bad(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = snprintf(line, sizeof(line), "# stress FAIL (pid %d): ", getpid());
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	strncat(line, "\n", sizeof(line) - strlen(line) - 1);
	if (write(2, line, strlen(line)) < 0)
		_exit(9);
	atomic_fetch_add(&g.sh->errors, 1);
}

/* An ioctl result that must be one of @ok (0-terminated), or ENOMEM under
 * fault injection. */
static void expect(const char *what, int ret, const int *ok)
{
	if (!ret)
		return;
	for (; *ok; ok++)
		if (-ret == *ok)
			return;
	if (g.fault_inject && ret == -ENOMEM)
		return;
	atomic_fetch_add(&g.unexpected, 1);
	bad("%s: unexpected %s", what, strerror(-ret));
}

/* ---- the worker processes ---- */

/* Word i of page @idx at generation @gen of worker @seed. */
static inline __u64 pword(__u64 seed, size_t idx, __u32 gen, size_t i)
{
	if (!i)
		return (__u64)idx << 32 | gen;
	return mix(seed ^ ((__u64)idx << 24) ^ ((__u64)gen << 44) ^ i);
}

struct wstate {
	char *buf, *scratch, *spare;
	size_t npages;
	__u32 *gen;
	__u64 seed;
	atomic_bool stop;
	pthread_rwlock_t forklock;
	int nthreads;
	__u32 sgen;			/* scratch generation */
};

static struct wstate ws;

static int check_page(const char *base, size_t idx, __u32 gen, __u64 seed,
		      const char *what)
{
	const volatile __u64 *p = (const volatile __u64 *)(base + idx * MV_PAGE_SIZE);
	size_t i;

	for (i = 0; i < MV_PAGE_SIZE / 8; i++) {
		__u64 want = pword(seed, idx, gen, i), got = p[i];

		if (got != want) {
			bad("%s page %zu word %zu: %#llx, expected %#llx (gen %u; header %#llx)",
			    what, idx, i, (unsigned long long)got,
			    (unsigned long long)want, gen,
			    (unsigned long long)p[0]);
			return -1;
		}
	}
	return 0;
}

static void write_page(char *base, size_t idx, __u32 gen, __u64 seed)
{
	volatile __u64 *p = (volatile __u64 *)(base + idx * MV_PAGE_SIZE);
	size_t i;

	for (i = MV_PAGE_SIZE / 8; i-- > 0;)
		p[i] = pword(seed, idx, gen, i);
}

static void *writer(void *arg)
{
	long t = (long)arg;
	__u64 s = ws.seed ^ (__u64)t << 7;
	size_t mine = (ws.npages + ws.nthreads - 1 - t) / ws.nthreads;
	unsigned long n = 0;

	while (!atomic_load(&ws.stop)) {
		size_t idx = (size_t)t + (rnd(&s) % mine) * ws.nthreads;

		pthread_rwlock_rdlock(&ws.forklock);
		check_page(ws.buf, idx, ws.gen[idx], ws.seed, "buf");
		ws.gen[idx]++;
		write_page(ws.buf, idx, ws.gen[idx], ws.seed);
		pthread_rwlock_unlock(&ws.forklock);
		atomic_fetch_add(&g.sh->pages_verified, 1);
		if (++n % 256 == 0)
			atomic_fetch_add(&g.sh->ops[OP_WRITE], 256);
		/* leave the (two, emulated) CPUs some room for migrations */
		if (n % 16 == 0)
			usleep(2000);
	}
	return NULL;
}

#define SPAGES	(SCRATCH / MV_PAGE_SIZE)

static void scratch_fill(void)
{
	size_t i;

	ws.sgen++;
	for (i = 0; i < SPAGES; i++)
		write_page(ws.scratch, i, ws.sgen, ws.seed ^ 0x5c);
}

/* Page i of the scratch: its pattern, or zero if @zero_ok. */
static void scratch_check(const char *base, size_t from, size_t to,
			  bool zero_ok, bool data_ok, const char *what)
{
	size_t i;

	for (i = from; i < to; i++) {
		const volatile __u64 *p = (const volatile __u64 *)(base + i * MV_PAGE_SIZE);

		if (zero_ok && p[0] == 0 && p[MV_PAGE_SIZE / 8 - 1] == 0) {
			size_t j;

			for (j = 0; j < MV_PAGE_SIZE / 8 && !p[j]; j++)
				;
			if (j == MV_PAGE_SIZE / 8)
				continue;
			bad("%s: scratch page %zu neither zero nor data", what, i);
			return;
		}
		if (!data_ok) {
			bad("%s: scratch page %zu not zero (%#llx)", what, i,
			    (unsigned long long)p[0]);
			return;
		}
		if (check_page(base, i, ws.sgen, ws.seed ^ 0x5c, what))
			return;
	}
}

static void *chaos(void *arg)
{
	__u64 s = ws.seed ^ 0xc4a05;

	(void)arg;
	while (!atomic_load(&ws.stop)) {
		size_t a = rnd(&s) % SPAGES, b = a + 1 + rnd(&s) % (SPAGES - a);
		void *p;

		switch (rnd(&s) % 5) {
		case 0:
			munmap(ws.scratch, SCRATCH);
			p = mmap(ws.scratch, SCRATCH, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			if (p != ws.scratch) {
				bad("mmap again: %s", strerror(errno));
				return NULL;
			}
			madvise(p, SCRATCH, MADV_NOHUGEPAGE);
			scratch_check(ws.scratch, 0, SPAGES, true, false, "after munmap");
			count(OP_MUNMAP);
			break;
		case 1:
			p = mremap(ws.scratch, SCRATCH, SCRATCH,
				   MREMAP_MAYMOVE | MREMAP_FIXED, ws.spare);
			if (p != ws.spare) {
				bad("mremap away: %s", strerror(errno));
				return NULL;
			}
			scratch_check(ws.spare, 0, SPAGES, false, true, "mremapped");
			p = mremap(ws.spare, SCRATCH, SCRATCH,
				   MREMAP_MAYMOVE | MREMAP_FIXED, ws.scratch);
			if (p != ws.scratch) {
				bad("mremap back: %s", strerror(errno));
				return NULL;
			}
			scratch_check(ws.scratch, 0, SPAGES, false, true, "mremapped back");
			/* keep the spare reserved, so nothing else lands there */
			if (mmap(ws.spare, SCRATCH, PROT_NONE, MAP_PRIVATE |
				 MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != ws.spare)
				bad("reserving the spare again: %s", strerror(errno));
			count(OP_MREMAP);
			break;
		case 2:
			mprotect(ws.scratch, SCRATCH, PROT_READ);
			scratch_check(ws.scratch, 0, SPAGES, false, true, "read-only");
			msleep(1);
			mprotect(ws.scratch, SCRATCH, PROT_READ | PROT_WRITE);
			count(OP_MPROTECT);
			break;
		case 3:
			madvise(ws.scratch + a * MV_PAGE_SIZE, (b - a) * MV_PAGE_SIZE,
				MADV_DONTNEED);
			scratch_check(ws.scratch, 0, a, false, true, "before DONTNEED");
			scratch_check(ws.scratch, a, b, true, false, "DONTNEED");
			scratch_check(ws.scratch, b, SPAGES, false, true, "after DONTNEED");
			count(OP_DONTNEED);
			break;
		default:
			madvise(ws.scratch + a * MV_PAGE_SIZE, (b - a) * MV_PAGE_SIZE,
				MADV_FREE);
			msleep(1);
			scratch_check(ws.scratch, 0, SPAGES, true, true, "MADV_FREE");
			count(OP_FREE);
			break;
		}
		scratch_fill();
		msleep(2);
	}
	return NULL;
}

/* A child forked with no write in flight checks the buffer as of the fork. */
static void *forker(void *arg)
{
	__u64 s = ws.seed ^ 0xf0f0;

	(void)arg;
	while (!atomic_load(&ws.stop)) {
		pid_t pid;
		int st;

		msleep(200 + rnd(&s) % 300);
		pthread_rwlock_wrlock(&ws.forklock);
		pid = fork();
		if (pid == 0) {
			size_t i;
			int errs = 0;

			for (i = 0; i < ws.npages && errs < 3; i++)
				errs += check_page(ws.buf, i, ws.gen[i], ws.seed,
						   "fork child") ? 1 : 0;
			_exit(errs ? 1 : 0);
		}
		pthread_rwlock_unlock(&ws.forklock);
		if (pid < 0) {
			bad("fork: %s", strerror(errno));
			continue;
		}
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
			bad("fork child %d: status %#x", pid, st);
		count(OP_FORK);
	}
	return NULL;
}

static int worker_main(int ctl, char *buf, char *scratch, char *spare,
		       size_t len, int nthreads)
{
	pthread_t th[16], ch, fk;
	size_t i;
	int t, errs;
	char c;

	memset(&ws, 0, sizeof(ws));
	ws.buf = buf;
	ws.scratch = scratch;
	ws.spare = spare;
	ws.npages = len / MV_PAGE_SIZE;
	ws.nthreads = nthreads;
	ws.seed = mix(g.seed ^ (__u64)getpid());
	ws.gen = calloc(ws.npages, sizeof(*ws.gen));
	pthread_rwlock_init(&ws.forklock, NULL);
	for (i = 0; i < ws.npages; i++)
		write_page(buf, i, 0, ws.seed);
	scratch_fill();
	for (t = 0; t < nthreads; t++)
		pthread_create(&th[t], NULL, writer, (void *)(long)t);
	pthread_create(&ch, NULL, chaos, NULL);
	pthread_create(&fk, NULL, forker, NULL);
	/* Ready: the controller attaches us. */
	if (read(ctl, &c, 1) != 1)
		c = 'S';
	atomic_store(&ws.stop, true);
	for (t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
	pthread_join(ch, NULL);
	pthread_join(fk, NULL);
	/* The final check of everything. */
	errs = 0;
	for (i = 0; i < ws.npages && errs < 10; i++)
		errs += check_page(buf, i, ws.gen[i], ws.seed, "final") ? 1 : 0;
	atomic_fetch_add(&g.sh->final_verified, ws.npages);
	scratch_check(scratch, 0, SPAGES, false, true, "final scratch");
	return atomic_load(&g.sh->errors) ? 1 : 0;
}

/* Every worker maps at the same addresses: the ones reserved here. */
static char *wbuf[MAXW], *wscratch[MAXW], *wspare[MAXW];

static int attach_worker(pid_t pid, __u64 *s)
{
	__u32 flags = 0;
	__u64 budget = 0;

	if (rnd(s) % 3 == 0) {
		flags = MEMVIEW_ATTACH_AUTO | (rnd(s) % 2 ? MEMVIEW_ATTACH_FOLLOW_CHILDREN : 0);
		budget = (1 + rnd(s) % 4) * MV_MIB;
	}
	return mv_attach_flags(g.fd, pid, flags, budget);
}

static pid_t spawn_worker(int i, __u64 *s)
{
	int p[2];
	pid_t pid;
	int ret;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		close(g.fd);
		_exit(worker_main(p[0], wbuf[i], wscratch[i], wspare[i], g.len,
				  g.nthreads));
	}
	close(p[0]);
	g.w[i].pid = pid;
	g.w[i].ctl = p[1];
	g.w[i].buf = wbuf[i];
	g.w[i].scratch = wscratch[i];
	ret = attach_worker(pid, s);
	expect("PROC_ATTACH new worker", ret, (const int[]){ 0 });
	return pid;
}

static pid_t pick_worker(__u64 *s, int *slot)
{
	pid_t pid;

	pthread_mutex_lock(&g.wlock);
	*slot = (int)(rnd(s) % g.nworkers);
	pid = g.w[*slot].pid;
	pthread_mutex_unlock(&g.wlock);
	return pid;
}

/* ---- controller threads ---- */

static void *migrator(void *arg)
{
	__u64 s = g.seed ^ (__u64)(long)arg << 20;
	unsigned long n;
	static const int ok[] = { ENOENT, ESRCH, 0 };

	/* with fault injection, the migrators' calls are the ones that fail */
	if (g.fault_inject)
		mv_fault_inject_thread(true);
	for (n = 0; n < g.iter; n++) {
		struct memview_migrate m;
		int slot, ret;
		pid_t pid = pick_worker(&s, &slot);
		bool demote = rnd(&s) % 2;
		char *base;
		size_t span, off, len;

		if (rnd(&s) % 4 == 0) {
			base = g.w[slot].scratch;
			span = SCRATCH;
		} else {
			base = g.w[slot].buf;
			span = g.len;
		}
		if (rnd(&s) % 2) {
			/* all of it: every page moves (alternating directions) */
			off = 0;
			len = span;
			demote = n % 2 == 0;
		} else {
			off = (rnd(&s) % (span / MV_PAGE_SIZE)) * MV_PAGE_SIZE;
			len = (1 + rnd(&s) % ((span - off) / MV_PAGE_SIZE)) * MV_PAGE_SIZE;
			if (len > 4 * MV_MIB)
				len = 4 * MV_MIB;
		}
		if (demote)
			ret = mv_demote(g.fd, pid, base + off, len, &m);
		else
			ret = mv_promote(g.fd, pid, base + off, len, 0, 0, &m);
		count(demote ? OP_DEMOTE : OP_PROMOTE);
		expect(demote ? "DEMOTE" : "PROMOTE", ret, ok);
		if (!ret) {
			if (mv_migrate_sum(&m) != len / MV_PAGE_SIZE) {
				bad("%s of %zu pages counted %llu",
				    demote ? "DEMOTE" : "PROMOTE", len / MV_PAGE_SIZE,
				    (unsigned long long)mv_migrate_sum(&m));
				mv_migrate_print(demote ? "DEMOTE" : "PROMOTE", &m);
			}
			atomic_fetch_add(&g.bytes_migrated, m.out_moved * MV_PAGE_SIZE);
		}
		/* progress, from the first migrator, every tenth of the run */
		if ((long)arg == 1 && g.iter >= 100 && (n + 1) % (g.iter / 10) == 0)
			printf("# stress: %lu%% of the iterations, %.2f GiB migrated by DEMOTE/PROMOTE\n",
			       (n + 1) * 100 / g.iter,
			       atomic_load(&g.bytes_migrated) / 1073741824.0);
	}
	atomic_fetch_sub(&g.migrators_left, 1);
	return NULL;
}

static void *attacher(void *arg)
{
	__u64 s = g.seed ^ 0xa77ac4;
	static const int ok[] = { ENOENT, ESRCH, EEXIST, 0 };

	(void)arg;
	while (atomic_load(&g.running)) {
		int slot, ret;
		pid_t pid = pick_worker(&s, &slot);

		ret = mv_detach(g.fd, pid);
		count(OP_DETACH);
		expect("PROC_DETACH", ret, ok);
		msleep(rnd(&s) % 20);
		ret = attach_worker(pid, &s);
		count(OP_ATTACH);
		expect("PROC_ATTACH", ret, ok);
		msleep(20 + rnd(&s) % 50);
	}
	return NULL;
}

static void *policy(void *arg)
{
	__u64 s = g.seed ^ 0x9011c7;

	(void)arg;
	while (atomic_load(&g.running)) {
		struct memview_policy p;
		int ret;

		memset(&p, 0, sizeof(p));
		p.valid = MEMVIEW_POLICY_SCAN_INTERVAL | MEMVIEW_POLICY_COLD_ROUNDS |
			  MEMVIEW_POLICY_HOT_ROUNDS | MEMVIEW_POLICY_HYSTERESIS |
			  MEMVIEW_POLICY_PROMOTE_RATE | MEMVIEW_POLICY_DEMOTE_RATE |
			  MEMVIEW_POLICY_SAMPLERS | MEMVIEW_POLICY_PAGES_PER_ROUND;
		p.scan_interval_ms = 20 + rnd(&s) % 200;
		p.cold_rounds = 1 + rnd(&s) % 4;
		p.hot_rounds = 1 + rnd(&s) % 3;
		p.hysteresis_rounds = rnd(&s) % 4;
		p.promote_rate_mbps = rnd(&s) % 3 * 64;
		p.demote_rate_mbps = rnd(&s) % 3 * 64;
		p.samplers = 1 + rnd(&s) % 3;
		p.pages_per_round = 512 + rnd(&s) % 16384;
		ret = mv_set_policy(g.fd, &p);
		count(OP_POLICY);
		expect("SET_POLICY", ret, (const int[]){ 0 });
		msleep(50 + rnd(&s) % 100);
	}
	return NULL;
}

static void *killer(void *arg)
{
	__u64 s = g.seed ^ 0x4b11;

	(void)arg;
	while (atomic_load(&g.running)) {
		int slot, st;
		pid_t pid;

		msleep(300 + rnd(&s) % 700);
		if (!atomic_load(&g.running))
			break;
		pthread_mutex_lock(&g.wlock);
		slot = (int)(rnd(&s) % g.nworkers);
		pid = g.w[slot].pid;
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		close(g.w[slot].ctl);
		if (!WIFSIGNALED(st))
			bad("worker %d ended with %#x before its SIGKILL", pid, st);
		spawn_worker(slot, &s);
		pthread_mutex_unlock(&g.wlock);
		count(OP_KILL);
	}
	return NULL;
}

static void *regions(void *arg)
{
	__u64 s = g.seed ^ 0x7e610;
	static const int rm_ok[] = { EBUSY, 0 };

	(void)arg;
	while (atomic_load(&g.running)) {
		struct memview_slice_entry *sl;
		__u32 n;
		int ret;

		msleep(100 + rnd(&s) % 300);
		if (g.have_toggle) {
			pthread_mutex_lock(&g.rlock);
			if (!atomic_load(&g.toggle_added)) {
				struct memview_region_add a;

				ret = mv_region_add(g.fd, g.toggle.start, g.toggle.size,
						    g.toggle.kind, "stress-toggle", &a);
				count(OP_REGION_ADD);
				expect("REGION_ADD", ret, (const int[]){ 0 });
				if (!ret) {
					g.toggle_id = a.out_region_id;
					atomic_store(&g.toggle_added, true);
				}
			} else {
				__u64 ev = 0;
				bool evac = rnd(&s) % 4;

				ret = mv_region_remove(g.fd, g.toggle_id,
						       evac ? MEMVIEW_REGION_REMOVE_EVACUATE : 0,
						       &ev);
				count(OP_REGION_REMOVE);
				expect("REGION_REMOVE", ret, rm_ok);
				atomic_fetch_add(&g.bytes_evacuated, ev * MV_PAGE_SIZE);
				if (!ret)
					atomic_store(&g.toggle_added, false);
			}
			pthread_mutex_unlock(&g.rlock);
		}
		/* An admin fence of a slice of the kept region, and back. */
		if (rnd(&s) % 3 == 0 &&
		    !mv_slice_list(g.fd, MEMVIEW_SLICE_LIST_REGION, g.keep_id, &sl, &n)) {
			if (n) {
				struct memview_slice_fence fo;
				__u32 id = sl[rnd(&s) % n].id;

				ret = mv_fence(g.fd, id, MEMVIEW_FENCE_WAIT, &fo);
				count(OP_FENCE);
				expect("SLICE_FENCE", ret, (const int[]){ 0 });
				atomic_fetch_add(&g.bytes_evacuated,
						 fo.out_evac_moved * MV_PAGE_SIZE);
				msleep(rnd(&s) % 50);
				ret = mv_unfence(g.fd, id, 0, NULL);
				count(OP_UNFENCE);
				expect("SLICE_UNFENCE", ret, (const int[]){ 0 });
			}
			free(sl);
		}
	}
	return NULL;
}

static void *unloader(void *arg)
{
	(void)arg;
	while (atomic_load(&g.running)) {
		long r = syscall(SYS_delete_module, "memview", O_NONBLOCK);

		count(OP_UNLOAD);
		if (!r) {
			bad("delete_module(memview) succeeded while in use");
			break;
		}
		if (errno != EWOULDBLOCK && errno != EBUSY && errno != EAGAIN &&
		    errno != EPERM)
			bad("delete_module(memview): unexpected %s", strerror(errno));
		msleep(200);
	}
	return NULL;
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

static unsigned long env_ul(const char *name, unsigned long dflt)
{
	const char *e = getenv(name);

	return e && *e ? strtoul(e, NULL, 0) : dflt;
}

static char *reserve(size_t len)
{
	char *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int main(int argc, char **argv)
{
	pthread_t mig[2], att, pol, kil, reg, unl;
	struct memview_policy saved;
	struct memview_stats st0, st1;
	struct timespec t0, t1;
	bool lng = false;
	unsigned long iter = 0;
	int i, refcnt0, refcnt1, fails = 0, ret;
	const char *fi = getenv("MEMVIEW_FAULT_INJECT");
	__u64 s;

	setvbuf(stdout, NULL, _IOLBF, 0);
	g.nworkers = (int)env_ul("MEMVIEW_STRESS_WORKERS", 0);
	g.nthreads = 0;
	g.len = env_ul("MEMVIEW_STRESS_MB", 0) * MV_MIB;
	iter = env_ul("MEMVIEW_STRESS_ITER", 0);
	g.seed = env_ul("MEMVIEW_STRESS_SEED", (unsigned long)time(NULL) ^ getpid());
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--iter") && i + 1 < argc)
			iter = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--workers") && i + 1 < argc)
			g.nworkers = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			g.nthreads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--mb") && i + 1 < argc)
			g.len = strtoul(argv[++i], NULL, 0) * MV_MIB;
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			g.seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--long"))
			lng = true;
		else if (!strcmp(argv[i], "--cxl-toggle"))
			setenv("MEMVIEW_STRESS_CXL_TOGGLE", "1", 1);
		else {
			fprintf(stderr, "usage: %s [--iter N] [--workers N] [--threads N] [--mb N] [--seed S] [--long]\n",
				argv[0]);
			return 2;
		}
	}
	if (getenv("MEMVIEW_STRESS_LONG"))
		lng = true;
	g.iter = iter ? iter : lng ? 1600 : 250;
	if (!g.nworkers)
		g.nworkers = lng ? 4 : 2;
	if (g.nworkers > MAXW)
		g.nworkers = MAXW;
	if (!g.nthreads)
		g.nthreads = lng ? 3 : 2;
	if (g.nthreads > 16)
		g.nthreads = 16;
	if (!g.len)
		g.len = (lng ? 32 : 8) * MV_MIB;
	g.fault_inject = fi && *fi && strcmp(fi, "0") && mv_fault_inject_setup(fi);
	if (fi && *fi && strcmp(fi, "0"))
		printf("# stress: fault injection %s at %s%%\n",
		       g.fault_inject ? "on" : "unavailable", fi);

	printf("TAP version 13\n1..1\n");
	printf("# stress: seed %#llx, %lu iterations per migrator, %d workers x %d threads x %llu MiB\n",
	       (unsigned long long)g.seed, g.iter, g.nworkers, g.nthreads,
	       (unsigned long long)(g.len / MV_MIB));
	if (mv_target_range(&mv_target_pmem, &g.keep) &&
	    mv_target_range(&mv_target_cxl, &g.keep)) {
		printf("ok 1 stress # SKIP no MEMVIEW_PMEM_RANGE or MEMVIEW_CXL_RANGE\n");
		return 0;
	}
	/*
	 * The kept region and the one added and removed: the two halves of
	 * the range (the RAM-backed PMEM one if there is one: emulated CXL
	 * memory is slow under TCG), or with --cxl-toggle the CXL range.
	 */
	if (getenv("MEMVIEW_STRESS_CXL_TOGGLE") && g.keep.kind == MEMVIEW_REGION_PMEM) {
		g.have_toggle = !mv_target_range(&mv_target_cxl, &g.toggle);
	} else if (g.keep.size >= 2 * MV_SLICE_SIZE) {
		g.toggle = g.keep;
		g.toggle.size = g.keep.size / 2 / MV_SLICE_SIZE * MV_SLICE_SIZE;
		g.toggle.start = g.keep.start + g.keep.size - g.toggle.size;
		g.keep.size -= g.toggle.size;
		g.have_toggle = true;
	}

	g.sh = mmap(NULL, sizeof(*g.sh), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	g.fd = mv_open();
	if (g.sh == MAP_FAILED || g.fd < 0) {
		printf("not ok 1 stress # setup\n");
		return 1;
	}
	memset(g.sh, 0, sizeof(*g.sh));
	pthread_mutex_init(&g.wlock, NULL);
	pthread_mutex_init(&g.rlock, NULL);
	mv_remove_overlapping(g.fd, g.keep.start, g.keep.size, true);
	if (g.have_toggle)
		mv_remove_overlapping(g.fd, g.toggle.start, g.toggle.size, true);
	if (mv_get_policy(g.fd, &saved)) {
		printf("not ok 1 stress # GET_POLICY\n");
		return 1;
	}
	refcnt0 = read_refcnt();
	{
		struct memview_region_add a;

		ret = mv_region_add(g.fd, g.keep.start, g.keep.size, g.keep.kind,
				    "stress", &a);
		if (ret) {
			printf("not ok 1 stress # REGION_ADD: %s\n", strerror(-ret));
			return 1;
		}
		g.keep_id = a.out_region_id;
	}
	mv_stats(g.fd, 0, &st0);

	/* The workers' address layout, reserved here and inherited. */
	for (i = 0; i < MAXW; i++) {
		wbuf[i] = reserve(g.len);
		wscratch[i] = reserve(SCRATCH);
		wspare[i] = reserve(SCRATCH);
		if (!wbuf[i] || !wscratch[i] || !wspare[i]) {
			printf("not ok 1 stress # mmap\n");
			return 1;
		}
		mmap(wbuf[i], g.len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		madvise(wbuf[i], g.len, i == 0 ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
		mmap(wscratch[i], SCRATCH, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		madvise(wscratch[i], SCRATCH, MADV_NOHUGEPAGE);
		/* wspare[i] stays reserved (PROT_NONE): mremap's target */
	}
	s = g.seed;
	for (i = 0; i < g.nworkers; i++)
		spawn_worker(i, &s);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	atomic_store(&g.running, true);
	atomic_store(&g.migrators_left, 2);
	pthread_create(&mig[0], NULL, migrator, (void *)1L);
	pthread_create(&mig[1], NULL, migrator, (void *)2L);
	pthread_create(&att, NULL, attacher, NULL);
	pthread_create(&pol, NULL, policy, NULL);
	pthread_create(&kil, NULL, killer, NULL);
	pthread_create(&reg, NULL, regions, NULL);
	pthread_create(&unl, NULL, unloader, NULL);
	pthread_join(mig[0], NULL);
	pthread_join(mig[1], NULL);
	atomic_store(&g.running, false);
	pthread_join(att, NULL);
	pthread_join(pol, NULL);
	pthread_join(kil, NULL);
	pthread_join(reg, NULL);
	pthread_join(unl, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	/* Stop the workers: each verifies all of its data and exits. */
	for (i = 0; i < g.nworkers; i++) {
		int st;

		if (write(g.w[i].ctl, "S", 1) != 1)
			bad("cannot stop worker %d", g.w[i].pid);
		close(g.w[i].ctl);
		st = mv_wait_child(g.w[i].pid, 600000);
		if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			mv_log("worker %d: status %#x", g.w[i].pid, st);
			fails++;
		}
	}
	mv_stats(g.fd, 0, &st1);
	ret = mv_set_policy(g.fd, &saved);
	if (ret) {
		mv_log("restoring the policy: %s", strerror(-ret));
		fails++;
	}

	/*
	 * Every page must be freed, both regions removable without EVACUATE.
	 * Except this process's own: pages it shared copy-on-write with the
	 * workers (libc data, heap, stack from before the forks) moved with
	 * theirs (migration goes through the rmap), and it still maps them.
	 */
	{
		struct memview_residency r;
		__u64 used = ~0ULL, own = 0, want, got;
		struct mv_totals t;
		int tries;

		ret = mv_residency(g.fd, getpid(), NULL, 0, &r, NULL, 0);
		if (ret && ret != -EMSGSIZE)
			mv_log("RESIDENCY of the controller: %s", strerror(-ret));
		own = r.out_slice_pages;
		if (own)
			mv_log("the controller itself maps %llu slice pages (shared copy-on-write with workers)",
			       (unsigned long long)own);
		want = own;
		for (tries = 0; tries < 3000; tries++) {
			got = 0;
			if (!mv_region_totals(g.fd, g.keep_id, &t))
				got += t.used_pages;
			if (atomic_load(&g.toggle_added) &&
			    !mv_region_totals(g.fd, g.toggle_id, &t))
				got += t.used_pages;
			used = got;
			if (used == want)
				break;
			msleep(10);
		}
		if (used != want) {
			mv_log("%llu slice pages still used after every worker exited, %llu of them the controller's",
			       (unsigned long long)used, (unsigned long long)own);
			fails++;
		}
		ret = mv_region_remove(g.fd, g.keep_id,
				       own ? MEMVIEW_REGION_REMOVE_EVACUATE : 0, NULL);
		if (ret) {
			mv_log("REGION_REMOVE %u at the end: %s", g.keep_id, strerror(-ret));
			fails++;
			mv_region_remove(g.fd, g.keep_id, MEMVIEW_REGION_REMOVE_EVACUATE, NULL);
		}
		if (atomic_load(&g.toggle_added)) {
			ret = mv_region_remove(g.fd, g.toggle_id,
					       own ? MEMVIEW_REGION_REMOVE_EVACUATE : 0, NULL);
			if (ret) {
				mv_log("REGION_REMOVE %u at the end: %s", g.toggle_id,
				       strerror(-ret));
				fails++;
				mv_region_remove(g.fd, g.toggle_id,
						 MEMVIEW_REGION_REMOVE_EVACUATE, NULL);
			}
		}
	}
	{
		struct memview_proc_entry *pe;
		__u32 n;

		if (!mv_proc_list(g.fd, &pe, &n)) {
			if (n) {
				mv_log("%u processes still managed after every worker exited", n);
				fails++;
			}
			free(pe);
		}
	}
	close(g.fd);
	refcnt1 = read_refcnt();
	if (refcnt1 != refcnt0 - 1) {
		/* refcnt0 was read with our fd open */
		mv_log("module refcnt %d with our fd open at the start, %d after closing it",
		       refcnt0, refcnt1);
		fails++;
	}

	{
		double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		unsigned long long placer = (st1.out_promotions + st1.out_demotions) -
					    (st0.out_promotions + st0.out_demotions);
		unsigned long long mig = atomic_load(&g.bytes_migrated);
		unsigned long long ev = atomic_load(&g.bytes_evacuated);
		char line[2048];
		int o = 0;

		printf("# stress: %.1f s; migrated by DEMOTE/PROMOTE %llu bytes (%.2f GiB), by the placer %llu bytes, by evacuation %llu bytes; total %.2f GiB\n",
		       secs, mig, mig / 1073741824.0, placer * MV_PAGE_SIZE, ev,
		       (mig + placer * MV_PAGE_SIZE + ev) / 1073741824.0);
		for (i = 0; i < OP_MAX; i++)
			o += snprintf(line + o, sizeof(line) - o, " %s:%llu",
				      op_names[i], (unsigned long long)atomic_load(&g.sh->ops[i]));
		printf("# stress ops:%s\n", line);
		printf("# stress: %llu page checks while running, %llu pages verified at the end, %llu errors, %llu unexpected errnos\n",
		       (unsigned long long)atomic_load(&g.sh->pages_verified),
		       (unsigned long long)atomic_load(&g.sh->final_verified),
		       (unsigned long long)atomic_load(&g.sh->errors),
		       (unsigned long long)atomic_load(&g.unexpected));
	}
	if (fails || atomic_load(&g.sh->errors)) {
		printf("not ok 1 stress # seed %#llx: %d end-state failures, %llu errors\n",
		       (unsigned long long)g.seed, fails,
		       (unsigned long long)atomic_load(&g.sh->errors));
		return 1;
	}
	printf("ok 1 stress\n");
	return 0;
}
