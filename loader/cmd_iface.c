// SPDX-License-Identifier: GPL-2.0
/* cmd_iface.c - lvip attach, lvip detach, lvip down. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "iface.h"
#include "load.h"
#include "output.h"
#include "pindir.h"
#include "vips.h"

static const char attach_usage[] =
	"Usage: lvip attach IFACE... [--mode auto|native|generic] [--max-vips N]\n"
	"\n"
	"Load lvip (once) and attach its XDP ingress and TC egress programs to\n"
	"each IFACE. Idempotent. An interface carrying an XDP program that is not\n"
	"lvip's is refused and nothing is changed.\n"
	"  --mode      XDP mode: auto (native, else generic; default), native, generic\n"
	"  --max-vips  capacity of each VIP map (IPv4, IPv6) when lvip is first\n"
	"              loaded (default 65536)\n";

static const char detach_usage[] =
	"Usage: lvip detach IFACE...\n"
	"       lvip detach --all\n"
	"\n"
	"Detach lvip's programs; other XDP programs and tc filters are left alone.\n";

static const char down_usage[] =
	"Usage: lvip down\n"
	"\n"
	"Remove the VIPs lvip put on lo, then detach everything, then remove the pins.\n";

/* Resolve every name first: an unknown interface changes nothing. */
static int resolve_all(const char *cmd, int n, char **names, __u32 **out)
{
	__u32 *idx;

	if (n == 0) {
		lvip_err("%s: name at least one interface", cmd);
		return -EINVAL;
	}
	idx = calloc(n, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		int err = iface_resolve(names[i], &idx[i]);

		if (!err && !strcmp(names[i], "lo"))
			err = -EPERM;
		if (err) {
			lvip_err("%s: %s '%s'", cmd,
				 err == -EPERM ? "lvip hides VIPs on real interfaces, not on" :
				 err == -EINVAL ? "invalid interface name" : "no such interface", names[i]);
			free(idx);
			return err;
		}
	}
	*out = idx;
	return 0;
}

static int attach_all(struct lvip_state *s, char **names, const __u32 *idx, int n,
		      enum xdp_mode_req mode)
{
	bool *added = calloc(n, sizeof(*added));
	char e[LVIP_NAME_ESC];
	int err = 0, i;

	if (!added)
		return -ENOMEM;
	for (i = 0; !err && i < n; i++) {
		err = iface_attach(s, idx[i], mode, &added[i]);
		if (err)
			lvip_err("attach: %s: %s", name_escape(names[i], e, sizeof(e)), strerror(-err));
	}
	if (err) {
		while (i-- > 0)
			if (added[i])
				iface_detach(s, idx[i]);
	} else {
		for (i = 0; i < n; i++) {
			struct iface_info info;

			iface_inspect(s, idx[i], &info);
			name_escape(names[i], e, sizeof(e));
			lvip_info("%s: %s (xdp %s, tc egress)", e,
				  added[i] ? "attached" : "already attached", info.xdp_mode);
			if (!added[i] && mode != MODE_AUTO &&
			    strcmp(info.xdp_mode, mode == MODE_NATIVE ? "native" : "generic"))
				lvip_warn("%s stays in %s mode: 'lvip detach %s' first to change it",
					  e, info.xdp_mode, e);
		}
	}
	free(added);
	return err;
}

int cmd_attach(struct cmd_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "max-vips", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum xdp_mode_req mode = MODE_AUTO;
	__u32 max_vips = LVIP_MAX_VIPS_DEFAULT, *idx = NULL;
	bool upgraded = false, stale;
	struct lvip_state s;
	int o, err, n;

	optind = 0;
	while ((o = opt_next(argc, argv, "attach", ":h", opts)) != -1) {
		switch (o) {
		case 'm':
			if (parse_mode(optarg, &mode)) {
				lvip_err("attach: --mode is auto, native or generic, not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			if (!parse_u32(optarg, 1, 1U << 24, &max_vips)) {
				lvip_err("attach: --max-vips is a number from 1 to 16777216, not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': return fputs(attach_usage, stdout), EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	n = argc - optind;
	if (resolve_all("attach", n, argv + optind, &idx))
		return EXIT_USAGE;
	state_init(&s, c->pin_dir);
	err = pindir_lock(&s, true);
	if (!err)
		err = pindir_refuse_if_watched(&s, "attach");
	if (!err)
		err = state_open(&s);
	for (int i = 0; !err && i < n; i++)
		err = iface_check_foreign(&s, idx[i], argv[optind + i]);
	stale = s.progs_stale;
	if (!err)
		err = load_pins(&s, max_vips, &upgraded);
	if (!err && upgraded)
		lvip_info("%s", load_note(stale));
	if (!err && iface_gc(&s))
		lvip_info("forgot the state of interfaces that no longer exist");
	if (!err)
		err = attach_all(&s, argv + optind, idx, n, mode);
	if (!err)
		ifaddr_refresh_all(&s);
	if (err && s.dir_created)
		unload_pins(&s); /* nothing was there before this run */
	state_close(&s);
	free(idx);
	return err ? EXIT_FAIL : EXIT_OK;
}

static void warn_if_vips(struct lvip_state *s, const char *where)
{
	struct vip_view v;

	if (vip_view_load(s, &v))
		return;
	for (size_t i = 0; i < v.n; i++) {
		if (vip_view_on_lo(&v, i)) {
			lvip_warn("VIPs on lo are no longer hidden on %s", where);
			break;
		}
	}
	vip_view_free(&v);
}

static int detach_list(struct lvip_state *s, char **names, const __u32 *idx, size_t n)
{
	char name[IF_NAMESIZE], buf[LVIP_NAME_ESC];
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		const char *raw = names ? names[i] : if_indextoname(idx[i], name) ? name : "(gone)";
		const char *label = name_escape(raw, buf, sizeof(buf));
		struct iface_info info;
		int e;

		iface_inspect(s, idx[i], &info);
		if (!info.link_pinned && !info.tc_prog_id && names) {
			lvip_info("%s: not attached, nothing to do", label);
			continue;
		}
		e = iface_detach(s, idx[i]);
		if (e) {
			lvip_err("detach: %s: %s", label, strerror(-e));
			err = e;
		} else {
			lvip_info("%s: detached", label);
			warn_if_vips(s, label);
		}
	}
	return err;
}

int cmd_detach(struct cmd_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	__u32 *idx = NULL;
	struct lvip_state s;
	bool all = false;
	size_t n = 0;
	int o, err;

	optind = 0;
	while ((o = opt_next(argc, argv, "detach", ":h", opts)) != -1) {
		switch (o) {
		case 'a': all = true; break;
		case 'h': return fputs(detach_usage, stdout), EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (all && optind < argc) {
		lvip_err("detach: --all takes no interface names");
		return EXIT_USAGE;
	}
	if (!all && resolve_all("detach", argc - optind, argv + optind, &idx))
		return EXIT_USAGE;
	state_init(&s, c->pin_dir);
	err = pindir_lock(&s, false);
	if (err == -ENOENT) {
		lvip_info("lvip is not loaded: nothing to detach");
		free(idx);
		return EXIT_OK;
	}
	if (!err)
		err = pindir_refuse_if_watched(&s, "detach");
	if (!err)
		err = state_open(&s);
	if (!err && all)
		err = iface_list(&s, &idx, &n);
	else
		n = argc - optind;
	if (!err)
		err = detach_list(&s, all ? NULL : argv + optind, idx, n);
	state_close(&s);
	free(idx);
	return err ? EXIT_FAIL : EXIT_OK;
}

/* Take lvip's VIPs off lo (one batch); VIPs it found there stay, exposed.
 * The map keeps every VIP until the pins go, so a kill here leaves nothing
 * on lo unprotected. */
static int down_lo(struct lvip_state *s)
{
	struct vip_addr *owned = NULL;
	char buf[INET6_ADDRSTRLEN];
	size_t n = 0;
	int *errs = NULL, err, lo = lo_ifindex();
	struct vip_view v;

	err = lo < 0 ? lo : vip_view_load(s, &v);
	if (err)
		return err;
	owned = calloc(v.n ? v.n : 1, sizeof(*owned));
	errs = calloc(v.n ? v.n : 1, sizeof(*errs));
	if (!owned || !errs)
		err = -ENOMEM;
	for (size_t i = 0; !err && i < v.n; i++) {
		if (!vip_view_on_lo(&v, i))
			continue;
		if (v.e[i].val.flags & LVIP_VIP_F_LO_OWNED)
			owned[n++] = v.e[i].addr;
		else
			lvip_warn("%s stays on lo (not assigned by lvip) and is now exposed to ARP/ND",
				  vip_format(&v.e[i].addr, buf, sizeof(buf)));
	}
	if (!err && n)
		err = nl_addr_change_many(false, lo, owned, n, errs);
	if (err)
		lvip_err("down: cannot remove lvip's VIPs from lo: %s", strerror(-err));
	free(owned);
	free(errs);
	vip_view_free(&v);
	return err;
}

int cmd_down(struct cmd_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	__u32 *idx = NULL;
	struct lvip_state s;
	size_t n = 0;
	int o, err;

	optind = 0;
	while ((o = opt_next(argc, argv, "down", ":h", opts)) != -1) {
		if (o == 'h')
			return fputs(down_usage, stdout), EXIT_OK;
		return EXIT_USAGE;
	}
	if (optind < argc) {
		lvip_err("down: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	state_init(&s, c->pin_dir);
	err = pindir_lock(&s, false);
	if (err == -ENOENT) {
		lvip_info("lvip is not loaded: nothing to do");
		return EXIT_OK;
	}
	if (!err)
		err = pindir_refuse_if_watched(&s, "down");
	if (!err)
		err = state_open(&s);
	if (!err)
		err = down_lo(&s);
	if (!err) {
		stop_point("down-lo");
		err = iface_list(&s, &idx, &n);
	}
	for (size_t i = 0; !err && i < n; i++)
		err = iface_detach(&s, idx[i]);
	if (!err) {
		stop_point("down-detached");
		err = unload_pins(&s);
	}
	if (!err)
		lvip_info("lvip is down: %zu interface(s) detached, pins removed", n);
	state_close(&s);
	free(idx);
	return err ? EXIT_FAIL : EXIT_OK;
}
