/* SPDX-License-Identifier: GPL-2.0 */
/* output.h - what lvip shows: VIP views, counters, tables and JSON. */
#ifndef LVIP_OUTPUT_H
#define LVIP_OUTPUT_H

#include <json-c/json.h>

#include "loader.h"

extern const char *const lvip_reason_names[LVIP_R_MAX];

/* The VIPs of the maps with what lo holds: enough for list and stats. */
struct vip_view {
	struct vip_entry *e;
	size_t n;
	struct addr_list lo;
};

int vip_view_load(const struct lvip_state *s, struct vip_view *v);
void vip_view_free(struct vip_view *v);
bool vip_view_on_lo(const struct vip_view *v, size_t i);
bool vip_view_has(const struct vip_view *v, const struct vip_addr *a);
const char *vip_owner(const struct vip_entry *e);
json_object *vip_view_json(const struct vip_view *v);
void vip_view_table(const struct vip_view *v);

json_object *reasons_json(const struct lvip_counters *c);
void json_print(json_object *o);

#endif /* LVIP_OUTPUT_H */
