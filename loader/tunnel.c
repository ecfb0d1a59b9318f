// SPDX-License-Identifier: GPL-2.0
/*
 * tunnel.c - the LVS-TUN maps: lvip_tunnel (what each tunnel type
 * decapsulates) and lvip_tunaddr (this host's addresses, LOCAL, and the
 * directors allowed per type, PEER(type)).
 *
 * Every change goes through tun_write(), in the order that never lets the
 * datapath see less than it should during the change: first every address
 * entry gets the union of its old and new bits, then the lvip_tunnel
 * entries are written, then the entries get exactly their new bits (or
 * go). A failure part-way puts the old entries and addresses back.
 *
 * The LOCAL entries are this host's addresses while a tunnel type is
 * enabled, and none when no type is: a host that decapsulates nothing
 * keeps nothing in the map to go stale.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>

#include "loader.h"

const char *const lvip_tun_names[LVIP_TUN_MAX] = LVIP_TUN_NAMES;

int tun_type_parse(const char *s)
{
	for (int t = 0; t < LVIP_TUN_MAX; t++)
		if (!strcmp(s, lvip_tun_names[t]))
			return t;
	return -1;
}

int tun_mss_parse(const char *s, __u16 *mss)
{
	__u32 v;

	if (!strcmp(s, "auto")) {
		*mss = LVIP_MSS_AUTO;
		return 0;
	}
	if (!parse_u32(s, LVIP_TUN_MSS_MIN, LVIP_TUN_MSS_MAX, &v))
		return -EINVAL;
	*mss = (__u16)v;
	return 0;
}

const char *tun_mss_text(__u16 mss, char *buf, size_t len)
{
	if (mss == LVIP_MSS_OFF)
		return "off";
	if (mss == LVIP_MSS_AUTO)
		return "auto";
	snprintf(buf, len, "%u", mss);
	return buf;
}

/* ---- tun_conf, tun_set ---- */

/* Keeps the peers sorted and distinct (a handful: a director or two). */
int tun_peer_add(struct tun_conf *t, const struct vip_addr *a)
{
	int err;

	if (vip_sorted_has(t->peers, t->npeers, a))
		return 0;
	err = vec_push(&t->peers, &t->npeers, &t->cap, sizeof(*a), a);
	if (!err)
		qsort(t->peers, t->npeers, sizeof(*t->peers), vip_cmp);
	return err;
}

void tun_set_free(struct tun_set *ts)
{
	for (int t = 0; t < LVIP_TUN_MAX; t++)
		free(ts->t[t].peers);
	memset(ts, 0, sizeof(*ts));
}

bool tun_conf_equal(const struct tun_conf *a, const struct tun_conf *b)
{
	if (a->enabled != b->enabled)
		return false;
	if (!a->enabled)
		return true;
	return a->port == b->port && a->mss == b->mss && a->npeers == b->npeers &&
	       (!a->npeers || !memcmp(a->peers, b->peers, a->npeers * sizeof(*a->peers)));
}

bool tun_any_enabled(const struct tun_set *ts)
{
	for (int t = 0; t < LVIP_TUN_MAX; t++)
		if (ts->t[t].enabled)
			return true;
	return false;
}

/* The map's value of a type's settings. */
static struct lvip_tunnel tun_value(const struct tun_conf *c)
{
	struct lvip_tunnel v = {};

	if (!c->enabled)
		return v;
	v.flags = LVIP_TUN_F_ENABLED | (c->npeers ? LVIP_TUN_F_PEERS : 0);
	v.port = htons(c->port);
	v.mss = c->mss;
	return v;
}

/* ---- lvip_tunaddr, as a sorted array ---- */

struct ta_entry {
	struct vip_addr addr;
	__u32 bits;
};

struct ta_list {
	struct ta_entry *e;
	size_t n, cap;
};

static const __u8 v4mapped[12] = { [10] = 0xff, [11] = 0xff };

static struct lvip_tunaddr_key ta_key(const struct vip_addr *a)
{
	struct lvip_tunaddr_key k = {};

	if (a->family == AF_INET) {
		memcpy(k.addr, v4mapped, 12);
		memcpy(k.addr + 12, a->v4, 4);
	} else {
		memcpy(k.addr, a->v6, 16);
	}
	return k;
}

static struct vip_addr ta_addr(const struct lvip_tunaddr_key *k)
{
	struct vip_addr a = { .family = AF_INET6 };

	if (!memcmp(k->addr, v4mapped, 12)) {
		a.family = AF_INET;
		memcpy(a.v4, k->addr + 12, 4);
	} else {
		memcpy(a.v6, k->addr, 16);
	}
	return a;
}

static int ta_cmp(const void *a, const void *b)
{
	return vip_cmp(&((const struct ta_entry *)a)->addr, &((const struct ta_entry *)b)->addr);
}

static struct ta_entry *ta_find(const struct ta_list *l, const struct vip_addr *a)
{
	struct ta_entry key = { .addr = *a };

	return l->n ? bsearch(&key, l->e, l->n, sizeof(*l->e), ta_cmp) : NULL;
}

static __u32 ta_bits(const struct ta_list *l, const struct vip_addr *a)
{
	const struct ta_entry *e = ta_find(l, a);

	return e ? e->bits : 0;
}

/* Add bits to a's entry (the list is sorted again by ta_sort). */
static int ta_or(struct ta_list *l, const struct vip_addr *a, __u32 bits)
{
	struct ta_entry e = { .addr = *a, .bits = bits };

	for (size_t i = 0; i < l->n; i++)
		if (vip_equal(&l->e[i].addr, a))
			return l->e[i].bits |= bits, 0;
	return vec_push(&l->e, &l->n, &l->cap, sizeof(e), &e);
}

static void ta_sort(struct ta_list *l)
{
	if (l->n)
		qsort(l->e, l->n, sizeof(*l->e), ta_cmp);
}

static int ta_dump(const struct lvip_state *s, struct ta_list *out)
{
	struct lvip_tunaddr_key k, next;
	void *prev = NULL;
	int err = 0;

	memset(out, 0, sizeof(*out));
	for (int i = 0; !err && i <= 2 * LVIP_TUNADDR_MAX; i++) { /* bounded: entries may come and go */
		struct ta_entry e;

		if (bpf_map_get_next_key(s->map_fd[M_TUNADDR], prev, &next))
			break;
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(s->map_fd[M_TUNADDR], &k, &e.bits))
			continue;
		e.addr = ta_addr(&k);
		err = vec_push(&out->e, &out->n, &out->cap, sizeof(e), &e);
	}
	ta_sort(out);
	return err;
}

static int ta_set(const struct lvip_state *s, const struct vip_addr *a, __u32 bits)
{
	struct lvip_tunaddr_key k = ta_key(a);
	int ret = bits ? bpf_map_update_elem(s->map_fd[M_TUNADDR], &k, &bits, BPF_ANY) :
		  bpf_map_delete_elem(s->map_fd[M_TUNADDR], &k);

	return ret && !(errno == ENOENT && !bits) ? -errno : 0;
}

/* ---- this host's addresses ---- */

static bool host_loopback(const struct vip_addr *a)
{
	static const __u8 v6_lo[16] = { [15] = 1 };

	return a->family == AF_INET ? a->v4[0] == 127 : !memcmp(a->v6, v6_lo, 16);
}

const char *tun_peer_guard(const struct vip_addr *a, const struct addr_list *all)
{
	return addr_list_has(all, a) ? "one of this host's own addresses (a peer is a director "
				       "that sends to this host)" : NULL;
}

/* ---- reading and writing ---- */

static bool tun_maps_open(const struct lvip_state *s)
{
	return s->map_fd[M_TUNNEL] >= 0 && s->map_fd[M_TUNADDR] >= 0;
}

int tun_read(const struct lvip_state *s, struct tun_set *out)
{
	struct ta_list l = {};
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (!tun_maps_open(s))
		return 0;
	for (__u32 t = 0; !err && t < LVIP_TUN_MAX; t++) {
		struct lvip_tunnel v;

		if (bpf_map_lookup_elem(s->map_fd[M_TUNNEL], &t, &v))
			err = -errno;
		else if (v.flags & LVIP_TUN_F_ENABLED)
			out->t[t] = (struct tun_conf){ .enabled = true, .port = ntohs(v.port), .mss = v.mss };
	}
	if (!err)
		err = ta_dump(s, &l);
	for (size_t i = 0; !err && i < l.n; i++)
		for (int t = 0; !err && t < LVIP_TUN_MAX; t++)
			if (out->t[t].enabled && (l.e[i].bits & LVIP_TUNADDR_PEER(t)))
				err = vec_push(&out->t[t].peers, &out->t[t].npeers, &out->t[t].cap,
					       sizeof(l.e[i].addr), &l.e[i].addr);
	free(l.e);
	if (err)
		tun_set_free(out);
	return err; /* the peers are in map order: sorted (ta_dump) */
}

/* What lvip_tunaddr must hold for ts: PEER(type) for each enabled type's
 * peers and, while a type is enabled, LOCAL for every interface's addresses
 * of scope below host, but loopback ones and lo's addresses that are VIPs
 * (an address on two interfaces is one entry). */
static int ta_want(const struct lvip_state *s, const struct tun_set *ts, struct ta_list *w)
{
	struct addr_list all = {};
	struct lvip_vip_val val;
	int lo = lo_ifindex(), err = tun_any_enabled(ts) ? nl_addr_dump(AF_UNSPEC, 0, &all) : 0;

	memset(w, 0, sizeof(*w));
	for (size_t i = 0; !err && i < all.n; i++) {
		const struct if_addr *a = &all.a[i];

		if (a->scope >= RT_SCOPE_HOST || host_loopback(&a->addr))
			continue;
		if ((int)a->ifindex == lo && vip_lookup(s, &a->addr, &val) != -ENOENT)
			continue;
		err = ta_or(w, &a->addr, LVIP_TUNADDR_LOCAL);
	}
	addr_list_free(&all);
	for (int t = 0; !err && t < LVIP_TUN_MAX; t++)
		for (size_t i = 0; !err && ts->t[t].enabled && i < ts->t[t].npeers; i++)
			err = ta_or(w, &ts->t[t].peers[i], LVIP_TUNADDR_PEER(t));
	ta_sort(w);
	return err;
}

/* Make the map hold exactly want's entries, starting from have (what it
 * holds); only_add: only add bits (the union of both). */
static int ta_apply(const struct lvip_state *s, const struct ta_list *have,
		    const struct ta_list *want, bool only_add)
{
	int err = 0;

	for (size_t i = 0; !err && i < want->n; i++) {
		__u32 old = ta_bits(have, &want->e[i].addr), v = want->e[i].bits | (only_add ? old : 0);

		if (v != old)
			err = ta_set(s, &want->e[i].addr, v);
	}
	for (size_t i = 0; !err && !only_add && i < have->n; i++)
		if (!ta_find(want, &have->e[i].addr))
			err = ta_set(s, &have->e[i].addr, 0);
	return err;
}

/* How many LOCAL entries a differs from b by. */
static size_t local_only_in(const struct ta_list *a, const struct ta_list *b)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n; i++)
		n += (a->e[i].bits & ~ta_bits(b, &a->e[i].addr) & LVIP_TUNADDR_LOCAL) != 0;
	return n;
}

/* lvip_tunlocal as the LOCAL entries of l (sorted) make it. */
static struct lvip_tunlocal tunlocal_of(const struct ta_list *l)
{
	struct lvip_tunlocal v = {};

	for (size_t i = 0; i < l->n; i++)
		if (l->e[i].bits & LVIP_TUNADDR_LOCAL)
			tunlocal_add(&v, &l->e[i].addr);
	return v;
}

static int tunnels_store(const struct lvip_state *s, const struct lvip_tunnel *v)
{
	for (__u32 t = 0; t < LVIP_TUN_MAX; t++)
		if (bpf_map_update_elem(s->map_fd[M_TUNNEL], &t, &v[t], BPF_ANY))
			return -errno;
	return 0;
}

/* Put the old entries and addresses back after a failure part-way. */
static void tun_rollback(const struct lvip_state *s, const struct lvip_tunnel *old,
			 const struct ta_list *have)
{
	struct lvip_tunlocal none = {}, was = tunlocal_of(have);
	struct ta_list now;

	tunnels_store(s, old);
	tunlocal_store(s, &none);
	if (!ta_dump(s, &now) && !ta_apply(s, &now, have, false))
		tunlocal_store(s, &was);
	free(now.e);
}

int tun_write(struct lvip_state *s, const struct tun_set *want, struct tun_delta *d)
{
	struct lvip_tunnel old[LVIP_TUN_MAX], val[LVIP_TUN_MAX];
	struct ta_list have = {}, w = {}, mid = {};
	int err = 0;

	if (d)
		memset(d, 0, sizeof(*d));
	if (!tun_maps_open(s))
		return -ENOENT;
	for (__u32 t = 0; !err && t < LVIP_TUN_MAX; t++) {
		val[t] = tun_value(&want->t[t]);
		if (bpf_map_lookup_elem(s->map_fd[M_TUNNEL], &t, &old[t]))
			err = -errno;
	}
	if (!err)
		err = ta_dump(s, &have);
	if (!err)
		err = ta_want(s, want, &w);
	if (err)
		goto out;
	err = ta_apply(s, &have, &w, true);
	if (!err)
		err = tunnels_store(s, val);
	if (!err) {
		struct lvip_tunlocal fast = tunlocal_of(&w); /* w's LOCAL: all in the map now */

		err = tunlocal_store(s, &fast);
	}
	if (!err)
		err = ta_dump(s, &mid);
	if (!err)
		err = ta_apply(s, &mid, &w, false);
	if (err)
		tun_rollback(s, old, &have);
	else if (d)
		*d = (struct tun_delta){ local_only_in(&w, &have), local_only_in(&have, &w) };
out:
	free(have.e);
	free(w.e);
	free(mid.e);
	return err;
}

int tunaddr_refresh(struct lvip_state *s, struct tun_delta *d)
{
	struct tun_set cur;
	int err;

	if (d)
		memset(d, 0, sizeof(*d));
	if (!tun_maps_open(s))
		return 0;
	err = tun_read(s, &cur);
	if (!err)
		err = tun_write(s, &cur, d);
	tun_set_free(&cur);
	return err;
}

bool tunaddr_stale(const struct lvip_state *s)
{
	struct ta_list l = {}, w = {};
	struct tun_set cur;
	bool stale = false;

	if (!tun_maps_open(s) || tun_read(s, &cur))
		return false;
	if (tun_any_enabled(&cur) && !ta_want(s, &cur, &w) && !ta_dump(s, &l)) {
		struct lvip_tunlocal fast = tunlocal_of(&l);

		stale = local_only_in(&w, &l) || local_only_in(&l, &w) || !tunlocal_is(s, &fast);
	}
	free(w.e);
	free(l.e);
	tun_set_free(&cur);
	return stale;
}

int tun_counters_read(const struct lvip_state *s, __u32 type, struct lvip_tuncounters *sum)
{
	struct lvip_tuncounters *v;
	int err = 0;

	memset(sum, 0, sizeof(*sum));
	if (s->map_fd[M_TUNSTATS] < 0)
		return 0;
	v = calloc(s->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(s->map_fd[M_TUNSTATS], &type, v))
		err = -errno;
	for (int c = 0; !err && c < s->ncpus; c++)
		for (int r = 0; r < LVIP_T_MAX; r++)
			((__u64 *)sum)[r] += ((const __u64 *)&v[c])[r];
	free(v);
	return err;
}
