#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fault isolation through the CLI: fence-slice --wait evacuates a slice holding a workload's pages (list -S: fenced, evacuation counts; the checksum holds), monitor shows the STATE events, unfence-slice refuses after an uncorrectable error unless --force, --retire, inject-error, the RAS policy options, and each error message with exit 1.
set -euo pipefail
. "$(dirname "$0")/lib.bash"

check_prereqs
need_ras
save_policy
add_any_region
mapfile -t slices <<<"$(region_slices "$REGION_ID")"
((${#slices[@]} >= 2)) || skip "region $REGION_ID has ${#slices[@]} slice(s); this test needs 2"

# --- the RAS policy options -------------------------------------------------
out=$(memviewctl set-policy --ce-threshold 3 --ce-window 60000 --no-fence-on-ce --json)
jqe "$out" '.ce_threshold == 3 and .ce_window_ms == 60000 and .fence_on_ce == false and .fence_on_ue == true'
jqe "$(memviewctl get-policy --json)" ". == $out"
out=$(memviewctl set-policy --fence-on-ce --json)
jqe "$out" '.ce_threshold == 3 and .fence_on_ce == true and .fence_on_ue == true'
expect_fail memviewctl set-policy --ce-threshold 0 -- "invalid value '0' for --ce-threshold: must be 1..1000000"
expect_fail memviewctl set-policy --ce-window 99 -- "invalid value '99' for --ce-window: must be 100..604800000 ms"
jqe "$(memviewctl get-policy --json)" '.ce_threshold == 3'
out=$(memviewctl get-policy --table)
grep -qE '^fence-on-ue +yes' <<<"$out" || fail "get-policy --table: no fence-on-ue yes: $out"

# --- usage and lookup errors ------------------------------------------------
expect_fail memviewctl fence-slice -- 'which slice\? give its id'
expect_fail memviewctl fence-slice x1 -- "invalid slice id 'x1'"
expect_fail memviewctl fence-slice 999999 -- 'no slice 999999' 'list -S'
((LAST_RC == 1)) || fail "fence-slice of a missing slice exited $LAST_RC"
expect_fail memviewctl unfence-slice 999999 -- 'no slice 999999'
expect_fail memviewctl inject-error --slice "${slices[0]}" -- 'give --corrected or --uncorrectable'
expect_fail memviewctl inject-error --corrected -- 'exactly one of --addr PHYS and --slice ID'
expect_fail memviewctl inject-error --slice 1 --length 4K --corrected -- '--length goes with --addr'
expect_fail memviewctl inject-error --addr 0x1000 --corrected -- '0x1000 is not in a memview slice'
expect_fail memviewctl inject-error --slice 999999 --corrected -- 'no slice 999999'

# --- a workload with pages in the first slice --------------------------------
start_workload --manual -- 0 8M --verify-interval 0.5
memviewctl demote "$WL_PID" "$WL_ADDR" "$WL_LEN" --json >"$TMPD/demote.json"
moved=$(jq .moved "$TMPD/demote.json")
((moved > 0)) || fail "nothing demoted: $(cat "$TMPD/demote.json")"
S=$(residency "$WL_PID" | jq '.slices | max_by(.pages) | .slice_id')
on_s=$(residency "$WL_PID" | jq --argjson s "$S" '.slices[] | select(.slice_id == $s) | .pages')
for O in "${slices[@]}"; do [[ $O == "$S" ]] || break; done
log "slice $S holds $on_s of the workload's pages; the other slice is $O"
jqe "$(slice_json "$S")" '.state == "online" and .uncorrectable_errors == 0 and .corrected_errors == 0'

# --- fence --wait: evacuated, the workload keeps its data ------------------
start_monitor --no-cxl --timeout 120
out=$(memviewctl fence-slice "$S" --wait --json)
jqe "$out" ".slice_id == $S and .state == \"fenced\" and .evac_moved >= $on_s and .evac_pending == 0"
s=$(slice_json "$S")
jqe "$s" ".state == \"fenced\" and .fence_reason == \"admin\" and .used_pages == 0 and
	.evacuation.moved >= $on_s and .evacuation.total >= $on_s and .evacuation.pending == 0 and
	.evacuation.passes >= 1"
res=$(residency "$WL_PID")
jqe "$res" "all(.slices[]; .slice_id != $S)"
# the table: state, and the evacuation as moved/total
tbl=$(memviewctl list -S --table)
grep -qE "^ +$S +.* fenced +.* admin +[0-9]+/[0-9]+" <<<"$tbl" || fail "list -S --table: no fenced row for slice $S: $tbl"
# a new demotion does not land on it
memviewctl promote "$WL_PID" "$WL_ADDR" "$WL_LEN" --json >/dev/null
memviewctl demote "$WL_PID" "$WL_ADDR" "$WL_LEN" --json >/dev/null
jqe "$(residency "$WL_PID")" "all(.slices[]; .slice_id != $S)"
jqe "$(slice_json "$S")" '.used_pages == 0'

# the monitor saw it go online -> fencing -> fenced, reason admin
wait_monitor ".event == \"state\" and .slice_id == $S and .old_state == \"online\" and .new_state == \"fencing\" and .reason == \"admin\""
wait_monitor ".event == \"state\" and .slice_id == $S and .old_state == \"fencing\" and .new_state == \"fenced\""
wait_monitor ".event == \"evacuation\" and .slice_id == $S and .moved >= 1"

# fencing a fenced slice changes nothing
out=$(memviewctl fence-slice "$S" --table)
grep -q "slice $S: fenced" <<<"$out" || fail "fence-slice --table: $out"

# --- unfence; an uncorrectable error makes it need --force -----------------
jqe "$(memviewctl unfence-slice "$S" --json)" '.state == "online"'
out=$(memviewctl inject-error --slice "$S" --uncorrectable --json)
jqe "$out" ".slice_id == $S and .severity == \"uncorrectable\" and (.state == \"fencing\" or .state == \"fenced\")"
wait_slice "$S" '.state == "fenced" and .uncorrectable_errors == 1 and .fence_reason == "uncorrectable"'
wait_monitor ".event == \"error\" and .slice_id == $S and .severity == \"uncorrectable\" and .source == \"inject\""
expect_fail memviewctl unfence-slice "$S" -- "slice $S had uncorrectable errors" 'use --force'
((LAST_RC == 1)) || fail "unfence-slice after an uncorrectable error exited $LAST_RC"
jqe "$(memviewctl unfence-slice "$S" --force --json)" '.state == "degraded"'

# --- retire ----------------------------------------------------------------
jqe "$(memviewctl fence-slice "$S" --retire --wait --json)" '.state == "retired"'
expect_fail memviewctl unfence-slice "$S" --force -- "slice $S is retired" 'remove-region'
jqe "$(memviewctl fence-slice "$S" --json)" '.state == "retired"'

# --- corrected errors on the other slice: degraded, then fenced at the threshold
hpa=$(jq -r .resource <<<"$(slice_json "$O")")
addr=$(hexaddr $((hpa + (8 << 20))))
out=$(memviewctl inject-error --addr "$addr" --corrected --json)
jqe "$out" ".slice_id == $O and .state == \"degraded\" and .pages_poisoned == 0"
jqe "$(slice_json "$O")" '.corrected_errors == 1 and .uncorrectable_errors == 0 and .window_corrected == 1'
# threshold 3, fence_on_ce: two more fence it (its pages go to DRAM: no other slice)
memviewctl inject-error --addr "$addr" --corrected --count 2 --json >/dev/null
# The fence moves the workload's 2048 pages to DRAM (the other slice is
# retired): 6 to 27 s under TCG on the shared build machine, by its load.
wait_slice "$O" '.state == "fenced" and .corrected_errors == 3 and .fence_reason == "ce_threshold"' 120
jqe "$(memviewctl unfence-slice "$O" --json)" '.state == "degraded"'
jqe "$(slice_json "$O")" '.window_corrected == 0'

# --- an uncorrectable error at a page the workload uses ----------------------
# (O has its pages now; the page is poisoned, the rest is moved; the workload
# is not touched by the test afterwards except by its own verify, which
# would get SIGBUS on that page: stop it first, then poison a free page)
stop_workload
free_addr=$(hexaddr $((hpa + (200 << 20))))
out=$(memviewctl inject-error --addr "$free_addr" --length 8K --uncorrectable --json)
jqe "$out" ".slice_id == $O and .pages_poisoned == 2"
wait_slice "$O" '.state == "fenced" and .poisoned_pages == 2 and .uncorrectable_errors == 1'
jqe "$(memviewctl info --json)" '.poisoned_pages >= 2'
memviewctl info --table | grep -q '^poisoned: ' || fail "info --table shows no poisoned pages"

stop_monitor
# every line the monitor printed is one JSON object
jq -e -s 'length > 0 and all(.[]; type == "object" and has("event"))' "$TMPD/mon.out" >/dev/null ||
	fail "monitor output is not one JSON object a line: $(cat "$TMPD/mon.out")"
restore_policy
