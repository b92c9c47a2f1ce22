// SPDX-License-Identifier: GPL-2.0
/*
 * mv-workload: a process with a hot and a cold part of memory whose
 * contents must survive being moved around.
 *
 * It maps SIZE bytes of private anonymous memory (2 MiB aligned), fills it
 * with a pattern derived from each word's index, and prints one line
 *
 *	pid=PID addr=0xADDR len=LEN hot_off=OFF hot_len=HOT page_size=PS access=MODE
 *
 * The hot set is [addr + hot_off, addr + hot_off + hot_len), hot_off 0 and
 * hot_len the --hot-fraction of the buffer at the start; the rest is the
 * cold set.  Then, until --duration elapses or SIGTERM, SIGINT or SIGUSR1
 * arrives, it makes passes over the hot set:
 *
 *  - uniform: every page of the hot set, every cache line of it;
 *  - zipfian: as many accesses as the hot set has pages, each to a page
 *    drawn from a Zipf distribution (exponent --zipf-s; the first page of
 *    the hot set is the most popular, the next one the second, ...) with a
 *    PRNG seeded by --seed, so a run can be repeated.
 *
 * Every access to a page writes its first word (a "stamp": the pattern
 * XOR a function of how often the page was written), so lost writes show
 * up as well as lost or mixed-up pages.  The expected checksum of the whole
 * buffer is kept up to date with each stamp; every --verify-interval
 * seconds (0: only at the end) the buffer is checksummed against it, and
 * once more at the end.  The checksum reads every page, the cold set too,
 * which makes it look accessed to a tiering placer: use a long interval or
 * 0 when the cold set must stay cold.
 *
 * The cold set is not touched after the fill, except by the checksums and,
 * every --cold-touch-interval seconds, by one write to each of its pages.
 *
 * With --shift-on-signal, SIGUSR2 moves the hot set to the next part of the
 * buffer of the same length that does not overlap it (after it, or back at
 * the start), and it prints
 *
 *	shifted hot_off=OFF hot_len=HOT
 *
 * (--shift-after SEC does that once, SEC seconds after the start).  At the
 * end it prints
 *
 *	result=ok|FAILED verifies=N failures=N passes=N shifts=N checksum=0x...
 *
 * Exit: 0 if every verification held, 1 if one did not, 2 on a usage or
 * setup error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
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
	"                   [--access uniform|zipfian] [--zipf-s S] [--seed N]\n"
	"                   [--cold-touch-interval SEC]\n"
	"                   [--shift-on-signal] [--shift-after SEC]\n"
	"\n"
	"  -s, --size SIZE            bytes to map, e.g. 64M, 1G (default 64M)\n"
	"  -f, --hot-fraction F       part of the buffer in the hot set, 0..1;\n"
	"                             it starts at the beginning (default 0.25)\n"
	"  -d, --duration SEC         stop after SEC seconds; 0 = until SIGTERM,\n"
	"                             SIGINT or SIGUSR1 (default 0)\n"
	"  -v, --verify-interval SEC  checksum the whole buffer this often; 0 = only\n"
	"                             at the end (default 1).  The checksum reads the\n"
	"                             cold set too\n"
	"  -p, --pause MS             sleep between passes over the hot set, so a\n"
	"                             small guest keeps some CPU (default 1)\n"
	"  -T, --no-thp               madvise(MADV_NOHUGEPAGE) the buffer\n"
	"  -a, --access MODE          uniform: every line of every hot page each pass\n"
	"                             (default); zipfian: per pass, one access per\n"
	"                             hot page, to pages drawn from a Zipf law\n"
	"      --zipf-s S             Zipf exponent, 0 < S <= 10 (default 0.99)\n"
	"      --seed N               seed of the PRNG for zipfian (default 1)\n"
	"      --cold-touch-interval SEC\n"
	"                             write once to every cold page this often;\n"
	"                             0 = never after the fill (default 0)\n"
	"      --shift-on-signal      SIGUSR2 moves the hot set to a part of the\n"
	"                             buffer that does not overlap it; needs a hot\n"
	"                             fraction of at most 0.5\n"
	"      --shift-after SEC      shift the hot set once, SEC seconds in\n"
	"  -h, --help                 this text\n"
	"\n"
	"First line: pid=PID addr=0xADDR len=LEN hot_off=OFF hot_len=HOT ...;\n"
	"after each shift: shifted hot_off=OFF hot_len=HOT; last line:\n"
	"result=ok|FAILED verifies=N failures=N passes=N shifts=N checksum=0x...\n"
	"Exit 0 if every checksum held, 1 if one did not, 2 on a usage error.\n";

enum { ACCESS_UNIFORM, ACCESS_ZIPFIAN };

enum {
	OPT_ZIPF_S = 0x100,
	OPT_SEED,
	OPT_COLD_TOUCH,
	OPT_SHIFT_SIGNAL,
	OPT_SHIFT_AFTER,
};

static volatile sig_atomic_t stop;
static volatile sig_atomic_t shift_req;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_shift(int sig)
{
	(void)sig;
	shift_req = 1;
}

/* splitmix64: a well-mixed value for every word index */
static inline uint64_t pattern(uint64_t i)
{
	uint64_t z = i + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* What the stamp word of a page written g times is XORed with; 0 for 0. */
static inline uint64_t stamp_mix(uint32_t g)
{
	return g ? pattern(~(uint64_t)g) | 1 : 0;
}

static inline uint64_t rotl(uint64_t v, unsigned int r)
{
	r &= 63;
	return r ? v << r | v >> (64 - r) : v;
}

/*
 * Order-sensitive, so a swapped pair of pages does not go unnoticed, and
 * linear: word j contributes rotl(w[j], 7 * (n - 1 - j)), which lets the
 * expected value follow each stamp write without a pass over the buffer.
 */
static uint64_t checksum(const volatile uint64_t *w, size_t n)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum = rotl(sum, 7) ^ w[i];
	return sum;
}

/* xoshiro256**, seeded through splitmix64 */
struct prng {
	uint64_t s[4];
};

static void prng_seed(struct prng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = pattern(seed + (uint64_t)i * 0x632be59bd9b4e019ULL);
}

static uint64_t prng_next(struct prng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* uniform in [0, 1) */
static double prng_double(struct prng *r)
{
	return (double)(prng_next(r) >> 11) * 0x1.0p-53;
}

/*
 * Zipf over n ranks: cdf[k] = sum(i^-s, i = 1..k+1) / sum(i^-s, i = 1..n),
 * precomputed once; a draw is a binary search for a uniform value.
 */
static double *zipf_cdf(size_t n, double s)
{
	double *cdf = malloc((n ? n : 1) * sizeof(*cdf)), sum = 0;
	size_t i;

	if (!cdf)
		return NULL;
	for (i = 0; i < n; i++) {
		sum += pow((double)(i + 1), -s);
		cdf[i] = sum;
	}
	for (i = 0; i < n; i++)
		cdf[i] /= sum;
	if (n)
		cdf[n - 1] = 1.0;
	return cdf;
}

static size_t zipf_draw(const double *cdf, size_t n, struct prng *r)
{
	double u = prng_double(r);
	size_t lo = 0, hi = n - 1, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cdf[mid] >= u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
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
	if (errno || end == s || *end || !(v >= min) || v > max)
		return -1;
	*out = v;
	return 0;
}

/**
 * struct buf - the buffer and what its contents must be
 * @w: the words
 * @nwords: how many
 * @page_words: words per page
 * @npages: pages
 * @gen: per page, how often its stamp (first word) was written
 * @expected: the checksum the buffer must have now
 * @base: its address, for messages
 */
struct buf {
	volatile uint64_t *w;
	size_t nwords, page_words, npages;
	uint32_t *gen;
	uint64_t expected;
	uintptr_t base;
};

static uint64_t expected_word(const struct buf *b, size_t i)
{
	uint64_t v = pattern(i);

	if (i % b->page_words == 0)
		v ^= stamp_mix(b->gen[i / b->page_words]);
	return v;
}

/*
 * Write page p's stamp: XOR in the difference between its old and new
 * value, so a word that was wrong stays wrong, and fold the same
 * difference into the expected checksum.
 */
static inline void stamp_page(struct buf *b, size_t p)
{
	size_t j = p * b->page_words;
	uint64_t d = stamp_mix(b->gen[p]) ^ stamp_mix(b->gen[p] + 1);

	b->gen[p]++;
	b->w[j] ^= d;
	b->expected ^= rotl(d, (unsigned int)(((b->nwords - 1 - j) * 7) & 63));
}

/* Say where the first difference is: which page, which word, what. */
static void report_mismatch(const struct buf *b)
{
	uint64_t want;
	size_t i;

	for (i = 0; i < b->nwords; i++) {
		want = expected_word(b, i);
		if (b->w[i] != want) {
			fprintf(stderr,
				"mv-workload: mismatch at 0x%" PRIxPTR
				" (offset %zu, page %zu): 0x%016" PRIx64 ", expected 0x%016" PRIx64 "\n",
				b->base + i * 8, i * 8, i / b->page_words,
				(uint64_t)b->w[i], want);
			return;
		}
	}
	fprintf(stderr, "mv-workload: checksum differs but every word matches (changed meanwhile?)\n");
}

/* Checksum the buffer; true if it holds. */
static bool verify(const struct buf *b)
{
	if (checksum(b->w, b->nwords) == b->expected)
		return true;
	report_mismatch(b);
	return false;
}

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "mv-workload: invalid %s '%s'\nsee 'mv-workload --help'\n",
		what, arg);
	return 2;
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
		{ "access",		required_argument,	NULL, 'a' },
		{ "zipf-s",		required_argument,	NULL, OPT_ZIPF_S },
		{ "seed",		required_argument,	NULL, OPT_SEED },
		{ "cold-touch-interval", required_argument,	NULL, OPT_COLD_TOUCH },
		{ "shift-on-signal",	no_argument,		NULL, OPT_SHIFT_SIGNAL },
		{ "shift-after",	required_argument,	NULL, OPT_SHIFT_AFTER },
		{ "help",		no_argument,		NULL, 'h' },
		{ 0 }
	};
	size_t size = 64UL << 20, page = (size_t)sysconf(_SC_PAGESIZE);
	size_t hot_off = 0, hot_len, hot_pages, off, i, k, p, first, line_words;
	double hot_fraction = 0.25, duration = 0, interval = 1, pause_ms = 1;
	double zipf_s = 0.99, cold_interval = 0, shift_after = 0;
	double start, t, next_verify, next_cold;
	unsigned long verifies = 0, failures = 0, passes = 0, shifts = 0;
	bool no_thp = false, shift_signal = false, shifted_after = false;
	int access = ACCESS_UNIFORM, c;
	unsigned long long seed = 1;
	struct timespec pause;
	struct sigaction sa;
	struct buf b = { 0 };
	double *cdf = NULL;
	struct prng rng;
	char *map, *end;

	while ((c = getopt_long(argc, argv, "s:f:d:v:p:Ta:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, &size))
				return bad("size", optarg);
			break;
		case 'f':
			if (parse_double(optarg, &hot_fraction, 0, 1))
				return bad("hot fraction (0..1)", optarg);
			break;
		case 'd':
			if (parse_double(optarg, &duration, 0, 1e9))
				return bad("duration", optarg);
			break;
		case 'v':
			if (parse_double(optarg, &interval, 0, 1e9))
				return bad("verify interval (seconds, 0 = at the end only)",
					   optarg);
			break;
		case 'p':
			if (parse_double(optarg, &pause_ms, 0, 1e6))
				return bad("pause", optarg);
			break;
		case 'T':
			no_thp = true;
			break;
		case 'a':
			if (!strcmp(optarg, "uniform"))
				access = ACCESS_UNIFORM;
			else if (!strcmp(optarg, "zipfian"))
				access = ACCESS_ZIPFIAN;
			else
				return bad("access (uniform or zipfian)", optarg);
			break;
		case OPT_ZIPF_S:
			if (parse_double(optarg, &zipf_s, 0, 10) || zipf_s <= 0)
				return bad("Zipf exponent (0 < S <= 10)", optarg);
			break;
		case OPT_SEED:
			errno = 0;
			seed = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end || optarg[0] == '-')
				return bad("seed", optarg);
			break;
		case OPT_COLD_TOUCH:
			if (parse_double(optarg, &cold_interval, 0, 1e9))
				return bad("cold touch interval", optarg);
			break;
		case OPT_SHIFT_SIGNAL:
			shift_signal = true;
			break;
		case OPT_SHIFT_AFTER:
			if (parse_double(optarg, &shift_after, 0, 1e9) ||
			    shift_after <= 0)
				return bad("shift delay (seconds, > 0)", optarg);
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

	size = (size + page - 1) & ~(page - 1);
	hot_len = ((size_t)((double)size * hot_fraction)) & ~(page - 1);
	if ((shift_signal || shift_after > 0) && (!hot_len || hot_len > size / 2)) {
		fprintf(stderr,
			"mv-workload: shifting the hot set needs a hot set of at most half the buffer (hot fraction 0..0.5, and at least a page)\n");
		return 2;
	}
	hot_pages = hot_len / page;

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

	b.w = (volatile uint64_t *)map;
	b.base = (uintptr_t)map;
	b.nwords = size / 8;
	b.page_words = page / 8;
	b.npages = size / page;
	b.gen = calloc(b.npages, sizeof(*b.gen));
	if (access == ACCESS_ZIPFIAN)
		cdf = zipf_cdf(hot_pages, zipf_s);
	if (!b.gen || (access == ACCESS_ZIPFIAN && !cdf)) {
		fprintf(stderr, "mv-workload: out of memory\n");
		return 2;
	}
	prng_seed(&rng, seed);
	for (i = 0; i < b.nwords; i++)
		b.w[i] = pattern(i);
	b.expected = checksum(b.w, b.nwords);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	if (shift_signal) {
		sa.sa_handler = on_shift;
		sigaction(SIGUSR2, &sa, NULL);
	}

	printf("pid=%d addr=%p len=%zu hot_off=%zu hot_len=%zu page_size=%zu access=%s\n",
	       getpid(), (void *)map, size, hot_off, hot_len, page,
	       access == ACCESS_ZIPFIAN ? "zipfian" : "uniform");
	fflush(stdout);

	pause.tv_sec = (time_t)(pause_ms / 1000);
	pause.tv_nsec = (long)((pause_ms - (double)pause.tv_sec * 1000) * 1e6);
	line_words = LINE / 8;
	start = now();
	next_verify = start + interval;
	next_cold = start + cold_interval;
	while (!stop) {
		first = hot_off / page;
		if (access == ACCESS_UNIFORM) {
			/* every page: its stamp, then read and write back each line */
			for (p = first; p < first + hot_pages && !stop; p++) {
				stamp_page(&b, p);
				for (k = p * b.page_words + line_words;
				     k < (p + 1) * b.page_words; k += line_words)
					b.w[k] = b.w[k];
			}
		} else {
			for (i = 0; i < hot_pages && !stop; i++) {
				p = first + zipf_draw(cdf, hot_pages, &rng);
				stamp_page(&b, p);
				k = p * b.page_words +
				    (prng_next(&rng) % (b.page_words / line_words)) * line_words;
				b.w[k] = b.w[k];
			}
		}
		passes++;
		if (pause_ms > 0)
			nanosleep(&pause, NULL);
		t = now();
		if (cold_interval > 0 && t >= next_cold) {
			for (p = 0; p < b.npages && !stop; p++)
				if (p < first || p >= first + hot_pages)
					stamp_page(&b, p);
			next_cold = now() + cold_interval;
		}
		if (shift_req || (shift_after > 0 && !shifted_after &&
				  t - start >= shift_after)) {
			if (!shift_req)
				shifted_after = true;
			shift_req = 0;
			hot_off += hot_len;
			if (hot_off + hot_len > size)
				hot_off = 0;
			shifts++;
			printf("shifted hot_off=%zu hot_len=%zu\n", hot_off, hot_len);
			fflush(stdout);
		}
		if (interval > 0 && t >= next_verify) {
			verifies++;
			if (!verify(&b))
				failures++;
			next_verify = now() + interval;
		}
		if (duration > 0 && now() - start >= duration)
			break;
	}

	verifies++;
	if (!verify(&b))
		failures++;
	printf("result=%s verifies=%lu failures=%lu passes=%lu shifts=%lu checksum=0x%016" PRIx64 "\n",
	       failures ? "FAILED" : "ok", verifies, failures, passes, shifts,
	       checksum(b.w, b.nwords));
	fflush(stdout);
	free(cdf);
	free(b.gen);
	return failures ? 1 : 0;
}
