// SPDX-License-Identifier: GPL-2.0
/*
 * ifaddr.c - lvip_ifaddr, the interfaces' IPv4 addresses for lvip_tc_compat
 * (kernels without bpf_cast_to_kern_ctx): written by the loader, compared
 * with the device by status and check.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>

#include "loader.h"

/* What lvip_ifaddr[ifindex] must hold: among the interface's first
 * LVIP_IFADDR_MAX IPv4 addresses (kernel order), the primary ones of scope
 * link or wider: what lvip_tc reads from the device itself. */
static int ifaddr_build(__u32 ifindex, struct lvip_ifaddr *ia)
{
	struct addr_list l = {};
	int err;

	memset(ia, 0, sizeof(*ia));
	err = nl_addr_dump(AF_INET, ifindex, &l);
	if (err)
		return err;
	for (size_t i = 0; i < l.n && i < LVIP_IFADDR_MAX; i++) {
		const struct if_addr *a = &l.a[i];
		__u32 mask = a->prefixlen ? htonl(~0U << (32 - a->prefixlen)) : 0;

		if ((a->flags & IFA_F_SECONDARY) || a->scope > RT_SCOPE_LINK)
			continue;
		memcpy(ia->a[ia->count].addr, a->addr.v4, 4);
		memcpy(ia->a[ia->count].mask, &mask, 4);
		ia->count++;
	}
	addr_list_free(&l);
	return 0;
}

/* Read by lvip_tc_compat only (lvip_tc reads the device itself). */
int ifaddr_refresh(struct lvip_state *s, __u32 ifindex)
{
	struct lvip_ifaddr ia;
	int err = ifaddr_build(ifindex, &ia);

	if (err)
		return err;
	return bpf_map_update_elem(s->map_fd[M_IFADDR], &ifindex, &ia, BPF_ANY) ? -errno : 0;
}

/* Does lvip_ifaddr still say what the device has? */
bool ifaddr_current(const struct lvip_state *s, __u32 ifindex)
{
	struct lvip_ifaddr want, have = {};

	if (ifaddr_build(ifindex, &want) ||
	    bpf_map_lookup_elem(s->map_fd[M_IFADDR], &ifindex, &have))
		return false;
	return !memcmp(&want, &have, sizeof(want));
}
