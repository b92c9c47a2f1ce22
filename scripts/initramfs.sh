#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) the initramfs of the test guest for one kernel version and
# print its path: static busybox, scripts/initramfs-init.sh as /init, and the
# modules needed to mount the host root over virtio-9p, in load order.
#
# usage: scripts/initramfs.sh <kver>
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# == 1)) || die "usage: $0 <kver>"
kver=$1
root=$(memview_kroot "$kver")
[[ -f $root/../.unpacked ]] || die "kernel $kver is not unpacked: run scripts/setup-host.sh"
kmoddir=$(memview_kmoddir "$kver") || die "no lib/modules/$kver in $root"
busybox=/bin/busybox
[[ -x $busybox ]] || die "$busybox missing (package busybox-static)"

# virtio_pci before 9pnet_virtio (it may be built in), then the 9p filesystem.
WANT=(virtio_pci 9pnet_virtio 9p)

init=$MEMVIEW_ROOT/scripts/initramfs-init.sh
key=$(cat "$init" "${BASH_SOURCE[0]}" "$busybox" "$kmoddir/modules.dep" |
	sha256sum | cut -c1-16)
out=$MEMVIEW_CACHE/$kver/initramfs-$key.cpio.gz
if [[ -s $out ]]; then
	printf '%s\n' "$out"
	exit 0
fi

log "building $out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,dev,proc,sys,newroot,modules}
cp "$busybox" "$tmp/bin/busybox"
install -m 0755 "$init" "$tmp/init"
cat >"$tmp/bin/memview-modprobe" <<'EOF'
#!/bin/busybox sh
exec /bin/busybox chroot /newroot /sbin/modprobe "$@"
EOF
chmod 0755 "$tmp/bin/memview-modprobe"

# "insmod <path> [args]" lines, dependencies first; "builtin <name>" lines
# need nothing.  A module may appear for several wanted ones: keep the first.
declare -A seen=()
n=0
while read -r verb path _; do
	[[ $verb == insmod ]] || continue
	[[ -z ${seen[$path]:-} ]] || continue
	seen[$path]=1
	name=$(basename "$path")
	name=${name%.xz}
	name=${name%.zst}
	name=${name%.gz}
	dst=$(printf '%02d-%s' "$n" "$name")
	case $path in
	*.ko.xz) xz -dc "$path" >"$tmp/modules/$dst" ;;
	*.ko.zst) zstd -qdc "$path" >"$tmp/modules/$dst" ;;
	*.ko.gz) gzip -dc "$path" >"$tmp/modules/$dst" ;;
	*.ko) cp "$path" "$tmp/modules/$dst" ;;
	*) die "unexpected module file $path" ;;
	esac
	printf '%s\n' "$dst" >>"$tmp/modules/order"
	n=$((n + 1))
done < <(modprobe --show-depends -a -d "$root" -S "$kver" "${WANT[@]}")
touch "$tmp/modules/order"
log "modules: $(tr '\n' ' ' <"$tmp/modules/order")"

mkdir -p "$(dirname "$out")"
(cd "$tmp" && find . -print0 | LC_ALL=C sort -z |
	cpio --quiet -o -0 -H newc -R 0:0 | gzip -1) >"$out.$$"
mv "$out.$$" "$out"
# Drop initramfs images of older versions of this script.
find "$(dirname "$out")" -maxdepth 1 -name 'initramfs-*.cpio.gz' ! -path "$out" -delete
printf '%s\n' "$out"
