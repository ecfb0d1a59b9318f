/* SPDX-License-Identifier: GPL-2.0 */
/* vipmap.h - the VIP maps; per-CPU values are summed over CPUs. */
#ifndef LVIP_VIPMAP_H
#define LVIP_VIPMAP_H

#include "state.h"

int vip_map_fd(const struct lvip_state *s, const struct vip_addr *a);
int vip_lookup(const struct lvip_state *s, const struct vip_addr *a, struct lvip_vip_val *sum);
int vip_store(const struct lvip_state *s, const struct vip_addr *a, __u32 flags, bool create);
int vip_set_flags(const struct lvip_state *s, const struct vip_addr *a, __u32 flags);
int vip_remove(const struct lvip_state *s, const struct vip_addr *a);

struct vip_entry {
	struct vip_addr addr;
	struct lvip_vip_val val; /* counters summed, flags from CPU 0 */
};
int vip_collect(const struct lvip_state *s, struct vip_entry **out, size_t *n);

#endif /* LVIP_VIPMAP_H */
