// SPDX-License-Identifier: GPL-2.0
/* cmd_iface.c - lvip attach, lvip detach, lvip down. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "loader.h"
#include "output.h"

static void attach_report(struct lvip_state *s, char **names, const __u32 *idx, int n,
			  enum xdp_mode_req mode, const bool *added, const bool *was_observe)
{
	char e[LVIP_NAME_ESC];

	for (int i = 0; i < n; i++) {
		struct iface_info info;

		iface_inspect(s, idx[i], &info);
		name_escape(names[i], e, sizeof(e));
		lvip_info("%s: %s (xdp %s, tc egress, %s)", e,
			  added[i] ? "attached" : was_observe[i] != info.observe ?
			  "already attached, mode switched" : "already attached",
			  xdp_mode_name(info.xdp_mode), info.observe ? "observe" : "enforce");
		if (!added[i] && MODE_BASE(mode) != MODE_AUTO && !info.shared && info.xdp_mode !=
		    (MODE_BASE(mode) == MODE_NATIVE ? XDP_ATTACHED_DRV : XDP_ATTACHED_SKB))
			lvip_warn("%s stays in %s mode: 'lvip detach %s' first to change it",
				  e, xdp_mode_name(info.xdp_mode), e);
	}
}

/* Attach each interface in observe or enforce mode; on failure, detach
 * those this run attached and give the others their mode back. */
static int attach_all(struct lvip_state *s, char **names, const __u32 *idx, int n,
		      enum xdp_mode_req mode, bool observe)
{
	bool *added = calloc(n, sizeof(*added)), *was_observe = calloc(n, sizeof(*was_observe));
	char e[LVIP_NAME_ESC];
	int err = added && was_observe ? 0 : -ENOMEM, i;

	for (i = 0; !err && i < n; i++) {
		was_observe[i] = iface_observed(s, idx[i]);
		err = iface_attach(s, idx[i], mode, observe, &added[i]);
		if (err)
			lvip_err("attach: %s: %s", name_escape(names[i], e, sizeof(e)), strerror(-err));
	}
	if (err) {
		while (i-- > 0)
			if (added[i])
				iface_detach(s, idx[i]);
			else
				iface_set_observe(s, idx[i], was_observe[i]);
	} else {
		attach_report(s, names, idx, n, mode, added, was_observe);
	}
	free(added);
	free(was_observe);
	return err;
}

static void warn_if_vips(struct lvip_state *s, const char *where)
{
	struct vip_view v;

	if (vip_view_load(s, &v))
		return;
	for (size_t i = 0; i < v.n; i++) {
		if (vip_view_on_lo(&v, i)) {
			lvip_warn("VIPs on lo are no longer hidden on %s", where);
			break;
		}
	}
	vip_view_free(&v);
}

static int detach_list(struct lvip_state *s, char **names, const __u32 *idx, size_t n)
{
	char label[LVIP_NAME_ESC];
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		struct iface_info info;
		int e;

		iface_inspect(s, idx[i], &info); /* a name for --all: "(gone)" if it is gone */
		name_escape(names ? names[i] : info.name, label, sizeof(label));
		if (!info.link_pinned && !info.tcx_pinned && !info.tc_prog_id && names) {
			lvip_info("%s: not attached, nothing to do", label);
			continue;
		}
		e = iface_detach(s, idx[i]);
		if (e) {
			lvip_err("detach: %s: %s", label, strerror(-e));
			err = e;
		} else {
			lvip_info("%s: detached", label);
			warn_if_vips(s, label);
		}
	}
	return err;
}

/* Take lvip's VIPs off lo (one batch); VIPs it found there stay, exposed.
 * The map keeps every VIP until the pins go, so a kill here leaves nothing
 * on lo unprotected. */
static int down_lo(struct lvip_state *s)
{
	struct vip_addr *owned = NULL;
	char buf[INET6_ADDRSTRLEN];
	size_t n = 0;
	int *errs = NULL, err, lo = lo_ifindex();
	struct vip_view v;

	err = lo < 0 ? lo : vip_view_load(s, &v);
	if (err)
		return err;
	owned = calloc(v.n ? v.n : 1, sizeof(*owned));
	errs = calloc(v.n ? v.n : 1, sizeof(*errs));
	if (!owned || !errs)
		err = -ENOMEM;
	for (size_t i = 0; !err && i < v.n; i++) {
		if (!vip_view_on_lo(&v, i))
			continue;
		if (v.e[i].val.flags & LVIP_VIP_F_LO_OWNED)
			owned[n++] = v.e[i].addr;
		else
			lvip_warn("%s stays on lo (not assigned by lvip) and is now exposed to ARP/ND",
				  vip_format(&v.e[i].addr, buf, sizeof(buf)));
	}
	if (!err && n)
		err = nl_addr_change_many(false, lo, owned, n, errs);
	if (err)
		lvip_err("down: cannot remove lvip's VIPs from lo: %s", strerror(-err));
	free(owned);
	free(errs);
	vip_view_free(&v);
	return err;
}

/* The interfaces, resolved before any state is touched: an unknown
 * interface changes nothing. */
static int check_ifaces(struct cmd_ctx *c)
{
	if (c->o.all)
		return c->argc ? cmd_usage(c, "--all takes no interface names") : 0;
	if (!c->argc)
		return cmd_usage(c, "name at least one interface");
	c->ifindexes = calloc(c->argc, sizeof(*c->ifindexes));
	if (!c->ifindexes)
		return EXIT_USAGE;
	for (int i = 0; i < c->argc; i++) {
		int err = iface_resolve(c->argv[i], &c->ifindexes[i]);

		if (!err && !strcmp(c->argv[i], "lo"))
			err = -EPERM;
		if (err)
			return cmd_usage(c, "%s '%s'", err == -EPERM ?
					 "lvip hides VIPs on real interfaces, not on" : err == -EINVAL ?
					 "invalid interface name" : "no such interface", c->argv[i]);
	}
	return 0;
}

static int attach_run(struct cmd_ctx *c)
{
	struct lvip_state *s = &c->s;
	const __u32 *idx = c->ifindexes;
	bool upgraded = false, stale = s->progs_stale;
	int err = 0;

	enum xdp_mode_req mode = c->o.mode | (c->o.xdp_share ? MODE_SHARE : 0);

	for (int i = 0; !err && i < c->argc; i++)
		err = iface_check_foreign(s, idx[i], c->argv[i], mode);
	if (!err)
		err = load_pins(s, c->o.max_vips ? c->o.max_vips : LVIP_MAX_VIPS_DEFAULT, &upgraded);
	if (!err && upgraded)
		lvip_info("%s", load_note(stale));
	if (!err && iface_gc(s))
		lvip_info("forgot the state of interfaces that no longer exist");
	if (!err)
		err = attach_all(s, c->argv, idx, c->argc, mode, c->o.observe);
	if (!err)
		ifaddr_refresh_all(s);
	if (!err)
		tunaddr_refresh(s, NULL);
	if (err && s->dir_created)
		unload_pins(s); /* nothing was there before this run */
	return err ? EXIT_FAIL : 0;
}

static int detach_run(struct cmd_ctx *c)
{
	size_t n = c->argc;
	int err = 0;

	if (c->o.all)
		err = iface_list(&c->s, &c->ifindexes, &n);
	if (!err)
		err = detach_list(&c->s, c->o.all ? NULL : c->argv, c->ifindexes, n);
	return err ? EXIT_FAIL : 0;
}

static int down_run(struct cmd_ctx *c)
{
	struct lvip_state *s = &c->s;
	__u32 *idx = NULL;
	size_t n = 0;
	int err = down_lo(s);

	if (!err) {
		stop_point("down-lo");
		err = iface_list(s, &idx, &n);
	}
	for (size_t i = 0; !err && i < n; i++)
		err = iface_detach(s, idx[i]);
	if (!err) {
		stop_point("down-detached");
		err = unload_pins(s);
	}
	if (!err)
		lvip_info("lvip is down: %zu interface(s) detached, pins removed", n);
	free(idx);
	return err ? EXIT_FAIL : 0;
}

static const struct opt_def opt_mode = {
	.name = "mode", .type = OPT_MODE, .arg = "auto|native|generic",
	.offset = offsetof(struct cmd_opts, mode), .expect = "is auto, native or generic",
	.help = "XDP mode: auto (native, else generic; default), native, generic",
};

static const struct opt_def opt_max_vips = {
	.name = "max-vips", .type = OPT_U32, .arg = "N", .min = 1, .max = 1U << 24,
	.offset = offsetof(struct cmd_opts, max_vips), .expect = "is a number from 1 to 16777216",
	.help = "capacity of each VIP map (IPv4, IPv6) when lvip is first loaded (65536)",
};

static const struct opt_def opt_observe = {
	.name = "observe", .type = OPT_FLAG, .offset = offsetof(struct cmd_opts, observe),
	.help = "observe mode: count what would be dropped or rewritten, change nothing",
};

static const struct opt_def opt_xdp_share = {
	.name = "xdp-share", .type = OPT_FLAG, .offset = offsetof(struct cmd_opts, xdp_share),
	.help = "attach XDP as a libxdp component (dispatcher shared with other programs)",
};

static const struct opt_def opt_all = {
	.name = "all", .type = OPT_FLAG, .offset = offsetof(struct cmd_opts, all),
	.help = "every interface lvip is attached to",
};

const struct cmd_def cmd_attach = {
	.name = "attach", .operands = "IFACE...",
	.summary = "Load lvip (once) and attach its XDP ingress and TC egress programs to\n"
		   "each IFACE. Idempotent. An interface carrying an XDP program that is not\n"
		   "lvip's is refused and nothing is changed, unless it is libxdp's dispatcher:\n"
		   "lvip then joins it as one of its programs (as --xdp-share does). With\n"
		   "--observe the interfaces are in observe mode (every frame passes unchanged,\n"
		   "the would-be actions are counted); without it in enforce mode: attaching\n"
		   "again switches the mode of an attached interface at once, the programs\n"
		   "staying attached.\n",
	.opts = (const struct opt_def *const[]){ &opt_mode, &opt_observe, &opt_xdp_share, &opt_max_vips,
						 NULL },
	.needs = NEED_LOCK | NEED_CREATE | NEED_CHANGE,
	.check = check_ifaces, .run = attach_run,
};

const struct cmd_def cmd_detach = {
	.name = "detach", .operands = "IFACE...",
	.summary = "Detach lvip's programs; other XDP programs and tc filters are left alone.\n",
	.opts = (const struct opt_def *const[]){ &opt_all, NULL },
	.needs = NEED_LOCK | NEED_CHANGE, .absent = "lvip is not loaded: nothing to detach",
	.check = check_ifaces, .run = detach_run,
};

const struct cmd_def cmd_down = {
	.name = "down",
	.summary = "Remove the VIPs lvip put on lo, then detach everything, then remove the pins.\n",
	.needs = NEED_LOCK | NEED_CHANGE, .absent = "lvip is not loaded: nothing to do",
	.check = cmd_no_operands, .run = down_run,
};
