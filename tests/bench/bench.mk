# tests/bench/bench.mk - builds what make bench runs (included by nothing;
# invoked as $(MAKE) -f tests/bench/bench.mk from the top directory).

BUILD     := build
BENCH     := $(BUILD)/bench
CLANG     ?= clang
BPFTOOL   ?= bpftool
CC        ?= gcc
ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX   := vmlinux/$(ARCH)/vmlinux.h
WARN      := -Wall -Wextra -Werror
# The same flags as bpf/lvip.bpf.c in the top Makefile.
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) \
	      -I$(dir $(VMLINUX)) -Iinclude -Ibpf
CFLAGS    ?= -O2 -g
CFLAGS    += $(WARN) -Wno-unused-parameter -Wno-missing-field-initializers -std=gnu11 -Iinclude -I$(BENCH) -pthread
LDLIBS    := -lbpf -lelf -lz -pthread

all: $(BENCH)/lvip-bench

$(BENCH):
	mkdir -p $@

$(BENCH)/baselines.bpf.o: tests/bench/baselines.bpf.c $(VMLINUX) | $(BENCH)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH)/baselines.skel.h: $(BENCH)/baselines.bpf.o
	$(BPFTOOL) gen skeleton $< name baselines_bpf > $@.tmp && mv $@.tmp $@

$(BENCH)/lvip-bench: tests/bench/bench.c include/lvip.h $(BENCH)/baselines.skel.h
	$(CC) $(CFLAGS) $< -o $@ $(LDFLAGS) $(LDLIBS)

.PHONY: all
