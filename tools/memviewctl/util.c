// SPDX-License-Identifier: GPL-2.0
/*
 * memviewctl: messages, log level, number and size parsing, humanized sizes.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "memviewctl.h"

const char *mv_cmd = "memviewctl";
int mv_log_level = MV_LOG_ERR;

/*
 * MEMVIEW_LOG=err|info|debug (or the syslog number), the way ndctl reads
 * NDCTL_LOG/CXL_LOG.  Unknown values are reported and ignored.
 */
void mv_log_init(void)
{
	const char *env = getenv("MEMVIEW_LOG");
	char *end;
	long v;

	if (!env || !*env)
		return;
	if (!strcasecmp(env, "err") || !strcasecmp(env, "error"))
		mv_log_level = MV_LOG_ERR;
	else if (!strcasecmp(env, "info"))
		mv_log_level = MV_LOG_INFO;
	else if (!strcasecmp(env, "debug"))
		mv_log_level = MV_LOG_DEBUG;
	else {
		v = strtol(env, &end, 10);
		if (*end || v < 0 || v > MV_LOG_DEBUG) {
			fprintf(stderr,
				"memviewctl: ignoring MEMVIEW_LOG='%s' (use err, info or debug)\n",
				env);
			return;
		}
		mv_log_level = (int)v;
	}
}

void mv_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > mv_log_level)
		return;
	fprintf(stderr, "memviewctl %s: ", mv_cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void mv_err(int err, const char *hint, const char *fmt, ...)
{
	va_list ap;

	if (err < 0)
		err = -err;
	fprintf(stderr, "memviewctl %s: ", mv_cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
	if (hint)
		fprintf(stderr, "memviewctl %s: %s\n", mv_cmd, hint);
}

void mv_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "memviewctl %s: warning: ", mv_cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int mv_usage_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "memviewctl %s: ", mv_cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nsee 'memviewctl %s --help'\n", mv_cmd);
	return 1;
}

/*
 * getopt_long() with our own messages: a leading ':' makes a missing value
 * come back as ':' rather than '?', and opterr = 0 silences glibc.  A '+'
 * (stop at the first non-option, for "run") stays in front.
 */
int mv_getopt(int argc, char **argv, const char *shortopts,
	      const struct option *longopts)
{
	char buf[64];
	bool plus = shortopts[0] == '+';

	snprintf(buf, sizeof(buf), "%s:%s", plus ? "+" : "",
		 shortopts + (plus ? 1 : 0));
	opterr = 0;
	return getopt_long(argc, argv, buf, longopts, NULL);
}

int mv_bad_option(int argc, char **argv, int c)
{
	const char *arg = optind - 1 < argc ? argv[optind - 1] : "";
	char opt[3] = { '-', (char)optopt, 0 };
	bool is_long = !strncmp(arg, "--", 2);

	/*
	 * For a short option glibc sets optopt to it.  For a long one optopt
	 * is its val (missing or unwanted value) or 0 (unknown option), and
	 * argv[optind - 1] is the option as typed.
	 */
	if (c == ':')
		return mv_usage_err("option '%s' needs a value",
				    is_long ? arg : opt);
	if (is_long && optopt)
		return mv_usage_err("option '%s' takes no value", arg);
	if (!is_long && optopt && isprint(optopt))
		return mv_usage_err("unknown option '%s'", opt);
	return mv_usage_err("unknown option '%s'", arg);
}

/* Decimal or 0x-prefixed hex; no sign, no octal, nothing after it. */
int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int base = 10;

	if (!s || !*s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s || *end || (base == 16 && end == s + 2))
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * A byte count: a number as parse_u64() takes it, optionally followed by
 * K, M, G, T or P (powers of 1024, either case) and an optional "iB" or "B".
 */
int parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGTP";
	unsigned long long v;
	const char *u;
	char *end;
	int base = 10, shift = 0;

	if (!s || !*s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s || (base == 16 && end == s + 2))
		return -EINVAL;
	if (*end) {
		/* hex digits swallow nothing here: 0x10M is 16 MiB */
		u = strchr(units, toupper((unsigned char)*end));
		if (!u)
			return -EINVAL;
		shift = 10 * (int)(u - units + 1);
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (shift && v > (ULLONG_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int parse_int(const char *s, int *out)
{
	long v;
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE || v > INT_MAX || v < INT_MIN)
		return -ERANGE;
	if (end == s || *end)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

int parse_pid(const char *s, pid_t *out)
{
	int v;

	if (parse_int(s, &v) || v <= 0)
		return -EINVAL;
	*out = v;
	return 0;
}

const char *size_str(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned int i = 0;
	uint64_t v = bytes;

	while (v >= 1024 && i < ARRAY_SIZE(units) - 1) {
		v /= 1024;
		i++;
	}
	if (i == 0 || bytes % (1ULL << (10 * i)) == 0)
		snprintf(buf, len, "%llu %s", (unsigned long long)v, units[i]);
	else
		snprintf(buf, len, "%.2f %s",
			 (double)bytes / (double)(1ULL << (10 * i)), units[i]);
	return buf;
}

bool stdout_is_tty(void)
{
	return isatty(STDOUT_FILENO);
}

bool confirm(const char *question)
{
	char line[16];

	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	return line[0] == 'y' || line[0] == 'Y';
}
