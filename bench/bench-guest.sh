#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs INSIDE the benchmark guest (scripts/bench.sh: vm.sh -> guest-run.sh ->
# here; cwd = repository, MEMVIEW_* from scripts/guest-setup.sh).  One boot,
# phases in this order (Documentation/bench.rst):
#
#   memview on the CXL pmem region (memview.ko, memviewctl add-region):
#     1. migration throughput, memview DEMOTE/PROMOTE      mig-memview.txt
#     3. overhead: mv-workload alone vs under memview      overhead.txt
#     2. placement under memview with a DRAM budget        place-memview-*.txt
#     4. evacuation of a full slice                        evac.txt
#   the same CXL region as a lower-tier NUMA node (devdax -> kmem):
#     1. migration throughput, move_pages(2), memcpy and a 64-bit copy loop
#                                                          mig-{move_pages,memcpy,wordcopy}.txt
#     3. overhead: numa_balancing=0 vs 2                   overhead.txt
#     2. placement with first touch, then with the kernel's tiering, the
#        workload's DRAM held to the budget on the budget node (below)
#                                                          place-{firsttouch,kernel}-*.txt
#
# The budget node: the guest is booted with a small second DRAM node with
# CPU 1 (scripts/bench.sh: MEMVIEW_VM_NUMA_NODE1).  Every placement run
# puts the workload on that node's CPU; the first-touch and kernel runs
# also bind its memory to that node and the CXL node, after mv-hog has
# locked the node's memory beyond the budget and the kernel's watermarks.
#
# Raw data goes to $MEMVIEW_OUT/data/; the host (bench/report.py) makes
# results.json, the plots and summary.md from it.  A phase that fails is
# written down in data/errors.txt and the others still run.
set -uo pipefail

# The whole script is one compound command, read before it runs: editing
# this file on the host while a run is going does not break the run.
{

# With a budget node (below), everything here and every child prefers node
# 0's memory, so that the budget node holds only what the workload puts
# there; the placement runs set the workload's own policy.
if [[ -z ${BENCH_MEMPOLICY_SET:-} && -e /sys/devices/system/node/node1/cpulist ]] &&
	[[ -n $(cat /sys/devices/system/node/node1/cpulist) ]] && command -v numactl >/dev/null; then
	BENCH_MEMPOLICY_SET=1 exec numactl --preferred=0 -- "$0" "$@"
fi

D=$MEMVIEW_OUT/data
mkdir -p "$D"
: >"$D/errors.txt"
exec > >(tee -a "$D/guest-bench.log") 2>&1

MEMVIEWCTL=tools/memviewctl/memviewctl
WL=tools/workload/mv-workload
MIG=bench/mv-migbench
RES=bench/mv-residency
HOG=bench/mv-hog
KO=${MEMVIEW_KO:-build/$(uname -r)/memview.ko}

SIZE=${BENCH_SIZE:-64M}
BUDGET=${BENCH_BUDGET:-32M}
HOT=${BENCH_HOT_FRACTION:-0.25}
DURATION=${BENCH_DURATION:-120}
PATTERNS=${BENCH_PATTERNS:-uniform zipfian}
SAMPLE_MS=${BENCH_SAMPLE_MS:-250}
MIG_SIZE=${BENCH_MIG_SIZE:-4M}
MIG_BATCHES=${BENCH_MIG_BATCHES:-4K,64K,512K,2M}
MIG_REPS=${BENCH_MIG_REPS:-3}
MIG_CALLS=${BENCH_MIG_CALLS:-256}
OVH_DURATION=${BENCH_OVH_DURATION:-8}
OVH_REPS=${BENCH_OVH_REPS:-3}
# "memview kernel": phase A, phase B (for debugging one of them alone);
# "kernel-placement": phase B's first-touch and kernel placement runs only
PHASES=${BENCH_PHASES:-memview kernel}
EVAC=${BENCH_EVAC:-1}
# Free budget-node memory the hog leaves beyond the budget and the low
# watermark: room for the workload's page tables (one per THP, Documentation/bench.rst).
HOG_MARGIN=${BENCH_HOG_MARGIN:-256K}
EVAC_SIZE=${BENCH_EVAC_SIZE:-32M}
# A second memview placement run with these policy options ("" = none).
TUNED=${BENCH_MEMVIEW_TUNED:-}

say() { printf '[bench %s] %s\n' "$(date +%T)" "$*"; }
err() {
	say "ERROR: $*"
	printf '%s\n' "$*" >>"$D/errors.txt"
}
bytes() { numfmt --from=iec "${1%B}"; }

CLK_TCK=$(getconf CLK_TCK)
SIZE_B=$(bytes "$SIZE")
BUDGET_B=$(bytes "$BUDGET")
HOG_MARGIN_B=$(bytes "$HOG_MARGIN")

{
	echo "kernel=$(uname -r)"
	echo "size=$SIZE_B budget=$BUDGET_B hot_fraction=$HOT duration=$DURATION"
	echo "patterns=$PATTERNS sample_ms=$SAMPLE_MS"
	echo "mig_size=$(bytes "$MIG_SIZE") mig_batches=$MIG_BATCHES mig_reps=$MIG_REPS mig_calls=$MIG_CALLS"
	echo "ovh_duration=$OVH_DURATION ovh_reps=$OVH_REPS evac_size=$(bytes "$EVAC_SIZE")"
	echo "memview_tuned=${TUNED// /_}"
	echo "cxl_range=${MEMVIEW_CXL_RANGE:-}"
	echo "cpus=$(nproc) clk_tck=$CLK_TCK"
} >"$D/params.txt"
cp /proc/meminfo "$D/meminfo-start.txt"

# The budget node: a node other than 0 with CPUs (scripts/vm.sh
# MEMVIEW_VM_NUMA_NODE1); empty when the guest has none.
BNODE=''
for n in /sys/devices/system/node/node[1-9]*; do
	if [[ -n $(cat "$n/cpulist" 2>/dev/null) ]]; then
		BNODE=${n##*/node}
		break
	fi
done
# Every placement run's workload runs on the budget node's CPUs.
WL_CPUS=()
[[ -z $BNODE ]] || WL_CPUS=(numactl "--cpunodebind=$BNODE")
echo "budget_node=$BNODE budget_node_cpus=$(cat "/sys/devices/system/node/node$BNODE/cpulist" 2>/dev/null)" >>"$D/params.txt"

cold_range() { # 0xSTART:0xSIZE -> START:SIZE as mv-residency wants it
	printf '%d:%d' "${MEMVIEW_CXL_RANGE%%:*}" "${MEMVIEW_CXL_RANGE#*:}"
}
COLD=$(cold_range)

# --- helpers -----------------------------------------------------------------

# Wait for the "pid=" line of mv-workload in file $1; print it.
wl_line() {
	local i
	for ((i = 0; i < 1200; i++)); do
		if [[ $(head -n 1 "$1" 2>/dev/null) == pid=* ]]; then
			head -n 1 "$1"
			return 0
		fi
		sleep 0.1
	done
	return 1
}
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }

memviewd_ticks() {
	local pid
	pid=$(pgrep -x memviewd | head -n 1)
	[[ -n $pid ]] || { echo 0; return; }
	awk '{print $14 + $15}' "/proc/$pid/stat"
}
kswapd_ticks() {
	local t=0 p
	for p in $(pgrep -x 'kswapd[0-9]*'); do
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo "$t"
}
mv_stat() { # key -> total since load (memviewctl stats)
	"$MEMVIEWCTL" stats --json | jq -r ".$1"
}
vmstat_sum() { # regex over /proc/vmstat names
	awk -v re="$1" '$1 ~ re {s += $2} END {print s + 0}' /proc/vmstat
}
node_free_kb() { # NODE
	awk '/MemFree/ {print $4}' "/sys/devices/system/node/node$1/meminfo"
}

# Every second while PID lives: the budget node's free memory, the
# workload's anonymous pages per node (/proc/WLPID/numa_maps, the mappings
# with anon=; WLPID is the pid= of WL_OUT's first line once it is there,
# PID before: with a numactl prefix that is the workload already)
# and the migration counters of /proc/vmstat, one line of key=value:
#   t=S free_kb=KB wl=NODE:PAGES,... pgdemote=N pgpromote=N
#   promote_candidate=N hint_faults=N
# (bench/report.py: the workload's DRAM on each node, against the budget).
node_watch() { # PID WL_OUT FILE
	local run_pid=$1 wl_out=$2 out=$3 pid=$1 t0 wl l
	t0=$(date +%s.%N)
	: >"$out"
	while kill -0 "$run_pid" 2>/dev/null; do
		l=$(head -n 1 "$wl_out" 2>/dev/null)
		[[ $l != pid=* ]] || pid=$(field pid "$l")
		wl=$(awk '/ anon=/ {for (i = 2; i <= NF; i++) if ($i ~ /^N[0-9]+=/) {split(substr($i, 2), a, "="); s[a[1]] += a[2]}}
			END {for (n in s) printf "%s%s:%d", (k++ ? "," : ""), n, s[n]}' "/proc/$pid/numa_maps" 2>/dev/null)
		printf 't=%s free_kb=%s wl=%s pgdemote=%s pgpromote=%s promote_candidate=%s hint_faults=%s\n' \
			"$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}')" \
			"$(node_free_kb "$BNODE")" "${wl:-none}" "$(vmstat_sum '^pgdemote_')" \
			"$(vmstat_sum '^pgpromote_success$')" "$(vmstat_sum '^pgpromote_candidate$')" \
			"$(vmstat_sum '^numa_hint_faults$')" >>"$out"
		sleep 1
	done
}

# One mv-workload run with residency sampling.
# usage: place_run NAME PATTERN [prefix command...]
place_run() {
	local name=$1 pattern=$2 wl_out res_out line pid addr len hot rc
	local d0 p0 mvd0 mvp0 mvpp0 mvr0 mvt0 ks0 t0 t1
	shift 2
	wl_out=$D/place-$name-$pattern.wl
	res_out=$D/place-$name-$pattern.txt
	say "placement: $name, $pattern, ${DURATION}s"
	d0=$(vmstat_sum '^pgdemote_') p0=$(vmstat_sum '^pgpromote_success$')
	ks0=$(kswapd_ticks)
	if [[ -e /dev/memview ]]; then
		mvd0=$(mv_stat demotions) mvp0=$(mv_stat promotions)
		mvpp0=$(mv_stat pingpongs) mvr0=$(mv_stat rounds)
		mvt0=$(memviewd_ticks)
	fi
	# The sampler first: it waits for the workload's first line itself.
	: >"$wl_out"
	nice -n -10 "$RES" --wl-out "$wl_out" --cold "$COLD" --interval "$SAMPLE_MS" \
		>"$res_out" 2>"$res_out.err" &
	local res_pid=$!
	t0=$(date +%s.%N)
	"$@" "$WL" --size "$SIZE" --hot-fraction "$HOT" --access "$pattern" \
		--duration "$DURATION" --shift-after "$(awk -v d="$DURATION" 'BEGIN{print d/2}')" \
		--verify-interval 0 --seed 7 >"$wl_out" 2>&1 &
	local run_pid=$! watch_pid=''
	# With a numactl prefix the workload is run_pid (numactl execs it).
	if [[ -n $BNODE ]]; then
		node_watch "$run_pid" "$wl_out" "$D/place-$name-$pattern.nodes" &
		watch_pid=$!
	fi
	if ! line=$(wl_line "$wl_out"); then
		err "placement $name $pattern: no pid line: $(head -c 300 "$wl_out")"
		kill "$run_pid" "$res_pid" 2>/dev/null
		wait "$run_pid" "$res_pid" $watch_pid
		return 1
	fi
	t1=$(date +%s.%N)
	rc=0
	wait "$run_pid" || rc=$?
	wait "$res_pid" $watch_pid
	{
		echo "name=$name pattern=$pattern rc=$rc fill_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')"
		echo "pgdemote=$(($(vmstat_sum '^pgdemote_') - d0)) pgpromote=$(($(vmstat_sum '^pgpromote_success$') - p0))"
		echo "kswapd_ticks=$(($(kswapd_ticks) - ks0))"
		if [[ -n ${mvd0:-} ]]; then
			echo "mv_demotions=$(($(mv_stat demotions) - mvd0)) mv_promotions=$(($(mv_stat promotions) - mvp0)) mv_pingpongs=$(($(mv_stat pingpongs) - mvpp0)) mv_rounds=$(($(mv_stat rounds) - mvr0)) memviewd_ticks=$(($(memviewd_ticks) - mvt0))"
		fi
		grep -E '^(result|shifted)' "$wl_out"
	} >"$D/place-$name-$pattern.meta"
	((rc == 0)) || err "placement $name $pattern: workload exited $rc: $(tail -n 2 "$wl_out")"
}

# Workload throughput alone, for the overhead ratio.
# usage: ovh_run SYSTEM STATE REP [prefix command...]
ovh_run() {
	local sys=$1 state=$2 rep=$3 out=$D/ovh-$1-$2-$3.wl t0 k0 r0 s0 ps0 ks0 rc=0
	shift 3
	say "overhead: $sys $state rep $rep (${OVH_DURATION}s)"
	t0=$(memviewd_ticks) k0=$(kswapd_ticks)
	if [[ -e /dev/memview ]]; then
		r0=$(mv_stat rounds) s0=$(mv_stat scan_ns) ps0=$(mv_stat pages_scanned)
	fi
	local w0 w1
	w0=$(date +%s%N)
	"$@" "$WL" --size "$SIZE" --hot-fraction "$HOT" --duration "$OVH_DURATION" \
		--verify-interval 0 >"$out" 2>&1 || rc=$?
	w1=$(date +%s%N)
	local line passes
	line=$(grep '^result=' "$out")
	passes=$(field passes "$line")
	{
		printf 'system=%s state=%s rep=%s rc=%s duration=%s wall_ns=%s passes=%s memviewd_ticks=%s kswapd_ticks=%s' \
			"$sys" "$state" "$rep" "$rc" "$OVH_DURATION" "$((w1 - w0))" "${passes:-0}" \
			"$(($(memviewd_ticks) - t0))" "$(($(kswapd_ticks) - k0))"
		if [[ -n ${r0:-} ]]; then
			printf ' rounds=%s scan_ns=%s pages_scanned=%s' \
				"$(($(mv_stat rounds) - r0))" "$(($(mv_stat scan_ns) - s0))" \
				"$(($(mv_stat pages_scanned) - ps0))"
		fi
		printf '\n'
	} >>"$D/overhead.txt"
	((rc == 0)) || err "overhead $sys $state $rep: workload exited $rc"
}

# --- phase A: memview on the CXL region --------------------------------------

phase_memview() {
	say "phase A: memview on CXL region ${MEMVIEW_CXL_REGION:-?} ($MEMVIEW_CXL_RANGE)"
	insmod "$KO" || { err "insmod failed"; return 1; }
	"$MEMVIEWCTL" add-region --cxl "$MEMVIEW_CXL_REGION" --force >/dev/null ||
		{ err "add-region failed"; return 1; }
	"$MEMVIEWCTL" get-policy --json >"$D/memview-policy.json"
	"$MEMVIEWCTL" list -S -v --json >"$D/memview-slices-start.json"

	local placement_only=0 rep
	[[ " $PHASES " == *" memview-placement "* ]] && placement_only=1
	if ((!placement_only)); then
		say "1. migration throughput: memview"
		"$MIG" --mode memview --size "$MIG_SIZE" --batches "$MIG_BATCHES" \
			--reps "$MIG_REPS" --max-calls "$MIG_CALLS" >"$D/mig-memview.txt" ||
			err "mv-migbench memview failed"

		for ((rep = 1; rep <= OVH_REPS; rep++)); do
			ovh_run memview off "$rep"
			# No budget: nothing is demoted, the cost of sampling and
			# placing.
			ovh_run memview on "$rep" "$MEMVIEWCTL" run --
			# A budget of the buffer's size: nothing is over it, but
			# the idle cold set is demoted -- the cost of moving it.
			ovh_run memview budget "$rep" "$MEMVIEWCTL" run --budget "$SIZE" --
			restore_policy
		done
	fi

	local p
	for p in $PATTERNS; do
		place_run memview "$p" "${WL_CPUS[@]}" "$MEMVIEWCTL" run --budget "$BUDGET" --
		if [[ -n $TUNED ]]; then
			# shellcheck disable=SC2086 # options, split on purpose
			place_run memview-tuned "$p" "${WL_CPUS[@]}" "$MEMVIEWCTL" run --budget "$BUDGET" $TUNED --
			restore_policy
		fi
	done
	"$MEMVIEWCTL" stats --json >"$D/memview-stats-end.json"

	((EVAC && !placement_only)) && evacuation
	"$MEMVIEWCTL" remove-region --all >/dev/null || err "remove-region failed"
	rmmod memview || err "rmmod memview failed"
}

# Back to the policy memview had at the start (memview-policy.json).
restore_policy() {
	local j=$D/memview-policy.json
	"$MEMVIEWCTL" set-policy --scan-interval "$(jq .scan_interval_ms "$j")" \
		--hot-rounds "$(jq .hot_rounds "$j")" --cold-rounds "$(jq .cold_rounds "$j")" \
		--hysteresis "$(jq .hysteresis_rounds "$j")" \
		--pingpong-rounds "$(jq .pingpong_rounds "$j")" \
		--promote-rate "$(jq .promote_rate_mbps "$j")" \
		--demote-rate "$(jq .demote_rate_mbps "$j")" \
		--pages-per-round "$(jq .pages_per_round "$j")" \
		--max-scan-us "$(jq .max_scan_us "$j")" >/dev/null ||
		err "restoring the memview policy failed"
}

# 4. Put EVAC_SIZE of a workload's pages into one slice (the other fenced
# meanwhile), then fence it and time the evacuation.  Under TCG a full
# 256 MiB slice takes many minutes; the report extrapolates from the rate.
evacuation() {
	say "4. evacuation of a full slice"
	local slices n a b total wl_out=$D/evac.wl line pid addr len run_pid
	slices=$("$MEMVIEWCTL" list -S -v --json)
	n=$(jq length <<<"$slices")
	if ((n < 2)); then
		err "evacuation: needs 2 slices, have $n"
		return 1
	fi
	a=$(jq '.[0].id' <<<"$slices") b=$(jq '.[1].id' <<<"$slices")
	total=$(jq '.[0].total_pages' <<<"$slices")
	"$MEMVIEWCTL" fence-slice "$b" --wait >/dev/null || { err "fence $b failed"; return 1; }
	local want
	want=$(bytes "$EVAC_SIZE")
	((want <= total * 4096)) || want=$((total * 4096))
	"$MEMVIEWCTL" run --manual -- "$WL" --size "$want" --hot-fraction 0 \
		--verify-interval 0 --pause 200 >"$wl_out" 2>&1 &
	run_pid=$!
	line=$(wl_line "$wl_out") || { err "evacuation: no workload"; return 1; }
	pid=$(field pid "$line") addr=$(field addr "$line") len=$(field len "$line")
	"$MEMVIEWCTL" demote "$pid" "$addr" "$len" --json >"$D/evac-demote.json"
	"$MEMVIEWCTL" unfence-slice "$b" >/dev/null || err "unfence $b failed"
	local used t0 t1
	used=$("$MEMVIEWCTL" list -S -v --json | jq ".[] | select(.id == $a) | .used_pages")
	t0=$(date +%s%N)
	"$MEMVIEWCTL" fence-slice "$a" --wait >/dev/null || err "fence $a failed"
	t1=$(date +%s%N)
	"$MEMVIEWCTL" list -S -v --json >"$D/evac-slices.json"
	kill -TERM "$pid"
	local rc=0
	wait "$run_pid" || rc=$?
	echo "slice=$a total_pages=$total used_pages=$used wall_ns=$((t1 - t0)) workload_rc=$rc $(grep '^result=' "$wl_out")" >"$D/evac.txt"
	((rc == 0)) || err "evacuation: workload exited $rc (data check)"
	"$MEMVIEWCTL" unfence-slice "$a" >/dev/null || true
}

# --- phase B: the CXL region as a kmem NUMA node ------------------------------

CXL_NODE=''
make_kmem_node() {
	local ndr nmem json dax
	ndr=$(ndctl list -b CXL -R | jq -r 'if type == "array" then .[0].dev else .dev end')
	nmem=$(ndctl list -b CXL -D | jq -r 'if type == "array" then .[0].dev else .dev end')
	[[ -n $ndr && $ndr != null && -n $nmem && $nmem != null ]] ||
		{ err "kmem: no CXL nd region/nmem"; return 1; }
	say "kmem: ndctl disable-region $ndr; init-labels $nmem; enable-region; create-namespace -m devdax"
	ndctl disable-region "$ndr" >/dev/null &&
		ndctl init-labels -f "$nmem" >/dev/null &&
		ndctl enable-region "$ndr" >/dev/null || { err "kmem: label init failed"; return 1; }
	json=$(ndctl create-namespace -m devdax -r "$ndr") ||
		{ err "kmem: create-namespace failed"; return 1; }
	echo "$json" >"$D/kmem-namespace.json"
	dax=$(jq -r '.daxregion.devices[0].chardev' <<<"$json")
	say "kmem: daxctl reconfigure-device --mode=system-ram $dax"
	daxctl reconfigure-device --mode=system-ram "$dax" >"$D/kmem-dax.json" ||
		{ err "kmem: daxctl reconfigure-device failed"; return 1; }
	CXL_NODE=$(jq -r 'if type == "array" then .[0].target_node else .target_node end' "$D/kmem-dax.json")
	if [[ -z $CXL_NODE || $CXL_NODE == null ]]; then
		err "kmem: no target node"
		return 1
	fi
	say "kmem: the CXL region is node $CXL_NODE"
	numactl -H >"$D/numactl-H.txt" 2>&1
	if ((CXL_NODE == 0)); then
		err "kmem: the CXL memory joined node 0 (no SRAT? scripts/vm.sh needs MEMVIEW_VM_NUMA=1)"
		return 1
	fi
	for t in /sys/devices/virtual/memory_tiering/memory_tier*; do
		[[ -e $t/nodelist ]] && echo "${t##*/} $(<"$t/nodelist")"
	done >"$D/memory-tiers.txt"
	echo "cxl_node=$CXL_NODE" >>"$D/params.txt"
}

tiering() { # on|off
	if [[ $1 == on ]]; then
		echo 1 >/sys/kernel/mm/numa/demotion_enabled
		sysctl -q kernel.numa_balancing=2 || err "sysctl kernel.numa_balancing=2 failed"
	else
		echo 0 >/sys/kernel/mm/numa/demotion_enabled
		sysctl -q kernel.numa_balancing=0
	fi
}

HOG_PID=''
# Lock the budget node's memory (mv-hog) until BUDGET + the node's low
# watermark + HOG_MARGIN are free.  A bound first-touch allocation takes
# the node down to its low watermark before it falls back to the CXL node,
# so the fill gets BUDGET (+ HOG_MARGIN, less the page tables); with
# numa_balancing=2 kswapd then demotes until the node is above its
# promotion watermark (low + twice the low-high gap): the kernel keeps
# that much less (about 1.5 MiB here) as its own headroom.  Everything else of the guest
# prefers node 0 (the top of this script), so the hog only ever meets the
# workload and a few kernel threads of its CPU there (Documentation/bench.rst).
# Free pages on the budget node's per-CPU lists, which MemFree does not count.
pcp_pages() {
	awk -v n="$BNODE" '$1 == "Node" {z = ($2 == n ",")} z && $1 == "count:" {s += $2} END {print s + 0}' /proc/zoneinfo
}
hog_start() {
	local free_kb low_pages high_pages promo_pages target i p file_kb
	hog_stop
	# Pages of the guest's processes on the budget node (from before they
	# preferred node 0: boot, guest-setup) move to node 0, the rest of the
	# page cache is dropped: what is left there cannot be reclaimed under
	# the workload (kswapd reclaiming file pages would give it more than
	# the budget).
	for p in /proc/[0-9]*; do
		migratepages "${p#/proc/}" "$BNODE" 0 2>/dev/null
	done
	sync
	echo 3 >/proc/sys/vm/drop_caches
	# Wait (60 s at most) for the per-CPU lists to drain to 1 MiB (see
	# phase_kernel: vm.percpu_pagelist_high_fraction).
	for ((i = 0; i < 60 && $(pcp_pages) > 256; i++)); do
		sleep 1
	done
	free_kb=$(node_free_kb "$BNODE")
	# (no process substitution: the guest has no /dev/fd)
	# (the node's populated zones: unpopulated ones list watermarks too)
	read -r low_pages high_pages promo_pages <<<"$(awk -v n="$BNODE" '
		$1 == "Node" {z = ($2 == n ","); zl = zh = zp = 0}
		z && $1 == "low" {zl = $2} z && $1 == "high" {zh = $2} z && $1 == "promo" {zp = $2}
		z && $1 == "managed" && $2 > 0 {l += zl; h += zh; p += zp}
		END {print l + 0, h + 0, p + 0}' /proc/zoneinfo)"
	# File pages still there may be reclaimed under the workload: leave
	# that much less free.
	file_kb=$(awk '/Active\(file\)|Inactive\(file\)/ {s += $4} END {print s + 0}' "/sys/devices/system/node/node$BNODE/meminfo")
	target=$((BUDGET_B + low_pages * 4096 + HOG_MARGIN_B - file_kb * 1024))
	((target >= high_pages * 4096 + HOG_MARGIN_B)) || target=$((high_pages * 4096 + HOG_MARGIN_B))
	say "hog: node $BNODE free $((free_kb >> 10)) MiB, file pages $file_kb KiB, low/high/promo watermarks $((low_pages * 4))/$((high_pages * 4))/$((promo_pages * 4)) KiB -> lock until $((target >> 10)) KiB are free"
	if ((free_kb * 1024 < target)); then
		err "hog: node $BNODE has $((free_kb >> 10)) MiB free, less than the budget + watermarks ($((target >> 20)) MiB): scripts/bench.sh sizes it (MEMVIEW_VM_NUMA_NODE1)"
		return 1
	fi
	"$HOG" "$BNODE" "$target" >"$D/hog.txt" 2>&1 &
	HOG_PID=$!
	local i
	for ((i = 0; i < 1200; i++)); do
		grep -q '^hog ready' "$D/hog.txt" && break
		kill -0 "$HOG_PID" 2>/dev/null || break
		sleep 0.5
	done
	grep -q '^hog ready' "$D/hog.txt" || { err "hog failed: $(cat "$D/hog.txt")"; return 1; }
	{
		echo "node=$BNODE target_free=$target free_kb_before=$free_kb low_pages=$low_pages high_pages=$high_pages promo_pages=$promo_pages margin=$HOG_MARGIN_B pcp_wait_s=$i file_kb=$file_kb"
		echo "free_kb_after=$(node_free_kb "$BNODE") pcp_pages_after=$(pcp_pages)"
		awk -v n="$BNODE" '$1 == "Node" {z = ($2 == n ",")} z && $1 ~ /^(Node|min|low|high|promo)$/' /proc/zoneinfo | tr -s ' ' | paste -sd ' '
	} >>"$D/hog.txt"
	cat "$D/hog.txt" >>"$D/hog-all.txt"
	say "hog: $(head -n 1 "$D/hog.txt"), node $BNODE free $(node_free_kb "$BNODE") KiB"
}
hog_stop() {
	[[ -n $HOG_PID ]] || return 0
	kill "$HOG_PID" 2>/dev/null
	wait "$HOG_PID" 2>/dev/null
	HOG_PID=''
}

# One constrained placement run: the workload on the budget node's CPUs,
# its memory bound to the budget node and the CXL node; with the kernel's
# tiering also MPOL_F_NUMA_BALANCING (numactl --balancing), without which
# NUMA balancing never promotes a page of a bound policy that is on a node
# of the policy (mpol_misplaced()).
#
# QEMU's virtio-9p cannot transfer into or out of the emulated CXL memory
# (it is MMIO to QEMU: "virtio: bogus descriptor or out of resources", and
# the guest's 9p hangs for good), and a bound workload's page cache may land
# there: so everything it reads from the 9p root (the program, its
# libraries) is read into the page cache first, on node 0, after the hog's
# drop_caches.  Its output lines are short: 9p copies them (zero-copy only
# above 1 KiB).
# usage: bound_run firsttouch|kernel PATTERN
bound_run() {
	local name=$1 pattern=$2 bal=() f
	[[ $name == kernel ]] && bal=(--balancing)
	hog_start || return 1
	for f in "$WL" $(ldd "$WL" | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i}') /etc/ld.so.cache; do
		cat "$f" >/dev/null || err "preload $f failed"
	done
	[[ $name == kernel ]] && tiering on
	# (numactl wants --balancing before the policy it applies to)
	place_run "$name" "$pattern" numactl "${bal[@]}" "--cpunodebind=$BNODE" \
		"--membind=$BNODE,$CXL_NODE"
	tiering off
	hog_stop
}

phase_kernel() {
	say "phase B: the CXL region as a lower-tier node"
	make_kmem_node || return 1
	tiering off

	if [[ " $PHASES " != *" kernel-placement "* ]]; then
		say "1. migration throughput: move_pages, memcpy (node 0 <-> $CXL_NODE)"
		"$MIG" --mode move_pages --node "$CXL_NODE" --size "$MIG_SIZE" --batches "$MIG_BATCHES" \
			--reps "$MIG_REPS" --max-calls "$MIG_CALLS" >"$D/mig-move_pages.txt" ||
			err "mv-migbench move_pages failed"
		"$MIG" --mode memcpy --node "$CXL_NODE" --size "$MIG_SIZE" --batches "$MIG_BATCHES" \
			--reps "$MIG_REPS" --max-calls "$MIG_CALLS" >"$D/mig-memcpy.txt" ||
			err "mv-migbench memcpy failed"
		"$MIG" --mode wordcopy --node "$CXL_NODE" --size "$MIG_SIZE" --batches "$MIG_BATCHES" \
			--reps "$MIG_REPS" --max-calls "$MIG_CALLS" >"$D/mig-wordcopy.txt" ||
			err "mv-migbench wordcopy failed"

		local rep
		for ((rep = 1; rep <= OVH_REPS; rep++)); do
			tiering off
			ovh_run kernel off "$rep"
			tiering on
			ovh_run kernel on "$rep"
		done
		tiering off
	fi

	if [[ -z $BNODE ]]; then
		err "no budget node (a second DRAM node with a CPU: scripts/vm.sh MEMVIEW_VM_NUMA_NODE1): no first-touch or kernel placement runs"
		return 1
	fi
	{
		echo "# after kmem: numactl -H, memory tiers, demotion, fallback order"
		numactl -H
		grep -r . /sys/devices/virtual/memory_tiering/ 2>/dev/null
		dmesg | grep -E 'Fallback order|Demotion targets' | tail -n 8
		cat "/sys/devices/system/node/node$BNODE/meminfo"
	} >"$D/budget-node.txt" 2>&1
	# Per-CPU page lists hold free pages MemFree does not count, up to the
	# low watermark / the node's CPUs each (about 4 MiB on the budget node),
	# which the workload may get on top of what the hog left: keep them
	# small for these runs (1/100000 of the zone, at least 4 batches; they
	# shrink to it within seconds, hog_start waits) and put the setting back.
	# Watermark boosting (after a fallback to another migratetype's
	# pageblock, the zone's watermarks rise by up to 150 % of the high
	# one until kswapd has balanced it) would move the watermarks under
	# the hog's feet: seen on 6.1, the budget node's min watermark rose
	# from 2.9 to 5 MiB during a fill, above the free memory, and the OOM
	# killer took the hog (the workload's page tables cannot go to the
	# CXL node's movable memory).  Off for these runs, put back after.
	local p pcp_frac boost
	pcp_frac=$(sysctl -n vm.percpu_pagelist_high_fraction)
	sysctl -q vm.percpu_pagelist_high_fraction=100000 ||
		err "sysctl vm.percpu_pagelist_high_fraction failed"
	boost=$(sysctl -n vm.watermark_boost_factor)
	sysctl -q vm.watermark_boost_factor=0 ||
		err "sysctl vm.watermark_boost_factor failed"
	for p in $PATTERNS; do
		bound_run firsttouch "$p"
	done
	for p in $PATTERNS; do
		bound_run kernel "$p"
	done
	sysctl -q vm.percpu_pagelist_high_fraction="$pcp_frac"
	sysctl -q vm.watermark_boost_factor="$boost"
}

# Vitals every 5 s, to see what the guest was doing when a phase is slow:
# free memory per node, reclaim and migration counters, busy tasks.
vitals() {
	while :; do
		{
			printf '== %s\n' "$(date +%T)"
			grep -h MemFree /sys/devices/system/node/node*/meminfo
			grep -E '^(pgscan|pgsteal|workingset_refault|pgdemote|pgpromote|numa_hint|pgmigrate|compact_stall|allocstall)' /proc/vmstat | tr '\n' ' '
			echo
			ps -eo pid,stat,pcpu,comm --sort=-pcpu | head -n 6
		} >>"$D/vitals.txt" 2>&1
		sleep 5
	done
}
vitals &
VITALS_PID=$!
trap 'hog_stop; kill $VITALS_PID 2>/dev/null' EXIT
case " $PHASES " in *" memview "* | *" memview-placement "*) phase_memview ;; esac
case " $PHASES " in *" kernel "* | *" kernel-placement "*) phase_kernel ;; esac
cp /proc/vmstat "$D/vmstat-end.txt"
say "done; errors: $(wc -l <"$D/errors.txt")"
exit 0
}
