/* SPDX-License-Identifier: GPL-2.0 */
/*
 * output.h - what lvip shows, written once for text and JSON.
 *
 * As in iproute2's print_*(PRINT_ANY, ...): a view calls out_*() once per
 * field, with the JSON key and the text format; in text mode the value is
 * printed with the format (nothing when it is NULL), in JSON mode it goes
 * into the object or array being built under the key. out_text() is text
 * only, out_json_*() JSON only, for the few places where the two differ.
 * Tables are lists of columns (struct column) printed by the same calls.
 */
#ifndef LVIP_OUTPUT_H
#define LVIP_OUTPUT_H

#include "loader.h"

extern const char *const lvip_reason_names[LVIP_R_MAX];
const char *reason_label(int r); /* the name in capitals, for table headers */

void out_start(bool json);
void out_start_text(FILE *f); /* text to f (watch: stderr) */
bool out_is_json(void);
void out_end(bool one_line); /* JSON: print the document */
void out_open(const char *key);       /* an object (key NULL: in an array, or the top) */
void out_open_array(const char *key); /* an array (key NULL: the top) */
void out_close(void);
void out_str(const char *key, const char *fmt, const char *v);
void out_u64(const char *key, const char *fmt, __u64 v);
void out_bool(const char *key, const char *fmt, bool v);
void out_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_json_str(const char *key, const char *v);

/* A table column: key (JSON), label (header; NULL: JSON only), the spaces
 * before it (text), width (negative: left-aligned). */
enum col_kind { COL_STR, COL_U32, COL_COUNT, COL_BYTES, COL_YESNO, COL_FAMILY };

struct column {
	const char *key;
	const char *label;
	int pad, width;
	enum col_kind kind;
};

struct cell {
	const char *s;
	__u64 v;
};

/* One row: cells in the columns' order. */
void out_row(const struct column *cols, size_t n, const struct cell *cells, const int *widths);
void out_header(const struct column *cols, size_t n, const int *widths);
/* Tables print counters and byte counts in full (--exact), not 1.2k, 3.4 MiB. */
void out_exact(bool on);

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
void vip_view_show(const struct vip_view *v, const char *key); /* table or array */
void reasons_show(const char *key, const struct lvip_counters *c);
const char *enforcement_name(bool observe); /* an interface's mode: "observe", "enforce" */

/* The tunnels (cmd_tunnel.c): the settings and every type's counters. */
struct tun_view {
	struct tun_set set;
	struct lvip_tuncounters c[LVIP_TUN_MAX];
};

#define TUN_WORDS_MAX 1024 /* the settings as words; more peers are cut short */

int tun_view_load(const struct lvip_state *s, struct tun_view *v);
void tun_view_free(struct tun_view *v);
void tun_view_show(const struct tun_view *v, const char *key, bool table); /* enabled types */
void tun_stats_show(const struct tun_view *v, const char *key);            /* every type */
void tun_prometheus(const struct tun_view *v);
const char *tun_conf_words(const struct tun_conf *t, bool cfg, char *buf, size_t len);

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
	size_t n, cap;
	size_t exposed;
};

void add_finding(struct findings *fs, enum severity sev, const char *code, const char *addr,
		 const char *iface, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
struct lvip_config;
int check_collect(struct lvip_state *s, const struct lvip_config *cfg, struct findings *fs);

#endif /* LVIP_OUTPUT_H */
