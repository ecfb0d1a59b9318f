/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bpf_harness.h - what the datapath unit tests (tests/unit/test_datapath.c)
 * and the differential fuzzer (tests/fuzz/fuzz_datapath.c) share: the
 * private network namespace, the loaded skeleton, BPF_PROG_RUN, the per-CPU
 * counters summed over the CPUs, the LVIP_REQUIRE_BPF skip/fail decision and
 * TAP diagnostics.
 *
 * Usage: bh_prepare() with the program's own namespace commands and map
 * contents; when it fails, main returns bh_unavailable(). bh_destroy() at
 * the end. Not for tests/fuzz/oracle.c, which stays independent of bpf/ and
 * include/.
 */
#ifndef LVIP_BPF_HARNESS_H
#define LVIP_BPF_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <linux/types.h>

#include "datapath_ids.h"
#include "lvip.h"
#include "lvip.skel.h"

#define BH_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Room for the output frame of one BPF_PROG_RUN (data_size_out): twice the
 * largest frame either program builds. */
#define BH_OUT_MAX 1024

/* The programs (enum prog_id) and a VIP's counters (enum vip_field, summed
 * over the CPUs here) are numbered in datapath_ids.h. */
extern const char *const bh_vf_name[N_VF];

/* The loaded datapath, set by bh_prepare(). */
struct bh {
	struct lvip_bpf *skel;
	int ncpus;
	void *pcpu;  /* ncpus values, the larger of both per-CPU value types */
	int xdp_ctx; /* XDP runs pass ctx_in.ingress_ifindex */
};

extern struct bh bh;

/* One BPF_PROG_RUN. */
struct bh_run {
	int err; /* 0 or -errno from BPF_PROG_RUN */
	__u32 retval;
	__u8 out[BH_OUT_MAX];
	__u32 out_len;
};

/* TAP "Bail out! ..." and exit 1. */
void bh_bail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* BPF cannot be used (why): TAP skip (exit 0), or with LVIP_REQUIRE_BPF=1 a
 * failed test (exit 1); says so on stderr as `prog: ...`, `skipping` naming
 * what is skipped. Returns main's exit code. */
int bh_unavailable(const char *prog, const char *skipping, const char *why);

/* What a program adds to the shared setup. */
struct bh_setup {
	const char *const *netns_cmds; /* run in the private namespace, in order */
	size_t n_netns_cmds;
	int (*find_ifaces)(char *why, size_t n); /* 0, or -1 with why set */
	void (*probe_xdp_ctx)(void);             /* once loaded */
	int (*fill_vips)(void);                  /* 0, or -1 with errno set */
	int (*fill_ifaddr)(void);                /* 0, or -1 with errno set */
	int (*fill_tunnels)(void);               /* NULL, or 0 / -1 with errno set */
	const __u32 *ifindex;                    /* interfaces, as if attached in this order */
	int n_ifaces;
};

/* Root check; a private network namespace of this process (the root
 * namespace is never touched) with the setup's commands run in it;
 * find_ifaces; the skeleton opened and loaded, the per-CPU buffer sized;
 * probe_xdp_ctx; then the maps: fill_vips, the per-interface counters of
 * every interface (ifc_create, as attach does), fill_ifaddr. 0, or -1 with why set. */
int bh_prepare(const struct bh_setup *s, char *why, size_t n);

void bh_destroy(void);

/* Run program p once over data[len]: XDP with ctx_in.ingress_ifindex =
 * ifindex when bh.xdp_ctx (else the default ctx), TC with
 * __sk_buff.ifindex = ifindex. */
void bh_run_prog(enum prog_id p, __u32 ifindex, const void *data, __u32 len, struct bh_run *r);

/* Can XDP runs name their ingress device (which needs a registered rx
 * queue)? Runs frame on ifindex with ctx_in: 1 and bh.xdp_ctx set when it
 * passed, else 0 and bh.xdp_ctx cleared. */
int bh_probe_xdp_ctx(__u32 ifindex, const void *frame, __u32 len);

/* A VIP with zero counters and flags (LVIP_VIP_F_*) on every CPU. */
int bh_put_vip(int fd, const void *key, __u32 flags);

/* A struct lvip_vip_val entry summed over the CPUs. 0 or -errno. */
int bh_read_vip(int fd, const void *key, __u64 out[N_VF]);

/* lvip_stats into global, then the counters of the n interfaces into ifc;
 * stops at the first error. 0 or -errno. */
int bh_read_stats(__u64 global[LVIP_R_MAX], const __u32 *ifindex, int n,
		  __u64 (*ifc)[LVIP_R_MAX]);

/* lvip_tunstats summed over the CPUs, per tunnel type. 0 or -errno. */
int bh_read_tunstats(__u64 out[LVIP_TUN_MAX][LVIP_T_MAX]);

/* lvip_tunnel[type] = {flags, port (host order), mss}. 0 or -errno. */
int bh_put_tunnel(__u32 type, __u16 flags, __u16 port, __u16 mss);

/* lvip_tunaddr[addr] = what (LVIP_TUNADDR_*); addr an IPv6 address, or an
 * IPv4 one (v4: 4 bytes, stored mapped). 0 or -errno. */
int bh_put_tunaddr(const __u8 *addr, int v4, __u32 what);

/* The verdict code for pass/drop, and its name, on XDP or TC. */
__u32 bh_verdict_code(int xdp, int drop);
const char *bh_verdict_name(int xdp, __u32 v);

/* A TAP diagnostic line: indent, the formatted text and a newline appended
 * to text[size] at *len. Nothing when fewer than room bytes are left; the
 * text is clamped at the end of the buffer. */
void bh_vnote(char *text, size_t size, size_t *len, size_t room, const char *indent,
	      const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

#endif
