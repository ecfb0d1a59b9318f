// SPDX-License-Identifier: GPL-2.0
/*
 * cmd.c - the command table, as in xdp-tools' params.c: the options and
 * needs of each command (cmd_*.c) make its usage and help, are parsed here,
 * and the state is set up here once, before the command runs.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "loader.h"

#define MAX_OPTS 16

static const struct cmd_def *const commands[] = {
	&cmd_attach, &cmd_detach, &cmd_vip_add, &cmd_vip_del, &cmd_vip_list, &cmd_vip_release,
	&cmd_vip_hide, &cmd_tunnel_add, &cmd_tunnel_del, &cmd_tunnel_list, &cmd_stats, &cmd_status,
	&cmd_check, &cmd_apply, &cmd_watch, &cmd_save, &cmd_monitor, &cmd_down,
};

/* The commands of two words: "vip add", "tunnel list". */
static const struct cmd_group {
	const char *name;
	const char *expect; /* for the error */
	const struct cmd_def *const cmds[6];
} groups[] = {
	{ "vip", "'add', 'del', 'list', 'release' or 'hide'",
	  { &cmd_vip_add, &cmd_vip_del, &cmd_vip_list, &cmd_vip_release, &cmd_vip_hide } },
	{ "tunnel", "'add', 'del' or 'list'", { &cmd_tunnel_add, &cmd_tunnel_del, &cmd_tunnel_list } },
};

static const struct opt_def opt_help = {
	.name = "help", .short_name = 'h', .type = OPT_FLAG, .help = "this help",
};

/* ---- usage and help, from the tables ---- */

static void cmd_synopsis(const struct cmd_def *c)
{
	printf("%s%s%s", c->name, c->operands ? " " : "", c->operands ? c->operands : "");
	for (const struct opt_def *const *o = c->opts; o && *o; o++)
		printf(" [--%s%s%s]%s", (*o)->name, (*o)->arg ? " " : "", (*o)->arg ? (*o)->arg : "",
		       (*o)->type == OPT_LIST ? "..." : "");
}

static void opt_help_line(const struct opt_def *o)
{
	char left[64];

	snprintf(left, sizeof(left), "%s%c%s--%s%s%s", o->short_name ? "-" : "",
		 o->short_name ? o->short_name : ' ', o->short_name ? ", " : " ", o->name,
		 o->arg ? " " : "", o->arg ? o->arg : "");
	printf("  %-24s %s\n", o->short_name ? left : left + 2, o->help);
}

static void cmd_help(const struct cmd_def *c)
{
	printf("Usage: lvip ");
	cmd_synopsis(c);
	printf("\n\n%s\nOptions:\n", c->summary);
	for (const struct opt_def *const *o = c->opts; o && *o; o++)
		opt_help_line(*o);
	opt_help_line(&opt_help);
}

static void main_help(void)
{
	printf("Usage: lvip [--pin-dir DIR] COMMAND [ARGS...]\n\n"
	       "Keep loopback VIPs (LVS-DR/TUN real servers) invisible to ARP and NDP on\n"
	       "the real interfaces, per VIP, while packets to them are accepted.\n\n"
	       "Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		printf("  ");
		cmd_synopsis(commands[i]);
		printf("\n");
	}
	printf("\nOptions:\n"
	       "  --pin-dir DIR  where lvip pins its maps and links (default\n"
	       "                 " LVIP_DEFAULT_PIN_DIR ", or $LVIP_PIN_DIR); must be on bpffs\n"
	       "  -h, --help     this help; 'lvip COMMAND --help' for a command\n"
	       "  -V, --version  print the version\n\n"
	       "Exit status: 0 success, 1 run-time failure (nothing changed), 2 invalid\n"
	       "usage or input (nothing touched).\n");
}

/* ---- options ---- */

static int opt_value(const struct cmd_def *c, const struct opt_def *o, const char *arg,
		     struct cmd_opts *v)
{
	void *p = (char *)v + o->offset;

	switch (o->type) {
	case OPT_FLAG: *(bool *)p = true; return 0;
	case OPT_STR: *(const char **)p = arg; return 0;
	case OPT_U32: if (parse_u32(arg, o->min, o->max, p)) return 0; break;
	case OPT_MODE: if (!parse_mode(arg, p)) return 0; break;
	case OPT_LIST:
		if (!vec_push(&((struct opt_list *)p)->v, &((struct opt_list *)p)->n,
			      &((struct opt_list *)p)->cap, sizeof(arg), &arg))
			return 0;
		lvip_err("%s: out of memory", c->name);
		return EXIT_FAIL;
	}
	lvip_err("%s: --%s %s, not '%s'", c->name, o->name, o->expect, arg);
	return EXIT_USAGE;
}

/* getopt_long over the command's options; *help when --help was given. */
static int parse_opts(const struct cmd_def *c, int argc, char **argv, struct cmd_opts *v,
		      unsigned *needs, bool *help)
{
	const struct opt_def *defs[MAX_OPTS + 1] = { &opt_help };
	struct option lo[MAX_OPTS + 2] = { { "help", no_argument, NULL, 0 } };
	char shortopts[2 * MAX_OPTS + 2] = ":h";
	size_t n = 1;
	int o, idx;

	for (const struct opt_def *const *d = c->opts; d && *d && n < MAX_OPTS; d++, n++) {
		defs[n] = *d;
		lo[n] = (struct option){ (*d)->name, (*d)->type == OPT_FLAG ? no_argument :
					 required_argument, NULL, (int)n };
		if ((*d)->short_name)
			snprintf(shortopts + strlen(shortopts), 3, "%c%s", (*d)->short_name,
				 (*d)->type == OPT_FLAG ? "" : ":");
	}
	for (size_t i = 1; i < n; i++)
		if (defs[i]->type == OPT_U32)
			*(__u32 *)((char *)v + defs[i]->offset) = defs[i]->def;
	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, shortopts, lo, &idx)) != -1) {
		if (o == ':' || o == '?') {
			lvip_err(o == ':' ? "%s: option '%s' needs an argument" :
				 "%s: unknown option '%s' (see 'lvip %s --help')", c->name,
				 argv[optind - 1], c->name);
			return EXIT_USAGE;
		}
		for (size_t i = 0; o > (int)MAX_OPTS && i < n; i++) /* a short option */
			if (defs[i]->short_name == o)
				o = (int)i;
		if (o == 0 || (size_t)o >= n)
			*help = true;
		else if (opt_value(c, defs[o], optarg, v))
			return EXIT_USAGE;
		else
			*needs = (*needs & ~defs[o]->drop_needs) | defs[o]->add_needs;
	}
	return 0;
}

/* ---- setting the state up ---- */

static int setup_locked(struct cmd_ctx *c, unsigned needs)
{
	bool replaced;
	int err = pindir_lock(&c->s, needs & NEED_CREATE);

	if (err == -ENOENT && !(needs & NEED_CREATE)) {
		if (c->cmd->absent_exit)
			return lvip_err("%s: %s", c->cmd->name, c->cmd->absent), c->cmd->absent_exit;
		return lvip_info("%s", c->cmd->absent), -ENOENT;
	}
	if (!err && (needs & NEED_CHANGE))
		err = pindir_refuse_if_watched(&c->s, c->cmd->name);
	if (!err)
		err = state_open(&c->s);
	if (!err && (needs & NEED_LOADED) && state_partial(&c->s))
		err = load_pins(&c->s, LVIP_MAX_VIPS_DEFAULT, &replaced); /* repair, as attach would */
	return err ? EXIT_FAIL : 0;
}

/* Lock or open the pin dir, as needs says. 0, -ENOENT (absent, nothing to
 * do: exit 0) or an exit status. */
int cmd_setup(struct cmd_ctx *c, unsigned needs)
{
	int err = 0;

	state_init(&c->s, c->pin_dir);
	if (needs & NEED_LOCK)
		err = setup_locked(c, needs);
	else if ((needs & NEED_READ) && pindir_exists(&c->s))
		err = state_open(&c->s) ? EXIT_FAIL : 0;
	if (!err && (needs & NEED_LOADED) && !state_loaded(&c->s)) {
		lvip_err("%s: lvip is not loaded in %s: run 'lvip attach IFACE...' first", c->cmd->name,
			 c->pin_dir);
		err = EXIT_FAIL;
	}
	return err;
}

int inspect_attached(struct lvip_state *s, struct iface_info **out, size_t *n)
{
	__u32 *idx = NULL;
	int err = iface_list(s, &idx, n);

	*out = NULL;
	if (!err && *n && !(*out = calloc(*n, sizeof(**out))))
		err = -ENOMEM;
	for (size_t i = 0; !err && i < *n; i++)
		iface_inspect(s, idx[i], &(*out)[i]);
	free(idx);
	if (err)
		*n = 0;
	return err;
}

int cmd_usage(const struct cmd_ctx *c, const char *fmt, ...)
{
	char msg[2048]; /* lvip_err's own bound: a long line is cut where it was */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lvip_err("%s: %s", c->cmd->name, msg);
	return EXIT_USAGE;
}

int cmd_no_operands(struct cmd_ctx *c)
{
	return c->argc ? cmd_usage(c, "unexpected argument '%s'", c->argv[0]) : 0;
}

volatile sig_atomic_t cmd_stop;

void cmd_on_stop(int sig)
{
	(void)sig;
	cmd_stop = 1;
}

/* ---- main ---- */

static int silent_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_INFO && getenv("LVIP_DEBUG"))
		return fputs(log_prefix(LOG_PRI_DEBUG), stderr), vfprintf(stderr, fmt, ap);
	return 0;
}

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1U << (cap % 32));
}

/* lvip needs CAP_NET_ADMIN (XDP, tc, addresses) and CAP_BPF or, before
 * 5.8, CAP_SYS_ADMIN. Say so up front instead of failing half-way. */
static bool privileged(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};

	if (syscall(SYS_capget, &h, d))
		return geteuid() == 0;
	return has_cap(d, CAP_NET_ADMIN) && (has_cap(d, 39 /* CAP_BPF */) || has_cap(d, CAP_SYS_ADMIN));
}

static const struct cmd_group *group_of(const char *word)
{
	for (size_t i = 0; i < ARRAY_SIZE(groups); i++)
		if (!strcmp(groups[i].name, word))
			return &groups[i];
	return NULL;
}

static void group_help(const struct cmd_group *g)
{
	printf("Usage: lvip %s", g->name);
	for (size_t i = 0; g->cmds[i]; i++)
		printf("%s%s", i ? "|" : " ", g->cmds[i]->name + strlen(g->name) + 1);
	printf(" ...\n");
	for (size_t i = 0; g->cmds[i]; i++) {
		printf("\n");
		cmd_help(g->cmds[i]);
	}
}

/* The command named at argv[0] (two words for a group); *words: how many. */
static const struct cmd_def *cmd_find(int argc, char **argv, int *words)
{
	char name[32];

	*words = argc > 1 && group_of(argv[0]) ? 2 : 1;
	snprintf(name, sizeof(name), "%s%s%s", argv[0], *words == 2 ? " " : "",
		 *words == 2 ? argv[1] : "");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static int unknown_command(int argc, char **argv)
{
	const struct cmd_group *g = group_of(argv[0]);

	if (g) {
		if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
			return group_help(g), EXIT_OK;
		lvip_err("%s: expected %s%s%s (see 'lvip %s --help')", g->name, g->expect,
			 argc > 1 ? ", not " : "", argc > 1 ? argv[1] : "", g->name);
	} else {
		lvip_err("unknown command '%s' (see 'lvip --help')", argv[0]);
	}
	return EXIT_USAGE;
}

static void opts_free(const struct cmd_def *c, struct cmd_opts *v)
{
	for (const struct opt_def *const *o = c->opts; o && *o; o++)
		if ((*o)->type == OPT_LIST)
			free(((struct opt_list *)((char *)v + (*o)->offset))->v);
}

static int run_command(const char *pin_dir, int argc, char **argv)
{
	struct cmd_ctx c = { .pin_dir = pin_dir };
	unsigned needs;
	bool help = false;
	int words, ret;

	c.cmd = cmd_find(argc, argv, &words);
	if (!c.cmd)
		return unknown_command(argc, argv);
	needs = c.cmd->needs;
	ret = parse_opts(c.cmd, argc - words + 1, argv + words - 1, &c.o, &needs, &help);
	if (!ret && !help && !privileged()) {
		lvip_err("%s needs root (CAP_NET_ADMIN and CAP_BPF or CAP_SYS_ADMIN)", c.cmd->name);
		ret = EXIT_FAIL;
	}
	if (ret || help) {
		opts_free(c.cmd, &c.o);
		return ret ? ret : (cmd_help(c.cmd), EXIT_OK);
	}
	c.argc = argc - words + 1 - optind;
	c.argv = argv + words - 1 + optind;
	libbpf_set_print(silent_libbpf);
	setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){ RLIM_INFINITY, RLIM_INFINITY }); /* < 5.11 */
	ret = c.cmd->check ? c.cmd->check(&c) : 0;
	if (!ret)
		ret = cmd_setup(&c, needs);
	if (!ret)
		ret = c.cmd->run(&c);
	state_close(&c.s);
	free(c.ifindexes);
	free(c.vips);
	free(c.tun.peers);
	opts_free(c.cmd, &c.o);
	if (c.have_cfg)
		config_free(&c.cfg);
	return ret == -ENOENT ? EXIT_OK : ret;
}

int cmd_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv("LVIP_PIN_DIR"), *pin_dir;
	int o;

	pin_dir = env && *env ? env : LVIP_DEFAULT_PIN_DIR;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "+:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'p': pin_dir = optarg; break;
		case 'h': return main_help(), EXIT_OK;
		case 'V': return printf("lvip %s (ABI %d)\n", LVIP_VERSION, LVIP_ABI_VERSION), EXIT_OK;
		case ':': return lvip_err("option '%s' needs an argument", argv[optind - 1]), EXIT_USAGE;
		default:
			lvip_err("unknown option '%s' (see 'lvip --help')", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (!*pin_dir)
		return lvip_err("--pin-dir must not be empty"), EXIT_USAGE;
	if (optind >= argc)
		return lvip_err("no command given (see 'lvip --help')"), EXIT_USAGE;
	return run_command(pin_dir, argc - optind, argv + optind);
}
