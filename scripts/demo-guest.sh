#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs INSIDE the demo guest (scripts/demo.sh: vm.sh -> guest-run.sh ->
# here, cwd = repository, MEMVIEW_* from scripts/guest-setup.sh).
#
# Shows memview tiering a workload, step by step: load the module, give it
# the CXL region (and the PMEM range), run mv-workload under
# "memviewctl run --manual", demote its cold part into the slices, promote
# some back by hand, stop it (its checksum must hold); then run a second
# workload under "memviewctl run --budget" and let the placer settle it by
# itself (hot part in DRAM, cold part in the slices), shown with
# "memviewctl top --once"; give the regions back.  After each step
# "memviewctl list -v" shows the slices' counters and where the workload's
# pages are.
#
# Exit: 0 when every step worked and the workload's checksum held.
set -euo pipefail

MEMVIEWCTL=${MEMVIEWCTL:-tools/memviewctl/memviewctl}
MV_WORKLOAD=${MV_WORKLOAD:-tools/workload/mv-workload}
KO=${MEMVIEW_KO:-build/$(uname -r)/memview.ko}
WL_SIZE=${MEMVIEW_DEMO_SIZE:-128M}
BUDGET=${MEMVIEW_DEMO_BUDGET:-64M}

step=0
heading() {
	step=$((step + 1))
	printf '\n==== %d. %s\n\n' "$step" "$*"
}

# show and run one command
run() {
	printf '$ %s\n' "$*"
	"$@"
}

die() {
	printf 'demo: error: %s\n' "$*" >&2
	exit 1
}

for f in "$MEMVIEWCTL" "$MV_WORKLOAD"; do
	[[ -x $f ]] || die "$f is not built (make -C ${f%/*})"
done
# run() prints the command as typed; keep it short
memviewctl() {
	"$MEMVIEWCTL" "$@"
}

wl_out=$(mktemp)
run_pid='' wl_pid='' loaded_here=0
cleanup() {
	local rc=$?
	if [[ -n $wl_pid ]]; then
		kill -KILL "$wl_pid" 2>/dev/null || true
		wait "$run_pid" 2>/dev/null || true
	fi
	if ((rc != 0)) && [[ -e /dev/memview ]]; then
		echo "demo: failed (exit $rc); giving the regions back" >&2
		"$MEMVIEWCTL" remove-region --all --evacuate >&2 || true
	fi
	rm -f "$wl_out"
	exit "$rc"
}
trap cleanup EXIT

heading "Load memview"
if [[ -e /dev/memview ]]; then
	echo "memview is loaded already"
else
	run insmod "$KO"
	loaded_here=1
fi
run memviewctl info --table

heading "Give memview cold memory: the CXL region${MEMVIEW_PMEM_RANGE:+ and the PMEM range}"
echo "Each region is mapped as device memory and carved into 256 MiB slices,"
echo "each with its own page allocator and counters."
echo
if [[ -n ${MEMVIEW_CXL_REGION:-} ]]; then
	run memviewctl add-region --cxl "$MEMVIEW_CXL_REGION" --force --table
	echo
fi
if [[ -n ${MEMVIEW_PMEM_RANGE:-} ]]; then
	run memviewctl add-region --range "$MEMVIEW_PMEM_RANGE" --label pmem --table
	echo
fi
[[ $(memviewctl list -R --json | jq length) -gt 0 ]] ||
	die "no region to demo with: neither MEMVIEW_CXL_REGION nor MEMVIEW_PMEM_RANGE is set"
run memviewctl list --regions --slices --verbose --table

heading "Start a workload under memview, placed by hand (--manual)"
echo "mv-workload maps $WL_SIZE, fills it with a pattern, touches its first quarter"
echo "over and over (hot) and checks the checksum of all of it now and then."
echo
printf '$ memviewctl run --manual -- mv-workload --size %s --hot-fraction 0.25 &\n' \
	"$WL_SIZE"
"$MEMVIEWCTL" run --manual -- "$MV_WORKLOAD" --size "$WL_SIZE" \
	--hot-fraction 0.25 --verify-interval 5 >"$wl_out" &
run_pid=$!
for ((i = 0; i < 600; i++)); do
	[[ $(head -n 1 "$wl_out") == pid=* ]] && break
	kill -0 "$run_pid" 2>/dev/null || die "the workload ended early: $(cat "$wl_out")"
	sleep 0.1
done
line=$(head -n 1 "$wl_out")
[[ $line == pid=* ]] || die "mv-workload printed no pid line"
echo "$line"
wl_pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$line")
addr=$(sed -n 's/.*addr=\(0x[0-9a-f]*\).*/\1/p' <<<"$line")
len=$(sed -n 's/.* len=\([0-9]*\).*/\1/p' <<<"$line")
hot=$(sed -n 's/.*hot_len=\([0-9]*\).*/\1/p' <<<"$line")
cold_addr=$(printf '0x%x' $((addr + hot)))
cold_len=$((len - hot))
echo
echo "All of it is in DRAM (DRAM PAGES); the slices are empty:"
echo
run memviewctl list --verbose --table

heading "Demote the cold part ($((cold_len >> 20)) MiB after the hot quarter) to the slices"
echo "Each page is counted once: moved, or why not."
echo
run memviewctl demote "$wl_pid" "$cold_addr" "$cold_len" --table
echo
echo "The pages now live in the slices (USED, MIGR-IN; SLICE PAGES per process):"
echo
run memviewctl list --verbose --table

back=$((cold_len / 4 / 4096 * 4096))
heading "Promote $((back >> 20)) MiB of it back to DRAM"
run memviewctl promote "$wl_pid" "$cold_addr" "$back" --table
echo
echo "Fewer pages in the slices, MIGR-OUT counts the ones that left:"
echo
run memviewctl list --verbose --table

heading "Stop the workload: it checks every page one last time"
printf '$ kill -TERM %s\n' "$wl_pid"
kill -TERM "$wl_pid"
rc=0
wait "$run_pid" || rc=$?
wl_pid=''
tail -n 1 "$wl_out"
((rc == 0)) || die "the workload exited $rc: its checksum did not hold"
grep -q '^result=ok ' "$wl_out" || die "the workload's checksum did not hold"
echo
echo "Its pages in the slices were freed when it exited:"
echo
run memviewctl list --verbose --table

heading "Automatic tiering: a workload under a $BUDGET DRAM budget"
echo "The placer (kernel thread memviewd) scans the page tables every round,"
echo "keeps a heat estimate per page, demotes what stays idle and keeps the"
echo "process within its DRAM budget, hot pages first.  Nobody calls demote."
echo
printf '$ memviewctl run --budget %s -- mv-workload --size %s --hot-fraction 0.25 --verify-interval 0 &\n' \
	"$BUDGET" "$WL_SIZE"
"$MEMVIEWCTL" run --budget "$BUDGET" -- "$MV_WORKLOAD" --size "$WL_SIZE" \
	--hot-fraction 0.25 --verify-interval 0 >"$wl_out" &
run_pid=$!
for ((i = 0; i < 600; i++)); do
	[[ $(head -n 1 "$wl_out") == pid=* ]] && break
	kill -0 "$run_pid" 2>/dev/null || die "the workload ended early: $(cat "$wl_out")"
	sleep 0.1
done
wl_pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$(head -n 1 "$wl_out")")
[[ -n $wl_pid ]] || die "mv-workload printed no pid line"
rounds() { memviewctl stats --json | jq .rounds; }
r0=$(rounds)
for target in 3 20; do
	while (($(rounds) < r0 + target)); do
		kill -0 "$run_pid" 2>/dev/null || die "the workload ended early"
		sleep 0.2
	done
	echo "After $target placer rounds:"
	echo
	run memviewctl top --once
	echo
done
run memviewctl stats "$wl_pid" --table
printf '$ kill -TERM %s\n' "$wl_pid"
kill -TERM "$wl_pid"
rc=0
wait "$run_pid" || rc=$?
wl_pid=''
tail -n 1 "$wl_out"
((rc == 0)) || die "the workload exited $rc: its checksum did not hold"

heading "Give the regions back"
# The workload's pages go back to the slices when its memory is torn down,
# which the placer can hold off for the batch it is moving; remove-region
# refuses (EBUSY) while pages are in use, so wait for them first.
for ((i = 0; i < 100; i++)); do
	(($(memviewctl list -R --json | jq '[.[].used_pages] | add // 0') == 0)) && break
	sleep 0.1
done
run memviewctl remove-region --all
run memviewctl list --table
if ((loaded_here)); then
	run rmmod memview
fi
printf '\ndemo: ok\n'
