/* SPDX-License-Identifier: GPL-2.0 */
/*
 * verdict.h - the datapath decisions of docs/datapath.md, written once for
 * both hooks. lvip_ingress() and lvip_egress() parse a frame through a
 * cursor and return what to do with it; the XDP and TC programs only
 * translate the answer into their return codes (and TC performs the ARP
 * rewrite, and the pull of an ARP header that is not in the skb's linear
 * data).
 */
#ifndef LVIP_VERDICT_H
#define LVIP_VERDICT_H

#include "parsing.h"
#include "maps.h"
#include "monitor.h"
#include "mss.h"

enum lvip_action {
	LVIP_PASS = 0,
	LVIP_DROP,
	LVIP_REWRITE, /* egress: ARP request "tell VIP", sender IP to replace */
	LVIP_PULL,    /* egress: the ARP body is beyond the linear data; pull
		       * pull_len bytes into it and judge again */
	LVIP_DECAP,   /* ingress: strip the tunnel headers (struct lvip_decap) */
	LVIP_TUNNEL,  /* within lvip_ingress: a tunnel packet for this host */
	LVIP_MSS,     /* egress: a SYN from a VIP whose MSS to lower (rw->mss) */
};

struct lvip_rewrite {
	__u32 sip_off;             /* offset of the ARP sender IP in the frame */
	__be32 target;             /* the ARP target IP, to pick the subnet */
	struct lvip_vip_val *vip;  /* the VIP being hidden, for its counters */
	__u32 pull_len;            /* LVIP_PULL: bytes wanted in the linear data */
	__be32 vip_addr;           /* the VIP (the sender IP before the rewrite) */
	struct mss_edit mss;       /* LVIP_MSS: the clamp to write */
};

static __always_inline __u64 *if_counters(__u32 ifindex)
{
	__u32 idx = ifindex & (LVIP_IFSLOTS - 1);
	struct lvip_ifslot *slot;

	slot = bpf_map_lookup_elem(&lvip_ifslot, &idx);
	if (slot && slot->owner == ifindex)
		return (__u64 *)&slot->c;
	return bpf_map_lookup_elem(&lvip_ifstats, &ifindex);
}

static __always_inline void count_reason(__u32 ifindex, enum lvip_reason r)
{
	__u32 zero = 0;
	__u64 *slots;

	slots = bpf_map_lookup_elem(&lvip_stats, &zero);
	if (slots)
		slots[r]++;
	slots = if_counters(ifindex);
	if (slots)
		slots[r]++;
}

/* An IPv4 address in a packed header (ARP), as one word. */
static __always_inline __be32 ip4_at(const void *p)
{
	__be32 a;

	__builtin_memcpy(&a, p, sizeof(a));
	return a;
}

/* By value: an IP header's address is then one load, not four bytes. */
static __always_inline struct lvip_vip_val *vip4_find(__be32 addr)
{
	struct lvip_vip4 key;

	__builtin_memcpy(key.addr, &addr, sizeof(key.addr));
	return bpf_map_lookup_elem(&lvip_vip4, &key);
}

static __always_inline struct lvip_vip_val *vip6_find(const void *addr)
{
	struct lvip_vip6 key;

	__builtin_memcpy(key.addr, addr, sizeof(key.addr));
	return bpf_map_lookup_elem(&lvip_vip6, &key);
}

/* A VIP this node answers for (a director holding it): nothing to hide. */
static __always_inline int vip_released(const struct lvip_vip_val *vip)
{
	return vip->flags & LVIP_VIP_F_RELEASED;
}

static __always_inline int vip_accept(struct lvip_vip_val *vip, __u32 ifindex, __u64 bytes)
{
	vip->packets++;
	vip->bytes += bytes;
	count_reason(ifindex, LVIP_R_VIP_RX);
	return LVIP_PASS;
}

/* Is the interface in observe mode (lvip_ifmode)? Then what would be
 * dropped or rewritten passes unchanged, counted under an observe reason.
 * The inlined lvip_observing lookup spares enforcing hosts the hash's. */
static __always_inline int observing(__u32 ifindex)
{
	__u32 zero = 0, *any = bpf_map_lookup_elem(&lvip_observing, &zero), *mode;

	if (!any || !*any)
		return 0;
	mode = bpf_map_lookup_elem(&lvip_ifmode, &ifindex);
	return mode && *mode == LVIP_MODE_OBSERVE;
}

static __always_inline enum lvip_reason observe_reason(enum lvip_reason r)
{
	if (r == LVIP_R_ARP_IN_DROPPED)
		return LVIP_R_OBSERVE_ARP_IN;
	if (r == LVIP_R_ARP_OUT_DROPPED)
		return LVIP_R_OBSERVE_ARP_OUT;
	if (r == LVIP_R_ND_IN_DROPPED)
		return LVIP_R_OBSERVE_ND_IN;
	return LVIP_R_OBSERVE_ND_OUT;
}

static __always_inline enum lvip_reason acted_reason(__u32 ifindex, enum lvip_reason r)
{
	if (r != LVIP_R_ARP_IN_DROPPED && r != LVIP_R_ARP_OUT_DROPPED &&
	    r != LVIP_R_ND_IN_DROPPED && r != LVIP_R_ND_OUT_DROPPED)
		return r;
	return observing(ifindex) ? observe_reason(r) : r;
}

/* A drop, or in observe mode its would-be count; one count either way. */
static __always_inline int drop(__u64 *vip_dropped, __u32 ifindex, enum lvip_reason r)
{
	int observe = observing(ifindex);

	if (!observe)
		(*vip_dropped)++;
	count_reason(ifindex, observe ? observe_reason(r) : r);
	return observe ? LVIP_PASS : LVIP_DROP;
}

static __always_inline int arp_drop(struct lvip_vip_val *vip, __u32 ifindex, enum lvip_reason r)
{
	return drop(&vip->arp_dropped, ifindex, r);
}

static __always_inline int nd_drop(struct lvip_vip_val *vip, __u32 ifindex, enum lvip_reason r)
{
	return drop(&vip->nd_dropped, ifindex, r);
}

static __always_inline int malformed(__u32 ifindex)
{
	count_reason(ifindex, LVIP_R_MALFORMED);
	return LVIP_PASS;
}

#include "decap.h"

/* ---- ingress (XDP) ---- */

static __always_inline int ingress_arp(struct cursor *c, __u32 ifindex)
{
	struct lvip_vip_val *vip;
	struct arp_eth *arp;

	if (parse_arp(c, &arp) != PARSE_OK)
		return malformed(ifindex);
	/* Requests, probes and gratuitous requests for a VIP: the kernel
	 * would answer them. Replies (a director announcing) pass. */
	if (arp->op != bpf_htons(ARPOP_REQUEST))
		return LVIP_PASS;
	vip = vip4_find(ip4_at(arp->tip));
	if (!vip || vip_released(vip))
		return LVIP_PASS;
	mon_arp(c, arp, arp->tip, ifindex, LVIP_R_ARP_IN_DROPPED);
	return arp_drop(vip, ifindex, LVIP_R_ARP_IN_DROPPED);
}

static __always_inline int ingress_ipv4(struct cursor *c, __u32 ifindex, struct tun_outer *t)
{
	struct lvip_vip_val *vip;
	struct iphdr *ip;

	if (parse_ipv4(c, &ip) != PARSE_OK)
		return malformed(ifindex);
	if (tun_proto(ip->protocol) && tun_claim4(c, ip, t))
		return LVIP_TUNNEL;
	vip = vip4_find(ip->daddr);
	if (!vip)
		return LVIP_PASS;
	return vip_accept(vip, ifindex, bpf_ntohs(ip->tot_len));
}

static __always_inline int ingress_ipv6(struct cursor *c, __u32 ifindex, struct tun_outer *t)
{
	struct lvip_vip_val *vip;
	struct nd_msg_hdr *ns;
	struct ipv6hdr *ip6;
	__u8 nexthdr;
	int res;

	if (parse_ipv6(c, &ip6, &nexthdr) != PARSE_OK)
		return malformed(ifindex);
	if ((tun_proto(ip6->nexthdr) || ip6->nexthdr == IPPROTO_FRAG_) && tun_claim6(c, ip6, t))
		return LVIP_TUNNEL;
	if (nexthdr == IPPROTO_ICMPV6) {
		res = parse_nd(c, NDISC_NEIGHBOUR_SOLICITATION, &ns);
		if (res == PARSE_TRUNC)
			return malformed(ifindex);
		if (res == PARSE_OK) {
			vip = vip6_find(ns->target);
			if (vip && !vip_released(vip)) {
				mon_nd(c, ip6, ns->target, ifindex, LVIP_R_ND_IN_DROPPED);
				return nd_drop(vip, ifindex, LVIP_R_ND_IN_DROPPED);
			}
		}
	}
	vip = vip6_find(&ip6->daddr);
	if (!vip)
		return LVIP_PASS;
	return vip_accept(vip, ifindex, bpf_ntohs(ip6->payload_len) + sizeof(*ip6));
}

/* LVIP_DECAP (d filled: the caller decapsulates), LVIP_DROP or LVIP_PASS.
 * The tunnel judgement has one call site, for both outer families. */
static __always_inline int lvip_ingress(struct cursor *c, __u32 ifindex, struct lvip_decap *d)
{
	struct tun_outer t;
	__be16 proto;
	int act;

	if (parse_eth(c, &proto) != PARSE_OK)
		return malformed(ifindex);
	if (proto == bpf_htons(ETH_P_ARP))
		return ingress_arp(c, ifindex);
	if (proto == bpf_htons(ETH_P_IP))
		act = ingress_ipv4(c, ifindex, &t);
	else if (proto == bpf_htons(ETH_P_IPV6))
		act = ingress_ipv6(c, ifindex, &t);
	else
		return LVIP_PASS;
	return act == LVIP_TUNNEL ? tun_judge(c, &t, d) : act;
}

/* ---- egress (TC) ---- */

/*
 * An ARP header cut short by the end of the linear data, in a frame whose
 * length (skb->len, read only here) says it goes on: skbs built by
 * AF_PACKET's TX ring carry little more than the Ethernet header in the
 * linear part. Ask for the header to be pulled in; nothing is counted yet.
 */
static __always_inline int arp_pull(const struct cursor *c, const struct __sk_buff *skb,
				    struct lvip_rewrite *rw)
{
	__u32 need = cursor_offset(c) + sizeof(struct arp_eth);
	__u32 frame_len = skb->len;

	if (frame_len <= (__u32)(c->end - c->start))
		return LVIP_PASS;
	rw->pull_len = need < frame_len ? need : frame_len;
	return LVIP_PULL;
}

static __always_inline int egress_arp(struct cursor *c, const struct __sk_buff *skb,
				      __u32 ifindex, struct lvip_rewrite *rw)
{
	struct lvip_vip_val *vip;
	struct arp_eth *arp;
	int res;

	res = parse_arp(c, &arp);
	if (res == PARSE_TRUNC)
		return arp_pull(c, skb, rw);
	if (res != PARSE_OK)
		return LVIP_PASS;
	vip = vip4_find(ip4_at(arp->sip));
	if (!vip || vip_released(vip))
		return LVIP_PASS;
	if (arp->op != bpf_htons(ARPOP_REPLY) && arp->op != bpf_htons(ARPOP_REQUEST))
		return LVIP_PASS;
	if (arp->op == bpf_htons(ARPOP_REPLY) ||
	    !__builtin_memcmp(arp->sip, arp->tip, sizeof(arp->sip))) {
		mon_arp(c, arp, arp->sip, ifindex, LVIP_R_ARP_OUT_DROPPED);
		return arp_drop(vip, ifindex, LVIP_R_ARP_OUT_DROPPED);
	}
	/* "who-has X tell VIP" (X may even be another VIP): ask with the
	 * interface's own address instead, so no neighbour learns the VIP. */
	if (observing(ifindex)) {
		mon_arp(c, arp, arp->sip, ifindex, LVIP_R_OBSERVE_REWRITE);
		count_reason(ifindex, LVIP_R_OBSERVE_REWRITE);
		return LVIP_PASS;
	}
	rw->sip_off = (void *)arp->sip - c->start;
	__builtin_memcpy(&rw->target, arp->tip, sizeof(rw->target));
	rw->vip = vip;
	__builtin_memcpy(&rw->vip_addr, arp->sip, sizeof(rw->vip_addr));
	return LVIP_REWRITE;
}

/*
 * A TCP segment whose fixed header is at the cursor, from saddr: SYN first
 * (a non-SYN pays that test only), then the clamp configuration, then the
 * VIP lookup (released VIPs too: the clamp is not hiding).
 */
static __always_inline int egress_tcp(struct cursor *c, const struct __sk_buff *skb,
				      const void *saddr, int v6, struct lvip_rewrite *rw)
{
	struct mss_conf conf;

	if (!tcp_syn(c) || !mss_configured(&conf))
		return LVIP_PASS;
	if (!(v6 ? vip6_find(saddr) : vip4_find(ip4_at(saddr))))
		return LVIP_PASS;
	return mss_clamp(c, skb, &conf, v6, &rw->mss) ? LVIP_MSS : LVIP_PASS;
}

/* IPv4 egress: only TCP (the MSS clamp); not a later fragment. */
static __always_inline int egress_ipv4(struct cursor *c, const struct __sk_buff *skb,
				       struct lvip_rewrite *rw)
{
	struct iphdr *ip;

	if (parse_ipv4(c, &ip) != PARSE_OK || ip->protocol != IPPROTO_TCP ||
	    (ip->frag_off & bpf_htons(IP_OFFSET)))
		return LVIP_PASS;
	c->pos += ip->ihl * 4;
	return egress_tcp(c, skb, &ip->saddr, 0, rw);
}

static __always_inline int egress_ipv6(struct cursor *c, const struct __sk_buff *skb,
				       __u32 ifindex, struct lvip_rewrite *rw)
{
	struct lvip_vip_val *vip;
	struct nd_msg_hdr *na;
	struct ipv6hdr *ip6;
	__u8 nexthdr;

	if (parse_ipv6(c, &ip6, &nexthdr) != PARSE_OK)
		return LVIP_PASS;
	if (nexthdr == IPPROTO_TCP)
		return egress_tcp(c, skb, &ip6->saddr, 1, rw);
	if (nexthdr != IPPROTO_ICMPV6)
		return LVIP_PASS;
	if (parse_nd(c, NDISC_NEIGHBOUR_ADVERTISEMENT, &na) != PARSE_OK)
		return LVIP_PASS;
	vip = vip6_find(na->target);
	if (!vip || vip_released(vip))
		return LVIP_PASS;
	mon_nd(c, ip6, na->target, ifindex, LVIP_R_ND_OUT_DROPPED);
	return nd_drop(vip, ifindex, LVIP_R_ND_OUT_DROPPED);
}

/* The cursor covers the skb's linear data, which may end before the frame. */
static __always_inline int lvip_egress(struct cursor *c, const struct __sk_buff *skb,
				       __u32 ifindex, struct lvip_rewrite *rw)
{
	__be16 proto;

	if (parse_eth(c, &proto) != PARSE_OK)
		return LVIP_PASS;
	if (proto == bpf_htons(ETH_P_ARP))
		return egress_arp(c, skb, ifindex, rw);
	if (proto == bpf_htons(ETH_P_IP))
		return egress_ipv4(c, skb, rw);
	if (proto == bpf_htons(ETH_P_IPV6))
		return egress_ipv6(c, skb, ifindex, rw);
	return LVIP_PASS;
}

/* The rewrite's outcome, once the program has picked (or not) an address. */
static __always_inline int rewrite_done(struct lvip_rewrite *rw, __u32 ifindex, int rewritten)
{
	if (!rewritten)
		return arp_drop(rw->vip, ifindex, LVIP_R_ARP_OUT_DROPPED);
	count_reason(ifindex, LVIP_R_ARP_OUT_REWRITTEN);
	return LVIP_PASS;
}

/* The rewrite's event, on the frame as it leaves (the ARP sender hardware
 * address is not rewritten; the VIP was kept in rw). */
static __always_inline void mon_rewrite(const struct __sk_buff *skb, const struct lvip_rewrite *rw,
					__u32 ifindex, int act)
{
	struct cursor c = {
		.start = (void *)(long)skb->data,
		.end = (void *)(long)skb->data_end,
	};
	struct arp_eth *arp;
	__u32 off = rw->sip_off - __builtin_offsetof(struct arp_eth, sip);

	if (off > 64)
		return;
	arp = c.start + off;
	if ((void *)(arp + 1) > c.end)
		return;
	mon_arp(&c, arp, &rw->vip_addr, ifindex,
		act == LVIP_DROP ? LVIP_R_ARP_OUT_DROPPED : LVIP_R_ARP_OUT_REWRITTEN);
}

#endif /* LVIP_VERDICT_H */
