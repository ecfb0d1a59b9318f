// SPDX-License-Identifier: GPL-2.0
/*
 * state.c - what is pinned in the pin dir: opening the maps and programs,
 * checking their layout and ABI, and whether the programs are this
 * instance's (bound to its pinned maps).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"

const char *const lvip_map_names[M_COUNT] = {
	[M_VIP4] = LVIP_MAP_VIP4,
	[M_VIP6] = LVIP_MAP_VIP6,
	[M_STATS] = LVIP_MAP_STATS,
	[M_IFSTATS] = LVIP_MAP_IFSTATS,
	[M_IFSLOT] = LVIP_MAP_IFSLOT,
	[M_IFADDR] = LVIP_MAP_IFADDR,
	[M_IFMODE] = LVIP_MAP_IFMODE,
	[M_OBSERVING] = LVIP_MAP_OBSERVING,
	[M_META] = LVIP_MAP_META,
	[M_EVENTS] = LVIP_MAP_EVENTS,
	[M_MON] = LVIP_MAP_MON,
	[M_MONRATE] = LVIP_MAP_MONRATE,
	[M_TUNNEL] = LVIP_MAP_TUNNEL,
	[M_TUNADDR] = LVIP_MAP_TUNADDR,
	[M_TUNSTATS] = LVIP_MAP_TUNSTATS,
	[M_TUNLOCAL] = LVIP_MAP_TUNLOCAL,
};

/* The layout this build expects of each pinned map. */
static const struct {
	__u32 type, key_size, value_size;
} map_abi[M_COUNT] = {
	[M_VIP4] = { BPF_MAP_TYPE_PERCPU_HASH, sizeof(struct lvip_vip4), sizeof(struct lvip_vip_val) },
	[M_VIP6] = { BPF_MAP_TYPE_PERCPU_HASH, sizeof(struct lvip_vip6), sizeof(struct lvip_vip_val) },
	[M_STATS] = { BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32), sizeof(struct lvip_counters) },
	[M_IFSTATS] = { BPF_MAP_TYPE_PERCPU_HASH, sizeof(__u32), sizeof(struct lvip_counters) },
	[M_IFSLOT] = { BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32), sizeof(struct lvip_ifslot) },
	[M_IFADDR] = { BPF_MAP_TYPE_HASH, sizeof(__u32), sizeof(struct lvip_ifaddr) },
	[M_IFMODE] = { BPF_MAP_TYPE_HASH, sizeof(__u32), sizeof(__u32) },
	[M_OBSERVING] = { BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(__u32) },
	[M_META] = { BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(struct lvip_meta) },
	[M_EVENTS] = { BPF_MAP_TYPE_RINGBUF, 0, 0 },
	[M_MON] = { BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(struct lvip_mon) },
	[M_MONRATE] = { BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32), sizeof(struct lvip_monrate) },
	[M_TUNNEL] = { BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(struct lvip_tunnel) },
	[M_TUNADDR] = { BPF_MAP_TYPE_HASH, sizeof(struct lvip_tunaddr_key), sizeof(__u32) },
	[M_TUNSTATS] = { BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32), sizeof(struct lvip_tuncounters) },
	[M_TUNLOCAL] = { BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(struct lvip_tunlocal) },
};

void state_init(struct lvip_state *s, const char *pin_dir)
{
	memset(s, 0, sizeof(*s));
	s->pin_dir = pin_dir;
	s->dir_fd = -1;
	s->xdp_fd = s->tc_fd = -1;
	for (int i = 0; i < M_COUNT; i++)
		s->map_fd[i] = -1;
	s->ncpus = libbpf_num_possible_cpus();
}

void state_close_objects(struct lvip_state *s)
{
	for (int i = 0; i < M_COUNT; i++)
		close_fd(&s->map_fd[i]);
	close_fd(&s->xdp_fd);
	close_fd(&s->tc_fd);
	s->xdp_id = s->tc_id = s->xdp_insns = s->tc_insns = 0;
	memset(s->map_id, 0, sizeof(s->map_id));
	s->progs_stale = s->compat = false;
}

void state_close(struct lvip_state *s)
{
	state_close_objects(s);
	close_fd(&s->dir_fd); /* releases the flock */
}

static int obj_get(const struct lvip_state *s, const char *name)
{
	char path[PATH_MAX];

	int fd;

	if (pin_path(s, name, path, sizeof(path)))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/* Is the pinned map id (fd) laid out as this build expects? *map_id: its id. */
static int check_map_abi(int fd, enum lvip_map_id id, __u32 *map_id)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*map_id = info.id;
	if (info.type != map_abi[id].type || info.key_size != map_abi[id].key_size ||
	    info.value_size != map_abi[id].value_size) {
		lvip_err("pinned map %s has another layout than this lvip expects "
			 "(pinned by another version): run 'lvip down' with that version, "
			 "or remove the pins, then attach again", lvip_map_names[id]);
		return -EPROTO;
	}
	return 0;
}

/* The pinned program name: fd, else -1; its id, verified instructions and
 * whether it is lvip_tc_compat. */
static int prog_open(const struct lvip_state *s, const char *name, __u32 *id, __u32 *insns,
		     bool *compat)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = obj_get(s, name);

	if (fd < 0)
		return -1;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		*id = info.id;
		*insns = info.verified_insns;
		*compat = !strcmp(info.name, "lvip_tc_compat");
	}
	return fd;
}

int meta_write(int meta_fd, __u32 max_vips)
{
	struct lvip_meta meta = { .abi_version = LVIP_ABI_VERSION, .max_vips = max_vips };
	__u32 zero = 0;

	return bpf_map_update_elem(meta_fd, &zero, &meta, BPF_ANY) ? -errno : 0;
}

/* lvip_meta says which ABI the pinned maps were created with. ABI 0 is a
 * meta map pinned before it was written (a kill in that window, by lvip
 * before 0.2): the layouts were checked, so it is ours; finish it when we
 * hold the lock. */
static int check_meta(const struct lvip_state *s)
{
	struct lvip_meta meta = {};
	__u32 zero = 0;

	if (bpf_map_lookup_elem(s->map_fd[M_META], &zero, &meta))
		return -errno;
	if (meta.abi_version == 0)
		return s->dir_fd >= 0 ? meta_write(s->map_fd[M_META], LVIP_MAX_VIPS_DEFAULT) : 0;
	if (meta.abi_version != LVIP_ABI_VERSION) {
		lvip_err("the maps pinned in %s have ABI %u, this lvip has ABI %u: run 'lvip down' "
			 "with the version that pinned them, then attach again", s->pin_dir,
			 meta.abi_version, LVIP_ABI_VERSION);
		return -EPROTO;
	}
	return 0;
}

static bool pinned_map_id(const struct lvip_state *s, __u32 id)
{
	for (int i = 0; i < M_COUNT; i++)
		if (id && s->map_id[i] == id)
			return true;
	return false;
}

/* *info := what the kernel says of program prog_id (the arrays the caller
 * pointed info at filled in). 0 or -errno. */
int prog_info(__u32 prog_id, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);
	int fd = bpf_prog_get_fd_by_id(prog_id);
	int err;

	if (fd < 0)
		return -errno;
	err = bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
	close(fd);
	return err;
}

/* Is prog_id one of this instance's programs: lvip's, and bound to the maps
 * pinned in this pin dir (every map it uses, the IPv4 VIP map among them)?
 * A program of another pin dir, or one left bound to maps that are no
 * longer pinned, is not. */
bool state_prog_ours(const struct lvip_state *s, __u32 prog_id)
{
	struct bpf_prog_info info = {};
	__u32 ids[16];
	bool ours = false, vip4 = false;

	if (!prog_id || s->map_fd[M_VIP4] < 0)
		return false;
	info.nr_map_ids = ARRAY_SIZE(ids);
	info.map_ids = (__u64)(unsigned long)ids;
	if (!prog_info(prog_id, &info) && !strncmp(info.name, "lvip_", 5) &&
	    info.nr_map_ids <= ARRAY_SIZE(ids)) {
		ours = true;
		for (__u32 i = 0; i < info.nr_map_ids; i++) {
			ours = ours && pinned_map_id(s, ids[i]);
			vip4 = vip4 || ids[i] == s->map_id[M_VIP4];
		}
	}
	return ours && vip4;
}

/* maps[] := obj's maps, each bound to its pinned map if there is one; the
 * VIP maps not pinned get max_vips entries (0: as built). */
int state_bind_maps(const struct lvip_state *s, struct bpf_object *obj,
		    struct bpf_map *maps[M_COUNT], __u32 max_vips)
{
	int err;

	for (int i = 0; i < M_COUNT; i++) {
		maps[i] = bpf_object__find_map_by_name(obj, lvip_map_names[i]);
		if (s->map_fd[i] >= 0) {
			err = bpf_map__reuse_fd(maps[i], s->map_fd[i]);
			if (err)
				return err;
		} else if ((i == M_VIP4 || i == M_VIP6) && max_vips) {
			bpf_map__set_max_entries(maps[i], max_vips);
		}
	}
	return 0;
}

bool monitor_alive(__u32 pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	return !strcmp(comm, "lvip\n");
}

/* lvip_mon names a monitor that no longer runs (killed): clear it, so the
 * datapath stops building events nobody reads. Only under the lock, which
 * a starting monitor holds while it writes its pid. */
static void clear_stale_monitor(const struct lvip_state *s)
{
	struct lvip_mon mon = {};
	__u32 zero = 0;

	if (s->dir_fd < 0 || s->map_fd[M_MON] < 0 ||
	    bpf_map_lookup_elem(s->map_fd[M_MON], &zero, &mon) || !mon.pid || monitor_alive(mon.pid))
		return;
	mon.pid = 0;
	bpf_map_update_elem(s->map_fd[M_MON], &zero, &mon, BPF_ANY);
}

/* Open whatever is pinned. Missing objects stay -1; a map with a foreign
 * layout is an error. Pinned programs that are not bound to the pinned maps
 * are marked stale: they are replaced, never reused. */
int state_open(struct lvip_state *s)
{
	bool compat;
	int fd, err;

	state_close_objects(s);
	for (int i = 0; i < M_COUNT; i++) {
		fd = obj_get(s, lvip_map_names[i]);
		if (fd == -ENOENT)
			continue;
		if (fd < 0) {
			lvip_err("cannot open pinned map %s/%s: %s", s->pin_dir, lvip_map_names[i], strerror(-fd));
			return fd;
		}
		s->map_fd[i] = fd;
		err = check_map_abi(fd, i, &s->map_id[i]);
		if (err)
			return err;
	}
	if (s->map_fd[M_META] >= 0) {
		err = check_meta(s);
		if (err)
			return err;
	}
	clear_stale_monitor(s);
	s->xdp_fd = prog_open(s, LVIP_PROG_XDP, &s->xdp_id, &s->xdp_insns, &compat);
	s->tc_fd = prog_open(s, LVIP_PROG_TC, &s->tc_id, &s->tc_insns, &s->compat);
	s->progs_stale = (s->xdp_fd >= 0 && !state_prog_ours(s, s->xdp_id)) ||
			 (s->tc_fd >= 0 && !state_prog_ours(s, s->tc_id));
	return 0;
}

bool state_loaded(const struct lvip_state *s)
{
	for (int i = 0; i < M_COUNT; i++)
		if (s->map_fd[i] < 0)
			return false;
	return s->xdp_fd >= 0 && s->tc_fd >= 0 && !s->progs_stale;
}

/* Something is pinned, but not a whole, consistent lvip: a run killed
 * half-way, a pin removed by hand, programs bound to unpinned maps. */
bool state_partial(const struct lvip_state *s)
{
	return state_any(s) && !state_loaded(s);
}

/* Anything pinned at all. */
bool state_any(const struct lvip_state *s)
{
	bool any = s->xdp_fd >= 0 || s->tc_fd >= 0;

	for (int i = 0; i < M_COUNT; i++)
		any = any || s->map_fd[i] >= 0;
	return any;
}

struct ifc_maps state_ifc(const struct lvip_state *s)
{
	return (struct ifc_maps){ s->map_fd[M_IFSLOT], s->map_fd[M_IFSTATS], s->ncpus };
}
