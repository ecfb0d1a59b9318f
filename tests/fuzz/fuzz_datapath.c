// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_datapath.c - differential fuzzing of lvip's datapath against the
 * independent oracle (oracle.c, written from docs/datapath.md alone).
 *
 * Every frame - built like the unit fixtures, with their frame builder
 * (tests/lib/frame.h), from random choices (ARP request/reply/probe/GARP,
 * IPv4/IPv6 to VIPs and non-VIPs, NS/NA incl. DAD, other EtherTypes), then
 * mutated (bit flips, truncations, VLAN stacking 0-3 tags, odd ARP fields,
 * IPv6 extension header chains before ICMPv6, random EtherTypes) - goes
 * through lvip_xdp, lvip_tc and lvip_tc_compat with BPF_PROG_RUN
 * (bpf_prog_test_run_opts). Each run is compared with the oracle on the
 * verdict, the delta of every counter (global, every interface, every VIP)
 * and the output bytes. TAP on stdout.
 *
 *   build/fuzz_datapath [--seed S] [--frames N] [--frame I] [--reports N] [--verbose]
 *
 * The seed is printed first; frame I of seed S is always the same frame
 * (each frame has its own PRNG stream), so `--seed S --frame I` replays
 * exactly the frame a mismatch names.
 *
 * The process moves itself into a private network namespace first (the
 * root namespace is never touched) and makes its veth pairs there: the
 * addresses give lvip_tc's live address lookup something to read. Only
 * 198.18.0.0/15 and 2001:db8::/32 are configured.
 *
 *   LVIP_REQUIRE_BPF=1   fail (instead of skip) when BPF cannot be used
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lvip.h"
#include "lvip.skel.h"
#include "bpf_harness.h"
#include "frame.h"
#include "oracle.h"

#define MAX_REPORTS  20    /* mismatches printed in full (--reports N) */
#define MIN_COVERAGE 10000 /* frames needed before coverage is asserted */

_Static_assert(BH_OUT_MAX >= 2 * FRAME_MAX, "BPF_PROG_RUN output room for every frame");

/* ------------------------------------------------------------------ */
/* PRNG: splitmix64 seeds one xoshiro256** stream per frame.           */
/* ------------------------------------------------------------------ */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_init(struct rng *r, uint64_t seed, uint64_t index)
{
	uint64_t x = seed ^ (index * 0xd1342543de82ef95ull);

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t next64(struct rng *r)
{
	uint64_t res = rotl(r->s[1] * 5, 7) * 9, t = r->s[1] << 17;

	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = rotl(r->s[3], 45);
	return res;
}

/* Uniform in [0, n), n > 0. */
static uint32_t below(struct rng *r, uint32_t n)
{
	return (uint32_t)((next64(r) >> 32) * n >> 32);
}

/* True with probability pct percent. */
static int chance(struct rng *r, unsigned pct)
{
	return below(r, 100) < pct;
}

/* ------------------------------------------------------------------ */
/* Addresses                                                          */
/* ------------------------------------------------------------------ */

/* The last VIP of each family is released (LVIP_VIP_F_RELEASED): not hidden. */
static const char *const vip4_s[] = { "198.18.0.100", "198.18.0.101", "198.18.1.50", "198.19.0.100",
				      "198.18.0.103" };
static const char *const vip6_s[] = { "2001:db8::100", "2001:db8:1::5", "2001:db8::103" };
#define N_VIP4 (sizeof(vip4_s) / sizeof(vip4_s[0]))
#define N_VIP6 (sizeof(vip6_s) / sizeof(vip6_s[0]))

static const char *const other4_s[] = {
	"198.18.0.1", "198.18.1.1", "198.19.0.1", "198.18.0.11", "198.18.1.11", "198.18.0.12",
	"198.18.0.21", "198.18.0.22", "198.19.4.1", "198.18.2.7", "198.18.0.102", "198.18.0.255",
	"0.0.0.0",
};
static const char *const other6_s[] = {
	"2001:db8::1", "2001:db8::101", "2001:db8:1::6", "::", "ff02::1", "ff02::1:ff00:1",
	"ff02::1:ff00:100", "ff02::1:ff00:5", "2001:db8::11",
};
#define N_OTHER4 (sizeof(other4_s) / sizeof(other4_s[0]))
#define N_OTHER6 (sizeof(other6_s) / sizeof(other6_s[0]))

static struct oracle_vips vips;
static uint8_t other4[N_OTHER4][4], other6[N_OTHER6][16];

static void init_addresses(void)
{
	vips.n4 = N_VIP4;
	vips.n6 = N_VIP6;
	for (size_t i = 0; i < N_VIP4; i++)
		frame_addr4(vip4_s[i], vips.v4[i]);
	for (size_t i = 0; i < N_VIP6; i++)
		frame_addr6(vip6_s[i], vips.v6[i]);
	vips.released4[N_VIP4 - 1] = 1;
	vips.released6[N_VIP6 - 1] = 1;
	for (size_t i = 0; i < N_OTHER4; i++)
		frame_addr4(other4_s[i], other4[i]);
	for (size_t i = 0; i < N_OTHER6; i++)
		frame_addr6(other6_s[i], other6[i]);
}

/* An IPv4 address: a VIP with probability vip_pct, else one of the other
 * pool or a random host of 198.18.0.0/15. */
static void pick4(struct rng *r, unsigned vip_pct, uint8_t out[4])
{
	if (chance(r, vip_pct)) {
		memcpy(out, vips.v4[below(r, N_VIP4)], 4);
	} else if (chance(r, 75)) {
		memcpy(out, other4[below(r, N_OTHER4)], 4);
	} else {
		out[0] = 198;
		out[1] = 18 + below(r, 2);
		out[2] = below(r, 256);
		out[3] = below(r, 256);
	}
}

static void pick6(struct rng *r, unsigned vip_pct, uint8_t out[16])
{
	if (chance(r, vip_pct)) {
		memcpy(out, vips.v6[below(r, N_VIP6)], 16);
	} else if (chance(r, 75)) {
		memcpy(out, other6[below(r, N_OTHER6)], 16);
	} else {
		frame_addr6("2001:db8::", out);
		out[4] = below(r, 2);
		for (int i = 12; i < 16; i++)
			out[i] = below(r, 256);
	}
}

/* ------------------------------------------------------------------ */
/* Random frames, written with the shared builder (frame.h)           */
/* ------------------------------------------------------------------ */

/* Every random choice is drawn in a statement of its own, never two in
 * the arguments of one call (whose order C leaves open): the order of the
 * draws is what makes frame I of seed S the same frame on every build. */

static void put_rand(struct frame *f, struct rng *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		frame_put8(f, below(r, 256));
}

enum kind { K_ARP = 0, K_IPV4, K_IPV6, K_OTHER, K_RANDOM, K_TUNNEL };

static unsigned tpid(struct rng *r)
{
	static const unsigned t[] = { 0x8100, 0x88a8, 0x8100, 0x88a8, 0x9100 };

	return t[below(r, 5)];
}

/* Ethernet with 0-3 VLAN tags; marks after the addresses, each tag and the
 * EtherType. */
static void put_eth(struct frame *f, struct rng *r, unsigned type)
{
	unsigned n = below(r, 100), tags = n < 50 ? 0 : n < 72 ? 1 : n < 92 ? 2 : 3;

	frame_eth_addrs(f, chance(r, 50) ? mac_bcast : mac_self, mac_peer);
	frame_mark(f);
	for (unsigned i = 0; i < tags; i++) {
		unsigned tp = tpid(r), tci = below(r, 0x10000);

		frame_vlan_tag(f, tp, tci);
		frame_mark(f);
	}
	frame_ethertype(f, type);
	frame_mark(f);
}

static unsigned odd16(struct rng *r, const unsigned *vals, size_t n)
{
	return chance(r, 25) ? below(r, 0x10000) : vals[below(r, (uint32_t)n)];
}

/* Marks after hrd pro hln pln and after the body. */
static void build_arp(struct frame *f, struct rng *r)
{
	static const unsigned bad_hrd[] = { 0, 2, 0x100, 0x600, 0x101, 0xffff };
	static const unsigned bad_pro[] = { 0x86dd, 0x0008, 0x0806, 0 };
	static const unsigned bad_len[] = { 0, 4, 6, 8, 16, 255 };
	static const unsigned odd_op[] = { 0, 3, 4, 8, 9, 0x100, 0x101, 0x201 };
	uint8_t sip[4], tip[4];
	struct frame_arp_fields a = { .sha = mac_peer, .spa = sip, .tpa = tip };
	size_t start;

	a.op = chance(r, 45) ? 1 : chance(r, 80) ? 2 : odd16(r, odd_op, 8);
	put_eth(f, r, 0x0806);
	start = f->len;
	a.hrd = chance(r, 80) ? 1 : chance(r, 60) ? 6 : odd16(r, bad_hrd, 6);
	a.pro = chance(r, 92) ? 0x0800 : odd16(r, bad_pro, 4);
	a.hln = chance(r, 94) ? 6 : bad_len[below(r, 6)];
	a.pln = chance(r, 94) ? 4 : bad_len[below(r, 6)];
	pick4(r, 45, sip);
	pick4(r, 50, tip);
	if (chance(r, 15))
		memcpy(tip, sip, 4); /* gratuitous */
	a.tha = a.op == 1 ? mac_zero : mac_self;
	frame_arp(f, &a);
	frame_mark_at(f, start + FRAME_ARP_FORMAT);
	frame_mark(f);
	if (chance(r, 30))
		frame_zero(f, f->len < 60 ? 60 - f->len : 0);
	else if (chance(r, 20))
		put_rand(f, r, below(r, 24));
}

/* ---- TC egress: MSS clamp ---- */

/* A TCP header, SYN or SYN-ACK mostly, with a random option list (Linux's
 * options, NOPs, EOLs, malformed lengths, several MSS options); the data
 * offset covers the options (sometimes not); a random checksum (the clamp
 * updates it incrementally, whatever it was). Marks after the fixed header,
 * each option and the header. */
static void build_tcp(struct frame *f, struct rng *r)
{
	uint8_t opts[48];
	size_t n = 0, start = f->len, want = below(r, 41);
	unsigned k = below(r, 100);
	struct frame_tcp_fields t = { .sport = 443, .dport = 40000, .window = 64240 };

	t.flags = k < 45 ? 0x02 : k < 75 ? 0x12 : k < 90 ? 0x10 : below(r, 256);
	t.seq = (uint32_t)next64(r);
	t.check = below(r, 0x10000);
	while (n < want && n + 10 <= sizeof(opts)) {
		unsigned o = below(r, 100), mss = chance(r, 70) ? 536 + below(r, 8500) : below(r, 0x10000);

		if (o < 30) {
			opts[n++] = 2, opts[n++] = 4, opts[n++] = (uint8_t)(mss >> 8), opts[n++] = (uint8_t)mss;
		} else if (o < 55) {
			opts[n++] = 1;
		} else if (o < 62) {
			opts[n++] = 0;
		} else if (o < 70) {
			opts[n++] = 3, opts[n++] = 3, opts[n++] = (uint8_t)below(r, 15);
		} else if (o < 78) {
			opts[n++] = 4, opts[n++] = 2;
		} else if (o < 86) {
			opts[n++] = 8, opts[n++] = 10;
			for (int i = 0; i < 8; i++)
				opts[n++] = (uint8_t)below(r, 256);
		} else if (o < 93) {                     /* odd kind or length */
			opts[n++] = chance(r, 50) ? 2 : (uint8_t)below(r, 256);
			opts[n++] = (uint8_t)below(r, 12);
		} else {
			opts[n++] = (uint8_t)below(r, 256);
		}
	}
	if (n > 40)
		n = 40;
	t.doff = chance(r, 90) ? (uint8_t)(5 + (n + 3) / 4) : (uint8_t)below(r, 16);
	frame_tcp(f, &t);
	frame_mark(f);
	frame_put(f, opts, n);
	frame_zero(f, ((n + 3) & ~(size_t)3) - n);
	frame_mark_at(f, start + 20 + n / 2);
	frame_mark(f);
	if (chance(r, 15))
		put_rand(f, r, below(r, 20));
}

/* Marks after the fixed header and after the options. */
static void build_ipv4(struct frame *f, struct rng *r)
{
	static const unsigned bad_vi[] = { 0x44, 0x40, 0x41, 0x65, 0x55, 0x05, 0x64, 0xf5 };
	unsigned n = below(r, 100), vi;
	size_t hlen, plen = below(r, 40);
	uint8_t src[4], dst[4];
	struct frame_ipv4_fields h = { .ttl = 64, .saddr = src, .daddr = dst };

	vi = n < 72 ? 0x45 : n < 88 ? 0x40 | (6 + below(r, 10)) :
	     n < 97 ? bad_vi[below(r, 8)] : below(r, 256);
	hlen = (vi & 0x0f) > 5 ? (size_t)(vi & 0x0f) * 4 : 20;
	put_eth(f, r, 0x0800);
	h.ver_ihl = vi;
	h.tos = below(r, 256);
	h.tot_len = chance(r, 85) ? (unsigned)(hlen + plen) : below(r, 0x10000);
	h.id = below(r, 0x10000);
	h.frag_off = chance(r, 70) ? 0x4000 : below(r, 0x10000);
	n = below(r, 100);
	h.protocol = n < 55 ? 17 : n < 85 ? 6 : below(r, 256);
	if (h.protocol == 6 && chance(r, 60))
		h.frag_off = chance(r, 80) ? 0x4000 : 0x2000;
	pick4(r, h.protocol == 6 ? 60 : 30, src); /* TCP: SYNs from VIPs, for the clamp */
	pick4(r, 55, dst);
	frame_ipv4(f, &h);
	frame_mark(f);
	put_rand(f, r, hlen - 20);
	frame_mark(f);
	if (h.protocol == 6)
		build_tcp(f, r);
	else
		put_rand(f, r, plen);
}

static unsigned ext_type(struct rng *r)
{
	static const unsigned std[] = { 0, 43, 60 }, odd[] = { 44, 51, 135, 139, 59 };

	return chance(r, 94) ? std[below(r, 3)] : odd[below(r, 5)];
}

/* Shaped like an NS/NA whatever its type; 0-2 link-layer address options.
 * Marks after the fixed part and after each option. */
static void build_icmp6(struct frame *f, struct rng *r)
{
	static const unsigned other_types[] = { 128, 129, 133, 134, 137, 1, 2, 3, 4 };
	unsigned n = below(r, 100);
	uint8_t t[16];
	struct frame_nd_fields nd = { .target = t };

	nd.type = n < 42 ? 135 : n < 80 ? 136 : n < 95 ? other_types[below(r, 9)] : below(r, 256);
	nd.code = chance(r, 92) ? 0 : below(r, 256);
	nd.checksum = below(r, 0x10000);
	nd.flags = nd.type == 136 ? (chance(r, 50) ? 0x20000000 : 0x60000000) : 0;
	pick6(r, 55, t);
	frame_nd(f, &nd);
	frame_mark(f);
	for (unsigned i = 0, k = below(r, 3); i < k; i++) {
		unsigned type = chance(r, 90) ? (nd.type == 136 ? 2 : 1) : below(r, 256);
		unsigned len8 = chance(r, 90) ? 1 : below(r, 4);

		frame_nd_lla(f, type, len8, mac_peer);
		frame_mark(f);
	}
}

/* Marks after the IPv6 header, each extension header and the UDP header
 * (ICMPv6: see build_icmp6). */
static void build_ipv6(struct frame *f, struct rng *r)
{
	unsigned n = below(r, 100), next[5], l4 = below(r, 100);
	unsigned nexts = n < 45 ? 0 : n < 65 ? 1 : n < 80 ? 2 : n < 92 ? 3 : 4;
	size_t start;
	uint8_t src[16], dst[16];
	struct frame_ipv6_fields h = { .hop_limit = 255, .saddr = src, .daddr = dst };

	/* the upper layer: ICMPv6 mostly, else UDP, TCP, no-next-header, any */
	next[nexts] = l4 < 68 ? 58 : l4 < 78 ? 17 : l4 < 92 ? 6 : l4 < 96 ? 59 : below(r, 256);
	for (unsigned i = 0; i < nexts; i++)
		next[i] = ext_type(r);
	put_eth(f, r, 0x86dd);
	start = f->len;
	h.vtf = (uint32_t)(chance(r, 93) ? 0x60 : below(r, 16) << 4) << 24;
	h.nexthdr = next[0];
	pick6(r, next[nexts] == 6 ? 60 : 20, src);
	n = below(r, 100);
	if (n < 40) {
		pick6(r, 100, dst);
	} else if (n < 60) {
		frame_addr6("ff02::1:ff00:0", dst);
		memcpy(dst + 13, vips.v6[below(r, N_VIP6)] + 13, 3); /* solicited-node of a VIP */
	} else {
		pick6(r, 15, dst);
	}
	frame_ipv6(f, &h); /* payload length: below */
	frame_mark(f);
	for (unsigned i = 0; i < nexts; i++) {
		unsigned hl = chance(r, 80) ? 0 : 1 + below(r, 2);

		frame_ext_padn(f, next[i + 1], hl);
		frame_mark(f);
	}
	if (next[nexts] == 58) {
		build_icmp6(f, r);
	} else if (next[nexts] == 6) {
		build_tcp(f, r);
	} else {
		frame_udp(f, 40000, 5000, 8 + 8, 0);
		frame_mark(f);
		put_rand(f, r, 8);
	}
	frame_set16(f, start + 4, chance(r, 88) ? (unsigned)(f->len - start - 40) : below(r, 0x10000));
}

/* ---- tunnel frames (docs/datapath.md, "Tunnels") ---- */

#define GUE_PORT 6080

static const char *const tun_local_s[] = { "198.18.0.11", "2001:db8::11" };
static const char *const tun_peer_s[] = { "198.18.2.1", "2001:db8:2::1" };      /* every type */
static const char *const tun_ipip_peer_s[] = { "198.18.2.2", "2001:db8:2::2" }; /* IPIP only */

static void pick_tun_addr(struct rng *r, int v6, int local, uint8_t out[16])
{
	unsigned n = below(r, 100);
	const char *s = local ? tun_local_s[v6] : n < 50 ? tun_peer_s[v6] : n < 70 ? tun_ipip_peer_s[v6] : NULL;

	memset(out, 0, 16);
	if (s && v6)
		frame_addr6(s, out);
	else if (s)
		frame_addr4(s, out);
	else if (v6)
		pick6(r, 10, out);
	else
		pick4(r, 10, out);
}

/* The inner IPv4/IPv6 UDP packet, mostly well formed and to a VIP. */
static void build_inner(struct frame *f, struct rng *r, int v6)
{
	static const unsigned bad_vi[] = { 0x44, 0x65, 0x55, 0x40, 0x46 };
	size_t start = f->len, plen = below(r, 24);
	uint8_t src[16], dst[16];

	if (!v6) {
		struct frame_ipv4_fields h = { .ttl = 63, .protocol = 17, .saddr = src, .daddr = dst };

		h.ver_ihl = chance(r, 93) ? 0x45 : bad_vi[below(r, 5)];
		h.tos = below(r, 256);
		h.tot_len = chance(r, 90) ? (unsigned)(28 + plen) : below(r, 0x10000);
		h.frag_off = chance(r, 80) ? 0x4000 : below(r, 0x10000);
		pick4(r, 20, src);
		pick4(r, 75, dst);
		frame_ipv4(f, &h);
		if (chance(r, 90))
			frame_ipv4_checksum(f, start, 20);
	} else {
		struct frame_ipv6_fields h = { .nexthdr = 17, .hop_limit = 63, .saddr = src, .daddr = dst };

		h.vtf = (chance(r, 93) ? 6u << 28 : (uint32_t)below(r, 16) << 28) |
			(uint32_t)below(r, 256) << 20;
		h.payload_len = chance(r, 90) ? (unsigned)(8 + plen) : below(r, 0x10000);
		pick6(r, 20, src);
		pick6(r, 75, dst);
		frame_ipv6(f, &h);
	}
	frame_mark(f);
	frame_udp(f, 40000, 5000, 8 + plen, 0);
	put_rand(f, r, plen);
}

static void build_gre(struct frame *f, struct rng *r, int inner6)
{
	static const unsigned odd_proto[] = { 0x6558, 0x0800, 0x86dd, 0x88be };
	unsigned csum = chance(r, 50), flags, proto;

	flags = chance(r, 90) ? (csum ? 0x8000u : 0) : below(r, 0x10000);
	proto = chance(r, 92) ? (inner6 ? 0x86ddu : 0x0800u) : odd_proto[below(r, 4)];
	frame_gre(f, flags, proto);
	frame_mark(f);
	if (flags & 0x8000) {
		put_rand(f, r, 4);
		frame_mark(f);
	}
}

/* GUE variant 0 header and options (v1: none). */
static void build_gue(struct frame *f, struct rng *r, int v1, int inner6)
{
	unsigned hlen = chance(r, 75) ? 0 : below(r, 4), b0, proto, flags, priv;

	if (v1)
		return;
	b0 = chance(r, 90) ? hlen | (chance(r, 6) ? 0x20 : 0) : below(r, 256);
	proto = chance(r, 92) ? (inner6 ? 41u : 4u) : below(r, 256);
	priv = chance(r, 12);
	flags = chance(r, 92) ? priv : below(r, 0x10000);
	frame_gue0(f, b0, proto, flags);
	frame_mark(f);
	hlen = b0 & 0x1f;
	if (hlen > 6)
		hlen = 6;
	if (hlen && priv) {
		frame_put32(f, chance(r, 50) ? 0x80000000u : 0);
		hlen--;
	}
	put_rand(f, r, hlen * 4);
	frame_mark(f);
}

/* An outer IPv4/IPv6 header, an IPIP/GRE/GUE header, an inner packet;
 * mostly to this host from a peer and well formed, each field sometimes
 * not. Marks after each header. */
static void build_tunnel(struct frame *f, struct rng *r)
{
	static const unsigned frags[] = { 0x2000, 185, 0x2005, 0x6000 };
	unsigned o6 = chance(r, 45), i6 = chance(r, 45), kind = below(r, 5), proto, n;
	size_t l3, th, optlen = 0;
	uint8_t src[16], dst[16];

	proto = kind == 0 ? (i6 ? 41u : 4u) : kind <= 2 ? 47u : 17u;
	if (chance(r, 4))
		proto = chance(r, 50) ? (i6 ? 4u : 41u) : below(r, 256);
	pick_tun_addr(r, o6, 0, src);
	pick_tun_addr(r, o6, chance(r, 85), dst);
	put_eth(f, r, o6 ? 0x86dd : 0x0800);
	l3 = f->len;
	if (!o6) {
		struct frame_ipv4_fields h = { .ttl = 64, .saddr = src, .daddr = dst };

		optlen = chance(r, 85) ? 0 : 4 * (1 + below(r, 10));
		h.ver_ihl = 0x45 + optlen / 4;
		h.tos = below(r, 256);
		h.frag_off = chance(r, 88) ? (chance(r, 50) ? 0x4000 : 0) : frags[below(r, 4)];
		h.protocol = proto;
		frame_ipv4(f, &h);
		frame_mark(f);
		put_rand(f, r, optlen);
	} else {
		struct frame_ipv6_fields h = { .hop_limit = 64, .saddr = src, .daddr = dst };

		n = below(r, 100);
		h.vtf = 6u << 28 | (uint32_t)below(r, 256) << 20;
		h.nexthdr = n < 88 ? proto : n < 96 ? 44 : 0;
		frame_ipv6(f, &h);
		frame_mark(f);
		if (h.nexthdr == 44)
			frame_ipv6_frag(f, proto, chance(r, 50) ? 1 : (uint16_t)below(r, 0x10000), 9);
		else if (h.nexthdr == 0)
			frame_ext_padn(f, proto, 0);
	}
	frame_mark(f);
	th = f->len;
	if (kind == 1 || kind == 2) {
		build_gre(f, r, i6);
	} else if (kind >= 3) {
		unsigned port = chance(r, 88) ? GUE_PORT : chance(r, 50) ? GUE_PORT + 1 : below(r, 0x10000);

		frame_udp(f, 49152 + below(r, 16000), port, 0, below(r, 0x10000));
		frame_mark(f);
		build_gue(f, r, kind == 4, i6);
	}
	build_inner(f, r, i6);
	if (kind >= 3)
		frame_set16(f, th + 4, chance(r, 90) ? (unsigned)(f->len - th) : below(r, 64));
	if (o6) {
		frame_set16(f, l3 + 4, chance(r, 90) ? (unsigned)(f->len - l3 - 40) : below(r, 0x10000));
	} else {
		frame_set16(f, l3 + 2, chance(r, 90) ? (unsigned)(f->len - l3) : below(r, 0x10000));
		frame_ipv4_checksum(f, l3, 20 + optlen);
	}
}

/* The tunnel configuration the programs and the oracle are given: all
 * types enabled, GRE from its peers only (the base); some frames run under
 * a variant (tun_variant). */
static struct oracle_tunnels tun_base, tun_cur;
static int tun_fast; /* the local addresses also in lvip_tunlocal (else only in the hash) */
/* The clamps of the current frame (lvip_tunnel), drawn by one_frame. */
static struct oracle_clamp clamp;

static void add_taddr(struct oracle_tunnels *t, const char *s, int local, int ipip, int gue, int gre)
{
	if (oracle_tunnels_add(t, s, local, ipip, gue, gre))
		bh_bail("a tunnel address the oracle cannot take: %s", s);
}

static void init_tunnels(void)
{
	for (int t = 0; t < ORACLE_N_TUN; t++)
		tun_base.enabled[t] = 1;
	tun_base.peers_only[ORACLE_TUN_GRE] = 1;
	tun_base.gue_port = GUE_PORT;
	for (int v6 = 0; v6 < 2; v6++) {
		add_taddr(&tun_base, tun_local_s[v6], 1, 0, 0, 0);
		add_taddr(&tun_base, tun_peer_s[v6], 0, 1, 1, 1);
		add_taddr(&tun_base, tun_ipip_peer_s[v6], 0, 1, 0, 0);
	}
	tun_cur = tun_base;
}

/* One frame in four under a variant: a type disabled, or peers only for
 * every type. */
static void tun_variant(struct rng *r)
{
	unsigned n = below(r, 8);

	tun_cur = tun_base;
	tun_fast = n & 1;
	if (n == 6)
		tun_cur.enabled[below(r, ORACLE_N_TUN)] = 0;
	else if (n == 7)
		for (int t = 0; t < ORACLE_N_TUN; t++)
			tun_cur.peers_only[t] = 1;
}

static void build_other(struct frame *f, struct rng *r)
{
	static const unsigned types[] = { 0x88cc, 0x88b5, 0x8847, 0x0842, 0x9100, 0x8035, 0x0005,
					  0x05dc, 0x0801, 0x86de, 0x0000, 0xffff };

	put_eth(f, r, chance(r, 60) ? types[below(r, 12)] : below(r, 0x10000));
	put_rand(f, r, below(r, 60));
}

/* Bytes at random, sometimes behind a known EtherType; not mutated. */
static void build_random(struct frame *f, struct rng *r)
{
	static const unsigned types[] = { 0x0800, 0x0806, 0x86dd, 0x8100, 0x88a8 };

	put_rand(f, r, below(r, 97));
	if (f->len >= 14 && chance(r, 50))
		frame_set16(f, 12, types[below(r, 5)]);
	if (f->len >= 18 && chance(r, 30))
		frame_set16(f, 16, types[below(r, 5)]);
}

/* ------------------------------------------------------------------ */
/* Mutations                                                          */
/* ------------------------------------------------------------------ */

/* Offset of the EtherType that follows up to three VLAN tags. */
static size_t inner_type_off(const struct frame *f)
{
	size_t off = 12;

	for (int i = 0; i < 3 && off + 2 <= f->len; i++) {
		unsigned t = (unsigned)f->b[off] << 8 | f->b[off + 1];

		if (t != 0x8100 && t != 0x88a8)
			break;
		off += 4;
	}
	return off;
}

static void shift_marks(struct frame *f, size_t from, long by)
{
	for (int i = 0; i < f->nmark; i++)
		if (f->mark[i] >= from)
			f->mark[i] = (size_t)((long)f->mark[i] + by);
}

static void mutate_once(struct frame *f, struct rng *r)
{
	static const uint8_t interesting[] = { 0, 1, 2, 4, 5, 6, 0x08, 0x06, 0x3a, 0x2b, 0x3c,
					       0x80, 0x81, 0x86, 0x87, 0x88, 0xdd, 0xa8, 0xff };
	unsigned op = below(r, 100);
	size_t off;

	if (!f->len)
		return;
	if (op < 22) {                                     /* bit flip anywhere */
		off = below(r, (uint32_t)f->len);
		f->b[off] ^= (uint8_t)(1u << below(r, 8));
	} else if (op < 37) {                              /* bit flip in the headers */
		off = below(r, (uint32_t)(f->len < 96 ? f->len : 96));
		f->b[off] ^= (uint8_t)(1u << below(r, 8));
	} else if (op < 47) {                              /* interesting byte */
		off = below(r, (uint32_t)f->len);
		f->b[off] = interesting[below(r, sizeof(interesting))];
	} else if (op < 60) {                              /* random cut */
		if (chance(r, 4))
			f->len = below(r, 14);
		else if (f->len > 14)
			f->len = 14 + below(r, (uint32_t)(f->len - 14 + 1));
	} else if (op < 75) {                              /* cut near a header boundary */
		if (f->nmark) {
			long at = (long)f->mark[below(r, (uint32_t)f->nmark)] + (long)below(r, 7) - 3;

			if (at >= 0 && (size_t)at < f->len)
				f->len = (size_t)at;
		}
	} else if (op < 84) {                              /* push a VLAN tag */
		if (f->len >= 12 && f->len + 4 <= FRAME_MAX) {
			memmove(f->b + 16, f->b + 12, f->len - 12);
			f->len += 4;
			frame_set16(f, 12, tpid(r));
			frame_set16(f, 14, below(r, 0x10000));
			shift_marks(f, 12, 4);
		}
	} else if (op < 88) {                              /* pop the outer VLAN tag */
		if (f->len >= 18 && inner_type_off(f) > 12) {
			memmove(f->b + 12, f->b + 16, f->len - 16);
			f->len -= 4;
			shift_marks(f, 16, -4);
		}
	} else if (op < 94) {                              /* another EtherType */
		static const unsigned types[] = { 0x0800, 0x0806, 0x86dd, 0x8100, 0x88a8, 0x9100 };

		off = inner_type_off(f);
		frame_set16(f, off, chance(r, 70) ? types[below(r, 6)] : below(r, 0x10000));
	} else {                                           /* trailing bytes */
		size_t n = below(r, 32);

		if (f->len + n <= FRAME_MAX)
			put_rand(f, r, n);
	}
}

static enum kind build_frame(struct frame *f, struct rng *r)
{
	unsigned n = below(r, 100);
	enum kind k = n < 30 ? K_ARP : n < 45 ? K_IPV4 : n < 76 ? K_IPV6 : n < 82 ? K_OTHER :
		      n < 86 ? K_RANDOM : K_TUNNEL;

	frame_init(f);
	switch (k) {
	case K_RANDOM:
		build_random(f, r);
		return k;
	case K_ARP:
		build_arp(f, r);
		break;
	case K_IPV4:
		build_ipv4(f, r);
		break;
	case K_IPV6:
		build_ipv6(f, r);
		break;
	case K_TUNNEL:
		build_tunnel(f, r);
		break;
	default:
		build_other(f, r);
		break;
	}
	if (!chance(r, 40))
		for (unsigned i = 0, m = 1 + below(r, 4); i < m; i++)
			mutate_once(f, r);
	return k;
}

/* ------------------------------------------------------------------ */
/* Environment: private netns, interfaces, skeleton, maps             */
/* ------------------------------------------------------------------ */

static const char *const prog_name[N_PROGS] = {
	[P_XDP] = "lvip_xdp", [P_TC] = "lvip_tc", [P_TC_COMPAT] = "lvip_tc_compat",
};

/* Interfaces: the XDP test device, and the egress devices TC runs on. */
enum slot { S_XDP = 0, S_MAIN, S_NOADDR, S_EMPTY, S_OVERLAP, N_SLOTS };
#define FIRST_TC_SLOT S_MAIN

static const char *slot_name[N_SLOTS] = {
	[S_XDP] = "lvf1", [S_MAIN] = "lvf0", [S_NOADDR] = "lvf2", [S_EMPTY] = "lvf3",
	[S_OVERLAP] = "lvf4",
};

static const char *const netns_cmds[] = {
	"ip link add lvf0 type veth peer name lvf1",
	"ip link add lvf2 type veth peer name lvf3",
	"ip link add lvf4 type veth peer name lvf5",
	"ip link set dev lvf0 addrgenmode none",
	"ip link set dev lvf1 addrgenmode none",
	"ip link set dev lvf2 addrgenmode none",
	"ip link set dev lvf3 addrgenmode none",
	"ip link set dev lvf4 addrgenmode none",
	"ip link set dev lvf5 addrgenmode none",
	"ip link set dev lvf0 up",
	"ip link set dev lvf1 up",
	"ip link set dev lvf2 up",
	"ip link set dev lvf3 up",
	"ip link set dev lvf4 up",
	"ip link set dev lvf5 up",
	/* the MSS clamp's auto limit: three MTUs */
	"ip link set dev lvf2 mtu 9000",
	"ip link set dev lvf4 mtu 1400",
	/* lvf0: two primaries in distinct /24s, then a secondary of the first */
	"ip addr add 198.18.0.11/24 dev lvf0",
	"ip addr add 198.18.1.11/24 dev lvf0",
	"ip addr add 198.18.0.12/24 dev lvf0",
	/* lvf4: overlapping primaries (different masks): first match wins */
	"ip addr add 198.19.4.1/16 dev lvf4",
	"ip addr add 198.18.0.21/24 dev lvf4",
	"ip addr add 198.18.0.22/23 dev lvf4",
};

static struct {
	__u32 ifindex[N_SLOTS];
	struct oracle_iface iface[N_SLOTS];
} env;

/* The kernel's own view of an interface's IPv4 addresses, in its order,
 * with the secondary flag: `ip -4 -o addr show dev X`. */
static int read_iface(const char *dev, struct oracle_iface *ifc, char *why, size_t n)
{
	char cmd[128], line[512];
	FILE *p;

	memset(ifc, 0, sizeof(*ifc));
	snprintf(cmd, sizeof(cmd), "ip -4 -o addr show dev %s", dev);
	p = popen(cmd, "r");
	if (!p) {
		snprintf(why, n, "popen(%s): %s", cmd, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), p) && ifc->n < ORACLE_MAX_ADDRS) {
		char *s = strstr(line, " inet "), *slash;
		struct oracle_addr4 *a = &ifc->a[ifc->n];

		if (!s)
			continue;
		s += 6;
		slash = strchr(s, '/');
		if (!slash)
			continue;
		*slash = '\0';
		if (inet_pton(AF_INET, s, a->addr) != 1)
			continue;
		a->prefix_len = (uint8_t)atoi(slash + 1);
		a->secondary = strstr(slash + 1, " secondary") != NULL;
		ifc->n++;
	}
	if (pclose(p) != 0) {
		snprintf(why, n, "'%s' failed", cmd);
		return -1;
	}
	return 0;
}

/* The interface's MTU, in this (the private) namespace. */
static unsigned read_mtu(const char *dev)
{
	struct ifreq ifr = { .ifr_mtu = 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		ifr.ifr_mtu = 0;
	close(fd);
	return ifr.ifr_mtu > 0 ? (unsigned)ifr.ifr_mtu : 0;
}

static int find_ifaces(char *why, size_t n)
{
	for (int s = 0; s < N_SLOTS; s++) {
		env.ifindex[s] = if_nametoindex(slot_name[s]);
		if (!env.ifindex[s]) {
			snprintf(why, n, "private netns setup: %s not found", slot_name[s]);
			return -1;
		}
		if (s != S_XDP && read_iface(slot_name[s], &env.iface[s], why, n))
			return -1;
		env.iface[s].mtu = read_mtu(slot_name[s]);
		if (s != S_XDP && !env.iface[s].mtu) {
			snprintf(why, n, "private netns setup: no MTU for %s", slot_name[s]);
			return -1;
		}
	}
	if (env.iface[S_MAIN].n != 3 || !env.iface[S_MAIN].a[2].secondary ||
	    env.iface[S_OVERLAP].n != 3 || env.iface[S_NOADDR].n || env.iface[S_EMPTY].n) {
		snprintf(why, n, "private netns setup: unexpected IPv4 addresses on lvf0/lvf2/lvf3/lvf4");
		return -1;
	}
	return 0;
}

/* lvip_ifaddr, as the loader keeps it: the primaries, kernel order; lvf2
 * has no entry, lvf3 an entry with count 0. */
static int fill_ifaddr(void)
{
	int fd = bpf_map__fd(bh.skel->maps.lvip_ifaddr);

	for (int s = FIRST_TC_SLOT; s < N_SLOTS; s++) {
		struct lvip_ifaddr v = { .count = 0 };
		const struct oracle_iface *ifc = &env.iface[s];

		if (s == S_NOADDR)
			continue;
		for (size_t i = 0; i < ifc->n && i < LVIP_IFADDR_MAX; i++) { /* as the loader */
			uint32_t m = ifc->a[i].prefix_len ?
				     ~((1ull << (32 - ifc->a[i].prefix_len)) - 1) : 0;

			if (ifc->a[i].secondary)
				continue;
			memcpy(v.a[v.count].addr, ifc->a[i].addr, 4);
			m = htonl(m);
			memcpy(v.a[v.count].mask, &m, 4);
			v.count++;
		}
		if (bpf_map_update_elem(fd, &env.ifindex[s], &v, BPF_ANY))
			return -1;
	}
	return 0;
}

static const char *const abi_tun[LVIP_TUN_MAX] = LVIP_TUN_NAMES;
static const char *const abi_tun_reason[LVIP_T_MAX] = LVIP_TUN_REASON_NAMES;

/* abi index -> oracle index, matched by name */
static int tun_map[LVIP_TUN_MAX], tun_reason_map[LVIP_T_MAX];

/* lvip_tunlocal: the local addresses when tun_fast, else empty (the hash
 * answers alone); it never holds an address the hash does not. */
static void put_tunlocal(void)
{
	struct lvip_tunlocal v = {};
	__u32 zero = 0;

	for (size_t i = 0; tun_fast && i < tun_base.n; i++) {
		const struct oracle_taddr *a = &tun_base.addr[i];

		if (!a->local)
			continue;
		if (a->v6)
			memcpy(v.a6[v.n6++], a->a, 16);
		else
			memcpy(v.a4[v.n4++], a->a, 4);
	}
	if (bpf_map_update_elem(bpf_map__fd(bh.skel->maps.lvip_tunlocal), &zero, &v, BPF_ANY))
		bh_bail("setting lvip_tunlocal: %s", strerror(errno));
}

/* lvip_tunnel as tun_cur says. */
static void put_tunnels(void)
{
	_Static_assert(ORACLE_TUN_TYPES == LVIP_TUN_MAX && ORACLE_MSS_AUTO == LVIP_MSS_AUTO,
		       "the oracle's clamps are lvip_tunnel's");
	for (int t = 0; t < LVIP_TUN_MAX; t++) {
		int o = tun_map[t];
		__u16 flags = (tun_cur.enabled[o] ? LVIP_TUN_F_ENABLED : 0) |
			      (tun_cur.peers_only[o] ? LVIP_TUN_F_PEERS : 0);

		clamp.enabled[t] = tun_cur.enabled[o];
		if (bh_put_tunnel(t, flags, o == ORACLE_TUN_GUE ? tun_cur.gue_port : 0,
				  (__u16)clamp.mss[t]))
			bh_bail("setting lvip_tunnel: %s", strerror(errno));
	}
	put_tunlocal();
}

/* lvip_tunnel and lvip_tunaddr from tun_base. */
static int fill_tunnels(void)
{
	int err = 0;

	put_tunnels();
	for (size_t i = 0; !err && i < tun_base.n; i++) {
		const struct oracle_taddr *a = &tun_base.addr[i];
		__u32 what = a->local ? LVIP_TUNADDR_LOCAL : 0;

		for (int t = 0; t < LVIP_TUN_MAX; t++)
			if (a->peer[tun_map[t]])
				what |= LVIP_TUNADDR_PEER(t);
		err = bh_put_tunaddr(a->a, !a->v6, what);
	}
	errno = -err;
	return err ? -1 : 0;
}

static int fill_vips(void)
{
	int v4 = bpf_map__fd(bh.skel->maps.lvip_vip4), v6 = bpf_map__fd(bh.skel->maps.lvip_vip6);

	for (size_t i = 0; i < vips.n4; i++)
		if (bh_put_vip(v4, vips.v4[i], vips.released4[i] ? LVIP_VIP_F_RELEASED : 0))
			return -1;
	for (size_t i = 0; i < vips.n6; i++)
		if (bh_put_vip(v6, vips.v6[i], vips.released6[i] ? LVIP_VIP_F_RELEASED : 0))
			return -1;
	return 0;
}

/* XDP runs name their ingress device when it has a registered rx queue
 * (lvf1); else they run on the namespace's loopback with the default ctx. */
static void probe_xdp_ctx(void)
{
	static const uint8_t lldp[] = { 1, 0x80, 0xc2, 0, 0, 0x0e, 2, 0, 0, 0, 0, 1, 0x88, 0xcc,
					2, 7, 4, 2, 0, 0, 0, 0, 1 };

	if (bh_probe_xdp_ctx(env.ifindex[S_XDP], lldp, sizeof(lldp)))
		return;
	env.ifindex[S_XDP] = 1;
	slot_name[S_XDP] = "lo";
}

static const struct bh_setup setup = {
	.netns_cmds = netns_cmds, .n_netns_cmds = BH_ARRAY_SIZE(netns_cmds),
	.find_ifaces = find_ifaces, .probe_xdp_ctx = probe_xdp_ctx,
	.fill_vips = fill_vips, .fill_ifaddr = fill_ifaddr, .fill_tunnels = fill_tunnels,
	.ifindex = env.ifindex, .n_ifaces = N_SLOTS,
};

/* ------------------------------------------------------------------ */
/* Counters                                                           */
/* ------------------------------------------------------------------ */

static const char *const abi_reason[LVIP_R_MAX] = LVIP_REASON_NAMES;

/* abi index -> oracle index, matched by name */
static int reason_map[LVIP_R_MAX];

static void map_reasons(void)
{
	_Static_assert((int)LVIP_R_MAX == (int)ORACLE_N_REASONS, "the oracle names every reason");
	for (int r = 0; r < LVIP_R_MAX; r++) {
		reason_map[r] = oracle_reason_index(abi_reason[r]);
		if (reason_map[r] < 0)
			bh_bail("ABI reason %s unknown to the oracle", abi_reason[r]);
	}
	_Static_assert((int)LVIP_TUN_MAX == (int)ORACLE_N_TUN, "the oracle names every tunnel type");
	_Static_assert((int)LVIP_T_MAX == (int)ORACLE_N_TUN_REASONS, "the oracle names every tunnel reason");
	for (int t = 0; t < LVIP_TUN_MAX; t++) {
		tun_map[t] = oracle_tun_index(abi_tun[t]);
		if (tun_map[t] < 0)
			bh_bail("ABI tunnel type %s unknown to the oracle", abi_tun[t]);
	}
	for (int r = 0; r < LVIP_T_MAX; r++) {
		tun_reason_map[r] = oracle_tun_reason_index(abi_tun_reason[r]);
		if (tun_reason_map[r] < 0)
			bh_bail("ABI tunnel reason %s unknown to the oracle", abi_tun_reason[r]);
	}
}

#define N_VIPS (N_VIP4 + N_VIP6)

struct snap {
	__u64 global[LVIP_R_MAX];
	__u64 ifc[N_SLOTS][LVIP_R_MAX];
	__u64 vip[N_VIPS][N_VF];
	__u64 tun[LVIP_TUN_MAX][LVIP_T_MAX];
};

static int snapshot(struct snap *s)
{
	int v4 = bpf_map__fd(bh.skel->maps.lvip_vip4), v6 = bpf_map__fd(bh.skel->maps.lvip_vip6);
	int err = bh_read_stats(s->global, env.ifindex, N_SLOTS, s->ifc);

	for (size_t i = 0; !err && i < N_VIP4; i++)
		err = bh_read_vip(v4, vips.v4[i], s->vip[i]);
	for (size_t i = 0; !err && i < N_VIP6; i++)
		err = bh_read_vip(v6, vips.v6[i], s->vip[N_VIP4 + i]);
	return err ? err : bh_read_tunstats(s->tun);
}

/* ------------------------------------------------------------------ */
/* Comparison and reports                                             */
/* ------------------------------------------------------------------ */

struct diag {
	char text[8192];
	size_t len;
	int fails;
};

static void note(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct diag *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bh_vnote(d->text, sizeof(d->text), &d->len, 16, "#   ", fmt, ap);
	va_end(ap);
}

static void delta(struct diag *d, const char *map, const char *field, __u64 before, __u64 after,
		  __u64 want)
{
	if (after - before == want)
		return;
	d->fails++;
	note(d, "%s.%s: expected +%llu, got %+lld", map, field, (unsigned long long)want,
	     (long long)(after - before));
}

static void compare_counters(struct diag *d, enum slot slot, const struct oracle_result *e,
			     const struct snap *b, const struct snap *a)
{
	char map[64];

	for (int r = 0; r < LVIP_R_MAX; r++)
		delta(d, "lvip_stats", abi_reason[r], b->global[r], a->global[r],
		      e->reason[reason_map[r]]);
	for (int s = 0; s < N_SLOTS; s++) {
		snprintf(map, sizeof(map), "lvip_ifstats[%s]", slot_name[s]);
		for (int r = 0; r < LVIP_R_MAX; r++)
			delta(d, map, abi_reason[r], b->ifc[s][r], a->ifc[s][r],
			      s == (int)slot ? e->reason[reason_map[r]] : 0);
	}
	for (size_t v = 0; v < N_VIPS; v++) {
		const struct oracle_vip_delta *w = v < N_VIP4 ? &e->vip4[v] : &e->vip6[v - N_VIP4];
		__u64 want[N_VF] = { w->packets, w->bytes, w->arp_dropped, w->nd_dropped };

		snprintf(map, sizeof(map), "vip[%s]", v < N_VIP4 ? vip4_s[v] : vip6_s[v - N_VIP4]);
		for (int f = 0; f < N_VF; f++)
			delta(d, map, bh_vf_name[f], b->vip[v][f], a->vip[v][f], want[f]);
	}
	for (int t = 0; t < LVIP_TUN_MAX; t++) {
		snprintf(map, sizeof(map), "lvip_tunstats[%s]", abi_tun[t]);
		for (int r = 0; r < LVIP_T_MAX; r++)
			delta(d, map, abi_tun_reason[r], b->tun[t][r], a->tun[t][r],
			      e->tun[tun_map[t]][tun_reason_map[r]]);
	}
}

static void compare_output(struct diag *d, const struct oracle_result *e, const struct bh_run *r)
{
	if (r->out_len != e->out_len) {
		d->fails++;
		note(d, "data_out: expected %zu bytes, got %u", e->out_len, r->out_len);
		return;
	}
	for (size_t i = 0; i < e->out_len; i++) {
		if (e->out[i] != r->out[i]) {
			d->fails++;
			note(d, "data_out differs at offset %zu: expected %02x, got %02x", i, e->out[i],
			     r->out[i]);
			return;
		}
	}
}

/* The frames BPF_PROG_RUN refuses to build a context for (EINVAL), as
 * observed: shorter than Ethernet; on TC also an untagged IPv4/IPv6 frame
 * shorter than its IP header. */
static int kernel_refuses(enum prog_id p, const struct frame *f)
{
	unsigned type;

	if (f->len < 14)
		return 1;
	if (p == P_XDP)
		return 0;
	type = (unsigned)f->b[12] << 8 | f->b[13];
	return (type == 0x0800 && f->len < 14 + 20) || (type == 0x86dd && f->len < 14 + 40);
}

static void hexdump(const struct frame *f)
{
	printf("#   frame (%zu bytes):", f->len);
	for (size_t i = 0; i < f->len; i++)
		printf("%s%02x", i % 32 ? "" : "\n#     ", f->b[i]);
	printf("\n");
}

/* ------------------------------------------------------------------ */
/* Coverage                                                           */
/* ------------------------------------------------------------------ */

#define MAX_RULES 32

static struct {
	const char *rule[N_PROGS][MAX_RULES];
	unsigned long long count[N_PROGS][MAX_RULES];
	unsigned long long reason[N_PROGS][ORACLE_N_REASONS];
	unsigned long long tun[ORACLE_N_TUN_REASONS];
	unsigned long long drops[N_PROGS];
	unsigned long long clamped[N_PROGS]; /* TC: segments whose MSS was lowered */
} cov;

static void cover(enum prog_id p, const struct oracle_result *e, const struct frame *f)
{
	if (p != P_XDP && !e->reason[ORACLE_ARP_OUT_REWRITTEN] && e->out_len == f->len &&
	    memcmp(e->out, f->b, f->len))
		cov.clamped[p]++;
	for (int i = 0; i < MAX_RULES; i++) {
		if (!cov.rule[p][i])
			cov.rule[p][i] = e->rule;
		if (cov.rule[p][i] == e->rule) {
			cov.count[p][i]++;
			break;
		}
	}
	for (int r = 0; r < ORACLE_N_REASONS; r++)
		cov.reason[p][r] += e->reason[r];
	for (int t = 0; t < ORACLE_N_TUN; t++)
		for (int r = 0; r < ORACLE_N_TUN_REASONS; r++)
			cov.tun[r] += e->tun[t][r];
	cov.drops[p] += e->verdict == ORACLE_DROP;
}

/* The reasons each program must have been asked to count at least once. */
static int coverage_ok(char *missing, size_t n)
{
	static const struct { enum prog_id p; enum oracle_reason r; } need[] = {
		{ P_XDP, ORACLE_ARP_IN_DROPPED }, { P_XDP, ORACLE_ND_IN_DROPPED },
		{ P_XDP, ORACLE_VIP_RX },         { P_XDP, ORACLE_MALFORMED },
		{ P_TC, ORACLE_ARP_OUT_DROPPED }, { P_TC, ORACLE_ARP_OUT_REWRITTEN },
		{ P_TC, ORACLE_ND_OUT_DROPPED },  { P_TC_COMPAT, ORACLE_ARP_OUT_DROPPED },
		{ P_TC_COMPAT, ORACLE_ARP_OUT_REWRITTEN }, { P_TC_COMPAT, ORACLE_ND_OUT_DROPPED },
		{ P_XDP, ORACLE_OBSERVE_ARP_IN }, { P_XDP, ORACLE_OBSERVE_ND_IN },
		{ P_TC, ORACLE_OBSERVE_ARP_OUT }, { P_TC, ORACLE_OBSERVE_REWRITE },
		{ P_TC, ORACLE_OBSERVE_ND_OUT },
	};
	size_t len = 0;

	missing[0] = '\0';
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!cov.reason[need[i].p][need[i].r] && len + 64 < n)
			len += snprintf(missing + len, n - len, " %s:%s", prog_name[need[i].p],
					oracle_reason_name[need[i].r]);
	for (int r = 0; r < ORACLE_N_TUN_REASONS; r++)
		if (!cov.tun[r] && len + 64 < n)
			len += snprintf(missing + len, n - len, " lvip_xdp:tunnel %s",
					oracle_tun_reason_name[r]);
	for (int p = P_TC; p <= P_TC_COMPAT; p++)
		if (!cov.clamped[p] && len + 64 < n)
			len += snprintf(missing + len, n - len, " %s:mss_clamp", prog_name[p]);
	return len == 0;
}

/* ------------------------------------------------------------------ */
/* The loop                                                           */
/* ------------------------------------------------------------------ */

struct stats {
	unsigned long long runs, mismatches, refused;
};

static struct stats st[N_PROGS];
static unsigned long long reports, max_reports = MAX_REPORTS;

/* ---- TC egress: MSS clamp ---- */

/* The frame's MSS clamps (the types' enabled flags are tun_cur's): none in
 * three frames; else per type an auto clamp, a fixed one (often within the
 * frames' MSS range) or none. */
static void draw_clamp(struct rng *r)
{
	int none = below(r, 3) == 0;

	for (int t = 0; t < ORACLE_TUN_TYPES; t++) {
		unsigned k = below(r, 100), fixed = chance(r, 80) ? 500 + below(r, 1000) :
				     1 + below(r, 0xfffe);

		clamp.mss[t] = none ? ORACLE_MSS_OFF : k < 40 ? ORACLE_MSS_AUTO :
			       k < 80 ? fixed : ORACLE_MSS_OFF;
	}
}


static void oracle_for(enum prog_id p, enum slot slot, int observe, const struct frame *f,
		       struct oracle_result *e)
{
	int rc = p == P_XDP ? oracle_ingress(f->b, f->len, &vips, &tun_cur, observe, e) :
			      oracle_egress_clamp(f->b, f->len, &vips, &env.iface[slot], observe,
						  &clamp, e);

	if (rc)
		bh_bail("oracle refused a frame of %zu bytes", f->len);
}

/* Run one frame through one program; 1 when the program agreed. */
static int check_one(uint64_t seed, unsigned long long idx, enum prog_id p, enum slot slot,
		     int observe, const struct frame *f, struct snap *before, int verbose)
{
	static struct oracle_result e;
	static struct bh_run r;
	struct diag d = { .len = 0 };
	struct snap after;
	int err, refused = 0;

	oracle_for(p, slot, observe, f, &e);
	bh_run_prog(p, env.ifindex[slot], f->b, (__u32)f->len, &r);
	err = snapshot(&after);
	if (err)
		bh_bail("reading the counters: %s", strerror(-err));
	if (r.err == -EINVAL && kernel_refuses(p, f)) {
		/* no verdict: nothing may have been counted */
		static struct oracle_result none;

		refused = 1;
		st[p].refused++;
		compare_counters(&d, slot, &none, before, &after);
	} else if (r.err) {
		d.fails++;
		note(&d, "BPF_PROG_RUN failed: %s", strerror(-r.err));
		compare_counters(&d, slot, &e, before, &after);
	} else {
		__u32 want = bh_verdict_code(p == P_XDP, e.verdict == ORACLE_DROP);

		cover(p, &e, f);
		if (r.retval != want) {
			d.fails++;
			note(&d, "verdict: expected %s, got %s (%u)", bh_verdict_name(p == P_XDP, want),
			     bh_verdict_name(p == P_XDP, r.retval), r.retval);
		}
		compare_counters(&d, slot, &e, before, &after);
		compare_output(&d, &e, &r);
	}
	*before = after;
	st[p].runs++;
	if (d.fails)
		st[p].mismatches++;
	if (d.fails || verbose) {
		if (!d.fails || reports++ < max_reports) {
			printf("# %s: seed %llu frame %llu %s on %s%s: expected \"%s\"%s\n",
			       d.fails ? "MISMATCH" : "agree", (unsigned long long)seed, idx,
			       prog_name[p], slot_name[slot], observe ? " (observe mode)" : "", e.rule,
			       refused ? " (refused by BPF_PROG_RUN)" : "");
			hexdump(f);
			fputs(d.text, stdout);
			if (d.fails)
				printf("#   replay: build/fuzz_datapath --seed %llu --frame %llu\n",
				       (unsigned long long)seed, idx);
		} else if (reports == max_reports + 1) {
			printf("# (further mismatches counted, not printed)\n");
		}
	}
	return !d.fails;
}

/* The devices of a frame in observe mode or not, as attach sets lvip_ifmode;
 * lvip_observing set whenever they observe, and (as after a detach the
 * loader has not cleared it yet) in some enforce frames too. */
static void set_observe(enum slot slot, int observe, int flag)
{
	__u32 mode = observe ? LVIP_MODE_OBSERVE : LVIP_MODE_ENFORCE, zero = 0, any = observe || flag;
	int fd = bpf_map__fd(bh.skel->maps.lvip_ifmode);

	if (bpf_map_update_elem(fd, &env.ifindex[S_XDP], &mode, BPF_ANY) ||
	    bpf_map_update_elem(fd, &env.ifindex[slot], &mode, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(bh.skel->maps.lvip_observing), &zero, &any, BPF_ANY))
		bh_bail("setting lvip_ifmode: %s", strerror(errno));
}

/* A frame in four is judged with its devices in observe mode. */
static void one_frame(uint64_t seed, unsigned long long idx, struct snap *before, int verbose)
{
	struct frame f;
	struct rng r;
	enum slot slot;
	int observe;

	rng_init(&r, seed, idx);
	build_frame(&f, &r);
	slot = (enum slot)(FIRST_TC_SLOT + below(&r, N_SLOTS - FIRST_TC_SLOT));
	observe = below(&r, 4) == 0;
	set_observe(slot, observe, idx & 1);
	tun_variant(&r);
	draw_clamp(&r);
	put_tunnels();
	check_one(seed, idx, P_XDP, S_XDP, observe, &f, before, verbose);
	check_one(seed, idx, P_TC, slot, observe, &f, before, verbose);
	check_one(seed, idx, P_TC_COMPAT, slot, observe, &f, before, verbose);
}

static uint64_t random_seed(void)
{
	struct timespec ts;
	uint64_t s = 0;
	FILE *u = fopen("/dev/urandom", "rb");

	if (u) {
		if (fread(&s, sizeof(s), 1, u) != 1)
			s = 0;
		fclose(u);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	s ^= (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
	return s % 1000000000000ull; /* short enough to type */
}

static void usage(void)
{
	fprintf(stderr, "usage: fuzz_datapath [--seed S] [--frames N] [--frame I] [--reports N] [--verbose]\n");
	exit(2);
}

static unsigned long long number(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		usage();
	return v;
}

static void print_coverage(void)
{
	for (int p = 0; p < N_PROGS; p++) {
		printf("# %s: oracle rules applied (runs BPF_PROG_RUN accepted):\n", prog_name[p]);
		for (int i = 0; i < MAX_RULES && cov.rule[p][i]; i++)
			printf("#   %9llu  %s\n", cov.count[p][i], cov.rule[p][i]);
	}
}

int main(int argc, char **argv)
{
	unsigned long long frames = 50000, only = 0, total = 0, mism;
	uint64_t seed = 0;
	int have_seed = 0, have_only = 0, verbose = 0, test = 0, cov_fail;
	char why[256] = "", missing[512];
	struct timespec t0, t1;
	struct snap before;
	double secs;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = number(argv[++i]);
			have_seed = 1;
		} else if (!strcmp(argv[i], "--frames") && i + 1 < argc) {
			frames = number(argv[++i]);
		} else if (!strcmp(argv[i], "--frame") && i + 1 < argc) {
			only = number(argv[++i]);
			have_only = 1;
		} else if (!strcmp(argv[i], "--reports") && i + 1 < argc) {
			max_reports = number(argv[++i]);
		} else if (!strcmp(argv[i], "--verbose")) {
			verbose = 1;
		} else {
			usage();
		}
	}
	if (!have_seed)
		seed = random_seed();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (have_only)
		printf("# fuzz: seed %llu, frame %llu only\n", (unsigned long long)seed, only);
	else
		printf("# fuzz: seed %llu (replay: build/fuzz_datapath --seed %llu --frames %llu)\n",
		       (unsigned long long)seed, (unsigned long long)seed, frames);
	init_addresses();
	init_tunnels();
	map_reasons();
	if (bh_prepare(&setup, why, sizeof(why)))
		return bh_unavailable("fuzz_datapath", "the datapath fuzzer", why);
	printf("1..%d\n", have_only ? N_PROGS + 1 : N_PROGS + 2);
	printf("# private netns; XDP runs on %s (ifindex %u); TC runs on lvf0 (two primaries and a"
	       " secondary), lvf2 (no IPv4), lvf3 (lvip_ifaddr count 0), lvf4 (overlapping primaries)\n",
	       slot_name[S_XDP], env.ifindex[S_XDP]);
	if (snapshot(&before))
		bh_bail("reading the counters: %s", strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (have_only) {
		one_frame(seed, only, &before, 1);
		total = 1;
	} else {
		for (unsigned long long i = 0; i < frames; i++)
			one_frame(seed, i, &before, verbose);
		total = frames;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_coverage();
	for (int p = 0; p < N_PROGS; p++)
		printf("%sok %d - %s: %llu frames, %llu mismatches (%llu refused by BPF_PROG_RUN)\n",
		       st[p].mismatches ? "not " : "", ++test, prog_name[p], st[p].runs,
		       st[p].mismatches, st[p].refused);
	if (!have_only) {
		if (frames < MIN_COVERAGE)
			printf("ok %d - every counting row of both tables exercised # SKIP fewer than %d"
			       " frames\n", ++test, MIN_COVERAGE);
		else if (coverage_ok(missing, sizeof(missing)))
			printf("ok %d - every counting row of both tables exercised\n", ++test);
		else
			printf("not ok %d - every counting row of both tables exercised: never expected%s\n",
			       ++test, missing);
	}
	mism = st[P_XDP].mismatches + st[P_TC].mismatches + st[P_TC_COMPAT].mismatches;
	cov_fail = !have_only && frames >= MIN_COVERAGE && !coverage_ok(missing, sizeof(missing));
	printf("%sok %d - oracle and programs agree on every frame\n", mism ? "not " : "", ++test);
	printf("# %llu runs in %.1f s\n", st[P_XDP].runs + st[P_TC].runs + st[P_TC_COMPAT].runs, secs);
	printf("# fuzz: frames %llu, mismatches %llu, seed %llu\n", total, mism,
	       (unsigned long long)seed);
	bh_destroy();
	return mism || cov_fail ? 1 : 0;
}
