// SPDX-License-Identifier: GPL-2.0
/* output.c - VIP views, counters, tables and JSON shared by the commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

const char *const lvip_reason_names[LVIP_R_MAX] = LVIP_REASON_NAMES;

int vip_view_load(const struct lvip_state *s, struct vip_view *v)
{
	int err;

	memset(v, 0, sizeof(*v));
	if (s->map_fd[M_VIP4] < 0 || s->map_fd[M_VIP6] < 0)
		return 0;
	err = vip_collect(s, &v->e, &v->n);
	if (!err)
		err = lo_addr_dump(&v->lo);
	if (err)
		lvip_err("cannot read the VIPs: %s", strerror(-err));
	return err;
}

void vip_view_free(struct vip_view *v)
{
	free(v->e);
	addr_list_free(&v->lo);
	memset(v, 0, sizeof(*v));
}

bool vip_view_on_lo(const struct vip_view *v, size_t i)
{
	return addr_list_has(&v->lo, &v->e[i].addr);
}

static int entry_cmp(const void *key, const void *elem)
{
	return vip_cmp(key, &((const struct vip_entry *)elem)->addr);
}

/* The entries are sorted by vip_collect(). */
bool vip_view_has(const struct vip_view *v, const struct vip_addr *a)
{
	return v->n && bsearch(a, v->e, v->n, sizeof(*v->e), entry_cmp) != NULL;
}

const char *vip_owner(const struct vip_entry *e)
{
	return e->val.flags & LVIP_VIP_F_LO_OWNED ? "lvip" : "found";
}

static json_object *u64_json(__u64 v)
{
	return json_object_new_uint64(v);
}

json_object *vip_view_json(const struct vip_view *v)
{
	json_object *arr = json_object_new_array();
	char buf[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < v->n; i++) {
		const struct vip_entry *e = &v->e[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "address", json_object_new_string(vip_format(&e->addr, buf, sizeof(buf))));
		json_object_object_add(o, "family", json_object_new_int(e->addr.family == AF_INET ? 4 : 6));
		json_object_object_add(o, "on_lo", json_object_new_boolean(vip_view_on_lo(v, i)));
		json_object_object_add(o, "owner", json_object_new_string(vip_owner(e)));
		json_object_object_add(o, "packets", u64_json(e->val.packets));
		json_object_object_add(o, "bytes", u64_json(e->val.bytes));
		json_object_object_add(o, "arp_dropped", u64_json(e->val.arp_dropped));
		json_object_object_add(o, "nd_dropped", u64_json(e->val.nd_dropped));
		json_object_array_add(arr, o);
	}
	return arr;
}

void vip_view_table(const struct vip_view *v)
{
	char addr[INET6_ADDRSTRLEN], p[32], b[32], a[32], n[32];
	int w = 15;

	for (size_t i = 0; i < v->n; i++) {
		int len = (int)strlen(vip_format(&v->e[i].addr, addr, sizeof(addr)));

		if (len > w)
			w = len;
	}
	if (!v->n) {
		printf("no VIPs\n");
		return;
	}
	printf("%-*s  %-5s  %-5s  %10s  %10s  %11s  %10s\n", w, "VIP", "ON_LO", "OWNER",
	       "PACKETS", "BYTES", "ARP_DROPPED", "ND_DROPPED");
	for (size_t i = 0; i < v->n; i++) {
		const struct vip_entry *e = &v->e[i];

		printf("%-*s  %-5s  %-5s  %10s  %10s  %11s  %10s\n", w,
		       vip_format(&e->addr, addr, sizeof(addr)), vip_view_on_lo(v, i) ? "yes" : "no",
		       vip_owner(e), human_count(e->val.packets, p, sizeof(p)),
		       human_bytes(e->val.bytes, b, sizeof(b)),
		       human_count(e->val.arp_dropped, a, sizeof(a)),
		       human_count(e->val.nd_dropped, n, sizeof(n)));
	}
}

json_object *reasons_json(const struct lvip_counters *c)
{
	json_object *o = json_object_new_object();
	const __u64 *slot = (const __u64 *)c;

	for (int r = 0; r < LVIP_R_MAX; r++)
		json_object_object_add(o, lvip_reason_names[r], u64_json(slot[r]));
	return o;
}

void json_print(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}
