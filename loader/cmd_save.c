// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_save.c - lvip save: the running state as a config file that apply
 * takes back without a change.
 *
 * The config cannot say everything the state can: a name lvip would print
 * escaped (or one the config would split, or take for a pattern) and an
 * interface that is gone become comments; a VIP that is not on lo (added
 * with --no-lo, or taken off lo since) is kept as a vip line, because
 * dropping it would unprotect it, with a comment that apply puts it on lo.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "output.h"
#include "loader.h"

/* A name an interface line holds as it is: nothing escaped, no blank, no
 * comment, no pattern character, not lo. */
static bool name_writable(const char *name)
{
	char e[LVIP_NAME_ESC];

	return *name && strcmp(name, "lo") && !strcmp(name_escape(name, e, sizeof(e)), name) &&
	       !strpbrk(name, " \t\r#*?[");
}

static const char *mode_word(__u8 xdp_mode)
{
	switch (xdp_mode) {
	case XDP_ATTACHED_DRV: return " mode=native";
	case XDP_ATTACHED_SKB: return " mode=generic";
	case LVIP_XDP_ATTACHED_LIBXDP: return " share";
	default: return "";
	}
}

/* One line per interface; how many interface lines were written. */
static size_t save_ifaces(struct lvip_state *s)
{
	struct iface_info *fs = NULL;
	char e[LVIP_NAME_ESC];
	size_t n = 0, written = 0;

	if (inspect_attached(s, &fs, &n))
		lvip_warn("save: cannot list the attached interfaces");
	for (size_t i = 0; i < n; i++) {
		const struct iface_info *f = &fs[i];

		if (f->gone) {
			printf("# interface %u is gone: not saved\n", f->ifindex);
		} else if (!name_writable(f->name)) {
			printf("# interface '%s' (ifindex %u): its name cannot be written in a config "
			       "file: not saved\n", name_escape(f->name, e, sizeof(e)), f->ifindex);
			lvip_warn("save: interface '%s' not saved: its name cannot be written in a "
				  "config file", e);
		} else {
			printf("interface %s%s%s\n", f->name, mode_word(f->xdp_mode), f->observe ? " observe" : "");
			written++;
		}
	}
	free(fs);
	return written;
}

static int save_vips(struct lvip_state *s, size_t *n)
{
	char addr[INET6_ADDRSTRLEN];
	struct vip_view v;
	int err = vip_view_load(s, &v);

	for (size_t i = 0; !err && i < v.n; i++) {
		vip_format(&v.e[i].addr, addr, sizeof(addr));
		if (!vip_view_on_lo(&v, i)) {
			printf("# %s is not on lo now (added with --no-lo, or removed since): "
			       "apply puts it on lo\n", addr);
			lvip_warn("save: VIP %s is not on lo: applying the saved file puts it on lo",
				  addr);
		}
		if (v.e[i].val.flags & LVIP_VIP_F_RELEASED)
			printf("# %s is released on this node ('lvip vip release'): apply keeps it so; "
			       "'lvip vip hide %s' hides it\n", addr, addr);
		printf("vip %s\n", addr);
	}
	*n = v.n;
	vip_view_free(&v);
	return err;
}

static int save_tunnels(struct lvip_state *s, size_t *n)
{
	char words[TUN_WORDS_MAX];
	struct tun_set ts;
	int err = tun_read(s, &ts);

	*n = 0;
	for (int t = 0; !err && t < LVIP_TUN_MAX; t++) {
		if (!ts.t[t].enabled)
			continue;
		tun_conf_words(&ts.t[t], true, words, sizeof(words));
		printf("tunnel %s%s%s\n", lvip_tun_names[t], *words ? " " : "", words);
		(*n)++;
	}
	tun_set_free(&ts);
	return err;
}

static int save_run(struct cmd_ctx *c)
{
	char when[32];
	time_t now = time(NULL);
	size_t nifs, nvips = 0, ntuns = 0;
	int err;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	printf("# lvip config written by 'lvip save' (lvip %s) from %s at %s\n", LVIP_VERSION,
	       c->s.pin_dir, when);
	nifs = save_ifaces(&c->s);
	err = save_vips(&c->s, &nvips);
	if (!err)
		err = save_tunnels(&c->s, &ntuns);
	if (!err && !nifs && !nvips && !ntuns) {
		printf("# no interface and no VIP: apply refuses an empty config "
		       "('lvip down' removes everything)\n");
		lvip_warn("save: no interface and no VIP to save: apply refuses this file");
	}
	fflush(stdout);
	return err ? EXIT_FAIL : 0;
}

const struct cmd_def cmd_save = {
	.name = "save",
	.summary = "Print the running state as a config file for 'lvip apply': an interface\n"
		   "line per attached interface (with its XDP mode, and 'observe' in observe\n"
		   "mode), a vip line per VIP, a tunnel line per tunnel type.\n"
		   "'lvip save > FILE; lvip apply -f FILE' reports no changes.\n",
	.needs = NEED_READ | NEED_LOADED, .check = cmd_no_operands, .run = save_run,
};
