#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# CXL poison end to end: QMP cxl-inject-poison at a DPA inside the memview CXL region, trigger_poison_list, memviewctl monitor reports the cxl_poison event's HPA, that slice (and only it) counts one uncorrectable error and is fenced; the monitor's tracefs instance is gone after it exits.
set -euo pipefail
. "$(dirname "$0")/lib.bash"

check_prereqs
need_ras
[[ -n ${MEMVIEW_CXL_REGION:-} ]] || skip "no CXL region (MEMVIEW_CXL_REGION)"
have_qmp || skip "no QMP access from this guest (scripts/guest-qmp.sh needs vm.sh's relay)"
need_cxl_event cxl_poison hpa
add_any_region
cxl_map "$MEMVIEW_CXL_REGION"
trigger=/sys/bus/cxl/devices/$CXL_MAP_MEMDEV/trigger_poison_list
[[ -e $trigger ]] || skip "$CXL_MAP_MEMDEV has no trigger_poison_list"
mapfile -t slices <<<"$(region_slices "$REGION_ID")"
S=${slices[-1]}
s=$(slice_json "$S")
base=$(jq -r .resource <<<"$s")
# 1 MiB into the last slice, 64-byte aligned for QEMU
hpa=$(hexaddr $((base + (1 << 20) + 4096)))
dpa=$(hpa_to_dpa "$hpa")
log "poison at HPA $hpa = $CXL_MAP_MEMDEV DPA $dpa, in slice $S"

dbg=/sys/kernel/debug/cxl/$CXL_MAP_MEMDEV/clear_poison
poisoned=0
# called by lib.bash's cleanup
test_cleanup() {
	# leave the device clean for the tests after this one
	if ((poisoned)) && [[ -w $dbg ]]; then
		echo "$dpa" >"$dbg" 2>/dev/null || log "could not clear the poison at DPA $dpa"
	fi
}

start_monitor --timeout 120
grep -q 'cxl:cxl_poison' "$TMPD/mon.err" || fail "monitor does not read cxl:cxl_poison: $(cat "$TMPD/mon.err")"
inst=memview-monitor-$MON_PID
[[ -d /sys/kernel/tracing/instances/$inst ]] || fail "no tracefs instance $inst while the monitor runs"

qmp "{\"execute\":\"cxl-inject-poison\",\"arguments\":{\"path\":\"$CXL_MAP_QMP_PATH\",\"start\":$((dpa)),\"length\":64}}" ||
	fail "QMP cxl-inject-poison failed"
poisoned=1
log "echo 1 > $trigger"
echo 1 >"$trigger"

wait_monitor ".event == \"cxl\" and .trace_event == \"cxl_poison\" and .hpa == $((hpa)) and .result == \"reported\" and .slice_id == $S"
wait_monitor ".event == \"error\" and .slice_id == $S and .source == \"cxl_poison\" and .severity == \"uncorrectable\" and .phys_addr == $((hpa))"
wait_slice "$S" '.uncorrectable_errors == 1 and .state == "fenced" and .fence_reason == "uncorrectable" and .poisoned_pages == 1'
wait_monitor ".event == \"state\" and .slice_id == $S and .new_state == \"fenced\""
# the other slices saw nothing
for O in "${slices[@]}"; do
	[[ $O == "$S" ]] && continue
	jqe "$(slice_json "$O")" '.state == "online" and .errors == 0'
done

stop_monitor
[[ ! -e /sys/kernel/tracing/instances/$inst ]] || fail "tracefs instance $inst left after the monitor exited"
