# SPDX-License-Identifier: GPL-2.0
#
# migprio: kernel module + migprioctl + selftests.
#
#   make [all]          migprio.ko for KVER + migprioctl
#   make module         build/$(KVER)/migprio.ko
#   make tool           build/userspace/migprioctl (and friends)
#   make selftests      build/selftests/* (C tests, host unit tests) + guest
#   make guest          build/guest/migprio-guest.elf (QEMU test guest)
#   make check          everything, both kernels, host unit tests, the VM suite
#   make demo           boot a VM, migrate a guest over a busy link without and with migprio
#   make deps           install missing packages/kernels (scripts/deps.sh)
#   make ksrc           extract kselftest headers + checkpatch from linux-source
#   make install        build for the running kernel and install module + tool
#   make dkms-install   register the module with DKMS (rebuilt on kernel updates)
#   make clean
#
# Variables: KVER=6.1|6.12|host (default 6.1: the Debian cloud kernels that
# `make deps` unpacks; host = the running kernel), KDIR (kernel build dir,
# derived from KVER), BUILD (default build), W=1, C=1 (passed to kbuild).

KVER ?= 6.1
BUILD ?= build
MIGPRIO_CACHE ?= /var/cache/migprio
KSRC ?= $(MIGPRIO_CACHE)/src/linux-source-6.1
PREFIX ?= /usr/local
DESTDIR ?=
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)
DKMS_VERSION := $(shell git describe --tags --abbrev=0 2>/dev/null || echo 0.1)
export MIGPRIO_CACHE

ifeq ($(KVER),host)
KDIR ?= /lib/modules/$(shell uname -r)/build
else
KDIR ?= /usr/src/linux-headers-$(shell cat $(MIGPRIO_CACHE)/kernels/$(KVER)/abi 2>/dev/null)
endif

ABS_BUILD := $(abspath $(BUILD))
MODTREE := $(ABS_BUILD)/$(KVER)

all: module tool

# ---------------------------------------------------------------- module
# Kbuild runs over build/$(KVER)/, a tree of symlinks to Kbuild, module/*.[ch]
# and uapi/, so objects of different kernels never mix and the sources stay
# clean.  Links are refreshed on every build (new/removed source files).
modtree:
	@mkdir -p $(MODTREE)/module
	@ln -sfn $(CURDIR)/Kbuild $(MODTREE)/Kbuild
	@ln -sfn $(CURDIR)/uapi $(MODTREE)/uapi
	@for f in $(CURDIR)/module/*.[ch]; do \
		[ -e "$$f" ] && ln -sfn "$$f" $(MODTREE)/module/; done; true
	@find $(MODTREE) -xtype l -delete

# Builds of one tree are serialised (flock): several people/tools may share
# the working tree.  REBUILD=1 drops the objects first (make check uses it
# so that W=1 sees every file).
module: modtree
	@test -d "$(KDIR)" || { echo "KDIR $(KDIR) missing (make deps?)"; exit 1; }
	flock $(MODTREE)/.lock sh -c '$(if $(REBUILD),find $(MODTREE) -name "*.o" -delete;) \
		$(MAKE) -C $(KDIR) M=$(MODTREE) modules'

# ------------------------------------------------------------- userspace
tool:
	$(MAKE) -C userspace BUILD=$(ABS_BUILD)/userspace

selftests: ksrc guest
	$(MAKE) -C selftests BUILD=$(ABS_BUILD)/selftests KSRC=$(KSRC)

guest:
	$(MAKE) -C tools/guest BUILD=$(ABS_BUILD)/guest

# ------------------------------------------------------------------ deps
deps:
	@scripts/deps.sh --check || scripts/deps.sh

KSRC_FILES := tools/testing/selftests/kselftest_harness.h \
	tools/testing/selftests/kselftest.h scripts/checkpatch.pl \
	scripts/spelling.txt scripts/const_structs.checkpatch

ksrc: $(addprefix $(KSRC)/,$(KSRC_FILES))

$(addprefix $(KSRC)/,$(KSRC_FILES)) &:
	@mkdir -p $(dir $(KSRC))
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C $(dir $(KSRC)) \
		$(addprefix linux-source-6.1/,$(KSRC_FILES))
	@touch $(addprefix $(KSRC)/,$(KSRC_FILES))

# ----------------------------------------------------------- check, demo
# make check: deps, build (W=1, warnings are errors) for both kernels, host
# unit tests, the VM suite on 6.1 then 6.12; last line "N passed, N failed,
# N skipped".
check: deps
	@scripts/check.sh

demo: deps
	@scripts/demo.sh

# --------------------------------------------------------------- install
install:
	$(MAKE) module tool KVER=host
	$(MAKE) -C $(KDIR) M=$(ABS_BUILD)/host INSTALL_MOD_DIR=extra modules_install
	depmod -a $(notdir $(patsubst %/build,%,$(KDIR))) 2>/dev/null || depmod -a
	install -D -m 0755 $(ABS_BUILD)/userspace/migprioctl $(DESTDIR)$(PREFIX)/sbin/migprioctl
	-[ ! -f Documentation/migprioctl.8 ] || install -D -m 0644 Documentation/migprioctl.8 \
		$(DESTDIR)$(PREFIX)/share/man/man8/migprioctl.8
	-[ ! -f userspace/completion/migprioctl ] || install -D -m 0644 \
		userspace/completion/migprioctl \
		$(DESTDIR)/usr/share/bash-completion/completions/migprioctl

DKMS_SRC := /usr/src/migprio-$(DKMS_VERSION)
dkms-install:
	rm -rf $(DKMS_SRC) && mkdir -p $(DKMS_SRC)/module $(DKMS_SRC)/uapi/linux
	cp Kbuild $(DKMS_SRC)/
	cp module/*.[ch] $(DKMS_SRC)/module/
	cp uapi/linux/*.h $(DKMS_SRC)/uapi/linux/
	sed 's/@VERSION@/$(DKMS_VERSION)/' dkms.conf >$(DKMS_SRC)/dkms.conf
	dkms add -m migprio -v $(DKMS_VERSION)
	dkms build -m migprio -v $(DKMS_VERSION)
	dkms install -m migprio -v $(DKMS_VERSION)

dkms-uninstall:
	-dkms remove -m migprio -v $(DKMS_VERSION) --all
	rm -rf $(DKMS_SRC)

clean:
	rm -rf $(BUILD)

# lint (checkpatch, sparse, cppcheck) and check-debug (KASAN/lockdep kernel)
# are defined here when present:
-include scripts/lint.mk

.PHONY: all modtree module tool selftests guest deps ksrc check demo install \
	dkms-install dkms-uninstall clean

# bench, bench-quick, bench-qemu (the benchmark issue):
-include scripts/bench.mk
