// SPDX-License-Identifier: GPL-2.0
/*
 * tunlocal.c - lvip_tunlocal: the first LOCAL addresses of lvip_tunaddr,
 * which the datapath compares before it looks in that hash (struct
 * lvip_tunlocal in lvip.h). tunnel.c writes it between the two phases of
 * tun_write, so it is always a subset of the LOCAL entries.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "loader.h"

/* Add a to v if there is room for its family (addresses come sorted). */
void tunlocal_add(struct lvip_tunlocal *v, const struct vip_addr *a)
{
	if (a->family == AF_INET && v->n4 < LVIP_TUNLOCAL4)
		memcpy(v->a4[v->n4++], a->v4, 4);
	else if (a->family == AF_INET6 && v->n6 < LVIP_TUNLOCAL6)
		memcpy(v->a6[v->n6++], a->v6, 16);
}

int tunlocal_store(const struct lvip_state *s, const struct lvip_tunlocal *v)
{
	__u32 zero = 0;

	if (s->map_fd[M_TUNLOCAL] < 0)
		return 0; /* a pin set from before lvip_tunlocal: the hash answers alone */
	return bpf_map_update_elem(s->map_fd[M_TUNLOCAL], &zero, v, BPF_ANY) ? -errno : 0;
}

/* The pinned lvip_tunlocal is v (false when it cannot be read). */
bool tunlocal_is(const struct lvip_state *s, const struct lvip_tunlocal *v)
{
	struct lvip_tunlocal cur;
	__u32 zero = 0;

	if (s->map_fd[M_TUNLOCAL] < 0)
		return true;
	return !bpf_map_lookup_elem(s->map_fd[M_TUNLOCAL], &zero, &cur) && !memcmp(&cur, v, sizeof(cur));
}
