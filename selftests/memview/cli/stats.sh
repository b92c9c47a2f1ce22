#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# stats: the totals and a process's counters have the documented keys, rounds grow, the placer demotes a workload over its budget (list -v shows it, the checksum holds), a --manual process is not scanned, and bad pids are refused.
set -euo pipefail
. "$(dirname "$0")/lib.bash"

check_prereqs
common='"access_samples","demotions","fault_samples","pages_scanned","pid","pingpongs",
	"promotions","rounds","scan_ns","skipped_busy","skipped_hysteresis","skipped_no_space",
	"skipped_rate"'
proc_keys='"dram_budget_pages","dram_pages","hot_pages","slice_pages"'

# the totals: the documented keys, numbers, pid 0
tot=$(memviewctl stats --json)
jqe "$tot" "keys == ([$common] | sort)"
jqe "$tot" '.pid == 0 and ([.[]] | all(type == "number" and . >= 0))'
memviewctl stats --table | grep -q '^pid  *all (totals)' || fail "stats --table does not show the totals"

# rounds grow between two calls some rounds apart (polled, no clock)
r1=$(jq .rounds <<<"$tot")
wait_stat rounds $((r1 + 3))
r2=$(stat_of rounds)
((r2 >= r1 + 3)) || fail "rounds went from $r1 to $r2"

add_any_region
PAGE_SIZE=$(memviewctl info --json | jq .page_size)

# an automatically tiered workload with a budget of a quarter of its buffer
# and a hot part that fits in it; no periodic checksum, which would make the
# cold part look hot
start_workload -- 8M 32M --hot-fraction 0.125 --verify-interval 0
st=$(memviewctl stats "$WL_PID" --json)
jqe "$st" "keys == ([$common, $proc_keys] | sort)"
jqe "$st" ".pid == $WL_PID and .dram_budget_pages == $(((8 << 20) / PAGE_SIZE))"
wait_stat "$WL_PID" rounds 3
wait_stat "$WL_PID" pages_scanned $((WL_LEN / PAGE_SIZE))

# over its budget: the placer demotes, and the pages are in the slices
wait_stat "$WL_PID" demotions 1
wait_stat "$WL_PID" slice_pages 1
st=$(memviewctl stats "$WL_PID" --json)
jqe "$st" '.access_samples > 0 and .scan_ns > 0 and .hot_pages > 0'
jqe "$(residency "$WL_PID")" '.slice_pages > 0'
tot=$(memviewctl stats --json)
jqe "$tot" ".demotions >= $(jq .demotions <<<"$st") and .pages_scanned >= $(jq .pages_scanned <<<"$st")"
memviewctl stats "$WL_PID" --table >&2

# list -v: the mode and the same counters, as JSON and as a table
json=$(memviewctl list -P -v --json)
jqe "$json" "any(.[]; .pid == $WL_PID and .mode == \"auto\" and .follow_children == false
	and (.stats | keys) == ([$common, $proc_keys] | sort) - [\"pid\"]
	and .stats.demotions > 0 and .pages_demoted > 0)"
table=$(memviewctl list -P -v --table)
printf '%s\n' "$table" >&2
head -n 1 <<<"$table" | grep -q 'MODE.*PL-DEM.*PL-PROM.*PINGPONGS.*HOT' ||
	fail "list -P -v --table has no placer columns"
grep -qE "^ *$WL_PID +mv-workload +8 MiB +auto " <<<"$table" ||
	fail "list -P -v --table does not show the workload as auto"

# a --manual process: listed and counted, never scanned
sleep 300 &
spid=$!
memviewctl attach "$spid" --manual
wait_rounds 3
jqe "$(memviewctl stats "$spid" --json)" '.rounds == 0 and .pages_scanned == 0 and .demotions == 0'
jqe "$(memviewctl list -P --json)" "any(.[]; .pid == $spid and .mode == \"manual\")"
memviewctl detach "$spid"
kill "$spid"
wait "$spid" 2>/dev/null || true

# bad pids
expect_fail memviewctl stats $$ -- "process $$ is not attached"
expect_fail memviewctl stats 0 -- "invalid pid '0'"

# the totals' rounds are the placer's rounds: with one tiered process,
# scanned once a round, they cannot grow faster than its own.  The totals'
# window lies within the process's, so slow calls only widen the latter.
a_wl=$(stat_of "$WL_PID" rounds)
a_tot=$(stat_of rounds)
wait_stat rounds $((a_tot + 30))
b_tot=$(stat_of rounds)
b_wl=$(stat_of "$WL_PID" rounds)
d_tot=$((b_tot - a_tot)) d_wl=$((b_wl - a_wl))
log "totals +$d_tot rounds within a window where the process had +$d_wl"
((d_tot <= d_wl + 1)) ||
	fail "stats (pid 0) rounds grew by $d_tot while the only tiered process was scanned $d_wl times: the totals count more than the placer's rounds; processes: $(memviewctl list -P --json | jq -c .)"

stop_workload
