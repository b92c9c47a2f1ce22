// SPDX-License-Identifier: GPL-2.0
/*
 * memviewctl: the command-line interface of memview.
 *
 * Git-style: "memviewctl <command> [options]", one function per command,
 * each with its own -h/--help.  See README.md beside this file.
 */
#include <stdlib.h>
#include <string.h>

#include "memviewctl.h"

#define MEMVIEWCTL_VERSION "0.1"

struct cmd_struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct cmd_struct commands[] = {
	{ "list",          cmd_list,          "show regions, slices and managed processes" },
	{ "info",          cmd_info,          "show the module's API version, features and sizes" },
	{ "add-region",    cmd_add_region,    "give a CXL region, PMEM namespace or raw range to memview" },
	{ "remove-region", cmd_remove_region, "take regions back from memview" },
	{ "attach",        cmd_attach,        "manage a running process" },
	{ "detach",        cmd_detach,        "stop managing a process" },
	{ "run",           cmd_run,           "run a command managed from its first instruction" },
	{ "demote",        cmd_demote,        "move a process's pages in a range to slices" },
	{ "promote",       cmd_promote,       "move a process's pages in a range back to DRAM" },
	{ "set-policy",    cmd_set_policy,    "change the automatic tiering policy (global)" },
	{ "get-policy",    cmd_get_policy,    "show the automatic tiering policy" },
	{ "stats",         cmd_stats,         "show what automatic tiering did, per process or in total" },
	{ "top",           cmd_top,           "watch tiering live: rates, slice fill, managed processes" },
	{ "monitor",       cmd_monitor,       "report CXL memory errors to memview and show its RAS events" },
	{ "fence-slice",   cmd_fence_slice,   "take a slice out of service and evacuate it" },
	{ "unfence-slice", cmd_unfence_slice, "put a fenced slice back in service" },
	{ "inject-error",  cmd_inject_error,  "raise fake memory errors (tests and demos only)" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: memviewctl [--version] [--help] <command> [<args>]\n"
		"\n"
		"commands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\n"
		"'memviewctl <command> --help' describes a command.\n"
		"MEMVIEW_LOG=err|info|debug sets how much is logged to stderr.\n");
}

static const struct cmd_struct *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct cmd_struct *cmd;
	char *help_argv[] = { NULL, "--help", NULL };

	mv_log_init();

	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("memviewctl %s (memview API %d)\n", MEMVIEWCTL_VERSION,
		       MEMVIEW_API_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		cmd = find_cmd(argv[2]);
		if (!cmd) {
			fprintf(stderr, "memviewctl: unknown command '%s'\n", argv[2]);
			return 1;
		}
		mv_cmd = cmd->name;
		help_argv[0] = argv[2];
		return cmd->fn(2, help_argv);
	}

	cmd = find_cmd(argv[1]);
	if (!cmd) {
		fprintf(stderr, "memviewctl: unknown command '%s'\n"
			"see 'memviewctl --help'\n", argv[1]);
		return 1;
	}
	mv_cmd = cmd->name;
	return cmd->fn(argc - 1, argv + 1);
}
