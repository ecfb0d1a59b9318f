// SPDX-License-Identifier: GPL-2.0
/* nl_link.c - links through rtnetlink (libmnl): the dump, the monitor socket. */
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "loader.h"

/* ---- links ---- */

void link_list_free(struct link_list *l)
{
	free(l->l);
	memset(l, 0, sizeof(*l));
}

static void link_kind(const struct nlattr *linkinfo, struct link_info *li)
{
	const struct nlattr *tb[IFLA_INFO_MAX + 1] = {}, *attr;

	if (!linkinfo)
		return;
	mnl_attr_for_each_nested(attr, linkinfo)
		if (mnl_attr_type_valid(attr, IFLA_INFO_MAX) >= 0)
			tb[mnl_attr_get_type(attr)] = attr;
	if (tb[IFLA_INFO_KIND] && !mnl_attr_validate(tb[IFLA_INFO_KIND], MNL_TYPE_STRING))
		snprintf(li->kind, sizeof(li->kind), "%s", mnl_attr_get_str(tb[IFLA_INFO_KIND]));
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = {}, *attr;
	struct link_list *l = data;
	struct link_info li = { .ifindex = ifi->ifi_index, .flags = ifi->ifi_flags };

	mnl_attr_for_each(attr, nlh, sizeof(*ifi))
		if (mnl_attr_type_valid(attr, IFLA_MAX) >= 0)
			tb[mnl_attr_get_type(attr)] = attr;
	if (!tb[IFLA_IFNAME])
		return MNL_CB_OK;
	snprintf(li.name, sizeof(li.name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	li.type = ifi->ifi_type;
	link_kind(tb[IFLA_LINKINFO], &li);
	li.has_mac = ifi->ifi_type == ARPHRD_ETHER && tb[IFLA_ADDRESS] &&
		     mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6 && !(ifi->ifi_flags & IFF_LOOPBACK);
	return vec_push(&l->l, &l->n, &l->cap, sizeof(li), &li) ? MNL_CB_ERROR : MNL_CB_OK;
}

static void link_dump_reset(void *data)
{
	link_list_free(data);
}

int nl_link_dump(struct link_list *out)
{
	memset(out, 0, sizeof(*out));
	return nl_dump(RTM_GETLINK, AF_UNSPEC, sizeof(struct rtgenmsg), link_cb, link_dump_reset, out);
}

/* A socket that hears about links and addresses coming and going. */
struct mnl_socket *nl_monitor_open(void)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
			    MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}
