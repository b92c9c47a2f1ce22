// SPDX-License-Identifier: GPL-2.0
/*
 * memviewctl stats: what the placer did, for one process or in total.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "memviewctl.h"

static const char stats_usage[] =
	"usage: memviewctl stats [PID] [-j|-t]\n"
	"\n"
	"Show the automatic tiering statistics of a managed process, or without\n"
	"PID the totals over all processes since the module was loaded (there\n"
	"\"rounds\" counts the placer's rounds; for a process, the rounds that\n"
	"scanned it).\n"
	"\n"
	"  -j, --json         JSON (the default when stdout is not a terminal)\n"
	"  -t, --table        a table for people\n"
	"  -h, --help         this text\n"
	"\n"
	"JSON keys: pid (0 for the totals), rounds, pages_scanned, scan_ns,\n"
	"access_samples, fault_samples, promotions, demotions, pingpongs,\n"
	"skipped_hysteresis, skipped_rate, skipped_busy, skipped_no_space; for a\n"
	"process also dram_pages, slice_pages, dram_budget_pages (0 = no budget)\n"
	"and hot_pages, as of its last complete scan.  Counters are pages.\n";

/* A message for each errno of STATS. */
static void stats_error(int rc, pid_t pid)
{
	char hint[64];

	switch (-rc) {
	case ENOENT:
		snprintf(hint, sizeof(hint), "attach it first: memviewctl attach %d",
			 pid);
		mv_err(rc, hint, "process %d is not attached", pid);
		return;
	case ESRCH:
		mv_err(rc, NULL, "no process %d", pid);
		return;
	default:
		mv_err(rc, mv_common_hint(rc), "cannot get the statistics%s",
		       pid ? " of the process" : "");
	}
}

static void print_pages(const char *label, uint64_t pages, uint64_t page_size)
{
	char sz[SIZE_STR_LEN];

	printf("%-22s %" PRIu64 " (%s)\n", label, pages,
	       size_str(pages * page_size, sz, sizeof(sz)));
}

static void print_count(const char *label, uint64_t v)
{
	printf("%-22s %" PRIu64 "\n", label, v);
}

static void print_stats_table(const struct memview_stats *s,
			      uint64_t page_size)
{
	if (s->pid)
		printf("%-22s %d\n", "pid", s->pid);
	else
		printf("%-22s %s\n", "pid", "all (totals)");
	print_count("rounds", s->out_rounds);
	print_count("pages scanned", s->out_pages_scanned);
	printf("%-22s %.3f ms", "scan time", (double)s->out_scan_ns / 1e6);
	if (s->out_rounds)
		printf(" (%.3f ms a round)",
		       (double)s->out_scan_ns / 1e6 / (double)s->out_rounds);
	putchar('\n');
	print_count("access samples", s->out_access_samples);
	print_count("fault samples", s->out_fault_samples);
	print_pages("promotions", s->out_promotions, page_size);
	print_pages("demotions", s->out_demotions, page_size);
	print_count("ping-pongs", s->out_pingpongs);
	print_count("skipped: hysteresis", s->out_skipped_hysteresis);
	print_count("skipped: rate limit", s->out_skipped_rate);
	print_count("skipped: busy", s->out_skipped_busy);
	print_count("skipped: no space", s->out_skipped_no_space);
	if (!s->pid)
		return;
	print_pages("dram pages", s->out_dram_pages, page_size);
	print_pages("slice pages", s->out_slice_pages, page_size);
	if (s->out_dram_budget_pages)
		print_pages("dram budget", s->out_dram_budget_pages, page_size);
	else
		printf("%-22s %s\n", "dram budget", "unlimited");
	print_pages("hot pages", s->out_hot_pages, page_size);
}

int cmd_stats(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,	NULL, 'j' },
		{ "table",	no_argument,	NULL, 't' },
		{ "help",	no_argument,	NULL, 'h' },
		{ 0 }
	};
	struct mv_output out = { 0 };
	struct memview_stats st;
	struct memview_info info;
	struct json_object *o;
	pid_t pid = 0;
	int c, fd, rc;

	while ((c = mv_getopt(argc, argv, "jth", longopts)) != -1) {
		if (mv_output_opt(&out, c))
			continue;
		if (c == 'h') {
			fputs(stats_usage, stdout);
			return 0;
		}
		return mv_bad_option(argc, argv, c);
	}
	if (optind < argc && parse_pid(argv[optind], &pid))
		return mv_usage_err("invalid pid '%s'", argv[optind]);
	if (optind + 1 < argc)
		return mv_usage_err("unexpected argument '%s'", argv[optind + 1]);
	if (!mv_output_resolve(&out))
		return 1;

	fd = mv_open();
	if (fd < 0)
		return 1;
	rc = mv_get_info(fd, &info);
	if (!rc)
		rc = mv_get_stats(fd, pid, &st);
	close(fd);
	if (rc) {
		stats_error(rc, pid);
		return 1;
	}
	if (out.table) {
		print_stats_table(&st, info.out_page_size);
		return 0;
	}
	o = stats_to_json(&st, mv_output_flags(&out));
	if (!o) {
		mv_err(ENOMEM, NULL, "cannot build the JSON output");
		return 1;
	}
	json_print(o);
	return 0;
}
