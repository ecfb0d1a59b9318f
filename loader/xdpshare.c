// SPDX-License-Identifier: GPL-2.0
/*
 * xdpshare.c - lvip as a libxdp component program: one of the programs of
 * libxdp's dispatcher on an interface, beside any other libxdp user. The
 * dispatcher runs its components through freplace (BPF_PROG_TYPE_EXT)
 * programs; a kernel that refuses those gets, from libxdp, a lone program
 * without a dispatcher, which nothing can join: lvip detects that case and
 * refuses it in one line. The component is pinned as DIR/xdpshare_<ifindex>
 * (the program; libxdp pins the dispatcher and its links itself).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "loader.h"
#include "lvip.skel.h"

/* Before the usual libxdp programs (xdp-filter runs at 10, the default is
 * 50): the VIPs are hidden whatever a later program passes. */
#define LVIP_XDP_RUN_PRIO 5

/* libxdp's dispatcher needs freplace programs (and the tracing machinery
 * they attach through): NULL if this kernel loads them, else why not. */
const char *xdpshare_kernel_refuses(void)
{
	if (getenv("LVIP_TEST_NO_DISPATCHER") ||
	    libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_EXT, NULL) != 1)
		return "this kernel refuses freplace (ext) programs, which libxdp's dispatcher needs";
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACING, NULL) != 1)
		return "this kernel refuses tracing programs, which libxdp's dispatcher needs";
	return NULL;
}

static int quiet_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/* The program libxdp left on ifindex: its dispatcher (with its components)
 * or, legacy, one program of its own or anyone's. NULL: none or unreadable. */
static struct xdp_multiprog *multiprog_get(__u32 ifindex)
{
	struct xdp_multiprog *mp;

	libxdp_set_print(quiet_libxdp);
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	return libxdp_get_error(mp) ? NULL : mp;
}

/* Does the program prog_id carry libxdp's run configuration (a BTF section
 * .xdp_run_config): written for libxdp, though loaded without a dispatcher. */
static bool prog_has_run_config(__u32 prog_id)
{
	struct bpf_prog_info info = {};
	struct btf *btf = NULL;
	bool found = false;

	if (!prog_info(prog_id, &info) && info.btf_id)
		btf = btf__load_from_kernel_by_id(info.btf_id);
	if (btf && !libbpf_get_error(btf))
		found = btf__find_by_name_kind(btf, ".xdp_run_config", BTF_KIND_DATASEC) > 0;
	btf__free(btf);
	return found;
}

enum xdp_owner xdpshare_classify(__u32 ifindex, __u32 prog_id)
{
	struct xdp_multiprog *mp = multiprog_get(ifindex);
	enum xdp_owner o = XDP_FOREIGN;

	if (mp && !xdp_multiprog__is_legacy(mp))
		o = XDP_LIBXDP_DISPATCHER;
	else if (prog_has_run_config(prog_id))
		o = XDP_LIBXDP_LONE;
	xdp_multiprog__close(mp);
	return o;
}

/* The id of this instance's pinned component of ifindex, 0: none. */
static __u32 share_pinned_id(const struct lvip_state *s, __u32 ifindex)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = ifindex_pin_get(s, LVIP_SHARE_PREFIX, ifindex);

	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	return info.id;
}

/* The component prog_id among the dispatcher's programs on ifindex (to be
 * closed with xdp_multiprog__close(*mp)), or NULL. */
static struct xdp_program *component_find(__u32 ifindex, __u32 prog_id, struct xdp_multiprog **mp)
{
	struct xdp_program *p = NULL;

	*mp = prog_id ? multiprog_get(ifindex) : NULL;
	if (!*mp || xdp_multiprog__is_legacy(*mp))
		return NULL;
	while ((p = xdp_multiprog__next_prog(p, *mp)))
		if (xdp_program__id(p) == prog_id)
			return p;
	return NULL;
}

bool xdpshare_pinned(const struct lvip_state *s, __u32 ifindex)
{
	return share_pinned_id(s, ifindex) != 0;
}

/* This instance's component is pinned and runs in ifindex's dispatcher:
 * its program id, else 0. *mode: the dispatcher's XDP_ATTACHED_*. */
__u32 xdpshare_alive(const struct lvip_state *s, __u32 ifindex, __u8 *mode)
{
	__u32 id = share_pinned_id(s, ifindex);
	struct xdp_multiprog *mp;
	struct xdp_program *p = component_find(ifindex, id, &mp);

	if (p && mode)
		*mode = xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB ? XDP_ATTACHED_SKB :
			XDP_ATTACHED_DRV;
	xdp_multiprog__close(mp);
	return p ? id : 0;
}

/* lvip_xdp opened again from the embedded object, bound to the pinned maps,
 * for libxdp to load as a component. */
static struct lvip_bpf *component_open(struct lvip_state *s)
{
	struct lvip_bpf *skel = lvip_bpf__open();
	struct bpf_map *maps[M_COUNT];
	int err = skel ? 0 : -errno;

	if (skel) {
		bpf_program__set_autoload(skel->progs.lvip_tc, false);
		bpf_program__set_autoload(skel->progs.lvip_tc_compat, false);
		err = state_bind_maps(s, skel->obj, maps, 0);
	}
	if (err) {
		lvip_bpf__destroy(skel);
		errno = -err;
		return NULL;
	}
	return skel;
}

/* The libxdp mode to attach in: the running dispatcher's, else the one
 * asked for (auto: libxdp's choice, native first). */
static enum xdp_attach_mode attach_mode(__u32 ifindex, enum xdp_mode_req req)
{
	struct xdp_multiprog *mp = multiprog_get(ifindex);
	enum xdp_attach_mode m = req == MODE_NATIVE ? XDP_MODE_NATIVE :
				 req == MODE_GENERIC ? XDP_MODE_SKB : XDP_MODE_UNSPEC;

	if (mp && !xdp_multiprog__is_legacy(mp))
		m = xdp_multiprog__attach_mode(mp);
	xdp_multiprog__close(mp);
	return m;
}

/* This build's lvip_xdp joins (or starts) libxdp's dispatcher on ifindex
 * as a component: its own run priority, chain call on XDP_PASS (lvip passes
 * what it does not drop on to the next program); then pinned as
 * DIR/xdpshare_<ifindex>, in place of any pin there. On failure it leaves. */
static int component_add(struct lvip_state *s, __u32 ifindex, enum xdp_attach_mode mode)
{
	struct lvip_bpf *skel = component_open(s);
	struct xdp_program *prog;
	int err;

	if (!skel)
		return -errno;
	libxdp_set_print(quiet_libxdp);
	prog = xdp_program__create(&(struct xdp_program_opts){ .sz = sizeof(struct xdp_program_opts),
								.obj = skel->obj, .prog_name = "lvip_xdp" });
	err = libxdp_get_error(prog);
	if (!err)
		err = xdp_program__set_run_prio(prog, LVIP_XDP_RUN_PRIO);
	if (!err)
		err = xdp_program__set_chain_call_enabled(prog, XDP_PASS, true);
	if (!err)
		err = xdp_program__attach(prog, ifindex, mode, 0);
	if (!err && !xdpshare_alive_id(ifindex, xdp_program__id(prog))) {
		lvip_err("libxdp did not run lvip in its dispatcher (the kernel refused the "
			 "dispatcher): not sharing XDP");
		err = -EOPNOTSUPP;
	}
	if (!err) {
		stop_point("share-added"); /* running, not pinned yet: components_reap */
		err = ifindex_repin(s, LVIP_SHARE_PREFIX, ifindex, xdp_program__fd(prog));
	}
	if (err && !libxdp_get_error(prog) && xdp_program__id(prog))
		xdp_program__detach(prog, ifindex, XDP_MODE_UNSPEC, 0);
	if (!libxdp_get_error(prog))
		xdp_program__close(prog);
	lvip_bpf__destroy(skel);
	return err;
}

/* Detach the component prog_id from ifindex's dispatcher (libxdp removes
 * the dispatcher with its last component); 0 if it is not there. */
static int component_remove(__u32 ifindex, __u32 prog_id)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p = component_find(ifindex, prog_id, &mp);
	int err = p ? xdp_program__detach(p, ifindex, XDP_MODE_UNSPEC, 0) : 0;

	xdp_multiprog__close(mp);
	return err;
}

/* Remove one component of this instance (bound to its pinned maps) on
 * ifindex other than keep_id: 1 if one left, 0 if there is none, or -errno. */
static int component_reap_one(const struct lvip_state *s, __u32 ifindex, __u32 keep_id)
{
	struct xdp_multiprog *mp = multiprog_get(ifindex);
	struct xdp_program *p = NULL;
	int ret = 0;

	if (mp && !xdp_multiprog__is_legacy(mp))
		while ((p = xdp_multiprog__next_prog(p, mp)) &&
		       (xdp_program__id(p) == keep_id || !state_prog_ours(s, xdp_program__id(p))))
			;
	if (p)
		ret = xdp_program__detach(p, ifindex, XDP_MODE_UNSPEC, 0) ?: 1;
	xdp_multiprog__close(mp);
	return ret;
}

/* Remove this instance's components on ifindex but keep_id: one a kill
 * left running unpinned (between libxdp attaching it and lvip pinning it,
 * or, upgrading, between the new one's pin and the old one's removal).
 * Nobody else's are touched. Bounded: a dispatcher holds at most 10. */
static void components_reap(const struct lvip_state *s, __u32 ifindex, __u32 keep_id)
{
	for (int n = 0; n < 10 && component_reap_one(s, ifindex, keep_id) > 0; n++)
		;
}

void xdpshare_reap(const struct lvip_state *s, __u32 ifindex)
{
	components_reap(s, ifindex, 0);
}

int xdpshare_attach(struct lvip_state *s, __u32 ifindex, enum xdp_mode_req req)
{
	const char *why = xdpshare_kernel_refuses();

	if (why)
		return lvip_err("cannot share XDP through libxdp: %s", why), -EOPNOTSUPP;
	components_reap(s, ifindex, 0); /* none of ours is pinned and alive here */
	return component_add(s, ifindex, attach_mode(ifindex, req));
}

/*
 * Upgrade in place on a shared interface: this build's lvip_xdp joins the
 * dispatcher beside the running component and takes its pin (a rename: the
 * pin never goes missing), then the old component leaves. Each step swaps
 * the dispatcher atomically, so the interface is never without lvip; for
 * the moment between, both run: a frame they drop is dropped once, a frame
 * they pass may be counted twice.
 */
int xdpshare_switch(struct lvip_state *s, __u32 ifindex)
{
	__u32 old = share_pinned_id(s, ifindex);
	int err;

	if (!old || !xdpshare_alive_id(ifindex, old))
		return 0; /* no component of this instance runs there */
	err = component_add(s, ifindex, attach_mode(ifindex, MODE_AUTO));
	if (!err)
		err = component_remove(ifindex, old);
	if (!err)
		components_reap(s, ifindex, share_pinned_id(s, ifindex));
	return err;
}

/* Is prog_id a component of ifindex's dispatcher? */
bool xdpshare_alive_id(__u32 ifindex, __u32 prog_id)
{
	struct xdp_multiprog *mp;
	bool found = component_find(ifindex, prog_id, &mp) != NULL;

	xdp_multiprog__close(mp);
	return found;
}

/* Leave the dispatcher (libxdp removes it with its last component), then
 * unpin. */
int xdpshare_detach(struct lvip_state *s, __u32 ifindex)
{
	int err = component_remove(ifindex, share_pinned_id(s, ifindex));

	if (!err)
		components_reap(s, ifindex, 0);
	if (!err)
		ifindex_unpin(s, LVIP_SHARE_PREFIX, ifindex);
	return err;
}
