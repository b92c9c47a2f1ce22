// SPDX-License-Identifier: GPL-2.0
/*
 * memviewctl demote, memviewctl promote: move one range of an attached
 * process between DRAM and the slices, and report where every page went.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "memviewctl.h"

/* Pages other processes map too (after fork()) stay, as in move_pages(2). */
#define MOVE_ALL_HELP							\
	"      --move-all     move pages shared with other processes too\n"	\
	"                     (needs CAP_SYS_NICE)\n"

static const char demote_usage[] =
	"usage: memviewctl demote <PID> <ADDR> <LEN> [--move-all] [-j|-t] [-H]\n"
	"\n"
	"Move the pages of an attached process in [ADDR, ADDR+LEN) from DRAM to\n"
	"the least loaded healthy slice.  ADDR is hex (0x...) or decimal, LEN may\n"
	"have a suffix (64K, 2M, 1G); both must be page aligned.  Pages that\n"
	"other processes map too stay where they are (shared).\n"
	"\n"
	MOVE_ALL_HELP
	MV_OUTPUT_HELP
	"  -h, --help         this text\n";

static const char promote_usage[] =
	"usage: memviewctl promote <PID> <ADDR> <LEN> [--node N] [--move-all]\n"
	"                          [-j|-t] [-H]\n"
	"\n"
	"Move the pages of an attached process in [ADDR, ADDR+LEN) from slices\n"
	"back to DRAM.  ADDR is hex (0x...) or decimal, LEN may have a suffix\n"
	"(64K, 2M, 1G); both must be page aligned.  Pages that other processes\n"
	"map too stay where they are (shared).\n"
	"\n"
	"  -n, --node N       allocate the DRAM pages on NUMA node N\n"
	MOVE_ALL_HELP
	MV_OUTPUT_HELP
	"  -h, --help         this text\n";

void print_migrate_table(const struct memview_migrate *m)
{
	printf("moved %" PRIu64 " pages; not present %" PRIu64
	       "; already %" PRIu64 "; busy %" PRIu64 "; no space %" PRIu64
	       "; unsupported %" PRIu64 "; thp split failed %" PRIu64
	       "; shared %" PRIu64 "\n",
	       (uint64_t)m->out_moved, (uint64_t)m->out_not_present,
	       (uint64_t)m->out_already, (uint64_t)m->out_busy,
	       (uint64_t)m->out_no_space, (uint64_t)m->out_unsupported,
	       (uint64_t)m->out_thp_split_failed, (uint64_t)m->out_shared);
}

static void migrate_error(int rc, const struct memview_migrate *m, bool promote)
{
	const char *what = promote ? "promote" : "demote";
	char hint[128];

	switch (-rc) {
	case ENOENT:
		snprintf(hint, sizeof(hint), "attach it first: memviewctl attach %d",
			 m->pid);
		mv_err(rc, hint, "process %d is not attached", m->pid);
		return;
	case ESRCH:
		mv_err(rc, NULL, "no process %d (or it is exiting)", m->pid);
		return;
	case EINTR:
		mv_err(rc, NULL, "interrupted; pages moved so far stay moved");
		return;
	case EPERM:
		if (m->flags & MEMVIEW_MIGRATE_MOVE_ALL) {
			mv_err(rc, "run it as root, or without --move-all",
			       "--move-all needs CAP_SYS_NICE");
			return;
		}
		break;
	case EACCES:
		if (m->flags & MEMVIEW_MIGRATE_NODE) {
			snprintf(hint, sizeof(hint),
				 "choose a node in its cpuset (grep Mems_allowed_list /proc/%d/status)",
				 m->pid);
			mv_err(rc, hint,
			       "process %d's cpuset does not allow node %d",
			       m->pid, m->node);
			return;
		}
		break;
	case EINVAL:
		if (m->flags & MEMVIEW_MIGRATE_NODE) {
			snprintf(hint, sizeof(hint),
				 "is node %d online and does it have memory? (numactl -H)",
				 m->node);
			mv_err(rc, hint, "cannot %s to node %d", what, m->node);
			return;
		}
		break;
	case ENODEV:
	case ENOSPC:
		if (!promote) {
			mv_err(rc, "add one with: memviewctl add-region",
			       "no slice can take pages");
			return;
		}
		break;
	case EOPNOTSUPP:
		if (m->flags & MEMVIEW_MIGRATE_NODE) {
			mv_err(rc, "promote without --node",
			       "the module cannot promote to a given node");
			return;
		}
		break;
	}
	mv_err(rc, mv_common_hint(rc),
	       "cannot %s 0x%" PRIx64 "+0x%" PRIx64 " of process %d", what,
	       (uint64_t)m->addr, (uint64_t)m->length, m->pid);
}

enum { OPT_MOVE_ALL = 0x100 };	/* a long option only */

static int do_migrate(int argc, char **argv, bool promote)
{
	static const struct option promote_opts[] = {
		{ "node",	required_argument,	NULL, 'n' },
		{ "move-all",	no_argument,		NULL, OPT_MOVE_ALL },
		{ "help",	no_argument,		NULL, 'h' },
		MV_OUTPUT_LONGOPTS,
		{ 0 }
	};
	const struct option *longopts = promote ? promote_opts : promote_opts + 1;
	struct memview_migrate m = { 0 };
	struct mv_output out = { 0 };
	struct json_object *o;
	uint64_t addr, len, page = (uint64_t)sysconf(_SC_PAGESIZE);
	pid_t pid;
	int c, fd, rc, node;

	while ((c = mv_getopt(argc, argv,
			      promote ? "n:h" MV_OUTPUT_SHORTOPTS : "h" MV_OUTPUT_SHORTOPTS,
			      longopts)) != -1) {
		if (mv_output_opt(&out, c))
			continue;
		switch (c) {
		case 'n':
			if (parse_int(optarg, &node) || node < 0)
				return mv_usage_err("invalid node '%s'", optarg);
			m.flags |= MEMVIEW_MIGRATE_NODE;
			m.node = node;
			break;
		case OPT_MOVE_ALL:
			m.flags |= MEMVIEW_MIGRATE_MOVE_ALL;
			break;
		case 'h':
			fputs(promote ? promote_usage : demote_usage, stdout);
			return 0;
		default:
			return mv_bad_option(argc, argv, c);
		}
	}
	if (argc - optind < 3)
		return mv_usage_err("missing %s (want PID ADDR LEN)",
				    argc - optind == 0 ? "PID" :
				    argc - optind == 1 ? "ADDR" : "LEN");
	if (argc - optind > 3)
		return mv_usage_err("unexpected argument '%s'", argv[optind + 3]);
	if (parse_pid(argv[optind], &pid))
		return mv_usage_err("invalid pid '%s'", argv[optind]);
	if (parse_u64(argv[optind + 1], &addr))
		return mv_usage_err("invalid address '%s' (hex 0x... or decimal)",
				    argv[optind + 1]);
	if (parse_size(argv[optind + 2], &len) || !len)
		return mv_usage_err("invalid length '%s' (e.g. 4096, 2M, 0x200000)",
				    argv[optind + 2]);
	if (addr % page || len % page)
		return mv_usage_err("address 0x%" PRIx64 " and length 0x%" PRIx64
				    " must be multiples of the page size (%" PRIu64 ")",
				    addr, len, page);
	if (addr + len < addr)
		return mv_usage_err("range 0x%" PRIx64 "+0x%" PRIx64 " wraps",
				    addr, len);
	if (!mv_output_resolve(&out))
		return 1;

	fd = mv_open();
	if (fd < 0)
		return 1;
	m.pid = pid;
	m.addr = addr;
	m.length = len;
	rc = MV_IOCTL(fd, promote ? MEMVIEW_IOCTL_PROMOTE : MEMVIEW_IOCTL_DEMOTE,
		      &m);
	close(fd);
	if (rc) {
		migrate_error(rc, &m, promote);
		return 1;
	}
	if (out.table) {
		print_migrate_table(&m);
		return 0;
	}
	o = migrate_to_json(&m, mv_output_flags(&out));
	if (!o) {
		mv_err(ENOMEM, NULL, "cannot build the JSON output");
		return 1;
	}
	json_print(o);
	return 0;
}

int cmd_demote(int argc, char **argv)
{
	return do_migrate(argc, argv, false);
}

int cmd_promote(int argc, char **argv)
{
	return do_migrate(argc, argv, true);
}
