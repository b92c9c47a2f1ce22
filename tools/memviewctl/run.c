// SPDX-License-Identifier: GPL-2.0
/*
 * memviewctl run: run a command that memview manages from its first
 * instruction, like numactl runs one under a NUMA policy.
 *
 * The child is forked and waits on a pipe; the parent attaches its pid
 * (the module keys on the pid, so the attachment outlives execve()), then
 * lets it go: the child applies the NUMA policy and execs.  The parent stays
 * to pass on signals, to detach at the end and to exit as the child did.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <numa.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memviewctl.h"

static const char run_usage[] =
	"usage: memviewctl run [--budget SIZE] [--manual | --follow-children]\n"
	"                      [policy options] [NUMA options] [--] <command> [<args>...]\n"
	"\n"
	"Run a command managed by memview from its first instruction; exit with\n"
	"its exit status (128+N if signal N killed it).  By default memview tiers\n"
	"it automatically (its placer keeps the DRAM use within the budget and\n"
	"moves cold pages to slices, hot ones back); with --manual only demote\n"
	"and promote move its pages.\n"
	"\n"
	"  -b, --budget SIZE         DRAM it may keep, e.g. 64M; 0 (default) = no limit\n"
	"      --manual              no automatic tiering\n"
	"      --follow-children     processes the command forks are attached too\n"
	"                            (same budget), when they first fault\n"
	"  -N, --cpunodebind NODES   run only on the CPUs of NODES (e.g. 0, 0-1, all)\n"
	"  -m, --membind NODES       allocate DRAM only on NODES\n"
	"  -i, --interleave NODES    interleave DRAM allocations over NODES\n"
	"  -p, --preferred NODE      prefer DRAM on NODE\n"
	"  -h, --help                this text\n"
	"\n"
	"Policy options are applied (as by 'memviewctl set-policy') before the\n"
	"command starts.  The policy is global: it changes the tiering of every\n"
	"automatically tiered process, and stays after the command ends.\n"
	"\n"
	MV_POLICY_HELP
	"\n"
	"SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to memviewctl are\n"
	"passed on to the command.\n";

static volatile pid_t child_pid;

/*
 * libnuma reports through these two weak functions; route what it says
 * into our messages (numa_parse_nodestring() warns before it fails).
 */
void numa_warn(int num, char *fmt, ...)
{
	char buf[256];
	va_list ap;

	(void)num;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	buf[strcspn(buf, "\n")] = 0;
	mv_info("libnuma: %s", buf);
}

void numa_error(char *where)
{
	mv_info("libnuma: %s: %s", where, strerror(errno));
}

/*
 * Pass on a signal someone sent us with kill().  One the terminal sent
 * (SI_KERNEL) went to the whole foreground process group, the child too.
 */
static void forward_signal(int sig, siginfo_t *si, void *uctx)
{
	(void)uctx;
	if (child_pid > 0 && si->si_code <= 0)
		kill(child_pid, sig);
}

static int install_forwarding(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT,
				    SIGUSR1, SIGUSR2 };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forward_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		if (sigaction(sigs[i], &sa, NULL))
			return -errno;
	return 0;
}

enum mempolicy {
	POLICY_NONE,
	POLICY_MEMBIND,
	POLICY_INTERLEAVE,
	POLICY_PREFERRED,
};

struct numa_opts {
	struct bitmask *cpunodes;
	struct bitmask *memnodes;
	enum mempolicy policy;
	int preferred;
};

/* In the child, before exec: errors go to stderr and end the child. */
static void apply_numa(const struct numa_opts *n)
{
	if (n->cpunodes && numa_run_on_node_mask(n->cpunodes)) {
		mv_err(errno, NULL, "cannot bind to the CPUs of the given nodes");
		_exit(125);
	}
	switch (n->policy) {
	case POLICY_MEMBIND:
		numa_set_bind_policy(1);
		numa_set_membind(n->memnodes);
		break;
	case POLICY_INTERLEAVE:
		numa_set_interleave_mask(n->memnodes);
		break;
	case POLICY_PREFERRED:
		numa_set_preferred(n->preferred);
		break;
	case POLICY_NONE:
		break;
	}
}

static int parse_nodes(const char *opt, const char *arg, struct bitmask **out)
{
	struct bitmask *mask;

	if (numa_available() < 0)
		return mv_usage_err("%s needs NUMA, which this system does not have",
				    opt);
	mask = numa_parse_nodestring(arg);
	if (!mask)
		return mv_usage_err("invalid node list '%s' for %s (e.g. 0, 0-1, all)",
				    arg, opt);
	if (*out)
		numa_bitmask_free(*out);
	*out = mask;
	return 0;
}

static int set_policy(struct numa_opts *n, enum mempolicy p)
{
	if (n->policy != POLICY_NONE && n->policy != p)
		return mv_usage_err("--membind, --interleave and --preferred exclude each other");
	n->policy = p;
	return 0;
}

static int exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "budget",	 required_argument,	NULL, 'b' },
		{ "cpunodebind", required_argument,	NULL, 'N' },
		{ "membind",	 required_argument,	NULL, 'm' },
		{ "interleave",	 required_argument,	NULL, 'i' },
		{ "preferred",	 required_argument,	NULL, 'p' },
		{ "help",	 no_argument,		NULL, 'h' },
		MV_MODE_LONGOPTS,
		MV_POLICY_LONGOPTS,
		{ 0 }
	};
	struct memview_policy pol = { 0 };
	struct numa_opts numa = { 0 };
	struct mv_mode mode = { 0 };
	uint64_t budget = 0;
	int c, fd, rc, status, pipefd[2], ret = 1, flags;
	char go = 'g', buf;
	pid_t pid, w;

	while ((c = mv_getopt(argc, argv, "+b:N:m:i:p:h", longopts)) != -1) {
		if (mv_mode_opt(&mode, c))
			continue;
		rc = mv_policy_opt(&pol, c, optarg);
		if (rc < 0)
			return 1;
		if (rc > 0)
			continue;
		switch (c) {
		case 'b':
			if (parse_size(optarg, &budget))
				return mv_usage_err("invalid size '%s' for --budget (e.g. 64M, 1G)",
						    optarg);
			break;
		case 'N':
			if (parse_nodes("--cpunodebind", optarg, &numa.cpunodes))
				return 1;
			break;
		case 'm':
			if (set_policy(&numa, POLICY_MEMBIND) ||
			    parse_nodes("--membind", optarg, &numa.memnodes))
				return 1;
			break;
		case 'i':
			if (set_policy(&numa, POLICY_INTERLEAVE) ||
			    parse_nodes("--interleave", optarg, &numa.memnodes))
				return 1;
			break;
		case 'p':
			if (set_policy(&numa, POLICY_PREFERRED))
				return 1;
			if (numa_available() < 0)
				return mv_usage_err("--preferred needs NUMA, which this system does not have");
			if (parse_int(optarg, &numa.preferred) || numa.preferred < 0 ||
			    numa.preferred > numa_max_node())
				return mv_usage_err("invalid node '%s' for --preferred",
						    optarg);
			break;
		case 'h':
			fputs(run_usage, stdout);
			return 0;
		default:
			return mv_bad_option(argc, argv, c);
		}
	}
	if (optind == argc)
		return mv_usage_err("missing the command to run (memviewctl run [options] -- cmd args...)");
	if (mode.manual && mode.follow)
		return mv_usage_err("--follow-children needs automatic tiering: it excludes --manual");

	fd = mv_open();
	if (fd < 0)
		return 1;
	flags = mv_mode_flags(fd, &mode);
	if (flags < 0)
		goto out_fd;
	if (pol.valid) {
		if (mode.manual)
			mv_warn("the policy options set the global policy; a --manual command is not tiered by it");
		if (mv_set_policy(fd, &pol)) {
			mv_err(0, NULL, "not running '%s'", argv[optind]);
			goto out_fd;
		}
		mv_info("policy set: scan interval %u ms", pol.scan_interval_ms);
	}
	if (pipe2(pipefd, O_CLOEXEC)) {
		mv_err(errno, NULL, "cannot create a pipe");
		goto out_fd;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		mv_err(errno, NULL, "cannot fork");
		close(pipefd[0]);
		close(pipefd[1]);
		goto out_fd;
	}
	if (pid == 0) {
		/* the child: wait for the parent's word, then become cmd */
		close(pipefd[1]);
		if (read(pipefd[0], &buf, 1) != 1 || buf != go)
			_exit(125);
		close(pipefd[0]);
		apply_numa(&numa);
		execvp(argv[optind], &argv[optind]);
		rc = errno;
		mv_err(rc, rc == ENOENT ? "is it in PATH, or give its path" : NULL,
		       "cannot run '%s'", argv[optind]);
		_exit(rc == ENOENT ? 127 : 126);
	}

	close(pipefd[0]);
	child_pid = pid;
	rc = mv_attach(fd, pid, budget, (uint32_t)flags);
	if (rc) {
		/* closing the pipe unread makes the child exit; be sure */
		kill(pid, SIGKILL);
		close(pipefd[1]);
		waitpid(pid, NULL, 0);
		mv_err(0, NULL, "not running '%s': it could not be put under memview",
		       argv[optind]);
		goto out_fd;
	}
	mv_dbg("attached pid %d, budget %llu, %s", pid,
	       (unsigned long long)budget, proc_mode_str((uint32_t)flags));
	if (install_forwarding())
		mv_warn("cannot pass on signals: %s", strerror(errno));
	if (write(pipefd[1], &go, 1) != 1) {
		mv_err(errno, NULL, "cannot start the child");
		kill(pid, SIGKILL);
	}
	close(pipefd[1]);

	do {
		w = waitpid(pid, &status, 0);
	} while (w < 0 && errno == EINTR);
	child_pid = 0;
	if (w < 0) {
		mv_err(errno, NULL, "cannot wait for pid %d", pid);
		status = 0;
		ret = 1;
	} else {
		ret = exit_status(status);
		mv_dbg("pid %d ended: status 0x%x, exit %d", pid, status, ret);
	}
	/* the module may have dropped it already when it exited */
	mv_detach(fd, pid, true);
out_fd:
	close(fd);
	if (numa.cpunodes)
		numa_bitmask_free(numa.cpunodes);
	if (numa.memnodes)
		numa_bitmask_free(numa.memnodes);
	return ret;
}
