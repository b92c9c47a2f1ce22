// SPDX-License-Identifier: GPL-2.0
/*
 * mv-place: move a range of another process's pages to one node with
 * move_pages(2), as first touch would have placed them (the first-touch
 * baseline of bench/; Documentation/bench.rst).
 *
 *   mv-place PID ADDR LEN NODE
 *
 * Prints "moved=N of=N" and exits 0 when every present page is on NODE.
 */
#include <numaif.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define BATCH 512

int main(int argc, char **argv)
{
	void *pages[BATCH];
	int nodes[BATCH], status[BATCH];
	unsigned long long addr, len, off, moved = 0, total = 0;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n, i;
	int pid, node;

	if (argc != 5) {
		fputs("usage: mv-place PID ADDR LEN NODE\n", stderr);
		return 2;
	}
	pid = atoi(argv[1]);
	addr = strtoull(argv[2], NULL, 0);
	len = strtoull(argv[3], NULL, 0);
	node = atoi(argv[4]);
	for (off = 0; off < len; off += n * page) {
		n = (len - off) / page < BATCH ? (len - off) / page : BATCH;
		if (!n)
			break;
		for (i = 0; i < n; i++) {
			pages[i] = (void *)(uintptr_t)(addr + off + i * page);
			nodes[i] = node;
		}
		if (move_pages(pid, n, pages, nodes, status, MPOL_MF_MOVE) < 0) {
			perror("mv-place: move_pages");
			return 1;
		}
		for (i = 0; i < n; i++) {
			total++;
			moved += status[i] == node;
		}
	}
	printf("moved=%llu of=%llu\n", moved, total);
	return moved == total ? 0 : 1;
}
