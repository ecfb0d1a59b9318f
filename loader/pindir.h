/* SPDX-License-Identifier: GPL-2.0 */
/* pindir.h - the pin dir: path, ownership, lock, the watcher's lock. */
#ifndef LVIP_PINDIR_H
#define LVIP_PINDIR_H

#include "state.h"

#define LVIP_DEFAULT_PIN_DIR "/sys/fs/bpf/lvip"
#define LVIP_DIR_MARKER      "lvip_made_dir" /* a subdir: lvip created the pin dir */
#define LVIP_WATCH_LOCK      "lvip_watch"    /* a subdir, flocked by the one watcher */
#define LVIP_LOCK_TIMEOUT_MS 10000

int pin_path(const struct lvip_state *s, const char *name, char *buf, size_t len);
int pindir_lock(struct lvip_state *s, bool create); /* -ENOENT: absent */
bool pindir_exists(const struct lvip_state *s);
bool pindir_on_bpffs(const struct lvip_state *s);
int pindir_remove(struct lvip_state *s);
int pindir_watch_claim(struct lvip_state *s);
int pindir_refuse_if_watched(const struct lvip_state *s, const char *cmd);

#endif /* LVIP_PINDIR_H */
