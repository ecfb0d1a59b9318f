// SPDX-License-Identifier: GPL-2.0
/*
 * oracle.c - lvip's datapath tables (docs/datapath.md) as plain C.
 *
 * Sources, and nothing else: docs/datapath.md, and the clarifications
 * README documents under "What the datapath does":
 *
 *  - Ethernet, then up to two VLAN tags (TPID 0x8100 or 0x88a8, in either
 *    position); a third tag: pass without counting (fail-open).
 *  - ARP is judged only when hrd = 1 (Ethernet) or 6 (IEEE 802: Linux takes
 *    both on an Ethernet device, so both are judged alike), pro = 0x0800,
 *    hln = 6, pln = 4 and the 28-byte body is present. Ingress: a request (op 1) whose target is a
 *    VIP is dropped, the target VIP charged. Egress: a reply (op 2) whose
 *    sender is a VIP is dropped; a request whose sender is a VIP is dropped
 *    when it is gratuitous (target = sender), else rewritten - also when the
 *    target is another VIP - to the interface's primary IPv4 address in the
 *    target's subnet, else its first primary address, and dropped when it
 *    has none. Drops charge the sender VIP; a rewrite charges no VIP.
 *  - IPv4: version 4, ihl >= 5. A packet to a VIP passes, counted as vip_rx
 *    with bytes = tot_len.
 *  - IPv6: version 6. Up to three extension headers (hop-by-hop 0, routing
 *    43, destination options 60) are skipped before ICMPv6. Ingress: an NS
 *    (135) whose target is a VIP is dropped (the target charged, and no
 *    vip_rx even when it was sent to a VIP); otherwise a packet to a VIP is
 *    vip_rx with bytes = payload_len + 40. Egress: an NA (136) whose target
 *    is a VIP is dropped. An NS/NA cut inside its options, with its 24-byte
 *    fixed part present, is judged like the whole frame.
 *  - A released VIP (`lvip vip release`) is not hidden: every ARP and ND
 *    rule above ignores it (its requests, NS, replies, announcements and
 *    "tell VIP" requests pass untouched and uncharged), while packets to it
 *    are still vip_rx.
 *  - Observe mode (an interface attached with --observe): every frame
 *    passes unchanged and no VIP is charged; what the rules above would
 *    drop is counted as observe_arp_in, observe_arp_out, observe_nd_in or
 *    observe_nd_out instead of the *_dropped reason, and an ARP request
 *    "tell VIP" that would be rewritten - or dropped, on an interface
 *    without IPv4 - as observe_rewrite. vip_rx and malformed are as in
 *    enforce mode.
 *  - MSS clamping (egress; docs/datapath.md, "MSS clamping"): a TCP segment
 *    with SYN set whose IP source is a VIP (released ones too), IPv4 (not a
 *    later fragment) or IPv6 (TCP after at most three skipped extension
 *    headers), whose whole TCP header (data offset) is in the frame, gets
 *    the value of its first MSS option lowered to the limit when above it,
 *    the checksum updated incrementally (RFC 1624). The limit: the smallest
 *    of the enabled tunnel types' clamps; a fixed one is itself, an auto one
 *    the egress MTU less 20 (IPv4) or 40 (IPv6), less 20 (TCP), less the
 *    type's overhead (ipip 40, gue 52, gre 48), at least 88. The option walk
 *    stops at EOL (no MSS), skips NOP, and gives up (segment untouched) at
 *    an option whose length byte is missing or below 2, or an MSS option of
 *    a length other than 4 or reaching past the header. Nothing is counted;
 *    observe mode changes nothing here.
 *  - Malformed (ingress only; egress never counts it, and passes): a frame
 *    cut inside a header the datapath needs, an ARP with a wrong
 *    hrd/pro/hln/pln, IPv4 with version != 4 or ihl < 5, IPv6 with version
 *    != 6.
 *
 *  - Tunnels (docs/datapath.md, "Tunnels"), checked on an IPv4 or IPv6
 *    packet before its destination is: see tunnel_ingress below.
 *
 * Where the text leaves room, the oracle reads "a header it needs" the way
 * README reads it for ND: the part of a header that decides the verdict is
 * needed, what follows it is not (an NS/NA cut inside its options is judged
 * like the whole frame). So:
 *  - IPv4: the 20-byte fixed header is needed; options are like ND options
 *    (a frame cut inside them is judged like the whole frame).
 *  - An extension header: its next-header and length bytes are needed; its
 *    options are skipped unread, so a cut inside them matters only when the
 *    walk goes on to a header beyond (which then is missing).
 *  - Ingress needs the ICMPv6 type byte of a packet whose (skipped-to) next
 *    header is ICMPv6, and the 24-byte fixed part of an NS; nothing beyond
 *    (an NA or an echo cut short is judged on its addresses).
 *  - A fourth extension header (or any other next header) ends the walk:
 *    the packet is "not ICMPv6" and is judged on its destination only.
 */
#include "oracle.h"
#include "lvip.h" /* LVIP_IFADDR_MAX: how many of the addresses the rewrite considers */

#include <arpa/inet.h>
#include <string.h>

const char *const oracle_reason_name[ORACLE_N_REASONS] = {
	[ORACLE_ARP_IN_DROPPED] = "arp_in_dropped",
	[ORACLE_ARP_OUT_DROPPED] = "arp_out_dropped",
	[ORACLE_ARP_OUT_REWRITTEN] = "arp_out_rewritten",
	[ORACLE_ND_IN_DROPPED] = "nd_in_dropped",
	[ORACLE_ND_OUT_DROPPED] = "nd_out_dropped",
	[ORACLE_VIP_RX] = "vip_rx",
	[ORACLE_MALFORMED] = "malformed",
	[ORACLE_OBSERVE_ARP_IN] = "observe_arp_in",
	[ORACLE_OBSERVE_ARP_OUT] = "observe_arp_out",
	[ORACLE_OBSERVE_REWRITE] = "observe_rewrite",
	[ORACLE_OBSERVE_ND_IN] = "observe_nd_in",
	[ORACLE_OBSERVE_ND_OUT] = "observe_nd_out",
};

const char *const oracle_tun_name[ORACLE_N_TUN] = {
	[ORACLE_TUN_IPIP] = "ipip", [ORACLE_TUN_GUE] = "gue", [ORACLE_TUN_GRE] = "gre",
};

const char *const oracle_tun_reason_name[ORACLE_N_TUN_REASONS] = {
	[ORACLE_T_DECAPSULATED] = "decapsulated",
	[ORACLE_T_NOT_VIP] = "not_vip",
	[ORACLE_T_PEER_REFUSED] = "peer_refused",
	[ORACLE_T_FRAGMENT] = "fragment",
	[ORACLE_T_MALFORMED] = "malformed",
};

int oracle_tun_index(const char *name)
{
	for (int t = 0; t < ORACLE_N_TUN; t++)
		if (!strcmp(name, oracle_tun_name[t]))
			return t;
	return -1;
}

int oracle_tun_reason_index(const char *name)
{
	for (int t = 0; t < ORACLE_N_TUN_REASONS; t++)
		if (!strcmp(name, oracle_tun_reason_name[t]))
			return t;
	return -1;
}

int oracle_reason_index(const char *name)
{
	for (int o = 0; o < ORACLE_N_REASONS; o++)
		if (!strcmp(name, oracle_reason_name[o]))
			return o;
	return -1;
}

/* Numbers from the protocols' own specifications (IEEE 802.1Q, RFC 826,
 * RFC 791, RFC 8200, RFC 4861). */
#define ETH_HEADER     14
#define TAG_LEN        4
#define TPID_8021Q     0x8100
#define TPID_8021AD    0x88a8
#define TYPE_IPV4      0x0800
#define TYPE_ARP       0x0806
#define TYPE_IPV6      0x86dd
#define MAX_TAGS       2

#define ARP_BODY       28 /* hrd pro hln pln op sha(6) spa(4) tha(6) tpa(4) */
#define HRD_ETHERNET   1
#define HRD_IEEE802    6
#define ARP_SPA        14
#define ARP_TPA        24
#define ARP_REQUEST    1
#define ARP_REPLY      2

#define IPV4_MIN       20
#define IPV4_DST       16
#define IPV6_HEADER    40
#define IPV6_DST       24
#define MAX_EXT        3
#define NH_HOPOPTS     0
#define NH_ROUTING     43
#define NH_DSTOPTS     60
#define NH_ICMPV6      58
#define ND_FIXED       24 /* type code csum reserved(4) target(16) */
#define ND_TARGET      8
#define ICMP6_NS       135
#define ICMP6_NA       136
#define NH_TCP         6
#define IPV4_SRC       12
#define IPV6_SRC       8
#define TCP_FIXED      20
#define TCP_SYN        0x02
#define TCP_MIN_MSS    88

/* What the walk over the headers found. */
enum what {
	W_OTHER = 0, /* anything else: pass */
	W_CUT,       /* cut inside a header the datapath needs */
	W_BAD,       /* malformed header fields */
	W_ARP,
	W_IPV4,
	W_IPV6,
};

struct view {
	enum what what;
	size_t l3;            /* offset of the ARP / IP header */
	/* ARP */
	unsigned op;
	/* IPv4 */
	unsigned tot_len;
	/* IPv6 */
	unsigned payload_len;
	int icmp6;            /* the walk reached ICMPv6 */
	int tcp;              /* IPv4 or IPv6: the walk reached TCP (IPv4: not a later fragment) */
	size_t l4;            /* its offset */
};

static unsigned rd16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static int is_tpid(unsigned t)
{
	return t == TPID_8021Q || t == TPID_8021AD;
}

static int arp_hrd_ok(unsigned hrd)
{
	return hrd == HRD_ETHERNET || hrd == HRD_IEEE802;
}

static int find4(const struct oracle_vips *v, const uint8_t *a)
{
	for (size_t i = 0; i < v->n4 && i < ORACLE_MAX_VIPS; i++)
		if (!memcmp(v->v4[i], a, 4))
			return (int)i;
	return -1;
}

static int find6(const struct oracle_vips *v, const uint8_t *a)
{
	for (size_t i = 0; i < v->n6 && i < ORACLE_MAX_VIPS; i++)
		if (!memcmp(v->v6[i], a, 16))
			return (int)i;
	return -1;
}

static void walk_ipv6(const uint8_t *f, size_t len, struct view *w)
{
	size_t off = w->l3;
	unsigned nh;

	if (len < off + IPV6_HEADER) {
		w->what = (len > off && f[off] >> 4 != 6) ? W_BAD : W_CUT;
		return;
	}
	if (f[off] >> 4 != 6) {
		w->what = W_BAD;
		return;
	}
	w->what = W_IPV6;
	w->payload_len = rd16(f + off + 4);
	nh = f[off + 6];
	off += IPV6_HEADER;
	for (int i = 0; i < MAX_EXT; i++) {
		size_t hl;

		if (nh != NH_HOPOPTS && nh != NH_ROUTING && nh != NH_DSTOPTS)
			break;
		if (len < off + 2) {
			w->what = W_CUT;
			return;
		}
		hl = ((size_t)f[off + 1] + 1) * 8;
		nh = f[off];
		off += hl;
	}
	if (nh == NH_ICMPV6 || nh == NH_TCP) {
		w->icmp6 = nh == NH_ICMPV6;
		w->tcp = nh == NH_TCP;
		w->l4 = off;
	}
}

static void walk(const uint8_t *f, size_t len, struct view *w)
{
	size_t off = ETH_HEADER;
	unsigned type;

	memset(w, 0, sizeof(*w));
	if (len < ETH_HEADER) {
		w->what = W_CUT;
		return;
	}
	type = rd16(f + 12);
	for (int tags = 0; tags < MAX_TAGS && is_tpid(type); tags++) {
		if (len < off + TAG_LEN) {
			w->what = W_CUT;
			return;
		}
		type = rd16(f + off + 2);
		off += TAG_LEN;
	}
	if (is_tpid(type))
		return; /* a third tag: fail-open, nothing counted */
	w->l3 = off;
	switch (type) {
	case TYPE_ARP:
		if (len < off + ARP_BODY) {
			w->what = W_CUT;
			return;
		}
		if (!arp_hrd_ok(rd16(f + off)) || rd16(f + off + 2) != TYPE_IPV4 ||
		    f[off + 4] != 6 || f[off + 5] != 4) {
			w->what = W_BAD;
			return;
		}
		w->what = W_ARP;
		w->op = rd16(f + off + 6);
		return;
	case TYPE_IPV4:
		if (len < off + 1) {
			w->what = W_CUT;
			return;
		}
		if (f[off] >> 4 != 4 || (f[off] & 0x0f) < 5) {
			w->what = W_BAD;
			return;
		}
		if (len < off + IPV4_MIN) {
			w->what = W_CUT;
			return;
		}
		w->what = W_IPV4;
		w->tot_len = rd16(f + off + 2);
		w->tcp = f[off + 9] == NH_TCP && (rd16(f + off + 6) & 0x1fff) == 0;
		w->l4 = off + (size_t)(f[off] & 0x0f) * 4;
		return;
	case TYPE_IPV6:
		walk_ipv6(f, len, w);
		return;
	default:
		return;
	}
}

/*
 * Tunnels, from docs/datapath.md ("Tunnels"). A packet is a tunnel packet
 * for this host when its outer protocol (IPv4 protocol; IPv6: the first next
 * header, or the one after a fragment header) is 4 or 41 (type ipip), 47
 * (gre) or 17 (gue, when the UDP destination port is the configured one:
 * the 8-byte UDP header must be there, so a later fragment never is), its
 * type is enabled, and its outer destination is a local address. Anything
 * else is an ordinary packet. Then, in this order, each counted for the
 * type and passed: a fragment; an outer IPv4 header cut inside its options
 * (malformed); a source that is not a peer of the type while the type takes
 * only peers (peer_refused); a malformed or cut tunnel header (GRE: any flag
 * but checksum, a version, a protocol but 0x0800/0x86dd; GUE: version bits
 * 1x, a v1 first nibble but 4/6, a v0 proto but 4/41, options cut, the
 * private flag without an option word or with remote checksum offload, a UDP
 * length shorter than its headers plus the inner header) or inner header
 * (malformed); an inner destination that is not a VIP (not_vip). A GUE v0
 * control message passes uncounted. Else the frame loses the outer header
 * and the tunnel header, keeps its Ethernet header and tags with the inner
 * EtherType, the inner header gets CE when the outer is CE and the inner
 * ECT(0)/ECT(1) (an IPv4 checksum updated as RFC 1624 eqn. 3 does), and
 * counts decapsulated, and vip_rx for the inner VIP.
 */
#define PROTO_IPIP   4
#define PROTO_IPV6   41
#define PROTO_GRE    47
#define PROTO_UDP    17
#define PROTO_FRAG   44

static const struct oracle_taddr *taddr(const struct oracle_tunnels *t, int v6, const uint8_t *a)
{
	for (size_t i = 0; i < t->n && i < ORACLE_MAX_ADDRS; i++)
		if (t->addr[i].v6 == v6 && !memcmp(t->addr[i].a, a, v6 ? 16 : 4))
			return &t->addr[i];
	return NULL;
}

/* The outer header of a would-be tunnel packet. */
struct outer {
	int v6, type, frag, later, ce;
	unsigned proto;
	size_t l3, pay;
	const uint8_t *src, *dst;
};

static int outer_of(const uint8_t *f, size_t len, const struct view *w, struct outer *o)
{
	const uint8_t *h = f + w->l3;

	memset(o, 0, sizeof(*o));
	o->l3 = w->l3;
	o->v6 = w->what == W_IPV6;
	if (!o->v6) {
		unsigned fo = rd16(h + 6) & 0x3fff;

		o->proto = h[9];
		o->frag = fo != 0;
		o->later = (fo & 0x1fff) != 0;
		o->pay = w->l3 + (h[0] & 0x0f) * 4u;
		o->ce = (h[1] & 3) == 3;
		o->src = h + 12;
		o->dst = h + 16;
		return 1;
	}
	o->proto = h[6];
	o->pay = w->l3 + IPV6_HEADER;
	o->ce = ((h[1] >> 4) & 3) == 3;
	o->src = h + 8;
	o->dst = h + 24;
	if (o->proto == PROTO_FRAG) {
		if (len < o->pay + 8)
			return 0;
		o->proto = f[o->pay];
		o->frag = 1;
		o->later = (rd16(f + o->pay + 2) >> 3) != 0;
		o->pay += 8;
	}
	return 1;
}

static int tunnel_type(unsigned proto)
{
	if (proto == PROTO_IPIP || proto == PROTO_IPV6)
		return ORACLE_TUN_IPIP;
	if (proto == PROTO_GRE)
		return ORACLE_TUN_GRE;
	return proto == PROTO_UDP ? ORACLE_TUN_GUE : -1;
}

/* Is it a tunnel packet for this host? */
static int ours(const uint8_t *f, size_t len, const struct oracle_tunnels *t, struct outer *o)
{
	const struct oracle_taddr *d;

	o->type = tunnel_type(o->proto);
	if (o->type < 0 || !t->enabled[o->type])
		return 0;
	if (o->type == ORACLE_TUN_GUE &&
	    (o->later || len < o->pay + 8 || rd16(f + o->pay + 2) != t->gue_port))
		return 0;
	d = taddr(t, o->v6, o->dst);
	return d && d->local;
}

enum { TH_OK, TH_BAD, TH_CONTROL };

/* The tunnel header at o->pay: *inner (4 or 6) and *off (the inner header). */
static int tunnel_header(const uint8_t *f, size_t len, const struct outer *o, int *inner,
			 size_t *off)
{
	size_t g = o->pay;
	unsigned flags, p, hl;

	if (o->type == ORACLE_TUN_IPIP) {
		*inner = o->proto == PROTO_IPIP ? 4 : 6;
		*off = o->pay;
		return TH_OK;
	}
	if (o->type == ORACLE_TUN_GRE) {
		if (len < g + 4)
			return TH_BAD;
		flags = rd16(f + g);
		p = rd16(f + g + 2);
		if ((flags & 0x7fff) || (p != TYPE_IPV4 && p != TYPE_IPV6))
			return TH_BAD;
		*inner = p == TYPE_IPV4 ? 4 : 6;
		*off = g + (flags & 0x8000 ? 8 : 4);
		return TH_OK;
	}
	g += 8; /* GUE, after UDP */
	if (len < g + 1)
		return TH_BAD;
	if (f[g] >> 6 == 1) {
		*inner = f[g] >> 4;
		*off = g;
		return *inner == 4 || *inner == 6 ? TH_OK : TH_BAD;
	}
	if (f[g] >> 6)
		return TH_BAD;
	if (f[g] & 0x20)
		return TH_CONTROL;
	if (len < g + 4)
		return TH_BAD;
	p = f[g + 1];
	hl = (f[g] & 0x1f) * 4u;
	if ((p != PROTO_IPIP && p != PROTO_IPV6) || len < g + 4 + hl)
		return TH_BAD;
	if ((rd16(f + g + 2) & 1) && (hl == 0 || (f[g + 4] & 0x80)))
		return TH_BAD;
	*inner = p == PROTO_IPIP ? 4 : 6;
	*off = g + 4 + hl;
	return TH_OK;
}

/* RFC 1624 eqn. 3 on the 16-bit word at w of an IPv4 header h changed to nw. */
static void csum_update(uint8_t *h, unsigned old, unsigned nw)
{
	uint32_t sum = (~rd16(h + 10) & 0xffff) + (~old & 0xffff) + nw;

	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	h[10] = (uint8_t)(sum >> 8);
	h[11] = (uint8_t)sum;
}

static void decapsulate(const uint8_t *f, size_t len, const struct outer *o, int inner,
			size_t off, struct oracle_result *r)
{
	uint8_t *h;
	unsigned ecn;

	memcpy(r->out, f, o->l3);
	memcpy(r->out + o->l3, f + off, len - off);
	r->out_len = o->l3 + len - off;
	r->out[o->l3 - 2] = inner == 4 ? 0x08 : 0x86;
	r->out[o->l3 - 1] = inner == 4 ? 0x00 : 0xdd;
	h = r->out + o->l3;
	ecn = inner == 4 ? h[1] & 3 : (h[1] >> 4) & 3;
	if (!o->ce || (ecn != 1 && ecn != 2))
		return;
	if (inner == 6) {
		h[1] |= 0x30;
		return;
	}
	csum_update(h, rd16(h), rd16(h) | 3);
	h[1] |= 3;
}

/* 1 when the tunnel rules decided (r filled), 0 for an ordinary packet. */
static int tunnel_ingress(const uint8_t *f, size_t len, const struct view *w,
			  const struct oracle_vips *v, const struct oracle_tunnels *t,
			  struct oracle_result *r)
{
	const struct oracle_taddr *peer;
	struct outer o;
	size_t off, ih;
	int inner, i, th;
	uint64_t *c;

	if (!t || !outer_of(f, len, w, &o) || !ours(f, len, t, &o))
		return 0;
	c = r->tun[o.type];
	if (o.frag) {
		c[ORACLE_T_FRAGMENT] = 1;
		r->rule = "tunnel: outer fragment: pass, fragment";
		return 1;
	}
	peer = taddr(t, o.v6, o.src);
	if (len < o.pay) {
		c[ORACLE_T_MALFORMED] = 1;
		r->rule = "tunnel: outer IPv4 options cut: pass, malformed";
		return 1;
	}
	if (t->peers_only[o.type] && !(peer && peer->peer[o.type])) {
		c[ORACLE_T_PEER_REFUSED] = 1;
		r->rule = "tunnel: source not a peer: pass, peer_refused";
		return 1;
	}
	th = tunnel_header(f, len, &o, &inner, &off);
	if (th == TH_CONTROL) {
		r->rule = "tunnel: GUE control message: pass";
		return 1;
	}
	ih = inner == 4 ? IPV4_MIN : IPV6_HEADER;
	if (th == TH_BAD || len < off + ih || f[off] >> 4 != (unsigned)inner ||
	    (inner == 4 && (f[off] & 0x0f) < 5) ||
	    (o.type == ORACLE_TUN_GUE && rd16(f + o.pay + 4) < off - o.pay + ih)) {
		c[ORACLE_T_MALFORMED] = 1;
		r->rule = "tunnel: malformed or cut tunnel or inner header: pass, malformed";
		return 1;
	}
	i = inner == 4 ? find4(v, f + off + IPV4_DST) : find6(v, f + off + IPV6_DST);
	if (i < 0) {
		c[ORACLE_T_NOT_VIP] = 1;
		r->rule = "tunnel: inner destination not a VIP: pass, not_vip";
		return 1;
	}
	decapsulate(f, len, &o, inner, off, r);
	c[ORACLE_T_DECAPSULATED] = 1;
	r->reason[ORACLE_VIP_RX] = 1;
	if (inner == 4) {
		r->vip4[i].packets = 1;
		r->vip4[i].bytes = rd16(f + off + 2);
	} else {
		r->vip6[i].packets = 1;
		r->vip6[i].bytes = rd16(f + off + 4) + (uint64_t)IPV6_HEADER;
	}
	r->rule = inner == 4 ? "tunnel: decapsulated, inner IPv4 to a VIP: vip_rx"
			     : "tunnel: decapsulated, inner IPv6 to a VIP: vip_rx";
	return 1;
}
static const char start_rule[] = "anything else: pass";

static void start(const uint8_t *f, size_t len, struct oracle_result *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->out, f, len);
	r->out_len = len;
	r->verdict = ORACLE_PASS;
	r->rule = start_rule;
}

static int args_ok(const uint8_t *f, size_t len, const struct oracle_vips *v,
		   const struct oracle_result *r)
{
	return (f || !len) && v && r && len <= ORACLE_FRAME_MAX;
}

/* Observe mode: the drop the table decided becomes a pass, counted under
 * its observe reason, and charges no VIP. */
static void observe_drop(struct oracle_result *r, int from, int to)
{
	if (!r->reason[from])
		return;
	r->reason[from] = 0;
	r->reason[to] = 1;
	r->verdict = ORACLE_PASS;
	memset(r->vip4, 0, sizeof(r->vip4));
	memset(r->vip6, 0, sizeof(r->vip6));
	r->rule = "observe mode: pass, counted as the would-be drop";
}

static int judge_ingress(const uint8_t *f, size_t len, const struct oracle_vips *v,
			 const struct oracle_tunnels *t, struct oracle_result *r)
{
	struct view w;
	int i;

	walk(f, len, &w);
	switch (w.what) {
	case W_OTHER:
		if (w.l3 == 0)
			r->rule = "three VLAN tags: pass (fail-open)";
		return 0;
	case W_CUT:
		r->reason[ORACLE_MALFORMED] = 1;
		r->rule = "truncated frame: pass, malformed";
		return 0;
	case W_BAD:
		r->reason[ORACLE_MALFORMED] = 1;
		r->rule = "malformed header: pass, malformed";
		return 0;
	case W_ARP:
		i = find4(v, f + w.l3 + ARP_TPA);
		if (w.op == ARP_REQUEST && i >= 0 && v->released4[i]) {
			r->rule = "ARP request for a released VIP: pass";
		} else if (w.op == ARP_REQUEST && i >= 0) {
			r->verdict = ORACLE_DROP;
			r->reason[ORACLE_ARP_IN_DROPPED] = 1;
			r->vip4[i].arp_dropped = 1;
			r->rule = "ARP request whose target is a VIP: drop";
		} else {
			r->rule = "other ARP: pass";
		}
		return 0;
	case W_IPV4:
		if (tunnel_ingress(f, len, &w, v, t, r))
			return 0;
		i = find4(v, f + w.l3 + IPV4_DST);
		if (i >= 0) {
			r->reason[ORACLE_VIP_RX] = 1;
			r->vip4[i].packets = 1;
			r->vip4[i].bytes = w.tot_len;
			r->rule = "IPv4 to a VIP: pass, vip_rx";
		} else {
			r->rule = "IPv4 to a non-VIP: pass";
		}
		return 0;
	case W_IPV6:
		if (tunnel_ingress(f, len, &w, v, t, r))
			return 0;
		if (w.icmp6) {
			if (len < w.l4 + 1) {
				r->reason[ORACLE_MALFORMED] = 1;
				r->rule = "ICMPv6 without its type: pass, malformed";
				return 0;
			}
			if (f[w.l4] == ICMP6_NS) {
				if (len < w.l4 + ND_FIXED) {
					r->reason[ORACLE_MALFORMED] = 1;
					r->rule = "NS cut inside its fixed part: pass, malformed";
					return 0;
				}
				i = find6(v, f + w.l4 + ND_TARGET);
				if (i >= 0 && !v->released6[i]) {
					r->verdict = ORACLE_DROP;
					r->reason[ORACLE_ND_IN_DROPPED] = 1;
					r->vip6[i].nd_dropped = 1;
					r->rule = "NS whose target is a VIP: drop";
					return 0;
				}
			}
		}
		i = find6(v, f + w.l3 + IPV6_DST);
		if (i >= 0) {
			r->reason[ORACLE_VIP_RX] = 1;
			r->vip6[i].packets = 1;
			r->vip6[i].bytes = (uint64_t)w.payload_len + IPV6_HEADER;
			r->rule = "IPv6 to a VIP: pass, vip_rx";
		} else {
			r->rule = "IPv6 to a non-VIP: pass";
		}
		return 0;
	}
	return 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t mask_of(unsigned plen)
{
	return plen == 0 ? 0 : plen >= 32 ? 0xffffffffu : ~((1u << (32 - plen)) - 1);
}

/* The source the rewrite uses: among the interface's first LVIP_IFADDR_MAX
 * addresses, the first primary one whose subnet holds the target, else the
 * first primary one; NULL when there is none. */
static const uint8_t *rewrite_source(const struct oracle_iface *ifc, const uint8_t *target)
{
	const uint8_t *first = NULL;
	uint32_t t = be32(target);

	for (size_t i = 0; ifc && i < ifc->n && i < LVIP_IFADDR_MAX; i++) {
		const struct oracle_addr4 *a = &ifc->a[i];
		uint32_t m = mask_of(a->prefix_len);

		if (a->secondary)
			continue;
		if (!first)
			first = a->addr;
		if ((be32(a->addr) & m) == (t & m))
			return a->addr;
	}
	return first;
}

int oracle_ingress(const uint8_t *f, size_t len, const struct oracle_vips *v,
		   const struct oracle_tunnels *t, int observe, struct oracle_result *r)
{
	if (!args_ok(f, len, v, r))
		return -1;
	start(f, len, r);
	judge_ingress(f, len, v, t, r);
	if (observe) {
		observe_drop(r, ORACLE_ARP_IN_DROPPED, ORACLE_OBSERVE_ARP_IN);
		observe_drop(r, ORACLE_ND_IN_DROPPED, ORACLE_OBSERVE_ND_IN);
	}
	return 0;
}

/* ---- the MSS clamp ---- */

static const unsigned tun_overhead[ORACLE_TUN_TYPES] = { 40, 52, 48 }; /* ipip gue gre */

/* The limit for an IP header of iph bytes; 0x10000 (none) when no clamp applies. */
static unsigned clamp_limit(const struct oracle_clamp *cl, const struct oracle_iface *ifc,
			    unsigned iph)
{
	unsigned limit = 0x10000, v;

	for (int t = 0; t < ORACLE_TUN_TYPES; t++) {
		if (!cl->enabled[t] || cl->mss[t] == ORACLE_MSS_OFF)
			continue;
		v = cl->mss[t];
		if (v == ORACLE_MSS_AUTO) {
			if (!ifc || !ifc->mtu)
				continue;
			v = (int)ifc->mtu - (int)(iph + TCP_FIXED + tun_overhead[t]) > TCP_MIN_MSS ?
			    ifc->mtu - iph - TCP_FIXED - tun_overhead[t] : TCP_MIN_MSS;
		}
		if (v < limit)
			limit = v;
	}
	return limit;
}

/* The offset of the first MSS option's value in f[opt, end), or 0. */
static size_t find_mss(const uint8_t *f, size_t opt, size_t end)
{
	while (opt < end) {
		unsigned kind = f[opt], olen;

		if (kind == 0)
			return 0;
		if (kind == 1) {
			opt++;
			continue;
		}
		if (opt + 1 >= end)
			return 0;
		olen = f[opt + 1];
		if (kind == 2)
			return olen == 4 && opt + 4 <= end ? opt + 2 : 0;
		if (olen < 2)
			return 0;
		opt += olen;
	}
	return 0;
}

/* One's complement sum of 16-bit words, folded; never 0 for nonzero input. */
static unsigned ones_add(unsigned a, unsigned b)
{
	unsigned s = a + b;

	return (s & 0xffff) + (s >> 16);
}

/* RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m'), the 16-bit word m holding the
 * changed bytes; a value at an odd offset of the segment straddles two
 * words, which sums the same as its bytes swapped. */
static void clamp_write(struct oracle_result *r, size_t l4, size_t at, unsigned mss)
{
	unsigned old = rd16(r->out + at), hc = rd16(r->out + l4 + 16), sum;

	if ((at - l4) & 1) {
		old = (old >> 8 | old << 8) & 0xffff;
		mss = (mss >> 8 | mss << 8) & 0xffff;
	}
	sum = ones_add(ones_add(~hc & 0xffff, ~old & 0xffff), mss);
	if (sum == 0)
		sum = 0xffff;
	hc = ~sum & 0xffff;
	if ((at - l4) & 1)
		mss = (mss >> 8 | mss << 8) & 0xffff;
	r->out[at] = (uint8_t)(mss >> 8);
	r->out[at + 1] = (uint8_t)mss;
	r->out[l4 + 16] = (uint8_t)(hc >> 8);
	r->out[l4 + 17] = (uint8_t)hc;
}

static void judge_clamp(const uint8_t *f, size_t len, const struct view *w,
			const struct oracle_vips *v, const struct oracle_iface *ifc,
			const struct oracle_clamp *cl, struct oracle_result *r)
{
	int v6 = w->what == W_IPV6, i;
	size_t hl, at;
	unsigned limit, mss;

	if (!cl || !w->tcp || len < w->l4 + TCP_FIXED || !(f[w->l4 + 13] & TCP_SYN))
		return;
	i = v6 ? find6(v, f + w->l3 + IPV6_SRC) : find4(v, f + w->l3 + IPV4_SRC);
	hl = (size_t)(f[w->l4 + 12] >> 4) * 4;
	if (i < 0 || hl <= TCP_FIXED || len < w->l4 + hl)
		return;
	at = find_mss(f, w->l4 + TCP_FIXED, w->l4 + hl);
	if (!at)
		return;
	mss = rd16(f + at);
	limit = clamp_limit(cl, ifc, v6 ? IPV6_HEADER : IPV4_MIN);
	if (mss <= limit)
		return;
	clamp_write(r, w->l4, at, limit);
	r->rule = v6 ? "IPv6 SYN from a VIP: MSS lowered" : "IPv4 SYN from a VIP: MSS lowered";
}

static int judge_egress(const uint8_t *f, size_t len, const struct oracle_vips *v,
			const struct oracle_iface *ifc, int observe, const struct oracle_clamp *cl,
			struct oracle_result *r)
{
	const uint8_t *sip, *tip, *src;
	struct view w;
	int i;

	walk(f, len, &w);
	if (w.what == W_IPV4 || w.what == W_IPV6)
		judge_clamp(f, len, &w, v, ifc, cl, r);
	if (r->rule != start_rule)
		return 0;
	switch (w.what) {
	case W_OTHER:
		if (w.l3 == 0)
			r->rule = "three VLAN tags: pass (fail-open)";
		return 0;
	case W_CUT:
	case W_BAD:
		r->rule = "truncated or malformed: pass (egress never counts)";
		return 0;
	case W_IPV4:
		r->rule = "IPv4, not a SYN from a VIP to clamp: pass";
		return 0;
	case W_ARP:
		sip = f + w.l3 + ARP_SPA;
		tip = f + w.l3 + ARP_TPA;
		i = find4(v, sip);
		if (i < 0 || (w.op != ARP_REQUEST && w.op != ARP_REPLY)) {
			r->rule = "ARP not from a VIP, or neither request nor reply: pass";
			return 0;
		}
		if (v->released4[i]) {
			r->rule = "ARP from a released VIP: pass untouched";
			return 0;
		}
		if (w.op == ARP_REPLY || !memcmp(sip, tip, 4)) {
			r->verdict = ORACLE_DROP;
			r->reason[ORACLE_ARP_OUT_DROPPED] = 1;
			r->vip4[i].arp_dropped = 1;
			r->rule = w.op == ARP_REPLY ? "ARP reply from a VIP: drop"
						    : "gratuitous ARP request announcing a VIP: drop";
			return 0;
		}
		if (observe) {
			r->reason[ORACLE_OBSERVE_REWRITE] = 1;
			r->rule = "observe mode: ARP request tell VIP passes untouched, observe_rewrite";
			return 0;
		}
		src = rewrite_source(ifc, tip);
		if (!src) {
			r->verdict = ORACLE_DROP;
			r->reason[ORACLE_ARP_OUT_DROPPED] = 1;
			r->vip4[i].arp_dropped = 1;
			r->rule = "ARP request tell VIP, interface without IPv4: drop";
			return 0;
		}
		memcpy(r->out + w.l3 + ARP_SPA, src, 4);
		r->reason[ORACLE_ARP_OUT_REWRITTEN] = 1;
		r->rule = "ARP request tell VIP: sender rewritten";
		return 0;
	case W_IPV6:
		if (w.icmp6 && len >= w.l4 + ND_FIXED && f[w.l4] == ICMP6_NA) {
			i = find6(v, f + w.l4 + ND_TARGET);
			if (i >= 0 && !v->released6[i]) {
				r->verdict = ORACLE_DROP;
				r->reason[ORACLE_ND_OUT_DROPPED] = 1;
				r->vip6[i].nd_dropped = 1;
				r->rule = "NA whose target is a VIP: drop";
				return 0;
			}
		}
		r->rule = "IPv6, not an NA for a VIP: pass";
		return 0;
	}
	return 0;
}

int oracle_egress(const uint8_t *f, size_t len, const struct oracle_vips *v,
		  const struct oracle_iface *ifc, int observe, struct oracle_result *r)
{
	return oracle_egress_clamp(f, len, v, ifc, observe, NULL, r);
}

int oracle_egress_clamp(const uint8_t *f, size_t len, const struct oracle_vips *v,
			const struct oracle_iface *ifc, int observe, const struct oracle_clamp *cl,
			struct oracle_result *r)
{
	if (!args_ok(f, len, v, r))
		return -1;
	start(f, len, r);
	judge_egress(f, len, v, ifc, observe, cl, r);
	if (observe) {
		observe_drop(r, ORACLE_ARP_OUT_DROPPED, ORACLE_OBSERVE_ARP_OUT);
		observe_drop(r, ORACLE_ND_OUT_DROPPED, ORACLE_OBSERVE_ND_OUT);
	}
	return 0;
}

int oracle_tunnels_add(struct oracle_tunnels *t, const char *addr, int local, int ipip, int gue,
		       int gre)
{
	struct oracle_taddr *a;

	if (t->n >= ORACLE_MAX_ADDRS)
		return -1;
	a = &t->addr[t->n];
	memset(a, 0, sizeof(*a));
	a->v6 = strchr(addr, ':') != NULL;
	if (inet_pton(a->v6 ? AF_INET6 : AF_INET, addr, a->a) != 1)
		return -1;
	a->local = local;
	a->peer[ORACLE_TUN_IPIP] = ipip;
	a->peer[ORACLE_TUN_GUE] = gue;
	a->peer[ORACLE_TUN_GRE] = gre;
	t->n++;
	return 0;
}
