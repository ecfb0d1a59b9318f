/* SPDX-License-Identifier: GPL-2.0 */
/* cmd.h - the commands. */
#ifndef LVIP_CMD_H
#define LVIP_CMD_H

#include "util.h"

struct cmd_ctx {
	const char *pin_dir;
	const char *prog;   /* "lvip" */
};

int cmd_attach(struct cmd_ctx *c, int argc, char **argv);
int cmd_detach(struct cmd_ctx *c, int argc, char **argv);
int cmd_vip(struct cmd_ctx *c, int argc, char **argv);
int cmd_stats(struct cmd_ctx *c, int argc, char **argv);
int cmd_status(struct cmd_ctx *c, int argc, char **argv);
int cmd_down(struct cmd_ctx *c, int argc, char **argv);
int cmd_apply(struct cmd_ctx *c, int argc, char **argv);
int cmd_watch(struct cmd_ctx *c, int argc, char **argv);
int cmd_check(struct cmd_ctx *c, int argc, char **argv);

/* Option parsing shared by the commands (getopt_long with our messages). */
struct option;
int opt_next(int argc, char **argv, const char *cmd, const char *shortopts,
	     const struct option *longopts);

#endif /* LVIP_CMD_H */
