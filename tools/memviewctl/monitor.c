// SPDX-License-Identifier: GPL-2.0
/*
 * memviewctl monitor: the bridge between the platform's memory-error reports
 * and memview, and a view of what memview does about them.
 *
 * Two sources, one loop:
 *  - CXL trace events (cxl:cxl_poison, cxl:cxl_general_media, cxl:cxl_dram),
 *    read with libtracefs from a private tracefs instance that has only
 *    those three enabled, and parsed by field name with libtraceevent.  Each
 *    event with a host physical address is handed to the module with
 *    MEMVIEW_IOCTL_ERROR_REPORT (Documentation/ras.rst, "Error inputs").
 *  - struct memview_event records read() from /dev/memview (poll + read).
 *
 * trace_pipe_raw has no poll that we can mix cheaply with the device's, so
 * the loop polls the device with a short timeout and drains the trace
 * buffers after every wakeup: a CXL event reaches the module within
 * MONITOR_TICK_MS.  The instance is removed on every exit path we control
 * (end, error, SIGINT, SIGTERM, SIGHUP); one left by a monitor that was
 * killed is removed by the next monitor (its name carries the dead pid).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event-parse.h>
#include <tracefs.h>

#include "memviewctl.h"

#define MONITOR_TICK_MS		200
#define INSTANCE_PREFIX		"memview-monitor-"
#define CXL_SYSTEM		"cxl"

static const char monitor_usage[] =
	"usage: memviewctl monitor [--count N] [--timeout SEC] [--no-cxl] [-j|-t] [-H]\n"
	"\n"
	"Feed the platform's CXL memory-error reports to memview and print what\n"
	"memview does, one line per event, until Ctrl-C (or --count, --timeout).\n"
	"\n"
	"CXL: the kernel's trace events cxl:cxl_poison (a poison-list read, e.g.\n"
	"'echo 1 > /sys/bus/cxl/devices/memN/trigger_poison_list'),\n"
	"cxl:cxl_general_media and cxl:cxl_dram are read from a private tracefs\n"
	"instance (" INSTANCE_PREFIX "PID, removed on exit).  Each one with a host\n"
	"physical address is reported to the module (ERROR_REPORT): poison as\n"
	"uncorrectable, a media or DRAM event as uncorrectable when its\n"
	"descriptor has the 'uncorrectable event' bit, else as corrected.  An\n"
	"address outside memview's regions is printed as ignored.\n"
	"\n"
	"memview: the module's events (slice state changes with their reason,\n"
	"errors counted, evacuation passes, lost events) as they happen.\n"
	"\n"
	"  -n, --count N      stop after N memview events (CXL lines not counted)\n"
	"  -T, --timeout SEC  stop after SEC seconds (fractions allowed)\n"
	"      --no-cxl       do not read CXL trace events; only show memview's\n"
	"  -j, --json         one JSON object a line (the default when stdout is\n"
	"                     not a terminal)\n"
	"  -t, --table        one line of text per event\n"
	"  -H, --human        JSON with addresses in hex\n"
	"  -h, --help         this text\n"
	"\n"
	"Needs root (reading /dev/memview and tracefs).  Exit 0 when stopped by\n"
	"--count, --timeout or a signal; 1 on an error, or when --timeout ends\n"
	"the run before --count events came.\n";

enum { OPT_NO_CXL = 0x100 };

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct monitor {
	int fd;				/* /dev/memview, for ERROR_REPORT */
	int evfd;			/* /dev/memview, O_NONBLOCK, for read() */
	struct tracefs_instance *inst;
	struct tep_handle *tep;
	const char *cxl_events[3];	/* the ones enabled, NULL-padded */
	struct mv_output out;
	unsigned long flags;
	uint64_t events;		/* memview events printed */
	uint64_t cxl_seen;		/* CXL trace events seen */
	int error;			/* a fatal error in a callback */
};

static void print_json_line(struct json_object *o)
{
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					     JSON_C_TO_STRING_NOSLASHESCAPE),
	      stdout);
	fputc('\n', stdout);
	json_object_put(o);
}

/* "12:34:56.789 " from CLOCK_REALTIME nanoseconds (now when 0) */
static const char *stamp(uint64_t ns, char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	time_t sec;

	if (!ns) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	}
	sec = (time_t)(ns / 1000000000ULL);
	localtime_r(&sec, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min,
		 tm.tm_sec, (unsigned int)(ns % 1000000000ULL / 1000000));
	return buf;
}

/* ---- memview events ----------------------------------------------------- */

static void print_event(struct monitor *m, const struct memview_event *ev)
{
	char ts[32];
	struct json_object *o;

	if (m->out.json) {
		o = event_to_json(ev, m->flags);
		if (o)
			print_json_line(o);
		return;
	}
	stamp(ev->time_ns, ts, sizeof(ts));
	switch (ev->type) {
	case MEMVIEW_EVENT_STATE:
		printf("%s STATE      slice %u (region %u): %s -> %s", ts,
		       ev->slice_id, ev->region_id, slice_state_str(ev->old_state),
		       slice_state_str(ev->new_state));
		if (ev->reason)
			printf(" (%s)", fence_reason_str(ev->reason));
		putchar('\n');
		break;
	case MEMVIEW_EVENT_ERROR:
		printf("%s ERROR      slice %u (region %u): %s error from %s",
		       ts, ev->slice_id, ev->region_id, severity_str(ev->reason),
		       error_source_str(ev->source));
		if (ev->phys_addr)
			printf(" at 0x%" PRIx64, (uint64_t)ev->phys_addr);
		else
			printf(" on the whole slice");
		printf(", %" PRIu64 " %s so far; slice %s\n", (uint64_t)ev->count,
		       severity_str(ev->reason), slice_state_str(ev->new_state));
		break;
	case MEMVIEW_EVENT_EVACUATION:
		printf("%s EVACUATION slice %u (region %u): %" PRIu64
		       " pages moved, %" PRIu64 " pending; slice %s\n", ts,
		       ev->slice_id, ev->region_id, (uint64_t)ev->count,
		       (uint64_t)ev->pending, slice_state_str(ev->new_state));
		break;
	case MEMVIEW_EVENT_LOST:
		printf("%s LOST       %" PRIu64 " events missed (this reader fell behind)\n",
		       ts, (uint64_t)ev->count);
		break;
	default:
		printf("%s type %u    slice %u\n", ts, ev->type, ev->slice_id);
		break;
	}
}

/*
 * Read and print what is waiting; returns 0, or -errno after a message.
 * Stops early once max events have been printed (max 0: no limit).
 */
static int drain_events(struct monitor *m, uint64_t max)
{
	struct memview_event buf[16], ev;
	unsigned char *p;
	ssize_t n;
	size_t off, sz;

	for (;;) {
		n = read(m->evfd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			if (errno == EPERM || errno == EACCES)
				mv_err(errno, "run it as root (CAP_SYS_ADMIN)",
				       "cannot read memview events");
			else if (errno == EINVAL || errno == ENOTTY)
				mv_err(errno, "the loaded module has no event stream; is it older than memviewctl?",
				       "cannot read memview events");
			else
				mv_err(errno, NULL, "cannot read memview events");
			return -errno;
		}
		if (n == 0)
			return 0;
		p = (unsigned char *)buf;
		for (off = 0; off < (size_t)n; off += sz) {
			memset(&ev, 0, sizeof(ev));
			memcpy(&ev.size, p + off, sizeof(ev.size));
			sz = ev.size;
			if (sz < offsetof(struct memview_event, pending) ||
			    off + sz > (size_t)n) {
				mv_err(0, NULL, "bad event record (size %zu at offset %zu of %zd)",
				       sz, off, n);
				return -EPROTO;
			}
			memcpy(&ev, p + off, sz < sizeof(ev) ? sz : sizeof(ev));
			print_event(m, &ev);
			m->events++;
			if (max && m->events >= max) {
				fflush(stdout);
				return 0;
			}
		}
		fflush(stdout);
	}
}

/* ---- CXL trace events ------------------------------------------------- */

static bool field_u64(struct tep_event *event, struct tep_record *rec,
		      const char *name, unsigned long long *val)
{
	if (!tep_find_field(event, name))
		return false;
	return tep_get_field_val(NULL, event, name, rec, val, 0) == 0;
}

/* A __string field as "%.*s" arguments; "?" when absent. */
static const char *field_str(struct tep_event *event, struct tep_record *rec,
			     const char *name, int *len)
{
	const char *s;

	if (!tep_find_field(event, name))
		goto none;
	s = tep_get_field_raw(NULL, event, name, rec, len, 0);
	if (!s || *len <= 0)
		goto none;
	*len = (int)strnlen(s, (size_t)*len);
	return s;
none:
	*len = 1;
	return "?";
}

static int cxl_record(struct tep_event *event, struct tep_record *rec,
		      int cpu, void *ctx)
{
	struct monitor *m = ctx;
	struct memview_error e = { 0 };
	unsigned long long hpa = ~0ULL, dpa = ~0ULL, v;
	const char *memdev, *result, *why = NULL;
	struct json_object *o;
	char ts[32];
	int len, rc;

	(void)cpu;
	if (!event || strcmp(event->system, CXL_SYSTEM))
		return 0;
	if (!strcmp(event->name, "cxl_poison")) {
		e.source = MEMVIEW_SRC_CXL_POISON;
		e.severity = MEMVIEW_ERROR_UNCORRECTABLE;
		if (field_u64(event, rec, "dpa_length", &v))
			e.length = v;
	} else if (!strcmp(event->name, "cxl_general_media") ||
		   !strcmp(event->name, "cxl_dram")) {
		e.source = event->name[4] == 'g' ? MEMVIEW_SRC_CXL_GENERAL_MEDIA :
						   MEMVIEW_SRC_CXL_DRAM;
		/* CXL 3.1 8.2.9.2.1.1: descriptor bit 0, uncorrectable event */
		e.severity = field_u64(event, rec, "descriptor", &v) && (v & 1) ?
			     MEMVIEW_ERROR_UNCORRECTABLE : MEMVIEW_ERROR_CORRECTED;
	} else {
		return 0;
	}
	m->cxl_seen++;
	memdev = field_str(event, rec, "memdev", &len);
	field_u64(event, rec, "dpa", &dpa);
	if (!field_u64(event, rec, "hpa", &hpa))
		why = "no host physical address in this kernel's event";
	else if (hpa == ~0ULL)
		why = "no host physical address (the DPA is in no CXL region)";

	if (why) {
		result = "skipped";
	} else {
		e.phys_addr = hpa;
		rc = MV_IOCTL(m->fd, MEMVIEW_IOCTL_ERROR_REPORT, &e);
		if (!rc) {
			result = "reported";
		} else if (rc == -ENOENT) {
			result = "ignored";
			why = "not in a memview region";
		} else {
			result = "failed";
			why = strerror(-rc);
			if (rc == -ENOTTY)
				why = "the loaded module has no ERROR_REPORT";
			else if (rc == -EPERM || rc == -EACCES)
				why = "reporting errors needs root";
		}
	}

	if (m->out.json) {
		o = json_object_new_object();
		if (!o)
			return 0;
		json_add_str(o, "event", "cxl");
		json_add_str(o, "trace_event", event->name);
		json_object_object_add(o, "memdev",
				       json_object_new_string_len(memdev, len));
		if (dpa != ~0ULL)
			json_add_addr(o, "dpa", dpa, m->flags);
		if (hpa != ~0ULL)
			json_add_addr(o, "hpa", hpa, m->flags);
		if (e.length)
			json_add_u64(o, "length", e.length);
		json_add_str(o, "severity", severity_str(e.severity));
		json_add_str(o, "result", result);
		if (why)
			json_add_str(o, "why", why);
		if (!strcmp(result, "reported")) {
			json_add_u64(o, "slice_id", e.out_slice_id);
			json_add_str(o, "state", slice_state_str(e.out_state));
			json_add_u64(o, "pages_poisoned", e.out_pages_poisoned);
		}
		print_json_line(o);
	} else {
		printf("%s CXL        %s %.*s dpa 0x%llx", stamp(0, ts, sizeof(ts)),
		       event->name, len, memdev, dpa);
		if (hpa != ~0ULL)
			printf(" hpa 0x%llx", hpa);
		if (e.length)
			printf(" length %llu", (unsigned long long)e.length);
		printf(" %s: %s", severity_str(e.severity), result);
		if (!strcmp(result, "reported"))
			printf(", slice %u %s, %" PRIu64 " page%s newly poisoned",
			       e.out_slice_id, slice_state_str(e.out_state),
			       (uint64_t)e.out_pages_poisoned,
			       e.out_pages_poisoned == 1 ? "" : "s");
		if (why)
			printf(" (%s)", why);
		putchar('\n');
	}
	fflush(stdout);
	return stop_signal ? 1 : 0;
}

/* Remove instances left by monitors that were killed (SIGKILL, crash). */
static void remove_stale_instances(void)
{
	char **names = tracefs_instances("^" INSTANCE_PREFIX "[0-9]+$");
	struct tracefs_instance *inst;
	pid_t pid;
	int i;

	for (i = 0; names && names[i]; i++) {
		pid = (pid_t)atoi(names[i] + strlen(INSTANCE_PREFIX));
		if (pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		inst = tracefs_instance_alloc(NULL, names[i]);
		if (!inst)
			continue;
		mv_info("removing tracefs instance %s left by a monitor that is gone",
			names[i]);
		tracefs_instance_destroy(inst);
		tracefs_instance_free(inst);
	}
	tracefs_list_free(names);
}

static void cxl_close(struct monitor *m)
{
	if (m->inst) {
		/* destroy disables what is enabled in it, then removes it */
		if (tracefs_instance_destroy(m->inst))
			mv_warn("could not remove tracefs instance %s: remove it with rmdir",
				tracefs_instance_get_name(m->inst));
		tracefs_instance_free(m->inst);
		m->inst = NULL;
	}
	if (m->tep) {
		tep_free(m->tep);
		m->tep = NULL;
	}
}

/*
 * Set up the private instance.  Returns 0 when CXL events are read (or
 * there are none to read: a message says so), -1 on an error.
 */
static int cxl_open(struct monitor *m)
{
	static const char *const events[] = {
		"cxl_poison", "cxl_general_media", "cxl_dram",
	};
	static const char *const systems[] = { CXL_SYSTEM, NULL };
	char name[64];
	size_t i, n = 0;

	if (!tracefs_tracing_dir()) {
		mv_warn("tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing): not reading CXL events");
		return 0;
	}
	remove_stale_instances();
	m->tep = tracefs_local_events_system(NULL, systems);
	if (!m->tep) {
		mv_err(errno, NULL, "cannot read the trace event formats");
		return -1;
	}
	snprintf(name, sizeof(name), INSTANCE_PREFIX "%d", (int)getpid());
	m->inst = tracefs_instance_create(name);
	if (!m->inst) {
		mv_err(errno, errno == EACCES || errno == EPERM ?
		       "run it as root" : NULL,
		       "cannot create tracefs instance %s", name);
		cxl_close(m);
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(events); i++) {
		if (!tracefs_event_file_exists(m->inst, CXL_SYSTEM, events[i],
					       "enable")) {
			mv_info("this kernel has no %s:%s event", CXL_SYSTEM,
				events[i]);
			continue;
		}
		if (tracefs_event_enable(m->inst, CXL_SYSTEM, events[i])) {
			mv_err(errno, NULL, "cannot enable %s:%s in %s", CXL_SYSTEM,
			       events[i], name);
			cxl_close(m);
			return -1;
		}
		m->cxl_events[n++] = events[i];
	}
	if (!n) {
		mv_warn("no CXL trace events (is cxl_core loaded?): only memview's events are shown");
		cxl_close(m);
	}
	return 0;
}

static int cxl_drain(struct monitor *m)
{
	if (!m->inst)
		return 0;
	if (tracefs_iterate_raw_events(m->tep, m->inst, NULL, 0, cxl_record, m) < 0 &&
	    !stop_signal) {
		mv_err(errno, NULL, "cannot read the CXL trace events");
		return -1;
	}
	return 0;
}

/* ---- the command ------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_seconds(const char *s, int64_t *ms)
{
	char *end;
	double v;

	if (!s || !*s || !((*s >= '0' && *s <= '9') || *s == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || v < 0 || v > 1e9)
		return -EINVAL;
	*ms = (int64_t)(v * 1000.0 + 0.5);
	return 0;
}

int cmd_monitor(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count",	required_argument,	NULL, 'n' },
		{ "timeout",	required_argument,	NULL, 'T' },
		{ "no-cxl",	no_argument,		NULL, OPT_NO_CXL },
		{ "help",	no_argument,		NULL, 'h' },
		MV_OUTPUT_LONGOPTS,
		{ 0 }
	};
	struct monitor m = { .fd = -1, .evfd = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct memview_info info;
	struct pollfd pfd;
	int64_t timeout_ms = -1, deadline = 0, wait_ms;
	uint64_t max = 0, v;
	bool cxl = true, timed_out = false;
	int c, rc, ret = 1;
	size_t i;

	while ((c = mv_getopt(argc, argv, "n:T:h" MV_OUTPUT_SHORTOPTS,
			      longopts)) != -1) {
		if (mv_output_opt(&m.out, c))
			continue;
		switch (c) {
		case 'n':
			if (parse_u64(optarg, &v) || !v)
				return mv_usage_err("invalid value '%s' for --count: a number of events, > 0",
						    optarg);
			max = v;
			break;
		case 'T':
			if (parse_seconds(optarg, &timeout_ms))
				return mv_usage_err("invalid value '%s' for --timeout: seconds, e.g. 30 or 0.5",
						    optarg);
			break;
		case OPT_NO_CXL:
			cxl = false;
			break;
		case 'h':
			fputs(monitor_usage, stdout);
			return 0;
		default:
			return mv_bad_option(argc, argv, c);
		}
	}
	if (optind < argc)
		return mv_usage_err("unexpected argument '%s'", argv[optind]);
	if (!mv_output_resolve(&m.out))
		return 1;
	m.flags = mv_output_flags(&m.out);

	m.fd = mv_open();
	if (m.fd < 0)
		return 1;
	rc = mv_get_info(m.fd, &info);
	if (rc) {
		mv_err(rc, mv_common_hint(rc), "cannot get module info");
		goto out;
	}
	if (!(info.out_features & MEMVIEW_FEATURE_RAS)) {
		mv_err(0, "load a memview module with fault isolation (\"ras\" in 'memviewctl info' features)",
		       "the loaded module has no fault isolation: nothing to monitor");
		goto out;
	}
	/* events from this open() on: before anything can cause one */
	m.evfd = open(MEMVIEW_DEVICE, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (m.evfd < 0) {
		mv_err(errno, NULL, "cannot open %s", MEMVIEW_DEVICE);
		goto out;
	}

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (cxl && cxl_open(&m))
		goto out;
	/* tell whoever waits for us (tests, scripts) that we are listening */
	fprintf(stderr, "memviewctl monitor: listening: memview events");
	for (i = 0; m.inst && i < ARRAY_SIZE(m.cxl_events) && m.cxl_events[i]; i++)
		fprintf(stderr, "%s" CXL_SYSTEM ":%s", i ? ", " : "; CXL events ",
			m.cxl_events[i]);
	fputc('\n', stderr);

	if (timeout_ms >= 0)
		deadline = now_ms() + timeout_ms;
	while (!stop_signal) {
		wait_ms = m.inst ? MONITOR_TICK_MS : -1;
		if (timeout_ms >= 0) {
			int64_t left = deadline - now_ms();

			if (left <= 0) {
				timed_out = true;
				break;
			}
			if (wait_ms < 0 || left < wait_ms)
				wait_ms = left;
		}
		pfd.fd = m.evfd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		rc = poll(&pfd, 1, (int)wait_ms);
		if (rc < 0 && errno != EINTR) {
			mv_err(errno, NULL, "poll on %s", MEMVIEW_DEVICE);
			goto out;
		}
		if (stop_signal)
			break;
		if (cxl_drain(&m))
			goto out;
		if (rc > 0 && (rc = drain_events(&m, max)))
			goto out;
		if (max && m.events >= max)
			break;
	}
	/* what is still waiting when a signal stops us is not read */
	if (timed_out && max && m.events < max) {
		mv_err(0, NULL, "timed out after %.3g s with %" PRIu64 " of %" PRIu64
		       " memview events", (double)timeout_ms / 1000.0, m.events, max);
		goto out;
	}
	ret = 0;
out:
	cxl_close(&m);
	if (m.evfd >= 0)
		close(m.evfd);
	close(m.fd);
	fflush(stdout);
	return ret;
}
