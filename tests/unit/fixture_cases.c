// SPDX-License-Identifier: GPL-2.0
/*
 * fixture_cases.c - the fixture table's cases, frames and expectations
 * (see fixture_cases.h).
 */
#include "fixture_cases.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_ether.h>

#define UDP_PAYLOAD  "lvip-fixture"
#define UDP_PAYLOAD_LEN (sizeof(UDP_PAYLOAD) - 1)
#define TCP_HLEN_FIXED  20

const char *const prog_name[N_PROGS] = {
	[P_XDP] = "xdp", [P_TC] = "tc", [P_TC_COMPAT] = "tc_compat",
};

const char *const vip_addr[N_VIP_IDS] = {
	[V_A] = VIP_A, [V_B] = VIP_B, [V_6] = VIP6, [V_REL] = VIP_REL, [V_REL6] = VIP6_REL,
};

const __u32 vip_flags[N_VIP_IDS] = {
	[V_REL] = LVIP_VIP_F_RELEASED, [V_REL6] = LVIP_VIP_F_RELEASED,
};

int vip_is_v6(enum vip_id v)
{
	return v == V_6 || v == V_REL6;
}

static void bail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* TAP "Bail out! ..." and exit 1, as bh_bail does. */
static void bail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("Bail out! ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	exit(1);
}

/* ------------------------------------------------------------------ */
/* Frames: a frame_spec, written with frame.h                         */
/* ------------------------------------------------------------------ */

/* An IPv6 address of a spec; NULL: all zeros. */
static void spec_addr6(const char *s, __u8 out[16])
{
	memset(out, 0, 16);
	if (s)
		frame_addr6(s, out);
}

static __u16 spec_ethertype(const struct frame_spec *s)
{
	switch (s->kind) {
	case K_ARP:
		return ETH_P_ARP;
	case K_IPV4:
		return ETH_P_IP;
	case K_IPV6:
		return ETH_P_IPV6;
	case K_TUN:
		return s->tun.outer6 ? ETH_P_IPV6 : ETH_P_IP;
	case K_TCP:
		return s->tcp.v6 ? ETH_P_IPV6 : ETH_P_IP;
	default:
		return s->ethertype;
	}
}

static void spec_dst_mac(const struct frame_spec *s, __u8 mac[ETH_ALEN])
{
	__u8 a6[16];

	memcpy(mac, mac_self, ETH_ALEN);
	if (s->kind == K_ARP && s->arp.op == REQ) {
		memcpy(mac, mac_bcast, ETH_ALEN);
	} else if (s->kind == K_ETHERTYPE) {
		memcpy(mac, mac_lldp, ETH_ALEN);
	} else if (s->kind == K_IPV6) {
		spec_addr6(s->ip6.dst, a6);
		if (a6[0] == 0xff)
			frame_ipv6_mcast_mac(a6, mac);
	}
}

/*
 * The bytes a hook must see to judge the frame (frame.needed_xdp/_tc), as
 * docs/datapath.md lists them under "Malformed": Ethernet, the first two VLAN
 * tags, the ARP body, the 20-byte IPv4 header, the IPv6 header, the
 * next-header and length bytes of each extension header walked (three at
 * most), the ICMPv6 type byte, and the 24-byte fixed part of an NS on
 * ingress or of an NA on egress (the ND message the hook judges). Nothing
 * after a third VLAN tag's TPID is read. A frame cut shorter fails to parse;
 * a longer cut only removes what is not read.
 */
#define WALKED_EXT 3

static void need(struct frame *f, size_t n)
{
	f->needed_xdp = f->needed_tc = n;
}

/* Ethernet, then `tags` VLAN tags: one is 802.1Q; two or more start with
 * an 802.1ad (S-tag) and continue with 802.1Q. */
static void put_eth(struct frame *f, const struct frame_spec *s, int tags)
{
	__u8 dst[ETH_ALEN];

	spec_dst_mac(s, dst);
	frame_eth_addrs(f, dst, mac_peer);
	for (int i = 0; i < tags; i++) /* TCI: VLAN id */
		frame_vlan_tag(f, (i == 0 && tags > 1) ? ETH_P_8021AD : ETH_P_8021Q, 100 + i);
	frame_ethertype(f, spec_ethertype(s));
}

static void put_arp(struct frame *f, const struct arp_spec *a)
{
	__u8 sip[4], tip[4];
	const struct frame_arp_fields h = {
		.hrd = a->hrd,
		.pro = a->bad == BAD_PRO ? ETH_P_IPV6 : ETH_P_IP,
		.hln = a->bad == BAD_HLN ? 8 : ETH_ALEN,
		.pln = a->bad == BAD_PLN ? 16 : 4,
		.op = a->op,
		.sha = mac_peer, .spa = sip,
		.tha = a->op == REQ ? mac_zero : mac_self, .tpa = tip,
	};

	frame_addr4(a->sip, sip);
	frame_addr4(a->tip, tip);
	frame_arp(f, &h);
	need(f, f->len);
}

/* Checksum: filled by the IPv6 builder, none for IPv4. */
static void put_udp(struct frame *f)
{
	frame_udp(f, 40000, 5000, 8 + UDP_PAYLOAD_LEN, 0);
	frame_put(f, UDP_PAYLOAD, UDP_PAYLOAD_LEN);
}

static void put_ipv4(struct frame *f, const struct ip4_spec *s)
{
	__u8 vi = s->ver_ihl ? s->ver_ihl : 0x45, src[4], dst[4];
	size_t hlen = ((vi & 0x0f) > 5 ? (vi & 0x0f) : 5) * 4;
	size_t start = f->len;
	const struct frame_ipv4_fields h = {
		.ver_ihl = vi, .tot_len = hlen + 8 + UDP_PAYLOAD_LEN,
		.id = 1, .frag_off = 0x4000 /* DF */, .ttl = 64, .protocol = IPPROTO_UDP,
		.saddr = src, .daddr = dst,
	};

	frame_addr4(s->src, src);
	frame_addr4(s->dst, dst);
	frame_ipv4(f, &h);
	frame_zero(f, hlen - 20); /* options: end of list */
	frame_ipv4_checksum(f, start, hlen);
	need(f, start + 20);
	put_udp(f);
}

static __u8 ext_proto(enum ext_hdr x)
{
	return x == X_HBH ? IPPROTO_HOPOPTS : x == X_RT ? IPPROTO_ROUTING : IPPROTO_DSTOPTS;
}

/* An 8-byte extension header: options are one PadN; routing is type 0
 * with no segment left. */
static void put_ext(struct frame *f, enum ext_hdr x, __u8 next)
{
	if (x == X_RT)
		frame_ext_routing0(f, next);
	else
		frame_ext_padn(f, next, 0);
}

/* reached: the walk over the extension headers gets to the message. */
static void put_icmp6(struct frame *f, const struct ip6_spec *s, int reached)
{
	size_t l4 = f->len;
	__u8 target[16];
	const struct frame_nd_fields nd = {
		.type = s->type,
		.flags = s->type == NA ? 0x20000000 : 0, /* NA: override */
		.target = target,
	};

	spec_addr6(s->target, target);
	frame_nd(f, &nd);
	if (reached) {
		need(f, l4 + 1);
		if (s->type == NS)
			f->needed_xdp = f->len;
		if (s->type == NA)
			f->needed_tc = f->len;
	}
	if (s->lla_opt) /* target / source link-layer address */
		frame_nd_lla(f, s->type == NA ? 2 : 1, 1, mac_peer);
}

static void put_ipv6(struct frame *f, const struct ip6_spec *s)
{
	__u8 l4proto = s->l4 == L4_ICMP6 ? IPPROTO_ICMPV6 : IPPROTO_UDP, src[16], dst[16];
	size_t start = f->len, l4;
	int n = 0;

	while (n < EXT_MAX && s->ext[n] != X_END)
		n++;
	spec_addr6(s->src, src);
	spec_addr6(s->dst, dst);
	frame_ipv6(f, &(const struct frame_ipv6_fields){
		.vtf = (__u32)(s->version ? s->version : 6) << 28,
		.payload_len = 0, /* below */
		.nexthdr = n ? ext_proto(s->ext[0]) : l4proto,
		.hop_limit = 255, .saddr = src, .daddr = dst,
	});
	need(f, f->len);
	for (int i = 0; i < n; i++) {
		if (i < WALKED_EXT)
			need(f, f->len + 2);
		put_ext(f, s->ext[i], i + 1 < n ? ext_proto(s->ext[i + 1]) : l4proto);
	}
	l4 = f->len;
	if (s->l4 == L4_ICMP6)
		put_icmp6(f, s, n <= WALKED_EXT);
	else
		put_udp(f);
	frame_set16(f, start + 4, f->len - start - 40);
	frame_ipv6_l4_checksum(f, start, l4, l4proto, s->l4 == L4_ICMP6 ? 2 : 6);
}

/* ---- tunnels ---- */

#define IPPROTO_GRE_ 47
#define GRE_CSUM     0x8000

/* Where a tunnel frame's parts are (offsets in the frame), and from which
 * length on lvip_xdp can decide what it decides (docs/datapath.md,
 * "Tunnels"): id, recognised as a tunnel packet of its type (the outer
 * header, an IPv6 fragment header, GUE's UDP header); outer, the outer
 * header with its IPv4 options; full, what the row's verdict reads last (the
 * inner IP header; a GUE control message: its first byte). */
struct tun_layout {
	size_t l3, id, outer, full, inner;
};

static __u8 tun_inner_proto(const struct tun_spec *t)
{
	return t->inner6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
}

static __u8 tun_outer_proto(const struct tun_spec *t)
{
	switch (t->kind) {
	case TK_IPIP:
		return tun_inner_proto(t);
	case TK_GRE:
	case TK_GRE_CSUM:
		return IPPROTO_GRE_;
	default:
		return IPPROTO_UDP;
	}
}

/* The inner IPv4/IPv6 UDP packet, with ECN field ecn. */
static void put_inner(struct frame *f, const struct tun_spec *t, __u8 ecn)
{
	size_t start = f->len;
	__u8 src[16], dst[16];

	if (!t->inner6) {
		__u8 vi = t->bad == TB_INNER_VER ? 0x65 : t->bad == TB_INNER_IHL ? 0x44 :
			  t->bad == TB_GUE1_NIBBLE ? 0x55 : 0x45;

		frame_addr4(CLIENT4, src);
		frame_addr4(t->idst ? t->idst : VIP_A, dst);
		frame_ipv4(f, &(const struct frame_ipv4_fields){
			.ver_ihl = vi, .tos = ecn, .tot_len = 20 + 8 + UDP_PAYLOAD_LEN, .id = 7,
			.frag_off = 0x4000, .ttl = 63, .protocol = IPPROTO_UDP,
			.saddr = src, .daddr = dst,
		});
		frame_ipv4_checksum(f, start, 20);
		put_udp(f);
		return;
	}
	frame_addr6(CLIENT6, src);
	frame_addr6(t->idst ? t->idst : VIP6, dst);
	frame_ipv6(f, &(const struct frame_ipv6_fields){
		.vtf = 6u << 28 | (__u32)ecn << 20, .payload_len = 8 + UDP_PAYLOAD_LEN,
		.nexthdr = IPPROTO_UDP, .hop_limit = 63, .saddr = src, .daddr = dst,
	});
	put_udp(f);
	frame_ipv6_l4_checksum(f, start, start + 40, IPPROTO_UDP, 6);
}

/* The outer header (lengths filled in by put_tun); L->id and L->outer. */
static void put_outer(struct frame *f, const struct tun_spec *t, struct tun_layout *L)
{
	__u8 src[16], dst[16], proto = tun_outer_proto(t);

	L->l3 = f->len;
	if (!t->outer6) {
		frame_addr4(t->osrc ? t->osrc : DIRECTOR4, src);
		frame_addr4(t->odst ? t->odst : TUN_LOCAL4, dst);
		frame_ipv4(f, &(const struct frame_ipv4_fields){
			.ver_ihl = 0x45 + t->opt_words, .tos = t->oecn, .id = 9,
			.frag_off = t->frag_off, .ttl = 64, .protocol = proto,
			.saddr = src, .daddr = dst,
		});
		need(f, f->len);
		frame_zero(f, t->opt_words * 4u); /* options: end of list */
		L->id = L->l3 + 20;
		L->outer = f->len;
		return;
	}
	frame_addr6(t->osrc ? t->osrc : DIRECTOR6, src);
	frame_addr6(t->odst ? t->odst : TUN_LOCAL6, dst);
	frame_ipv6(f, &(const struct frame_ipv6_fields){
		.vtf = 6u << 28 | (__u32)t->oecn << 20,
		.nexthdr = t->oext ? IPPROTO_HOPOPTS : t->frag6 ? IPPROTO_FRAGMENT : proto,
		.hop_limit = 64, .saddr = src, .daddr = dst,
	});
	need(f, f->len);
	if (t->oext) {
		need(f, f->len + 2);
		frame_ext_padn(f, proto, 0);
	}
	if (t->frag6) /* first: offset 0, M; later: offset 1 */
		frame_ipv6_frag(f, proto, t->frag6 == 1 ? 0x0001 : 0x0008, 9);
	L->id = L->outer = f->len;
}

static void put_gre(struct frame *f, const struct tun_spec *t)
{
	__u16 flags = t->kind == TK_GRE_CSUM ? GRE_CSUM : 0;

	flags |= t->bad == TB_GRE_KEY ? 0x2000 : t->bad == TB_GRE_ROUTING ? 0x4000 :
		 t->bad == TB_GRE_VER ? 1 : 0;
	frame_gre(f, flags, t->bad == TB_GRE_PROTO ? 0x6558 : t->inner6 ? ETH_P_IPV6 : ETH_P_IP);
	if (t->kind == TK_GRE_CSUM)
		frame_put32(f, 0); /* checksum, reserved: filled by put_tun */
}

/* UDP (length filled by put_tun), then the GUE v0 header and options. */
static void put_gue(struct frame *f, const struct tun_spec *t, struct tun_layout *L)
{
	__u8 b0 = (t->gue_ctrl ? 0x20 : 0) | t->gue_hlen | (t->bad == TB_GUE_VER ? 0x80 : 0);

	frame_udp(f, 49152 + 7, t->port ? t->port : GUE_PORT, 0, 0);
	if (!(t->frag6 == 2 || (t->frag_off & 0x1fff)))
		L->id = L->outer = f->len; /* a later fragment is never recognised */
	if (t->kind == TK_GUE1)
		return;
	frame_gue0(f, b0, t->bad == TB_GUE_PROTO ? IPPROTO_UDP : tun_inner_proto(t),
		   t->gue_priv ? 0x0001 : 0);
	if (t->gue_ctrl)
		L->full = f->len - 3;
	if (t->gue_priv && t->gue_hlen)
		frame_put32(f, t->gue_priv == 2 ? 0x80000000u : 0);
	frame_zero(f, (t->gue_hlen - (t->gue_priv && t->gue_hlen ? 1 : 0)) * 4u);
}

static void put_tun(struct frame *f, const struct tun_spec *t, struct tun_layout *L)
{
	size_t th, udp_len;

	L->full = 0;
	put_outer(f, t, L);
	th = f->len;
	if (t->kind == TK_GRE || t->kind == TK_GRE_CSUM)
		put_gre(f, t);
	else if (t->kind != TK_IPIP)
		put_gue(f, t, L);
	L->inner = f->len;
	put_inner(f, t, t->iecn);
	if (!L->full)
		L->full = L->inner + (t->inner6 ? 40 : 20);
	if (t->kind == TK_GRE_CSUM)
		frame_gre_checksum(f, th);
	if (t->kind == TK_GUE0 || t->kind == TK_GUE1) {
		udp_len = t->bad == TB_UDP_LEN ? 12 : f->len - th;
		frame_set16(f, th + 4, (__u16)udp_len);
	}
	if (t->outer6) {
		frame_set16(f, L->l3 + 4, f->len - L->l3 - 40);
	} else {
		frame_set16(f, L->l3 + 2, f->len - L->l3);
		frame_ipv4_checksum(f, L->l3, 20 + t->opt_words * 4u);
	}
}

/* What lvip_xdp must make of a tunnel frame it decapsulates: the same
 * Ethernet header and VLAN tags, the inner EtherType, the inner packet with
 * the outer CE carried into an ECT field (RFC 6040; Not-ECT and CE stay). */
static void build_decapped(const struct frame_spec *s, int tags, struct frame *f)
{
	const struct tun_spec *t = &s->tun;
	int ect = t->iecn == 1 || t->iecn == 2;

	frame_init(f);
	frame_eth_addrs(f, mac_self, mac_peer);
	for (int i = 0; i < tags; i++)
		frame_vlan_tag(f, (i == 0 && tags > 1) ? ETH_P_8021AD : ETH_P_8021Q, 100 + i);
	frame_ethertype(f, t->inner6 ? ETH_P_IPV6 : ETH_P_IP);
	put_inner(f, t, t->oecn == 3 && ect ? 3 : t->iecn);
}

/* ---- TC egress: MSS clamp ---- */

static size_t tcp_optlen_padded(const struct tcp_spec *t)
{
	return (t->optlen + 3u) & ~3u;
}

/* The TCP header and its options (zero-padded to the data offset); the
 * checksum is the caller's. The TC hook needs the whole header (the clamp
 * reads every option), XDP only the IP header before it. */
static void put_tcp(struct frame *f, const struct tcp_spec *t)
{
	size_t pad = tcp_optlen_padded(t) - t->optlen;

	frame_tcp(f, &(const struct frame_tcp_fields){
		.sport = 443, .dport = 40000, .seq = 0x01020304, .ack = t->flags & ACK ? 0x0a0b0c0d : 0,
		.doff = (uint8_t)(5 + tcp_optlen_padded(t) / 4), .flags = t->flags, .window = 64240,
	});
	frame_put(f, t->opt, t->optlen);
	frame_zero(f, pad);
	f->needed_tc = f->len;
}

static void put_tcp4(struct frame *f, const struct tcp_spec *t)
{
	size_t start = f->len;
	__u8 src[4], dst[4];

	frame_addr4(t->src, src);
	frame_addr4(t->dst, dst);
	frame_ipv4(f, &(const struct frame_ipv4_fields){
		.ver_ihl = 0x45, .tot_len = (__u16)(20 + TCP_HLEN_FIXED + tcp_optlen_padded(t)),
		.id = 1, .frag_off = t->frag_off ? t->frag_off : 0x4000, .ttl = 64,
		.protocol = IPPROTO_TCP, .saddr = src, .daddr = dst,
	});
	frame_ipv4_checksum(f, start, 20);
	need(f, f->len);
	put_tcp(f, t);
	frame_ipv4_l4_checksum(f, start, start + 20, IPPROTO_TCP, FRAME_TCP_CHECK);
}

static void put_tcp6(struct frame *f, const struct tcp_spec *t)
{
	size_t start = f->len, l4;
	__u8 src[16], dst[16];
	int n = 0;

	while (n < EXT_MAX && t->ext[n] != X_END)
		n++;
	spec_addr6(t->src, src);
	spec_addr6(t->dst, dst);
	frame_ipv6(f, &(const struct frame_ipv6_fields){
		.vtf = 6u << 28, .nexthdr = n ? ext_proto(t->ext[0]) : IPPROTO_TCP,
		.hop_limit = 64, .saddr = src, .daddr = dst,
	});
	need(f, f->len);
	for (int i = 0; i < n; i++) {
		if (i < WALKED_EXT)
			need(f, f->len + 2);
		put_ext(f, t->ext[i], i + 1 < n ? ext_proto(t->ext[i + 1]) : IPPROTO_TCP);
	}
	l4 = f->len;
	put_tcp(f, t);
	if (n > WALKED_EXT) /* not walked to: nothing after the walk is read */
		f->needed_tc = f->needed_xdp;
	frame_set16(f, start + 4, (__u16)(f->len - start - 40));
	frame_ipv6_l4_checksum(f, start, l4, IPPROTO_TCP, FRAME_TCP_CHECK);
}

/* Any other EtherType: a few bytes shaped like an LLDP chassis-id TLV. */
static void put_payload(struct frame *f)
{
	static const __u8 lldp_like[] = { 0x02, 0x07, 0x04, 0x02, 0, 0, 0, 0, 0x01, 0x00, 0x00 };

	need(f, f->len);
	frame_put(f, lldp_like, sizeof(lldp_like));
}

static void build(const struct frame_spec *s, int tags, struct frame *f, struct tun_layout *L)
{
	frame_init(f);
	put_eth(f, s, tags);
	switch (s->kind) {
	case K_ARP:
		put_arp(f, &s->arp);
		break;
	case K_IPV4:
		put_ipv4(f, &s->ip4);
		break;
	case K_IPV6:
		put_ipv6(f, &s->ip6);
		break;
	case K_TUN:
		put_tun(f, &s->tun, L);
		break;
	case K_TCP:
		if (s->tcp.v6)
			put_tcp6(f, &s->tcp);
		else
			put_tcp4(f, &s->tcp);
		break;
	default:
		put_payload(f);
		break;
	}
	if (tags > 2) /* the third tag's TPID ends the parse */
		need(f, ETH_HLEN + 2 * VLAN_HLEN);
	if (f->len < s->pad_to)
		frame_zero(f, s->pad_to - f->len);
	if (f->overflow)
		bail("fixture frame longer than %d bytes", FRAME_MAX);
}

void build_frame(const struct frame_spec *s, int tags, struct frame *f)
{
	struct tun_layout L;

	build(s, tags, f, &L);
}

/* ------------------------------------------------------------------ */
/* Cases: the fixture table times encapsulations, programs, lengths.  */
/* ------------------------------------------------------------------ */

enum hook prog_hook(enum prog_id p)
{
	return p == P_XDP ? XDP : TC;
}

struct case_list {
	struct tcase *v;
	size_t n, cap;
};

static void add_case(struct case_list *l, const struct fixture *fx, enum prog_id p, int tags,
		     int len)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			bail("out of memory");
	}
	l->v[l->n++] = (struct tcase){ .fx = fx, .prog = p, .tags = tags, .len = len };
}

/* Refuse rows that contradict themselves. */
static void lint_fixture(const struct fixture *fx)
{
	int charges = fx->reason == R(ARP_IN_DROPPED) || fx->reason == R(ARP_OUT_DROPPED) ||
		      fx->reason == R(ND_IN_DROPPED) || fx->reason == R(ND_OUT_DROPPED) ||
		      fx->reason == R(VIP_RX);

	if (charges != (fx->vip != NO_VIP) || (fx->act == REWRITE) != (fx->rewrite != NULL) ||
	    (fx->act == REWRITE && fx->hook != TC) || (fx->reason == R(VIP_RX)) != (fx->vip_bytes != 0) ||
	    (fx->mss_out && (fx->hook != TC || fx->f.kind != K_TCP || fx->act != PASS)))
		bail("inconsistent fixture row: %s", fx->name);
	if ((fx->act == DECAP) != (fx->tun == T(DECAP)) || (fx->act == DECAP && fx->hook != XDP) ||
	    ((fx->tun || fx->tun_off) && fx->f.kind != K_TUN))
		bail("inconsistent tunnel fixture row: %s", fx->name);
}

static void add_fixture_cases(struct case_list *l, const struct fixture *fx)
{
	int lo = fx->f.tags3 ? 3 : 0, hi = fx->f.tags3 ? 3 : 2;

	lint_fixture(fx);
	for (int tags = lo; tags <= hi; tags++) {
		if (fx->hook == XDP) {
			add_case(l, fx, P_XDP, tags, -1);
		} else {
			add_case(l, fx, P_TC, tags, -1);
			add_case(l, fx, P_TC_COMPAT, tags, -1);
		}
	}
}

static void add_trunc_cases(struct case_list *l, const struct fixture *fx, unsigned int trunc)
{
	int lo = fx->f.tags3 ? 3 : 0, hi = fx->f.tags3 ? 3 : 2;
	struct frame f;

	for (int tags = lo; tags <= hi; tags++) {
		build_frame(&fx->f, tags, &f);
		for (int len = 0; len < (int)f.len; len++) {
			if (trunc & TR_XDP)
				add_case(l, fx, P_XDP, tags, len);
			if (trunc & TR_TC)
				add_case(l, fx, P_TC, tags, len);
		}
	}
}

size_t collect_cases(struct tcase **out)
{
	struct case_list l = { .n = 0 };

	for (size_t i = 0; i < N_FIXTURES; i++)
		add_fixture_cases(&l, &fixtures[i]);
	for (size_t i = 0; i < N_FIXTURES; i++)
		if (fixtures[i].trunc)
			add_trunc_cases(&l, &fixtures[i], fixtures[i].trunc);
	*out = l.v;
	return l.n;
}

size_t collect_sweeps(struct tcase **out)
{
	struct case_list l = { .n = 0 };

	for (size_t i = 0; i < N_FIXTURES; i++) {
		const struct fixture *fx = &fixtures[i];
		unsigned int own = fx->hook == XDP ? TR_XDP : TR_TC;

		if (!(fx->trunc & own))
			add_trunc_cases(&l, fx, own);
	}
	*out = l.v;
	return l.n;
}

/* ------------------------------------------------------------------ */
/* Expectations                                                       */
/* ------------------------------------------------------------------ */

size_t case_needed(const struct tcase *tc, const struct frame *f)
{
	return prog_hook(tc->prog) == XDP ? f->needed_xdp : f->needed_tc;
}

int spec_tun_type(const struct frame_spec *s)
{
	if (s->kind != K_TUN)
		return -1;
	if (s->tun.kind == TK_IPIP)
		return LVIP_TUN_IPIP;
	return s->tun.kind == TK_GRE || s->tun.kind == TK_GRE_CSUM ? LVIP_TUN_GRE : LVIP_TUN_GUE;
}

/* How far into a tunnel frame the row's verdict is decided: once it is
 * recognised (not ours, a fragment), after the outer header with its
 * options (peer refused), or after the headers it reads last. */
enum tun_stage { ST_ID, ST_OUTER, ST_FULL };

static enum tun_stage tun_stage(const struct fixture *fx)
{
	if (fx->f.tun.gue_ctrl)
		return ST_FULL;
	if (!fx->tun || fx->tun == T(FRAGMENT))
		return ST_ID;
	return fx->tun == T(PEER_REFUSED) ? ST_OUTER : ST_FULL;
}

/* A tunnel frame cut at len, past the outer IP header's fixed part: cut
 * before it is recognised, it is an ordinary IP packet (to this host's
 * address: nothing); cut inside the outer options or the tunnel or inner
 * headers the row's verdict needs, the type counts malformed; else judged
 * like the whole frame. */
static struct expect tun_cut(const struct tcase *tc, size_t len, struct expect row)
{
	const struct fixture *fx = tc->fx;
	struct expect cut = { .act = PASS, .tun_type = row.tun_type, .tun = T(MALFORMED) };
	enum tun_stage st = tun_stage(fx);
	struct tun_layout L;
	struct frame f;

	build(&fx->f, tc->tags, &f, &L);
	if (len < L.id)
		return st == ST_ID && !fx->tun ? row : (struct expect){ .act = PASS, .tun_type = -1 };
	if (st == ST_ID)
		return row;
	if (len < L.outer)
		return cut;
	if (st == ST_OUTER)
		return row;
	return len < L.full ? cut : row;
}

/* A frame cut before the end of what the hook needs passes: ingress counts
 * it malformed, egress counts nothing. A longer cut (only a part the hook
 * does not read is missing) is judged like the whole frame; a tunnel frame
 * as tun_cut says. A row run through the other hook (a truncation sweep) is
 * "anything else" there. */
struct expect expect_for(const struct tcase *tc, const struct frame *f)
{
	const struct fixture *fx = tc->fx;
	enum hook hook = prog_hook(tc->prog);
	struct expect e = { .act = PASS, .tun_type = -1 }, row;

	if (tc->len >= 0 && (size_t)tc->len < case_needed(tc, f)) {
		if (hook == XDP)
			e.reason = R(MALFORMED);
		return e;
	}
	if (hook != fx->hook)
		return e;
	row = (struct expect){ fx->act, fx->reason, fx->vip, fx->vip_bytes, fx->rewrite, fx->tun,
			       spec_tun_type(&fx->f), fx->mss_out };
	if (fx->f.kind == K_TUN && !fx->f.tags3 && tc->len >= 0)
		return tun_cut(tc, (size_t)tc->len, row);
	return row;
}

void want_vip(const struct expect *e, enum vip_id v, uint64_t w[N_VF])
{
	memset(w, 0, N_VF * sizeof(w[0]));
	if (e->vip != v)
		return;
	switch (e->reason) {
	case R(ARP_IN_DROPPED):
	case R(ARP_OUT_DROPPED):
		w[VF_ARP] = 1;
		break;
	case R(ND_IN_DROPPED):
	case R(ND_OUT_DROPPED):
		w[VF_ND] = 1;
		break;
	case R(VIP_RX):
		w[VF_PACKETS] = 1;
		w[VF_BYTES] = e->vip_bytes;
		break;
	}
}

size_t case_arp_sip(const struct tcase *tc)
{
	return ETH_HLEN + VLAN_HLEN * tc->tags + FRAME_ARP_SPA;
}

/* ---- TC egress: MSS clamp ---- */

int case_tcp(const struct tcase *tc, struct tcp_at *at)
{
	const struct tcp_spec *t = &tc->fx->f.tcp;
	size_t i = 0;
	int n = 0;

	if (tc->fx->f.kind != K_TCP)
		return 0;
	while (n < EXT_MAX && t->ext[n] != X_END)
		n++;
	at->v6 = t->v6;
	at->l3 = ETH_HLEN + VLAN_HLEN * tc->tags;
	at->l4 = at->l3 + (t->v6 ? 40 + 8 * (size_t)n : 20);
	at->len = TCP_HLEN_FIXED + tcp_optlen_padded(t);
	at->mss = 0;
	while (i + 1 < t->optlen && t->opt[i] != 2) { /* NOPs and other options before MSS */
		if (t->opt[i] != 1 && t->opt[i + 1] < 2)
			return 1;
		i += t->opt[i] == 1 ? 1 : t->opt[i + 1];
	}
	if (i + 3 < t->optlen && t->opt[i] == 2)
		at->mss = at->l4 + TCP_HLEN_FIXED + i + 2;
	return 1;
}

/* The MSS value written and the checksum recomputed over the whole
 * segment, as a sender would have built it with that MSS. */
static void want_mss(const struct tcase *tc, __u16 mss, uint8_t *want, size_t len)
{
	struct tcp_at at;
	uint16_t sum;

	if (!case_tcp(tc, &at) || !at.mss || at.l4 + at.len > len)
		return;
	want[at.mss] = (uint8_t)(mss >> 8);
	want[at.mss + 1] = (uint8_t)mss;
	want[at.l4 + FRAME_TCP_CHECK] = want[at.l4 + FRAME_TCP_CHECK + 1] = 0;
	sum = frame_l4_sum(want, at.l3, at.l4, at.len, IPPROTO_TCP, at.v6);
	want[at.l4 + FRAME_TCP_CHECK] = (uint8_t)(~sum >> 8);
	want[at.l4 + FRAME_TCP_CHECK + 1] = (uint8_t)~sum;
}

int tcp_checksum_ok(const struct tcase *tc, const uint8_t *out, size_t len)
{
	struct tcp_at at;

	if (!case_tcp(tc, &at) || at.l4 + at.len != len)
		return 1;
	return frame_l4_sum(out, at.l3, at.l4, at.len, IPPROTO_TCP, at.v6) == 0xffff;
}

size_t want_data(const struct tcase *tc, const struct expect *e, const uint8_t *in, size_t len,
		 uint8_t *want)
{
	struct tun_layout L;
	struct frame f, out;
	size_t strip;

	if (e->act == DECAP) {
		build(&tc->fx->f, tc->tags, &f, &L);
		build_decapped(&tc->fx->f, tc->tags, &out);
		strip = L.inner - L.l3;
		if (len < strip || len - strip > out.len)
			bail("a decapsulated case shorter than its headers: %s", tc->fx->name);
		memcpy(want, out.b, len - strip);
		return len - strip;
	}
	memcpy(want, in, len);
	if (e->rewrite && case_arp_sip(tc) + 4 <= len)
		frame_addr4(e->rewrite, want + case_arp_sip(tc));
	if (e->mss_out)
		want_mss(tc, e->mss_out, want, len);
	return len;
}

void case_label(const struct tcase *tc, const struct frame *f, char *buf, size_t n)
{
	static const char *const encap[] = {
		"", " [802.1Q]", " [802.1ad+802.1Q]", " [802.1ad+802.1Q+802.1Q]",
	};
	int k = snprintf(buf, n, "%s%s", tc->fx->name, encap[tc->tags]);

	if (tc->len >= 0 && k > 0 && (size_t)k < n)
		snprintf(buf + k, n - k, ", truncated to %d of %zu bytes%s", tc->len, f->len,
			 (size_t)tc->len >= case_needed(tc, f) ?
			 " (only what the hook does not read cut: judged as the whole frame)" : "");
}
