#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build memview.ko with W=1 for every guest kernel (or the ones given as
# arguments) into build/<kver>/, then the userspace tools and the selftests
# once (`make tools tests`).
# Fails on any compiler or modpost warning.
#
# usage: scripts/build.sh [kver...]
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$MEMVIEW_ROOT"
JOBS=${MEMVIEW_JOBS:-$(nproc)}

if (($#)); then
	kvers=("$@")
else
	mapfile -t kvers < <(memview_kernels)
fi

compgen -G 'kmod/*.c' >/dev/null || die "kmod/ has no sources: nothing to build"
[[ -f Kbuild ]] || die "Kbuild is missing"

mkdir -p build
exec 9>build/.build.lock
flock 9

# Mirror the module sources into build/<kver>/, keeping their mtimes so that
# kbuild recompiles only what changed.  Only sources: an in-tree build may
# have left objects for another kernel in kmod/.
sync_sources() {
	local out=$1 f
	if [[ -d $out/kmod || -d $out/uapi ]]; then
		while IFS= read -r -d '' f; do
			[[ -e ${f#"$out/"} ]] || rm -f "$f"
		done < <(find "$out/kmod" "$out/uapi" -type f -name '*.[chS]' -print0 2>/dev/null)
	fi
	find kmod uapi -type f -name '*.[chS]' -exec cp -p --parents -t "$out/" {} +
	cp -p Kbuild "$out/Kbuild"
}

# make_module KVER OUT LOG: kbuild of the sources in OUT, on the host or, for
# headers that need a newer compiler (7.3: gcc-14), in the build root
# setup-host.sh made: chroot, in a mount namespace of its own where OUT is
# bound to /memview-build and /proc is mounted (objtool reads it); both
# mounts go away with the namespace.
make_module() {
	local kver=$1 out=$2 log=$3 kdir broot
	if broot=$(memview_buildroot "$kver"); then
		mkdir -p "$broot/memview-build" "$broot/proc"
		# shellcheck disable=SC2016 # expanded by the inner shell
		unshare --mount --propagation private -- sh -c '
			mount -t proc proc "$1/proc" &&
			mount --bind "$2" "$1/memview-build" &&
			exec chroot "$1" make -C "/usr/src/linux-headers-$3" \
				M=/memview-build W=1 -j"$4" modules' \
			sh "$broot" "$out" "$kver" "$JOBS" >"$log" 2>&1
		return
	fi
	kdir=$(memview_kdir "$kver") ||
		die "no kernel build directory for $kver: run scripts/setup-host.sh (or scripts/debug-kernel.sh)"
	make -C "$kdir" M="$out" W=1 -j"$JOBS" modules >"$log" 2>&1
}

build_module() {
	local kver=$1 out=$MEMVIEW_ROOT/build/$1
	local log=$out/build.log bad
	mkdir -p "$out"
	sync_sources "$out"
	log "module for $kver -> build/$kver/memview.ko"
	if ! make_module "$kver" "$out" "$log"; then
		cat "$log" >&2
		die "module build for $kver failed (log: build/$kver/build.log)"
	fi
	bad=$(grep -E '[Ww]arning:|WARNING|undefined!' "$log" || true)
	if [[ -n $bad ]]; then
		printf '%s\n' "$bad" >&2
		# The objects are built: drop them, or the next (incremental) build
		# would not compile them again and would not see the warnings.
		rm -rf "$out/kmod" "$out/memview.ko"
		die "module build for $kver has warnings (log: build/$kver/build.log)"
	fi
	[[ -f $out/memview.ko ]] || die "build/$kver/memview.ko was not produced"
}

for kver in "${kvers[@]}"; do
	build_module "$kver"
done

# Userspace (memviewctl, the workload, the selftests): the top-level
# Makefile's targets say what to build.
log "make tools tests"
make -C "$MEMVIEW_ROOT" -j"$JOBS" tools tests || die "userspace build failed"

log "ok"
