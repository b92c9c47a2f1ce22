// SPDX-License-Identifier: GPL-2.0
/*
 * memviewctl list, memviewctl info.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memviewctl.h"

static const char list_usage[] =
	"usage: memviewctl list [-R] [-S] [-P] [-v] [-j|-t] [-H]\n"
	"\n"
	"Show memview's regions, their slices and the processes it manages;\n"
	"all three when none of -R, -S, -P is given.\n"
	"\n"
	"  -R, --regions      regions\n"
	"  -S, --slices       slices\n"
	"  -P, --processes    managed processes\n"
	"  -v, --verbose      counters: pages used/free, migrations and errors per\n"
	"                     slice (with the ras feature, slices always show\n"
	"                     corrected/uncorrectable errors, the fence reason and\n"
	"                     evacuation progress); per process the pages memview moved, where\n"
	"                     its pages are (DRAM or which slice) and the placer's\n"
	"                     statistics (as 'memviewctl stats PID')\n"
	MV_OUTPUT_HELP
	"  -h, --help         this text\n"
	"\n"
	"JSON: one group gives an array of objects; several give an object with\n"
	"\"regions\", \"slices\" and \"processes\" arrays.\n";

static const char info_usage[] =
	"usage: memviewctl info [-j|-t] [-H]\n"
	"\n"
	"Show the loaded module's API version, features, slice and page size,\n"
	"how many regions and slices it has and, with the ras feature, how many\n"
	"pages were retired after memory errors (poisoned pages).\n"
	"\n"
	MV_OUTPUT_HELP
	"  -h, --help         this text\n";

static const char *pages_str(uint64_t pages, uint64_t page_size, char *buf,
			     size_t len)
{
	char sz[SIZE_STR_LEN];

	snprintf(buf, len, "%" PRIu64 " (%s)", pages,
		 size_str(pages * page_size, sz, sizeof(sz)));
	return buf;
}

void print_region_table(const struct memview_region_entry *r, uint32_t nr,
			uint64_t page_size, bool verbose)
{
	char sz[SIZE_STR_LEN], un[SIZE_STR_LEN], used[64];
	uint32_t i;

	printf("%4s  %-5s %-20s %4s  %-18s %10s %6s %10s", "ID", "KIND", "LABEL",
	       "NODE", "RESOURCE", "SIZE", "SLICES", "UNUSABLE");
	if (verbose)
		printf("  %s", "USED PAGES");
	putchar('\n');
	for (i = 0; i < nr; i++) {
		printf("%4u  %-5s %-20.*s %4d  0x%-16" PRIx64 " %10s %6u %10s",
		       r[i].id, region_kind_str(r[i].kind),
		       (int)sizeof(r[i].label), r[i].label, r[i].nid,
		       (uint64_t)r[i].phys_addr,
		       size_str(r[i].length, sz, sizeof(sz)), r[i].nr_slices,
		       size_str(r[i].unusable_bytes, un, sizeof(un)));
		if (verbose)
			printf("  %s", pages_str(r[i].used_pages, page_size,
						 used, sizeof(used)));
		putchar('\n');
	}
	if (!nr)
		printf("%4s  (none)\n", "");
}

/* "1200/4096" moved of total, "+3" pending, "-" when never evacuated */
static const char *evac_str(const struct memview_slice_entry *s, char *buf,
			    size_t len)
{
	int n;

	if (!s->evac_passes && !s->evac_total &&
	    s->state != MEMVIEW_SLICE_FENCING)
		return "-";
	n = snprintf(buf, len, "%" PRIu64 "/%" PRIu64, (uint64_t)s->evac_moved,
		     (uint64_t)s->evac_total);
	if (s->evac_pending && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " +%" PRIu64 " pending",
			 (uint64_t)s->evac_pending);
	return buf;
}

static void print_slice_table(const struct memview_slice_entry *s,
			      uint32_t nr, uint64_t page_size, bool verbose,
			      bool ras)
{
	char sz[SIZE_STR_LEN], evac[64];
	uint32_t i;

	printf("%4s %6s %5s  %-9s %-18s %9s", "ID", "REGION", "INDEX", "STATE",
	       "RESOURCE", "SIZE");
	if (verbose)
		printf(" %8s %8s %8s %9s %9s %6s", "USED", "FREE", "POISONED",
		       "MIGR-IN", "MIGR-OUT", "ERRORS");
	if (ras)
		printf(" %6s %6s  %-13s %s", "CE", "UE", "FENCE-REASON",
		       "EVACUATED (moved/total)");
	putchar('\n');
	for (i = 0; i < nr; i++) {
		printf("%4u %6u %5u  %-9s 0x%-16" PRIx64 " %9s", s[i].id,
		       s[i].region_id, s[i].index, slice_state_str(s[i].state),
		       (uint64_t)s[i].phys_addr,
		       size_str(s[i].total_pages * page_size, sz, sizeof(sz)));
		if (verbose)
			printf(" %8" PRIu64 " %8" PRIu64 " %8" PRIu64
			       " %9" PRIu64 " %9" PRIu64 " %6" PRIu64,
			       (uint64_t)s[i].used_pages,
			       (uint64_t)s[i].free_pages,
			       (uint64_t)s[i].poisoned_pages,
			       (uint64_t)s[i].migrations_in,
			       (uint64_t)s[i].migrations_out,
			       (uint64_t)s[i].errors);
		if (ras)
			printf(" %6" PRIu64 " %6" PRIu64 "  %-13s %s",
			       (uint64_t)s[i].corrected_errors,
			       (uint64_t)s[i].uncorrectable_errors,
			       s[i].fence_reason ?
			       fence_reason_str(s[i].fence_reason) : "-",
			       evac_str(&s[i], evac, sizeof(evac)));
		putchar('\n');
	}
	if (!nr)
		printf("%4s  (none)\n", "");
	else if (verbose || ras)
		printf("(%s%scount pages of %s; CE, UE: corrected and uncorrectable errors)\n",
		       verbose ? "USED, FREE, POISONED, MIGR-* " : "",
		       ras ? (verbose ? "and EVACUATED " : "EVACUATED ") : "",
		       size_str(page_size, sz, sizeof(sz)));
}

/* One managed process, with its residency and stats when -v could get them. */
struct proc_view {
	struct memview_proc_entry p;
	bool has_res;
	struct memview_residency res;
	struct memview_residency_entry *rs;
	uint32_t nr_rs;
	bool has_stats;
	struct memview_stats st;
};

static void print_proc_table(const struct proc_view *v, uint32_t nr,
			     uint64_t page_size, bool verbose)
{
	char sz[SIZE_STR_LEN], dram[64], slice[64];
	uint32_t i, j;

	printf("%7s  %-16s %10s  %-13s", "PID", "COMM", "BUDGET", "MODE");
	if (verbose)
		printf(" %8s %8s %8s %8s %9s %8s  %-20s %-20s %s", "DEMOTED",
		       "PROMOTED", "PL-DEM", "PL-PROM", "PINGPONGS", "HOT",
		       "DRAM PAGES", "SLICE PAGES", "PER SLICE (id:pages)");
	putchar('\n');
	for (i = 0; i < nr; i++) {
		const struct memview_proc_entry *p = &v[i].p;
		const struct memview_stats *st = &v[i].st;

		printf("%7d  %-16.*s %10s  %-13s", p->pid, (int)sizeof(p->comm),
		       p->comm, p->dram_budget ?
		       size_str(p->dram_budget, sz, sizeof(sz)) : "unlimited",
		       proc_mode_str(p->flags));
		if (verbose) {
			printf(" %8" PRIu64 " %8" PRIu64, (uint64_t)p->pages_demoted,
			       (uint64_t)p->pages_promoted);
			if (v[i].has_stats)
				printf(" %8" PRIu64 " %8" PRIu64 " %9" PRIu64,
				       (uint64_t)st->out_demotions,
				       (uint64_t)st->out_promotions,
				       (uint64_t)st->out_pingpongs);
			else
				printf(" %8s %8s %9s", "?", "?", "?");
			/* hot pages come from the placer's scans only */
			if (v[i].has_stats && (p->flags & MEMVIEW_ATTACH_AUTO))
				printf(" %8" PRIu64, (uint64_t)st->out_hot_pages);
			else
				printf(" %8s", v[i].has_stats ? "-" : "?");
			if (v[i].has_res) {
				printf("  %-20s %-20s ",
				       pages_str(v[i].res.out_dram_pages,
						 page_size, dram, sizeof(dram)),
				       pages_str(v[i].res.out_slice_pages,
						 page_size, slice, sizeof(slice)));
				for (j = 0; j < v[i].nr_rs; j++)
					printf("%s%u:%" PRIu64, j ? "," : "",
					       v[i].rs[j].slice_id,
					       (uint64_t)v[i].rs[j].pages);
				if (!v[i].nr_rs)
					printf("-");
			} else {
				printf("  %-20s %-20s -", "?", "?");
			}
		}
		putchar('\n');
	}
	if (!nr)
		printf("%7s  (none)\n", "");
	else if (verbose)
		printf("(DEMOTED, PROMOTED: pages memview moved, by hand or by the placer;\n"
		       " PL-DEM, PL-PROM, PINGPONGS, HOT: the placer's, as 'memviewctl stats PID')\n");
}

static int list_fail(int rc, const char *what)
{
	mv_err(rc, mv_common_hint(rc), "cannot list %s", what);
	return 1;
}

int cmd_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "regions",	no_argument,	NULL, 'R' },
		{ "slices",	no_argument,	NULL, 'S' },
		{ "processes",	no_argument,	NULL, 'P' },
		{ "verbose",	no_argument,	NULL, 'v' },
		{ "help",	no_argument,	NULL, 'h' },
		MV_OUTPUT_LONGOPTS,
		{ 0 }
	};
	struct memview_region_entry *regions = NULL;
	struct memview_slice_entry *slices = NULL;
	struct memview_proc_entry *procs = NULL;
	struct proc_view *views = NULL;
	uint32_t nr_regions = 0, nr_slices = 0, nr_procs = 0, i;
	struct mv_output out = { 0 };
	struct memview_info info;
	struct json_object *top = NULL, *a;
	bool want_r = false, want_s = false, want_p = false, residency, auto_tier;
	bool ras;
	unsigned long flags;
	int c, fd, rc, ret = 1, groups;

	while ((c = mv_getopt(argc, argv, "RSPvh" MV_OUTPUT_SHORTOPTS,
			      longopts)) != -1) {
		if (mv_output_opt(&out, c))
			continue;
		switch (c) {
		case 'R':
			want_r = true;
			break;
		case 'S':
			want_s = true;
			break;
		case 'P':
			want_p = true;
			break;
		case 'v':
			out.verbose = 1;
			break;
		case 'h':
			fputs(list_usage, stdout);
			return 0;
		default:
			return mv_bad_option(argc, argv, c);
		}
	}
	if (optind < argc)
		return mv_usage_err("unexpected argument '%s'", argv[optind]);
	if (!mv_output_resolve(&out))
		return 1;
	if (!want_r && !want_s && !want_p)
		want_r = want_s = want_p = true;
	groups = want_r + want_s + want_p;
	flags = mv_output_flags(&out);

	fd = mv_open();
	if (fd < 0)
		return 1;
	rc = mv_get_info(fd, &info);
	if (rc) {
		mv_err(rc, mv_common_hint(rc), "cannot get module info");
		goto out;
	}
	residency = info.out_features & MEMVIEW_FEATURE_RESIDENCY;
	auto_tier = info.out_features & MEMVIEW_FEATURE_AUTO;
	ras = info.out_features & MEMVIEW_FEATURE_RAS;
	if (ras)
		flags |= MV_JSON_RAS;

	if (want_r && (rc = mv_get_regions(fd, &regions, &nr_regions))) {
		ret = list_fail(rc, "regions");
		goto out;
	}
	if (want_s && (rc = mv_get_slices(fd, false, 0, &slices, &nr_slices))) {
		ret = list_fail(rc, "slices");
		goto out;
	}
	if (want_p && (rc = mv_get_procs(fd, &procs, &nr_procs))) {
		ret = list_fail(rc, "processes");
		goto out;
	}
	if (want_p) {
		views = calloc(nr_procs ? nr_procs : 1, sizeof(*views));
		if (!views) {
			ret = list_fail(-ENOMEM, "processes");
			goto out;
		}
	}
	for (i = 0; i < nr_procs; i++) {
		views[i].p = procs[i];
		if (!out.verbose || procs[i].pid <= 0)
			continue;
		/* the process may exit meanwhile: show it without them */
		if (residency) {
			rc = mv_get_residency(fd, procs[i].pid, &views[i].res,
					      &views[i].rs, &views[i].nr_rs);
			if (rc)
				mv_dbg("pid %d: no residency: %s", procs[i].pid,
				       strerror(-rc));
			views[i].has_res = !rc;
		}
		if (auto_tier) {
			rc = mv_get_stats(fd, procs[i].pid, &views[i].st);
			if (rc)
				mv_dbg("pid %d: no stats: %s", procs[i].pid,
				       strerror(-rc));
			views[i].has_stats = !rc;
		}
	}

	if (out.table) {
		if (want_r) {
			if (groups > 1)
				printf("regions:\n");
			print_region_table(regions, nr_regions,
					   info.out_page_size, out.verbose);
		}
		if (want_s) {
			if (groups > 1)
				printf("%sslices:\n", want_r ? "\n" : "");
			print_slice_table(slices, nr_slices, info.out_page_size,
					  out.verbose, ras);
		}
		if (want_p) {
			if (groups > 1)
				printf("\nprocesses:\n");
			print_proc_table(views, nr_procs, info.out_page_size,
					 out.verbose);
		}
		ret = 0;
		goto out;
	}

	if (groups > 1)
		top = json_object_new_object();
	if (want_r) {
		a = json_object_new_array();
		for (i = 0; a && i < nr_regions; i++)
			json_object_array_add(a, region_to_json(&regions[i], flags));
		if (groups > 1)
			json_object_object_add(top, "regions", a);
		else
			top = a;
	}
	if (want_s) {
		a = json_object_new_array();
		for (i = 0; a && i < nr_slices; i++)
			json_object_array_add(a, slice_to_json(&slices[i],
							       info.out_page_size,
							       flags));
		if (groups > 1)
			json_object_object_add(top, "slices", a);
		else
			top = a;
	}
	if (want_p) {
		a = json_object_new_array();
		for (i = 0; a && i < nr_procs; i++)
			json_object_array_add(a,
				proc_to_json(&views[i].p,
					     views[i].has_res ? &views[i].res : NULL,
					     views[i].rs, views[i].nr_rs,
					     views[i].has_stats ? &views[i].st : NULL,
					     flags));
		if (groups > 1)
			json_object_object_add(top, "processes", a);
		else
			top = a;
	}
	if (!top) {
		mv_err(ENOMEM, NULL, "cannot build the JSON output");
		goto out;
	}
	json_print(top);
	ret = 0;
out:
	for (i = 0; views && i < nr_procs; i++)
		free(views[i].rs);
	free(views);
	free(procs);
	free(slices);
	free(regions);
	close(fd);
	return ret;
}

int cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help",	no_argument,	NULL, 'h' },
		MV_OUTPUT_LONGOPTS,
		{ 0 }
	};
	struct mv_output out = { 0 };
	struct memview_info info;
	struct json_object *o, *feat;
	char sz[SIZE_STR_LEN];
	int c, fd, rc;
	size_t i;

	while ((c = mv_getopt(argc, argv, "h" MV_OUTPUT_SHORTOPTS,
			      longopts)) != -1) {
		if (mv_output_opt(&out, c))
			continue;
		if (c == 'h') {
			fputs(info_usage, stdout);
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
	rc = mv_get_info(fd, &info);
	close(fd);
	if (rc) {
		mv_err(rc, mv_common_hint(rc), "cannot get module info");
		return 1;
	}
	if (info.out_api_version != MEMVIEW_API_VERSION)
		mv_warn("module API version %u, memviewctl was built for %d",
			info.out_api_version, MEMVIEW_API_VERSION);

	o = info_to_json(&info, mv_output_flags(&out));
	if (!o) {
		mv_err(ENOMEM, NULL, "cannot build the JSON output");
		return 1;
	}
	if (out.json) {
		json_print(o);
		return 0;
	}
	printf("api version: %u\n", info.out_api_version);
	printf("regions:     %u\n", info.out_nr_regions);
	printf("slices:      %u\n", info.out_nr_slices);
	printf("slice size:  %s\n", size_str(info.out_slice_size, sz, sizeof(sz)));
	printf("page size:   %s\n", size_str(info.out_page_size, sz, sizeof(sz)));
	if (info.out_features & MEMVIEW_FEATURE_RAS)
		printf("poisoned:    %" PRIu64 " pages (%s) retired after memory errors\n",
		       (uint64_t)info.out_poisoned_pages,
		       size_str(info.out_poisoned_pages * info.out_page_size,
				sz, sizeof(sz)));
	printf("features:   ");
	feat = json_object_object_get(o, "features");
	for (i = 0; feat && i < json_object_array_length(feat); i++)
		printf("%s %s", i ? "," : "",
		       json_object_get_string(json_object_array_get_idx(feat, i)));
	printf("%s\n", feat && json_object_array_length(feat) ? "" : " none");
	json_object_put(o);
	return 0;
}
