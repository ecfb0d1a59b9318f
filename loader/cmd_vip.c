// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_vip.c - lvip vip add | del | list | release | hide.
 *
 * Order is the point: a VIP enters the map before it appears on lo, and
 * leaves lo before it leaves the map, so it is never on lo unprotected. The
 * map entry's LVIP_VIP_F_LO_OWNED flag records that lvip put it on lo.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "output.h"
#include "loader.h"

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
	int m = 0;

	if (!s)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		s[i] = (struct vip_at){ v[i], i };
	qsort(s, n, sizeof(*s), vip_at_cmp);
	for (int i = 1; i < n; i++)
		if (vip_equal(&s[i].a, &s[i - 1].a))
			v[s[i].i].family = AF_UNSPEC; /* a repeat: dropped below */
	for (int i = 0; i < n; i++)
		if (v[i].family != AF_UNSPEC)
			v[m++] = v[i];
	free(s);
	return m;
}

static const char *add_outcome(const struct vip_step *st, bool no_lo)
{
	if (st->inserted)
		return st->on_lo && st->marked ? "protected (on lo with lvip's mark: lvip's)" :
		       st->on_lo ? "protected (found on lo)" :
		       no_lo ? "protected (not on lo: --no-lo)" : "protected, added to lo";
	return st->lo_added ? "already protected, added to lo" : "already protected";
}

static const char *del_outcome(const struct vip_step *st)
{
	return !st->present ? "not a VIP, nothing to do" :
	       st->lo_removed ? "removed (and from lo)" : "removed";
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


/* The addresses, parsed before any state is touched: one bad address and
 * nothing is touched. An address to add must not be the server's own nor a
 * connected subnet's special address (vip_guard). */
static int check_vips(struct cmd_ctx *c)
{
	struct addr_list own = {};
	bool guard = c->cmd == &cmd_vip_add;
	const char *why = NULL;
	char buf[256];
	int err, i;

	if (!c->argc)
		return cmd_usage(c, "name at least one address");
	if (guard && (err = vip_guard_addrs(&own))) {
		lvip_err("%s: cannot read the interface addresses: %s", c->cmd->name, strerror(-err));
		return EXIT_FAIL;
	}
	c->vips = calloc(c->argc, sizeof(*c->vips));
	for (i = 0; c->vips && !why && i < c->argc; i++)
		if (!vip_parse(c->argv[i], &c->vips[i], &why) && guard)
			why = vip_guard(&c->vips[i], &own, buf, sizeof(buf));
	addr_list_free(&own);
	if (why)
		return cmd_usage(c, "invalid VIP '%s': %s", c->argv[i - 1], why);
	c->nvips = c->vips ? drop_repeats(c->vips, c->argc) : -ENOMEM;
	return c->nvips < 0 ? EXIT_FAIL : 0;
}

/* vip add or del, one line per address; then lvip_ifaddr and lvip_tunaddr
 * follow the host's addresses again. */
static int vip_change(struct cmd_ctx *c, bool add)
{
	struct addr_list lo_addrs = {};
	char buf[INET6_ADDRSTRLEN];
	struct vip_undo u;
	int err = lo_addr_dump(&lo_addrs);

	if (!err && add)
		err = vips_add(&c->s, c->vips, c->nvips, c->o.no_lo, &lo_addrs, &u);
	else if (!err)
		err = vips_del(&c->s, c->vips, c->nvips, c->o.keep_lo, &lo_addrs, &u);
	for (int i = 0; !err && i < c->nvips; i++) {
		lvip_info("%s: %s", vip_format(&c->vips[i], buf, sizeof(buf)),
			  add ? add_outcome(&u.st[i], c->o.no_lo) : del_outcome(&u.st[i]));
		if (!add && u.st[i].present)
			vip_warn_exposed(&u.st[i], c->o.keep_lo);
	}
	if (!err)
		vip_undo_free(&u);
	addr_list_free(&lo_addrs);
	if (!err && add)
		warn_if_unattached(&c->s);
	if (!err)
		ifaddr_refresh_all(&c->s);
	if (!err)
		tunaddr_refresh(&c->s, NULL); /* a VIP on lo is not one of the host's addresses */
	return err ? EXIT_FAIL : 0;
}

static int run_add(struct cmd_ctx *c)
{
	return vip_change(c, true);
}

static int run_del(struct cmd_ctx *c)
{
	return vip_change(c, false);
}

static int run_list(struct cmd_ctx *c)
{
	struct vip_view view;

	if (vip_view_load(&c->s, &view))
		return EXIT_FAIL;
	out_start(c->o.json);
	out_exact(c->o.exact);
	vip_view_show(&view, NULL);
	out_end(false);
	vip_view_free(&view);
	return 0;
}

/* ---- release, hide ---- */

/* The flags of every address, all of them VIPs, before any is changed: one
 * that is not in the map is an input error (exit 2, nothing changed). */
static int current_flags(struct cmd_ctx *c, __u32 *flags)
{
	char buf[INET6_ADDRSTRLEN];
	struct lvip_vip_val val;

	for (int i = 0; i < c->nvips; i++) {
		int err = vip_lookup(&c->s, &c->vips[i], &val);

		vip_format(&c->vips[i], buf, sizeof(buf));
		if (err == -ENOENT)
			return cmd_usage(c, "%s is not a VIP (run 'lvip vip add %s' first)", buf, buf);
		if (err) {
			lvip_err("%s: cannot read %s from the VIP map: %s", c->cmd->name, buf, strerror(-err));
			return EXIT_FAIL;
		}
		flags[i] = val.flags;
	}
	return 0;
}

static __u32 with_released(__u32 flags, bool release)
{
	return release ? flags | LVIP_VIP_F_RELEASED : flags & ~LVIP_VIP_F_RELEASED;
}

/* Write the new flags where they change; a failure part-way puts back the
 * ones already written. */
static int store_flags(struct cmd_ctx *c, const __u32 *old, bool release)
{
	char buf[INET6_ADDRSTRLEN];
	int i, err = 0;

	for (i = 0; !err && i < c->nvips; i++)
		if (with_released(old[i], release) != old[i])
			err = vip_set_flags(&c->s, &c->vips[i], with_released(old[i], release));
	if (!err)
		return 0;
	i--; /* the one that failed */
	lvip_err("%s: cannot change %s in the VIP map: %s", c->cmd->name,
		 vip_format(&c->vips[i], buf, sizeof(buf)), strerror(-err));
	while (i-- > 0)
		vip_set_flags(&c->s, &c->vips[i], old[i]);
	return EXIT_FAIL;
}

/* Set (release) or clear (hide) LVIP_VIP_F_RELEASED on every address. */
static int set_released(struct cmd_ctx *c, bool release)
{
	__u32 *old = calloc(c->nvips, sizeof(*old));
	char buf[INET6_ADDRSTRLEN];
	int rc = old ? current_flags(c, old) : EXIT_FAIL;

	if (!rc)
		rc = store_flags(c, old, release);
	for (int i = 0; !rc && i < c->nvips; i++)
		lvip_info("%s: %s%s", vip_format(&c->vips[i], buf, sizeof(buf)),
			  with_released(old[i], release) == old[i] ? "already " : "",
			  release ? "released (this node answers ARP/ND for it)" : "hidden");
	free(old);
	return rc;
}

static int run_release(struct cmd_ctx *c)
{
	return set_released(c, true);
}

static int run_hide(struct cmd_ctx *c)
{
	return set_released(c, false);
}

const struct opt_def opt_json = {
	.name = "json", .short_name = 'j', .type = OPT_FLAG,
	.offset = offsetof(struct cmd_opts, json), .help = "JSON output",
};

const struct opt_def opt_exact = {
	.name = "exact", .short_name = 'x', .type = OPT_FLAG,
	.offset = offsetof(struct cmd_opts, exact),
	.help = "numbers in full in the tables, not rounded (1.2k, 3.4 MiB)",
};

static const struct opt_def opt_no_lo = {
	.name = "no-lo", .type = OPT_FLAG, .offset = offsetof(struct cmd_opts, no_lo),
	.help = "protect ADDR without putting it on lo",
};

static const struct opt_def opt_keep_lo = {
	.name = "keep-lo", .type = OPT_FLAG, .offset = offsetof(struct cmd_opts, keep_lo),
	.help = "leave ADDR on lo (exposed again)",
};

#define VIP_CHANGE (NEED_LOCK | NEED_CHANGE | NEED_LOADED)

const struct cmd_def cmd_vip_add = {
	.name = "vip add", .operands = "ADDR...",
	.summary = "Protect ADDR (IPv4, or IPv6 host address; /32 or /128 accepted): into the\n"
		   "VIP map first, then onto lo unless --no-lo. A VIP already on lo is adopted\n"
		   "(owner \"found\") and never removed by lvip. Refused: the server's own\n"
		   "addresses (on any interface but lo) and the network, broadcast or\n"
		   "subnet-router anycast address of a connected subnet.\n",
	.opts = (const struct opt_def *const[]){ &opt_no_lo, NULL },
	.needs = VIP_CHANGE, .absent = CMD_NOT_LOADED, .absent_exit = EXIT_FAIL,
	.check = check_vips, .run = run_add,
};

const struct cmd_def cmd_vip_del = {
	.name = "vip del", .operands = "ADDR...",
	.summary = "Take ADDR off lo (only if lvip put it there; --keep-lo keeps it), then out\n"
		   "of the map. Not a VIP: nothing to do.\n",
	.opts = (const struct opt_def *const[]){ &opt_keep_lo, NULL },
	.needs = VIP_CHANGE, .absent = CMD_NOT_LOADED, .absent_exit = EXIT_FAIL,
	.check = check_vips, .run = run_del,
};

/* Not NEED_CHANGE, deliberately: a VRRP daemon (keepalived's notify
 * scripts) runs them on a node where `lvip watch` keeps the pin dir, and
 * watch never touches the flag (apply and watch keep a VIP's state). */
#define VIP_FLAG (NEED_LOCK | NEED_LOADED)

const struct cmd_def cmd_vip_release = {
	.name = "vip release", .operands = "ADDR...",
	.summary = "Stop hiding ADDR on this node (a director holding the VIP): ARP/ND for it\n"
		   "pass, so the kernel answers; packets to it are still counted. Kept in the\n"
		   "VIP map: survives restarts, apply and watch (allowed while watch runs).\n"
		   "Not a VIP: exit 2, nothing changed.\n",
	.needs = VIP_FLAG, .absent = CMD_NOT_LOADED, .absent_exit = EXIT_FAIL,
	.check = check_vips, .run = run_release,
};

const struct cmd_def cmd_vip_hide = {
	.name = "vip hide", .operands = "ADDR...",
	.summary = "Hide a released ADDR again (a real server): ARP/ND for it are dropped.\n"
		   "Allowed while watch runs. Not a VIP: exit 2, nothing changed.\n",
	.needs = VIP_FLAG, .absent = CMD_NOT_LOADED, .absent_exit = EXIT_FAIL,
	.check = check_vips, .run = run_hide,
};

const struct cmd_def cmd_vip_list = {
	.name = "vip list",
	.summary = "Every VIP: on lo or not, owner, released or hidden, packets, bytes, ARP/ND\n"
		   "dropped.\n",
	.opts = (const struct opt_def *const[]){ &opt_json, &opt_exact, NULL },
	.needs = NEED_READ, .check = cmd_no_operands, .run = run_list,
};
