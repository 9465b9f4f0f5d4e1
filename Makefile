# SPDX-License-Identifier: GPL-2.0
#
# migprio: kernel module + migprioctl + selftests.
#
#   make [all]          migprio.ko for KVER + migprioctl
#   make module         build/$(KVER)/migprio.ko
#   make tool           build/userspace/migprioctl/migprioctl (userspace/migprioctl/)
#   make bench-tools    build/userspace/bench/ migsim, classify_bench (userspace/bench/)
#   make selftests      build/selftests/* (C tests, host unit tests) + guest
#                       + bench-tools (the VM tests run migsim)
#   make guest          build/userspace/guest/migprio-guest.elf (QEMU test guest)
#   make check          everything, both kernels, host unit tests, the VM suite
#   make demo           boot a VM, migrate a guest over a busy link without and with migprio
#   make deps           install what the tests need (scripts/deps.sh; test machines only)
#   make ksrc           extract kselftest headers + checkpatch from linux-source
#   make install        install the module built for KVER (depmod) and the tool
#   make uninstall      remove what install installed
#   make dkms-install   register the module with DKMS (rebuilt on kernel updates)
#   make deb            the Debian packages (migprio-dkms, migprioctl) in build/deb
#   make deb-test       build, install, DKMS-build for 6.1, verify the unit,
#                       install/upgrade/purge in a VM with the module loaded, purge
#   make clean
#
# Variables: KVER = host (the running kernel), 6.1 or 6.12 (the Debian
# cloud kernels `make deps` installs for the tests) or a kernel release
# with headers in /lib/modules/<release>/build. Default: host when the
# running kernel's headers are installed, else 6.1 when `make deps` put it
# there. KDIR (kernel build dir, derived from KVER), BUILD (default build),
# W=1, C=1 (passed to kbuild); install: DESTDIR, PREFIX (/usr/local),
# SYSCONFDIR (/etc), UNITDIR, MODLOADDIR.

BUILD ?= build
MIGPRIO_CACHE ?= /var/cache/migprio
KSRC ?= $(MIGPRIO_CACHE)/src/linux-source-6.1
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
MODLOADDIR ?= $(PREFIX)/lib/modules-load.d
COMPLDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR ?=
# one version (scripts/version.sh): the release in VERSION, plus the commit
# in a git checkout; DKMS and the packages use the release
VERSION := $(shell scripts/version.sh)
RELEASE := $(shell scripts/version.sh --release)
export MIGPRIO_CACHE

HOST_KREL := $(shell uname -r)
TEST_ABI = $(shell cat $(MIGPRIO_CACHE)/kernels/$(1)/abi 2>/dev/null)
ifeq ($(origin KVER),undefined)
ifneq ($(wildcard /lib/modules/$(HOST_KREL)/build/Makefile),)
KVER := host
else ifneq ($(call TEST_ABI,6.1),)
KVER := 6.1
else
KVER := host
endif
endif

# KREL: the release the module is built for (where install puts it)
ifeq ($(KVER),host)
KREL := $(HOST_KREL)
else ifneq ($(filter 6.1 6.12,$(KVER)),)
KREL := $(call TEST_ABI,$(KVER))
else
KREL := $(KVER)
endif
ifeq ($(origin KDIR),undefined)
ifneq ($(filter 6.1 6.12,$(KVER)),)
KDIR := /usr/src/linux-headers-$(KREL)
else
KDIR := /lib/modules/$(KREL)/build
endif
else
# KDIR given: /lib/modules/<rel>/build, /usr/src/linux-headers-<rel>, or a
# kernel tree (its kernel.release)
KREL := $(or $(patsubst /lib/modules/%/build,%,$(filter /lib/modules/%/build,$(KDIR:/=))),\
	$(patsubst linux-headers-%,%,$(filter linux-headers-%,$(notdir $(KDIR:/=)))),\
	$(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null))
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
	@ln -sfn $(CURDIR)/VERSION $(MODTREE)/VERSION
	@for f in $(CURDIR)/module/*.[ch]; do \
		[ -e "$$f" ] && ln -sfn "$$f" $(MODTREE)/module/; done; true
	@find $(MODTREE) -xtype l -delete

# Builds of one tree are serialised (flock): several people/tools may share
# the working tree.  REBUILD=1 drops the objects first (make check uses it
# so that W=1 sees every file).
module: modtree
	@test -f "$(KDIR)/Makefile" || { \
		$(if $(filter 6.1 6.12,$(KVER)), \
		echo "no headers of the $(KVER) test kernel: make deps installs them"; , \
		echo "no kernel headers for $(KREL) ($(KDIR) missing): install them,"; \
		echo "  apt-get install linux-headers-$(KREL)   (Debian, Ubuntu)"; \
		echo "  or build for another kernel: KVER=<release> or KDIR=<build dir>";) \
		exit 1; }
	flock $(MODTREE)/.lock sh -c '$(if $(REBUILD),find $(MODTREE) -name "*.o" -delete;) \
		$(MAKE) -C $(KDIR) M=$(MODTREE) MIGPRIO_VERSION=$(VERSION) modules'

# ----------------------------------------------------------------- tools
# userspace/<name>/ builds into build/userspace/<name>/
tool:
	$(MAKE) -C userspace/migprioctl BUILD=$(ABS_BUILD)/userspace/migprioctl VERSION=$(VERSION)

bench-tools:
	$(MAKE) -C userspace/bench BUILD=$(ABS_BUILD)/userspace/bench

selftests: ksrc guest bench-tools
	$(MAKE) -C selftests BUILD=$(ABS_BUILD)/selftests KSRC=$(KSRC)

guest:
	$(MAKE) -C userspace/guest BUILD=$(ABS_BUILD)/userspace/guest

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
# install-module: build/$(KVER)/migprio.ko into /lib/modules/$(KREL)/updates,
# then depmod for that kernel when it is installed here (its modules.dep
# exists) and DESTDIR is empty (packages run depmod themselves).
# install-tool: migprioctl, its man page, bash completion, the systemd unit,
# the modules-load.d entry and /etc/migprio/migprio.conf (only when absent;
# uninstall removes it only when unchanged).
MODDIR = $(DESTDIR)/lib/modules/$(KREL)/updates
DEPMOD = $(if $(DESTDIR),,$(if $(wildcard /lib/modules/$(KREL)/modules.dep),depmod $(KREL)))

install: install-module install-tool

install-module: module
	install -D -m 0644 $(MODTREE)/migprio.ko $(MODDIR)/migprio.ko
	$(DEPMOD)

install-tool: tool
	install -D -m 0755 $(ABS_BUILD)/userspace/migprioctl/migprioctl $(DESTDIR)$(SBINDIR)/migprioctl
	install -D -m 0644 Documentation/migprioctl.8 $(DESTDIR)$(MANDIR)/man8/migprioctl.8
	install -D -m 0644 userspace/migprioctl/completion/migprioctl $(DESTDIR)$(COMPLDIR)/migprioctl
	@mkdir -p $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		userspace/migprioctl/systemd/migprio.service >$(DESTDIR)$(UNITDIR)/migprio.service
	install -D -m 0644 userspace/migprioctl/systemd/modules-load.conf $(DESTDIR)$(MODLOADDIR)/migprio.conf
	test -e $(DESTDIR)$(SYSCONFDIR)/migprio/migprio.conf || \
		install -D -m 0644 userspace/migprioctl/migprio.conf $(DESTDIR)$(SYSCONFDIR)/migprio/migprio.conf

# PRUNE: remove each empty directory install may have created and its empty
# parents, never STOP or above: with DESTDIR everything up to DESTDIR, else
# only below the standard directories (/usr/local/sbin and friends stay).
PRUNE = for p in $(1); do stop=$${p%%=*} d=$${p\#*=}; \
	while [ "$${d\#"$$stop"/}" != "$$d" ] && rmdir "$$d" 2>/dev/null; do \
		d=$${d%/*}; done; done
PRUNE_DIRS = $(if $(DESTDIR),$(addprefix $(DESTDIR)=,$(1)),$(2))

uninstall:
	rm -f $(MODDIR)/migprio.ko
	$(DEPMOD)
	rm -f $(DESTDIR)$(SBINDIR)/migprioctl $(DESTDIR)$(MANDIR)/man8/migprioctl.8 \
		$(DESTDIR)$(COMPLDIR)/migprioctl $(DESTDIR)$(UNITDIR)/migprio.service \
		$(DESTDIR)$(MODLOADDIR)/migprio.conf
	! cmp -s userspace/migprioctl/migprio.conf $(DESTDIR)$(SYSCONFDIR)/migprio/migprio.conf || \
		rm -f $(DESTDIR)$(SYSCONFDIR)/migprio/migprio.conf
	@$(call PRUNE,$(call PRUNE_DIRS,$(MODDIR) $(DESTDIR)$(SBINDIR) \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(COMPLDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(MODLOADDIR) $(DESTDIR)$(SYSCONFDIR)/migprio, \
		/lib/modules/$(KREL)=$(MODDIR) $(MANDIR)=$(MANDIR)/man8 \
		$(PREFIX)/share=$(COMPLDIR) $(PREFIX)/lib=$(UNITDIR) \
		$(PREFIX)/lib=$(MODLOADDIR) $(SYSCONFDIR)=$(SYSCONFDIR)/migprio))

# DKMS: the source tree of the release (what the migprio-dkms package ships)
DKMS_SRC = $(DESTDIR)/usr/src/migprio-$(RELEASE)

dkms-src:
	rm -rf $(DKMS_SRC) && mkdir -p $(DKMS_SRC)/module $(DKMS_SRC)/uapi/linux
	cp Kbuild VERSION $(DKMS_SRC)/
	cp module/*.[ch] $(DKMS_SRC)/module/
	cp uapi/linux/*.h $(DKMS_SRC)/uapi/linux/
	sed 's/#MODULE_VERSION#/$(RELEASE)/' dkms.conf >$(DKMS_SRC)/dkms.conf

dkms-install: dkms-src
	dkms add -m migprio -v $(RELEASE)
	dkms build -m migprio -v $(RELEASE)
	dkms install -m migprio -v $(RELEASE)

dkms-uninstall:
	-dkms remove -m migprio -v $(RELEASE) --all
	rm -rf $(DKMS_SRC)

# Debian packages (debian/), unsigned, into build/deb/; the source tree is
# copied so that the build does not write into the checkout
deb:
	@scripts/deb.sh build

# deb-test (CI): build, install both packages, DKMS builds the module for
# the 6.1 headers, systemd-analyze verify the unit; in a 6.1 test VM with
# that build loaded, dpkg runs install, upgrade, purge; purge (root)
deb-test:
	@scripts/deb.sh test

clean:
	rm -rf $(BUILD)

# uapi/linux/migprio.h and module/netlink-gen.[ch] from the netlink spec,
# with ynl-gen-c of linux-source-6.12; `make lint` checks they are current.
regen:
	scripts/regen.sh

# lint (checkpatch, sparse, cppcheck) and check-debug (KASAN/lockdep kernel)
# are defined here when present:
-include scripts/lint.mk

.PHONY: all modtree module tool bench-tools selftests guest deps ksrc check demo install \
	install-module install-tool uninstall dkms-src dkms-install \
	dkms-uninstall deb deb-test clean regen

# bench, bench-quick, bench-qemu (the benchmark issue):
-include scripts/bench.mk
