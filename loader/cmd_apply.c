// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_apply.c - lvip apply and lvip watch: make the interfaces and VIPs
 * exactly what a config file says. A plan is computed from the file and the
 * live state, printed, then applied in the safe order (attach, add VIPs,
 * remove VIPs, detach), all or nothing.
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libmnl/libmnl.h>

#include "cmd.h"
#include "config.h"
#include "iface.h"
#include "load.h"
#include "output.h"
#include "pindir.h"
#include "vips.h"

static const char apply_usage[] =
	"Usage: lvip apply [-f|--file FILE] [--dry-run] [--json]\n"
	"\n"
	"Make the attached interfaces and the VIPs exactly what FILE says (default\n"
	LVIP_DEFAULT_CONFIG "): prints the plan, applies it in the safe order\n"
	"(attach, add VIPs, remove VIPs, detach), all or nothing.\n"
	"  -f, --file FILE  the config file\n"
	"  --dry-run        print the plan, change nothing\n"
	"  --json           the plan as JSON\n"
	"\n"
	"FILE: one directive a line, # comments:\n"
	"  interface NAME|PATTERN [mode=auto|native|generic]   (PATTERN: fnmatch, e.g. eth*;\n"
	"                                   '*' is every non-lo interface with a MAC address)\n"
	"  vip ADDR                         (IPv4 or IPv6 host address)\n";

static const char watch_usage[] =
	"Usage: lvip watch [-f|--file FILE]\n"
	"\n"
	"Apply FILE (default " LVIP_DEFAULT_CONFIG "), then follow rtnetlink and keep\n"
	"the state as FILE says while interfaces appear, vanish or are renamed and\n"
	"addresses change. One line per action on stderr. SIGHUP re-reads FILE.\n"
	"Interfaces named in FILE that do not exist yet are attached when they appear.\n"
	"Under systemd (Type=notify) it reports ready after its first pass.\n"
	"Stopping it (SIGTERM, SIGINT) leaves the protection in place.\n";

struct iface_change {
	__u32 ifindex;
	char name[IF_NAMESIZE];
	enum xdp_mode_req mode;
};

struct plan {
	struct iface_change *attach, *detach, *refused;
	size_t nattach, ndetach, nrefused; /* refused: a foreign program is there */
	struct vip_addr *add, *del;
	size_t nadd, ndel;
};

static void plan_free(struct plan *p)
{
	free(p->attach);
	free(p->detach);
	free(p->refused);
	free(p->add);
	free(p->del);
	memset(p, 0, sizeof(*p));
}

static size_t plan_size(const struct plan *p)
{
	return p->nattach + p->ndetach + p->nadd + p->ndel;
}

static int push(void **arr, size_t *n, size_t size, const void *item)
{
	void *q = realloc(*arr, (*n + 1) * size);

	if (!q)
		return -ENOMEM;
	memcpy((char *)q + *n * size, item, size);
	*arr = q;
	(*n)++;
	return 0;
}

static bool iface_in(const struct iface_change *v, size_t n, __u32 ifindex)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].ifindex == ifindex)
			return true;
	return false;
}

/* The interfaces the config names, as they exist now. strict: a named
 * interface that does not exist is an input error (apply); otherwise it is
 * simply not there yet (watch). */
static int desired_ifaces(const struct lvip_config *c, const char *file, bool strict,
			  struct iface_change **out, size_t *n)
{
	struct link_list links;
	char name[LVIP_NAME_ESC];
	int err = nl_link_dump(&links);

	for (size_t i = 0; !err && i < c->nifs; i++) {
		const struct cfg_iface *f = &c->ifs[i];
		bool found = false;

		for (size_t j = 0; !err && j < links.n; j++) {
			const struct link_info *l = &links.l[j];
			struct iface_change ch = { .ifindex = l->ifindex, .mode = f->mode };

			if (f->glob ? !l->has_mac || fnmatch(f->pattern, l->name, 0) ||
				      config_ignores(c, l->name) : strcmp(f->pattern, l->name))
				continue;
			found = true;
			if (l->flags & IFF_LOOPBACK || iface_in(*out, *n, l->ifindex))
				continue;
			snprintf(ch.name, sizeof(ch.name), "%s", l->name);
			err = push((void **)out, n, sizeof(ch), &ch);
		}
		if (!err && !found && !f->glob && strict) {
			lvip_err("%s:%d: no such interface '%s'", file, f->line,
				 name_escape(f->pattern, name, sizeof(name)));
			err = -ENODEV;
		}
	}
	link_list_free(&links);
	return err;
}

static int plan_vips(struct lvip_state *s, const struct lvip_config *c, struct plan *p)
{
	struct vip_addr *want = calloc(c->nvips ? c->nvips : 1, sizeof(*want));
	struct vip_view v;
	int err = want ? vip_view_load(s, &v) : -ENOMEM;

	if (err) {
		free(want);
		return err;
	}
	for (size_t i = 0; i < c->nvips; i++)
		want[i] = c->vips[i].addr;
	if (c->nvips)
		qsort(want, c->nvips, sizeof(*want), vip_cmp);
	for (size_t i = 0; !err && i < c->nvips; i++) {
		const struct vip_addr *a = &c->vips[i].addr;

		if (!vip_view_has(&v, a) || !addr_list_has(&v.lo, a))
			err = push((void **)&p->add, &p->nadd, sizeof(*a), a);
	}
	for (size_t j = 0; !err && j < v.n; j++)
		if (!vip_sorted_has(want, c->nvips, &v.e[j].addr))
			err = push((void **)&p->del, &p->ndel, sizeof(*p->del), &v.e[j].addr);
	vip_view_free(&v);
	free(want);
	return err;
}

static int plan_compute(struct lvip_state *s, const struct lvip_config *c, const char *file,
			bool strict, struct plan *p)
{
	struct iface_change *want = NULL;
	size_t nwant = 0, ncur = 0;
	__u32 *cur = NULL;
	int err;

	memset(p, 0, sizeof(*p));
	err = desired_ifaces(c, file, strict, &want, &nwant);
	if (!err && state_loaded(s))
		err = iface_list(s, &cur, &ncur);
	for (size_t i = 0; !err && i < nwant; i++) {
		struct iface_info info = {};

		if (state_loaded(s))
			iface_inspect(s, want[i].ifindex, &info);
		if (!info.link_alive || !info.tc_prog_id)
			err = push((void **)&p->attach, &p->nattach, sizeof(want[i]), &want[i]);
	}
	for (size_t i = 0; !err && i < ncur; i++) {
		struct iface_change ch = { .ifindex = cur[i] };

		if (iface_in(want, nwant, cur[i]))
			continue;
		if (!if_indextoname(cur[i], ch.name))
			snprintf(ch.name, sizeof(ch.name), "(gone %u)", cur[i]);
		err = push((void **)&p->detach, &p->ndetach, sizeof(ch), &ch);
	}
	if (!err)
		err = plan_vips(s, c, p);
	free(want);
	free(cur);
	if (err)
		plan_free(p);
	return err;
}

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
		lvip_err("%s:%d: invalid VIP '%s': %s", file, v->line,
			 vip_format(&v->addr, addr, sizeof(addr)), why);
		err = -EINVAL;
	}
	addr_list_free(&own);
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
	if (err)
		config_free(c);
	return err;
}

/* ---- showing a plan ---- */

/* known: the VIPs the file already had in the previous pass (watch): one of
 * them in the plan was removed behind lvip's back and is restored. */
static void plan_print(const struct plan *p, FILE *out, const char *prefix,
		       const struct vip_addr *known, size_t nknown)
{
	char buf[INET6_ADDRSTRLEN], name[LVIP_NAME_ESC];

	for (size_t i = 0; i < p->nattach; i++)
		fprintf(out, "%sattach %s (mode %s)\n", prefix,
			name_escape(p->attach[i].name, name, sizeof(name)), mode_name(p->attach[i].mode));
	for (size_t i = 0; i < p->nadd; i++) {
		bool restore = vip_sorted_has(known, nknown, &p->add[i]);

		fprintf(out, "%s%s vip %s%s\n", prefix, restore ? "restore" : "add",
			vip_format(&p->add[i], buf, sizeof(buf)),
			restore ? " (it was missing from the map or from lo)" : "");
	}
	for (size_t i = 0; i < p->ndel; i++)
		fprintf(out, "%sremove vip %s\n", prefix, vip_format(&p->del[i], buf, sizeof(buf)));
	for (size_t i = 0; i < p->ndetach; i++)
		fprintf(out, "%sdetach %s\n", prefix, name_escape(p->detach[i].name, name, sizeof(name)));
}

static json_object *change_json(const char *action, const char *key, const char *value)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "action", json_object_new_string(action));
	json_object_object_add(o, key, json_object_new_string(value));
	return o;
}

static json_object *iface_json(const char *action, const struct iface_change *c)
{
	char name[LVIP_NAME_ESC];

	return change_json(action, "interface", name_escape(c->name, name, sizeof(name)));
}

static json_object *plan_json(const struct plan *p, bool dry_run, bool applied)
{
	json_object *o = json_object_new_object(), *ch = json_object_new_array();
	char buf[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < p->nattach; i++) {
		json_object *c = iface_json("attach", &p->attach[i]);

		json_object_object_add(c, "mode", json_object_new_string(mode_name(p->attach[i].mode)));
		json_object_array_add(ch, c);
	}
	for (size_t i = 0; i < p->nadd; i++)
		json_object_array_add(ch, change_json("add_vip", "address", vip_format(&p->add[i], buf, sizeof(buf))));
	for (size_t i = 0; i < p->ndel; i++)
		json_object_array_add(ch, change_json("remove_vip", "address", vip_format(&p->del[i], buf, sizeof(buf))));
	for (size_t i = 0; i < p->ndetach; i++)
		json_object_array_add(ch, iface_json("detach", &p->detach[i]));
	for (size_t i = 0; i < p->nrefused; i++)
		json_object_array_add(ch, iface_json("refused", &p->refused[i]));
	json_object_object_add(o, "dry_run", json_object_new_boolean(dry_run));
	json_object_object_add(o, "changes", ch);
	json_object_object_add(o, "applied", json_object_new_boolean(applied));
	return o;
}

/* ---- applying a plan, all or nothing ---- */

/* An interface that carries someone else's program is refused: a problem
 * reported for it alone (taken out of the plan), while the others are
 * attached. */
static int refuse_foreign(struct lvip_state *s, struct plan *p)
{
	size_t kept = 0;
	int err = 0;

	for (size_t i = 0; !err && i < p->nattach; i++) {
		if (!iface_check_foreign(s, p->attach[i].ifindex, p->attach[i].name))
			p->attach[kept++] = p->attach[i];
		else
			err = push((void **)&p->refused, &p->nrefused, sizeof(p->attach[i]), &p->attach[i]);
	}
	if (!err)
		p->nattach = kept;
	return err;
}

static int apply_attach(struct lvip_state *s, const struct plan *p, size_t *done)
{
	char name[LVIP_NAME_ESC];
	int err = 0;

	for (*done = 0; !err && *done < p->nattach; (*done)++) {
		bool changed;

		err = iface_attach(s, p->attach[*done].ifindex, p->attach[*done].mode, &changed);
		if (err) {
			lvip_err("attach %s: %s", name_escape(p->attach[*done].name, name, sizeof(name)),
				 strerror(-err));
			break;
		}
	}
	return err;
}

static int apply_detach(struct lvip_state *s, struct plan *p, size_t *done)
{
	char name[LVIP_NAME_ESC];
	int err = 0;

	for (*done = 0; !err && *done < p->ndetach; (*done)++) {
		struct iface_change *d = &p->detach[*done];
		struct iface_info info;

		iface_inspect(s, d->ifindex, &info);
		d->mode = !strcmp(info.xdp_mode, "generic") ? MODE_GENERIC : MODE_AUTO; /* for undo */
		err = iface_detach(s, d->ifindex);
		if (err) {
			lvip_err("detach %s: %s", name_escape(d->name, name, sizeof(name)), strerror(-err));
			break;
		}
	}
	return err;
}

static int plan_apply(struct lvip_state *s, struct plan *p)
{
	struct vip_undo added = {}, removed = {};
	size_t attached = 0, detached = 0;
	struct addr_list lo_addrs = {};
	int err;

	err = apply_attach(s, p, &attached);
	if (!err)
		err = lo_addr_dump(&lo_addrs);
	if (!err && p->nadd)
		err = vips_add(s, p->add, p->nadd, false, &lo_addrs, &added);
	if (!err && p->ndel)
		err = vips_del(s, p->del, p->ndel, false, &lo_addrs, &removed);
	for (size_t i = 0; !err && i < removed.n; i++)
		vip_warn_exposed(&removed.st[i], false);
	if (!err)
		err = apply_detach(s, p, &detached);
	if (err) {
		while (detached-- > 0) {
			bool changed;

			iface_attach(s, p->detach[detached].ifindex, p->detach[detached].mode, &changed);
		}
		if (removed.st)
			vip_undo_run(s, &removed);
		if (added.st)
			vip_undo_run(s, &added);
		while (attached-- > 0)
			iface_detach(s, p->attach[attached].ifindex);
	}
	vip_undo_free(&added);
	vip_undo_free(&removed);
	addr_list_free(&lo_addrs);
	return err;
}

/* Lock, upgrade or load the programs if needed, plan, apply. */
static int reconcile(const char *pin_dir, const struct lvip_config *c, const char *file,
		     bool strict, bool dry_run, bool upgrade, struct plan *p)
{
	struct lvip_state s;
	bool upgraded = false;
	int err;

	state_init(&s, pin_dir);
	err = dry_run && !pindir_exists(&s) ? 0 : pindir_lock(&s, !dry_run);
	if (!err && !dry_run)
		err = pindir_refuse_if_watched(&s, "apply");
	if (!err && s.dir_fd >= 0)
		err = state_open(&s);
	if (!err && !dry_run && (state_partial(&s) || (upgrade && state_loaded(&s)))) {
		bool stale = s.progs_stale;

		err = load_pins(&s, LVIP_MAX_VIPS_DEFAULT, &upgraded);
		if (upgraded)
			fprintf(stderr, "lvip: %s\n", load_note(stale));
	}
	if (!err)
		err = plan_compute(&s, c, file, strict, p);
	if (!err)
		err = refuse_foreign(&s, p);
	if (!err && !dry_run && plan_size(p) && !state_loaded(&s))
		err = load_pins(&s, LVIP_MAX_VIPS_DEFAULT, &upgraded);
	if (!err && !dry_run && plan_size(p))
		err = plan_apply(&s, p);
	if (!err && !dry_run && state_loaded(&s))
		err = ifaddr_refresh_all(&s); /* what lvip_tc_compat reads */
	if (err && s.dir_created)
		unload_pins(&s); /* nothing was there before this run */
	state_close(&s);
	return err;
}

int cmd_apply(struct cmd_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = LVIP_DEFAULT_CONFIG;
	bool dry_run = false, json = false;
	struct lvip_config cfg;
	struct plan p = {};
	int o, err;

	optind = 0;
	while ((o = opt_next(argc, argv, "apply", ":hf:", opts)) != -1) {
		switch (o) {
		case 'f': file = optarg; break;
		case 'n': dry_run = true; break;
		case 'j': json = true; break;
		case 'h': return fputs(apply_usage, stdout), EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		lvip_err("apply: unexpected argument '%s' (the file is given with -f)", argv[optind]);
		return EXIT_USAGE;
	}
	err = load_config(file, &cfg);
	if (err)
		return err == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
	err = reconcile(c->pin_dir, &cfg, file, true, dry_run, true, &p);
	if (!err || err == -ENODEV) {
		if (err) {
			/* the named interface is missing: already reported */
		} else if (json) {
			json_print(plan_json(&p, dry_run, !dry_run && plan_size(&p)));
		} else if (!plan_size(&p)) {
			printf("no changes\n");
		} else {
			plan_print(&p, stdout, dry_run ? "would " : "", NULL, 0);
			printf("%s %zu change(s)\n", dry_run ? "dry run: nothing changed," : "applied", plan_size(&p));
		}
	}
	if (!err && p.nrefused)
		lvip_err("apply: %zu interface(s) refused (see above): the others are as %s says",
			 p.nrefused, file);
	err = err ? err : p.nrefused ? -EBUSY : 0;
	plan_free(&p);
	config_free(&cfg);
	return err == -ENODEV ? EXIT_USAGE : err ? EXIT_FAIL : EXIT_OK;
}

/* ---- watch ---- */

static volatile sig_atomic_t watch_stop, watch_reload;

static void on_stop(int sig)
{
	(void)sig;
	watch_stop = 1;
}

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
	fprintf(stderr, "lvip watch: reloaded %s\n", file);
}

/* Become the pin dir's one watcher (creating the pin dir if need be). */
static int watch_claim(const char *pin_dir)
{
	struct lvip_state s;
	int err;

	state_init(&s, pin_dir);
	err = pindir_lock(&s, true);
	if (!err)
		err = pindir_watch_claim(&s);
	state_close(&s);
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

int cmd_watch(struct cmd_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = LVIP_DEFAULT_CONFIG;
	struct vip_addr *known = NULL;
	struct lvip_config cfg;
	struct mnl_socket *mon;
	bool first = true;
	size_t nknown = 0;
	int o, err = 0;

	optind = 0;
	while ((o = opt_next(argc, argv, "watch", ":hf:", opts)) != -1) {
		switch (o) {
		case 'f': file = optarg; break;
		case 'h': return fputs(watch_usage, stdout), EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		lvip_err("watch: unexpected argument '%s' (the file is given with -f)", argv[optind]);
		return EXIT_USAGE;
	}
	err = load_config(file, &cfg);
	if (err)
		return err == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
	if (watch_claim(c->pin_dir)) {
		config_free(&cfg);
		return EXIT_FAIL;
	}
	mon = nl_monitor_open();
	if (!mon) {
		lvip_err("watch: cannot listen to rtnetlink: %s", strerror(errno));
		config_free(&cfg);
		return EXIT_FAIL;
	}
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	signal(SIGHUP, on_hup);
	fprintf(stderr, "lvip watch: following %s (pid %d)\n", file, (int)getpid());
	while (!watch_stop) {
		struct plan p = {};

		if (watch_reload) {
			watch_reload = 0;
			watch_reload_config(file, &cfg);
		}
		err = reconcile(c->pin_dir, &cfg, file, false, false, first, &p);
		if (err && first)
			break; /* the first apply must work, as with apply */
		if (err)
			lvip_warn("watch: could not apply %s this time; retrying", file);
		else
			plan_print(&p, stderr, "lvip watch: ", known, nknown);
		plan_free(&p);
		if (!err && known_update(&cfg, &known, &nknown))
			break;
		if (first && !err)
			notify_ready();
		first = false;
		wait_events(mon);
	}
	mnl_socket_close(mon);
	config_free(&cfg);
	free(known);
	if (!err)
		fprintf(stderr, "lvip watch: stopped; protection stays in place\n");
	return err ? EXIT_FAIL : EXIT_OK;
}
