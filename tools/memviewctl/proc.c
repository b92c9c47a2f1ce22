// SPDX-License-Identifier: GPL-2.0
/*
 * memviewctl attach, memviewctl detach.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "memviewctl.h"

static const char attach_usage[] =
	"usage: memviewctl attach <PID> [--budget SIZE] [--manual | --follow-children]\n"
	"\n"
	"Let memview manage a running process.  By default it is tiered\n"
	"automatically: the placer (kernel thread memviewd) keeps its DRAM use\n"
	"within the budget, moving its cold pages to slices and hot ones back\n"
	"(see 'memviewctl get-policy').  With --manual only demote and promote\n"
	"move its pages.\n"
	"\n"
	"  -b, --budget SIZE      DRAM it may keep, e.g. 64M or 1G; 0 (the default)\n"
	"                         means no limit: nothing is demoted automatically\n"
	"      --manual           no automatic tiering\n"
	"      --follow-children  processes it forks from now on are attached too,\n"
	"                         with the same budget, when they first fault\n"
	"  -h, --help             this text\n";

static const char detach_usage[] =
	"usage: memviewctl detach <PID>\n"
	"\n"
	"Stop managing a process.  Its pages stay where they are.\n"
	"\n"
	"  -h, --help         this text\n";

bool mv_mode_opt(struct mv_mode *m, int c)
{
	switch (c) {
	case MV_MODE_OPT_MANUAL:
		m->manual = true;
		return true;
	case MV_MODE_OPT_FOLLOW:
		m->follow = true;
		return true;
	default:
		return false;
	}
}

int mv_mode_flags(int fd, const struct mv_mode *m)
{
	struct memview_info info;
	int rc;

	if (m->manual && m->follow) {
		mv_usage_err("--follow-children needs automatic tiering: it excludes --manual");
		return -1;
	}
	if (m->manual)
		return 0;
	rc = mv_get_info(fd, &info);
	if (rc) {
		mv_err(rc, mv_common_hint(rc), "cannot get module info");
		return -1;
	}
	if (!(info.out_features & MEMVIEW_FEATURE_AUTO)) {
		mv_err(0, "use --manual, or load a newer memview module",
		       "the loaded memview module has no automatic tiering");
		return -1;
	}
	return MEMVIEW_ATTACH_AUTO |
	       (m->follow ? MEMVIEW_ATTACH_FOLLOW_CHILDREN : 0);
}

/* Shared with run.c: one message per errno of PROC_ATTACH. */
int mv_attach(int fd, pid_t pid, uint64_t budget, uint32_t flags)
{
	struct memview_proc_attach a = { 0 };
	const char *hint;
	int rc;

	a.pid = pid;
	a.flags = flags;
	a.dram_budget = budget;
	rc = MV_IOCTL(fd, MEMVIEW_IOCTL_PROC_ATTACH, &a);
	switch (-rc) {
	case 0:
		return 0;
	case ESRCH:
		mv_err(rc, "check the pid (ps -p <pid>)", "no process %d", pid);
		return rc;
	case EEXIST:
		mv_err(rc, "detach it first to change its budget",
		       "process %d is already attached", pid);
		return rc;
	case EINVAL:
		hint = flags ? "a kernel thread has no memory to manage; or the module does not take these attach flags (try --manual)"
			     : "a kernel thread has no memory to manage";
		break;
	case EPERM:
		hint = "attaching another user's process needs root (CAP_SYS_PTRACE)";
		break;
	case ENOSPC:
		hint = "memview manages as many processes as it takes; detach one first";
		break;
	default:
		hint = mv_common_hint(rc);
	}
	mv_err(rc, hint, "cannot attach process %d", pid);
	return rc;
}

/* quiet_enoent: the process may be gone and its attachment with it */
int mv_detach(int fd, pid_t pid, bool quiet_enoent)
{
	struct memview_proc_detach d = { 0 };
	int rc;

	d.pid = pid;
	rc = MV_IOCTL(fd, MEMVIEW_IOCTL_PROC_DETACH, &d);
	if (!rc)
		return 0;
	if ((rc == -ENOENT || rc == -ESRCH) && quiet_enoent)
		return 0;
	if (rc == -ENOENT)
		mv_err(rc, "'memviewctl list -P' shows the attached processes",
		       "process %d is not attached", pid);
	else if (rc == -ESRCH)
		mv_err(rc, NULL, "no process %d", pid);
	else
		mv_err(rc, mv_common_hint(rc), "cannot detach process %d", pid);
	return rc;
}

int cmd_attach(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "budget",	required_argument,	NULL, 'b' },
		{ "help",	no_argument,		NULL, 'h' },
		MV_MODE_LONGOPTS,
		{ 0 }
	};
	struct mv_mode mode = { 0 };
	uint64_t budget = 0;
	pid_t pid;
	int c, fd, rc, flags;

	while ((c = mv_getopt(argc, argv, "b:h", longopts)) != -1) {
		if (mv_mode_opt(&mode, c))
			continue;
		switch (c) {
		case 'b':
			if (parse_size(optarg, &budget))
				return mv_usage_err("invalid size '%s' for --budget (e.g. 64M, 1G)",
						    optarg);
			break;
		case 'h':
			fputs(attach_usage, stdout);
			return 0;
		default:
			return mv_bad_option(argc, argv, c);
		}
	}
	if (optind == argc)
		return mv_usage_err("missing PID");
	if (parse_pid(argv[optind], &pid))
		return mv_usage_err("invalid pid '%s'", argv[optind]);
	if (optind + 1 < argc)
		return mv_usage_err("unexpected argument '%s'", argv[optind + 1]);
	if (mode.manual && mode.follow)
		return mv_usage_err("--follow-children needs automatic tiering: it excludes --manual");

	fd = mv_open();
	if (fd < 0)
		return 1;
	flags = mv_mode_flags(fd, &mode);
	rc = flags < 0 ? -EINVAL : mv_attach(fd, pid, budget, (uint32_t)flags);
	close(fd);
	if (rc)
		return 1;
	fprintf(stderr, "attached 1 process (%s)\n", proc_mode_str((uint32_t)flags));
	return 0;
}

int cmd_detach(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help",	no_argument,	NULL, 'h' },
		{ 0 }
	};
	pid_t pid;
	int c, fd, rc;

	while ((c = mv_getopt(argc, argv, "h", longopts)) != -1) {
		if (c == 'h') {
			fputs(detach_usage, stdout);
			return 0;
		}
		return mv_bad_option(argc, argv, c);
	}
	if (optind == argc)
		return mv_usage_err("missing PID");
	if (parse_pid(argv[optind], &pid))
		return mv_usage_err("invalid pid '%s'", argv[optind]);
	if (optind + 1 < argc)
		return mv_usage_err("unexpected argument '%s'", argv[optind + 1]);

	fd = mv_open();
	if (fd < 0)
		return 1;
	rc = mv_detach(fd, pid, false);
	close(fd);
	if (rc)
		return 1;
	fprintf(stderr, "detached 1 process\n");
	return 0;
}
