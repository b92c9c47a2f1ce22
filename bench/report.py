#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn what bench/bench-guest.sh measured into results.json, PNG plots
(gnuplot) and summary.md.

usage: bench/report.py OUTDIR

OUTDIR is a scripts/bench.sh output directory: the guest wrote OUTDIR/data/.
Everything is derived from those files, so the report can be made again
(scripts/bench.sh --report-only OUTDIR).  Documentation/bench.rst explains
every figure.
"""
import json
import os
import statistics
import subprocess
import sys

PAGE = 4096
GOALS = {
    "memview_over_move_pages_2M": 2.0,
    "memview_over_memcpy_2M": 0.8,
    "steady_hot_residency": 0.98,
    "overhead_max": 0.02,
}
# How far above the budget the first-touch and kernel runs' DRAM may go and
# still count as held to it: one 2 MiB THP (the fill and the kernel's
# promotions move whole THPs; Documentation/bench.rst).
BUDGET_TOLERANCE = 2 << 20


def kv_line(line):
    out = {}
    for tok in line.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            out[k] = num(v)
    return out


def num(v):
    for conv in (int, float):
        try:
            return conv(v)
        except ValueError:
            pass
    return v


def kv_file(path):
    """All key=value tokens of a file, later ones win."""
    out = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                out.update(kv_line(line))
    return out


def kv_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [kv_line(l) for l in f if "=" in l]


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def human_batch(b):
    if b >= 1 << 20:
        return "%g MiB" % (b / (1 << 20))
    if b >= 1 << 10:
        return "%g KiB" % (b / (1 << 10))
    return "%d B" % b


# ---------------------------------------------------------------- migration

def migration(data):
    res = {}
    for mode in ("memview", "move_pages", "memcpy", "wordcopy"):
        rows = kv_lines(os.path.join(data, "mig-%s.txt" % mode))
        for r in rows:
            if not r.get("ns"):
                continue
            key = (r["dir"], r["batch"])
            res.setdefault(mode, {}).setdefault(key, []).append(
                {"pages_per_s": r["moved"] / (r["ns"] / 1e9),
                 "complete": r["moved"] == r["pages"], "pages": r["pages"],
                 "moved": r["moved"], "ns": r["ns"]})
    out = {"modes": {}, "ratios": []}
    for mode, d in res.items():
        out["modes"][mode] = [
            {"dir": k[0], "batch_bytes": k[1],
             "median_pages_per_s": median([x["pages_per_s"] for x in v]),
             "median_mib_per_s": median([x["pages_per_s"] for x in v]) * PAGE / (1 << 20),
             "reps": v}
            for k, v in sorted(d.items(), key=lambda kv: (kv[0][0], kv[0][1]))]

    def med(mode, dir_, batch):
        for e in out["modes"].get(mode, []):
            if e["dir"] == dir_ and e["batch_bytes"] == batch:
                return e["median_pages_per_s"]
        return None

    batches = sorted({e["batch_bytes"] for m in out["modes"].values() for e in m})
    for b in batches:
        for dir_ in ("demote", "promote"):
            mv = med("memview", dir_, b)
            out["ratios"].append({
                "dir": dir_, "batch_bytes": b,
                "memview_pages_per_s": mv,
                "move_pages_pages_per_s": med("move_pages", dir_, b),
                "memcpy_pages_per_s": med("memcpy", dir_, b),
                "wordcopy_pages_per_s": med("wordcopy", dir_, b),
                "memview_over_wordcopy": ratio(mv, med("wordcopy", dir_, b)),
                "memview_over_move_pages": ratio(mv, med("move_pages", dir_, b)),
                "memview_over_memcpy": ratio(mv, med("memcpy", dir_, b)),
            })
    return out


# ---------------------------------------------------------------- placement

COLS = ("t hot_dram hot_cold hot_pages all_dram all_cold not_present "
        "to_cold to_dram pingpongs hot_off pgdemote pgpromote").split()


def read_series(path):
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            v = line.split()
            if len(v) != len(COLS):
                continue
            rows.append(dict(zip(COLS, map(float, v))))
    return rows


def first_time(rows, t_from, thr, t_to=None):
    for r in rows:
        if t_to is not None and r["t"] >= t_to:
            break
        if r["t"] >= t_from and r["hot_pages"] and r["hot_dram"] / r["hot_pages"] >= thr:
            return r["t"] - t_from
    return None


def node_watch(data, name, pattern, params):
    """The budget-node samples (bench-guest.sh node_watch): the workload's
    anonymous pages per node over the run, the node's free memory, and the
    migration counters."""
    rows = kv_lines(os.path.join(data, "place-%s-%s.nodes" % (name, pattern)))
    if not rows:
        return None
    bnode = params.get("budget_node")
    cxl = params.get("cxl_node")
    per_node = {}
    for r in rows:
        wl = str(r.get("wl", ""))
        for tok in wl.split(","):
            if ":" in tok:
                n, pages = tok.split(":")
                per_node.setdefault(int(n), []).append(int(pages))
    max_on = {n: max(v) * PAGE for n, v in per_node.items()}
    other = {n: b for n, b in max_on.items() if n not in (bnode, cxl)}
    first, last = rows[0], rows[-1]
    return {
        "budget_node": bnode,
        "samples": len(rows),
        "max_bytes_per_node": {str(n): b for n, b in sorted(max_on.items())},
        "budget_node_max_bytes": max_on.get(bnode, 0),
        "other_dram_max_bytes": max(other.values()) if other else 0,
        "budget_node_free_kb_min": min(r["free_kb"] for r in rows if "free_kb" in r),
        "pgdemote": last.get("pgdemote", 0) - first.get("pgdemote", 0),
        "pgpromote": last.get("pgpromote", 0) - first.get("pgpromote", 0),
        "promote_candidate": last.get("promote_candidate", 0) - first.get("promote_candidate", 0),
        "hint_faults": last.get("hint_faults", 0) - first.get("hint_faults", 0),
    }


def placement_one(data, name, pattern, duration, params=None):
    rows = read_series(os.path.join(data, "place-%s-%s.txt" % (name, pattern)))
    meta = kv_file(os.path.join(data, "place-%s-%s.meta" % (name, pattern)))
    # After its duration the workload checksums its whole buffer (the cold
    # set too) and exits: those samples say nothing about placement.
    n_all = len(rows)
    if duration:
        rows = [r for r in rows if r["t"] <= float(duration)]
    if not rows:
        return None
    hot0 = rows[0]["hot_off"]
    shift_t = next((r["t"] for r in rows if r["hot_off"] != hot0), None)
    end_t = rows[-1]["t"]

    def frac(r):
        return r["hot_dram"] / r["hot_pages"] if r["hot_pages"] else 0.0

    def steady(t0, t1):
        if t1 is None or t1 <= t0:
            return None
        lo = t0 + 0.75 * (t1 - t0)
        xs = [frac(r) for r in rows if lo <= r["t"] < t1 or (t1 == end_t and r["t"] == end_t)]
        return median(xs)

    before_end = shift_t if shift_t is not None else end_t
    last = rows[-1]
    moved_obs = (last["to_cold"] + last["to_dram"]) * PAGE
    if name.startswith("memview"):
        mover = (meta.get("mv_demotions", 0) + meta.get("mv_promotions", 0)) * PAGE
        mover_pp = meta.get("mv_pingpongs")
    else:
        mover = (meta.get("pgdemote", 0) + meta.get("pgpromote", 0)) * PAGE
        mover_pp = None
    wl_dur = duration
    passes = meta.get("passes")
    return {
        "system": name, "pattern": pattern,
        "samples": len(rows), "samples_after_duration_dropped": n_all - len(rows),
        "median_sample_interval_s": median([b["t"] - a["t"] for a, b in zip(rows, rows[1:])]),
        "max_sample_interval_s": max([b["t"] - a["t"] for a, b in zip(rows, rows[1:])] or [0]),
        "shift_at_s": shift_t, "end_s": end_t,
        "fill_s": meta.get("fill_s"),
        "t90_initial_s": first_time(rows, 0.0, 0.90, shift_t),
        "t95_initial_s": first_time(rows, 0.0, 0.95, shift_t),
        "t90_after_shift_s": first_time(rows, shift_t, 0.90) if shift_t is not None else None,
        "t95_after_shift_s": first_time(rows, shift_t, 0.95) if shift_t is not None else None,
        "steady_hot_residency_before_shift": steady(0.0, before_end),
        "steady_hot_residency_after_shift": steady(shift_t, end_t) if shift_t is not None else None,
        "hot_residency_at_start": frac(rows[0]),
        "migrated_bytes_observed": moved_obs,
        "migrated_bytes_mover_counters": mover,
        "moves_to_cold_observed": last["to_cold"],
        "moves_to_dram_observed": last["to_dram"],
        "pingpongs_observed": last["pingpongs"],
        "pingpongs_mover_counter": mover_pp,
        "dram_bytes_max": max(r["all_dram"] for r in rows) * PAGE,
        "dram_bytes_median": median([r["all_dram"] for r in rows]) * PAGE,
        "workload_passes": passes,
        "workload_ops_per_s": passes / wl_dur if passes and wl_dur else None,
        "workload_result": meta.get("result"),
        "memviewd_cpu_s": (meta["memviewd_ticks"] / 100.0) if "memviewd_ticks" in meta else None,
        "kswapd_cpu_s": meta.get("kswapd_ticks", 0) / 100.0,
        "pgdemote": meta.get("pgdemote"), "pgpromote": meta.get("pgpromote"),
        "nodes": node_watch(data, name, pattern, params or {}),
        "rows": rows,
    }


# ---------------------------------------------------------------- overhead

def log_walls(data):
    """(system, state, rep) -> seconds from the guest log's timestamps (1 s
    resolution): the fallback for runs that did not record wall_ns."""
    import re
    out, prev = {}, None
    path = os.path.join(data, "guest-bench.log")
    if not os.path.exists(path) or not os.path.getsize(path):
        path = os.path.join(data, "..", "guest.log")
    if not os.path.exists(path):
        return out
    pat = re.compile(r"^\[bench (\d+):(\d+):(\d+)\] (.*)")
    with open(path) as f:
        for line in f:
            m = pat.match(line)
            if not m:
                continue
            t = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3))
            if prev:
                out[prev[0]] = (t - prev[1]) % 86400
                prev = None
            w = m.group(4).split()
            if len(w) >= 5 and w[0] == "overhead:" and w[3] == "rep":
                prev = ((w[1], w[2], int(w[4])), t)
    return out


def overhead(data, clk, params_size_gib):
    rows = kv_lines(os.path.join(data, "overhead.txt"))
    walls = log_walls(data)
    for r in rows:
        if not r.get("wall_ns"):
            w = walls.get((r.get("system"), r.get("state"), r.get("rep")))
            if w:
                r["wall_ns"] = w * 1e9
                r["wall_from_log"] = True
    out = {}
    for sys_ in ("memview", "kernel"):
        st = {}
        for state in ("off", "on", "scan", "budget"):
            rs = [r for r in rows if r.get("system") == sys_ and r.get("state") == state]
            ops = [r["passes"] / r["duration"] for r in rs if r.get("duration")]
            st[state] = {"ops_per_s": ops, "median_ops_per_s": median(ops)}
            if state in ("on", "scan", "budget") and sys_ == "memview" and rs:
                cpu = sum(r.get("memviewd_ticks", 0) for r in rs) / clk
                rounds = sum(r.get("rounds", 0) for r in rs)
                scan = sum(r.get("scan_ns", 0) for r in rs) / 1e9
                # memviewd's ticks and the rounds cover the whole run: fill,
                # duration, final checksum, detach
                wall = (sum(r["wall_ns"] for r in rs) / 1e9
                        if all(r.get("wall_ns") for r in rs) else None)
                st[state].update({
                    "memviewd_cpu_s": cpu, "rounds": rounds, "wall_s": wall,
                    "memviewd_cpu_fraction": cpu / wall if wall else None,
                    "memviewd_cpu_s_per_gib_s": (cpu / wall) / (params_size_gib or 1) if wall else None,
                    "cpu_ms_per_round": 1000 * cpu / rounds if rounds else None,
                    "scan_ms_per_round": 1000 * scan / rounds if rounds else None,
                })
            if state == "on" and sys_ == "kernel" and rs:
                st[state]["kswapd_cpu_s"] = sum(r.get("kswapd_ticks", 0) for r in rs) / clk
        r_ = ratio(st["on"]["median_ops_per_s"], st["off"]["median_ops_per_s"])
        out[sys_] = {"off": st["off"], "on": st["on"], "on_over_off": r_,
                     "overhead": (1 - r_) if r_ is not None else None}
        # extra memview states: "scan" (older runs: hot/cold rounds 64),
        # "budget" (a budget of the workload's size: the idle cold set moves)
        for state in ("scan", "budget"):
            if st[state]["ops_per_s"]:
                rs_ = ratio(st[state]["median_ops_per_s"], st["off"]["median_ops_per_s"])
                out[sys_].update({state: st[state], state + "_over_off": rs_,
                                  state + "_overhead": (1 - rs_) if rs_ is not None else None})
    return out


# ---------------------------------------------------------------- evacuation

def evacuation(data, mig):
    e = kv_file(os.path.join(data, "evac.txt"))
    if not e:
        return None
    slices_path = os.path.join(data, "evac-slices.json")
    ev = None
    if os.path.exists(slices_path):
        with open(slices_path) as f:
            for s in json.load(f):
                if s.get("id") == e.get("slice"):
                    ev = s.get("evacuation")
    moved = ev.get("moved") if ev else None
    ns = ev.get("ns") if ev else None
    pps = moved / (ns / 1e9) if moved and ns else None
    wall_pps = e.get("used_pages") / (e["wall_ns"] / 1e9) if e.get("wall_ns") and e.get("used_pages") else None
    demote2m = next((r["memview_pages_per_s"] for r in mig["ratios"]
                     if r["dir"] == "demote" and r["batch_bytes"] == 2 << 20), None)
    total = e.get("total_pages")
    return {
        "slice": e.get("slice"), "slice_total_pages": e.get("total_pages"),
        "used_pages_before": e.get("used_pages"),
        "evacuation": ev, "wall_s_fence_wait": e["wall_ns"] / 1e9 if e.get("wall_ns") else None,
        "pages_per_s_kernel_ns": pps, "pages_per_s_wall": wall_pps,
        "memview_demote_2M_pages_per_s": demote2m,
        "over_demote_2M": ratio(pps, demote2m),
        "over_demote_2M_wall": ratio(wall_pps, demote2m),
        "workload_result": e.get("result"), "workload_rc": e.get("workload_rc"),
        "full_slice_s_extrapolated": total / pps if pps and total else None,
    }


# ---------------------------------------------------------------- plots

def gnuplot(script, cwd):
    try:
        subprocess.run(["gnuplot"], input=script, text=True, cwd=cwd, check=True,
                       capture_output=True)
        return True
    except (OSError, subprocess.CalledProcessError) as e:
        sys.stderr.write("report: gnuplot failed: %s\n%s\n" % (e, getattr(e, "stderr", "")))
        return False


def plots(out, mig, place, patterns, budget):
    pd = os.path.join(out, "plot-data")
    os.makedirs(pd, exist_ok=True)
    made = []
    # migration
    series = []
    for mode, es in mig["modes"].items():
        for dir_ in ("demote", "promote"):
            pts = [(e["batch_bytes"], e["median_pages_per_s"]) for e in es if e["dir"] == dir_]
            if not pts:
                continue
            fn = "mig-%s-%s.dat" % (mode, dir_)
            with open(os.path.join(pd, fn), "w") as f:
                for b, p in sorted(pts):
                    f.write("%d %g\n" % (b // 1024, p))
            label = {"demote": "DRAM->CXL", "promote": "CXL->DRAM"}[dir_]
            series.append("'plot-data/%s' using 1:2 with linespoints title '%s %s'" % (fn, mode, label))
    if series:
        s = """set terminal pngcairo size 900,560 noenhanced
set output 'migration.png'
set title 'Migration throughput (median of repetitions, same VM run)'
set logscale x 2
set logscale y 10
set xlabel 'batch size (KiB)'
set ylabel 'pages/s'
set key outside right
set grid
plot """ + ", \\\n  ".join(series) + "\n"
        if gnuplot(s, out):
            made.append("migration.png")
    # placement
    for pat in patterns:
        runs = [p for p in place if p and p["pattern"] == pat]
        if not runs:
            continue
        for p in runs:
            with open(os.path.join(pd, "place-%s-%s.dat" % (p["system"], pat)), "w") as f:
                for r in p["rows"]:
                    hf = r["hot_dram"] / r["hot_pages"] if r["hot_pages"] else 0
                    f.write("%g %g %g %g\n" % (r["t"], 100 * hf,
                                                (r["to_cold"] + r["to_dram"]) * PAGE / (1 << 20),
                                                r["all_dram"] * PAGE / (1 << 20)))
        shift = next((p["shift_at_s"] for p in runs if p["shift_at_s"]), None)
        arrow = ("set arrow from %g, graph 0 to %g, graph 1 nohead dt 2 lc rgb 'gray'\n" % (shift, shift)
                 if shift else "")
        titles = {"firsttouch": "no tiering (first touch)", "kernel": "kernel tiering (numa_balancing=2)",
                  "memview": "memview (default policy)", "memview-tuned": "memview (tuned policy)"}
        l1 = ", ".join("'plot-data/place-%s-%s.dat' using 1:2 with lines lw 2 title '%s'" %
                       (p["system"], pat, titles.get(p["system"], p["system"])) for p in runs)
        l2 = ", ".join("'plot-data/place-%s-%s.dat' using 1:3 with lines lw 2 title '%s'" %
                       (p["system"], pat, titles.get(p["system"], p["system"])) for p in runs)
        l3 = ", ".join("'plot-data/place-%s-%s.dat' using 1:4 with lines lw 2 title '%s'" %
                       (p["system"], pat, titles.get(p["system"], p["system"])) for p in runs)
        s = """set terminal pngcairo size 900,1000 noenhanced
set output 'placement-%s.png'
set multiplot layout 3,1 title 'Placement, %s access, hot-set shift at the dashed line'
set grid
set key bottom right
set xlabel 'time since the workload filled its buffer (s)'
%sset ylabel 'hot set in DRAM (%%)'
set yrange [0:105]
plot %s
set autoscale y
set key top left
set ylabel 'migrated MiB (pagemap, cumulative)'
plot %s
set ylabel 'workload DRAM (MiB)'
plot %s, %g with lines dt 3 lc rgb 'black' title 'budget'
unset multiplot
""" % (pat, pat, arrow, l1, l2, l3, budget / (1 << 20))
        if gnuplot(s, out):
            made.append("placement-%s.png" % pat)
    return made


def plot_overhead(out, ovh):
    pd = os.path.join(out, "plot-data")
    with open(os.path.join(pd, "overhead.dat"), "w") as f:
        for label, sys_, key in (("memview", "memview", "on_over_off"),
                                 ("memview-sampling-only", "memview", "scan_over_off"),
                                 ("memview-budget", "memview", "budget_over_off"),
                                 ("kernel", "kernel", "on_over_off")):
            r = (ovh.get(sys_) or {}).get(key)
            if r is not None:
                f.write("%s %g\n" % (label, 100 * r))
    s = """set terminal pngcairo size 700,450 noenhanced
set output 'overhead.png'
set title 'Workload throughput with tiering on, % of off (median)'
set style data histograms
set style fill solid 0.6
set yrange [0:*]
set grid y
set ylabel '% of throughput without tiering'
plot 'plot-data/overhead.dat' using 2:xtic(1) notitle, 98 with lines dt 2 title 'goal (98%)'
"""
    return ["overhead.png"] if gnuplot(s, out) else []


# ---------------------------------------------------------------- summary

def fmt(v, unit="", prec=2):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return ("%." + str(prec) + "f%s") % (v, unit)
    return "%s%s" % (v, unit)


def pct(v):
    return "n/a" if v is None else "%.1f%%" % (100 * v)


def verdict(ok, inconclusive=False):
    if inconclusive:
        return "**inconclusive** (within noise)"
    return "n/a" if ok is None else ("**met**" if ok else "**not met**")


def how_far(g):
    v, t = g.get("value"), g.get("target")
    if isinstance(v, (int, float)) and isinstance(t, (int, float)) and t:
        if "overhead" in g["goal"] or "sampling" in g["goal"]:
            return "%.1f%% against at most %.0f%%" % (100 * v, 100 * t)
        return "%.0f%% of the goal" % (100 * v / t)
    if isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v) and v[1]:
        return "memview/kernel = %.2f" % (v[0] / v[1])
    return ""


def summary(out, res):
    p = res["params"]
    L = []
    L.append("# memview benchmarks — %s" % p.get("kernel", "?"))
    L.append("")
    L.append("One QEMU TCG guest boot (2 vCPUs, 4 GiB, emulated CXL type-3 512 MiB). "
             "Every baseline was measured in the same boot; figures are ratios to them. "
             "Absolute times are TCG times, shown for reference only. "
             "See Documentation/bench.rst for how each figure is made.")
    L.append("")
    L.append("Workload: %d MiB, hot fraction %s, %s s per placement run (hot-set shift half way), "
             "DRAM budget %d MiB." % (p.get("size", 0) >> 20, p.get("hot_fraction"),
                                      p.get("duration"), p.get("budget", 0) >> 20))
    if res.get("errors"):
        L.append("")
        L.append("**Errors during the run:** " + "; ".join(res["errors"]))
    if res.get("vm_failures"):
        L.append("")
        L.append("**Guest run problems:** " + "; ".join(res["vm_failures"]))

    L.append("")
    L.append("## Goals")
    L.append("")
    L.append("| goal | measured | verdict | how far |")
    L.append("|---|---|---|---|")
    for g in res["goals"]:
        L.append("| %s | %s | %s | %s |" % (g["goal"], g["measured"],
                                            verdict(g["met"], g.get("inconclusive")), how_far(g)))
    short = [g for g in res["goals"] if g["met"] is False and not g["goal"].startswith("(")]
    L.append("")
    if short:
        L.append("memview falls short of %d of the %d goals measured in this run (marked **not met**)." %
                 (len(short), len([g for g in res["goals"] if g["met"] is not None
                                   and not g["goal"].startswith("(")])))
    else:
        L.append("Every goal measured in this run is met.")

    mig = res["migration"]
    L.append("")
    L.append("## 1. Migration throughput")
    L.append("")
    L.append("Median pages/s (4 KiB pages); DRAM->CXL is memview demote / move_pages to the "
             "CXL node / memcpy (glibc) into a CXL-node buffer / a loop of 64-bit loads and stores, "
             "CXL->DRAM the reverse. Under TCG the CXL memory is emulated MMIO: the width of each "
             "access decides the speed, so glibc's choice of copy (rep movsb for mid sizes, vector "
             "stores for large ones) shows in the memcpy column.")
    L.append("")
    L.append("| direction | batch | memview | move_pages | memcpy | 64-bit copy | memview/move_pages | memview/memcpy | memview/64-bit copy |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for r in mig["ratios"]:
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            {"demote": "DRAM->CXL", "promote": "CXL->DRAM"}[r["dir"]], human_batch(r["batch_bytes"]),
            fmt(r["memview_pages_per_s"], "", 0), fmt(r["move_pages_pages_per_s"], "", 0),
            fmt(r["memcpy_pages_per_s"], "", 0), fmt(r["wordcopy_pages_per_s"], "", 0),
            fmt(r["memview_over_move_pages"]), fmt(r["memview_over_memcpy"]),
            fmt(r["memview_over_wordcopy"])))
    L.append("")
    L.append("![migration](migration.png)")

    L.append("")
    L.append("## 2. Placement quality")
    L.append("")
    L.append("Hot-set residency = hot-set pages whose PFN is outside the CXL range / hot-set pages "
             "(pagemap, every %s ms, the same for all three). t90/t95: seconds until it first "
             "reaches 90%%/95%%, from the end of the fill and from the shift. Steady: median over "
             "the last quarter of each half. Migrated: pages seen changing tier in pagemap (after "
             "the fill) and the mover's own counters (memview stats; /proc/vmstat pgdemote_* + "
             "pgpromote_success, system-wide, fill included)." % p.get("sample_ms"))
    L.append("")
    L.append("| pattern | system | t90 / t95 start | steady before shift | t90 / t95 after shift | "
             "steady after shift | migrated MiB (pagemap / counters) | ping-pongs (pagemap / counter) | "
             "DRAM MiB max | ops/s | sample interval median / max |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in res["placement"]:
        if not r:
            continue
        L.append("| %s | %s | %s / %s | %s | %s / %s | %s | %.0f / %.0f | %d / %s | %.0f | %s | %s |" % (
            r["pattern"], r["system"], fmt(r["t90_initial_s"], " s", 1), fmt(r["t95_initial_s"], " s", 1),
            pct(r["steady_hot_residency_before_shift"]),
            fmt(r["t90_after_shift_s"], " s", 1), fmt(r["t95_after_shift_s"], " s", 1),
            pct(r["steady_hot_residency_after_shift"]),
            r["migrated_bytes_observed"] / (1 << 20), r["migrated_bytes_mover_counters"] / (1 << 20),
            r["pingpongs_observed"], fmt(r["pingpongs_mover_counter"]),
            r["dram_bytes_max"] / (1 << 20), fmt(r["workload_ops_per_s"], "", 2),
            "%s / %s" % (fmt(r["median_sample_interval_s"], "", 2), fmt(r["max_sample_interval_s"], " s", 1))))
    budget = p.get("budget", 0)
    bl = [r for r in res["placement"] if r and r["system"] in ("kernel", "firsttouch")]
    if bl:
        L.append("")
        L.append("DRAM held to the budget (first touch and kernel: the workload's memory bound to the "
                 "budget node %s and the CXL node %s, the node's memory beyond %d MiB + its low "
                 "watermark locked; Documentation/bench.rst). Per node: the workload's anonymous "
                 "memory at its largest (numa_maps, every second, fill included). Held: both DRAM "
                 "maxima at most the budget + %d MiB (one THP), nothing on another DRAM node. "
                 "Counters: /proc/vmstat over the run, system-wide." % (p.get("budget_node", "?"), p.get("cxl_node", "?"),
                                          budget >> 20, BUDGET_TOLERANCE >> 20))
        L.append("")
        L.append("| pattern | system | DRAM MiB max / median (pagemap) | budget node MiB max | other DRAM "
                 "MiB max | node free MiB min | pgdemote | pgpromote | promote candidates | "
                 "NUMA hint faults | held |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in bl:
            nd = r.get("nodes") or {}
            held = (r["dram_bytes_max"] <= budget + BUDGET_TOLERANCE
                    and nd.get("budget_node_max_bytes", 0) <= budget + BUDGET_TOLERANCE
                    and not nd.get("other_dram_max_bytes"))
            r["budget_held"] = held
            mib = lambda v: "%.1f" % (v / (1 << 20)) if v is not None else "n/a"
            L.append("| %s | %s | %s / %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["pattern"], r["system"], mib(r["dram_bytes_max"]), mib(r["dram_bytes_median"]),
                mib(nd.get("budget_node_max_bytes")), mib(nd.get("other_dram_max_bytes")),
                "%.1f" % (nd["budget_node_free_kb_min"] / 1024) if nd else "n/a",
                fmt(nd.get("pgdemote", r.get("pgdemote")), "", 0),
                fmt(nd.get("pgpromote", r.get("pgpromote")), "", 0),
                fmt(nd.get("promote_candidate"), "", 0), fmt(nd.get("hint_faults"), "", 0),
                "yes" if held else "**no**"))
        still = [r for r in bl if r["system"] == "kernel"
                 and not (r.get("pgdemote") or 0) + (r.get("pgpromote") or 0)]
        if still:
            L.append("")
            L.append("The kernel moved no page in %s: the hot set was in DRAM from the fill on "
                     "(the workload fills its buffer in order and the hot set starts at its "
                     "beginning), so its tiering had nothing to do." % ", ".join(
                         "%s/%s" % (r["system"], r["pattern"]) for r in still))
    over = [r for r in bl if not r.get("budget_held")]
    if over:
        L.append("")
        L.append("**Not comparable:** the DRAM limit did not hold for %s: the workload had up to %s "
                 "MiB of DRAM against a budget of %d MiB (Documentation/bench.rst, the budget node). "
                 "Those rows had more DRAM than memview was given; their residency is an upper bound, "
                 "not a like-for-like figure, and so are the convergence and migrated-bytes goals "
                 "against them." % (
                     ", ".join("%s/%s" % (r["system"], r["pattern"]) for r in over),
                     "/".join("%.0f" % (max(r["dram_bytes_max"], (r.get("nodes") or {}).get(
                         "budget_node_max_bytes", 0)) / (1 << 20)) for r in over),
                     budget >> 20))
    for pat in res["patterns"]:
        if os.path.exists(os.path.join(out, "placement-%s.png" % pat)):
            L.append("")
            L.append("![placement %s](placement-%s.png)" % (pat, pat))

    L.append("")
    L.append("## 3. Overhead")
    L.append("")
    o = res["overhead"]
    mo, ko = o.get("memview", {}), o.get("kernel", {})
    L.append("mv-workload (%d MiB, uniform) alone vs under the tiering; memview at the default "
             "policy without a budget (nothing is demoted: the cost of sampling and placing) and "
             "with a budget of the workload's size (its idle cold set is demoted: the cost of "
             "moving it too); median passes/s over %s runs of %s s." %
             (p.get("size", 0) >> 20, p.get("ovh_reps"), p.get("ovh_duration")))
    L.append("")
    L.append("| system | off ops/s | on ops/s | on/off | overhead |")
    L.append("|---|---|---|---|---|")
    for name, x in (("memview (default policy)", mo), ("kernel (numa_balancing=2)", ko)):
        if not x:
            continue
        L.append("| %s | %s | %s | %s | %s |" % (
            name, fmt(x["off"]["median_ops_per_s"]), fmt(x["on"]["median_ops_per_s"]),
            fmt(x["on_over_off"], "", 3), pct(x["overhead"])))
        for state, what in (("scan", "sampling only (hot/cold rounds 64: nothing moves)"),
                            ("budget", "budget = workload size (idle cold set demoted)")):
            if x.get(state):
                L.append("| memview, %s | %s | %s | %s | %s |" % (
                    what, fmt(x["off"]["median_ops_per_s"]), fmt(x[state]["median_ops_per_s"]),
                    fmt(x[state + "_over_off"], "", 3), pct(x[state + "_overhead"])))
    L.append("")
    L.append("Every run's throughput (ops/s, in run order) is in results.json; under TCG on a shared "
             "host they vary by up to 2x from one run to the next.")
    gib = p.get("size", 0) / (1 << 30)
    for label, key in (("default policy", "on"), ("sampling only", "scan"),
                       ("budget = workload size", "budget")):
        on = mo.get(key, {}) if mo else {}
        if not on.get("rounds"):
            continue
        L.append("")
        L.append("memviewd CPU, %s: %s s over %s s of runs (fill to exit) = %s of one CPU; "
                 "%s ms per round (%s ms of it scanning), %s ms per round per GiB managed "
                 "(%d MiB managed); %d rounds." % (
                     label, fmt(on["memviewd_cpu_s"]), fmt(on["wall_s"], "", 0),
                     pct(on["memviewd_cpu_fraction"]), fmt(on["cpu_ms_per_round"], "", 3),
                     fmt(on["scan_ms_per_round"], "", 3),
                     fmt(on["cpu_ms_per_round"] / gib if on["cpu_ms_per_round"] and gib else None, "", 3),
                     p.get("size", 0) >> 20, on["rounds"]))
    L.append("")
    L.append("![overhead](overhead.png)")

    L.append("")
    L.append("## 4. Fault isolation: evacuating a full slice")
    L.append("")
    e = res.get("evacuation")
    if e:
        ev = e.get("evacuation") or {}
        L.append("Slice %s held %s of %s pages; fencing it moved %s pages in %s (kernel's own "
                 "evacuation.ns), %s by the wall clock around `fence-slice --wait`: %s pages/s, "
                 "%s of memview's 2 MiB demote throughput (%s pages/s); wall clock: %s. "
                 "Workload data check after the evacuation: %s." % (
                     e["slice"], e["used_pages_before"], e["slice_total_pages"], ev.get("moved"),
                     fmt(ev.get("ns", 0) / 1e9 if ev.get("ns") else None, " s"),
                     fmt(e["wall_s_fence_wait"], " s"), fmt(e["pages_per_s_kernel_ns"], "", 0),
                     fmt(e["over_demote_2M"]), fmt(e["memview_demote_2M_pages_per_s"], "", 0),
                     fmt(e["over_demote_2M_wall"]), e.get("workload_result")))
        L.append("")
        L.append("A full slice (%s pages) at that rate: %s (extrapolated; under TCG a full 256 MiB "
                 "slice is not evacuated in the benchmark's time)." % (
                     e["slice_total_pages"], fmt(e["full_slice_s_extrapolated"], " s", 0)))
    else:
        L.append("Not measured in this run.")
    L.append("")
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("\n".join(L) + "\n")


def goals(res):
    g = []
    mig = res["migration"]
    for dir_ in ("demote", "promote"):
        r = next((x for x in mig["ratios"] if x["dir"] == dir_ and x["batch_bytes"] == 2 << 20), None)
        for key, goal, label in (("memview_over_move_pages", GOALS["memview_over_move_pages_2M"], "move_pages"),
                                 ("memview_over_memcpy", GOALS["memview_over_memcpy_2M"], "memcpy")):
            v = r[key] if r else None
            g.append({"goal": "memview/%s >= %g, 2 MiB, %s" % (label, goal,
                                                                  "DRAM->CXL" if dir_ == "demote" else "CXL->DRAM"),
                      "value": v, "target": goal, "measured": fmt(v) + ("x" if v is not None else ""),
                      "met": (v >= goal) if v is not None else None})
    pl = {(r["system"], r["pattern"]): r for r in res["placement"] if r}
    for pat, mname in [(p, n) for p in res["patterns"] for n in ("memview", "memview-tuned")]:
        m = pl.get((mname, pat))
        k = pl.get(("kernel", pat))
        pat_ = pat
        pat = "%s, %s" % (pat_, mname)
        if m:
            vals = [m["steady_hot_residency_before_shift"], m["steady_hot_residency_after_shift"]]
            vals = [v for v in vals if v is not None]
            v = min(vals) if vals else None
            g.append({"goal": "steady hot-set residency >= 98%% (%s, worse half)" % pat, "value": v,
                      "target": GOALS["steady_hot_residency"], "measured": pct(v),
                      "met": (v >= GOALS["steady_hot_residency"]) if v is not None else None})
        if m and k:
            for key, lab in (("t95_initial_s", "start"), ("t95_after_shift_s", "after shift")):
                mv, kv = m[key], k[key]
                met = None
                if mv is not None:
                    met = kv is None or mv < kv
                elif kv is not None:
                    met = False
                g.append({"goal": "faster to 95%% hot-set residency than the kernel (%s, %s)" % (pat, lab),
                          "value": [mv, kv], "measured": "memview %s, kernel %s" % (
                              fmt(mv, " s", 1) if mv is not None else "never",
                              fmt(kv, " s", 1) if kv is not None else "never"),
                          "met": met})
            mb, kb = m["migrated_bytes_mover_counters"], k["migrated_bytes_mover_counters"]
            g.append({"goal": "fewer migrated bytes than the kernel (%s)" % pat, "value": [mb, kb],
                      "measured": "memview %.0f MiB, kernel %.0f MiB" % (mb / (1 << 20), kb / (1 << 20)),
                      "met": mb < kb})
    o = res["overhead"].get("memview")
    # The run-to-run spread of the "off" runs: an overhead smaller than it
    # cannot be told from noise.
    spread = None
    if o and len(o["off"]["ops_per_s"]) >= 2 and o["off"]["median_ops_per_s"]:
        xs = o["off"]["ops_per_s"]
        spread = (max(xs) - min(xs)) / o["off"]["median_ops_per_s"]
        o["off_spread"] = spread
    for key, label in (("overhead", "sampler + placer overhead <= 2% of throughput (default settings)"),
                       ("scan_overhead", "(diagnostic) sampling alone <= 2% of throughput"),
                       ("budget_overhead", "(diagnostic) with a budget of the workload's size "
                        "(idle cold set demoted) <= 2% of throughput")):
        if not o or o.get(key) is None:
            continue
        v = o[key]
        met = v <= GOALS["overhead_max"]
        measured = pct(v)
        inconclusive = False
        if spread is not None and spread > GOALS["overhead_max"] and abs(v) < spread:
            inconclusive = True
            measured += " (off runs spread %s)" % pct(spread)
        g.append({"goal": label, "value": v, "target": GOALS["overhead_max"], "measured": measured,
                  "met": None if inconclusive else met, "inconclusive": inconclusive})
    return g


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: report.py OUTDIR")
    out = sys.argv[1]
    data = os.path.join(out, "data")
    if not os.path.isdir(data):
        sys.exit("report: %s has no data/ (the guest did not run the benchmarks)" % out)
    params = kv_file(os.path.join(data, "params.txt"))
    patterns = str(params.get("patterns", "uniform zipfian")).split()
    # params.txt has "patterns=uniform zipfian": kv_line split it; read it again
    with open(os.path.join(data, "params.txt")) as f:
        for line in f:
            if line.startswith("patterns="):
                patterns = line.split("=", 1)[1].split(" sample_ms")[0].split()
    clk = params.get("clk_tck", 100)
    mig = migration(data)
    place = []
    for pat in patterns:
        for name in ("firsttouch", "kernel", "memview", "memview-tuned"):
            place.append(placement_one(data, name, pat, params.get("duration"), params))
    res = {
        "params": params, "patterns": patterns,
        "migration": mig,
        "placement": [p for p in place if p],
        "overhead": overhead(data, clk, params.get("size", 0) / (1 << 30)),
    }
    res["evacuation"] = evacuation(data, mig)
    errs = os.path.join(data, "errors.txt")
    res["errors"] = [l.strip() for l in open(errs)] if os.path.exists(errs) else []
    fails = os.path.join(out, "failures")
    res["vm_failures"] = [l.strip() for l in open(fails) if l.strip()] if os.path.exists(fails) else []
    res["goals"] = goals(res)
    res["plots"] = plots(out, mig, res["placement"], patterns, params.get("budget", 0)) + plot_overhead(out, res["overhead"])
    summary(out, res)
    for p in res["placement"]:
        p["series_file"] = "plot-data/place-%s-%s.dat" % (p["system"], p["pattern"])
        del p["rows"]
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=2, sort_keys=True)
        f.write("\n")
    print("report: %s/results.json, summary.md, %s" % (out, ", ".join(res["plots"])))


if __name__ == "__main__":
    main()
