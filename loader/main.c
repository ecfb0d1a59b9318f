// SPDX-License-Identifier: GPL-2.0
/* main.c - lvip: hide loopback VIPs from ARP and NDP with XDP and TC. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <bpf/libbpf.h>

#include "cmd.h"
#include "pindir.h"

static const char usage[] =
	"Usage: lvip [--pin-dir DIR] COMMAND [ARGS...]\n"
	"\n"
	"Keep loopback VIPs (LVS-DR/TUN real servers) invisible to ARP and NDP on\n"
	"the real interfaces, per VIP, while packets to them are accepted.\n"
	"\n"
	"Commands:\n"
	"  attach IFACE... [--mode auto|native|generic] [--max-vips N]\n"
	"  detach IFACE... | --all\n"
	"  vip add ADDR... [--no-lo]\n"
	"  vip del ADDR... [--keep-lo]\n"
	"  vip list [--json]\n"
	"  stats [--json|--prometheus] [--watch SECONDS [--count N]]\n"
	"  status [--json]\n"
	"  check [--json]\n"
	"  apply [-f FILE] [--dry-run] [--json]\n"
	"  watch [-f FILE]\n"
	"  down\n"
	"\n"
	"Options:\n"
	"  --pin-dir DIR  where lvip pins its maps and links (default\n"
	"                 " LVIP_DEFAULT_PIN_DIR ", or $LVIP_PIN_DIR); must be on bpffs\n"
	"  -h, --help     this help; 'lvip COMMAND --help' for a command\n"
	"  -V, --version  print the version\n"
	"\n"
	"Exit status: 0 success, 1 run-time failure (nothing changed), 2 invalid\n"
	"usage or input (nothing touched).\n";

static const struct {
	const char *name;
	int (*fn)(struct cmd_ctx *c, int argc, char **argv);
} commands[] = {
	{ "attach", cmd_attach },
	{ "detach", cmd_detach },
	{ "vip", cmd_vip },
	{ "stats", cmd_stats },
	{ "status", cmd_status },
	{ "check", cmd_check },
	{ "apply", cmd_apply },
	{ "watch", cmd_watch },
	{ "down", cmd_down },
};

/* getopt_long with opterr off and shortopts starting with ':': one line
 * naming the bad option, then the caller exits 2. Returns the option, -1 at
 * the end, '?' on error. */
int opt_next(int argc, char **argv, const char *cmd, const char *shortopts,
	     const struct option *longopts)
{
	int o;

	opterr = 0;
	o = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (o == ':') {
		lvip_err("%s: option '%s' needs an argument", cmd, argv[optind - 1]);
		return '?';
	}
	if (o == '?') {
		lvip_err("%s: unknown option '%s' (see 'lvip %s --help')", cmd,
			 argv[optind - 1], cmd);
		return '?';
	}
	return o;
}
static int silent_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && getenv("LVIP_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	if (level == LIBBPF_DEBUG && getenv("LVIP_DEBUG"))
		return vfprintf(stderr, fmt, ap);
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

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

/* Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK. */
static void raise_memlock(void)
{
	struct rlimit r = { RLIM_INFINITY, RLIM_INFINITY };

	setrlimit(RLIMIT_MEMLOCK, &r);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_ctx c = { .prog = "lvip" };
	const char *env = getenv("LVIP_PIN_DIR");
	int o;

	c.pin_dir = env && *env ? env : LVIP_DEFAULT_PIN_DIR;
	while ((o = opt_next(argc, argv, "lvip", "+:hV", opts)) != -1) {
		switch (o) {
		case 'p': c.pin_dir = optarg; break;
		case 'h': return fputs(usage, stdout), EXIT_OK;
		case 'V': return printf("lvip %s (ABI %d)\n", LVIP_VERSION, LVIP_ABI_VERSION), EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (!*c.pin_dir) {
		lvip_err("--pin-dir must not be empty");
		return EXIT_USAGE;
	}
	if (optind >= argc) {
		lvip_err("no command given (see 'lvip --help')");
		return EXIT_USAGE;
	}
	if (!wants_help(argc - optind, argv + optind) && !privileged()) {
		lvip_err("%s needs root (CAP_NET_ADMIN and CAP_BPF or CAP_SYS_ADMIN)", argv[optind]);
		return EXIT_FAIL;
	}
	libbpf_set_print(silent_libbpf);
	raise_memlock();
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[optind], commands[i].name))
			return commands[i].fn(&c, argc - optind, argv + optind);
	lvip_err("unknown command '%s' (see 'lvip --help')", argv[optind]);
	return EXIT_USAGE;
}
