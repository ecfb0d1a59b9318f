/* SPDX-License-Identifier: GPL-2.0 */
/*
 * decap.h - LVS-TUN decapsulation on XDP ingress (docs/datapath.md,
 * "Tunnels"): IP-in-IP, GUE (variants 0 and 1) and GRE as IPVS sends them.
 *
 * Included by verdict.h after its counting and VIP helpers. The verdict
 * stays hook-agnostic: tun_claim() says whether an outer IPv4/IPv6 packet is
 * a tunnel packet for this host, tun_judge() reads the tunnel and inner
 * headers and answers LVIP_DECAP with a struct lvip_decap, or passes and
 * counts; lvip_xdp (lvip.bpf.c) then moves the L2 header, calls
 * bpf_xdp_adjust_head and finishes with decap_set_ce() and decap_done().
 *
 * Cost for ordinary traffic: a compare of the IP protocol against 4, 41, 47
 * and 17, and for those an array lookup the verifier inlines (plus, for UDP
 * with GUE enabled, the destination port). The lvip_tunaddr hash is read
 * only for a packet of an enabled tunnel type.
 */
#ifndef LVIP_DECAP_H
#define LVIP_DECAP_H

#define IPPROTO_IPIP_  4
#define IPPROTO_IPV6_  41
#define IPPROTO_GRE_   47
#define IPPROTO_UDP_   17
#define IPPROTO_FRAG_  44

#define IP_MF_OFFSET   0x3fff /* IPv4 frag_off: MF and the fragment offset */
#define IP_OFFSET      0x1fff
#define IP6_OFFSET     0xfff8 /* IPv6 fragment header: offset (8-byte units) */
#define ECN_MASK       3
#define ECN_CE         3

#define GRE_F_CSUM     0x8000 /* the only flag IPVS sets: 4 more bytes */
#define GUE_C_BIT      0x20   /* byte 0 of a variant 0 header: control message */
#define GUE_HLEN_MASK  0x1f
#define GUE_FLAG_PRIV  0x0001 /* include/net/gue.h: private flags in the options */
#define GUE_PFLAG_REMCSUM 0x80 /* first byte of the private flags: remote csum offload */

#define LVIP_L2_MAX    (14 + LVIP_VLAN_MAX * 4)
#define LVIP_STRIP_MAX (60 + 8 + 4 + 31 * 4) /* outer IPv4 with options, UDP, GUE and its
					    * options (196); more than any IPv6 outer */

/* What lvip_xdp needs to decapsulate (LVIP_DECAP). */
struct lvip_decap {
	struct lvip_vip_val *vip; /* the inner destination's counters */
	__u32 bytes;              /* the inner packet's IP bytes, for the VIP */
	__u32 strip;              /* outer IP header + tunnel header */
	__u16 l2_len;             /* Ethernet + VLAN tags, kept */
	__be16 proto;             /* the inner EtherType */
	__u8 type;                /* enum lvip_tun_type */
	__u8 ce;                  /* mark the inner header CE (RFC 6040) */
	__u8 inner6;
	__u8 _pad;
};

/* The outer header of a tunnel packet addressed to this host. */
struct tun_outer {
	void *l3;                    /* the outer IP header */
	void *payload;               /* after it (options, fragment header) */
	__u16 flags;                 /* the type's lvip_tunnel flags */
	__u8 type;
	__u8 proto;                  /* 4, 41, 47 or 17 */
	__u8 frag;                   /* an outer fragment */
	__u8 ce;                     /* the outer ECN field is CE */
	__u8 outer6;                 /* l3 is IPv6 */
};

static __always_inline int tun_proto(__u8 p)
{
	return p == IPPROTO_IPIP_ || p == IPPROTO_IPV6_ || p == IPPROTO_GRE_ || p == IPPROTO_UDP_;
}

static __always_inline void tun_count(__u32 type, enum lvip_tun_reason r)
{
	__u64 *slots = bpf_map_lookup_elem(&lvip_tunstats, &type);

	if (slots)
		slots[r]++;
}

static __always_inline int tun_pass(__u32 type, enum lvip_tun_reason r)
{
	tun_count(type, r);
	return LVIP_PASS;
}

static __always_inline void tunaddr_map4(struct lvip_tunaddr_key *k, __be32 a4)
{
	__builtin_memset(k->addr, 0, 10);
	k->addr[10] = 0xff;
	k->addr[11] = 0xff;
	__builtin_memcpy(&k->addr[12], &a4, 4);
}

static __always_inline int tunaddr_local(const struct lvip_tunaddr_key *k)
{
	__u32 *v = bpf_map_lookup_elem(&lvip_tunaddr, k);

	return v && (*v & LVIP_TUNADDR_LOCAL);
}

/* An IPv4 outer destination of this host: lvip_tunlocal's first addresses
 * (an inlined array lookup), else lvip_tunaddr. */
static __always_inline int local4(__be32 a, struct lvip_tunaddr_key *k)
{
	struct lvip_tunlocal *fast;
	__u32 zero = 0, i;

	fast = bpf_map_lookup_elem(&lvip_tunlocal, &zero);
	if (fast) {
#pragma unroll
		for (i = 0; i < LVIP_TUNLOCAL4; i++)
			if (i < fast->n4 && *(__u32 *)fast->a4[i] == a)
				return 1;
	}
	tunaddr_map4(k, a);
	return tunaddr_local(k);
}

static __always_inline int local6(const void *a6, struct lvip_tunaddr_key *k)
{
	__u32 zero = 0, i;
	struct lvip_tunlocal *fast = bpf_map_lookup_elem(&lvip_tunlocal, &zero);
	__u64 a[2];

	__builtin_memcpy(a, a6, 16);
	if (fast) {
#pragma unroll
		for (i = 0; i < LVIP_TUNLOCAL6; i++) {
			__u64 *f = (__u64 *)fast->a6[i];

			if (i < fast->n6 && f[0] == a[0] && f[1] == a[1])
				return 1;
		}
	}
	__builtin_memcpy(k->addr, a6, sizeof(k->addr));
	return tunaddr_local(k);
}

/*
 * Is this protocol an enabled tunnel type (and, for UDP, the GUE port)?
 * Fills t->type and t->flags. A later fragment of UDP carries no port: it
 * is not recognised (so it is not counted).
 */
static __always_inline int tun_enabled(struct cursor *c, struct tun_outer *t, int later_frag)
{
	struct lvip_tunnel *cfg;
	struct udphdr *udp;
	__u32 type;

	if (t->proto == IPPROTO_GRE_)
		type = LVIP_TUN_GRE;
	else if (t->proto == IPPROTO_UDP_)
		type = LVIP_TUN_GUE;
	else
		type = LVIP_TUN_IPIP;
	cfg = bpf_map_lookup_elem(&lvip_tunnel, &type);
	if (!cfg || !(cfg->flags & LVIP_TUN_F_ENABLED))
		return 0;
	if (type == LVIP_TUN_GUE) {
		udp = t->payload;
		if (later_frag || (void *)(udp + 1) > c->end || udp->dest != cfg->port)
			return 0;
	}
	t->type = type;
	t->flags = cfg->flags;
	return 1;
}

/* An outer IPv4 packet: 1 when it is a tunnel packet for this host. */
static __always_inline int tun_claim4(struct cursor *c, struct iphdr *ip, struct tun_outer *t)
{
	__u16 frag = bpf_ntohs(ip->frag_off) & IP_MF_OFFSET;
	struct lvip_tunaddr_key dst;

	t->l3 = ip;
	t->outer6 = 0;
	t->payload = (void *)ip + ip->ihl * 4;
	t->proto = ip->protocol;
	t->frag = frag != 0;
	t->ce = (ip->tos & ECN_MASK) == ECN_CE;
	if (!tun_enabled(c, t, (frag & IP_OFFSET) != 0))
		return 0;
	return local4(ip->daddr, &dst);
}

struct frag6_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 id;
};

/* An outer IPv6 packet whose first next header is a tunnel protocol, or a
 * fragment header followed by one. */
static __always_inline int tun_claim6(struct cursor *c, struct ipv6hdr *ip6, struct tun_outer *t)
{
	struct frag6_hdr *fh = (void *)(ip6 + 1);
	struct lvip_tunaddr_key dst;
	int later = 0;

	t->l3 = ip6;
	t->outer6 = 1;
	t->payload = fh;
	t->proto = ip6->nexthdr;
	t->frag = 0;
	t->ce = ((((__u8 *)ip6)[1] >> 4) & ECN_MASK) == ECN_CE;
	if (t->proto == IPPROTO_FRAG_) {
		if ((void *)(fh + 1) > c->end || !tun_proto(fh->nexthdr))
			return 0;
		t->proto = fh->nexthdr;
		t->frag = 1;
		t->payload = fh + 1;
		later = (fh->frag_off & bpf_htons(IP6_OFFSET)) != 0;
	} else if (!tun_proto(t->proto)) {
		return 0;
	}
	if (!tun_enabled(c, t, later))
		return 0;
	return local6(&ip6->daddr, &dst);
}

/* The outer source's key is built only here: most setups list no peers. */
static __always_inline int tun_peer_ok(const struct tun_outer *t)
{
	struct lvip_tunaddr_key src;
	__u32 *v;

	if (!(t->flags & LVIP_TUN_F_PEERS))
		return 1;
	if (t->outer6)
		__builtin_memcpy(src.addr, &((struct ipv6hdr *)t->l3)->saddr, sizeof(src.addr));
	else
		tunaddr_map4(&src, ((struct iphdr *)t->l3)->saddr);
	v = bpf_map_lookup_elem(&lvip_tunaddr, &src);
	return v && (*v & LVIP_TUNADDR_PEER(t->type));
}

/* GRE as IPVS sends it: no flag but C, version 0, protocol IPv4/IPv6.
 * *proto becomes the inner protocol (4 or 41). */
static __always_inline int tun_gre(struct cursor *c, __u8 *proto)
{
	__be16 *gre = c->pos;
	__u16 flags;

	if ((void *)(gre + 2) > c->end)
		return PARSE_TRUNC;
	flags = bpf_ntohs(gre[0]);
	if (flags & ~GRE_F_CSUM)
		return PARSE_BAD;
	if (gre[1] == bpf_htons(ETH_P_IP))
		*proto = IPPROTO_IPIP_;
	else if (gre[1] == bpf_htons(ETH_P_IPV6))
		*proto = IPPROTO_IPV6_;
	else
		return PARSE_BAD;
	c->pos += (flags & GRE_F_CSUM) ? 8 : 4;
	return PARSE_OK;
}

/*
 * GUE after the UDP header. Variant 0: a 4-byte header (version 00, C,
 * hlen, proto, flags) and hlen words of options; a control message (C) is
 * not ours: PARSE_OK with *proto 0. Remote checksum offload is refused:
 * the inner packet's checksum is left partial for a sender-named offset,
 * which a decapsulated packet handed to the stack cannot carry. Variant 1:
 * the inner IP header directly (first nibble 4 or 6).
 */
static __always_inline int tun_gue(struct cursor *c, __u8 *proto)
{
	__u8 *g = c->pos + sizeof(struct udphdr), *opt;
	__u8 hlen;

	if ((void *)(g + 1) > c->end)
		return PARSE_TRUNC;
	if ((g[0] >> 6) == 1) {
		*proto = (g[0] >> 4) == 4 ? IPPROTO_IPIP_ : (g[0] >> 4) == 6 ? IPPROTO_IPV6_ : 0;
		c->pos = g;
		return *proto ? PARSE_OK : PARSE_BAD;
	}
	if (g[0] >> 6)
		return PARSE_BAD;
	if (g[0] & GUE_C_BIT) {
		*proto = 0;
		return PARSE_OK;
	}
	if ((void *)(g + 4) > c->end)
		return PARSE_TRUNC;
	*proto = g[1];
	if (*proto != IPPROTO_IPIP_ && *proto != IPPROTO_IPV6_)
		return PARSE_BAD;
	hlen = g[0] & GUE_HLEN_MASK;
	opt = g + 4;
	if ((void *)(opt + hlen * 4) > c->end)
		return PARSE_TRUNC;
	if (g[3] & GUE_FLAG_PRIV) {
		/* the private flags: the first option word */
		if (!hlen || (void *)(opt + 4) > c->end || (opt[0] & GUE_PFLAG_REMCSUM))
			return PARSE_BAD;
	}
	c->pos = opt + hlen * 4;
	return PARSE_OK;
}

/* The inner IP header at the cursor: its destination VIP and IP bytes. */
static __always_inline int tun_inner(struct cursor *c, __u8 proto, struct lvip_decap *d,
				     __u32 *hdr_len)
{
	struct ipv6hdr *ip6 = c->pos;
	struct iphdr *ip = c->pos;

	if (proto == IPPROTO_IPIP_) {
		if ((void *)(ip + 1) > c->end)
			return PARSE_TRUNC;
		if (ip->version != 4 || ip->ihl < 5)
			return PARSE_BAD;
		d->vip = vip4_find(ip->daddr);
		d->bytes = bpf_ntohs(ip->tot_len);
		d->proto = bpf_htons(ETH_P_IP);
		d->ce = (ip->tos & ECN_MASK) == 1 || (ip->tos & ECN_MASK) == 2;
		d->inner6 = 0;
		*hdr_len = sizeof(*ip);
		return PARSE_OK;
	}
	if ((void *)(ip6 + 1) > c->end)
		return PARSE_TRUNC;
	if (ip6->version != 6)
		return PARSE_BAD;
	d->vip = vip6_find(&ip6->daddr);
	d->bytes = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
	d->proto = bpf_htons(ETH_P_IPV6);
	d->ce = ((((__u8 *)ip6)[1] >> 4) & ECN_MASK) == 1 || ((((__u8 *)ip6)[1] >> 4) & ECN_MASK) == 2;
	d->inner6 = 1;
	*hdr_len = sizeof(*ip6);
	return PARSE_OK;
}

/* Enough UDP length for the GUE header and the inner IP header. */
static __always_inline int gue_len_ok(const struct tun_outer *t, const struct cursor *c,
				      __u32 inner_hdr)
{
	struct udphdr *udp = t->payload;

	if ((void *)(udp + 1) > c->end)
		return 0;
	return bpf_ntohs(udp->len) >= (__u32)(c->pos - (void *)udp) + inner_hdr;
}

/*
 * A tunnel packet for this host (tun_claim4/6): pass and count, or
 * LVIP_DECAP with d filled. Every outcome counts one lvip_tunstats reason
 * of the type, but a GUE control message, which passes uncounted.
 */
static __always_inline int tun_judge(struct cursor *c, struct tun_outer *t, struct lvip_decap *d)
{
	__u32 type = t->type, inner_hdr = 0;
	__u8 proto = t->proto;
	int res = PARSE_OK;

	if (t->frag)
		return tun_pass(type, LVIP_T_FRAGMENT);
	if (t->payload > c->end)
		return tun_pass(type, LVIP_T_MALFORMED);
	if (!tun_peer_ok(t))
		return tun_pass(type, LVIP_T_PEER_REFUSED);
	c->pos = t->payload;
	if (type == LVIP_TUN_GRE)
		res = tun_gre(c, &proto);
	else if (type == LVIP_TUN_GUE)
		res = tun_gue(c, &proto);
	if (res == PARSE_OK && !proto)
		return LVIP_PASS; /* GUE control message */
	if (res == PARSE_OK)
		res = tun_inner(c, proto, d, &inner_hdr);
	if (res == PARSE_OK && type == LVIP_TUN_GUE && !gue_len_ok(t, c, inner_hdr))
		res = PARSE_BAD;
	if (res != PARSE_OK)
		return tun_pass(type, LVIP_T_MALFORMED);
	if (!d->vip)
		return tun_pass(type, LVIP_T_NOT_VIP);
	d->ce &= t->ce;
	d->type = type;
	d->l2_len = t->l3 - c->start;
	d->strip = c->pos - t->l3;
	return LVIP_DECAP;
}

/* ---- after bpf_xdp_adjust_head (lvip_xdp) ---- */

/* RFC 6040: CE from the outer header into an ECT inner header (decided by
 * tun_inner/tun_judge: d->ce), the IPv4 header checksum updated
 * incrementally (RFC 1624, eqn. 3). l3: the inner header, now after the L2
 * header. A Not-ECT inner header is left as it is (RFC 6040 would drop the
 * packet; lvip never drops what it decapsulates). */
static __always_inline void decap_set_ce(void *l3, void *end, int inner6)
{
	struct iphdr *ip = l3;
	__u8 *b = l3;
	__u32 sum;
	__u16 old;

	if (inner6) {
		if ((void *)(b + 2) <= end)
			b[1] |= ECN_CE << 4;
		return;
	}
	if ((void *)(ip + 1) > end)
		return;
	old = bpf_ntohs(*(__be16 *)ip);
	sum = (__u16)~bpf_ntohs(ip->check) + (__u16)~old + (__u16)(old | ECN_CE);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->tos |= ECN_CE;
	ip->check = bpf_htons((__u16)~sum);
}

/* The decapsulated packet counted like one received directly. */
static __always_inline void decap_done(const struct lvip_decap *d, __u32 ifindex)
{
	tun_count(d->type, LVIP_T_DECAP);
	vip_accept(d->vip, ifindex, d->bytes);
}

#endif /* LVIP_DECAP_H */
