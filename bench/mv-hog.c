// SPDX-License-Identifier: GPL-2.0
/*
 * mv-hog: take one node's memory, locked, until only a given amount is
 * free there (the kernel tiering baseline of bench/ holds the budget node to
 * the DRAM budget this way; Documentation/bench.rst).
 *
 *   mv-hog NODE FREE_BYTES
 *
 * Binds itself to NODE (MPOL_BIND) and, at most 4 MiB at a time, maps,
 * locks (mlock: unevictable, neither reclaimed nor demoted) and writes
 * memory while the node's MemFree (/sys/devices/system/node/nodeN/meminfo)
 * is above FREE_BYTES: each step takes what is above FREE_BYTES, up to
 * 4 MiB, so it ends within a page or so (per-CPU page lists make MemFree
 * move by a batch at a time) of FREE_BYTES.  It checks before each step,
 * so it never pushes the node into reclaim (a bound allocation that has to
 * reclaim can livelock a guest whose programs live on 9p) as long as
 * FREE_BYTES is above the node's low watermark.  Once there, it watches
 * MemFree for a few seconds more and takes what comes back (per-CPU page
 * lists draining into it).  Then it prints
 * "hog ready BYTES free=BYTES" and sleeps until SIGTERM or SIGINT.
 */
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHUNK (4UL << 20)
#define SETTLE_S 3
#define SETTLE_MAX_S 30

static unsigned long long node_free(int node)
{
	char path[96], line[256];
	unsigned long long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", node);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "MemFree:");

		if (p) {
			kb = strtoull(p + 8, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb << 10;
}

int main(int argc, char **argv)
{
	unsigned long mask[16] = { 0 };
	unsigned long long target, total = 0;
	size_t i, page = (size_t)sysconf(_SC_PAGESIZE);
	int node, stable = 0, waited = 0;
	char *p;

	if (argc != 3) {
		fputs("usage: mv-hog NODE FREE_BYTES\n", stderr);
		return 2;
	}
	node = atoi(argv[1]);
	target = strtoull(argv[2], NULL, 0);
	if (node < 0 || node >= 1024) {
		fputs("mv-hog: bad node\n", stderr);
		return 2;
	}
	mask[node / 64] = 1UL << (node % 64);
	if (set_mempolicy(MPOL_BIND, mask, sizeof(mask) * 8)) {
		perror("mv-hog: set_mempolicy");
		return 1;
	}
	/*
	 * Then until MemFree has stayed at most a page above FREE_BYTES for
	 * SETTLE_S seconds in a row (at most SETTLE_MAX_S): per-CPU free
	 * lists (pages MemFree does not count) drain back into it a second or
	 * so after the allocations stop, and the hog takes those as well.
	 */
	for (;;) {
		unsigned long long f = node_free(node);
		size_t step;

		if (f < target + page) {
			if (++stable >= SETTLE_S || waited >= SETTLE_MAX_S)
				break;
			sleep(1);
			waited++;
			continue;
		}
		stable = 0;
		step = f - target > CHUNK ? CHUNK : (f - target) / page * page;
		p = mmap(NULL, step, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("mv-hog: mmap");
			return 1;
		}
		madvise(p, step, MADV_NOHUGEPAGE);
		if (mlock(p, step)) {
			perror("mv-hog: mlock");
			return 1;
		}
		for (i = 0; i < step; i += page)
			p[i] = 1;
		total += step;
	}
	printf("hog ready %llu free=%llu\n", total, node_free(node));
	fflush(stdout);
	for (;;)
		pause();
}
