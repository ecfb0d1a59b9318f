// SPDX-License-Identifier: GPL-2.0
/*
 * links.c - the bpf_links an instance pins per interface (DIR/xdp_<ifindex>
 * for XDP, DIR/tcx_<ifindex> for TC egress on tcx), and what runs on an
 * interface's XDP hook.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"

const struct link_kind XDP_LINK = { LVIP_LINK_PREFIX, BPF_LINK_TYPE_XDP };
const struct link_kind TCX_LINK = { LVIP_TCX_PREFIX, LVIP_BPF_LINK_TYPE_TCX };

static bool ifindex_pin_name(const char *name, const char *prefix, __u32 *ifindex)
{
	return !strncmp(name, prefix, strlen(prefix)) &&
	       parse_u32(name + strlen(prefix), 1, UINT_MAX, ifindex);
}

/* The pinned link of kind k of ifindex: fd, or -ENOENT. *alive: still
 * attached to that interface (a link outlives a deleted interface,
 * detached); *prog_id (may be NULL): its program. */
static int link_open(const struct lvip_state *s, const struct link_kind *k, __u32 ifindex,
		     bool *alive, __u32 *prog_id)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int fd;

	*alive = false;
	fd = ifindex_pin_get(s, k->prefix, ifindex);
	if (fd < 0)
		return fd;
	/* A tcx link's info starts with its ifindex, where an XDP link's does. */
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		*alive = info.type == k->type && info.xdp.ifindex == ifindex;
	if (prog_id)
		*prog_id = *alive ? info.prog_id : 0;
	return fd;
}

/* Is the link of kind k of ifindex pinned? *alive, *prog_id: as link_open. */
bool link_pinned(const struct lvip_state *s, const struct link_kind *k, __u32 ifindex,
		 bool *alive, __u32 *prog_id)
{
	int fd = link_open(s, k, ifindex, alive, prog_id);

	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

/* This instance's link of kind k of ifindex is pinned and attached there:
 * its program's id, else 0. */
__u32 link_alive_prog(const struct lvip_state *s, const struct link_kind *k, __u32 ifindex)
{
	__u32 id = 0;
	bool alive;

	link_pinned(s, k, ifindex, &alive, &id);
	return id;
}

/* This instance's XDP program of ifindex runs there: its pinned link, or
 * its pinned libxdp component. */
bool link_alive(const struct lvip_state *s, __u32 ifindex)
{
	return link_alive_prog(s, &XDP_LINK, ifindex) != 0 || xdpshare_alive(s, ifindex, NULL);
}

bool prog_named(__u32 id, const char *prefix)
{
	struct bpf_prog_info info = {};

	return !prog_info(id, &info) && !strncmp(info.name, prefix, strlen(prefix));
}

__u32 xdp_attached_id(__u32 ifindex, __u8 *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0;
	if (mode)
		*mode = q.attach_mode;
	return q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id :
	       q.skb_prog_id ? q.skb_prog_id : q.hw_prog_id;
}

/* Pin a new link fd as kind k of ifindex (a defunct pin replaced); on
 * failure the link is detached again. Closes fd. */
int link_pin_new(struct lvip_state *s, const struct link_kind *k, __u32 ifindex, int fd)
{
	int err = ifindex_pin(s, k->prefix, ifindex, fd);

	if (err) {
		bpf_link_detach(fd);
		ifindex_unpin(s, k->prefix, ifindex);
	}
	close(fd);
	return err;
}

/* Unpin first, then detach through the fd we hold: killed in between, the
 * kernel releases the unpinned link with our fd, so no dead pin remains. */
int link_unpin_detach(struct lvip_state *s, const struct link_kind *k, __u32 ifindex)
{
	bool alive;
	int fd, err = 0;

	fd = link_open(s, k, ifindex, &alive, NULL);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	ifindex_unpin(s, k->prefix, ifindex);
	if (alive && bpf_link_detach(fd) && errno != EINVAL && errno != ENOLINK)
		err = -errno;
	close(fd);
	return err;
}

/* Is name one of the per-interface pins (a link, a libxdp component)? */
bool iface_pin_name(const char *name, __u32 *ifindex)
{
	return ifindex_pin_name(name, LVIP_LINK_PREFIX, ifindex) ||
	       ifindex_pin_name(name, LVIP_TCX_PREFIX, ifindex) ||
	       ifindex_pin_name(name, LVIP_SHARE_PREFIX, ifindex);
}

/* Point the link of kind k of ifindex, if attached, at prog_fd. */
int link_switch(struct lvip_state *s, const struct link_kind *k, __u32 ifindex, int prog_fd)
{
	bool alive;
	int fd, err = 0;

	fd = link_open(s, k, ifindex, &alive, NULL);
	if (fd >= 0 && alive && bpf_link_update(fd, prog_fd, NULL))
		err = -errno;
	if (fd >= 0)
		close(fd);
	return err;
}
