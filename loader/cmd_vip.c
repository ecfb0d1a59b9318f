// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_vip.c - lvip vip add | del | list.
 *
 * Order is the point: a VIP enters the map before it appears on lo, and
 * leaves lo before it leaves the map, so it is never on lo unprotected. The
 * map entry's LVIP_VIP_F_LO_OWNED flag records that lvip put it on lo.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "cmd.h"
#include "iface.h"
#include "load.h"
#include "output.h"
#include "pindir.h"
#include "vipmap.h"
#include "vips.h"

static const char vip_usage[] =
	"Usage: lvip vip add ADDR... [--no-lo]\n"
	"       lvip vip del ADDR... [--keep-lo]\n"
	"       lvip vip list [--json]\n"
	"\n"
	"  add   protect ADDR (IPv4, or IPv6 host address; /32 or /128 accepted):\n"
	"        into the VIP map first, then onto lo unless --no-lo. A VIP already\n"
	"        on lo is adopted (owner \"found\") and never removed by lvip.\n"
	"        Refused: the server's own addresses (on any interface but lo) and\n"
	"        the network, broadcast or subnet-router anycast address of a\n"
	"        connected subnet.\n"
	"  del   take ADDR off lo (only if lvip put it there; --keep-lo keeps it),\n"
	"        then out of the map. Not a VIP: nothing to do.\n"
	"  list  every VIP: on lo or not, owner, packets, bytes, ARP/ND dropped.\n";

struct vip_at {
	struct vip_addr a;
	int i; /* place on the command line */
};

static int vip_at_cmp(const void *pa, const void *pb)
{
	const struct vip_at *a = pa, *b = pb;
	int d = vip_cmp(&a->a, &b->a);

	return d ? d : (a->i > b->i) - (a->i < b->i);
}

/* An address named twice (in any spelling) is handled once, at its first
 * place. Returns the new count, or -ENOMEM. */
static int drop_repeats(struct vip_addr *v, int n)
{
	struct vip_at *s = calloc(n, sizeof(*s));
	bool *keep = calloc(n, sizeof(*keep));
	int m = 0;

	if (!s || !keep) {
		free(s);
		free(keep);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++)
		s[i] = (struct vip_at){ v[i], i };
	qsort(s, n, sizeof(*s), vip_at_cmp);
	for (int i = 0; i < n; i++)
		keep[s[i].i] = i == 0 || !vip_equal(&s[i].a, &s[i - 1].a);
	for (int i = 0; i < n; i++)
		if (keep[i])
			v[m++] = v[i];
	free(s);
	free(keep);
	return m;
}

/* One address: its syntax, then (own != NULL: add) the guards. */
static int parse_one(const char *cmd, const char *arg, const struct addr_list *own,
		     struct vip_addr *a)
{
	char buf[256];
	const char *why;

	if (!vip_parse(arg, a, &why) && own)
		why = vip_guard(a, own, buf, sizeof(buf));
	if (!why)
		return 0;
	lvip_err("vip %s: invalid VIP '%s': %s", cmd, arg, why);
	return -EINVAL;
}

/* Parse every address first: one bad address and nothing is touched. An
 * address to add must not be the server's own nor a connected subnet's
 * special address (vip_guard). Returns how many distinct addresses are in
 * *out, -EINVAL (reported) or another -errno. */
static int parse_vips(const char *cmd, int n, char **args, struct vip_addr **out)
{
	struct addr_list own = {};
	bool guard = !strcmp(cmd, "add");
	struct vip_addr *v;
	int err = 0;

	if (n == 0) {
		lvip_err("vip %s: name at least one address", cmd);
		return -EINVAL;
	}
	if (guard && (err = vip_guard_addrs(&own))) {
		lvip_err("vip %s: cannot read the interface addresses: %s", cmd, strerror(-err));
		return -EIO;
	}
	v = calloc(n, sizeof(*v));
	err = v ? 0 : -ENOMEM;
	for (int i = 0; !err && i < n; i++)
		err = parse_one(cmd, args[i], guard ? &own : NULL, &v[i]);
	addr_list_free(&own);
	if (!err)
		n = drop_repeats(v, n);
	if (err || n < 0) {
		free(v);
		return err ? err : n;
	}
	*out = v;
	return n;
}

static int open_loaded(struct lvip_state *s, const char *cmd)
{
	int err = pindir_lock(s, false);

	if (!err)
		err = pindir_refuse_if_watched(s, !strcmp(cmd, "add") ? "vip add" : "vip del");
	if (err == -ENOENT) {
		lvip_err("vip %s: lvip is not loaded (%s absent): run 'lvip attach IFACE...' first",
			 cmd, s->pin_dir);
		return err;
	}
	if (!err)
		err = state_open(s);
	if (!err && state_partial(s)) { /* repair, as attach would */
		bool replaced;

		err = load_pins(s, LVIP_MAX_VIPS_DEFAULT, &replaced);
	}
	if (!err && !state_loaded(s)) {
		lvip_err("vip %s: lvip is not loaded in %s: run 'lvip attach IFACE...' first",
			 cmd, s->pin_dir);
		err = -ENOENT;
	}
	return err;
}

static const char *add_outcome(const struct vip_step *st, bool no_lo)
{
	if (st->inserted)
		return st->on_lo ? "protected (found on lo)" :
		       no_lo ? "protected (not on lo: --no-lo)" : "protected, added to lo";
	return st->lo_added ? "already protected, added to lo" : "already protected";
}

static int vip_add(struct lvip_state *s, struct vip_addr *v, int n, bool no_lo)
{
	struct addr_list lo_addrs = {};
	char buf[INET6_ADDRSTRLEN];
	struct vip_undo u;
	int err = lo_addr_dump(&lo_addrs);

	if (!err)
		err = vips_add(s, v, n, no_lo, &lo_addrs, &u);
	if (!err) {
		for (int i = 0; i < n; i++)
			lvip_info("%s: %s", vip_format(&v[i], buf, sizeof(buf)), add_outcome(&u.st[i], no_lo));
		vip_undo_free(&u);
	}
	addr_list_free(&lo_addrs);
	return err;
}

static int vip_del(struct lvip_state *s, struct vip_addr *v, int n, bool keep_lo)
{
	struct addr_list lo_addrs = {};
	char buf[INET6_ADDRSTRLEN];
	struct vip_undo u;
	int err = lo_addr_dump(&lo_addrs);

	if (!err)
		err = vips_del(s, v, n, keep_lo, &lo_addrs, &u);
	for (int i = 0; !err && i < n; i++) {
		const struct vip_step *st = &u.st[i];

		vip_format(&v[i], buf, sizeof(buf));
		if (!st->present) {
			lvip_info("%s: not a VIP, nothing to do", buf);
			continue;
		}
		lvip_info("%s: removed%s", buf, st->lo_removed ? " (and from lo)" : "");
		vip_warn_exposed(st, keep_lo);
	}
	if (!err)
		vip_undo_free(&u);
	addr_list_free(&lo_addrs);
	return err;
}

static void warn_if_unattached(struct lvip_state *s)
{
	__u32 *idx = NULL;
	size_t n = 0;

	if (!iface_list(s, &idx, &n) && n == 0)
		lvip_warn("no interface is attached: the VIPs are not hidden anywhere yet "
			  "(run 'lvip attach IFACE...')");
	free(idx);
}

static int vip_list(struct cmd_ctx *c, bool json)
{
	struct lvip_state s;
	struct vip_view view = {};
	int err;

	state_init(&s, c->pin_dir);
	err = pindir_exists(&s) ? state_open(&s) : 0;
	if (!err)
		err = vip_view_load(&s, &view);
	if (!err) {
		if (json)
			json_print(vip_view_json(&view));
		else
			vip_view_table(&view);
	}
	vip_view_free(&view);
	state_close(&s);
	return err ? EXIT_FAIL : EXIT_OK;
}

int cmd_vip(struct cmd_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-lo", no_argument, NULL, 'n' },
		{ "keep-lo", no_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool no_lo = false, keep_lo = false, json = false;
	const char *sub = argc > 1 ? argv[1] : NULL;
	struct vip_addr *v = NULL;
	struct lvip_state s;
	int o, err, n;

	if (sub && (!strcmp(sub, "--help") || !strcmp(sub, "-h")))
		return fputs(vip_usage, stdout), EXIT_OK;
	if (!sub || (strcmp(sub, "add") && strcmp(sub, "del") && strcmp(sub, "list"))) {
		lvip_err("vip: expected 'add', 'del' or 'list'%s%s (see 'lvip vip --help')",
			 sub ? ", not " : "", sub ? sub : "");
		return EXIT_USAGE;
	}
	argc--;
	argv++;
	optind = 0;
	while ((o = opt_next(argc, argv, "vip", ":h", opts)) != -1) {
		switch (o) {
		case 'n': no_lo = true; break;
		case 'k': keep_lo = true; break;
		case 'j': json = true; break;
		case 'h': return fputs(vip_usage, stdout), EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if ((no_lo && strcmp(sub, "add")) || (keep_lo && strcmp(sub, "del")) ||
	    (json && strcmp(sub, "list"))) {
		lvip_err("vip %s: option %s does not apply here", sub,
			 no_lo ? "--no-lo" : keep_lo ? "--keep-lo" : "--json");
		return EXIT_USAGE;
	}
	n = argc - optind;
	if (!strcmp(sub, "list")) {
		if (n) {
			lvip_err("vip list: unexpected argument '%s'", argv[optind]);
			return EXIT_USAGE;
		}
		return vip_list(c, json);
	}
	n = parse_vips(sub, n, argv + optind, &v);
	if (n == -ENOMEM)
		return lvip_err("vip %s: out of memory", sub), EXIT_FAIL;
	if (n < 0)
		return n == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
	state_init(&s, c->pin_dir);
	err = open_loaded(&s, sub);
	if (!err)
		err = !strcmp(sub, "add") ? vip_add(&s, v, n, no_lo) : vip_del(&s, v, n, keep_lo);
	if (!err && !strcmp(sub, "add"))
		warn_if_unattached(&s);
	if (!err)
		ifaddr_refresh_all(&s);
	state_close(&s);
	free(v);
	return err ? EXIT_FAIL : EXIT_OK;
}
