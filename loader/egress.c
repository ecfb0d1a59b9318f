// SPDX-License-Identifier: GPL-2.0
/*
 * egress.c - lvip's TC egress program on an interface: through a pinned tcx
 * link (first on the hook), or, on kernels without tcx and with
 * LVIP_FORCE_CLSACT=1, as a clsact filter with lvip's own handle and
 * priority; which of the programs there are this instance's.
 */
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"

/* Is the clsact filter program prog_id (at lvip's handle and priority) this
 * instance's? Its pinned program, or one bound to its pinned maps (an
 * older build's); or an lvip_tc* program left bound to maps that are no
 * longer pinned, on an interface where this instance holds the XDP link or
 * where no XDP program runs at all: another instance's interface carries
 * that instance's XDP program. */
bool tc_owned(const struct lvip_state *s, __u32 ifindex, __u32 prog_id)
{
	if (!prog_id)
		return false;
	if (prog_id == s->tc_id || state_prog_ours(s, prog_id))
		return true;
	return prog_named(prog_id, LVIP_PROG_TC) &&
	       (link_alive(s, ifindex) || !xdp_attached_id(ifindex, NULL));
}

/* clsact egress of ifindex, and lvip's handle and priority there. */
#define TC_HOOK(ifindex) { .sz = sizeof(struct bpf_tc_hook), .ifindex = (ifindex), \
			   .attach_point = BPF_TC_EGRESS }
#define TC_OPTS { .sz = sizeof(struct bpf_tc_opts), .handle = LVIP_TC_HANDLE, \
		  .priority = LVIP_TC_PRIO }

/* Program id of the filter at lvip's handle/priority on egress, 0: none. */
__u32 tc_query(__u32 ifindex)
{
	struct bpf_tc_hook hook = TC_HOOK(ifindex);
	struct bpf_tc_opts o = TC_OPTS;

	return bpf_tc_query(&hook, &o) ? 0 : o.prog_id;
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
int tc_attach(struct lvip_state *s, __u32 ifindex, bool *added, bool *moved)
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

int tc_detach(struct lvip_state *s, __u32 ifindex)
{
	int err = link_unpin_detach(s, &TCX_LINK, ifindex);
	int err2 = clsact_detach(s, ifindex);

	return err ? err : err2;
}

/* lvip's egress program on ifindex: the tcx link's, else the filter's. */
__u32 tc_prog_of(struct lvip_state *s, __u32 ifindex)
{
	__u32 id = link_alive_prog(s, &TCX_LINK, ifindex);

	if (id)
		return id;
	id = tc_query(ifindex);
	return tc_owned(s, ifindex, id) ? id : 0;
}

/* Point ifindex's egress (tcx link, or lvip's own clsact filter) at tc_fd. */
int tc_switch(struct lvip_state *s, __u32 ifindex, int tc_fd)
{
	struct bpf_tc_opts o = { .sz = sizeof(o), .handle = LVIP_TC_HANDLE, .priority = LVIP_TC_PRIO,
				 .prog_fd = tc_fd, .flags = BPF_TC_F_REPLACE };
	struct bpf_tc_hook hook = TC_HOOK(ifindex);
	int err = link_switch(s, &TCX_LINK, ifindex, tc_fd);

	if (!err && tc_owned(s, ifindex, tc_query(ifindex)))
		err = bpf_tc_attach(&hook, &o);
	return err;
}
