#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo-ras`: install what is missing, build, boot a guest (the 6.12
# kernel unless MEMVIEW_DEMO_KVER says otherwise) and run
# scripts/demo-ras-guest.sh in it after scripts/guest-setup.sh: a memory
# error in the slice that holds most of a workload fences the slice, its
# pages move away, the workload's data holds.  Its output is shown as it
# runs; it ends with "demo-ras: ok".  Logs: build/demo-ras/<kver>/.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$MEMVIEW_ROOT"
scripts/setup-host.sh
scripts/build.sh

kver=$(memview_kernel_of "${MEMVIEW_DEMO_KVER:-6.12}")

out=$MEMVIEW_ROOT/build/demo-ras/$kver
rm -rf "$out"
mkdir -p "$out"
log "booting $kver; the demo's output follows (under TCG this takes a while)"
exec scripts/vm.sh "$kver" "scripts/guest-run.sh scripts/demo-ras-guest.sh" "$out"
