// SPDX-License-Identifier: GPL-2.0
/*
 * memviewctl: the /dev/memview ioctl wrapper and the list fetchers.
 *
 * Every memview ioctl takes a struct that starts with "__u32 size": it is
 * filled here, so callers only zero the struct and set their inputs.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "memviewctl.h"

int mv_open(void)
{
	int fd = open(MEMVIEW_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT && access("/sys/module/memview", F_OK) == 0)
		mv_err(errno,
		       "the module is loaded but the device node is missing; is devtmpfs mounted on /dev?",
		       "cannot open %s", MEMVIEW_DEVICE);
	else if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
		mv_err(0, NULL,
		       "memview module not loaded (modprobe memview / insmod memview.ko)");
	else if (errno == EACCES || errno == EPERM)
		mv_err(errno, "memview needs root (CAP_SYS_ADMIN)",
		       "cannot open %s", MEMVIEW_DEVICE);
	else
		mv_err(errno, NULL, "cannot open %s", MEMVIEW_DEVICE);
	return -1;
}

int mv_ioctl(int fd, unsigned long cmd, void *arg, size_t size)
{
	int rc;

	*(__u32 *)arg = (__u32)size;
	do {
		rc = ioctl(fd, cmd, arg);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		rc = -errno;
		mv_dbg("ioctl 0x%lx: %s", cmd, strerror(errno));
		return rc;
	}
	return 0;
}

/*
 * Hints for errnos that mean the same thing whichever command got them
 * (see the conventions at the top of uapi/linux/memview.h).
 */
const char *mv_common_hint(int err)
{
	switch (err < 0 ? -err : err) {
	case ENOTTY:
		return "the loaded memview module does not know this command; is it older than memviewctl?";
	case E2BIG:
		return "the loaded memview module is older than memviewctl and cannot take this request";
	case EPERM:
	case EACCES:
		return "memview needs root (CAP_SYS_ADMIN)";
	default:
		return NULL;
	}
}

int mv_get_info(int fd, struct memview_info *info)
{
	memset(info, 0, sizeof(*info));
	return MV_IOCTL(fd, MEMVIEW_IOCTL_GET_INFO, info);
}

/*
 * The three LIST ioctls and RESIDENCY share one shape: a count that is
 * "room" on the way in and "how many exist" on the way out, and -EMSGSIZE
 * when the room was short.  Grow until it fits; things may be added while
 * we retry, so give up only after a few rounds.
 */
static int fetch_array(int fd, unsigned long cmd, void *hdr, size_t hdr_size,
		       __u32 *num, __u64 *ptr, size_t entry_size,
		       void **out, uint32_t *nr)
{
	uint32_t room = 16;
	void *buf = NULL;
	int rc, tries;

	for (tries = 0; tries < 8; tries++) {
		free(buf);
		buf = calloc(room, entry_size);
		if (!buf)
			return -ENOMEM;
		*num = room;
		*ptr = (uintptr_t)buf;
		rc = mv_ioctl(fd, cmd, hdr, hdr_size);
		if (rc == 0) {
			*out = buf;
			*nr = *num;
			return 0;
		}
		if (rc != -EMSGSIZE)
			break;
		/* the module may or may not have told us how many there are */
		room = *num > room ? *num + 4 : room * 2;
	}
	free(buf);
	return rc;
}

int mv_get_regions(int fd, struct memview_region_entry **out, uint32_t *nr)
{
	struct memview_region_list l = { 0 };

	return fetch_array(fd, MEMVIEW_IOCTL_REGION_LIST, &l, sizeof(l),
			   &l.num_regions, &l.regions, sizeof(**out),
			   (void **)out, nr);
}

/*
 * SLICE_LIST with the entries as this memviewctl knows them when the module
 * has MEMVIEW_FEATURE_RAS (entry_size = sizeof(struct memview_slice_entry)).
 * An older module knows neither entry_size nor the RAS fields (and refuses a
 * list struct with a non-zero entry_size with -E2BIG): ask it for version-1
 * entries with the version-1 list struct and widen them, the RAS fields 0.
 */
int mv_get_slices(int fd, bool one_region, uint32_t region_id,
		  struct memview_slice_entry **out, uint32_t *nr)
{
	struct memview_slice_list l = { 0 };
	struct memview_slice_entry *e;
	struct memview_info info;
	unsigned char *v1;
	uint32_t i;
	int rc;

	if (one_region) {
		l.flags = MEMVIEW_SLICE_LIST_REGION;
		l.region_id = region_id;
	}
	rc = mv_get_info(fd, &info);
	if (rc)
		return rc;
	if (info.out_features & MEMVIEW_FEATURE_RAS) {
		l.entry_size = sizeof(**out);
		return fetch_array(fd, MEMVIEW_IOCTL_SLICE_LIST, &l, sizeof(l),
				   &l.num_slices, &l.slices, sizeof(**out),
				   (void **)out, nr);
	}
	rc = fetch_array(fd, MEMVIEW_IOCTL_SLICE_LIST, &l,
			 offsetof(struct memview_slice_list, entry_size),
			 &l.num_slices, &l.slices, MEMVIEW_SLICE_ENTRY_SIZE_V1,
			 (void **)&v1, nr);
	if (rc)
		return rc;
	e = calloc(*nr ? *nr : 1, sizeof(*e));
	if (!e) {
		free(v1);
		return -ENOMEM;
	}
	for (i = 0; i < *nr; i++)
		memcpy(&e[i], v1 + (size_t)i * MEMVIEW_SLICE_ENTRY_SIZE_V1,
		       MEMVIEW_SLICE_ENTRY_SIZE_V1);
	free(v1);
	*out = e;
	return 0;
}

_Static_assert(offsetof(struct memview_slice_entry, corrected_errors) ==
	       MEMVIEW_SLICE_ENTRY_SIZE_V1,
	       "the RAS fields follow the version-1 slice entry");

int mv_get_procs(int fd, struct memview_proc_entry **out, uint32_t *nr)
{
	struct memview_proc_list l = { 0 };

	return fetch_array(fd, MEMVIEW_IOCTL_PROC_LIST, &l, sizeof(l),
			   &l.num_procs, &l.procs, sizeof(**out),
			   (void **)out, nr);
}

int mv_get_residency(int fd, pid_t pid, struct memview_residency *res,
		     struct memview_residency_entry **slices, uint32_t *nr)
{
	memset(res, 0, sizeof(*res));
	res->pid = pid;
	/* addr 0, length 0: the whole address space */
	return fetch_array(fd, MEMVIEW_IOCTL_RESIDENCY, res, sizeof(*res),
			   &res->num_slices, &res->slices, sizeof(**slices),
			   (void **)slices, nr);
}

int mv_get_stats(int fd, pid_t pid, struct memview_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->pid = pid;
	return MV_IOCTL(fd, MEMVIEW_IOCTL_STATS, st);
}

int mv_get_policy(int fd, struct memview_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	return MV_IOCTL(fd, MEMVIEW_IOCTL_GET_POLICY, pol);
}
