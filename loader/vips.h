/* SPDX-License-Identifier: GPL-2.0 */
/* vips.h - VIP add / del in the order that keeps them hidden, with undo;
 * the addresses that must not become VIPs. */
#ifndef LVIP_VIPS_H
#define LVIP_VIPS_H

#include "nl.h"
#include "state.h"

/* What happened to one address. */
struct vip_step {
	struct vip_addr addr;
	bool inserted;            /* add: new map entry */
	bool flags_set;           /* add: existing entry marked LO_OWNED */
	bool lo_added;            /* add: put on lo */
	bool on_lo;               /* on lo before the operation */
	bool want_lo;             /* add: to be put on lo */
	bool want_off;            /* del: lvip's address, to be taken off lo */
	bool present;             /* del: was in the map */
	bool lo_removed;          /* del: taken off lo */
	__u32 old_flags;
	struct lvip_vip_val *saved; /* del: per-CPU values, to restore exactly */
};

struct vip_undo {
	bool add;
	struct vip_step *st;
	size_t n;
};

int vips_add(struct lvip_state *s, const struct vip_addr *v, size_t n, bool no_lo,
	     const struct addr_list *lo_addrs, struct vip_undo *u);
int vips_del(struct lvip_state *s, const struct vip_addr *v, size_t n, bool keep_lo,
	     const struct addr_list *lo_addrs, struct vip_undo *u);
void vip_undo_run(struct lvip_state *s, struct vip_undo *u);
void vip_undo_free(struct vip_undo *u);
void vip_warn_exposed(const struct vip_step *st, bool keep_lo);
/* The addresses of every interface but lo, for vip_guard. */
int vip_guard_addrs(struct addr_list *out);
/* Why a must not be a VIP, written in buf, or NULL: one of the server's own
 * addresses (own: vip_guard_addrs; ARP/ND for it would be dropped), the
 * network or broadcast address of a connected IPv4 subnet (prefix at most
 * /30) or the subnet-router anycast address of a connected IPv6 prefix (at
 * most /126). */
const char *vip_guard(const struct vip_addr *a, const struct addr_list *own, char *buf, size_t len);

#endif /* LVIP_VIPS_H */
