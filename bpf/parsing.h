/* SPDX-License-Identifier: GPL-2.0 */
/*
 * parsing.h - bounds-checked header parsing shared by XDP and TC.
 *
 * A cursor walks the frame; every parse_* function checks the bounds of
 * exactly the header it reads. parse_eth, parse_arp and parse_ipv6 advance
 * the cursor past what they parsed; parse_ipv4 and parse_nd leave it on
 * their header (nothing after it is read). Results:
 * PARSE_OK, PARSE_TRUNC (the header does not fit in the frame) or
 * PARSE_BAD (it fits but is not what it claims to be).
 */
#ifndef LVIP_PARSING_H
#define LVIP_PARSING_H

#include "consts.h"

struct cursor {
	void *pos;
	void *end;
	void *start;
};

enum parse_res {
	PARSE_OK = 0,
	PARSE_TRUNC,
	PARSE_BAD,
};

/* ARP for IPv4 over Ethernet (RFC 826), the only kind lvip judges. The
 * hardware type may be Ethernet (1) or IEEE 802 (6): Linux's ARP takes both
 * on an Ethernet device, so both must be judged. */
struct arp_eth {
	__be16 hrd;
	__be16 pro;
	__u8 hln;
	__u8 pln;
	__be16 op;
	__u8 sha[ETH_ALEN];
	__u8 sip[4];
	__u8 tha[ETH_ALEN];
	__u8 tip[4];
} __attribute__((packed));
_Static_assert(sizeof(struct arp_eth) == 28, "ARP over Ethernet is 28 bytes");

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

/* NS and NA share this layout: ICMPv6 header, 4 bytes, target. */
struct nd_msg_hdr {
	__u8 type;
	__u8 code;
	__be16 csum;
	__be32 reserved;
	__u8 target[16];
};

#define CURSOR_FITS(c, len) ((c)->pos + (len) <= (c)->end)

static __always_inline __u32 cursor_offset(const struct cursor *c)
{
	return c->pos - c->start;
}

static __always_inline int proto_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/* Ethernet and up to LVIP_VLAN_MAX VLAN tags; *proto gets the inner
 * EtherType (network order). A third tag is left unparsed: fail open. */
static __always_inline int parse_eth(struct cursor *c, __be16 *proto)
{
	struct ethhdr *eth = c->pos;
	struct vlan_tag *vlan;

	if (!CURSOR_FITS(c, sizeof(*eth)))
		return PARSE_TRUNC;
	c->pos += sizeof(*eth);
	*proto = eth->h_proto;

#pragma unroll
	for (int i = 0; i < LVIP_VLAN_MAX; i++) {
		if (!proto_is_vlan(*proto))
			break;
		vlan = c->pos;
		if (!CURSOR_FITS(c, sizeof(*vlan)))
			return PARSE_TRUNC;
		c->pos += sizeof(*vlan);
		*proto = vlan->proto;
	}
	return PARSE_OK;
}

static __always_inline int arp_hrd_ok(__be16 hrd)
{
	return hrd == bpf_htons(ARPHRD_ETHER) || hrd == bpf_htons(ARPHRD_IEEE802);
}

static __always_inline int parse_arp(struct cursor *c, struct arp_eth **arp)
{
	struct arp_eth *a = c->pos;

	if (!CURSOR_FITS(c, sizeof(*a)))
		return PARSE_TRUNC;
	if (!arp_hrd_ok(a->hrd) || a->pro != bpf_htons(ETH_P_IP) ||
	    a->hln != ETH_ALEN || a->pln != 4)
		return PARSE_BAD;
	c->pos += sizeof(*a);
	*arp = a;
	return PARSE_OK;
}

static __always_inline int parse_ipv4(struct cursor *c, struct iphdr **iph)
{
	struct iphdr *ip = c->pos;

	if (!CURSOR_FITS(c, sizeof(*ip)))
		return PARSE_TRUNC;
	if (ip->version != 4 || ip->ihl < 5)
		return PARSE_BAD;
	*iph = ip;
	return PARSE_OK;
}

static __always_inline int ipv6_is_ext_hdr(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	       nexthdr == IPPROTO_DSTOPTS;
}

/* IPv6 header and up to LVIP_IPV6_EXT_MAX hop-by-hop/routing/destination
 * option headers; *nexthdr is the first header not skipped. */
static __always_inline int parse_ipv6(struct cursor *c, struct ipv6hdr **ip6h, __u8 *nexthdr)
{
	struct ipv6hdr *ip6 = c->pos;
	struct ipv6_opt_hdr *opt;

	if (!CURSOR_FITS(c, sizeof(*ip6)))
		return PARSE_TRUNC;
	if (ip6->version != 6)
		return PARSE_BAD;
	c->pos += sizeof(*ip6);
	*ip6h = ip6;
	*nexthdr = ip6->nexthdr;

#pragma unroll
	for (int i = 0; i < LVIP_IPV6_EXT_MAX; i++) {
		if (!ipv6_is_ext_hdr(*nexthdr))
			break;
		opt = c->pos;
		if (!CURSOR_FITS(c, sizeof(*opt)))
			return PARSE_TRUNC;
		*nexthdr = opt->nexthdr;
		c->pos += (opt->hdrlen + 1) * 8;
	}
	return PARSE_OK;
}

/* An ICMPv6 NS or NA (by type); anything else is PARSE_BAD for the caller
 * to ignore. Only the fixed part is required: options are not read. */
static __always_inline int parse_nd(struct cursor *c, __u8 type, struct nd_msg_hdr **nd)
{
	struct nd_msg_hdr *m = c->pos;

	if (!CURSOR_FITS(c, 1))
		return PARSE_TRUNC;
	if (m->type != type)
		return PARSE_BAD;
	if (!CURSOR_FITS(c, sizeof(*m)))
		return PARSE_TRUNC;
	*nd = m;
	return PARSE_OK;
}

#endif /* LVIP_PARSING_H */
