/* SPDX-License-Identifier: GPL-2.0 */
/* config.h - the config file of apply and watch. */
#ifndef LVIP_CONFIG_H
#define LVIP_CONFIG_H

#include "loader.h"

#define LVIP_DEFAULT_CONFIG "/etc/lvip/lvip.conf"

struct cfg_iface {
	char pattern[16];   /* a name, or an fnmatch(3) pattern */
	bool glob;
	enum xdp_mode_req mode;
	bool observe;       /* observe mode: count, change nothing */
	const char *file;   /* where it was read: lvip_config.files */
	int line;
};

struct cfg_vip {
	struct vip_addr addr;
	const char *file;
	size_t file_no;     /* its index in lvip_config.files */
	int line;
};

struct lvip_config {
	struct cfg_iface *ifs;
	size_t nifs, ifs_cap;
	struct cfg_iface *ignores; /* interfaces lvip neither attaches nor checks */
	size_t nignores, ignores_cap;
	struct cfg_vip *vips;
	size_t nvips, vips_cap;
	struct tun_set tuns;                  /* the tunnel lines, by type */
	const char *tun_file[LVIP_TUN_MAX];   /* where each was read (NULL: none) */
	int tun_line[LVIP_TUN_MAX];
	char **files; /* FILE, then its drop-ins, in the order read */
	size_t nfiles, files_cap;
};

/* FILE, then the files DIR/conf.d/NAME.conf (DIR: FILE's directory) in name order, merged
 * into one config; every error names FILE:LINE, is reported and is -EINVAL
 * (or -ENOMEM). */
int config_load(const char *file, struct lvip_config *c);
void config_free(struct lvip_config *c);
bool config_ignores(const struct lvip_config *c, const char *ifname);

#endif /* LVIP_CONFIG_H */
