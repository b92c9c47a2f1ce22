/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * memview: tiered memory manager for CXL and PMEM regions.
 *
 * The userspace API of /dev/memview.  See Documentation/uapi.rst for the
 * meaning of every field and every errno.
 *
 * Conventions (the iommufd model):
 *  - every ioctl takes one struct that starts with "__u32 size; __u32 flags;";
 *    size is sizeof() the struct as userspace knows it;
 *  - the kernel accepts a smaller struct down to the first version of it, and a
 *    larger one only if the bytes it does not know are zero (-E2BIG otherwise);
 *  - unknown flags, and reserved fields that are not zero, give -EINVAL;
 *  - fields named out_* are written by the kernel; all other fields are inputs;
 *  - addresses, lengths and user pointers are __aligned_u64;
 *  - unknown commands give -ENOTTY;
 *  - the struct is written back on success, and on -EMSGSIZE, -EBUSY and
 *    -EINTR, whose out_ fields say what was needed or done.
 */
#ifndef _UAPI_LINUX_MEMVIEW_H
#define _UAPI_LINUX_MEMVIEW_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define MEMVIEW_DEVICE		"/dev/memview"
#define MEMVIEW_TYPE		0xCD
#define MEMVIEW_API_VERSION	1
#define MEMVIEW_LABEL_LEN	32

enum {
	MEMVIEW_CMD_BASE = 0x80,
	MEMVIEW_CMD_GET_INFO = MEMVIEW_CMD_BASE,
	MEMVIEW_CMD_REGION_ADD,
	MEMVIEW_CMD_REGION_REMOVE,
	MEMVIEW_CMD_REGION_LIST,
	MEMVIEW_CMD_SLICE_LIST,
	MEMVIEW_CMD_PROC_ATTACH,
	MEMVIEW_CMD_PROC_DETACH,
	MEMVIEW_CMD_PROC_LIST,
	MEMVIEW_CMD_DEMOTE,
	MEMVIEW_CMD_PROMOTE,
	MEMVIEW_CMD_RESIDENCY,
	MEMVIEW_CMD_SET_POLICY,
	MEMVIEW_CMD_GET_POLICY,
	MEMVIEW_CMD_STATS,
	MEMVIEW_CMD_SLICE_FENCE,
	MEMVIEW_CMD_SLICE_UNFENCE,
	MEMVIEW_CMD_ERROR_REPORT,
	MEMVIEW_CMD_ERROR_INJECT,
};

/* Bits of memview_info.out_features. */
enum memview_features {
	MEMVIEW_FEATURE_REGION_EVACUATE	= 1 << 0, /* REGION_REMOVE_EVACUATE */
	MEMVIEW_FEATURE_PROMOTE_NODE	= 1 << 1, /* MIGRATE_NODE */
	MEMVIEW_FEATURE_RESIDENCY	= 1 << 2, /* MEMVIEW_IOCTL_RESIDENCY */
	MEMVIEW_FEATURE_AUTO		= 1 << 3, /* placer, policy, stats */
	MEMVIEW_FEATURE_RAS		= 1 << 4, /* fence, errors, events */
	MEMVIEW_FEATURE_PIDFD		= 1 << 5, /* MEMVIEW_PIDFD */
	MEMVIEW_FEATURE_BAD_RANGES	= 1 << 6, /* region_add.bad_ranges */
};

/*
 * In the flags of every command that names a process (PROC_ATTACH,
 * PROC_DETACH, DEMOTE, PROMOTE, RESIDENCY, STATS): the pid field holds a
 * pidfd (pidfd_open(2), clone3 CLONE_PIDFD) rather than a pid.  A pidfd
 * names one process for its whole life: no pid reuse can redirect the call.
 */
#define MEMVIEW_PIDFD		(1U << 31)

/**
 * struct memview_info - MEMVIEW_IOCTL_GET_INFO: API version and features
 * @size: sizeof(struct memview_info)
 * @flags: must be 0
 * @out_api_version: MEMVIEW_API_VERSION of the running module
 * @out_nr_regions: regions registered now
 * @out_features: MEMVIEW_FEATURE_* bits the module supports
 * @out_slice_size: bytes per slice (module parameter slice_size)
 * @out_page_size: bytes per page, the unit of every page counter
 * @out_nr_slices: slices registered now, over all regions
 * @__reserved: must be 0
 * @out_poisoned_pages: pages of all slices retired after a memory error
 *	(memview's HardwareCorrupted; counted when the error is recorded)
 */
struct memview_info {
	__u32 size;
	__u32 flags;
	__u32 out_api_version;
	__u32 out_nr_regions;
	__aligned_u64 out_features;
	__aligned_u64 out_slice_size;
	__aligned_u64 out_page_size;
	__u32 out_nr_slices;
	__u32 __reserved;
	__aligned_u64 out_poisoned_pages;
};
#define MEMVIEW_IOCTL_GET_INFO	_IO(MEMVIEW_TYPE, MEMVIEW_CMD_GET_INFO)

/* Values of memview_region_add.kind and memview_region_entry.kind. */
enum memview_region_kind {
	MEMVIEW_REGION_RAW	= 0,	/* a raw physical range (memmap=nn!ss) */
	MEMVIEW_REGION_CXL	= 1,	/* a CXL region's host physical range */
	MEMVIEW_REGION_PMEM	= 2,	/* a PMEM namespace's range */
	MEMVIEW_REGION_KIND_MAX	= MEMVIEW_REGION_PMEM,
};

/**
 * struct memview_region_add - MEMVIEW_IOCTL_REGION_ADD: take a physical range
 * @size: sizeof(struct memview_region_add)
 * @flags: must be 0
 * @phys_addr: first byte of the range; aligned to 2 MiB
 * @length: bytes; a multiple of 2 MiB and at least one slice; a tail shorter
 *	than a slice is not used and reported in @out_unusable_bytes
 * @kind: enum memview_region_kind
 * @__reserved: must be 0
 * @label: NUL-terminated name for humans (the CXL region or namespace name)
 * @out_region_id: id of the new region
 * @out_nr_slices: slices carved from it
 * @out_nid: NUMA node the range was mapped on
 * @__reserved2: must be 0
 * @out_unusable_bytes: bytes at the end of the range that are not in a slice
 *
 * Fields below came with MEMVIEW_FEATURE_BAD_RANGES (a smaller struct, or
 * zeroes, means no list):
 * @bad_ranges: user pointer to an array of struct memview_bad_range: known
 *	bad memory (namespace badblocks, a CXL poison list), retired before
 *	the region takes pages; 0 if @nr_bad_ranges is 0
 * @nr_bad_ranges: entries in @bad_ranges, 0..MEMVIEW_MAX_BAD_RANGES
 * @__reserved3: must be 0
 * @out_bad_pages: pages retired before the region was published: those of
 *	@bad_ranges and those memview saw poisoned in an earlier region over
 *	the same physical pages
 */
struct memview_region_add {
	__u32 size;
	__u32 flags;
	__aligned_u64 phys_addr;
	__aligned_u64 length;
	__u32 kind;
	__u32 __reserved;
	char label[MEMVIEW_LABEL_LEN];
	__u32 out_region_id;
	__u32 out_nr_slices;
	__s32 out_nid;
	__u32 __reserved2;
	__aligned_u64 out_unusable_bytes;
	/* MEMVIEW_FEATURE_BAD_RANGES */
	__aligned_u64 bad_ranges;
	__u32 nr_bad_ranges;
	__u32 __reserved3;
	__aligned_u64 out_bad_pages;
};
#define MEMVIEW_IOCTL_REGION_ADD _IO(MEMVIEW_TYPE, MEMVIEW_CMD_REGION_ADD)

/* Entries memview_region_add.bad_ranges may hold (more: -E2BIG). */
#define MEMVIEW_MAX_BAD_RANGES	4096

/**
 * struct memview_bad_range - bad memory in a memview_region_add range
 * @phys_addr: first bad byte
 * @length: bytes, at least 1; every page the range touches is retired
 *
 * The range must lie inside [phys_addr, phys_addr + length) of the
 * region being added (-EINVAL); a part in its unusable tail is ignored.
 */
struct memview_bad_range {
	__aligned_u64 phys_addr;
	__aligned_u64 length;
};

/* memview_region_remove.flags */
enum memview_region_remove_flags {
	/* migrate every page still in the region back to DRAM first */
	MEMVIEW_REGION_REMOVE_EVACUATE	= 1 << 0,
	/*
	 * forget the region's known-bad pages (the media was replaced):
	 * otherwise the next REGION_ADD over them retires them again
	 * (MEMVIEW_FEATURE_BAD_RANGES)
	 */
	MEMVIEW_REGION_REMOVE_FORGET_BAD = 1 << 1,
};

/**
 * struct memview_region_remove - MEMVIEW_IOCTL_REGION_REMOVE
 * @size: sizeof(struct memview_region_remove)
 * @flags: MEMVIEW_REGION_REMOVE_*
 * @region_id: the region's id
 * @__reserved: must be 0
 * @out_pages_evacuated: pages migrated to DRAM by MEMVIEW_REGION_REMOVE_EVACUATE
 */
struct memview_region_remove {
	__u32 size;
	__u32 flags;
	__u32 region_id;
	__u32 __reserved;
	__aligned_u64 out_pages_evacuated;
};
#define MEMVIEW_IOCTL_REGION_REMOVE _IO(MEMVIEW_TYPE, MEMVIEW_CMD_REGION_REMOVE)

/**
 * struct memview_region_entry - one region in MEMVIEW_IOCTL_REGION_LIST
 * @id: region id
 * @kind: enum memview_region_kind
 * @nid: NUMA node its pages belong to
 * @nr_slices: slices carved from it
 * @phys_addr: first byte of the range
 * @length: bytes of the range as added
 * @unusable_bytes: tail bytes not in any slice
 * @used_pages: pages allocated in its slices now
 * @label: NUL-terminated label given at REGION_ADD
 */
struct memview_region_entry {
	__u32 id;
	__u32 kind;
	__s32 nid;
	__u32 nr_slices;
	__aligned_u64 phys_addr;
	__aligned_u64 length;
	__aligned_u64 unusable_bytes;
	__aligned_u64 used_pages;
	char label[MEMVIEW_LABEL_LEN];
};

/**
 * struct memview_region_list - MEMVIEW_IOCTL_REGION_LIST
 * @size: sizeof(struct memview_region_list)
 * @flags: must be 0
 * @num_regions: in: entries @regions has room for; out: regions that exist.
 *	-EMSGSIZE if there are more than the room given (nothing is copied then)
 * @__reserved: must be 0
 * @regions: user pointer to an array of struct memview_region_entry
 */
struct memview_region_list {
	__u32 size;
	__u32 flags;
	__u32 num_regions;
	__u32 __reserved;
	__aligned_u64 regions;
};
#define MEMVIEW_IOCTL_REGION_LIST _IO(MEMVIEW_TYPE, MEMVIEW_CMD_REGION_LIST)

/* Values of memview_slice_entry.state. */
enum memview_slice_state {
	MEMVIEW_SLICE_ONLINE	= 0,	/* takes new pages */
	MEMVIEW_SLICE_DEGRADED	= 1,	/* has seen memory errors, still used */
	MEMVIEW_SLICE_FENCING	= 2,	/* no new pages, being evacuated */
	MEMVIEW_SLICE_FENCED	= 3,	/* no new pages, evacuated */
	MEMVIEW_SLICE_RETIRED	= 4,	/* permanently out of service */
	MEMVIEW_SLICE_REMOVING	= 5,	/* its region is being removed */
};

/**
 * struct memview_slice_entry - one slice in MEMVIEW_IOCTL_SLICE_LIST
 * @id: slice id, unique among the slices that exist (a removed region's
 *	ids are given to slices added later)
 * @region_id: region the slice belongs to
 * @index: position of the slice in its region (0 = lowest address)
 * @state: enum memview_slice_state
 * @phys_addr: first byte of the slice
 * @total_pages: pages in the slice
 * @used_pages: pages allocated now
 * @free_pages: pages not allocated and not poisoned (allocated from only
 *	while the state is ONLINE or DEGRADED); total = used + free + poisoned
 * @poisoned_pages: pages retired after an uncorrectable memory error: their
 *	data is gone and they are never handed out again (a poisoned page that
 *	something still pins counts as used until it is freed)
 * @migrations_in: pages migrated into the slice since it was created
 * @migrations_out: pages migrated out of the slice since it was created
 * @errors: memory errors reported on the slice, corrected + uncorrectable
 *
 * Fields below came with MEMVIEW_FEATURE_RAS; see memview_slice_list.entry_size.
 * @corrected_errors: corrected errors reported on the slice
 * @uncorrectable_errors: uncorrectable errors reported on the slice
 * @window_corrected: corrected errors in the current policy window
 * @fence_reason: enum memview_fence_reason of the last fence, 0 if none
 * @__reserved: 0
 * @evac_total: live pages the slice had when the last evacuation began
 * @evac_moved: pages that evacuation moved out (verified copies)
 * @evac_poisoned: pages evacuation did not copy because they are poisoned
 *	(their owners get SIGBUS on access)
 * @evac_pending: pages still in the slice that could not move yet (pinned,
 *	locked, under I/O): evacuation retries them
 * @evac_passes: passes the last evacuation has made over the slice
 * @evac_ns: nanoseconds the last evacuation took (so far, while FENCING)
 */
struct memview_slice_entry {
	__u32 id;
	__u32 region_id;
	__u32 index;
	__u32 state;
	__aligned_u64 phys_addr;
	__aligned_u64 total_pages;
	__aligned_u64 used_pages;
	__aligned_u64 free_pages;
	__aligned_u64 poisoned_pages;
	__aligned_u64 migrations_in;
	__aligned_u64 migrations_out;
	__aligned_u64 errors;
	/* MEMVIEW_FEATURE_RAS */
	__aligned_u64 corrected_errors;
	__aligned_u64 uncorrectable_errors;
	__aligned_u64 window_corrected;
	__u32 fence_reason;
	__u32 __reserved;
	__aligned_u64 evac_total;
	__aligned_u64 evac_moved;
	__aligned_u64 evac_poisoned;
	__aligned_u64 evac_pending;
	__aligned_u64 evac_passes;
	__aligned_u64 evac_ns;
};
/* Size of the entry before MEMVIEW_FEATURE_RAS: memview_slice_list.entry_size 0 */
#define MEMVIEW_SLICE_ENTRY_SIZE_V1	80

/* memview_slice_list.flags */
enum memview_slice_list_flags {
	MEMVIEW_SLICE_LIST_REGION = 1 << 0,	/* only slices of @region_id */
};

/**
 * struct memview_slice_list - MEMVIEW_IOCTL_SLICE_LIST
 * @size: sizeof(struct memview_slice_list)
 * @flags: MEMVIEW_SLICE_LIST_*
 * @num_slices: in: entries @slices has room for; out: slices that match.
 *	-EMSGSIZE if there are more than the room given (nothing is copied then)
 * @region_id: with MEMVIEW_SLICE_LIST_REGION, the region; otherwise 0
 * @slices: user pointer to an array of entries, @entry_size bytes apart
 * @entry_size: sizeof(struct memview_slice_entry) as userspace knows it;
 *	0 (or a struct without this field) means MEMVIEW_SLICE_ENTRY_SIZE_V1.
 *	At least MEMVIEW_SLICE_ENTRY_SIZE_V1 and a multiple of 8 (-EINVAL);
 *	the kernel writes what it knows of each entry and zeroes the rest
 * @__reserved: must be 0
 */
struct memview_slice_list {
	__u32 size;
	__u32 flags;
	__u32 num_slices;
	__u32 region_id;
	__aligned_u64 slices;
	__u32 entry_size;
	__u32 __reserved;
};
#define MEMVIEW_IOCTL_SLICE_LIST _IO(MEMVIEW_TYPE, MEMVIEW_CMD_SLICE_LIST)

/* memview_proc_attach.flags */
enum memview_attach_flags {
	/* the placer tiers the process automatically (budget, heat) */
	MEMVIEW_ATTACH_AUTO		= 1 << 0,
	/* fault sampling follows processes it forks (they are attached too) */
	MEMVIEW_ATTACH_FOLLOW_CHILDREN	= 1 << 1,
};

/**
 * struct memview_proc_attach - MEMVIEW_IOCTL_PROC_ATTACH: manage a process
 * @size: sizeof(struct memview_proc_attach)
 * @flags: MEMVIEW_ATTACH_*
 * @pid: process id (thread group id) in the caller's pid namespace
 * @__reserved: must be 0
 * @dram_budget: bytes of DRAM the process may keep; 0 = no limit
 */
struct memview_proc_attach {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__u32 __reserved;
	__aligned_u64 dram_budget;
};
#define MEMVIEW_IOCTL_PROC_ATTACH _IO(MEMVIEW_TYPE, MEMVIEW_CMD_PROC_ATTACH)

/**
 * struct memview_proc_detach - MEMVIEW_IOCTL_PROC_DETACH
 * @size: sizeof(struct memview_proc_detach)
 * @flags: must be 0
 * @pid: process id given to PROC_ATTACH
 * @__reserved: must be 0
 */
struct memview_proc_detach {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__u32 __reserved;
};
#define MEMVIEW_IOCTL_PROC_DETACH _IO(MEMVIEW_TYPE, MEMVIEW_CMD_PROC_DETACH)

/**
 * struct memview_proc_entry - one process in MEMVIEW_IOCTL_PROC_LIST
 * @pid: process id in the caller's pid namespace (0 if not visible there)
 * @flags: MEMVIEW_ATTACH_* it was attached with
 * @comm: the process's command name, NUL-terminated
 * @dram_budget: bytes, as given to PROC_ATTACH
 * @pages_demoted: pages memview moved from DRAM to slices for it
 * @pages_promoted: pages memview moved from slices to DRAM for it
 */
struct memview_proc_entry {
	__s32 pid;
	__u32 flags;
	char comm[16];
	__aligned_u64 dram_budget;
	__aligned_u64 pages_demoted;
	__aligned_u64 pages_promoted;
};

/**
 * struct memview_proc_list - MEMVIEW_IOCTL_PROC_LIST
 * @size: sizeof(struct memview_proc_list)
 * @flags: must be 0
 * @num_procs: in: entries @procs has room for; out: managed processes.
 *	-EMSGSIZE if there are more than the room given (nothing is copied then)
 * @__reserved: must be 0
 * @procs: user pointer to an array of struct memview_proc_entry
 */
struct memview_proc_list {
	__u32 size;
	__u32 flags;
	__u32 num_procs;
	__u32 __reserved;
	__aligned_u64 procs;
};
#define MEMVIEW_IOCTL_PROC_LIST _IO(MEMVIEW_TYPE, MEMVIEW_CMD_PROC_LIST)

/* memview_migrate.flags */
enum memview_migrate_flags {
	/* PROMOTE only: allocate the DRAM pages on @node */
	MEMVIEW_MIGRATE_NODE	= 1 << 0,
	/*
	 * move pages shared with other processes too (move_pages(2)'s
	 * MPOL_MF_MOVE_ALL); needs CAP_SYS_NICE
	 */
	MEMVIEW_MIGRATE_MOVE_ALL = 1 << 1,
};

/**
 * struct memview_migrate - MEMVIEW_IOCTL_DEMOTE and MEMVIEW_IOCTL_PROMOTE
 * @size: sizeof(struct memview_migrate)
 * @flags: MEMVIEW_MIGRATE_*
 * @pid: a process attached with PROC_ATTACH
 * @node: with MEMVIEW_MIGRATE_NODE, the online node for promoted pages
 * @addr: first byte of the virtual range; page aligned
 * @length: bytes; page aligned, not 0, addr + length must not wrap
 *
 * Every page of the range is counted in exactly one out_ field:
 * @out_moved: pages migrated
 * @out_not_present: pages never touched, unmapped, swapped or the zero page
 * @out_already: pages already in the target tier
 * @out_busy: pages the kernel would not migrate now (pinned, locked,
 *	under writeback, or lost a race with another fault)
 * @out_no_space: pages left where they were because no destination page
 *	could be allocated (all healthy slices full, or DRAM short)
 * @out_unsupported: pages in mappings memview does not migrate (file-backed,
 *	shared, hugetlb, VM_IO/VM_PFNMAP)
 * @out_thp_split_failed: pages of transparent huge pages that could not be split
 * @out_shared: pages left where they were because other processes map them
 *	too (copy-on-write after fork()); 0 with MEMVIEW_MIGRATE_MOVE_ALL
 */
struct memview_migrate {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__s32 node;
	__aligned_u64 addr;
	__aligned_u64 length;
	__aligned_u64 out_moved;
	__aligned_u64 out_not_present;
	__aligned_u64 out_already;
	__aligned_u64 out_busy;
	__aligned_u64 out_no_space;
	__aligned_u64 out_unsupported;
	__aligned_u64 out_thp_split_failed;
	__aligned_u64 out_shared;
};
#define MEMVIEW_IOCTL_DEMOTE	_IO(MEMVIEW_TYPE, MEMVIEW_CMD_DEMOTE)
#define MEMVIEW_IOCTL_PROMOTE	_IO(MEMVIEW_TYPE, MEMVIEW_CMD_PROMOTE)

/**
 * struct memview_residency_entry - pages of a process in one slice
 * @slice_id: the slice
 * @__reserved: 0
 * @pages: pages of the range mapped from that slice
 */
struct memview_residency_entry {
	__u32 slice_id;
	__u32 __reserved;
	__aligned_u64 pages;
};

/**
 * struct memview_residency - MEMVIEW_IOCTL_RESIDENCY: where a process's pages are
 * @size: sizeof(struct memview_residency)
 * @flags: must be 0
 * @pid: a process the caller may inspect (it need not be attached)
 * @num_slices: in: entries @slices has room for (may be 0); out: slices that
 *	hold pages of the range. -EMSGSIZE if more than the room given; the
 *	totals are still written then
 * @addr: first byte of the range; page aligned
 * @length: bytes; page aligned; 0 with @addr 0 means the whole address space
 * @out_dram_pages: present pages in system RAM (a PMD-mapped THP counts 512)
 * @out_slice_pages: present pages in memview slices
 * @out_other_pages: present pages that are neither (other device memory)
 * @out_not_present: pages whose page-table entry is a swap or migration
 *	entry (pages never touched are in no counter)
 * @slices: user pointer to an array of struct memview_residency_entry
 */
struct memview_residency {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__u32 num_slices;
	__aligned_u64 addr;
	__aligned_u64 length;
	__aligned_u64 out_dram_pages;
	__aligned_u64 out_slice_pages;
	__aligned_u64 out_other_pages;
	__aligned_u64 out_not_present;
	__aligned_u64 slices;
};
#define MEMVIEW_IOCTL_RESIDENCY	_IO(MEMVIEW_TYPE, MEMVIEW_CMD_RESIDENCY)

/* memview_policy.valid: which fields SET_POLICY changes */
enum memview_policy_fields {
	MEMVIEW_POLICY_SCAN_INTERVAL	= 1 << 0,
	MEMVIEW_POLICY_PAGES_PER_ROUND	= 1 << 1,
	MEMVIEW_POLICY_MAX_SCAN_US	= 1 << 2,
	MEMVIEW_POLICY_HOT_ROUNDS	= 1 << 3,
	MEMVIEW_POLICY_COLD_ROUNDS	= 1 << 4,
	MEMVIEW_POLICY_HYSTERESIS	= 1 << 5,
	MEMVIEW_POLICY_PINGPONG_ROUNDS	= 1 << 6,
	MEMVIEW_POLICY_PROMOTE_RATE	= 1 << 7,
	MEMVIEW_POLICY_DEMOTE_RATE	= 1 << 8,
	MEMVIEW_POLICY_SAMPLE_PERIOD	= 1 << 9,
	MEMVIEW_POLICY_SAMPLERS		= 1 << 10,
	MEMVIEW_POLICY_CE_THRESHOLD	= 1 << 11,
	MEMVIEW_POLICY_CE_WINDOW	= 1 << 12,
	MEMVIEW_POLICY_RAS_FLAGS	= 1 << 13,
	MEMVIEW_POLICY_ALL		= (1 << 14) - 1,
};

/* memview_policy.ras_flags */
enum memview_ras_flags {
	/* fence a slice at its first uncorrectable error (default on) */
	MEMVIEW_RAS_FENCE_ON_UE		= 1 << 0,
	/* fence a slice whose corrected errors reach ce_threshold (default on) */
	MEMVIEW_RAS_FENCE_ON_CE		= 1 << 1,
};

/* memview_policy.samplers */
enum memview_samplers {
	MEMVIEW_SAMPLE_ACCESS_BIT	= 1 << 0, /* page-table accessed bits */
	MEMVIEW_SAMPLE_FAULTS		= 1 << 1, /* page-fault perf samples */
};

/* memview_policy.out_fault_sampler */
enum memview_fault_sampler {
	MEMVIEW_FAULT_SAMPLER_NONE	= 0,
	MEMVIEW_FAULT_SAMPLER_SW	= 1, /* PERF_COUNT_SW_PAGE_FAULTS */
};

/**
 * struct memview_policy - MEMVIEW_IOCTL_SET_POLICY and MEMVIEW_IOCTL_GET_POLICY
 * @size: sizeof(struct memview_policy)
 * @flags: must be 0
 * @valid: SET: MEMVIEW_POLICY_* bits of the fields to change (others are
 *	ignored); GET: written as MEMVIEW_POLICY_ALL
 * @scan_interval_ms: period of a round, 10..60000
 * @pages_per_round: page-table entries examined per round over all managed
 *	processes, 512..16777216; the scan resumes where it stopped
 * @max_scan_us: time one round may scan, 100..10000000
 * @hot_rounds: a slice page accessed in this many consecutive scans (or
 *	as many times within a few scans) is promoted, 1..64
 * @cold_rounds: a DRAM page of a process with a DRAM budget not accessed
 *	in this many consecutive scans is demoted, unless hot pages of the
 *	process wait in the slices, 1..64 (Documentation/tiering.rst)
 * @hysteresis_rounds: a page the placer moved is not moved back within
 *	this many rounds, 0..1000
 * @pingpong_rounds: a page demoted and promoted again (or the reverse)
 *	within this many rounds counts as a ping-pong, 1..1000
 * @promote_rate_mbps: MiB per second the placer may promote, 0 = no limit
 * @demote_rate_mbps: MiB per second the placer may demote, 0 = no limit
 * @sample_period: page faults per fault sample, 1..1000000; applies to
 *	processes attached after the change
 * @samplers: MEMVIEW_SAMPLE_* signals in use
 * @out_fault_sampler: enum memview_fault_sampler in use on this host
 * @__reserved: must be 0
 *
 * Fields below came with MEMVIEW_FEATURE_RAS (Documentation/ras.rst):
 * @ce_threshold: corrected errors within @ce_window_ms that fence a slice,
 *	1..1000000 (default 16)
 * @ce_window_ms: length of the corrected-error window, 100..604800000
 *	(default 86400000, one day); the count restarts when it ends
 * @ras_flags: MEMVIEW_RAS_* (default both)
 * @__reserved2: must be 0
 */
struct memview_policy {
	__u32 size;
	__u32 flags;
	__u32 valid;
	__u32 scan_interval_ms;
	__u32 pages_per_round;
	__u32 max_scan_us;
	__u32 hot_rounds;
	__u32 cold_rounds;
	__u32 hysteresis_rounds;
	__u32 pingpong_rounds;
	__u32 promote_rate_mbps;
	__u32 demote_rate_mbps;
	__u32 sample_period;
	__u32 samplers;
	__u32 out_fault_sampler;
	__u32 __reserved;
	/* MEMVIEW_FEATURE_RAS */
	__u32 ce_threshold;
	__u32 ce_window_ms;
	__u32 ras_flags;
	__u32 __reserved2;
};
#define MEMVIEW_IOCTL_SET_POLICY _IO(MEMVIEW_TYPE, MEMVIEW_CMD_SET_POLICY)
#define MEMVIEW_IOCTL_GET_POLICY _IO(MEMVIEW_TYPE, MEMVIEW_CMD_GET_POLICY)

/**
 * struct memview_stats - MEMVIEW_IOCTL_STATS: placer statistics
 * @size: sizeof(struct memview_stats)
 * @flags: must be 0
 * @pid: a managed process the caller may inspect, or 0 for the totals over
 *	all processes since the module was loaded
 * @__reserved: must be 0
 * @out_rounds: rounds the placer has run (pid 0), or rounds that scanned
 *	the process
 * @out_pages_scanned: page-table entries examined
 * @out_scan_ns: time spent scanning, nanoseconds
 * @out_access_samples: accessed bits found set (and cleared)
 * @out_fault_samples: page-fault samples taken
 * @out_promotions: pages the placer promoted
 * @out_demotions: pages the placer demoted
 * @out_pingpongs: pages moved back within pingpong_rounds of a move
 * @out_skipped_hysteresis: moves not made: the page moved too recently
 * @out_skipped_rate: moves not made: the rate limit was reached
 * @out_skipped_busy: moves the kernel refused (pinned, locked, raced)
 * @out_skipped_no_space: moves not made: no free page in the target tier,
 *	or no room in the DRAM budget for a promotion
 * @out_dram_pages: pages in DRAM at the last scan (per process; 0 for pid 0)
 * @out_slice_pages: pages in slices at the last scan (per process)
 * @out_dram_budget_pages: the budget in pages, 0 = none (per process)
 * @out_hot_pages: pages seen accessed in the last scan (per process)
 */
struct memview_stats {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__u32 __reserved;
	__aligned_u64 out_rounds;
	__aligned_u64 out_pages_scanned;
	__aligned_u64 out_scan_ns;
	__aligned_u64 out_access_samples;
	__aligned_u64 out_fault_samples;
	__aligned_u64 out_promotions;
	__aligned_u64 out_demotions;
	__aligned_u64 out_pingpongs;
	__aligned_u64 out_skipped_hysteresis;
	__aligned_u64 out_skipped_rate;
	__aligned_u64 out_skipped_busy;
	__aligned_u64 out_skipped_no_space;
	__aligned_u64 out_dram_pages;
	__aligned_u64 out_slice_pages;
	__aligned_u64 out_dram_budget_pages;
	__aligned_u64 out_hot_pages;
};
#define MEMVIEW_IOCTL_STATS	_IO(MEMVIEW_TYPE, MEMVIEW_CMD_STATS)

/* Values of memview_slice_entry.fence_reason and memview_event.reason. */
enum memview_fence_reason {
	MEMVIEW_FENCE_NONE		= 0,
	MEMVIEW_FENCE_ADMIN		= 1,	/* SLICE_FENCE */
	MEMVIEW_FENCE_UNCORRECTABLE	= 2,	/* an uncorrectable error */
	MEMVIEW_FENCE_CE_THRESHOLD	= 3,	/* corrected errors >= threshold */
};

/* memview_slice_fence.flags for MEMVIEW_IOCTL_SLICE_FENCE */
enum memview_fence_flags {
	/* return when the evacuation has ended (-EINTR on a signal) */
	MEMVIEW_FENCE_WAIT	= 1 << 0,
	/* end in RETIRED rather than FENCED: the slice never comes back */
	MEMVIEW_FENCE_RETIRE	= 1 << 1,
};

/* memview_slice_fence.flags for MEMVIEW_IOCTL_SLICE_UNFENCE */
enum memview_unfence_flags {
	/* unfence even a slice that had uncorrectable errors */
	MEMVIEW_UNFENCE_FORCE	= 1 << 0,
};

/**
 * struct memview_slice_fence - MEMVIEW_IOCTL_SLICE_FENCE, _SLICE_UNFENCE
 * @size: sizeof(struct memview_slice_fence)
 * @flags: MEMVIEW_FENCE_* (FENCE) or MEMVIEW_UNFENCE_* (UNFENCE)
 * @slice_id: the slice
 * @out_state: the slice's state when the call returns
 * @out_evac_moved: pages moved out by the evacuation so far
 * @out_evac_pending: pages that could not move yet
 *
 * FENCE: no new page lands on the slice from the call on; its live pages
 * are moved to other slices (or DRAM) by a kernel worker.  The state is
 * FENCING until the slice is empty, then FENCED (or RETIRED).  Fencing a
 * slice that is FENCING or FENCED succeeds and changes nothing, except that
 * MEMVIEW_FENCE_RETIRE retires a FENCED slice.
 * UNFENCE: a FENCED slice takes pages again (DEGRADED if it had errors,
 * ONLINE otherwise); its corrected-error window restarts.
 */
struct memview_slice_fence {
	__u32 size;
	__u32 flags;
	__u32 slice_id;
	__u32 out_state;
	__aligned_u64 out_evac_moved;
	__aligned_u64 out_evac_pending;
};
#define MEMVIEW_IOCTL_SLICE_FENCE _IO(MEMVIEW_TYPE, MEMVIEW_CMD_SLICE_FENCE)
#define MEMVIEW_IOCTL_SLICE_UNFENCE _IO(MEMVIEW_TYPE, MEMVIEW_CMD_SLICE_UNFENCE)

/* memview_error.severity */
enum memview_error_severity {
	MEMVIEW_ERROR_CORRECTED		= 0,
	MEMVIEW_ERROR_UNCORRECTABLE	= 1,	/* the data at the address is lost */
};

/* memview_error.source and memview_event.source */
enum memview_error_source {
	MEMVIEW_SRC_INJECT		= 0,	/* ERROR_INJECT (tests) */
	MEMVIEW_SRC_MEMORY_FAILURE	= 1,	/* the kernel's memory_failure() */
	MEMVIEW_SRC_CXL_POISON		= 2,	/* cxl_poison trace event */
	MEMVIEW_SRC_CXL_GENERAL_MEDIA	= 3,	/* cxl_general_media trace event */
	MEMVIEW_SRC_CXL_DRAM		= 4,	/* cxl_dram trace event */
	MEMVIEW_SRC_OTHER		= 5,	/* another reporter */
	MEMVIEW_SRC_MAX			= MEMVIEW_SRC_OTHER,
};

/* memview_error.flags for MEMVIEW_IOCTL_ERROR_INJECT */
enum memview_inject_flags {
	/* the error is on slice @slice_id, at no particular page (@phys_addr 0) */
	MEMVIEW_INJECT_SLICE	= 1 << 0,
};

/**
 * struct memview_error - MEMVIEW_IOCTL_ERROR_REPORT and _ERROR_INJECT
 * @size: sizeof(struct memview_error)
 * @flags: REPORT: must be 0; INJECT: MEMVIEW_INJECT_*
 * @phys_addr: host physical address of the error, inside a memview slice
 *	(not used with MEMVIEW_INJECT_SLICE: must be 0)
 * @length: bytes from @phys_addr the error covers, 1..slice size (0 is
 *	taken as 1); with MEMVIEW_INJECT_SLICE must be 0
 * @severity: enum memview_error_severity
 * @source: REPORT: enum memview_error_source other than INJECT and
 *	MEMORY_FAILURE; INJECT: must be 0
 * @slice_id: with MEMVIEW_INJECT_SLICE the slice; otherwise 0
 * @count: INJECT: errors to raise, 1..1000000 (0 is taken as 1);
 *	REPORT: must be 0 or 1
 * @out_slice_id: the slice the error was counted on
 * @out_state: that slice's state after the error
 * @out_pages_poisoned: pages newly poisoned by an uncorrectable error (their
 *	owners get SIGBUS with BUS_MCEERR_AR when they touch them)
 *
 * REPORT is how userspace (memviewctl monitor) hands the module errors the
 * platform reported, e.g. CXL trace events.  INJECT is for tests only: it
 * raises errors that never happened.  Both need CAP_SYS_ADMIN.
 */
struct memview_error {
	__u32 size;
	__u32 flags;
	__aligned_u64 phys_addr;
	__aligned_u64 length;
	__u32 severity;
	__u32 source;
	__u32 slice_id;
	__u32 count;
	__u32 out_slice_id;
	__u32 out_state;
	__aligned_u64 out_pages_poisoned;
};
#define MEMVIEW_IOCTL_ERROR_REPORT _IO(MEMVIEW_TYPE, MEMVIEW_CMD_ERROR_REPORT)
#define MEMVIEW_IOCTL_ERROR_INJECT _IO(MEMVIEW_TYPE, MEMVIEW_CMD_ERROR_INJECT)

/* memview_event.type */
enum memview_event_type {
	MEMVIEW_EVENT_STATE	= 1,	/* a slice changed state */
	MEMVIEW_EVENT_ERROR	= 2,	/* a memory error was counted */
	MEMVIEW_EVENT_EVACUATION = 3,	/* an evacuation pass ended */
	MEMVIEW_EVENT_LOST	= 4,	/* the reader missed @count events */
};

/**
 * struct memview_event - one record read() from /dev/memview
 * @size: sizeof(struct memview_event) as the kernel writes it
 * @type: enum memview_event_type
 * @seq: sequence number, one more per event since the module was loaded
 * @time_ns: CLOCK_REALTIME of the event, nanoseconds
 * @slice_id: the slice (all types but LOST)
 * @region_id: its region
 * @old_state: STATE: the state before; otherwise the current state
 * @new_state: STATE: the state after; otherwise the current state
 * @reason: STATE: enum memview_fence_reason of a fence, else 0;
 *	ERROR: enum memview_error_severity
 * @source: ERROR: enum memview_error_source; otherwise 0
 * @phys_addr: ERROR: the address (0 for a slice-wide error)
 * @count: ERROR: the slice's errors of that severity so far;
 *	EVACUATION: pages moved in the pass; LOST: events missed
 * @pending: EVACUATION: pages that could not move yet
 * @__reserved: 0
 *
 * read() needs CAP_SYS_ADMIN, a buffer of at least one record, and returns
 * whole records; it blocks unless O_NONBLOCK (then -EAGAIN).  poll() reports
 * EPOLLIN when a record is waiting.  Each open file reads every event from
 * the moment it was opened; the kernel keeps the last 1024.
 */
struct memview_event {
	__u32 size;
	__u32 type;
	__aligned_u64 seq;
	__aligned_u64 time_ns;
	__u32 slice_id;
	__u32 region_id;
	__u32 old_state;
	__u32 new_state;
	__u32 reason;
	__u32 source;
	__aligned_u64 phys_addr;
	__aligned_u64 count;
	__aligned_u64 pending;
	__aligned_u64 __reserved;
};

#endif /* _UAPI_LINUX_MEMVIEW_H */
