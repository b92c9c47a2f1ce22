// SPDX-License-Identifier: GPL-2.0
/*
 * mv-migbench: migration throughput between DRAM and the cold tier.
 *
 *   mv-migbench --mode memview    [options]  DEMOTE/PROMOTE ioctls on itself
 *   mv-migbench --mode move_pages --node N   move_pages(2) node 0 <-> node N
 *   mv-migbench --mode memcpy     --node N   memcpy of the same bytes between
 *                                            a node-0 and a node-N buffer
 *   mv-migbench --mode wordcopy   --node N   the same with a loop of 64-bit
 *                                            loads and stores (glibc's memcpy
 *                                            picks rep movsb or vector stores
 *                                            by size; under TCG, where CXL is
 *                                            emulated MMIO, the access width
 *                                            decides the speed)
 *
 * It maps --size bytes of private anonymous memory (no THP: every mode then
 * moves base pages), touches every page, and for each batch size of
 * --batches makes --reps repetitions of: move AMOUNT bytes to the cold tier
 * in batch-sized calls, then move them back.  AMOUNT is --size, or
 * batch * --max-calls when that is smaller (so 4 KiB batches do not take
 * minutes under TCG).  One line per (batch, direction, repetition):
 *
 *   mode=M dir=demote|promote batch=BYTES rep=R pages=N moved=N ns=NS
 *
 * "demote" is DRAM -> cold tier, "promote" the reverse; pages/s is
 * moved / (ns / 1e9).  Exit 0, or 1 when a call failed or moved fewer pages
 * than asked (the line is printed anyway, moved tells).
 */
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <inttypes.h>
#include <numaif.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/memview.h>

enum { MODE_MEMVIEW, MODE_MOVE_PAGES, MODE_MEMCPY, MODE_WORDCOPY };

static const char usage[] =
	"usage: mv-migbench --mode memview|move_pages|memcpy|wordcopy [--node N]\n"
	"                   [--dram-node N] [--size SIZE] [--batches LIST]\n"
	"                   [--reps N] [--max-calls N]\n"
	"  --size SIZE       bytes moved per repetition at most (default 32M),\n"
	"                    at least the largest batch\n"
	"  --batches LIST    comma-separated batch sizes (default 4K,64K,512K,2M)\n"
	"  --reps N          repetitions per batch size (default 3)\n"
	"  --max-calls N     calls per repetition at most (default 1024)\n"
	"  --node N          the cold node (move_pages, memcpy)\n"
	"  --dram-node N     the DRAM node (default 0)\n";

static size_t page_size;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end || !v)
		return -1;
	*out = (size_t)v;
	return 0;
}

static char *map_buf(size_t size, int node)
{
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long mask[16] = { 0 };
	size_t i;

	if (p == MAP_FAILED) {
		perror("mv-migbench: mmap");
		exit(2);
	}
	madvise(p, size, MADV_NOHUGEPAGE);
	if (node >= 0) {
		mask[node / 64] = 1UL << (node % 64);
		if (mbind(p, size, MPOL_BIND, mask, sizeof(mask) * 8, 0)) {
			perror("mv-migbench: mbind");
			exit(2);
		}
	}
	for (i = 0; i < size; i += page_size)
		p[i] = (char)(i / page_size);
	return p;
}

struct ctx {
	int mode, fd, dram_node, node;
	char *buf, *buf2;
	void **pages;
	int *nodes, *status;
};

/* Move [off, off + len) of the buffer; returns pages moved, -1 on error. */
static long move_batch(struct ctx *c, int demote, size_t off, size_t len)
{
	size_t n = len / page_size, i;
	long moved = 0;

	switch (c->mode) {
	case MODE_MEMVIEW: {
		struct memview_migrate m = {
			.size = sizeof(m), .pid = getpid(),
			.addr = (uintptr_t)(c->buf + off), .length = len,
		};

		if (ioctl(c->fd, demote ? MEMVIEW_IOCTL_DEMOTE : MEMVIEW_IOCTL_PROMOTE, &m)) {
			perror("mv-migbench: DEMOTE/PROMOTE");
			return -1;
		}
		return (long)m.out_moved;
	}
	case MODE_MOVE_PAGES:
		for (i = 0; i < n; i++) {
			c->pages[i] = c->buf + off + i * page_size;
			c->nodes[i] = demote ? c->node : c->dram_node;
			c->status[i] = -1;
		}
		if (move_pages(0, n, c->pages, c->nodes, c->status, MPOL_MF_MOVE) < 0) {
			perror("mv-migbench: move_pages");
			return -1;
		}
		for (i = 0; i < n; i++)
			moved += c->status[i] == c->nodes[i];
		return moved;
	case MODE_WORDCOPY: {
		volatile uint64_t *d = (volatile uint64_t *)((demote ? c->buf2 : c->buf) + off);
		const volatile uint64_t *s = (const volatile uint64_t *)((demote ? c->buf : c->buf2) + off);

		for (i = 0; i < len / 8; i++)
			d[i] = s[i];
		return (long)n;
	}
	default:
		if (demote)
			memcpy(c->buf2 + off, c->buf + off, len);
		else
			memcpy(c->buf + off, c->buf2 + off, len);
		return (long)n;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "node", required_argument, NULL, 'n' },
		{ "dram-node", required_argument, NULL, 'D' },
		{ "size", required_argument, NULL, 's' },
		{ "batches", required_argument, NULL, 'b' },
		{ "reps", required_argument, NULL, 'r' },
		{ "max-calls", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *mode_name = NULL, *batches = "4K,64K,512K,2M";
	size_t size = 32UL << 20, max_calls = 1024, batch, amount, off;
	struct ctx c = { .fd = -1, .dram_node = 0, .node = -1 };
	int reps = 3, rep, dir, opt, rc = 0;
	char *list, *tok, *save;

	page_size = (size_t)sysconf(_SC_PAGESIZE);
	while ((opt = getopt_long(argc, argv, "m:n:D:s:b:r:c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'm': mode_name = optarg; break;
		case 'n': c.node = atoi(optarg); break;
		case 'D': c.dram_node = atoi(optarg); break;
		case 's':
			if (parse_size(optarg, &size))
				goto bad;
			break;
		case 'b': batches = optarg; break;
		case 'r': reps = atoi(optarg); break;
		case 'c': max_calls = (size_t)atol(optarg); break;
		case 'h': fputs(usage, stdout); return 0;
		default: goto bad;
		}
	}
	if (!mode_name || reps < 1 || !max_calls)
		goto bad;
	if (!strcmp(mode_name, "memview"))
		c.mode = MODE_MEMVIEW;
	else if (!strcmp(mode_name, "move_pages"))
		c.mode = MODE_MOVE_PAGES;
	else if (!strcmp(mode_name, "memcpy"))
		c.mode = MODE_MEMCPY;
	else if (!strcmp(mode_name, "wordcopy"))
		c.mode = MODE_WORDCOPY;
	else
		goto bad;
	if (c.mode != MODE_MEMVIEW && (c.node < 0 || c.node >= 1024))
		goto bad;
	size &= ~(page_size - 1);

	if (c.mode == MODE_MEMVIEW) {
		struct memview_proc_attach a = {
			.size = sizeof(a), .pid = getpid(),
		};

		c.fd = open(MEMVIEW_DEVICE, O_RDWR);
		if (c.fd < 0 || ioctl(c.fd, MEMVIEW_IOCTL_PROC_ATTACH, &a)) {
			perror("mv-migbench: " MEMVIEW_DEVICE " attach");
			return 2;
		}
	}
	c.buf = map_buf(size, c.mode == MODE_MEMVIEW ? -1 : c.dram_node);
	if (c.mode == MODE_MEMCPY || c.mode == MODE_WORDCOPY)
		c.buf2 = map_buf(size, c.node);
	c.pages = calloc(size / page_size, sizeof(*c.pages));
	c.nodes = calloc(size / page_size, sizeof(*c.nodes));
	c.status = calloc(size / page_size, sizeof(*c.status));
	if (!c.pages || !c.nodes || !c.status)
		return 2;

	list = strdup(batches);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (parse_size(tok, &batch) || batch % page_size || batch > size) {
			fprintf(stderr, "mv-migbench: batch '%s' is not a multiple of the page size up to --size\n",
				tok);
			return 2;
		}
		amount = batch * max_calls < size ? batch * max_calls : size;
		amount -= amount % batch;
		for (rep = 0; rep < reps; rep++) {
			for (dir = 1; dir >= 0; dir--) {
				uint64_t t0, t1;
				long moved = 0, m;

				t0 = now_ns();
				for (off = 0; off < amount; off += batch) {
					m = move_batch(&c, dir, off, batch);
					if (m < 0) {
						rc = 1;
						break;
					}
					moved += m;
				}
				t1 = now_ns();
				if ((size_t)moved != amount / page_size)
					rc = 1;
				printf("mode=%s dir=%s batch=%zu rep=%d pages=%zu moved=%ld ns=%" PRIu64 "\n",
				       mode_name, dir ? "demote" : "promote", batch,
				       rep, amount / page_size, moved, t1 - t0);
				fflush(stdout);
			}
		}
	}
	free(list);
	return rc;
bad:
	fputs(usage, stderr);
	return 2;
}
