// SPDX-License-Identifier: GPL-2.0
/*
 * test_datapath.c - datapath unit tests: every row of fixtures.h through
 * BPF_PROG_RUN (bpf_prog_test_run_opts), checking the exact verdict, the
 * exact delta of every counter (global, per interface, per VIP) and the
 * output frame. TAP on stdout. Each row's frame is written with the frame
 * builder the fuzzer uses too (tests/lib/frame.h).
 *
 * The binary moves itself into a private network namespace first and builds
 * its veth pairs there: nothing in the root namespace is touched and no
 * packet is sent anywhere (BPF_PROG_RUN only).
 *
 *   LVIP_REQUIRE_BPF=1   fail (instead of skip) when BPF cannot be used
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lvip.h"
#include "lvip.skel.h"
#include "bpf_harness.h"
#include "fixtures.h"
#include "frame.h"

#define VLAN_HLEN    4
#define UDP_PAYLOAD  "lvip-fixture"
#define UDP_PAYLOAD_LEN (sizeof(UDP_PAYLOAD) - 1)

_Static_assert(BH_OUT_MAX >= 2 * FRAME_MAX, "BPF_PROG_RUN output room for every frame");

/* ------------------------------------------------------------------ */
/* Fixture frames: a frame_spec, written with frame.h                 */
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
	f->needed = f->len;
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
	f->needed = start + 20;
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

static void put_icmp6(struct frame *f, const struct ip6_spec *s)
{
	__u8 target[16];
	const struct frame_nd_fields nd = {
		.type = s->type,
		.flags = s->type == NA ? 0x20000000 : 0, /* NA: override */
		.target = target,
	};

	spec_addr6(s->target, target);
	frame_nd(f, &nd);
	f->needed = f->len;
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
	f->needed = f->len;
	for (int i = 0; i < n; i++)
		put_ext(f, s->ext[i], i + 1 < n ? ext_proto(s->ext[i + 1]) : l4proto);
	l4 = f->len;
	if (s->l4 == L4_ICMP6)
		put_icmp6(f, s);
	else
		put_udp(f);
	frame_set16(f, start + 4, f->len - start - 40);
	frame_ipv6_l4_checksum(f, start, l4, l4proto, s->l4 == L4_ICMP6 ? 2 : 6);
}

/* Any other EtherType: a few bytes shaped like an LLDP chassis-id TLV. */
static void put_payload(struct frame *f)
{
	static const __u8 lldp_like[] = { 0x02, 0x07, 0x04, 0x02, 0, 0, 0, 0, 0x01, 0x00, 0x00 };

	f->needed = f->len;
	frame_put(f, lldp_like, sizeof(lldp_like));
}

static void build_frame(const struct frame_spec *s, int tags, struct frame *f)
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
	default:
		put_payload(f);
		break;
	}
	if (f->len < s->pad_to)
		frame_zero(f, s->pad_to - f->len);
	if (f->overflow)
		bh_bail("fixture frame longer than %d bytes", FRAME_MAX);
}

/* ------------------------------------------------------------------ */
/* Environment: private netns, skeleton, map contents.                */
/* ------------------------------------------------------------------ */

enum if_slot { S_XDP = 0, S_LVT0, S_LVT2, S_LVT3, N_SLOTS };

static const char *const slot_name[N_SLOTS] = {
	[S_XDP] = "xdp-dev", [S_LVT0] = "lvt0", [S_LVT2] = "lvt2", [S_LVT3] = "lvt3",
};

static const char *const prog_name[] = {
	[P_XDP] = "xdp", [P_TC] = "tc", [P_TC_COMPAT] = "tc_compat",
};

static struct {
	__u32 ifindex[N_SLOTS];
	const char *xdp_dev;     /* the device XDP runs report */
} env;

static const char *const netns_cmds[] = {
	/* lvt2 and lvt3 share lvip_ifslot slots with lvt0 and lvt1 (ifindex
	 * modulo LVIP_IFSLOTS), which claim them first: every case checks the
	 * slot owner's counters and the lvip_ifstats fallback's, apart. */
	"ip link add lvt0 index 10 type veth peer name lvt1 index 11",
	"ip link add lvt2 index 266 type veth peer name lvt3 index 267",
	/* no IPv6 link-local: not even DAD/RS between the private veths */
	"ip link set dev lvt0 addrgenmode none",
	"ip link set dev lvt1 addrgenmode none",
	"ip link set dev lvt2 addrgenmode none",
	"ip link set dev lvt3 addrgenmode none",
	"ip link set dev lvt0 up",
	"ip link set dev lvt1 up",
	"ip link set dev lvt2 up",
	"ip link set dev lvt3 up",
	"ip addr add " IF_ADDR1 "/24 dev lvt0",
	"ip addr add " IF_ADDR2 "/24 dev lvt0",
};

static int find_veths(char *why, size_t n)
{
	env.ifindex[S_LVT0] = if_nametoindex("lvt0");
	env.ifindex[S_LVT2] = if_nametoindex("lvt2");
	env.ifindex[S_LVT3] = if_nametoindex("lvt3");
	if (!env.ifindex[S_LVT0] || !env.ifindex[S_LVT2] || !env.ifindex[S_LVT3]) {
		snprintf(why, n, "private netns setup: veth not found");
		return -1;
	}
	return 0;
}

static int fd_of(struct bpf_map *m)
{
	return bpf_map__fd(m);
}

static const char *const vip_addr[N_VIP_IDS] = {
	[V_A] = VIP_A, [V_B] = VIP_B, [V_6] = VIP6,
};

static int vip_fd(enum vip_id v)
{
	return fd_of(v == V_6 ? bh.skel->maps.lvip_vip6 : bh.skel->maps.lvip_vip4);
}

static void vip_key(enum vip_id v, __u8 key[16])
{
	if (v == V_6)
		frame_addr6(vip_addr[v], key);
	else
		frame_addr4(vip_addr[v], key);
}

static int fill_ifaddr(void)
{
	int fd = fd_of(bh.skel->maps.lvip_ifaddr);
	struct lvip_ifaddr main_if = { .count = 2 }, empty = { .count = 0 };

	frame_addr4(IF_ADDR1, main_if.a[0].addr);
	frame_addr4("255.255.255.0", main_if.a[0].mask);
	frame_addr4(IF_ADDR2, main_if.a[1].addr);
	frame_addr4("255.255.255.0", main_if.a[1].mask);
	if (bpf_map_update_elem(fd, &env.ifindex[S_LVT0], &main_if, BPF_ANY) ||
	    bpf_map_update_elem(fd, &env.ifindex[S_LVT3], &empty, BPF_ANY))
		return -1;
	if (bpf_map_delete_elem(fd, &env.ifindex[S_LVT2]) && errno != ENOENT)
		return -1;
	return 0;
}

static int fill_vips(void)
{
	__u8 key[16];

	for (int v = V_A; v < N_VIP_IDS; v++) {
		vip_key(v, key);
		if (bh_put_percpu_zero(vip_fd(v), key, sizeof(struct lvip_vip_val)))
			return -1;
	}
	return 0;
}

/* Can XDP runs name their ingress device (ctx_in.ingress_ifindex, which
 * needs a registered rx queue)? Try on lvt1, else the default ctx: the
 * namespace's loopback, ifindex 1. */
static void probe_xdp_ctx(void)
{
	static const struct frame_spec lldp = { ETHERTYPE(0x88cc) };
	struct frame f;

	build_frame(&lldp, 0, &f);
	env.xdp_dev = "lvt1";
	env.ifindex[S_XDP] = if_nametoindex("lvt1");
	if (env.ifindex[S_XDP] && bh_probe_xdp_ctx(env.ifindex[S_XDP], f.b, f.len))
		return;
	bh.xdp_ctx = 0;
	env.xdp_dev = "lo";
	env.ifindex[S_XDP] = 1;
}

static const struct bh_setup setup = {
	.netns_cmds = netns_cmds, .n_netns_cmds = BH_ARRAY_SIZE(netns_cmds),
	.find_ifaces = find_veths, .probe_xdp_ctx = probe_xdp_ctx,
	.fill_vips = fill_vips, .fill_ifaddr = fill_ifaddr,
	.ifindex = env.ifindex, .n_ifaces = N_SLOTS,
};

/* ------------------------------------------------------------------ */
/* Counter snapshots                                                  */
/* ------------------------------------------------------------------ */

static const char *const reason_name[LVIP_R_MAX] = LVIP_REASON_NAMES;

struct snap {
	__u64 global[LVIP_R_MAX];
	__u64 ifc[N_SLOTS][LVIP_R_MAX];
	__u64 vip[N_VIP_IDS][N_VF];
};

static int read_vip(enum vip_id id, __u64 out[N_VF])
{
	__u8 key[16];

	vip_key(id, key);
	return bh_read_vip(vip_fd(id), key, out);
}

static int snapshot(struct snap *s)
{
	int err = bh_read_stats(s->global, env.ifindex, N_SLOTS, s->ifc);

	for (int v = V_A; !err && v < N_VIP_IDS; v++)
		err = read_vip(v, s->vip[v]);
	return err;
}

/* ------------------------------------------------------------------ */
/* Cases: the fixture table times encapsulations, programs, lengths.  */
/* ------------------------------------------------------------------ */

struct tcase {
	const struct fixture *fx;
	enum prog_id prog;
	int tags;
	int len; /* -1: the whole frame */
};

static struct tcase *cases;
static size_t n_cases, cap_cases;

static void add_case(const struct fixture *fx, enum prog_id p, int tags, int len)
{
	if (n_cases == cap_cases) {
		cap_cases = cap_cases ? 2 * cap_cases : 256;
		cases = realloc(cases, cap_cases * sizeof(*cases));
		if (!cases)
			bh_bail("out of memory");
	}
	cases[n_cases++] = (struct tcase){ .fx = fx, .prog = p, .tags = tags, .len = len };
}

static enum hook prog_hook(enum prog_id p)
{
	return p == P_XDP ? XDP : TC;
}

/* The table is the oracle: refuse rows that contradict themselves. */
static void lint_fixture(const struct fixture *fx)
{
	int charges = fx->reason == R(ARP_IN_DROPPED) || fx->reason == R(ARP_OUT_DROPPED) ||
		      fx->reason == R(ND_IN_DROPPED) || fx->reason == R(ND_OUT_DROPPED) ||
		      fx->reason == R(VIP_RX);

	if (charges != (fx->vip != NO_VIP) || (fx->act == REWRITE) != (fx->rewrite != NULL) ||
	    (fx->act == REWRITE && fx->hook != TC) || (fx->reason == R(VIP_RX)) != (fx->vip_bytes != 0))
		bh_bail("inconsistent fixture row: %s", fx->name);
}

static void add_fixture_cases(const struct fixture *fx)
{
	int lo = fx->f.tags3 ? 3 : 0, hi = fx->f.tags3 ? 3 : 2;

	lint_fixture(fx);
	for (int tags = lo; tags <= hi; tags++) {
		if (fx->hook == XDP) {
			add_case(fx, P_XDP, tags, -1);
		} else {
			add_case(fx, P_TC, tags, -1);
			add_case(fx, P_TC_COMPAT, tags, -1);
		}
	}
}

static void add_trunc_cases(const struct fixture *fx)
{
	struct frame f;

	for (int tags = 0; tags <= 2; tags++) {
		build_frame(&fx->f, tags, &f);
		for (int len = 0; len < (int)f.len; len++) {
			if (fx->trunc & TR_XDP)
				add_case(fx, P_XDP, tags, len);
			if (fx->trunc & TR_TC)
				add_case(fx, P_TC, tags, len);
		}
	}
}

static void collect_cases(void)
{
	for (size_t i = 0; i < N_FIXTURES; i++)
		add_fixture_cases(&fixtures[i]);
	for (size_t i = 0; i < N_FIXTURES; i++)
		if (fixtures[i].trunc)
			add_trunc_cases(&fixtures[i]);
}

static enum if_slot case_slot(const struct tcase *tc)
{
	static const enum if_slot tc_slot[] = {
		[IF_MAIN] = S_LVT0, [IF_NOADDR] = S_LVT2, [IF_EMPTY] = S_LVT3,
	};

	return tc->prog == P_XDP ? S_XDP : tc_slot[tc->fx->iface];
}

/* ------------------------------------------------------------------ */
/* Expectations and checks                                            */
/* ------------------------------------------------------------------ */

struct expect {
	enum action act;
	int reason;
	enum vip_id vip;
	__u32 vip_bytes;
	const char *rewrite;
};

static const struct expect nothing = { .act = PASS };

/* A frame cut before the end of the headers the datapath judges passes:
 * ingress counts it malformed, egress counts nothing. A longer cut (only
 * ND options missing) is judged like the whole frame. */
static struct expect expect_for(const struct tcase *tc, const struct frame *f)
{
	const struct fixture *fx = tc->fx;
	enum hook hook = prog_hook(tc->prog);
	struct expect e = nothing;

	if (tc->len >= 0 && (size_t)tc->len < f->needed) {
		if (hook == XDP)
			e.reason = R(MALFORMED);
		return e;
	}
	if (hook != fx->hook)
		return e;
	return (struct expect){ fx->act, fx->reason, fx->vip, fx->vip_bytes, fx->rewrite };
}

struct diag {
	char text[4096];
	size_t len;
	int fails;
};

static void failf(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void failf(struct diag *d, const char *fmt, ...)
{
	va_list ap;

	d->fails++;
	va_start(ap, fmt);
	bh_vnote(d->text, sizeof(d->text), &d->len, 8, "# ", fmt, ap);
	va_end(ap);
}

static void check_delta(struct diag *d, const char *map, const char *field,
			__u64 before, __u64 after, __u64 want)
{
	if (after - before != want)
		failf(d, "%s.%s: expected +%llu, got %+lld", map, field,
		      (unsigned long long)want, (long long)(after - before));
}

static void check_reasons(struct diag *d, const char *map, const __u64 *before,
			  const __u64 *after, int reason)
{
	for (int r = 0; r < LVIP_R_MAX; r++)
		check_delta(d, map, reason_name[r], before[r], after[r], reason == r + 1);
}

static void want_vip(const struct expect *e, enum vip_id v, __u64 w[N_VF])
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

static void check_counters(struct diag *d, enum if_slot slot, const struct expect *e,
			   const struct snap *b, const struct snap *a)
{
	char map[64];
	__u64 w[N_VF];

	check_reasons(d, "lvip_stats", b->global, a->global, e->reason);
	for (int s = 0; s < N_SLOTS; s++) {
		snprintf(map, sizeof(map), "lvip_ifstats[%s]", slot_name[s]);
		check_reasons(d, map, b->ifc[s], a->ifc[s], s == (int)slot ? e->reason : 0);
	}
	for (int v = V_A; v < N_VIP_IDS; v++) {
		want_vip(e, v, w);
		snprintf(map, sizeof(map), "vip[%s]", vip_addr[v]);
		for (int f = 0; f < N_VF; f++)
			check_delta(d, map, bh_vf_name[f], b->vip[v][f], a->vip[v][f], w[f]);
	}
}

static void check_data(struct diag *d, const struct tcase *tc, const struct expect *e,
		       const __u8 *in, __u32 len, const struct bh_run *r)
{
	size_t sip = ETH_HLEN + VLAN_HLEN * tc->tags + FRAME_ARP_SPA;
	__u8 want[FRAME_MAX];
	char gs[INET_ADDRSTRLEN];

	if (r->out_len != len) {
		failf(d, "data_out: expected %u bytes, got %u", len, r->out_len);
		return;
	}
	memcpy(want, in, len);
	if (e->rewrite)
		frame_addr4(e->rewrite, want + sip);
	if (!memcmp(want, r->out, len))
		return;
	if (e->rewrite) {
		inet_ntop(AF_INET, r->out + sip, gs, sizeof(gs));
		failf(d, "data_out: expected sender IP %s at offset %zu, got %s%s", e->rewrite,
		      sip, gs, memcmp(want, r->out, sip) ? " (and other bytes changed)" : "");
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (want[i] != r->out[i]) {
			failf(d, "data_out differs from data_in at offset %zu: expected %02x, got %02x",
			      i, want[i], r->out[i]);
			return;
		}
	}
}

/* The shortest frame BPF_PROG_RUN builds a context for, as observed:
 * ETH_HLEN for both hooks; TC also wants the whole IPv4/IPv6 header of an
 * untagged IPv4/IPv6 frame (it reads it to fill a dummy socket). */
static __u32 kernel_min_len(const struct tcase *tc, const char **why)
{
	enum frame_kind k = tc->fx->f.kind;

	*why = "data < ETH_HLEN";
	if (tc->prog == P_XDP || tc->tags)
		return ETH_HLEN;
	if (k == K_IPV4) {
		*why = "TC test_run needs the IPv4 header of an untagged IPv4 frame";
		return ETH_HLEN + 20;
	}
	if (k == K_IPV6) {
		*why = "TC test_run needs the IPv6 header of an untagged IPv6 frame";
		return ETH_HLEN + 40;
	}
	return ETH_HLEN;
}

static void case_name(const struct tcase *tc, const struct frame *f, const char *refused,
		      char *buf, size_t n)
{
	static const char *const encap[] = {
		"", " [802.1Q]", " [802.1ad+802.1Q]", " [802.1ad+802.1Q+802.1Q]",
	};
	enum if_slot slot = case_slot(tc);
	const char *dev = slot == S_XDP ? env.xdp_dev : slot_name[slot];
	int k = snprintf(buf, n, "%s(%s): %s%s", prog_name[tc->prog], dev, tc->fx->name,
			 encap[tc->tags]);

	if (tc->len >= 0 && k > 0 && (size_t)k < n)
		k += snprintf(buf + k, n - k, ", truncated to %d of %zu bytes%s", tc->len, f->len,
			      (size_t)tc->len >= f->needed ?
			      " (only the ND option cut: judged as the whole frame)" : "");
	if (refused && k > 0 && (size_t)k < n)
		snprintf(buf + k, n - k, ": kernel refused BPF_PROG_RUN (EINVAL, %s),"
			 " no verdict; checked nothing counted", refused);
}

/* One case: run, compare, print its TAP line. Returns 1 when it passed. */
static int run_case(size_t no, const struct tcase *tc)
{
	static struct bh_run r;
	struct snap before, after;
	struct diag d = { .len = 0 };
	enum hook hook = prog_hook(tc->prog);
	struct frame f;
	struct expect e;
	__u32 len, want;
	char name[512];
	const char *refused = NULL, *why;
	int snap_err;

	build_frame(&tc->fx->f, tc->tags, &f);
	len = tc->len < 0 ? f.len : (__u32)tc->len;
	e = expect_for(tc, &f);
	snap_err = snapshot(&before);
	bh_run_prog(tc->prog, env.ifindex[case_slot(tc)], f.b, len, &r);
	if (!snap_err)
		snap_err = snapshot(&after);
	if (snap_err)
		failf(&d, "reading the counters: %s", strerror(-snap_err));
	if (r.err == -EINVAL && len < kernel_min_len(tc, &why)) {
		refused = why;
		e = nothing;
	} else if (r.err) {
		failf(&d, "BPF_PROG_RUN failed: %s", strerror(-r.err));
	} else {
		want = bh_verdict_code(hook == XDP, e.act == DROP);
		if (r.retval != want)
			failf(&d, "verdict: expected %s (%u), got %s (%u)",
			      bh_verdict_name(hook == XDP, want), want,
			      bh_verdict_name(hook == XDP, r.retval), r.retval);
		check_data(&d, tc, &e, f.b, len, &r);
	}
	if (!snap_err)
		check_counters(&d, case_slot(tc), &e, &before, &after);
	case_name(tc, &f, refused, name, sizeof(name));
	printf("%sok %zu - %s\n%s", d.fails ? "not " : "", no, name, d.text);
	return !d.fails;
}

int main(void)
{
	char why[256] = "";
	size_t failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (bh_prepare(&setup, why, sizeof(why)))
		return bh_unavailable("test_datapath", "every datapath test", why);
	collect_cases();
	printf("1..%zu\n", n_cases);
	printf("# private netns; XDP runs %s (ifindex %u); TC runs pass __sk_buff.ifindex\n",
	       bh.xdp_ctx ? "pass ctx_in.ingress_ifindex of lvt1" : "use the default ctx: lo",
	       env.ifindex[S_XDP]);
	for (size_t i = 0; i < n_cases; i++)
		failed += !run_case(i + 1, &cases[i]);
	printf("# %zu cases: %zu passed, %zu failed\n", n_cases, n_cases - failed, failed);
	bh_destroy();
	free(cases);
	return failed ? 1 : 0;
}
