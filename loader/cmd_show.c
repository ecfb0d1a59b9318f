// SPDX-License-Identifier: GPL-2.0
/* cmd_show.c - lvip stats. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "output.h"
#include "loader.h"

struct snapshot {
	struct lvip_counters global;
	struct vip_view vips;
	struct tun_view tuns;
	struct iface_info *ifs;
	struct lvip_counters *ifc; /* the counters of ifs[i] */
	size_t nifs;
};

static void snapshot_free(struct snapshot *sn)
{
	vip_view_free(&sn->vips);
	tun_view_free(&sn->tuns);
	free(sn->ifs);
	free(sn->ifc);
	memset(sn, 0, sizeof(*sn));
}

static int snapshot_take(struct lvip_state *s, struct snapshot *sn)
{
	struct ifc_maps ifc = state_ifc(s);
	__u32 zero = 0;
	int err;

	memset(sn, 0, sizeof(*sn));
	err = counters_add(s->map_fd[M_STATS], &zero, s->ncpus, &sn->global);
	if (!err)
		err = vip_view_load(s, &sn->vips);
	if (!err)
		err = tun_view_load(s, &sn->tuns);
	if (!err)
		err = inspect_attached(s, &sn->ifs, &sn->nifs);
	if (!err && sn->nifs && !(sn->ifc = calloc(sn->nifs, sizeof(*sn->ifc))))
		err = -ENOMEM;
	for (size_t i = 0; !err && i < sn->nifs; i++)
		ifc_read(&ifc, sn->ifs[i].ifindex, &sn->ifc[i]);
	if (err)
		snapshot_free(sn);
	return err;
}

const char *enforcement_name(bool observe)
{
	return observe ? "observe" : "enforce";
}

/* Per interface: its name, ifindex, enforcement mode and a column per reason. */
#define IF_COLS 3
static struct column if_cols[IF_COLS + LVIP_R_MAX] = {
	{ "name", "INTERFACE", 0, -16, COL_STR },
	{ "ifindex", "IFINDEX", 1, 7, COL_U32 },
	{ "mode", "MODE", 2, -7, COL_STR },
};

static void if_cols_init(void)
{
	for (int r = 0; r < LVIP_R_MAX; r++)
		if_cols[IF_COLS + r] = (struct column){ lvip_reason_names[r], reason_label(r), 1, 17,
						  COL_COUNT };
}

static void iface_row(const struct iface_info *f, const struct lvip_counters *counters)
{
	const __u64 *c = (const __u64 *)counters;
	char name[LVIP_NAME_ESC];
	struct cell cells[IF_COLS + LVIP_R_MAX] = {
		{ name_escape(f->name, name, sizeof(name)), 0 },
		{ NULL, f->ifindex },
		{ enforcement_name(f->observe), 0 },
	};

	for (int r = 0; r < LVIP_R_MAX; r++)
		cells[IF_COLS + r].v = c[r];
	/* JSON: the reasons under "reasons", as for the global counters */
	if (out_is_json()) {
		out_open(NULL);
		out_json_str("name", cells[0].s);
		out_u64("ifindex", NULL, f->ifindex);
		out_json_str("mode", cells[2].s);
		reasons_show("reasons", counters);
		out_close();
		return;
	}
	out_row(if_cols, ARRAY_SIZE(if_cols), cells, NULL);
}

static void stats_show(const struct snapshot *sn)
{
	out_open(NULL);
	reasons_show("reasons", &sn->global);
	out_text("\n");
	vip_view_show(&sn->vips, "vips");
	out_text("\n");
	out_open_array("interfaces");
	out_header(if_cols, ARRAY_SIZE(if_cols), NULL);
	for (size_t i = 0; i < sn->nifs; i++)
		iface_row(&sn->ifs[i], &sn->ifc[i]);
	if (!sn->nifs)
		out_text("(no interface attached)\n");
	out_close();
	out_text("\n");
	tun_stats_show(&sn->tuns, "tunnels");
	out_close();
}

/* A label value in the exposition format: backslash, quote, newline escaped. */
static void prom_label(const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			putchar('\\');
		if (*v == '\n') {
			fputs("\\n", stdout);
			continue;
		}
		putchar(*v);
	}
}

static void prom_family(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_vip(const char *name, const char *vip, const char *extra, __u64 v)
{
	printf("%s{vip=\"", name);
	prom_label(vip);
	printf("\"%s} %llu\n", extra, (unsigned long long)v);
}

static void prom_reasons(const struct snapshot *sn)
{
	const __u64 *g = (const __u64 *)&sn->global;
	char name[LVIP_NAME_ESC];

	prom_family("lvip_packets_total", "counter", "Frames lvip acted on, by reason, all interfaces.");
	for (int r = 0; r < LVIP_R_MAX; r++)
		printf("lvip_packets_total{reason=\"%s\"} %llu\n", lvip_reason_names[r],
		       (unsigned long long)g[r]);
	prom_family("lvip_interface_packets_total", "counter", "Frames lvip acted on, by interface and reason.");
	for (size_t i = 0; i < sn->nifs; i++) {
		const __u64 *c = (const __u64 *)&sn->ifc[i];

		name_escape(sn->ifs[i].name, name, sizeof(name));
		for (int r = 0; r < LVIP_R_MAX; r++) {
			printf("lvip_interface_packets_total{interface=\"");
			prom_label(name);
			printf("\",reason=\"%s\"} %llu\n", lvip_reason_names[r], (unsigned long long)c[r]);
		}
	}
	prom_family("lvip_interface_observe", "gauge",
		    "1 if the interface is in observe mode (counts, changes nothing), 0 if enforced.");
	for (size_t i = 0; i < sn->nifs; i++) {
		printf("lvip_interface_observe{interface=\"");
		prom_label(name_escape(sn->ifs[i].name, name, sizeof(name)));
		printf("\"} %d\n", sn->ifs[i].observe);
	}
}

/* The per-VIP families, with the series of the first n VIPs. */
static void prom_vips(const struct snapshot *sn, size_t n)
{
	char addr[INET6_ADDRSTRLEN];

	prom_family("lvip_vip_packets_total", "counter", "Packets to the VIP accepted.");
	for (size_t i = 0; i < n; i++)
		prom_vip("lvip_vip_packets_total", vip_format(&sn->vips.e[i].addr, addr, sizeof(addr)), "",
			 sn->vips.e[i].val.packets);
	prom_family("lvip_vip_bytes_total", "counter", "IP bytes of the packets to the VIP accepted.");
	for (size_t i = 0; i < n; i++)
		prom_vip("lvip_vip_bytes_total", vip_format(&sn->vips.e[i].addr, addr, sizeof(addr)), "",
			 sn->vips.e[i].val.bytes);
	prom_family("lvip_vip_dropped_total", "counter", "ARP or ND frames for or from the VIP dropped.");
	for (size_t i = 0; i < n; i++) {
		vip_format(&sn->vips.e[i].addr, addr, sizeof(addr));
		prom_vip("lvip_vip_dropped_total", addr, ",proto=\"arp\"", sn->vips.e[i].val.arp_dropped);
		prom_vip("lvip_vip_dropped_total", addr, ",proto=\"nd\"", sn->vips.e[i].val.nd_dropped);
	}
	prom_family("lvip_vip_on_lo", "gauge", "1 if the VIP is on lo.");
	for (size_t i = 0; i < n; i++)
		prom_vip("lvip_vip_on_lo", vip_format(&sn->vips.e[i].addr, addr, sizeof(addr)), "",
			 vip_view_on_lo(&sn->vips, i));
	prom_family("lvip_vip_released", "gauge", "1 if the VIP is released (not hidden on this node).");
	for (size_t i = 0; i < n; i++)
		prom_vip("lvip_vip_released", vip_format(&sn->vips.e[i].addr, addr, sizeof(addr)), "",
			 (sn->vips.e[i].val.flags & LVIP_VIP_F_RELEASED) != 0);
}

static void stats_prometheus(const struct snapshot *sn, __u32 vip_series)
{
	size_t attached = 0, nseries = sn->vips.n < vip_series ? sn->vips.n : vip_series;

	for (size_t i = 0; i < sn->nifs; i++)
		attached += sn->ifs[i].link_alive;
	prom_reasons(sn);
	prom_vips(sn, nseries);
	tun_prometheus(&sn->tuns);
	prom_family("lvip_vips", "gauge", "VIPs in lvip's maps.");
	printf("lvip_vips %zu\n", sn->vips.n);
	prom_family("lvip_vip_series_omitted", "gauge",
		    "VIPs whose per-VIP series were left out (stats --vip-series).");
	printf("lvip_vip_series_omitted %zu\n", sn->vips.n - nseries);
	prom_family("lvip_interfaces_attached", "gauge", "Interfaces lvip's XDP program is attached to.");
	printf("lvip_interfaces_attached %zu\n", attached);
	prom_family("lvip_build_info", "gauge", "Always 1: the lvip version and pin ABI that wrote this.");
	printf("lvip_build_info{version=\"");
	prom_label(LVIP_VERSION);
	printf("\",abi=\"%d\"} 1\n", LVIP_ABI_VERSION);
	prom_family("lvip_last_export_timestamp_seconds", "gauge",
		    "Unix time this export was written: a stale value means exports fail.");
	printf("lvip_last_export_timestamp_seconds %lld\n", (long long)time(NULL));
}

static int stats_once(struct lvip_state *s, const struct cmd_opts *o)
{
	struct snapshot sn;
	int err = snapshot_take(s, &sn);

	if (err) {
		lvip_err("stats: cannot read the counters: %s", strerror(-err));
		return err;
	}
	if (o->prometheus) {
		stats_prometheus(&sn, o->vip_series);
	} else {
		out_start(o->json);
		stats_show(&sn);
		out_end(o->watch > 0);
	}
	fflush(stdout);
	snapshot_free(&sn);
	return 0;
}

static void sleep_seconds(__u32 secs)
{
	struct timespec ts = { .tv_sec = secs };

	while (!cmd_stop && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int stats_check(struct cmd_ctx *c)
{
	if (c->o.json && c->o.prometheus)
		return cmd_usage(c, "--json and --prometheus exclude each other");
	if (c->o.vip_series != UINT32_MAX && !c->o.prometheus)
		return cmd_usage(c, "--vip-series needs --prometheus");
	if (c->o.count && !c->o.watch)
		return cmd_usage(c, "--count needs --watch");
	return cmd_no_operands(c);
}

static int stats_run(struct cmd_ctx *c)
{
	int err = 0;

	if_cols_init();
	out_exact(c->o.exact);
	signal(SIGINT, cmd_on_stop);
	signal(SIGTERM, cmd_on_stop);
	for (__u32 i = 0; !err && !cmd_stop; i++) {
		if (i && !c->o.json && !c->o.prometheus)
			printf("\n--- %ld ---\n", (long)time(NULL));
		err = stats_once(&c->s, &c->o);
		if (!c->o.watch || (c->o.count && i + 1 >= c->o.count))
			break;
		sleep_seconds(c->o.watch);
	}
	return err ? EXIT_FAIL : 0;
}

static const struct opt_def opt_prometheus = {
	.name = "prometheus", .type = OPT_FLAG, .offset = offsetof(struct cmd_opts, prometheus),
	.help = "the Prometheus text format (node_exporter's textfile collector)",
};

static const struct opt_def opt_vip_series = {
	.name = "vip-series", .type = OPT_U32, .arg = "N", .min = 0, .max = UINT32_MAX - 1,
	.def = UINT32_MAX, .offset = offsetof(struct cmd_opts, vip_series),
	.expect = "needs a number of VIPs (0: none)",
	.help = "with --prometheus: per-VIP series for the first N VIPs only (0: none)",
};

static const struct opt_def opt_watch = {
	.name = "watch", .type = OPT_U32, .arg = "SECONDS", .min = 1, .max = 86400,
	.offset = offsetof(struct cmd_opts, watch),
	.expect = "needs a number of seconds from 1 to 86400",
	.help = "print again every SECONDS until interrupted",
};

static const struct opt_def opt_count = {
	.name = "count", .type = OPT_U32, .arg = "N", .min = 1, .max = UINT32_MAX,
	.offset = offsetof(struct cmd_opts, count), .expect = "needs a positive number",
	.help = "with --watch: stop after N reports",
};

const struct cmd_def cmd_stats = {
	.name = "stats",
	.summary = "Counters summed over CPUs: globally by reason, per VIP, per interface.\n"
		   "With --json and --watch, one JSON object per line.\n",
	.opts = (const struct opt_def *const[]){ &opt_json, &opt_prometheus, &opt_vip_series,
						 &opt_exact, &opt_watch, &opt_count, NULL },
	.needs = NEED_READ | NEED_LOADED, .check = stats_check, .run = stats_run,
};
