#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# add-region --bad-range: the pages of each range are poisoned from the start (list shows them, add-region counts them); a range outside is refused; remove-region remembers poisoned pages for the next add-region of the range unless --forget-bad.
set -euo pipefail
. "$(dirname "$0")/lib.bash"

check_prereqs
[[ -n ${MEMVIEW_PMEM_RANGE:-} ]] || skip "MEMVIEW_PMEM_RANGE is not set"
memviewctl info --json | jq -e '.features | index("bad_ranges")' >/dev/null ||
	skip "the module has no MEMVIEW_FEATURE_BAD_RANGES"
read -r start size <<<"$(range_dec "$MEMVIEW_PMEM_RANGE")"
((size >= 2 * SLICE_SIZE)) || skip "the PMEM range has one slice"

# poisoned pages of slice INDEX of the region labelled cli-bad
poisoned() {
	memviewctl list -v --json |
		jq --argjson i "$1" '(.regions[] | select(.label == "cli-bad") | .id) as $id |
			.slices[] | select(.region_id == $id and .index == $i) | .poisoned_pages'
}

expect_fail memviewctl add-region --range "$MEMVIEW_PMEM_RANGE" --label cli-bad \
	--bad-range "$(hexaddr $((start + size))):4K" -- 'is not inside'
expect_fail memviewctl add-region --range "$MEMVIEW_PMEM_RANGE" --label cli-bad \
	--bad-range nonsense -- 'invalid bad range'

# one byte in slice 0; two pages across a page boundary in slice 1
err=$(memviewctl add-region --range "$MEMVIEW_PMEM_RANGE" --label cli-bad \
	--bad-range "$(hexaddr $((start + 5 * 4096 + 7))):1" \
	--bad-range "$(hexaddr $((start + SLICE_SIZE + 4096 - 512))):1K" 2>&1 >/dev/null) ||
	fail "add-region with --bad-range: $err"
grep -q "retired 3 known-bad pages" <<<"$err" || fail "add-region did not count the bad pages: $err"
[[ $(poisoned 0) == 1 && $(poisoned 1) == 2 ]] ||
	fail "poisoned pages $(poisoned 0) and $(poisoned 1), want 1 and 2"

# remembered across remove-region...
memviewctl remove-region cli-bad
err=$(memviewctl add-region --range "$MEMVIEW_PMEM_RANGE" --label cli-bad 2>&1 >/dev/null) ||
	fail "add-region again: $err"
grep -q "retired 3 known-bad pages" <<<"$err" || fail "the bad pages were forgotten: $err"
[[ $(poisoned 0) == 1 && $(poisoned 1) == 2 ]] || fail "not poisoned again after re-add"

# ...unless forgotten
memviewctl remove-region cli-bad --forget-bad
memviewctl add-region --range "$MEMVIEW_PMEM_RANGE" --label cli-bad >/dev/null
[[ $(poisoned 0) == 0 && $(poisoned 1) == 0 ]] || fail "poisoned pages left after --forget-bad"
memviewctl remove-region cli-bad
