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
#include "config.h"
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
	memset(s->map_id, 0, sizeof(s->map_id));
	s->progs_stale = s->compat = false;
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

/* Is path still the directory dir_fd has open (not removed, not replaced)? */
static bool still_named(int dir_fd, const char *path)
{
	struct stat a, b;

	return !fstat(dir_fd, &a) && !stat(path, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Only root may own the pin dir, and nobody else may write to it: whoever
 * can remove a pin can detach lvip or swap its maps. Checked on the open
 * directory, so a rename cannot slip another one in after the check. */
static int check_owner(const struct lvip_state *s)
{
	struct stat st;

	if (fstat(s->dir_fd, &st))
		return -errno;
	if (st.st_uid != 0) {
		lvip_err("pin dir %s is owned by uid %u, not root: refusing it (its owner could remove "
			 "lvip's pins; remove it, or use another --pin-dir)", s->pin_dir, (unsigned)st.st_uid);
		return -EPERM;
	}
	if (!s->dir_created && (st.st_mode & (S_IWGRP | S_IWOTH))) {
		lvip_err("pin dir %s is writable by others (mode %04o): refusing it (use a directory "
			 "below it, which lvip creates with mode 0700)", s->pin_dir,
			 (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* mkdir the pin dir with its marker (lvip removes only a dir it created). */
static int make_pin_dir(struct lvip_state *s)
{
	char marker[PATH_MAX];

	if (mkdir(s->pin_dir, 0700))
		return errno == EEXIST ? 0 : no_pin_dir(s->pin_dir, errno);
	s->dir_created = true;
	if (!pin_path(s, LVIP_DIR_MARKER, marker, sizeof(marker)))
		mkdir(marker, 0700);
	return 0;
}

/* One attempt: open, check and flock the pin dir. -EAGAIN: it was removed
 * or replaced while we waited for the lock (try again). */
static int lock_once(struct lvip_state *s, bool create)
{
	int err = create ? make_pin_dir(s) : 0;

	if (err)
		return err;
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
		return err;
	}
	err = check_owner(s);
	if (!err && s->dir_created && fchmod(s->dir_fd, 0700)) {
		err = -errno;
		lvip_err("cannot set mode 0700 on %s: %s", s->pin_dir, strerror(errno));
	}
	if (err)
		return err;
	err = wait_flock(s->dir_fd);
	if (err) {
		lvip_err("cannot lock %s: %s (another lvip is running?)", s->pin_dir,
			 err == -ETIMEDOUT ? "timed out" : strerror(-err));
		return err;
	}
	return still_named(s->dir_fd, s->pin_dir) ? 0 : -EAGAIN;
}

/* Open (creating it when asked) and flock the pin dir. -ENOENT: absent. */
int state_lock(struct lvip_state *s, bool create)
{
	int err = -EAGAIN;

	for (int i = 0; i < 10 && err == -EAGAIN; i++) {
		err = lock_once(s, create);
		if (err)
			close_fd(&s->dir_fd);
	}
	if (err == -EAGAIN)
		lvip_err("cannot lock %s: it keeps being removed or replaced", s->pin_dir);
	if (err && s->dir_created) {
		state_remove_dir(s);
		s->dir_created = false;
	}
	return err;
}

/* ---- the one watcher of a pin dir ---- */

static int watch_self_fd = -1; /* this process is the watcher */

/* "pid N, file F" of the process holding the flock on the open dir fd,
 * from /proc/locks and the holder's command line. */
static void watcher_describe(int fd, char *who, size_t len)
{
	char line[256], path[64], args[4096], file[PATH_MAX] = LVIP_DEFAULT_CONFIG;
	unsigned long ino;
	struct stat st;
	int pid = 0, p;
	size_t n = 0;
	FILE *f;

	snprintf(who, len, "pid unknown");
	if (fstat(fd, &st) || !(f = fopen("/proc/locks", "r")))
		return;
	while (!pid && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*d: FLOCK %*s %*s %d %*x:%*x:%lu", &p, &ino) == 2 && ino == st.st_ino)
			pid = p;
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	if (pid && (f = fopen(path, "r"))) {
		n = fread(args, 1, sizeof(args) - 1, f);
		fclose(f);
	}
	args[n] = '\0';
	for (size_t i = 0; i < n; i += strlen(args + i) + 1) {
		const char *a = args + i, *next = a + strlen(a) + 1;

		if ((!strcmp(a, "-f") || !strcmp(a, "--file")) && next < args + n)
			snprintf(file, sizeof(file), "%s", next);
		else if (!strncmp(a, "--file=", 7))
			snprintf(file, sizeof(file), "%s", a + 7);
	}
	if (pid)
		snprintf(who, len, "pid %d, file %s", pid, file);
}

static int open_watch_lock(const struct lvip_state *s, bool create)
{
	if (create && mkdirat(s->dir_fd, LVIP_WATCH_LOCK, 0700) && errno != EEXIST)
		return -errno;
	return openat(s->dir_fd, LVIP_WATCH_LOCK, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Become the pin dir's one watcher (s locked): an exclusive flock on its
 * lvip_watch subdir, held until exit. -EBUSY, said, if another one is. */
int state_watch_claim(struct lvip_state *s)
{
	char who[PATH_MAX + 64];
	int fd = open_watch_lock(s, true);

	if (fd < 0) {
		lvip_err("watch: cannot create %s/%s: %s", s->pin_dir, LVIP_WATCH_LOCK, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		watcher_describe(fd, who, sizeof(who));
		lvip_err("watch: another lvip watch keeps %s (%s): one watcher per pin dir",
			 s->pin_dir, who);
		close(fd);
		return -EBUSY;
	}
	watch_self_fd = fd;
	return 0;
}

/* A command that changes state while a watcher keeps the pin dir would be
 * undone by it a moment later: refuse, naming the watcher and its file. */
int state_refuse_if_watched(const struct lvip_state *s, const char *cmd)
{
	char who[PATH_MAX + 64];
	int fd, busy;

	if (watch_self_fd >= 0 || s->dir_fd < 0)
		return 0;
	fd = open_watch_lock(s, false);
	if (fd < 0)
		return 0;
	busy = flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK;
	if (busy) {
		watcher_describe(fd, who, sizeof(who));
		lvip_err("%s: lvip watch (%s) keeps %s as its file says: change the file and reload "
			 "the watcher (systemctl reload lvip, or kill -HUP), or stop it first",
			 cmd, who, s->pin_dir);
	}
	close(fd);
	return busy ? -EBUSY : 0;
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

static __u32 obj_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static void prog_ids(int fd, __u32 *id, __u32 *insns, bool *compat)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	*id = info.id;
	*insns = info.verified_insns;
	*compat = !strcmp(info.name, "lvip_tc_compat");
}

static int write_meta(int meta_fd, __u32 max_vips)
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
		return s->dir_fd >= 0 ? write_meta(s->map_fd[M_META], LVIP_MAX_VIPS_DEFAULT) : 0;
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

/* Is prog_id one of this instance's programs: lvip's, and bound to the maps
 * pinned in this pin dir (every map it uses, the IPv4 VIP map among them)?
 * A program of another pin dir, or one left bound to maps that are no
 * longer pinned, is not. */
bool state_prog_ours(const struct lvip_state *s, __u32 prog_id)
{
	struct bpf_prog_info info = {};
	__u32 ids[16], len = sizeof(info);
	bool ours = false, vip4 = false;
	int fd;

	if (!prog_id || s->map_fd[M_VIP4] < 0)
		return false;
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return false;
	info.nr_map_ids = ARRAY_SIZE(ids);
	info.map_ids = (__u64)(unsigned long)ids;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) && !strncmp(info.name, "lvip_", 5) &&
	    info.nr_map_ids <= ARRAY_SIZE(ids)) {
		ours = true;
		for (__u32 i = 0; i < info.nr_map_ids; i++) {
			ours = ours && pinned_map_id(s, ids[i]);
			vip4 = vip4 || ids[i] == s->map_id[M_VIP4];
		}
	}
	close(fd);
	return ours && vip4;
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
		s->map_id[i] = obj_id(fd);
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
		prog_ids(fd, &s->xdp_id, &s->xdp_insns, &compat);
	}
	fd = obj_get(s, LVIP_PROG_TC);
	if (fd >= 0) {
		s->tc_fd = fd;
		prog_ids(fd, &s->tc_id, &s->tc_insns, &s->compat);
	}
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
	return chmod(path, 0600) ? -errno : 0;
}

/* Pin the maps that are not pinned yet; pinned[] records which. lvip_meta
 * is written before it is pinned: a pinned meta map always names its ABI. */
static int pin_missing_maps(struct lvip_state *s, struct bpf_map *maps[M_COUNT], __u32 max_vips,
			    bool pinned[M_COUNT])
{
	int err = 0;

	if (s->map_fd[M_META] < 0)
		err = write_meta(bpf_map__fd(maps[M_META]), max_vips);
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
 * pinned) are switched to them atomically first (bpf_link_update for XDP,
 * a replacing tc filter). */
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
int state_load(struct lvip_state *s, __u32 max_vips, bool *replaced)
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
	tc_fd = skel_tc_fd(skel, live);
	err = pin_missing_maps(s, maps, max_vips, pinned);
	if (!err) {
		err = state_open(s); /* the maps' ids, for the programs' check */
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

/* Remove the pin dir if this lvip created it (its marker is there). */
int state_remove_dir(struct lvip_state *s)
{
	char marker[PATH_MAX];

	if (!pin_path(s, LVIP_WATCH_LOCK, marker, sizeof(marker)))
		rmdir(marker);
	if (pin_path(s, LVIP_DIR_MARKER, marker, sizeof(marker)) || rmdir(marker)) {
		if (errno == ENOENT && !access(s->pin_dir, F_OK))
			lvip_info("pin dir %s left in place (lvip did not create it)", s->pin_dir);
		return 0;
	}
	if (rmdir(s->pin_dir) && errno != ENOENT) {
		lvip_warn("pin dir %s not removed: %s", s->pin_dir, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Remove every pin lvip owns, programs before maps (a kill in between
 * leaves maps that the next attach binds new programs to), then the pin
 * dir if lvip created it. */
int state_unpin_all(struct lvip_state *s)
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
	return state_remove_dir(s);
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
