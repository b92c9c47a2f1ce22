// SPDX-License-Identifier: GPL-2.0
/*
 * memviewctl set-policy, memviewctl get-policy, and the policy options that
 * run shares.
 *
 * The policy is the placer's, one for the whole module: every automatically
 * tiered process is placed by it.  SET_POLICY changes only the fields whose
 * bit is in "valid"; the module checks every value and changes nothing if
 * one is out of range.  memviewctl checks the same ranges first
 * (uapi/linux/memview.h documents them) so that the message can name the
 * option.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memviewctl.h"

static const char set_policy_usage[] =
	"usage: memviewctl set-policy [policy options] [-j|-t]\n"
	"\n"
	"Change the automatic tiering policy.  It is global: one policy for the\n"
	"whole module, used for every automatically tiered process.  Only the\n"
	"options given change; the others keep their value.  Prints the policy\n"
	"in force afterwards.  Needs root (CAP_SYS_ADMIN).\n"
	"\n"
	MV_POLICY_HELP
	"  -j, --json                 JSON (the default when stdout is not a terminal)\n"
	"  -t, --table                a table for people\n"
	"  -h, --help                 this text\n";

static const char get_policy_usage[] =
	"usage: memviewctl get-policy [-j|-t]\n"
	"\n"
	"Show the automatic tiering policy (global, for the whole module) and the\n"
	"page-fault sampler the module uses on this host (sw-page-fault, or none\n"
	"when the kernel would not give it a perf counter).\n"
	"\n"
	"  -j, --json         JSON (the default when stdout is not a terminal)\n"
	"  -t, --table        a table for people\n"
	"  -h, --help         this text\n";

/**
 * struct policy_knob - one numeric field of struct memview_policy
 * @opt: its option, without "--"
 * @bit: its MEMVIEW_POLICY_* bit
 * @off: its offset in struct memview_policy
 * @min: smallest value the module takes
 * @max: largest value the module takes
 * @unit: unit for the table ("" for a count)
 * @what: meaning, for the table
 */
struct policy_knob {
	const char *opt;
	uint32_t bit;
	size_t off;
	uint32_t min, max;
	const char *unit;
	const char *what;
};

#define KNOB(_opt, _bit, _field, _min, _max, _unit, _what) \
	{ _opt, _bit, offsetof(struct memview_policy, _field), _min, _max, _unit, _what }

/* In the order of MV_POLICY_OPT_*, samplers last (not numeric). */
static const struct policy_knob knobs[] = {
	KNOB("scan-interval", MEMVIEW_POLICY_SCAN_INTERVAL, scan_interval_ms,
	     10, 60000, "ms", "period of a round"),
	KNOB("pages-per-round", MEMVIEW_POLICY_PAGES_PER_ROUND, pages_per_round,
	     512, 16777216, "", "page-table entries scanned per round"),
	KNOB("max-scan-us", MEMVIEW_POLICY_MAX_SCAN_US, max_scan_us,
	     100, 10000000, "us", "scan time per round"),
	KNOB("hot-rounds", MEMVIEW_POLICY_HOT_ROUNDS, hot_rounds,
	     1, 64, "", "accessed scans in a row to promote"),
	KNOB("cold-rounds", MEMVIEW_POLICY_COLD_ROUNDS, cold_rounds,
	     1, 64, "", "idle scans in a row to demote"),
	KNOB("hysteresis", MEMVIEW_POLICY_HYSTERESIS, hysteresis_rounds,
	     0, 1000, "rounds", "no move back within"),
	KNOB("pingpong-rounds", MEMVIEW_POLICY_PINGPONG_ROUNDS, pingpong_rounds,
	     1, 1000, "rounds", "a move back within is a ping-pong"),
	KNOB("promote-rate", MEMVIEW_POLICY_PROMOTE_RATE, promote_rate_mbps,
	     0, 1048576, "MiB/s", "promotion limit (0 = none)"),
	KNOB("demote-rate", MEMVIEW_POLICY_DEMOTE_RATE, demote_rate_mbps,
	     0, 1048576, "MiB/s", "demotion limit (0 = none)"),
	KNOB("sample-period", MEMVIEW_POLICY_SAMPLE_PERIOD, sample_period,
	     1, 1000000, "", "page faults per fault sample"),
};

_Static_assert(ARRAY_SIZE(knobs) == MV_POLICY_OPT_SAMPLERS - MV_POLICY_OPT_BASE,
	       "one knob per numeric policy option, in MV_POLICY_OPT_* order");

static uint32_t *knob_field(struct memview_policy *pol,
			    const struct policy_knob *k)
{
	return (uint32_t *)((char *)pol + k->off);
}

static uint32_t knob_value(const struct memview_policy *pol,
			   const struct policy_knob *k)
{
	return *(const uint32_t *)((const char *)pol + k->off);
}

/* "access,faults", "access", "faults", "none"; in any order, no repeats. */
static int parse_samplers(const char *arg, uint32_t *out)
{
	char *copy, *tok, *save = NULL;
	uint32_t v = 0, bit;
	int ret = 0;

	if (!strcmp(arg, "none")) {
		*out = 0;
		return 0;
	}
	copy = strdup(arg);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "access"))
			bit = MEMVIEW_SAMPLE_ACCESS_BIT;
		else if (!strcmp(tok, "faults"))
			bit = MEMVIEW_SAMPLE_FAULTS;
		else
			bit = 0;
		if (!bit || (v & bit)) {
			ret = -EINVAL;
			break;
		}
		v |= bit;
	}
	free(copy);
	/* an empty list or stray commas name nothing */
	if (!ret && (!v || arg[0] == ',' || arg[strlen(arg) - 1] == ',' ||
		     strstr(arg, ",,")))
		ret = -EINVAL;
	if (!ret)
		*out = v;
	return ret;
}

int mv_policy_opt(struct memview_policy *pol, int c, const char *arg)
{
	const struct policy_knob *k;
	uint64_t v;
	int rc;

	if (c < MV_POLICY_OPT_BASE || c >= MV_POLICY_OPT_END)
		return 0;
	if (c == MV_POLICY_OPT_SAMPLERS) {
		if (parse_samplers(arg, &pol->samplers)) {
			mv_usage_err("invalid value '%s' for --samplers (access,faults | access | faults | none)",
				     arg);
			return -1;
		}
		pol->valid |= MEMVIEW_POLICY_SAMPLERS;
		return 1;
	}
	k = &knobs[c - MV_POLICY_OPT_BASE];
	rc = parse_u64(arg, &v);
	if (rc && rc != -ERANGE) {
		mv_usage_err("invalid value '%s' for --%s: not a number", arg,
			     k->opt);
		return -1;
	}
	if (rc || v < k->min || v > k->max) {
		mv_usage_err("invalid value '%s' for --%s: must be %" PRIu32
			     "..%" PRIu32 "%s%s", arg, k->opt, k->min, k->max,
			     *k->unit ? " " : "", k->unit);
		return -1;
	}
	*knob_field(pol, k) = (uint32_t)v;
	pol->valid |= k->bit;
	return 1;
}

int mv_set_policy(int fd, struct memview_policy *pol)
{
	char hint[256];
	size_t i, n = 0;
	int rc;

	pol->flags = 0;
	rc = MV_IOCTL(fd, MEMVIEW_IOCTL_SET_POLICY, pol);
	if (!rc)
		return 0;
	if (rc == -EINVAL) {
		/* memviewctl checked the ranges: this module's differ */
		n = (size_t)snprintf(hint, sizeof(hint),
				     "the module refused one of:");
		for (i = 0; i < ARRAY_SIZE(knobs) && n < sizeof(hint); i++)
			if (pol->valid & knobs[i].bit)
				n += (size_t)snprintf(hint + n, sizeof(hint) - n,
						      " --%s %" PRIu32, knobs[i].opt,
						      knob_value(pol, &knobs[i]));
		if (n < sizeof(hint) && (pol->valid & MEMVIEW_POLICY_SAMPLERS))
			snprintf(hint + n, sizeof(hint) - n, " --samplers %s",
				 samplers_str(pol->samplers));
		mv_err(rc, hint, "cannot set the policy");
		return rc;
	}
	mv_err(rc, mv_common_hint(rc), "cannot set the policy");
	return rc;
}

void print_policy_table(const struct memview_policy *pol)
{
	char range[32];
	size_t i;

	printf("%-16s %10s %-7s %-13s %s\n", "KNOB", "VALUE", "UNIT",
	       "RANGE", "MEANING");
	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		snprintf(range, sizeof(range), "%" PRIu32 "..%" PRIu32,
			 knobs[i].min, knobs[i].max);
		printf("%-16s %10" PRIu32 " %-7s %-13s %s\n", knobs[i].opt,
		       knob_value(pol, &knobs[i]), knobs[i].unit, range,
		       knobs[i].what);
	}
	printf("%-16s %10s\n", "samplers", samplers_str(pol->samplers));
	printf("%-16s %10s   (the module's page-fault sampler on this host)\n",
	       "fault-sampler", fault_sampler_str(pol->out_fault_sampler));
	printf("(one policy for the whole module: it applies to every automatically tiered process)\n");
}

static int print_policy(const struct memview_policy *pol,
			const struct mv_output *out)
{
	struct json_object *o;

	if (out->table) {
		print_policy_table(pol);
		return 0;
	}
	o = policy_to_json(pol, mv_output_flags(out));
	if (!o) {
		mv_err(ENOMEM, NULL, "cannot build the JSON output");
		return 1;
	}
	json_print(o);
	return 0;
}

int cmd_set_policy(int argc, char **argv)
{
	static const struct option longopts[] = {
		MV_POLICY_LONGOPTS,
		{ "json",	no_argument,	NULL, 'j' },
		{ "table",	no_argument,	NULL, 't' },
		{ "help",	no_argument,	NULL, 'h' },
		{ 0 }
	};
	struct memview_policy pol = { 0 };
	struct mv_output out = { 0 };
	int c, fd, rc;

	while ((c = mv_getopt(argc, argv, "jth", longopts)) != -1) {
		rc = mv_policy_opt(&pol, c, optarg);
		if (rc < 0)
			return 1;
		if (rc > 0 || mv_output_opt(&out, c))
			continue;
		if (c == 'h') {
			fputs(set_policy_usage, stdout);
			return 0;
		}
		return mv_bad_option(argc, argv, c);
	}
	if (optind < argc)
		return mv_usage_err("unexpected argument '%s'", argv[optind]);
	if (!pol.valid)
		return mv_usage_err("nothing to set: give at least one policy option ('memviewctl get-policy' shows them)");
	if (!mv_output_resolve(&out))
		return 1;

	fd = mv_open();
	if (fd < 0)
		return 1;
	rc = mv_set_policy(fd, &pol);
	close(fd);
	if (rc)
		return 1;
	return print_policy(&pol, &out);
}

int cmd_get_policy(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,	NULL, 'j' },
		{ "table",	no_argument,	NULL, 't' },
		{ "help",	no_argument,	NULL, 'h' },
		{ 0 }
	};
	struct memview_policy pol;
	struct mv_output out = { 0 };
	int c, fd, rc;

	while ((c = mv_getopt(argc, argv, "jth", longopts)) != -1) {
		if (mv_output_opt(&out, c))
			continue;
		if (c == 'h') {
			fputs(get_policy_usage, stdout);
			return 0;
		}
		return mv_bad_option(argc, argv, c);
	}
	if (optind < argc)
		return mv_usage_err("unexpected argument '%s'", argv[optind]);
	if (!mv_output_resolve(&out))
		return 1;

	fd = mv_open();
	if (fd < 0)
		return 1;
	rc = mv_get_policy(fd, &pol);
	close(fd);
	if (rc) {
		mv_err(rc, mv_common_hint(rc), "cannot get the policy");
		return 1;
	}
	return print_policy(&pol, &out);
}
