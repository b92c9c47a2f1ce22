// SPDX-License-Identifier: GPL-2.0
/*
 * mv-workload: a process with a hot and a cold part of memory whose
 * contents must survive being moved around.
 *
 * It maps SIZE bytes of private anonymous memory (2 MiB aligned), fills it
 * with a pattern derived from each word's index, and prints one line
 *
 *	pid=PID addr=0xADDR len=LEN hot_len=HOT
 *
 * The hot part is [addr, addr + hot_len), the first --hot-fraction of the
 * buffer; the rest is cold: never touched after the fill.  Then, until
 * --duration elapses or SIGTERM, SIGINT or SIGUSR1 arrives, it touches the
 * hot part (reads and writes back every cache line, which keeps the
 * contents) and every --verify-interval seconds checksums the whole buffer
 * against the checksum taken after the fill.  At the end it verifies once
 * more and prints
 *
 *	result=ok|FAILED verifies=N failures=N passes=N checksum=0x...
 *
 * Exit: 0 if every verification held, 1 if one did not, 2 on a usage or
 * setup error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SZ_2M		(2UL << 20)
#define LINE		64

static const char usage[] =
	"usage: mv-workload [--size SIZE] [--hot-fraction F] [--duration SEC]\n"
	"                   [--verify-interval SEC] [--pause MS] [--no-thp]\n"
	"\n"
	"  -s, --size SIZE            bytes to map, e.g. 64M, 1G (default 64M)\n"
	"  -f, --hot-fraction F       part of the buffer touched over and over,\n"
	"                             from its start, 0..1 (default 0.25)\n"
	"  -d, --duration SEC         stop after SEC seconds; 0 = until SIGTERM,\n"
	"                             SIGINT or SIGUSR1 (default 0)\n"
	"  -v, --verify-interval SEC  checksum the whole buffer this often (default 1)\n"
	"  -p, --pause MS             sleep between passes over the hot part, so a\n"
	"                             small guest keeps some CPU (default 1)\n"
	"  -T, --no-thp               madvise(MADV_NOHUGEPAGE) the buffer\n"
	"  -h, --help                 this text\n";

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/* splitmix64: a well-mixed value for every word index */
static inline uint64_t pattern(uint64_t i)
{
	uint64_t z = i + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Order-sensitive, so a swapped pair of pages does not go unnoticed. */
static uint64_t checksum(const volatile uint64_t *w, size_t n)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum = (sum << 7 | sum >> 57) ^ w[i];
	return sum;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_size(const char *s, size_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || s[0] == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end || (shift && v > (~0ULL >> shift)) || !v)
		return -1;
	*out = (size_t)(v << shift);
	return 0;
}

static int parse_double(const char *s, double *out, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Say where the first difference is: which page, which word, what. */
static void report_mismatch(const volatile uint64_t *w, size_t n,
			    uintptr_t base)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (w[i] != pattern(i)) {
			fprintf(stderr,
				"mv-workload: mismatch at 0x%" PRIxPTR
				" (offset %zu): 0x%016" PRIx64 ", expected 0x%016" PRIx64 "\n",
				base + i * 8, i * 8, (uint64_t)w[i], pattern(i));
			return;
		}
	}
	fprintf(stderr, "mv-workload: checksum differs but every word matches (changed meanwhile?)\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size",		required_argument,	NULL, 's' },
		{ "hot-fraction",	required_argument,	NULL, 'f' },
		{ "duration",		required_argument,	NULL, 'd' },
		{ "verify-interval",	required_argument,	NULL, 'v' },
		{ "pause",		required_argument,	NULL, 'p' },
		{ "no-thp",		no_argument,		NULL, 'T' },
		{ "help",		no_argument,		NULL, 'h' },
		{ 0 }
	};
	size_t size = 64UL << 20, hot_len, nwords, i, off;
	double hot_fraction = 0.25, duration = 0, interval = 1, pause_ms = 1;
	double start, next_verify;
	unsigned long verifies = 0, failures = 0, passes = 0;
	uint64_t expected, sum;
	struct timespec pause;
	struct sigaction sa;
	volatile uint64_t *w;
	bool no_thp = false;
	char *map;
	int c;

	while ((c = getopt_long(argc, argv, "s:f:d:v:p:Th", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, &size)) {
				fprintf(stderr, "mv-workload: invalid size '%s'\n", optarg);
				return 2;
			}
			break;
		case 'f':
			if (parse_double(optarg, &hot_fraction, 0, 1)) {
				fprintf(stderr, "mv-workload: invalid hot fraction '%s' (0..1)\n",
					optarg);
				return 2;
			}
			break;
		case 'd':
			if (parse_double(optarg, &duration, 0, 1e9)) {
				fprintf(stderr, "mv-workload: invalid duration '%s'\n", optarg);
				return 2;
			}
			break;
		case 'v':
			if (parse_double(optarg, &interval, 0.001, 1e9)) {
				fprintf(stderr, "mv-workload: invalid verify interval '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'p':
			if (parse_double(optarg, &pause_ms, 0, 1e6)) {
				fprintf(stderr, "mv-workload: invalid pause '%s'\n", optarg);
				return 2;
			}
			break;
		case 'T':
			no_thp = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mv-workload: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}

	size = (size + 4095) & ~4095UL;
	/* over-map by 2 MiB and trim, so the buffer can use huge pages */
	map = mmap(NULL, size + SZ_2M, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "mv-workload: cannot map %zu bytes: %s\n", size,
			strerror(errno));
		return 2;
	}
	off = (SZ_2M - ((uintptr_t)map & (SZ_2M - 1))) & (SZ_2M - 1);
	if (off)
		munmap(map, off);
	munmap(map + off + size, SZ_2M - off);
	map += off;
	if (no_thp && madvise(map, size, MADV_NOHUGEPAGE))
		fprintf(stderr, "mv-workload: madvise(MADV_NOHUGEPAGE): %s\n",
			strerror(errno));

	w = (volatile uint64_t *)map;
	nwords = size / 8;
	for (i = 0; i < nwords; i++)
		w[i] = pattern(i);
	expected = checksum(w, nwords);
	hot_len = ((size_t)((double)size * hot_fraction)) & ~4095UL;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	printf("pid=%d addr=%p len=%zu hot_len=%zu\n", getpid(), (void *)map,
	       size, hot_len);
	fflush(stdout);

	pause.tv_sec = (time_t)(pause_ms / 1000);
	pause.tv_nsec = (long)((pause_ms - (double)pause.tv_sec * 1000) * 1e6);
	start = now();
	next_verify = start + interval;
	while (!stop) {
		/* one pass over the hot part: read and write back each line */
		for (i = 0; i < hot_len / 8 && !stop; i += LINE / 8)
			w[i] = w[i];
		passes++;
		if (pause_ms > 0)
			nanosleep(&pause, NULL);
		if (now() >= next_verify) {
			sum = checksum(w, nwords);
			verifies++;
			if (sum != expected) {
				failures++;
				report_mismatch(w, nwords, (uintptr_t)map);
			}
			next_verify = now() + interval;
		}
		if (duration > 0 && now() - start >= duration)
			break;
	}

	sum = checksum(w, nwords);
	verifies++;
	if (sum != expected) {
		failures++;
		report_mismatch(w, nwords, (uintptr_t)map);
	}
	printf("result=%s verifies=%lu failures=%lu passes=%lu checksum=0x%016" PRIx64 "\n",
	       failures ? "FAILED" : "ok", verifies, failures, passes, sum);
	fflush(stdout);
	return failures ? 1 : 0;
}
