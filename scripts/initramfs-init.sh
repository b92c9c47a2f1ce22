#!/bin/busybox sh
# shellcheck shell=dash
# SPDX-License-Identifier: GPL-2.0
#
# /init of the memview test guest (packed by scripts/initramfs.sh; runs under
# busybox).  Mounts the host root read-only over virtio-9p, the run's output
# directory writable at the same path, the guest kernel's modules over
# /lib/modules, starts udev, runs the guest command chrooted in the host root
# with cwd = repository, saves dmesg and the exit code, and powers off.
#
# Kernel command line:
#   memview.repo=<abs path>     repository (cwd of the guest command)
#   memview.out=<abs path>      host output directory, shared writable as "out";
#                               the command is read from <out>/guest-cmd
#   memview.modules=<abs path>  host path of the guest kernel's lib/modules
#   memview.cxl=<list>          CXL type-3 devices of the VM ("pmem,ram"),
#                               passed on as MEMVIEW_CXL_DEVICES

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s /bin
export PATH=/bin
R=/newroot
NINEP="trans=virtio,version=9p2000.L,msize=262144"

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1

msg() {
	echo "memview-init: $*"
}

halt_now() {
	sync
	echo o >/proc/sysrq-trigger
	sleep 5
	poweroff -f
}

die() {
	msg "FATAL: $*"
	halt_now
}

REPO='' OUT='' MODULES='' CXL=''
read -r cmdline </proc/cmdline
for w in $cmdline; do
	case $w in
	memview.repo=*) REPO=${w#*=} ;;
	memview.out=*) OUT=${w#*=} ;;
	memview.modules=*) MODULES=${w#*=} ;;
	memview.cxl=*) CXL=${w#*=} ;;
	esac
done
if [ -z "$REPO" ] || [ -z "$OUT" ] || [ -z "$MODULES" ]; then
	die "memview.repo, memview.out and memview.modules are required"
fi
KVER=$(uname -r)

# virtio_pci first, then 9pnet_virtio and 9p (the order list is
# modprobe --show-depends output, dependencies first).
while read -r m; do
	insmod "/modules/$m" || die "insmod $m failed"
done </modules/order

mkdir -p $R
# The host root does not change while the guest runs: cache it (loose) so
# that executables and modules are not re-read over 9p on every use.
mount -t 9p -o "$NINEP,ro,cache=loose" hostroot $R || die "cannot mount the host root"
# Writable scratch space over the read-only host root.  The repository, the
# output directory or the module cache may live below one of these (a CI
# clone in /root or /tmp): keep a view of the host root to bind them back.
mkdir -p /host
mount --bind $R /host
for d in /tmp /run /var/tmp /root; do
	mount -t tmpfs -o mode=1777 tmpfs "$R$d" || die "tmpfs on $d"
done
for p in "$REPO" "$MODULES"; do
	if [ ! -d "$R$p" ]; then
		mkdir -p "$R$p" || die "cannot create $p"
		mount --bind "/host$p" "$R$p" || die "cannot bind $p"
	fi
done
mkdir -p "$R$OUT"
mount -t 9p -o "$NINEP" out "$R$OUT" || die "cannot mount the output directory"
chmod 700 $R/root
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
# What udev would link: bash's process substitution needs /dev/fd.
ln -s /proc/self/fd $R/dev/fd
ln -s /proc/self/fd/0 $R/dev/stdin
ln -s /proc/self/fd/1 $R/dev/stdout
ln -s /proc/self/fd/2 $R/dev/stderr
mount -t debugfs debugfs $R/sys/kernel/debug
[ -d $R/sys/kernel/tracing ] && mount -t tracefs tracefs $R/sys/kernel/tracing
[ -d $R/sys/kernel/config ] && mount -t configfs configfs $R/sys/kernel/config
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup 2>/dev/null
mount --bind "$R$MODULES" $R/lib/modules || die "cannot bind $MODULES"
[ -d "$R/lib/modules/$KVER" ] || die "no modules for $KVER in $MODULES"

# Kernel module requests go to kmod's modprobe in the host root.
echo /bin/memview-modprobe >/proc/sys/kernel/modprobe

# Coldplug with the host's udev, which loads the drivers of every device
# (CXL, nvdimm, dax) and stays up for the ones created later.  systemd tools
# refuse to work in a chroot unless told not to check.
export SYSTEMD_IGNORE_CHROOT=1
if chroot $R test -x /lib/systemd/systemd-udevd; then
	chroot $R /lib/systemd/systemd-udevd --daemon --resolve-names=never ||
		die "systemd-udevd failed"
	chroot $R udevadm trigger --type=subsystems --action=add
	# Not the CPU: its modalias only pulls in kvm and crypto drivers.
	chroot $R udevadm trigger --type=devices --action=add \
		--subsystem-nomatch=cpu
	chroot $R udevadm settle --timeout=120 || msg "udevadm settle timed out"
else
	die "systemd-udevd not found in the host root (install udev)"
fi

[ -f "$R$OUT/guest-cmd" ] || die "$OUT/guest-cmd is missing"
msg "running $(cat "$R$OUT/guest-cmd") (kernel $KVER)"
# The command's output goes to guest.log only (the host streams it), so that
# the console log holds nothing but kernel and init messages.
# shellcheck disable=SC2016 # expanded by the guest shell
chroot $R /usr/bin/env -i \
	HOME=/root TERM=dumb LC_ALL=C.UTF-8 SYSTEMD_IGNORE_CHROOT=1 \
	PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	MEMVIEW_OUT="$OUT" MEMVIEW_KVER="$KVER" MEMVIEW_REPO="$REPO" \
	MEMVIEW_CXL_DEVICES="$CXL" \
	/bin/sh -c 'cd "$MEMVIEW_REPO" && exec /bin/sh "$MEMVIEW_OUT/guest-cmd"' \
	</dev/null >"$R$OUT/guest.log" 2>&1
rc=$?
msg "guest command exited with $rc"

chroot $R dmesg >"$R$OUT/dmesg" 2>&1 || dmesg -s 4194304 >"$R$OUT/dmesg"
echo $rc >"$R$OUT/rc"
sync
umount "$R$OUT" 2>/dev/null
halt_now
