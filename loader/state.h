/* SPDX-License-Identifier: GPL-2.0 */
/* state.h - one lvip instance: its pin dir and what is pinned there. */
#ifndef LVIP_STATE_H
#define LVIP_STATE_H

#include "lvip.h"
#include "ifcounters.h"
#include "util.h"

#define LVIP_PROG_XDP "lvip_xdp"
#define LVIP_PROG_TC  "lvip_tc"

enum lvip_map_id {
	M_VIP4 = 0,
	M_VIP6,
	M_STATS,
	M_IFSTATS,
	M_IFSLOT,
	M_IFADDR,
	M_META,
	M_COUNT,
};

struct lvip_state {
	const char *pin_dir;
	int dir_fd;            /* the locked pin dir, or -1 */
	bool dir_created;      /* this run created the pin dir */
	int map_fd[M_COUNT];
	__u32 map_id[M_COUNT];
	int xdp_fd, tc_fd;     /* pinned programs, or -1 */
	__u32 xdp_id, tc_id;
	__u32 xdp_insns, tc_insns; /* instructions the verifier processed */
	bool progs_stale;      /* pinned programs not bound to the pinned maps */
	bool compat;           /* the pinned tc program is lvip_tc_compat */
	int ncpus;
};

extern const char *const lvip_map_names[M_COUNT];

void state_init(struct lvip_state *s, const char *pin_dir);
void state_close(struct lvip_state *s);
void state_close_objects(struct lvip_state *s); /* the pins closed, the lock kept */
int state_open(struct lvip_state *s);
bool state_loaded(const struct lvip_state *s);  /* whole, programs bound to the maps */
bool state_partial(const struct lvip_state *s); /* something pinned, not whole */
bool state_any(const struct lvip_state *s);     /* something pinned */
bool state_prog_ours(const struct lvip_state *s, __u32 prog_id);
int meta_write(int meta_fd, __u32 max_vips);
struct ifc_maps state_ifc(const struct lvip_state *s);

#endif /* LVIP_STATE_H */
