#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs INSIDE the demo guest (scripts/demo-ras.sh: vm.sh -> guest-run.sh ->
# here, cwd = repository, MEMVIEW_* from scripts/guest-setup.sh).
#
# Shows slice-granular fault isolation (Documentation/ras.rst): give memview
# the CXL region, run mv-workload under "memviewctl run --budget" until the
# placer has put most of it in a slice, start "memviewctl monitor", make the
# CXL device report poison in that slice (QMP cxl-inject-poison through
# scripts/guest-qmp.sh, then trigger_poison_list: the kernel traces a
# cxl_poison event, the monitor reports its address to memview), and watch
# the slice go FENCING -> FENCED while its pages move to the other slice;
# the workload's checksum must still hold.  Without QMP or without the
# kernel's cxl_poison event (6.1) the error is raised with "memviewctl
# inject-error" instead.  The poison is put on a free page of the slice, so
# no data is lost: the point is the fence and the evacuation.
#
# Exit: 0 when every step worked ("demo-ras: ok").
set -euo pipefail

MEMVIEWCTL=${MEMVIEWCTL:-tools/memviewctl/memviewctl}
MV_WORKLOAD=${MV_WORKLOAD:-tools/workload/mv-workload}
KO=${MEMVIEW_KO:-build/$(uname -r)/memview.ko}
WL_SIZE=${MEMVIEW_DEMO_SIZE:-96M}
BUDGET=${MEMVIEW_DEMO_BUDGET:-16M}
CXL_DEV=/sys/bus/cxl/devices

step=0
heading() {
	step=$((step + 1))
	printf '\n==== %d. %s\n\n' "$step" "$*"
}

run() {
	printf '$ %s\n' "$*"
	"$@"
}

die() {
	printf 'demo-ras: error: %s\n' "$*" >&2
	exit 1
}

memviewctl() {
	"$MEMVIEWCTL" "$@"
}

for f in "$MEMVIEWCTL" "$MV_WORKLOAD"; do
	[[ -x $f ]] || die "$f is not built (make -C ${f%/*})"
done
[[ -n ${MEMVIEW_CXL_REGION:-} ]] || die "no CXL region (MEMVIEW_CXL_REGION): run under scripts/guest-run.sh"

tmp=$(mktemp -d)
run_pid='' wl_pid='' mon_pid='' loaded_here=0
cleanup() {
	local rc=$?
	if [[ -n $mon_pid ]]; then
		kill -TERM "$mon_pid" 2>/dev/null || true
		wait "$mon_pid" 2>/dev/null || true
	fi
	if [[ -n $wl_pid ]]; then
		kill -KILL "$wl_pid" 2>/dev/null || true
		wait "$run_pid" 2>/dev/null || true
	fi
	if ((rc != 0)) && [[ -e /dev/memview ]]; then
		echo "demo-ras: failed (exit $rc); giving the regions back" >&2
		"$MEMVIEWCTL" remove-region --all --evacuate >&2 || true
	fi
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT

heading "Load memview and give it the CXL region $MEMVIEW_CXL_REGION"
if [[ -e /dev/memview ]]; then
	echo "memview is loaded already"
else
	run insmod "$KO"
	loaded_here=1
fi
memviewctl info --json | jq -e '.features | index("ras")' >/dev/null ||
	die "this memview module has no fault isolation (feature ras)"
region_json=$(memviewctl add-region --cxl "$MEMVIEW_CXL_REGION" --force --json)
region_id=$(jq .id <<<"$region_json")
echo "region $region_id: $(jq -r '"\(.nr_slices) slices of 256 MiB at \(.resource)"' <<<"$region_json")"
run memviewctl list --slices --table

heading "A workload under a $BUDGET DRAM budget: the placer puts most of it in a slice"
printf '$ memviewctl run --budget %s -- mv-workload --size %s --hot-fraction 0.1 --verify-interval 0 &\n' \
	"$BUDGET" "$WL_SIZE"
"$MEMVIEWCTL" run --budget "$BUDGET" -- "$MV_WORKLOAD" --size "$WL_SIZE" \
	--hot-fraction 0.1 --verify-interval 0 >"$tmp/wl.out" 2>"$tmp/wl.err" &
run_pid=$!
for ((i = 0; i < 600; i++)); do
	[[ $(head -n 1 "$tmp/wl.out") == pid=* ]] && break
	kill -0 "$run_pid" 2>/dev/null || die "the workload ended early: $(cat "$tmp/wl.out" "$tmp/wl.err")"
	sleep 0.1
done
line=$(head -n 1 "$tmp/wl.out")
[[ $line == pid=* ]] || die "mv-workload printed no pid line"
echo "$line"
wl_pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$line")
len=$(sed -n 's/.* len=\([0-9]*\).*/\1/p' <<<"$line")
page=$(memviewctl info --json | jq .page_size)
want=$((len / page / 2))
residency() {
	memviewctl list -P -v --json | jq -e --argjson p "$wl_pid" '.[] | select(.pid == $p) | .residency'
}
end=$((SECONDS + 180))
while :; do
	res=$(residency) || die "the workload is not managed"
	(($(jq .slice_pages <<<"$res") >= want)) && break
	((SECONDS < end)) || die "the placer moved only $(jq .slice_pages <<<"$res") pages to slices in 180 s"
	kill -0 "$run_pid" 2>/dev/null || die "the workload ended early: $(cat "$tmp/wl.out" "$tmp/wl.err")"
	sleep 1
done
slice=$(jq '.slices | max_by(.pages) | .slice_id' <<<"$res")
echo "the workload has $(jq .slice_pages <<<"$res") pages in slices, $(jq .dram_pages <<<"$res") in DRAM;"
echo "slice $slice holds the most: $(jq --argjson s "$slice" '.slices[] | select(.slice_id == $s) | .pages' <<<"$res") pages"
echo
run memviewctl list --slices --verbose --table

heading "Watch: memviewctl monitor (CXL trace events -> memview; memview's events)"
echo '$ memviewctl monitor --table &'
"$MEMVIEWCTL" monitor --table >"$tmp/mon.out" 2>"$tmp/mon.err" &
mon_pid=$!
for ((i = 0; i < 600; i++)); do
	grep -q listening "$tmp/mon.err" && break
	kill -0 "$mon_pid" 2>/dev/null || die "monitor ended: $(cat "$tmp/mon.err")"
	sleep 0.1
done
cat "$tmp/mon.err"

# A free page of the slice: the slice allocator hands out pages from the
# bottom up, so its last page is free while the workload is smaller than a
# slice (the point here is the fence, not losing data).
slice_json=$(memviewctl list -S -v --json | jq --argjson s "$slice" '.[] | select(.id == $s)')
base=$(jq .resource <<<"$slice_json")
size=$(jq .size <<<"$slice_json")
hpa=$((base + size - page))
(($(jq .used_pages <<<"$slice_json") < $(jq .total_pages <<<"$slice_json") - 1)) ||
	die "slice $slice is full: no free page to poison"

# The CXL path: device physical address of that page, from sysfs.
cxl_dpa() {
	local r=$CXL_DEV/$MEMVIEW_CXL_REGION d p
	(($(<"$r/interleave_ways") == 1)) || return 1
	for d in "$CXL_DEV"/decoder*.*; do
		[[ -e $d/dpa_resource && -e $d/region ]] || continue
		[[ $(<"$d/region") == "$MEMVIEW_CXL_REGION" ]] || continue
		p=$(readlink -f "$d")
		memdev=$(readlink -f "${p%/*}/uport")
		memdev=${memdev##*/}
		dpa=$((hpa - $(<"$r/resource") + $(<"$d/dpa_resource")))
		return 0
	done
	return 1
}
memdev='' dpa=''
use_qmp=0
if [[ -e $MEMVIEW_OUT/qmp/relay && -e /sys/kernel/tracing/events/cxl/cxl_poison ]] &&
	grep -q 'cxl:cxl_poison' "$tmp/mon.err" && cxl_dpa &&
	[[ -e $CXL_DEV/$memdev/trigger_poison_list ]] &&
	(($(<"$CXL_DEV/$memdev/serial") == 0x1001)); then
	use_qmp=1
fi

if ((use_qmp)); then
	heading "The CXL device reports poison in slice $slice"
	printf 'HPA 0x%x (the last page of slice %d) is %s DPA 0x%x.\n' "$hpa" "$slice" "$memdev" "$dpa"
	echo "QEMU (the device) gets poison there over QMP; the kernel reads the device's"
	echo "poison list and traces a cxl_poison event with the HPA; the monitor reports it."
	echo
	run scripts/guest-qmp.sh "{\"execute\":\"cxl-inject-poison\",\"arguments\":{\"path\":\"/machine/peripheral/cxl-pmem0\",\"start\":$dpa,\"length\":64}}"
	printf '$ echo 1 > %s\n' "$CXL_DEV/$memdev/trigger_poison_list"
	echo 1 >"$CXL_DEV/$memdev/trigger_poison_list"
else
	heading "An uncorrectable error in slice $slice (inject-error: no CXL poison path here)"
	echo "This kernel or VM cannot trace CXL poison with its host address (6.1, or no"
	echo "QMP relay): the error is raised with the test-only injection ioctl instead."
	echo
	run memviewctl inject-error --addr "$(printf '0x%x' "$hpa")" --uncorrectable --table
fi

# FENCING while the worker moves the pages, then FENCED
seen_fencing=0
end=$((SECONDS + 120))
while :; do
	st=$(memviewctl list -S --json | jq -r --argjson s "$slice" '.[] | select(.id == $s) | .state')
	if [[ $st == fencing && $seen_fencing == 0 ]]; then
		seen_fencing=1
		echo
		run memviewctl list --slices --table
	fi
	[[ $st == fenced ]] && break
	((SECONDS < end)) || die "slice $slice is $st 120 s after the error"
	sleep 0.2
done
echo
echo "Slice $slice is fenced: no new pages, its live pages moved (EVACUATED moved/total):"
echo
run memviewctl list --slices --verbose --table
res=$(residency)
jq -e --argjson s "$slice" 'all(.slices[]; .slice_id != $s)' <<<"$res" >/dev/null ||
	die "the workload still has pages in slice $slice: $res"
echo
echo "The workload's pages now: $(jq -c '{dram_pages, slice_pages, slices}' <<<"$res")"

heading "What the monitor saw"
sleep 1
kill -TERM "$mon_pid"
wait "$mon_pid" || die "monitor exited with an error: $(cat "$tmp/mon.err")"
mon_pid=''
cat "$tmp/mon.out"
grep -qE "STATE +slice $slice .*-> fencing" "$tmp/mon.out" || die "the monitor showed no fencing of slice $slice"
grep -qE "STATE +slice $slice .*fencing -> fenced" "$tmp/mon.out" || die "the monitor showed no fenced slice $slice"

heading "Stop the workload: it checks every page of its data"
printf '$ kill -TERM %s\n' "$wl_pid"
kill -TERM "$wl_pid"
rc=0
wait "$run_pid" || rc=$?
wl_pid=''
tail -n 1 "$tmp/wl.out"
((rc == 0)) || die "the workload exited $rc: its checksum did not hold"
grep -q '^result=ok ' "$tmp/wl.out" || die "the workload's checksum did not hold"

heading "Give the region back"
run memviewctl remove-region --all
if ((use_qmp)) && [[ -w /sys/kernel/debug/cxl/$memdev/clear_poison ]]; then
	printf '$ echo 0x%x > %s\n' "$dpa" "/sys/kernel/debug/cxl/$memdev/clear_poison"
	echo "$dpa" >"/sys/kernel/debug/cxl/$memdev/clear_poison" || true
fi
if ((loaded_here)); then
	run rmmod memview
fi
printf '\ndemo-ras: ok\n'
