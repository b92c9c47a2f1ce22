#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# remove-region while pages are in use fails with a clear message and a non-zero exit; --evacuate moves them to DRAM and succeeds, contents intact.
set -euo pipefail
. "$(dirname "$0")/lib.bash"

check_prereqs
add_any_region
PAGE_SIZE=$(memviewctl info --json | jq .page_size)

start_workload --manual -- 64M 16M --hot-fraction 0.25 --verify-interval 0
cold=$((WL_ADDR + WL_LEN / 2))
cold_len=$((WL_LEN / 2))
out=$(memviewctl demote "$WL_PID" "$(hexaddr "$cold")" "$cold_len" --json)
moved=$(jq .moved <<<"$out")
((moved > 0)) || fail "nothing was demoted: $out"

expect_fail memviewctl remove-region "$REGION_ID" -- \
	"region $REGION_ID still has $moved pages in use" 'use --evacuate to move them to DRAM first' 'removed 0 regions'
((LAST_RC == 1)) || fail "remove-region of a busy region exited $LAST_RC, want 1"
# still there, its pages still in the slices, new pages welcome again
jqe "$(memviewctl list -R -v --json)" "any(.[]; .id == $REGION_ID and .used_pages == $moved)"
jqe "$(memviewctl list -S --json)" "[.[] | select(.region_id == $REGION_ID) | .state == \"online\"] | all"
jqe "$(residency "$WL_PID")" ".slice_pages == $moved"

err=$(memviewctl remove-region "$REGION_ID" --evacuate 2>&1 >/dev/null) ||
	fail "remove-region --evacuate failed: $err"
grep -q "region $REGION_ID: evacuated $moved pages to DRAM" <<<"$err" || fail "no evacuation count: $err"
grep -q 'removed 1 region' <<<"$err" || fail "no removal count: $err"
jqe "$(memviewctl list --json)" '.regions == [] and .slices == []'
jqe "$(residency "$WL_PID")" ".slice_pages == 0 and .dram_pages >= $((WL_LEN / PAGE_SIZE))"

# the workload reads every page back and finds what it wrote
stop_workload
