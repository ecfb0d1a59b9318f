// SPDX-License-Identifier: GPL-2.0
/* util.c - messages, VIP address validation, human units, option parsing. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"

/* The length of the character at s (1 to 4 bytes) if it is valid UTF-8 and
 * printable (not C0, DEL or C1), else 0. */
static size_t utf8_printable(const unsigned char *s)
{
	size_t n;
	__u32 cp;

	if (s[0] >= 0x20 && s[0] < 0x7f)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* a NUL too */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < 0xa0 || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0; /* C1, overlong, beyond Unicode, surrogate */
	return n;
}

/* The character at s into out: as it is if it is printable UTF-8 (and not a
 * backslash, with backslash), else its first byte as \xNN. Returns how many
 * bytes of s it took. */
static size_t escape_char(const unsigned char *s, bool backslash, char out[5])
{
	size_t n = utf8_printable(s);

	if (n && !(backslash && *s == '\\')) {
		memcpy(out, s, n);
		out[n] = '\0';
		return n;
	}
	snprintf(out, 5, "\\x%02x", *s);
	return 1;
}

const char *name_escape(const char *in, char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;
	char one[5];

	if (!len)
		return buf;
	buf[0] = '\0';
	while (*s) {
		size_t n = escape_char(s, true, one), k = strlen(one);

		if (o + k >= len)
			break;
		memcpy(buf + o, one, k + 1);
		o += k;
		s += n;
	}
	return buf;
}

/* systemd sets JOURNAL_STREAM=DEV:INO for a unit whose stdout or stderr is
 * the journal. A stderr that a script of the unit redirected elsewhere (a
 * file, a pipe) is not DEV:INO and gets no prefixes. */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!env)
		return false;
	if (sscanf(env, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st))
		return true;
	return st.st_dev == dev && st.st_ino == ino;
}

const char *log_prefix(int priority)
{
	static const char *const prefixes[8] = { "<0>", "<1>", "<2>", "<3>", "<4>", "<5>", "<6>", "<7>" };
	static int journal = -1;

	if (journal < 0)
		journal = stderr_is_journal();
	return journal && priority >= 0 && priority < 8 ? prefixes[priority] : "";
}

/* prefix (log_prefix), lead, then the message on one line, always: control
 * characters and bytes that are not UTF-8 that came from user input (a VIP,
 * a file name, a config line) are shown as \xNN, never as line breaks or as
 * bytes a terminal or a log would take. */
static void vmsg(FILE *f, const char *prefix, const char *lead, const char *fmt, va_list ap)
{
	char buf[2048], one[5];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	fputs(prefix, f);
	fputs(lead, f);
	for (const unsigned char *c = (const unsigned char *)buf; *c;) {
		c += escape_char(c, false, one);
		fputs(one, f);
	}
	fputc('\n', f);
}

/* The body of the message functions below: vmsg with their arguments. */
#define VMSG(f, prefix, lead)                   \
	do {                                    \
		va_list ap;                     \
						\
		va_start(ap, fmt);              \
		vmsg(f, prefix, lead, fmt, ap); \
		va_end(ap);                     \
	} while (0)

void lvip_err(const char *fmt, ...)
{
	VMSG(stderr, log_prefix(LOG_PRI_ERR), "lvip: ");
}

void lvip_warn(const char *fmt, ...)
{
	VMSG(stderr, log_prefix(LOG_PRI_WARNING), "lvip: warning: ");
}

/* A line of watch's log (stderr, the journal under systemd). */
void lvip_log(const char *fmt, ...)
{
	VMSG(stderr, log_prefix(LOG_PRI_INFO), "lvip ");
}

void lvip_info(const char *fmt, ...)
{
	VMSG(stdout, "", "");
}

int vec_push(void *arr, size_t *n, size_t *cap, size_t size, const void *item)
{
	void **p = arr;

	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *q = realloc(*p, ncap * size);

		if (!q)
			return -ENOMEM;
		*p = q;
		*cap = ncap;
	}
	memcpy((char *)*p + *n * size, item, size);
	(*n)++;
	return 0;
}

/* Tests aim kills at the narrow windows between two steps: with
 * LVIP_TEST_STOP_AT=NAME, lvip stops itself (SIGSTOP) at the point NAME so
 * that the test can SIGKILL it exactly there. */
void stop_point(const char *name)
{
	const char *at = getenv("LVIP_TEST_STOP_AT");

	if (at && !strcmp(at, name))
		raise(SIGSTOP);
}

static const char *scaled(__u64 v, unsigned int base, const char *const *units,
			  char *buf, size_t len)
{
	double d = (double)v;
	int u = 0;

	if (v < base) {
		snprintf(buf, len, "%llu%s", (unsigned long long)v, units[0]);
		return buf;
	}
	while (d >= base && units[u + 1]) {
		d /= base;
		u++;
	}
	snprintf(buf, len, "%.1f%s", d, units[u]);
	return buf;
}

const char *human_bytes(__u64 v, char *buf, size_t len)
{
	static const char *const units[] = { " B", " KiB", " MiB", " GiB", " TiB", " PiB", NULL };

	return scaled(v, 1024, units, buf, len);
}

const char *human_count(__u64 v, char *buf, size_t len)
{
	static const char *const units[] = { "", "k", "M", "G", "T", "P", NULL };

	/* Exact below 100,000: small counts are read, not estimated. */
	if (v < 100000) {
		snprintf(buf, len, "%llu", (unsigned long long)v);
		return buf;
	}
	return scaled(v, 1000, units, buf, len);
}

bool parse_u32(const char *s, __u32 min, __u32 max, __u32 *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = (__u32)v;
	return true;
}

static const char *v4_reject(const __u8 *b)
{
	if (b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0)
		return "the unspecified address";
	if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
		return "the broadcast address";
	if (b[0] == 127)
		return "a loopback address";
	if (b[0] >= 224 && b[0] <= 239)
		return "a multicast address";
	if (b[0] == 169 && b[1] == 254)
		return "a link-local address";
	return NULL;
}

static const char *v6_reject(const struct in6_addr *a)
{
	if (IN6_IS_ADDR_UNSPECIFIED(a))
		return "the unspecified address";
	if (IN6_IS_ADDR_LOOPBACK(a))
		return "the loopback address";
	if (IN6_IS_ADDR_MULTICAST(a))
		return "a multicast address";
	if (IN6_IS_ADDR_LINKLOCAL(a))
		return "a link-local address";
	if (IN6_IS_ADDR_V4MAPPED(a))
		return "an IPv4-mapped address (use the IPv4 address)";
	return NULL;
}

/* Split "ADDR[/LEN]"; the only prefix accepted is the host one. */
static int split_prefix(const char *text, char *addr, size_t len, int *plen)
{
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	__u32 v;

	if (n == 0 || n >= len)
		return -1;
	memcpy(addr, text, n);
	addr[n] = '\0';
	*plen = -1;
	if (slash) {
		if (!parse_u32(slash + 1, 0, 128, &v))
			return -1;
		*plen = (int)v;
	}
	return 0;
}

int vip_parse(const char *text, struct vip_addr *out, const char **why)
{
	char addr[INET6_ADDRSTRLEN + 1];
	int plen, split = split_prefix(text, addr, sizeof(addr), &plen);

	memset(out, 0, sizeof(*out));
	if (!split && inet_pton(AF_INET, addr, out->v4) == 1) {
		out->family = AF_INET;
		*why = plen >= 0 && plen != 32 ? "a VIP is a host address: only /32 is accepted"
					      : v4_reject(out->v4);
	} else if (!split && inet_pton(AF_INET6, addr, out->v6) == 1) {
		out->family = AF_INET6;
		*why = plen >= 0 && plen != 128 ? "a VIP is a host address: only /128 is accepted"
					       : v6_reject((const struct in6_addr *)out->v6);
	} else {
		*why = "not an IPv4 or IPv6 address";
		return -1;
	}
	return *why ? -1 : 0;
}

const char *vip_format(const struct vip_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->bytes, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

/* Order of VIPs: IPv4 first, then by address bytes. */
int vip_cmp(const void *pa, const void *pb)
{
	const struct vip_addr *a = pa, *b = pb;

	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	return memcmp(a->bytes, b->bytes, vip_len(a));
}

bool vip_sorted_has(const struct vip_addr *v, size_t n, const struct vip_addr *a)
{
	return n && bsearch(a, v, n, sizeof(*v), vip_cmp) != NULL;
}

bool vip_equal(const struct vip_addr *a, const struct vip_addr *b)
{
	return a->family == b->family && !memcmp(a->bytes, b->bytes, vip_len(a));
}
