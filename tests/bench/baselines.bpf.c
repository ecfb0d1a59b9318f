// SPDX-License-Identifier: GPL-2.0
/*
 * baselines.bpf.c - the programs lvip is measured against by make bench,
 * compiled exactly like bpf/lvip.bpf.c (clang -O2 -target bpf).
 *
 *   bare_xdp / bare_tc  return XDP_PASS / TC_ACT_UNSPEC: the floor of a test
 *                       run (TC_ACT_UNSPEC: pass on to the next program, as
 *                       lvip_tc does).
 *   min_xdp             the least work that makes lvip's ingress decision:
 *                       read the EtherType; ARP request -> one exact-match
 *                       lookup of the target IP (drop if found); IPv4 -> one
 *                       lookup of the destination; IPv6 -> one lookup of the
 *                       NS target (drop if found) or else of the destination.
 *                       No VLAN tags, no counters.
 *   min_tc              egress: ARP -> one lookup of the sender IP, nothing
 *                       else ("lookup only").
 *   min_tc_rw           egress: the least work of lvip's rewrite: ARP request
 *                       -> one lookup of the sender IP; found: one
 *                       bpf_skb_store_bytes of a fixed address (the bench
 *                       interface's, 198.18.0.11) over it. No counters, no
 *                       choice of address by subnet.
 *   min_decap           the least work of an LVS-TUN decapsulation (make bench's
 *                       decap cases): Ethernet + outer IPv4 (ihl 5) + the tunnel
 *                       header (ipip; UDP to DECAP_GUE_PORT + a 4-byte GUE
 *                       header; GRE with or without checksum), one lookup of the
 *                       inner IPv4 destination, the Ethernet header moved, one
 *                       bpf_xdp_adjust_head. No VLAN tags, no outer checks, no
 *                       counters.
 *   drop_xdp            drops every frame: the floor of native XDP on the wire.
 *   redirect_xdp        the traffic generator of the live-frames method: every
 *                       frame is redirected into redir_ifindex.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

#define ETH_P_IP   0x0800
#define ETH_P_ARP  0x0806
#define ETH_P_IPV6 0x86DD
#define TC_ACT_UNSPEC (-1)

struct arp_eth {
	__be16 hrd;
	__be16 pro;
	__u8 hln;
	__u8 pln;
	__be16 op;
	__u8 sha[6];
	__u8 sip[4];
	__u8 tha[6];
	__u8 tip[4];
} __attribute__((packed));

struct ns_hdr {
	__u8 type;
	__u8 code;
	__be16 csum;
	__be32 reserved;
	__u8 target[16];
};

struct k4 {
	__u8 addr[4];
};

struct k6 {
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct k4);
	__type(value, __u32);
} min_vip4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct k6);
	__type(value, __u32);
} min_vip6 SEC(".maps");

const volatile __u32 redir_ifindex = 0;

SEC("xdp")
int bare_xdp(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_PASS;
}

SEC("tc")
int bare_tc(struct __sk_buff *skb __attribute__((unused)))
{
	return TC_ACT_UNSPEC;
}

static __always_inline void *lookup4(const void *addr)
{
	struct k4 k;

	__builtin_memcpy(k.addr, addr, sizeof(k.addr));
	return bpf_map_lookup_elem(&min_vip4, &k);
}

static __always_inline void *lookup6(const void *addr)
{
	struct k6 k;

	__builtin_memcpy(k.addr, addr, sizeof(k.addr));
	return bpf_map_lookup_elem(&min_vip6, &k);
}

/*
 * One lookup call site per map on purpose: when clang merges a vip4 and a
 * vip6 lookup into one call instruction, the verifier can no longer inline
 * bpf_map_lookup_elem there and the baseline pays an indirect call that lvip
 * does not (check: bpftool prog dump xlated shows only
 * "call __htab_map_lookup_elem").
 */
SEC("xdp")
int min_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	const void *addr;
	int drop = 0;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		struct ns_hdr *ns = (void *)(ip6 + 1);

		if ((void *)(ip6 + 1) > end)
			return XDP_PASS;
		addr = &ip6->daddr;
		if (ip6->nexthdr == 58 && (void *)(ns + 1) <= end && ns->type == 135) {
			addr = ns->target;
			drop = 1;
		}
		return lookup6(addr) && drop ? XDP_DROP : XDP_PASS;
	}
	if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
		struct arp_eth *a = (void *)(eth + 1);

		if ((void *)(a + 1) > end || a->op != bpf_htons(1))
			return XDP_PASS;
		addr = a->tip;
		drop = 1;
	} else if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end)
			return XDP_PASS;
		addr = &ip->daddr;
	} else {
		return XDP_PASS;
	}
	return lookup4(addr) && drop ? XDP_DROP : XDP_PASS;
}

SEC("tc")
int min_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct arp_eth *a = (void *)(eth + 1);

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_ARP))
		return TC_ACT_UNSPEC;
	if ((void *)(a + 1) > end)
		return TC_ACT_UNSPEC;
	return lookup4(a->sip) ? TC_ACT_UNSPEC : TC_ACT_UNSPEC;
}

SEC("tc")
int min_tc_rw(struct __sk_buff *skb)
{
	static const __u8 src[4] = { 198, 18, 0, 11 };
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct arp_eth *a = (void *)(eth + 1);
	__u32 off = sizeof(*eth) + __builtin_offsetof(struct arp_eth, sip);

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_ARP))
		return TC_ACT_UNSPEC;
	if ((void *)(a + 1) > end || a->op != bpf_htons(1))
		return TC_ACT_UNSPEC;
	if (lookup4(a->sip))
		bpf_skb_store_bytes(skb, off, src, sizeof(src), 0);
	return TC_ACT_UNSPEC;
}

#define DECAP_GUE_PORT 5555 /* bench.c's GUE frames */
#define GRE_F_CSUM     0x8000

/* The outer headers' length (IPv4 + tunnel), 0 when not a tunnel frame. */
static __always_inline __u32 decap_outer_len(struct iphdr *ip, void *end)
{
	if (ip->protocol == 4)
		return sizeof(*ip);
	if (ip->protocol == 17) {
		struct udphdr *udp = (void *)(ip + 1);

		if ((void *)(udp + 1) + 4 > end || udp->dest != bpf_htons(DECAP_GUE_PORT))
			return 0;
		return sizeof(*ip) + sizeof(*udp) + 4;
	}
	if (ip->protocol == 47) {
		__be16 *gre = (void *)(ip + 1);

		if ((void *)(gre + 2) > end || gre[1] != bpf_htons(ETH_P_IP))
			return 0;
		return sizeof(*ip) + (gre[0] & bpf_htons(GRE_F_CSUM) ? 8 : 4);
	}
	return 0;
}

SEC("xdp")
int min_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data, *neth;
	struct iphdr *ip = (void *)(eth + 1), *in;
	__u32 outer;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5)
		return XDP_PASS;
	outer = decap_outer_len(ip, end);
	if (!outer || outer > 32)
		return XDP_PASS;
	in = (void *)ip + outer;
	if ((void *)(in + 1) > end || !lookup4(&in->daddr))
		return XDP_PASS;
	neth = (void *)eth + outer;
	__builtin_memcpy(neth, eth, sizeof(*eth)); /* outer >= 20: no overlap */
	bpf_xdp_adjust_head(ctx, (int)outer);
	return XDP_PASS;
}

/* The floor of an XDP drop on the wire: drops every frame, nothing else. */
SEC("xdp")
int drop_xdp(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_DROP;
}

SEC("xdp")
int redirect_xdp(struct xdp_md *ctx __attribute__((unused)))
{
	return bpf_redirect(redir_ifindex, 0);
}
