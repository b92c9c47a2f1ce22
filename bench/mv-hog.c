// SPDX-License-Identifier: GPL-2.0
/*
 * mv-hog: take SIZE bytes of one node's memory and keep them, locked, so
 * that only a budget's worth stays free there for a workload (the kernel
 * tiering baseline of bench/).
 *
 *   mv-hog NODE SIZE
 *
 * Binds to NODE (MPOL_BIND), maps SIZE bytes, locks them (mlock: they are
 * unevictable, neither reclaimed nor demoted) and writes every page, then
 * prints "hog ready BYTES" and sleeps until SIGTERM or SIGINT.
 */
#include <numaif.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long mask[16] = { 0 };
	size_t size, i, page = (size_t)sysconf(_SC_PAGESIZE);
	int node;
	char *p;

	if (argc != 3) {
		fputs("usage: mv-hog NODE BYTES\n", stderr);
		return 2;
	}
	node = atoi(argv[1]);
	size = strtoull(argv[2], NULL, 0) & ~(page - 1);
	if (node < 0 || node >= 1024 || !size) {
		fputs("mv-hog: bad node or size\n", stderr);
		return 2;
	}
	mask[node / 64] = 1UL << (node % 64);
	if (set_mempolicy(MPOL_BIND, mask, sizeof(mask) * 8)) {
		perror("mv-hog: set_mempolicy");
		return 1;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED) {
		perror("mv-hog: mmap");
		return 1;
	}
	madvise(p, size, MADV_NOHUGEPAGE);
	if (mlock(p, size)) {
		perror("mv-hog: mlock");
		return 1;
	}
	for (i = 0; i < size; i += page)
		p[i] = 1;
	printf("hog ready %zu\n", size);
	fflush(stdout);
	for (;;)
		pause();
}
