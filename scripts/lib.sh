# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared helpers for the memview host scripts.  Sourced, never executed.

# Repository root (the directory above scripts/).
MEMVIEW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

# Where guest kernel packages are downloaded and unpacked.
MEMVIEW_CACHE=${MEMVIEW_CACHE:-/var/cache/memview}
case $MEMVIEW_CACHE in
/*) ;;
*) MEMVIEW_CACHE=$PWD/$MEMVIEW_CACHE ;;
esac
export MEMVIEW_ROOT MEMVIEW_CACHE

log() {
	printf '[%s] %s\n' "${0##*/}" "$*" >&2
}

die() {
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

# The guest kernel versions chosen by setup-host.sh, one per line.
memview_kernels() {
	local f=$MEMVIEW_CACHE/kernels
	[[ -s $f ]] || die "$f is missing: run scripts/setup-host.sh first"
	grep -v '^[[:space:]]*$' "$f"
}

# The guest kernel of a series (6.1, 6.12, 7.3), or a full version as is.
memview_kernel_of() {
	local k
	case $1 in
	[0-9]*.[0-9]*.*) printf '%s\n' "$1" ;;
	*)
		k=$(memview_kernels | grep -m1 "^${1//./\\.}\\." || true)
		[[ -n $k ]] || die "no $1 guest kernel in $MEMVIEW_CACHE/kernels"
		printf '%s\n' "$k"
		;;
	esac
}

# Root of the unpacked linux-image package of a kernel version.
memview_kroot() {
	printf '%s/%s/root\n' "$MEMVIEW_CACHE" "$1"
}

# The lib/modules/<kver> directory inside an unpacked image (Debian images
# ship it under lib/ or, on merged-/usr builds, under usr/lib/).
memview_kmoddir() {
	local root d
	root=$(memview_kroot "$1")
	for d in "$root/lib/modules/$1" "$root/usr/lib/modules/$1"; do
		if [[ -d $d ]]; then
			printf '%s\n' "$d"
			return 0
		fi
	done
	return 1
}

# The build root a kernel's module is built in (chroot), for headers that
# need a newer toolchain than the host's: the trixie root setup-host.sh
# makes for 7.3.  Fails for a kernel built on the host itself.
memview_buildroot() {
	local root=$MEMVIEW_CACHE/trixie-root
	[[ -f $root/usr/src/linux-headers-$1/Makefile ]] || return 1
	printf '%s\n' "$root"
}

# The kernel build directory to build memview.ko against: the installed
# linux-headers package of a stock kernel, or the build tree a kernel built
# here (scripts/debug-kernel.sh) links from its lib/modules/<kver>/build.
memview_kdir() {
	local d
	if [[ -f /usr/src/linux-headers-$1/Makefile ]]; then
		printf '/usr/src/linux-headers-%s\n' "$1"
		return 0
	fi
	d=$(memview_kmoddir "$1") || return 1
	[[ -f $d/build/Makefile ]] || return 1
	printf '%s\n' "$(cd "$d/build" && pwd -P)"
}
