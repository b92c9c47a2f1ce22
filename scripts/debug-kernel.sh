#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) the memview debug kernel: Debian's linux-source-6.12 with
# KASAN, lockdep (PROVE_LOCKING), DEBUG_VM, kmemleak, DEBUG_ATOMIC_SLEEP and
# fault injection, on a small config (x86_64_defconfig plus
# scripts/debug-kernel.config), and print its version (e.g.
# 6.12.117-memview-debug).  Not part of `make check`.
#
# The result looks like a stock guest kernel to the harness:
#   $MEMVIEW_CACHE/<kver>/root/boot/vmlinuz-<kver>
#   $MEMVIEW_CACHE/<kver>/root/lib/modules/<kver>/   (modules, depmod done)
#   $MEMVIEW_CACHE/<kver>/root/lib/modules/<kver>/build -> the build tree,
#       which scripts/build.sh uses as KDIR for memview.ko
#   $MEMVIEW_CACHE/debug-kernel                      (the version, one line)
# The build tree is $MEMVIEW_CACHE/debug-6.12/linux-source-6.12.  A second
# run with the same source package, config fragment and this script does
# nothing; a changed fragment rebuilds incrementally.
#
# usage: scripts/debug-kernel.sh
# Environment:
#   MEMVIEW_CACHE  cache directory (default /var/cache/memview)
#   MEMVIEW_JOBS   make -j (default: the number of CPUs); the build runs
#                  under nice -n 19, other VMs on the machine keep going
set -euo pipefail

# One compound command, read before it runs: editing this file during a
# build (it takes long) does not break it.
{

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC_PKG=linux-source-6.12
SRC_TAR=/usr/src/linux-source-6.12.tar.xz
FRAGMENT=$MEMVIEW_ROOT/scripts/debug-kernel.config
BUILD_PKGS=(build-essential bc bison flex libelf-dev libssl-dev cpio kmod xz-utils "$SRC_PKG")
JOBS=${MEMVIEW_JOBS:-$(nproc)}
top=$MEMVIEW_CACHE/debug-6.12
tree=$top/linux-source-6.12

installed() {
	[[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) == ii* ]]
}

missing=()
for p in "${BUILD_PKGS[@]}"; do
	installed "$p" || missing+=("$p")
done
if ((${#missing[@]})); then
	[[ $EUID -eq 0 ]] || die "must run as root to install ${missing[*]}"
	log "installing ${missing[*]}"
	# linux-source-6.12 is in bookworm-security (and bookworm-backports):
	# scripts/setup-host.sh adds backports.
	DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=600 \
		install --no-install-recommends "${missing[@]}" ||
		die "apt-get install ${missing[*]} failed (run scripts/setup-host.sh first?)"
fi
[[ -f $SRC_TAR ]] || die "$SRC_TAR missing (package $SRC_PKG)"
src_version=$(dpkg-query -W -f='${Version}' "$SRC_PKG")

mkdir -p "$top"
exec 9>"$top/.lock"
flock 9

key=$( {
	printf '%s\n' "$src_version"
	cat "$FRAGMENT" "${BASH_SOURCE[0]}"
} | sha256sum | cut -c1-16)

# 1. The source tree, unpacked once per source package version.
if [[ ! -f $tree/.memview-src || $(<"$tree/.memview-src") != "$src_version" ]]; then
	log "unpacking $SRC_TAR ($src_version) into $top"
	rm -rf "$tree" "$top/unpack"
	mkdir -p "$top/unpack"
	tar -C "$top/unpack" -xf "$SRC_TAR"
	mv "$top/unpack/linux-source-6.12" "$tree"
	rmdir "$top/unpack"
	printf '%s\n' "$src_version" >"$tree/.memview-src"
fi

# The release is known once the config is synced (include/config/).
kver_of_tree() {
	local v
	v=$(make -s -C "$tree" kernelrelease)
	[[ $v == *-memview-debug ]] || die "unexpected kernel release '$v' of $tree"
	printf '%s\n' "$v"
}

# 2. Already built with this key?
if [[ -f $top/key && $(<"$top/key") == "$key" ]]; then
	kver=$(kver_of_tree)
	if [[ -f $MEMVIEW_CACHE/$kver/.unpacked &&
		-f $MEMVIEW_CACHE/$kver/root/boot/vmlinuz-$kver ]]; then
		printf '%s\n' "$kver" >"$MEMVIEW_CACHE/debug-kernel"
		log "cached: $kver"
		printf '%s\n' "$kver"
		exit 0
	fi
fi
rm -f "$top/key"

# 3. The config: defconfig, the fragment, olddefconfig; every line of the
# fragment must have stuck.
log "configuring (x86_64_defconfig + ${FRAGMENT#"$MEMVIEW_ROOT"/})"
make -s -C "$tree" x86_64_defconfig
cat "$FRAGMENT" >>"$tree/.config"
make -s -C "$tree" olddefconfig 2>&1 | grep -v 'override: reassigning' >&2 || true
bad=()
while IFS= read -r line; do
	case $line in
	'# CONFIG_'*' is not set')
		sym=${line#\# }
		sym=${sym%% *}
		if grep -q "^$sym=" "$tree/.config"; then
			bad+=("$line (got $(grep "^$sym=" "$tree/.config"))")
		fi
		;;
	CONFIG_*=*)
		grep -qxF "$line" "$tree/.config" ||
			bad+=("$line (got $(grep -E "^(# )?${line%%=*}[= ]" "$tree/.config" || echo nothing))")
		;;
	esac
done <"$FRAGMENT"
if ((${#bad[@]})); then
	printf '  %s\n' "${bad[@]}" >&2
	die "these options of ${FRAGMENT#"$MEMVIEW_ROOT"/} did not stick"
fi
make -s -C "$tree" syncconfig
kver=$(kver_of_tree)

# 4. Build, install the modules next to the image.
log "building $kver with make -j$JOBS under nice (log: $top/build.log)"
t0=$SECONDS
if ! nice -n 19 make -C "$tree" -j"$JOBS" bzImage modules >"$top/build.log" 2>&1; then
	tail -n 40 "$top/build.log" >&2
	die "kernel build failed (log: $top/build.log)"
fi
log "built in $((SECONDS - t0))s"

dir=$MEMVIEW_CACHE/$kver
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/root/boot"
cp "$tree/arch/x86/boot/bzImage" "$dir.tmp/root/boot/vmlinuz-$kver"
cp "$tree/.config" "$dir.tmp/root/boot/config-$kver"
cp "$tree/System.map" "$dir.tmp/root/boot/System.map-$kver"
make -s -C "$tree" INSTALL_MOD_PATH="$dir.tmp/root" modules_install >>"$top/build.log" 2>&1 ||
	die "modules_install failed (log: $top/build.log)"
ln -sfn "$tree" "$dir.tmp/root/lib/modules/$kver/build"
printf 'built from %s %s, key %s\n' "$SRC_PKG" "$src_version" "$key" >"$dir.tmp/.unpacked"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
printf '%s\n' "$key" >"$top/key"
printf '%s\n' "$kver" >"$MEMVIEW_CACHE/debug-kernel"
log "ok: $kver in $dir"
printf '%s\n' "$kver"
exit 0
}
