// SPDX-License-Identifier: GPL-2.0
/*
 * lvip.bpf.c - XDP ingress and TC egress programs that keep loopback VIPs
 * invisible to ARP and NDP. The decisions live in verdict.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "verdict.h"

char LICENSE[] SEC("license") = "GPL";

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;

/*
 * Strip the outer IP and tunnel headers (LVIP_DECAP): move the Ethernet
 * addresses and VLAN tags forward by d->strip bytes, in place, as 4-byte
 * words (strip >= 20 >= what is moved: nothing overlaps), then drop
 * d->strip bytes from the front and write the inner EtherType. The verdict
 * made sure the inner IP header follows, so bpf_xdp_adjust_head cannot
 * fail; should it, the frame passes, counted malformed. Words, not bytes:
 * a byte copy of the header is 40 instructions (make bench, decapsulation).
 */
static __always_inline int xdp_decap(struct xdp_md *ctx, const struct lvip_decap *d,
				     __u32 ifindex)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 tags = (__u32)(d->l2_len - 14) / 4, strip = d->strip;
	struct l2 { __u32 w[(LVIP_L2_MAX + 2) / 4]; } *from = data, *to;
	__be16 *type;

	if (tags > LVIP_VLAN_MAX || strip < 20 || strip > LVIP_STRIP_MAX)
		return tun_pass(d->type, LVIP_T_MALFORMED);
	barrier_var(strip); /* keep the mask: the bound the verifier sees */
	to = data + (strip & 0xff);
	if ((void *)(from + 1) > end || (void *)(to + 1) > end)
		return tun_pass(d->type, LVIP_T_MALFORMED);
	if (tags > 1)
		to->w[4] = from->w[4];
	if (tags > 0)
		to->w[3] = from->w[3];
	to->w[0] = from->w[0];
	to->w[1] = from->w[1];
	to->w[2] = from->w[2];
	if (bpf_xdp_adjust_head(ctx, strip) < 0)
		return tun_pass(d->type, LVIP_T_MALFORMED);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	type = data + 12 + tags * 4;
	if ((void *)(type + 1) > end)
		return tun_pass(d->type, LVIP_T_MALFORMED);
	*type = d->proto;
	if (d->ce)
		decap_set_ce(type + 1, end, d->inner6);
	decap_done(d, ifindex);
	return XDP_PASS;
}

SEC("xdp")
int lvip_xdp(struct xdp_md *ctx)
{
	struct cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
		.start = (void *)(long)ctx->data,
	};
	struct lvip_decap d;
	int act;

#ifdef LVIP_TEST_VARIANT
	/* Never true: a build whose programs differ only in their tag, for the
	 * in-place upgrade tests. */
	if (ctx->rx_queue_index == 0xfffffff0)
		return XDP_PASS;
#endif
	act = lvip_ingress(&c, ctx->ingress_ifindex, &d);
	if (act == LVIP_DECAP)
		return xdp_decap(ctx, &d, ctx->ingress_ifindex);
	return act == LVIP_DROP ? XDP_DROP : XDP_PASS;
}

static __always_inline int in_subnet(__be32 addr, __be32 mask, __be32 target)
{
	return ((addr ^ target) & mask) == 0;
}

/*
 * The address the kernel would pick with arp_announce=2: the device's
 * primary address in the target's subnet, else its first primary; 0 when it
 * has none. Read live from the device (in_device->ifa_list), so it follows
 * address changes with nobody re-running lvip. Kernel >= 6.3.
 */
/* An address arp_announce=2 may choose: primary, scope link or global. */
static __always_inline int ifa_usable(const struct in_ifaddr *ifa)
{
	return !(ifa->ifa_flags & IFA_F_SECONDARY) && ifa->ifa_scope <= RT_SCOPE_LINK;
}

static __always_inline __be32 dev_addr_live(struct __sk_buff *skb, __be32 target)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);
	struct in_device *in_dev = kskb->dev->ip_ptr;
	struct in_ifaddr *ifa;
	__be32 first = 0;

	if (!in_dev)
		return 0;
	ifa = in_dev->ifa_list;
	/* The usual answer, the first address, checked before the loop: the
	 * loop as clang 14 compiles it costs ~30 ns more per rewrite here
	 * (make bench, "TC egress, ARP request rewritten"). */
	if (ifa && ifa_usable(ifa) && in_subnet(ifa->ifa_local, ifa->ifa_mask, target))
		return ifa->ifa_local;
	for (int i = 0; i < LVIP_IFADDR_MAX && ifa; i++, ifa = ifa->ifa_next) {
		if (!ifa_usable(ifa))
			continue;
		if (in_subnet(ifa->ifa_local, ifa->ifa_mask, target))
			return ifa->ifa_local;
		if (!first)
			first = ifa->ifa_local;
	}
	return first;
}

/* The same choice from lvip_ifaddr, which the loader keeps (older kernels). */
static __always_inline __be32 dev_addr_from_map(__u32 ifindex, __be32 target)
{
	struct lvip_ifaddr *ia = bpf_map_lookup_elem(&lvip_ifaddr, &ifindex);
	__be32 addr, mask, first = 0;

	if (!ia)
		return 0;
	for (__u32 i = 0; i < LVIP_IFADDR_MAX; i++) {
		if (i >= ia->count)
			break;
		__builtin_memcpy(&addr, ia->a[i].addr, sizeof(addr));
		__builtin_memcpy(&mask, ia->a[i].mask, sizeof(mask));
		if (in_subnet(addr, mask, target))
			return addr;
		if (!first)
			first = addr;
	}
	return first;
}

/*
 * The egress verdict on the linear data. When it asks for an ARP header that
 * lies beyond (LVIP_PULL), that header is pulled in and the frame judged
 * once more on the refreshed data; a failed pull passes it (fail-open). The
 * loop is not unrolled, so the verdict code is not emitted twice.
 */
static __always_inline int egress_verdict(struct __sk_buff *skb, struct lvip_rewrite *rw)
{
	struct cursor c;
	int act = LVIP_PASS;

#pragma clang loop unroll(disable)
	for (int pass = 0; pass < 2; pass++) {
		c.pos = c.start = (void *)(long)skb->data;
		c.end = (void *)(long)skb->data_end;
		act = lvip_egress(&c, skb, skb->ifindex, rw);
		if (act != LVIP_PULL || pass > 0 || bpf_skb_pull_data(skb, rw->pull_len))
			break;
	}
	return act == LVIP_PULL ? LVIP_PASS : act;
}

static __always_inline int tc_egress(struct __sk_buff *skb, int live)
{
	struct lvip_rewrite rw = {};
	__be32 src;
	int act;

#ifdef LVIP_TEST_VARIANT
	if (skb->mark == 0xfffffff0)
		return TC_ACT_UNSPEC;
#endif
	act = egress_verdict(skb, &rw);
	if (act == LVIP_REWRITE) {
		src = live ? dev_addr_live(skb, rw.target) : dev_addr_from_map(skb->ifindex, rw.target);
		if (src && bpf_skb_store_bytes(skb, rw.sip_off, &src, sizeof(src), 0))
			src = 0;
		act = rewrite_done(&rw, skb->ifindex, src != 0);
		mon_rewrite(skb, &rw, skb->ifindex, act);
	}
	if (act == LVIP_MSS)
		mss_apply(skb, &rw.mss);
	return act == LVIP_DROP ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}

SEC("tc")
int lvip_tc(struct __sk_buff *skb)
{
	return tc_egress(skb, 1);
}

SEC("tc")
int lvip_tc_compat(struct __sk_buff *skb)
{
	return tc_egress(skb, 0);
}
