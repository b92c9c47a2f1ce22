// SPDX-License-Identifier: GPL-2.0
/*
 * memviewctl top: a live view of automatic tiering, refreshed like top(1).
 *
 * Every interval it takes a sample - STATS totals and per process, the
 * slice list, the process list and each process's residency - and draws a
 * frame: rates come from the difference of two samples over the time
 * between them.  Plain ANSI escapes (cursor home, erase) redraw the frame;
 * on a terminal the keyboard is read without line buffering so "q" quits,
 * and the terminal mode is restored on every way out (q, Ctrl-C, SIGTERM,
 * SIGHUP, Ctrl-Z).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "memviewctl.h"

static const char top_usage[] =
	"usage: memviewctl top [-d SECONDS] [-n ITERATIONS] [--once]\n"
	"\n"
	"Watch automatic tiering live: placer rounds, promotion and demotion\n"
	"rates over the last interval (pages/s and MiB/s), how full each slice\n"
	"is, and per managed process its budget, DRAM and slice pages, hot\n"
	"pages, promotions and demotions per second and ping-pongs.\n"
	"\n"
	"  -d, --delay SECONDS       refresh interval, 0.1..3600 (default 1)\n"
	"  -n, --iterations N        draw N frames, then exit (default: until q)\n"
	"  -1, --once                one frame, not clearing the screen (for\n"
	"                            scripts); same as -n 1\n"
	"  -h, --help                this text\n"
	"\n"
	"Each frame is drawn one interval after the previous sample, so rates\n"
	"cover the whole interval; on a terminal the first frame comes at once,\n"
	"without rates.  q, Ctrl-C or SIGTERM end it with exit status 0.  When\n"
	"stdout is not a terminal, frames follow each other without escapes.\n";

#define BAR_WIDTH 20

/* One process in a sample. */
struct top_proc {
	struct memview_proc_entry p;
	bool has_st, has_res;
	struct memview_stats st;
	struct memview_residency res;
};

struct top_sample {
	double t;			/* CLOCK_MONOTONIC seconds */
	struct memview_stats total;
	struct memview_policy pol;
	bool has_pol;
	struct memview_slice_entry *slices;
	uint32_t nr_slices;
	struct top_proc *procs;
	uint32_t nr_procs;
};

static volatile sig_atomic_t top_quit;
static volatile sig_atomic_t top_redraw;
static struct termios top_saved_tio;
static bool top_raw;		/* the terminal is in our mode now */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sample_free(struct top_sample *s)
{
	free(s->slices);
	free(s->procs);
	memset(s, 0, sizeof(*s));
}

/*
 * Take a sample.  What a process that exits meanwhile cannot give is left
 * out of its line; an error from the module on the global queries ends top.
 */
static int sample_take(int fd, struct top_sample *s)
{
	struct memview_proc_entry *procs = NULL;
	struct memview_residency_entry *rs;
	uint32_t nr = 0, i, nr_rs;
	int rc;

	memset(s, 0, sizeof(*s));
	s->t = now_s();
	rc = mv_get_stats(fd, 0, &s->total);
	if (rc) {
		mv_err(rc, mv_common_hint(rc), "cannot get the statistics");
		return rc;
	}
	s->has_pol = !mv_get_policy(fd, &s->pol);
	rc = mv_get_slices(fd, false, 0, &s->slices, &s->nr_slices);
	if (rc) {
		mv_err(rc, mv_common_hint(rc), "cannot list slices");
		return rc;
	}
	rc = mv_get_procs(fd, &procs, &nr);
	if (rc) {
		mv_err(rc, mv_common_hint(rc), "cannot list processes");
		return rc;
	}
	s->procs = calloc(nr ? nr : 1, sizeof(*s->procs));
	if (!s->procs) {
		free(procs);
		mv_err(ENOMEM, NULL, "cannot take a sample");
		return -ENOMEM;
	}
	s->nr_procs = nr;
	for (i = 0; i < nr; i++) {
		struct top_proc *tp = &s->procs[i];

		tp->p = procs[i];
		if (tp->p.pid <= 0)
			continue;
		tp->has_st = !mv_get_stats(fd, tp->p.pid, &tp->st);
		rs = NULL;
		tp->has_res = !mv_get_residency(fd, tp->p.pid, &tp->res, &rs,
						&nr_rs);
		free(rs);
	}
	free(procs);
	return 0;
}

static const struct top_proc *sample_find(const struct top_sample *s,
					  pid_t pid)
{
	uint32_t i;

	for (i = 0; s && i < s->nr_procs; i++)
		if (s->procs[i].p.pid == pid && s->procs[i].has_st)
			return &s->procs[i];
	return NULL;
}

/* A rate as "%*.1f", or "-" when there is no earlier sample. */
static const char *rate_str(char *buf, size_t len, int width, bool have,
			    uint64_t now, uint64_t then, double dt)
{
	if (!have || dt <= 0 || now < then)
		snprintf(buf, len, "%*s", width, "-");
	else
		snprintf(buf, len, "%*.1f", width, (double)(now - then) / dt);
	return buf;
}

/*
 * The frame as lines into f.  prev may be NULL (first frame); rows bounds
 * the lines on a terminal (0: no bound).
 */
static void draw_frame(FILE *f, const struct top_sample *cur,
		       const struct top_sample *prev, uint64_t page_size,
		       double interval, int rows)
{
	const struct memview_stats *t = &cur->total, *pt = prev ? &prev->total : NULL;
	double dt = prev ? cur->t - prev->t : 0, mib = (double)page_size / (1 << 20);
	char r1[32], r2[32], bud[SIZE_STR_LEN], clock[16];
	uint64_t used = 0, total = 0, dp, dd;
	int line = 0, width, fill;
	uint32_t i;
	time_t wall = time(NULL);
	struct tm tm;

	localtime_r(&wall, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);

	fprintf(f, "memview top - %s, every %.1f s, round %" PRIu64, clock,
		interval, (uint64_t)t->out_rounds);
	if (pt)
		fprintf(f, " (+%" PRIu64 ")", (uint64_t)(t->out_rounds - pt->out_rounds));
	if (cur->has_pol)
		fprintf(f, ", scan every %" PRIu32 " ms, samplers %s (fault sampler %s)",
			cur->pol.scan_interval_ms, samplers_str(cur->pol.samplers),
			fault_sampler_str(cur->pol.out_fault_sampler));
	fputc('\n', f);
	line++;

	dp = pt ? t->out_promotions - pt->out_promotions : 0;
	dd = pt ? t->out_demotions - pt->out_demotions : 0;
	if (pt && dt > 0) {
		fprintf(f, "promoted %10.1f pages/s %9.2f MiB/s   total %" PRIu64 " pages\n",
			(double)dp / dt, (double)dp * mib / dt,
			(uint64_t)t->out_promotions);
		fprintf(f, "demoted  %10.1f pages/s %9.2f MiB/s   total %" PRIu64 " pages\n",
			(double)dd / dt, (double)dd * mib / dt,
			(uint64_t)t->out_demotions);
	} else {
		fprintf(f, "promoted %10s pages/s %9s MiB/s   total %" PRIu64 " pages\n",
			"-", "-", (uint64_t)t->out_promotions);
		fprintf(f, "demoted  %10s pages/s %9s MiB/s   total %" PRIu64 " pages\n",
			"-", "-", (uint64_t)t->out_demotions);
	}
	fprintf(f, "ping-pongs %" PRIu64 ", skipped: hysteresis %" PRIu64
		", rate %" PRIu64 ", busy %" PRIu64 ", no space %" PRIu64 "\n",
		(uint64_t)t->out_pingpongs, (uint64_t)t->out_skipped_hysteresis,
		(uint64_t)t->out_skipped_rate, (uint64_t)t->out_skipped_busy,
		(uint64_t)t->out_skipped_no_space);
	line += 3;

	for (i = 0; i < cur->nr_slices; i++) {
		used += cur->slices[i].used_pages;
		total += cur->slices[i].total_pages;
	}
	fprintf(f, "\nslices: %" PRIu32 ", %" PRIu64 " of %" PRIu64 " pages used (%.1f%%)\n",
		cur->nr_slices, used, total,
		total ? 100.0 * (double)used / (double)total : 0.0);
	line += 2;
	if (cur->nr_slices) {
		fprintf(f, "%5s %6s %-9s %10s %10s %6s\n", "SLICE", "REGION",
			"STATE", "USED", "TOTAL", "FILL");
		line++;
	}
	for (i = 0; i < cur->nr_slices; i++) {
		const struct memview_slice_entry *s = &cur->slices[i];
		double pct = s->total_pages ?
			100.0 * (double)s->used_pages / (double)s->total_pages : 0;
		char bar[BAR_WIDTH + 1];

		/* leave room for the process header and one process */
		if (rows && line >= rows - 4 && i + 1 < cur->nr_slices) {
			fprintf(f, "  ... %" PRIu32 " more slices\n",
				cur->nr_slices - i);
			line++;
			break;
		}
		fill = (int)(pct * BAR_WIDTH / 100.0 + 0.5);
		if (fill > BAR_WIDTH)
			fill = BAR_WIDTH;
		if (s->used_pages && !fill)
			fill = 1;
		memset(bar, '#', (size_t)fill);
		memset(bar + fill, '.', (size_t)(BAR_WIDTH - fill));
		bar[BAR_WIDTH] = 0;
		fprintf(f, "%5" PRIu32 " %6" PRIu32 " %-9s %10" PRIu64 " %10" PRIu64
			" %5.1f%% [%s]\n", s->id, s->region_id,
			slice_state_str(s->state), (uint64_t)s->used_pages,
			(uint64_t)s->total_pages, pct, bar);
		line++;
	}

	fprintf(f, "\nprocesses: %" PRIu32 "\n", cur->nr_procs);
	fprintf(f, "%7s %-16s %-13s %10s %11s %11s %9s %8s %8s %9s\n", "PID",
		"COMM", "MODE", "BUDGET", "DRAM PAGES", "SLICE PAGES", "HOT",
		"PROM/s", "DEM/s", "PINGPONGS");
	line += 3;
	for (i = 0; i < cur->nr_procs; i++) {
		const struct top_proc *tp = &cur->procs[i];
		const struct top_proc *pp = sample_find(prev, tp->p.pid);
		char dram[24], slice[24], hot[24], pingpongs[24];

		if (rows && line >= rows - 1 && i + 1 < cur->nr_procs) {
			fprintf(f, "  ... %" PRIu32 " more processes\n",
				cur->nr_procs - i);
			break;
		}
		width = 11;
		if (tp->has_res) {
			snprintf(dram, sizeof(dram), "%*" PRIu64, width,
				 (uint64_t)tp->res.out_dram_pages);
			snprintf(slice, sizeof(slice), "%*" PRIu64, width,
				 (uint64_t)tp->res.out_slice_pages);
		} else {
			snprintf(dram, sizeof(dram), "%*s", width, "-");
			snprintf(slice, sizeof(slice), "%*s", width, "-");
		}
		/* hot pages exist only for processes the placer scans */
		if (tp->has_st && (tp->p.flags & MEMVIEW_ATTACH_AUTO))
			snprintf(hot, sizeof(hot), "%9" PRIu64,
				 (uint64_t)tp->st.out_hot_pages);
		else
			snprintf(hot, sizeof(hot), "%9s", "-");
		if (tp->has_st)
			snprintf(pingpongs, sizeof(pingpongs), "%9" PRIu64,
				 (uint64_t)tp->st.out_pingpongs);
		else
			snprintf(pingpongs, sizeof(pingpongs), "%9s", "-");
		fprintf(f, "%7d %-16.*s %-13s %10s %s %s %s %s %s %s\n",
			tp->p.pid, (int)sizeof(tp->p.comm), tp->p.comm,
			proc_mode_str(tp->p.flags),
			tp->p.dram_budget ?
			size_str(tp->p.dram_budget, bud, sizeof(bud)) : "unlimited",
			dram, slice, hot,
			rate_str(r1, sizeof(r1), 8, pp && tp->has_st,
				 tp->st.out_promotions,
				 pp ? pp->st.out_promotions : 0, dt),
			rate_str(r2, sizeof(r2), 8, pp && tp->has_st,
				 tp->st.out_demotions,
				 pp ? pp->st.out_demotions : 0, dt),
			pingpongs);
		line++;
	}
	if (!cur->nr_procs)
		fprintf(f, "%7s (none)\n", "");
}

/*
 * Put the frame on the screen.  On a terminal: cursor home, each line cut
 * to the width and followed by erase-to-end-of-line, then erase below, so
 * the old frame never shows through and nothing flickers.
 */
static void show_frame(const char *frame, bool clear, int cols)
{
	const char *p = frame, *nl;
	int len;

	if (!clear) {
		fputs(frame, stdout);
		fflush(stdout);
		return;
	}
	fputs("\033[H", stdout);
	while (*p) {
		nl = strchr(p, '\n');
		len = nl ? (int)(nl - p) : (int)strlen(p);
		if (cols > 0 && len > cols)
			len = cols;
		fprintf(stdout, "%.*s\033[K", len, p);
		if (!nl)
			break;
		p = nl + 1;
		if (*p)
			fputs("\r\n", stdout);
	}
	fputs("\033[J", stdout);
	fflush(stdout);
}

static void on_quit(int sig)
{
	(void)sig;
	top_quit = 1;
}

/* write(2) from a signal handler, where there is nobody to tell */
static void write_str(const char *s)
{
	ssize_t r = write(STDOUT_FILENO, s, strlen(s));

	(void)r;
}

/* Async-signal-safe: the terminal back as it was, cursor shown. */
static void term_restore(void)
{
	if (!top_raw)
		return;
	tcsetattr(STDIN_FILENO, TCSADRAIN, &top_saved_tio);
	write_str("\033[?25h");
}

/* Keys one at a time, not echoed; Ctrl-C still sends SIGINT. */
static int term_raw(void)
{
	struct termios tio = top_saved_tio;

	tio.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	tio.c_cc[VMIN] = 0;
	tio.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &tio))
		return -errno;
	top_raw = true;
	write_str("\033[?25l");
	return 0;
}

/* Ctrl-Z: give the shell its terminal back, then stop. */
static void on_tstp(int sig)
{
	int saved = errno;

	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
	errno = saved;
}

/* Continued: the terminal is ours again, and the screen needs a frame. */
static void on_cont(int sig)
{
	int saved = errno;

	(void)sig;
	signal(SIGTSTP, on_tstp);
	if (top_raw)
		term_raw();
	top_redraw = 1;
	errno = saved;
}

static void install_handlers(bool interactive)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: the wait must end at once */
	sa.sa_handler = on_quit;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (interactive) {
		sa.sa_handler = on_tstp;
		sigaction(SIGTSTP, &sa, NULL);
		sa.sa_handler = on_cont;
		sigaction(SIGCONT, &sa, NULL);
	}
}

/*
 * Wait until the deadline, a quit key or a quit signal.  Returns true to
 * go on.
 */
static bool wait_until(double deadline, bool keys)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	double left;
	char c;
	int n;

	while (!top_quit) {
		left = deadline - now_s();
		if (left <= 0)
			return true;
		n = poll(keys ? &pfd : NULL, keys ? 1 : 0,
			 (int)(left * 1000) + 1);
		if (n < 0 && errno != EINTR)
			return false;
		if (top_redraw)
			return true;
		if (n > 0 && (pfd.revents & POLLIN)) {
			if (read(STDIN_FILENO, &c, 1) == 1 &&
			    (c == 'q' || c == 'Q'))
				return false;
		} else if (n > 0) {
			/* the terminal went away */
			keys = false;
		}
	}
	return false;
}

static void term_size(int *rows, int *cols)
{
	struct winsize ws;

	*rows = *cols = 0;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws)) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

int cmd_top(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "delay",	required_argument,	NULL, 'd' },
		{ "iterations",	required_argument,	NULL, 'n' },
		{ "once",	no_argument,		NULL, '1' },
		{ "help",	no_argument,		NULL, 'h' },
		{ 0 }
	};
	struct top_sample samples[2] = { 0 }, *cur, *prev = NULL;
	double interval = 1.0, next;
	long iterations = 0, frames = 0;
	struct memview_info info;
	bool clear, keys, once = false;
	int c, fd, rc, rows, cols, ret = 1, which = 0;
	char *frame = NULL, *end;
	size_t frame_len = 0;
	FILE *f;

	while ((c = mv_getopt(argc, argv, "d:n:1h", longopts)) != -1) {
		switch (c) {
		case 'd':
			errno = 0;
			interval = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(interval >= 0.1) ||
			    interval > 3600)
				return mv_usage_err("invalid interval '%s' for -d (seconds, 0.1..3600)",
						    optarg);
			break;
		case 'n':
			errno = 0;
			iterations = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || iterations < 1)
				return mv_usage_err("invalid count '%s' for -n (1 or more)",
						    optarg);
			break;
		case '1':
			once = true;
			break;
		case 'h':
			fputs(top_usage, stdout);
			return 0;
		default:
			return mv_bad_option(argc, argv, c);
		}
	}
	if (optind < argc)
		return mv_usage_err("unexpected argument '%s'", argv[optind]);
	if (once) {
		if (iterations > 1)
			return mv_usage_err("--once and -n %ld exclude each other",
					    iterations);
		iterations = 1;
	}
	/* one frame is for scripts: never clear what was on the screen */
	clear = stdout_is_tty() && iterations != 1;
	keys = clear && isatty(STDIN_FILENO) &&
	       !tcgetattr(STDIN_FILENO, &top_saved_tio);

	fd = mv_open();
	if (fd < 0)
		return 1;
	rc = mv_get_info(fd, &info);
	if (rc) {
		mv_err(rc, mv_common_hint(rc), "cannot get module info");
		goto out;
	}
	if (!(info.out_features & MEMVIEW_FEATURE_AUTO)) {
		mv_err(0, NULL, "the loaded memview module has no automatic tiering: nothing to watch");
		goto out;
	}

	install_handlers(keys);
	if (keys && term_raw())
		keys = false;

	rc = sample_take(fd, &samples[which]);
	if (rc)
		goto out;
	next = samples[which].t + interval;
	cur = &samples[which];
	for (;;) {
		/* on a terminal the first frame comes at once, without rates */
		if (clear && !prev) {
			f = open_memstream(&frame, &frame_len);
			if (!f)
				break;
			term_size(&rows, &cols);
			draw_frame(f, cur, NULL, info.out_page_size, interval,
				   rows);
			fclose(f);
			show_frame(frame, true, cols);
			free(frame);
			frame = NULL;
		}
		if (!wait_until(next, keys))
			break;
		top_redraw = 0;
		prev = cur;
		which ^= 1;
		sample_free(&samples[which]);
		rc = sample_take(fd, &samples[which]);
		if (rc)
			goto out;
		cur = &samples[which];
		next = cur->t + interval;

		f = open_memstream(&frame, &frame_len);
		if (!f) {
			mv_err(errno, NULL, "cannot draw a frame");
			goto out;
		}
		rows = cols = 0;
		if (clear)
			term_size(&rows, &cols);
		if (!clear && frames)
			fputc('\n', f);
		draw_frame(f, cur, prev, info.out_page_size, interval, rows);
		fclose(f);
		show_frame(frame, clear, cols);
		free(frame);
		frame = NULL;
		frames++;
		if (iterations && frames >= iterations)
			break;
	}
	ret = 0;
out:
	term_restore();
	top_raw = false;
	if (clear && ret == 0)
		fputc('\n', stdout);
	fflush(stdout);
	sample_free(&samples[0]);
	sample_free(&samples[1]);
	close(fd);
	return ret;
}
