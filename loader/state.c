// SPDX-License-Identifier: GPL-2.0
/*
 * state.c - lvip's persistent state: the pin dir (its lock), the pinned maps
 * and programs, loading the BPF object once, per-CPU map access.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "lvip.skel.h"

const char *const lvip_map_names[M_COUNT] = {
	[M_VIP4] = LVIP_MAP_VIP4,
	[M_VIP6] = LVIP_MAP_VIP6,
	[M_STATS] = LVIP_MAP_STATS,
	[M_IFSTATS] = LVIP_MAP_IFSTATS,
	[M_IFSLOT] = LVIP_MAP_IFSLOT,
	[M_IFADDR] = LVIP_MAP_IFADDR,
	[M_META] = LVIP_MAP_META,
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
	[M_META] = { BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(struct lvip_meta) },
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

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void state_close_objects(struct lvip_state *s)
{
	for (int i = 0; i < M_COUNT; i++)
		close_fd(&s->map_fd[i]);
	close_fd(&s->xdp_fd);
	close_fd(&s->tc_fd);
	s->xdp_id = s->tc_id = s->xdp_insns = s->tc_insns = 0;
}

void state_close(struct lvip_state *s)
{
	state_close_objects(s);
	close_fd(&s->dir_fd); /* releases the flock */
}

int pin_path(const struct lvip_state *s, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", s->pin_dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int wait_flock(int fd)
{
	struct timespec step = { 0, 20 * 1000 * 1000 };

	for (int waited = 0; waited <= LVIP_LOCK_TIMEOUT_MS; waited += 20) {
		if (!flock(fd, LOCK_EX | LOCK_NB))
			return 0;
		if (errno != EWOULDBLOCK)
			return -errno;
		nanosleep(&step, NULL);
	}
	return -ETIMEDOUT;
}

static int check_bpffs(const char *dir)
{
	struct statfs st;

	if (statfs(dir, &st))
		return -errno;
	return st.f_type == BPF_FS_MAGIC ? 0 : -ENOTSUP;
}

static const char *parent_dir(const char *path, char *buf, size_t len)
{
	char *slash;

	snprintf(buf, len, "%s", path);
	while ((slash = strrchr(buf, '/')) && slash[1] == '\0' && slash != buf)
		*slash = '\0'; /* trailing slashes */
	slash = strrchr(buf, '/');
	if (!slash)
		snprintf(buf, len, ".");
	else if (slash == buf)
		buf[1] = '\0';
	else
		*slash = '\0';
	return buf;
}

/* Why the pin dir cannot be made, said so that the fix is obvious. */
static int no_pin_dir(const char *dir, int e)
{
	char parent[PATH_MAX];

	parent_dir(dir, parent, sizeof(parent));
	if (e == ENOENT && check_bpffs(parent) == -ENOENT)
		lvip_err("cannot create pin dir %s: %s does not exist", dir, parent);
	else if (check_bpffs(parent) == -ENOTSUP)
		lvip_err("cannot create pin dir %s: no bpf filesystem is mounted at %s "
			 "(mount -t bpf bpf %s)", dir, parent, parent);
	else
		lvip_err("cannot create pin dir %s: %s", dir, strerror(e));
	return -e;
}

/* Open (creating it when asked) and flock the pin dir. -ENOENT: absent. */
int state_lock(struct lvip_state *s, bool create)
{
	bool created = false;
	int err;

	if (create) {
		if (!mkdir(s->pin_dir, 0700))
			created = s->dir_created = true;
		else if (errno != EEXIST)
			return no_pin_dir(s->pin_dir, errno);
	}
	s->dir_fd = open(s->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dir_fd < 0) {
		err = -errno;
		if (err != -ENOENT || create)
			lvip_err("cannot open pin dir %s: %s", s->pin_dir, strerror(-err));
		return err;
	}
	err = check_bpffs(s->pin_dir);
	if (err) {
		char parent[PATH_MAX];

		lvip_err("pin dir %s is not on a bpf filesystem (mount -t bpf bpf %s)",
			 s->pin_dir, parent_dir(s->pin_dir, parent, sizeof(parent)));
		goto fail;
	}
	if (fchmod(s->dir_fd, 0700)) {
		err = -errno;
		lvip_err("cannot set mode 0700 on %s: %s", s->pin_dir, strerror(errno));
		goto fail;
	}
	err = wait_flock(s->dir_fd);
	if (err) {
		lvip_err("cannot lock %s: %s (another lvip is running?)", s->pin_dir,
			 err == -ETIMEDOUT ? "timed out" : strerror(-err));
		goto fail;
	}
	return 0;
fail:
	close_fd(&s->dir_fd);
	if (created)
		rmdir(s->pin_dir);
	s->dir_created = false;
	return err;
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

static int check_map_abi(int fd, enum lvip_map_id id)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != map_abi[id].type || info.key_size != map_abi[id].key_size ||
	    info.value_size != map_abi[id].value_size) {
		lvip_err("pinned map %s has another layout than this lvip expects "
			 "(pinned by another version): run 'lvip down' with that version, "
			 "or remove the pins, then attach again", lvip_map_names[id]);
		return -EPROTO;
	}
	return 0;
}

static void prog_ids(int fd, __u32 *id, __u32 *insns)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	*id = info.id;
	*insns = info.verified_insns;
}

/* lvip_meta says which ABI the pinned maps were created with. */
static int check_meta(const struct lvip_state *s)
{
	struct lvip_meta meta = {};
	__u32 zero = 0;

	if (bpf_map_lookup_elem(s->map_fd[M_META], &zero, &meta))
		return -errno;
	if (meta.abi_version != LVIP_ABI_VERSION) {
		lvip_err("the maps pinned in %s have ABI %u, this lvip has ABI %u: run 'lvip down' "
			 "with the version that pinned them, then attach again", s->pin_dir,
			 meta.abi_version, LVIP_ABI_VERSION);
		return -EPROTO;
	}
	return 0;
}

/* Open whatever is pinned. Missing objects stay -1; a map with a foreign
 * layout is an error. */
int state_open(struct lvip_state *s)
{
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
		err = check_map_abi(fd, i);
		if (err)
			return err;
	}
	if (s->map_fd[M_META] >= 0) {
		err = check_meta(s);
		if (err)
			return err;
	}
	fd = obj_get(s, LVIP_PROG_XDP);
	if (fd >= 0) {
		s->xdp_fd = fd;
		prog_ids(fd, &s->xdp_id, &s->xdp_insns);
	}
	fd = obj_get(s, LVIP_PROG_TC);
	if (fd >= 0) {
		s->tc_fd = fd;
		prog_ids(fd, &s->tc_id, &s->tc_insns);
	}
	return 0;
}

bool state_loaded(const struct lvip_state *s)
{
	for (int i = 0; i < M_COUNT; i++)
		if (s->map_fd[i] < 0)
			return false;
	return s->xdp_fd >= 0 && s->tc_fd >= 0;
}

bool state_exists(const struct lvip_state *s)
{
	return access(s->pin_dir, F_OK) == 0;
}

bool state_on_bpffs(const struct lvip_state *s)
{
	return check_bpffs(s->pin_dir) == 0;
}

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

static void skel_maps(struct lvip_bpf *skel, struct bpf_map *maps[M_COUNT])
{
	maps[M_VIP4] = skel->maps.lvip_vip4;
	maps[M_VIP6] = skel->maps.lvip_vip6;
	maps[M_STATS] = skel->maps.lvip_stats;
	maps[M_IFSTATS] = skel->maps.lvip_ifstats;
	maps[M_IFSLOT] = skel->maps.lvip_ifslot;
	maps[M_IFADDR] = skel->maps.lvip_ifaddr;
	maps[M_META] = skel->maps.lvip_meta;
}

static int prepare_maps(struct lvip_state *s, struct bpf_map *maps[M_COUNT], __u32 max_vips)
{
	int err;

	for (int i = 0; i < M_COUNT; i++) {
		if (s->map_fd[i] >= 0) {
			err = bpf_map__reuse_fd(maps[i], s->map_fd[i]);
			if (err)
				return err;
		} else if (i == M_VIP4 || i == M_VIP6) {
			bpf_map__set_max_entries(maps[i], max_vips);
		}
	}
	return 0;
}

static int write_meta(int meta_fd, __u32 max_vips)
{
	struct lvip_meta meta = { .abi_version = LVIP_ABI_VERSION, .max_vips = max_vips };
	__u32 zero = 0;

	return bpf_map_update_elem(meta_fd, &zero, &meta, BPF_ANY) ? -errno : 0;
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
	skel_maps(skel, maps);
	bpf_program__set_autoload(*live ? skel->progs.lvip_tc_compat : skel->progs.lvip_tc, false);
	err = prepare_maps(s, maps, max_vips);
	if (!err)
		err = lvip_bpf__load(skel);
	if (err) {
		lvip_err("cannot load the BPF programs: %s", strerror(-err));
		lvip_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static int skel_tc_fd(struct lvip_bpf *skel, bool live)
{
	return bpf_program__fd(live ? skel->progs.lvip_tc : skel->progs.lvip_tc_compat);
}

/* Load the object (reusing pinned maps) and pin what is not pinned yet;
 * on failure unpin what this call pinned. */
int state_load(struct lvip_state *s, __u32 max_vips)
{
	bool live, pinned[M_COUNT + 2] = {};
	struct bpf_map *maps[M_COUNT];
	struct lvip_bpf *skel;
	int err = 0;

	skel = skel_load(s, max_vips, maps, &live);
	if (!skel)
		return -EINVAL;
	for (int i = 0; i < M_COUNT && !err; i++)
		if (s->map_fd[i] < 0)
			err = pin_new(s, bpf_map__fd(maps[i]), lvip_map_names[i], &pinned[i]);
	if (!err && s->map_fd[M_META] < 0)
		err = write_meta(bpf_map__fd(skel->maps.lvip_meta), max_vips);
	if (!err)
		err = pin_new(s, bpf_program__fd(skel->progs.lvip_xdp), LVIP_PROG_XDP, &pinned[M_COUNT]);
	if (!err)
		err = pin_new(s, skel_tc_fd(skel, live), LVIP_PROG_TC, &pinned[M_COUNT + 1]);
	if (err) {
		for (int i = 0; i < M_COUNT; i++)
			if (pinned[i])
				unpin(s, lvip_map_names[i]);
		if (pinned[M_COUNT])
			unpin(s, LVIP_PROG_XDP);
		if (pinned[M_COUNT + 1])
			unpin(s, LVIP_PROG_TC);
	} else {
		err = state_open(s);
	}
	lvip_bpf__destroy(skel);
	return err;
}

static bool same_prog(int a, int b)
{
	struct bpf_prog_info ia = {}, ib = {};
	__u32 la = sizeof(ia), lb = sizeof(ib);

	if (bpf_obj_get_info_by_fd(a, &ia, &la) || bpf_obj_get_info_by_fd(b, &ib, &lb))
		return false;
	return !memcmp(ia.tag, ib.tag, sizeof(ia.tag)) && !strcmp(ia.name, ib.name);
}

/* Pin fd as name in place of the old pin: pin under a temporary name, then
 * rename over the old one, so the name never disappears. */
static int repin(const struct lvip_state *s, int fd, const char *name)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	char tmpname[64];

	snprintf(tmpname, sizeof(tmpname), "%s_new", name);
	if (pin_path(s, tmpname, tmp, sizeof(tmp)) || pin_path(s, name, path, sizeof(path)))
		return -ENAMETOOLONG;
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp))
		return -errno;
	if (rename(tmp, path)) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}

/*
 * Upgrade in place: when the embedded programs differ from the pinned ones
 * (another build), load them against the pinned maps (counters and VIPs
 * kept), switch every interface to them atomically (bpf_link_update for
 * XDP, a replacing tc filter), then re-pin. *upgraded says if it happened.
 */
int state_upgrade(struct lvip_state *s, bool *upgraded)
{
	struct bpf_map *maps[M_COUNT];
	struct lvip_bpf *skel;
	int xdp_fd, tc_fd, err;
	bool live;

	*upgraded = false;
	skel = skel_load(s, LVIP_MAX_VIPS_DEFAULT, maps, &live);
	if (!skel)
		return -EINVAL;
	xdp_fd = bpf_program__fd(skel->progs.lvip_xdp);
	tc_fd = skel_tc_fd(skel, live);
	if (same_prog(xdp_fd, s->xdp_fd) && same_prog(tc_fd, s->tc_fd)) {
		lvip_bpf__destroy(skel);
		return 0;
	}
	err = iface_switch_progs(s, xdp_fd, tc_fd);
	if (!err)
		err = repin(s, xdp_fd, LVIP_PROG_XDP);
	if (!err)
		err = repin(s, tc_fd, LVIP_PROG_TC);
	if (err)
		lvip_err("upgrade: cannot re-pin the new programs: %s", strerror(-err));
	else
		*upgraded = true;
	lvip_bpf__destroy(skel);
	return err ? err : state_open(s);
}

/* Remove every pin lvip owns, then the pin dir itself. */
int state_unpin_all(struct lvip_state *s)
{
	static const char *const progs[] = { LVIP_PROG_XDP, LVIP_PROG_TC };

	state_close_objects(s);
	for (int i = 0; i < M_COUNT; i++)
		unpin(s, lvip_map_names[i]);
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		unpin(s, progs[i]);
	if (rmdir(s->pin_dir) && errno != ENOENT) {
		lvip_warn("pin dir %s not removed: %s", s->pin_dir, strerror(errno));
		return -errno;
	}
	return 0;
}

/* ---- per-CPU map access ---- */

int vip_map_fd(const struct lvip_state *s, const struct vip_addr *a)
{
	return s->map_fd[a->family == AF_INET ? M_VIP4 : M_VIP6];
}

static struct lvip_vip_val *percpu_vals(const struct lvip_state *s)
{
	return calloc(s->ncpus, sizeof(struct lvip_vip_val));
}

static void vip_sum(const struct lvip_vip_val *v, int ncpus, struct lvip_vip_val *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (int c = 0; c < ncpus; c++) {
		sum->packets += v[c].packets;
		sum->bytes += v[c].bytes;
		sum->arp_dropped += v[c].arp_dropped;
		sum->nd_dropped += v[c].nd_dropped;
	}
	sum->flags = v[0].flags;
}

int vip_lookup(const struct lvip_state *s, const struct vip_addr *a, struct lvip_vip_val *sum)
{
	struct lvip_vip_val *v = percpu_vals(s);
	int err = 0;

	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(vip_map_fd(s, a), a->bytes, v))
		err = -errno;
	else if (sum)
		vip_sum(v, s->ncpus, sum);
	free(v);
	return err;
}

/* A per-CPU hash without prealloc takes its elements from a per-CPU cache
 * that the kernel refills in the background: a burst of inserts can see
 * ENOMEM for a moment. Retry for up to a second before believing it. */
static int map_update_retry(int fd, const void *key, const void *val, __u64 flags)
{
	struct timespec pause = { 0, 2 * 1000 * 1000 };

	for (int i = 0; i < 500; i++) {
		if (!bpf_map_update_elem(fd, key, val, flags))
			return 0;
		if (errno != ENOMEM)
			return -errno;
		nanosleep(&pause, NULL);
	}
	return -ENOMEM;
}

int vip_store(const struct lvip_state *s, const struct vip_addr *a, __u32 flags, bool create)
{
	struct lvip_vip_val *v = percpu_vals(s);
	int err = 0;

	if (!v)
		return -ENOMEM;
	for (int c = 0; c < s->ncpus; c++)
		v[c].flags = flags;
	err = map_update_retry(vip_map_fd(s, a), a->bytes, v, create ? BPF_NOEXIST : BPF_ANY);
	free(v);
	return err;
}

/* Flags are replicated on every CPU; counters are kept. */
int vip_set_flags(const struct lvip_state *s, const struct vip_addr *a, __u32 flags)
{
	struct lvip_vip_val *v = percpu_vals(s);
	int err = 0;

	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(vip_map_fd(s, a), a->bytes, v)) {
		err = -errno;
		goto out;
	}
	for (int c = 0; c < s->ncpus; c++)
		v[c].flags = flags;
	err = map_update_retry(vip_map_fd(s, a), a->bytes, v, BPF_EXIST);
out:
	free(v);
	return err;
}

int vip_remove(const struct lvip_state *s, const struct vip_addr *a)
{
	if (bpf_map_delete_elem(vip_map_fd(s, a), a->bytes) && errno != ENOENT)
		return -errno;
	return 0;
}

struct ifc_maps state_ifc(const struct lvip_state *s)
{
	return (struct ifc_maps){ s->map_fd[M_IFSLOT], s->map_fd[M_IFSTATS], s->ncpus };
}

static int collect_family(const struct lvip_state *s, int family, struct vip_entry **out,
			  size_t *n, size_t *cap)
{
	int fd = s->map_fd[family == AF_INET ? M_VIP4 : M_VIP6];
	struct vip_addr key = { .family = family }, next = { .family = family };
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, next.bytes)) {
		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 64;
			struct vip_entry *p = realloc(*out, ncap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			*out = p;
			*cap = ncap;
		}
		(*out)[*n].addr = next;
		if (!vip_lookup(s, &next, &(*out)[*n].val))
			(*n)++;
		key = next;
		prev = key.bytes;
	}
	return errno == ENOENT ? 0 : -errno;
}

static int entry_order(const void *a, const void *b)
{
	return vip_cmp(&((const struct vip_entry *)a)->addr, &((const struct vip_entry *)b)->addr);
}

/* Every VIP of both maps, sorted (IPv4 first), counters summed. */
int vip_collect(const struct lvip_state *s, struct vip_entry **out, size_t *n)
{
	size_t cap = 0;
	int err;

	*out = NULL;
	*n = 0;
	err = collect_family(s, AF_INET, out, n, &cap);
	if (!err)
		err = collect_family(s, AF_INET6, out, n, &cap);
	if (err) {
		free(*out);
		*out = NULL;
		*n = 0;
		return err;
	}
	if (*n)
		qsort(*out, *n, sizeof(**out), entry_order);
	return 0;
}
