#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run --manual --budget 64M -- mv-workload, then demote and promote (also --move-all) through the CLI: list -v shows the pages in slices, then back in DRAM, and the checksum holds.
set -euo pipefail
. "$(dirname "$0")/lib.bash"

check_prereqs
add_any_region
PAGE_SIZE=$(memviewctl info --json | jq .page_size)

# --manual: the placer must not move pages while this test does by hand.
# No periodic verify: the checksum pass reads the whole buffer, which would
# make the cold half look hot.  It still verifies once at the end.
start_workload --manual -- 64M 32M --hot-fraction 0.25 --verify-interval 0
pages=$((WL_LEN / PAGE_SIZE))
cold=$((WL_ADDR + WL_LEN / 2))
cold_len=$((WL_LEN / 2))
cold_pages=$((cold_len / PAGE_SIZE))

# run attached it before it ran: listed with its budget, all in DRAM
procs=$(memviewctl list -P -v --json)
jqe "$procs" "any(.[]; .pid == $WL_PID and .comm == \"mv-workload\" and .dram_budget == $((64 << 20))
	and .mode == \"manual\" and .follow_children == false)"
# the placer leaves a manual process alone
jqe "$procs" "any(.[]; .pid == $WL_PID and .stats.rounds == 0 and .stats.demotions == 0)"
res=$(residency "$WL_PID")
jqe "$res" ".slice_pages == 0 and .dram_pages >= $pages and .slices == []"

# demote the cold half: every page is counted once, and they all move
out=$(memviewctl demote "$WL_PID" "$(hexaddr "$cold")" "$cold_len" --json)
jqe "$out" ".moved + .not_present + .already + .busy + .no_space + .unsupported + .thp_split_failed + .shared == $cold_pages"
# nothing is shared with another process: the workload did not fork
jqe "$out" ".shared == 0"
moved=$(jq .moved <<<"$out")
if ((moved != cold_pages)); then
	# busy pages lose a race now and then: a second call moves the rest
	out=$(memviewctl demote "$WL_PID" "$(hexaddr "$cold")" "$cold_len" --json)
	jqe "$out" ".already == $moved and .moved == $((cold_pages - moved))"
fi
out=$(memviewctl demote "$WL_PID" "$(hexaddr "$cold")" "$cold_len" --json)
jqe "$out" ".already == $cold_pages and .moved == 0"

json=$(memviewctl list -v --json)
res=$(jq --argjson p "$WL_PID" '.processes[] | select(.pid == $p) | .residency' <<<"$json")
jqe "$res" ".slice_pages == $cold_pages and ([.slices[].pages] | add) == $cold_pages"
jqe "$json" "[.slices[] | select(.region_id == $REGION_ID) | .used_pages] | add == $cold_pages"
jqe "$json" "[.slices[] | select(.region_id == $REGION_ID) | .migrations_in] | add == $cold_pages"
jqe "$json" "[.slices[] | .free_pages + .used_pages + .poisoned_pages == .total_pages] | all"
jqe "$json" "any(.processes[]; .pid == $WL_PID and .pages_demoted == $cold_pages)"
jqe "$json" "any(.regions[]; .id == $REGION_ID and .used_pages == $cold_pages)"
# the residency names only slices of our region
ids=$(jq -c --argjson r "$REGION_ID" '[.slices[] | select(.region_id == $r) | .id]' <<<"$json")
jqe "$res" "[.slices[].slice_id] - $ids == []"

# promote the first 2 MiB of it onto node 0, then the rest
out=$(memviewctl promote "$WL_PID" "$(hexaddr "$cold")" 2M --node 0 --json)
jqe "$out" ".moved == $(((2 << 20) / PAGE_SIZE)) and .node == 0"
# --move-all (root has CAP_SYS_NICE) moves the same pages
out=$(memviewctl promote "$WL_PID" "$(hexaddr "$cold")" "$cold_len" --move-all --json)
jqe "$out" ".moved == $((cold_pages - (2 << 20) / PAGE_SIZE)) and .already == $(((2 << 20) / PAGE_SIZE)) and .shared == 0"

json=$(memviewctl list -v --json)
res=$(jq --argjson p "$WL_PID" '.processes[] | select(.pid == $p) | .residency' <<<"$json")
jqe "$res" ".slice_pages == 0 and .dram_pages >= $pages"
jqe "$json" "[.slices[] | select(.region_id == $REGION_ID) | .used_pages] | add == 0"
jqe "$json" "[.slices[] | select(.region_id == $REGION_ID) | .migrations_out] | add == $cold_pages"
jqe "$json" "any(.processes[]; .pid == $WL_PID and .pages_promoted == $cold_pages)"

# human output of the same, for the log
memviewctl list -v --table >&2
memviewctl promote "$WL_PID" "$(hexaddr "$cold")" 4K --table | grep -q '^moved 0 pages; not present 0; already 1;.*; shared 0$' ||
	fail "promote --table does not print the counters line"

pid=$WL_PID
stop_workload
# exited processes are dropped from the list
jqe "$(memviewctl list -P --json)" "all(.[]; .pid != $pid)"
memviewctl remove-region "$REGION_ID"
