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
#     2. placement with first touch (placed with move_pages, see below), then
#        with the kernel's tiering, DRAM held to the budget by a locked hog
#                                                          place-{firsttouch,kernel}-*.txt
#
# Raw data goes to $MEMVIEW_OUT/data/; the host (bench/report.py) makes
# results.json, the plots and summary.md from it.  A phase that fails is
# written down in data/errors.txt and the others still run.
set -uo pipefail

# The whole script is one compound command, read before it runs: editing
# this file on the host while a run is going does not break the run.
{

D=$MEMVIEW_OUT/data
mkdir -p "$D"
: >"$D/errors.txt"
exec > >(tee -a "$D/guest-bench.log") 2>&1

MEMVIEWCTL=tools/memviewctl/memviewctl
WL=tools/workload/mv-workload
MIG=bench/mv-migbench
RES=bench/mv-residency
HOG=bench/mv-hog
PLACE=bench/mv-place
KO=${MEMVIEW_KO:-build/$(uname -r)/memview.ko}

SIZE=${BENCH_SIZE:-64M}
BUDGET=${BENCH_BUDGET:-32M}
HOT=${BENCH_HOT_FRACTION:-0.25}
DURATION=${BENCH_DURATION:-60}
PATTERNS=${BENCH_PATTERNS:-uniform zipfian}
SAMPLE_MS=${BENCH_SAMPLE_MS:-250}
MIG_SIZE=${BENCH_MIG_SIZE:-4M}
MIG_BATCHES=${BENCH_MIG_BATCHES:-4K,64K,512K,2M}
MIG_REPS=${BENCH_MIG_REPS:-3}
MIG_CALLS=${BENCH_MIG_CALLS:-256}
OVH_DURATION=${BENCH_OVH_DURATION:-8}
OVH_REPS=${BENCH_OVH_REPS:-3}
# "memview kernel": phase A, phase B (for debugging one of them alone)
EVAC=${BENCH_EVAC:-1}
# Free node-0 memory the hog leaves beyond the budget and the watermarks.
HOG_MARGIN=${BENCH_HOG_MARGIN:-0}
EVAC_SIZE=${BENCH_EVAC_SIZE:-32M}
# A second memview placement run with these policy options ("" = none).
TUNED=${BENCH_MEMVIEW_TUNED---hot-rounds 1 --cold-rounds 16}

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
	# The sampler first: it waits for the workload's first line itself
	# (and, with a PLACE_SETUP step, for that step to be done).
	: >"$wl_out"
	rm -f "$res_out.start"
	nice -n -10 "$RES" --wl-out "$wl_out" --cold "$COLD" --interval "$SAMPLE_MS" \
		${PLACE_SETUP:+--start-file "$res_out.start"} >"$res_out" 2>"$res_out.err" &
	local res_pid=$!
	t0=$(date +%s.%N)
	"$@" "$WL" --size "$SIZE" --hot-fraction "$HOT" --access "$pattern" \
		--duration "$DURATION" --shift-after "$(awk -v d="$DURATION" 'BEGIN{print d/2}')" \
		--verify-interval 0 --seed 7 >"$wl_out" 2>&1 &
	local run_pid=$!
	if ! line=$(wl_line "$wl_out"); then
		err "placement $name $pattern: no pid line: $(head -c 300 "$wl_out")"
		kill "$run_pid" "$res_pid" 2>/dev/null
		wait "$run_pid" "$res_pid"
		return 1
	fi
	t1=$(date +%s.%N)
	if [[ -n ${PLACE_SETUP:-} ]]; then
		"$PLACE_SETUP" "$(field pid "$line")" "$(field addr "$line")" "$(field len "$line")" ||
			err "placement $name $pattern: $PLACE_SETUP failed"
		: >"$res_out.start"
	fi
	rc=0
	wait "$run_pid" || rc=$?
	wait "$res_pid"
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

	say "1. migration throughput: memview"
	"$MIG" --mode memview --size "$MIG_SIZE" --batches "$MIG_BATCHES" \
		--reps "$MIG_REPS" --max-calls "$MIG_CALLS" >"$D/mig-memview.txt" ||
		err "mv-migbench memview failed"

	local rep
	for ((rep = 1; rep <= OVH_REPS; rep++)); do
		ovh_run memview off "$rep"
		# No budget: nothing is demoted, the cost of sampling and placing.
		ovh_run memview on "$rep" "$MEMVIEWCTL" run --
		# A budget of the buffer's size: nothing is over it, but the idle
		# cold set is demoted -- the cost of moving it as well.
		ovh_run memview budget "$rep" "$MEMVIEWCTL" run --budget "$SIZE" --
		restore_policy
	done

	local p
	for p in $PATTERNS; do
		place_run memview "$p" "$MEMVIEWCTL" run --budget "$BUDGET" --
		if [[ -n $TUNED ]]; then
			# shellcheck disable=SC2086 # options, split on purpose
			place_run memview-tuned "$p" "$MEMVIEWCTL" run --budget "$BUDGET" $TUNED --
			restore_policy
		fi
	done
	"$MEMVIEWCTL" stats --json >"$D/memview-stats-end.json"

	((EVAC)) && evacuation
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
# Lock node 0's memory until BUDGET + half way between the node's low and
# high watermarks + the DMA zone's free pages (user pages cannot use them)
# + HOG_MARGIN are free: the workload then finds about BUDGET before its
# allocations fall back to the CXL node (below the low watermark), and
# kswapd, which reclaims up to the high one, leaves it about as much
# (Documentation/bench.rst: why, and the limits).
hog_start() {
	local free_kb high_pages low_pages dma_free target
	sync
	echo 3 >/proc/sys/vm/drop_caches
	free_kb=$(awk '/MemFree/ {print $4}' /sys/devices/system/node/node0/meminfo)
	high_pages=$(awk '/^Node 0, zone/ {z=1} /^Node [1-9]/ {z=0} z && $1 == "high" {s += $2} END {print s + 0}' /proc/zoneinfo)
	low_pages=$(awk '/^Node 0, zone/ {z=1} /^Node [1-9]/ {z=0} z && $1 == "low" {s += $2} END {print s + 0}' /proc/zoneinfo)
	dma_free=$(awk '/^Node 0, zone +DMA$/ {z=1; next} /^Node/ {z=0} z && $1 == "pages" && $2 == "free" {print $3; exit}' /proc/zoneinfo)
	target=$((BUDGET_B + (low_pages + high_pages) * 2048 + ${dma_free:-0} * 4096 + HOG_MARGIN_B))
	say "hog: node 0 free $((free_kb >> 10)) MiB, low/high watermarks $((low_pages * 4 >> 10))/$((high_pages * 4 >> 10)) MiB -> lock until $((target >> 20)) MiB are free"
	"$HOG" 0 "$target" >"$D/hog.txt" 2>&1 &
	HOG_PID=$!
	local i
	for ((i = 0; i < 1200; i++)); do
		grep -q '^hog ready' "$D/hog.txt" && break
		kill -0 "$HOG_PID" 2>/dev/null || break
		sleep 0.5
	done
	grep -q '^hog ready' "$D/hog.txt" || { err "hog failed: $(cat "$D/hog.txt")"; return 1; }
	{
		echo "target_free=$target node0_free_kb_before=$free_kb low_pages=$low_pages high_pages=$high_pages dma_free_pages=${dma_free:-0} margin=$HOG_MARGIN_B"
		echo "node0_free_kb_after=$(awk '/MemFree/ {print $4}' /sys/devices/system/node/node0/meminfo)"
		grep -E '^Node 0, zone|^ +(min|low|high) ' /proc/zoneinfo | tr -s ' ' | paste -sd ' '
	} >>"$D/hog.txt"
	say "hog: $(head -n 1 "$D/hog.txt")"
}
hog_stop() {
	[[ -n $HOG_PID ]] || return 0
	kill "$HOG_PID" 2>/dev/null
	wait "$HOG_PID" 2>/dev/null
	HOG_PID=''
}

firsttouch_setup() { # PID ADDR LEN
	local out
	out=$("$PLACE" "$1" "$(($2 + BUDGET_B))" "$(($3 - BUDGET_B))" "$CXL_NODE")
	echo "firsttouch_setup $out" >>"$D/firsttouch.txt"
	say "first touch: moved the buffer beyond ${BUDGET} to node $CXL_NODE: $out"
}

phase_kernel() {
	say "phase B: the CXL region as a lower-tier node"
	make_kmem_node || return 1
	tiering off

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

	local rep p
	for ((rep = 1; rep <= OVH_REPS; rep++)); do
		tiering off
		ovh_run kernel off "$rep"
		tiering on
		ovh_run kernel on "$rep"
	done
	tiering off

	# First touch: what the kernel does with a budget-sized DRAM and no
	# tiering is to put the first BUDGET bytes the workload touches in DRAM
	# and the rest on the CXL node, and never move them.  Run under the hog
	# it livelocked the guest (kswapd, with nothing but the programs' page
	# cache to reclaim, Documentation/bench.rst), so that placement is made
	# directly: the buffer is filled in DRAM, then everything after its
	# first BUDGET bytes is moved to the CXL node (mv-place, move_pages)
	# before sampling starts.
	tiering off
	for p in $PATTERNS; do
		PLACE_SETUP=firsttouch_setup place_run firsttouch "$p"
	done
	hog_start || return 1
	for p in $PATTERNS; do
		tiering on
		place_run kernel "$p"
		tiering off
	done
	hog_stop
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
PHASES=${BENCH_PHASES:-memview kernel}
case " $PHASES " in *" memview "*) phase_memview ;; esac
case " $PHASES " in *" kernel "*) phase_kernel ;; esac
cp /proc/vmstat "$D/vmstat-end.txt"
say "done; errors: $(wc -l <"$D/errors.txt")"
exit 0
}
