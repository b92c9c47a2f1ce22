#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs INSIDE the test guest: prepare the memory with scripts/guest-setup.sh,
# export the variables it wrote to $MEMVIEW_OUT/env (see guest-setup.sh), and
# run the given command with them, cwd = repository.
#
# usage (as the vm.sh guest command):
#   scripts/vm.sh <kver> 'scripts/guest-run.sh selftests/memview/run_tests.sh'
set -euo pipefail
# QEMU 10 under TCG can segfault on an XSAVE that crosses from a DRAM page
# into an emulated CXL page (glibc's lazy-binding trampoline on a partly
# demoted stack): bind eagerly so tiered programs in the guest never do it.
export LD_BIND_NOW=1

[[ $# -ge 1 ]] || {
	echo "usage: $0 <command> [args...]" >&2
	exit 2
}
: "${MEMVIEW_OUT:?MEMVIEW_OUT is not set (run inside the guest)}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/.."

if ! "$here/guest-setup.sh"; then
	echo "guest-run: scripts/guest-setup.sh failed; not running $*" >&2
	exit 1
fi
set -a
# shellcheck source=/dev/null
. "$MEMVIEW_OUT/env"
set +a
exec "$@"
