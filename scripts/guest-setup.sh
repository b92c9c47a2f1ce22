#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs INSIDE the test guest (scripts/guest-run.sh calls it).  Prepares the
# memory memview manages and leaves every range unclaimed by any driver:
#
#   - a CXL pmem region on the persistent type-3 device (cxl create-region);
#   - the legacy PMEM range (memmap=): its namespace is disabled;
#   - on kernels with a volatile type-3 device (6.12, 7.3), a CXL ram
#     region made through the kernel's sysfs region ABI (ndctl 76 cannot);
#     its dax device, if any, is disabled so it is not onlined as System RAM.
#
# Writes the result as KEY=value lines to $MEMVIEW_OUT/env and prints them:
#   MEMVIEW_KO                  absolute path of build/<kver>/memview.ko
#   MEMVIEW_CXL_MEMDEV          e.g. mem0
#   MEMVIEW_CXL_REGION          e.g. region0
#   MEMVIEW_CXL_RANGE           0xSTART:0xSIZE (host physical)
#   MEMVIEW_PMEM_REGION         e.g. region1 (the e820 nd region)
#   MEMVIEW_PMEM_NS             e.g. namespace1.0 (now disabled)
#   MEMVIEW_PMEM_RANGE          0xSTART:0xSIZE
#   MEMVIEW_CXL_RAM_MEMDEV      (6.12+) e.g. mem1
#   MEMVIEW_CXL_RAM_REGION      (6.12+) e.g. region2
#   MEMVIEW_CXL_RAM_RANGE       (6.12+) 0xSTART:0xSIZE
#
# Environment: MEMVIEW_OUT (required), MEMVIEW_KVER, MEMVIEW_REPO, and
# MEMVIEW_CXL_DEVICES (set by the guest init from vm.sh: "pmem" or
# "pmem,ram": which CXL devices the VM has).
set -euo pipefail

OUT=${MEMVIEW_OUT:?MEMVIEW_OUT is not set (run inside the guest)}
KVER=${MEMVIEW_KVER:-$(uname -r)}
REPO=${MEMVIEW_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
DEVICES=${MEMVIEW_CXL_DEVICES:-pmem}
CXL_SYSFS=/sys/bus/cxl/devices

say() {
	printf 'guest-setup: %s\n' "$*" >&2
}

die() {
	printf 'guest-setup: error: %s\n' "$*" >&2
	exit 1
}

# jq over ndctl/cxl output, which is an object when there is one result and
# an array otherwise.
jqi() {
	jq -r "def items: if type == \"array\" then .[] else . end; $1"
}

hex() {
	printf '0x%x' "$1"
}

# Print the /proc/iomem entries that hold (part of) [start, start+size):
# those nested under the outermost entry spanning exactly that range, except
# the exact-range containers named in $3 (a regex: the region itself, and the
# "Persistent Memory" container the kernel puts around pmem ranges).  Fails
# when no entry spans the range.
iomem_claimants() {
	local start=$1 end=$(($1 + $2 - 1)) ok=$3 line ind rest range name a b
	local depth=-1
	while IFS= read -r line; do
		ind=${line%%[![:space:]]*}
		rest=${line#"$ind"}
		range=${rest%% : *}
		name=${rest#* : }
		a=$((16#${range%-*}))
		b=$((16#${range#*-}))
		if ((depth >= 0)); then
			((${#ind} > depth)) || return 0
			if ((a == start && b == end)) && [[ $name =~ ^($ok)$ ]]; then
				continue
			fi
			printf '%s\n' "$line"
		elif ((a == start && b == end)); then
			depth=${#ind}
		fi
	done </proc/iomem
	((depth >= 0))
}

# Fail unless the range is in /proc/iomem and nothing holds it.
check_unclaimed() {
	local what=$1 start=$2 size=$3 ok=$4 held
	held=$(iomem_claimants "$start" "$size" "$ok") ||
		die "$what: $(hex "$start")+$(hex "$size") is not in /proc/iomem"
	[[ -z $held ]] || die "$what: range is still held:"$'\n'"$held"
}

wait_for() {
	local what=$1 tries=$2
	shift 2
	while ! "$@"; do
		((--tries > 0)) || die "timed out waiting for $what"
		sleep 1
	done
}

# --- CXL devices probed (cxl_pci probes asynchronously) ---------------------

memdev_with() { # pmem_size|ram_size -> the first memdev with that capacity
	cxl list -M 2>/dev/null |
		jqi "[items | select((.$1 // 0) > 0)][0].memdev // empty"
}

# The endpoint port of a memdev: the one whose uport is the memdev (`cxl
# list -m` filtering is not reliable with several memdevs).
memdev_endpoint() {
	local e u
	for e in "$CXL_SYSFS"/endpoint*; do
		[[ -e $e/uport ]] || continue
		u=$(readlink -f "$e/uport")
		if [[ ${u##*/} == "$1" ]]; then
			printf '%s\n' "${e##*/}"
			return 0
		fi
	done
	return 1
}

have_endpoint() { # pmem_size|ram_size
	local m
	m=$(memdev_with "$1") && [[ -n $m ]] && memdev_endpoint "$m" >/dev/null
}

# The region a memdev's endpoint decoders already map in a mode (pmem|ram).
memdev_region() {
	local ep d
	ep=$(memdev_endpoint "$1") || return 0
	for d in "$CXL_SYSFS/decoder${ep#endpoint}".*; do
		[[ -e $d/mode && -e $d/region ]] || continue
		if [[ $(<"$d/mode") == "$2" && -n $(<"$d/region") ]]; then
			cat "$d/region"
			return 0
		fi
	done
}

root_decoder() { # pmem_capable|volatile_capable
	cxl list -D -d root | jqi "[items | select(.$1 == true)][0].decoder // empty"
}

declare -A ENV=()
ORDER=()
put() {
	[[ -n ${ENV[$1]+x} ]] || ORDER+=("$1")
	ENV[$1]=$2
}

put MEMVIEW_KO "$REPO/build/$KVER/memview.ko"

# --- CXL pmem region -------------------------------------------------------

setup_cxl_pmem() {
	local mem dec region json start size ns
	wait_for "a CXL memdev with persistent capacity" 60 have_endpoint pmem_size
	mem=$(memdev_with pmem_size)
	region=$(memdev_region "$mem" pmem)
	if [[ -z $region ]]; then
		dec=$(root_decoder pmem_capable)
		[[ -n $dec ]] || die "no pmem-capable CXL root decoder"
		say "cxl create-region -m -d $dec -w 1 -t pmem $mem"
		json=$(cxl create-region -m -d "$dec" -w 1 -t pmem "$mem") ||
			die "cxl create-region failed"
		region=$(jqi 'items | .region // empty' <<<"$json")
		[[ -n $region ]] || die "cxl create-region printed no region: $json"
	else
		say "reusing CXL pmem region $region"
	fi
	json=$(cxl list -R -r "$region")
	start=$(jqi 'items | .resource' <<<"$json")
	size=$(jqi 'items | .size' <<<"$json")
	[[ $start =~ ^[0-9]+$ && $size =~ ^[0-9]+$ ]] ||
		die "cannot read the range of $region: $json"

	# cxl_pmem gives the region an nd region; with a fresh label area it has
	# no namespace, but disable any that holds part of the range.
	for ns in $(ndctl list -b CXL -N 2>/dev/null |
		jqi 'items | select((.size // 0) > 0) | .dev'); do
		say "ndctl disable-namespace $ns (on the CXL region)"
		ndctl disable-namespace "$ns" >/dev/null
	done
	check_unclaimed "CXL region $region" "$start" "$size" \
		"$region|Persistent Memory"
	put MEMVIEW_CXL_MEMDEV "$mem"
	put MEMVIEW_CXL_REGION "$region"
	put MEMVIEW_CXL_RANGE "$(hex "$start"):$(hex "$size")"
}

# --- legacy PMEM (memmap=nn!ss) --------------------------------------------

e820_namespace() {
	ndctl list -b e820 -N -i 2>/dev/null | jqi '[items | .dev][0] // empty'
}

have_e820_namespace() {
	[[ -n $(e820_namespace) ]]
}

setup_pmem() {
	local region ns start size json
	wait_for "the e820 (memmap=) pmem namespace" 30 have_e820_namespace
	json=$(ndctl list -b e820 -R)
	region=$(jqi '[items | .dev][0] // empty' <<<"$json")
	ns=$(e820_namespace)
	[[ -n $region && -n $ns ]] || die "no e820 pmem region/namespace: $json"
	size=$(jqi '[items | .size][0]' <<<"$json")
	# ndctl 76 prints no region resource; sysfs has it.
	start=$(($(<"/sys/bus/nd/devices/$region/resource")))
	[[ $size =~ ^[0-9]+$ ]] || die "cannot read the size of $region: $json"
	if [[ -n $(ndctl list -n "$ns" 2>/dev/null) ]]; then
		say "ndctl disable-namespace $ns"
		ndctl disable-namespace "$ns" >/dev/null ||
			die "ndctl disable-namespace $ns failed"
	fi
	check_unclaimed "PMEM $ns" "$start" "$size" 'Persistent Memory( \(legacy\))?'
	put MEMVIEW_PMEM_REGION "$region"
	put MEMVIEW_PMEM_NS "$ns"
	put MEMVIEW_PMEM_RANGE "$(hex "$start"):$(hex "$size")"
}

# --- CXL ram region (sysfs region ABI) ---------------------------------------

sysfs_write() {
	printf '%s\n' "$2" >"$1" 2>/dev/null || die "writing '$2' to $1 failed"
}

setup_cxl_ram() {
	local mem dec ep edec d region r size json start dax mode
	wait_for "a CXL memdev with volatile capacity" 60 have_endpoint ram_size
	mem=$(memdev_with ram_size)
	size=$(cxl list -M -m "$mem" | jqi 'items | .ram_size')
	region=$(memdev_region "$mem" ram)
	if [[ -z $region ]]; then
		dec=$(root_decoder volatile_capable)
		[[ -n $dec ]] || die "no volatile-capable CXL root decoder"
		[[ -e $CXL_SYSFS/$dec/create_ram_region ]] ||
			die "$dec has no create_ram_region (kernel too old)"
		ep=$(memdev_endpoint "$mem")
		# The endpoint's first unused decoder (they are allocated in order).
		edec=''
		for d in "$CXL_SYSFS/decoder${ep#endpoint}".*; do
			if (($(<"$d/dpa_size") == 0)) && [[ -z $(<"$d/region") ]]; then
				edec=${d##*/}
				break
			fi
		done
		[[ -n $edec ]] || die "no free decoder on $ep"

		region=$(<"$CXL_SYSFS/$dec/create_ram_region")
		say "creating ram region $region: $dec -> $ep/$edec ($mem, $(hex "$size"))"
		sysfs_write "$CXL_SYSFS/$dec/create_ram_region" "$region"
		r=$CXL_SYSFS/$region
		sysfs_write "$r/interleave_granularity" "$(<"$CXL_SYSFS/$dec/interleave_granularity")"
		sysfs_write "$r/interleave_ways" 1
		sysfs_write "$CXL_SYSFS/$edec/mode" ram
		sysfs_write "$CXL_SYSFS/$edec/dpa_size" "$(hex "$size")"
		sysfs_write "$r/size" "$(hex "$size")"
		sysfs_write "$r/target0" "$edec"
		sysfs_write "$r/commit" 1
		if [[ ! -e $r/driver ]]; then
			sysfs_write /sys/bus/cxl/drivers/cxl_region/bind "$region"
		fi
		udevadm settle --timeout=60 || true
	else
		say "reusing CXL ram region $region"
	fi
	json=$(cxl list -R -r "$region")
	start=$(jqi 'items | .resource' <<<"$json")
	size=$(jqi 'items | .size' <<<"$json")
	[[ $start =~ ^[0-9]+$ && $size =~ ^[0-9]+$ ]] ||
		die "cannot read the range of $region: $json"

	# The region's dax device goes to kmem (System RAM); the guest boots
	# with memhp_default_state=offline, so its memory is still offline:
	# turn it back into a devdax device (removes the memory), then disable it.
	for dax in "$CXL_SYSFS/$region"/dax_region*/dax*.*; do
		[[ -e $dax ]] || continue
		d=${dax##*/}
		mode=$(daxctl list -d "$d" | jqi 'items | .mode // empty')
		if [[ $mode == system-ram ]]; then
			say "daxctl reconfigure-device --mode=devdax $d"
			daxctl reconfigure-device --mode=devdax --force "$d" >/dev/null ||
				die "daxctl reconfigure-device --mode=devdax $d failed"
		fi
		if [[ -e $dax/driver ]]; then
			say "daxctl disable-device $d"
			daxctl disable-device "$d" || die "daxctl disable-device $d failed"
		fi
	done
	check_unclaimed "CXL ram region $region" "$start" "$size" "$region"
	put MEMVIEW_CXL_RAM_MEMDEV "$mem"
	put MEMVIEW_CXL_RAM_REGION "$region"
	put MEMVIEW_CXL_RAM_RANGE "$(hex "$start"):$(hex "$size")"
}

command -v cxl >/dev/null || die "cxl (package ndctl) is not installed"
command -v jq >/dev/null || die "jq is not installed"

case ,$DEVICES, in *,pmem,*) setup_cxl_pmem ;; esac
setup_pmem
case ,$DEVICES, in *,ram,*) setup_cxl_ram ;; esac

tmp=$OUT/env.tmp
: >"$tmp"
for k in "${ORDER[@]}"; do
	printf '%s=%s\n' "$k" "${ENV[$k]}" >>"$tmp"
done
mv "$tmp" "$OUT/env"
say "wrote $OUT/env:"
cat "$OUT/env"
