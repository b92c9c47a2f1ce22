#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: install what is missing, build for every guest kernel, run
# the selftests in one QEMU guest per kernel, and sum up.
#
# usage: scripts/check.sh [kver...]        (default: the three guest kernels)
#
# Each guest runs `scripts/guest-run.sh $MEMVIEW_TEST_CMD` (default
# selftests/memview/run_tests.sh), whose last line of output must be
#   memview-selftests: N passed, N failed, N skipped
# A guest that fails in any other way (timeout, kernel warning/oops, no
# summary, non-zero exit without a failed test) adds a failed test named
# after the kernel and the reason.  The last line printed is the total:
#   N passed, N failed, N skipped
# Logs: build/check/<run>/<kver>/ (guest.log, serial.log, dmesg, env, ...);
# build/check/latest points to the last run.  The ten newest runs are kept.
#
# The guests run side by side (each is mostly one busy vCPU, and much of a
# test run is waiting for placer rounds); their output is printed when they
# are done, one after the other.  MEMVIEW_CHECK_SERIAL=1 runs them one after
# the other, output streamed.  MEMVIEW_VM_TIMEOUT defaults to 2400 s here
# (a guest sharing the CPUs takes longer than vm.sh's 900 s default allows).
set -euo pipefail

# The whole script is one compound command, read before it runs: editing or
# updating this file (git pull) while a long run is going does not break it.
{

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$MEMVIEW_ROOT"
TEST_CMD=${MEMVIEW_TEST_CMD:-selftests/memview/run_tests.sh}
SUMMARY_RE='^memview-selftests: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$'

total_pass=0 total_fail=0 total_skip=0
report=()
failed_names=()

finish() {
	local line
	echo
	echo "==== memview check summary ===="
	for line in "${report[@]}"; do
		echo "$line"
	done
	if ((${#failed_names[@]})); then
		echo "harness failures:"
		for line in "${failed_names[@]}"; do
			echo "  FAIL $line"
		done
	fi
	echo "$total_pass passed, $total_fail failed, $total_skip skipped"
	((total_fail == 0))
}

# A failed step before any guest ran still ends with the summary line.
step() {
	local name=$1
	shift
	if ! "$@"; then
		total_fail=$((total_fail + 1))
		failed_names+=("$name")
		report+=("$name: FAILED")
		finish || true
		exit 1
	fi
}

start=$SECONDS
step setup-host scripts/setup-host.sh
if (($#)); then
	kvers=("$@")
else
	mapfile -t kvers < <(memview_kernels)
fi
step build scripts/build.sh "${kvers[@]}"

# A directory per run, so that concurrent runs do not clobber each other.
run=$(date +%Y%m%d-%H%M%S)-$$
rundir=$MEMVIEW_ROOT/build/check/$run
mkdir -p "$rundir"
ln -sfn "$run" "$MEMVIEW_ROOT/build/check/latest"
find "$MEMVIEW_ROOT/build/check" -mindepth 1 -maxdepth 1 -type d -name '2*' |
	sort -r | tail -n +11 | xargs -r rm -rf

export MEMVIEW_VM_TIMEOUT=${MEMVIEW_VM_TIMEOUT:-2400}
# The 6.1 and 7.3 guests have two DRAM nodes (MEMVIEW_VM_NUMA_NODE1): node
# 1 with CPU 1, so that promotion by the owner's memory policy, PROMOTE to
# a node and its cpuset check, and a region on an offline node are tested
# (the 6.12 guest keeps one node: both layouts are covered).
# MEMVIEW_CHECK_NUMA_KVERS (globs, space-separated) chooses the kernels
# that get it.
numa_kvers=${MEMVIEW_CHECK_NUMA_KVERS:-6.1.* 7.3.*}

# One guest; writes "<vm.sh exit status> <seconds>" to $out/check-rc.
guest() {
	local kver=$1 out=$rundir/$1 t0=$SECONDS rc=0 numa=() glob globs
	read -ra globs <<<"$numa_kvers"
	for glob in "${globs[@]}"; do
		# shellcheck disable=SC2254 # the glob is meant
		case $kver in
		$glob) numa=(MEMVIEW_VM_NUMA=1 MEMVIEW_VM_NUMA_NODE1=512M) ;;
		esac
	done
	env "${numa[@]}" scripts/vm.sh "$kver" "scripts/guest-run.sh $TEST_CMD" \
		"$out" || rc=$?
	echo "$rc $((SECONDS - t0))" >"$out/check-rc"
}
pids=()
for kver in "${kvers[@]}"; do
	mkdir -p "$rundir/$kver"
	if [[ ${MEMVIEW_CHECK_SERIAL:-0} == 1 ]]; then
		echo "==== $kver: $TEST_CMD ===="
		guest "$kver"
	else
		echo "==== $kver: $TEST_CMD (started; output when it is done) ===="
		guest "$kver" >"$rundir/$kver/console.log" 2>&1 </dev/null &
		pids+=($!)
	fi
done
((${#pids[@]} == 0)) || wait "${pids[@]}" || true

for kver in "${kvers[@]}"; do
	out=$rundir/$kver
	if [[ -f $out/console.log ]]; then
		echo "==== $kver: $TEST_CMD ===="
		cat "$out/console.log"
	fi
	vm_rc=1 secs=0
	[[ -s $out/check-rc ]] && read -r vm_rc secs <"$out/check-rc"

	pass=0 fail=0 skip=0 have_summary=0
	line=$(grep -E "$SUMMARY_RE" "$out/guest.log" 2>/dev/null | tail -n 1 || true)
	if [[ $line =~ $SUMMARY_RE ]]; then
		pass=${BASH_REMATCH[1]} fail=${BASH_REMATCH[2]} skip=${BASH_REMATCH[3]}
		have_summary=1
	fi

	# vm.sh lists why a run failed in $out/failures, one reason a line.
	extra=()
	infra=''
	if ((vm_rc != 0)) && [[ -s $out/failures ]]; then
		while IFS= read -r reason; do
			case $reason in
			kernel\ *) extra+=("vm-$kver: $reason") ;;
			"guest command exited with "*)
				# Failed tests already explain a failing exit code.
				if ((!have_summary || fail == 0)); then
					infra="${infra:+$infra; }$reason"
				fi
				;;
			*) infra="${infra:+$infra; }$reason" ;;
			esac
		done <"$out/failures"
	elif ((vm_rc != 0)); then
		infra="vm.sh exited with $vm_rc"
	fi
	if ((!have_summary)); then
		infra="${infra:+$infra; }no selftest summary line"
	fi
	[[ -z $infra ]] || extra+=("vm-$kver: $infra")
	fail=$((fail + ${#extra[@]}))
	failed_names+=("${extra[@]}")

	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
	report+=("$kver: $pass passed, $fail failed, $skip skipped (${secs}s, logs in build/check/$run/$kver)")
done

report+=("total time $((SECONDS - start))s")
finish
exit
}
