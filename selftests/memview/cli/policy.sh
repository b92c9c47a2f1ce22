#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# set-policy/get-policy round trip in JSON: only the options given change, the limits of every range are taken, each bad value is refused with a message naming it and changes nothing.
set -euo pipefail
. "$(dirname "$0")/lib.bash"

check_prereqs
save_policy
before=$SAVED_POLICY
keys='["cold_rounds","demote_rate_mbps","fault_sampler","hot_rounds","hysteresis_rounds",
	"max_scan_us","pages_per_round","pingpong_rounds","promote_rate_mbps","sample_period",
	"samplers","scan_interval_ms"]'
# a module with fault isolation adds its policy (ras.sh tests it)
if "$MEMVIEWCTL" info --json | jq -e '.features | index("ras")' >/dev/null; then
	keys=$(jq -c '. + ["ce_threshold","ce_window_ms","fence_on_ce","fence_on_ue"] | sort' <<<"$keys")
fi
jqe "$before" "keys == $keys"
jqe "$before" '.fault_sampler == "none" or .fault_sampler == "sw-page-fault"'
jqe "$before" '.samplers - ["access", "faults"] == []'
log "policy now: $(jq -c . <<<"$before")"

# same_but JSON FILTER: the policy is $before with FILTER applied
same_but() {
	jqe "$1" ". == (\$b | $2)" --argjson b "$before"
}

# one option: only that field changes, and get-policy says the same
out=$(memviewctl set-policy --scan-interval 150 --json)
same_but "$out" '.scan_interval_ms = 150'
jqe "$(memviewctl get-policy --json)" ". == $out"
before=$out

out=$(memviewctl set-policy --hot-rounds 3 --cold-rounds 5 --json)
same_but "$out" '.hot_rounds = 3 | .cold_rounds = 5'
before=$out

# all of them at once
out=$(memviewctl set-policy --scan-interval 300 --pages-per-round 4096 --max-scan-us 20000 \
	--hot-rounds 4 --cold-rounds 6 --hysteresis 0 --pingpong-rounds 10 \
	--promote-rate 0 --demote-rate 64 --sample-period 10 --samplers access --json)
same_but "$out" '.scan_interval_ms = 300 | .pages_per_round = 4096 | .max_scan_us = 20000 |
	.hot_rounds = 4 | .cold_rounds = 6 | .hysteresis_rounds = 0 | .pingpong_rounds = 10 |
	.promote_rate_mbps = 0 | .demote_rate_mbps = 64 | .sample_period = 10 | .samplers = ["access"]'
jqe "$(memviewctl get-policy --json)" ". == $out"
before=$out

# samplers: each combination, in either order
for s in none faults access access,faults faults,access; do
	out=$(memviewctl set-policy --samplers "$s" --json)
	case $s in
	none) want='[]' ;;
	faults) want='["faults"]' ;;
	access) want='["access"]' ;;
	*) want='["access","faults"]' ;;
	esac
	same_but "$out" ".samplers = $want"
done
before=$out

# the limits of each range are taken
out=$(memviewctl set-policy --scan-interval 10 --pages-per-round 512 --max-scan-us 100 \
	--hot-rounds 1 --cold-rounds 1 --hysteresis 0 --pingpong-rounds 1 \
	--promote-rate 0 --demote-rate 0 --sample-period 1 --json)
same_but "$out" '.scan_interval_ms = 10 | .pages_per_round = 512 | .max_scan_us = 100 |
	.hot_rounds = 1 | .cold_rounds = 1 | .hysteresis_rounds = 0 | .pingpong_rounds = 1 |
	.promote_rate_mbps = 0 | .demote_rate_mbps = 0 | .sample_period = 1'
before=$out
# (not the longest scan interval: the placer would sleep that long before
# it read the policy again, and hold up the tests after this one)
out=$(memviewctl set-policy --scan-interval 200 --pages-per-round 16777216 --max-scan-us 10000000 \
	--hot-rounds 64 --cold-rounds 64 --hysteresis 1000 --pingpong-rounds 1000 \
	--promote-rate 1048576 --demote-rate 1048576 --sample-period 1000000 --json)
same_but "$out" '.scan_interval_ms = 200 | .pages_per_round = 16777216 | .max_scan_us = 10000000 |
	.hot_rounds = 64 | .cold_rounds = 64 | .hysteresis_rounds = 1000 | .pingpong_rounds = 1000 |
	.promote_rate_mbps = 1048576 | .demote_rate_mbps = 1048576 | .sample_period = 1000000'
before=$out

# bad values: refused with the option and the range named, exit 1, nothing changed
bad() {
	expect_fail memviewctl set-policy "$@"
	((LAST_RC == 1)) || fail "set-policy ${*:1:2} exited $LAST_RC, want 1"
	jqe "$(memviewctl get-policy --json)" ". == $before"
}
bad --scan-interval 5 -- "invalid value '5' for --scan-interval: must be 10..60000 ms"
bad --scan-interval 60001 -- "invalid value '60001' for --scan-interval: must be 10..60000"
bad --hot-rounds 0 -- "invalid value '0' for --hot-rounds: must be 1..64"
bad --cold-rounds 65 -- "invalid value '65' for --cold-rounds: must be 1..64"
bad --pages-per-round 511 -- "invalid value '511' for --pages-per-round: must be 512..16777216"
bad --max-scan-us 99 -- "invalid value '99' for --max-scan-us: must be 100..10000000"
bad --hysteresis 1001 -- "invalid value '1001' for --hysteresis: must be 0..1000"
bad --hysteresis -1 -- "invalid value '-1' for --hysteresis: not a number"
bad --pingpong-rounds 0 -- "invalid value '0' for --pingpong-rounds: must be 1..1000"
bad --promote-rate 1048577 -- "invalid value '1048577' for --promote-rate: must be 0..1048576 MiB/s"
bad --demote-rate 12M -- "invalid value '12M' for --demote-rate: not a number"
bad --sample-period 0 -- "invalid value '0' for --sample-period: must be 1..1000000"
bad --samplers bogus -- "invalid value 'bogus' for --samplers"
bad --samplers access,access -- "invalid value 'access,access' for --samplers"
bad --samplers '' -- "invalid value '' for --samplers"
bad --scan-interval 99999999999999999999 -- "for --scan-interval: must be 10..60000"
# one bad value among good ones: none of them is set
bad --scan-interval 100 --hot-rounds 99 -- "invalid value '99' for --hot-rounds"
bad -- 'nothing to set'

# the table for people names the knobs, the sampler and that it is global
table=$(memviewctl get-policy --table)
for word in scan-interval pages-per-round max-scan-us hot-rounds cold-rounds hysteresis \
	pingpong-rounds promote-rate demote-rate sample-period samplers fault-sampler 'whole module'; do
	grep -q -- "$word" <<<"$table" || fail "get-policy --table does not show $word: $table"
done

# setting needs CAP_SYS_ADMIN; reading does not
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if command -v setpriv >/dev/null && "${nobody[@]}" "$MEMVIEWCTL" --version >/dev/null 2>&1; then
	expect_fail "${nobody[@]}" "$MEMVIEWCTL" set-policy --scan-interval 100 -- 'cannot set the policy' 'needs root'
	"${nobody[@]}" "$MEMVIEWCTL" get-policy --json >/dev/null ||
		fail "get-policy as nobody failed"
	jqe "$(memviewctl get-policy --json)" ". == $before"
fi

restore_policy
jqe "$(memviewctl get-policy --json)" ". == $SAVED_POLICY"
