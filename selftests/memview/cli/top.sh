#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# top --once shows the rates, every slice with its fill and a managed workload, and exits 0; -n counts frames; q, Ctrl-C and SIGTERM end it with exit 0 and the terminal restored.
set -euo pipefail
. "$(dirname "$0")/lib.bash"

check_prereqs
add_any_region

start_workload -- 8M 16M --hot-fraction 0.25 --verify-interval 0
# some pages in the slices, so that a slice is not empty
wait_stat "$WL_PID" slice_pages 1

out=$(memviewctl top --once -d 0.5)
printf '%s\n' "$out" >&2
! grep -q $'\e' <<<"$out" || fail "top --once wrote escape sequences"
head -n 1 <<<"$out" | grep -qE '^memview top - [0-9:]+, every 0.5 s, round [0-9]+ \(\+[0-9]+\)' ||
	fail "top --once: no header line"
grep -qE '^promoted +[0-9.]+ pages/s +[0-9.]+ MiB/s +total [0-9]+ pages$' <<<"$out" ||
	fail "top --once: no promotion rate"
grep -qE '^demoted +[0-9.]+ pages/s +[0-9.]+ MiB/s +total [0-9]+ pages$' <<<"$out" ||
	fail "top --once: no demotion rate"
# every slice of the region, with a fill bar; some pages in one of them
used=0
for id in $(memviewctl list -S --json | jq --argjson r "$REGION_ID" '.[] | select(.region_id == $r) | .id'); do
	line=$(grep -E "^ *$id +$REGION_ID +online +[0-9]+ +[0-9]+ +[0-9.]+% \[[#.]{20}\]$" <<<"$out") ||
		fail "top --once: no line for slice $id"
	used=$((used + $(awk '{ print $4 }' <<<"$line")))
done
((used > 0)) || fail "top --once: the slices show no used pages"
grep -qE "^ *$WL_PID +mv-workload +auto +8 MiB +[0-9]+ +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9]+$" <<<"$out" ||
	fail "top --once: no line for the workload $WL_PID"

# -n N: N frames, one after the other when stdout is not a terminal
out=$(memviewctl top -n 2 -d 0.3)
n=$(grep -c '^memview top' <<<"$out")
((n == 2)) || fail "top -n 2 drew $n frames"

# SIGTERM: exit 0
"$MEMVIEWCTL" top -d 0.3 >"$TMPD/top.out" &
tpid=$!
until grep -q '^memview top' "$TMPD/top.out"; do
	kill -0 "$tpid" 2>/dev/null || fail "top ended by itself"
	sleep 0.1
done
kill -TERM "$tpid"
rc=0; wait "$tpid" || rc=$?
((rc == 0)) || fail "top exited $rc on SIGTERM"

# on a terminal: q and Ctrl-C end it, exit 0, terminal mode restored
if command -v script >/dev/null && command -v timeout >/dev/null; then
	# type $1 once top drew its first frame
	type_key() {
		local i
		for ((i = 0; i < 600; i++)); do
			grep -q 'memview top' "$TMPD/tty.out" 2>/dev/null && break
			sleep 0.1
		done
		sleep 0.5
		printf '%b' "$1"
		sleep 2
	}
	# the shell around top ignores SIGINT, so that Ctrl-C ends top only
	for key in q '\003'; do
		: >"$TMPD/tty.out"
		rc=0
		type_key "$key" | timeout 120 script -qec \
			"trap '' INT; '$(readlink -f "$MEMVIEWCTL")' top -d 0.3; echo top-rc=\$?; stty -a" \
			/dev/null >"$TMPD/tty.out" || rc=$?
		out=$(cat "$TMPD/tty.out")
		((rc == 0)) || fail "top on a terminal, key '$key': script exited $rc: $out"
		grep -q 'top-rc=0' <<<"$out" || fail "top on a terminal, key '$key': not exit 0: $out"
		grep -qF $'\e[H' <<<"$out" || fail "top on a terminal does not redraw in place"
		grep -qF $'\e[?25h' <<<"$out" || fail "top on a terminal does not show the cursor again"
		stty=$(sed -n '/top-rc=/,$p' <<<"$out")
		grep -qw -- '-icanon' <<<"$stty" && fail "key '$key': the terminal was left without icanon: $stty"
		grep -qw -- '-echo' <<<"$stty" && fail "key '$key': the terminal was left without echo: $stty"
		grep -qw -- 'icanon' <<<"$stty" || fail "key '$key': stty -a shows no icanon: $stty"
		log "top on a terminal ended by '$key', exit 0, terminal restored"
	done
fi

stop_workload
