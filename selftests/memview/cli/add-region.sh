#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# add-region --cxl, --range and --pmem: list --json shows each region with its 256 MiB slices and idle counters; remove-region gives them back.
set -euo pipefail
. "$(dirname "$0")/lib.bash"

check_prereqs
[[ -n ${MEMVIEW_CXL_REGION:-}${MEMVIEW_PMEM_RANGE:-} ]] ||
	skip "neither MEMVIEW_CXL_REGION nor MEMVIEW_PMEM_RANGE is set"

info=$(memviewctl info --json)
jqe "$info" ".slice_size == $SLICE_SIZE and .nr_regions == 0 and .api_version == 1"
PAGE_SIZE=$(jq .page_size <<<"$info")
jqe "$(memviewctl list --json)" '.regions == [] and .slices == [] and .processes == []'

# check_region LABEL KIND START SIZE: the region and its slices as listed
check_region() {
	local label=$1 kind=$2 start=$3 size=$4 json region slices id nr
	nr=$((size / SLICE_SIZE))
	json=$(memviewctl list -v --json)
	region=$(jq -e --arg l "$label" '.regions[] | select(.label == $l)' <<<"$json") ||
		fail "no region labelled $label in: $json"
	jqe "$region" ".kind == \"$kind\" and .resource == $start and .size == $size"
	jqe "$region" ".nr_slices == $nr and .unusable_size == $((size % SLICE_SIZE)) and .used_pages == 0"
	id=$(jq .id <<<"$region")
	slices=$(jq --argjson id "$id" '[.slices[] | select(.region_id == $id)]' <<<"$json")
	jqe "$slices" "length == $nr"
	jqe "$slices" "[.[].index] == [range(0; $nr)]"
	jqe "$slices" "[.[].resource] == [range(0; $nr) | . * $SLICE_SIZE + $start]"
	jqe "$slices" "all(.[]; .size == $SLICE_SIZE and .state == \"online\"
		and .total_pages == $((SLICE_SIZE / PAGE_SIZE)) and .used_pages == 0
		and .free_pages == .total_pages and .poisoned_pages == 0
		and .migrations_in == 0 and .migrations_out == 0 and .errors == 0)"
	# without -v no counters; -H gives hex and sizes for people
	jqe "$(memviewctl list -R --json)" "any(.[]; .label == \"$label\" and (has(\"used_pages\") | not))"
	jqe "$(memviewctl list -S -H --json)" "any(.[]; .region_id == $id and .size == \"256 MiB\" and (.resource | startswith(\"0x\")))"
	echo "$id"
}

labels=()
if [[ -n ${MEMVIEW_CXL_REGION:-} ]]; then
	read -r start size <<<"$(range_dec "${MEMVIEW_CXL_RANGE:?MEMVIEW_CXL_RANGE is not set}")"
	out=$(memviewctl add-region --cxl "$MEMVIEW_CXL_REGION" --force --json)
	jqe "$out" ".label == \"$MEMVIEW_CXL_REGION\" and .kind == \"cxl\" and .resource == $start and .size == $size"
	check_region "$MEMVIEW_CXL_REGION" cxl "$start" "$size" >/dev/null
	labels+=("$MEMVIEW_CXL_REGION")
fi

if [[ -n ${MEMVIEW_PMEM_RANGE:-} ]]; then
	read -r start size <<<"$(range_dec "$MEMVIEW_PMEM_RANGE")"
	out=$(memviewctl add-region --range "$MEMVIEW_PMEM_RANGE" --label cli-raw --json)
	jqe "$out" '.label == "cli-raw" and .kind == "raw"'
	raw_id=$(check_region cli-raw raw "$start" "$size")
	# the same range twice overlaps: refused, and said why
	expect_fail memviewctl add-region --range "$MEMVIEW_PMEM_RANGE" -- 'cannot add range' 'overlaps'
	labels+=("$raw_id")
fi

n=$(memviewctl list -R --json | jq length)
((n == ${#labels[@]})) || fail "list -R shows $n regions, want ${#labels[@]}"
info=$(memviewctl info --json)
jqe "$info" ".nr_regions == $n"

# a batch by label and by id keeps going and counts
err=$(memviewctl remove-region "${labels[@]}" 2>&1 >/dev/null) || fail "remove-region ${labels[*]}: $err"
grep -q "removed $n region" <<<"$err" || fail "remove-region did not count: $err"
jqe "$(memviewctl list --json)" '.regions == [] and .slices == []'

# --pmem on the namespace the harness disabled: nothing to disable, so
# nothing is enabled again afterwards
if [[ -n ${MEMVIEW_PMEM_NS:-} ]] && command -v ndctl >/dev/null; then
	read -r start size <<<"$(range_dec "${MEMVIEW_PMEM_RANGE:?MEMVIEW_PMEM_RANGE is not set}")"
	out=$(memviewctl add-region --pmem "$MEMVIEW_PMEM_NS" --json)
	jqe "$out" ".label == \"$MEMVIEW_PMEM_NS\" and .kind == \"pmem\" and .resource == $start and .size == $size"
	id=$(check_region "$MEMVIEW_PMEM_NS" pmem "$start" "$size")
	state=/run/memview/region-$id.json
	[[ -f $state ]] || fail "no state file $state"
	jqe "$(cat "$state")" ".disabled == [] and .resource == $start"
	memviewctl remove-region "$id"
	[[ ! -e $state ]] || fail "$state is still there after remove-region"
	ns=$(ndctl list -N -i -n "$MEMVIEW_PMEM_NS")
	jqe "$ns" '.[0].state == "disabled"'
fi

jqe "$(memviewctl list -R --json)" 'length == 0'
