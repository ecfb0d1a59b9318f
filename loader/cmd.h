/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cmd.h - the command table. Each command says what it needs (the pin dir
 * locked or only read, lvip loaded, refused while a watcher runs) and which
 * options it takes; main() parses the options and sets the state up once
 * (cmd.c), then the command's function does its own work only.
 */
#ifndef LVIP_CMD_H
#define LVIP_CMD_H

#include <signal.h>

#include "config.h"

/* What a command needs before it runs. */
enum cmd_needs {
	NEED_READ = 1 << 0,   /* open what is pinned, if the pin dir exists; no lock */
	NEED_LOCK = 1 << 1,   /* lock the pin dir (absent: the command's absent rule) */
	NEED_CREATE = 1 << 2, /* ... creating it */
	NEED_CHANGE = 1 << 3, /* changes state: refused while a watcher runs */
	NEED_LOADED = 1 << 4, /* lvip must be loaded (locked: a partial pin set is repaired) */
};

/* The values of an option given several times (OPT_LIST), in order. */
struct opt_list {
	const char **v;
	size_t n, cap;
};

/* Option values, one field per option of any command. */
struct cmd_opts {
	bool json, prometheus, dry_run, check_only, no_lo, keep_lo, all, exact, observe, xdp_share;
	const char *file, *mss;
	__u32 max_vips, watch, count, vip_series, rate, port;
	enum xdp_mode_req mode;
	struct opt_list peers;
};

struct cmd_def;

struct cmd_ctx {
	const struct cmd_def *cmd;
	const char *pin_dir;
	struct lvip_state s;  /* set up as the command needs */
	struct cmd_opts o;
	int argc;             /* the operands */
	char **argv;
	/* What the command's check made of them (freed by cmd.c): */
	__u32 *ifindexes;
	struct vip_addr *vips;
	int nvips;
	struct lvip_config cfg;
	bool have_cfg;
	int tun_type;          /* tunnel add: the type */
	struct tun_conf tun;   /* ... and its settings */
	bool tun_del[LVIP_TUN_MAX]; /* tunnel del: the types */
};

enum opt_type { OPT_FLAG, OPT_STR, OPT_U32, OPT_MODE, OPT_LIST };

struct opt_def {
	const char *name;
	char short_name;      /* 0: none */
	enum opt_type type;
	const char *arg;      /* the argument as the help shows it */
	size_t offset;        /* of the value in struct cmd_opts */
	__u32 min, max;       /* OPT_U32 */
	__u32 def;            /* OPT_U32: the value when the option is not given */
	const char *expect;   /* what a valid argument is, for the error */
	const char *help;
	unsigned drop_needs;  /* needs this option removes (--dry-run) */
	unsigned add_needs;   /* ... and adds */
};

/* cmd_def.absent of the commands that need lvip loaded, for a missing pin dir. */
#define CMD_NOT_LOADED "lvip is not loaded (no pin dir): run 'lvip attach IFACE...' first"

struct cmd_def {
	const char *name;     /* "attach", "vip add" */
	const char *operands; /* for the usage line, NULL: none */
	const char *summary;  /* the help text (several lines) */
	const struct opt_def *const *opts;
	unsigned needs;
	const char *absent;   /* NEED_LOCK without NEED_CREATE: the pin dir is absent */
	int absent_exit;
	int (*check)(struct cmd_ctx *c); /* the operands, before any state: 0 or an exit status */
	int (*run)(struct cmd_ctx *c);   /* 0 or an exit status */
};

int cmd_setup(struct cmd_ctx *c, unsigned needs); /* 0 or an exit status; state_close(&c->s) ends it */
/* Every interface lvip knows (iface_list), inspected: *out (free it), *n.
 * 0, or -errno with *n 0. */
int inspect_attached(struct lvip_state *s, struct iface_info **out, size_t *n);
/* "COMMAND: message" as an error (lvip_err); returns EXIT_USAGE. */
int cmd_usage(const struct cmd_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cmd_no_operands(struct cmd_ctx *c); /* a check: no operand allowed */
int cmd_main(int argc, char **argv);

/* Set by cmd_on_stop, the handler of the signals that end the commands
 * that run until stopped (stats --watch, watch, monitor). */
extern volatile sig_atomic_t cmd_stop;
void cmd_on_stop(int sig);

/* The commands' definitions (cmd_*.c). */
extern const struct cmd_def cmd_attach, cmd_detach, cmd_down;
extern const struct cmd_def cmd_vip_add, cmd_vip_del, cmd_vip_list, cmd_vip_release, cmd_vip_hide;
extern const struct cmd_def cmd_stats, cmd_status, cmd_check;
extern const struct cmd_def cmd_apply, cmd_watch, cmd_save, cmd_monitor;
extern const struct cmd_def cmd_tunnel_add, cmd_tunnel_del, cmd_tunnel_list;

/* Options shared by several commands. */
extern const struct opt_def opt_json, opt_file, opt_exact;

#endif /* LVIP_CMD_H */
