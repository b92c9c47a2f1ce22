# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0
#
# results.sh: what run_tests.sh and fault_inject.sh share (POSIX sh, sourced
# by both): counting results, the summary line scripts/check.sh reads, the
# module load, kmemleak and the kernel-log check.  The sourcing script sets
# $tmp (a scratch directory) first.

: "${tmp:?results.sh: set tmp first}"

KERNEL_BAD='WARNING:|BUG:|Oops|general protection fault|Call Trace|lockdep|possible circular locking|INFO: task .* blocked for more than|Kernel panic|kernel BUG|UBSAN|KASAN'
passed=0 failed=0 skipped=0

say() { echo "memview-selftests: $*"; }
# The last line of a run; exit status 1 if anything failed.
summary() {
	say "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit $?
}
# One test result that is not a kselftest TAP line.
result() { # <pass|fail|skip> <name> [why]
	case $1 in
	pass) passed=$((passed + 1)); say "ok $2" ;;
	skip) skipped=$((skipped + 1)); echo "$2" >>"$tmp/skips"; say "ok $2 # SKIP ${3:-}" ;;
	*) failed=$((failed + 1)); say "not ok $2 ${3:-}" ;;
	esac
}
loaded() { grep -q '^memview ' /proc/modules; }

# Record the names of the tests a kselftest binary skipped, as
# <binary>/<fixture>.<variant>.<test>: the harness names a test on its
# "#  RUN" line and gives only the number on its "ok N # SKIP" line.
record_ksft_skips() { # <binary> <its output>
	awk -v bin="$1" '
		$1 == "#" && $2 == "RUN" { name = $3 }
		/^ok [0-9]+ # SKIP/ { print bin "/" name }
	' "$2" >>"$tmp/skips"
}

# Every skip must be expected: selftests/memview/expected-skips/<series>
# (6.1, 6.12, 7.3: the kernel's first two numbers) lists, one shell pattern
# a line, the tests that cannot run on that kernel (# comments).  A skip
# not listed is the failed result "expected-skips": a test that starts
# skipping has stopped testing something.
skips_check() { # <expected-skips directory> <kernel release>
	_series=$(echo "$2" | sed -E 's/^([0-9]+\.[0-9]+).*/\1/')
	_list=$1/$_series
	[ -s "$tmp/skips" ] || { result pass expected-skips; return 0; }
	if [ ! -f "$_list" ]; then
		result fail expected-skips "(no list $_list for kernel $2)"
		return 0
	fi
	: >"$tmp/unexpected"
	while IFS= read -r _name; do
		_ok=0
		while IFS= read -r _pat; do
			case $_pat in '' | '#'*) continue ;; esac
			# shellcheck disable=SC2254 # the pattern is meant
			case $_name in $_pat) _ok=1; break ;; esac
		done <"$_list"
		[ "$_ok" = 1 ] || echo "$_name" >>"$tmp/unexpected"
	done <"$tmp/skips"
	if [ -s "$tmp/unexpected" ]; then
		say "skipped, but not in $_list:"
		sed 's/^/memview-selftests:   /' "$tmp/unexpected"
		result fail expected-skips "($(wc -l <"$tmp/unexpected") unexpected skips)"
	else
		result pass expected-skips
	fi
}

# Load <ko> fresh (unloading a memview already there) and wait for the
# device; a failure is the result "insmod" and ends the run.
load_module() { # <ko>
	if loaded; then
		say "memview already loaded: unloading it first"
		rmmod memview || { result fail insmod "(a memview module is loaded and cannot be removed)"; summary; }
	fi
	insmod "$1" || { result fail insmod "($1 does not load)"; summary; }
	_i=0
	while [ ! -c /dev/memview ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ -c /dev/memview ] || say "/dev/memview did not appear"
}

# On a kernel with kmemleak (the debug kernel, scripts/debug-kernel.sh):
# report what is already unreferenced (boot, guest setup) and forget it, so
# that the scans at the end see only this run's leaks.  No automatic scans
# on that kernel: nothing is reported in the middle of a run.
KMEMLEAK=/sys/kernel/debug/kmemleak
kmemleak=0
kmemleak_init() {
	[ -w "$KMEMLEAK" ] || return 0
	kmemleak=1
	say "kmemleak: initial scan"
	echo scan >"$KMEMLEAK"
	echo clear >"$KMEMLEAK"
}
# Two scans (an object whose contents changed since the previous scan is
# not reported yet), then the report, if any, is a failed test.
kmemleak_check() { # <test name>
	[ "$kmemleak" = 1 ] || return 0
	echo scan >"$KMEMLEAK"
	sleep 1
	echo scan >"$KMEMLEAK"
	cat "$KMEMLEAK" >"$tmp/kmemleak"
	if [ -s "$tmp/kmemleak" ]; then
		cat "$tmp/kmemleak"
		result fail "$1" "(kmemleak: $(grep -c '^unreferenced object' "$tmp/kmemleak") unreferenced objects)"
		echo clear >"$KMEMLEAK"
	else
		result pass "$1"
	fi
}

# A marker in the kernel log: what follows it is this run's.
log_mark() { # <text>
	mark="memview-selftests: $1"
	echo "$mark" >/dev/kmsg 2>/dev/null
}
# The kernel must not have complained since the marker: the result
# "dmesg-clean".  The run's log is left in $tmp/dmesg.
dmesg_check() {
	dmesg | sed -n "/$mark/,\$p" >"$tmp/dmesg"
	[ -s "$tmp/dmesg" ] || dmesg >"$tmp/dmesg"	# the marker scrolled away
	if grep -qE "$KERNEL_BAD" "$tmp/dmesg"; then
		result fail dmesg-clean "(kernel warnings during the run)"
	else
		result pass dmesg-clean
	fi
}
