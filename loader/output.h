/* SPDX-License-Identifier: GPL-2.0 */
/* output.h - what lvip shows: VIP views, counters, tables and JSON. */
#ifndef LVIP_OUTPUT_H
#define LVIP_OUTPUT_H

#include <net/if.h>
#include <json-c/json.h>

#include "nl.h"
#include "vipmap.h"

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

/* What lvip check finds (and lvip status reports when nothing is loaded). */
enum severity { SEV_EXPOSED, SEV_INFO };

struct finding {
	enum severity sev;
	const char *code; /* stable, for --json */
	char msg[384];
	char address[INET6_ADDRSTRLEN];
	char iface[LVIP_NAME_ESC]; /* as name_escape prints it */
};

struct findings {
	struct finding *f;
	size_t n;
	size_t exposed;
};

struct lvip_config;
int check_collect(struct lvip_state *s, const struct lvip_config *cfg, struct findings *fs);

json_object *reasons_json(const struct lvip_counters *c);
void json_print(json_object *o);

#endif /* LVIP_OUTPUT_H */
