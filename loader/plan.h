/* SPDX-License-Identifier: GPL-2.0 */
/*
 * plan.h - what apply and watch do: the plan that makes interfaces and VIPs
 * what a config file says, computed from the file and the live state, shown,
 * and applied in the safe order (attach, add VIPs, tunnels, remove VIPs,
 * detach).
 */
#ifndef LVIP_PLAN_H
#define LVIP_PLAN_H

#include <net/if.h>

#include "cmd.h"
#include "config.h"

struct iface_change {
	__u32 ifindex;
	char name[IF_NAMESIZE];
	enum xdp_mode_req mode;
	bool observe;
};

struct plan {
	struct iface_change *attach, *detach, *refused; /* refused: a foreign program */
	size_t nattach, ndetach, nrefused, cap_attach, cap_detach, cap_refused;
	struct iface_change *remode; /* attached, to switch to .observe */
	size_t nremode, cap_remode;
	struct vip_addr *add, *del;
	size_t nadd, ndel, cap_add, cap_del;
	struct tun_set tun_have;            /* the tunnels before */
	const struct tun_set *tun_want;     /* ... and as the file says them */
	bool tun_change[LVIP_TUN_MAX];
	size_t ntun;                        /* types that change */
	struct tun_delta tun_delta;         /* this host's addresses put in or out of lvip_tunaddr */
	bool upgraded, stale; /* the programs were replaced first (stale: bound to old maps) */
};

void plan_free(struct plan *p);
size_t plan_size(const struct plan *p);
/* Plan and, unless dry_run, apply, on c->s as cmd_setup left it. strict: an
 * interface the file names must exist. upgrade: replace programs another
 * build pinned. */
int reconcile(struct cmd_ctx *c, const struct lvip_config *cfg, bool strict,
	      bool dry_run, bool upgrade, struct plan *p);
/* The changes, as text lines (prefix: "would " for a dry run, "lvip watch: "
 * for watch's log) or JSON; known (sorted): the VIPs the file had in the
 * previous pass of watch, a VIP among them is restored, not added. */
void plan_show(const struct plan *p, const char *prefix, const struct vip_addr *known,
	       size_t nknown);

#endif /* LVIP_PLAN_H */
