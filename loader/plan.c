// SPDX-License-Identifier: GPL-2.0
/*
 * plan.c - the plan of apply and watch: computed from the config file and
 * the live state, applied in the safe order (attach, add VIPs, tunnels,
 * remove VIPs, detach), all or nothing but for interfaces refused for a foreign program.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "output.h"
#include "plan.h"

void plan_free(struct plan *p)
{
	free(p->attach);
	free(p->detach);
	free(p->refused);
	free(p->remode);
	free(p->add);
	free(p->del);
	tun_set_free(&p->tun_have);
	memset(p, 0, sizeof(*p));
}

size_t plan_size(const struct plan *p)
{
	return p->nattach + p->nremode + p->ndetach + p->nadd + p->ndel + p->ntun;
}

static bool iface_in(const struct iface_change *v, size_t n, __u32 ifindex)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].ifindex == ifindex)
			return true;
	return false;
}

/* The interfaces the config names, as they exist now. strict: a named
 * interface that does not exist is an input error (apply); otherwise it is
 * simply not there yet (watch). */
static int desired_ifaces(const struct lvip_config *c, bool strict,
			  struct iface_change **out, size_t *n, size_t *cap)
{
	struct link_list links;
	char name[LVIP_NAME_ESC];
	int err = nl_link_dump(&links);

	for (size_t i = 0; !err && i < c->nifs; i++) {
		const struct cfg_iface *f = &c->ifs[i];
		bool found = false;

		for (size_t j = 0; !err && j < links.n; j++) {
			const struct link_info *l = &links.l[j];
			struct iface_change ch = { .ifindex = l->ifindex, .mode = f->mode,
						   .observe = f->observe };

			if (f->glob ? !l->has_mac || fnmatch(f->pattern, l->name, 0) ||
				      config_ignores(c, l->name) : strcmp(f->pattern, l->name))
				continue;
			found = true;
			if (l->flags & IFF_LOOPBACK || iface_in(*out, *n, l->ifindex))
				continue;
			snprintf(ch.name, sizeof(ch.name), "%s", l->name);
			err = vec_push(out, n, cap, sizeof(ch), &ch);
		}
		if (!err && !found && !f->glob && strict) {
			lvip_err("%s:%d: no such interface '%s'", f->file, f->line,
				 name_escape(f->pattern, name, sizeof(name)));
			err = -ENODEV;
		}
	}
	link_list_free(&links);
	return err;
}

static int plan_vips(struct lvip_state *s, const struct lvip_config *c, struct plan *p)
{
	struct vip_addr *want = calloc(c->nvips ? c->nvips : 1, sizeof(*want));
	struct vip_view v;
	int err = want ? vip_view_load(s, &v) : -ENOMEM;

	if (err) {
		free(want);
		return err;
	}
	for (size_t i = 0; i < c->nvips; i++)
		want[i] = c->vips[i].addr;
	if (c->nvips)
		qsort(want, c->nvips, sizeof(*want), vip_cmp);
	for (size_t i = 0; !err && i < c->nvips; i++) {
		const struct vip_addr *a = &c->vips[i].addr;

		if (!vip_view_has(&v, a) || !addr_list_has(&v.lo, a))
			err = vec_push(&p->add, &p->nadd, &p->cap_add, sizeof(*a), a);
	}
	for (size_t j = 0; !err && j < v.n; j++)
		if (!vip_sorted_has(want, c->nvips, &v.e[j].addr))
			err = vec_push(&p->del, &p->ndel, &p->cap_del, sizeof(*p->del), &v.e[j].addr);
	vip_view_free(&v);
	free(want);
	return err;
}

static int plan_tunnels(struct lvip_state *s, const struct lvip_config *c, struct plan *p)
{
	int err = tun_read(s, &p->tun_have);

	p->tun_want = &c->tuns;
	for (int t = 0; !err && t < LVIP_TUN_MAX; t++) {
		p->tun_change[t] = !tun_conf_equal(&p->tun_have.t[t], &c->tuns.t[t]);
		p->ntun += p->tun_change[t];
	}
	return err;
}

static int plan_compute(struct lvip_state *s, const struct lvip_config *c, bool strict,
			struct plan *p)
{
	struct iface_change *want = NULL;
	size_t nwant = 0, capwant = 0, ncur = 0;
	__u32 *cur = NULL;
	int err;

	memset(p, 0, sizeof(*p));
	err = desired_ifaces(c, strict, &want, &nwant, &capwant);
	if (!err && state_loaded(s))
		err = iface_list(s, &cur, &ncur);
	for (size_t i = 0; !err && i < nwant; i++) {
		struct iface_info info = {};

		if (state_loaded(s))
			iface_inspect(s, want[i].ifindex, &info);
		if (!info.link_alive || !info.tc_prog_id)
			err = vec_push(&p->attach, &p->nattach, &p->cap_attach, sizeof(want[i]), &want[i]);
		else if (info.observe != want[i].observe)
			err = vec_push(&p->remode, &p->nremode, &p->cap_remode, sizeof(want[i]), &want[i]);
	}
	for (size_t i = 0; !err && i < ncur; i++) {
		struct iface_change ch = { .ifindex = cur[i] };

		if (iface_in(want, nwant, cur[i]))
			continue;
		if (!if_indextoname(cur[i], ch.name))
			snprintf(ch.name, sizeof(ch.name), "(gone %u)", cur[i]);
		err = vec_push(&p->detach, &p->ndetach, &p->cap_detach, sizeof(ch), &ch);
	}
	if (!err)
		err = plan_vips(s, c, p);
	if (!err)
		err = plan_tunnels(s, c, p);
	free(want);
	free(cur);
	if (err)
		plan_free(p);
	return err;
}

/* ---- applying a plan, all or nothing ---- */

/* An interface that carries someone else's program is refused: a problem
 * reported for it alone (taken out of the plan), while the others are
 * attached. */
static int refuse_foreign(struct lvip_state *s, struct plan *p)
{
	size_t kept = 0;
	int err = 0;

	for (size_t i = 0; !err && i < p->nattach; i++) {
		if (!iface_check_foreign(s, p->attach[i].ifindex, p->attach[i].name, p->attach[i].mode))
			p->attach[kept++] = p->attach[i];
		else
			err = vec_push(&p->refused, &p->nrefused, &p->cap_refused, sizeof(p->attach[i]), &p->attach[i]);
	}
	if (!err)
		p->nattach = kept;
	return err;
}

static int attach_one(struct lvip_state *s, struct iface_change *c)
{
	bool changed;

	return iface_attach(s, c->ifindex, c->mode, c->observe, &changed);
}

/* One map update each: the programs stay attached, no frame goes unjudged. */
static int remode_one(struct lvip_state *s, struct iface_change *c)
{
	return iface_set_observe(s, c->ifindex, c->observe);
}

static int detach_one(struct lvip_state *s, struct iface_change *d)
{
	struct iface_info info;

	iface_inspect(s, d->ifindex, &info);
	d->mode = info.shared ? MODE_SHARE : info.xdp_mode == XDP_ATTACHED_SKB ? MODE_GENERIC :
		  MODE_AUTO; /* for undo */
	d->observe = info.observe;
	return iface_detach(s, d->ifindex);
}

/* step on each of v in order, up to the first failure (said as "what NAME:
 * error"); *done: how many succeeded. */
static int apply_each(struct lvip_state *s, struct iface_change *v, size_t n, size_t *done,
		      int (*step)(struct lvip_state *, struct iface_change *), const char *what)
{
	char name[LVIP_NAME_ESC];
	int err = 0;

	for (*done = 0; *done < n; (*done)++) {
		err = step(s, &v[*done]);
		if (err) {
			lvip_err("%s %s: %s", what, name_escape(v[*done].name, name, sizeof(name)),
				 strerror(-err));
			break;
		}
	}
	return err;
}

static int plan_apply(struct lvip_state *s, struct plan *p)
{
	struct vip_undo added = {}, removed = {};
	size_t attached = 0, detached = 0, remoded = 0;
	struct addr_list lo_addrs = {};
	bool tunnels = false;
	int err;

	err = apply_each(s, p->attach, p->nattach, &attached, attach_one, "attach");
	if (!err)
		err = apply_each(s, p->remode, p->nremode, &remoded, remode_one, "set mode of");
	if (!err)
		err = lo_addr_dump(&lo_addrs);
	if (!err && p->nadd)
		err = vips_add(s, p->add, p->nadd, false, &lo_addrs, &added);
	if (!err && p->ntun) {
		err = tun_write(s, p->tun_want, NULL);
		tunnels = !err;
		if (err)
			lvip_err("cannot write the tunnel maps: %s", strerror(-err));
	}
	if (!err && p->ndel)
		err = vips_del(s, p->del, p->ndel, false, &lo_addrs, &removed);
	for (size_t i = 0; !err && i < removed.n; i++)
		vip_warn_exposed(&removed.st[i], false);
	if (!err)
		err = apply_each(s, p->detach, p->ndetach, &detached, detach_one, "detach");
	if (err) {
		while (detached-- > 0)
			attach_one(s, &p->detach[detached]);
		if (removed.st)
			vip_undo_run(s, &removed);
		if (tunnels)
			tun_write(s, &p->tun_have, NULL);
		if (added.st)
			vip_undo_run(s, &added);
		while (remoded-- > 0)
			iface_set_observe(s, p->remode[remoded].ifindex, !p->remode[remoded].observe);
		while (attached-- > 0)
			iface_detach(s, p->attach[attached].ifindex);
	}
	vip_undo_free(&added);
	vip_undo_free(&removed);
	addr_list_free(&lo_addrs);
	return err;
}

int reconcile(struct cmd_ctx *c, const struct lvip_config *cfg, bool strict,
	      bool dry_run, bool upgrade, struct plan *p)
{
	struct lvip_state *s = &c->s;
	bool loaded_now;
	int err = 0;

	if (!dry_run && (state_partial(s) || (upgrade && state_loaded(s)))) {
		p->stale = s->progs_stale;
		err = load_pins(s, LVIP_MAX_VIPS_DEFAULT, &p->upgraded);
	}
	if (!err)
		err = plan_compute(s, cfg, strict, p);
	if (!err)
		err = refuse_foreign(s, p);
	if (!err && !dry_run && plan_size(p) && !state_loaded(s))
		err = load_pins(s, LVIP_MAX_VIPS_DEFAULT, &loaded_now);
	if (!err && !dry_run && plan_size(p))
		err = plan_apply(s, p);
	if (!err && !dry_run && state_loaded(s))
		err = ifaddr_refresh_all(s); /* what lvip_tc_compat reads */
	if (!err && !dry_run && state_loaded(s))
		err = tunaddr_refresh(s, &p->tun_delta); /* addresses came or went */
	if (err && s->dir_created)
		unload_pins(s); /* nothing was there before this run */
	return err;
}

/* ---- showing a plan ---- */

static void iface_show(const char *prefix, const char *action, const struct iface_change *c,
		       const char *mode, const char *enforcement)
{
	char name[LVIP_NAME_ESC];

	out_open(NULL);
	out_json_str("action", action);
	out_text("%s%s ", prefix, action);
	out_str("interface", "%s", name_escape(c->name, name, sizeof(name)));
	if (mode)
		out_str("mode", " (mode %s)", mode);
	/* text: only what differs from a plain attach */
	if (enforcement && (!strcmp(action, "switch") || strcmp(enforcement, "enforce")))
		out_str("enforcement", !strcmp(action, "switch") ? " to %s mode" : " in %s mode",
			enforcement);
	else if (enforcement)
		out_json_str("enforcement", enforcement);
	out_text("\n");
	out_close();
}

static void vip_show(const char *prefix, const char *action, const char *verb,
		     const struct vip_addr *a, const char *note)
{
	char buf[INET6_ADDRSTRLEN];

	out_open(NULL);
	out_json_str("action", action);
	out_text("%s%s ", prefix, verb);
	out_str("address", "%s", vip_format(a, buf, sizeof(buf)));
	out_text("%s\n", note);
	out_close();
}

static void tunnels_show(const struct plan *p, const char *prefix)
{
	char words[TUN_WORDS_MAX];

	for (int t = 0; t < LVIP_TUN_MAX; t++) {
		const struct tun_conf *want = &p->tun_want->t[t];
		const char *action = !want->enabled ? "remove_tunnel" :
				     p->tun_have.t[t].enabled ? "change_tunnel" : "add_tunnel";

		if (!p->tun_change[t])
			continue;
		out_open(NULL);
		out_json_str("action", action);
		out_text("%s%s tunnel ", prefix, want->enabled ? action[0] == 'a' ? "add" : "change" :
			 "remove");
		out_str("type", "%s", lvip_tun_names[t]);
		tun_conf_words(want, true, words, sizeof(words));
		out_str("settings", *words ? " %s" : "", words);
		out_text("\n");
		out_close();
	}
	if (p->tun_delta.local_added || p->tun_delta.local_removed) {
		out_open(NULL);
		out_json_str("action", "tunnel_addresses");
		out_text("%supdated this host's addresses in lvip_tunaddr:", prefix);
		out_u64("added", " +%llu", p->tun_delta.local_added);
		out_u64("removed", " -%llu\n", p->tun_delta.local_removed);
		out_close();
	}
}

void plan_show(const struct plan *p, const char *prefix, const struct vip_addr *known,
	       size_t nknown)
{
	out_open_array("changes");
	for (size_t i = 0; i < p->nattach; i++)
		iface_show(prefix, "attach", &p->attach[i], mode_name(p->attach[i].mode),
			   enforcement_name(p->attach[i].observe));
	for (size_t i = 0; i < p->nremode; i++)
		iface_show(prefix, "switch", &p->remode[i], NULL,
			   enforcement_name(p->remode[i].observe));
	for (size_t i = 0; i < p->nadd; i++) {
		bool restore = vip_sorted_has(known, nknown, &p->add[i]);

		vip_show(prefix, "add_vip", restore ? "restore vip" : "add vip", &p->add[i],
			 restore ? " (it was missing from the map or from lo)" : "");
	}
	tunnels_show(p, prefix);
	for (size_t i = 0; i < p->ndel; i++)
		vip_show(prefix, "remove_vip", "remove vip", &p->del[i], "");
	for (size_t i = 0; i < p->ndetach; i++)
		iface_show(prefix, "detach", &p->detach[i], NULL, NULL);
	for (size_t i = 0; out_is_json() && i < p->nrefused; i++) /* text: said as errors */
		iface_show(prefix, "refused", &p->refused[i], NULL, NULL);
	out_close();
}
