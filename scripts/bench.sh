#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: install what is missing, build, boot one guest and run every
# benchmark of bench/ for memview and its baselines in that one boot
# (bench/bench-guest.sh), then make results.json, the PNG plots and
# summary.md on the host (bench/report.py, gnuplot).  Documentation/bench.rst.
#
# usage: scripts/bench.sh [--kernel 6.12|6.1|7.3|KVER] [--quick] [--no-setup]
#                         [--report-only DIR]
#
# Output: build/bench/<kver>-<date>/ (and build/bench/latest -> it):
#   results.json  summary.md  *.png  data/ (what the guest measured)
#   guest.log, serial.log, dmesg ... (scripts/vm.sh)
#
# Sizes and durations come from BENCH_* variables, passed into the guest
# (defaults in bench/bench-guest.sh): BENCH_SIZE (64M), BENCH_BUDGET (32M),
# BENCH_HOT_FRACTION (0.25), BENCH_DURATION (120 s per placement run),
# BENCH_PATTERNS ("uniform zipfian"), BENCH_SAMPLE_MS (250),
# BENCH_MIG_SIZE (4M), BENCH_MIG_BATCHES (4K,64K,512K,2M), BENCH_MIG_REPS
# (3), BENCH_MIG_CALLS (256), BENCH_OVH_DURATION (8), BENCH_OVH_REPS (3),
# BENCH_EVAC (1), BENCH_EVAC_SIZE (32M), BENCH_MEMVIEW_TUNED (empty; policy
# options: a second memview placement run with them),
# BENCH_HOG_MARGIN (256K), BENCH_PHASES ("memview kernel"; "kernel-placement":
# only the first-touch and kernel placement runs; "memview-placement": only
# memview's placement runs).  --quick shrinks them for
# a smoke run (a few minutes).
#
# The guest has a budget node (scripts/vm.sh MEMVIEW_VM_NUMA_NODE1, default
# BENCH_BUDGET rounded up to 2 MiB + 96 MiB) on which the first-touch and
# kernel-tiering runs hold the workload's DRAM to BENCH_BUDGET.
# The benchmarks assert nothing: the exit status is 0 when the guest ran
# and the report was written, whatever the figures.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$MEMVIEW_ROOT"
kernel=6.12 setup=1 report_only=''
while (($#)); do
	case $1 in
	--kernel) kernel=${2:?--kernel needs a value}; shift ;;
	--kernel=*) kernel=${1#*=} ;;
	--quick)
		export BENCH_SIZE=${BENCH_SIZE:-32M} BENCH_BUDGET=${BENCH_BUDGET:-16M}
		export BENCH_DURATION=${BENCH_DURATION:-20} BENCH_PATTERNS=${BENCH_PATTERNS:-uniform}
		export BENCH_MIG_SIZE=${BENCH_MIG_SIZE:-2M} BENCH_MIG_REPS=${BENCH_MIG_REPS:-1}
		export BENCH_MIG_CALLS=${BENCH_MIG_CALLS:-64} BENCH_EVAC_SIZE=${BENCH_EVAC_SIZE:-4M}
		export BENCH_OVH_DURATION=${BENCH_OVH_DURATION:-5} BENCH_OVH_REPS=${BENCH_OVH_REPS:-1}
		;;
	--no-setup) setup=0 ;;
	--report-only) report_only=${2:?--report-only needs a directory}; shift ;;
	-h | --help)
		sed -n '3,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done

if [[ -n $report_only ]]; then
	exec python3 bench/report.py "$report_only"
fi

if ((setup)); then
	scripts/setup-host.sh
fi
kver=$(memview_kernel_of "$kernel")
command -v gnuplot >/dev/null || die "gnuplot not found: run scripts/setup-host.sh"
scripts/build.sh "$kver"
make -C bench

out=$MEMVIEW_ROOT/build/bench/$kver-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
ln -sfn "${out##*/}" "$MEMVIEW_ROOT/build/bench/latest"

envs=''
for v in $(compgen -v BENCH_); do
	envs+="$v=$(printf '%q' "${!v}") "
done
# The budget node (scripts/vm.sh MEMVIEW_VM_NUMA_NODE1): the DRAM budget,
# rounded up to 2 MiB, + 96 MiB, as the kernel's early (top-down) boot
# allocations land on it, the highest RAM; bench-guest.sh locks what the
# workload must not have there (mv-hog, Documentation/bench.rst).
budget_b=$(numfmt --from=iec "${BENCH_BUDGET:-32M}")
node1=${MEMVIEW_VM_NUMA_NODE1:-$((((budget_b + (2 << 20) - 1) >> 21 << 1) + 96))M}
log "booting $kver for the benchmarks (about 30 minutes under TCG); output in $out"
vm_rc=0
MEMVIEW_VM_TIMEOUT=${MEMVIEW_VM_TIMEOUT:-3000} MEMVIEW_VM_NUMA=1 MEMVIEW_VM_NUMA_NODE1=$node1 \
	scripts/vm.sh "$kver" "${envs}scripts/guest-run.sh bench/bench-guest.sh" "$out" || vm_rc=$?
((vm_rc == 0)) || log "the guest run reported problems (see $out/failures); reporting what was measured"
python3 bench/report.py "$out"
log "results: $out/summary.md"
