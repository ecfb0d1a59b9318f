// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_monitor.c - lvip monitor: the datapath's drops and rewrites as they
 * happen, from the lvip_events ring buffer. While it runs, lvip_mon holds
 * its pid (the datapath builds events only then); it clears it on exit, and
 * lvip clears the pid of a monitor that was killed (state.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "output.h"

struct monitor {
	const struct lvip_state *s;
	bool json;
	bool draining;     /* events left by an earlier monitor: skipped */
	__u32 want, shown; /* --count (0: no limit), events printed */
	__s64 wall_offset; /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
};

/* SIGINT, SIGTERM, and SIGPIPE (the reader went away: lvip monitor | head)
 * end the loop, so that the flag is cleared on the way out. */
static int catch_signals(void)
{
	struct sigaction sa = { .sa_handler = cmd_on_stop }; /* no SA_RESTART: poll returns */

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	       sigaction(SIGPIPE, &sa, NULL) ? -errno : 0;
}

static __s64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__s64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* bpf_ktime_get_ns() is CLOCK_MONOTONIC: print it as UTC wall time. */
static const char *wall_time(const struct monitor *m, __u64 ts_ns, char *buf, size_t len)
{
	__s64 ns = (__s64)ts_ns + m->wall_offset;
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06ldZ", (long)(ns % 1000000000 / 1000));
	return buf;
}

static const char *iface_name(__u32 ifindex, char *buf, size_t len)
{
	char name[IF_NAMESIZE];

	if (!if_indextoname(ifindex, name))
		snprintf(name, sizeof(name), "if%u", ifindex);
	return name_escape(name, buf, len);
}

static void show_event(const struct monitor *m, const struct lvip_event *e)
{
	char when[64], ifn[LVIP_NAME_ESC], mac[18], req[INET6_ADDRSTRLEN], vip[INET6_ADDRSTRLEN];
	int af = e->family == 6 ? AF_INET6 : AF_INET;
	const char *reason = e->reason < LVIP_R_MAX ? lvip_reason_names[e->reason] : "unknown";

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", e->mac[0], e->mac[1],
		 e->mac[2], e->mac[3], e->mac[4], e->mac[5]);
	inet_ntop(af, e->requester, req, sizeof(req));
	inet_ntop(af, e->vip, vip, sizeof(vip));
	out_start(m->json);
	out_open(NULL);
	out_str("time", "%s", wall_time(m, e->ts_ns, when, sizeof(when)));
	out_str("interface", " %s", iface_name(e->ifindex, ifn, sizeof(ifn)));
	out_u64("ifindex", NULL, e->ifindex);
	out_u64("vlan", " vlan %llu", e->vlan);
	out_str("reason", " %s", reason);
	out_str("mac", " from %s", mac);
	out_str("requester", " %s", req);
	out_str("vip", " vip %s\n", vip);
	out_close();
	out_end(true);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct monitor *m = ctx;

	if (m->draining || size < sizeof(struct lvip_event) || (m->want && m->shown >= m->want))
		return 0;
	show_event(m, data);
	m->shown++;
	return 0;
}

/* The datapath's per-CPU send counters, summed. */
static int monrate_sum(const struct lvip_state *s, struct lvip_monrate *sum)
{
	struct lvip_monrate *v = calloc(s->ncpus, sizeof(*v));
	__u32 zero = 0;
	int err = 0;

	memset(sum, 0, sizeof(*sum));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(s->map_fd[M_MONRATE], &zero, v))
		err = -errno;
	for (int i = 0; !err && i < s->ncpus; i++) {
		sum->sent += v[i].sent;
		sum->not_sent += v[i].not_sent;
	}
	free(v);
	return err;
}

static int mon_write(const struct lvip_state *s, __u32 pid, __u32 rate)
{
	struct lvip_mon mon = { .pid = pid, .rate = rate, .interval_ns = 1000000000ULL / rate };
	__u32 zero = 0;

	return bpf_map_update_elem(s->map_fd[M_MON], &zero, &mon, BPF_ANY) ? -errno : 0;
}

/* Take lvip_mon, unless another monitor that runs holds it. */
static int mon_take(const struct lvip_state *s, __u32 rate)
{
	struct lvip_mon mon = {};
	__u32 zero = 0;

	if (bpf_map_lookup_elem(s->map_fd[M_MON], &zero, &mon))
		return -errno;
	if (mon.pid && mon.pid != (__u32)getpid() && monitor_alive(mon.pid)) {
		lvip_err("monitor: another lvip monitor (pid %u) is listening in %s", mon.pid, s->pin_dir);
		return -EBUSY;
	}
	return mon_write(s, getpid(), rate);
}

static void show_summary(const struct monitor *m, const struct lvip_monrate *b,
			 const struct lvip_monrate *a)
{
	out_start(m->json);
	out_open(NULL);
	out_u64("shown", "%llu events shown", m->shown);
	out_u64("sent", ", %llu sent", a->sent - b->sent);
	out_u64("not_sent", ", %llu events not sent (rate limit)\n", a->not_sent - b->not_sent);
	out_close();
	out_end(true);
}

static int listen_events(struct monitor *m, struct ring_buffer *rb)
{
	int n = 0;

	while (!cmd_stop && (!m->want || m->shown < m->want)) {
		n = ring_buffer__poll(rb, 200);
		if (n < 0 && n != -EINTR)
			break;
		n = 0;
	}
	if (n >= 0)
		ring_buffer__consume(rb); /* what came before the flag was cleared */
	return n < 0 ? n : 0;
}

static int run_monitor(struct cmd_ctx *c)
{
	struct monitor m = { .s = &c->s, .json = c->o.json, .want = c->o.count, .draining = true };
	struct lvip_monrate before, after;
	struct ring_buffer *rb;
	int err;

	rb = ring_buffer__new(c->s.map_fd[M_EVENTS], on_event, &m, NULL);
	if (!rb)
		return lvip_err("monitor: cannot open the event ring: %s", strerror(errno)), EXIT_FAIL;
	err = catch_signals();
	if (!err)
		err = mon_take(&c->s, c->o.rate);
	close_fd(&c->s.dir_fd); /* the lock: other commands run while we listen */
	if (!err) {
		ring_buffer__consume(rb);
		m.draining = false;
		m.wall_offset = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
		err = monrate_sum(&c->s, &before);
		if (!err)
			err = listen_events(&m, rb);
		mon_write(&c->s, 0, c->o.rate);
		if (!err)
			err = monrate_sum(&c->s, &after);
		if (!err) {
			ring_buffer__consume(rb);
			show_summary(&m, &before, &after);
		}
	}
	ring_buffer__free(rb);
	if (err && err != -EBUSY)
		lvip_err("monitor: %s", strerror(-err));
	return err ? EXIT_FAIL : 0;
}

static const struct opt_def opt_monitor_count = {
	.name = "count", .type = OPT_U32, .arg = "N", .min = 1, .max = UINT32_MAX,
	.offset = offsetof(struct cmd_opts, count), .expect = "needs a positive number",
	.help = "stop after N events",
};

static const struct opt_def opt_rate = {
	.name = "rate", .type = OPT_U32, .arg = "N", .min = 1, .max = 1000000,
	.def = LVIP_MON_RATE_DEFAULT, .offset = offsetof(struct cmd_opts, rate),
	.expect = "needs a number of events per second from 1 to 1000000",
	.help = "at most N events per second per CPU (a burst of N); the rest are counted",
};

const struct cmd_def cmd_monitor = {
	.name = "monitor",
	.summary = "Print every frame the datapath drops or rewrites, one line each (--json: one\n"
		   "JSON object per line), until interrupted or N events; then the count of events\n"
		   "the rate limit left out.",
	.opts = (const struct opt_def *const[]){ &opt_json, &opt_monitor_count, &opt_rate, NULL },
	.needs = NEED_LOCK | NEED_LOADED,
	.absent = "lvip is not loaded (no pin dir)",
	.absent_exit = EXIT_FAIL,
	.check = cmd_no_operands,
	.run = run_monitor,
};
