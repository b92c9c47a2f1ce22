// SPDX-License-Identifier: GPL-2.0
/*
 * memviewctl add-region, remove-region.
 *
 * A region is a physical range no other driver holds.  For a CXL region the
 * range comes from libcxl, for a PMEM namespace from libndctl.  Whatever
 * still holds the range -- an enabled namespace (nd_pmem, or device_dax
 * through its dax claim) or a dax device on another dax region (a CXL ram
 * region's) -- is disabled first, with the user's consent, and recorded in
 * a state file so that remove-region can enable it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cxl/libcxl.h>
#include <daxctl/libdaxctl.h>
#include <ndctl/libndctl.h>

#include "memviewctl.h"

#define SZ_2M		(2ULL << 20)
#define MAX_HOLDERS	16
#define STATE_DIR	"/run/memview"

enum holder_type {
	HOLDER_NAMESPACE,
	HOLDER_DAX,
};

/**
 * struct holder - a device that holds part of a range and must let go of it
 * @type: namespace (libndctl) or dax device (libdaxctl)
 * @name: its device name, the key to find it again at remove-region
 * @mode: for a namespace its mode (fsdax, devdax, ...); for dax "devdax"
 * @ndns: the namespace while add-region runs
 * @dev: the dax device while add-region runs
 */
struct holder {
	enum holder_type type;
	char name[64];
	char mode[16];
	struct ndctl_namespace *ndns;
	struct daxctl_dev *dev;
};

struct range {
	uint64_t start;
	uint64_t size;
};

static const char add_usage[] =
	"usage: memviewctl add-region (--cxl REGION | --pmem NAMESPACE | --range START:SIZE)\n"
	"                             [--label NAME] [--bad-range ADDR:LEN]... [-f]\n"
	"                             [-j|-t] [-H]\n"
	"\n"
	"Give a physical range to memview as a cold tier; it is carved into slices.\n"
	"\n"
	"  -c, --cxl REGION        a CXL region (e.g. region0), found with libcxl\n"
	"  -p, --pmem NAMESPACE    a PMEM namespace (e.g. namespace0.0), found with libndctl\n"
	"  -r, --range START:SIZE  a raw physical range, e.g. 0x100000000:512M\n"
	"  -l, --label NAME        name shown by list (default: the region or namespace\n"
	"                          name, or \"raw\"); at most 31 printable ASCII\n"
	"                          characters\n"
	"  -B, --bad-range ADDR:LEN  known-bad memory inside the range (repeatable):\n"
	"                          its pages are retired before the region takes any\n"
	"  -f, --force             disable the namespace or dax device holding the range\n"
	"                          without asking\n"
	MV_OUTPUT_HELP
	"  -h, --help              this text\n"
	"\n"
	"A namespace or dax device that holds the range is disabled first (memview\n"
	"overwrites what was stored there); on a terminal you are asked, otherwise\n"
	"--force is needed.  remove-region enables it again.  For --pmem the\n"
	"badblocks of the namespace's region (libndctl) are retired as well.\n";

static const char remove_usage[] =
	"usage: memviewctl remove-region <ID|LABEL>... [--evacuate] [--forget-bad]\n"
	"       memviewctl remove-region --all [--evacuate] [--forget-bad]\n"
	"\n"
	"Take regions back from memview, and enable again what add-region disabled.\n"
	"memview remembers the region's poisoned pages for the next add-region of\n"
	"the range, unless --forget-bad.\n"
	"\n"
	"  -e, --evacuate   first move every page still in the region back to DRAM\n"
	"      --forget-bad forget its known-bad pages (the media was replaced)\n"
	"  -a, --all        every region\n"
	"  -h, --help       this text\n";

static const char *state_dir(void)
{
	const char *dir = getenv("MEMVIEW_STATE_DIR");

	return dir && *dir ? dir : STATE_DIR;
}

static bool overlaps(const struct range *r, uint64_t start, uint64_t size)
{
	return start < r->start + r->size && r->start < start + size;
}

static const char *ns_mode_str(enum ndctl_namespace_mode mode)
{
	switch (mode) {
	case NDCTL_NS_MODE_FSDAX:
		return "fsdax";
	case NDCTL_NS_MODE_SECTOR:
		return "sector";
	case NDCTL_NS_MODE_RAW:
		return "raw";
	case NDCTL_NS_MODE_DEVDAX:
		return "devdax";
	default:
		return "unknown";
	}
}

static int mv_ndctl_new(struct ndctl_ctx **ctx)
{
	int rc = ndctl_new(ctx);

	if (rc) {
		mv_err(rc, NULL, "cannot start libndctl");
		return rc;
	}
	ndctl_set_log_priority(*ctx, mv_log_level);
	daxctl_set_log_priority(ndctl_get_daxctl_ctx(*ctx), mv_log_level);
	return 0;
}

/* --- finding the range ---------------------------------------------- */

static int cxl_region_range(const char *name, struct range *r)
{
	struct cxl_ctx *ctx;
	struct cxl_bus *bus;
	struct cxl_decoder *decoder;
	struct cxl_region *region, *found = NULL;
	unsigned long long start, size;
	int rc;

	rc = cxl_new(&ctx);
	if (rc) {
		mv_err(rc, NULL, "cannot start libcxl");
		return rc;
	}
	cxl_set_log_priority(ctx, mv_log_level);

	/* regions hang off the root decoders of each CXL bus */
	cxl_bus_foreach(ctx, bus) {
		cxl_decoder_foreach(cxl_bus_get_port(bus), decoder) {
			cxl_region_foreach(decoder, region) {
				if (!strcmp(cxl_region_get_devname(region), name)) {
					found = region;
					break;
				}
			}
			if (found)
				break;
		}
		if (found)
			break;
	}
	if (!found) {
		mv_err(ENODEV, "'cxl list -R' shows the CXL regions",
		       "no CXL region '%s'", name);
		rc = -ENODEV;
		goto out;
	}
	start = cxl_region_get_resource(found);
	size = cxl_region_get_size(found);
	if (start == ULLONG_MAX || !size) {
		mv_err(ENXIO, "create and commit it first (cxl create-region)",
		       "CXL region %s has no host physical range", name);
		rc = -ENXIO;
		goto out;
	}
	if (cxl_region_decode_is_committed(found) == 0) {
		mv_err(ENXIO, "commit it first (cxl enable-region)",
		       "CXL region %s is not committed: its range decodes to nothing",
		       name);
		rc = -ENXIO;
		goto out;
	}
	if (!cxl_region_is_enabled(found))
		mv_info("CXL region %s is committed but not enabled", name);
	r->start = start;
	r->size = size;
	mv_dbg("CXL region %s: 0x%llx+0x%llx", name, start, size);
	rc = 0;
out:
	cxl_unref(ctx);
	return rc;
}

static struct ndctl_namespace *find_namespace(struct ndctl_ctx *ctx,
					      const char *name)
{
	struct ndctl_bus *bus;
	struct ndctl_region *region;
	struct ndctl_namespace *ndns;

	ndctl_bus_foreach(ctx, bus)
		ndctl_region_foreach(bus, region)
			ndctl_namespace_foreach(region, ndns)
				if (!strcmp(ndctl_namespace_get_devname(ndns), name))
					return ndns;
	return NULL;
}

static int pmem_namespace_range(struct ndctl_ctx *ctx, const char *name,
				struct range *r)
{
	struct ndctl_namespace *ndns = find_namespace(ctx, name);
	unsigned long long start, size;

	if (!ndns) {
		mv_err(ENODEV, "'ndctl list -N -i' shows the namespaces",
		       "no PMEM namespace '%s'", name);
		return -ENODEV;
	}
	start = ndctl_namespace_get_resource(ndns);
	size = ndctl_namespace_get_size(ndns);
	if (start == ULLONG_MAX) {
		mv_err(EACCES, "reading a namespace's range needs root",
		       "cannot read the range of %s", name);
		return -EACCES;
	}
	if (!size) {
		mv_err(ENXIO, "configure it first (ndctl create-namespace)",
		       "namespace %s has no capacity", name);
		return -ENXIO;
	}
	r->start = start;
	r->size = size;
	mv_dbg("namespace %s: 0x%llx+0x%llx", name, start, size);
	return 0;
}

/* Only the 2 MiB aligned part of a device's range can be a memview region. */
static void align_range(struct range *r, const char *name)
{
	uint64_t start = (r->start + SZ_2M - 1) & ~(SZ_2M - 1);
	uint64_t end = (r->start + r->size) & ~(SZ_2M - 1);

	if (start == r->start && end == r->start + r->size)
		return;
	mv_info("%s: using the 2 MiB aligned part 0x%" PRIx64 "-0x%" PRIx64
		" of 0x%" PRIx64 "-0x%" PRIx64, name, start, end, r->start,
		r->start + r->size);
	r->start = start;
	r->size = end > start ? end - start : 0;
}

/* --- what holds the range ------------------------------------------- */

static bool name_in(const char (*names)[64], int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

/*
 * Collect the enabled namespaces and dax devices that overlap r.  A dax
 * device that a namespace's dax claim provides goes away with the namespace
 * and is not listed separately.  A dax device whose memory is online as
 * system-ram is not something we take away silently: refuse, say how.
 */
static int find_holders(struct ndctl_ctx *ctx, const struct range *r,
			struct holder *h, int *nr)
{
	struct daxctl_ctx *dctx = ndctl_get_daxctl_ctx(ctx);
	char skip[MAX_HOLDERS * 4][64];
	struct daxctl_region *dregion;
	struct daxctl_dev *dev;
	struct ndctl_bus *bus;
	struct ndctl_region *region;
	struct ndctl_namespace *ndns;
	struct ndctl_dax *dax;
	int n = 0, nskip = 0;

	ndctl_bus_foreach(ctx, bus) {
		ndctl_region_foreach(bus, region) {
			ndctl_namespace_foreach(region, ndns) {
				if (!ndctl_namespace_is_active(ndns))
					continue;
				if (!overlaps(r, ndctl_namespace_get_resource(ndns),
					      ndctl_namespace_get_size(ndns)))
					continue;
				if (n == MAX_HOLDERS)
					return -E2BIG;
				h[n] = (struct holder){ .type = HOLDER_NAMESPACE,
							.ndns = ndns };
				snprintf(h[n].name, sizeof(h[n].name), "%s",
					 ndctl_namespace_get_devname(ndns));
				snprintf(h[n].mode, sizeof(h[n].mode), "%s",
					 ns_mode_str(ndctl_namespace_get_mode(ndns)));
				n++;
				dax = ndctl_namespace_get_dax(ndns);
				dregion = dax ? ndctl_dax_get_daxctl_region(dax) : NULL;
				if (!dregion)
					continue;
				daxctl_dev_foreach(dregion, dev) {
					if (daxctl_dev_get_memory(dev) &&
					    daxctl_dev_has_online_memory(dev) > 0) {
						mv_err(EBUSY,
						       "give it back first: daxctl reconfigure-device --mode=devdax --force <dev>",
						       "%s holds the range through %s, which is online as system-ram",
						       h[n - 1].name,
						       daxctl_dev_get_devname(dev));
						return -EBUSY;
					}
					if (nskip < (int)ARRAY_SIZE(skip))
						snprintf(skip[nskip++], 64, "%s",
							 daxctl_dev_get_devname(dev));
				}
			}
		}
	}

	daxctl_region_foreach(dctx, dregion) {
		daxctl_dev_foreach(dregion, dev) {
			const char *name = daxctl_dev_get_devname(dev);

			if (!daxctl_dev_is_enabled(dev) ||
			    name_in((const char (*)[64])skip, nskip, name))
				continue;
			if (!overlaps(r, daxctl_dev_get_resource(dev),
				      daxctl_dev_get_size(dev)))
				continue;
			if (daxctl_dev_get_memory(dev)) {
				mv_err(EBUSY,
				       "give it back first: daxctl reconfigure-device --mode=devdax --force <dev>",
				       "dax device %s holds the range as system-ram",
				       name);
				return -EBUSY;
			}
			if (n == MAX_HOLDERS)
				return -E2BIG;
			h[n] = (struct holder){ .type = HOLDER_DAX, .dev = dev };
			snprintf(h[n].name, sizeof(h[n].name), "%s", name);
			snprintf(h[n].mode, sizeof(h[n].mode), "devdax");
			n++;
		}
	}
	*nr = n;
	return 0;
}

static int holder_disable(struct holder *h)
{
	if (h->type == HOLDER_NAMESPACE)
		return ndctl_namespace_disable_safe(h->ndns);
	return daxctl_dev_disable(h->dev);
}

static struct daxctl_dev *find_dax_dev(struct daxctl_ctx *dctx,
				       const char *name)
{
	struct daxctl_region *dregion;
	struct daxctl_dev *dev;

	daxctl_region_foreach(dctx, dregion)
		daxctl_dev_foreach(dregion, dev)
			if (!strcmp(daxctl_dev_get_devname(dev), name))
				return dev;
	return NULL;
}

/* Enable by name: works in a fresh process, from the state file. */
static int holder_enable(struct ndctl_ctx *ctx, enum holder_type type,
			 const char *name)
{
	struct ndctl_namespace *ndns;
	struct daxctl_dev *dev;
	int rc;

	if (type == HOLDER_NAMESPACE) {
		ndns = find_namespace(ctx, name);
		if (!ndns)
			return -ENODEV;
		rc = ndctl_namespace_enable(ndns);
		return rc < 0 ? rc : 0;	/* 1: enabled through its claim */
	}
	dev = find_dax_dev(ndctl_get_daxctl_ctx(ctx), name);
	if (!dev)
		return -ENODEV;
	if (daxctl_dev_is_enabled(dev))
		return 0;
	return daxctl_dev_enable_devdax(dev);
}

static const char *holder_type_str(enum holder_type type)
{
	return type == HOLDER_NAMESPACE ? "namespace" : "dax";
}

static void enable_again(struct ndctl_ctx *ctx, const struct holder *h, int n)
{
	int i, rc;

	/* reverse order: namespaces were disabled before dax devices */
	for (i = n - 1; i >= 0; i--) {
		rc = holder_enable(ctx, h[i].type, h[i].name);
		if (rc)
			mv_err(rc, NULL, "cannot enable %s %s again",
			       holder_type_str(h[i].type), h[i].name);
		else
			fprintf(stderr, "enabled %s %s again\n",
				holder_type_str(h[i].type), h[i].name);
	}
}

/* --- the state file -------------------------------------------------- */

static void state_path(uint32_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/region-%u.json", state_dir(), id);
}

static int state_write(uint32_t id, const char *label, uint32_t kind,
		       const struct range *r, const struct holder *h, int n)
{
	struct json_object *o = json_object_new_object(), *a, *e;
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	int i, rc = 0;

	if (!o)
		return -ENOMEM;
	json_add_u64(o, "region_id", id);
	json_add_str(o, "label", label);
	json_add_str(o, "kind", region_kind_str(kind));
	json_add_u64(o, "resource", r->start);
	json_add_u64(o, "size", r->size);
	a = json_object_new_array();
	for (i = 0; a && i < n; i++) {
		e = json_object_new_object();
		if (!e)
			break;
		json_add_str(e, "type", holder_type_str(h[i].type));
		json_add_str(e, "name", h[i].name);
		json_add_str(e, "mode", h[i].mode);
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "disabled", a);

	if (mkdir(state_dir(), 0755) && errno != EEXIST) {
		rc = -errno;
		goto out;
	}
	state_path(id, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (json_object_to_file_ext(tmp, o, JSON_C_TO_STRING_PRETTY)) {
		rc = errno ? -errno : -EIO;
		goto out;
	}
	if (rename(tmp, path)) {
		rc = -errno;
		unlink(tmp);
	}
out:
	json_object_put(o);
	return rc;
}

/*
 * Enable again what the state file of region id names, then delete it.
 * A state file whose range is not the removed region's is stale (left by
 * an earlier module instance): it is reported and removed untouched.
 */
static int state_restore(uint32_t id, const struct memview_region_entry *re)
{
	struct json_object *o, *a, *e, *v;
	struct ndctl_ctx *ctx = NULL;
	char path[PATH_MAX];
	const char *type, *name;
	size_t i, n;
	int rc = 0, failed = 0;

	state_path(id, path, sizeof(path));
	if (access(path, F_OK))
		return 0;
	o = json_object_from_file(path);
	if (!o) {
		mv_warn("cannot read %s: %s", path, json_util_get_last_err());
		return -EINVAL;
	}
	if (!json_object_object_get_ex(o, "resource", &v) ||
	    json_object_get_uint64(v) != re->phys_addr) {
		mv_warn("%s is stale (not region %u's range); ignoring it", path, id);
		goto out;
	}
	if (!json_object_object_get_ex(o, "disabled", &a) ||
	    !json_object_is_type(a, json_type_array))
		goto out;
	n = json_object_array_length(a);
	/* enable in reverse order of disabling */
	for (i = n; i-- > 0;) {
		e = json_object_array_get_idx(a, i);
		if (!json_object_object_get_ex(e, "type", &v))
			continue;
		type = json_object_get_string(v);
		if (!json_object_object_get_ex(e, "name", &v))
			continue;
		name = json_object_get_string(v);
		if (!ctx && (rc = mv_ndctl_new(&ctx)))
			break;
		rc = holder_enable(ctx, strcmp(type, "namespace") ?
				   HOLDER_DAX : HOLDER_NAMESPACE, name);
		if (rc) {
			mv_err(rc, strcmp(type, "namespace") ?
			       "enable it with: daxctl enable-device <name>" :
			       "enable it with: ndctl enable-namespace <name>",
			       "region %u removed, but %s could not be enabled again",
			       id, name);
			failed = rc;
		} else {
			fprintf(stderr, "enabled %s %s again\n", type, name);
		}
	}
	rc = failed;
out:
	unlink(path);
	if (ctx)
		ndctl_unref(ctx);
	json_object_put(o);
	return rc;
}

/* --- add-region ------------------------------------------------------ */

static void add_error(int rc, const struct range *r, uint64_t slice_size)
{
	char sz[SIZE_STR_LEN];
	const char *hint = mv_common_hint(rc);

	switch (-rc) {
	case EBUSY:
		hint = "another driver holds (part of) it; see /proc/iomem, then ndctl disable-namespace or daxctl disable-device";
		break;
	case EEXIST:
		hint = "it overlaps a region memview has already; see 'memviewctl list -R'";
		break;
	case EADDRNOTAVAIL:
		hint = "it is, or contains, System RAM; see /proc/iomem";
		break;
	case ENXIO:
		hint = "it is not device memory: it must lie in a CXL window, a persistent-memory or a soft-reserved range (see /proc/iomem)";
		break;
	case ERANGE:
		hint = "it ends beyond the physical address space";
		break;
	case EINVAL:
		snprintf(sz, sizeof(sz), "%s", "256 MiB");
		if (slice_size)
			size_str(slice_size, sz, sizeof(sz));
		mv_err(rc, NULL,
		       "range 0x%" PRIx64 "+0x%" PRIx64
		       " was refused: it must start on 2 MiB, be a multiple of 2 MiB and hold at least one slice (%s)",
		       r->start, r->size, sz);
		return;
	case ENOMEM:
		hint = "not enough memory for the range's struct pages";
		break;
	case ENOSPC:
		hint = "memview has as many regions as it takes (64); remove one first";
		break;
	}
	mv_err(rc, hint, "cannot add range 0x%" PRIx64 "-0x%" PRIx64,
	       r->start, r->start + r->size - 1);
}

static int parse_range(const char *arg, struct range *r)
{
	char *copy = strdup(arg), *colon;
	int rc = -EINVAL;

	if (!copy)
		return -ENOMEM;
	colon = strchr(copy, ':');
	if (colon) {
		*colon = 0;
		if (!parse_u64(copy, &r->start) && !parse_size(colon + 1, &r->size) &&
		    r->size && r->start + r->size > r->start)
			rc = 0;
	}
	free(copy);
	return rc;
}

/* Known-bad ranges for REGION_ADD's bad_ranges. */
struct bad_list {
	struct memview_bad_range v[MEMVIEW_MAX_BAD_RANGES];
	uint32_t n;
};

/*
 * Add [start, start + len) clipped to @r; nothing if it lies outside.
 * -E2BIG when the list is full.
 */
static int bad_list_add(struct bad_list *b, const struct range *r,
			uint64_t start, uint64_t len)
{
	uint64_t lo = start > r->start ? start : r->start;
	uint64_t hi = start + len < r->start + r->size ? start + len :
							 r->start + r->size;

	if (lo >= hi)
		return 0;
	if (b->n == MEMVIEW_MAX_BAD_RANGES)
		return -E2BIG;
	b->v[b->n].phys_addr = lo;
	b->v[b->n].length = hi - lo;
	b->n++;
	return 0;
}

/*
 * The badblocks of PMEM namespace @name's region inside @r, from libndctl.
 * The region's list, not the namespace's: the namespace's comes from its
 * block device, which a namespace in devdax or raw mode, or disabled, does
 * not have.  Offsets are 512-byte sectors from the region's start.
 */
static int pmem_badblocks(struct ndctl_ctx *ctx, const char *name,
			  const struct range *r, struct bad_list *b)
{
	struct ndctl_namespace *ndns = find_namespace(ctx, name);
	struct ndctl_region *region;
	struct badblock *bb;
	unsigned long long base;
	int rc;

	if (!ndns)
		return -ENODEV;
	region = ndctl_namespace_get_region(ndns);
	base = ndctl_region_get_resource(region);
	if (base == ULLONG_MAX)
		return -EACCES;
	ndctl_region_badblock_foreach(region, bb) {
		rc = bad_list_add(b, r, base + bb->offset * 512,
				  (uint64_t)bb->len * 512);
		if (rc)
			return rc;
	}
	return 0;
}

int cmd_add_region(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cxl",	required_argument,	NULL, 'c' },
		{ "pmem",	required_argument,	NULL, 'p' },
		{ "range",	required_argument,	NULL, 'r' },
		{ "label",	required_argument,	NULL, 'l' },
		{ "bad-range",	required_argument,	NULL, 'B' },
		{ "force",	no_argument,		NULL, 'f' },
		{ "help",	no_argument,		NULL, 'h' },
		MV_OUTPUT_LONGOPTS,
		{ 0 }
	};
	const char *cxl = NULL, *pmem = NULL, *range_arg = NULL, *label = NULL;
	struct memview_region_add add = { 0 };
	struct memview_region_entry *regions = NULL, entry;
	struct range user_bad[16];
	struct bad_list *bad = NULL;
	int nr_user_bad = 0;
	struct holder holders[MAX_HOLDERS];
	struct ndctl_ctx *ctx = NULL;
	struct mv_output out = { 0 };
	struct memview_info info;
	struct json_object *o;
	uint32_t nr = 0, i;
	struct range r = { 0 };
	int c, fd = -1, rc, ret = 1, nr_holders = 0, nr_disabled = 0;
	bool force = false, found = false;
	char question[512], sz[SIZE_STR_LEN];
	size_t len;

	while ((c = mv_getopt(argc, argv, "c:p:r:l:B:fh" MV_OUTPUT_SHORTOPTS,
			      longopts)) != -1) {
		if (mv_output_opt(&out, c))
			continue;
		switch (c) {
		case 'c':
			cxl = optarg;
			break;
		case 'p':
			pmem = optarg;
			break;
		case 'r':
			range_arg = optarg;
			break;
		case 'l':
			label = optarg;
			break;
		case 'B':
			if (nr_user_bad == (int)(sizeof(user_bad) / sizeof(user_bad[0])))
				return mv_usage_err("at most %zu --bad-range options",
						    sizeof(user_bad) / sizeof(user_bad[0]));
			if (parse_range(optarg, &user_bad[nr_user_bad]))
				return mv_usage_err("invalid bad range '%s' (want ADDR:LEN, e.g. 0x140001000:4K)",
						    optarg);
			nr_user_bad++;
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			fputs(add_usage, stdout);
			return 0;
		default:
			return mv_bad_option(argc, argv, c);
		}
	}
	if (optind < argc)
		return mv_usage_err("unexpected argument '%s'", argv[optind]);
	if (!!cxl + !!pmem + !!range_arg != 1)
		return mv_usage_err("give exactly one of --cxl, --pmem, --range");
	if (label && (!*label || strlen(label) >= MEMVIEW_LABEL_LEN))
		return mv_usage_err("label '%s' must be 1 to %d characters",
				    label, MEMVIEW_LABEL_LEN - 1);
	for (const char *c = label; c && *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			return mv_usage_err("label must be printable ASCII (no control characters or non-ASCII letters)");
	if (range_arg && parse_range(range_arg, &r))
		return mv_usage_err("invalid range '%s' (want START:SIZE, e.g. 0x100000000:512M)",
				    range_arg);
	if (!mv_output_resolve(&out))
		return 1;

	fd = mv_open();
	if (fd < 0)
		return 1;
	rc = mv_get_info(fd, &info);
	if (rc) {
		mv_err(rc, mv_common_hint(rc), "cannot get module info");
		goto out;
	}

	if (mv_ndctl_new(&ctx))
		goto out;
	if (cxl) {
		if (cxl_region_range(cxl, &r))
			goto out;
		align_range(&r, cxl);
		add.kind = MEMVIEW_REGION_CXL;
		label = label ? label : cxl;
	} else if (pmem) {
		if (pmem_namespace_range(ctx, pmem, &r))
			goto out;
		align_range(&r, pmem);
		add.kind = MEMVIEW_REGION_PMEM;
		label = label ? label : pmem;
	} else {
		add.kind = MEMVIEW_REGION_RAW;
		label = label ? label : "raw";
	}
	if (strlen(label) >= MEMVIEW_LABEL_LEN) {
		mv_err(0, "give a shorter one with --label", "name '%s' is too long for a label",
		       label);
		goto out;
	}
	if (r.start % SZ_2M || r.size % SZ_2M ||
	    (info.out_slice_size && r.size < info.out_slice_size)) {
		mv_err(EINVAL, NULL,
		       "range 0x%" PRIx64 "+0x%" PRIx64
		       " must start on 2 MiB, be a multiple of 2 MiB and hold at least one slice (%s)",
		       r.start, r.size,
		       size_str(info.out_slice_size, sz, sizeof(sz)));
		goto out;
	}

	/* Bad memory is read before anything is disabled (a namespace's list). */
	bad = calloc(1, sizeof(*bad));
	if (!bad) {
		mv_err(ENOMEM, NULL, "out of memory");
		goto out;
	}
	for (i = 0; i < (uint32_t)nr_user_bad; i++) {
		if (user_bad[i].start < r.start ||
		    user_bad[i].start + user_bad[i].size > r.start + r.size) {
			mv_err(EINVAL, NULL, "bad range 0x%" PRIx64 "+0x%" PRIx64
			       " is not inside 0x%" PRIx64 "+0x%" PRIx64,
			       user_bad[i].start, user_bad[i].size, r.start, r.size);
			goto out;
		}
		bad_list_add(bad, &r, user_bad[i].start, user_bad[i].size);
	}
	if (pmem) {
		rc = pmem_badblocks(ctx, pmem, &r, bad);
		if (rc) {
			mv_err(rc, rc == -E2BIG ? "more than memview takes in one call" : NULL,
			       "cannot read the badblocks of %s", pmem);
			goto out;
		}
	}
	if (bad->n)
		mv_info("%u known-bad ranges in the range", bad->n);

	rc = find_holders(ctx, &r, holders, &nr_holders);
	if (rc == -E2BIG)
		mv_err(rc, NULL, "too many devices hold range 0x%" PRIx64 "+0x%" PRIx64,
		       r.start, r.size);
	if (rc)
		goto out;
	if (nr_holders && !force) {
		len = snprintf(question, sizeof(question), "disable");
		for (i = 0; i < (uint32_t)nr_holders && len < sizeof(question); i++)
			len += snprintf(question + len, sizeof(question) - len,
					"%s %s %s (%s)", i ? "," : "",
					holder_type_str(holders[i].type),
					holders[i].name, holders[i].mode);
		if (len < sizeof(question))
			snprintf(question + len, sizeof(question) - len,
				 " and give its range to memview? What is stored there will be overwritten.");
		if (!isatty(STDIN_FILENO)) {
			mv_err(0, "pass --force to disable it anyway",
			       "%s %s holds the range; not disabling it without --force when not on a terminal",
			       holder_type_str(holders[0].type), holders[0].name);
			goto out;
		}
		if (!confirm(question)) {
			mv_err(0, NULL, "not confirmed; nothing changed");
			goto out;
		}
	}
	for (nr_disabled = 0; nr_disabled < nr_holders; nr_disabled++) {
		rc = holder_disable(&holders[nr_disabled]);
		if (rc) {
			mv_err(rc, holders[nr_disabled].type == HOLDER_NAMESPACE ?
			       "is it mounted or in use? (ndctl disable-namespace tells more)" :
			       "is it open? (daxctl disable-device tells more)",
			       "cannot disable %s", holders[nr_disabled].name);
			goto undo;
		}
		fprintf(stderr, "disabled %s %s\n",
			holder_type_str(holders[nr_disabled].type),
			holders[nr_disabled].name);
	}

	add.phys_addr = r.start;
	add.length = r.size;
	snprintf(add.label, sizeof(add.label), "%s", label);
	if (bad->n) {
		add.bad_ranges = (uintptr_t)bad->v;
		add.nr_bad_ranges = bad->n;
	}
	rc = MV_IOCTL(fd, MEMVIEW_IOCTL_REGION_ADD, &add);
	if (rc) {
		add_error(rc, &r, info.out_slice_size);
		goto undo;
	}

	rc = state_write(add.out_region_id, label, add.kind, &r, holders,
			 nr_disabled);
	if (rc && nr_disabled)
		mv_warn("cannot record what was disabled in %s: %s; after remove-region enable %s yourself",
			state_dir(), strerror(-rc), holders[0].name);
	else if (rc)
		mv_dbg("no state file: %s", strerror(-rc));

	/* print the region as list shows it; fall back to what ADD returned */
	entry = (struct memview_region_entry){
		.id = add.out_region_id, .kind = add.kind, .nid = add.out_nid,
		.nr_slices = add.out_nr_slices, .phys_addr = add.phys_addr,
		.length = add.length, .unusable_bytes = add.out_unusable_bytes,
	};
	memcpy(entry.label, add.label, sizeof(entry.label));
	if (!mv_get_regions(fd, &regions, &nr))
		for (i = 0; i < nr && !found; i++)
			if (regions[i].id == add.out_region_id) {
				entry = regions[i];
				found = true;
			}
	if (out.json) {
		o = region_to_json(&entry, mv_output_flags(&out));
		if (o)
			json_print(o);
	} else {
		print_region_table(&entry, 1, info.out_page_size, out.verbose);
	}
	fflush(stdout);
	fprintf(stderr, "added 1 region (%u slices)\n", add.out_nr_slices);
	if (add.out_bad_pages)
		fprintf(stderr, "retired %" PRIu64 " known-bad pages\n",
			(uint64_t)add.out_bad_pages);
	ret = 0;
	goto out;

undo:
	enable_again(ctx, holders, nr_disabled);
out:
	free(bad);
	free(regions);
	if (ctx)
		ndctl_unref(ctx);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* --- remove-region --------------------------------------------------- */

/* Find the region an argument names: its id, else its label. */
static int resolve_region(const char *arg, const struct memview_region_entry *r,
			  uint32_t nr, uint32_t *idx)
{
	uint64_t id;
	uint32_t i, matches = 0;

	if (!parse_u64(arg, &id)) {
		for (i = 0; i < nr; i++)
			if (r[i].id == id) {
				*idx = i;
				return 0;
			}
	}
	for (i = 0; i < nr; i++)
		if (!strncmp(r[i].label, arg, sizeof(r[i].label)) &&
		    strlen(arg) < sizeof(r[i].label)) {
			if (!matches++)
				*idx = i;
		}
	if (matches > 1) {
		mv_err(0, "name it by id instead", "label '%s' names %u regions",
		       arg, matches);
		return -EINVAL;
	}
	if (!matches) {
		mv_err(ENOENT, "'memviewctl list -R' shows the regions",
		       "no region '%s'", arg);
		return -ENOENT;
	}
	return 0;
}

static uint64_t region_used_pages(int fd, uint32_t id, uint64_t fallback)
{
	struct memview_region_entry *r;
	uint64_t used = fallback;
	uint32_t nr, i;

	if (mv_get_regions(fd, &r, &nr))
		return fallback;
	for (i = 0; i < nr; i++)
		if (r[i].id == id)
			used = r[i].used_pages;
	free(r);
	return used;
}

static int remove_one(int fd, const struct memview_region_entry *re,
		      bool evacuate, bool forget)
{
	struct memview_region_remove rm = { 0 };
	char hint[128];
	int rc;

	rm.region_id = re->id;
	rm.flags = (evacuate ? MEMVIEW_REGION_REMOVE_EVACUATE : 0) |
		   (forget ? MEMVIEW_REGION_REMOVE_FORGET_BAD : 0);
	rc = MV_IOCTL(fd, MEMVIEW_IOCTL_REGION_REMOVE, &rm);
	if (rc == -EBUSY && !evacuate) {
		mv_err(rc, "use --evacuate to move them to DRAM first",
		       "region %u still has %" PRIu64 " pages in use", re->id,
		       region_used_pages(fd, re->id, re->used_pages));
		return rc;
	}
	if ((rc == -EBUSY || rc == -ENOMEM || rc == -EAGAIN) && evacuate) {
		snprintf(hint, sizeof(hint),
			 "%" PRIu64 " pages are still there (pinned?); try again",
			 region_used_pages(fd, re->id, re->used_pages));
		mv_err(rc, hint, "region %u: could not evacuate every page", re->id);
		return rc;
	}
	if (rc == -ENOENT) {
		mv_err(rc, NULL, "region %u is gone (removed meanwhile?)", re->id);
		return rc;
	}
	if (rc == -EINTR) {
		mv_err(rc, "what was evacuated stays in DRAM; run it again",
		       "region %u: interrupted", re->id);
		return rc;
	}
	if (rc) {
		mv_err(rc, mv_common_hint(rc), "cannot remove region %u", re->id);
		return rc;
	}
	if (evacuate)
		fprintf(stderr, "region %u: evacuated %" PRIu64 " pages to DRAM\n",
			re->id, (uint64_t)rm.out_pages_evacuated);
	state_restore(re->id, re);
	return 0;
}

int cmd_remove_region(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "evacuate",	no_argument,	NULL, 'e' },
		{ "forget-bad",	no_argument,	NULL, 'F' },
		{ "all",	no_argument,	NULL, 'a' },
		{ "help",	no_argument,	NULL, 'h' },
		{ 0 }
	};
	struct memview_region_entry *regions = NULL;
	bool evacuate = false, forget = false, all = false, *picked = NULL;
	uint32_t nr = 0, i, idx = 0;
	int c, fd, rc, failed = 0, removed = 0;

	while ((c = mv_getopt(argc, argv, "eah", longopts)) != -1) {
		switch (c) {
		case 'e':
			evacuate = true;
			break;
		case 'F':
			forget = true;
			break;
		case 'a':
			all = true;
			break;
		case 'h':
			fputs(remove_usage, stdout);
			return 0;
		default:
			return mv_bad_option(argc, argv, c);
		}
	}
	if (all && optind < argc)
		return mv_usage_err("--all takes no region names ('%s')", argv[optind]);
	if (!all && optind == argc)
		return mv_usage_err("name the regions to remove (id or label), or give --all");

	fd = mv_open();
	if (fd < 0)
		return 1;
	rc = mv_get_regions(fd, &regions, &nr);
	if (rc) {
		mv_err(rc, mv_common_hint(rc), "cannot list regions");
		close(fd);
		return 1;
	}
	picked = calloc(nr ? nr : 1, sizeof(*picked));
	if (!picked) {
		mv_err(ENOMEM, NULL, "out of memory");
		goto out;
	}
	if (all) {
		for (i = 0; i < nr; i++)
			picked[i] = true;
	}
	/* a bad name does not stop the others: count it and go on */
	for (; optind < argc; optind++) {
		if (resolve_region(argv[optind], regions, nr, &idx))
			failed++;
		else
			picked[idx] = true;
	}
	for (i = 0; i < nr; i++) {
		if (!picked[i])
			continue;
		if (remove_one(fd, &regions[i], evacuate, forget))
			failed++;
		else
			removed++;
	}
	fprintf(stderr, "removed %d region%s\n", removed, removed == 1 ? "" : "s");
out:
	free(picked);
	free(regions);
	close(fd);
	return failed || !picked ? 1 : 0;
}
