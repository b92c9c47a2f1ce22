// SPDX-License-Identifier: GPL-2.0
/*
 * mv-hold: keep pages in a memview slice for rmmod_test.sh.
 *
 * usage: mv-hold <MiB>
 *
 * Attaches itself, fills <MiB> of anonymous memory with per-page stamps,
 * demotes all of it, closes /dev/memview (so that only the pages and their
 * region keep the module busy) and prints "READY <pages>".  Then it sleeps
 * until SIGUSR1, verifies the data wherever it now is and prints "INTACT"
 * (exit 0) or where it differs (exit 1).  SIGTERM ends it without checking
 * (exit 3); setup errors exit 2.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memview_test.h"

int main(int argc, char **argv)
{
	struct memview_migrate m;
	size_t len, bad = 0;
	sigset_t set;
	int fd, ret, sig;
	pid_t pid = getpid();
	char *buf;

	if (argc != 2 || atoi(argv[1]) <= 0) {
		fprintf(stderr, "usage: %s <MiB>\n", argv[0]);
		return 2;
	}
	len = (size_t)atoi(argv[1]) * MV_MIB;

	/* Block the signals before anyone can see READY. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);

	fd = mv_open();
	if (fd < 0) {
		fprintf(stderr, "mv-hold: open %s: %s\n", MEMVIEW_DEVICE,
			strerror(-fd));
		return 2;
	}
	ret = mv_attach(fd, pid, 0);
	if (ret) {
		fprintf(stderr, "mv-hold: PROC_ATTACH: %s\n", strerror(-ret));
		return 2;
	}
	buf = mv_map_anon(len, 0, false);
	if (!buf) {
		perror("mv-hold: mmap");
		return 2;
	}
	mv_fill(buf, 0, len, MV_PAT_STAMP, pid);
	ret = mv_demote(fd, pid, buf, len, &m);
	if (ret || m.out_moved != mv_pages(len)) {
		fprintf(stderr, "mv-hold: DEMOTE: %s\n",
			ret ? strerror(-ret) : "not every page moved");
		mv_migrate_print("mv-hold: DEMOTE", &m);
		return 2;
	}
	close(fd);
	printf("READY %zu\n", mv_pages(len));
	fflush(stdout);

	if (sigwait(&set, &sig))
		return 2;
	if (sig != SIGUSR1)
		return 3;
	if (mv_verify(buf, 0, len, MV_PAT_STAMP, pid, &bad)) {
		printf("CORRUPT at byte %#zx\n", bad);
		return 1;
	}
	printf("INTACT\n");
	return 0;
}
