#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot one test guest under QEMU (TCG) and run a command in it.
#
# usage: scripts/vm.sh <kver> <guest-command> [outdir]
#
# <guest-command> is a shell command line run by /bin/sh inside the guest,
# chrooted in the host root (shared read-only over virtio-9p), cwd = the
# repository, with MEMVIEW_OUT (= outdir, writable), MEMVIEW_KVER and
# MEMVIEW_REPO set.  Example:
#   scripts/vm.sh 6.12.117+deb12-amd64 'scripts/guest-run.sh selftests/memview/run_tests.sh'
#
# The guest has:
#   - a legacy PMEM range (memmap=512M!5G, inside the RAM above 4 GiB);
#   - a CXL host bridge with a 512M persistent type-3 device (with LSA), and
#     on 6.12 and 7.3 a second root port with a 512M volatile type-3 device, under a
#     4 GiB fixed memory window;
#   - a QMP socket, linked from <outdir>/qmp.sock (poison injection), e.g.
#     {"execute":"cxl-inject-poison","arguments":{"path":
#      "/machine/peripheral/cxl-pmem0","start":0,"length":64}}
#     (devices: cxl-pmem0, and cxl-vmem0 on 6.12 and 7.3).  The guest reaches it
#     with scripts/guest-qmp.sh '<json>', through scripts/qmp-relay.py,
#     which runs on the host while QEMU does (requests and replies are
#     files in <outdir>/qmp/, its log <outdir>/qmp/relay.log).
#
# outdir (default build/vm/<kver>-<date>-<pid>) receives: guest-cmd,
# guest.log (the command's output, streamed here as it runs), serial.log
# (kernel console), dmesg, rc (the command's exit code), qemu.log, and
# failures (why this run failed, one reason a line; empty when it passed).
#
# Exit status: 0 when the command exited 0 and the kernel logged no warning,
# oops, lockdep report, hung task, UBSAN/KASAN report or panic; 1 otherwise.
#
# Environment:
#   MEMVIEW_VM_TIMEOUT  wall-clock limit in seconds (default 900)
#   MEMVIEW_VM_CONSOLE  1: also stream the kernel console to stderr
#   MEMVIEW_VM_APPEND   extra kernel command line
#   MEMVIEW_VM_NUMA     1: describe the guest's RAM and CPUs as NUMA node 0
#                       (an ACPI SRAT); only then does the kernel give the
#                       CXL window a node of its own, so that a CXL region
#                       onlined with daxctl (kmem) becomes a CPU-less
#                       lower-tier node (the benchmarks' baseline).  Without
#                       an SRAT the guest has one node and kmem memory joins
#                       node 0.
#   MEMVIEW_VM_NUMA_NODE1  with MEMVIEW_VM_NUMA=1, a size (e.g. 64M, a
#                       multiple of 2 MiB): the SRAT gets a second DRAM node,
#                       node 1, of that size with CPU 1 (node 0 keeps the
#                       rest of the 4 GiB and CPU 0); the CXL window's node
#                       is then node 2.  The benchmarks' kernel-tiering
#                       baseline holds a workload's DRAM to a budget on it
#                       (Documentation/bench.rst).
#   MEMVIEW_VM_ALLOC_FAILURES_OK  1: a kernel stack dump ("Call Trace") alone
#                       does not fail the run (fault injection: the kernel
#                       dumps the stack of each allocation failure it
#                       reports); WARNING, BUG, oops, lockdep, KASAN, hung
#                       tasks and RCU stalls still do
#   MEMVIEW_QEMU        QEMU binary (default qemu-system-x86_64)
set -euo pipefail

# The whole script is one compound command, read before it runs: editing or
# updating this file (git pull) while a long run is going does not break it.
{

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# == 2 || $# == 3)) || die "usage: $0 <kver> <guest-command> [outdir]"
kver=$1
guest_cmd=$2
timeout_s=${MEMVIEW_VM_TIMEOUT:-900}
qemu=${MEMVIEW_QEMU:-qemu-system-x86_64}

root=$(memview_kroot "$kver")
vmlinuz=$root/boot/vmlinuz-$kver
[[ -f $vmlinuz ]] || die "$vmlinuz missing: run scripts/setup-host.sh"
kmoddir=$(memview_kmoddir "$kver") || die "no lib/modules/$kver in $root"
command -v "$qemu" >/dev/null || die "$qemu not found: run scripts/setup-host.sh"

if (($# == 3)); then
	out=$3
else
	out=$MEMVIEW_ROOT/build/vm/$kver-$(date +%Y%m%d-%H%M%S)-$$
fi
mkdir -p "$out"
out=$(cd "$out" && pwd -P)
# These go on the kernel command line or into QEMU options.
for p in "$out" "$MEMVIEW_ROOT" "$kmoddir"; do
	case $p in
	*[,[:space:]]*) die "path must not contain commas or white space: $p" ;;
	esac
done
rm -f "$out"/{guest-cmd,guest.log,serial.log,dmesg,rc,qemu.log,failures,qmp.sock}
rm -rf "$out/qmp"
printf '%s\n' "$guest_cmd" >"$out/guest-cmd"

initrd=$("$MEMVIEW_ROOT/scripts/initramfs.sh" "$kver")

# CXL device backing files: fresh (zeroed) on every boot, so the label
# storage area is empty and no region survives from an earlier run.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memview-vm.XXXXXX")
qemu_pid='' tail_pid='' tail2_pid='' relay_pid=''
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	local pid
	for pid in $qemu_pid $tail_pid $tail2_pid $relay_pid; do
		kill "$pid" 2>/dev/null || true
	done
	[[ -z $relay_pid ]] || wait "$relay_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

cxl_devices=pmem
cxl=(
	-object "memory-backend-file,id=cxl-mem0,share=on,mem-path=$tmp/cxl-mem0,size=512M"
	-object "memory-backend-file,id=cxl-lsa0,share=on,mem-path=$tmp/cxl-lsa0,size=1M"
	-device "pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1"
	-device "cxl-rp,port=0,bus=cxl.1,id=rp0,chassis=0,slot=2"
	-device "cxl-type3,bus=rp0,persistent-memdev=cxl-mem0,lsa=cxl-lsa0,id=cxl-pmem0,sn=0x1001"
)
case $kver in
6.1.*) ;;
*)
	cxl_devices=pmem,ram
	cxl+=(
		-object "memory-backend-file,id=cxl-mem1,share=on,mem-path=$tmp/cxl-mem1,size=512M"
		-device "cxl-rp,port=1,bus=cxl.1,id=rp1,chassis=0,slot=3"
		-device "cxl-type3,bus=rp1,volatile-memdev=cxl-mem1,id=cxl-vmem0,sn=0x1002"
	)
	;;
esac

append=(
	console=ttyS0 panic=-1 nokaslr printk.devkmsg=on
	# Legacy PMEM inside the RAM above 4 GiB (-m 4G on q35: 4G..6G).
	'memmap=512M!5G'
	sysctl.kernel.hung_task_timeout_secs=60
	# Hot-added memory (a CXL ram region's dax device bound to kmem) stays
	# offline, so guest-setup.sh can give the range back unclaimed.
	memhp_default_state=offline
	"memview.cxl=$cxl_devices"
	"memview.repo=$MEMVIEW_ROOT" "memview.out=$out"
	"memview.modules=${kmoddir%/*}"
)
# shellcheck disable=SC2206 # word splitting intended
[[ -z ${MEMVIEW_VM_APPEND:-} ]] || append+=($MEMVIEW_VM_APPEND)

numa=(-smp 2)
if [[ ${MEMVIEW_VM_NUMA:-0} == 1 && -n ${MEMVIEW_VM_NUMA_NODE1:-} ]]; then
	node1_mib=$(($(numfmt --from=iec "${MEMVIEW_VM_NUMA_NODE1%B}") >> 20))
	((node1_mib >= 16 && node1_mib <= 512 && node1_mib % 2 == 0)) ||
		die "MEMVIEW_VM_NUMA_NODE1=$MEMVIEW_VM_NUMA_NODE1: 16M..512M (the PMEM range follows), a multiple of 2 MiB"
	# One CPU per node: two sockets, or the kernel warns that CPUs sharing
	# a cache are on different nodes.
	numa=(
		-smp "2,sockets=2,cores=1,threads=1"
		-object "memory-backend-ram,id=ram-node0,size=$((4096 - node1_mib))M"
		-numa "node,nodeid=0,cpus=0,memdev=ram-node0"
		-object "memory-backend-ram,id=ram-node1,size=${node1_mib}M"
		-numa "node,nodeid=1,cpus=1,memdev=ram-node1"
	)
elif [[ ${MEMVIEW_VM_NUMA:-0} == 1 ]]; then
	numa=(
		-smp 2
		-object "memory-backend-ram,id=ram-node0,size=4G"
		-numa "node,nodeid=0,cpus=0-1,memdev=ram-node0"
	)
fi

args=(
	-nodefaults -no-user-config -no-reboot
	# No SATA, SMBus or PS/2: nothing uses them and their drivers cost boot time.
	-machine "q35,sata=off,smbus=off,i8042=off,cxl=on,cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G"
	-accel tcg
	# Without -hypervisor, 6.12 warns when a CXL region commits.
	-cpu "max,-hypervisor"
	-m 4G
	"${numa[@]}"
	-display none
	-chardev "file,id=con,path=$out/serial.log" -serial chardev:con
	# A unix socket path is limited to 108 bytes: make it in $tmp, link it.
	-qmp "unix:$tmp/qmp.sock,server=on,wait=off"
	-kernel "$vmlinuz" -initrd "$initrd" -append "${append[*]}"
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot,bus=pcie.0"
	-fsdev "local,id=out,path=$out,security_model=none,multidevs=remap"
	-device "virtio-9p-pci,fsdev=out,mount_tag=out,bus=pcie.0"
	"${cxl[@]}"
)

ln -s "$tmp/qmp.sock" "$out/qmp.sock"
log "booting $kver (timeout ${timeout_s}s), output in $out"
start=$SECONDS
timeout -k 10 "$timeout_s" "$qemu" "${args[@]}" </dev/null >"$out/qemu.log" 2>&1 &
qemu_pid=$!
# The guest's QMP access (scripts/guest-qmp.sh); it ends with QEMU.
python=$(command -v /usr/bin/python3 || command -v python3 || true)
if [[ -n $python ]]; then
	"$python" "$MEMVIEW_ROOT/scripts/qmp-relay.py" "$out" "$tmp/qmp.sock" "$qemu_pid" \
		</dev/null >/dev/null 2>>"$out/qemu.log" &
	relay_pid=$!
else
	log "no python3: the guest has no QMP access (scripts/guest-qmp.sh)"
fi
tail -n +1 -s 0.3 -F --pid="$qemu_pid" "$out/guest.log" 2>/dev/null &
tail_pid=$!
if [[ ${MEMVIEW_VM_CONSOLE:-0} == 1 ]]; then
	tail -n +1 -s 0.3 -F --pid="$qemu_pid" "$out/serial.log" >&2 2>/dev/null &
	tail2_pid=$!
fi
qemu_rc=0
wait "$qemu_pid" || qemu_rc=$?
qemu_pid=''
if [[ -n $relay_pid ]]; then
	kill "$relay_pid" 2>/dev/null || true
	wait "$relay_pid" 2>/dev/null || true
	relay_pid=''
fi
wait "$tail_pid" 2>/dev/null || true
tail_pid=''
if [[ -n $tail2_pid ]]; then
	wait "$tail2_pid" 2>/dev/null || true
	tail2_pid=''
fi
elapsed=$((SECONDS - start))

failures=()
if ((qemu_rc == 124 || qemu_rc == 137)); then
	failures+=("timeout: no result after ${timeout_s}s")
elif ((qemu_rc != 0)); then
	failures+=("qemu exited with $qemu_rc")
fi
if [[ ! -s $out/rc ]]; then
	failures+=("no exit code from the guest")
elif [[ $(<"$out/rc") != 0 ]]; then
	failures+=("guest command exited with $(<"$out/rc")")
fi
[[ -s $out/dmesg ]] || failures+=("no dmesg from the guest")
fatal=$(tr -d '\r' <"$out/serial.log" 2>/dev/null | grep -m1 'memview-init: FATAL' || true)
[[ -z $fatal ]] || failures+=("$fatal")

KERNEL_BAD='WARNING:|BUG:|Oops|general protection fault|Call Trace|lockdep|possible circular locking|INFO: task .* blocked for more than|Kernel panic|kernel BUG|UBSAN|KASAN'
# A fault-injection run: the kernel's reports of the allocations it failed
# on purpose (warn_alloc: "page allocation failure", "vmalloc error") come
# with a stack dump, whose frames may name lockdep's helpers; every other
# report still fails the run (lockdep's own reports say WARNING: or BUG:).
if [[ ${MEMVIEW_VM_ALLOC_FAILURES_OK:-0} == 1 ]]; then
	KERNEL_BAD='WARNING:|BUG:|Oops|general protection fault|turning off the locking correctness validator|possible circular locking|INFO: task .* blocked for more than|Kernel panic|kernel BUG|UBSAN|KASAN|detected stalls|soft lockup'
fi
# Boot banners of a lockdep kernel (scripts/debug-kernel.sh) that are no report.
KERNEL_FINE='RCU lockdep checking is enabled'
bad=$(cat "$out/dmesg" "$out/serial.log" 2>/dev/null | tr -d '\r' |
	grep -vE "$KERNEL_FINE" | grep -E "$KERNEL_BAD" | sed -E 's/^\[ *[0-9.]+\] //' | awk '!seen[$0]++' |
	head -n 40 || true)
if [[ -n $bad ]]; then
	failures+=("kernel $(grep -oE -m1 "$KERNEL_BAD" <<<"$bad")")
fi

if ((${#failures[@]})); then
	printf '%s\n' "${failures[@]}" >"$out/failures"
else
	: >"$out/failures"
fi

if ((${#failures[@]} == 0)); then
	log "$kver: ok in ${elapsed}s"
	exit 0
fi
{
	if [[ -n $bad ]]; then
		echo "---- kernel problems ($kver) ----"
		printf '%s\n' "$bad"
	fi
	if [[ -s $out/qemu.log ]]; then
		echo "---- qemu.log ----"
		tail -n 20 "$out/qemu.log"
	fi
	echo "---- last lines of serial.log ----"
	tail -n 30 "$out/serial.log" 2>/dev/null || true
	echo "----"
} >&2
for f in "${failures[@]}"; do
	log "$kver: FAILED: $f"
done
log "$kver: failed after ${elapsed}s, logs in $out"
exit 1
}
