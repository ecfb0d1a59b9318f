// SPDX-License-Identifier: GPL-2.0
/*
 * iface.c - attaching lvip to interfaces: XDP ingress through a pinned
 * bpf_link (DIR/xdp_<ifindex>) or, shared, as a libxdp component
 * (xdpshare.c), TC egress through a pinned tcx link (DIR/tcx_<ifindex>), or
 * on kernels without tcx (and with LVIP_FORCE_CLSACT=1) through clsact with
 * lvip's own handle and priority. Never replaces or removes anything that is
 * not lvip's.
 *
 * The link is the default on an interface without XDP: it needs nothing but
 * XDP itself, while libxdp's dispatcher needs freplace programs, which some
 * kernels refuse. On an interface where a dispatcher runs, lvip joins it.
 */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"

int parse_mode(const char *s, enum xdp_mode_req *mode)
{
	if (!strcmp(s, "auto"))
		*mode = MODE_AUTO;
	else if (!strcmp(s, "native"))
		*mode = MODE_NATIVE;
	else if (!strcmp(s, "generic"))
		*mode = MODE_GENERIC;
	else
		return -1;
	return 0;
}

const char *mode_name(enum xdp_mode_req mode)
{
	if (mode & MODE_SHARE)
		return MODE_BASE(mode) == MODE_GENERIC ? "libxdp, generic" : "libxdp";
	return mode == MODE_NATIVE ? "native" : mode == MODE_GENERIC ? "generic" : "auto";
}

int iface_resolve(const char *name, __u32 *ifindex)
{
	if (!*name || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	*ifindex = if_nametoindex(name);
	return *ifindex ? 0 : -ENODEV;
}

const char *xdp_mode_name(__u8 mode)
{
	switch (mode) {
	case XDP_ATTACHED_DRV: return "native";
	case XDP_ATTACHED_SKB: return "generic";
	case XDP_ATTACHED_HW: return "offload";
	case XDP_ATTACHED_MULTI: return "multi";
	case LVIP_XDP_ATTACHED_LIBXDP: return "libxdp";
	default: return "none";
	}
}

/* An XDP program that is not lvip's on ifindex: 0 if lvip can run beside
 * it (libxdp's dispatcher, joined), else -EBUSY with the reason. */
static int xdp_check_foreign(__u32 ifindex, const char *e)
{
	__u8 mode = 0;
	__u32 id = xdp_attached_id(ifindex, &mode);
	const char *why;

	if (!id)
		return 0;
	switch (xdpshare_classify(ifindex, id)) {
	case XDP_LIBXDP_DISPATCHER:
		return 0;
	case XDP_LIBXDP_LONE:
		why = xdpshare_kernel_refuses();
		lvip_err("%s carries a libxdp program (id %u) loaded without libxdp's dispatcher (%s): "
			 "nothing can run beside it, refusing to replace it", e, id,
			 why ? why : "it was loaded alone");
		return -EBUSY;
	default:
		lvip_err("%s already carries an XDP program (id %u, %s mode) that is not lvip's: "
			 "refusing to replace it", e, id, xdp_mode_name(mode));
		return -EBUSY;
	}
}

/* Refuse (-EBUSY) an interface where lvip would have to replace someone
 * else's program: an XDP program not attached through lvip's link and not
 * libxdp's dispatcher, or a foreign filter sitting at lvip's own tc
 * handle/priority; refuse (-EOPNOTSUPP) to share XDP where the kernel
 * cannot load libxdp's dispatcher. */
int iface_check_foreign(struct lvip_state *s, __u32 ifindex, const char *name,
			enum xdp_mode_req req)
{
	char e[LVIP_NAME_ESC];
	const char *why;
	__u32 tc_id;

	name_escape(name, e, sizeof(e));
	if (!link_alive(s, ifindex) && xdp_check_foreign(ifindex, e))
		return -EBUSY;
	why = xdpshare_kernel_refuses();
	if ((req & MODE_SHARE) && why && !link_alive(s, ifindex)) {
		lvip_err("%s: cannot share XDP through libxdp: %s", e, why);
		return -EOPNOTSUPP;
	}
	tc_id = tc_query(ifindex);
	if (tc_id && !tc_owned(s, ifindex, tc_id)) {
		lvip_err("%s: a tc egress filter that is not this lvip's (prog id %u: another program, "
			 "or lvip of another pin dir) uses lvip's handle 0x%x priority %u: refusing to "
			 "replace it", e, tc_id, LVIP_TC_HANDLE, LVIP_TC_PRIO);
		return -EBUSY;
	}
	return 0;
}

static int xdp_link_create(struct lvip_state *s, __u32 ifindex, enum xdp_mode_req mode)
{
	LIBBPF_OPTS(bpf_link_create_opts, o);
	int fd;

	if (mode != MODE_GENERIC) {
		o.flags = XDP_FLAGS_DRV_MODE;
		fd = bpf_link_create(s->xdp_fd, ifindex, BPF_XDP, &o);
		if (fd >= 0 || mode == MODE_NATIVE)
			return fd < 0 ? -errno : fd;
	}
	o.flags = XDP_FLAGS_SKB_MODE;
	fd = bpf_link_create(s->xdp_fd, ifindex, BPF_XDP, &o);
	return fd < 0 ? -errno : fd;
}

static int xdp_attach(struct lvip_state *s, __u32 ifindex, enum xdp_mode_req mode, bool *added)
{
	int fd, err;

	*added = false;
	if (link_alive(s, ifindex))
		return 0;
	if ((mode & MODE_SHARE) || xdp_attached_id(ifindex, NULL)) { /* a dispatcher: join it */
		err = xdpshare_attach(s, ifindex, MODE_BASE(mode));
		*added = !err;
		return err;
	}
	fd = xdp_link_create(s, ifindex, mode);
	if (fd < 0)
		return fd;
	err = link_pin_new(s, &XDP_LINK, ifindex, fd);
	*added = !err;
	return err;
}

static int xdp_detach(struct lvip_state *s, __u32 ifindex)
{
	if (xdpshare_pinned(s, ifindex))
		return xdpshare_detach(s, ifindex);
	xdpshare_reap(s, ifindex); /* one a kill left before lvip pinned it */
	return link_unpin_detach(s, &XDP_LINK, ifindex);
}

static int observing_write(const struct lvip_state *s, __u32 any)
{
	__u32 zero = 0, now = 0;

	if (s->map_fd[M_OBSERVING] < 0)
		return 0; /* a pin set from before lvip_observing: its programs read lvip_ifmode */
	if (!bpf_map_lookup_elem(s->map_fd[M_OBSERVING], &zero, &now) && now == any)
		return 0;
	return bpf_map_update_elem(s->map_fd[M_OBSERVING], &zero, &any, BPF_ANY) ? -errno : 0;
}

/* lvip_observing := whether any interface is in observe mode. Run after
 * each change to lvip_ifmode and before new programs are attached (a new
 * lvip_observing map starts at 0). */
int iface_observing_sync(const struct lvip_state *s)
{
	__u32 key, next, mode, *prev = NULL, any = 0;

	if (s->map_fd[M_IFMODE] < 0)
		return 0;
	while (!any && !bpf_map_get_next_key(s->map_fd[M_IFMODE], prev, &next)) {
		key = next;
		prev = &key;
		any = !bpf_map_lookup_elem(s->map_fd[M_IFMODE], &key, &mode) && mode == LVIP_MODE_OBSERVE;
	}
	return observing_write(s, any);
}

/* Observe: lvip_observing is set before the entry, so the datapath never
 * skips an observing interface's entry. Enforce: cleared after, if none is
 * left. */
int iface_set_observe(struct lvip_state *s, __u32 ifindex, bool observe)
{
	__u32 mode = observe ? LVIP_MODE_OBSERVE : LVIP_MODE_ENFORCE;
	int err = observe ? observing_write(s, 1) : 0;

	if (!err && bpf_map_update_elem(s->map_fd[M_IFMODE], &ifindex, &mode, BPF_ANY))
		err = -errno;
	return err || observe ? err : iface_observing_sync(s);
}

bool iface_observed(const struct lvip_state *s, __u32 ifindex)
{
	__u32 mode = LVIP_MODE_ENFORCE;

	if (s->map_fd[M_IFMODE] >= 0)
		bpf_map_lookup_elem(s->map_fd[M_IFMODE], &ifindex, &mode);
	return mode == LVIP_MODE_OBSERVE;
}

/* Attach XDP + TC to ifindex (after iface_check_foreign), in observe or
 * enforce mode. The mode is set first, so a new attachment never acts in
 * the other one; on an attached interface the mode flips in one map update.
 * Idempotent; on failure undoes what this call added. */
int iface_attach(struct lvip_state *s, __u32 ifindex, enum xdp_mode_req mode, bool observe,
		 bool *changed)
{
	struct ifc_maps ifc = state_ifc(s);
	bool tc_added = false, tc_moved = false, xdp_added = false;
	int err;

	err = iface_set_observe(s, ifindex, observe);
	if (!err)
		err = ifc_create(&ifc, ifindex);
	if (!err)
		err = ifaddr_refresh(s, ifindex);
	if (!err)
		err = tc_attach(s, ifindex, &tc_added, &tc_moved);
	if (!err) {
		stop_point("tc-attached");
		err = xdp_attach(s, ifindex, mode, &xdp_added);
	}
	if (err && tc_added)
		tc_detach(s, ifindex);
	*changed = tc_added || tc_moved || xdp_added;
	return err;
}

int iface_detach(struct lvip_state *s, __u32 ifindex)
{
	struct ifc_maps ifc = state_ifc(s);
	int err = xdp_detach(s, ifindex);
	int err2 = tc_detach(s, ifindex);

	if (s->map_fd[M_IFSTATS] >= 0)
		ifc_remove(&ifc, ifindex);
	if (s->map_fd[M_IFADDR] >= 0)
		bpf_map_delete_elem(s->map_fd[M_IFADDR], &ifindex);
	if (s->map_fd[M_IFMODE] >= 0)
		bpf_map_delete_elem(s->map_fd[M_IFMODE], &ifindex);
	iface_observing_sync(s);
	return err ? err : err2;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* Every interface lvip has state for: a pinned link or a counters entry. */
int iface_list(struct lvip_state *s, __u32 **ifindexes, size_t *n)
{
	__u32 key, *prev = NULL, idx;
	size_t cap = 0, m = 0;
	struct dirent *de;
	DIR *d;
	int err = 0;

	*ifindexes = NULL;
	*n = 0;
	d = opendir(s->pin_dir);
	while (d && (de = readdir(d)) && !err)
		if (iface_pin_name(de->d_name, &idx))
			err = vec_push(ifindexes, n, &cap, sizeof(idx), &idx);
	if (d)
		closedir(d);
	while (!err && s->map_fd[M_IFSTATS] >= 0 &&
	       !bpf_map_get_next_key(s->map_fd[M_IFSTATS], prev, &key)) {
		err = vec_push(ifindexes, n, &cap, sizeof(key), &key);
		idx = key;
		prev = &idx;
	}
	if (!err && *n)
		qsort(*ifindexes, *n, sizeof(**ifindexes), cmp_u32);
	for (size_t i = 0; !err && i < *n; i++) /* drop repeats */
		if (!m || (*ifindexes)[m - 1] != (*ifindexes)[i])
			(*ifindexes)[m++] = (*ifindexes)[i];
	*n = err ? 0 : m;
	return err;
}

int iface_inspect(struct lvip_state *s, __u32 ifindex, struct iface_info *info)
{
	memset(info, 0, sizeof(*info));
	info->ifindex = ifindex;
	info->gone = !if_indextoname(ifindex, info->name);
	if (info->gone)
		snprintf(info->name, sizeof(info->name), "(gone)");
	info->link_pinned = link_pinned(s, &XDP_LINK, ifindex, &info->link_alive, NULL);
	info->tcx_pinned = link_pinned(s, &TCX_LINK, ifindex, &info->tcx_alive, NULL);
	if (info->link_alive)
		info->xdp_prog_id = xdp_attached_id(ifindex, &info->xdp_mode);
	if (!info->link_pinned && xdpshare_pinned(s, ifindex)) {
		info->shared = info->link_pinned = true;
		info->xdp_prog_id = xdpshare_alive(s, ifindex, NULL);
		info->link_alive = info->xdp_prog_id != 0;
		info->xdp_mode = LVIP_XDP_ATTACHED_LIBXDP;
	}
	info->tc_prog_id = tc_prog_of(s, ifindex);
	info->xdp_maps_ok = !info->xdp_prog_id || state_prog_ours(s, info->xdp_prog_id);
	info->tc_maps_ok = !info->tc_prog_id || state_prog_ours(s, info->tc_prog_id);
	info->ifaddr_stale = s->compat && info->tc_prog_id && s->map_fd[M_IFADDR] >= 0 &&
			     !ifaddr_current(s, ifindex);
	info->observe = iface_observed(s, ifindex);
	return 0;
}

/* Forget interfaces that no longer exist: their defunct link pins and
 * their counter/address entries. Returns how many were removed. */
int iface_gc(struct lvip_state *s)
{
	char name[IF_NAMESIZE];
	__u32 *idx = NULL;
	size_t n = 0;
	int gone = 0;

	if (iface_list(s, &idx, &n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!if_indextoname(idx[i], name) && !iface_detach(s, idx[i]))
			gone++;
	free(idx);
	return gone;
}

/* Point one interface's XDP link and tcx link or tc filter at new programs.
 * A shared interface gets a new component of this build instead
 * (xdpshare_switch): a component cannot be the pinned XDP program. */
static int switch_one(struct lvip_state *s, __u32 ifindex, int xdp_fd, int tc_fd)
{
	int err = xdpshare_pinned(s, ifindex) ? xdpshare_switch(s, ifindex) :
		  link_switch(s, &XDP_LINK, ifindex, xdp_fd);

	return err ? err : tc_switch(s, ifindex, tc_fd);
}

/* Switch every attached interface to xdp_fd/tc_fd, atomically each; on
 * failure switch the ones done back to the pinned programs. */
int iface_switch_progs(struct lvip_state *s, int xdp_fd, int tc_fd)
{
	__u32 *idx = NULL;
	size_t n = 0, i;
	int err = iface_list(s, &idx, &n);

	for (i = 0; !err && i < n; i++) {
		err = switch_one(s, idx[i], xdp_fd, tc_fd);
		if (err)
			lvip_err("upgrade: cannot switch interface %u to the new programs: %s", idx[i],
				 strerror(-err));
	}
	if (err)
		while (i-- > 0)
			switch_one(s, idx[i], s->xdp_fd, s->tc_fd);
	free(idx);
	return err;
}

/* lvip_ifaddr of every attached interface (what lvip_tc_compat reads). */
int ifaddr_refresh_all(struct lvip_state *s)
{
	__u32 *idx;
	size_t n;
	char name[IF_NAMESIZE];
	int err = iface_list(s, &idx, &n);

	for (size_t i = 0; !err && i < n; i++)
		if (if_indextoname(idx[i], name))
			err = ifaddr_refresh(s, idx[i]);
	free(idx);
	return err;
}
