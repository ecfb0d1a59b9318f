// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_apply.c - lvip apply and lvip watch: make the interfaces and VIPs
 * exactly what a config file says (plan.c), once or for as long as watch
 * runs.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <libmnl/libmnl.h>

#include "loader.h"
#include "output.h"
#include "plan.h"

/* ---- reading the file ---- */

/* The first vip line that vip_guard refuses: "FILE:LINE: ...", -EINVAL;
 * -EIO if the addresses cannot be read. */
static int config_guard(const struct lvip_config *c, const char *file)
{
	char addr[INET6_ADDRSTRLEN], why[256];
	struct addr_list own = {};
	int err = vip_guard_addrs(&own);

	if (err) {
		lvip_err("%s: cannot read the interface addresses: %s", file, strerror(-err));
		return -EIO;
	}
	for (size_t i = 0; !err && i < c->nvips; i++) {
		const struct cfg_vip *v = &c->vips[i];

		if (!vip_guard(&v->addr, &own, why, sizeof(why)))
			continue;
		lvip_err("%s:%d: invalid VIP '%s': %s", v->file, v->line,
			 vip_format(&v->addr, addr, sizeof(addr)), why);
		err = -EINVAL;
	}
	addr_list_free(&own);
	return err;
}

/* The first peer of a tunnel line that is one of this host's addresses:
 * "FILE:LINE: ...", -EINVAL; -EIO if the addresses cannot be read. */
static int config_guard_peers(const struct lvip_config *c)
{
	char addr[INET6_ADDRSTRLEN];
	struct addr_list all = {};
	const char *why;
	int err = tun_any_enabled(&c->tuns) ? nl_addr_dump(AF_UNSPEC, 0, &all) : 0;

	if (err) {
		lvip_err("cannot read the host's addresses: %s", strerror(-err));
		return -EIO;
	}
	for (int t = 0; !err && t < LVIP_TUN_MAX; t++)
		for (size_t i = 0; !err && i < c->tuns.t[t].npeers; i++) {
			if (!(why = tun_peer_guard(&c->tuns.t[t].peers[i], &all)))
				continue;
			lvip_err("%s:%d: invalid peer '%s': %s", c->tun_file[t], c->tun_line[t],
				 vip_format(&c->tuns.t[t].peers[i], addr, sizeof(addr)), why);
			err = -EINVAL;
		}
	addr_list_free(&all);
	return err;
}

/* config_load, then the guards on its VIPs. -EINVAL: an invalid file
 * (exit 2), -EIO: the addresses could not be read (exit 1); reported. */
static int load_config(const char *file, struct lvip_config *c)
{
	int err;

	if (config_load(file, c))
		return -EINVAL;
	err = config_guard(c, file);
	if (!err)
		err = config_guard_peers(c);
	if (err)
		config_free(c);
	return err;
}

/* ---- watch ---- */

static volatile sig_atomic_t watch_reload;

static void on_hup(int sig)
{
	(void)sig;
	watch_reload = 1;
}

/* Tell systemd (Type=notify) that the first pass is done: every VIP of the
 * file is protected and every interface that exists is attached. */
static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char msg[] = "READY=1";
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, msg, sizeof(msg) - 1, 0, (struct sockaddr *)&sa,
	       offsetof(struct sockaddr_un, sun_path) + strlen(path));
	close(fd);
}

/* Wait up to 1 s for rtnetlink news; drain it. True if anything came. */
static bool wait_events(struct mnl_socket *mon)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(mon), .events = POLLIN };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	bool any = false;

	if (poll(&pfd, 1, 1000) <= 0)
		return false;
	for (int i = 0; i < 1024; i++) { /* bounded drain */
		struct pollfd again = pfd;

		if (mnl_socket_recvfrom(mon, buf, sizeof(buf)) <= 0)
			break;
		any = true;
		if (poll(&again, 1, 0) <= 0)
			break;
	}
	return any;
}

static void watch_reload_config(const char *file, struct lvip_config *cfg)
{
	struct lvip_config fresh;

	if (load_config(file, &fresh)) {
		lvip_warn("watch: %s not reloaded (see above); keeping the previous config", file);
		return;
	}
	config_free(cfg);
	*cfg = fresh;
	lvip_log("watch: reloaded %s", file);
}

/* Become the pin dir's one watcher (creating the pin dir if need be). */
static int watch_claim(struct cmd_ctx *c)
{
	int err = cmd_setup(c, NEED_LOCK | NEED_CREATE);

	if (!err)
		err = pindir_watch_claim(&c->s) ? EXIT_FAIL : 0;
	state_close(&c->s);
	return err;
}

/* The VIPs of the file just applied, sorted: one missing later was removed
 * behind the watcher's back (restored), one not among them is new (added). */
static int known_update(const struct lvip_config *cfg, struct vip_addr **known, size_t *n)
{
	struct vip_addr *k = realloc(*known, (cfg->nvips ? cfg->nvips : 1) * sizeof(*k));

	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->nvips; i++)
		k[i] = cfg->vips[i].addr;
	if (cfg->nvips)
		qsort(k, cfg->nvips, sizeof(*k), vip_cmp);
	*known = k;
	*n = cfg->nvips;
	return 0;
}

static int config_check(struct cmd_ctx *c)
{
	int err;

	if (!c->o.file)
		c->o.file = LVIP_DEFAULT_CONFIG;
	err = load_config(c->o.file, &c->cfg);
	if (err)
		return err == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
	c->have_cfg = true;
	if (c->argc)
		return cmd_usage(c, "unexpected argument '%s' (the file is given with -f)", c->argv[0]);
	return 0;
}

static void apply_show(const struct plan *p, bool dry_run)
{
	out_open(NULL);
	out_bool("dry_run", NULL, dry_run);
	if (!plan_size(p))
		out_text("no changes\n");
	plan_show(p, dry_run ? "would " : "", NULL, 0);
	out_bool("applied", NULL, !dry_run && plan_size(p));
	if (plan_size(p))
		out_text("%s %zu change(s)\n", dry_run ? "dry run: nothing changed," : "applied",
			 plan_size(p));
	out_close();
}

static int apply_run(struct cmd_ctx *c)
{
	struct plan p = {};
	int err;

	if (c->o.check_only)
		return 0; /* config_check read the files and ran the guards */
	err = reconcile(c, &c->cfg, true, c->o.dry_run, true, &p);

	if (p.upgraded)
		lvip_info("%s", load_note(p.stale));
	if (!err) {
		out_start(c->o.json);
		apply_show(&p, c->o.dry_run);
		out_end(false);
	}
	if (!err && p.nrefused)
		lvip_err("apply: %zu interface(s) refused (see above): the others are as %s says",
			 p.nrefused, c->o.file);
	err = err ? err : p.nrefused ? -EBUSY : 0;
	plan_free(&p);
	return err == -ENODEV ? EXIT_USAGE : err ? EXIT_FAIL : 0;
}

/* One pass of watch: lock, plan, apply, log what was done. */
static int watch_pass(struct cmd_ctx *c, bool first, const struct vip_addr *known, size_t nknown)
{
	struct plan p = {};
	int err = cmd_setup(c, NEED_LOCK | NEED_CREATE);

	if (!err)
		err = reconcile(c, &c->cfg, false, false, first, &p) ? EXIT_FAIL : 0;
	state_close(&c->s);
	if (p.upgraded)
		lvip_log("watch: %s", load_note(p.stale));
	if (!err) {
		out_start_text(stderr);
		plan_show(&p, "lvip watch: ", known, nknown);
		out_end(false);
	}
	plan_free(&p);
	return err;
}

static int watch_run(struct cmd_ctx *c)
{
	struct vip_addr *known = NULL;
	struct mnl_socket *mon;
	size_t nknown = 0;
	int err = watch_claim(c);

	if (err)
		return err;
	mon = nl_monitor_open();
	if (!mon) {
		lvip_err("watch: cannot listen to rtnetlink: %s", strerror(errno));
		return EXIT_FAIL;
	}
	signal(SIGTERM, cmd_on_stop);
	signal(SIGINT, cmd_on_stop);
	signal(SIGHUP, on_hup);
	lvip_log("watch: following %s (pid %d)", c->o.file, (int)getpid());
	for (bool first = true; !cmd_stop; first = false) {
		if (watch_reload) {
			watch_reload = 0;
			watch_reload_config(c->o.file, &c->cfg);
		}
		err = watch_pass(c, first, known, nknown);
		if (err && first)
			break; /* the first apply must work, as with apply */
		if (err)
			lvip_warn("watch: could not apply %s this time; retrying", c->o.file);
		else if (known_update(&c->cfg, &known, &nknown))
			break;
		if (first && !err)
			notify_ready();
		wait_events(mon);
	}
	mnl_socket_close(mon);
	free(known);
	if (!err)
		lvip_log("watch: stopped; protection stays in place");
	return err ? EXIT_FAIL : 0;
}

static const struct opt_def opt_dry_run = {
	.name = "dry-run", .type = OPT_FLAG, .offset = offsetof(struct cmd_opts, dry_run),
	.help = "print the plan, change nothing",
	.drop_needs = NEED_LOCK | NEED_CREATE | NEED_CHANGE, .add_needs = NEED_READ,
};

/* For `systemctl reload`: a broken file fails the reload, before the
 * watcher is told to read it. No need at all: the pin dir is not looked at. */
static const struct opt_def opt_check_only = {
	.name = "check", .type = OPT_FLAG, .offset = offsetof(struct cmd_opts, check_only),
	.help = "validate FILE and its drop-ins only, touch nothing",
	.drop_needs = NEED_READ | NEED_LOCK | NEED_CREATE | NEED_CHANGE,
};

const struct cmd_def cmd_apply = {
	.name = "apply",
	.summary = "Make the attached interfaces, the VIPs and the tunnels exactly what FILE\n"
		   "says (default " LVIP_DEFAULT_CONFIG "): prints the plan, applies it in the\n"
		   "safe order (attach, add VIPs, tunnels, remove VIPs, detach), all or nothing,\n"
		   "except that an interface with a foreign XDP program is refused alone (exit 1).\n\n"
		   "FILE: one directive a line, # comments:\n"
		   "  interface NAME|PATTERN [mode=auto|native|generic]   (PATTERN: fnmatch, e.g.\n"
		   "                         eth*; '*' is every non-lo interface with a MAC address)\n"
		   "  vip ADDR               (IPv4 or IPv6 host address; not the server's own nor a\n"
		   "                         connected subnet's network or broadcast address)\n"
		   "  ignore NAME|PATTERN    (an interface lvip leaves alone: patterns skip it,\n"
		   "                         check does not judge it)\n"
		   "  tunnel ipip|gre [peer=ADDR[,ADDR...]] [mss=auto|N]\n"
		   "  tunnel gue port=N [peer=ADDR[,ADDR...]] [mss=auto|N]\n"
		   "                         (decapsulate LVS-TUN: see 'lvip tunnel add --help')\n"
		   "Then the drop-ins conf.d/*.conf of FILE's directory, in name order.\n"
		   "--check: exit 0 if FILE and its drop-ins are valid (the VIP guards\n"
		   "included), else exit 2 with the error; the pin dir is not looked at.\n",
	.opts = (const struct opt_def *const[]){ &opt_file, &opt_dry_run, &opt_check_only, &opt_json, NULL },
	.needs = NEED_LOCK | NEED_CREATE | NEED_CHANGE,
	.check = config_check, .run = apply_run,
};

const struct cmd_def cmd_watch = {
	.name = "watch",
	.summary = "Apply FILE (default " LVIP_DEFAULT_CONFIG "), then follow rtnetlink and keep\n"
		   "the state as FILE says while interfaces appear, vanish or are renamed and\n"
		   "addresses change. One line per action on stderr. SIGHUP re-reads FILE\n"
		   "and its drop-ins (conf.d/*.conf of FILE's directory).\n"
		   "Interfaces named in FILE that do not exist yet are attached when they appear.\n"
		   "Under systemd (Type=notify) it reports ready after its first pass. One\n"
		   "watcher per pin dir; while it runs, commands that change state refuse.\n"
		   "Stopping it (SIGTERM, SIGINT) leaves the protection in place.\n",
	.opts = (const struct opt_def *const[]){ &opt_file, NULL },
	.check = config_check, .run = watch_run,
};
