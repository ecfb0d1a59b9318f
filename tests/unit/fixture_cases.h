/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fixture_cases.h - the cases the fixture table (fixtures.h) makes, for the
 * two programs that read the table: test_datapath runs every case through
 * BPF_PROG_RUN, fixtures_vs_oracle (run by make before test_datapath is
 * linked) asks the independent oracle (tests/fuzz/oracle.c) about every
 * case. Both take from here which cases a row makes, the frame of each case
 * (written with tests/lib/frame.h) and what the table expects of it, so
 * that the oracle judges exactly what the programs are tested on.
 *
 * Needs no skeleton and no libbpf.
 */
#ifndef LVIP_TEST_FIXTURE_CASES_H
#define LVIP_TEST_FIXTURE_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "datapath_ids.h"
#include "fixtures.h"
#include "frame.h"

#define VLAN_HLEN 4

/* One run: a row through one program, under 0-3 VLAN tags, whole or cut. */
struct tcase {
	const struct fixture *fx;
	enum prog_id prog;
	int tags;
	int len; /* -1: the whole frame */
};

/* What the table expects of a case. */
struct expect {
	enum action act;
	int reason;              /* R(...) or 0 */
	enum vip_id vip;
	__u32 vip_bytes;
	const char *rewrite;     /* REWRITE: the new ARP sender IP */
	int tun;                 /* T(...) or 0: lvip_tunstats[tun_type] */
	int tun_type;            /* enum lvip_tun_type of a tunnel row, else -1 */
	__u16 mss_out;           /* K_TCP: the MSS after the clamp (0: untouched) */
};

/* "xdp", "tc", "tc_compat" */
extern const char *const prog_name[N_PROGS];

/* The VIPs of the table, as put in the maps, with their flags. */
extern const char *const vip_addr[N_VIP_IDS];
extern const __u32 vip_flags[N_VIP_IDS];
int vip_is_v6(enum vip_id v);

enum hook prog_hook(enum prog_id p);

/* The frame of a row's spec under tags VLAN tags. A frame longer than
 * FRAME_MAX: TAP "Bail out!", exit 1. */
void build_frame(const struct frame_spec *s, int tags, struct frame *f);

/* Every case of the table, in the order test_datapath runs them: each row
 * under 0, 1 and 2 VLAN tags (a .tags3 row under three only), an XDP row
 * through lvip_xdp, a TC row through lvip_tc and lvip_tc_compat; then each
 * .trunc row at every shorter length, under the same tags, through the hooks
 * its TR_* flags name (TC: lvip_tc).
 * *out is malloc'ed; returns the count. A row that contradicts itself: TAP
 * "Bail out!", exit 1. */
size_t collect_cases(struct tcase **out);

/* Every row the runner does not sweep through its own hook, swept there: at
 * every length shorter than its frame, under each of its encapsulations,
 * through lvip_xdp or lvip_tc. test_datapath does not run these;
 * fixtures_vs_oracle checks the table's truncation rule on them. */
size_t collect_sweeps(struct tcase **out);

/* The bytes the case's hook must see to judge its frame f (whole). */
size_t case_needed(const struct tcase *tc, const struct frame *f);

/* The table's expectation of a case whose frame (whole) is f. */
struct expect expect_for(const struct tcase *tc, const struct frame *f);

/* The counters of VIP v the expectation moves (enum vip_field). */
void want_vip(const struct expect *e, enum vip_id v, uint64_t w[N_VF]);

/* Offset of the ARP sender IP in the case's frame. */
size_t case_arp_sip(const struct tcase *tc);

/* The tunnel type (enum lvip_tun_type) of a tunnel frame spec, else -1. */
int spec_tun_type(const struct frame_spec *s);

/* The bytes the program must leave of in[len] (returns their count, at
 * most FRAME_MAX): in, with the ARP sender IP rewritten when e says so,
 * decapsulated (the inner packet behind the same L2 header, cut as in was),
 * or the MSS lowered (TCP checksum recomputed). */
size_t want_data(const struct tcase *tc, const struct expect *e, const uint8_t *in, size_t len,
		 uint8_t *want);

/* ---- TC egress: MSS clamp ---- */

/* Where a K_TCP case's headers are: the IP header (l3), the TCP header (l4)
 * of len bytes (options included), the first MSS option's value (0: none). */
struct tcp_at {
	int v6;
	size_t l3, l4, len, mss;
};

/* 1 and *at for a K_TCP case, else 0. */
int case_tcp(const struct tcase *tc, struct tcp_at *at);

/* The TCP checksum of a whole K_TCP frame out[len] verifies (1; also for
 * any other case or a cut frame), recomputed over the whole segment. */
int tcp_checksum_ok(const struct tcase *tc, const uint8_t *out, size_t len);

/* The case, for humans: the row's name, the VLAN tags, the cut. */
void case_label(const struct tcase *tc, const struct frame *f, char *buf, size_t n);

#endif /* LVIP_TEST_FIXTURE_CASES_H */
