// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/* cmd_show.c - lvip stats and lvip status. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "iface.h"
#include "output.h"
#include "pindir.h"

static const char stats_usage[] =
	"Usage: lvip stats [--json|--prometheus] [--watch SECONDS [--count N]]\n"
	"\n"
	"Counters summed over CPUs: globally by reason, per VIP, per interface.\n"
	"  --json           one JSON object (with --watch: one per line)\n"
	"  --prometheus     the Prometheus text exposition format (for node_exporter's\n"
	"                   textfile collector: write to a temp file, then rename)\n"
	"  --watch SECONDS  print again every SECONDS until interrupted\n"
	"  --count N        with --watch: stop after N reports\n";

static const char status_usage[] =
	"Usage: lvip status [--json]\n"
	"\n"
	"Loaded or not, program ids, every attached interface with its XDP mode,\n"
	"the number of VIPs, and the problems found.\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct iface_stats {
	struct iface_info info;
	struct lvip_counters c;
};

struct snapshot {
	struct lvip_counters global;
	struct vip_view vips;
	struct iface_stats *ifs;
	size_t nifs;
};

static void snapshot_free(struct snapshot *sn)
{
	vip_view_free(&sn->vips);
	free(sn->ifs);
	memset(sn, 0, sizeof(*sn));
}

static int snapshot_take(struct lvip_state *s, struct snapshot *sn)
{
	struct ifc_maps ifc = state_ifc(s);
	__u32 zero = 0, *idx = NULL;
	size_t n = 0;
	int err;

	memset(sn, 0, sizeof(*sn));
	err = counters_add(s->map_fd[M_STATS], &zero, s->ncpus, &sn->global);
	if (!err)
		err = vip_view_load(s, &sn->vips);
	if (!err)
		err = iface_list(s, &idx, &n);
	if (!err && n && !(sn->ifs = calloc(n, sizeof(*sn->ifs))))
		err = -ENOMEM;
	for (size_t i = 0; !err && i < n; i++) {
		iface_inspect(s, idx[i], &sn->ifs[i].info);
		ifc_read(&ifc, idx[i], &sn->ifs[i].c);
		sn->nifs++;
	}
	free(idx);
	if (err)
		snapshot_free(sn);
	return err;
}

static json_object *stats_json(const struct snapshot *sn)
{
	json_object *o = json_object_new_object(), *ifs = json_object_new_array();
	char name[LVIP_NAME_ESC];

	for (size_t i = 0; i < sn->nifs; i++) {
		json_object *f = json_object_new_object();

		name_escape(sn->ifs[i].info.name, name, sizeof(name));
		json_object_object_add(f, "name", json_object_new_string(name));
		json_object_object_add(f, "ifindex", json_object_new_int64(sn->ifs[i].info.ifindex));
		json_object_object_add(f, "reasons", reasons_json(&sn->ifs[i].c));
		json_object_array_add(ifs, f);
	}
	json_object_object_add(o, "reasons", reasons_json(&sn->global));
	json_object_object_add(o, "vips", vip_view_json(&sn->vips));
	json_object_object_add(o, "interfaces", ifs);
	return o;
}

static void stats_table(const struct snapshot *sn)
{
	static const char *const short_names[LVIP_R_MAX] = {
		"ARP_IN_DROP", "ARP_OUT_DROP", "ARP_REWRITE", "ND_IN_DROP",
		"ND_OUT_DROP", "VIP_RX", "MALFORMED",
	};
	const __u64 *g = (const __u64 *)&sn->global;
	char buf[32], name[LVIP_NAME_ESC];

	printf("%-18s %12s\n", "REASON", "PACKETS");
	for (int r = 0; r < LVIP_R_MAX; r++)
		printf("%-18s %12s\n", lvip_reason_names[r], human_count(g[r], buf, sizeof(buf)));
	printf("\n");
	vip_view_table(&sn->vips);
	printf("\n%-16s %7s", "INTERFACE", "IFINDEX");
	for (int r = 0; r < LVIP_R_MAX; r++)
		printf(" %12s", short_names[r]);
	printf("\n");
	for (size_t i = 0; i < sn->nifs; i++) {
		const __u64 *c = (const __u64 *)&sn->ifs[i].c;

		printf("%-16s %7u", name_escape(sn->ifs[i].info.name, name, sizeof(name)),
		       sn->ifs[i].info.ifindex);
		for (int r = 0; r < LVIP_R_MAX; r++)
			printf(" %12s", human_count(c[r], buf, sizeof(buf)));
		printf("\n");
	}
	if (!sn->nifs)
		printf("(no interface attached)\n");
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

static void stats_prometheus(const struct snapshot *sn)
{
	const __u64 *g = (const __u64 *)&sn->global;
	char addr[INET6_ADDRSTRLEN], name[LVIP_NAME_ESC];
	size_t attached = 0;

	prom_family("lvip_packets_total", "counter", "Frames lvip acted on, by reason, all interfaces.");
	for (int r = 0; r < LVIP_R_MAX; r++)
		printf("lvip_packets_total{reason=\"%s\"} %llu\n", lvip_reason_names[r],
		       (unsigned long long)g[r]);
	prom_family("lvip_interface_packets_total", "counter", "Frames lvip acted on, by interface and reason.");
	for (size_t i = 0; i < sn->nifs; i++) {
		const __u64 *c = (const __u64 *)&sn->ifs[i].c;

		attached += sn->ifs[i].info.link_alive;
		name_escape(sn->ifs[i].info.name, name, sizeof(name));
		for (int r = 0; r < LVIP_R_MAX; r++) {
			printf("lvip_interface_packets_total{interface=\"");
			prom_label(name);
			printf("\",reason=\"%s\"} %llu\n", lvip_reason_names[r], (unsigned long long)c[r]);
		}
	}
	prom_family("lvip_vip_packets_total", "counter", "Packets to the VIP accepted.");
	for (size_t i = 0; i < sn->vips.n; i++)
		prom_vip("lvip_vip_packets_total", vip_format(&sn->vips.e[i].addr, addr, sizeof(addr)), "",
			 sn->vips.e[i].val.packets);
	prom_family("lvip_vip_bytes_total", "counter", "IP bytes of the packets to the VIP accepted.");
	for (size_t i = 0; i < sn->vips.n; i++)
		prom_vip("lvip_vip_bytes_total", vip_format(&sn->vips.e[i].addr, addr, sizeof(addr)), "",
			 sn->vips.e[i].val.bytes);
	prom_family("lvip_vip_dropped_total", "counter", "ARP or ND frames for or from the VIP dropped.");
	for (size_t i = 0; i < sn->vips.n; i++) {
		vip_format(&sn->vips.e[i].addr, addr, sizeof(addr));
		prom_vip("lvip_vip_dropped_total", addr, ",proto=\"arp\"", sn->vips.e[i].val.arp_dropped);
		prom_vip("lvip_vip_dropped_total", addr, ",proto=\"nd\"", sn->vips.e[i].val.nd_dropped);
	}
	prom_family("lvip_vip_on_lo", "gauge", "1 if the VIP is on lo.");
	for (size_t i = 0; i < sn->vips.n; i++)
		prom_vip("lvip_vip_on_lo", vip_format(&sn->vips.e[i].addr, addr, sizeof(addr)), "",
			 vip_view_on_lo(&sn->vips, i));
	prom_family("lvip_vips", "gauge", "VIPs in lvip's maps.");
	printf("lvip_vips %zu\n", sn->vips.n);
	prom_family("lvip_interfaces_attached", "gauge", "Interfaces lvip's XDP program is attached to.");
	printf("lvip_interfaces_attached %zu\n", attached);
}

enum stats_fmt { FMT_TABLE, FMT_JSON, FMT_PROM };

static int stats_once(struct lvip_state *s, enum stats_fmt fmt, bool watching)
{
	struct snapshot sn;
	json_object *o;
	int err = snapshot_take(s, &sn);

	if (err) {
		lvip_err("stats: cannot read the counters: %s", strerror(-err));
		return err;
	}
	if (fmt == FMT_PROM) {
		stats_prometheus(&sn);
	} else if (fmt == FMT_JSON) {
		o = stats_json(&sn);
		puts(json_object_to_json_string_ext(o, watching ? JSON_C_TO_STRING_PLAIN
							       : JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else {
		stats_table(&sn);
	}
	fflush(stdout);
	snapshot_free(&sn);
	return 0;
}

static void sleep_seconds(__u32 secs)
{
	struct timespec ts = { .tv_sec = secs };

	while (!stop && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int open_for_reading(struct lvip_state *s, const char *cmd)
{
	int err = pindir_exists(s) ? state_open(s) : -ENOENT;

	if (!err && !state_loaded(s))
		err = -ENOENT;
	if (err == -ENOENT)
		lvip_err("%s: lvip is not loaded in %s", cmd, s->pin_dir);
	return err;
}

int cmd_stats(struct cmd_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "watch", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum stats_fmt fmt = FMT_TABLE;
	__u32 watch = 0, count = 0;
	struct lvip_state s;
	int o, err = 0;

	optind = 0;
	while ((o = opt_next(argc, argv, "stats", ":h", opts)) != -1) {
		switch (o) {
		case 'j':
		case 'p':
			if (fmt != FMT_TABLE) {
				lvip_err("stats: --json and --prometheus exclude each other");
				return EXIT_USAGE;
			}
			fmt = o == 'j' ? FMT_JSON : FMT_PROM;
			break;
		case 'w':
			if (!parse_u32(optarg, 1, 86400, &watch)) {
				lvip_err("stats: --watch needs a number of seconds from 1 to 86400, not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'c':
			if (!parse_u32(optarg, 1, UINT32_MAX, &count)) {
				lvip_err("stats: --count needs a positive number, not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': return fputs(stats_usage, stdout), EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		lvip_err("stats: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (count && !watch) {
		lvip_err("stats: --count needs --watch");
		return EXIT_USAGE;
	}
	state_init(&s, c->pin_dir);
	if (open_for_reading(&s, "stats")) {
		state_close(&s);
		return EXIT_FAIL;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (__u32 i = 0; !err && !stop; i++) {
		if (i && fmt == FMT_TABLE)
			printf("\n--- %ld ---\n", (long)time(NULL));
		err = stats_once(&s, fmt, watch > 0);
		if (!watch || (count && i + 1 >= count))
			break;
		sleep_seconds(watch);
	}
	state_close(&s);
	return err ? EXIT_FAIL : EXIT_OK;
}

/* ---- status ---- */

struct status {
	bool loaded;
	struct iface_info *ifs;
	size_t nifs;
	size_t nvips;
	char **problems;
	size_t nproblems;
};

static void problem(struct status *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct status *st, const char *fmt, ...)
{
	char **p = realloc(st->problems, (st->nproblems + 1) * sizeof(*p));
	va_list ap;

	if (!p)
		return;
	st->problems = p;
	va_start(ap, fmt);
	if (vasprintf(&p[st->nproblems], fmt, ap) >= 0)
		st->nproblems++;
	va_end(ap);
}

static void status_ifaces(struct lvip_state *s, struct status *st)
{
	__u32 *idx = NULL;
	size_t n = 0;

	if (iface_list(s, &idx, &n) || !n)
		return;
	st->ifs = calloc(n, sizeof(*st->ifs));
	for (size_t i = 0; st->ifs && i < n; i++) {
		struct iface_info *f = &st->ifs[st->nifs++];
		char e[LVIP_NAME_ESC];

		iface_inspect(s, idx[i], f);
		name_escape(f->name, e, sizeof(e));
		if (!f->xdp_maps_ok || !f->tc_maps_ok)
			problem(st, "%s: the attached lvip program does not use the maps pinned in %s: VIPs "
				"added there are not hidden (run 'lvip attach %s')", e, s->pin_dir, e);
		if (f->ifaddr_stale)
			problem(st, "%s: lvip_ifaddr no longer holds the interface's IPv4 addresses "
				"(run 'lvip attach %s')", e, e);
		if (!strcmp(f->name, "(gone)"))
			problem(st, "interface %u is gone: its XDP link is detached (run 'lvip detach --all' "
				"or attach the new interface)", idx[i]);
		else if (!f->link_alive)
			problem(st, "%s: XDP program not attached (run 'lvip attach %s')", e, e);
		else if (f->xdp_prog_id != s->xdp_id)
			problem(st, "%s: runs XDP program %u, not the pinned %u", e, f->xdp_prog_id, s->xdp_id);
		if (strcmp(f->name, "(gone)") && !f->tc_prog_id)
			problem(st, "%s: lvip's tc egress filter is missing (run 'lvip attach %s')", e, e);
	}
	free(idx);
}

static void status_vips(struct lvip_state *s, struct status *st)
{
	struct vip_view v;
	char buf[INET6_ADDRSTRLEN];

	if (vip_view_load(s, &v))
		return;
	st->nvips = v.n;
	for (size_t i = 0; i < v.n; i++)
		if ((v.e[i].val.flags & LVIP_VIP_F_LO_OWNED) && !vip_view_on_lo(&v, i))
			problem(st, "%s was put on lo by lvip and is no longer there (run 'lvip vip add %s')",
				vip_format(&v.e[i].addr, buf, sizeof(buf)), buf);
	if (v.n && !st->nifs)
		problem(st, "VIPs are configured but no interface is attached");
	vip_view_free(&v);
}

/* Nothing (whole) is loaded: what check finds exposed are the problems, so
 * that status and check agree. */
static int status_exposed(struct lvip_state *s, struct status *st)
{
	struct findings fs = {};
	int err = check_collect(s, NULL, &fs);

	for (size_t i = 0; !err && i < fs.n; i++)
		if (fs.f[i].sev == SEV_EXPOSED)
			problem(st, "%s", fs.f[i].msg);
	free(fs.f);
	return err;
}

static void status_json(const struct lvip_state *s, const struct status *st)
{
	json_object *o = json_object_new_object(), *ifs = json_object_new_array();
	json_object *pr = json_object_new_array();
	char name[LVIP_NAME_ESC];

	for (size_t i = 0; i < st->nifs; i++) {
		json_object *f = json_object_new_object();

		name_escape(st->ifs[i].name, name, sizeof(name));
		json_object_object_add(f, "name", json_object_new_string(name));
		json_object_object_add(f, "ifindex", json_object_new_int64(st->ifs[i].ifindex));
		json_object_object_add(f, "xdp_mode", json_object_new_string(st->ifs[i].xdp_mode));
		json_object_object_add(f, "xdp_prog_id", json_object_new_int64(st->ifs[i].xdp_prog_id));
		json_object_object_add(f, "tc_prog_id", json_object_new_int64(st->ifs[i].tc_prog_id));
		json_object_array_add(ifs, f);
	}
	for (size_t i = 0; i < st->nproblems; i++)
		json_object_array_add(pr, json_object_new_string(st->problems[i]));
	json_object_object_add(o, "loaded", json_object_new_boolean(st->loaded));
	json_object_object_add(o, "pin_dir", json_object_new_string(s->pin_dir));
	json_object_object_add(o, "xdp_prog_id", json_object_new_int64(s->xdp_id));
	json_object_object_add(o, "tc_prog_id", json_object_new_int64(s->tc_id));
	json_object_object_add(o, "xdp_verified_insns", json_object_new_int64(s->xdp_insns));
	json_object_object_add(o, "tc_verified_insns", json_object_new_int64(s->tc_insns));
	json_object_object_add(o, "interfaces", ifs);
	json_object_object_add(o, "vips", json_object_new_int64((int64_t)st->nvips));
	json_object_object_add(o, "problems", pr);
	json_print(o);
}

static void status_print(const struct lvip_state *s, const struct status *st, bool json)
{
	char name[LVIP_NAME_ESC];

	if (json) {
		status_json(s, st);
		return;
	}
	if (st->loaded)
		printf("lvip: loaded in %s (xdp prog %u, tc prog %u; verifier: %u and %u insns)\n",
		       s->pin_dir, s->xdp_id, s->tc_id, s->xdp_insns, s->tc_insns);
	else
		printf("lvip: not loaded in %s\n", s->pin_dir);
	if (st->nifs) {
		printf("\n%-16s %7s  %-8s %9s %8s\n", "INTERFACE", "IFINDEX", "XDP", "XDP_PROG", "TC_PROG");
		for (size_t i = 0; i < st->nifs; i++)
			printf("%-16s %7u  %-8s %9u %8u\n", name_escape(st->ifs[i].name, name, sizeof(name)),
			       st->ifs[i].ifindex, st->ifs[i].xdp_mode, st->ifs[i].xdp_prog_id,
			       st->ifs[i].tc_prog_id);
	}
	printf("\nVIPs: %zu\n", st->nvips);
	printf("problems: %s\n", st->nproblems ? "" : "none");
	for (size_t i = 0; i < st->nproblems; i++)
		printf("  - %s\n", st->problems[i]);
}

int cmd_status(struct cmd_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct status st = {};
	struct lvip_state s;
	bool json = false;
	int o, err = 0;

	optind = 0;
	while ((o = opt_next(argc, argv, "status", ":h", opts)) != -1) {
		switch (o) {
		case 'j': json = true; break;
		case 'h': return fputs(status_usage, stdout), EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		lvip_err("status: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	state_init(&s, c->pin_dir);
	if (pindir_exists(&s))
		err = state_open(&s);
	if (!err) {
		st.loaded = state_loaded(&s);
		if (st.loaded) {
			status_ifaces(&s, &st);
			status_vips(&s, &st);
		} else if (pindir_exists(&s) && !pindir_on_bpffs(&s)) {
			problem(&st, "pin dir %s is not on a bpf filesystem: lvip cannot pin there "
				"(mount -t bpf bpf DIR, or --pin-dir on a bpffs)", s.pin_dir);
		} else if (state_partial(&s)) {
			problem(&st, "pin dir %s holds an incomplete lvip, or programs not bound to its maps "
				"(run 'lvip attach IFACE...' to repair it, or 'lvip down')", s.pin_dir);
		}
		if (!st.loaded)
			err = status_exposed(&s, &st);
		if (!err)
			status_print(&s, &st, json);
	}
	for (size_t i = 0; i < st.nproblems; i++)
		free(st.problems[i]);
	free(st.problems);
	free(st.ifs);
	state_close(&s);
	return err || st.nproblems ? EXIT_FAIL : EXIT_OK;
}
