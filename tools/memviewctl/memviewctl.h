/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memviewctl: private declarations shared by the command files.
 *
 * main.c    command table, global options, log level
 * util.c    messages, number/size parsing, humanized sizes, confirmation
 * ioctl.c   /dev/memview: open, size-filled ioctls, list fetchers
 * json.c    one *_to_json() builder per object, output helpers
 * list.c    list, info
 * region.c  add-region, remove-region, freeing a range from nd/dax drivers
 * proc.c    attach, detach
 * migrate.c demote, promote
 * run.c     run -- cmd
 * policy.c  set-policy, get-policy, the policy options shared with run
 * stats.c   stats
 * top.c     top
 * ras.c     fence-slice, unfence-slice, inject-error
 * monitor.c monitor (CXL trace events -> ERROR_REPORT, memview events)
 */
#ifndef _MEMVIEWCTL_H_
#define _MEMVIEWCTL_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/memview.h>
#include <json-c/json.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* --- util.c ---------------------------------------------------------- */

enum mv_log_level {
	MV_LOG_ERR	= 3,	/* same numbers as syslog, like the nd/cxl libs */
	MV_LOG_INFO	= 6,
	MV_LOG_DEBUG	= 7,
};

extern const char *mv_cmd;	/* the command running, for messages */
extern int mv_log_level;	/* from MEMVIEW_LOG */

void mv_log_init(void);
void mv_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define mv_info(...)	mv_log(MV_LOG_INFO, __VA_ARGS__)
#define mv_dbg(...)	mv_log(MV_LOG_DEBUG, __VA_ARGS__)

/*
 * Print "memviewctl <cmd>: <what>: <strerror(err)>" (": <strerror>" left off
 * when err is 0) and, when hint is not NULL, a second line with what to do.
 * err is a positive or negative errno.
 */
void mv_err(int err, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like mv_err() without errno, prefixed "warning:" */
void mv_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A usage error: message naming the bad argument, "see --help"; returns 1. */
int mv_usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int parse_u64(const char *s, uint64_t *out);	/* decimal or 0x hex */
int parse_size(const char *s, uint64_t *out);	/* 4096, 0x1000, 64K, 1G */
int parse_int(const char *s, int *out);		/* decimal, fits an int */
int parse_pid(const char *s, pid_t *out);	/* decimal, > 0 */

/* "256 MiB", "1.50 GiB": exact multiples without decimals */
const char *size_str(uint64_t bytes, char *buf, size_t len);
#define SIZE_STR_LEN 32

bool stdout_is_tty(void);
/* Ask on the terminal; true only for an answer starting with y/Y. */
bool confirm(const char *question);

/* --- ioctl.c --------------------------------------------------------- */

int mv_open(void);			/* fd, or -1 after a message */
/*
 * Issue cmd with arg, filling arg's leading __u32 size with size.
 * Returns 0 or -errno.
 */
int mv_ioctl(int fd, unsigned long cmd, void *arg, size_t size);
#define MV_IOCTL(fd, cmd, arg) mv_ioctl(fd, cmd, arg, sizeof(*(arg)))

/* The module's answer to an errno that every command can get. */
const char *mv_common_hint(int err);

int mv_get_info(int fd, struct memview_info *info);
int mv_get_regions(int fd, struct memview_region_entry **out, uint32_t *nr);
int mv_get_slices(int fd, bool one_region, uint32_t region_id,
		  struct memview_slice_entry **out, uint32_t *nr);
int mv_get_procs(int fd, struct memview_proc_entry **out, uint32_t *nr);
/* Whole address space of pid; *slices is malloc()ed, *nr its length. */
int mv_get_residency(int fd, pid_t pid, struct memview_residency *res,
		     struct memview_residency_entry **slices, uint32_t *nr);
/* STATS of a managed pid, or the totals for pid 0; 0 or -errno. */
int mv_get_stats(int fd, pid_t pid, struct memview_stats *st);
int mv_get_policy(int fd, struct memview_policy *pol);

/* --- json.c ---------------------------------------------------------- */

enum mv_json_flags {
	MV_JSON_HUMAN	= 1 << 0,	/* -H: sizes "256 MiB", addresses hex */
	MV_JSON_VERBOSE	= 1 << 1,	/* -v: counters */
	MV_JSON_RAS	= 1 << 2,	/* the module has MEMVIEW_FEATURE_RAS */
};

const char *region_kind_str(uint32_t kind);
const char *slice_state_str(uint32_t state);
const char *fence_reason_str(uint32_t reason);	/* "admin", "ce_threshold"... */
const char *error_source_str(uint32_t source);	/* "cxl_poison"... */
const char *severity_str(uint32_t severity);	/* "corrected", "uncorrectable" */
const char *event_type_str(uint32_t type);	/* "state", "error"... */
/* One record read from /dev/memview: "event" names its type. */
struct json_object *event_to_json(const struct memview_event *ev,
				  unsigned long flags);

struct json_object *region_to_json(const struct memview_region_entry *r,
				   unsigned long flags);
struct json_object *slice_to_json(const struct memview_slice_entry *s,
				  uint64_t page_size, unsigned long flags);
/*
 * res and st may be NULL (not available); they are shown only with
 * MV_JSON_VERBOSE, st as a "stats" object without its "pid".
 */
struct json_object *proc_to_json(const struct memview_proc_entry *p,
				 const struct memview_residency *res,
				 const struct memview_residency_entry *rs,
				 uint32_t nr_rs, const struct memview_stats *st,
				 unsigned long flags);
struct json_object *info_to_json(const struct memview_info *info,
				 unsigned long flags);
struct json_object *migrate_to_json(const struct memview_migrate *m,
				    unsigned long flags);
/* pid 0 (totals) leaves out the per-process keys */
struct json_object *stats_to_json(const struct memview_stats *s,
				  unsigned long flags);
struct json_object *policy_to_json(const struct memview_policy *pol,
				   unsigned long flags);

/* "auto", "auto+children" or "manual", from memview_proc_entry.flags */
const char *proc_mode_str(uint32_t flags);
/* "access,faults", "access", "faults" or "none" */
const char *samplers_str(uint32_t samplers);
const char *fault_sampler_str(uint32_t fault_sampler);

void json_add_size(struct json_object *o, const char *key, uint64_t v,
		   unsigned long flags);
void json_add_addr(struct json_object *o, const char *key, uint64_t v,
		   unsigned long flags);
void json_add_u64(struct json_object *o, const char *key, uint64_t v);
void json_add_int(struct json_object *o, const char *key, int64_t v);
void json_add_str(struct json_object *o, const char *key, const char *v);
void json_print(struct json_object *o);	/* to stdout, then put */

/*
 * Output choice shared by the commands that print objects: JSON with
 * --json or when stdout is not a terminal, a table with --table or on a
 * terminal.
 */
struct mv_output {
	int json;	/* -j */
	int table;	/* -t */
	int human;	/* -H */
	int verbose;	/* -v */
};
#define MV_OUTPUT_SHORTOPTS "jtH"
#define MV_OUTPUT_LONGOPTS						\
	{ "json",	no_argument,	NULL, 'j' },			\
	{ "table",	no_argument,	NULL, 't' },			\
	{ "human",	no_argument,	NULL, 'H' }
#define MV_OUTPUT_HELP							\
	"  -j, --json         JSON (the default when stdout is not a terminal)\n" \
	"  -t, --table        a table for people, even when stdout is not a terminal\n" \
	"  -H, --human        JSON with sizes like \"256 MiB\" and addresses in hex\n"
/* Take option c if it is one of MV_OUTPUT_*; true if it was. */
bool mv_output_opt(struct mv_output *out, int c);
/* Resolve the choice; returns false (after a message) on -j with -t. */
bool mv_output_resolve(struct mv_output *out);
unsigned long mv_output_flags(const struct mv_output *out);

/* --- list.c ---------------------------------------------------------- */

void print_region_table(const struct memview_region_entry *r, uint32_t nr,
			uint64_t page_size, bool verbose);
void print_migrate_table(const struct memview_migrate *m);

/* --- proc.c ---------------------------------------------------------- */

/* PROC_ATTACH / PROC_DETACH with a message on failure; 0 or -errno. */
int mv_attach(int fd, pid_t pid, uint64_t budget, uint32_t flags);
int mv_detach(int fd, pid_t pid, bool quiet_enoent);

/*
 * The tiering-mode options of attach and run: --manual, --follow-children.
 * Long only; their getopt values are MV_MODE_OPT_*.
 */
enum {
	MV_MODE_OPT_MANUAL = 0x200,
	MV_MODE_OPT_FOLLOW,
};
#define MV_MODE_LONGOPTS						\
	{ "manual",		no_argument,	NULL, MV_MODE_OPT_MANUAL }, \
	{ "follow-children",	no_argument,	NULL, MV_MODE_OPT_FOLLOW }
struct mv_mode {
	bool manual;
	bool follow;
};
/* Take option c if it is one of MV_MODE_*; true if it was. */
bool mv_mode_opt(struct mv_mode *m, int c);
/*
 * The MEMVIEW_ATTACH_* flags, or -1 after a message: --manual with
 * --follow-children, or automatic tiering that the loaded module lacks.
 */
int mv_mode_flags(int fd, const struct mv_mode *m);

/* --- policy.c -------------------------------------------------------- */

/*
 * The policy options of set-policy and run: long only, getopt values from
 * MV_POLICY_OPT_BASE on.  MV_POLICY_LONGOPTS goes into an option array,
 * MV_POLICY_HELP into a usage text.
 */
#define MV_POLICY_OPT_BASE 0x100
enum {
	MV_POLICY_OPT_SCAN_INTERVAL = MV_POLICY_OPT_BASE,
	MV_POLICY_OPT_PAGES_PER_ROUND,
	MV_POLICY_OPT_MAX_SCAN_US,
	MV_POLICY_OPT_HOT_ROUNDS,
	MV_POLICY_OPT_COLD_ROUNDS,
	MV_POLICY_OPT_HYSTERESIS,
	MV_POLICY_OPT_PINGPONG_ROUNDS,
	MV_POLICY_OPT_PROMOTE_RATE,
	MV_POLICY_OPT_DEMOTE_RATE,
	MV_POLICY_OPT_SAMPLE_PERIOD,
	MV_POLICY_OPT_SAMPLERS,
	/* MEMVIEW_FEATURE_RAS */
	MV_POLICY_OPT_CE_THRESHOLD,
	MV_POLICY_OPT_CE_WINDOW,
	MV_POLICY_OPT_FENCE_ON_UE,
	MV_POLICY_OPT_NO_FENCE_ON_UE,
	MV_POLICY_OPT_FENCE_ON_CE,
	MV_POLICY_OPT_NO_FENCE_ON_CE,
	MV_POLICY_OPT_END,
};
#define MV_POLICY_LONGOPTS						\
	{ "scan-interval",   required_argument, NULL, MV_POLICY_OPT_SCAN_INTERVAL }, \
	{ "pages-per-round", required_argument, NULL, MV_POLICY_OPT_PAGES_PER_ROUND }, \
	{ "max-scan-us",     required_argument, NULL, MV_POLICY_OPT_MAX_SCAN_US }, \
	{ "hot-rounds",      required_argument, NULL, MV_POLICY_OPT_HOT_ROUNDS }, \
	{ "cold-rounds",     required_argument, NULL, MV_POLICY_OPT_COLD_ROUNDS }, \
	{ "hysteresis",      required_argument, NULL, MV_POLICY_OPT_HYSTERESIS }, \
	{ "pingpong-rounds", required_argument, NULL, MV_POLICY_OPT_PINGPONG_ROUNDS }, \
	{ "promote-rate",    required_argument, NULL, MV_POLICY_OPT_PROMOTE_RATE }, \
	{ "demote-rate",     required_argument, NULL, MV_POLICY_OPT_DEMOTE_RATE }, \
	{ "sample-period",   required_argument, NULL, MV_POLICY_OPT_SAMPLE_PERIOD }, \
	{ "samplers",        required_argument, NULL, MV_POLICY_OPT_SAMPLERS }, \
	{ "ce-threshold",    required_argument, NULL, MV_POLICY_OPT_CE_THRESHOLD }, \
	{ "ce-window",       required_argument, NULL, MV_POLICY_OPT_CE_WINDOW }, \
	{ "fence-on-ue",     no_argument,       NULL, MV_POLICY_OPT_FENCE_ON_UE }, \
	{ "no-fence-on-ue",  no_argument,       NULL, MV_POLICY_OPT_NO_FENCE_ON_UE }, \
	{ "fence-on-ce",     no_argument,       NULL, MV_POLICY_OPT_FENCE_ON_CE }, \
	{ "no-fence-on-ce",  no_argument,       NULL, MV_POLICY_OPT_NO_FENCE_ON_CE }
#define MV_POLICY_HELP							\
	"      --scan-interval MS     period of a placer round, 10..60000\n"	\
	"      --pages-per-round N    page-table entries scanned per round over\n" \
	"                             all processes, 512..16777216\n"	\
	"      --max-scan-us US       scan time per round, 100..10000000\n"	\
	"      --hot-rounds N         consecutive accessed scans before a slice\n" \
	"                             page is promoted, 1..64\n"		\
	"      --cold-rounds N        consecutive idle scans before a DRAM page\n" \
	"                             is demoted, 1..64\n"			\
	"      --hysteresis ROUNDS    no move back within this many rounds, 0..1000\n" \
	"      --pingpong-rounds N    a move back within this many rounds counts\n" \
	"                             as a ping-pong, 1..1000\n"		\
	"      --promote-rate MiB/s   promotion limit, 0 = none, at most 1048576\n" \
	"      --demote-rate MiB/s    demotion limit, 0 = none, at most 1048576\n" \
	"      --sample-period N      page faults per fault sample, 1..1000000\n" \
	"      --samplers LIST        access,faults | access | faults | none\n" \
	"    fault isolation (modules with the ras feature):\n"		\
	"      --ce-threshold N       corrected errors within the window that\n" \
	"                             fence a slice, 1..1000000\n"		\
	"      --ce-window MS         corrected-error window, 100..604800000 ms\n" \
	"      --fence-on-ue, --no-fence-on-ue\n"				\
	"                             fence a slice at its first uncorrectable\n" \
	"                             error (or only mark it degraded)\n"	\
	"      --fence-on-ce, --no-fence-on-ce\n"				\
	"                             fence a slice whose corrected errors reach\n" \
	"                             the threshold (or only mark it degraded)\n"

/*
 * Take policy option c with its value into pol (setting its bit in
 * pol->valid).  Returns 0 if c is not a policy option, 1 if it was taken,
 * -1 after a usage message for a bad value.
 */
int mv_policy_opt(struct memview_policy *pol, int c, const char *arg);
/* SET_POLICY with a message on failure; pol gets the policy in force. */
int mv_set_policy(int fd, struct memview_policy *pol);
/* ras: also the fault-isolation knobs (the module has MEMVIEW_FEATURE_RAS) */
void print_policy_table(const struct memview_policy *pol, bool ras);
/* MV_JSON_RAS if the module behind fd has MEMVIEW_FEATURE_RAS, else 0 */
unsigned long mv_ras_flag(int fd);

/* --- commands -------------------------------------------------------- */

int cmd_list(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_add_region(int argc, char **argv);
int cmd_remove_region(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_demote(int argc, char **argv);
int cmd_promote(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_set_policy(int argc, char **argv);
int cmd_get_policy(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_fence_slice(int argc, char **argv);
int cmd_unfence_slice(int argc, char **argv);
int cmd_inject_error(int argc, char **argv);

/*
 * Option parsing helpers around getopt_long(): every command uses
 * opterr = 0 and reports unknown options and missing values itself.
 */
struct option;
int mv_getopt(int argc, char **argv, const char *shortopts,
	      const struct option *longopts);
/* For a '?' or ':' from mv_getopt(): message naming the option, returns 1 */
int mv_bad_option(int argc, char **argv, int c);

#endif /* _MEMVIEWCTL_H_ */
