// SPDX-License-Identifier: GPL-2.0
/*
 * pindir.c - the pin dir: where it is, who may own it, its lock, the one
 * watcher's lock, and removing it (only when lvip made it).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>

#include "config.h"
#include "loader.h"

int pin_path(const struct lvip_state *s, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", s->pin_dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The per-interface pins are named PREFIX<ifindex>. */
static int ifindex_pin_path(const struct lvip_state *s, const char *prefix, __u32 ifindex,
			    char *path, size_t len)
{
	char name[32];

	snprintf(name, sizeof(name), "%s%u", prefix, ifindex);
	return pin_path(s, name, path, len);
}

/* The object pinned as PREFIX<ifindex>: fd, or -errno. */
int ifindex_pin_get(const struct lvip_state *s, const char *prefix, __u32 ifindex)
{
	char path[PATH_MAX];
	int fd;

	if (ifindex_pin_path(s, prefix, ifindex, path, sizeof(path)))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/* Pin fd as path, mode 0600, in one step for readers: pinned as PATH_new,
 * then renamed over whatever path held (a pin left by a deleted interface,
 * or the object being replaced), so path never goes missing. */
int pin_replace(const char *path, int fd)
{
	char tmp[PATH_MAX];
	int err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s_new", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp))
		return -errno;
	if (chmod(tmp, 0600) || rename(tmp, path)) {
		err = -errno;
		unlink(tmp);
	}
	return err;
}

/* Pin fd as PREFIX<ifindex>, mode 0600. Not through a temporary name: a
 * kill before the rename would leave a new link attached under a name lvip
 * does not know, where a kill before this pin lets the link die with the
 * process. */
int ifindex_pin(const struct lvip_state *s, const char *prefix, __u32 ifindex, int fd)
{
	char path[PATH_MAX];
	int err = ifindex_pin_path(s, prefix, ifindex, path, sizeof(path));

	if (err)
		return err;
	unlink(path); /* left by an interface that was deleted */
	if (bpf_obj_pin(fd, path))
		return -errno;
	return chmod(path, 0600) ? -errno : 0;
}

/* Pin fd as PREFIX<ifindex> in place of what is pinned there (pin_replace). */
int ifindex_repin(const struct lvip_state *s, const char *prefix, __u32 ifindex, int fd)
{
	char path[PATH_MAX];
	int err = ifindex_pin_path(s, prefix, ifindex, path, sizeof(path));

	return err ? err : pin_replace(path, fd);
}

void ifindex_unpin(const struct lvip_state *s, const char *prefix, __u32 ifindex)
{
	char path[PATH_MAX];

	if (!ifindex_pin_path(s, prefix, ifindex, path, sizeof(path)))
		unlink(path);
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
	pindir_remove_leftover(s);
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
int pindir_lock(struct lvip_state *s, bool create)
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
		pindir_remove(s);
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
int pindir_watch_claim(struct lvip_state *s)
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
int pindir_refuse_if_watched(const struct lvip_state *s, const char *cmd)
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

bool pindir_exists(const struct lvip_state *s)
{
	return access(s->pin_dir, F_OK) == 0;
}

bool pindir_on_bpffs(const struct lvip_state *s)
{
	return check_bpffs(s->pin_dir) == 0;
}

/* Where pindir_remove moves the pin dir before emptying it: beside it,
 * under a name of lvip's own (bpffs allows no '.' in names). */
static int removing_path(const struct lvip_state *s, char *buf, size_t len)
{
	size_t n = strlen(s->pin_dir);

	while (n > 1 && s->pin_dir[n - 1] == '/')
		n--;
	if ((size_t)snprintf(buf, len, "%.*s%s", (int)n, s->pin_dir, LVIP_DIR_REMOVING) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Empty and remove dir, a pin dir lvip created: its watch lock, its
 * marker, itself. Anything else left inside keeps it (rmdir fails). */
static int remove_own_dir(const char *dir)
{
	char sub[PATH_MAX];

	snprintf(sub, sizeof(sub), "%s/%s", dir, LVIP_WATCH_LOCK);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/%s", dir, LVIP_DIR_MARKER);
	rmdir(sub);
	stop_point("pindir-unmarked");
	return rmdir(dir) && errno != ENOENT ? -errno : 0;
}

/* What a down killed after moving the pin dir aside left behind. */
void pindir_remove_leftover(const struct lvip_state *s)
{
	char gone[PATH_MAX];

	if (!removing_path(s, gone, sizeof(gone)))
		remove_own_dir(gone);
}

/* Remove the pin dir if this lvip created it (its marker is there). It is
 * first moved aside, marker and all, so that a kill while emptying it never
 * leaves, at the pin dir's path, a dir lvip made but no longer recognises. */
int pindir_remove(struct lvip_state *s)
{
	char marker[PATH_MAX], gone[PATH_MAX];
	const char *dir = s->pin_dir;
	int err;

	pindir_remove_leftover(s);
	if (!pin_path(s, LVIP_WATCH_LOCK, marker, sizeof(marker)))
		rmdir(marker);
	if (pin_path(s, LVIP_DIR_MARKER, marker, sizeof(marker)) || access(marker, F_OK)) {
		if (!access(s->pin_dir, F_OK))
			lvip_info("pin dir %s left in place (lvip did not create it)", s->pin_dir);
		return 0;
	}
	if (!removing_path(s, gone, sizeof(gone)) && !rename(s->pin_dir, gone)) {
		dir = gone;
		stop_point("pindir-renamed");
	}
	err = remove_own_dir(dir);
	if (err)
		lvip_warn("pin dir %s not removed: %s", s->pin_dir, strerror(-err));
	return err;
}
