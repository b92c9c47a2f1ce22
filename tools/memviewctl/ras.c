// SPDX-License-Identifier: GPL-2.0
/*
 * memviewctl fence-slice, unfence-slice, inject-error: fault isolation by
 * hand (Documentation/ras.rst).  memviewctl monitor is in monitor.c.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "memviewctl.h"

static const char fence_usage[] =
	"usage: memviewctl fence-slice <SLICE-ID> [--wait] [--retire] [-j|-t]\n"
	"\n"
	"Take a slice out of service: no new page lands on it from now on, and a\n"
	"kernel worker moves its live pages to other healthy slices (or to DRAM\n"
	"when none has room), each copy verified.  The slice is FENCING until it\n"
	"is empty, then FENCED ('memviewctl unfence-slice' puts it back).  Fencing\n"
	"a slice that is already fencing, fenced or retired changes nothing.\n"
	"Prints the slice's state and the evacuation's counts when the call\n"
	"returns.  'memviewctl list -S' shows the progress.  Needs root.\n"
	"\n"
	"  -w, --wait         return when the evacuation has ended (Ctrl-C stops\n"
	"                     waiting; the evacuation goes on)\n"
	"  -r, --retire       end RETIRED instead of FENCED: out of service until\n"
	"                     its region is removed (also retires a FENCED slice)\n"
	"  -j, --json         JSON (the default when stdout is not a terminal)\n"
	"  -t, --table        a line for people\n"
	"  -h, --help         this text\n";

static const char unfence_usage[] =
	"usage: memviewctl unfence-slice <SLICE-ID> [--force] [-j|-t]\n"
	"\n"
	"Put a FENCED slice back in service: it takes pages again, DEGRADED if\n"
	"it had memory errors, ONLINE otherwise; its corrected-error window\n"
	"restarts.  A slice that had uncorrectable errors is refused unless\n"
	"--force; its poisoned pages stay retired either way.  An ONLINE or\n"
	"DEGRADED slice is left as it is.  Needs root.\n"
	"\n"
	"  -f, --force        unfence even after uncorrectable errors\n"
	"  -j, --json         JSON (the default when stdout is not a terminal)\n"
	"  -t, --table        a line for people\n"
	"  -h, --help         this text\n";

static const char inject_usage[] =
	"usage: memviewctl inject-error (--addr PHYS [--length N] | --slice ID)\n"
	"                               (--corrected | --uncorrectable) [--count N]\n"
	"                               [-j|-t] [-H]\n"
	"\n"
	"FOR TESTS AND DEMOS ONLY.  Makes the module believe that memory errors\n"
	"happened that never did, and act on them as it would on real ones: an\n"
	"uncorrectable error at an address POISONS every page it covers (the\n"
	"data there is thrown away; processes that map those pages get SIGBUS\n"
	"when they touch them) and, by the policy's default, fences the slice.\n"
	"Corrected errors count towards the policy's ce-threshold.  Never run\n"
	"this on a system whose data matters.  Needs root.\n"
	"\n"
	"  -a, --addr PHYS      host physical address inside a memview slice\n"
	"  -l, --length N       bytes from PHYS the error covers (default 1, at\n"
	"                       most one slice; suffixes K, M, G)\n"
	"  -s, --slice ID       an error on slice ID as a whole, at no page\n"
	"  -c, --corrected      corrected errors (no data touched)\n"
	"  -u, --uncorrectable  uncorrectable errors\n"
	"  -n, --count N        raise N errors, 1..1000000 (default 1)\n"
	MV_OUTPUT_HELP
	"  -h, --help           this text\n";

/* "3" -> 3; a usage error names the argument. */
static int parse_slice_id(const char *s, uint32_t *id)
{
	uint64_t v;

	if (parse_u64(s, &v) || v > UINT32_MAX)
		return mv_usage_err("invalid slice id '%s' (see 'memviewctl list -S')", s);
	*id = (uint32_t)v;
	return 0;
}

static struct json_object *fence_to_json(const struct memview_slice_fence *f)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_add_u64(o, "slice_id", f->slice_id);
	json_add_str(o, "state", slice_state_str(f->out_state));
	json_add_u64(o, "evac_moved", f->out_evac_moved);
	json_add_u64(o, "evac_pending", f->out_evac_pending);
	return o;
}

static int print_fence(const struct memview_slice_fence *f,
		       const struct mv_output *out)
{
	struct json_object *o;

	if (out->table) {
		printf("slice %u: %s; %" PRIu64 " pages moved, %" PRIu64 " pending\n",
		       f->slice_id, slice_state_str(f->out_state),
		       (uint64_t)f->out_evac_moved, (uint64_t)f->out_evac_pending);
		return 0;
	}
	o = fence_to_json(f);
	if (!o) {
		mv_err(ENOMEM, NULL, "cannot build the JSON output");
		return 1;
	}
	json_print(o);
	return 0;
}

/* A module without MEMVIEW_FEATURE_RAS answers ENOTTY: say so plainly. */
static const char *ras_hint(int rc)
{
	if (rc == -ENOTTY || rc == ENOTTY)
		return "the loaded memview module has no fault isolation (\"ras\" is not in 'memviewctl info' features); load a newer one";
	return mv_common_hint(rc);
}

static void fence_error(int rc, const struct memview_slice_fence *f)
{
	char hint[160];

	switch (-rc) {
	case ENOENT:
		mv_err(rc, "'memviewctl list -S' lists the slices",
		       "no slice %u", f->slice_id);
		return;
	case EBUSY:
		mv_err(rc, "wait for remove-region to end; its slices go away with it",
		       "slice %u cannot be fenced: its region is being removed",
		       f->slice_id);
		return;
	case EINTR:
		snprintf(hint, sizeof(hint),
			 "the evacuation goes on in the kernel: 'memviewctl list -S' shows slice %u's progress",
			 f->slice_id);
		mv_err(rc, hint, "stopped waiting for slice %u (state %s)",
		       f->slice_id, slice_state_str(f->out_state));
		return;
	case EINVAL:
		mv_err(rc, "is the loaded module older than memviewctl?",
		       "the module refused the fence request for slice %u",
		       f->slice_id);
		return;
	}
	mv_err(rc, ras_hint(rc), "cannot fence slice %u", f->slice_id);
}

static void unfence_error(int rc, const struct memview_slice_fence *f)
{
	char hint[160];

	switch (-rc) {
	case ENOENT:
		mv_err(rc, "'memviewctl list -S' lists the slices",
		       "no slice %u", f->slice_id);
		return;
	case EHWPOISON:
		snprintf(hint, sizeof(hint),
			 "use --force to put it back anyway: memviewctl unfence-slice %u --force",
			 f->slice_id);
		mv_err(0, hint, "slice %u had uncorrectable errors", f->slice_id);
		return;
	case EBUSY:
		snprintf(hint, sizeof(hint),
			 "wait until it is FENCED (memviewctl fence-slice %u --wait) and try again; a slice whose region is being removed cannot come back",
			 f->slice_id);
		mv_err(rc, hint, "slice %u is still being evacuated (or its region removed)",
		       f->slice_id);
		return;
	case ENODEV:
		mv_err(0, "a retired slice stays out of service until its region is removed (memviewctl remove-region)",
		       "slice %u is retired", f->slice_id);
		return;
	case EINVAL:
		mv_err(rc, "is the loaded module older than memviewctl?",
		       "the module refused the unfence request for slice %u",
		       f->slice_id);
		return;
	}
	mv_err(rc, ras_hint(rc), "cannot unfence slice %u", f->slice_id);
}

static int do_fence(int argc, char **argv, bool unfence)
{
	static const struct option fence_opts[] = {
		{ "wait",	no_argument,	NULL, 'w' },
		{ "retire",	no_argument,	NULL, 'r' },
		{ "json",	no_argument,	NULL, 'j' },
		{ "table",	no_argument,	NULL, 't' },
		{ "help",	no_argument,	NULL, 'h' },
		{ 0 }
	};
	static const struct option unfence_opts[] = {
		{ "force",	no_argument,	NULL, 'f' },
		{ "json",	no_argument,	NULL, 'j' },
		{ "table",	no_argument,	NULL, 't' },
		{ "help",	no_argument,	NULL, 'h' },
		{ 0 }
	};
	struct memview_slice_fence f = { 0 };
	struct mv_output out = { 0 };
	int c, fd, rc;

	while ((c = mv_getopt(argc, argv, unfence ? "fjth" : "wrjth",
			      unfence ? unfence_opts : fence_opts)) != -1) {
		if (c == 'j' || c == 't') {
			mv_output_opt(&out, c);
			continue;
		}
		switch (c) {
		case 'w':
			f.flags |= MEMVIEW_FENCE_WAIT;
			break;
		case 'r':
			f.flags |= MEMVIEW_FENCE_RETIRE;
			break;
		case 'f':
			f.flags |= MEMVIEW_UNFENCE_FORCE;
			break;
		case 'h':
			fputs(unfence ? unfence_usage : fence_usage, stdout);
			return 0;
		default:
			return mv_bad_option(argc, argv, c);
		}
	}
	if (optind >= argc)
		return mv_usage_err("which slice? give its id ('memviewctl list -S' lists them)");
	if (parse_slice_id(argv[optind], &f.slice_id))
		return 1;
	if (optind + 1 < argc)
		return mv_usage_err("unexpected argument '%s'", argv[optind + 1]);
	if (!mv_output_resolve(&out))
		return 1;

	fd = mv_open();
	if (fd < 0)
		return 1;
	rc = MV_IOCTL(fd, unfence ? MEMVIEW_IOCTL_SLICE_UNFENCE :
		      MEMVIEW_IOCTL_SLICE_FENCE, &f);
	close(fd);
	if (rc) {
		if (unfence)
			unfence_error(rc, &f);
		else
			fence_error(rc, &f);
		return 1;
	}
	return print_fence(&f, &out);
}

int cmd_fence_slice(int argc, char **argv)
{
	return do_fence(argc, argv, false);
}

int cmd_unfence_slice(int argc, char **argv)
{
	return do_fence(argc, argv, true);
}

static void inject_error(int rc, const struct memview_error *e)
{
	switch (-rc) {
	case ENOENT:
		if (e->flags & MEMVIEW_INJECT_SLICE)
			mv_err(rc, "'memviewctl list -S' lists the slices",
			       "no slice %u", e->slice_id);
		else
			mv_err(rc, "give an address inside a slice ('memviewctl list -S' shows their resource)",
			       "0x%" PRIx64 " is not in a memview slice",
			       (uint64_t)e->phys_addr);
		return;
	case EINVAL:
		mv_err(rc, "the range must lie inside one slice and be at most a slice long",
		       "the module refused the error at 0x%" PRIx64 "+%" PRIu64,
		       (uint64_t)e->phys_addr, (uint64_t)e->length);
		return;
	case EBUSY:
		mv_err(rc, "wait for remove-region to end", "the slice's region is being removed");
		return;
	}
	mv_err(rc, ras_hint(rc), "cannot inject the error");
}

int cmd_inject_error(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "addr",		required_argument,	NULL, 'a' },
		{ "length",		required_argument,	NULL, 'l' },
		{ "slice",		required_argument,	NULL, 's' },
		{ "corrected",		no_argument,		NULL, 'c' },
		{ "uncorrectable",	no_argument,		NULL, 'u' },
		{ "count",		required_argument,	NULL, 'n' },
		{ "help",		no_argument,		NULL, 'h' },
		MV_OUTPUT_LONGOPTS,
		{ 0 }
	};
	struct memview_error e = { 0 };
	struct mv_output out = { 0 };
	struct json_object *o;
	bool have_addr = false, have_len = false, have_slice = false;
	int c, fd, rc, sev = -1;
	unsigned long flags;
	uint64_t v;

	while ((c = mv_getopt(argc, argv, "a:l:s:cun:h" MV_OUTPUT_SHORTOPTS,
			      longopts)) != -1) {
		if (mv_output_opt(&out, c))
			continue;
		switch (c) {
		case 'a':
			if (parse_u64(optarg, &v))
				return mv_usage_err("invalid address '%s' for --addr (decimal or 0x hex)",
						    optarg);
			e.phys_addr = v;
			have_addr = true;
			break;
		case 'l':
			if (parse_size(optarg, &v) || !v)
				return mv_usage_err("invalid length '%s' for --length (bytes, > 0; 4K, 2M...)",
						    optarg);
			e.length = v;
			have_len = true;
			break;
		case 's':
			if (parse_slice_id(optarg, &e.slice_id))
				return 1;
			have_slice = true;
			break;
		case 'c':
		case 'u':
			if (sev >= 0 && sev != (c == 'u'))
				return mv_usage_err("--corrected and --uncorrectable exclude each other");
			sev = c == 'u';
			break;
		case 'n':
			if (parse_u64(optarg, &v) || v < 1 || v > 1000000)
				return mv_usage_err("invalid value '%s' for --count: must be 1..1000000",
						    optarg);
			e.count = (uint32_t)v;
			break;
		case 'h':
			fputs(inject_usage, stdout);
			return 0;
		default:
			return mv_bad_option(argc, argv, c);
		}
	}
	if (optind < argc)
		return mv_usage_err("unexpected argument '%s'", argv[optind]);
	if (have_addr == have_slice)
		return mv_usage_err("give exactly one of --addr PHYS and --slice ID");
	if (have_slice && have_len)
		return mv_usage_err("--length goes with --addr, not with --slice");
	if (sev < 0)
		return mv_usage_err("give --corrected or --uncorrectable");
	if (!mv_output_resolve(&out))
		return 1;
	e.severity = sev ? MEMVIEW_ERROR_UNCORRECTABLE : MEMVIEW_ERROR_CORRECTED;
	e.source = MEMVIEW_SRC_INJECT;
	if (have_slice)
		e.flags = MEMVIEW_INJECT_SLICE;
	else if (!have_len)
		e.length = 1;
	if (!e.count)
		e.count = 1;

	fd = mv_open();
	if (fd < 0)
		return 1;
	rc = MV_IOCTL(fd, MEMVIEW_IOCTL_ERROR_INJECT, &e);
	close(fd);
	if (rc) {
		inject_error(rc, &e);
		return 1;
	}
	mv_info("injected %u %s error(s) on slice %u", e.count,
		severity_str(e.severity), e.out_slice_id);
	if (out.table) {
		printf("slice %u: %s after %u injected %s error%s; %" PRIu64
		       " pages newly poisoned\n", e.out_slice_id,
		       slice_state_str(e.out_state), e.count,
		       severity_str(e.severity), e.count == 1 ? "" : "s",
		       (uint64_t)e.out_pages_poisoned);
		return 0;
	}
	flags = mv_output_flags(&out);
	o = json_object_new_object();
	if (!o) {
		mv_err(ENOMEM, NULL, "cannot build the JSON output");
		return 1;
	}
	json_add_u64(o, "slice_id", e.out_slice_id);
	json_add_str(o, "state", slice_state_str(e.out_state));
	json_add_str(o, "severity", severity_str(e.severity));
	json_add_u64(o, "count", e.count);
	if (!have_slice) {
		json_add_addr(o, "phys_addr", e.phys_addr, flags);
		json_add_size(o, "length", e.length, flags);
	}
	json_add_u64(o, "pages_poisoned", e.out_pages_poisoned);
	json_print(o);
	return 0;
}
