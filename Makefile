# lvip - hide loopback VIPs from ARP/NDP with XDP + TC.
#
#   make            build build/lvip (BPF object embedded as a skeleton)
#   make check      install missing packages, build, run every test
#   make demo       install missing packages, build, run the namespace demo
#                   (LVS-DR, then LVS-TUN; make demo-tun: the TUN phase alone)
#   make deps       install (apt-get) the packages the build and tests need,
#                   without letting their install scripts start services
#   make vmlinux    regenerate vmlinux/$(ARCH)/vmlinux.h from the running kernel
#   make install    install lvip (PREFIX, DESTDIR, UNITDIR)
#   make deb        build the Debian package build/deb/lvip_VERSION_ARCH.deb
#                   (DEB_OUT)
#   make clean      remove build/
#
#   SANITIZE=1      build with -fsanitize=address,undefined into build/san
#                   (make check SANITIZE=1 runs every test against it)

VERSION   := 0.1.0
ifeq ($(SANITIZE),1)
BUILD     := build/san
else
BUILD     := build
endif
PREFIX    ?= /usr/local
DESTDIR   ?=
UNITDIR   ?= $(PREFIX)/lib/systemd/system

CLANG     ?= clang
BPFTOOL   ?= bpftool
CC        ?= gcc

ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX   := vmlinux/$(ARCH)/vmlinux.h

WARN      := -Wall -Wextra -Werror
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) \
	      -I$(dir $(VMLINUX)) -Iinclude -Ibpf $(BPF_EXTRA_CFLAGS)
CFLAGS    ?= -O2 -g
CFLAGS    += $(WARN) -std=gnu11 -Iinclude -I$(BUILD) -DLVIP_VERSION=\"$(VERSION)\"
LDLIBS    := -lxdp -lbpf -lelf -lz -lmnl -ljson-c

ifeq ($(SANITIZE),1)
CFLAGS    += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS   += -fsanitize=address,undefined
endif

# Debian 12 packages for building, testing and the demo.
DEPS := make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
	libmnl-dev libjson-c-dev pkg-config iproute2 iputils-ping arping \
	tcpdump nftables python3-scapy bats libcmocka-dev util-linux \
	mandoc man-db manpages-dev systemd prometheus prometheus-node-exporter curl \
	ipvsadm kmod debhelper dpkg-dev lintian python3-yaml keepalived \
	libxdp-dev xdp-tools

BPF_SRC   := bpf/lvip.bpf.c
BPF_HDRS  := $(wildcard bpf/*.h) include/lvip.h
LOADER_SRC := $(wildcard loader/*.c)
LOADER_HDRS := $(wildcard loader/*.h)
LOADER_OBJ := $(patsubst loader/%.c,$(BUILD)/loader/%.o,$(LOADER_SRC))

.PHONY: all check demo demo-tun deps vmlinux install clean test-bins deb

all: $(BUILD)/lvip

$(BUILD)/lvip.bpf.o: $(BPF_SRC) $(BPF_HDRS) $(VMLINUX) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/lvip.skel.h: $(BUILD)/lvip.bpf.o
	$(BPFTOOL) gen skeleton $< name lvip_bpf > $@.tmp && mv $@.tmp $@

# Each object's header dependencies come from the compiler (-MMD); the
# skeleton is generated before any loader object is compiled.
$(BUILD)/loader/%.o: loader/%.c | $(BUILD)/lvip.skel.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

-include $(LOADER_OBJ:.o=.d)

$(BUILD)/lvip: $(LOADER_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# Datapath tests, one object per source with the headers it includes.
# tests/lib/frame.c builds the frames of both programs; loader/ifcounters.o
# is the loader's own object.
TEST_CFLAGS := $(CFLAGS) -Itests/unit -Itests/lib -Itests/fuzz -Iloader
HARNESS_OBJ := $(BUILD)/tests/lib/bpf_harness.o $(BUILD)/loader/ifcounters.o

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -c $< -o $@

$(BUILD)/tests/lib/frame.o: tests/lib/frame.h
$(BUILD)/tests/lib/bpf_harness.o: tests/lib/bpf_harness.h tests/lib/datapath_ids.h \
	loader/ifcounters.h include/lvip.h $(BUILD)/lvip.skel.h
$(BUILD)/tests/fuzz/oracle.o: tests/fuzz/oracle.h
$(BUILD)/tests/unit/fixture_cases.o: tests/unit/fixture_cases.h tests/unit/fixtures.h \
	tests/lib/frame.h tests/lib/datapath_ids.h include/lvip.h
$(BUILD)/tests/unit/test_datapath.o: tests/unit/fixture_cases.h tests/unit/fixtures.h \
	tests/lib/frame.h tests/lib/datapath_ids.h tests/lib/bpf_harness.h include/lvip.h \
	$(BUILD)/lvip.skel.h
$(BUILD)/tests/fuzz/fuzz_datapath.o: tests/fuzz/oracle.h tests/lib/frame.h \
	tests/lib/datapath_ids.h tests/lib/bpf_harness.h include/lvip.h $(BUILD)/lvip.skel.h

$(BUILD)/tests/unit/fixtures_vs_oracle.o: tests/unit/fixture_cases.h tests/unit/fixtures.h \
	tests/lib/frame.h tests/lib/datapath_ids.h tests/fuzz/oracle.h include/lvip.h

# Every case of the fixture table judged by tests/fuzz/oracle.c too (no BPF):
# test_datapath is not linked while the two disagree on any case.
$(BUILD)/fixtures_vs_oracle: $(BUILD)/tests/unit/fixtures_vs_oracle.o \
		$(BUILD)/tests/unit/fixture_cases.o $(BUILD)/tests/fuzz/oracle.o $(BUILD)/tests/lib/frame.o
	$(CC) $(LDFLAGS) $^ -o $@

$(BUILD)/fixtures_vs_oracle.ok: $(BUILD)/fixtures_vs_oracle
	$<
	@touch $@

# Datapath unit tests: BPF_PROG_RUN over the fixture table.
$(BUILD)/test_datapath: $(BUILD)/tests/unit/test_datapath.o $(BUILD)/tests/unit/fixture_cases.o \
		$(BUILD)/tests/lib/frame.o $(HARNESS_OBJ) $(BUILD)/fixtures_vs_oracle.ok
	$(CC) $(LDFLAGS) $(filter %.o,$^) -o $@ $(LDLIBS)

# Differential fuzzer: the datapath against tests/fuzz/oracle.c.
$(BUILD)/fuzz_datapath: $(BUILD)/tests/fuzz/fuzz_datapath.o $(BUILD)/tests/fuzz/oracle.o \
		$(BUILD)/tests/lib/frame.o $(HARNESS_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# The same lvip with different program tags, for the upgrade-in-place tests.
$(BUILD)/variant/lvip: $(BPF_SRC) $(BPF_HDRS) $(VMLINUX) $(LOADER_SRC) $(LOADER_HDRS)
	$(MAKE) --no-print-directory BUILD=$(BUILD)/variant BPF_EXTRA_CFLAGS=-DLVIP_TEST_VARIANT \
		SANITIZE=$(SANITIZE) $@

# The LVS-TUN lab's director (tests/lab/tun.bash): a tc program that
# encapsulates like IPVS, for kernels without IPVS or tunnel modules.
LAB_BPF   := $(BUILD)/lab/director.bpf.o
$(LAB_BPF): tests/lab/director.bpf.c $(VMLINUX)
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

test-bins: $(BUILD)/lvip $(BUILD)/test_datapath $(BUILD)/fuzz_datapath $(BUILD)/variant/lvip $(LAB_BPF)

.PHONY: fuzz
fuzz: $(BUILD)/fuzz_datapath
	$(BUILD)/fuzz_datapath --frames 1000000

$(BUILD):
	mkdir -p $@

deps:
	@missing=$$(for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing" $$missing; \
		export DEBIAN_FRONTEND=noninteractive; \
		guard=; \
		if [ ! -e /usr/sbin/policy-rc.d ]; then \
			guard=/usr/sbin/policy-rc.d; \
			printf '#!/bin/sh\n# make deps: packages are installed, their services not started\nexit 101\n' > $$guard; \
			chmod 755 $$guard; \
			trap 'rm -f $$guard' EXIT; \
		fi; \
		apt-get update -qq >/dev/null && \
		apt-get install -y -qq --no-install-recommends $$missing >/dev/null || \
		{ echo "deps: apt-get install failed for:" $$missing >&2; exit 1; }; \
	fi

# The tests use the binaries of this build (build/, or build/san with
# SANITIZE=1). Sanitized: a leak or a memory error makes the program exit 99
# and leaves a report in build/san/san-logs, which tests/run counts as a
# failure; undefined behaviour makes it exit 98 with the report on stderr
# (GCC's UBSan ignores log_path), which fails the test that ran it.
SAN_LOGS  := $(abspath $(BUILD))/san-logs
ifeq ($(SANITIZE),1)
CHECK_ENV := LVIP_SAN_LOGS=$(SAN_LOGS) \
	ASAN_OPTIONS=detect_leaks=1:exitcode=99:log_path=$(SAN_LOGS)/asan \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=98:log_path=$(SAN_LOGS)/ubsan
endif

# MAKEFLAGS and the command-line variables are dropped so that a test
# running make (packaging.bats) gets a plain make, not this one's SANITIZE=1.
check: deps test-bins
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE -u BUILD -u BPF_EXTRA_CFLAGS \
		LVIP=$(abspath $(BUILD))/lvip \
		LVIP_BUILD=$(abspath $(BUILD)) $(CHECK_ENV) tests/run

demo: deps all $(LAB_BPF)
	tests/lab/demo.sh
	tests/lab/demo-tun.sh

# The LVS-TUN phase of the demo alone.
demo-tun: deps all $(LAB_BPF)
	tests/lab/demo-tun.sh

vmlinux:
	@mkdir -p $(dir $(VMLINUX))
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX).tmp
	mv $(VMLINUX).tmp $(VMLINUX)

# Units name the binary /usr/sbin/lvip; it is rewritten to $(PREFIX)/sbin/lvip.
# They go to UNITDIR ($(PREFIX)/lib/systemd/system; the Debian package says
# /lib/systemd/system, where Debian 12's debhelper expects them).
# keepalived.conf.example names the notify script in /usr/local/share/lvip/:
# rewritten to $(PREFIX)/share/lvip/.
# /etc/lvip/lvip.conf (everything commented out) only if there is none yet.
install: $(BUILD)/lvip
	install -D -m 0755 $(BUILD)/lvip $(DESTDIR)$(PREFIX)/sbin/lvip
	install -D -m 0644 packaging/lvip.8 $(DESTDIR)$(PREFIX)/share/man/man8/lvip.8
	install -D -m 0644 packaging/lvip.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/lvip
	install -D -m 0644 packaging/lvip.conf $(DESTDIR)$(PREFIX)/share/doc/lvip/lvip.conf.example
	install -D -m 0755 packaging/lvip-keepalived-notify \
		$(DESTDIR)$(PREFIX)/share/lvip/lvip-keepalived-notify
	sed 's|/usr/local/share/lvip/|$(PREFIX)/share/lvip/|g' packaging/keepalived.conf.example \
		> $(DESTDIR)$(PREFIX)/share/doc/lvip/keepalived.conf.example
	chmod 0644 $(DESTDIR)$(PREFIX)/share/doc/lvip/keepalived.conf.example
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	for u in lvip.service lvip-metrics.service lvip-metrics.timer; do \
		sed 's|/usr/sbin/lvip|$(PREFIX)/sbin/lvip|g' packaging/$$u \
			> $(DESTDIR)$(UNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -d -m 0755 $(DESTDIR)/etc/lvip
	test -e $(DESTDIR)/etc/lvip/lvip.conf || \
		install -m 0644 packaging/lvip.conf $(DESTDIR)/etc/lvip/lvip.conf

clean:
	rm -rf $(BUILD)

# The Debian package (debian/), built offline with dpkg-buildpackage from a
# copy of the tree in DEB_OUT/src (its `debian/rules clean` runs make clean
# there, not here): DEB_OUT/lvip_$(VERSION)_ARCH.deb, with the .changes and
# .buildinfo. DEB_OUT (default build/deb) may be any directory outside the
# tree; the packages it held before are removed.
DEB_OUT   ?= build/deb
DEB_SRC   := $(DEB_OUT)/src/lvip-$(VERSION)
deb:
	rm -rf $(DEB_OUT)/src $(DEB_OUT)/lvip*_*
	mkdir -p $(DEB_SRC)
	tar -c --exclude=./build --exclude=./.git . | tar -x -C $(DEB_SRC)
	cd $(DEB_SRC) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		dpkg-buildpackage -us -uc -b > ../build.log 2>&1 || \
		{ tail -n 30 ../build.log >&2; exit 1; }
	mv $(DEB_OUT)/src/lvip*_* $(DEB_OUT)/
	rm -rf $(DEB_SRC)
	@ls $(DEB_OUT)/*.deb

# Performance: lvip against baselines, datapath and control plane, in
# namespaces of its own (tests/bench/run). Not part of make check.
.PHONY: bench
bench: deps all
	$(MAKE) -f tests/bench/bench.mk
	tests/bench/run
