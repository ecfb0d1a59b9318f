// SPDX-License-Identifier: GPL-2.0
/*
 * fixtures_vs_oracle.c - the two oracles of the datapath tests against each
 * other: every case of the fixture table (fixtures.h, the cases
 * test_datapath runs: every row under each VLAN encapsulation, through each
 * program it runs on, at each length of its truncation sweep) is also judged
 * by the independent oracle the fuzzer uses (tests/fuzz/oracle.c), and the
 * two must say the same: the verdict, the reason counted, every VIP's
 * counters and the bytes of the frame afterwards. So must they on the rows
 * test_datapath does not sweep through their own hook, cut there at every
 * length ("sweep" cases): the table's truncation rule holds for every row,
 * not only for those marked .trunc.
 *
 * make runs it before it links test_datapath: a disagreement fails the
 * build, naming the case and what each side says. No BPF is involved; the
 * oracle is given what test_datapath puts in the maps and on its interfaces
 * (fixtures.h): the VIPs VIP_A, VIP_B and VIP6; lvt0 with IF_ADDR1/24 and
 * IF_ADDR2/24, both primary; lvt2 and lvt3 without IPv4 address.
 *
 * The table's expectation of a case is compared, also for the few lengths
 * BPF_PROG_RUN refuses to run (test_datapath then checks that nothing is
 * counted): the refusal is the kernel's, not the datapath's.
 *
 *   build/fixtures_vs_oracle [-v]   -v: one line per case
 *
 * Exit 0 when the two agree on every case, 1 otherwise.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_cases.h"
#include "oracle.h"

static const char *const abi_reason[LVIP_R_MAX] = LVIP_REASON_NAMES;
static const char *const abi_tun[LVIP_TUN_MAX] = LVIP_TUN_NAMES;
static const char *const abi_tun_reason[LVIP_T_MAX] = LVIP_TUN_REASON_NAMES;
static const char *const vf_name[N_VF] = VF_NAMES;

/* ABI reason index -> the oracle's, matched by name as the fuzzer does;
 * the same for the tunnel types and reasons. */
static int reason_map[LVIP_R_MAX], tun_map[LVIP_TUN_MAX], tun_reason_map[LVIP_T_MAX];

static struct oracle_vips vips;
static struct oracle_tunnels tunnels;
static struct oracle_iface ifaces[IF_EMPTY + 1];

/* Where each VIP of the table sits in the oracle's lists. */
static const struct {
	int v6;
	size_t idx;
} vip_slot[N_VIP_IDS] = {
	[V_A] = { 0, 0 }, [V_B] = { 0, 1 }, [V_6] = { 1, 0 }, [V_REL] = { 0, 2 }, [V_REL6] = { 1, 1 },
};

static void die(const char *msg)
{
	fprintf(stderr, "fixtures_vs_oracle: %s\n", msg);
	exit(1);
}

static void add_taddr(const char *s, int local, int peer_ipip, int peer_gre)
{
	if (oracle_tunnels_add(&tunnels, s, local, peer_ipip, 0, peer_gre))
		die("a tunnel address the oracle cannot take");
}

/* The tunnels test_datapath configures (fixtures.h): all enabled, GRE from
 * its peers only. */
static void setup_tunnels(void)
{
	for (int t = 0; t < LVIP_TUN_MAX; t++) {
		tun_map[t] = oracle_tun_index(abi_tun[t]);
		if (tun_map[t] < 0)
			die("an ABI tunnel type unknown to the oracle");
		tunnels.enabled[tun_map[t]] = 1;
	}
	for (int r = 0; r < LVIP_T_MAX; r++) {
		tun_reason_map[r] = oracle_tun_reason_index(abi_tun_reason[r]);
		if (tun_reason_map[r] < 0)
			die("an ABI tunnel reason unknown to the oracle");
	}
	tunnels.peers_only[ORACLE_TUN_GRE] = 1;
	tunnels.gue_port = GUE_PORT;
	add_taddr(TUN_LOCAL4, 1, 0, 0);
	add_taddr(TUN_LOCAL6, 1, 0, 0);
	add_taddr(DIRECTOR4, 0, 1, 1);
	add_taddr(DIRECTOR6, 0, 1, 1);
	add_taddr(DIRECTOR_IPIP4, 0, 1, 0);
	add_taddr(DIRECTOR_IPIP6, 0, 1, 0);
}

static void setup(void)
{
	struct oracle_addr4 *a;

	_Static_assert((int)LVIP_TUN_MAX == (int)ORACLE_N_TUN, "the oracle names every tunnel type");
	_Static_assert((int)LVIP_T_MAX == (int)ORACLE_N_TUN_REASONS,
		       "the oracle names every tunnel reason");
	setup_tunnels();

	_Static_assert((int)LVIP_R_MAX == (int)ORACLE_N_REASONS, "the oracle names every reason");
	for (int r = 0; r < LVIP_R_MAX; r++) {
		reason_map[r] = oracle_reason_index(abi_reason[r]);
		if (reason_map[r] < 0)
			die("an ABI reason unknown to the oracle");
	}
	for (int v = V_A; v < N_VIP_IDS; v++) {
		int released = (vip_flags[v] & LVIP_VIP_F_RELEASED) != 0;

		if (vip_slot[v].v6 != vip_is_v6(v))
			die("vip_slot disagrees with the table on a VIP's family");
		if (vip_slot[v].v6) {
			frame_addr6(vip_addr[v], vips.v6[vip_slot[v].idx]);
			vips.released6[vip_slot[v].idx] = released;
			vips.n6++;
		} else {
			frame_addr4(vip_addr[v], vips.v4[vip_slot[v].idx]);
			vips.released4[vip_slot[v].idx] = released;
			vips.n4++;
		}
	}
	/* IF_NOADDR and IF_EMPTY: no address at all */
	a = ifaces[IF_MAIN].a;
	frame_addr4(IF_ADDR1, a[0].addr);
	a[0].prefix_len = 24;
	frame_addr4(IF_ADDR2, a[1].addr);
	a[1].prefix_len = 24;
	ifaces[IF_MAIN].n = 2;
	ifaces[IF_MAIN].mtu = IF_MAIN_MTU;
	ifaces[IF_NOADDR].mtu = IF_NOADDR_MTU;
	ifaces[IF_EMPTY].mtu = IF_EMPTY_MTU;
}

/* ---- TC egress: MSS clamp ---- */

/* The row's lvip_tunnel clamps, in the oracle's terms (off_type: the row's
 * disabled tunnel type, or -1), as test_datapath's put_tunnels writes them. */
static void row_clamp(const struct fixture *fx, int off_type, struct oracle_clamp *cl)
{
	_Static_assert(LVIP_TUN_MAX == ORACLE_TUN_TYPES, "the oracle knows every tunnel type");
	_Static_assert(LVIP_MSS_AUTO == ORACLE_MSS_AUTO && LVIP_MSS_OFF == ORACLE_MSS_OFF,
		       "the oracle's MSS clamp values are the ABI's");
	for (int t = 0; t < LVIP_TUN_MAX; t++) {
		cl->mss[t] = fx->clamp.mss[t];
		cl->enabled[t] = t != off_type && !(fx->clamp.disabled & (1u << t));
	}
}

/* One side's answer, in the same terms for both. */
struct answer {
	int drop;
	uint64_t reason[LVIP_R_MAX];
	uint64_t vip[N_VIP_IDS][N_VF];
	uint64_t tun[LVIP_TUN_MAX][LVIP_T_MAX];
	uint8_t out[FRAME_MAX];
	size_t out_len;
	const char *rule; /* the oracle's, for humans */
};

static void table_answer(const struct tcase *tc, const struct frame *f, size_t len,
			 struct answer *t)
{
	struct expect e = expect_for(tc, f);

	memset(t, 0, sizeof(*t));
	t->drop = e.act == DROP;
	if (e.reason)
		t->reason[e.reason - 1] = 1;
	for (int v = V_A; v < N_VIP_IDS; v++)
		want_vip(&e, v, t->vip[v]);
	if (e.tun)
		t->tun[e.tun_type][e.tun - 1] = 1;
	t->out_len = want_data(tc, &e, f->b, len, t->out);
}

static void oracle_answer(const struct tcase *tc, const struct frame *f, size_t len,
			  struct answer *o)
{
	static struct oracle_result res;
	struct oracle_clamp cl;
	int rc;

	struct oracle_tunnels tun = tunnels;
	int off = tc->fx->tun_off ? spec_tun_type(&tc->fx->f) : -1;

	if (off >= 0)
		tun.enabled[tun_map[off]] = 0;
	row_clamp(tc->fx, off, &cl);
	if (tc->prog == P_XDP)
		rc = oracle_ingress(f->b, len, &vips, &tun, tc->fx->observe, &res);
	else
		rc = oracle_egress_clamp(f->b, len, &vips, &ifaces[tc->fx->iface], tc->fx->observe,
					 &cl, &res);
	if (rc)
		die("the oracle refused a frame");
	memset(o, 0, sizeof(*o));
	o->drop = res.verdict == ORACLE_DROP;
	for (int r = 0; r < LVIP_R_MAX; r++)
		o->reason[r] = res.reason[reason_map[r]];
	for (int v = V_A; v < N_VIP_IDS; v++) {
		const struct oracle_vip_delta *d = vip_slot[v].v6 ? &res.vip6[vip_slot[v].idx] :
								    &res.vip4[vip_slot[v].idx];

		o->vip[v][VF_PACKETS] = d->packets;
		o->vip[v][VF_BYTES] = d->bytes;
		o->vip[v][VF_ARP] = d->arp_dropped;
		o->vip[v][VF_ND] = d->nd_dropped;
	}
	for (int t = 0; t < LVIP_TUN_MAX; t++)
		for (int r = 0; r < LVIP_T_MAX; r++)
			o->tun[t][r] = res.tun[tun_map[t]][tun_reason_map[r]];
	if (res.out_len > sizeof(o->out))
		die("the oracle's output is longer than any fixture frame");
	memcpy(o->out, res.out, res.out_len);
	o->out_len = res.out_len;
	o->rule = res.rule;
}

/* "drop; arp_in_dropped +1; vip[198.18.0.100].arp_dropped +1" */
static void describe(const struct tcase *tc, const struct answer *a, const struct answer *in,
		     char *buf, size_t n)
{
	size_t k = 0, sip = case_arp_sip(tc), first = SIZE_MAX;
	int counted = 0, other = 0;

#define ADD(...)                                                          \
	do {                                                              \
		if (k < n)                                                \
			k += (size_t)snprintf(buf + k, n - k, __VA_ARGS__); \
	} while (0)

	ADD("%s", a->drop ? "drop" : "pass");
	for (int r = 0; r < LVIP_R_MAX; r++) {
		if (a->reason[r]) {
			ADD("; %s +%llu", abi_reason[r], (unsigned long long)a->reason[r]);
			counted = 1;
		}
	}
	for (int v = V_A; v < N_VIP_IDS; v++)
		for (int f = 0; f < N_VF; f++)
			if (a->vip[v][f]) {
				ADD("; vip[%s].%s +%llu", vip_addr[v], vf_name[f],
				    (unsigned long long)a->vip[v][f]);
				counted = 1;
			}
	for (int t = 0; t < LVIP_TUN_MAX; t++)
		for (int r = 0; r < LVIP_T_MAX; r++)
			if (a->tun[t][r]) {
				ADD("; lvip_tunstats[%s].%s +%llu", abi_tun[t], abi_tun_reason[r],
				    (unsigned long long)a->tun[t][r]);
				counted = 1;
			}
	if (!counted)
		ADD("; nothing counted");
	for (size_t i = 0; i < a->out_len && i < in->out_len; i++) {
		if (a->out[i] == in->out[i])
			continue;
		if (first == SIZE_MAX)
			first = i;
		if (i < sip || i >= sip + 4)
			other = 1;
	}
	if (a->out_len != in->out_len)
		ADD("; %zu bytes out of %zu", a->out_len, in->out_len);
	else if (first != SIZE_MAX && !other)
		ADD("; ARP sender IP rewritten to %u.%u.%u.%u", a->out[sip], a->out[sip + 1],
		    a->out[sip + 2], a->out[sip + 3]);
	else if (first != SIZE_MAX)
		ADD("; bytes changed from offset %zu", first);
	if (a->rule)
		ADD(" (\"%s\")", a->rule);
#undef ADD
}

static int same(const struct answer *a, const struct answer *b)
{
	return a->drop == b->drop && !memcmp(a->reason, b->reason, sizeof(a->reason)) &&
	       !memcmp(a->vip, b->vip, sizeof(a->vip)) && !memcmp(a->tun, b->tun, sizeof(a->tun)) &&
	       a->out_len == b->out_len &&
	       !memcmp(a->out, b->out, a->out_len);
}

/* Both sides on every case; the number of disagreements. what: how the
 * cases are named in disagreements ("" or " (sweep)"). */
static size_t check(const struct tcase *cases, size_t n, const char *what, int verbose)
{
	static struct answer t, o, in;
	char label[512], ts[1024], os[1024];
	size_t bad = 0;

	for (size_t i = 0; i < n; i++) {
		const struct tcase *tc = &cases[i];
		struct frame f;
		size_t len;

		build_frame(&tc->fx->f, tc->tags, &f);
		len = tc->len < 0 ? f.len : (size_t)tc->len;
		table_answer(tc, &f, len, &t);
		oracle_answer(tc, &f, len, &o);
		memcpy(in.out, f.b, len);
		in.out_len = len;
		if (same(&t, &o) && !verbose)
			continue;
		case_label(tc, &f, label, sizeof(label));
		describe(tc, &t, &in, ts, sizeof(ts));
		describe(tc, &o, &in, os, sizeof(os));
		if (same(&t, &o)) {
			printf("agree%s: %s: %s: %s\n", what, prog_name[tc->prog], label, os);
			continue;
		}
		bad++;
		fprintf(stderr, "fixtures_vs_oracle: DISAGREE%s: %s: %s\n"
			"  fixtures.h: %s\n  oracle.c:   %s\n", what, prog_name[tc->prog], label, ts,
			os);
	}
	return bad;
}

int main(int argc, char **argv)
{
	struct tcase *cases, *sweeps;
	size_t n, n_sweeps, bad;
	int verbose = argc > 1 && !strcmp(argv[1], "-v");

	setup();
	n = collect_cases(&cases);
	n_sweeps = collect_sweeps(&sweeps);
	bad = check(cases, n, "", verbose) + check(sweeps, n_sweeps, " (sweep)", verbose);
	if (bad)
		fprintf(stderr, "fixtures_vs_oracle: %zu of %zu cases disagree (fixtures.h against"
			" tests/fuzz/oracle.c; see docs/datapath.md)\n", bad, n + n_sweeps);
	else
		printf("fixtures_vs_oracle: fixtures.h and the oracle agree on the %zu cases"
		       " test_datapath runs of the %zu rows, and on %zu cut frames of the"
		       " rows it does not sweep\n", n, (size_t)N_FIXTURES, n_sweeps);
	free(cases);
	free(sweeps);
	return bad ? 1 : 0;
}
