#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run_tests.sh: run the memview selftests inside a test guest, as root.
#
# Loads build/$MEMVIEW_KVER/memview.ko, runs every kselftest binary of this
# directory, then every executable selftests/memview/cli/*.sh, then
# rmmod_test.sh (which unloads the module), unloads the module if it is still
# there, and checks the kernel log of the run.  Every test's output goes to
# stdout.  The last line is exactly
#   memview-selftests: N passed, N failed, N skipped
# where a kselftest binary counts one test per TAP result line ("ok",
# "not ok", "ok ... # SKIP") and every script counts one (exit 0 pass, 77
# skip, anything else fail).  Exit status: 1 if anything failed, else 0.
#
# Environment: MEMVIEW_KVER (default uname -r), the MEMVIEW_*_RANGE variables
# of the harness, MEMVIEW_TESTS (kselftest binaries to run, default all),
# MEMVIEW_CLI=0 (do not run cli/*.sh), or MEMVIEW_CLI="migrate bad-input" (run
# only those cli/*.sh).
#
# A skip must be listed in expected-skips/<kernel series> (results.sh,
# skips_check): otherwise the result "expected-skips" fails.
#
# On a kernel with kmemleak (scripts/debug-kernel.sh) two more results,
# kmemleak-loaded and kmemleak-unloaded, fail when kmemleak finds objects
# left unreferenced during the run (the report is printed).
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
kver=${MEMVIEW_KVER:-$(uname -r)}
ko=$repo/build/$kver/memview.ko
tests=${MEMVIEW_TESTS:-"region_test migrate_test fork_test perm_test busy_test hwpoison_test ras_test tiering_test uninit_test exhaust_test host_test fuzz_test stress_test"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=selftests/memview/results.sh
. "$here/results.sh"
now() { date +%s; }

# Run a kselftest binary, stream its output, count its TAP result lines.
run_ksft() {
	bin=$here/$1
	if [ ! -x "$bin" ]; then
		result fail "$1" "(not built: make -C selftests/memview)"
		return
	fi
	say "running $1"
	t0=$(now)
	{ "$bin" 2>&1; echo $? >"$tmp/rc"; } | tee "$tmp/out"
	rc=$(cat "$tmp/rc")
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$tmp/out" | head -n 1)
	s=$(grep -cE '^ok [0-9]+ # SKIP' "$tmp/out")
	p=$(grep -cE '^ok [0-9]+' "$tmp/out")
	p=$((p - s))
	f=$(grep -cE '^not ok [0-9]+' "$tmp/out")
	# Results that never came (the binary died) are failures.
	if [ -n "$plan" ] && [ $((p + s + f)) -lt "$plan" ]; then
		say "$1: only $((p + s + f)) of $plan results"
		f=$((plan - p - s))
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		say "$1: exited $rc without a failed test"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	record_ksft_skips "$1" "$tmp/out"
	say "$1: $p passed, $f failed, $s skipped in $(($(now) - t0)) s"
}

# Run a test script: exit 0 pass, 77 skip, else fail.
run_script() {
	name=${1#"$repo"/}
	say "running $name"
	t0=$(now)
	"$1" 2>&1
	rc=$?
	case $rc in
	0) result pass "$name" ;;
	77) result skip "$name" "(exit 77)" ;;
	*) result fail "$name" "(exit $rc)" ;;
	esac
	say "$name: $(($(now) - t0)) s"
}

[ "$(id -u)" = 0 ] || { say "must run as root"; failed=1; summary; }
say "kernel $kver, module $ko"
for v in MEMVIEW_CXL_RANGE MEMVIEW_CXL_REGION MEMVIEW_PMEM_RANGE MEMVIEW_PMEM_NS MEMVIEW_CXL_RAM_RANGE; do
	eval "val=\${$v:-}"
	say "$v=${val:-(unset)}"
done
kmemleak_init
log_mark "run $$ starts"
load_module "$ko"

for t in $tests; do
	run_ksft "$t"
done
case ${MEMVIEW_CLI:-1} in
0) ;;
1)
	for s in "$here"/cli/*.sh; do
		[ -f "$s" ] && [ -x "$s" ] && run_script "$s"
	done
	;;
*)
	for s in $MEMVIEW_CLI; do
		run_script "$here/cli/$s.sh"
	done
	;;
esac
# Leaks while the module is loaded (backtraces with its symbols), then
# after it is gone.
kmemleak_check kmemleak-loaded
run_script "$here/rmmod_test.sh"

if loaded; then
	if out=$(rmmod memview 2>&1); then
		result pass "rmmod-at-end"
	else
		result fail "rmmod-at-end" "($out)"
	fi
fi

kmemleak_check kmemleak-unloaded
skips_check "$here/expected-skips" "$kver"

# The kernel must not have complained during the run.
dmesg_check
if [ "$failed" -ne 0 ]; then
	say "kernel log of the run:"
	cat "$tmp/dmesg"
fi
summary
