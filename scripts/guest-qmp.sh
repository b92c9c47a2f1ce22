#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs INSIDE the test guest: one QMP command on the QEMU that runs this
# guest, through scripts/qmp-relay.py on the host (vm.sh starts it; the
# request and reply travel as files in the shared output directory).
#
# usage: scripts/guest-qmp.sh [--timeout SEC] '<json command>'
#   e.g. scripts/guest-qmp.sh '{"execute":"cxl-inject-poison","arguments":
#          {"path":"/machine/peripheral/cxl-pmem0","start":4096,"length":64}}'
#
# Prints QEMU's reply (one JSON line) on stdout.  Exit status: 0 when QEMU
# returned {"return": ...}; 1 when it answered {"error": ...} (its desc on
# stderr); 2 on a usage error, when there is no relay (not under vm.sh) or
# when no reply came within the timeout (default 30 s).
set -euo pipefail

timeout_s=30
if [[ ${1:-} == --timeout ]]; then
	timeout_s=${2:?--timeout needs seconds}
	shift 2
fi
if (($# != 1)); then
	echo "usage: $0 [--timeout SEC] '<json command>'" >&2
	exit 2
fi
: "${MEMVIEW_OUT:?MEMVIEW_OUT is not set (run inside the guest)}"
qdir=$MEMVIEW_OUT/qmp
if [[ ! -e $qdir/relay ]]; then
	echo "guest-qmp: no QMP relay ($qdir/relay missing): is this guest started by scripts/vm.sh?" >&2
	exit 2
fi

name=$(hostname 2>/dev/null || echo guest)-$$-$RANDOM$RANDOM
req=$qdir/$name.req
rep=$qdir/$name.rep
printf '%s\n' "$1" >"$req.tmp"
mv "$req.tmp" "$req"

# 20 ms steps: a reply usually comes within the relay's 50 ms poll
deadline=$((SECONDS + timeout_s))
while [[ ! -e $rep ]]; do
	if ((SECONDS > deadline)); then
		rm -f "$req"
		echo "guest-qmp: no reply within ${timeout_s}s to: $1" >&2
		exit 2
	fi
	sleep 0.02
done
reply=$(<"$rep")
rm -f "$rep"
printf '%s\n' "$reply"
if jq -e 'has("return")' >/dev/null 2>&1 <<<"$reply"; then
	exit 0
fi
desc=$(jq -r '.error.desc // empty' <<<"$reply" 2>/dev/null || true)
echo "guest-qmp: QEMU refused: ${desc:-$reply}" >&2
exit 1
