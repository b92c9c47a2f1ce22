// SPDX-License-Identifier: GPL-2.0
/*
 * mv-region: the region control rmmod_test.sh needs, without memviewctl.
 *
 * usage: mv-region add <cxl|pmem|cxl_ram>   add the harness's range; prints the id
 *        mv-region remove <id> [evacuate]  prints "evacuated <pages>"
 *        mv-region remove-all              remove every region, evacuating
 *        mv-region count                   prints the number of regions
 *
 * Exit status: 0, 77 if the range is not exported, 1 on an ioctl error
 * (the errno is printed), 2 on bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memview_test.h"

static const struct mv_target *targets[] = {
	&mv_target_cxl, &mv_target_pmem, &mv_target_cxl_ram,
};

static int usage(void)
{
	fprintf(stderr, "usage: mv-region add <cxl|pmem|cxl_ram> | remove <id> [evacuate] | remove-all | count\n");
	return 2;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "mv-region: %s: %s (%s)\n", what, strerror(-err),
		strerrorname_np(-err) ?: "?");
	return 1;
}

int main(int argc, char **argv)
{
	struct memview_region_entry *r;
	struct memview_region_add a;
	struct mv_range range;
	__u64 evacuated = 0;
	unsigned int i;
	int fd, ret;
	__u32 n;

	if (argc < 2)
		return usage();
	fd = mv_open();
	if (fd < 0)
		return fail("open " MEMVIEW_DEVICE, fd);

	if (!strcmp(argv[1], "add") && argc == 3) {
		for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
			if (!strcmp(argv[2], targets[i]->name))
				break;
		if (i == sizeof(targets) / sizeof(targets[0]))
			return usage();
		ret = mv_target_range(targets[i], &range);
		if (ret == -ENOENT) {
			fprintf(stderr, "mv-region: %s not set\n",
				targets[i]->range_env);
			return 77;
		}
		if (ret)
			return fail(targets[i]->range_env, ret);
		ret = mv_region_add(fd, range.start, range.size, range.kind,
				    range.label, &a);
		if (ret)
			return fail("REGION_ADD", ret);
		printf("%u\n", a.out_region_id);
		return 0;
	}
	if (!strcmp(argv[1], "remove") && (argc == 3 || argc == 4)) {
		__u32 flags = 0;

		if (argc == 4) {
			if (strcmp(argv[3], "evacuate"))
				return usage();
			flags = MEMVIEW_REGION_REMOVE_EVACUATE;
		}
		ret = mv_region_remove(fd, strtoul(argv[2], NULL, 0), flags,
				       &evacuated);
		printf("evacuated %llu\n", (unsigned long long)evacuated);
		return ret ? fail("REGION_REMOVE", ret) : 0;
	}
	if (!strcmp(argv[1], "remove-all") && argc == 2) {
		ret = mv_remove_overlapping(fd, 0, ~0ULL, false);
		if (ret < 0)
			return fail("REGION_REMOVE", ret);
		printf("removed %d\n", ret);
		return 0;
	}
	if (!strcmp(argv[1], "count") && argc == 2) {
		ret = mv_region_list(fd, &r, &n);
		if (ret)
			return fail("REGION_LIST", ret);
		free(r);
		printf("%u\n", n);
		return 0;
	}
	return usage();
}
