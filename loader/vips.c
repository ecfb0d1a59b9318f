// SPDX-License-Identifier: GPL-2.0
/*
 * vips.c - adding and removing VIPs, in the order that keeps them hidden:
 * a VIP enters the map before it appears on lo, and leaves lo before it
 * leaves the map. The map entry's LVIP_VIP_F_LO_OWNED flag records that lvip
 * put it on lo; so does the mark the kernel keeps on the address
 * (LVIP_IFA_PROTO), which outlives the map. Each operation undoes itself on failure and leaves an undo
 * record, so that `apply` can roll back a later step too.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "loader.h"

void vip_undo_free(struct vip_undo *u)
{
	for (size_t i = 0; i < u->n; i++)
		free(u->st[i].saved);
	free(u->st);
	memset(u, 0, sizeof(*u));
}

static int undo_init(struct vip_undo *u, bool add, const struct vip_addr *v, size_t n)
{
	memset(u, 0, sizeof(*u));
	u->add = add;
	u->st = calloc(n ? n : 1, sizeof(*u->st));
	if (!u->st)
		return -ENOMEM;
	u->n = n;
	for (size_t i = 0; i < n; i++)
		u->st[i].addr = v[i];
	return 0;
}

/* Run one netlink change for the steps selected by want(); mark them
 * lo_added or lo_removed, say the first that failed (an address fails only
 * when nl_addr_change_many returns an error). */
static int lo_change(bool add, int lo, struct vip_undo *u, bool (*want)(const struct vip_step *))
{
	struct vip_addr *a = calloc(u->n ? u->n : 1, sizeof(*a));
	int *err = calloc(u->n ? u->n : 1, sizeof(*err));
	size_t *idx = calloc(u->n ? u->n : 1, sizeof(*idx));
	char buf[INET6_ADDRSTRLEN];
	size_t k = 0, failed = 0;
	int ret = -ENOMEM;

	if (a && err && idx) {
		for (size_t i = 0; i < u->n; i++)
			if (want(&u->st[i])) {
				idx[k] = i;
				a[k++] = u->st[i].addr;
			}
		ret = k ? nl_addr_change_many(add, lo, a, k, err) : 0;
		for (size_t j = 0; j < k; j++)
			if (!err[j] && add)
				u->st[idx[j]].lo_added = true;
			else if (!err[j])
				u->st[idx[j]].lo_removed = true;
			else if (!failed++)
				lvip_err("cannot %s %s %s lo: %s", add ? "add" : "remove",
					 vip_format(&a[j], buf, sizeof(buf)), add ? "to" : "from",
					 strerror(-err[j]));
	}
	free(a);
	free(err);
	free(idx);
	return ret;
}

static bool step_lo_added(const struct vip_step *st) { return st->lo_added; }
static bool step_lo_removed(const struct vip_step *st) { return st->lo_removed; }

static void add_undo(struct lvip_state *s, int lo, struct vip_undo *u)
{
	lo_change(false, lo, u, step_lo_added);
	for (size_t i = u->n; i-- > 0;) {
		if (u->st[i].inserted)
			vip_remove(s, &u->st[i].addr);
		else if (u->st[i].flags_set)
			vip_set_flags(s, &u->st[i].addr, u->st[i].old_flags);
	}
}

static void del_undo(struct lvip_state *s, int lo, struct vip_undo *u)
{
	for (size_t i = 0; i < u->n; i++)
		if (u->st[i].saved)
			bpf_map_update_elem(vip_map_fd(s, &u->st[i].addr), u->st[i].addr.bytes,
					    u->st[i].saved, BPF_NOEXIST);
	lo_change(true, lo, u, step_lo_removed);
}

void vip_undo_run(struct lvip_state *s, struct vip_undo *u)
{
	int lo = lo_ifindex();

	if (lo < 0)
		return;
	if (u->add)
		add_undo(s, lo, u);
	else
		del_undo(s, lo, u);
}

static int map_add_one(struct lvip_state *s, struct vip_step *st, bool no_lo)
{
	struct lvip_vip_val cur;
	char buf[INET6_ADDRSTRLEN];
	int err;

	err = vip_lookup(s, &st->addr, &cur);
	if (err == -ENOENT) {
		/* A new entry: lvip's if lvip puts it on lo, or if the address on
		 * lo carries lvip's mark (lvip put it there before its pins were
		 * removed); found otherwise. */
		bool ours = st->on_lo ? st->marked : !no_lo;

		err = vip_store(s, &st->addr, ours ? LVIP_VIP_F_LO_OWNED : 0, true);
		if (err == -E2BIG)
			lvip_err("the VIP map is full: %s not added (its capacity is set by "
				 "'lvip attach --max-vips N' when lvip is first loaded)",
				 vip_format(&st->addr, buf, sizeof(buf)));
		else if (err)
			lvip_err("cannot add %s to the VIP map: %s",
				 vip_format(&st->addr, buf, sizeof(buf)), strerror(-err));
		st->inserted = !err;
		return err;
	}
	if (err)
		return err;
	st->old_flags = cur.flags;
	if (!st->on_lo && !no_lo && !(cur.flags & LVIP_VIP_F_LO_OWNED)) {
		err = vip_set_flags(s, &st->addr, cur.flags | LVIP_VIP_F_LO_OWNED);
		st->flags_set = !err;
	}
	return err;
}

static bool step_want_lo(const struct vip_step *st) { return st->want_lo; }
static bool step_want_off(const struct vip_step *st) { return st->want_off; }

int vips_add(struct lvip_state *s, const struct vip_addr *v, size_t n, bool no_lo,
	     const struct addr_list *lo_addrs, struct vip_undo *u)
{
	int lo = lo_ifindex(), err;

	if (lo < 0)
		return lo;
	err = undo_init(u, true, v, n);
	for (size_t i = 0; !err && i < n; i++) {
		u->st[i].on_lo = addr_list_has(lo_addrs, &v[i]);
		u->st[i].marked = u->st[i].on_lo && addr_list_marked(lo_addrs, &v[i]);
		u->st[i].want_lo = !no_lo && !u->st[i].on_lo;
		err = map_add_one(s, &u->st[i], no_lo);
	}
	/* Every VIP is protected now; only then do they appear on lo. */
	if (!err) {
		stop_point("vips-in-map");
		err = lo_change(true, lo, u, step_want_lo);
	}
	if (err) {
		add_undo(s, lo, u);
		vip_undo_free(u);
	}
	return err;
}

int vips_del(struct lvip_state *s, const struct vip_addr *v, size_t n, bool keep_lo,
	     const struct addr_list *lo_addrs, struct vip_undo *u)
{
	int lo = lo_ifindex(), err;

	if (lo < 0)
		return lo;
	err = undo_init(u, false, v, n);
	for (size_t i = 0; !err && i < n; i++) {
		struct vip_step *st = &u->st[i];

		st->saved = calloc(s->ncpus, sizeof(*st->saved));
		if (!st->saved) {
			err = -ENOMEM;
			break;
		}
		if (bpf_map_lookup_elem(vip_map_fd(s, &v[i]), v[i].bytes, st->saved)) {
			free(st->saved);
			st->saved = NULL;
			if (errno != ENOENT)
				err = -errno;
			continue;
		}
		st->present = true;
		st->on_lo = addr_list_has(lo_addrs, &v[i]);
		st->want_off = !keep_lo && st->on_lo && (st->saved[0].flags & LVIP_VIP_F_LO_OWNED);
	}
	/* Off lo first (only what lvip put there), then out of the map. */
	if (!err)
		err = lo_change(false, lo, u, step_want_off);
	if (!err)
		stop_point("vips-off-lo");
	for (size_t i = 0; !err && i < n; i++)
		if (u->st[i].present)
			err = vip_remove(s, &u->st[i].addr);
	if (err) {
		del_undo(s, lo, u);
		vip_undo_free(u);
	}
	return err;
}

/* A VIP taken out of the map that stays on lo is answered again: say so. */
void vip_warn_exposed(const struct vip_step *st, bool keep_lo)
{
	char buf[INET6_ADDRSTRLEN];

	if (st->present && st->on_lo && !st->lo_removed)
		lvip_warn("%s stays on lo (%s) and is now exposed to ARP/ND",
			  vip_format(&st->addr, buf, sizeof(buf)),
			  keep_lo ? "--keep-lo" : "not assigned by lvip");
}

/* ---- guards: addresses that must not become VIPs ---- */

static const char *ifname_of(__u32 ifindex, char *buf, size_t len)
{
	char name[IF_NAMESIZE];

	if (!if_indextoname(ifindex, name))
		snprintf(name, sizeof(name), "%u", ifindex);
	return name_escape(name, buf, len);
}

/* p: the prefix of a, its host bits all 0 (host = false) or all 1. */
static void prefix_of(const struct if_addr *a, bool host, struct vip_addr *p)
{
	size_t bits = a->prefixlen;

	*p = a->addr;
	for (size_t i = 0; i < vip_len(p); i++, bits = bits > 8 ? bits - 8 : 0) {
		__u8 mask = bits >= 8 ? 0xff : (__u8)(0xff << (8 - bits));

		p->bytes[i] = host ? p->bytes[i] | (__u8)~mask : p->bytes[i] & mask;
	}
}

/* What a is in the subnet connected through address ia, or NULL:
 * the network or broadcast address of an IPv4 subnet of at most /30, the
 * subnet-router anycast address of an IPv6 prefix of at most /126. */
static const char *subnet_role(const struct vip_addr *a, const struct if_addr *ia)
{
	struct vip_addr net, bcast;

	if (ia->prefixlen > (a->family == AF_INET ? 30 : 126))
		return NULL;
	prefix_of(ia, false, &net);
	if (vip_equal(a, &net))
		return a->family == AF_INET ? "network" : "subnet-router anycast";
	prefix_of(ia, true, &bcast);
	return a->family == AF_INET && vip_equal(a, &bcast) ? "broadcast" : NULL;
}

int vip_guard_addrs(struct addr_list *out)
{
	int lo = lo_ifindex();

	return nl_addr_dump_others(lo < 0 ? 0 : (__u32)lo, out);
}

const char *vip_guard(const struct vip_addr *a, const struct addr_list *own, char *buf, size_t len)
{
	char name[LVIP_NAME_ESC], net[INET6_ADDRSTRLEN];
	const struct if_addr *ia;
	const char *role;
	struct vip_addr p;

	for (size_t i = 0; i < own->n; i++) {
		ia = &own->a[i];
		if (vip_equal(a, &ia->addr)) {
			snprintf(buf, len, "an address of interface %s (the server's own: %s for it "
				 "would be dropped)", ifname_of(ia->ifindex, name, sizeof(name)),
				 a->family == AF_INET ? "ARP" : "ND");
			return buf;
		}
	}
	for (size_t i = 0; i < own->n; i++) {
		ia = &own->a[i];
		if (ia->addr.family != a->family || !(role = subnet_role(a, ia)))
			continue;
		prefix_of(ia, false, &p);
		snprintf(buf, len, "the %s address of %s/%u on %s", role, vip_format(&p, net, sizeof(net)),
			 ia->prefixlen, ifname_of(ia->ifindex, name, sizeof(name)));
		return buf;
	}
	return NULL;
}
