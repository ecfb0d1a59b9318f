/* SPDX-License-Identifier: GPL-2.0 */
/*
 * oracle.h - an independent reference model of lvip's datapath.
 *
 * Written from docs/datapath.md (both tables) and README ("What the
 * datapath does") only; it shares no code, header or constant with bpf/
 * (nor with include/lvip.h: reasons are named here and matched to the ABI
 * by name in the fuzzer). Plain C11, no kernel headers.
 *
 * oracle_ingress() is the XDP table, oracle_egress() the TC table. Both take
 * an Ethernet frame as handed to the program and say what the program must
 * do: the verdict, the delta of every global reason counter (the same delta
 * goes to the interface's counters), the delta of every VIP's counters, and
 * the frame's bytes afterwards.
 */
#ifndef LVIP_ORACLE_H
#define LVIP_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#define ORACLE_FRAME_MAX 2048
#define ORACLE_MAX_VIPS  16
#define ORACLE_MAX_ADDRS 16

/* Reasons, in the order docs/metrics.md lists them for `stats --json`. */
enum oracle_reason {
	ORACLE_ARP_IN_DROPPED = 0,
	ORACLE_ARP_OUT_DROPPED,
	ORACLE_ARP_OUT_REWRITTEN,
	ORACLE_ND_IN_DROPPED,
	ORACLE_ND_OUT_DROPPED,
	ORACLE_VIP_RX,
	ORACLE_MALFORMED,
	ORACLE_OBSERVE_ARP_IN,
	ORACLE_OBSERVE_ARP_OUT,
	ORACLE_OBSERVE_REWRITE,
	ORACLE_OBSERVE_ND_IN,
	ORACLE_OBSERVE_ND_OUT,
	ORACLE_N_REASONS,
};

extern const char *const oracle_reason_name[ORACLE_N_REASONS];
/* The oracle's index of the reason named name (lvip's own name for it), or -1. */
int oracle_reason_index(const char *name);

enum oracle_verdict { ORACLE_PASS = 0, ORACLE_DROP };

/* LVS-TUN (docs/datapath.md, "Tunnels"): the tunnel types and their
 * reasons, named as `lvip stats` names them and matched to the ABI by name. */
enum oracle_tun { ORACLE_TUN_IPIP = 0, ORACLE_TUN_GUE, ORACLE_TUN_GRE, ORACLE_N_TUN };

enum oracle_tun_reason {
	ORACLE_T_DECAPSULATED = 0,
	ORACLE_T_NOT_VIP,
	ORACLE_T_PEER_REFUSED,
	ORACLE_T_FRAGMENT,
	ORACLE_T_MALFORMED,
	ORACLE_N_TUN_REASONS,
};

extern const char *const oracle_tun_name[ORACLE_N_TUN];
extern const char *const oracle_tun_reason_name[ORACLE_N_TUN_REASONS];
/* The oracle's index of the tunnel type / reason named name, or -1. */
int oracle_tun_index(const char *name);
int oracle_tun_reason_index(const char *name);

/* An address the tunnel configuration names: this host's own (an outer
 * destination that may be decapsulated) and/or an allowed director (outer
 * source) of the types whose peer[] is set. */
struct oracle_taddr {
	int v6;
	uint8_t a[16]; /* IPv4: the first 4 bytes */
	int local;
	int peer[ORACLE_N_TUN];
};

/* Which types are decapsulated, which only from their peers, the GUE
 * port (host order) and the addresses. */
struct oracle_tunnels {
	int enabled[ORACLE_N_TUN];
	int peers_only[ORACLE_N_TUN];
	uint16_t gue_port;
	size_t n;
	struct oracle_taddr addr[ORACLE_MAX_ADDRS];
};

/* Add the address ADDR (text, IPv4 or IPv6) to t: local, and a peer of
 * the types whose flag is set. 0, or -1 (bad address, t full). */
int oracle_tunnels_add(struct oracle_tunnels *t, const char *addr, int local, int ipip, int gue,
		       int gre);

/* The VIPs in the maps, network byte order. A released VIP (non-zero
 * released4/released6) is not hidden: only packets to it are counted. */
struct oracle_vips {
	size_t n4, n6;
	uint8_t v4[ORACLE_MAX_VIPS][4];
	uint8_t v6[ORACLE_MAX_VIPS][16];
	int released4[ORACLE_MAX_VIPS];
	int released6[ORACLE_MAX_VIPS];
};

/* One IPv4 address of the egress interface, in the kernel's order. */
struct oracle_addr4 {
	uint8_t addr[4];
	uint8_t prefix_len;  /* 0..32 */
	int secondary;       /* a secondary address is never a rewrite source */
};

struct oracle_iface {
	size_t n;
	struct oracle_addr4 a[ORACLE_MAX_ADDRS];
	unsigned mtu;        /* the MSS clamp's auto limit; 0: unknown */
};

/* The MSS clamp on egress (docs/datapath.md, "MSS clamping"), per tunnel
 * type in the order ipip, gue, gre: enabled, and the clamp: ORACLE_MSS_OFF,
 * ORACLE_MSS_AUTO or the MSS itself. */
#define ORACLE_TUN_TYPES 3
#define ORACLE_MSS_OFF   0
#define ORACLE_MSS_AUTO  0xffff

struct oracle_clamp {
	int enabled[ORACLE_TUN_TYPES];
	unsigned mss[ORACLE_TUN_TYPES];
};

struct oracle_vip_delta {
	uint64_t packets, bytes, arp_dropped, nd_dropped;
};

struct oracle_result {
	enum oracle_verdict verdict;
	uint64_t reason[ORACLE_N_REASONS];
	struct oracle_vip_delta vip4[ORACLE_MAX_VIPS];
	struct oracle_vip_delta vip6[ORACLE_MAX_VIPS];
	uint64_t tun[ORACLE_N_TUN][ORACLE_N_TUN_REASONS];
	uint8_t out[ORACLE_FRAME_MAX];
	size_t out_len;
	const char *rule;    /* the row of the table that decided, for humans */
};

/* Both return 0, or -1 (result untouched) when len > ORACLE_FRAME_MAX or an
 * argument is NULL. observe: the interface is in observe mode. tun: the
 * tunnel configuration, NULL for none. */
int oracle_ingress(const uint8_t *frame, size_t len, const struct oracle_vips *vips,
		   const struct oracle_tunnels *tun, int observe, struct oracle_result *res);
int oracle_egress(const uint8_t *frame, size_t len, const struct oracle_vips *vips,
		  const struct oracle_iface *iface, int observe, struct oracle_result *res);
/* oracle_egress with the MSS clamps configured (clamp NULL: none). */
int oracle_egress_clamp(const uint8_t *frame, size_t len, const struct oracle_vips *vips,
			const struct oracle_iface *iface, int observe,
			const struct oracle_clamp *clamp, struct oracle_result *res);

#endif /* LVIP_ORACLE_H */
