#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# CXL general media events end to end: QMP cxl-inject-general-media-event at a DPA inside the memview CXL region, without the uncorrectable bit: memviewctl monitor reports the cxl_general_media event's HPA as corrected, that slice counts one corrected error and turns degraded.
set -euo pipefail
. "$(dirname "$0")/lib.bash"

check_prereqs
need_ras
[[ -n ${MEMVIEW_CXL_REGION:-} ]] || skip "no CXL region (MEMVIEW_CXL_REGION)"
have_qmp || skip "no QMP access from this guest (scripts/guest-qmp.sh needs vm.sh's relay)"
need_cxl_event cxl_general_media hpa
add_any_region
cxl_map "$MEMVIEW_CXL_REGION"
mapfile -t slices <<<"$(region_slices "$REGION_ID")"
S=${slices[0]}
base=$(jq -r .resource <<<"$(slice_json "$S")")
hpa=$(hexaddr $((base + (3 << 20))))
dpa=$(hpa_to_dpa "$hpa")
log "general media event at HPA $hpa = $CXL_MAP_MEMDEV DPA $dpa, in slice $S"

start_monitor --timeout 120
grep -q 'cxl:cxl_general_media' "$TMPD/mon.err" ||
	fail "monitor does not read cxl:cxl_general_media: $(cat "$TMPD/mon.err")"

# descriptor 0: not uncorrectable, not a threshold event; type 0: ECC error;
# transaction type 0: unknown
qmp "{\"execute\":\"cxl-inject-general-media-event\",\"arguments\":{\"path\":\"$CXL_MAP_QMP_PATH\",\"log\":\"informational\",\"flags\":0,\"dpa\":$((dpa)),\"descriptor\":0,\"type\":0,\"transaction-type\":0}}" ||
	fail "QMP cxl-inject-general-media-event failed"

# The device raises an event interrupt; the kernel reads the record and
# traces it.  A kernel that did not set up event interrupts never sees it.
end=$((SECONDS + 15))
while ((SECONDS < end)); do
	grep -q '"cxl_general_media"' "$TMPD/mon.out" && break
	sleep 0.1
done
if ! grep -q '"cxl_general_media"' "$TMPD/mon.out"; then
	dmesg | grep -iE 'cxl.*(event|irq|interrupt)' | tail -n 5 >&2 || true
	skip "no cxl_general_media trace event 15 s after the injection (CXL event interrupts not enabled on this kernel/VM?)"
fi
wait_monitor ".event == \"cxl\" and .trace_event == \"cxl_general_media\" and .hpa == $((hpa)) and .severity == \"corrected\" and .result == \"reported\" and .slice_id == $S"
wait_monitor ".event == \"error\" and .slice_id == $S and .source == \"cxl_general_media\" and .severity == \"corrected\""
wait_slice "$S" '.corrected_errors == 1 and .uncorrectable_errors == 0 and .state == "degraded"'
stop_monitor
