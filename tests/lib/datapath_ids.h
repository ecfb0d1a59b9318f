/* SPDX-License-Identifier: GPL-2.0 */
/*
 * datapath_ids.h - how the datapath tests number the three programs and the
 * four counters of a VIP. Plain C, no skeleton or libbpf header: the
 * BPF_PROG_RUN harness (bpf_harness.h) and the code that needs neither
 * (tests/unit/fixture_cases.c, fixtures_vs_oracle.c) use the same numbers.
 */
#ifndef LVIP_TEST_DATAPATH_IDS_H
#define LVIP_TEST_DATAPATH_IDS_H

/* The three programs of the skeleton. */
enum prog_id { P_XDP = 0, P_TC, P_TC_COMPAT, N_PROGS };

/* The counters of one VIP (struct lvip_vip_val). */
enum vip_field { VF_PACKETS = 0, VF_BYTES, VF_ARP, VF_ND, N_VF };

#define VF_NAMES { "packets", "bytes", "arp_dropped", "nd_dropped" }

#endif /* LVIP_TEST_DATAPATH_IDS_H */
