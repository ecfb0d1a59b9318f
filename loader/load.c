// SPDX-License-Identifier: GPL-2.0
/*
 * load.c - loading the embedded BPF object against the pinned maps, pinning
 * what is missing, replacing pinned programs in place (every attached
 * interface switched first), and unpinning everything.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "lvip.skel.h"

/* lvip_tc reads the device's addresses live, through bpf_cast_to_kern_ctx
 * (kernel >= 6.3); elsewhere lvip_tc_compat reads lvip_ifaddr. */
static bool kernel_has_kern_ctx(void)
{
	struct btf *btf;
	bool has;

	if (getenv("LVIP_FORCE_COMPAT"))
		return false;
	btf = btf__load_vmlinux_btf();
	if (!btf)
		return false;
	has = btf__find_by_name_kind(btf, "bpf_cast_to_kern_ctx", BTF_KIND_FUNC) > 0;
	btf__free(btf);
	return has;
}

static int pin_new(const struct lvip_state *s, int fd, const char *name, bool *pinned)
{
	char path[PATH_MAX];
	int err;

	*pinned = false;
	err = pin_path(s, name, path, sizeof(path));
	if (err)
		return err;
	if (!access(path, F_OK))
		return 0;
	if (bpf_obj_pin(fd, path))
		return lvip_err("cannot pin %s: %s", path, strerror(errno)), -errno;
	*pinned = true;
	return chmod(path, 0600) ? -errno : 0;
}

static void unpin(const struct lvip_state *s, const char *name)
{
	char path[PATH_MAX];

	if (!pin_path(s, name, path, sizeof(path)))
		unlink(path);
}

/* Open and load the embedded object, reusing whatever maps are pinned. */
static struct lvip_bpf *skel_load(struct lvip_state *s, __u32 max_vips, struct bpf_map *maps[M_COUNT],
				  bool *live)
{
	struct lvip_bpf *skel;
	int err;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		lvip_err("the kernel's BTF is missing (/sys/kernel/btf/vmlinux): lvip needs a kernel "
			 "built with CONFIG_DEBUG_INFO_BTF=y");
		return NULL;
	}
	*live = kernel_has_kern_ctx();
	skel = lvip_bpf__open();
	if (!skel) {
		lvip_err("cannot open the BPF object: %s", strerror(errno));
		return NULL;
	}
	bpf_program__set_autoload(*live ? skel->progs.lvip_tc_compat : skel->progs.lvip_tc, false);
	err = state_bind_maps(s, skel->obj, maps, max_vips);
	if (!err)
		err = lvip_bpf__load(skel);
	if (err) {
		lvip_err("cannot load the BPF programs: %s", strerror(-err));
		lvip_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static bool same_prog(int a, int b)
{
	struct bpf_prog_info ia = {}, ib = {};
	__u32 la = sizeof(ia), lb = sizeof(ib);

	if (bpf_obj_get_info_by_fd(a, &ia, &la) || bpf_obj_get_info_by_fd(b, &ib, &lb))
		return false;
	return !memcmp(ia.tag, ib.tag, sizeof(ia.tag)) && !strcmp(ia.name, ib.name);
}

/* Pin fd as name in place of the old pin (pin_replace). */
static int repin(const struct lvip_state *s, int fd, const char *name)
{
	char path[PATH_MAX];

	return pin_path(s, name, path, sizeof(path)) ? -ENAMETOOLONG : pin_replace(path, fd);
}

/* Pin the maps that are not pinned yet; pinned[] records which. lvip_meta
 * is written before it is pinned: a pinned meta map always names its ABI. */
static int pin_missing_maps(struct lvip_state *s, struct bpf_map *maps[M_COUNT], __u32 max_vips,
			    bool pinned[M_COUNT])
{
	int err = 0;

	if (s->map_fd[M_META] < 0)
		err = meta_write(bpf_map__fd(maps[M_META]), max_vips);
	for (int i = 0; i < M_COUNT && !err; i++) {
		if (s->map_fd[i] < 0)
			err = pin_new(s, bpf_map__fd(maps[i]), lvip_map_names[i], &pinned[i]);
		if (pinned[i])
			stop_point(lvip_map_names[i]);
	}
	return err;
}

/* The pinned programs are this build's, bound to the pinned maps. */
static bool progs_current(const struct lvip_state *s, int xdp_fd, int tc_fd)
{
	return s->xdp_fd >= 0 && s->tc_fd >= 0 && !s->progs_stale &&
	       same_prog(xdp_fd, s->xdp_fd) && same_prog(tc_fd, s->tc_fd);
}

/* Make xdp_fd/tc_fd the pinned programs. Interfaces attached to older
 * programs (another build, or programs bound to maps that are no longer
 * pinned) are switched to them atomically first (bpf_link_update for the
 * XDP and tcx links, a replacing tc filter through clsact). */
static int install_progs(struct lvip_state *s, int xdp_fd, int tc_fd, bool *replaced)
{
	bool had = s->xdp_fd >= 0 || s->tc_fd >= 0;
	int err = had ? iface_switch_progs(s, xdp_fd, tc_fd) : 0;

	if (!err)
		stop_point("switched");
	if (!err)
		err = repin(s, xdp_fd, LVIP_PROG_XDP);
	if (!err) {
		stop_point(LVIP_PROG_XDP);
		err = repin(s, tc_fd, LVIP_PROG_TC);
	}
	if (err)
		lvip_err("cannot pin the programs in %s: %s", s->pin_dir, strerror(-err));
	*replaced = had && !err;
	return err;
}

/*
 * Load the embedded object against the pinned maps, pin the maps that are
 * missing, and make sure the pinned programs are this build's and bound to
 * the pinned maps: a pinned program is reused only then. Otherwise the new
 * programs replace it in place (maps and counters kept) and *replaced says
 * so. On failure the maps this call pinned are unpinned again.
 */
int load_pins(struct lvip_state *s, __u32 max_vips, bool *replaced)
{
	bool live, pinned[M_COUNT] = {};
	struct bpf_map *maps[M_COUNT];
	struct lvip_bpf *skel;
	int xdp_fd, tc_fd, err;

	*replaced = false;
	skel = skel_load(s, max_vips, maps, &live);
	if (!skel)
		return -EINVAL;
	xdp_fd = bpf_program__fd(skel->progs.lvip_xdp);
	tc_fd = bpf_program__fd(live ? skel->progs.lvip_tc : skel->progs.lvip_tc_compat);
	err = pin_missing_maps(s, maps, max_vips, pinned);
	if (!err) {
		err = state_open(s); /* the maps' ids, for the programs' check */
		if (!err)
			err = iface_observing_sync(s);
		if (!err && !progs_current(s, xdp_fd, tc_fd))
			err = install_progs(s, xdp_fd, tc_fd, replaced);
	}
	if (err)
		for (int i = 0; i < M_COUNT; i++)
			if (pinned[i])
				unpin(s, lvip_map_names[i]);
	lvip_bpf__destroy(skel);
	return err ? err : state_open(s);
}

/* What state_load did when it replaced programs, said once. */
const char *load_note(bool stale)
{
	return stale ? "replaced the programs, which were bound to maps no longer pinned "
		       "(maps and counters kept)" :
		       "upgraded the programs in place (maps and counters kept)";
}

/* Remove every pin lvip owns, programs before maps (a kill in between
 * leaves maps that the next attach binds new programs to), then the pin
 * dir if lvip created it. */
int unload_pins(struct lvip_state *s)
{
	static const char *const progs[] = { LVIP_PROG_XDP, LVIP_PROG_TC };

	state_close_objects(s);
	for (size_t i = 0; i < ARRAY_SIZE(progs); i++)
		unpin(s, progs[i]);
	stop_point("unpinned-progs");
	for (int i = 0; i < M_COUNT; i++) {
		unpin(s, lvip_map_names[i]);
		stop_point("unpinned-map");
	}
	return pindir_remove(s);
}
