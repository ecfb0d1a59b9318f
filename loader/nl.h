/* SPDX-License-Identifier: GPL-2.0 */
/* nl.h - rtnetlink through libmnl: addresses and links. */
#ifndef LVIP_NL_H
#define LVIP_NL_H

#include "util.h"

struct if_addr {
	struct vip_addr addr;
	__u8 prefixlen;
	__u8 scope;
	__u32 flags;
	__u32 ifindex;
};

struct addr_list {
	struct if_addr *a;     /* in kernel order (primary first) */
	size_t n, cap;
	struct vip_addr *index; /* the addresses sorted, for addr_list_has */
};

int nl_addr_dump(int family, __u32 ifindex, struct addr_list *out);
int nl_addr_dump_others(__u32 ifindex, struct addr_list *out); /* all but ifindex's */
void addr_list_free(struct addr_list *l);
bool addr_list_has(const struct addr_list *l, const struct vip_addr *a);
int nl_addr_change_many(bool add, __u32 ifindex, const struct vip_addr *a, size_t n, int *err);
int lo_ifindex(void);
int lo_addr_dump(struct addr_list *out); /* lo's addresses, both families */

struct link_info {
	__u32 ifindex;
	__u32 flags;   /* IFF_* */
	bool has_mac;  /* Ethernet, not loopback */
	char name[16];
};

struct link_list {
	struct link_info *l;
	size_t n, cap;
};

int nl_link_dump(struct link_list *out);
void link_list_free(struct link_list *l);
struct mnl_socket;
struct mnl_socket *nl_monitor_open(void);

#endif /* LVIP_NL_H */
