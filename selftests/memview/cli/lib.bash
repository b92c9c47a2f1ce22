# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the memviewctl tests in this directory (sourced, not run: the
# runner runs the executable *.sh files only).  Like ndctl's test/common:
# exit 0 pass, 1 fail, 77 skip.
#
# Environment from the guest harness:
#   MEMVIEW_CXL_REGION  regionN            a committed CXL region
#   MEMVIEW_CXL_RANGE   0xSTART:0xSIZE     its host physical range
#   MEMVIEW_PMEM_NS     namespaceX.Y       a PMEM namespace, already disabled
#   MEMVIEW_PMEM_RANGE  0xSTART:0xSIZE     its range

MEMVIEWCTL=${MEMVIEWCTL:-tools/memviewctl/memviewctl}
MV_WORKLOAD=${MV_WORKLOAD:-tools/workload/mv-workload}
# shellcheck disable=SC2034 # used by the tests
SLICE_SIZE=$((256 << 20))
# shellcheck disable=SC2034 # the tests read the module's own
PAGE_SIZE=4096
T=${0##*/}
T=${T%.sh}

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/memview-cli.XXXXXX")
WL_PID='' RUN_PID='' SAVED_POLICY='' MON_PID=''

log() {
	printf '%s: %s\n' "$T" "$*" >&2
}

fail() {
	printf '%s: FAIL: %s\n' "$T" "$*" >&2
	exit 1
}

skip() {
	printf '%s: SKIP: %s\n' "$T" "$*" >&2
	exit 77
}

# memviewctl, logged to stderr
memviewctl() {
	log "memviewctl $*"
	"$MEMVIEWCTL" "$@"
}

# jq -e on a JSON document: jqe '<json>' '<filter>' [jq args...]
jqe() {
	local json=$1 filter=$2
	shift 2
	jq -e "$@" "$filter" <<<"$json" >/dev/null ||
		fail "jq '$filter' is false or null on: $json"
}

# expect_fail COMMAND... -- PATTERN...: COMMAND must fail and its output
# match every PATTERN (grep -E).  The last "--" splits, so COMMAND may have
# its own ("run -- cmd").  Sets OUT to the output and LAST_RC to the exit.
expect_fail() {
	local args=("$@") pats=() pat rc=0 i split=-1
	for ((i = 0; i < ${#args[@]}; i++)); do
		[[ ${args[i]} != -- ]] || split=$i
	done
	((split > 0)) || fail "expect_fail: no '--' before the patterns"
	pats=("${args[@]:split+1}")
	args=("${args[@]:0:split}")
	log "expect failure: ${args[*]}"
	# the binary itself: the logging wrapper's line must not match
	[[ ${args[0]} != memviewctl ]] || args[0]=$MEMVIEWCTL
	OUT=$("${args[@]}" 2>&1) || rc=$?
	((rc != 0)) || fail "'${args[*]}' succeeded; output: $OUT"
	for pat in "${pats[@]}"; do
		grep -qE -- "$pat" <<<"$OUT" ||
			fail "'${args[*]}' (exit $rc) does not say /$pat/: $OUT"
	done
	printf '%s\n' "$OUT" | sed "s/^/$T:   | /" >&2
	# shellcheck disable=SC2034 # for the caller
	LAST_RC=$rc
}

check_prereqs() {
	command -v jq >/dev/null || skip "jq is not installed"
	[[ -x $MEMVIEWCTL ]] || fail "$MEMVIEWCTL is not built (make -C tools/memviewctl)"
	[[ -e /dev/memview ]] || skip "/dev/memview is missing: the memview module is not loaded"
}

need_workload() {
	[[ -x $MV_WORKLOAD ]] || fail "$MV_WORKLOAD is not built (make -C tools/workload)"
}

# "0xSTART:0xSIZE" -> "START SIZE" in decimal
range_dec() {
	local start=${1%%:*} size=${1#*:}
	printf '%d %d\n' "$((start))" "$((size))"
}

# Add the region the harness gave us, CXL first, else the PMEM range; sets
# REGION_ID, REGION_START, REGION_SIZE.
add_any_region() {
	local json
	if [[ -n ${MEMVIEW_CXL_REGION:-} ]]; then
		json=$(memviewctl add-region --cxl "$MEMVIEW_CXL_REGION" --force --json) ||
			fail "add-region --cxl $MEMVIEW_CXL_REGION failed"
	elif [[ -n ${MEMVIEW_PMEM_RANGE:-} ]]; then
		json=$(memviewctl add-region --range "$MEMVIEW_PMEM_RANGE" --label cli-pmem --json) ||
			fail "add-region --range $MEMVIEW_PMEM_RANGE failed"
	else
		skip "neither MEMVIEW_CXL_REGION nor MEMVIEW_PMEM_RANGE is set"
	fi
	REGION_ID=$(jq -r .id <<<"$json")
	REGION_START=$(jq -r .resource <<<"$json")
	REGION_SIZE=$(jq -r .size <<<"$json")
	log "region $REGION_ID: $REGION_START+$REGION_SIZE"
}

# start_workload [RUN OPTIONS... --] BUDGET SIZE [mv-workload options]:
# mv-workload under "memviewctl run [RUN OPTIONS] --budget BUDGET" (e.g.
# --manual, for tests that move pages by hand and must not race the
# placer); sets RUN_PID (memviewctl), WL_PID, WL_ADDR, WL_LEN, WL_HOT_OFF,
# WL_HOT.
start_workload() {
	local budget size i n=0 line run_opts=() arg
	for arg in "$@"; do
		if [[ $arg == -- ]]; then
			run_opts=("${@:1:n}")
			shift $((n + 1))
			break
		fi
		n=$((n + 1))
	done
	budget=$1 size=$2
	shift 2
	need_workload
	: >"$TMPD/wl.out"
	log "memviewctl run ${run_opts[*]} --budget $budget -- mv-workload --size $size $*"
	"$MEMVIEWCTL" run "${run_opts[@]}" --budget "$budget" -- "$MV_WORKLOAD" --size "$size" \
		--verify-interval 0.5 "$@" >"$TMPD/wl.out" 2>"$TMPD/wl.err" &
	RUN_PID=$!
	for ((i = 0; i < 600; i++)); do
		line=$(head -n 1 "$TMPD/wl.out")
		[[ $line == pid=* ]] && break
		kill -0 "$RUN_PID" 2>/dev/null ||
			fail "the workload ended before it started: $(cat "$TMPD/wl.err" "$TMPD/wl.out")"
		sleep 0.1
	done
	[[ $line == pid=* ]] || fail "mv-workload printed no pid line"
	WL_PID=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$line")
	WL_ADDR=$(sed -n 's/.*addr=\(0x[0-9a-f]*\).*/\1/p' <<<"$line")
	WL_LEN=$(sed -n 's/.* len=\([0-9]*\).*/\1/p' <<<"$line")
	WL_HOT_OFF=$(sed -n 's/.*hot_off=\([0-9]*\).*/\1/p' <<<"$line")
	WL_HOT=$(sed -n 's/.*hot_len=\([0-9]*\).*/\1/p' <<<"$line")
	log "workload pid $WL_PID at $WL_ADDR, $WL_LEN bytes ($WL_HOT hot at +$WL_HOT_OFF), run pid $RUN_PID"
}

# Stop the workload with SIGTERM; memviewctl run must exit 0 and the
# workload must report that every checksum held.
stop_workload() {
	local rc=0
	[[ -n $RUN_PID ]] || return 0
	kill -TERM "$WL_PID" 2>/dev/null || true
	wait "$RUN_PID" || rc=$?
	RUN_PID='' WL_PID=''
	log "workload: $(tail -n 1 "$TMPD/wl.out")"
	((rc == 0)) || fail "memviewctl run exited $rc: $(cat "$TMPD/wl.err" "$TMPD/wl.out")"
	grep -q '^result=ok ' "$TMPD/wl.out" || fail "workload checksum failed: $(cat "$TMPD/wl.out")"
}

# residency PID -> the process's residency object from list -P -v
residency() {
	"$MEMVIEWCTL" list -P -v --json |
		jq -e --argjson p "$1" '.[] | select(.pid == $p) | .residency'
}

# stat_of [PID] KEY -> one counter of "memviewctl stats [PID]"
stat_of() {
	local key=${!#}
	"$MEMVIEWCTL" stats "${@:1:$#-1}" --json | jq -e ".$key"
}

# wait_stat [PID] KEY MIN: poll "memviewctl stats" until KEY >= MIN.  Fails
# when the placer has run WAIT_ROUNDS (default 300) rounds meanwhile, or
# when its round counter (pid 0) did not move for 60 s: bounds in rounds,
# and a liveness guard, not a time limit on the placer.
wait_stat() {
	local args=("${@:1:$#-2}") key=${*: -2:1} min=${!#} v rounds r0='' last=-1 still=0
	while :; do
		v=$(stat_of "${args[@]}" "$key") || fail "memviewctl stats ${args[*]} failed"
		((v >= min)) && return 0
		rounds=$(stat_of rounds) || fail "memviewctl stats failed"
		r0=${r0:-$rounds}
		((rounds - r0 < ${WAIT_ROUNDS:-300})) ||
			fail "stats ${args[*]}: $key is $v after $((rounds - r0)) placer rounds, want >= $min"
		if ((rounds == last)); then
			still=$((still + 1))
			((still < 600)) || fail "the placer's round counter stayed at $rounds for 60 s (waiting for $key >= $min, at $v)"
		else
			still=0 last=$rounds
		fi
		sleep 0.1
	done
}

# wait_rounds N: until the placer has run N more rounds
wait_rounds() {
	local r
	r=$(stat_of rounds) || fail "memviewctl stats failed"
	wait_stat rounds $((r + $1))
}

# Keep the global policy as it is now, to be set again at the end: for
# tests that change it.
save_policy() {
	SAVED_POLICY=$("$MEMVIEWCTL" get-policy --json) || fail "get-policy failed"
}

# policy_args JSON -> the set-policy options that give that policy
policy_args() {
	jq -r '"--scan-interval \(.scan_interval_ms) --pages-per-round \(.pages_per_round)
		--max-scan-us \(.max_scan_us) --hot-rounds \(.hot_rounds)
		--cold-rounds \(.cold_rounds) --hysteresis \(.hysteresis_rounds)
		--pingpong-rounds \(.pingpong_rounds) --promote-rate \(.promote_rate_mbps)
		--demote-rate \(.demote_rate_mbps) --sample-period \(.sample_period)
		--samplers \(if .samplers == [] then "none" else .samplers | join(",") end)
		\(if has("ce_threshold") then "--ce-threshold \(.ce_threshold) --ce-window \(.ce_window_ms)
		\(if .fence_on_ue then "--fence-on-ue" else "--no-fence-on-ue" end)
		\(if .fence_on_ce then "--fence-on-ce" else "--no-fence-on-ce" end)" else "" end)"' <<<"$1"
}

restore_policy() {
	[[ -n ${SAVED_POLICY:-} ]] || return 0
	# shellcheck disable=SC2046 # one option or value a word
	"$MEMVIEWCTL" set-policy $(policy_args "$SAVED_POLICY") --json >/dev/null
}

hexaddr() {
	printf '0x%x' "$1"
}

# --- fault isolation (Documentation/ras.rst) ------------------------------

# Skip unless the loaded module has MEMVIEW_FEATURE_RAS.
need_ras() {
	"$MEMVIEWCTL" info --json | jq -e '.features | index("ras")' >/dev/null ||
		skip "the loaded memview module has no fault isolation (feature ras)"
}

# slice_json ID -> the slice's object from "list -S -v"
slice_json() {
	"$MEMVIEWCTL" list -S -v --json | jq -e --argjson id "$1" '.[] | select(.id == $id)' ||
		fail "no slice $1 in list -S"
}

# region_slices REGION_ID -> the ids of its slices, by index
region_slices() {
	"$MEMVIEWCTL" list -S --json |
		jq -r --argjson r "$1" '[.[] | select(.region_id == $r)] | sort_by(.index) | .[].id'
}

# wait_slice ID JQ-FILTER [SECONDS]: poll list -S until the slice's object
# satisfies the filter (default 20 s).
wait_slice() {
	local id=$1 filter=$2 end=$((SECONDS + ${3:-20})) s
	while :; do
		s=$(slice_json "$id")
		jq -e "$filter" <<<"$s" >/dev/null && return 0
		((SECONDS < end)) || break
		sleep 0.1
	done
	fail "slice $id: '$filter' still false after ${3:-20}s: $s"
}

# start_monitor [monitor options]: "memviewctl monitor --json" in the
# background until it says it listens; sets MON_PID, output in
# $TMPD/mon.out (one JSON object a line) and $TMPD/mon.err.
start_monitor() {
	local i
	log "memviewctl monitor --json $* &"
	"$MEMVIEWCTL" monitor --json "$@" >"$TMPD/mon.out" 2>"$TMPD/mon.err" &
	MON_PID=$!
	for ((i = 0; i < 600; i++)); do
		grep -q 'listening' "$TMPD/mon.err" && return 0
		kill -0 "$MON_PID" 2>/dev/null ||
			fail "monitor ended before it listened: $(cat "$TMPD/mon.err")"
		sleep 0.1
	done
	fail "monitor did not start listening in 60 s: $(cat "$TMPD/mon.err")"
}

# stop_monitor: SIGTERM it; it must exit 0
stop_monitor() {
	local rc=0
	[[ -n ${MON_PID:-} ]] || return 0
	kill -TERM "$MON_PID" 2>/dev/null || true
	wait "$MON_PID" || rc=$?
	MON_PID=''
	((rc == 0)) || fail "monitor exited $rc on SIGTERM: $(cat "$TMPD/mon.err")"
}

# wait_monitor JQ-FILTER [SECONDS]: until a line of the monitor's output
# satisfies the filter (default 20 s)
wait_monitor() {
	local filter=$1 end=$((SECONDS + ${2:-20}))
	while :; do
		[[ -n $(jq -c "select($filter)" "$TMPD/mon.out" 2>/dev/null) ]] && return 0
		((SECONDS < end)) || break
		sleep 0.1
	done
	fail "no monitor line with '$filter' in ${2:-20}s; monitor said: $(cat "$TMPD/mon.out" "$TMPD/mon.err")"
}

# QMP on this guest's QEMU (scripts/guest-qmp.sh through vm.sh's relay)
qmp() {
	log "qmp $1"
	"${MEMVIEW_REPO:-.}/scripts/guest-qmp.sh" "$1" >&2
}

have_qmp() {
	[[ -n ${MEMVIEW_OUT:-} && -e $MEMVIEW_OUT/qmp/relay ]]
}

# cxl_map REGION: how the region's host physical addresses map to its
# memdev's device physical addresses, from sysfs.  Sets CXL_MAP_MEMDEV
# (memN), CXL_MAP_QMP_PATH (the QOM path of its QEMU device), CXL_MAP_HPA
# and CXL_MAP_DPA (the first byte of the region and the DPA it maps to),
# CXL_MAP_SIZE.  Only a 1-way interleave maps linearly: skips otherwise.
cxl_map() {
	local region=$1 r=/sys/bus/cxl/devices/$1 d path ways serial
	[[ -d $r ]] || fail "no CXL region $region in sysfs"
	ways=$(<"$r/interleave_ways")
	((ways == 1)) || skip "$region is a $ways-way interleave: no linear DPA->HPA map"
	CXL_MAP_HPA=$(($(<"$r/resource")))
	CXL_MAP_SIZE=$(($(<"$r/size")))
	CXL_MAP_MEMDEV='' CXL_MAP_DPA=''
	# the endpoint decoder that maps the region (it has a dpa_resource)
	for d in /sys/bus/cxl/devices/decoder*.*; do
		[[ -e $d/dpa_resource && -e $d/region ]] || continue
		[[ $(<"$d/region") == "$region" ]] || continue
		CXL_MAP_DPA=$(($(<"$d/dpa_resource")))
		(($(<"$d/dpa_size") == CXL_MAP_SIZE)) ||
			fail "$d maps $(<"$d/dpa_size") bytes of $region, which has $CXL_MAP_SIZE"
		# .../endpointX/decoderX.Y; the endpoint's uport is the memdev
		path=$(readlink -f "$d")
		path=$(readlink -f "${path%/*}/uport")
		CXL_MAP_MEMDEV=${path##*/}
		break
	done
	[[ -n $CXL_MAP_MEMDEV && $CXL_MAP_MEMDEV == mem* ]] ||
		fail "no endpoint decoder of a memdev maps $region"
	# the QEMU device ids and serial numbers of scripts/vm.sh
	serial=$(($(<"/sys/bus/cxl/devices/$CXL_MAP_MEMDEV/serial")))
	case $serial in
	$((0x1001))) CXL_MAP_QMP_PATH=/machine/peripheral/cxl-pmem0 ;;
	$((0x1002))) CXL_MAP_QMP_PATH=/machine/peripheral/cxl-vmem0 ;;
	*) skip "$CXL_MAP_MEMDEV has serial $serial, not a device of scripts/vm.sh" ;;
	esac
	log "$region: HPA $(hexaddr "$CXL_MAP_HPA")+$(hexaddr "$CXL_MAP_SIZE") = $CXL_MAP_MEMDEV DPA $(hexaddr "$CXL_MAP_DPA") ($CXL_MAP_QMP_PATH)"
}

# hpa_to_dpa HPA -> the DPA (after cxl_map); fails outside the region
hpa_to_dpa() {
	local hpa=$(($1))
	((hpa >= CXL_MAP_HPA && hpa < CXL_MAP_HPA + CXL_MAP_SIZE)) ||
		fail "$(hexaddr "$hpa") is not in the CXL region"
	hexaddr $((hpa - CXL_MAP_HPA + CXL_MAP_DPA))
}

# dpa_to_hpa DPA -> the HPA (after cxl_map)
dpa_to_hpa() {
	local dpa=$(($1))
	((dpa >= CXL_MAP_DPA && dpa < CXL_MAP_DPA + CXL_MAP_SIZE)) ||
		fail "DPA $(hexaddr "$dpa") is not mapped by the CXL region"
	hexaddr $((dpa - CXL_MAP_DPA + CXL_MAP_HPA))
}

# Skip unless the kernel has CXL trace event $1 with a field $2 (e.g. hpa).
need_cxl_event() {
	local f=/sys/kernel/tracing/events/cxl/$1/format
	[[ -e $f ]] || skip "this kernel has no cxl:$1 trace event"
	[[ -z ${2:-} ]] || grep -q "field:.* $2;" "$f" ||
		skip "this kernel's cxl:$1 event has no $2 field"
}

# A test may define test_cleanup(): run first thing on exit, its failure
# ignored.
cleanup() {
	local rc=$? pids
	if declare -F test_cleanup >/dev/null; then
		test_cleanup || true
	fi
	if [[ -n $WL_PID ]]; then
		kill -KILL "$WL_PID" 2>/dev/null || true
		[[ -z $RUN_PID ]] || wait "$RUN_PID" 2>/dev/null || true
	fi
	# whatever else a failed test left running in the background
	pids=$(jobs -p)
	if [[ -n $pids ]]; then
		# SIGTERM first: memviewctl run passes it on to its command
		# shellcheck disable=SC2086 # one pid a word
		kill -TERM $pids 2>/dev/null || true
		sleep 0.5
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null || true
		wait 2>/dev/null || true
	fi
	if [[ -n ${MON_PID:-} ]]; then
		kill -TERM "$MON_PID" 2>/dev/null || true
		wait "$MON_PID" 2>/dev/null || true
	fi
	if [[ -n ${SAVED_POLICY:-} && -e /dev/memview ]]; then
		restore_policy || rc=1
	fi
	if [[ -e /dev/memview && -x $MEMVIEWCTL ]] &&
		[[ $("$MEMVIEWCTL" list -R --json 2>/dev/null | jq length 2>/dev/null) != 0 ]]; then
		# --forget-bad: pages a test poisoned are not retired in the next one's
		"$MEMVIEWCTL" remove-region --all --evacuate --forget-bad >&2 || rc=1
	fi
	rm -rf "$TMPD"
	case $rc in
	0) log "PASS" ;;
	77) ;;
	*) log "FAIL (exit $rc)" ;;
	esac
	exit "$rc"
}
trap cleanup EXIT
