// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_check.c - lvip check, the doctor: is every VIP hidden everywhere?
 * Exit 0 when nothing is exposed, 1 otherwise, one line per finding.
 */
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_arp.h>

#include "cmd.h"
#include "config.h"
#include "loader.h"
#include "output.h"

void add_finding(struct findings *fs, enum severity sev, const char *code, const char *addr,
		 const char *iface, const char *fmt, ...)
{
	struct finding f = { .sev = sev, .code = code };
	va_list ap;

	snprintf(f.address, sizeof(f.address), "%s", addr ? addr : "");
	snprintf(f.iface, sizeof(f.iface), "%s", iface ? iface : "");
	va_start(ap, fmt);
	vsnprintf(f.msg, sizeof(f.msg), fmt, ap);
	va_end(ap);
	if (!vec_push(&fs->f, &fs->n, &fs->cap, sizeof(f), &f))
		fs->exposed += sev == SEV_EXPOSED;
}

static bool is_host_loopback(const struct if_addr *a)
{
	static const __u8 v6_lo[16] = { [15] = 1 };

	if (a->addr.family == AF_INET)
		return a->addr.v4[0] == 127;
	return !memcmp(a->addr.v6, v6_lo, 16) || (a->addr.v6[0] == 0xfe && (a->addr.v6[1] & 0xc0) == 0x80);
}

/* ---- kernel tunnel devices: the kernel's LVS-TUN real server ---- */

static const struct {
	const char *kind;
	__u16 arphrd; /* 0: by kind only */
	const char *lvip; /* what lvip offers instead */
} kernel_tunnels[] = {
	{ "ipip", ARPHRD_TUNNEL, "lvip tunnel add ipip" },
	{ "ip6tnl", ARPHRD_TUNNEL6, "lvip tunnel add ipip" },
	{ "sit", ARPHRD_SIT, "lvip tunnel add ipip" },
	{ "gre", ARPHRD_IPGRE, "lvip tunnel add gre" },
	{ "ip6gre", ARPHRD_IP6GRE, "lvip tunnel add gre" },
	{ "fou", 0, "lvip tunnel add gue --port PORT" },
};

/* Which kernel_tunnels entry l is (IFLA_INFO_KIND, else the device type),
 * or -1. LVIP_TEST_KERNEL_TUNNEL=NAME:KIND makes NAME one: the test
 * machines have no tunnel modules. */
static int kernel_tunnel(const struct link_info *l)
{
	const char *fake = getenv("LVIP_TEST_KERNEL_TUNNEL"), *colon = fake ? strchr(fake, ':') : NULL;
	const char *kind = l->kind;

	if (colon && (size_t)(colon - fake) == strlen(l->name) && !strncmp(fake, l->name, colon - fake))
		kind = colon + 1;
	for (size_t k = 0; k < ARRAY_SIZE(kernel_tunnels); k++)
		if (!strcmp(kind, kernel_tunnels[k].kind) ||
		    (!*kind && kernel_tunnels[k].arphrd && l->type == kernel_tunnels[k].arphrd))
			return (int)k;
	return -1;
}

static const struct link_info *link_of(const struct link_list *links, __u32 ifindex)
{
	for (size_t i = 0; i < links->n; i++)
		if (links->l[i].ifindex == ifindex)
			return &links->l[i];
	return NULL;
}

/* An address on a kernel tunnel device: a VIP (in the map) or, not in the
 * map, perhaps one lvip does not know. Says what lvip offers instead. */
static void check_tunnel_addr(const struct link_info *l, int k, const char *addr, bool vip,
			      struct findings *fs)
{
	char name[LVIP_NAME_ESC];

	name_escape(l->name, name, sizeof(name));
	if (vip)
		add_finding(fs, SEV_EXPOSED, "vip_on_kernel_tunnel", addr, name, "VIP %s is on %s, a "
			    "kernel %s tunnel (the kernel's LVS-TUN setup): lvip decapsulates in XDP "
			    "instead, with no tunnel module or device: keep the VIP on lo only ('lvip vip "
			    "add %s') and run '%s'", addr, name, kernel_tunnels[k].kind, addr,
			    kernel_tunnels[k].lvip);
	else
		add_finding(fs, SEV_INFO, "kernel_tunnel_addr", addr, name, "%s is on %s, a kernel %s "
			    "tunnel: if it is an LVS-TUN VIP, lvip can hide it and decapsulate in XDP "
			    "instead ('lvip vip add %s' and '%s')", addr, name, kernel_tunnels[k].kind,
			    addr, kernel_tunnels[k].lvip);
}

static void check_addresses(const struct vip_view *v, const struct addr_list *all, int lo,
			    const struct link_list *links, struct findings *fs)
{
	char addr[INET6_ADDRSTRLEN], raw[IF_NAMESIZE], name[LVIP_NAME_ESC];

	for (size_t i = 0; i < all->n; i++) {
		const struct if_addr *a = &all->a[i];
		const struct link_info *l = link_of(links, a->ifindex);
		int k = l && (int)a->ifindex != lo ? kernel_tunnel(l) : -1;

		vip_format(&a->addr, addr, sizeof(addr));
		if ((int)a->ifindex == lo && !is_host_loopback(a) && !vip_view_has(v, &a->addr))
			add_finding(fs, SEV_EXPOSED, "vip_not_in_map", addr, "lo", "%s is on lo but not in "
				    "lvip's map: it is not hidden (run 'lvip vip add %s')", addr, addr);
		if (k >= 0 && vip_view_has(v, &a->addr)) {
			check_tunnel_addr(l, k, addr, true, fs);
		} else if (k >= 0 && !is_host_loopback(a) && a->prefixlen == vip_len(&a->addr) * 8) {
			check_tunnel_addr(l, k, addr, false, fs); /* a host address: a VIP's kind */
		} else if ((int)a->ifindex != lo && vip_view_has(v, &a->addr)) {
			if (!if_indextoname(a->ifindex, raw))
				snprintf(raw, sizeof(raw), "%u", a->ifindex);
			name_escape(raw, name, sizeof(name));
			add_finding(fs, SEV_EXPOSED, "vip_on_interface", addr, name, "VIP %s is assigned to "
				    "%s: the kernel announces it there (assign VIPs to lo only)", addr, name);
		}
	}
}

/* A released VIP is answered here on purpose (the node holds it): say so. */
static void check_released(const struct vip_view *v, struct findings *fs)
{
	char addr[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < v->n; i++) {
		if (!(v->e[i].val.flags & LVIP_VIP_F_RELEASED))
			continue;
		vip_format(&v->e[i].addr, addr, sizeof(addr));
		add_finding(fs, SEV_INFO, "vip_released", addr, NULL, "%s is released: this node answers "
			    "ARP/ND for it (a director holding it; 'lvip vip hide %s' hides it)", addr, addr);
	}
}

/* Are unattached interfaces a concern: lvip is in use here (something is
 * pinned), or an address other than the host's loopback is on lo? */
static bool something_to_hide(const struct lvip_state *s, const struct addr_list *all, int lo)
{
	for (size_t i = 0; i < all->n; i++)
		if ((int)all->a[i].ifindex == lo && !is_host_loopback(&all->a[i]))
			return true;
	return state_any(s);
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

/* The value in effect for iface: the larger of all's and the interface's. */
static int conf_effective(const char *iface, const char *key)
{
	int all = conf_value("ipv4", "all", key), own = conf_value("ipv4", iface, key);

	return all > own ? all : own;
}

/* Do the kernel's own sysctls keep iface from answering ARP for lo's
 * addresses and from announcing them (arp_ignore 1, 2 or 8 and
 * arp_announce 2)? */
static bool sysctls_hide(const char *iface)
{
	int ign = conf_effective(iface, "arp_ignore");

	return (ign == 1 || ign == 2 || ign == 8) && conf_effective(iface, "arp_announce") == 2;
}

/* An interface in observe mode hides nothing: exposed unless the kernel's
 * own sysctls hide lo there (the migration from them, README). */
static void check_observed(const struct link_info *l, const char *n, struct findings *fs)
{
	if (sysctls_hide(l->name))
		add_finding(fs, SEV_INFO, "iface_observe_sysctl", NULL, n, "%s is in observe mode; its "
			    "arp_ignore and arp_announce hide lo's addresses", n);
	else
		add_finding(fs, SEV_EXPOSED, "iface_observe", NULL, n, "%s is in observe mode: lvip "
			    "counts but does not hide VIPs there (run 'lvip attach %s' to enforce)", n, n);
}

/* n: l's name as printed (escaped). */
static void check_attached(struct lvip_state *s, const struct link_info *l, const char *n,
			   struct findings *fs)
{
	struct iface_info info = {};

	if (state_any(s))
		iface_inspect(s, l->ifindex, &info);
	if (!info.link_alive && !info.tc_prog_id && sysctls_hide(l->name))
		add_finding(fs, SEV_INFO, "iface_hidden_by_sysctl", NULL, n, "%s is not attached, but "
			    "its arp_ignore and arp_announce hide lo's addresses", n);
	else if (!info.link_alive && !info.tc_prog_id)
		add_finding(fs, SEV_EXPOSED, "iface_unattached", NULL, n, "%s is up and answers ARP but "
			    "lvip is not attached: VIPs on lo are answered there (run 'lvip attach %s')", n, n);
	else if (!info.link_alive || !info.tc_prog_id)
		add_finding(fs, SEV_EXPOSED, "iface_partial", NULL, n, "%s: lvip's %s is missing: VIPs are "
			    "%s there (run 'lvip attach %s')", n, info.link_alive ? "tc egress program" :
			    "XDP program", info.link_alive ? "announced" : "answered", n);
	if (info.link_alive && info.tc_prog_id && info.observe)
		check_observed(l, n, fs);
	if ((info.link_alive && !info.xdp_maps_ok) || (info.tc_prog_id && !info.tc_maps_ok))
		add_finding(fs, SEV_EXPOSED, "prog_maps_mismatch", NULL, n, "%s: the attached lvip "
			    "program does not use the maps pinned in %s: VIPs added there are not hidden "
			    "(run 'lvip attach %s')", n, s->pin_dir, n);
	if (info.ifaddr_stale)
		add_finding(fs, SEV_EXPOSED, "ifaddr_stale", NULL, n, "%s: lvip_ifaddr no longer holds "
			    "the interface's IPv4 addresses: 'tell VIP' requests are rewritten to an "
			    "address it may not have (run any lvip command that changes state, e.g. "
			    "'lvip attach %s', or keep 'lvip watch' running)", n, n);
}

/* Every interface that is up and answers ARP (whatever its addresses:
 * Linux answers for lo's addresses on any of them) must be attached. */
static void check_interfaces(struct lvip_state *s, const struct lvip_config *cfg,
			     const struct link_list *links, bool hide, struct findings *fs)
{
	for (size_t i = 0; i < links->n; i++) {
		const struct link_info *l = &links->l[i];
		char e[LVIP_NAME_ESC];

		if (!(l->flags & IFF_UP) || !l->has_mac || (l->flags & IFF_NOARP))
			continue;
		name_escape(l->name, e, sizeof(e));
		if (cfg && config_ignores(cfg, l->name))
			add_finding(fs, SEV_INFO, "iface_ignored", NULL, e, "%s is ignored by the "
				    "config file: not checked", e);
		else if (hide)
			check_attached(s, l, e, fs);
	}
}

static void link_defunct(struct findings *fs, const char *kind, __u32 ifindex)
{
	add_finding(fs, SEV_EXPOSED, "link_defunct", NULL, NULL, "lvip's %s link for interface %u "
		    "is pinned but no longer attached (the interface vanished or was replaced: run "
		    "'lvip detach --all' and attach again)", kind, ifindex);
}

static void check_gone_links(struct lvip_state *s, struct findings *fs)
{
	struct iface_info *f = NULL;
	size_t n = 0;

	if (!state_any(s) || inspect_attached(s, &f, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		if (f[i].gone && f[i].link_pinned && !f[i].link_alive)
			link_defunct(fs, "XDP", f[i].ifindex);
		if (f[i].gone && f[i].tcx_pinned && !f[i].tcx_alive)
			link_defunct(fs, "tcx egress", f[i].ifindex);
	}
	free(f);
}

static const char *const arp_keys[] = { "arp_ignore", "arp_announce" };

/* The sysctls of one interface: read by its name, reported escaped. */
static void link_sysctls(struct lvip_state *s, const struct link_info *l, struct findings *fs)
{
	const char *n = l->name;
	struct iface_info info = {};
	char e[LVIP_NAME_ESC];

	name_escape(n, e, sizeof(e));
	if (conf_value("ipv4", n, "proxy_arp") > 0)
		add_finding(fs, SEV_INFO, "proxy_arp", NULL, e, "proxy_arp is on for %s: it would answer "
			    "for VIPs not on lo; lvip drops those requests too", e);
	if (conf_value("ipv6", n, "proxy_ndp") > 0)
		add_finding(fs, SEV_INFO, "proxy_ndp", NULL, e, "proxy_ndp is on for %s", e);
	for (size_t k = 0; k < ARRAY_SIZE(arp_keys); k++) {
		int v = conf_value("ipv4", n, arp_keys[k]);

		if (v > 0)
			add_finding(fs, SEV_INFO, "arp_sysctl", NULL, e, "%s is %d on %s (lvip does not "
				    "need it)", arp_keys[k], v, e);
	}
	if (state_any(s))
		iface_inspect(s, l->ifindex, &info);
	if (info.link_alive && conf_effective(n, "rp_filter") == 1)
		add_finding(fs, SEV_INFO, "rp_filter_strict", NULL, e, "rp_filter is strict on %s: "
			    "packets to a VIP arriving there are dropped if the reply route differs", e);
}

static void check_sysctls(struct lvip_state *s, const struct link_list *links, struct findings *fs)
{
	for (size_t i = 0; i < links->n; i++)
		link_sysctls(s, &links->l[i], fs);
	for (size_t k = 0; k < ARRAY_SIZE(arp_keys); k++) {
		int v = conf_value("ipv4", "all", arp_keys[k]);

		if (v > 0)
			add_finding(fs, SEV_INFO, "arp_sysctl_all", NULL, "all", "%s is %d for all "
				    "interfaces (lvip does not need the global sysctl)", arp_keys[k], v);
	}
}

static void check_tunaddr(const struct lvip_state *s, struct findings *fs)
{
	if (state_any(s) && tunaddr_stale(s))
		add_finding(fs, SEV_EXPOSED, "tunaddr_stale", NULL, NULL, "lvip_tunaddr no longer holds "
			    "this host's addresses: tunnelled packets to an address it lacks pass "
			    "undecapsulated (run any lvip command that changes state, e.g. 'lvip attach "
			    "IFACE', or keep 'lvip watch' running)");
}

/* Every finding about s (opened, or not there) and the host. */
int check_collect(struct lvip_state *s, const struct lvip_config *cfg, struct findings *fs)
{
	struct addr_list all = {};
	struct link_list links = {};
	struct vip_view v = {};
	int err, lo = lo_ifindex();

	err = vip_view_load(s, &v);
	if (!err)
		err = nl_addr_dump(AF_UNSPEC, 0, &all);
	if (!err)
		err = nl_link_dump(&links);
	if (!err) {
		check_addresses(&v, &all, lo, &links, fs);
		check_released(&v, fs);
		check_interfaces(s, cfg, &links, something_to_hide(s, &all, lo), fs);
		check_gone_links(s, fs);
		check_sysctls(s, &links, fs);
		check_tunaddr(s, fs);
	}
	vip_view_free(&v);
	addr_list_free(&all);
	link_list_free(&links);
	return err;
}

static void findings_show(const struct findings *fs)
{
	out_open(NULL);
	out_open_array("findings");
	for (size_t i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->f[i];

		out_open(NULL);
		out_json_str("severity", f->sev == SEV_EXPOSED ? "exposed" : "info");
		out_text("%-8s ", f->sev == SEV_EXPOSED ? "EXPOSED" : "info");
		out_json_str("code", f->code);
		out_str("message", "%s\n", f->msg);
		if (*f->address)
			out_json_str("address", f->address);
		if (*f->iface)
			out_json_str("interface", f->iface);
		out_close();
	}
	out_close();
	out_text("%zu exposed, %zu information\n", fs->exposed, fs->n - fs->exposed);
	out_close();
}

/* The config file of -f, or the default one when it exists. */
static int check_config(struct cmd_ctx *c)
{
	const char *file = c->o.file;

	if (!file && !access(LVIP_DEFAULT_CONFIG, F_OK))
		file = LVIP_DEFAULT_CONFIG;
	if (file && config_load(file, &c->cfg))
		return EXIT_USAGE;
	c->have_cfg = file != NULL;
	return cmd_no_operands(c);
}

static int check_run(struct cmd_ctx *c)
{
	struct findings fs = {};
	int err = check_collect(&c->s, c->have_cfg ? &c->cfg : NULL, &fs);

	if (!err) {
		out_start(c->o.json);
		findings_show(&fs);
		out_end(false);
	} else {
		lvip_err("check: cannot read the state: %s", strerror(-err));
	}
	free(fs.f);
	return err || fs.exposed ? EXIT_FAIL : 0;
}

const struct opt_def opt_file = {
	.name = "file", .short_name = 'f', .type = OPT_STR, .arg = "FILE",
	.offset = offsetof(struct cmd_opts, file), .help = "the config file (default "
	LVIP_DEFAULT_CONFIG ")",
};

const struct cmd_def cmd_check = {
	.name = "check",
	.summary = "Judge what the kernel will do. Exit 0 when every VIP on lo is in lvip's map,\n"
		   "the attached programs use the pinned maps, and every interface that is up and\n"
		   "answers ARP is attached in enforce mode (whatever its addresses), unless its\n"
		   "own arp_ignore (1, 2 or 8) and arp_announce (2) hide lo's addresses or FILE\n"
		   "ignores it ('ignore NAME|PATTERN'; FILE: -f, or " LVIP_DEFAULT_CONFIG "\n"
		   "when it exists);\n"
		   "else exit 1 with one line per finding. Also reports, as information,\n"
		   "proxy_arp, proxy_ndp, arp_ignore/arp_announce and strict rp_filter.\n"
		   "A VIP on a kernel tunnel device (tunl0, ip6tnl0, gre0: the kernel's LVS-TUN\n"
		   "setup) is named as such with what lvip offers instead ('lvip tunnel add');\n"
		   "lvip_tunaddr not holding this host's addresses while a tunnel type is\n"
		   "enabled is a problem (exit 1).\n"
		   "--json gives each finding a stable code.\n",
	.opts = (const struct opt_def *const[]){ &opt_json, &opt_file, NULL },
	.needs = NEED_READ, .check = check_config, .run = check_run,
};
