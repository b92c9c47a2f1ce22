#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# memviewctl run: the command is managed from its first instruction (across execve), tiered automatically unless --manual, its forked children attached with --follow-children, gets the NUMA binding, and its exit status or signal comes back.
set -euo pipefail
. "$(dirname "$0")/lib.bash"

check_prereqs
ctl_path=$(readlink -f "$MEMVIEWCTL")

# managed before it runs: the exec'd shell finds its own pid in the list
out=$(memviewctl run --budget 32M -- sh -c "echo \$\$; '$ctl_path' list -P --json")
pid=$(head -n 1 <<<"$out")
jqe "$(tail -n +2 <<<"$out")" "any(.[]; .pid == $pid and .comm == \"sh\" and .dram_budget == $((32 << 20))
	and .mode == \"auto\" and .follow_children == false)"
# and detached when it ended
jqe "$(memviewctl list -P --json)" "all(.[]; .pid != $pid)"
# --manual: not tiered automatically; --follow-children: flagged so
out=$(memviewctl run --manual -- sh -c "echo \$\$; '$ctl_path' list -P --json")
pid=$(head -n 1 <<<"$out")
jqe "$(tail -n +2 <<<"$out")" "any(.[]; .pid == $pid and .mode == \"manual\" and .follow_children == false)"
out=$(memviewctl run --follow-children -- sh -c "echo \$\$; '$ctl_path' list -P --json")
pid=$(head -n 1 <<<"$out")
jqe "$(tail -n +2 <<<"$out")" "any(.[]; .pid == $pid and .mode == \"auto\" and .follow_children == true)"

# the children a --follow-children command forks are attached by the placer
# when they first fault (the page-fault sampler sees them); those of a
# command without it are not
if [[ $(memviewctl get-policy --json | jq -r .fault_sampler) == none ]]; then
	log "no page-fault sampler on this kernel: not checking that children are followed"
else
	listed() {
		"$MEMVIEWCTL" list -P --json | jq -e --argjson p "$1" 'any(.[]; .pid == $p)' >/dev/null
	}
	for follow in --follow-children ''; do
		# shellcheck disable=SC2016 # $! and $1 are the inner shell's
		"$MEMVIEWCTL" run $follow --budget 48M -- sh -c 'sleep 300 & echo $! >"$1"; wait' sh "$TMPD/child" &
		rpid=$!
		while [[ ! -s $TMPD/child ]]; do
			kill -0 "$rpid" 2>/dev/null || fail "run $follow -- sh ended early"
			sleep 0.1
		done
		cpid=$(cat "$TMPD/child")
		if [[ -n $follow ]]; then
			# the placer adopts it in a round after its first fault
			r0=$(stat_of rounds)
			until listed "$cpid"; do
				wait_rounds 1
				(($(stat_of rounds) - r0 < 50)) || fail "child $cpid of a --follow-children command not attached after 50 placer rounds"
			done
			jqe "$(memviewctl list -P --json)" "any(.[]; .pid == $cpid and .mode == \"auto\"
				and .follow_children == true and .dram_budget == $((48 << 20)))"
		else
			wait_rounds 5
			jqe "$(memviewctl list -P --json)" "all(.[]; .pid != $cpid)"
		fi
		kill -TERM "$cpid"
		rc=0; wait "$rpid" || rc=$?
		((rc == 0)) || fail "run $follow -- sh exited $rc"
		rm -f "$TMPD/child"
	done
fi

# policy options: applied before the command starts (the policy is global)
save_policy
out=$(memviewctl run --scan-interval 170 --cold-rounds 7 -- "$ctl_path" get-policy --json)
jqe "$out" '.scan_interval_ms == 170 and .cold_rounds == 7'
jqe "$(memviewctl get-policy --json)" '.scan_interval_ms == 170 and .cold_rounds == 7'
restore_policy
jqe "$(memviewctl get-policy --json)" ".scan_interval_ms == $(jq .scan_interval_ms <<<"$SAVED_POLICY")"

# exit status, and 128 + the signal that killed it
rc=0; memviewctl run -- sh -c 'exit 7' || rc=$?
((rc == 7)) || fail "exit 7 came back as $rc"
rc=0; memviewctl run -- sh -c 'kill -KILL $$' || rc=$?
((rc == 137)) || fail "SIGKILL came back as $rc, want 137"

# a SIGTERM sent to memviewctl (the binary, not a subshell) reaches the
# command, and memviewctl exits as the command did
"$MEMVIEWCTL" run -- sleep 300 &
rpid=$!
for ((i = 0; i < 100; i++)); do
	spid=$(memviewctl list -P --json | jq '[.[] | select(.comm == "sleep")][0].pid // empty')
	[[ -z $spid ]] || break
	sleep 0.1
done
[[ -n $spid ]] || fail "memviewctl run -- sleep: sleep is not listed as managed"
kill -TERM "$rpid"
rc=0; wait "$rpid" || rc=$?
((rc == 143)) || fail "SIGTERM to memviewctl run: exit $rc, want 143"
! kill -0 "$spid" 2>/dev/null || fail "sleep $spid survived the SIGTERM sent to memviewctl"
jqe "$(memviewctl list -P --json)" "all(.[]; .pid != $spid)"

# numactl-like binding
if command -v numactl >/dev/null && numactl -H >/dev/null 2>&1; then
	out=$(memviewctl run --membind 0 -- cat /proc/self/numa_maps)
	grep -q ' bind:0 ' <<<"$out" || fail "--membind 0 not in numa_maps: $(head -n 3 <<<"$out")"
	want=$(numactl -N 0 -- grep Cpus_allowed_list /proc/self/status)
	got=$(memviewctl run --cpunodebind 0 -- grep Cpus_allowed_list /proc/self/status)
	[[ $got == "$want" ]] || fail "--cpunodebind 0 gives '$got', numactl '$want'"
	out=$(memviewctl run --interleave all -- cat /proc/self/numa_maps)
	grep -q ' interleave:' <<<"$out" || fail "--interleave all not in numa_maps"
fi
expect_fail memviewctl run --membind 0 --interleave 0 -- true -- 'exclude each other'
