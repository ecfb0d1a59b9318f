// SPDX-License-Identifier: GPL-2.0
/*
 * director.bpf.c - the LVS-TUN director of the lab (tests/lab/tun.bash), a
 * tc program for a kernel without IPVS or tunnel modules. Attached at the
 * clsact ingress of the director's only interface, it takes every packet
 * for the VIPs (IPv4 or IPv6, any protocol), encapsulates it exactly as
 * Linux's IPVS does in net/netfilter/ipvs/ip_vs_xmit.c (ip_vs_tunnel_xmit,
 * ip_vs_tunnel_xmit_v6, ipvs_gue_encap, ipvs_gre_encap) and sends it back
 * out of the same interface to the router, towards the real server:
 *
 *  - the inner TTL / hop limit is decremented first (IPVS's decrement_ttl;
 *    the inner IPv4 checksum is fixed), a packet with TTL <= 1 is dropped;
 *  - outer IPv4: ihl 5, TOS = inner DS field with ECN encapsulation
 *    (INET_ECN_encapsulate: CE becomes ECT(0)), TTL = the inner's, DF copied
 *    from an IPv4 inner packet when pmtu_disc is set (IPVS's default:
 *    net.ipv4.vs.pmtu_disc = 1), id 0 with DF (ip_select_ident) and a
 *    random one without, checksum;
 *  - outer IPv6: traffic class as above, flow label 0, hop limit = the
 *    inner's;
 *  - inner protocol 4 or 41 whatever the outer family;
 *  - GUE: UDP to the configured port, source port udp_flow_src_port()'s
 *    formula over the local port range, from a hash of the inner flow
 *    (IPVS: skb_get_hash(), a NIC's or the flow dissector's), checksum 0,
 *    then the 4-byte GUE header variant 0 (version 0, C 0, hlen 0, proto
 *    4/41, flags 0);
 *  - GRE: flags 0 (or C with its checksum when gre_csum is set), protocol
 *    ETH_P_IP/ETH_P_IPV6, no key, no sequence number.
 *
 * The outer source is the director's address (saddr4/saddr6 in the
 * configuration, as IPVS takes the route's source); the real server is
 * picked among n_rs by a hash of the inner flow (flow_hash()). The
 * Ethernet addresses are swapped: the frame came from the router, the next
 * hop to every real server.
 *
 * GRE checksums are computed over the bytes as they are: right for packets
 * whose checksums are complete (ICMP), not for CHECKSUM_PARTIAL ones (TCP
 * and UDP from a local socket on veth), which IPVS sums with LCO.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

#define ETH_HLEN   14
#define ETH_P_IP   0x0800
#define ETH_P_IPV6 0x86DD
#define IP_DF      0x4000
#define TC_ACT_OK   0
#define TC_ACT_SHOT 2
#define GRE_CSUM   0x8000
#define CSUM_CHUNK 64
#define CSUM_CHUNKS 40 /* GRE checksums over at most 2560 bytes */

enum { DIR_IPIP, DIR_GUE, DIR_GRE };

/* The lab's configuration (key 0), written by tests/lab/director.py. */
struct dir_cfg {
	__u8 type;      /* DIR_IPIP, DIR_GUE, DIR_GRE */
	__u8 outer6;    /* 0: outer IPv4, 1: outer IPv6 */
	__u8 gre_csum;  /* GRE with checksum */
	__u8 pmtu_disc; /* copy DF from an IPv4 inner packet */
	__u8 n_rs;      /* real servers in rs4/rs6 (1 or 2) */
	__u8 _pad;
	__be16 port;    /* GUE destination port */
	__u16 port_min; /* the local port range (net.ipv4.ip_local_port_range) */
	__u16 port_max;
	__u8 vip4[4];
	__u8 vip6[16];
	__u8 saddr4[4];
	__u8 saddr6[16];
	__u8 rs4[2][4];
	__u8 rs6[2][16];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dir_cfg);
} dir_cfg SEC(".maps");

/* Packets encapsulated, by type * 4 + outer6 * 2 + inner6. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 12);
	__type(key, __u32);
	__type(value, __u64);
} dir_stats SEC(".maps");

/* What the inner packet gives the outer headers. */
struct inner {
	__u8 inner6;
	__u8 dsfield;
	__u8 ttl;
	__u8 df;
	__u32 hash;
};

static __always_inline __u8 ecn_encapsulate(__u8 ds)
{
	__u8 ecn = ds & 3;

	return (ds & ~3) | (ecn == 3 ? 2 : ecn);
}

static __always_inline __u16 csum_fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

static __always_inline int is_vip4(const struct dir_cfg *c, __u32 daddr)
{
	return daddr == *(const __u32 *)c->vip4;
}

static __always_inline int is_vip6(const struct dir_cfg *c, const struct in6_addr *a)
{
	const __u32 *v = (const __u32 *)c->vip6;

	return a->in6_u.u6_addr32[0] == v[0] && a->in6_u.u6_addr32[1] == v[1] &&
	       a->in6_u.u6_addr32[2] == v[2] && a->in6_u.u6_addr32[3] == v[3];
}

/* The inner IPv4 packet for a VIP: its fields, the TTL decremented and the
 * checksum fixed (IPVS's decrement_ttl + ip_send_check). 1: encapsulate,
 * 0: not for us, -1: drop. */
static __always_inline int inner4(struct __sk_buff *skb, const struct dir_cfg *c, struct inner *in)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	__u16 old, new;

	if ((void *)(ip + 1) > end || !is_vip4(c, ip->daddr))
		return 0;
	if (ip->ttl <= 1)
		return -1;
	in->inner6 = 0;
	in->dsfield = ip->tos;
	in->df = c->pmtu_disc && (ip->frag_off & bpf_htons(IP_DF));
	old = *(__u16 *)&ip->ttl;
	ip->ttl--;
	new = *(__u16 *)&ip->ttl;
	in->ttl = ip->ttl;
	bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), old, new, 2);
	return 1;
}

static __always_inline int inner6(struct __sk_buff *skb, const struct dir_cfg *c, struct inner *in)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ipv6hdr *ip6 = data + ETH_HLEN;

	if ((void *)(ip6 + 1) > end || !is_vip6(c, &ip6->daddr))
		return 0;
	if (ip6->hop_limit <= 1)
		return -1;
	in->inner6 = 1;
	in->dsfield = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
	in->df = 0;
	ip6->hop_limit--;
	in->ttl = ip6->hop_limit;
	return 1;
}

static __always_inline __u32 tunnel_len(const struct dir_cfg *c)
{
	if (c->type == DIR_GUE)
		return sizeof(struct udphdr) + 4;
	if (c->type == DIR_GRE)
		return c->gre_csum ? 8 : 4;
	return 0;
}

static __always_inline __u64 room_flags(const struct dir_cfg *c)
{
	__u64 f = c->outer6 ? BPF_F_ADJ_ROOM_ENCAP_L3_IPV6 : BPF_F_ADJ_ROOM_ENCAP_L3_IPV4;

	if (c->type == DIR_GUE)
		f |= BPF_F_ADJ_ROOM_ENCAP_L4_UDP;
	else if (c->type == DIR_GRE)
		f |= BPF_F_ADJ_ROOM_ENCAP_L4_GRE;
	return f;
}

static __always_inline __u32 mix(__u32 h, __u32 v)
{
	h ^= v;
	h *= 0x9e3779b1;
	return h ^ (h >> 15);
}

/* A hash of the inner packet's addresses, protocol and first L4 word (the
 * ports, the ICMP id), the same for every packet of a flow. Not the skb's
 * hash: the one a veth carries over from the client's socket changes when
 * TCP retransmits (sk_rethink_txhash), and the flow dissector's includes
 * the IPv6 flow label, which changes with it; IPVS keeps a flow on its
 * real server through its connection table, this does the same. */
static __always_inline __u32 flow_hash(struct __sk_buff *skb, const struct inner *in)
{
	__u32 w[10] = {}, h = 0x1c1a, l4 = 0;
	struct iphdr ip;
	int i, n;

	if (in->inner6) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN + 8, &w[0], 32))
			return 0;
		bpf_skb_load_bytes(skb, ETH_HLEN + 6, &w[8], 1);
		l4 = ETH_HLEN + sizeof(struct ipv6hdr);
		n = 9;
	} else {
		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)))
			return 0;
		w[0] = ip.saddr;
		w[1] = ip.daddr;
		w[2] = ip.protocol;
		l4 = ETH_HLEN + ip.ihl * 4;
		n = 3;
	}
	bpf_skb_load_bytes(skb, l4, &w[9], 4);
	for (i = 0; i < 10; i++)
		if (i < n || i == 9)
			h = mix(h, w[i]);
	return h;
}

/* udp_flow_src_port(net, skb, 0, 0, false) */
static __always_inline __be16 flow_src_port(const struct dir_cfg *c, __u32 hash)
{
	hash ^= hash << 16;
	return bpf_htons((__u16)((((__u64)hash * (c->port_max - c->port_min)) >> 32) + c->port_min));
}

static __always_inline __u8 inner_proto(const struct inner *in)
{
	return in->inner6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
}

static __always_inline __u8 outer_proto(const struct dir_cfg *c, const struct inner *in)
{
	if (c->type == DIR_GUE)
		return IPPROTO_UDP;
	if (c->type == DIR_GRE)
		return IPPROTO_GRE;
	return inner_proto(in);
}

static __always_inline int write_outer4(struct __sk_buff *skb, const struct dir_cfg *c,
					const struct inner *in, __u32 rs)
{
	struct iphdr ip = {};
	__u32 sum;

	ip.version = 4;
	ip.ihl = 5;
	ip.tos = ecn_encapsulate(in->dsfield);
	ip.tot_len = bpf_htons(skb->len - ETH_HLEN);
	ip.frag_off = in->df ? bpf_htons(IP_DF) : 0;
	ip.id = in->df ? 0 : (__u16)bpf_get_prandom_u32();
	ip.ttl = in->ttl;
	ip.protocol = outer_proto(c, in);
	ip.saddr = *(const __u32 *)c->saddr4;
	ip.daddr = *(const __u32 *)c->rs4[rs & 1];
	sum = bpf_csum_diff(NULL, 0, (__be32 *)&ip, sizeof(ip), 0);
	ip.check = csum_fold(sum);
	return bpf_skb_store_bytes(skb, ETH_HLEN, &ip, sizeof(ip), 0);
}

static __always_inline int write_outer6(struct __sk_buff *skb, const struct dir_cfg *c,
					const struct inner *in, __u32 rs)
{
	struct ipv6hdr ip6 = {};
	__u8 ds = ecn_encapsulate(in->dsfield);

	ip6.version = 6;
	ip6.priority = ds >> 4;
	ip6.flow_lbl[0] = (ds & 0xf) << 4;
	ip6.payload_len = bpf_htons(skb->len - ETH_HLEN - sizeof(ip6));
	ip6.nexthdr = outer_proto(c, in);
	ip6.hop_limit = in->ttl;
	__builtin_memcpy(&ip6.saddr, c->saddr6, 16);
	__builtin_memcpy(&ip6.daddr, c->rs6[rs & 1], 16);
	return bpf_skb_store_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6), 0);
}

/* The GRE checksum: over the GRE header (checksum 0) and everything after
 * it, 64 bytes at a time, the last chunk zero-padded. */
static __always_inline __u16 gre_checksum(struct __sk_buff *skb, __u32 off)
{
	__u8 buf[CSUM_CHUNK + 4]; /* + 4: the rounding up of the last chunk */
	__u32 sum = 0, len;
	int i;

	for (i = 0; i < CSUM_CHUNKS; i++) {
		if (off >= skb->len)
			break;
		len = skb->len - off;
		if (len >= CSUM_CHUNK) {
			if (bpf_skb_load_bytes(skb, off, buf, CSUM_CHUNK))
				return 0;
			sum = bpf_csum_diff(NULL, 0, (__be32 *)buf, CSUM_CHUNK, sum);
		} else {
			__builtin_memset(buf, 0, sizeof(buf));
			asm volatile("" : "+r"(len)); /* mask last: the verifier sees the bound */
			len &= CSUM_CHUNK - 1;
			if (len == 0 || bpf_skb_load_bytes(skb, off, buf, len))
				return 0;
			sum = bpf_csum_diff(NULL, 0, (__be32 *)buf, (len + 3) & ~3U, sum);
		}
		off += CSUM_CHUNK;
	}
	return csum_fold(sum);
}

static __always_inline int write_tunnel(struct __sk_buff *skb, const struct dir_cfg *c,
					const struct inner *in, __u32 off)
{
	if (c->type == DIR_GUE) {
		struct {
			struct udphdr udp;
			__u8 gue[4];
		} h = {};

		h.udp.source = flow_src_port(c, in->hash);
		h.udp.dest = c->port;
		h.udp.len = bpf_htons(skb->len - off);
		h.gue[1] = inner_proto(in); /* version 0, C 0, hlen 0, flags 0 */
		return bpf_skb_store_bytes(skb, off, &h, sizeof(h), 0);
	}
	if (c->type == DIR_GRE) {
		__be16 gre[4] = {};
		__u16 sum;

		gre[0] = c->gre_csum ? bpf_htons(GRE_CSUM) : 0;
		gre[1] = bpf_htons(in->inner6 ? ETH_P_IPV6 : ETH_P_IP);
		if (bpf_skb_store_bytes(skb, off, gre, c->gre_csum ? 8 : 4, 0))
			return -1;
		if (!c->gre_csum)
			return 0;
		sum = gre_checksum(skb, off);
		return bpf_skb_store_bytes(skb, off + 4, &sum, 2, 0);
	}
	return 0;
}

/* Back to the router: it sent the frame, it is the next hop to the real
 * servers. The EtherType follows the outer family. */
static __always_inline int write_eth(struct __sk_buff *skb, const struct dir_cfg *c)
{
	struct ethhdr eth;

	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)))
		return -1;
	__u8 tmp[6];
	__builtin_memcpy(tmp, eth.h_dest, 6);
	__builtin_memcpy(eth.h_dest, eth.h_source, 6);
	__builtin_memcpy(eth.h_source, tmp, 6);
	eth.h_proto = bpf_htons(c->outer6 ? ETH_P_IPV6 : ETH_P_IP);
	return bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0);
}

static __always_inline void count(const struct dir_cfg *c, const struct inner *in)
{
	__u32 k = c->type * 4 + c->outer6 * 2 + in->inner6;
	__u64 *n = bpf_map_lookup_elem(&dir_stats, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("tc")
int director(struct __sk_buff *skb)
{
	struct inner in = {};
	struct dir_cfg *c;
	__u32 key = 0, l3, rs;
	int r;

	c = bpf_map_lookup_elem(&dir_cfg, &key);
	if (!c || c->n_rs == 0 || c->type > DIR_GRE)
		return TC_ACT_OK;
	if (skb->protocol == bpf_htons(ETH_P_IP))
		r = inner4(skb, c, &in);
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		r = inner6(skb, c, &in);
	else
		return TC_ACT_OK;
	if (r <= 0)
		return r < 0 ? TC_ACT_SHOT : TC_ACT_OK;

	in.hash = flow_hash(skb, &in);
	rs = c->n_rs > 1 ? in.hash % c->n_rs : 0;
	l3 = c->outer6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	if (bpf_skb_adjust_room(skb, l3 + tunnel_len(c), BPF_ADJ_ROOM_MAC, room_flags(c)))
		return TC_ACT_SHOT;
	if (write_tunnel(skb, c, &in, ETH_HLEN + l3))
		return TC_ACT_SHOT;
	r = c->outer6 ? write_outer6(skb, c, &in, rs) : write_outer4(skb, c, &in, rs);
	if (r || write_eth(skb, c))
		return TC_ACT_SHOT;
	count(c, &in);
	return bpf_redirect(skb->ifindex, 0);
}
