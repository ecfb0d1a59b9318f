// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_check.c - lvip check, the doctor: is every VIP hidden everywhere?
 * Exit 0 when nothing is exposed, 1 otherwise, one line per finding.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

static const char check_usage[] =
	"Usage: lvip check [--json]\n"
	"\n"
	"Exit 0 when every VIP on lo is in lvip's map and every interface that is up\n"
	"with a MAC address and an IPv4 or global IPv6 address is attached; else\n"
	"exit 1 with one line per finding. Also reports, as information, proxy_arp,\n"
	"proxy_ndp, arp_ignore/arp_announce and strict rp_filter.\n";

enum severity { SEV_EXPOSED, SEV_INFO };

struct finding {
	enum severity sev;
	char msg[384];
	char address[INET6_ADDRSTRLEN];
	char iface[LVIP_NAME_ESC]; /* as name_escape prints it */
};

struct findings {
	struct finding *f;
	size_t n;
	size_t exposed;
};

static void add_finding(struct findings *fs, enum severity sev, const char *addr, const char *iface,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void add_finding(struct findings *fs, enum severity sev, const char *addr, const char *iface,
			const char *fmt, ...)
{
	struct finding *p = realloc(fs->f, (fs->n + 1) * sizeof(*p));
	va_list ap;

	if (!p)
		return;
	fs->f = p;
	p = &fs->f[fs->n++];
	memset(p, 0, sizeof(*p));
	p->sev = sev;
	snprintf(p->address, sizeof(p->address), "%s", addr ? addr : "");
	snprintf(p->iface, sizeof(p->iface), "%s", iface ? iface : "");
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	fs->exposed += sev == SEV_EXPOSED;
}

static bool is_host_loopback(const struct if_addr *a)
{
	static const __u8 v6_lo[16] = { [15] = 1 };

	if (a->addr.family == AF_INET)
		return a->addr.v4[0] == 127;
	return !memcmp(a->addr.v6, v6_lo, 16) || (a->addr.v6[0] == 0xfe && (a->addr.v6[1] & 0xc0) == 0x80);
}

static void check_addresses(const struct vip_view *v, const struct addr_list *all, int lo,
			    struct findings *fs)
{
	char addr[INET6_ADDRSTRLEN], raw[IF_NAMESIZE], name[LVIP_NAME_ESC];

	for (size_t i = 0; i < all->n; i++) {
		const struct if_addr *a = &all->a[i];

		vip_format(&a->addr, addr, sizeof(addr));
		if ((int)a->ifindex == lo && !is_host_loopback(a) && !vip_view_has(v, &a->addr))
			add_finding(fs, SEV_EXPOSED, addr, "lo", "%s is on lo but not in lvip's map: it is "
				    "not hidden (run 'lvip vip add %s')", addr, addr);
		if ((int)a->ifindex != lo && vip_view_has(v, &a->addr)) {
			if (!if_indextoname(a->ifindex, raw))
				snprintf(raw, sizeof(raw), "%u", a->ifindex);
			name_escape(raw, name, sizeof(name));
			add_finding(fs, SEV_EXPOSED, addr, name, "VIP %s is assigned to %s: the kernel "
				    "announces it there (assign VIPs to lo only)", addr, name);
		}
	}
}

static bool has_routable_addr(const struct addr_list *all, __u32 ifindex)
{
	for (size_t i = 0; i < all->n; i++)
		if (all->a[i].ifindex == ifindex &&
		    (all->a[i].addr.family == AF_INET || all->a[i].scope == 0 /* universe */))
			return true;
	return false;
}

static void check_interfaces(struct lvip_state *s, const struct link_list *links,
			     const struct addr_list *all, struct findings *fs)
{
	for (size_t i = 0; i < links->n; i++) {
		const struct link_info *l = &links->l[i];
		struct iface_info info = {};
		char e[LVIP_NAME_ESC];

		if (!(l->flags & IFF_UP) || !l->has_mac || !has_routable_addr(all, l->ifindex))
			continue;
		if (state_loaded(s))
			iface_inspect(s, l->ifindex, &info);
		name_escape(l->name, e, sizeof(e));
		if (!info.link_alive || !info.tc_prog_id)
			add_finding(fs, SEV_EXPOSED, NULL, e, "%s is up with addresses but lvip is not "
				    "attached: VIPs on lo are answered there (run 'lvip attach %s')", e, e);
	}
}

static void check_gone_links(struct lvip_state *s, struct findings *fs)
{
	__u32 *idx = NULL;
	size_t n = 0;

	if (!state_loaded(s) || iface_list(s, &idx, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		struct iface_info info;

		iface_inspect(s, idx[i], &info);
		if (info.link_pinned && !info.link_alive)
			add_finding(fs, SEV_EXPOSED, NULL, NULL, "lvip's XDP link for interface %u is pinned "
				    "but no longer attached (the interface vanished or was replaced: run "
				    "'lvip detach --all' and attach again)", idx[i]);
	}
	free(idx);
}

/* A sysctl of net/ipv4/conf or net/ipv6/conf; -1 if unreadable. */
static int conf_value(const char *family, const char *iface, const char *key)
{
	char path[256];
	FILE *f;
	int v = -1;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", family, iface, key);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static const char *const arp_keys[] = { "arp_ignore", "arp_announce" };

/* The sysctls of one interface: read by its name n, reported as e. */
static void link_sysctls(struct lvip_state *s, const struct link_info *l, struct findings *fs)
{
	const char *n = l->name;
	struct iface_info info = {};
	char e[LVIP_NAME_ESC];
	int all_rp, rp;

	name_escape(n, e, sizeof(e));
	if (conf_value("ipv4", n, "proxy_arp") > 0)
		add_finding(fs, SEV_INFO, NULL, e, "proxy_arp is on for %s: it would answer for VIPs "
			    "not on lo; lvip drops those requests too", e);
	if (conf_value("ipv6", n, "proxy_ndp") > 0)
		add_finding(fs, SEV_INFO, NULL, e, "proxy_ndp is on for %s", e);
	for (size_t k = 0; k < 2; k++) {
		int v = conf_value("ipv4", n, arp_keys[k]);

		if (v > 0)
			add_finding(fs, SEV_INFO, NULL, e, "%s is %d on %s (lvip does not need it)",
				    arp_keys[k], v, e);
	}
	if (state_loaded(s))
		iface_inspect(s, l->ifindex, &info);
	all_rp = conf_value("ipv4", "all", "rp_filter");
	rp = conf_value("ipv4", n, "rp_filter");
	if (info.link_alive && (all_rp > rp ? all_rp : rp) == 1)
		add_finding(fs, SEV_INFO, NULL, e, "rp_filter is strict on %s: packets to a VIP "
			    "arriving there are dropped if the reply route differs", e);
}

static void check_sysctls(struct lvip_state *s, const struct link_list *links, struct findings *fs)
{
	for (size_t i = 0; i < links->n; i++)
		link_sysctls(s, &links->l[i], fs);
	for (size_t k = 0; k < 2; k++) {
		int v = conf_value("ipv4", "all", arp_keys[k]);

		if (v > 0)
			add_finding(fs, SEV_INFO, NULL, "all", "%s is %d for all interfaces (lvip does not "
				    "need the global sysctl)", arp_keys[k], v);
	}
}

static void findings_print(const struct findings *fs, bool json)
{
	if (json) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array();

		for (size_t i = 0; i < fs->n; i++) {
			const struct finding *f = &fs->f[i];
			json_object *j = json_object_new_object();

			json_object_object_add(j, "severity", json_object_new_string(
				f->sev == SEV_EXPOSED ? "exposed" : "info"));
			json_object_object_add(j, "message", json_object_new_string(f->msg));
			if (*f->address)
				json_object_object_add(j, "address", json_object_new_string(f->address));
			if (*f->iface)
				json_object_object_add(j, "interface", json_object_new_string(f->iface));
			json_object_array_add(arr, j);
		}
		json_object_object_add(o, "findings", arr);
		json_print(o);
		return;
	}
	for (size_t i = 0; i < fs->n; i++)
		printf("%-8s %s\n", fs->f[i].sev == SEV_EXPOSED ? "EXPOSED" : "info", fs->f[i].msg);
	printf("%zu exposed, %zu information\n", fs->exposed, fs->n - fs->exposed);
}

int cmd_check(struct cmd_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct addr_list all = {};
	struct link_list links = {};
	struct findings fs = {};
	struct vip_view v = {};
	struct lvip_state s;
	bool json = false;
	int o, err = 0, lo = lo_ifindex();

	optind = 0;
	while ((o = opt_next(argc, argv, "check", ":h", opts)) != -1) {
		switch (o) {
		case 'j': json = true; break;
		case 'h': return fputs(check_usage, stdout), EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		lvip_err("check: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	state_init(&s, c->pin_dir);
	if (state_exists(&s))
		err = state_open(&s);
	if (!err)
		err = vip_view_load(&s, &v);
	if (!err)
		err = nl_addr_dump(AF_UNSPEC, 0, &all);
	if (!err)
		err = nl_link_dump(&links);
	if (!err) {
		check_addresses(&v, &all, lo, &fs);
		check_interfaces(&s, &links, &all, &fs);
		check_gone_links(&s, &fs);
		check_sysctls(&s, &links, &fs);
		findings_print(&fs, json);
	} else {
		lvip_err("check: cannot read the state: %s", strerror(-err));
	}
	free(fs.f);
	vip_view_free(&v);
	addr_list_free(&all);
	link_list_free(&links);
	state_close(&s);
	return err || fs.exposed ? EXIT_FAIL : EXIT_OK;
}
