/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mss.h - MSS clamping on TC egress for VIPs served through LVS-TUN
 * (docs/datapath.md, "MSS clamping"). A client's segments reach this server
 * through the director, which adds a tunnel header: the MSS this server
 * announces in its SYN and SYN-ACK must leave room for it.
 *
 * The pieces, in the order verdict.h calls them: tcp_syn() (the fixed TCP
 * header in the linear data, SYN set), mss_configured() (the lvip_tunnel
 * entries: three inlined array lookups, nothing else, and only for a SYN),
 * then, for a SYN from a VIP, mss_clamp() (the options, the limit) and in
 * the TC program mss_apply() (the write and the checksum).
 */
#ifndef LVIP_MSS_H
#define LVIP_MSS_H

#include <bpf/bpf_core_read.h>

#include "parsing.h"
#include "maps.h"

#define TCP_HLEN     20
#define TCP_FLAG_SYN 0x02
#define TCPOPT_EOL   0
#define TCPOPT_NOP   1
#define TCPOPT_MSS   2
#define TCPOLEN_MSS  4
#define TCP_OPT_MAX  40 /* a data offset of 15 words */
#define OPT_BUF      64 /* the options' copy: a power of two for masked reads */
#define TCP_MIN_MSS  88 /* Linux's floor: an AUTO limit never goes lower */

/* Worst-case bytes the director adds per tunnel type, outer IPv6 assumed
 * (40): ipip 40; gue 40 + UDP 8 + GUE 4; gre 40 + GRE 4 + checksum 4. */
#define TUN_OVERHEAD_IPIP 40
#define TUN_OVERHEAD_GUE  52
#define TUN_OVERHEAD_GRE  48

/* The clamp the lvip_tunnel entries ask for: per type, LVIP_MSS_OFF when
 * the type is disabled or has no clamp, else LVIP_MSS_AUTO or the MSS. */
struct mss_conf {
	__u16 mss[LVIP_TUN_MAX];
};

/* What the TC program writes (LVIP_MSS): the MSS value's 2 bytes at opt_off
 * become new, the TCP checksum at csum_off follows. odd: the value sits at
 * an odd offset of the TCP header, so it spans two checksum words. */
struct mss_edit {
	__u32 opt_off;
	__u32 csum_off;
	__be16 old;
	__be16 new;
	__u32 odd;
};

/* The fixed TCP header at the cursor, with SYN set (SYN or SYN-ACK). */
static __always_inline int tcp_syn(const struct cursor *c)
{
	const __u8 *tcp = c->pos;

	return CURSOR_FITS(c, TCP_HLEN) && (tcp[13] & TCP_FLAG_SYN);
}

static __always_inline int mss_configured(struct mss_conf *conf)
{
	struct lvip_tunnel *tun;
	__u32 any = 0;

#pragma unroll
	for (__u32 t = 0; t < LVIP_TUN_MAX; t++) {
		__u32 key = t;

		tun = bpf_map_lookup_elem(&lvip_tunnel, &key);
		conf->mss[t] = tun && (tun->flags & LVIP_TUN_F_ENABLED) ? tun->mss : LVIP_MSS_OFF;
		any |= conf->mss[t];
	}
	return any != 0;
}

/* The egress device's MTU; 0 when the kernel cannot say (no bpf_check_mtu
 * before 5.12: libbpf turns the call into dead code there). */
static __always_inline __u32 dev_mtu(const struct __sk_buff *skb)
{
	__u32 mtu = 0;

	if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_check_mtu))
		return 0;
	if (bpf_check_mtu((void *)skb, 0, &mtu, 0, 0) < 0)
		return 0;
	return mtu;
}

static __always_inline __u32 tun_overhead(__u32 type)
{
	return type == LVIP_TUN_IPIP ? TUN_OVERHEAD_IPIP :
	       type == LVIP_TUN_GUE ? TUN_OVERHEAD_GUE : TUN_OVERHEAD_GRE;
}

/* The smallest limit of the clamping types; 0xffff (nothing to lower) when
 * none applies. AUTO: the MTU less the inner IP header (20 or 40), TCP's 20
 * and the type's overhead, never below TCP_MIN_MSS; skipped without an MTU. */
static __always_inline __u32 mss_limit(const struct __sk_buff *skb, const struct mss_conf *conf,
				       int v6)
{
	__u32 limit = 0xffff, mtu = 0, hdrs = (v6 ? 40 : 20) + TCP_HLEN, v;

#pragma unroll
	for (__u32 t = 0; t < LVIP_TUN_MAX; t++) {
		if (conf->mss[t] == LVIP_MSS_OFF)
			continue;
		v = conf->mss[t];
		if (v == LVIP_MSS_AUTO) {
			if (!mtu)
				mtu = dev_mtu(skb);
			if (!mtu)
				continue;
			v = mtu > hdrs + tun_overhead(t) + TCP_MIN_MSS ?
			    mtu - hdrs - tun_overhead(t) : TCP_MIN_MSS;
		}
		if (v < limit)
			limit = v;
	}
	return limit;
}

/*
 * The offset in opts of the first MSS option's value; -1 when there is none
 * or the options are malformed before it (an option other than EOL and NOP
 * with a length below 2, an MSS option whose length is not 4 or that does
 * not fit): the segment is then left alone. What follows the MSS option is
 * not read. Each step consumes a byte at least: TCP_OPT_MAX steps suffice.
 * i is masked once checked (i < optlen <= 40: the mask changes nothing) so
 * that the verifier sees it bounded, and loop states converge.
 */
static __always_inline int mss_find(const __u8 opts[OPT_BUF], __u32 optlen)
{
	__u32 i = 0;
	__u8 kind, len;

	for (int n = 0; n < TCP_OPT_MAX; n++) {
		if (i >= optlen)
			return -1;
		i &= OPT_BUF - 1;
		kind = opts[i];
		if (kind == TCPOPT_EOL)
			return -1;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= optlen)
			return -1;
		len = opts[(i + 1) & (OPT_BUF - 1)];
		if (kind == TCPOPT_MSS)
			return len == TCPOLEN_MSS && i + TCPOLEN_MSS <= optlen ? (int)i + 2 : -1;
		if (len < 2)
			return -1;
		i += len;
	}
	return -1;
}

/*
 * A SYN from a VIP whose fixed TCP header is at the cursor (tcp_syn), with
 * a clamp configured: 1 and the edit when its MSS option is above the
 * limit, else 0 (pass untouched). The options are read with
 * bpf_skb_load_bytes, so they may lie beyond the linear data; options cut
 * short by the end of the frame leave the segment alone.
 */
static __always_inline int mss_clamp(const struct cursor *c, const struct __sk_buff *skb,
				     const struct mss_conf *conf, int v6, struct mss_edit *e)
{
	const __u8 *tcp = c->pos;
	__u32 tcp_off = cursor_offset(c), optlen = (tcp[12] >> 4) * 4, limit, mss;
	__u8 opts[OPT_BUF] = {};
	int at;

	if (optlen <= TCP_HLEN)
		return 0;
	optlen -= TCP_HLEN;
	if (optlen > TCP_OPT_MAX || bpf_skb_load_bytes(skb, tcp_off + TCP_HLEN, opts, optlen))
		return 0;
	at = mss_find(opts, optlen);
	if (at < 2 || at > TCP_OPT_MAX - 2)
		return 0;
	mss = (__u32)opts[at & (OPT_BUF - 1)] << 8 | opts[(at + 1) & (OPT_BUF - 1)];
	limit = mss_limit(skb, conf, v6);
	if (mss <= limit)
		return 0;
	e->opt_off = tcp_off + TCP_HLEN + at;
	e->csum_off = tcp_off + 16;
	e->old = bpf_htons((__u16)mss);
	e->new = bpf_htons((__u16)limit);
	e->odd = at & 1;
	return 1;
}

/* The edit, on the skb: the MSS value, then the checksum (incremental; with
 * CHECKSUM_PARTIAL the kernel leaves the field to the device). A value at an
 * odd offset counts byte-swapped in the checksum's 16-bit words. A checksum
 * that cannot be fixed puts the old value back. */
static __always_inline void mss_apply(struct __sk_buff *skb, const struct mss_edit *e)
{
	__u16 from = e->old, to = e->new;

	if (e->odd) {
		from = __builtin_bswap16(from);
		to = __builtin_bswap16(to);
	}
	if (bpf_skb_store_bytes(skb, e->opt_off, &e->new, sizeof(e->new), 0))
		return;
	if (bpf_l4_csum_replace(skb, e->csum_off, from, to, sizeof(__u16)))
		bpf_skb_store_bytes(skb, e->opt_off, &e->old, sizeof(e->old), 0);
}

#endif /* LVIP_MSS_H */
