/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fixtures.h - the one table of packet fixtures that drives the datapath
 * unit tests (test_datapath.c), in the style of the kernel BPF selftests.
 *
 * Each row is a frame (described here, built by fixture_cases.c) and what
 * docs/datapath.md says the hook must do with it: the verdict, the
 * global/per-interface reason counted, the VIP charged and, for an egress
 * "tell VIP" ARP request, the sender IP it must carry after the rewrite.
 * fixture_cases.c turns every row into several cases: no VLAN tag, one 802.1Q
 * tag, 802.1ad + 802.1Q (a .tags3 row: 802.1ad + 802.1Q + 802.1Q only); XDP
 * rows through lvip_xdp, TC rows through both lvip_tc and lvip_tc_compat;
 * rows marked .trunc also at every length shorter than the full frame, under
 * the same encapsulations, through the hooks their TR_* flags name (TC:
 * lvip_tc):
 *
 *  - cut inside what the hook needs to judge the frame (docs/datapath.md,
 *    "Malformed": Ethernet, the first two VLAN tags, the ARP body, the
 *    20-byte IPv4 header, the IPv6 header, the next-header and length bytes
 *    of each extension header walked, the ICMPv6 type byte, the 24-byte
 *    fixed part of an NS on ingress or of an NA on egress): pass; ingress
 *    counts malformed, egress counts nothing (its table has no malformed row);
 *  - cut only in what the hook does not read (ND options, IPv4 options,
 *    extension header options, the rest of an ICMPv6 message the hook does
 *    not judge, payload, anything after a third VLAN tag's TPID): judged like
 *    the whole frame;
 *  - lengths BPF_PROG_RUN refuses (below ETH_HLEN; on TC also untagged
 *    IPv4/IPv6 frames shorter than their IP header): the refusal (EINVAL)
 *    is asserted, with nothing counted, and the case name says so.
 *
 * The table is one of two oracles: make asks the other, written apart from
 * it (tests/fuzz/oracle.c), about every case before it links test_datapath
 * (fixtures_vs_oracle.c), and about every row cut at every length through
 * its own hook, and stops when the two disagree.
 *
 * Addresses: 198.18.0.0/15 and 2001:db8::/32 only.
 */
#ifndef LVIP_TEST_FIXTURES_H
#define LVIP_TEST_FIXTURES_H

#include <stddef.h>
#include <linux/types.h>

#include "lvip.h"

/* The VIPs put in the maps, and addresses that are not VIPs. */
#define VIP_A       "198.18.0.100"
#define VIP_B       "198.18.0.101"
#define VIP6        "2001:db8::100"
#define VIP_REL     "198.18.0.102"    /* released ('lvip vip release'): not hidden */
#define VIP6_REL    "2001:db8::102"   /* released */
#define NONVIP4     "198.18.0.1"      /* a neighbour / the gateway */
#define NONVIP6     "2001:db8::1"
#define SUBNET2_HOST "198.18.1.1"     /* in lvt0's second subnet */
#define OFFNET4     "198.19.0.1"      /* in none of lvt0's subnets */
#define ANY4        "0.0.0.0"
#define ANY6        "::"
#define SNMA_VIP6   "ff02::1:ff00:100" /* solicited-node multicast of VIP6 */
#define SNMA_NONVIP6 "ff02::1:ff00:1"
#define SNMA_REL6   "ff02::1:ff00:102" /* solicited-node multicast of VIP6_REL */
#define ALL_NODES   "ff02::1"

/* lvt0's IPv4 addresses, kernel order (primary first), both /24. */
#define IF_ADDR1    "198.18.0.11"
#define IF_ADDR2    "198.18.1.11"

/* LVS-TUN (docs/datapath.md, "Tunnels"): what test_datapath puts in
 * lvip_tunnel and lvip_tunaddr. All three types enabled, GUE on GUE_PORT,
 * GRE with peers: DIRECTOR4/6 are GRE (and IPIP) peers, DIRECTOR_IPIP4/6
 * IPIP peers only. TUN_LOCAL4/6 are this host's (LOCAL). */
#define GUE_PORT       6080
#define TUN_LOCAL4     IF_ADDR1
#define TUN_LOCAL6     "2001:db8::11"
#define DIRECTOR4      "198.18.2.1"
#define DIRECTOR6      "2001:db8:2::1"
#define DIRECTOR_IPIP4 "198.18.2.2"
#define DIRECTOR_IPIP6 "2001:db8:2::2"
#define NOTLOCAL4      "198.18.0.50"
#define NOTLOCAL6      "2001:db8::50"
#define CLIENT4        "198.18.3.3"   /* the inner packets' source */
#define CLIENT6        "2001:db8:3::3"

/* The TC devices' MTUs (the MSS clamp's auto limit): lvt0 and lvt3 keep
 * the veth default, test_datapath sets lvt2's. */
#define IF_MAIN_MTU   1500
#define IF_NOADDR_MTU 1400
#define IF_EMPTY_MTU  1500

/* ---- frame description ---- */

enum frame_kind { K_ARP = 1, K_IPV4, K_IPV6, K_ETHERTYPE, K_TUN, K_TCP };

/* Tunnel packets: the outer IPv4/IPv6 header, the tunnel header, an inner
 * IPv4/IPv6 UDP packet (12 bytes of payload: 40 or 60 IP bytes). */
enum tun_kind { TK_IPIP = 1, TK_GRE, TK_GRE_CSUM, TK_GUE0, TK_GUE1 };

/* One wrong field of a tunnel packet. */
enum tun_bad {
	TB_NONE = 0,
	TB_GRE_KEY,     /* GRE K bit */
	TB_GRE_VER,     /* GRE version 1 */
	TB_GRE_ROUTING, /* GRE R bit */
	TB_GRE_PROTO,   /* GRE protocol 0x6558 (Ethernet) */
	TB_GUE_PROTO,   /* GUE v0 proto 17 */
	TB_GUE_VER,     /* GUE version bits 10 */
	TB_GUE1_NIBBLE, /* GUE v1 inner first nibble 5 */
	TB_UDP_LEN,     /* UDP length 12: no room for the inner header */
	TB_INNER_VER,   /* inner IPv4 header with version 6 */
	TB_INNER_IHL,   /* inner IPv4 header with ihl 4 */
};

struct tun_spec {
	enum tun_kind kind;
	int outer6, inner6;
	const char *osrc, *odst; /* outer; NULL: DIRECTOR4/6, TUN_LOCAL4/6 */
	const char *idst;        /* inner destination; NULL: VIP_A / VIP6 */
	__u8 opt_words;          /* outer IPv4 options, 4-byte words */
	__u16 frag_off;          /* outer IPv4 flags and fragment offset */
	__u8 frag6;              /* outer IPv6 fragment header: 1 first, 2 a later one */
	int oext;                /* outer IPv6: a hop-by-hop header first */
	__u8 oecn, iecn;         /* ECN fields, outer and inner */
	__u8 gue_hlen;           /* GUE v0 option words */
	int gue_ctrl;            /* GUE v0 C bit */
	__u8 gue_priv;           /* GUE v0 private flags word: 1 none set, 2 remcsum */
	__u16 port;              /* UDP destination port; 0: GUE_PORT */
	enum tun_bad bad;
};

/* Which one ARP header field (if any) carries a wrong value; a wrong
 * hardware type is given as arp_spec.hrd. */
enum arp_bad { ARP_GOOD = 0, BAD_PRO, BAD_HLN, BAD_PLN };

/* ARP hardware types (RFC 826 registry): Linux takes both on Ethernet. */
#define HRD_ETHER  1
#define HRD_IEEE802 6

/* IPv6 extension headers before the upper layer, outermost first. */
enum ext_hdr { X_END = 0, X_HBH, X_RT, X_DST };

enum l4_kind { L4_UDP = 0, L4_ICMP6 };

struct arp_spec {
	__u16 op;
	const char *sip;
	const char *tip;
	enum arp_bad bad;
	__u16 hrd;     /* hardware type, as sent */
};

struct ip4_spec {
	const char *src;
	const char *dst;
	__u8 ver_ihl; /* 0: 0x45 */
};

#define EXT_MAX 4

struct ip6_spec {
	const char *src;
	const char *dst;
	__u8 version;            /* 0: 6 */
	enum ext_hdr ext[EXT_MAX];
	enum l4_kind l4;
	__u8 type;               /* ICMPv6 type */
	const char *target;      /* NS/NA target (NULL: zeros) */
	int lla_opt;             /* append the source/target link-layer address option */
};

/* A TCP segment (K_TCP): IPv4 (ihl 5, DF) or IPv6 (with extension
 * headers), the 20-byte header with flags, then the option bytes, padded
 * with zeros (EOL) to the data offset; no payload. */
#define TCP_OPT_BYTES 40

struct tcp_spec {
	int v6;
	const char *src;
	const char *dst;
	__u8 flags;              /* FRAME_TCP_* */
	__u8 opt[TCP_OPT_BYTES];
	__u8 optlen;
	enum ext_hdr ext[EXT_MAX]; /* IPv6 */
	__u16 frag_off;          /* IPv4: 0 is DF, else as given */
};

struct frame_spec {
	enum frame_kind kind;
	struct tcp_spec tcp;
	__u16 ethertype;         /* K_ETHERTYPE */
	struct arp_spec arp;
	struct ip4_spec ip4;
	struct ip6_spec ip6;
	struct tun_spec tun;
	__u16 pad_to;            /* zero-pad the frame to this length (Ethernet minimum 60) */
	int tags3;               /* always three VLAN tags (no variants) */
};

/* ---- expectation ---- */

enum hook { XDP = 1, TC };

/* DECAP: XDP_PASS with the tunnel headers stripped. */
enum action { PASS = 0, DROP, REWRITE, DECAP };

/* V_REL and V_REL6 are in the maps with LVIP_VIP_F_RELEASED. */
enum vip_id { NO_VIP = 0, V_A, V_B, V_6, V_REL, V_REL6, N_VIP_IDS };

/* The device a TC row runs on (XDP rows use the XDP test device). */
enum tc_iface {
	IF_MAIN = 0, /* lvt0: IF_ADDR1/24, IF_ADDR2/24; lvip_ifaddr has both */
	IF_NOADDR,   /* lvt2: no IPv4 address; no lvip_ifaddr entry */
	IF_EMPTY,    /* lvt3: no IPv4 address; lvip_ifaddr entry with count 0 */
};

/* A reason to count, 0 for none. */
#define R(x) (1 + LVIP_R_##x)

/* A tunnel reason to count in lvip_tunstats (of the row's type), 0 for none. */
#define T(x) (1 + LVIP_T_##x)

/* Truncation sweeps. A row swept through the other hook must be "anything
 * else" (pass, nothing counted) there. */
#define TR_XDP 1u
#define TR_TC  2u

/* lvip_tunnel during the row: per type (enum lvip_tun_type), 0 for no
 * entry, else the type enabled with this lvip_tunnel.mss (LVIP_MSS_AUTO or
 * a value); disabled: types written with that mss but not enabled. */
struct clamp_spec {
	__u16 mss[LVIP_TUN_MAX];
	unsigned int disabled;
};

struct fixture {
	const char *name;
	enum hook hook;
	enum tc_iface iface;
	struct frame_spec f;
	enum action act;
	int reason;              /* R(...) or 0 */
	enum vip_id vip;         /* VIP whose counters move (per reason) */
	__u32 vip_bytes;         /* R(VIP_RX): IP bytes, header included */
	const char *rewrite;     /* REWRITE: the new ARP sender IP */
	unsigned int trunc;      /* TR_* */
	int observe;             /* the device is in observe mode (lvip_ifmode) */
	int tun;                 /* T(...) or 0: lvip_tunstats of the row's tunnel type */
	int tun_off;             /* the row's tunnel type disabled in lvip_tunnel */
	struct clamp_spec clamp; /* lvip_tunnel's MSS clamps (none: all off) */
	__u16 mss_out;           /* the MSS the segment must leave with (0: untouched) */
};

/* Row shorthands. */
#define IN(n)  .name = (n), .hook = XDP
#define OUT(n) .name = (n), .hook = TC
#define EXPECT(a, r, v) .act = (a), .reason = (r), .vip = (v)
#define NOTHING .act = PASS, .reason = 0, .vip = NO_VIP
/* The row's device in observe mode: what enforce would drop or rewrite
 * passes unchanged, counted as the observe reason r, charging no VIP. */
#define OBSERVED(r) .observe = 1, .act = PASS, .reason = (r), .vip = NO_VIP

#define REQ   1 /* ARPOP_REQUEST */
#define REPLY 2 /* ARPOP_REPLY */
#define INARP_REQ 8

#define ARP(o, s, t) .kind = K_ARP, .arp = { .op = (o), .sip = (s), .tip = (t), .hrd = HRD_ETHER }
#define ARP_BAD(o, s, t, b) \
	.kind = K_ARP, .arp = { .op = (o), .sip = (s), .tip = (t), .bad = (b), .hrd = HRD_ETHER }
#define ARP_HRD(h, o, s, t) .kind = K_ARP, .arp = { .op = (o), .sip = (s), .tip = (t), .hrd = (h) }
#define ARP802(o, s, t) ARP_HRD(HRD_IEEE802, o, s, t)
#define IP4(s, d, vi) .kind = K_IPV4, .ip4 = { .src = (s), .dst = (d), .ver_ihl = (vi) }
#define UDP6(s, d, v) .kind = K_IPV6, .ip6 = { .src = (s), .dst = (d), .version = (v) }
#define UDP6X(s, d, ...) .kind = K_IPV6, .ip6 = { .src = (s), .dst = (d), .ext = { __VA_ARGS__ } }
#define ICMP6(s, d, t, tgt, opt) \
	.kind = K_IPV6, .ip6 = { .src = (s), .dst = (d), .l4 = L4_ICMP6, .type = (t), \
				 .target = (tgt), .lla_opt = (opt) }
#define ICMP6X(s, d, t, tgt, opt, ...) \
	.kind = K_IPV6, .ip6 = { .src = (s), .dst = (d), .l4 = L4_ICMP6, .type = (t), \
				 .target = (tgt), .lla_opt = (opt), .ext = { __VA_ARGS__ } }
#define ETHERTYPE(e) .kind = K_ETHERTYPE, .ethertype = (e)
/* k tunnel, outer IPv6 o6, inner IPv6 i6, then tun_spec fields. */
#define TUN(k, o6, i6, ...) \
	.kind = K_TUN, .tun = { .kind = (k), .outer6 = (o6), .inner6 = (i6), __VA_ARGS__ }
/* Decapsulated: the inner packet is vip_rx for VIP v (b IP bytes). */
#define DECAPPED(v, b) .act = DECAP, .reason = R(VIP_RX), .vip = (v), .vip_bytes = (b), \
	.tun = T(DECAP)
#define DECAP4 DECAPPED(V_A, 40)
#define DECAP6 DECAPPED(V_6, 60)
/* Passed untouched, counted t in lvip_tunstats only. */
#define TUNPASS(t) .act = PASS, .reason = 0, .vip = NO_VIP, .tun = T(t)

/* TCP segments: TCP4(src, dst, flags, option bytes...), TCP6 likewise,
 * TCP4F with an IPv4 frag_off, TCP6X with four extension header slots. */
#define TCP_OPTS(...) .opt = { __VA_ARGS__ }, .optlen = sizeof((__u8[]){ __VA_ARGS__ })
#define TCP4(s, d, fl, ...) \
	.kind = K_TCP, .tcp = { .src = (s), .dst = (d), .flags = (fl), TCP_OPTS(__VA_ARGS__) }
#define TCP6(s, d, fl, ...) \
	.kind = K_TCP, .tcp = { .v6 = 1, .src = (s), .dst = (d), .flags = (fl), TCP_OPTS(__VA_ARGS__) }
#define TCP4F(s, d, fl, frag, ...) \
	.kind = K_TCP, .tcp = { .src = (s), .dst = (d), .flags = (fl), .frag_off = (frag), \
				TCP_OPTS(__VA_ARGS__) }
#define TCP6X(s, d, fl, x1, x2, x3, x4, ...) \
	.kind = K_TCP, .tcp = { .v6 = 1, .src = (s), .dst = (d), .flags = (fl), \
				.ext = { x1, x2, x3, x4 }, TCP_OPTS(__VA_ARGS__) }
#define SYN     0x02 /* TCP flags */
#define ACK     0x10
#define SYNACK  (SYN | ACK)
/* option bytes */
#define O_EOL     0
#define O_NOP     1
#define O_MSS(v)  2, 4, (__u8)((v) >> 8), (__u8)(v)
#define O_WS(s)   3, 3, (s)
#define O_SACKOK  4, 2
#define O_TS      8, 10, 0, 0, 0x12, 0x34, 0, 0, 0, 0
/* Linux's SYN: MSS, SACK permitted, timestamps, NOP, window scale 7 */
#define O_LINUX(v) O_MSS(v), O_SACKOK, O_TS, O_NOP, O_WS(7)
/* lvip_tunnel: CLAMP(ipip, gue, gre), 0 = no entry */
#define CLAMP(a, b, c) .clamp = { .mss = { (a), (b), (c) } }
#define AUTO LVIP_MSS_AUTO
/* auto limits on a 1500-byte MTU: IPv4 1460 less the type's overhead
 * (ipip 40, gue 52, gre 48), IPv6 1440 less it */
#define AUTO4_IPIP 1420
#define AUTO4_GUE  1408
#define AUTO4_GRE  1412
#define AUTO6_IPIP 1400
#define AUTO6_GUE  1388
#define AUTO6_GRE  1392

#define NS   135
#define NA   136
#define ECHO 128

/* UDP datagrams carry 12 bytes: IPv4 = ihl*4 + 20, IPv6 = 40 + exts + 20. */

static const struct fixture fixtures[] = {
	/* ---- XDP ingress: docs/datapath.md, "XDP ingress" ---- */
	{ IN("ARP request for a VIP"), .f = { ARP(REQ, NONVIP4, VIP_A) },
	  EXPECT(DROP, R(ARP_IN_DROPPED), V_A), .trunc = TR_XDP | TR_TC },
	{ IN("ARP request for the second VIP"), .f = { ARP(REQ, NONVIP4, VIP_B) },
	  EXPECT(DROP, R(ARP_IN_DROPPED), V_B) },
	{ IN("ARP request for a VIP, padded to 60 bytes"), .f = { ARP(REQ, NONVIP4, VIP_A), .pad_to = 60 },
	  EXPECT(DROP, R(ARP_IN_DROPPED), V_A) },
	{ IN("ARP probe (sender 0.0.0.0) for a VIP"), .f = { ARP(REQ, ANY4, VIP_A) },
	  EXPECT(DROP, R(ARP_IN_DROPPED), V_A) },
	{ IN("gratuitous ARP request (sender = target = VIP) from another host"),
	  .f = { ARP(REQ, VIP_A, VIP_A) }, EXPECT(DROP, R(ARP_IN_DROPPED), V_A) },
	{ IN("ARP request from a VIP for another VIP (target charged)"), .f = { ARP(REQ, VIP_A, VIP_B) },
	  EXPECT(DROP, R(ARP_IN_DROPPED), V_B) },
	{ IN("ARP reply whose sender is a VIP (director announcing)"), .f = { ARP(REPLY, VIP_A, NONVIP4) },
	  NOTHING },
	{ IN("gratuitous ARP reply (sender = target = VIP)"), .f = { ARP(REPLY, VIP_A, VIP_A) }, NOTHING },
	{ IN("ARP reply whose target is a VIP"), .f = { ARP(REPLY, NONVIP4, VIP_A) }, NOTHING },
	{ IN("InARP request (op 8) for a VIP, not an ARP request"), .f = { ARP(INARP_REQ, NONVIP4, VIP_A) },
	  NOTHING },
	{ IN("ARP request for a non-VIP"), .f = { ARP(REQ, NONVIP4, IF_ADDR1) }, NOTHING },
	{ IN("ARP reply from a non-VIP"), .f = { ARP(REPLY, NONVIP4, IF_ADDR1) }, NOTHING },
	{ IN("ARP request for a VIP, hrd 6 (IEEE 802)"), .f = { ARP802(REQ, NONVIP4, VIP_A) },
	  EXPECT(DROP, R(ARP_IN_DROPPED), V_A), .trunc = TR_XDP | TR_TC },
	{ IN("ARP probe (sender 0.0.0.0) for a VIP, hrd 6"), .f = { ARP802(REQ, ANY4, VIP_A) },
	  EXPECT(DROP, R(ARP_IN_DROPPED), V_A) },
	{ IN("gratuitous ARP request for a VIP, hrd 6"), .f = { ARP802(REQ, VIP_B, VIP_B) },
	  EXPECT(DROP, R(ARP_IN_DROPPED), V_B) },
	{ IN("ARP reply whose sender is a VIP, hrd 6"), .f = { ARP802(REPLY, VIP_A, NONVIP4) }, NOTHING },
	{ IN("ARP request for a non-VIP, hrd 6"), .f = { ARP802(REQ, NONVIP4, IF_ADDR1) }, NOTHING },
	{ IN("malformed ARP request for a VIP: hrd 2"), .f = { ARP_HRD(2, REQ, NONVIP4, VIP_A) },
	  EXPECT(PASS, R(MALFORMED), NO_VIP) },
	{ IN("malformed ARP request for a VIP: hrd 0"), .f = { ARP_HRD(0, REQ, NONVIP4, VIP_A) },
	  EXPECT(PASS, R(MALFORMED), NO_VIP) },
	{ IN("malformed ARP request for a VIP: hrd 0x0600 (6, byte-swapped)"),
	  .f = { ARP_HRD(0x0600, REQ, NONVIP4, VIP_A) }, EXPECT(PASS, R(MALFORMED), NO_VIP) },
	{ IN("malformed ARP request for a VIP: hrd 0x0101"), .f = { ARP_HRD(0x0101, REQ, NONVIP4, VIP_A) },
	  EXPECT(PASS, R(MALFORMED), NO_VIP) },
	{ IN("malformed ARP request for a VIP: pro 0x86dd"), .f = { ARP_BAD(REQ, NONVIP4, VIP_A, BAD_PRO) },
	  EXPECT(PASS, R(MALFORMED), NO_VIP) },
	{ IN("malformed ARP request for a VIP: hln 8"), .f = { ARP_BAD(REQ, NONVIP4, VIP_A, BAD_HLN) },
	  EXPECT(PASS, R(MALFORMED), NO_VIP) },
	{ IN("malformed ARP request for a VIP: pln 16"), .f = { ARP_BAD(REQ, NONVIP4, VIP_A, BAD_PLN) },
	  EXPECT(PASS, R(MALFORMED), NO_VIP) },
	{ IN("IPv4 UDP to a VIP"), .f = { IP4(NONVIP4, VIP_A, 0) },
	  EXPECT(PASS, R(VIP_RX), V_A), .vip_bytes = 40 },
	{ IN("IPv4 UDP to the second VIP"), .f = { IP4(NONVIP4, VIP_B, 0) },
	  EXPECT(PASS, R(VIP_RX), V_B), .vip_bytes = 40 },
	{ IN("IPv4 UDP with options (ihl 6) to a VIP"), .f = { IP4(NONVIP4, VIP_A, 0x46) },
	  EXPECT(PASS, R(VIP_RX), V_A), .vip_bytes = 44 },
	{ IN("IPv4 UDP to a non-VIP"), .f = { IP4(NONVIP4, IF_ADDR1, 0) }, NOTHING },
	{ IN("IPv4 version 6 to a VIP"), .f = { IP4(NONVIP4, VIP_A, 0x65) },
	  EXPECT(PASS, R(MALFORMED), NO_VIP) },
	{ IN("IPv4 ihl 4 to a VIP"), .f = { IP4(NONVIP4, VIP_A, 0x44) },
	  EXPECT(PASS, R(MALFORMED), NO_VIP) },
	{ IN("IPv6 UDP to a VIP"), .f = { UDP6(NONVIP6, VIP6, 0) },
	  EXPECT(PASS, R(VIP_RX), V_6), .vip_bytes = 60 },
	{ IN("IPv6 UDP to a non-VIP"), .f = { UDP6(VIP6, NONVIP6, 0) }, NOTHING },
	{ IN("IPv6 version 4 to a VIP"), .f = { UDP6(NONVIP6, VIP6, 4) },
	  EXPECT(PASS, R(MALFORMED), NO_VIP) },
	{ IN("IPv6 UDP to a VIP after a hop-by-hop header"), .f = { UDP6X(NONVIP6, VIP6, X_HBH) },
	  EXPECT(PASS, R(VIP_RX), V_6), .vip_bytes = 68, .trunc = TR_XDP },
	{ IN("ICMPv6 echo request to a VIP"), .f = { ICMP6(NONVIP6, VIP6, ECHO, NULL, 0) },
	  EXPECT(PASS, R(VIP_RX), V_6), .vip_bytes = 64, .trunc = TR_XDP },
	{ IN("NS for a VIP (solicited-node multicast, SLLA option)"),
	  .f = { ICMP6(NONVIP6, SNMA_VIP6, NS, VIP6, 1) },
	  EXPECT(DROP, R(ND_IN_DROPPED), V_6), .trunc = TR_XDP | TR_TC },
	{ IN("DAD NS for a VIP (source ::, no option)"), .f = { ICMP6(ANY6, SNMA_VIP6, NS, VIP6, 0) },
	  EXPECT(DROP, R(ND_IN_DROPPED), V_6), .trunc = TR_XDP | TR_TC },
	{ IN("NS for a VIP, unicast to the VIP (dropped as NS, no vip_rx)"),
	  .f = { ICMP6(NONVIP6, VIP6, NS, VIP6, 1) }, EXPECT(DROP, R(ND_IN_DROPPED), V_6) },
	{ IN("NS for a VIP after a hop-by-hop header"),
	  .f = { ICMP6X(NONVIP6, SNMA_VIP6, NS, VIP6, 1, X_HBH) }, EXPECT(DROP, R(ND_IN_DROPPED), V_6) },
	{ IN("NS for a VIP after a destination-options header"),
	  .f = { ICMP6X(NONVIP6, SNMA_VIP6, NS, VIP6, 1, X_DST) }, EXPECT(DROP, R(ND_IN_DROPPED), V_6) },
	{ IN("NS for a VIP after hop-by-hop, destination-options and routing headers"),
	  .f = { ICMP6X(NONVIP6, SNMA_VIP6, NS, VIP6, 1, X_HBH, X_DST, X_RT) },
	  EXPECT(DROP, R(ND_IN_DROPPED), V_6) },
	{ IN("NS for a non-VIP"), .f = { ICMP6(NONVIP6, SNMA_NONVIP6, NS, NONVIP6, 1) }, NOTHING },
	{ IN("NS for a non-VIP, unicast to a VIP"), .f = { ICMP6(NONVIP6, VIP6, NS, NONVIP6, 1) },
	  EXPECT(PASS, R(VIP_RX), V_6), .vip_bytes = 72 },
	{ IN("NA for a VIP (not an NS)"), .f = { ICMP6(NONVIP6, ALL_NODES, NA, VIP6, 1) }, NOTHING },
	{ IN("NA for a non-VIP, unicast to a VIP"), .f = { ICMP6(NONVIP6, VIP6, NA, NONVIP6, 1) },
	  EXPECT(PASS, R(VIP_RX), V_6), .vip_bytes = 72, .trunc = TR_XDP },
	{ IN("ARP request for a released VIP"), .f = { ARP(REQ, NONVIP4, VIP_REL) }, NOTHING,
	  .trunc = TR_XDP },
	{ IN("ARP probe (sender 0.0.0.0) for a released VIP"), .f = { ARP(REQ, ANY4, VIP_REL) }, NOTHING },
	{ IN("ARP request for a released VIP, hrd 6"), .f = { ARP802(REQ, NONVIP4, VIP_REL) }, NOTHING },
	{ IN("ARP request from a released VIP for a hidden VIP (target charged)"),
	  .f = { ARP(REQ, VIP_REL, VIP_A) }, EXPECT(DROP, R(ARP_IN_DROPPED), V_A) },
	{ IN("IPv4 UDP to a released VIP"), .f = { IP4(NONVIP4, VIP_REL, 0) },
	  EXPECT(PASS, R(VIP_RX), V_REL), .vip_bytes = 40 },
	{ IN("IPv6 UDP to a released VIP"), .f = { UDP6(NONVIP6, VIP6_REL, 0) },
	  EXPECT(PASS, R(VIP_RX), V_REL6), .vip_bytes = 60 },
	{ IN("NS for a released VIP (solicited-node multicast)"),
	  .f = { ICMP6(NONVIP6, SNMA_REL6, NS, VIP6_REL, 1) }, NOTHING, .trunc = TR_XDP },
	{ IN("DAD NS for a released VIP"), .f = { ICMP6(ANY6, SNMA_REL6, NS, VIP6_REL, 0) }, NOTHING },
	{ IN("NS for a released VIP, unicast to it (vip_rx, as any packet to it)"),
	  .f = { ICMP6(NONVIP6, VIP6_REL, NS, VIP6_REL, 1) },
	  EXPECT(PASS, R(VIP_RX), V_REL6), .vip_bytes = 72 },
	{ IN("LLDP"), .f = { ETHERTYPE(0x88cc) }, NOTHING },
	{ IN("unknown EtherType 0x88b5"), .f = { ETHERTYPE(0x88b5) }, NOTHING },
	{ IN("ARP request for a VIP under three VLAN tags (fail-open)"),
	  .f = { ARP(REQ, NONVIP4, VIP_A), .tags3 = 1 }, NOTHING, .trunc = TR_XDP | TR_TC },
	{ IN("IPv4 to a VIP under three VLAN tags (fail-open)"),
	  .f = { IP4(NONVIP4, VIP_A, 0), .tags3 = 1 }, NOTHING },

	/* ---- TC egress: docs/datapath.md, "TC egress" ---- */
	{ OUT("ARP reply whose sender is a VIP"), .f = { ARP(REPLY, VIP_A, NONVIP4) },
	  EXPECT(DROP, R(ARP_OUT_DROPPED), V_A), .trunc = TR_TC },
	{ OUT("ARP reply whose sender is the second VIP"), .f = { ARP(REPLY, VIP_B, NONVIP4) },
	  EXPECT(DROP, R(ARP_OUT_DROPPED), V_B) },
	{ OUT("gratuitous ARP request announcing a VIP"), .f = { ARP(REQ, VIP_A, VIP_A) },
	  EXPECT(DROP, R(ARP_OUT_DROPPED), V_A) },
	{ OUT("gratuitous ARP reply announcing a VIP"), .f = { ARP(REPLY, VIP_A, VIP_A) },
	  EXPECT(DROP, R(ARP_OUT_DROPPED), V_A) },
	{ OUT("ARP request tell VIP, target the gateway: rewritten to the primary"),
	  .f = { ARP(REQ, VIP_A, NONVIP4) }, EXPECT(REWRITE, R(ARP_OUT_REWRITTEN), NO_VIP),
	  .rewrite = IF_ADDR1, .trunc = TR_TC },
	{ OUT("ARP request tell VIP, target in the second subnet: rewritten to its address"),
	  .f = { ARP(REQ, VIP_A, SUBNET2_HOST) }, EXPECT(REWRITE, R(ARP_OUT_REWRITTEN), NO_VIP),
	  .rewrite = IF_ADDR2 },
	{ OUT("ARP request tell VIP, target outside every subnet: rewritten to the primary"),
	  .f = { ARP(REQ, VIP_A, OFFNET4) }, EXPECT(REWRITE, R(ARP_OUT_REWRITTEN), NO_VIP),
	  .rewrite = IF_ADDR1 },
	{ OUT("ARP request tell VIP, target another VIP: rewritten (deliberate)"),
	  .f = { ARP(REQ, VIP_A, VIP_B) }, EXPECT(REWRITE, R(ARP_OUT_REWRITTEN), NO_VIP),
	  .rewrite = IF_ADDR1 },
	{ OUT("ARP request tell the second VIP: rewritten"), .f = { ARP(REQ, VIP_B, NONVIP4) },
	  EXPECT(REWRITE, R(ARP_OUT_REWRITTEN), NO_VIP), .rewrite = IF_ADDR1 },
	{ OUT("ARP request tell VIP, padded to 60 bytes: rewritten"),
	  .f = { ARP(REQ, VIP_A, NONVIP4), .pad_to = 60 },
	  EXPECT(REWRITE, R(ARP_OUT_REWRITTEN), NO_VIP), .rewrite = IF_ADDR1 },
	{ OUT("ARP request tell VIP, interface without IPv4 (no lvip_ifaddr entry): dropped"),
	  .iface = IF_NOADDR, .f = { ARP(REQ, VIP_A, NONVIP4) },
	  EXPECT(DROP, R(ARP_OUT_DROPPED), V_A) },
	{ OUT("ARP request tell VIP, interface without IPv4 (lvip_ifaddr count 0): dropped"),
	  .iface = IF_EMPTY, .f = { ARP(REQ, VIP_A, NONVIP4) },
	  EXPECT(DROP, R(ARP_OUT_DROPPED), V_A) },
	{ OUT("ARP reply whose sender is a VIP, hrd 6 (IEEE 802)"), .f = { ARP802(REPLY, VIP_A, NONVIP4) },
	  EXPECT(DROP, R(ARP_OUT_DROPPED), V_A), .trunc = TR_TC },
	{ OUT("gratuitous ARP request announcing a VIP, hrd 6"), .f = { ARP802(REQ, VIP_A, VIP_A) },
	  EXPECT(DROP, R(ARP_OUT_DROPPED), V_A) },
	{ OUT("gratuitous ARP reply announcing a VIP, hrd 6"), .f = { ARP802(REPLY, VIP_B, VIP_B) },
	  EXPECT(DROP, R(ARP_OUT_DROPPED), V_B) },
	{ OUT("ARP request tell VIP, hrd 6, target in the second subnet: rewritten"),
	  .f = { ARP802(REQ, VIP_A, SUBNET2_HOST) }, EXPECT(REWRITE, R(ARP_OUT_REWRITTEN), NO_VIP),
	  .rewrite = IF_ADDR2, .trunc = TR_TC },
	{ OUT("ARP request tell VIP, hrd 6, interface without IPv4: dropped"),
	  .iface = IF_NOADDR, .f = { ARP802(REQ, VIP_A, NONVIP4) },
	  EXPECT(DROP, R(ARP_OUT_DROPPED), V_A) },
	{ OUT("ARP reply from a non-VIP, hrd 6"), .f = { ARP802(REPLY, IF_ADDR1, NONVIP4) }, NOTHING },
	{ OUT("ARP request from the interface address"), .f = { ARP(REQ, IF_ADDR1, NONVIP4) }, NOTHING },
	{ OUT("ARP request from the interface address for a VIP"), .f = { ARP(REQ, IF_ADDR1, VIP_A) },
	  NOTHING },
	{ OUT("ARP reply from a non-VIP"), .f = { ARP(REPLY, IF_ADDR1, NONVIP4) }, NOTHING },
	{ OUT("ARP probe (sender 0.0.0.0) for a VIP"), .f = { ARP(REQ, ANY4, VIP_A) }, NOTHING },
	{ OUT("InARP request (op 8) from a VIP"), .f = { ARP(INARP_REQ, VIP_A, NONVIP4) }, NOTHING },
	{ OUT("malformed ARP reply from a VIP: hrd 2"), .f = { ARP_HRD(2, REPLY, VIP_A, NONVIP4) },
	  NOTHING },
	{ OUT("malformed ARP reply from a VIP: hrd 0x0600 (6, byte-swapped)"),
	  .f = { ARP_HRD(0x0600, REPLY, VIP_A, NONVIP4) }, NOTHING },
	{ OUT("malformed ARP reply from a VIP: hrd 0x0101"), .f = { ARP_HRD(0x0101, REPLY, VIP_A, NONVIP4) },
	  NOTHING },
	{ OUT("malformed ARP reply from a VIP: pro 0x86dd"),
	  .f = { ARP_BAD(REPLY, VIP_A, NONVIP4, BAD_PRO) }, NOTHING },
	{ OUT("malformed ARP reply from a VIP: hln 8"), .f = { ARP_BAD(REPLY, VIP_A, NONVIP4, BAD_HLN) },
	  NOTHING },
	{ OUT("malformed ARP reply from a VIP: pln 16"), .f = { ARP_BAD(REPLY, VIP_A, NONVIP4, BAD_PLN) },
	  NOTHING },
	{ OUT("unsolicited NA for a VIP (TLLA option)"), .f = { ICMP6(VIP6, ALL_NODES, NA, VIP6, 1) },
	  EXPECT(DROP, R(ND_OUT_DROPPED), V_6), .trunc = TR_TC },
	{ OUT("solicited NA for a VIP, unicast"), .f = { ICMP6(VIP6, NONVIP6, NA, VIP6, 1) },
	  EXPECT(DROP, R(ND_OUT_DROPPED), V_6) },
	{ OUT("NA for a VIP after a destination-options header"),
	  .f = { ICMP6X(VIP6, ALL_NODES, NA, VIP6, 1, X_DST) }, EXPECT(DROP, R(ND_OUT_DROPPED), V_6) },
	{ OUT("NA for a non-VIP"), .f = { ICMP6(NONVIP6, ALL_NODES, NA, NONVIP6, 1) }, NOTHING },
	{ OUT("NS for a VIP"), .f = { ICMP6(NONVIP6, SNMA_VIP6, NS, VIP6, 1) }, NOTHING },
	{ OUT("IPv6 version 4 NA for a VIP"), .f = { .kind = K_IPV6, .ip6 = { .src = VIP6, .dst = ALL_NODES, .version = 4, .l4 = L4_ICMP6,
				.type = NA, .target = VIP6, .lla_opt = 1 } },
	  NOTHING },
	{ OUT("IPv4 UDP from a VIP"), .f = { IP4(VIP_A, NONVIP4, 0) }, NOTHING },
	{ OUT("IPv6 UDP from a VIP"), .f = { UDP6(VIP6, NONVIP6, 0) }, NOTHING },
	{ OUT("ARP reply whose sender is a released VIP"), .f = { ARP(REPLY, VIP_REL, NONVIP4) },
	  NOTHING, .trunc = TR_TC },
	{ OUT("gratuitous ARP request announcing a released VIP"), .f = { ARP(REQ, VIP_REL, VIP_REL) },
	  NOTHING },
	{ OUT("gratuitous ARP reply announcing a released VIP, hrd 6"),
	  .f = { ARP802(REPLY, VIP_REL, VIP_REL) }, NOTHING },
	{ OUT("ARP request tell a released VIP: not rewritten"), .f = { ARP(REQ, VIP_REL, NONVIP4) },
	  NOTHING },
	{ OUT("ARP request tell a released VIP, interface without IPv4: passes"),
	  .iface = IF_NOADDR, .f = { ARP(REQ, VIP_REL, NONVIP4) }, NOTHING },
	{ OUT("ARP request tell a hidden VIP for a released VIP: rewritten"),
	  .f = { ARP(REQ, VIP_A, VIP_REL) }, EXPECT(REWRITE, R(ARP_OUT_REWRITTEN), NO_VIP),
	  .rewrite = IF_ADDR1 },
	{ OUT("unsolicited NA for a released VIP"), .f = { ICMP6(VIP6_REL, ALL_NODES, NA, VIP6_REL, 1) },
	  NOTHING, .trunc = TR_TC },
	{ OUT("solicited NA for a released VIP, unicast"),
	  .f = { ICMP6(VIP6_REL, NONVIP6, NA, VIP6_REL, 1) }, NOTHING },
	{ OUT("LLDP"), .f = { ETHERTYPE(0x88cc) }, NOTHING },
	{ OUT("ARP reply from a VIP under three VLAN tags (fail-open)"),
	  .f = { ARP(REPLY, VIP_A, NONVIP4), .tags3 = 1 }, NOTHING },

	/* ---- observe mode: docs/datapath.md, "Observe mode" ---- */
	{ IN("observe: ARP request for a VIP passes, observe_arp_in"), .f = { ARP(REQ, NONVIP4, VIP_A) },
	  OBSERVED(R(OBSERVE_ARP_IN)), .trunc = TR_XDP },
	{ IN("observe: ARP probe for a VIP, hrd 6"), .f = { ARP802(REQ, ANY4, VIP_B) },
	  OBSERVED(R(OBSERVE_ARP_IN)) },
	{ IN("observe: NS for a VIP passes, observe_nd_in"),
	  .f = { ICMP6(NONVIP6, SNMA_VIP6, NS, VIP6, 1) }, OBSERVED(R(OBSERVE_ND_IN)), .trunc = TR_XDP },
	{ IN("observe: ARP request for a released VIP: nothing"), .f = { ARP(REQ, NONVIP4, VIP_REL) },
	  .observe = 1, NOTHING },
	{ IN("observe: IPv4 UDP to a VIP: vip_rx as in enforce mode"), .f = { IP4(NONVIP4, VIP_A, 0) },
	  .observe = 1, EXPECT(PASS, R(VIP_RX), V_A), .vip_bytes = 40 },
	{ IN("observe: malformed ARP request for a VIP: malformed as in enforce mode"),
	  .f = { ARP_HRD(2, REQ, NONVIP4, VIP_A) }, .observe = 1, EXPECT(PASS, R(MALFORMED), NO_VIP) },
	{ OUT("observe: ARP reply whose sender is a VIP passes, observe_arp_out"),
	  .f = { ARP(REPLY, VIP_A, NONVIP4) }, OBSERVED(R(OBSERVE_ARP_OUT)), .trunc = TR_TC },
	{ OUT("observe: gratuitous ARP request announcing a VIP"), .f = { ARP(REQ, VIP_A, VIP_A) },
	  OBSERVED(R(OBSERVE_ARP_OUT)) },
	{ OUT("observe: ARP request tell VIP passes unrewritten, observe_rewrite"),
	  .f = { ARP(REQ, VIP_A, NONVIP4) }, OBSERVED(R(OBSERVE_REWRITE)), .trunc = TR_TC },
	{ OUT("observe: ARP request tell VIP, hrd 6, second subnet: unrewritten"),
	  .f = { ARP802(REQ, VIP_B, SUBNET2_HOST) }, OBSERVED(R(OBSERVE_REWRITE)) },
	{ OUT("observe: ARP request tell VIP, interface without IPv4: observe_rewrite"),
	  .iface = IF_NOADDR, .f = { ARP(REQ, VIP_A, NONVIP4) }, OBSERVED(R(OBSERVE_REWRITE)) },
	{ OUT("observe: unsolicited NA for a VIP passes, observe_nd_out"),
	  .f = { ICMP6(VIP6, ALL_NODES, NA, VIP6, 1) }, OBSERVED(R(OBSERVE_ND_OUT)), .trunc = TR_TC },
	{ OUT("observe: ARP reply whose sender is a released VIP: nothing"),
	  .f = { ARP(REPLY, VIP_REL, NONVIP4) }, .observe = 1, NOTHING },
	{ OUT("observe: ARP request from the interface address: nothing"),
	  .f = { ARP(REQ, IF_ADDR1, NONVIP4) }, .observe = 1, NOTHING },

	/* ---- LVS-TUN decapsulation: docs/datapath.md, "Tunnels" ---- */
	{ IN("tunnel: IPIP 4-in-4 decapsulated"), .f = { TUN(TK_IPIP, 0, 0) }, DECAP4, .trunc = TR_XDP },
	{ IN("tunnel: IPIP 6-in-6 decapsulated"), .f = { TUN(TK_IPIP, 1, 1) }, DECAP6, .trunc = TR_XDP },
	{ IN("tunnel: IPIP 6-in-4 decapsulated"), .f = { TUN(TK_IPIP, 0, 1) }, DECAP6 },
	{ IN("tunnel: IPIP 4-in-6 decapsulated"), .f = { TUN(TK_IPIP, 1, 0) }, DECAP4 },
	{ IN("tunnel: GRE 4-in-4 decapsulated"), .f = { TUN(TK_GRE, 0, 0) }, DECAP4 },
	{ IN("tunnel: GRE 6-in-6 decapsulated"), .f = { TUN(TK_GRE, 1, 1) }, DECAP6, .trunc = TR_XDP },
	{ IN("tunnel: GRE 6-in-4 decapsulated"), .f = { TUN(TK_GRE, 0, 1) }, DECAP6 },
	{ IN("tunnel: GRE 4-in-6 decapsulated"), .f = { TUN(TK_GRE, 1, 0) }, DECAP4 },
	{ IN("tunnel: GRE with checksum 4-in-4 decapsulated"), .f = { TUN(TK_GRE_CSUM, 0, 0) }, DECAP4 },
	{ IN("tunnel: GRE with checksum 6-in-6 decapsulated"), .f = { TUN(TK_GRE_CSUM, 1, 1) }, DECAP6 },
	{ IN("tunnel: GRE with checksum 6-in-4 decapsulated"), .f = { TUN(TK_GRE_CSUM, 0, 1) }, DECAP6,
	  .trunc = TR_XDP },
	{ IN("tunnel: GRE with checksum 4-in-6 decapsulated"), .f = { TUN(TK_GRE_CSUM, 1, 0) }, DECAP4 },
	{ IN("tunnel: GUE v0 4-in-4 decapsulated"), .f = { TUN(TK_GUE0, 0, 0) }, DECAP4, .trunc = TR_XDP },
	{ IN("tunnel: GUE v0 6-in-6 decapsulated"), .f = { TUN(TK_GUE0, 1, 1) }, DECAP6 },
	{ IN("tunnel: GUE v0 6-in-4 decapsulated"), .f = { TUN(TK_GUE0, 0, 1) }, DECAP6 },
	{ IN("tunnel: GUE v0 4-in-6 decapsulated"), .f = { TUN(TK_GUE0, 1, 0) }, DECAP4 },
	{ IN("tunnel: GUE v1 4-in-4 decapsulated"), .f = { TUN(TK_GUE1, 0, 0) }, DECAP4, .trunc = TR_XDP },
	{ IN("tunnel: GUE v1 6-in-6 decapsulated"), .f = { TUN(TK_GUE1, 1, 1) }, DECAP6 },
	{ IN("tunnel: GUE v1 6-in-4 decapsulated"), .f = { TUN(TK_GUE1, 0, 1) }, DECAP6 },
	{ IN("tunnel: GUE v1 4-in-6 decapsulated"), .f = { TUN(TK_GUE1, 1, 0) }, DECAP4, .trunc = TR_XDP },
	{ IN("tunnel: IPIP with outer IPv4 options (ihl 6) decapsulated"),
	  .f = { TUN(TK_IPIP, 0, 0, .opt_words = 1) }, DECAP4, .trunc = TR_XDP },
	{ IN("tunnel: GUE v0 with outer IPv4 options (ihl 15) decapsulated"),
	  .f = { TUN(TK_GUE0, 0, 1, .opt_words = 10) }, DECAP6, .trunc = TR_XDP },
	{ IN("tunnel: GRE with checksum and outer options (ihl 8) decapsulated"),
	  .f = { TUN(TK_GRE_CSUM, 0, 0, .opt_words = 3) }, DECAP4 },
	{ IN("tunnel: GUE v0 with 3 option words decapsulated"),
	  .f = { TUN(TK_GUE0, 0, 0, .gue_hlen = 3) }, DECAP4, .trunc = TR_XDP },
	{ IN("tunnel: GUE v0 with private flags, none set, decapsulated"),
	  .f = { TUN(TK_GUE0, 1, 1, .gue_hlen = 1, .gue_priv = 1) }, DECAP6 },
	{ IN("tunnel: GUE v0 with remote checksum offload: malformed"),
	  .f = { TUN(TK_GUE0, 0, 0, .gue_hlen = 2, .gue_priv = 2) }, TUNPASS(MALFORMED), .trunc = TR_XDP },
	{ IN("tunnel: GUE v0 with the private flag and no option word: malformed"),
	  .f = { TUN(TK_GUE0, 0, 0, .gue_priv = 1) }, TUNPASS(MALFORMED) },
	{ IN("tunnel: GUE v0 control message: untouched"),
	  .f = { TUN(TK_GUE0, 0, 0, .gue_ctrl = 1) }, NOTHING, .trunc = TR_XDP },
	{ IN("tunnel: GUE v0 proto 17: malformed"), .f = { TUN(TK_GUE0, 0, 0, .bad = TB_GUE_PROTO) },
	  TUNPASS(MALFORMED) },
	{ IN("tunnel: GUE version 2: malformed"), .f = { TUN(TK_GUE0, 1, 0, .bad = TB_GUE_VER) },
	  TUNPASS(MALFORMED) },
	{ IN("tunnel: GUE v1 with inner nibble 5: malformed"),
	  .f = { TUN(TK_GUE1, 0, 0, .bad = TB_GUE1_NIBBLE) }, TUNPASS(MALFORMED) },
	{ IN("tunnel: GUE with a UDP length too short for the inner header: malformed"),
	  .f = { TUN(TK_GUE0, 0, 0, .bad = TB_UDP_LEN) }, TUNPASS(MALFORMED) },
	{ IN("tunnel: UDP to another port than GUE's: untouched"),
	  .f = { TUN(TK_GUE0, 0, 0, .port = 6081) }, NOTHING, .trunc = TR_XDP },
	{ IN("tunnel: GRE with the K bit: malformed"), .f = { TUN(TK_GRE, 0, 0, .bad = TB_GRE_KEY) },
	  TUNPASS(MALFORMED) },
	{ IN("tunnel: GRE version 1: malformed"), .f = { TUN(TK_GRE, 1, 1, .bad = TB_GRE_VER) },
	  TUNPASS(MALFORMED) },
	{ IN("tunnel: GRE with the routing bit: malformed"),
	  .f = { TUN(TK_GRE, 0, 1, .bad = TB_GRE_ROUTING) }, TUNPASS(MALFORMED) },
	{ IN("tunnel: GRE protocol 0x6558: malformed"), .f = { TUN(TK_GRE, 0, 0, .bad = TB_GRE_PROTO) },
	  TUNPASS(MALFORMED) },
	{ IN("tunnel: IPIP with an inner header of version 6: malformed"),
	  .f = { TUN(TK_IPIP, 0, 0, .bad = TB_INNER_VER) }, TUNPASS(MALFORMED) },
	{ IN("tunnel: GRE with an inner IPv4 ihl 4: malformed"),
	  .f = { TUN(TK_GRE, 1, 0, .bad = TB_INNER_IHL) }, TUNPASS(MALFORMED) },
	{ IN("tunnel: outer IPv4 fragment (MF): fragment"), .f = { TUN(TK_IPIP, 0, 0, .frag_off = 0x2000) },
	  TUNPASS(FRAGMENT), .trunc = TR_XDP },
	{ IN("tunnel: outer IPv4 fragment (offset 185): fragment"),
	  .f = { TUN(TK_GRE, 0, 1, .frag_off = 185) }, TUNPASS(FRAGMENT) },
	{ IN("tunnel: GUE in a first outer IPv4 fragment: fragment"),
	  .f = { TUN(TK_GUE0, 0, 0, .frag_off = 0x2000) }, TUNPASS(FRAGMENT), .trunc = TR_XDP },
	{ IN("tunnel: UDP in a later outer IPv4 fragment (no port): untouched"),
	  .f = { TUN(TK_GUE0, 0, 0, .frag_off = 185) }, NOTHING },
	{ IN("tunnel: outer IPv6 fragment header, first fragment: fragment"),
	  .f = { TUN(TK_IPIP, 1, 0, .frag6 = 1) }, TUNPASS(FRAGMENT), .trunc = TR_XDP },
	{ IN("tunnel: outer IPv6 fragment header, later fragment of GRE: fragment"),
	  .f = { TUN(TK_GRE, 1, 1, .frag6 = 2) }, TUNPASS(FRAGMENT) },
	{ IN("tunnel: GUE in a first outer IPv6 fragment: fragment"),
	  .f = { TUN(TK_GUE1, 1, 0, .frag6 = 1) }, TUNPASS(FRAGMENT) },
	{ IN("tunnel: UDP in a later outer IPv6 fragment (no port): untouched"),
	  .f = { TUN(TK_GUE0, 1, 0, .frag6 = 2) }, NOTHING },
	{ IN("tunnel: outer IPv6 with a hop-by-hop header first: untouched"),
	  .f = { TUN(TK_IPIP, 1, 0, .oext = 1) }, NOTHING, .trunc = TR_XDP },
	{ IN("tunnel: ECN CE outer, ECT(0) inner IPv4: inner CE, checksum fixed"),
	  .f = { TUN(TK_IPIP, 0, 0, .oecn = 3, .iecn = 2) }, DECAP4, .trunc = TR_XDP },
	{ IN("tunnel: ECN CE outer, ECT(1) inner IPv4: inner CE, checksum fixed"),
	  .f = { TUN(TK_GUE1, 1, 0, .oecn = 3, .iecn = 1) }, DECAP4 },
	{ IN("tunnel: ECN CE outer, ECT(0) inner IPv6: inner CE"),
	  .f = { TUN(TK_GRE, 0, 1, .oecn = 3, .iecn = 2) }, DECAP6 },
	{ IN("tunnel: ECN CE outer IPv6, ECT(1) inner IPv6: inner CE"),
	  .f = { TUN(TK_GUE0, 1, 1, .oecn = 3, .iecn = 1) }, DECAP6 },
	{ IN("tunnel: ECN CE outer, Not-ECT inner: inner unchanged"),
	  .f = { TUN(TK_IPIP, 0, 0, .oecn = 3, .iecn = 0) }, DECAP4 },
	{ IN("tunnel: ECN CE outer, CE inner: unchanged"),
	  .f = { TUN(TK_IPIP, 1, 1, .oecn = 3, .iecn = 3) }, DECAP6 },
	{ IN("tunnel: ECN ECT(0) outer, ECT(0) inner: unchanged"),
	  .f = { TUN(TK_GRE_CSUM, 0, 0, .oecn = 2, .iecn = 2) }, DECAP4 },
	{ IN("tunnel: ECN ECT(1) outer IPv6, ECT(0) inner: unchanged"),
	  .f = { TUN(TK_IPIP, 1, 0, .oecn = 1, .iecn = 2) }, DECAP4 },
	{ IN("tunnel: GRE from a non-peer: peer_refused"), .f = { TUN(TK_GRE, 0, 0, .osrc = NONVIP4) },
	  TUNPASS(PEER_REFUSED), .trunc = TR_XDP },
	{ IN("tunnel: GRE from an IPIP-only peer: peer_refused"),
	  .f = { TUN(TK_GRE_CSUM, 1, 0, .osrc = DIRECTOR_IPIP6) }, TUNPASS(PEER_REFUSED) },
	{ IN("tunnel: GRE over IPv4 with options from a non-peer: peer_refused"),
	  .f = { TUN(TK_GRE, 0, 0, .osrc = DIRECTOR_IPIP4, .opt_words = 2) }, TUNPASS(PEER_REFUSED),
	  .trunc = TR_XDP },
	{ IN("tunnel: IPIP (no peers set) from any source decapsulated"),
	  .f = { TUN(TK_IPIP, 0, 0, .osrc = NONVIP4) }, DECAP4 },
	{ IN("tunnel: GUE (no peers set) from any IPv6 source decapsulated"),
	  .f = { TUN(TK_GUE0, 1, 1, .osrc = NONVIP6) }, DECAP6 },
	{ IN("tunnel: IPIP to an address not this host's: untouched"),
	  .f = { TUN(TK_IPIP, 0, 0, .odst = NOTLOCAL4) }, NOTHING, .trunc = TR_XDP },
	{ IN("tunnel: GRE over IPv6 to an address not this host's: untouched"),
	  .f = { TUN(TK_GRE, 1, 1, .odst = NOTLOCAL6) }, NOTHING },
	{ IN("tunnel: GUE to an address not this host's: untouched"),
	  .f = { TUN(TK_GUE1, 0, 0, .odst = NOTLOCAL4) }, NOTHING },
	{ IN("tunnel: IPIP to a VIP not among the host's addresses: vip_rx like any packet"),
	  .f = { TUN(TK_IPIP, 0, 0, .odst = VIP_B) }, EXPECT(PASS, R(VIP_RX), V_B), .vip_bytes = 60 },
	{ IN("tunnel: IPIP, inner destination not a VIP: not_vip"),
	  .f = { TUN(TK_IPIP, 0, 0, .idst = NONVIP4) }, TUNPASS(NOT_VIP), .trunc = TR_XDP },
	{ IN("tunnel: GUE v0 6-in-4, inner destination not a VIP: not_vip"),
	  .f = { TUN(TK_GUE0, 0, 1, .idst = NONVIP6) }, TUNPASS(NOT_VIP) },
	{ IN("tunnel: GRE, inner destination a released VIP: decapsulated"),
	  .f = { TUN(TK_GRE, 0, 0, .idst = VIP_REL) }, DECAPPED(V_REL, 40) },
	{ IN("tunnel: IPIP with the type disabled: untouched"), .f = { TUN(TK_IPIP, 0, 0) }, NOTHING,
	  .tun_off = 1, .trunc = TR_XDP },
	{ IN("tunnel: GUE with the type disabled: untouched"), .f = { TUN(TK_GUE0, 1, 0) }, NOTHING,
	  .tun_off = 1 },
	{ IN("tunnel: GRE with the type disabled: untouched"), .f = { TUN(TK_GRE, 0, 1) }, NOTHING,
	  .tun_off = 1 },
	{ IN("tunnel: IPIP under three VLAN tags (fail-open)"), .f = { TUN(TK_IPIP, 0, 0), .tags3 = 1 },
	  NOTHING },
	{ IN("observe: tunnel: GUE v1 decapsulated as in enforce mode"),
	  .f = { TUN(TK_GUE1, 0, 1) }, .observe = 1, DECAP6 },
	{ OUT("tunnel: IPIP 4-in-4 on egress: untouched"), .f = { TUN(TK_IPIP, 0, 0) }, NOTHING },
	{ OUT("tunnel: GUE v0 6-in-6 on egress: untouched"), .f = { TUN(TK_GUE0, 1, 1) }, NOTHING },
	/* ---- TC egress: MSS clamp ---- docs/datapath.md, "MSS clamping" */
	{ OUT("MSS clamp: SYN from a VIP, MSS 1460, ipip fixed 1200: 1200"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_MSS(1460)) }, CLAMP(1200, 0, 0), NOTHING,
	  .mss_out = 1200, .trunc = TR_TC },
	{ OUT("MSS clamp: SYN-ACK from a VIP, Linux options, ipip fixed 1200: 1200"),
	  .f = { TCP4(VIP_A, NONVIP4, SYNACK, O_LINUX(1460)) }, CLAMP(1200, 0, 0), NOTHING,
	  .mss_out = 1200, .trunc = TR_TC },
	{ OUT("MSS clamp: SYN-ACK from a VIP, ipip auto (MTU 1500): 1420"),
	  .f = { TCP4(VIP_B, NONVIP4, SYNACK, O_LINUX(1460)) }, CLAMP(AUTO, 0, 0), NOTHING,
	  .mss_out = AUTO4_IPIP },
	{ OUT("MSS clamp: SYN-ACK from a VIP, gue auto: 1408"),
	  .f = { TCP4(VIP_A, NONVIP4, SYNACK, O_LINUX(1460)) }, CLAMP(0, AUTO, 0), NOTHING,
	  .mss_out = AUTO4_GUE },
	{ OUT("MSS clamp: SYN-ACK from a VIP, gre auto: 1412"),
	  .f = { TCP4(VIP_A, NONVIP4, SYNACK, O_LINUX(1460)) }, CLAMP(0, 0, AUTO), NOTHING,
	  .mss_out = AUTO4_GRE },
	{ OUT("MSS clamp: all three auto: the smallest (gue) 1408"),
	  .f = { TCP4(VIP_A, NONVIP4, SYNACK, O_LINUX(1460)) }, CLAMP(AUTO, AUTO, AUTO), NOTHING,
	  .mss_out = AUTO4_GUE },
	{ OUT("MSS clamp: ipip fixed 1440, gue auto: the smaller 1408"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_MSS(1460)) }, CLAMP(1440, AUTO, 0), NOTHING,
	  .mss_out = AUTO4_GUE },
	{ OUT("MSS clamp: ipip auto, gre fixed 1300: the smaller 1300"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_MSS(1460)) }, CLAMP(AUTO, 0, 1300), NOTHING,
	  .mss_out = 1300 },
	{ OUT("MSS clamp: auto on a device with MTU 1400: 1320"), .iface = IF_NOADDR,
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_MSS(1460)) }, CLAMP(AUTO, 0, 0), NOTHING,
	  .mss_out = IF_NOADDR_MTU - 80 },
	{ OUT("MSS clamp: MSS 1000 below the limit 1200: untouched"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_MSS(1000)) }, CLAMP(1200, 0, 0), NOTHING },
	{ OUT("MSS clamp: MSS equal to the limit (1200): untouched"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_MSS(1200)) }, CLAMP(1200, 0, 0), NOTHING },
	{ OUT("MSS clamp: MSS 1201 one above the limit: 1200"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_MSS(1201)) }, CLAMP(1200, 0, 0), NOTHING,
	  .mss_out = 1200 },
	{ OUT("MSS clamp: MSS 65535: lowered to 1200"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_MSS(65535)) }, CLAMP(1200, 0, 0), NOTHING,
	  .mss_out = 1200 },
	{ OUT("MSS clamp: MSS after NOP NOP timestamps: lowered"),
	  .f = { TCP4(VIP_A, NONVIP4, SYNACK, O_NOP, O_NOP, O_TS, O_MSS(1460)) }, CLAMP(0, 0, 1000),
	  NOTHING, .mss_out = 1000 },
	{ OUT("MSS clamp: MSS after one NOP (odd offset): lowered, checksum right"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_NOP, O_MSS(1460), O_EOL, O_EOL, O_EOL) },
	  CLAMP(1200, 0, 0), NOTHING, .mss_out = 1200, .trunc = TR_TC },
	{ OUT("MSS clamp: MSS after window scale and SACK permitted (odd offset): lowered"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_WS(7), O_SACKOK, O_MSS(0x5b4), O_NOP, O_NOP, O_NOP) },
	  CLAMP(0, 0x3ff, 0), NOTHING, .mss_out = 0x3ff },
	{ OUT("MSS clamp: no MSS option: untouched"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_SACKOK, O_TS, O_NOP, O_WS(7)) }, CLAMP(1200, 0, 0),
	  NOTHING },
	{ OUT("MSS clamp: no option at all: untouched"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_EOL, O_EOL, O_EOL, O_EOL) }, CLAMP(1200, 0, 0), NOTHING },
	{ OUT("MSS clamp: MSS after EOL: untouched"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_EOL, O_NOP, O_NOP, O_NOP, O_MSS(1460)) },
	  CLAMP(1200, 0, 0), NOTHING },
	{ OUT("MSS clamp: malformed: an option of length 0 before MSS: untouched"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, 8, 0, O_NOP, O_NOP, O_MSS(1460)) }, CLAMP(1200, 0, 0),
	  NOTHING },
	{ OUT("MSS clamp: malformed: an option of length 1 before MSS: untouched"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, 30, 1, O_NOP, O_NOP, O_MSS(1460)) }, CLAMP(1200, 0, 0),
	  NOTHING },
	{ OUT("MSS clamp: malformed: MSS option of length 5: untouched"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, 2, 5, 0x05, 0xb4, 0, O_NOP, O_NOP, O_NOP) },
	  CLAMP(1200, 0, 0), NOTHING },
	{ OUT("MSS clamp: malformed: MSS option cut by the data offset: untouched"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_NOP, O_NOP, 2, 4) }, CLAMP(1200, 0, 0), NOTHING },
	{ OUT("MSS clamp: malformed: an option running past the header hides MSS: untouched"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, 8, 12, O_MSS(1460), O_NOP, O_NOP) }, CLAMP(1200, 0, 0),
	  NOTHING },
	{ OUT("MSS clamp: the first of two MSS options is lowered, the second not read"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_MSS(1460), O_MSS(1400)) }, CLAMP(1200, 0, 0), NOTHING,
	  .mss_out = 1200 },
	{ OUT("MSS clamp: malformed options after the MSS option: lowered"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_MSS(1460), 8, 0, O_NOP, O_NOP) }, CLAMP(1200, 0, 0),
	  NOTHING, .mss_out = 1200 },
	{ OUT("MSS clamp: SYN from a released VIP: lowered"),
	  .f = { TCP4(VIP_REL, NONVIP4, SYN, O_MSS(1460)) }, CLAMP(1200, 0, 0), NOTHING,
	  .mss_out = 1200 },
	{ OUT("MSS clamp: SYN from a non-VIP: untouched"),
	  .f = { TCP4(IF_ADDR1, NONVIP4, SYN, O_MSS(1460)) }, CLAMP(1200, 0, 0), NOTHING },
	{ OUT("MSS clamp: SYN to a VIP (from a non-VIP): untouched"),
	  .f = { TCP4(NONVIP4, VIP_A, SYN, O_MSS(1460)) }, CLAMP(1200, 0, 0), NOTHING },
	{ OUT("MSS clamp: ACK (no SYN) from a VIP with an MSS option: untouched"),
	  .f = { TCP4(VIP_A, NONVIP4, ACK, O_MSS(1460)) }, CLAMP(1200, 0, 0), NOTHING,
	  .trunc = TR_TC },
	{ OUT("MSS clamp: SYN from a VIP, no clamp configured: untouched"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_LINUX(1460)) }, NOTHING },
	{ OUT("MSS clamp: SYN from a VIP, the clamping type disabled: untouched"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_MSS(1460)) },
	  .clamp = { .mss = { 1200, AUTO, 0 }, .disabled = 3 }, NOTHING },
	{ OUT("MSS clamp: SYN from a VIP, gre disabled (1000), ipip enabled (1200): 1200"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_MSS(1460)) },
	  .clamp = { .mss = { 1200, 0, 1000 }, .disabled = 4 }, NOTHING, .mss_out = 1200 },
	{ OUT("MSS clamp: SYN from a VIP, a later IPv4 fragment: untouched"),
	  .f = { TCP4F(VIP_A, NONVIP4, SYN, 0x0010, O_MSS(1460)) },
	  CLAMP(1200, 0, 0), NOTHING },
	{ OUT("MSS clamp: SYN from a VIP, the first fragment (MF): lowered"),
	  .f = { TCP4F(VIP_A, NONVIP4, SYN, 0x2000, O_MSS(1460)) },
	  CLAMP(1200, 0, 0), NOTHING, .mss_out = 1200 },
	{ OUT("MSS clamp: observe mode: lowered all the same"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_MSS(1460)) }, CLAMP(1200, 0, 0), .observe = 1, NOTHING,
	  .mss_out = 1200 },
	{ OUT("MSS clamp: IPv6 SYN from a VIP, ipip auto: 1400"),
	  .f = { TCP6(VIP6, NONVIP6, SYN, O_MSS(1440)) }, CLAMP(AUTO, 0, 0), NOTHING,
	  .mss_out = AUTO6_IPIP, .trunc = TR_TC },
	{ OUT("MSS clamp: IPv6 SYN-ACK from a VIP, Linux options, gue auto: 1388"),
	  .f = { TCP6(VIP6, NONVIP6, SYNACK, O_LINUX(1440)) }, CLAMP(0, AUTO, 0), NOTHING,
	  .mss_out = AUTO6_GUE },
	{ OUT("MSS clamp: IPv6 SYN-ACK from a VIP, all auto: 1388"),
	  .f = { TCP6(VIP6, NONVIP6, SYNACK, O_LINUX(1440)) }, CLAMP(AUTO, AUTO, AUTO), NOTHING,
	  .mss_out = AUTO6_GUE },
	{ OUT("MSS clamp: IPv6 SYN-ACK from a VIP, gre fixed 1220: 1220"),
	  .f = { TCP6(VIP6, NONVIP6, SYNACK, O_MSS(1440), O_NOP, O_WS(7)) }, CLAMP(0, 0, 1220),
	  NOTHING, .mss_out = 1220 },
	{ OUT("MSS clamp: IPv6 SYN, MSS after one NOP (odd offset): lowered"),
	  .f = { TCP6(VIP6, NONVIP6, SYN, O_NOP, O_MSS(1440), O_NOP, O_NOP, O_NOP) },
	  CLAMP(0, 0, 1220), NOTHING, .mss_out = 1220, .trunc = TR_TC },
	{ OUT("MSS clamp: IPv6 SYN after a hop-by-hop header: lowered"),
	  .f = { TCP6X(VIP6, NONVIP6, SYN, X_HBH, X_END, X_END, X_END, O_MSS(1440)) }, CLAMP(AUTO, 0, 0),
	  NOTHING, .mss_out = AUTO6_IPIP },
	{ OUT("MSS clamp: IPv6 SYN after hop-by-hop, routing and destination headers: lowered"),
	  .f = { TCP6X(VIP6, NONVIP6, SYN, X_HBH, X_RT, X_DST, X_END, O_MSS(1440)) },
	  CLAMP(1000, 0, 0), NOTHING, .mss_out = 1000 },
	{ OUT("MSS clamp: IPv6 SYN after four extension headers (not walked): untouched"),
	  .f = { TCP6X(VIP6, NONVIP6, SYN, X_HBH, X_DST, X_RT, X_DST, O_MSS(1440)) },
	  CLAMP(1000, 0, 0), NOTHING },
	{ OUT("MSS clamp: IPv6 SYN from a released VIP: lowered"),
	  .f = { TCP6(VIP6_REL, NONVIP6, SYN, O_MSS(1440)) }, CLAMP(1000, 0, 0), NOTHING,
	  .mss_out = 1000 },
	{ OUT("MSS clamp: IPv6 SYN from a non-VIP: untouched"),
	  .f = { TCP6(NONVIP6, VIP6, SYN, O_MSS(1440)) }, CLAMP(1000, 0, 0), NOTHING },
	{ OUT("MSS clamp: IPv6 ACK from a VIP: untouched"),
	  .f = { TCP6(VIP6, NONVIP6, ACK, O_MSS(1440)) }, CLAMP(1000, 0, 0), NOTHING },
	{ OUT("MSS clamp: IPv6 SYN below the limit: untouched"),
	  .f = { TCP6(VIP6, NONVIP6, SYN, O_MSS(1220)) }, CLAMP(AUTO, 0, 0), NOTHING },
	{ OUT("MSS clamp: IPv6 SYN from a VIP, no clamp configured: untouched"),
	  .f = { TCP6(VIP6, NONVIP6, SYN, O_LINUX(1440)) }, NOTHING },
	{ IN("MSS clamp: XDP ingress of a SYN from a VIP with a clamp: nothing"),
	  .f = { TCP4(VIP_A, NONVIP4, SYN, O_MSS(1460)) }, CLAMP(1200, 0, 0), NOTHING },
};

#define N_FIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

#endif /* LVIP_TEST_FIXTURES_H */
