#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check-debug`: the whole suite (scripts/check.sh) on the debug kernel
# built by scripts/debug-kernel.sh (KASAN, lockdep, DEBUG_VM, kmemleak,
# DEBUG_ATOMIC_SLEEP, fault injection).  Slow: not part of `make check` or
# CI; Documentation/testing.rst has the times.  Builds the kernel first if it
# is not cached (about an hour on 2 CPUs).
#
# Two guest runs, each summed up by scripts/check.sh: run_tests.sh (the whole
# suite, with kmemleak scans at the end), then fault_inject.sh (memview's
# error paths under failslab / fail_page_alloc; MEMVIEW_FI=0 skips it).
#
# usage: scripts/check-debug.sh
# Environment: as scripts/check.sh; MEMVIEW_VM_TIMEOUT defaults to 4 hours,
# MEMVIEW_TEST_MB (the tests' data sizes) to 8.
# The guest boots with no_timer_check (under TCG the instrumented kernel
# can be too slow for the IO-APIC timer check, which then panics: "IO-APIC
# + timer doesn't work!") and a hung-task timeout of 300 s (the kernel is
# several times slower than a stock one).  KASAN reports its first bug only, unless
# MEMVIEW_KASAN_MULTI=1 (kasan_multi_shot: every report; one bug can then
# print thousands, one per page, and slow the run to a crawl).
set -euo pipefail

{

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$MEMVIEW_ROOT"
scripts/setup-host.sh
kver=$(scripts/debug-kernel.sh)
export MEMVIEW_VM_TIMEOUT=${MEMVIEW_VM_TIMEOUT:-14400}
multi=''
[[ ${MEMVIEW_KASAN_MULTI:-0} == 0 ]] || multi=kasan_multi_shot
export MEMVIEW_VM_APPEND="$multi no_timer_check sysctl.kernel.hung_task_timeout_secs=300 ${MEMVIEW_VM_APPEND:-}"
rc=0
echo "==== the suite on $kver ===="
MEMVIEW_TEST_CMD="env MEMVIEW_TEST_MB=${MEMVIEW_TEST_MB:-8} selftests/memview/run_tests.sh" \
	scripts/check.sh "$kver" || rc=1
if [[ ${MEMVIEW_FI:-1} != 0 ]]; then
	echo "==== fault injection on $kver ===="
	MEMVIEW_VM_ALLOC_FAILURES_OK=1 \
	MEMVIEW_TEST_CMD="env MEMVIEW_TEST_MB=${MEMVIEW_TEST_MB:-8} selftests/memview/fault_inject.sh" \
		scripts/check.sh "$kver" || rc=1
fi
exit "$rc"
}
