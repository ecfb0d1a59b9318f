/* SPDX-License-Identifier: GPL-2.0 */
/* util.h - messages, exit statuses, host addresses, small helpers. */
#ifndef LVIP_UTIL_H
#define LVIP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit statuses (docs/cli.md, "Exit status and errors"). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,  /* run-time failure: state unchanged */
	EXIT_USAGE = 2, /* bad usage or invalid input: nothing touched */
};

/* Messages: one line each, control characters and invalid UTF-8 escaped.
 * lvip_err/lvip_warn/lvip_log to stderr ("lvip: ", "lvip: warning: ", as
 * given), lvip_info to stdout. */
void lvip_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lvip_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lvip_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lvip_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void stop_point(const char *name);
const char *human_bytes(__u64 v, char *buf, size_t len);
const char *human_count(__u64 v, char *buf, size_t len);
bool parse_u32(const char *s, __u32 min, __u32 max, __u32 *out);

/* An interface name as lvip prints it (tables, messages, JSON): a byte that
 * is not part of printable UTF-8 (a control character, invalid UTF-8) and a
 * backslash are written as \xNN, so that the output stays valid UTF-8 on
 * one line and the name can be told. buf of len bytes; LVIP_NAME_ESC holds
 * any name. */
#define LVIP_NAME_ESC 64 /* (IFNAMSIZ - 1) * 4 + 1, rounded up */
const char *name_escape(const char *in, char *buf, size_t len);

/* Append item (size bytes) to the growable array *arr of *n items with room
 * for *cap. 0, or -ENOMEM (the array unchanged). */
int vec_push(void *arr, size_t *n, size_t *cap, size_t size, const void *item);

static inline void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* An IPv4 or IPv6 host address. */
struct vip_addr {
	int family; /* AF_INET or AF_INET6 */
	union {
		__u8 v4[4];
		__u8 v6[16];
		__u8 bytes[16];
	};
};

int vip_parse(const char *text, struct vip_addr *out, const char **why);
const char *vip_format(const struct vip_addr *a, char *buf, size_t len);
bool vip_equal(const struct vip_addr *a, const struct vip_addr *b);
int vip_cmp(const void *a, const void *b);
bool vip_sorted_has(const struct vip_addr *v, size_t n, const struct vip_addr *a);
static inline size_t vip_len(const struct vip_addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

#endif /* LVIP_UTIL_H */
