# SPDX-License-Identifier: GPL-2.0
#
# make            module (against KDIR), memviewctl and the selftests
# make check      install what is missing, build for both target kernels and
#                 run every test in QEMU guests (see README.md)
# make demo       boot a guest and show memview tiering a workload
# make demo-ras   boot a guest and show a memory error fencing a slice
# make fuzz ITER=N [KVER=...]    the long ioctl fuzz run in a guest
# make stress ITER=N [KVER=...]  the long concurrency stress run in a guest
# make bench      boot a guest, run every benchmark for memview and its
#                 baselines, write build/bench/latest/{results.json,*.png,summary.md}
# make debug-kernel  build (or reuse) the 6.12 debug kernel: KASAN, lockdep,
#                 DEBUG_VM, kmemleak, fault injection (scripts/debug-kernel.sh)
# make check-debug   the whole suite on it; slow, not part of `make check`
KDIR ?= /lib/modules/$(shell uname -r)/build

.PHONY: all module tools tests check check-debug debug-kernel demo demo-ras fuzz stress bench clean style sparse

all: module tools tests

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tools:
	$(MAKE) -C tools/memviewctl
	$(MAKE) -C tools/workload
	$(MAKE) -C bench

tests:
	$(MAKE) -C selftests/memview

check:
	scripts/check.sh

debug-kernel:
	scripts/debug-kernel.sh

check-debug:
	scripts/check-debug.sh

demo:
	scripts/demo.sh

demo-ras:
	scripts/demo-ras.sh

# Long forms (Documentation/testing.rst); KVER empty: every guest kernel.
ITER ?=
KVER ?=
fuzz:
	scripts/long.sh fuzz $(or $(ITER),100000) $(KVER)

stress:
	scripts/long.sh stress $(or $(ITER),1600) $(KVER)

# BENCH_ARGS: e.g. --kernel 6.1, --quick (scripts/bench.sh --help)
bench:
	scripts/bench.sh $(BENCH_ARGS)

# checkpatch and sparse need a kernel tree; KDIR's scripts are used.
style:
	$(KDIR)/scripts/checkpatch.pl --no-tree --terse -f kmod/*.c kmod/*.h uapi/linux/*.h

sparse:
	$(MAKE) -C $(KDIR) M=$(CURDIR) C=2 modules

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	$(MAKE) -C tools/memviewctl clean
	$(MAKE) -C tools/workload clean
	$(MAKE) -C bench clean
	$(MAKE) -C selftests/memview clean
	rm -rf build
