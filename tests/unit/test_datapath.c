// SPDX-License-Identifier: GPL-2.0
/*
 * test_datapath.c - datapath unit tests: every case fixture_cases.c makes
 * of the rows of fixtures.h, through BPF_PROG_RUN (bpf_prog_test_run_opts),
 * checking the exact verdict, the exact delta of every counter (global, per
 * interface, per VIP) and the output frame. TAP on stdout. The monitor
 * listens throughout (lvip_mon set, no rate limit in reach): every drop and
 * rewrite must put exactly one event in lvip_events, with its reason, VIP
 * and interface, and nothing else any.
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
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lvip.h"
#include "lvip.skel.h"
#include "bpf_harness.h"
#include "fixture_cases.h"

_Static_assert(BH_OUT_MAX >= 2 * FRAME_MAX, "BPF_PROG_RUN output room for every frame");

/* ------------------------------------------------------------------ */
/* Environment: private netns, skeleton, map contents.                */
/* ------------------------------------------------------------------ */

enum if_slot { S_XDP = 0, S_LVT0, S_LVT2, S_LVT3, N_SLOTS };

static const char *const slot_name[N_SLOTS] = {
	[S_XDP] = "xdp-dev", [S_LVT0] = "lvt0", [S_LVT2] = "lvt2", [S_LVT3] = "lvt3",
};

static struct {
	__u32 ifindex[N_SLOTS];
	const char *xdp_dev;     /* the device XDP runs report */
} env;

#define STR_(x) #x
#define STR(x) STR_(x)

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
	"ip link set dev lvt2 mtu " STR(IF_NOADDR_MTU), /* the MSS clamp's auto limit */
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

static int vip_fd(enum vip_id v)
{
	return fd_of(vip_is_v6(v) ? bh.skel->maps.lvip_vip6 : bh.skel->maps.lvip_vip4);
}

static void vip_key(enum vip_id v, __u8 key[16])
{
	if (vip_is_v6(v))
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
		if (bh_put_vip(vip_fd(v), key, vip_flags[v]))
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

/* lvip_tunnel as fixtures.h describes it, with the row's changes (tc NULL:
 * none): its tunnel type disabled (tun_off), the types its clamp disables,
 * its MSS clamps (struct clamp_spec). */
static int put_tunnels(const struct tcase *tc)
{
	static const __u16 flags[LVIP_TUN_MAX] = {
		[LVIP_TUN_IPIP] = LVIP_TUN_F_ENABLED,
		[LVIP_TUN_GUE] = LVIP_TUN_F_ENABLED,
		[LVIP_TUN_GRE] = LVIP_TUN_F_ENABLED | LVIP_TUN_F_PEERS,
	};
	const struct fixture *fx = tc ? tc->fx : NULL;
	unsigned int off = fx ? fx->clamp.disabled : 0;
	int err = 0;

	if (fx && fx->tun_off)
		off |= 1u << spec_tun_type(&fx->f);
	for (int t = 0; !err && t < LVIP_TUN_MAX; t++)
		err = bh_put_tunnel(t, off & (1u << t) ? flags[t] & ~LVIP_TUN_F_ENABLED : flags[t],
				    t == LVIP_TUN_GUE ? GUE_PORT : 0, fx ? fx->clamp.mss[t] : 0);
	return err;
}

static int put_tunaddr(const char *a, __u32 what)
{
	__u8 key[16];
	int v4 = !strchr(a, ':');

	if (v4)
		frame_addr4(a, key);
	else
		frame_addr6(a, key);
	return bh_put_tunaddr(key, v4, what);
}

/* lvip_tunlocal with one IPv4 address (the IPv6 rows take the hash path). */
static int put_tunlocal4(const char *a)
{
	struct lvip_tunlocal v = { .n4 = 1 };
	__u32 zero = 0;

	frame_addr4(a, v.a4[0]);
	return bpf_map_update_elem(fd_of(bh.skel->maps.lvip_tunlocal), &zero, &v, BPF_ANY) ? -errno : 0;
}

static int fill_tunnels(void)
{
	__u32 gre = LVIP_TUNADDR_PEER(LVIP_TUN_GRE) | LVIP_TUNADDR_PEER(LVIP_TUN_IPIP);
	int err = put_tunnels(NULL);

	err = err ? err : put_tunlocal4(TUN_LOCAL4);
	err = err ? err : put_tunaddr(TUN_LOCAL4, LVIP_TUNADDR_LOCAL);
	err = err ? err : put_tunaddr(TUN_LOCAL6, LVIP_TUNADDR_LOCAL);
	err = err ? err : put_tunaddr(DIRECTOR4, gre);
	err = err ? err : put_tunaddr(DIRECTOR6, gre);
	err = err ? err : put_tunaddr(DIRECTOR_IPIP4, LVIP_TUNADDR_PEER(LVIP_TUN_IPIP));
	err = err ? err : put_tunaddr(DIRECTOR_IPIP6, LVIP_TUNADDR_PEER(LVIP_TUN_IPIP));
	errno = -err;
	return err ? -1 : 0;
}

static const struct bh_setup setup = {
	.netns_cmds = netns_cmds, .n_netns_cmds = BH_ARRAY_SIZE(netns_cmds),
	.find_ifaces = find_veths, .probe_xdp_ctx = probe_xdp_ctx,
	.fill_vips = fill_vips, .fill_ifaddr = fill_ifaddr, .fill_tunnels = fill_tunnels,
	.ifindex = env.ifindex, .n_ifaces = N_SLOTS,
};

/* ------------------------------------------------------------------ */
/* Counter snapshots                                                  */
/* ------------------------------------------------------------------ */

static const char *const reason_name[LVIP_R_MAX] = LVIP_REASON_NAMES;
static const char *const tun_reason_name[LVIP_T_MAX] = LVIP_TUN_REASON_NAMES;
static const char *const tun_name[LVIP_TUN_MAX] = LVIP_TUN_NAMES;

struct snap {
	__u64 global[LVIP_R_MAX];
	__u64 ifc[N_SLOTS][LVIP_R_MAX];
	__u64 vip[N_VIP_IDS][N_VF];
	__u64 tun[LVIP_TUN_MAX][LVIP_T_MAX];
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
	return err ? err : bh_read_tunstats(s->tun);
}

/* ------------------------------------------------------------------ */
/* Monitor events                                                     */
/* ------------------------------------------------------------------ */

#define EVENTS_MAX 4

static struct {
	struct ring_buffer *rb;
	struct lvip_event ev[EVENTS_MAX];
	int n;
} mon;

static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (mon.n < EVENTS_MAX && size >= sizeof(struct lvip_event))
		memcpy(&mon.ev[mon.n], data, sizeof(struct lvip_event));
	mon.n++;
	return 0;
}

/* A monitor listening, with a rate no case run can reach. */
static int monitor_listen(void)
{
	struct lvip_mon m = { .pid = (__u32)getpid(), .rate = 1000000, .interval_ns = 1000 };
	__u32 zero = 0;

	if (bpf_map_update_elem(fd_of(bh.skel->maps.lvip_mon), &zero, &m, BPF_ANY))
		return -errno;
	mon.rb = ring_buffer__new(fd_of(bh.skel->maps.lvip_events), on_event, NULL, NULL);
	return mon.rb ? 0 : -errno;
}

static int monitor_collect(void)
{
	mon.n = 0;
	return ring_buffer__consume(mon.rb) < 0 ? -1 : mon.n;
}

/* ------------------------------------------------------------------ */
/* Cases (fixture_cases.c) and the interface each one runs on         */
/* ------------------------------------------------------------------ */

static struct tcase *cases;
static size_t n_cases;

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

static const struct expect nothing = { .act = PASS };

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

static void check_counters(struct diag *d, enum if_slot slot, const struct expect *e,
			   const struct snap *b, const struct snap *a)
{
	char map[64];
	uint64_t w[N_VF];

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
	for (int t = 0; t < LVIP_TUN_MAX; t++) {
		snprintf(map, sizeof(map), "lvip_tunstats[%s]", tun_name[t]);
		for (int r = 0; r < LVIP_T_MAX; r++)
			check_delta(d, map, tun_reason_name[r], b->tun[t][r], a->tun[t][r],
				    t == e->tun_type && e->tun == r + 1);
	}
}

/* Drops and rewrites (every reason but vip_rx and malformed) make one
 * event each; passes none. */
static void check_events(struct diag *d, enum if_slot slot, const struct expect *e)
{
	int r = e->reason - 1, want = e->reason && r != LVIP_R_VIP_RX && r != LVIP_R_MALFORMED;
	int n = monitor_collect();
	__u8 key[16] = { 0 };

	if (n != want) {
		failf(d, "monitor: expected %d event(s), got %d", want, n);
		return;
	}
	if (!n)
		return;
	if (mon.ev[0].reason != r)
		failf(d, "monitor: event reason %s, expected %s", reason_name[mon.ev[0].reason % LVIP_R_MAX],
		      reason_name[r]);
	if (mon.ev[0].ifindex != env.ifindex[slot])
		failf(d, "monitor: event ifindex %u, expected %u", mon.ev[0].ifindex, env.ifindex[slot]);
	if (e->vip == NO_VIP)
		return;
	vip_key(e->vip, key);
	if (memcmp(mon.ev[0].vip, key, vip_is_v6(e->vip) ? 16 : 4))
		failf(d, "monitor: event VIP is not %s", vip_addr[e->vip]);
}

static void check_data(struct diag *d, const struct tcase *tc, const struct expect *e,
		       const __u8 *in, __u32 len, const struct bh_run *r)
{
	size_t sip = case_arp_sip(tc), want_len;
	__u8 want[FRAME_MAX];
	char gs[INET_ADDRSTRLEN];

	want_len = want_data(tc, e, in, len, want);
	if (r->out_len != want_len) {
		failf(d, "data_out: expected %zu bytes, got %u", want_len, r->out_len);
		return;
	}
	len = (__u32)want_len;
	if (!tcp_checksum_ok(tc, r->out, len))
		failf(d, "data_out: the TCP checksum does not verify");
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
			failf(d, "data_out differs from the expected frame at offset %zu: expected %02x, got %02x",
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

	if (k == K_TUN)
		k = tc->fx->f.tun.outer6 ? K_IPV6 : K_IPV4;
	if (k == K_TCP)
		k = tc->fx->f.tcp.v6 ? K_IPV6 : K_IPV4;
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
	enum if_slot slot = case_slot(tc);
	const char *dev = slot == S_XDP ? env.xdp_dev : slot_name[slot];
	int k = snprintf(buf, n, "%s(%s): ", prog_name[tc->prog], dev);

	if (k > 0 && (size_t)k < n)
		case_label(tc, f, buf + k, n - k);
	k = (int)strlen(buf);
	if (refused && (size_t)k < n)
		snprintf(buf + k, n - k, ": kernel refused BPF_PROG_RUN (EINVAL, %s),"
			 " no verdict; checked nothing counted", refused);
}

/* The case's device in the row's mode, as attach --observe sets it (and
 * lvip_observing with it: only the case's device may observe); lvip_tunnel
 * as the row says (put_tunnels). */
static int set_observe(const struct tcase *tc)
{
	__u32 mode = tc->fx->observe ? LVIP_MODE_OBSERVE : LVIP_MODE_ENFORCE, zero = 0;
	__u32 any = tc->fx->observe;
	int err;

	if (bpf_map_update_elem(fd_of(bh.skel->maps.lvip_observing), &zero, &any, BPF_ANY))
		return -errno;
	err = put_tunnels(tc);
	if (err)
		return err;
	return bpf_map_update_elem(fd_of(bh.skel->maps.lvip_ifmode), &env.ifindex[case_slot(tc)],
				   &mode, BPF_ANY) ? -errno : 0;
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
	snap_err = set_observe(tc);
	if (snap_err)
		failf(&d, "setting the mode: %s", strerror(-snap_err));
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
	check_events(&d, case_slot(tc), &e);
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
	if (monitor_listen()) {
		printf("Bail out! cannot listen to lvip_events: %s\n", strerror(errno));
		bh_destroy();
		return 1;
	}
	n_cases = collect_cases(&cases);
	printf("1..%zu\n", n_cases);
	printf("# private netns; XDP runs %s (ifindex %u); TC runs pass __sk_buff.ifindex\n",
	       bh.xdp_ctx ? "pass ctx_in.ingress_ifindex of lvt1" : "use the default ctx: lo",
	       env.ifindex[S_XDP]);
	for (size_t i = 0; i < n_cases; i++)
		failed += !run_case(i + 1, &cases[i]);
	printf("# %zu cases: %zu passed, %zu failed\n", n_cases, n_cases - failed, failed);
	ring_buffer__free(mon.rb);
	bh_destroy();
	free(cases);
	return failed ? 1 : 0;
}
