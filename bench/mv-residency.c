// SPDX-License-Identifier: GPL-2.0
/*
 * mv-residency: where a workload's pages are, sampled over time, measured
 * the same way whatever moves them (memview, the kernel's tiering, nobody).
 *
 *   mv-residency --wl-out FILE --cold RANGE[,RANGE...] [--interval MS]
 *                [--duration SEC] [--pingpong-window SEC]
 *                [--pid PID --addr ADDR --len LEN --hot-len HOT]
 *
 * With --wl-out (mv-workload's output file) and no --pid, it waits for the
 * workload's first line (pid=, addr=, len=, hot_len=; printed when the
 * buffer is filled) and takes the range from it; start it before the
 * workload so that nothing is missed.  t = 0 is when it saw that line, or
 * with --start-file FILE when FILE exists.
 *
 * Every --interval ms it reads /proc/PID/pagemap for [ADDR, ADDR + LEN) (the
 * PFNs need CAP_SYS_ADMIN) and classifies every page: not present, in the
 * cold tier (its PFN is in one of the --cold physical ranges START:SIZE,
 * e.g. the CXL region: memview's slices and the kmem node both live there),
 * or in DRAM (any other PFN).  The hot set is [ADDR + hot_off, + HOT);
 * hot_off starts at 0 and follows the "shifted hot_off=N" lines mv-workload
 * writes to --wl-out.  Per page it remembers the tier of the last sample:
 * a change is a migration seen (to the cold tier or to DRAM), and a change
 * that reverses the page's previous change within --pingpong-window
 * seconds is a ping-pong.  Quick round trips between two samples are not
 * seen; the movers' own counters (in /proc/vmstat, memview's stats) are
 * recorded next to these.  One line per sample:
 *
 *   t hot_dram hot_cold hot_pages all_dram all_cold not_present
 *     to_cold to_dram pingpongs hot_off pgdemote pgpromote
 *
 * t in seconds since the first sample; to_cold, to_dram, pingpongs are
 * cumulative pages; pgdemote, pgpromote are the /proc/vmstat sums
 * (pgdemote_*, pgpromote_success) at that time.  It ends when PID exits or
 * after --duration.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_RANGES 8
#define PM_PRESENT (1ULL << 63)
#define PM_PFN_MASK ((1ULL << 55) - 1)

enum { T_NONE, T_DRAM, T_COLD };

static uint64_t cold_lo[MAX_RANGES], cold_hi[MAX_RANGES];
static int nr_cold;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int tier_of(uint64_t e, size_t page)
{
	uint64_t pa;
	int i;

	if (!(e & PM_PRESENT))
		return T_NONE;
	pa = (e & PM_PFN_MASK) * page;
	if (!pa)
		return T_DRAM; /* no PFN visible: should not happen as root */
	for (i = 0; i < nr_cold; i++)
		if (pa >= cold_lo[i] && pa < cold_hi[i])
			return T_COLD;
	return T_DRAM;
}

static void vmstat(unsigned long long *dem, unsigned long long *pro)
{
	char name[64];
	unsigned long long v;
	FILE *f = fopen("/proc/vmstat", "r");

	*dem = *pro = 0;
	if (!f)
		return;
	while (fscanf(f, "%63s %llu", name, &v) == 2) {
		if (!strncmp(name, "pgdemote_", 9))
			*dem += v;
		else if (!strcmp(name, "pgpromote_success"))
			*pro += v;
	}
	fclose(f);
}

/* Last "shifted hot_off=N" in the workload's output, or the old value. */
static size_t follow_shift(const char *path, size_t hot_off)
{
	char line[256];
	FILE *f;

	if (!path || !(f = fopen(path, "r")))
		return hot_off;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "shifted hot_off=", 16))
			hot_off = strtoull(line + 16, NULL, 0);
	fclose(f);
	return hot_off;
}

/* Wait for mv-workload's "pid=" line in path; false after 600 s. */
static bool wait_wl_line(const char *path, int *pid, uint64_t *addr,
			 size_t *len, size_t *hot_len)
{
	char line[512], *p;
	int i;

	for (i = 0; i < 60000; i++) {
		FILE *f = fopen(path, "r");

		if (f) {
			while (fgets(line, sizeof(line), f)) {
				if (strncmp(line, "pid=", 4))
					continue;
				*pid = atoi(line + 4);
				p = strstr(line, " addr=");
				*addr = p ? strtoull(p + 6, NULL, 0) : 0;
				p = strstr(line, " len=");
				*len = p ? strtoull(p + 5, NULL, 0) : 0;
				p = strstr(line, " hot_len=");
				*hot_len = p ? strtoull(p + 9, NULL, 0) : 0;
				fclose(f);
				return true;
			}
			fclose(f);
		}
		usleep(10000);
	}
	return false;
}

static void usage(void)
{
	fputs("usage: mv-residency --wl-out FILE --cold START:SIZE[,START:SIZE...]\n"
	      "                    [--interval MS] [--duration SEC] [--pingpong-window SEC]\n"
	      "                    [--pid PID --addr ADDR --len LEN --hot-len HOT]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "addr", required_argument, NULL, 'a' },
		{ "len", required_argument, NULL, 'l' },
		{ "hot-len", required_argument, NULL, 'H' },
		{ "cold", required_argument, NULL, 'c' },
		{ "wl-out", required_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' },
		{ "pingpong-window", required_argument, NULL, 'P' },
		{ "start-file", required_argument, NULL, 'S' },
		{ 0 }
	};
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len = 0, hot_len = 0;
	size_t hot_off = 0, npages, i, hot_first, hot_end;
	uint64_t addr = 0, *pm;
	double interval_ms = 200, duration = 0, window = 10, t0, t, next;
	const char *wl_out = NULL, *start_file = NULL;
	unsigned long long to_cold = 0, to_dram = 0, pingpongs = 0, dem, pro;
	unsigned char *tier, *lastdir;
	float *lastmove;
	char path[64], *s, *tok, *save;
	int pid = 0, fd, opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': pid = atoi(optarg); break;
		case 'a': addr = strtoull(optarg, NULL, 0); break;
		case 'l': len = strtoull(optarg, NULL, 0); break;
		case 'H': hot_len = strtoull(optarg, NULL, 0); break;
		case 'c':
			s = strdup(optarg);
			for (tok = strtok_r(s, ",", &save); tok && nr_cold < MAX_RANGES;
			     tok = strtok_r(NULL, ",", &save)) {
				char *colon = strchr(tok, ':');

				if (!colon)
					usage();
				cold_lo[nr_cold] = strtoull(tok, NULL, 0);
				cold_hi[nr_cold] = cold_lo[nr_cold] +
						   strtoull(colon + 1, NULL, 0);
				nr_cold++;
			}
			free(s);
			break;
		case 'w': wl_out = optarg; break;
		case 'i': interval_ms = atof(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'P': window = atof(optarg); break;
		case 'S': start_file = optarg; break;
		default: usage();
		}
	}
	if (pid <= 0 && wl_out &&
	    !wait_wl_line(wl_out, &pid, &addr, &len, &hot_len)) {
		fprintf(stderr, "mv-residency: no pid= line in %s\n", wl_out);
		return 2;
	}
	if (pid <= 0 || !addr || !len || !nr_cold || interval_ms <= 0)
		usage();
	/* --start-file: begin when it exists (after a setup step) */
	while (start_file && access(start_file, F_OK) && !kill(pid, 0))
		usleep(10000);
	npages = len / page;
	pm = malloc(npages * sizeof(*pm));
	tier = calloc(npages, 1);
	lastdir = calloc(npages, 1);
	lastmove = calloc(npages, sizeof(*lastmove));
	if (!pm || !tier || !lastdir || !lastmove)
		return 2;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror("mv-residency: open pagemap");
		return 2;
	}
	printf("# t hot_dram hot_cold hot_pages all_dram all_cold not_present to_cold to_dram pingpongs hot_off pgdemote pgpromote\n");
	t0 = now();
	next = t0;
	for (;;) {
		size_t hd = 0, hc = 0, ad = 0, ac = 0, np = 0;
		ssize_t r = pread(fd, pm, npages * sizeof(*pm),
				  (off_t)(addr / page * sizeof(*pm)));

		if (r != (ssize_t)(npages * sizeof(*pm)) || kill(pid, 0))
			break;
		t = now() - t0;
		hot_off = follow_shift(wl_out, hot_off);
		hot_first = hot_off / page;
		hot_end = hot_first + hot_len / page;
		for (i = 0; i < npages; i++) {
			int tr = tier_of(pm[i], page);
			int hot = i >= hot_first && i < hot_end;

			if (tr == T_NONE) {
				np++;
				continue;
			}
			if (tr == T_DRAM) {
				ad++;
				hd += hot;
			} else {
				ac++;
				hc += hot;
			}
			if (tier[i] != T_NONE && tier[i] != tr) {
				if (tr == T_COLD)
					to_cold++;
				else
					to_dram++;
				if (lastdir[i] && lastdir[i] != tr &&
				    t - lastmove[i] <= window)
					pingpongs++;
				lastdir[i] = (unsigned char)tr;
				lastmove[i] = (float)t;
			}
			tier[i] = (unsigned char)tr;
		}
		vmstat(&dem, &pro);
		printf("%.3f %zu %zu %zu %zu %zu %zu %llu %llu %llu %zu %llu %llu\n",
		       t, hd, hc, hot_len / page, ad, ac, np, to_cold, to_dram,
		       pingpongs, hot_off, dem, pro);
		fflush(stdout);
		if (duration > 0 && t >= duration)
			break;
		next += interval_ms / 1000;
		t = now();
		if (next > t) {
			struct timespec ts = {
				.tv_sec = (time_t)(next - t),
				.tv_nsec = (long)(((next - t) - (double)(time_t)(next - t)) * 1e9),
			};

			nanosleep(&ts, NULL);
		} else {
			next = t;
		}
	}
	return 0;
}
