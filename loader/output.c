// SPDX-License-Identifier: GPL-2.0
/* output.c - the text/JSON printer, tables, the VIP view and the reasons. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "output.h"

const char *const lvip_reason_names[LVIP_R_MAX] = LVIP_REASON_NAMES;

const char *reason_label(int r)
{
	static char labels[LVIP_R_MAX][24];

	if (!labels[r][0])
		for (size_t i = 0; lvip_reason_names[r][i] && i + 1 < sizeof(labels[r]); i++)
			labels[r][i] = (char)toupper((unsigned char)lvip_reason_names[r][i]);
	return labels[r];
}

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

static const char *vip_owner(const struct vip_entry *e)
{
	return e->val.flags & LVIP_VIP_F_LO_OWNED ? "lvip" : "found";
}

/* ---- the printer ---- */

#define OUT_DEPTH 8

static struct {
	bool json;
	FILE *f;  /* text goes there */
	const char *line_prefix; /* written at the start of each text line */
	bool mid_line;
	json_object *stack[OUT_DEPTH]; /* stack[0]: the document */
	int depth;
} out;

void out_start(bool json)
{
	memset(&out, 0, sizeof(out));
	out.json = json;
	out.f = stdout;
}

void out_start_text(FILE *f)
{
	out_start(false);
	out.f = f;
	if (f == stderr && *log_prefix(LOG_PRI_INFO))
		out.line_prefix = log_prefix(LOG_PRI_INFO);
}

bool out_is_json(void)
{
	return out.json;
}

/* Put o into the innermost object (under key) or array. */
static void out_put(const char *key, json_object *o)
{
	json_object *top = out.depth ? out.stack[out.depth - 1] : NULL;

	if (!top) {
		json_object_put(out.stack[0]);
		out.stack[0] = o; /* a top-level value */
	} else if (json_object_is_type(top, json_type_array)) {
		json_object_array_add(top, o);
	} else {
		json_object_object_add(top, key, o);
	}
}

/* o (a new object or array) is where the next values go, until out_close. */
static void out_push(const char *key, json_object *o)
{
	out_put(key, o);
	if (out.depth < OUT_DEPTH)
		out.stack[out.depth++] = o;
}

void out_open(const char *key)
{
	if (out.json)
		out_push(key, json_object_new_object());
}

void out_open_array(const char *key)
{
	if (out.json)
		out_push(key, json_object_new_array());
}

void out_close(void)
{
	if (out.json && out.depth > 1)
		out.depth--;
}

void out_end(bool one_line)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (one_line ? JSON_C_TO_STRING_PLAIN : JSON_C_TO_STRING_PRETTY);

	if (out.json && out.stack[0])
		puts(json_object_to_json_string_ext(out.stack[0], flags));
	if (out.json)
		json_object_put(out.stack[0]);
	fflush(out.f);
	out_start(out.json);
}

void out_str(const char *key, const char *fmt, const char *v)
{
	if (out.json)
		out_put(key, json_object_new_string(v));
	else if (fmt)
		out_text(fmt, v);
}

void out_u64(const char *key, const char *fmt, __u64 v)
{
	if (out.json)
		out_put(key, json_object_new_uint64(v));
	else if (fmt)
		out_text(fmt, (unsigned long long)v);
}

void out_bool(const char *key, const char *fmt, bool v)
{
	if (out.json)
		out_put(key, json_object_new_boolean(v));
	else if (fmt)
		out_text(fmt, v ? "yes" : "no");
}

void out_json_str(const char *key, const char *v)
{
	out_str(key, NULL, v);
}

/* All text goes through here, so that under a line prefix (watch's lines
 * in the journal) each line of it gets one. */
void out_text(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	if (out.json)
		return;
	va_start(ap, fmt);
	if (out.line_prefix)
		vsnprintf(buf, sizeof(buf), fmt, ap);
	else
		vfprintf(out.f, fmt, ap);
	va_end(ap);
	for (const char *p = buf; out.line_prefix && *p;) {
		size_t n = strcspn(p, "\n");

		if (!out.mid_line)
			fputs(out.line_prefix, out.f);
		fwrite(p, 1, n + (p[n] == '\n'), out.f);
		out.mid_line = p[n] != '\n';
		p += n + (p[n] == '\n');
	}
}

/* ---- tables ---- */

static bool exact; /* numbers in full, not 1.2k or 3.4 MiB; kept across out_start */

void out_exact(bool on)
{
	exact = on;
}

/* A counter or byte count as a table shows it. */
static const char *num_text(__u64 v, bool bytes, char *buf, size_t len)
{
	if (exact) {
		snprintf(buf, len, "%llu", (unsigned long long)v);
		return buf;
	}
	return bytes ? human_bytes(v, buf, len) : human_count(v, buf, len);
}

void out_header(const struct column *cols, size_t n, const int *widths)
{
	for (size_t i = 0; i < n; i++)
		if (cols[i].label)
			out_text("%*s%*s", cols[i].pad, "", widths ? widths[i] : cols[i].width,
				 cols[i].label);
	out_text("\n");
}

/* The text of one cell (the JSON value is the number itself). */
static const char *cell_text(const struct column *c, const struct cell *v, char *buf, size_t len)
{
	switch (c->kind) {
	case COL_COUNT: return num_text(v->v, false, buf, len);
	case COL_BYTES: return num_text(v->v, true, buf, len);
	case COL_YESNO: return v->v ? "yes" : "no";
	case COL_U32: snprintf(buf, len, "%llu", (unsigned long long)v->v); return buf;
	default: return v->s;
	}
}

/* Widen widths (as in struct column) so that the row's cells fit. */
static void out_fit(const struct column *cols, size_t n, const struct cell *cells, int *widths)
{
	char buf[32];

	for (size_t i = 0; i < n; i++) {
		int len;

		if (!cols[i].label)
			continue;
		len = (int)strlen(cell_text(&cols[i], &cells[i], buf, sizeof(buf)));
		if (widths[i] < 0 && len > -widths[i])
			widths[i] = -len;
		else if (widths[i] >= 0 && len > widths[i])
			widths[i] = len;
	}
}

void out_row(const struct column *cols, size_t n, const struct cell *cells, const int *widths)
{
	char buf[32];

	out_open(NULL);
	for (size_t i = 0; i < n; i++) {
		const struct column *c = &cols[i];

		if (out.json) {
			if (c->kind == COL_STR)
				out_json_str(c->key, cells[i].s);
			else if (c->kind == COL_YESNO)
				out_bool(c->key, NULL, cells[i].v);
			else
				out_u64(c->key, NULL, cells[i].v);
		} else if (c->label) {
			out_text("%*s%*s", c->pad, "", widths ? widths[i] : c->width,
				 cell_text(c, &cells[i], buf, sizeof(buf)));
		}
	}
	out_text("\n");
	out_close();
}

/* ---- the VIP view ---- */

static const struct column vip_cols[] = {
	{ "address", "VIP", 0, -15, COL_STR },
	{ "family", NULL, 0, 0, COL_FAMILY },
	{ "on_lo", "ON_LO", 2, -5, COL_YESNO },
	{ "owner", "OWNER", 2, -5, COL_STR },
	{ "released", "RELEASED", 2, -8, COL_YESNO },
	{ "packets", "PACKETS", 2, 10, COL_COUNT },
	{ "bytes", "BYTES", 2, 10, COL_BYTES },
	{ "arp_dropped", "ARP_DROPPED", 2, 11, COL_COUNT },
	{ "nd_dropped", "ND_DROPPED", 2, 10, COL_COUNT },
};

static void vip_cells(const struct vip_view *v, size_t i, char *addr, struct cell *c)
{
	const struct vip_entry *e = &v->e[i];
	const struct cell cells[] = {
		{ vip_format(&e->addr, addr, INET6_ADDRSTRLEN), 0 },
		{ NULL, e->addr.family == AF_INET ? 4 : 6 },
		{ NULL, vip_view_on_lo(v, i) },
		{ vip_owner(e), 0 },
		{ NULL, (e->val.flags & LVIP_VIP_F_RELEASED) != 0 },
		{ NULL, e->val.packets },
		{ NULL, e->val.bytes },
		{ NULL, e->val.arp_dropped },
		{ NULL, e->val.nd_dropped },
	};

	memcpy(c, cells, sizeof(cells));
}

void vip_view_show(const struct vip_view *v, const char *key)
{
	char addr[INET6_ADDRSTRLEN];
	int widths[ARRAY_SIZE(vip_cols)];
	struct cell c[ARRAY_SIZE(vip_cols)];

	for (size_t i = 0; i < ARRAY_SIZE(vip_cols); i++)
		widths[i] = vip_cols[i].width;
	for (size_t i = 0; i < v->n; i++) {
		vip_cells(v, i, addr, c);
		out_fit(vip_cols, ARRAY_SIZE(vip_cols), c, widths);
	}
	out_open_array(key);
	if (!v->n)
		out_text("no VIPs\n");
	else
		out_header(vip_cols, ARRAY_SIZE(vip_cols), widths);
	for (size_t i = 0; i < v->n; i++) {
		vip_cells(v, i, addr, c);
		out_row(vip_cols, ARRAY_SIZE(vip_cols), c, widths);
	}
	out_close();
}

/* The reasons as an object (JSON) or REASON PACKETS lines (text). */
void reasons_show(const char *key, const struct lvip_counters *c)
{
	const __u64 *slot = (const __u64 *)c;
	char buf[32];

	out_open(key);
	out_text("%-18s %12s\n", "REASON", "PACKETS");
	for (int r = 0; r < LVIP_R_MAX; r++) {
		out_text("%-18s %12s\n", lvip_reason_names[r], num_text(slot[r], false, buf, sizeof(buf)));
		out_u64(lvip_reason_names[r], NULL, slot[r]);
	}
	out_close();
}
