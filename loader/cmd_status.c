// SPDX-License-Identifier: GPL-2.0
/* cmd_status.c - lvip status. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "output.h"
#include "loader.h"

/* ---- status ---- */

struct status {
	bool loaded;
	struct iface_info *ifs;
	size_t nifs;
	size_t nvips, nreleased;
	struct tun_view tuns;
	struct findings problems; /* those of severity exposed are listed */
};

#define problem(st, ...) add_finding(&(st)->problems, SEV_EXPOSED, "status", NULL, NULL, __VA_ARGS__)

static void status_ifaces(struct lvip_state *s, struct status *st)
{
	if (inspect_attached(s, &st->ifs, &st->nifs))
		return;
	for (size_t i = 0; i < st->nifs; i++) {
		const struct iface_info *f = &st->ifs[i];
		char e[LVIP_NAME_ESC];

		name_escape(f->name, e, sizeof(e));
		if (!f->xdp_maps_ok || !f->tc_maps_ok)
			problem(st, "%s: the attached lvip program does not use the maps pinned in %s: VIPs "
				"added there are not hidden (run 'lvip attach %s')", e, s->pin_dir, e);
		if (f->ifaddr_stale)
			problem(st, "%s: lvip_ifaddr no longer holds the interface's IPv4 addresses "
				"(run 'lvip attach %s')", e, e);
		if (f->gone)
			problem(st, "interface %u is gone: its links are detached (run 'lvip detach --all' "
				"or attach the new interface)", f->ifindex);
		else if (!f->link_alive)
			problem(st, "%s: XDP program not attached (run 'lvip attach %s')", e, e);
		else if (!f->shared && f->xdp_prog_id != s->xdp_id)
			problem(st, "%s: runs XDP program %u, not the pinned %u", e, f->xdp_prog_id, s->xdp_id);
		if (!f->gone && !f->tc_prog_id)
			problem(st, "%s: lvip's tc egress program is missing (run 'lvip attach %s')", e, e);
	}
}

static void status_vips(struct lvip_state *s, struct status *st)
{
	struct vip_view v;
	char buf[INET6_ADDRSTRLEN];

	if (vip_view_load(s, &v))
		return;
	st->nvips = v.n;
	for (size_t i = 0; i < v.n; i++)
		st->nreleased += (v.e[i].val.flags & LVIP_VIP_F_RELEASED) != 0;
	for (size_t i = 0; i < v.n; i++)
		if ((v.e[i].val.flags & LVIP_VIP_F_LO_OWNED) && !vip_view_on_lo(&v, i))
			problem(st, "%s was put on lo by lvip and is no longer there (run 'lvip vip add %s')",
				vip_format(&v.e[i].addr, buf, sizeof(buf)), buf);
	if (v.n && !st->nifs)
		problem(st, "VIPs are configured but no interface is attached");
	vip_view_free(&v);
}

static void status_tunnels(struct lvip_state *s, struct status *st)
{
	if (tun_view_load(s, &st->tuns))
		return;
	if (tunaddr_stale(s))
		problem(st, "lvip_tunaddr no longer holds this host's addresses: tunnelled packets "
			"to a new address pass undecapsulated (run any lvip command that changes "
			"state, e.g. 'lvip attach IFACE', or keep 'lvip watch' running)");
}

static const struct column status_cols[] = {
	{ "name", "INTERFACE", 0, -16, COL_STR },
	{ "ifindex", "IFINDEX", 1, 7, COL_U32 },
	{ "xdp_mode", "XDP", 2, -8, COL_STR },
	{ "xdp_prog_id", "XDP_PROG", 1, 9, COL_U32 },
	{ "tc_prog_id", "TC_PROG", 1, 8, COL_U32 },
	{ "mode", "MODE", 2, -7, COL_STR },
};

static void status_show(const struct lvip_state *s, const struct status *st)
{
	char name[LVIP_NAME_ESC];

	out_open(NULL);
	out_bool("loaded", NULL, st->loaded);
	out_text("lvip: %s in ", st->loaded ? "loaded" : "not loaded");
	out_str("pin_dir", "%s", s->pin_dir);
	out_u64("xdp_prog_id", st->loaded ? " (xdp prog %llu" : NULL, s->xdp_id);
	out_u64("tc_prog_id", st->loaded ? ", tc prog %llu" : NULL, s->tc_id);
	out_u64("xdp_verified_insns", st->loaded ? "; verifier: %llu" : NULL, s->xdp_insns);
	out_u64("tc_verified_insns", st->loaded ? " and %llu insns)" : NULL, s->tc_insns);
	out_text("\n");
	out_open_array("interfaces");
	if (st->nifs) {
		out_text("\n");
		out_header(status_cols, ARRAY_SIZE(status_cols), NULL);
	}
	for (size_t i = 0; i < st->nifs; i++) {
		const struct iface_info *f = &st->ifs[i];
		struct cell c[] = {
			{ name_escape(f->name, name, sizeof(name)), 0 }, { NULL, f->ifindex },
			{ xdp_mode_name(f->xdp_mode), 0 }, { NULL, f->xdp_prog_id }, { NULL, f->tc_prog_id },
			{ enforcement_name(f->observe), 0 },
		};

		out_row(status_cols, ARRAY_SIZE(status_cols), c, NULL);
	}
	out_close();
	out_u64("vips", "\nVIPs: %llu", st->nvips);
	out_u64("vips_released", " (%llu released: answered by this node)", st->nreleased);
	out_text("\n");
	tun_view_show(&st->tuns, "tunnels", false);
	out_text("problems: %s\n", st->problems.exposed ? "" : "none");
	out_open_array("problems");
	for (size_t i = 0; i < st->problems.n; i++)
		if (st->problems.f[i].sev == SEV_EXPOSED)
			out_str(NULL, "  - %s\n", st->problems.f[i].msg);
	out_close();
	out_close();
}

static int status_run(struct cmd_ctx *c)
{
	struct lvip_state *s = &c->s;
	struct status st = {};
	int err = 0;

	st.loaded = state_loaded(s);
	if (st.loaded) {
		status_ifaces(s, &st);
		status_vips(s, &st);
		status_tunnels(s, &st);
	} else if (pindir_exists(s) && !pindir_on_bpffs(s)) {
		problem(&st, "pin dir %s is not on a bpf filesystem: lvip cannot pin there "
			"(mount -t bpf bpf DIR, or --pin-dir on a bpffs)", s->pin_dir);
	} else if (state_partial(s)) {
		problem(&st, "pin dir %s holds an incomplete lvip, or programs not bound to its maps "
			"(run 'lvip attach IFACE...' to repair it, or 'lvip down')", s->pin_dir);
	}
	if (!st.loaded) /* what check finds exposed: status and check agree */
		err = check_collect(s, NULL, &st.problems);
	if (!err) {
		out_start(c->o.json);
		status_show(s, &st);
		out_end(false);
	}
	free(st.problems.f);
	free(st.ifs);
	tun_view_free(&st.tuns);
	return err || st.problems.exposed ? EXIT_FAIL : 0;
}

const struct cmd_def cmd_status = {
	.name = "status",
	.summary = "Loaded or not, program ids, every attached interface with its XDP mode,\n"
		   "the number of VIPs, the tunnel types decapsulated, and the problems found\n"
		   "(exit 1 when there is one).\n",
	.opts = (const struct opt_def *const[]){ &opt_json, NULL },
	.needs = NEED_READ, .check = cmd_no_operands, .run = status_run,
};
