// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_tunnel.c - lvip tunnel add | del | list, and the tunnels as status,
 * stats (text, JSON, Prometheus), save and the plan of apply show them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "output.h"
#include "loader.h"

static const char *const tun_reason_names[LVIP_T_MAX] = LVIP_TUN_REASON_NAMES;

/* ---- the words of a type's settings ---- */

static void peers_text(const struct tun_conf *t, const char *sep, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < t->npeers && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? sep : "",
				vip_format(&t->peers[i], a, sizeof(a)));
}

/* cfg: as a config line says them ("port=6080 peer=A,B mss=auto"), else as
 * the tables do ("port 6080, peers A B, mss auto"); "" for none. */
const char *tun_conf_words(const struct tun_conf *t, bool cfg, char *buf, size_t len)
{
	char peers[TUN_WORDS_MAX], mss[8];
	size_t off = 0;

	buf[0] = '\0';
	if (t->port)
		off += snprintf(buf + off, len - off, cfg ? " port=%u" : ", port %u", t->port);
	peers_text(t, cfg ? "," : " ", peers, sizeof(peers));
	if (t->npeers && off < len)
		off += snprintf(buf + off, len - off, cfg ? " peer=%s" : ", peers %s", peers);
	if (t->mss && off < len)
		snprintf(buf + off, len - off, cfg ? " mss=%s" : ", mss %s",
			 tun_mss_text(t->mss, mss, sizeof(mss)));
	if (buf[0]) /* the leading separator */
		memmove(buf, buf + (cfg ? 1 : 2), strlen(buf + (cfg ? 1 : 2)) + 1);
	return buf;
}

/* ---- the view: settings and counters ---- */

int tun_view_load(const struct lvip_state *s, struct tun_view *v)
{
	int err = tun_read(s, &v->set);

	memset(v->c, 0, sizeof(v->c));
	for (__u32 t = 0; !err && t < LVIP_TUN_MAX; t++)
		err = tun_counters_read(s, t, &v->c[t]);
	if (err) {
		tun_set_free(&v->set);
		lvip_err("cannot read the tunnels: %s", strerror(-err));
	}
	return err;
}

void tun_view_free(struct tun_view *v)
{
	tun_set_free(&v->set);
}

static void counters_json(const char *key, const struct lvip_tuncounters *c)
{
	out_open(key);
	for (int r = 0; r < LVIP_T_MAX; r++)
		out_u64(tun_reason_names[r], NULL, ((const __u64 *)c)[r]);
	out_close();
}

static void tun_json(const struct tun_view *v, int t, bool counters)
{
	const struct tun_conf *c = &v->set.t[t];
	char a[INET6_ADDRSTRLEN], mss[8];

	out_open(NULL);
	out_json_str("type", lvip_tun_names[t]);
	out_u64("port", NULL, c->port);
	out_json_str("mss", tun_mss_text(c->mss, mss, sizeof(mss)));
	out_open_array("peers");
	for (size_t i = 0; i < c->npeers; i++)
		out_json_str(NULL, vip_format(&c->peers[i], a, sizeof(a)));
	out_close();
	if (counters)
		counters_json("counters", &v->c[t]);
	out_close();
}

/* The enabled types: a table (lvip tunnel list) or one line (status);
 * JSON: an array under key. */
void tun_view_show(const struct tun_view *v, const char *key, bool table)
{
	char words[TUN_WORDS_MAX], n[32], mss[8], peers[TUN_WORDS_MAX];
	bool any = tun_any_enabled(&v->set);

	out_open_array(key);
	if (!table)
		out_text("tunnels: %s", any ? "" : "none");
	else if (!any)
		out_text("no tunnels\n");
	else
		out_text("%-5s %5s %5s %13s %8s %12s %8s %9s  %s\n", "TYPE", "PORT", "MSS",
			 "DECAPSULATED", "NOT_VIP", "PEER_REFUSED", "FRAGMENT", "MALFORMED", "PEERS");
	for (int t = 0, shown = 0; t < LVIP_TUN_MAX; t++) {
		const struct tun_conf *c = &v->set.t[t];

		if (!c->enabled)
			continue;
		if (out_is_json()) {
			tun_json(v, t, table);
			continue;
		}
		if (!table) {
			tun_conf_words(c, false, words, sizeof(words));
			out_text("%s%s%s%s%s", shown++ ? "; " : "", lvip_tun_names[t], *words ? " (" : "",
				 words, *words ? ")" : "");
			continue;
		}
		snprintf(n, sizeof(n), "%u", c->port);
		peers_text(c, ",", peers, sizeof(peers));
		out_text("%-5s %5s %5s", lvip_tun_names[t], c->port ? n : "-",
			 tun_mss_text(c->mss, mss, sizeof(mss)));
		for (int r = 0; r < LVIP_T_MAX; r++)
			out_text(" %*llu", r == 0 ? 13 : r == 2 ? 12 : r == 4 ? 9 : 8,
				 (unsigned long long)((const __u64 *)&v->c[t])[r]);
		out_text("  %s\n", c->npeers ? peers : "any");
	}
	if (!table)
		out_text("\n");
	out_close();
}

/* stats: every type's counters (JSON: {ipip: {decapsulated: N, ...}, ...}). */
void tun_stats_show(const struct tun_view *v, const char *key)
{
	out_open(key);
	out_text("%-8s", "TUNNEL");
	for (int r = 0; r < LVIP_T_MAX; r++)
		out_text(" %13s", tun_reason_names[r]);
	out_text("\n");
	for (int t = 0; t < LVIP_TUN_MAX; t++) {
		out_text("%-8s", lvip_tun_names[t]);
		for (int r = 0; r < LVIP_T_MAX; r++)
			out_text(" %13llu", (unsigned long long)((const __u64 *)&v->c[t])[r]);
		out_text("%s\n", v->set.t[t].enabled ? "" : "  (not configured)");
		counters_json(lvip_tun_names[t], &v->c[t]);
	}
	out_close();
}

void tun_prometheus(const struct tun_view *v)
{
	printf("# HELP lvip_tunnel_packets_total Tunnelled packets to this host, by tunnel type and "
	       "what the datapath did.\n# TYPE lvip_tunnel_packets_total counter\n");
	for (int t = 0; t < LVIP_TUN_MAX; t++)
		for (int r = 0; r < LVIP_T_MAX; r++)
			printf("lvip_tunnel_packets_total{type=\"%s\",reason=\"%s\"} %llu\n",
			       lvip_tun_names[t], tun_reason_names[r],
			       (unsigned long long)((const __u64 *)&v->c[t])[r]);
	printf("# HELP lvip_tunnel_enabled 1 if the tunnel type is decapsulated.\n"
	       "# TYPE lvip_tunnel_enabled gauge\n");
	for (int t = 0; t < LVIP_TUN_MAX; t++)
		printf("lvip_tunnel_enabled{type=\"%s\"} %d\n", lvip_tun_names[t], v->set.t[t].enabled);
}

/* ---- the command line ---- */

static int type_arg(struct cmd_ctx *c, const char *arg)
{
	int t = tun_type_parse(arg);

	if (t < 0)
		cmd_usage(c, "unknown tunnel type '%s' (expected ipip, gue or gre)", arg);
	return t;
}

/* The peers, each an address that is not this host's own. */
static int check_peers(struct cmd_ctx *c)
{
	struct addr_list all = {};
	const char *why = NULL;
	int err = c->o.peers.n ? nl_addr_dump(AF_UNSPEC, 0, &all) : 0;

	if (err) {
		lvip_err("%s: cannot read the host's addresses: %s", c->cmd->name, strerror(-err));
		return EXIT_FAIL;
	}
	for (size_t i = 0; !err && i < c->o.peers.n; i++) {
		struct vip_addr a;

		if (vip_parse(c->o.peers.v[i], &a, &why) || (why = tun_peer_guard(&a, &all)))
			err = cmd_usage(c, "invalid --peer '%s': %s", c->o.peers.v[i], why);
		else if (tun_peer_add(&c->tun, &a))
			err = EXIT_FAIL;
	}
	addr_list_free(&all);
	return err;
}

static int check_add(struct cmd_ctx *c)
{
	if (c->argc != 1)
		return c->argc ? cmd_usage(c, "unexpected argument '%s' (one type at a time)", c->argv[1]) :
		       cmd_usage(c, "name a tunnel type (ipip, gue or gre)");
	c->tun_type = type_arg(c, c->argv[0]);
	if (c->tun_type < 0)
		return EXIT_USAGE;
	if (c->tun_type == LVIP_TUN_GUE && !c->o.port)
		return cmd_usage(c, "gue needs --port (the UDP port the director sends to, 1-65535)");
	if (c->tun_type != LVIP_TUN_GUE && c->o.port)
		return cmd_usage(c, "--port is for gue only, not %s", c->argv[0]);
	if (c->o.mss && tun_mss_parse(c->o.mss, &c->tun.mss))
		return cmd_usage(c, "--mss is auto or a number from 536 to 65534, not '%s'", c->o.mss);
	c->tun.enabled = true;
	c->tun.port = (__u16)c->o.port;
	return check_peers(c);
}

static int check_del(struct cmd_ctx *c)
{
	if (!c->argc)
		return cmd_usage(c, "name at least one tunnel type (ipip, gue or gre)");
	for (int i = 0; i < c->argc; i++) {
		int t = type_arg(c, c->argv[i]);

		if (t < 0)
			return EXIT_USAGE;
		c->tun_del[t] = true;
	}
	return 0;
}

/* ---- running ---- */

static int write_set(struct cmd_ctx *c, const struct tun_set *want)
{
	int err = tun_write(&c->s, want, NULL);

	if (err)
		lvip_err("%s: cannot write the tunnel maps: %s (nothing changed)", c->cmd->name,
			 strerror(-err));
	else
		ifaddr_refresh_all(&c->s);
	return err ? EXIT_FAIL : 0;
}

static int run_add(struct cmd_ctx *c)
{
	const char *name = lvip_tun_names[c->tun_type];
	char words[TUN_WORDS_MAX];
	struct tun_set cur, want;
	bool same;
	int rc;

	if (tun_read(&c->s, &cur))
		return lvip_err("%s: cannot read the tunnel maps", c->cmd->name), EXIT_FAIL;
	same = tun_conf_equal(&cur.t[c->tun_type], &c->tun);
	want = cur; /* shares cur's peers but for the type's own: freed with cur */
	want.t[c->tun_type] = c->tun;
	rc = !same ? write_set(c, &want) : tunaddr_refresh(&c->s, NULL) ? EXIT_FAIL : 0;
	tun_conf_words(&c->tun, false, words, sizeof(words));
	if (!rc)
		lvip_info("%s: %s%s%s%s", name, same ? "unchanged" : cur.t[c->tun_type].enabled ?
			  "updated" : "added", *words ? " (" : "", words, *words ? ")" : "");
	tun_set_free(&cur);
	return rc;
}

static int run_del(struct cmd_ctx *c)
{
	struct tun_set cur, want;
	bool change = false;
	int rc = 0;

	if (tun_read(&c->s, &cur))
		return lvip_err("%s: cannot read the tunnel maps", c->cmd->name), EXIT_FAIL;
	want = cur;
	for (int t = 0; t < LVIP_TUN_MAX; t++)
		if (c->tun_del[t]) {
			change |= want.t[t].enabled;
			want.t[t] = (struct tun_conf){};
		}
	rc = change ? write_set(c, &want) : tunaddr_refresh(&c->s, NULL) ? EXIT_FAIL : 0;
	for (int t = 0; !rc && t < LVIP_TUN_MAX; t++)
		if (c->tun_del[t])
			lvip_info("%s: %s", lvip_tun_names[t], cur.t[t].enabled ? "removed" :
				  "not configured, nothing to do");
	tun_set_free(&cur);
	return rc;
}

static int run_list(struct cmd_ctx *c)
{
	struct tun_view v = {};

	if (tun_view_load(&c->s, &v))
		return EXIT_FAIL;
	out_start(c->o.json);
	tun_view_show(&v, NULL, true);
	out_end(false);
	tun_view_free(&v);
	return 0;
}

static const struct opt_def opt_port = {
	.name = "port", .type = OPT_U32, .arg = "N", .min = 1, .max = 65535,
	.offset = offsetof(struct cmd_opts, port), .expect = "is a UDP port from 1 to 65535",
	.help = "gue: the UDP port the director sends to (ipvsadm --tun-port); required",
};

static const struct opt_def opt_peer = {
	.name = "peer", .type = OPT_LIST, .arg = "ADDR", .offset = offsetof(struct cmd_opts, peers),
	.help = "decapsulate only from this outer source (a director); repeatable",
};

static const struct opt_def opt_mss = {
	.name = "mss", .type = OPT_STR, .arg = "auto|N", .offset = offsetof(struct cmd_opts, mss),
	.help = "clamp the MSS of SYN/SYN-ACK from a VIP: auto (from the MTU) or 536-65534",
};

const struct cmd_def cmd_tunnel_add = {
	.name = "tunnel add", .operands = "ipip|gue|gre",
	.summary = "Decapsulate LVS-TUN packets of this type in XDP (no tunnel device, no\n"
		   "module): the outer destination one of this host's addresses, the inner one\n"
		   "a VIP. ipip: IP-in-IP (4 and 41) over IPv4 and IPv6; gue: UDP to --port,\n"
		   "GUE variant 0 or 1; gre: GRE with an optional checksum. With --peer, only\n"
		   "from those directors. Adding a type again replaces its settings.\n",
	.opts = (const struct opt_def *const[]){ &opt_port, &opt_peer, &opt_mss, NULL },
	.needs = NEED_LOCK | NEED_CHANGE | NEED_LOADED, .absent = CMD_NOT_LOADED,
	.absent_exit = EXIT_FAIL, .check = check_add, .run = run_add,
};

const struct cmd_def cmd_tunnel_del = {
	.name = "tunnel del", .operands = "TYPE...",
	.summary = "Stop decapsulating these types (and forget their peers). A type that is\n"
		   "not configured: nothing to do.\n",
	.needs = NEED_LOCK | NEED_CHANGE | NEED_LOADED, .absent = CMD_NOT_LOADED,
	.absent_exit = EXIT_FAIL, .check = check_del, .run = run_del,
};

const struct cmd_def cmd_tunnel_list = {
	.name = "tunnel list",
	.summary = "The tunnel types decapsulated: port, MSS clamp, peers and counters.\n",
	.opts = (const struct opt_def *const[]){ &opt_json, NULL },
	.needs = NEED_READ, .check = cmd_no_operands, .run = run_list,
};
