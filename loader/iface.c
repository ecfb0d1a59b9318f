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
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
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

/* tcx (Linux 6.6) is newer than the UAPI headers lvip builds against. */
#define LVIP_BPF_TCX_EGRESS     47        /* enum bpf_attach_type */
#define LVIP_BPF_LINK_TYPE_TCX  11        /* enum bpf_link_type */
#define LVIP_BPF_F_BEFORE       (1U << 3) /* with no anchor: first of the hook */

/* The two links lvip pins per interface. */
struct link_kind {
	const char *prefix;
	__u32 type;
};

static const struct link_kind XDP_LINK = { LVIP_LINK_PREFIX, BPF_LINK_TYPE_XDP };
static const struct link_kind TCX_LINK = { LVIP_TCX_PREFIX, LVIP_BPF_LINK_TYPE_TCX };

static int link_pin_path(const struct lvip_state *s, const struct link_kind *k, __u32 ifindex,
			 char *path, size_t len)
{
	char name[32];

	snprintf(name, sizeof(name), "%s%u", k->prefix, ifindex);
	return pin_path(s, name, path, len);
}

/* The pinned link of kind k of ifindex: fd, or -ENOENT. *alive: still
 * attached to that interface (a link outlives a deleted interface,
 * detached); *prog_id (may be NULL): its program. */
static int link_open(const struct lvip_state *s, const struct link_kind *k, __u32 ifindex,
		     bool *alive, __u32 *prog_id)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	*alive = false;
	if (link_pin_path(s, k, ifindex, path, sizeof(path)))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	/* A tcx link's info starts with its ifindex, where an XDP link's does. */
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		*alive = info.type == k->type && info.xdp.ifindex == ifindex;
	if (prog_id)
		*prog_id = *alive ? info.prog_id : 0;
	return fd;
}

/* This instance's link of kind k of ifindex is pinned and attached there:
 * its program's id, else 0. */
static __u32 link_alive_prog(const struct lvip_state *s, const struct link_kind *k, __u32 ifindex)
{
	__u32 id = 0;
	bool alive;
	int fd = link_open(s, k, ifindex, &alive, &id);

	if (fd >= 0)
		close(fd);
	return fd >= 0 && alive ? id : 0;
}

/* This instance's XDP program of ifindex runs there: its pinned link, or
 * its pinned libxdp component. */
static bool link_alive(const struct lvip_state *s, __u32 ifindex)
{
	return link_alive_prog(s, &XDP_LINK, ifindex) != 0 || xdpshare_alive(s, ifindex, NULL);
}

static bool prog_named(__u32 id, const char *prefix)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	bool match = false;
	int fd;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return false;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		match = !strncmp(info.name, prefix, strlen(prefix));
	close(fd);
	return match;
}

static __u32 xdp_attached_id(__u32 ifindex, __u8 *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0;
	if (mode)
		*mode = q.attach_mode;
	return q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id :
	       q.skb_prog_id ? q.skb_prog_id : q.hw_prog_id;
}

/* Is the clsact filter program prog_id (at lvip's handle and priority) this
 * instance's? Its pinned program, or one bound to its pinned maps (an
 * older build's); or an lvip_tc* program left bound to maps that are no
 * longer pinned, on an interface where this instance holds the XDP link or
 * where no XDP program runs at all: another instance's interface carries
 * that instance's XDP program. */
static bool tc_owned(const struct lvip_state *s, __u32 ifindex, __u32 prog_id)
{
	if (!prog_id)
		return false;
	if (prog_id == s->tc_id || state_prog_ours(s, prog_id))
		return true;
	return prog_named(prog_id, LVIP_PROG_TC) &&
	       (link_alive(s, ifindex) || !xdp_attached_id(ifindex, NULL));
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

/* clsact egress of ifindex, and lvip's handle and priority there. */
#define TC_HOOK(ifindex) { .sz = sizeof(struct bpf_tc_hook), .ifindex = (ifindex), \
			   .attach_point = BPF_TC_EGRESS }
#define TC_OPTS { .sz = sizeof(struct bpf_tc_opts), .handle = LVIP_TC_HANDLE, \
		  .priority = LVIP_TC_PRIO }

/* Program id of the filter at lvip's handle/priority on egress, 0: none. */
static __u32 tc_query(__u32 ifindex)
{
	struct bpf_tc_hook hook = TC_HOOK(ifindex);
	struct bpf_tc_opts o = TC_OPTS;

	return bpf_tc_query(&hook, &o) ? 0 : o.prog_id;
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

static int clsact_attach(struct lvip_state *s, __u32 ifindex, bool *added)
{
	struct bpf_tc_hook hook = TC_HOOK(ifindex);
	struct bpf_tc_opts o = TC_OPTS;
	__u32 cur = tc_query(ifindex);
	int err;

	*added = false;
	if (cur == s->tc_id)
		return 0;
	if (cur && !tc_owned(s, ifindex, cur))
		return -EBUSY;
	err = bpf_tc_hook_create(&hook); /* clsact, only if absent */
	if (err && err != -EEXIST)
		return err;
	o.prog_fd = s->tc_fd;
	o.flags = cur ? BPF_TC_F_REPLACE : 0; /* an older lvip_tc: upgrade */
	err = bpf_tc_attach(&hook, &o);
	if (!err)
		*added = !cur;
	return err;
}

static int clsact_detach(struct lvip_state *s, __u32 ifindex)
{
	struct bpf_tc_hook hook = TC_HOOK(ifindex);
	struct bpf_tc_opts o = TC_OPTS;

	return tc_owned(s, ifindex, tc_query(ifindex)) ? bpf_tc_detach(&hook, &o) : 0;
}

/* Pin a new link fd as kind k of ifindex (a defunct pin replaced); on
 * failure the link is detached again. Closes fd. */
static int link_pin_new(struct lvip_state *s, const struct link_kind *k, __u32 ifindex, int fd)
{
	char path[PATH_MAX];
	int err = link_pin_path(s, k, ifindex, path, sizeof(path));

	if (!err) {
		unlink(path); /* a link left by an interface that was deleted */
		err = bpf_obj_pin(fd, path) ? -errno : 0;
	}
	if (!err && chmod(path, 0600))
		err = -errno;
	if (err) {
		bpf_link_detach(fd);
		if (err != -ENAMETOOLONG)
			unlink(path);
	}
	close(fd);
	return err;
}

/* Unpin first, then detach through the fd we hold: killed in between, the
 * kernel releases the unpinned link with our fd, so no dead pin remains. */
static int link_unpin_detach(struct lvip_state *s, const struct link_kind *k, __u32 ifindex)
{
	char path[PATH_MAX];
	bool alive;
	int fd, err = 0;

	fd = link_open(s, k, ifindex, &alive, NULL);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	if (link_pin_path(s, k, ifindex, path, sizeof(path)) == 0)
		unlink(path);
	if (alive && bpf_link_detach(fd) && errno != EINVAL && errno != ENOLINK)
		err = -errno;
	close(fd);
	return err;
}

/* The kernel has no tcx (bpf_link_create's answer, not its version), or
 * LVIP_FORCE_CLSACT=1: egress goes through clsact. */
static bool no_tcx(int err)
{
	return err == -EINVAL || err == -EOPNOTSUPP;
}

/* Attach the tcx egress link, first on the hook, and pin it. -EOPNOTSUPP
 * or -EINVAL: no tcx here. */
static int tcx_attach(struct lvip_state *s, __u32 ifindex)
{
	LIBBPF_OPTS(bpf_link_create_opts, o, .flags = LVIP_BPF_F_BEFORE);
	int fd;

	if (getenv("LVIP_FORCE_CLSACT"))
		return -EOPNOTSUPP;
	fd = bpf_link_create(s->tc_fd, ifindex, LVIP_BPF_TCX_EGRESS, &o);
	if (fd < 0)
		return -errno;
	return link_pin_new(s, &TCX_LINK, ifindex, fd);
}

/* TC egress: this instance's tcx link, else where there is no tcx its
 * clsact filter. An lvip filter left by an attach through clsact is
 * removed once the tcx link runs, so egress is never unprotected.
 * *added: the interface had no lvip egress program before; *moved: lvip's
 * filter was replaced by the tcx link. */
static int tc_attach(struct lvip_state *s, __u32 ifindex, bool *added, bool *moved)
{
	bool had_filter;
	int err;

	*added = *moved = false;
	if (link_alive_prog(s, &TCX_LINK, ifindex))
		return clsact_detach(s, ifindex); /* a takeover cut short */
	err = tcx_attach(s, ifindex);
	if (no_tcx(err))
		return clsact_attach(s, ifindex, added);
	if (err)
		return err;
	had_filter = tc_owned(s, ifindex, tc_query(ifindex));
	*added = !had_filter;
	*moved = had_filter;
	stop_point("tcx-attached");
	return had_filter ? clsact_detach(s, ifindex) : 0;
}

static int tc_detach(struct lvip_state *s, __u32 ifindex)
{
	int err = link_unpin_detach(s, &TCX_LINK, ifindex);
	int err2 = clsact_detach(s, ifindex);

	return err ? err : err2;
}

/* lvip's egress program on ifindex: the tcx link's, else the filter's. */
static __u32 tc_prog_of(struct lvip_state *s, __u32 ifindex)
{
	__u32 id = link_alive_prog(s, &TCX_LINK, ifindex);

	if (id)
		return id;
	id = tc_query(ifindex);
	return tc_owned(s, ifindex, id) ? id : 0;
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
	return link_unpin_detach(s, &XDP_LINK, ifindex);
}

int iface_set_observe(struct lvip_state *s, __u32 ifindex, bool observe)
{
	__u32 mode = observe ? LVIP_MODE_OBSERVE : LVIP_MODE_ENFORCE;

	return bpf_map_update_elem(s->map_fd[M_IFMODE], &ifindex, &mode, BPF_ANY) ? -errno : 0;
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
	return err ? err : err2;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static bool link_pin_name(const char *name, __u32 *ifindex)
{
	const char *const prefixes[] = { LVIP_LINK_PREFIX, LVIP_TCX_PREFIX };

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])) &&
		    parse_u32(name + strlen(prefixes[i]), 1, UINT_MAX, ifindex))
			return true;
	return false;
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
		if (link_pin_name(de->d_name, &idx))
			err = vec_push(ifindexes, n, &cap, sizeof(idx), &idx);
		else if (xdpshare_pin_name(de->d_name, &idx))
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
static bool ifaddr_current(const struct lvip_state *s, __u32 ifindex)
{
	struct lvip_ifaddr want, have = {};

	if (ifaddr_build(ifindex, &want) ||
	    bpf_map_lookup_elem(s->map_fd[M_IFADDR], &ifindex, &have))
		return false;
	return !memcmp(&want, &have, sizeof(want));
}

int iface_inspect(struct lvip_state *s, __u32 ifindex, struct iface_info *info)
{
	int fd;

	memset(info, 0, sizeof(*info));
	info->ifindex = ifindex;
	info->gone = !if_indextoname(ifindex, info->name);
	if (info->gone)
		snprintf(info->name, sizeof(info->name), "(gone)");
	fd = link_open(s, &XDP_LINK, ifindex, &info->link_alive, NULL);
	info->link_pinned = fd >= 0;
	if (fd >= 0)
		close(fd);
	fd = link_open(s, &TCX_LINK, ifindex, &info->tcx_alive, NULL);
	info->tcx_pinned = fd >= 0;
	if (fd >= 0)
		close(fd);
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

/* Point the link of kind k of ifindex, if attached, at prog_fd. */
static int link_switch(struct lvip_state *s, const struct link_kind *k, __u32 ifindex, int prog_fd)
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

/* Point one interface's XDP link and tcx link or tc filter at new programs. */
static int switch_one(struct lvip_state *s, __u32 ifindex, int xdp_fd, int tc_fd)
{
	struct bpf_tc_opts o = { .sz = sizeof(o), .handle = LVIP_TC_HANDLE, .priority = LVIP_TC_PRIO,
				 .prog_fd = tc_fd, .flags = BPF_TC_F_REPLACE };
	struct bpf_tc_hook hook = TC_HOOK(ifindex);
	int err = link_switch(s, &XDP_LINK, ifindex, xdp_fd);

	if (!err)
		err = link_switch(s, &TCX_LINK, ifindex, tc_fd);
	if (!err && tc_owned(s, ifindex, tc_query(ifindex)))
		err = bpf_tc_attach(&hook, &o);
	return err;
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
