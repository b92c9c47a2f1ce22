#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fault_inject.sh: memview's error paths under allocation failures, on the
# debug kernel (scripts/debug-kernel.sh: CONFIG_FAILSLAB,
# CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_STACKTRACE_FILTER).  Runs
# inside a test guest, as root, like run_tests.sh:
#
#   scripts/vm.sh 6.12.117-memview-debug \
#       'scripts/guest-run.sh selftests/memview/fault_inject.sh'
#
# Loads the module, then for each probability (percent) in
# MEMVIEW_FI_PROBABILITY (default "5 30") runs the kselftest binaries of
# MEMVIEW_FI_TESTS with failslab and fail_page_alloc failing that share of
# the slab and page allocations made with memview's code on the stack
# (require-start/require-end = the module's text, reject-start/reject-end =
# memremap_pages(), see below; every task, kernel
# threads included; sleeping allocations too).  The tests' own results do
# not count (they fail when their ioctls get ENOMEM); what counts, one
# result each:
#   fi-<p>-<test>       the binary ended by itself (not killed by the
#                       harness's watchdog or by `timeout`)
#   after-<test>        with injection off again, region_test and
#                       migrate_test pass: the module is still sane
#   remove-all          every region can be removed (with evacuation)
#   rmmod               the module unloads
#   kmemleak-unloaded   no leak (kmemleak) from the whole run
#   dmesg-clean         no WARNING/BUG/oops/lockdep/KASAN/hung task
# The last line is "memview-selftests: N passed, N failed, N skipped", as
# for run_tests.sh, so scripts/check.sh can run it (MEMVIEW_TEST_CMD).
# Skips (exit 0, all skipped) on a kernel without fault injection.
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
kver=${MEMVIEW_KVER:-$(uname -r)}
ko=$repo/build/$kver/memview.ko
tests=${MEMVIEW_FI_TESTS:-"region_test migrate_test fork_test busy_test ras_test tiering_test"}
probs=${MEMVIEW_FI_PROBABILITY:-"5 30"}
per_test_timeout=${MEMVIEW_FI_TIMEOUT:-1800}
D=/sys/kernel/debug
KMEMLEAK=$D/kmemleak
tmp=$(mktemp -d)
trap 'fi_off; rm -rf "$tmp"' EXIT
# shellcheck source=selftests/memview/results.sh
. "$here/results.sh"
# The allocation failures made here are reported by the kernel with a stack
# dump (warn_alloc); a "Call Trace" alone is no failure, every other report is.
KERNEL_BAD='WARNING:|BUG:|Oops|general protection fault|turning off the locking correctness validator|possible circular locking|INFO: task .* blocked for more than|Kernel panic|kernel BUG|UBSAN|KASAN|detected stalls|soft lockup'

fi_set() { # <attr> <value>: on both failslab and fail_page_alloc
	local f
	for f in failslab fail_page_alloc; do
		echo "$2" >"$D/$f/$1" || say "cannot write $2 to $D/$f/$1"
	done
}
fi_off() {
	[ -d $D/failslab ] || return 0
	echo 0 >$D/failslab/probability 2>/dev/null
	echo 0 >$D/fail_page_alloc/probability 2>/dev/null
}

[ "$(id -u)" = 0 ] || { say "must run as root"; failed=1; summary; }
if [ ! -d $D/failslab ] || [ ! -d $D/fail_page_alloc ] ||
	[ ! -e $D/failslab/require-start ]; then
	result skip fault-injection "(kernel without failslab/fail_page_alloc/stack filter)"
	summary
fi
say "kernel $kver, module $ko, probabilities: $probs %"

kmemleak_init
log_mark "fault injection run $$ starts"
load_module "$ko"

# memview's text: its lowest text symbol to a page past its highest.
syms=$(awk '$4 == "[memview]" && ($2 == "t" || $2 == "T") { print $1 }' /proc/kallsyms | sort)
first=$(echo "$syms" | head -n 1)
last=$(echo "$syms" | tail -n 1)
if [ -z "$first" ]; then
	result fail text-range "(no memview text symbols in /proc/kallsyms)"
	summary
fi
start=$(printf '0x%x' $((16#$first)))
end=$(printf '0x%x' $((16#$last + 0x1000)))
say "memview text $start..$end"

fi_off
fi_set interval 1
fi_set times -1
fi_set space 0
fi_set verbose 1
fi_set task-filter N
fi_set ignore-gfp-wait N
fi_set stacktrace-depth 32
fi_set require-start "$start"
fi_set require-end "$end"
# Not inside memremap_pages(): the kernel's own memory-hotplug path does not
# survive allocation failures there (x86 init_memory_mapping() uses a failed
# page-table allocation: a general protection fault in phys_pmd_init(), and
# add_pages() WARNs), which tests the kernel, not memview, and the oops left
# REGION_ADD's caller dead with the region lock held.  So memremap_pages()
# itself does not fail in this pass; every allocation of memview's own
# around it still can.
# Its start from /proc/kallsyms, and 16 KiB from there (no sort of the
# whole table: too slow on the debug kernel under TCG).
rej=$(awk '$3 == "memremap_pages" && ($2 == "T" || $2 == "t") { print $1; exit }' /proc/kallsyms)
if [ -n "$rej" ]; then
	fi_set reject-start "0x$rej"
	fi_set reject-end "$(printf '0x%x' $((16#$rej + 0x4000)))"
	say "not injecting inside memremap_pages (0x$rej + 16 KiB)"
else
	say "memremap_pages not in /proc/kallsyms: injecting there too"
fi
echo N >$D/fail_page_alloc/ignore-gfp-highmem
echo 0 >$D/fail_page_alloc/min-order

for p in $probs; do
	for t in $tests; do
		bin=$here/$t
		[ -x "$bin" ] || { result fail "fi-$p-$t" "(not built)"; continue; }
		say "running $t with $p % of memview's allocations failing"
		t0=$(date +%s)
		fi_set probability "$p"
		timeout -k 10 "$per_test_timeout" "$bin" >"$tmp/out" 2>&1
		rc=$?
		fi_off
		cat "$tmp/out"
		n_ok=$(grep -cE '^ok [0-9]+' "$tmp/out")
		n_bad=$(grep -cE '^not ok [0-9]+' "$tmp/out")
		n_to=$(grep -c 'terminated by timeout' "$tmp/out")
		why="(exit $rc; $n_ok ok, $n_bad not ok; $(($(date +%s) - t0)) s)"
		if [ "$rc" -ge 124 ] || [ "$n_to" -gt 0 ]; then
			result fail "fi-$p-$t" "$why: killed or timed out"
		else
			result pass "fi-$p-$t" "$why"
		fi
	done
done
fi_off
say "injected failures (printed, rate-limited): $(dmesg | sed -n "/$mark/,\$p" | grep -c 'FAULT_INJECTION: forcing a failure')"

# Injection off: the module must still work.
for t in region_test migrate_test; do
	"$here/$t" >"$tmp/out" 2>&1
	rc=$?
	cat "$tmp/out"
	if [ "$rc" = 0 ]; then
		result pass "after-$t"
	else
		result fail "after-$t" "(exit $rc)"
	fi
done

if "$here/mv-region" remove-all; then
	result pass remove-all
else
	result fail remove-all
fi
if out=$(rmmod memview 2>&1); then
	result pass rmmod
else
	result fail rmmod "($out)"
fi

kmemleak_check kmemleak-unloaded

dmesg_check
if grep -qE "$KERNEL_BAD" "$tmp/dmesg"; then
	say "kernel log of the run:"
	grep -v 'FAULT_INJECTION: forcing a failure\|^name f\|interval 1, probability' "$tmp/dmesg"
fi
summary
