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
	"when the kernel would not give it a perf counter); with the ras feature\n"
	"also the fault-isolation policy (ce_threshold, ce_window_ms,\n"
	"fence_on_ue, fence_on_ce; Documentation/ras.rst).\n"
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

/* The fault-isolation knobs, in the order of MV_POLICY_OPT_CE_*. */
static const struct policy_knob ras_knobs[] = {
	KNOB("ce-threshold", MEMVIEW_POLICY_CE_THRESHOLD, ce_threshold,
	     1, 1000000, "", "corrected errors in the window that fence"),
	KNOB("ce-window", MEMVIEW_POLICY_CE_WINDOW, ce_window_ms,
	     100, 604800000, "ms", "corrected-error window"),
};

/*
 * --fence-on-ue and the like change one bit of ras_flags, which SET_POLICY
 * sets as a whole: the bits to set and clear are kept here and merged with
 * the policy in force by mv_set_policy().
 */
static uint32_t ras_set, ras_clear;

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
	switch (c) {
	case MV_POLICY_OPT_FENCE_ON_UE:
		ras_set |= MEMVIEW_RAS_FENCE_ON_UE;
		ras_clear &= ~MEMVIEW_RAS_FENCE_ON_UE;
		pol->valid |= MEMVIEW_POLICY_RAS_FLAGS;
		return 1;
	case MV_POLICY_OPT_NO_FENCE_ON_UE:
		ras_clear |= MEMVIEW_RAS_FENCE_ON_UE;
		ras_set &= ~MEMVIEW_RAS_FENCE_ON_UE;
		pol->valid |= MEMVIEW_POLICY_RAS_FLAGS;
		return 1;
	case MV_POLICY_OPT_FENCE_ON_CE:
		ras_set |= MEMVIEW_RAS_FENCE_ON_CE;
		ras_clear &= ~MEMVIEW_RAS_FENCE_ON_CE;
		pol->valid |= MEMVIEW_POLICY_RAS_FLAGS;
		return 1;
	case MV_POLICY_OPT_NO_FENCE_ON_CE:
		ras_clear |= MEMVIEW_RAS_FENCE_ON_CE;
		ras_set &= ~MEMVIEW_RAS_FENCE_ON_CE;
		pol->valid |= MEMVIEW_POLICY_RAS_FLAGS;
		return 1;
	case MV_POLICY_OPT_CE_THRESHOLD:
	case MV_POLICY_OPT_CE_WINDOW:
		k = &ras_knobs[c - MV_POLICY_OPT_CE_THRESHOLD];
		break;
	default:
		k = &knobs[c - MV_POLICY_OPT_BASE];
		break;
	}
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
	char hint[384];
	size_t i, n = 0;
	int rc;

	pol->flags = 0;
	if (pol->valid & (MEMVIEW_POLICY_CE_THRESHOLD | MEMVIEW_POLICY_CE_WINDOW |
			  MEMVIEW_POLICY_RAS_FLAGS)) {
		struct memview_policy cur;

		if (!mv_ras_flag(fd)) {
			mv_err(0, "load a memview module with fault isolation (memviewctl info lists \"ras\" in its features)",
			       "cannot set --ce-threshold, --ce-window or --[no-]fence-on-*: the loaded module has no fault isolation");
			return -EOPNOTSUPP;
		}
		if (pol->valid & MEMVIEW_POLICY_RAS_FLAGS) {
			rc = mv_get_policy(fd, &cur);
			if (rc) {
				mv_err(rc, mv_common_hint(rc), "cannot get the policy");
				return rc;
			}
			pol->ras_flags = (cur.ras_flags | ras_set) & ~ras_clear;
		}
	}
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
		for (i = 0; i < ARRAY_SIZE(ras_knobs) && n < sizeof(hint); i++)
			if (pol->valid & ras_knobs[i].bit)
				n += (size_t)snprintf(hint + n, sizeof(hint) - n,
						      " --%s %" PRIu32, ras_knobs[i].opt,
						      knob_value(pol, &ras_knobs[i]));
		if (n < sizeof(hint) && (pol->valid & MEMVIEW_POLICY_RAS_FLAGS))
			n += (size_t)snprintf(hint + n, sizeof(hint) - n,
					      " ras_flags 0x%" PRIx32, pol->ras_flags);
		if (n < sizeof(hint) && (pol->valid & MEMVIEW_POLICY_SAMPLERS))
			snprintf(hint + n, sizeof(hint) - n, " --samplers %s",
				 samplers_str(pol->samplers));
		mv_err(rc, hint, "cannot set the policy");
		return rc;
	}
	mv_err(rc, mv_common_hint(rc), "cannot set the policy");
	return rc;
}

unsigned long mv_ras_flag(int fd)
{
	struct memview_info info;

	if (mv_get_info(fd, &info))
		return 0;
	return info.out_features & MEMVIEW_FEATURE_RAS ? MV_JSON_RAS : 0;
}

void print_policy_table(const struct memview_policy *pol, bool ras)
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
	for (i = 0; ras && i < ARRAY_SIZE(ras_knobs); i++) {
		snprintf(range, sizeof(range), "%" PRIu32 "..%" PRIu32,
			 ras_knobs[i].min, ras_knobs[i].max);
		printf("%-16s %10" PRIu32 " %-7s %-13s %s\n", ras_knobs[i].opt,
		       knob_value(pol, &ras_knobs[i]), ras_knobs[i].unit, range,
		       ras_knobs[i].what);
	}
	if (ras) {
		printf("%-16s %10s   (fence a slice at its first uncorrectable error)\n",
		       "fence-on-ue", pol->ras_flags & MEMVIEW_RAS_FENCE_ON_UE ? "yes" : "no");
		printf("%-16s %10s   (fence a slice at ce-threshold corrected errors)\n",
		       "fence-on-ce", pol->ras_flags & MEMVIEW_RAS_FENCE_ON_CE ? "yes" : "no");
	}
	printf("%-16s %10s   (the module's page-fault sampler on this host)\n",
	       "fault-sampler", fault_sampler_str(pol->out_fault_sampler));
	printf("(one policy for the whole module: it applies to every automatically tiered process)\n");
}

static int print_policy(const struct memview_policy *pol,
			const struct mv_output *out, unsigned long ras)
{
	struct json_object *o;

	if (out->table) {
		print_policy_table(pol, ras);
		return 0;
	}
	o = policy_to_json(pol, mv_output_flags(out) | ras);
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
	unsigned long ras;
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
	ras = mv_ras_flag(fd);
	close(fd);
	if (rc)
		return 1;
	return print_policy(&pol, &out, ras);
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
	unsigned long ras;
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
	ras = mv_ras_flag(fd);
	close(fd);
	if (rc) {
		mv_err(rc, mv_common_hint(rc), "cannot get the policy");
		return 1;
	}
	return print_policy(&pol, &out, ras);
}
