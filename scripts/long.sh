#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The long forms of the fuzzer and the stress test, in a test guest.
#
# usage: scripts/long.sh fuzz|stress <iterations> [kver...]
#
# Builds (scripts/build.sh), then per kernel (default: every guest kernel)
# boots a guest and runs selftests/memview/run_tests.sh with only that
# program (plus the unload test and the kernel-log check it always does):
#   fuzz:   fuzz_test with MEMVIEW_FUZZ_ITER=<iterations> root calls (and
#           half as many unprivileged ones);
#   stress: stress_test --long with MEMVIEW_STRESS_ITER=<iterations>
#           operations per migrator thread.
# Environment passed on: MEMVIEW_FUZZ_SEED, MEMVIEW_STRESS_SEED,
# MEMVIEW_STRESS_WORKERS, MEMVIEW_STRESS_MB, MEMVIEW_STRESS_CXL_TOGGLE,
# MEMVIEW_FAULT_INJECT (debug kernel only), MEMVIEW_VM_TIMEOUT (default
# 7200 s here).  Logs: build/long/<what>-<kver>-<date>/ (guest.log has the
# call count, errno histogram, bytes migrated and operations).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# >= 2)) || die "usage: $0 fuzz|stress <iterations> [kver...]"
what=$1
iter=$2
shift 2
[[ $iter =~ ^[0-9]+$ ]] || die "iterations must be a number: $iter"
case $what in
fuzz) envs="MEMVIEW_TESTS=fuzz_test MEMVIEW_FUZZ_ITER=$iter" ;;
stress) envs="MEMVIEW_TESTS=stress_test MEMVIEW_STRESS_LONG=1 MEMVIEW_STRESS_ITER=$iter" ;;
*) die "unknown long form: $what (fuzz or stress)" ;;
esac
for v in MEMVIEW_FUZZ_SEED MEMVIEW_STRESS_SEED MEMVIEW_STRESS_WORKERS \
	MEMVIEW_STRESS_MB MEMVIEW_STRESS_CXL_TOGGLE MEMVIEW_FAULT_INJECT; do
	if [[ -n ${!v:-} ]]; then
		[[ ${!v} =~ ^[0-9a-fA-Fx]+$ ]] || die "$v must be a number"
		envs+=" $v=${!v}"
	fi
done
export MEMVIEW_VM_TIMEOUT=${MEMVIEW_VM_TIMEOUT:-7200}

cd "$MEMVIEW_ROOT"
if (($#)); then
	kvers=("$@")
else
	mapfile -t kvers < <(memview_kernels)
fi
scripts/build.sh "${kvers[@]}"
rc=0
for kver in "${kvers[@]}"; do
	out=$MEMVIEW_ROOT/build/long/$what-$kver-$(date +%Y%m%d-%H%M%S)
	log "$what, $iter iterations, on $kver: $out"
	scripts/vm.sh "$kver" \
		"$envs MEMVIEW_CLI=0 scripts/guest-run.sh selftests/memview/run_tests.sh" \
		"$out" || rc=1
	grep -E '^# (fuzz_test|root|unpriv|stress)|^(not )?ok |memview-selftests: [0-9]' \
		"$out/guest.log" || true
done
exit $rc
