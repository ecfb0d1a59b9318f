// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_harness.c - the harness shared by test_datapath and fuzz_datapath
 * (see bpf_harness.h).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_harness.h"
#include "ifcounters.h"

struct bh bh;

const char *const bh_vf_name[N_VF] = VF_NAMES;

void bh_bail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("Bail out! ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	exit(1);
}

int bh_unavailable(const char *prog, const char *skipping, const char *why)
{
	const char *req = getenv("LVIP_REQUIRE_BPF");

	fprintf(stderr, "%s: *** BPF UNAVAILABLE: %s ***\n", prog, why);
	if (req && !strcmp(req, "1")) {
		fprintf(stderr, "%s: LVIP_REQUIRE_BPF=1: failing\n", prog);
		printf("1..1\nnot ok 1 - BPF unavailable: %s\n", why);
		return 1;
	}
	fprintf(stderr, "%s: SKIPPING %s\n", prog, skipping);
	printf("1..0 # SKIP %s\n", why);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Environment: private netns, skeleton                               */
/* ------------------------------------------------------------------ */

static int enter_netns(const char *const *cmds, size_t ncmds, char *why, size_t n)
{
	if (geteuid() != 0) {
		snprintf(why, n, "not root (needs CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)");
		return -1;
	}
	if (unshare(CLONE_NEWNET)) {
		snprintf(why, n, "unshare(CLONE_NEWNET): %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < ncmds; i++) {
		if (system(cmds[i]) != 0) {
			snprintf(why, n, "private netns setup: '%s' failed", cmds[i]);
			return -1;
		}
	}
	return 0;
}

static int load(char *why, size_t n)
{
	bh.skel = lvip_bpf__open_and_load();
	if (!bh.skel) {
		snprintf(why, n, "lvip_bpf__open_and_load: %s", strerror(errno));
		return -1;
	}
	bh.ncpus = libbpf_num_possible_cpus();
	if (bh.ncpus <= 0) {
		snprintf(why, n, "libbpf_num_possible_cpus: %s", strerror(-bh.ncpus));
		return -1;
	}
	bh.pcpu = calloc(bh.ncpus, sizeof(struct lvip_vip_val) > sizeof(struct lvip_counters) ?
				   sizeof(struct lvip_vip_val) : sizeof(struct lvip_counters));
	if (!bh.pcpu) {
		snprintf(why, n, "out of memory");
		return -1;
	}
	return 0;
}

static struct ifc_maps ifc_maps(void)
{
	return (struct ifc_maps){ bpf_map__fd(bh.skel->maps.lvip_ifslot),
				  bpf_map__fd(bh.skel->maps.lvip_ifstats), bh.ncpus };
}

/* As the loader's attach does, in the order given. */
static int create_ifcounters(const __u32 *ifindex, int n)
{
	struct ifc_maps m = ifc_maps();
	int err;

	for (int i = 0; i < n; i++) {
		err = ifc_create(&m, ifindex[i]);
		if (err) {
			errno = -err;
			return -1;
		}
	}
	return 0;
}

int bh_prepare(const struct bh_setup *s, char *why, size_t n)
{
	if (enter_netns(s->netns_cmds, s->n_netns_cmds, why, n) || s->find_ifaces(why, n) ||
	    load(why, n))
		return -1;
	s->probe_xdp_ctx();
	if (s->fill_vips() || create_ifcounters(s->ifindex, s->n_ifaces) || s->fill_ifaddr() ||
	    (s->fill_tunnels && s->fill_tunnels())) {
		snprintf(why, n, "filling the maps: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void bh_destroy(void)
{
	lvip_bpf__destroy(bh.skel);
	free(bh.pcpu);
	bh.skel = NULL;
	bh.pcpu = NULL;
}

/* ------------------------------------------------------------------ */
/* Running a program                                                  */
/* ------------------------------------------------------------------ */

static int prog_fd(enum prog_id p)
{
	struct bpf_program *progs[N_PROGS] = {
		[P_XDP] = bh.skel->progs.lvip_xdp,
		[P_TC] = bh.skel->progs.lvip_tc,
		[P_TC_COMPAT] = bh.skel->progs.lvip_tc_compat,
	};

	return bpf_program__fd(progs[p]);
}

void bh_run_prog(enum prog_id p, __u32 ifindex, const void *data, __u32 len, struct bh_run *r)
{
	struct xdp_md xctx = { .data_end = len, .ingress_ifindex = ifindex };
	struct __sk_buff sctx = { .ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .repeat = 1);

	if (p != P_XDP) {
		o.ctx_in = &sctx;
		o.ctx_size_in = sizeof(sctx);
	} else if (bh.xdp_ctx) {
		o.ctx_in = &xctx;
		o.ctx_size_in = sizeof(xctx);
	}
	memset(r->out, 0, sizeof(r->out));
	r->err = bpf_prog_test_run_opts(prog_fd(p), &o);
	if (r->err > 0)
		r->err = 0;
	r->retval = o.retval;
	r->out_len = o.data_size_out;
}

int bh_probe_xdp_ctx(__u32 ifindex, const void *frame, __u32 len)
{
	static struct bh_run r;

	bh.xdp_ctx = 1;
	bh_run_prog(P_XDP, ifindex, frame, len, &r);
	if (!r.err && r.retval == XDP_PASS)
		return 1;
	bh.xdp_ctx = 0;
	return 0;
}

__u32 bh_verdict_code(int xdp, int drop)
{
	if (xdp)
		return drop ? XDP_DROP : XDP_PASS;
	return drop ? TC_ACT_SHOT : (__u32)TC_ACT_UNSPEC;
}

const char *bh_verdict_name(int xdp, __u32 v)
{
	if (xdp)
		return v == XDP_PASS ? "XDP_PASS" : v == XDP_DROP ? "XDP_DROP" : "XDP_?";
	return v == (__u32)TC_ACT_UNSPEC ? "TC_ACT_UNSPEC" : v == TC_ACT_SHOT ? "TC_ACT_SHOT" : "TC_ACT_?";
}

/* ------------------------------------------------------------------ */
/* Per-CPU counters                                                   */
/* ------------------------------------------------------------------ */

int bh_put_vip(int fd, const void *key, __u32 flags)
{
	struct lvip_vip_val *v = bh.pcpu;

	memset(bh.pcpu, 0, bh.ncpus * sizeof(*v));
	for (int cpu = 0; cpu < bh.ncpus; cpu++)
		v[cpu].flags = flags;
	return bpf_map_update_elem(fd, key, bh.pcpu, BPF_ANY);
}

int bh_read_vip(int fd, const void *key, __u64 out[N_VF])
{
	const struct lvip_vip_val *v = bh.pcpu;

	if (bpf_map_lookup_elem(fd, key, bh.pcpu))
		return -errno;
	memset(out, 0, N_VF * sizeof(out[0]));
	for (int cpu = 0; cpu < bh.ncpus; cpu++) {
		out[VF_PACKETS] += v[cpu].packets;
		out[VF_BYTES] += v[cpu].bytes;
		out[VF_ARP] += v[cpu].arp_dropped;
		out[VF_ND] += v[cpu].nd_dropped;
	}
	return 0;
}

int bh_read_stats(__u64 global[LVIP_R_MAX], const __u32 *ifindex, int n,
		  __u64 (*ifc)[LVIP_R_MAX])
{
	struct ifc_maps m = ifc_maps();
	struct lvip_counters c = {};
	__u32 zero = 0;
	int err = counters_add(bpf_map__fd(bh.skel->maps.lvip_stats), &zero, bh.ncpus, &c);

	memcpy(global, &c, sizeof(c));
	for (int i = 0; !err && i < n; i++) {
		err = ifc_read(&m, ifindex[i], &c);
		memcpy(ifc[i], &c, sizeof(c));
	}
	return err;
}

int bh_read_tunstats(__u64 out[LVIP_TUN_MAX][LVIP_T_MAX])
{
	const struct lvip_tuncounters *v = bh.pcpu;
	int fd = bpf_map__fd(bh.skel->maps.lvip_tunstats);

	_Static_assert(sizeof(struct lvip_tuncounters) <= sizeof(struct lvip_counters),
		       "bh.pcpu holds the per-CPU tunnel counters");
	for (__u32 type = 0; type < LVIP_TUN_MAX; type++) {
		if (bpf_map_lookup_elem(fd, &type, bh.pcpu))
			return -errno;
		memset(out[type], 0, sizeof(out[type]));
		for (int cpu = 0; cpu < bh.ncpus; cpu++) {
			const __u64 *c = (const __u64 *)&v[cpu];

			for (int r = 0; r < LVIP_T_MAX; r++)
				out[type][r] += c[r];
		}
	}
	return 0;
}

int bh_put_tunnel(__u32 type, __u16 flags, __u16 port, __u16 mss)
{
	struct lvip_tunnel t = { .flags = flags, .port = htons(port), .mss = mss };

	return bpf_map_update_elem(bpf_map__fd(bh.skel->maps.lvip_tunnel), &type, &t, BPF_ANY) ?
	       -errno : 0;
}

int bh_put_tunaddr(const __u8 *addr, int v4, __u32 what)
{
	struct lvip_tunaddr_key k = { .addr = { 0 } };

	if (v4) {
		k.addr[10] = k.addr[11] = 0xff;
		memcpy(&k.addr[12], addr, 4);
	} else {
		memcpy(k.addr, addr, 16);
	}
	return bpf_map_update_elem(bpf_map__fd(bh.skel->maps.lvip_tunaddr), &k, &what, BPF_ANY) ?
	       -errno : 0;
}

/* ------------------------------------------------------------------ */
/* TAP diagnostics                                                    */
/* ------------------------------------------------------------------ */

void bh_vnote(char *text, size_t size, size_t *len, size_t room, const char *indent,
	      const char *fmt, va_list ap)
{
	int n;

	if (*len + room >= size)
		return;
	*len += snprintf(text + *len, size - *len, "%s", indent);
	n = vsnprintf(text + *len, size - *len, fmt, ap);
	*len += n > 0 ? (size_t)n : 0;
	if (*len + 2 >= size) {
		*len = size - 1;
		return;
	}
	text[(*len)++] = '\n';
	text[*len] = '\0';
}
