#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bad input (unknown option or command, bad size "12Q", bad range, bad policy or top option, unknown region, CXL region or namespace, nonexistent or unattached pid, --move-all without CAP_SYS_NICE) gives a message naming it and a non-zero exit.
set -euo pipefail
. "$(dirname "$0")/lib.bash"

check_prereqs

usage_err() {
	expect_fail "$@"
	((LAST_RC == 1)) || fail "usage error exited $LAST_RC, want 1"
}

# a pid that is not running
nopid=4194000
while kill -0 "$nopid" 2>/dev/null; do
	nopid=$((nopid + 1))
done

# usage errors: exit 1, the bad argument named, a pointer to --help
usage_err memviewctl list --bogus -- "unknown option '--bogus'" "memviewctl list --help"
usage_err memviewctl list -x -- "unknown option '-x'"
usage_err memviewctl list --json --table -- 'exclude each other'
usage_err memviewctl frobnicate -- "unknown command 'frobnicate'"
usage_err memviewctl attach -- 'missing PID'
usage_err memviewctl attach 12abc -- "invalid pid '12abc'"
usage_err memviewctl attach 1 --budget 12Q -- "invalid size '12Q' for --budget"
usage_err memviewctl run --budget 12Q -- true -- "invalid size '12Q' for --budget"
usage_err memviewctl run --budget -- "option '--budget' needs a value"
usage_err memviewctl run -- 'missing the command'
usage_err memviewctl demote 1 0x1000 12Q -- "invalid length '12Q'"
usage_err memviewctl demote 1 zzz 4K -- "invalid address 'zzz'"
usage_err memviewctl demote 1 0x1001 4K -- 'multiples of the page size'
usage_err memviewctl demote 1 0x1000 -- 'missing LEN'
usage_err memviewctl demote 1 0x1000 4K --node 0 -- "unknown option '--node'"
usage_err memviewctl promote 1 0x1000 4K --node x -- "invalid node 'x'"
usage_err memviewctl add-region -- 'exactly one of --cxl, --pmem, --range'
usage_err memviewctl add-region --range 0x100000000:12Q -- "invalid range '0x100000000:12Q'"
usage_err memviewctl add-region --range 0x100000000 -- "invalid range '0x100000000'"
usage_err memviewctl add-region --range 0x100000000:1G --label "$(printf 'x%.0s' {1..40})" -- 'label .* must be 1 to 31 characters'
usage_err memviewctl remove-region -- 'name the regions to remove'
usage_err memviewctl remove-region --all 0 -- '--all takes no region names'
usage_err memviewctl attach 1 --manual --follow-children -- '--follow-children needs automatic tiering' 'excludes --manual'
usage_err memviewctl run --follow-children --manual -- true -- '--follow-children needs automatic tiering'
usage_err memviewctl run --hot-rounds 0 -- true -- "invalid value '0' for --hot-rounds: must be 1..64"
usage_err memviewctl run --samplers -- "option '--samplers' needs a value"
usage_err memviewctl set-policy -- 'nothing to set'
usage_err memviewctl set-policy --scan-interval 1s -- "invalid value '1s' for --scan-interval: not a number"
usage_err memviewctl get-policy --scan-interval 100 -- "unknown option '--scan-interval'"
usage_err memviewctl stats abc -- "invalid pid 'abc'"
usage_err memviewctl stats 1 2 -- "unexpected argument '2'"
usage_err memviewctl top -d 0 -- "invalid interval '0' for -d"
usage_err memviewctl top -d x -- "invalid interval 'x' for -d"
usage_err memviewctl top -n 0 -- "invalid count '0' for -n"
usage_err memviewctl top --once -n 3 -- 'exclude each other'
for cmd in list info add-region remove-region attach detach run demote promote \
	set-policy get-policy stats top; do
	"$MEMVIEWCTL" "$cmd" --help | grep -q "^usage: memviewctl $cmd" ||
		fail "memviewctl $cmd --help prints no usage"
done

# things that do not exist
expect_fail memviewctl remove-region nope -- "no region 'nope'" 'memviewctl list -R'
expect_fail memviewctl remove-region 4000 -- "no region '4000'"
expect_fail memviewctl attach "$nopid" -- "no process $nopid"
expect_fail memviewctl detach "$nopid" -- "no process $nopid"
expect_fail memviewctl demote "$nopid" 0x1000 4K -- "no process $nopid"
expect_fail memviewctl detach 1 -- 'process 1 is not attached'
expect_fail memviewctl demote $$ 0x1000 4K -- "process $$ is not attached" "memviewctl attach $$"
# --move-all needs CAP_SYS_NICE (checked before the process is looked up)
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if command -v setpriv >/dev/null && "${nobody[@]}" "$MEMVIEWCTL" --version >/dev/null 2>&1; then
	expect_fail "${nobody[@]}" "$MEMVIEWCTL" demote $$ 0x1000 4K --move-all -- '--move-all needs CAP_SYS_NICE' 'without --move-all'
fi
expect_fail memviewctl stats "$nopid" -- "no process $nopid"
expect_fail memviewctl stats $$ -- "process $$ is not attached" "memviewctl attach $$"
expect_fail memviewctl add-region --cxl region99 -- "no CXL region 'region99'" 'cxl list'
expect_fail memviewctl add-region --pmem namespace99.0 -- "no PMEM namespace 'namespace99.0'" 'ndctl list'
expect_fail memviewctl run -- /nonexistent/cmd -- "cannot run '/nonexistent/cmd'"
((LAST_RC == 127)) || fail "run of a missing command exited $LAST_RC, want 127"

# ranges the module refuses, with the reason
expect_fail memviewctl add-region --range 0x100001000:256M -- 'must start on 2 MiB'
expect_fail memviewctl add-region --range 0x100000000:64M -- 'at least one slice'
# low memory is System RAM
expect_fail memviewctl add-region --range 0x10000000:256M -- 'cannot add range' 'System RAM|/proc/iomem'

# an attached process: attaching twice, and a node that does not exist
sleep 300 &
spid=$!
memviewctl attach "$spid" --budget 1M
expect_fail memviewctl attach "$spid" -- "process $spid is already attached"
expect_fail memviewctl promote "$spid" 0x1000 4K --node 4000 -- 'node 4000'
memviewctl detach "$spid"
kill "$spid"
wait "$spid" 2>/dev/null || true

jqe "$(memviewctl list -R --json)" 'length == 0'
