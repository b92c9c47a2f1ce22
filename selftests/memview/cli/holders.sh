#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# add-region disables an enabled PMEM namespace or CXL dax device holding the range (only with --force or a "y" on a terminal) and remove-region enables it again.
set -euo pipefail
. "$(dirname "$0")/lib.bash"

check_prereqs
command -v ndctl >/dev/null || skip "ndctl is not installed"
[[ -n ${MEMVIEW_PMEM_NS:-} ]] || skip "MEMVIEW_PMEM_NS is not set"

ns=$MEMVIEW_PMEM_NS
dax=''

# ndctl and daxctl print an object for one result, an array otherwise
one() {
	local filter=$1
	shift
	jq "$@" "if type == \"array\" then .[0] else . end | $filter"
}

ns_state() {
	ndctl list -N -i -n "$ns" | one '.state // "enabled"' -r
}

# leave the namespace and the dax device disabled, as the harness gave them
restore() {
	[[ $(ns_state) == disabled ]] || ndctl disable-namespace "$ns" >/dev/null || true
	[[ -z $dax ]] || daxctl disable-device "$dax" >/dev/null 2>&1 || true
}
trap 'restore; cleanup' EXIT

log "ndctl enable-namespace $ns"
ndctl enable-namespace "$ns" >/dev/null
[[ $(ns_state) != disabled ]] || fail "$ns did not come up"

# not on a terminal and no --force: refused, nothing changed
expect_fail memviewctl add-region --pmem "$ns" </dev/null -- \
	"namespace $ns holds the range" 'pass --force'
((LAST_RC == 1)) || fail "refusal exited $LAST_RC, want 1"
[[ $(ns_state) != disabled ]] || fail "$ns was disabled although add-region refused"

# on a terminal, answering no: nothing changed either
if command -v script >/dev/null; then
	log "add-region --pmem $ns on a terminal, answering n"
	out=$(echo n | script -qec "$MEMVIEWCTL add-region --pmem $ns" /dev/null 2>&1) &&
		fail "a declined add-region succeeded: $out"
	grep -q "disable namespace $ns (" <<<"$out" || fail "no question asked: $out"
	grep -q 'not confirmed; nothing changed' <<<"$out" || fail "no refusal: $out"
	[[ $(ns_state) != disabled ]] || fail "$ns was disabled although the answer was no"
	jqe "$(memviewctl list -R --json)" 'length == 0'
fi

# --force: disabled, recorded, and enabled again by remove-region
err=$(memviewctl add-region --pmem "$ns" --force --json 2>&1 >"$TMPD/add.json") ||
	fail "add-region --pmem $ns --force: $err"
grep -q "disabled namespace $ns" <<<"$err" || fail "add-region did not say what it disabled: $err"
[[ $(ns_state) == disabled ]] || fail "$ns is still enabled"
id=$(jq .id "$TMPD/add.json")
jqe "$(cat "/run/memview/region-$id.json")" ".disabled | length == 1 and .[0].type == \"namespace\" and .[0].name == \"$ns\""
err=$(memviewctl remove-region "$id" 2>&1) || fail "remove-region $id: $err"
grep -q "enabled namespace $ns again" <<<"$err" || fail "remove-region did not enable $ns: $err"
[[ $(ns_state) != disabled ]] || fail "$ns is still disabled after remove-region"
[[ ! -e /run/memview/region-$id.json ]] || fail "the state file of region $id is left"

# the module refuses the range after the namespace was disabled for it (it
# runs on into System RAM): the namespace is enabled again at once
if [[ -n ${MEMVIEW_PMEM_RANGE:-} ]]; then
	read -r start size <<<"$(range_dec "$MEMVIEW_PMEM_RANGE")"
	bad=$(hexaddr "$start"):$((2 * size))
	expect_fail memviewctl add-region --range "$bad" --force -- \
		"disabled namespace $ns" 'cannot add range' "enabled namespace $ns again"
	[[ $(ns_state) != disabled ]] || fail "$ns was left disabled after the failed add-region"
	jqe "$(memviewctl list -R --json)" 'length == 0'
fi
ndctl disable-namespace "$ns" >/dev/null

# a CXL ram region's dax device (the 6.12 guest has one)
if [[ -n ${MEMVIEW_CXL_RAM_REGION:-} ]] && command -v daxctl >/dev/null; then
	read -r start size <<<"$(range_dec "${MEMVIEW_CXL_RAM_RANGE:?}")"
	# daxctl list shows no resource: find the device by its region's path
	dax=$(daxctl list -i -D -R | jq -r --arg r "/$MEMVIEW_CXL_RAM_REGION/" \
		'[if type == "array" then .[] else . end |
		  select(.path | contains($r)) | .devices[]?][0].chardev // empty')
	if [[ -z $dax ]]; then
		log "no dax device on $MEMVIEW_CXL_RAM_REGION; skipping that part"
	else
		log "daxctl enable-device $dax"
		daxctl enable-device "$dax" >/dev/null 2>&1
		[[ $(daxctl list -i -d "$dax" | one '.state // "enabled"' -r) != disabled ]] ||
			fail "$dax did not come up"
		err=$(memviewctl add-region --cxl "$MEMVIEW_CXL_RAM_REGION" --force --json 2>&1 >"$TMPD/add.json") ||
			fail "add-region --cxl $MEMVIEW_CXL_RAM_REGION --force: $err"
		grep -q "disabled dax $dax" <<<"$err" || fail "add-region did not disable $dax: $err"
		jqe "$(cat "$TMPD/add.json")" ".kind == \"cxl\" and .resource == $start and .size == $size"
		[[ $(daxctl list -i -d "$dax" | one '.state // "enabled"' -r) == disabled ]] ||
			fail "$dax is still enabled"
		id=$(jq .id "$TMPD/add.json")
		err=$(memviewctl remove-region "$id" 2>&1) || fail "remove-region $id: $err"
		grep -q "enabled dax $dax again" <<<"$err" || fail "remove-region did not enable $dax: $err"
		[[ $(daxctl list -i -d "$dax" | one '.state // "enabled"' -r) != disabled ]] ||
			fail "$dax is still disabled after remove-region"
	fi
fi

jqe "$(memviewctl list -R --json)" 'length == 0'
