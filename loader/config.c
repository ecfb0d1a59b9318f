// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - the config file of `lvip apply` and `lvip watch`:
 *
 *     # comment
 *     interface eth0 mode=native
 *     interface eth1 share        (XDP through libxdp's dispatcher)
 *     interface eth*
 *     interface bond0 observe
 *     vip 198.18.0.100
 *     ignore docker0
 *     tunnel ipip peer=198.18.0.1,2001:db8::1 mss=auto
 *     tunnel gue port=6080
 *
 * The drop-ins DIR/conf.d/NAME.conf (DIR: the file's directory) are read after
 * it, in name order, and merged with it, so that separate owners can keep
 * separate VIP sets; a directive said twice across them is an error naming
 * both places. Every error names the file and the line and is an input
 * error (exit 2): nothing is applied from files that do not parse
 * completely.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define CFG_MAX_BYTES (16 << 20)
#define CFG_MAX_LINE  4096

void config_free(struct lvip_config *c)
{
	free(c->ifs);
	free(c->ignores);
	free(c->vips);
	tun_set_free(&c->tuns);
	for (size_t i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	free(c->files);
	memset(c, 0, sizeof(*c));
}

static int __attribute__((format(printf, 3, 4)))
cfg_error(const char *file, int line, const char *fmt, ...)
{
	char msg[PATH_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		lvip_err("%s:%d: %s", file, line, msg);
	else
		lvip_err("%s: %s", file, msg);
	return -EINVAL;
}

static int push_iface(struct cfg_iface **v, size_t *n, size_t *cap, const char *pattern,
		      enum xdp_mode_req mode, bool observe, const char *file, int line)
{
	struct cfg_iface f = { .glob = strpbrk(pattern, "*?[") != NULL, .mode = mode,
			       .observe = observe, .file = file, .line = line };

	snprintf(f.pattern, sizeof(f.pattern), "%s", pattern);
	return vec_push(v, n, cap, sizeof(f), &f);
}

static int parse_interface(struct lvip_config *c, const char *file, int line, char **tok, int ntok)
{
	int mode = MODE_AUTO;
	bool observe = false;

	if (ntok < 2)
		return cfg_error(file, line, "'interface' needs a name or a pattern");
	if (strlen(tok[1]) >= IFNAMSIZ)
		return cfg_error(file, line, "interface name or pattern too long: '%s'", tok[1]);
	if (!strcmp(tok[1], "lo"))
		return cfg_error(file, line, "lvip hides VIPs on real interfaces, not on '%s'", tok[1]);
	for (int i = 2; i < ntok; i++) {
		enum xdp_mode_req base;

		if (!strcmp(tok[i], "observe"))
			observe = true;
		else if (!strcmp(tok[i], "share"))
			mode |= MODE_SHARE;
		else if (!strncmp(tok[i], "mode=", 5) && !parse_mode(tok[i] + 5, &base))
			mode = base | (mode & MODE_SHARE);
		else
			return cfg_error(file, line, "unknown interface option '%s' (expected "
					 "mode=auto, mode=native, mode=generic, observe or share)", tok[i]);
	}
	for (size_t i = 0; i < c->nifs; i++)
		if (!strcmp(c->ifs[i].pattern, tok[1]))
			return cfg_error(file, line, "duplicate interface '%s' (first at %s:%d)", tok[1],
					 c->ifs[i].file, c->ifs[i].line);
	return push_iface(&c->ifs, &c->nifs, &c->ifs_cap, tok[1], mode, observe, file, line);
}

/* ignore NAME|PATTERN: an interface lvip neither attaches (through a
 * pattern) nor reports in check, e.g. a container bridge. */
static int parse_ignore(struct lvip_config *c, const char *file, int line, char **tok, int ntok)
{
	if (ntok != 2)
		return cfg_error(file, line, "'ignore' takes exactly one name or pattern");
	if (strlen(tok[1]) >= IFNAMSIZ)
		return cfg_error(file, line, "interface name or pattern too long: '%s'", tok[1]);
	return push_iface(&c->ignores, &c->nignores, &c->ignores_cap, tok[1], MODE_AUTO, false, file, line);
}

static const struct cfg_iface *ignore_of(const struct lvip_config *c, const char *ifname)
{
	for (size_t i = 0; i < c->nignores; i++)
		if (!fnmatch(c->ignores[i].pattern, ifname, 0))
			return &c->ignores[i];
	return NULL;
}

bool config_ignores(const struct lvip_config *c, const char *ifname)
{
	return ignore_of(c, ifname) != NULL;
}

/* A name both attached and ignored is a contradiction, said at both lines. */
static int check_ignores(const struct lvip_config *c)
{
	const struct cfg_iface *ign;

	for (size_t i = 0; i < c->nifs; i++)
		if (!c->ifs[i].glob && (ign = ignore_of(c, c->ifs[i].pattern)))
			return cfg_error(c->ifs[i].file, c->ifs[i].line,
					 "interface '%s' is also ignored (at %s:%d)",
					 c->ifs[i].pattern, ign->file, ign->line);
	return 0;
}

static int parse_vip(struct lvip_config *c, const char *file, int line, char **tok, int ntok)
{
	struct cfg_vip v = { .file = file, .file_no = c->nfiles - 1, .line = line };
	const char *why;

	if (ntok != 2)
		return cfg_error(file, line, "'vip' takes exactly one address");
	if (vip_parse(tok[1], &v.addr, &why))
		return cfg_error(file, line, "invalid VIP '%s': %s", tok[1], why);
	return vec_push(&c->vips, &c->nvips, &c->vips_cap, sizeof(v), &v);
}

/* Split on blanks, drop a # comment; at most CFG_MAX_TOK tokens are kept,
 * the count says whether there were more. */
#define CFG_MAX_TOK 8

static int tokenize(char *s, char **tok)
{
	int n = 0;
	char *save;

	s[strcspn(s, "#")] = '\0';
	for (char *t = strtok_r(s, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save), n++)
		if (n < CFG_MAX_TOK)
			tok[n] = t;
		else
			return n + 1;
	return n;
}

/* ---- tunnel TYPE [port=N] [peer=ADDR[,ADDR...]]... [mss=auto|N] ---- */

static int tunnel_peers(struct tun_conf *t, const char *file, int line, char *list)
{
	const char *why;
	char *save;
	int err = 0;

	for (char *p = strtok_r(list, ",", &save); !err && p; p = strtok_r(NULL, ",", &save)) {
		struct vip_addr a;

		if (vip_parse(p, &a, &why))
			return cfg_error(file, line, "invalid peer '%.64s': %s", p, why);
		err = tun_peer_add(t, &a);
	}
	return err;
}

static int tunnel_option(struct tun_conf *t, int type, const char *file, int line, char *o)
{
	__u32 port;

	if (!strncmp(o, "peer=", 5) && o[5])
		return tunnel_peers(t, file, line, o + 5);
	if (!strncmp(o, "mss=", 4) && !t->mss && !tun_mss_parse(o + 4, &t->mss))
		return 0;
	if (!strncmp(o, "mss=", 4))
		return cfg_error(file, line, t->mss ? "mss= given twice%.0s" : "mss= is auto or a "
				 "number from 536 to 65534, not '%s'", o + 4);
	if (strncmp(o, "port=", 5))
		return cfg_error(file, line, "unknown tunnel option '%s' (expected port=N, "
				 "peer=ADDR[,ADDR...] or mss=auto|N)", o);
	if (type != LVIP_TUN_GUE)
		return cfg_error(file, line, "port= is for gue only, not %s", lvip_tun_names[type]);
	if (t->port || !parse_u32(o + 5, 1, 65535, &port))
		return cfg_error(file, line, t->port ? "port= given twice%.0s" : "port= is a UDP port "
				 "from 1 to 65535, not '%s'", o + 5);
	t->port = (__u16)port;
	return 0;
}

static int parse_tunnel(struct lvip_config *c, const char *file, int line, char **tok, int ntok)
{
	struct tun_conf t = { .enabled = true };
	int type = ntok > 1 ? tun_type_parse(tok[1]) : -1, err = 0;

	if (ntok < 2)
		return cfg_error(file, line, "'tunnel' needs a type (ipip, gue or gre)");
	if (type < 0)
		return cfg_error(file, line, "unknown tunnel type '%s' (expected ipip, gue or gre)", tok[1]);
	if (c->tun_file[type])
		return cfg_error(file, line, "duplicate tunnel '%s' (first at %s:%d)", tok[1],
				 c->tun_file[type], c->tun_line[type]);
	for (int i = 2; !err && i < ntok; i++)
		err = tunnel_option(&t, type, file, line, tok[i]);
	if (!err && type == LVIP_TUN_GUE && !t.port)
		err = cfg_error(file, line, "tunnel gue needs port=N (the UDP port the director "
				"sends to)");
	if (err) {
		free(t.peers);
		return err;
	}
	c->tuns.t[type] = t;
	c->tun_file[type] = file;
	c->tun_line[type] = line;
	return 0;
}

static int parse_line(struct lvip_config *c, const char *file, int line, char *s)
{
	char *tok[CFG_MAX_TOK];
	int ntok = tokenize(s, tok);

	if (ntok == 0)
		return 0;
	if (ntok > CFG_MAX_TOK)
		return cfg_error(file, line, "too many words (at most 8; several peers go in one "
				 "peer=ADDR,ADDR...)");
	if (!strcmp(tok[0], "interface"))
		return parse_interface(c, file, line, tok, ntok);
	if (!strcmp(tok[0], "vip"))
		return parse_vip(c, file, line, tok, ntok);
	if (!strcmp(tok[0], "ignore"))
		return parse_ignore(c, file, line, tok, ntok);
	if (!strcmp(tok[0], "tunnel"))
		return parse_tunnel(c, file, line, tok, ntok);
	return cfg_error(file, line, "unknown directive '%s' (expected 'interface', 'vip', "
			 "'ignore' or 'tunnel')", tok[0]);
}

static int read_file(const char *file, char **data, size_t *len)
{
	struct stat st;
	FILE *f = NULL;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	int fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC), err = 0;

	if (fd < 0)
		return cfg_error(file, 0, "cannot read: %s", strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		err = cfg_error(file, 0, "not a regular file");
	else if (!(f = fdopen(fd, "r")))
		err = -ENOMEM;
	else if (st.st_size > CFG_MAX_BYTES)
		err = cfg_error(file, 0, "too large (the limit is 16 MiB)");
	else if (!(*data = malloc(st.st_size + 1)))
		err = -ENOMEM;
	else {
		*len = fread(*data, 1, st.st_size, f);
		(*data)[*len] = '\0';
	}
	if (f)
		fclose(f);
	else
		close(fd);
	return err;
}

/* VIP lines in the order read: the files in order, then the lines. */
static int cfg_order(const struct cfg_vip *a, const struct cfg_vip *b)
{
	if (a->file_no != b->file_no)
		return a->file_no < b->file_no ? -1 : 1;
	return a->line - b->line;
}

static int vip_line_cmp(const void *pa, const void *pb)
{
	const struct cfg_vip *a = pa, *b = pb;
	int d = vip_cmp(&a->addr, &b->addr);

	return d ? d : cfg_order(a, b);
}

/* Duplicate VIPs, found by sorting (O(n log n) for big files): the error
 * names the earliest place that repeats an address, and the first. */
static int check_duplicates(const struct lvip_config *c)
{
	struct cfg_vip *v = calloc(c->nvips ? c->nvips : 1, sizeof(*v));
	const struct cfg_vip *dup = NULL, *first = NULL;
	char addr[INET6_ADDRSTRLEN];

	if (!v)
		return -ENOMEM;
	if (c->nvips) {
		memcpy(v, c->vips, c->nvips * sizeof(*v));
		qsort(v, c->nvips, sizeof(*v), vip_line_cmp);
	}
	for (size_t i = 1; i < c->nvips; i++)
		if (vip_equal(&v[i].addr, &v[i - 1].addr) && (!dup || cfg_order(&v[i], dup) < 0)) {
			dup = &v[i];
			for (first = &v[i - 1]; first > v && vip_equal(&(first - 1)->addr, &v[i].addr); first--)
				;
		}
	if (dup && dup->file == first->file)
		cfg_error(dup->file, dup->line, "duplicate vip '%s' (first at line %d)",
			  vip_format(&dup->addr, addr, sizeof(addr)), first->line);
	else if (dup)
		cfg_error(dup->file, dup->line, "duplicate vip '%s' (first at %s:%d)",
			  vip_format(&dup->addr, addr, sizeof(addr)), first->file, first->line);
	free(v);
	return dup ? -EINVAL : 0;
}

/* Parse one file into c (its name kept in c->files for the messages). */
static int config_parse_file(struct lvip_config *c, const char *path)
{
	size_t len = 0, off = 0;
	char *data = NULL, *file = strdup(path);
	int line = 0, err;

	if (!file || vec_push(&c->files, &c->nfiles, &c->files_cap, sizeof(file), &file)) {
		free(file);
		return -ENOMEM;
	}
	err = read_file(file, &data, &len);
	while (!err && off < len) {
		size_t n = strcspn(data + off, "\n");

		line++;
		if (off + n < len && data[off + n] != '\n') /* strcspn stopped at a NUL */
			err = cfg_error(file, line, "binary data (a NUL byte)");
		else if (n > CFG_MAX_LINE)
			err = cfg_error(file, line, "line too long (the limit is 4096 bytes)");
		else {
			data[off + n] = '\0';
			err = parse_line(c, file, line, data + off);
		}
		off += n + 1;
	}
	free(data);
	return err;
}

/* A drop-in: a name ending in .conf (not only ".conf"). Whether it is a
 * regular file is asked later, following symlinks. */
static int dropin_name(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 5 && e->d_name[0] != '.' && !strcmp(e->d_name + n - 5, ".conf");
}

/* Name order, byte by byte, whatever the locale. */
static int dropin_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int conf_d_path(const char *file, const char *name, char *buf, size_t len)
{
	char copy[PATH_MAX];
	int n;

	snprintf(copy, sizeof(copy), "%s", file);
	/* lvip.conf's drop-ins are conf.d/NAME.conf, not ./conf.d/NAME.conf */
	n = snprintf(buf, len, "%s%sconf.d%s%s", strchr(file, '/') ? dirname(copy) : "",
		     strchr(file, '/') ? "/" : "", name ? "/" : "", name ? name : "");
	return n < 0 || (size_t)n >= len ? cfg_error(file, 0, "path of conf.d too long") : 0;
}

/* The drop-ins of file, in name order; a missing conf.d has none. */
static int config_parse_dropins(struct lvip_config *c, const char *file)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent **names = NULL;
	struct stat st;
	int n, err;

	err = conf_d_path(file, NULL, dir, sizeof(dir));
	if (err)
		return err;
	n = scandir(dir, &names, dropin_name, dropin_cmp);
	if (n < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
		       cfg_error(dir, 0, "cannot read: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		if (!err)
			err = conf_d_path(file, names[i]->d_name, path, sizeof(path));
		if (!err && !stat(path, &st) && S_ISREG(st.st_mode))
			err = config_parse_file(c, path);
		free(names[i]);
	}
	free(names);
	return err;
}

int config_load(const char *file, struct lvip_config *c)
{
	int err;

	memset(c, 0, sizeof(*c));
	err = config_parse_file(c, file);
	if (!err)
		err = config_parse_dropins(c, file);
	if (!err)
		err = check_duplicates(c);
	if (!err)
		err = check_ignores(c);
	if (!err && c->nifs == 0 && c->nvips == 0 && !tun_any_enabled(&c->tuns))
		err = cfg_error(file, 0, "no 'interface', 'vip' or 'tunnel' directive: an empty config "
				"would remove everything (use 'lvip down' for that)");
	if (err)
		config_free(c);
	return err;
}
