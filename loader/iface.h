/* SPDX-License-Identifier: GPL-2.0 */
/* iface.h - attaching lvip to interfaces and inspecting them. */
#ifndef LVIP_IFACE_H
#define LVIP_IFACE_H

#include <linux/if_link.h>

#include "state.h"

#define LVIP_LINK_PREFIX "xdp_"
#define LVIP_TC_HANDLE   0x1c1a /* lvip's own tc filter handle ... */
#define LVIP_TC_PRIO     0xc1a  /* ... and priority on clsact egress */

enum xdp_mode_req { MODE_AUTO, MODE_NATIVE, MODE_GENERIC };

struct iface_info {
	__u32 ifindex;
	char name[32];
	__u32 xdp_prog_id;  /* 0: none */
	__u8 xdp_mode;      /* XDP_ATTACHED_* */
	bool gone;          /* the interface no longer exists (name: "(gone)") */
	__u32 tc_prog_id;   /* lvip's filter, 0: none */
	bool link_pinned, link_alive;
	bool xdp_maps_ok, tc_maps_ok; /* the attached programs use the pinned maps */
	bool ifaddr_stale;  /* compat: lvip_ifaddr no longer what the device has */
};

int parse_mode(const char *s, enum xdp_mode_req *mode);
const char *xdp_mode_name(__u8 attach_mode);
const char *mode_name(enum xdp_mode_req mode);
int iface_resolve(const char *name, __u32 *ifindex);
int iface_attach(struct lvip_state *s, __u32 ifindex, enum xdp_mode_req mode, bool *changed);
int iface_detach(struct lvip_state *s, __u32 ifindex);
int iface_check_foreign(struct lvip_state *s, __u32 ifindex, const char *name);
int iface_list(struct lvip_state *s, __u32 **ifindexes, size_t *n);
int iface_inspect(struct lvip_state *s, __u32 ifindex, struct iface_info *info);
int iface_switch_progs(struct lvip_state *s, int xdp_fd, int tc_fd);
int iface_gc(struct lvip_state *s);
int ifaddr_refresh(struct lvip_state *s, __u32 ifindex);
int ifaddr_refresh_all(struct lvip_state *s);

#endif /* LVIP_IFACE_H */
