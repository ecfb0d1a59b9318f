// SPDX-License-Identifier: GPL-2.0
/*
 * bench.c - the measuring half of make bench (tests/bench/run is the other:
 * namespaces, lvip, nftables, the report). Subcommands:
 *
 *   dp     datapath ratios: the pinned lvip programs and the baselines through
 *          BPF_PROG_RUN, interleaved, one JSON object per case on stdout
 *   fill   fill a pinned VIP map directly (bpf_map_update_batch)
 *   wire   send N ARP requests into a veth, print the CPU they cost
 *   gro    switch GRO on a device (veth NAPI for XDP live frames)
 *   xdp    attach/detach the floor program (native XDP_DROP) on a device
 *   spawn  run a command, print its wall time, peak RSS and status
 *   stats  keep the kernel's BPF run-time statistics on for a while
 *   runtime  print the run time and run count of pinned programs
 *
 * Every loop is bounded by a count and, where it waits on the kernel, by a
 * time cap. Nothing here changes network configuration except `gro`, which
 * the runner only calls inside its own namespaces.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lvip.h"
#include "baselines.skel.h"

#define FRAME_MAX 3520 /* an XDP test run's largest frame: a page less headroom and tailroom */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));


static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "lvip-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

/* A part the kernel will not run here: one line, exit 3, so that make bench
 * reports the part as not measured and goes on with the others. */
static void refused(const char *what, int err) __attribute__((noreturn));
static void refused(const char *what, int err)
{
	printf("{\"refused\":\"kernel refuses %s: %s\"}\n", what, strerror(err));
	fprintf(stderr, "lvip-bench: kernel refuses %s: %s\n", what, strerror(err));
	exit(3);
}

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		die("cannot pin to CPU %d", cpu);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[64];

	if (n > 64)
		n = 64;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ------------------------------------------------------------------ */
/* Frames                                                              */
/* ------------------------------------------------------------------ */

struct frame {
	__u8 b[FRAME_MAX];
	__u32 len;
};

static const __u8 mac_peer[6] = { 0x02, 0x00, 0x5e, 0xbe, 0x00, 0x01 };
static const __u8 mac_self[6] = { 0x02, 0x00, 0x5e, 0xbe, 0x00, 0x02 };
static const __u8 mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void put(struct frame *f, const void *p, size_t n)
{
	if (f->len + n > sizeof(f->b))
		die("frame too long");
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void put16(struct frame *f, __u16 v)
{
	__be16 x = htons(v);

	put(f, &x, 2);
}

static void put_a4(struct frame *f, const char *s)
{
	__u8 a[4];

	if (inet_pton(AF_INET, s, a) != 1)
		die("bad IPv4 %s", s);
	put(f, a, 4);
}

static void put_a6(struct frame *f, const char *s)
{
	__u8 a[16];

	if (inet_pton(AF_INET6, s, a) != 1)
		die("bad IPv6 %s", s);
	put(f, a, 16);
}

static void put_eth(struct frame *f, const __u8 *dst, const __u8 *src, __u16 proto)
{
	put(f, dst, 6);
	put(f, src, 6);
	put16(f, proto);
}

static __u16 csum16(const __u8 *p, size_t n, __u32 sum)
{
	for (size_t i = 0; i < n; i++)
		sum += (i & 1) ? p[i] : (__u32)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* An IPv4 header without options, DF, TTL 64, its checksum filled in. */
static void put_ipv4_hdr(struct frame *f, __u16 len, __u16 id, __u8 proto, const char *src,
			 const char *dst)
{
	size_t ip = f->len;
	__u16 c;

	put16(f, 0x4500);
	put16(f, len);
	put16(f, id);
	put16(f, 0x4000);
	put16(f, (__u16)(0x4000 | proto));
	put16(f, 0);
	put_a4(f, src);
	put_a4(f, dst);
	c = htons(csum16(f->b + ip, 20, 0));
	memcpy(f->b + ip + 10, &c, 2);
}

/* IPv4/UDP, 18 bytes of payload: a 64-byte frame (without FCS). */
static void frame_ipv4(struct frame *f, const __u8 *dmac, const char *src, const char *dst)
{
	__u8 pl[18] = "lvip-bench-frame!";

	memset(f, 0, sizeof(*f));
	put_eth(f, dmac, mac_peer, ETH_P_IP);
	put_ipv4_hdr(f, 20 + 8 + sizeof(pl), 0x1c1a, 17, src, dst);
	put16(f, 40000);
	put16(f, 9); /* discard */
	put16(f, 8 + sizeof(pl));
	put16(f, 0);
	put(f, pl, sizeof(pl));
}

static void frame_ipv6_hdr(struct frame *f, const __u8 *dmac, __u16 plen, __u8 nh, __u8 hops,
			   const char *src, const char *dst)
{
	put_eth(f, dmac, mac_peer, ETH_P_IPV6);
	put16(f, 0x6000);
	put16(f, 0);
	put16(f, plen);
	put(f, &nh, 1);
	put(f, &hops, 1);
	put_a6(f, src);
	put_a6(f, dst);
}

static void frame_ipv6_udp(struct frame *f, const char *src, const char *dst)
{
	__u8 pl[18] = "lvip-bench-frame!";

	memset(f, 0, sizeof(*f));
	frame_ipv6_hdr(f, mac_self, 8 + sizeof(pl), 17, 64, src, dst);
	put16(f, 40000);
	put16(f, 9);
	put16(f, 8 + sizeof(pl));
	put16(f, 0x1c1a); /* not checked by anything measured */
	put(f, pl, sizeof(pl));
}

/* Neighbor Solicitation for target, from src, to the solicited-node group,
 * with a source link-layer address option. */
static void frame_ns(struct frame *f, const char *src, const char *target)
{
	static const __u8 mc[6] = { 0x33, 0x33, 0xff, 0x00, 0x01, 0x00 };
	__u8 t[16], dst[16], opt[8] = { 1, 1 };
	char dsts[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET6, target, t) != 1)
		die("bad IPv6 %s", target);
	inet_pton(AF_INET6, "ff02::1:ff00:0", dst);
	memcpy(dst + 13, t + 13, 3);
	inet_ntop(AF_INET6, dst, dsts, sizeof(dsts));
	memcpy(opt + 2, mac_peer, 6);
	memset(f, 0, sizeof(*f));
	frame_ipv6_hdr(f, mc, 32, 58, 255, src, dsts);
	put16(f, 135 << 8);
	put16(f, 0); /* checksum: not checked by anything measured */
	put16(f, 0);
	put16(f, 0);
	put(f, t, 16);
	put(f, opt, 8);
}

static void frame_arp(struct frame *f, __u16 op, const char *sip, const char *tip)
{
	static const __u8 zero[6];

	memset(f, 0, sizeof(*f));
	put_eth(f, op == 1 ? mac_bcast : mac_self, mac_peer, ETH_P_ARP);
	put16(f, 1);
	put16(f, ETH_P_IP);
	put(f, "\x06\x04", 2);
	put16(f, op);
	put(f, mac_peer, 6);
	put_a4(f, sip);
	put(f, zero, 6);
	put_a4(f, tip);
	while (f->len < 60)
		put(f, zero, 1);
}

static void frame_lldp(struct frame *f)
{
	static const __u8 lldp_mc[6] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e };
	static const __u8 zero[46];

	memset(f, 0, sizeof(*f));
	put_eth(f, lldp_mc, mac_peer, 0x88cc);
	put(f, zero, sizeof(zero));
}

/* ------------------------------------------------------------------ */
/* dp: datapath ratios through BPF_PROG_RUN                            */
/* ------------------------------------------------------------------ */

struct prog {
	const char *what;
	int fd;
	int tc;          /* __sk_buff context, else xdp_md */
	__u32 ifindex;   /* device of the run */
	bool xdp_ctx;    /* pass ingress_ifindex (needs a registered rxq) */
};

struct run_out {
	double ns;       /* thread CPU ns per iteration */
	__u32 retval;
	__u32 kernel_ns; /* the kernel's own average, whole ns */
};

static int prog_run(const struct prog *p, const struct frame *f, int repeat, struct run_out *o)
{
	struct xdp_md xctx = { .data_end = f->len, .ingress_ifindex = p->ifindex };
	struct __sk_buff sctx = { .ifindex = p->ifindex };
	__u8 out[FRAME_MAX * 2];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->b, .data_size_in = f->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);
	__u64 t0, t1;
	int err;

	if (p->tc) {
		opts.ctx_in = &sctx;
		opts.ctx_size_in = sizeof(sctx);
	} else if (p->xdp_ctx) {
		opts.ctx_in = &xctx;
		opts.ctx_size_in = sizeof(xctx);
	}
	t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	err = bpf_prog_test_run_opts(p->fd, &opts);
	t1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	if (err)
		return -errno;
	o->ns = (double)(t1 - t0) / repeat;
	o->retval = opts.retval;
	o->kernel_ns = opts.duration;
	return 0;
}

static void prog_run_or_die(const struct prog *p, const struct frame *f, int repeat, __u32 want,
			    struct run_out *o)
{
	int err = prog_run(p, f, repeat, o);

	if (err)
		die("BPF_PROG_RUN of %s: %s", p->what, strerror(-err));
	if (o->retval != want)
		die("%s returned %u, expected %u", p->what, o->retval, want);
}

static int obj_get(const char *dir, const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		die("bpf_obj_get(%s): %s", path, strerror(errno));
	return fd;
}

/* Sum of one reason over every CPU of lvip_stats. */
static __u64 lvip_reason(int stats_fd, enum lvip_reason r)
{
	struct lvip_counters v[256];
	__u32 zero = 0;
	__u64 sum = 0;
	int ncpu = libbpf_num_possible_cpus();

	if (ncpu > 256 || bpf_map_lookup_elem(stats_fd, &zero, v))
		die("cannot read lvip_stats: %s", strerror(errno));
	for (int i = 0; i < ncpu; i++)
		sum += ((__u64 *)&v[i])[r];
	return sum;
}

enum { BASE_BARE, BASE_MIN, BASE_OTHER };

struct dcase {
	const char *name;
	const char *goal_text;
	double goal;
	struct prog *lvip, *base;
	const char *base_name;
	struct frame f;
	__u32 want_lvip, want_base;
	int reason;      /* counter that must move by repeat, -1: none may */
	double ns[64], base_ns[64], ratio[64], extra[64];
	/* With bare set: also bare XDP around each round, and a second row
	 * whose ratio is lvip's extra over bare / the minimal's extra over
	 * bare, a figure that carries across hosts. */
	struct prog *bare;
	const char *extra_goal_text;
	double extra_goal, bare_ns[64];
};

struct smp_arg {
	const struct prog *p;
	const struct frame *f;
	int repeat, cpu;
	__u32 want;
	pthread_barrier_t *bar;
	struct run_out out;
};

static void *smp_thread(void *arg)
{
	struct smp_arg *a = arg;

	pin_cpu(a->cpu);
	pthread_barrier_wait(a->bar);
	prog_run_or_die(a->p, a->f, a->repeat, a->want, &a->out);
	return NULL;
}

/* Per-packet ns of p on `ncpu` CPUs at once (CPU 0..ncpu-1), mean over CPUs. */
static double smp_run(const struct prog *p, const struct frame *f, int repeat, __u32 want, int ncpu)
{
	struct smp_arg a[2];
	pthread_t t[2];
	pthread_barrier_t bar;
	double sum = 0;

	pthread_barrier_init(&bar, NULL, ncpu);
	for (int i = 0; i < ncpu; i++) {
		a[i] = (struct smp_arg){ .p = p, .f = f, .repeat = repeat, .cpu = i, .want = want, .bar = &bar };
		if (pthread_create(&t[i], NULL, smp_thread, &a[i]))
			die("pthread_create");
	}
	for (int i = 0; i < ncpu; i++) {
		pthread_join(t[i], NULL);
		sum += a[i].out.ns;
	}
	pthread_barrier_destroy(&bar);
	return sum / ncpu;
}

/* The round whose ratio is the median (the lower middle one for an even
 * count): its case and baseline figures are reported together, so that
 * ns / baseline_ns is the ratio and ns - baseline_ns the extra ns. The
 * separate medians of ns and baseline are printed too. */
static int median_round(const double *ratio, int n)
{
	int idx[64];

	for (int i = 0; i < n; i++)
		idx[i] = i;
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && ratio[idx[j]] < ratio[idx[j - 1]]; j--) {
			int t = idx[j];

			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	return idx[(n - 1) / 2];
}

static void print_case(const char *group, const struct dcase *c, int rounds, int repeat)
{
	int m = median_round(c->ratio, rounds);

	char goal[64] = "null", goal_text[96] = "null";

	if (c->goal_text) {
		snprintf(goal, sizeof(goal), "%.2f", c->goal);
		snprintf(goal_text, sizeof(goal_text), "\"%s\"", c->goal_text);
	}
	printf("{\"group\":\"%s\",\"name\":\"%s\",\"ns\":%.2f,\"baseline\":\"%s\",\"baseline_ns\":%.2f,"
	       "\"ratio\":%.3f,\"extra_ns\":%.2f,\"goal\":%s,\"goal_text\":%s,\"met\":%s,"
	       "\"ns_median\":%.2f,\"baseline_ns_median\":%.2f,\"rounds\":%d,\"repeat\":%d,\"ratios\":[",
	       group, c->name, c->ns[m], c->base_name, c->base_ns[m], c->ratio[m], c->extra[m], goal,
	       goal_text, !c->goal_text ? "null" : c->ratio[m] <= c->goal ? "true" : "false",
	       median(c->ns, rounds), median(c->base_ns, rounds), rounds, repeat);
	for (int r = 0; r < rounds; r++)
		printf("%s%.3f", r ? "," : "", c->ratio[r]);
	printf("]}\n");
	fflush(stdout);
}

/* The case's extra-over-bare row: (lvip - bare) / (minimal - bare). */
static void print_extra_case(const struct dcase *c, int rounds, int repeat)
{
	struct dcase e = { .goal_text = c->extra_goal_text, .goal = c->extra_goal,
			   .base_name = "minimal, over bare" };
	char name[160];

	snprintf(name, sizeof(name), "%s (over bare)", c->name);
	e.name = name;
	for (int r = 0; r < rounds; r++) {
		e.ns[r] = c->ns[r] - c->bare_ns[r];
		e.base_ns[r] = c->base_ns[r] - c->bare_ns[r];
		e.ratio[r] = e.base_ns[r] > 0 ? e.ns[r] / e.base_ns[r] : 1e9;
		e.extra[r] = e.ns[r] - e.base_ns[r];
	}
	print_case("datapath", &e, rounds, repeat);
}

static void fill_min_maps(struct baselines_bpf *bl, char **v4, int n4, char **v6, int n6)
{
	__u32 one = 1;

	for (int i = 0; i < n4; i++) {
		__u8 k[4];

		if (inet_pton(AF_INET, v4[i], k) != 1 ||
		    bpf_map__update_elem(bl->maps.min_vip4, k, 4, &one, 4, BPF_ANY))
			die("min_vip4 %s", v4[i]);
	}
	for (int i = 0; i < n6; i++) {
		__u8 k[16];

		if (inet_pton(AF_INET6, v6[i], k) != 1 ||
		    bpf_map__update_elem(bl->maps.min_vip6, k, 16, &one, 4, BPF_ANY))
			die("min_vip6 %s", v6[i]);
	}
}

/* Every map lookup of the program must be inlined by the verifier: a
 * non-inlined bpf_map_lookup_elem (e.g. a call site shared by two maps)
 * costs an indirect call and would skew a comparison. Checked with bpftool,
 * which names the calls of the translated program. */
static void check_inlined(const char *what, int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	char cmd[128];
	int rc;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		die("prog info of %s: %s", what, strerror(errno));
	snprintf(cmd, sizeof(cmd), "bpftool prog dump xlated id %u | grep -q 'call bpf_map_lookup_elem'",
		 info.id);
	rc = system(cmd);
	if (rc == 0)
		die("%s: a map lookup is not inlined (bpftool prog dump xlated id %u)", what, info.id);
}

/* Can XDP runs on ifindex name their device (a registered rx queue)? */
static bool xdp_ctx_ok(int fd, __u32 ifindex)
{
	struct prog p = { .what = "probe", .fd = fd, .ifindex = ifindex, .xdp_ctx = true };
	struct frame f;
	struct run_out o;

	frame_lldp(&f);
	return prog_run(&p, &f, 1, &o) == 0 && o.retval == XDP_PASS;
}

/* Set lvip_mon as lvip monitor does (pid != 0: listening), or clear it. */
static void monitor_flag(int mon_fd, bool on)
{
	struct lvip_mon m = { .pid = on ? (__u32)getpid() : 0, .rate = LVIP_MON_RATE_DEFAULT,
			      .interval_ns = 1000000000ULL / LVIP_MON_RATE_DEFAULT };
	__u32 zero = 0;

	if (bpf_map_update_elem(mon_fd, &zero, &m, BPF_ANY))
		die("lvip_mon: %s", strerror(errno));
}

/* The dropped ARP request with a monitor listening (nobody reads the ring:
 * past the burst, each drop takes the rate limit's path, the cost of a
 * flood) vs nobody listening, baseline, case, case, baseline per round. */
static void monitor_case(const char *pin, const struct prog *p, const struct frame *f, int rounds,
			 int repeat)
{
	struct dcase c = { "ARP request for a VIP, dropped, monitor listening vs nobody", NULL, 0 };
	int mon_fd = obj_get(pin, LVIP_MAP_MON);
	struct run_out o[4];

	c.base_name = "lvip, nobody listening";
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < 4; i++) {
			monitor_flag(mon_fd, i == 1 || i == 2);
			prog_run_or_die(p, f, repeat, XDP_DROP, &o[i]);
		}
		c.base_ns[r] = (o[0].ns + o[3].ns) / 2;
		c.ns[r] = (o[1].ns + o[2].ns) / 2;
		c.ratio[r] = c.ns[r] / c.base_ns[r];
		c.extra[r] = c.ns[r] - c.base_ns[r];
	}
	monitor_flag(mon_fd, false);
	close(mon_fd);
	print_case("datapath", &c, rounds, repeat);
}

/* ---- TC egress: MSS clamp ---- */

/* A TCP ACK (timestamps, no SYN) from the VIP 198.18.0.100. */
static void frame_tcp_ack(struct frame *f)
{
	static const __u8 ts[12] = { 1, 1, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0x56, 0x78 };

	memset(f, 0, sizeof(*f));
	put_eth(f, mac_peer, mac_self, ETH_P_IP);
	put_ipv4_hdr(f, 20 + 32, 0x1c1a, 6, "198.18.0.100", "198.18.0.1");
	put16(f, 80);
	put16(f, 40000);
	put16(f, 0x0102);
	put16(f, 0x0304);
	put16(f, 0x0506);
	put16(f, 0x0708);
	put16(f, 0x8010); /* data offset 8, ACK */
	put16(f, 501);
	put16(f, 0x1c1a); /* checksum: not read by a non-SYN */
	put16(f, 0);
	put(f, ts, sizeof(ts));
}

/* Every tunnel type enabled with an auto MSS clamp, or lvip_tunnel cleared. */
static void tun_clamp(int fd, bool on)
{
	for (__u32 t = 0; t < LVIP_TUN_MAX; t++) {
		struct lvip_tunnel v = { .flags = on ? LVIP_TUN_F_ENABLED : 0,
					 .mss = on ? LVIP_MSS_AUTO : LVIP_MSS_OFF };

		if (bpf_map_update_elem(fd, &t, &v, BPF_ANY))
			die("lvip_tunnel: %s", strerror(errno));
	}
}

/* A non-SYN segment from a VIP with a clamp configured vs none: the same
 * program, lvip_tunnel switched between the runs, baseline, case, case,
 * baseline per round. */
static void mss_case(const char *pin, const struct prog *p, int rounds, int repeat)
{
	struct dcase c = { "TC egress, TCP non-SYN from a VIP, clamp configured vs none",
			   "<= 1.05 x no clamp", 1.05 };
	int fd = obj_get(pin, LVIP_MAP_TUNNEL);
	struct run_out o[4];

	c.base_name = "lvip_tc, no clamp";
	frame_tcp_ack(&c.f);
	for (int r = 0; r < rounds; r++) {
		tun_clamp(fd, false);
		prog_run_or_die(p, &c.f, repeat, (__u32)TC_ACT_UNSPEC, &o[0]);
		tun_clamp(fd, true);
		prog_run_or_die(p, &c.f, repeat, (__u32)TC_ACT_UNSPEC, &o[1]);
		prog_run_or_die(p, &c.f, repeat, (__u32)TC_ACT_UNSPEC, &o[2]);
		tun_clamp(fd, false);
		prog_run_or_die(p, &c.f, repeat, (__u32)TC_ACT_UNSPEC, &o[3]);
		c.base_ns[r] = (o[0].ns + o[3].ns) / 2;
		c.ns[r] = (o[1].ns + o[2].ns) / 2;
		c.ratio[r] = c.ns[r] / c.base_ns[r];
		c.extra[r] = c.ns[r] - c.base_ns[r];
	}
	close(fd);
	print_case("datapath", &c, rounds, repeat);
}

/* ---- XDP decapsulation (LVS-TUN) ---- */

#define DECAP_GUE_PORT 5555     /* baselines.bpf.c's min_decap */
#define DECAP_VIP "198.18.0.100"
#define DECAP_LAYERS 100        /* tunnel headers per frame: one decapsulation per iteration */
#define DECAP_CALLS 400         /* BPF_PROG_RUN calls (repeat DECAP_LAYERS) per run */

enum { D_IPIP, D_GUE, D_GRE, ND };

static const char *const decap_name[ND] = {
	[D_IPIP] = "XDP decapsulation, ipip (4-in-4)",
	[D_GUE] = "XDP decapsulation, gue (variant 0, 4-in-4)",
	[D_GRE] = "XDP decapsulation, gre (4-in-4, no checksum)",
};
static const int decap_outer[ND] = { [D_IPIP] = 20, [D_GUE] = 32, [D_GRE] = 24 };

/* One outer IPv4 header (from the director to DECAP_VIP) and tunnel
 * header, `len` the bytes from it to the end of the frame. */
static void put_tunnel(struct frame *f, int type, size_t len)
{
	static const __u8 proto[ND] = { [D_IPIP] = 4, [D_GUE] = 17, [D_GRE] = 47 };

	put_ipv4_hdr(f, (__u16)len, 0x1c1b, proto[type], "198.18.0.2", DECAP_VIP);
	if (type == D_GUE) {
		put16(f, 40001);
		put16(f, DECAP_GUE_PORT);
		put16(f, (__u16)(len - 20));
		put16(f, 0);
		put16(f, 0x0004); /* GUE version 0, C 0, hlen 0, proto 4 */
		put16(f, 0);
	} else if (type == D_GRE) {
		put16(f, 0);
		put16(f, ETH_P_IP);
	}
}

/*
 * Ethernet, DECAP_LAYERS tunnel headers, then IPv4/UDP from a client to the
 * VIP. Every outer destination is DECAP_VIP, which is both one of "this
 * host's" addresses (lvip_tunlocal) and the VIP: so each iteration of a run
 * strips one layer and the next iteration finds the next tunnel packet,
 * whether or not the kernel restores the frame between iterations.
 */
static void frame_decap(struct frame *f, int type)
{
	struct frame inner;
	size_t n;

	frame_ipv4(&inner, mac_self, "198.18.0.1", DECAP_VIP);
	n = inner.len - 14;
	memset(f, 0, sizeof(*f));
	put_eth(f, mac_self, mac_peer, ETH_P_IP);
	for (int l = DECAP_LAYERS; l > 0; l--)
		put_tunnel(f, type, (size_t)l * decap_outer[type] + n);
	put(f, inner.b + 14, n);
}

/* lvip's decapsulation configured as the loader does it (every type, GUE
 * on DECAP_GUE_PORT, DECAP_VIP one of this host's addresses: in
 * lvip_tunaddr and in lvip_tunlocal), or cleared. */
static void decap_config(int tun_fd, int addr_fd, int local_fd, bool on)
{
	struct lvip_tunaddr_key k = { .addr = { [10] = 0xff, [11] = 0xff } };
	struct lvip_tunlocal fast = { .n4 = on };
	__u32 local = LVIP_TUNADDR_LOCAL, zero = 0;

	for (__u32 t = 0; t < LVIP_TUN_MAX; t++) {
		struct lvip_tunnel v = { .flags = on ? LVIP_TUN_F_ENABLED : 0,
					 .port = on && t == LVIP_TUN_GUE ? htons(DECAP_GUE_PORT) : 0 };

		if (bpf_map_update_elem(tun_fd, &t, &v, BPF_ANY))
			die("lvip_tunnel: %s", strerror(errno));
	}
	inet_pton(AF_INET, DECAP_VIP, k.addr + 12);
	if (on ? bpf_map_update_elem(addr_fd, &k, &local, BPF_ANY) :
		 bpf_map_delete_elem(addr_fd, &k) && errno != ENOENT)
		die("lvip_tunaddr: %s", strerror(errno));
	inet_pton(AF_INET, DECAP_VIP, fast.a4[0]);
	if (bpf_map_update_elem(local_fd, &zero, &fast, BPF_ANY))
		die("lvip_tunlocal: %s", strerror(errno));
}

/* How many bytes a run of p on f (repeat DECAP_LAYERS) removes. */
static int decap_shrink(const struct prog *p, const struct frame *f)
{
	static __u8 out[FRAME_MAX * 2];
	struct xdp_md xctx = { .data_end = f->len, .ingress_ifindex = p->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = f->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = DECAP_LAYERS);

	if (p->xdp_ctx) {
		o.ctx_in = &xctx;
		o.ctx_size_in = sizeof(xctx);
	}
	if (bpf_prog_test_run_opts(p->fd, &o) || o.retval != XDP_PASS)
		return -1;
	return (int)f->len - (int)o.data_size_out;
}

/* The kernel's own time per iteration (BPF_PROG_RUN, repeat
 * DECAP_LAYERS: one decapsulation each), averaged over `calls` calls. */
static double per_call_ns(const struct prog *p, const struct frame *f, int calls)
{
	struct run_out o;
	double sum = 0;

	for (int i = 0; i < calls; i++) {
		prog_run_or_die(p, f, DECAP_LAYERS, XDP_PASS, &o);
		sum += o.kernel_ns;
	}
	return sum / calls;
}

/*
 * A BPF_PROG_RUN with repeat > 1 puts its program into the kernel's XDP
 * dispatcher for the run and takes it out after (a text patch and an RCU
 * grace period: ~16 ms here), unless the program is attached to a device
 * already. Attached to a spare veth, the baselines cost one syscall per
 * call like lvip, whose program is attached. Returns the device's ifindex,
 * or 0 when the kernel refused (the runs are then only slower to make).
 */
static __u32 attach_spare(const char *ifname, const struct prog *p)
{
	__u32 ifindex = ifname ? if_nametoindex(ifname) : 0;

	if (!ifindex)
		return 0;
	if (bpf_xdp_attach((int)ifindex, p->fd, XDP_FLAGS_DRV_MODE, NULL)) {
		fprintf(stderr, "dp: %s not attached to %s (%s): its runs re-patch the XDP dispatcher\n",
			p->what, ifname, strerror(errno));
		return 0;
	}
	return ifindex;
}

static void detach_spare(__u32 ifindex)
{
	if (ifindex)
		bpf_xdp_detach((int)ifindex, XDP_FLAGS_DRV_MODE, NULL);
}

static void print_not_measured(const char *name, const char *base, double goal,
			       const char *goal_text, const char *why)
{
	char g[32] = "null", gt[96] = "null";

	if (goal_text) {
		snprintf(g, sizeof(g), "%.2f", goal);
		snprintf(gt, sizeof(gt), "\"%s\"", goal_text);
	}
	printf("{\"group\":\"datapath\",\"name\":\"%s\",\"ns\":null,\"baseline\":\"%s\","
	       "\"baseline_ns\":null,\"ratio\":null,\"extra_ns\":null,\"goal\":%s,\"goal_text\":%s,"
	       "\"met\":null,\"not_measured\":\"%s\"}\n", name, base, g, gt, why);
	fflush(stdout);
}

#define DECAP_LOADS 4           /* loads of each program in the decapsulation cases */
#define DECAP_SPARES (2 + 3 * (DECAP_LOADS - 1))

/*
 * The programs of the decapsulation cases at one set of addresses. Each
 * load of a program is JITed to its own place, and where the image lands
 * moves its cost by up to ~3 ns here (tests/bench/ab: two loads of one
 * object), as much as the decapsulation goal's margin; so each round runs
 * DECAP_LOADS loads of every program and takes their mean. Set 0 is
 * cmd_dp's (lvip: the pinned, attached program); the others load the
 * baselines again and lvip's object bound to the pinned maps (the same
 * program as the attached one, elsewhere), each attached to a spare veth.
 */
struct dload {
	struct prog bare, min, lvip;
	struct baselines_bpf *bl;
	struct bpf_object *copy;
	__u32 att[3];
};

/* lvip's object again, every map its pinned one; only lvip_xdp loaded. */
static struct bpf_object *lvip_copy(const char *obj_path, const char *pin)
{
	struct bpf_object *o = bpf_object__open_file(obj_path, NULL);
	struct bpf_program *prog;
	struct bpf_map *m;
	char path[PATH_MAX];

	if (!o)
		return NULL;
	bpf_object__for_each_program(prog, o)
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), "lvip_xdp"));
	bpf_object__for_each_map(m, o) {
		int fd, err;

		snprintf(path, sizeof(path), "%s/%s", pin, bpf_map__name(m));
		fd = bpf_obj_get(path);
		if (fd < 0)
			goto fail;
		err = bpf_map__reuse_fd(m, fd);
		close(fd);
		if (err)
			goto fail;
	}
	if (!bpf_object__load(o))
		return o;
fail:
	bpf_object__close(o);
	return NULL;
}

/* Sets 1.. of the loads; returns how many sets there are (1: only cmd_dp's,
 * when there is no object to load again or no spare veths). */
static int decap_loads(struct dload *d, const char *pin, const char *obj, char *const *spares,
		       int nspares)
{
	int n = 1;

	d[0].att[0] = attach_spare(spares[0], &d[0].bare);
	d[0].att[1] = attach_spare(spares[1], &d[0].min);
	if (!obj || nspares < DECAP_SPARES) {
		fprintf(stderr, "dp: decapsulation: one load of each program (%s)\n",
			obj ? "not enough spare veths" : "no lvip object to load again");
		return 1;
	}
	for (; n < DECAP_LOADS; n++) {
		char *const *sp = spares + 2 + 3 * (n - 1);
		struct dload *l = &d[n];
		char *v4[] = { DECAP_VIP };

		l->bl = baselines_bpf__open_and_load();
		l->copy = l->bl ? lvip_copy(obj, pin) : NULL;
		if (!l->copy) {
			fprintf(stderr, "dp: decapsulation: cannot load %s again (%s): %d load(s)\n",
				l->bl ? obj : "the baselines", strerror(errno), n);
			baselines_bpf__destroy(l->bl);
			return n;
		}
		fill_min_maps(l->bl, v4, 1, NULL, 0);
		l->bare = (struct prog){ "bare_xdp", bpf_program__fd(l->bl->progs.bare_xdp), 0,
					 d[0].bare.ifindex, d[0].bare.xdp_ctx };
		l->min = (struct prog){ "min_decap", bpf_program__fd(l->bl->progs.min_decap), 0,
					d[0].min.ifindex, d[0].min.xdp_ctx };
		l->lvip = d[0].lvip;
		l->lvip.fd = bpf_program__fd(bpf_object__find_program_by_name(l->copy, "lvip_xdp"));
		check_inlined("lvip_xdp (a second load)", l->lvip.fd);
		l->att[0] = attach_spare(sp[0], &l->bare);
		l->att[1] = attach_spare(sp[1], &l->min);
		l->att[2] = attach_spare(sp[2], &l->lvip);
	}
	fprintf(stderr, "dp: decapsulation: %d loads of each program, lvip's from %s\n", n, obj);
	return n;
}

static void decap_unload(struct dload *d, int n)
{
	for (int k = 0; k < n; k++) {
		for (int i = 0; i < 3; i++)
			detach_spare(d[k].att[i]);
		if (k) {
			bpf_object__close(d[k].copy);
			baselines_bpf__destroy(d[k].bl);
		}
	}
}

/* One round of case c over the n sets: bare, minimal, lvip, lvip, minimal,
 * bare for each set, the means over the sets. */
static void decap_round(struct dcase *c, const struct dload *d, int n, int r)
{
	double z = 0, b = 0, l = 0;

	for (int k = 0; k < n; k++) {
		z += per_call_ns(&d[k].bare, &c->f, DECAP_CALLS) / (2 * n);
		b += per_call_ns(&d[k].min, &c->f, DECAP_CALLS) / (2 * n);
		l += per_call_ns(&d[k].lvip, &c->f, DECAP_CALLS) / (2 * n);
		l += per_call_ns(&d[k].lvip, &c->f, DECAP_CALLS) / (2 * n);
		b += per_call_ns(&d[k].min, &c->f, DECAP_CALLS) / (2 * n);
		z += per_call_ns(&d[k].bare, &c->f, DECAP_CALLS) / (2 * n);
	}
	c->bare_ns[r] = z;
	c->base_ns[r] = b;
	c->ns[r] = l;
	c->ratio[r] = l / b;
	c->extra[r] = l - b;
}

/*
 * lvip's decapsulation against min_decap and bare XDP, per tunnel type.
 * Each call runs a program DECAP_LAYERS times on a frame of that many
 * tunnel headers (frame_decap): one decapsulation per iteration, the
 * kernel's time per iteration averaged over DECAP_CALLS calls; bare,
 * minimal, lvip, lvip, minimal, bare per round and load set (struct dload).
 */
static void decap_cases(const char *pin, const char *obj, char *const *spares, int nspares,
			const struct prog *p_lvip, const struct prog *p_bare, const struct prog *p_min,
			int rounds)
{
	static struct dcase cs[ND];
	static struct dload d[DECAP_LOADS];
	int tun_fd = obj_get(pin, LVIP_MAP_TUNNEL), addr_fd = obj_get(pin, LVIP_MAP_TUNADDR);
	int local_fd = obj_get(pin, LVIP_MAP_TUNLOCAL), n;
	bool lvip_decaps[ND];
	const char *why = "lvip has no decapsulation in this build";

	decap_config(tun_fd, addr_fd, local_fd, true);
	for (int t = 0; t < ND; t++) {
		int want = DECAP_LAYERS * decap_outer[t];

		cs[t] = (struct dcase){ .name = decap_name[t], .base_name = "minimal decap",
					.lvip = (struct prog *)p_lvip, .base = (struct prog *)p_min,
					.bare = (struct prog *)p_bare, .extra_goal = 1.25,
					.extra_goal_text = "<= 1.25 x minimal's extra" };
		frame_decap(&cs[t].f, t);
		if (decap_shrink(p_min, &cs[t].f) != want)
			die("min_decap does not strip the %d layers of the %s frame", DECAP_LAYERS,
			    decap_name[t]);
		lvip_decaps[t] = decap_shrink(p_lvip, &cs[t].f) == want;
	}
	d[0] = (struct dload){ .bare = *p_bare, .min = *p_min, .lvip = *p_lvip };
	n = decap_loads(d, pin, lvip_decaps[0] ? obj : NULL, spares, nspares);
	for (int r = 0; r < rounds; r++)
		for (int t = 0; t < ND; t++)
			if (lvip_decaps[t])
				decap_round(&cs[t], d, n, r);
	decap_unload(d, n);
	decap_config(tun_fd, addr_fd, local_fd, false);
	close(tun_fd);
	close(addr_fd);
	close(local_fd);
	for (int t = 0; t < ND; t++) {
		char name[160];

		if (lvip_decaps[t]) {
			print_case("datapath", &cs[t], rounds, DECAP_CALLS * DECAP_LAYERS);
			print_extra_case(&cs[t], rounds, DECAP_CALLS * DECAP_LAYERS);
			continue;
		}
		snprintf(name, sizeof(name), "%s (over bare)", decap_name[t]);
		print_not_measured(decap_name[t], "minimal decap", 0, NULL, why);
		print_not_measured(name, "minimal, over bare", 1.25, "<= 1.25 x minimal's extra", why);
	}
}

static int cmd_dp(int argc, char **argv)
{
	const char *pin_a = NULL, *pin_s = NULL, *pin_b = NULL;
	const char *if_a = NULL, *if_s = NULL, *if_b = NULL, *lvip_obj = NULL;
	char *spares[DECAP_SPARES], *spare_list = NULL;
	int nspares = 0;
	int rounds = 7, repeat = 1000000, cpu = 1, opt;
	static const struct option lo[] = {
		{ "pin-a", 1, 0, 'a' }, { "pin-s", 1, 0, 's' }, { "pin-b", 1, 0, 'b' },
		{ "if-a", 1, 0, 'A' }, { "if-s", 1, 0, 'S' }, { "if-b", 1, 0, 'B' },
		{ "rounds", 1, 0, 'r' }, { "repeat", 1, 0, 'n' }, { "cpu", 1, 0, 'c' },
		{ "if-spares", 1, 0, 'x' }, { "lvip-obj", 1, 0, 'o' }, {},
	};

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'a': pin_a = optarg; break;
		case 's': pin_s = optarg; break;
		case 'b': pin_b = optarg; break;
		case 'A': if_a = optarg; break;
		case 'S': if_s = optarg; break;
		case 'B': if_b = optarg; break;
		case 'r': rounds = atoi(optarg); break;
		case 'n': repeat = atoi(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		case 'x': spare_list = optarg; break;
		case 'o': lvip_obj = optarg; break;
		default: die("dp: bad option");
		}
	}
	if (!pin_a || !pin_s || !pin_b || !if_a || !if_s || !if_b)
		die("dp: --pin-a/s/b and --if-a/s/b are required");
	if (rounds < 5 || rounds > 64 || repeat < 1000)
		die("dp: --rounds 5..64, --repeat >= 1000");
	for (char *t, *save = NULL, *l = spare_list; (t = strtok_r(l, ",", &save)); l = NULL)
		if (nspares < DECAP_SPARES)
			spares[nspares++] = t;
	if (nspares < 2)
		die("dp: --if-spares needs at least 2 veths (bare and minimal decapsulation)");

	__u32 ia = if_nametoindex(if_a), is = if_nametoindex(if_s), ib = if_nametoindex(if_b);
	if (!ia || !is || !ib)
		die("dp: interface not found");

	struct baselines_bpf *bl = baselines_bpf__open_and_load();
	if (!bl)
		die("cannot load the baselines: %s", strerror(errno));
	char *v4[] = { "198.18.0.100", "198.18.0.11" }, *v6[] = { "2001:db8::100" };
	fill_min_maps(bl, v4, 2, v6, 1);

	int xa = obj_get(pin_a, "lvip_xdp"), xs = obj_get(pin_s, "lvip_xdp"), xb = obj_get(pin_b, "lvip_xdp");
	int ta = obj_get(pin_a, "lvip_tc");
	int stats_a = obj_get(pin_a, LVIP_MAP_STATS);
	int bare_x = bpf_program__fd(bl->progs.bare_xdp), min_x = bpf_program__fd(bl->progs.min_xdp);
	int bare_t = bpf_program__fd(bl->progs.bare_tc), min_t = bpf_program__fd(bl->progs.min_tc);
	int min_trw = bpf_program__fd(bl->progs.min_tc_rw);
	bool ctx = xdp_ctx_ok(xa, ia);

	/* Every XDP program runs with the same context: lvip's interface. */
	struct prog p_lvip = { "lvip_xdp", xa, 0, ia, ctx };
	struct prog p_small = { "lvip_xdp (1 VIP per family)", xs, 0, is, ctx };
	struct prog p_big = { "lvip_xdp (1,000,000 VIPs)", xb, 0, ib, ctx };
	struct prog p_bare = { "bare_xdp", bare_x, 0, ia, ctx };
	struct prog p_min = { "min_xdp", min_x, 0, ia, ctx };
	struct prog p_tc = { "lvip_tc", ta, 1, ia, 0 };
	struct prog p_bare_tc = { "bare_tc", bare_t, 1, ia, 0 };
	struct prog p_min_tc = { "min_tc", min_t, 1, ia, 0 };
	struct prog p_min_tc_rw = { "min_tc_rw", min_trw, 1, ia, 0 };

	check_inlined("lvip_xdp", xa);
	check_inlined("lvip_tc", ta);
	check_inlined("min_xdp", min_x);
	check_inlined("min_tc", min_t);
	check_inlined("min_tc_rw", min_trw);

	fprintf(stderr, "dp: XDP runs %s; %d rounds x %d repeats, pinned to CPU %d\n",
		ctx ? "with ingress_ifindex of the lvip interface" : "with the default context (lo)",
		rounds, repeat, cpu);

	static struct dcase cs[] = {
		{ "IPv4 to a non-VIP", "<= 1.10 x minimal", 1.10 },
		{ "IPv6 to a non-VIP", "<= 1.10 x minimal", 1.10 },
		{ "IPv4 to a VIP, accepted and counted", "<= 1.20 x minimal", 1.20 },
		{ "ARP request for a VIP, dropped", "<= 1.15 x minimal", 1.15 },
		{ "ARP request for a non-VIP, passed", "<= 1.15 x minimal", 1.15 },
		{ "NS for an IPv6 VIP, dropped", "<= 1.25 x minimal", 1.25 },
		{ "non-IP frame (LLDP)", "<= 1.10 x bare", 1.10 },
		{ "IPv4 non-VIP, 1,000,000 VIPs loaded vs 1 VIP", "<= 1.15 x same, 1 VIP", 1.15 },
		{ "IPv6 non-VIP, 1,000,000 VIPs loaded vs 1 VIP", "<= 1.15 x same, 1 VIP", 1.15 },
		{ "TC egress, IPv4 (no ARP)", "<= 1.10 x bare TC", 1.10 },
		{ "TC egress, ARP request rewritten", "<= 1.30 x minimal TC rewrite", 1.30 },
		/* The baseline before: lookup only, no store (no goal since the
		 * minimal rewrite became the baseline). */
		{ "TC egress, ARP request rewritten vs lookup only", NULL, 0 },
		/* Calibration, no goal: the method's own precision (the same
		 * program as case and baseline), and the floor of the non-IP
		 * goal (the minimal program reading the EtherType). */
		{ "calibration: A/A, lvip IPv4 VIP vs itself", NULL, 0 },
		{ "calibration: minimal XDP, LLDP frame", NULL, 0 },
	};
	enum { C_V4, C_V6, C_V4VIP, C_ARPVIP, C_ARPNON, C_NS, C_LLDP, C_BIG4, C_BIG6, C_TC4, C_TCARP,
	       C_TCARP_LOOKUP, C_AA, C_MINLLDP, NC };
	_Static_assert(sizeof(cs) / sizeof(cs[0]) == NC, "cases");
	static const struct { int c; double goal; const char *text; } extra_goals[] = {
		{ C_V4VIP, 1.25, "<= 1.25 x minimal's extra" }, { C_ARPVIP, 1.25, "<= 1.25 x minimal's extra" },
		{ C_NS, 1.25, "<= 1.25 x minimal's extra" }, { C_V4, 1.15, "<= 1.15 x minimal's extra" },
		{ C_V6, 1.15, "<= 1.15 x minimal's extra" },
	};

	for (int i = 0; i < NC; i++) {
		cs[i].lvip = &p_lvip;
		cs[i].base = &p_min;
		cs[i].base_name = "minimal XDP";
		cs[i].want_lvip = cs[i].want_base = XDP_PASS;
		cs[i].reason = -1;
	}
	frame_ipv4(&cs[C_V4].f, mac_self, "198.18.0.1", "198.18.0.200");
	frame_ipv6_udp(&cs[C_V6].f, "2001:db8::1", "2001:db8::200");
	frame_ipv4(&cs[C_V4VIP].f, mac_self, "198.18.0.1", "198.18.0.100");
	cs[C_V4VIP].reason = LVIP_R_VIP_RX;
	frame_arp(&cs[C_ARPVIP].f, 1, "198.18.0.1", "198.18.0.100");
	cs[C_ARPVIP].want_lvip = cs[C_ARPVIP].want_base = XDP_DROP;
	cs[C_ARPVIP].reason = LVIP_R_ARP_IN_DROPPED;
	frame_arp(&cs[C_ARPNON].f, 1, "198.18.0.1", "198.18.0.200");
	frame_ns(&cs[C_NS].f, "2001:db8::1", "2001:db8::100");
	cs[C_NS].want_lvip = cs[C_NS].want_base = XDP_DROP;
	cs[C_NS].reason = LVIP_R_ND_IN_DROPPED;
	frame_lldp(&cs[C_LLDP].f);
	cs[C_LLDP].base = &p_bare;
	cs[C_LLDP].base_name = "bare XDP";
	cs[C_BIG4].f = cs[C_V4].f;
	cs[C_BIG4].lvip = &p_big;
	cs[C_BIG4].base = &p_small;
	cs[C_BIG4].base_name = "lvip, 1 VIP/family";
	cs[C_BIG6].f = cs[C_V6].f;
	cs[C_BIG6].lvip = &p_big;
	cs[C_BIG6].base = &p_small;
	cs[C_BIG6].base_name = "lvip, 1 VIP/family";
	/* Egress IPv4 from the interface's own address. */
	frame_ipv4(&cs[C_TC4].f, mac_peer, "198.18.0.11", "198.18.0.1");
	cs[C_TC4].lvip = &p_tc;
	cs[C_TC4].base = &p_bare_tc;
	cs[C_TC4].base_name = "bare TC";
	cs[C_TC4].want_lvip = cs[C_TC4].want_base = (__u32)TC_ACT_UNSPEC;
	/* "who-has 198.18.0.1 tell 198.18.0.11": 198.18.0.11 is a VIP and also
	 * the interface's address, so every iteration rewrites the sender to the
	 * same bytes and the run stays on the rewrite path (BPF_PROG_RUN reuses
	 * one skb for all its iterations). */
	frame_arp(&cs[C_TCARP].f, 1, "198.18.0.11", "198.18.0.1");
	cs[C_TCARP].lvip = &p_tc;
	cs[C_TCARP].base = &p_min_tc_rw;
	cs[C_TCARP].base_name = "minimal TC rewrite";
	cs[C_TCARP].want_lvip = cs[C_TCARP].want_base = (__u32)TC_ACT_UNSPEC;
	cs[C_TCARP].reason = LVIP_R_ARP_OUT_REWRITTEN;
	cs[C_TCARP_LOOKUP] = cs[C_TCARP];
	cs[C_TCARP_LOOKUP].name = "TC egress, ARP request rewritten vs lookup only";
	cs[C_TCARP_LOOKUP].goal_text = NULL;
	cs[C_TCARP_LOOKUP].goal = 0;
	cs[C_TCARP_LOOKUP].base = &p_min_tc;
	cs[C_TCARP_LOOKUP].base_name = "minimal TC, lookup only";
	cs[C_AA].f = cs[C_V4VIP].f;
	cs[C_AA].base = &p_lvip;
	cs[C_AA].base_name = "the same program";
	cs[C_AA].reason = LVIP_R_VIP_RX;
	cs[C_MINLLDP].f = cs[C_LLDP].f;
	cs[C_MINLLDP].lvip = &p_min;
	cs[C_MINLLDP].base = &p_bare;
	cs[C_MINLLDP].base_name = "bare XDP";
	for (size_t i = 0; i < sizeof(extra_goals) / sizeof(extra_goals[0]); i++) {
		cs[extra_goals[i].c].bare = &p_bare;
		cs[extra_goals[i].c].extra_goal = extra_goals[i].goal;
		cs[extra_goals[i].c].extra_goal_text = extra_goals[i].text;
	}

	pin_cpu(cpu);

	/* Check the verdicts and that each lvip run takes the intended path
	 * (the counter moves by exactly `repeat`, or no counter moves). */
	for (int i = 0; i < NC; i++) {
		struct run_out o;
		__u64 before[LVIP_R_MAX], after;
		const int n = 1000;

		for (int r = 0; r < LVIP_R_MAX; r++)
			before[r] = lvip_reason(stats_a, r);
		prog_run_or_die(cs[i].base, &cs[i].f, n, cs[i].want_base, &o);
		prog_run_or_die(cs[i].lvip, &cs[i].f, n, cs[i].want_lvip, &o);
		if ((cs[i].lvip != &p_lvip && cs[i].lvip != &p_tc) || i == C_AA)
			continue;
		for (int r = 0; r < LVIP_R_MAX; r++) {
			after = lvip_reason(stats_a, r);
			if (after - before[r] != (r == cs[i].reason ? (__u64)n : 0))
				die("%s: counter %d moved by %llu, expected %d", cs[i].name, r,
				    (unsigned long long)(after - before[r]), r == cs[i].reason ? n : 0);
		}
	}

	/* Interleaved: per round and case, baseline, case, case, baseline
	 * (each a full run of `repeat`), the round's figures the mean of the
	 * two of each. The ABBA order cancels a drift that is linear over the
	 * round's four runs: on this shared machine the speed of the very same
	 * program drifts by up to 30% over a few seconds. (An A/A check, the
	 * same program as case and baseline, gives medians within 1.5% of 1.) */
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < NC; i++) {
			struct run_out ob1, oc1, oc2, ob2, oz1, oz2;
			double b, c;

			/* bare XDP passes every frame */
			if (cs[i].bare)
				prog_run_or_die(cs[i].bare, &cs[i].f, repeat, XDP_PASS, &oz1);
			prog_run_or_die(cs[i].base, &cs[i].f, repeat, cs[i].want_base, &ob1);
			prog_run_or_die(cs[i].lvip, &cs[i].f, repeat, cs[i].want_lvip, &oc1);
			prog_run_or_die(cs[i].lvip, &cs[i].f, repeat, cs[i].want_lvip, &oc2);
			prog_run_or_die(cs[i].base, &cs[i].f, repeat, cs[i].want_base, &ob2);
			if (cs[i].bare) {
				prog_run_or_die(cs[i].bare, &cs[i].f, repeat, XDP_PASS, &oz2);
				cs[i].bare_ns[r] = (oz1.ns + oz2.ns) / 2;
			}
			b = (ob1.ns + ob2.ns) / 2;
			c = (oc1.ns + oc2.ns) / 2;
			cs[i].base_ns[r] = b;
			cs[i].ns[r] = c;
			cs[i].ratio[r] = c / b;
			cs[i].extra[r] = c - b;
		}
	}
	for (int i = 0; i < NC; i++) {
		print_case("datapath", &cs[i], rounds, repeat);
		if (cs[i].bare)
			print_extra_case(&cs[i], rounds, repeat);
	}
	if (getenv("LVIP_BENCH_DEBUG")) {
		for (int i = 0; i < NC; i++) {
			fprintf(stderr, "%-48.48s", cs[i].name);
			for (int r = 0; r < rounds; r++)
				fprintf(stderr, " %5.1f/%5.1f", cs[i].base_ns[r], cs[i].ns[r]);
			fprintf(stderr, "\n");
		}
	}

	/* 2 CPUs at once vs 1 CPU alone, the VIP case, per packet. */
	{
		struct dcase c = { "2 CPUs running the VIP case at once vs 1 CPU alone", "<= 1.25 x 1 CPU",
				   1.25 };
		int ncpu = libbpf_num_possible_cpus();

		c.base_name = "lvip, 1 CPU alone";
		if (ncpu < 2)
			die("dp: the 2-CPU case needs 2 CPUs");
		/* baseline, case, case, baseline, as for the other cases: the
		 * speed of a CPU here drifts by 30% over seconds */
		for (int r = 0; r < rounds; r++) {
			double b1 = smp_run(&p_lvip, &cs[C_V4VIP].f, repeat, XDP_PASS, 1);
			double c1 = smp_run(&p_lvip, &cs[C_V4VIP].f, repeat, XDP_PASS, 2);
			double c2 = smp_run(&p_lvip, &cs[C_V4VIP].f, repeat, XDP_PASS, 2);
			double b2 = smp_run(&p_lvip, &cs[C_V4VIP].f, repeat, XDP_PASS, 1);

			c.base_ns[r] = (b1 + b2) / 2;
			c.ns[r] = (c1 + c2) / 2;
			c.ratio[r] = c.ns[r] / c.base_ns[r];
			c.extra[r] = c.ns[r] - c.base_ns[r];
			if (getenv("LVIP_BENCH_DEBUG"))
				fprintf(stderr, "2 CPUs, round %d: %5.1f/%5.1f\n", r, c.base_ns[r], c.ns[r]);
		}
		print_case("datapath", &c, rounds, repeat);
	}
	monitor_case(pin_a, &p_lvip, &cs[C_ARPVIP].f, rounds, repeat);
	mss_case(pin_a, &p_tc, rounds, repeat);
	{
		struct prog p_min_decap = { "min_decap", bpf_program__fd(bl->progs.min_decap), 0, ia, ctx };

		check_inlined("min_decap", p_min_decap.fd);
		decap_cases(pin_a, lvip_obj, spares, nspares, &p_lvip, &p_bare, &p_min_decap, rounds);
	}
	baselines_bpf__destroy(bl);
	return 0;
}

/* ------------------------------------------------------------------ */
/* fill: put many VIPs into a pinned map                               */
/* ------------------------------------------------------------------ */

static int cmd_fill(int argc, char **argv)
{
	const char *pin = NULL, *skip4 = NULL, *skip6 = NULL, *base6 = "2001:db8:1::";
	long n4 = 0, n6 = 0;
	int opt;
	static const struct option lo[] = {
		{ "pin", 1, 0, 'p' }, { "v4", 1, 0, '4' }, { "v6", 1, 0, '6' },
		{ "skip4", 1, 0, 's' }, { "skip6", 1, 0, 'S' }, { "base6", 1, 0, 'b' }, {},
	};

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'p': pin = optarg; break;
		case '4': n4 = atol(optarg); break;
		case '6': n6 = atol(optarg); break;
		case 's': skip4 = optarg; break;
		case 'S': skip6 = optarg; break;
		case 'b': base6 = optarg; break;
		default: die("fill: bad option");
		}
	}
	if (!pin)
		die("fill: --pin DIR");
	/* IPv4 keys come from 198.18.0.0/15 only: at most 131,072. */
	if (n4 < 0 || n4 > 131072 || n6 < 0 || n6 > 16 * 1024 * 1024)
		die("fill: --v4 0..131072, --v6 0..16M");

	int ncpu = libbpf_num_possible_cpus();
	size_t vsz = sizeof(struct lvip_vip_val);
	const __u32 chunk = 65536;
	__u8 *keys = calloc(chunk, 16), *vals = calloc((size_t)chunk * ncpu, vsz);
	__u8 sk4[4] = {}, sk6[16] = {}, b6[16];
	LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = BPF_ANY);

	if (!keys || !vals)
		die("fill: out of memory");
	if (skip4 && inet_pton(AF_INET, skip4, sk4) != 1)
		die("fill: bad --skip4");
	if (skip6 && inet_pton(AF_INET6, skip6, sk6) != 1)
		die("fill: bad --skip6");
	if (inet_pton(AF_INET6, base6, b6) != 1)
		die("fill: bad --base6");

	for (int fam = 4; fam <= 6; fam += 2) {
		long want = fam == 4 ? n4 : n6, done = 0, retries = 0;
		__u32 next = 0, ksz = fam == 4 ? 4 : 16;
		int fd;

		if (!want)
			continue;
		fd = obj_get(pin, fam == 4 ? LVIP_MAP_VIP4 : LVIP_MAP_VIP6);
		while (done < want) {
			__u32 n = 0;

			while (n < chunk && done + n < want) {
				__u8 *k = keys + (size_t)n * ksz;

				if (fam == 4) {
					__u32 a;

					if (next >= 131072)
						die("fill: 198.18.0.0/15 exhausted");
					a = htonl(0xc6120000u + next++); /* 198.18.0.0 + i */
					memcpy(k, &a, 4);
					if (skip4 && !memcmp(k, sk4, 4))
						continue;
				} else {
					__u32 a = htonl(next++);

					memcpy(k, b6, 12);
					memcpy(k + 12, &a, 4);
					if (skip6 && !memcmp(k, sk6, 16))
						continue;
				}
				n++;
			}
			/* Per-CPU values of a BPF_F_NO_PREALLOC hash come from the
			 * atomic per-CPU pool, which the kernel refills in the
			 * background: on ENOMEM, wait a little and go on from
			 * where the batch stopped (bounded). */
			for (__u32 at = 0; at < n;) {
				__u32 count = n - at;

				if (!bpf_map_update_batch(fd, keys + (size_t)at * ksz, vals, &count, &bo)) {
					at += count;
					continue;
				}
				if (errno != ENOMEM || ++retries > 20000)
					die("fill: bpf_map_update_batch (%ld done): %s", done + at + count,
					    strerror(errno));
				at += count;
				usleep(200);
			}
			done += n;
		}
		close(fd);
	}
	free(keys);
	free(vals);
	return 0;
}

/* ------------------------------------------------------------------ */
/* wire: N ARP requests into a veth, CPU per frame                     */
/* ------------------------------------------------------------------ */

/* The ksoftirqd of `cpu`: softirq work deferred there is ours too. */
static int ksoftirqd_pid(int cpu)
{
	char want[32], path[300], comm[64];
	struct dirent *d;
	DIR *dir = opendir("/proc");
	int pid = -1;

	snprintf(want, sizeof(want), "ksoftirqd/%d\n", cpu);
	while (dir && (d = readdir(dir))) {
		FILE *f;

		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strcmp(comm, want))
			pid = atoi(d->d_name);
		fclose(f);
		if (pid > 0)
			break;
	}
	if (dir)
		closedir(dir);
	return pid;
}

static __u64 task_runtime_ns(int pid)
{
	char path[64];
	unsigned long long ns = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

/* LVIP_BENCH_REFUSE_LIVE=1 makes every live-frames run fail as a kernel
 * refusing BPF_F_TEST_XDP_LIVE_FRAMES does (EPERM): the test of that path. */
static int live_frames_run(int pfd, struct bpf_test_run_opts *o)
{
	const char *sim = getenv("LVIP_BENCH_REFUSE_LIVE");

	if (sim && !strcmp(sim, "1")) {
		errno = EPERM;
		return -1;
	}
	return bpf_prog_test_run_opts(pfd, o) ? -1 : 0;
}

static int cmd_wire(int argc, char **argv)
{
	const char *method = NULL, *ifname = NULL, *sip = "198.18.1.1", *tip = "198.18.1.100";
	long n = 1000000;
	int cpu = 1, timeout = 30, opt;
	static const struct option lo[] = {
		{ "method", 1, 0, 'm' }, { "ifname", 1, 0, 'i' }, { "n", 1, 0, 'n' },
		{ "cpu", 1, 0, 'c' }, { "timeout", 1, 0, 't' }, { "sip", 1, 0, 's' },
		{ "tip", 1, 0, 'T' }, {},
	};

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'm': method = optarg; break;
		case 'i': ifname = optarg; break;
		case 'n': n = atol(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		case 't': timeout = atoi(optarg); break;
		case 's': sip = optarg; break;
		case 'T': tip = optarg; break;
		default: die("wire: bad option");
		}
	}
	if (!method || !ifname || n <= 0 || timeout <= 0)
		die("wire: --method packet|live --ifname IF [--n N] [--cpu C] [--timeout S]");
	__u32 ifindex = if_nametoindex(ifname);
	if (!ifindex)
		die("wire: no interface %s", ifname);

	struct frame f;
	frame_arp(&f, 1, sip, tip);
	pin_cpu(cpu);
	int ksd = ksoftirqd_pid(cpu);
	if (ksd < 0)
		die("wire: ksoftirqd/%d not found", cpu);

	struct baselines_bpf *bl = NULL;
	int sock = -1, pfd = -1;
	if (!strcmp(method, "live")) {
		bl = baselines_bpf__open();
		if (!bl)
			die("wire: open baselines: %s", strerror(errno));
		bl->rodata->redir_ifindex = ifindex;
		if (baselines_bpf__load(bl))
			die("wire: load baselines: %s", strerror(errno));
		pfd = bpf_program__fd(bl->progs.redirect_xdp);
	} else if (!strcmp(method, "packet")) {
		struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = ifindex };

		/* Protocol 0: a send-only socket, no receive hook. */
		sock = socket(AF_PACKET, SOCK_RAW, 0);
		if (sock < 0 || bind(sock, (struct sockaddr *)&sll, sizeof(sll)))
			die("wire: AF_PACKET socket on %s: %s", ifname, strerror(errno));
	} else {
		die("wire: --method packet|live");
	}

	__u64 deadline = clock_ns(CLOCK_MONOTONIC) + (__u64)timeout * 1000000000ull;
	__u64 w0 = clock_ns(CLOCK_MONOTONIC), k0 = task_runtime_ns(ksd);
	__u64 t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	long sent = 0, errors = 0, calls = 0;
	const long max_calls = n + 1000000; /* bounds the loop by count too */

	if (pfd >= 0) {
		const long chunk = 250000;

		while (sent < n && calls++ < max_calls && clock_ns(CLOCK_MONOTONIC) < deadline) {
			long k = n - sent < chunk ? n - sent : chunk;
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f.b, .data_size_in = f.len,
				    .repeat = k, .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);

			if (live_frames_run(pfd, &o)) {
				if (errno == EPERM || errno == EOPNOTSUPP || errno == EINVAL)
					refused("live frames", errno);
				if (++errors > 10)
					die("wire: live frames: %s", strerror(errno));
				continue;
			}
			sent += k;
		}
	} else {
		enum { BATCH = 64 };
		struct mmsghdr msg[BATCH];
		struct iovec iov = { .iov_base = f.b, .iov_len = f.len };

		memset(msg, 0, sizeof(msg));
		for (int i = 0; i < BATCH; i++) {
			msg[i].msg_hdr.msg_iov = &iov;
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		while (sent < n && calls++ < max_calls) {
			int k = n - sent < BATCH ? n - sent : BATCH;
			int r = sendmmsg(sock, msg, k, 0);

			if (r < 0) {
				if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
					die("wire: sendmmsg: %s", strerror(errno));
				errors++;
			} else {
				sent += r;
			}
			if ((calls & 255) == 0 && clock_ns(CLOCK_MONOTONIC) >= deadline)
				break;
		}
	}
	__u64 t1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	__u64 k1 = task_runtime_ns(ksd), w1 = clock_ns(CLOCK_MONOTONIC);

	printf("{\"sent\":%ld,\"errors\":%ld,\"thread_ns\":%llu,\"ksoftirqd_ns\":%llu,\"cpu_ns\":%llu,"
	       "\"wall_ns\":%llu}\n",
	       sent, errors, (unsigned long long)(t1 - t0), (unsigned long long)(k1 - k0),
	       (unsigned long long)(t1 - t0 + k1 - k0), (unsigned long long)(w1 - w0));
	if (sock >= 0)
		close(sock);
	baselines_bpf__destroy(bl);
	return 0;
}

/* ------------------------------------------------------------------ */
/* gro: ETHTOOL_SGRO (veth: NAPI without an XDP program)               */
/* ------------------------------------------------------------------ */

static int cmd_gro(int argc, char **argv)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_SGRO };
	struct ifreq ifr = {};
	int fd;

	if (argc != 3 || (strcmp(argv[2], "on") && strcmp(argv[2], "off")))
		die("gro IFNAME on|off");
	ev.data = !strcmp(argv[2], "on");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	ifr.ifr_data = (void *)&ev;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || ioctl(fd, SIOCETHTOOL, &ifr))
		die("gro: ETHTOOL_SGRO on %s: %s", argv[1], strerror(errno));
	ev.cmd = ETHTOOL_GGRO;
	ev.data = 0;
	if (ioctl(fd, SIOCETHTOOL, &ifr) || ev.data != (__u32)!strcmp(argv[2], "on"))
		die("gro: GRO on %s did not change", argv[1]);
	close(fd);
	return 0;
}

/* ------------------------------------------------------------------ */
/* xdp: attach (native) or detach a floor program: drop_xdp, bare_xdp  */
/* ------------------------------------------------------------------ */

static int cmd_xdp(int argc, char **argv)
{
	struct baselines_bpf *bl;
	struct bpf_program *prog;
	__u32 ifindex;

	if (argc != 3 || (strcmp(argv[2], "on") && strcmp(argv[2], "pass") && strcmp(argv[2], "off")))
		die("xdp IFNAME on|pass|off");
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex)
		die("xdp: no interface %s", argv[1]);
	if (!strcmp(argv[2], "off")) {
		if (bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL))
			die("xdp: detach from %s: %s", argv[1], strerror(errno));
		return 0;
	}
	bl = baselines_bpf__open_and_load();
	if (!bl)
		die("xdp: load baselines: %s", strerror(errno));
	/* Netlink attachment: it stays after this process exits. */
	prog = !strcmp(argv[2], "pass") ? bl->progs.bare_xdp : bl->progs.drop_xdp;
	if (bpf_xdp_attach(ifindex, bpf_program__fd(prog),
			   XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL))
		die("xdp: attach to %s: %s", argv[1], strerror(errno));
	baselines_bpf__destroy(bl);
	return 0;
}

/* ------------------------------------------------------------------ */
/* spawn: run a command, print wall ns, peak RSS (KiB), exit status    */
/* ------------------------------------------------------------------ */

static int cmd_spawn(int argc, char **argv)
{
	struct rusage ru;
	int status, i = 1, quiet = 0;
	__u64 t0, t1;
	pid_t pid;

	if (i < argc && !strcmp(argv[i], "--quiet"))
		quiet = 1, i++;
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc)
		die("spawn [--quiet] -- CMD ARGS...");
	t0 = clock_ns(CLOCK_MONOTONIC);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		if (quiet) {
			int nul = open("/dev/null", O_WRONLY);

			dup2(nul, 1);
		}
		execvp(argv[i], argv + i);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid)
		die("wait4: %s", strerror(errno));
	t1 = clock_ns(CLOCK_MONOTONIC);
	printf("%llu %ld %d\n", (unsigned long long)(t1 - t0), ru.ru_maxrss,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

/* ------------------------------------------------------------------ */
/* stats: BPF_ENABLE_STATS while this process lives (at most SECONDS)  */
/* runtime: the kernel's run_time_ns and run_cnt of pinned programs    */
/* ------------------------------------------------------------------ */

/* The statistics stay on while the fd is open: they end with this process,
 * however it ends, so nothing is left switched on. */
static int cmd_stats(int argc, char **argv)
{
	int fd, secs = argc == 3 ? atoi(argv[2]) : 0;
	FILE *f;

	if (argc != 3 || secs <= 0 || secs > 3600)
		die("stats READYFILE SECONDS (1-3600)");
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0)
		die("stats: BPF_ENABLE_STATS: %s", strerror(errno));
	f = fopen(argv[1], "w");
	if (!f || fclose(f))
		die("stats: %s: %s", argv[1], strerror(errno));
	sleep(secs);
	close(fd);
	return 0;
}

static int cmd_runtime(int argc, char **argv)
{
	unsigned long long ns = 0, cnt = 0;
	int i, fd;

	if (argc < 2)
		die("runtime PINNED_PROG|id:ID...");
	for (i = 1; i < argc; i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (!strncmp(argv[i], "id:", 3))
			fd = bpf_prog_get_fd_by_id(atoi(argv[i] + 3));
		else
			fd = bpf_obj_get(argv[i]);
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			die("runtime: %s: %s", argv[i], strerror(errno));
		close(fd);
		ns += info.run_time_ns;
		cnt += info.run_cnt;
	}
	printf("{\"run_time_ns\": %llu, \"run_cnt\": %llu}\n", ns, cnt);
	return 0;
}

/* ---- lvip-bench ab: builds of the datapath side by side ---- */

#define AB_MAX 6                /* builds per run */
#define AB_CASES (ND + 2)       /* the decapsulations, then IPv4 and IPv6 to a non-VIP */

struct ab_build {
	const char *path;
	struct bpf_object *obj;
	struct prog p;
	double extra[AB_CASES][64], ratio[AB_CASES][64];
};

static int ab_map(struct ab_build *b, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(b->obj, name);

	if (!m)
		die("ab: %s has no map %s: not a build of bpf/lvip.bpf.c", b->path, name);
	return bpf_map__fd(m);
}

/* One per-CPU value for every CPU (the loader's way: the same on each). */
static void ab_percpu_update(int fd, const void *key, const void *val, size_t size)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t step = (size + 7) & ~(size_t)7;
	__u8 *all = calloc(ncpu, step);

	if (!all)
		die("ab: out of memory");
	for (int i = 0; i < ncpu; i++)
		memcpy(all + i * step, val, size);
	if (bpf_map_update_elem(fd, key, all, BPF_ANY))
		die("ab: map update: %s", strerror(errno));
	free(all);
}

/* Load b, give it DECAP_VIP and the counters of ifindex `ia`, attach it to
 * its own veth (so that its runs do not re-patch the XDP dispatcher). */
static void ab_load(struct ab_build *b, const char *veth, __u32 ia)
{
	struct lvip_vip_val vip = {};
	struct lvip_ifslot slot = { .owner = ia };
	struct lvip_vip4 k;
	__u32 idx = ia & (LVIP_IFSLOTS - 1);
	struct bpf_program *xdp;

	b->obj = bpf_object__open_file(b->path, NULL);
	if (!b->obj || bpf_object__load(b->obj))
		die("ab: cannot load %s: %s", b->path, strerror(errno));
	xdp = bpf_object__find_program_by_name(b->obj, "lvip_xdp");
	if (!xdp)
		die("ab: %s has no program lvip_xdp", b->path);
	inet_pton(AF_INET, DECAP_VIP, k.addr);
	ab_percpu_update(ab_map(b, LVIP_MAP_VIP4), &k, &vip, sizeof(vip));
	ab_percpu_update(ab_map(b, LVIP_MAP_IFSLOT), &idx, &slot, sizeof(slot));
	b->p = (struct prog){ b->path, bpf_program__fd(xdp), 0, ia, true };
	if (bpf_xdp_attach((int)if_nametoindex(veth), b->p.fd, XDP_FLAGS_DRV_MODE, NULL))
		die("ab: cannot attach %s to %s: %s", b->path, veth, strerror(errno));
}

static void ab_tunnels(struct ab_build *bs, int nb, bool on)
{
	for (int i = 0; i < nb; i++)
		decap_config(ab_map(&bs[i], LVIP_MAP_TUNNEL), ab_map(&bs[i], LVIP_MAP_TUNADDR),
			     ab_map(&bs[i], LVIP_MAP_TUNLOCAL), on);
}

/* One round of case c: bare, minimal, the builds, the builds backwards,
 * minimal, bare; the builds' order reversed on odd rounds too. */
static void ab_round(struct ab_build *bs, int nb, const struct prog *bare, const struct prog *min,
		     const struct frame *f, int c, int r, int calls)
{
	double z = per_call_ns(bare, f, calls), m = per_call_ns(min, f, calls), ns[AB_MAX] = {};

	for (int k = 0; k < 2 * nb; k++) {
		int i = (k < nb) == (r % 2 == 0) ? k % nb : nb - 1 - k % nb;

		ns[i] += per_call_ns(&bs[i].p, f, calls) / 2;
	}
	m = (m + per_call_ns(min, f, calls)) / 2;
	z = (z + per_call_ns(bare, f, calls)) / 2;
	for (int i = 0; i < nb; i++) {
		bs[i].extra[c][r] = ns[i] - m;
		bs[i].ratio[c][r] = (ns[i] - z) / (m - z);
	}
}

static void ab_print(const struct ab_build *bs, int nb, int rounds)
{
	static const char *const names[AB_CASES] = {
		[D_IPIP] = "decapsulation, ipip (4-in-4)", [D_GUE] = "decapsulation, gue (variant 0)",
		[D_GRE] = "decapsulation, gre", [ND] = "IPv4 to a non-VIP (UDP)",
		[ND + 1] = "IPv6 to a non-VIP (UDP)",
	};

	for (int c = 0; c < AB_CASES; c++) {
		printf("%s (over bare: build's extra / minimal's extra; build - minimal, ns)\n", names[c]);
		for (int i = 0; i < nb; i++) {
			double e = median(bs[i].extra[c], rounds), e0 = median(bs[0].extra[c], rounds);

			printf("  %-40s %6.3f  %+6.1f ns", bs[i].path, median(bs[i].ratio[c], rounds), e);
			if (i)
				printf("  (%+.1f ns against the first)", e - e0);
			printf("\n");
		}
	}
}

/*
 * lvip-bench ab [--rounds N] OBJ...: up to AB_MAX builds of bpf/lvip.bpf.c
 * (e.g. build/lvip.bpf.o before and after a change) measured in one run,
 * interleaved, against bare_xdp and the minimal programs: the decapsulation
 * frames of make bench (tunnels configured as decap_cases does) and UDP to
 * a non-VIP over IPv4 and IPv6 (no tunnel). Runs in a namespace with veths
 * ab0..abN-1, abs0 (bare), abs1 (min_decap), abs2 (min_xdp): tests/bench/ab.
 */
static int cmd_ab(int argc, char **argv)
{
	static struct ab_build bs[AB_MAX];
	static struct frame f[AB_CASES];
	static const struct option lo[] = { { "rounds", 1, 0, 'r' }, {} };
	int rounds = 21, nb, opt;
	char veth[16];
	__u32 ia;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (opt != 'r')
			die("ab: usage: ab [--rounds N] OBJ...");
		rounds = atoi(optarg);
	}
	nb = argc - optind;
	if (nb < 1 || nb > AB_MAX || rounds < 3 || rounds > 64)
		die("ab: 1 to %d builds, --rounds 3..64", AB_MAX);
	ia = if_nametoindex("ab0");
	if (!ia)
		die("ab: no interface ab0 (run through tests/bench/ab)");
	pin_cpu(1);

	struct baselines_bpf *bl = baselines_bpf__open_and_load();
	char *v4[] = { DECAP_VIP }, *v6[] = { "2001:db8::100" };

	if (!bl)
		die("cannot load the baselines: %s", strerror(errno));
	fill_min_maps(bl, v4, 1, v6, 1);
	struct prog bare = { "bare_xdp", bpf_program__fd(bl->progs.bare_xdp), 0, ia, false };
	bool ctx = bare.xdp_ctx = xdp_ctx_ok(bare.fd, ia);
	struct prog min_d = { "min_decap", bpf_program__fd(bl->progs.min_decap), 0, ia, ctx };
	struct prog min_x = { "min_xdp", bpf_program__fd(bl->progs.min_xdp), 0, ia, ctx };

	if (!attach_spare("abs0", &bare) || !attach_spare("abs1", &min_d) || !attach_spare("abs2", &min_x))
		die("ab: cannot attach the baselines");
	for (int i = 0; i < nb; i++) {
		bs[i].path = argv[optind + i];
		snprintf(veth, sizeof(veth), "ab%d", i);
		ab_load(&bs[i], veth, ia);
		bs[i].p.xdp_ctx = ctx;
	}
	for (int t = 0; t < ND; t++)
		frame_decap(&f[t], t);
	frame_ipv4(&f[ND], mac_self, "198.18.0.1", "198.18.0.200");
	frame_ipv6_udp(&f[ND + 1], "2001:db8::1", "2001:db8::200");

	ab_tunnels(bs, nb, true);
	for (int t = 0; t < ND; t++)
		for (int i = 0; i < nb; i++)
			if (decap_shrink(&bs[i].p, &f[t]) != DECAP_LAYERS * decap_outer[t])
				die("ab: %s does not decapsulate the %s frame", bs[i].path, decap_name[t]);
	for (int r = 0; r < rounds; r++)
		for (int t = 0; t < ND; t++)
			ab_round(bs, nb, &bare, &min_d, &f[t], t, r, DECAP_CALLS);
	ab_tunnels(bs, nb, false);
	for (int r = 0; r < rounds; r++)
		for (int c = ND; c < AB_CASES; c++)
			ab_round(bs, nb, &bare, &min_x, &f[c], c, r, DECAP_CALLS);
	ab_print(bs, nb, rounds);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} cmds[] = {
	{ "dp", cmd_dp }, { "fill", cmd_fill }, { "wire", cmd_wire }, { "gro", cmd_gro },
	{ "xdp", cmd_xdp }, { "spawn", cmd_spawn }, { "stats", cmd_stats },
	{ "runtime", cmd_runtime }, { "ab", cmd_ab },
};

int main(int argc, char **argv)
{
	char names[128] = "";

	libbpf_set_print(NULL);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (argc >= 2 && !strcmp(argv[1], cmds[i].name))
			return cmds[i].run(argc - 1, argv + 1);
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? "|" : "",
			 cmds[i].name);
	}
	if (argc < 2)
		die("usage: lvip-bench %s ...", names);
	die("unknown subcommand %s (expected %s)", argv[1], names);
}
