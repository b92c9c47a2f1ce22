#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: install what is missing, build, boot a guest (the 6.12 kernel
# unless MEMVIEW_DEMO_KVER, a series such as 7.3 or a full version, says
# otherwise) and run scripts/demo-guest.sh in
# it after scripts/guest-setup.sh; its output is shown as it runs.
# Logs: build/demo/<kver>/.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$MEMVIEW_ROOT"
scripts/setup-host.sh
scripts/build.sh

kver=$(memview_kernel_of "${MEMVIEW_DEMO_KVER:-6.12}")
[[ -f scripts/demo-guest.sh ]] || die "scripts/demo-guest.sh does not exist yet"

out=$MEMVIEW_ROOT/build/demo/$kver
rm -rf "$out"
mkdir -p "$out"
log "booting $kver; the demo's output follows (under TCG this takes a while)"
exec scripts/vm.sh "$kver" "scripts/guest-run.sh scripts/demo-guest.sh" "$out"
