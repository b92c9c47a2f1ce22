#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# rmmod_test.sh: with pages of a process in a slice, `rmmod memview` must be
# refused (module in use) and the data must stay intact; after REGION_REMOVE
# with EVACUATE, rmmod succeeds and the process's data still verifies.
#
# Needs memview loaded, root, and a range from the harness
# (MEMVIEW_CXL_RANGE, else MEMVIEW_PMEM_RANGE).  Leaves memview unloaded on
# success.  Exit: 0 pass, 1 fail, 77 skip.
set -u

dir=$(cd "$(dirname "$0")" && pwd)
MB=${MEMVIEW_HOLD_MB:-16}
tmp=$(mktemp -d)
holder=''

log() { echo "# rmmod_test: $*"; }
finish() {
	if [ -n "$holder" ] && kill -0 "$holder" 2>/dev/null; then
		kill -TERM "$holder" 2>/dev/null
		wait "$holder" 2>/dev/null
	fi
	rm -rf "$tmp"
	exit "$1"
}
fail() { log "FAIL: $*"; finish 1; }
skip() { log "SKIP: $*"; finish 77; }
loaded() { grep -q '^memview ' /proc/modules; }

[ "$(id -u)" = 0 ] || skip "needs root"
loaded || fail "memview is not loaded"
for b in mv-hold mv-region; do
	[ -x "$dir/$b" ] || fail "$dir/$b missing: run make -C selftests/memview"
done
if [ -n "${MEMVIEW_CXL_RANGE:-}" ]; then
	target=cxl
elif [ -n "${MEMVIEW_PMEM_RANGE:-}" ]; then
	target=pmem
else
	skip "neither MEMVIEW_CXL_RANGE nor MEMVIEW_PMEM_RANGE is set"
fi

# Regions left by an earlier test would keep the module busy on their own.
n=$("$dir/mv-region" count) || fail "REGION_LIST failed"
if [ "$n" != 0 ]; then
	log "$n region(s) left over by earlier tests; removing them"
	"$dir/mv-region" remove-all || fail "cannot remove the leftover regions"
fi

id=$("$dir/mv-region" add "$target") || fail "cannot add the $target region"
log "region $id ($target) added"

"$dir/mv-hold" "$MB" >"$tmp/hold.out" 2>&1 &
holder=$!
i=0
while ! grep -q '^READY' "$tmp/hold.out"; do
	kill -0 "$holder" 2>/dev/null || {
		cat "$tmp/hold.out"
		fail "mv-hold exited before READY"
	}
	i=$((i + 1))
	[ $i -le 1200 ] || fail "mv-hold not READY after 120 s"
	sleep 0.1
done
pages=$(sed -n 's/^READY //p' "$tmp/hold.out")
log "mv-hold (pid $holder) holds $pages pages in the slices"

# 1. Pages in a slice: rmmod must be refused, the module stays.
if out=$(rmmod memview 2>&1); then
	fail "rmmod memview succeeded with $pages pages in a slice"
fi
log "rmmod refused: $out"
case $out in
*"in use"*) ;;
*) fail "rmmod failed, but not with EBUSY (module in use): $out" ;;
esac
loaded || fail "memview is gone after the refused rmmod"
kill -0 "$holder" 2>/dev/null || fail "mv-hold died"

# 2. Evacuate and remove the region: every page comes back to DRAM.
out=$("$dir/mv-region" remove "$id" evacuate) || fail "REGION_REMOVE EVACUATE failed: $out"
log "region $id removed: $out"
[ "$out" = "evacuated $pages" ] || fail "expected 'evacuated $pages', got '$out'"

# 3. Now rmmod succeeds.
out=$(rmmod memview 2>&1) || fail "rmmod memview after evacuation: $out"
loaded && fail "memview still listed in /proc/modules after rmmod"
log "rmmod succeeded"

# 4. The holder's data, now in DRAM, is intact.
kill -USR1 "$holder"
wait "$holder"
rc=$?
holder=''
cat "$tmp/hold.out"
[ $rc -eq 0 ] || fail "mv-hold exited $rc after rmmod"
grep -q '^INTACT' "$tmp/hold.out" || fail "mv-hold did not report INTACT"
log "PASS"
finish 0
