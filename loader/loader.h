/* SPDX-License-Identifier: GPL-2.0 */
/*
 * loader.h - the loader's modules, one section each, in the order they
 * depend on each other: a module calls only the modules above it (load.c,
 * last, is above both state and iface; xdpshare, below iface, opens the
 * embedded object itself). The commands (cmd.h), what they
 * show (output.h), the config file (config.h) and the plan of apply/watch
 * (plan.h) have headers of their own.
 */
#ifndef LVIP_LOADER_H
#define LVIP_LOADER_H

#include <linux/if_link.h>
#include <linux/types.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <unistd.h>

#include "lvip.h"
#include "ifcounters.h"

/* ---- util.c: messages, exit statuses, host addresses, small helpers ---- */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit statuses (docs/cli.md, "Exit status and errors"). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,  /* run-time failure: state unchanged */
	EXIT_USAGE = 2, /* bad usage or invalid input: nothing touched */
};

/* Messages: one line each, control characters and invalid UTF-8 escaped.
 * lvip_err/lvip_warn/lvip_log to stderr ("lvip: ", "lvip: warning: ", as
 * given; after log_prefix), lvip_info to stdout. */
void lvip_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lvip_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lvip_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lvip_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Under systemd, with stderr connected to the journal (JOURNAL_STREAM names
 * stderr's device and inode), each line on stderr starts with the
 * sd-daemon priority prefix "<N>", so that `journalctl -p` can select;
 * elsewhere the prefix is "". */
enum { LOG_PRI_ERR = 3, LOG_PRI_WARNING = 4, LOG_PRI_INFO = 6, LOG_PRI_DEBUG = 7 };
const char *log_prefix(int priority);
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

/* ---- nl.c, nl_link.c: rtnetlink through libmnl (addresses, links) ---- */

/* The mark of the addresses lvip puts on lo, kept by the kernel: the
 * address protocol (IFA_PROTO, `ip addr` shows "proto 0x6c"), or where the
 * kernel has no IFA_PROTO (before 5.18) the label "lo:lvip" (IPv4 only:
 * IPv6 addresses have no label). */
#define LVIP_IFA_PROTO 0x6c /* 'l' */
#define LVIP_IFA_LABEL "lo:lvip"

struct if_addr {
	struct vip_addr addr;
	__u8 prefixlen;
	__u8 scope;
	__u32 flags;
	__u32 ifindex;
	bool lvip_mark; /* LVIP_IFA_PROTO or LVIP_IFA_LABEL */
};

struct addr_list {
	struct if_addr *a;     /* in kernel order (primary first) */
	size_t n, cap;
	struct vip_addr *index; /* the addresses sorted, for addr_list_has */
	struct vip_addr *marked; /* those with lvip's mark, sorted */
	size_t nmarked;
};

/* A dump request of type for family (hdr_len bytes of header), answered in
 * full, parsed by cb; retried (reset first) when the kernel says the list
 * changed during it. */
struct nlmsghdr;
int nl_dump(__u16 type, __u8 family, size_t hdr_len, int (*cb)(const struct nlmsghdr *, void *),
	    void (*reset)(void *), void *data);
int nl_addr_dump(int family, __u32 ifindex, struct addr_list *out);
int nl_addr_dump_others(__u32 ifindex, struct addr_list *out); /* all but ifindex's */
void addr_list_free(struct addr_list *l);
bool addr_list_has(const struct addr_list *l, const struct vip_addr *a);
bool addr_list_marked(const struct addr_list *l, const struct vip_addr *a); /* lvip's mark */
/* Adds carry lvip's mark (LVIP_IFA_PROTO, else LVIP_IFA_LABEL). */
int nl_addr_change_many(bool add, __u32 ifindex, const struct vip_addr *a, size_t n, int *err);
int lo_ifindex(void);
int lo_addr_dump(struct addr_list *out); /* lo's addresses, both families */

struct link_info {
	__u32 ifindex;
	__u32 flags;   /* IFF_* */
	bool has_mac;  /* Ethernet, not loopback */
	char name[16];
	__u16 type;    /* ARPHRD_* */
	char kind[16]; /* IFLA_INFO_KIND ("ipip", "gre", "veth"), or "" */
};

struct link_list {
	struct link_info *l;
	size_t n, cap;
};

int nl_link_dump(struct link_list *out); /* nl_link.c */
void link_list_free(struct link_list *l);
struct mnl_socket;
struct mnl_socket *nl_monitor_open(void);

/* ---- pindir.c: the pin dir (path, owner, lock, the watcher's lock) ---- */

struct lvip_state; /* state.c, below */

#define LVIP_DEFAULT_PIN_DIR "/sys/fs/bpf/lvip"
#define LVIP_DIR_MARKER      "lvip_made_dir" /* a subdir: lvip created the pin dir */
#define LVIP_DIR_REMOVING    "-lvip-removing" /* suffix: a pin dir down is removing */
#define LVIP_WATCH_LOCK      "lvip_watch"    /* a subdir, flocked by the one watcher */
#define LVIP_LOCK_TIMEOUT_MS 10000

int pin_path(const struct lvip_state *s, const char *name, char *buf, size_t len);
int pindir_lock(struct lvip_state *s, bool create); /* -ENOENT: absent */
bool pindir_exists(const struct lvip_state *s);
bool pindir_on_bpffs(const struct lvip_state *s);
int pindir_remove(struct lvip_state *s);
void pindir_remove_leftover(const struct lvip_state *s);
int pindir_watch_claim(struct lvip_state *s);
int pindir_refuse_if_watched(const struct lvip_state *s, const char *cmd);
/* The per-interface pins, DIR/PREFIX<ifindex>. */
int ifindex_pin_get(const struct lvip_state *s, const char *prefix, __u32 ifindex);
int pin_replace(const char *path, int fd);
int ifindex_pin(const struct lvip_state *s, const char *prefix, __u32 ifindex, int fd);
int ifindex_repin(const struct lvip_state *s, const char *prefix, __u32 ifindex, int fd);
void ifindex_unpin(const struct lvip_state *s, const char *prefix, __u32 ifindex);

/* ---- state.c: one instance, its pin dir and what is pinned there ---- */

#define LVIP_PROG_XDP "lvip_xdp"
#define LVIP_PROG_TC  "lvip_tc"

enum lvip_map_id {
	M_VIP4 = 0,
	M_VIP6,
	M_STATS,
	M_IFSTATS,
	M_IFSLOT,
	M_IFADDR,
	M_IFMODE,
	M_OBSERVING,
	M_META,
	M_EVENTS,
	M_MON,
	M_MONRATE,
	M_TUNNEL,
	M_TUNADDR,
	M_TUNSTATS,
	M_TUNLOCAL,
	M_COUNT,
};

struct lvip_state {
	const char *pin_dir;
	int dir_fd;            /* the locked pin dir, or -1 */
	bool dir_created;      /* this run created the pin dir */
	int map_fd[M_COUNT];
	__u32 map_id[M_COUNT];
	int xdp_fd, tc_fd;     /* pinned programs, or -1 */
	__u32 xdp_id, tc_id;
	__u32 xdp_insns, tc_insns; /* instructions the verifier processed */
	bool progs_stale;      /* pinned programs not bound to the pinned maps */
	bool compat;           /* the pinned tc program is lvip_tc_compat */
	int ncpus;
};

extern const char *const lvip_map_names[M_COUNT];

void state_init(struct lvip_state *s, const char *pin_dir);
void state_close(struct lvip_state *s);
void state_close_objects(struct lvip_state *s); /* the pins closed, the lock kept */
int state_open(struct lvip_state *s);
bool state_loaded(const struct lvip_state *s);  /* whole, programs bound to the maps */
bool state_partial(const struct lvip_state *s); /* something pinned, not whole */
bool state_any(const struct lvip_state *s);     /* something pinned */
bool monitor_alive(__u32 pid);                  /* an lvip process with that pid runs */
bool state_prog_ours(const struct lvip_state *s, __u32 prog_id);
struct bpf_prog_info;
int prog_info(__u32 prog_id, struct bpf_prog_info *info);
int meta_write(int meta_fd, __u32 max_vips);
struct bpf_object;
struct bpf_map;
int state_bind_maps(const struct lvip_state *s, struct bpf_object *obj,
		    struct bpf_map *maps[M_COUNT], __u32 max_vips);
struct ifc_maps state_ifc(const struct lvip_state *s);

/* ---- vipmap.c: the VIP maps (per-CPU values summed over CPUs) ---- */

int vip_map_fd(const struct lvip_state *s, const struct vip_addr *a);
int vip_lookup(const struct lvip_state *s, const struct vip_addr *a, struct lvip_vip_val *sum);
int vip_store(const struct lvip_state *s, const struct vip_addr *a, __u32 flags, bool create);
int vip_set_flags(const struct lvip_state *s, const struct vip_addr *a, __u32 flags);
int vip_remove(const struct lvip_state *s, const struct vip_addr *a);

struct vip_entry {
	struct vip_addr addr;
	struct lvip_vip_val val; /* counters summed, flags from CPU 0 */
};

int vip_collect(const struct lvip_state *s, struct vip_entry **out, size_t *n);

/* ---- vips.c: VIP add/del in the order that keeps them hidden; the guards ---- */

/* What happened to one address. */
struct vip_step {
	struct vip_addr addr;
	bool inserted;            /* add: new map entry */
	bool flags_set;           /* add: existing entry marked LO_OWNED */
	bool lo_added;            /* add: put on lo */
	bool on_lo;               /* on lo before the operation */
	bool marked;              /* ... carrying lvip's mark (LVIP_IFA_PROTO) */
	bool want_lo;             /* add: to be put on lo */
	bool want_off;            /* del: lvip's address, to be taken off lo */
	bool present;             /* del: was in the map */
	bool lo_removed;          /* del: taken off lo */
	__u32 old_flags;
	struct lvip_vip_val *saved; /* del: per-CPU values, to restore exactly */
};

struct vip_undo {
	bool add;
	struct vip_step *st;
	size_t n;
};

int vips_add(struct lvip_state *s, const struct vip_addr *v, size_t n, bool no_lo,
	     const struct addr_list *lo_addrs, struct vip_undo *u);
int vips_del(struct lvip_state *s, const struct vip_addr *v, size_t n, bool keep_lo,
	     const struct addr_list *lo_addrs, struct vip_undo *u);
void vip_undo_run(struct lvip_state *s, struct vip_undo *u);
void vip_undo_free(struct vip_undo *u);
void vip_warn_exposed(const struct vip_step *st, bool keep_lo);
/* The addresses of every interface but lo, for vip_guard. */
int vip_guard_addrs(struct addr_list *out);
/* Why a must not be a VIP, written in buf, or NULL: one of the server's own
 * addresses (own: vip_guard_addrs; ARP/ND for it would be dropped), the
 * network or broadcast address of a connected IPv4 subnet (prefix at most
 * /30) or the subnet-router anycast address of a connected IPv6 prefix (at
 * most /126). */
const char *vip_guard(const struct vip_addr *a, const struct addr_list *own, char *buf, size_t len);

/* ---- xdpshare.c: lvip as a libxdp component program ---- */

/* The XDP mode asked for; MODE_SHARE added: through libxdp's dispatcher
 * (xdpshare.c) instead of lvip's own link. */
enum xdp_mode_req { MODE_AUTO, MODE_NATIVE, MODE_GENERIC, MODE_SHARE = 4 };
#define MODE_BASE(m) ((enum xdp_mode_req)((m) & 3))
/* iface_info.xdp_mode of an interface where lvip runs as a libxdp component */
#define LVIP_XDP_ATTACHED_LIBXDP 0x10

/* Who holds an XDP program that is not lvip's own link. */
enum xdp_owner {
	XDP_FOREIGN,           /* not libxdp's: refused */
	XDP_LIBXDP_DISPATCHER, /* libxdp's dispatcher: lvip joins it */
	XDP_LIBXDP_LONE,       /* a libxdp program loaded without a dispatcher */
};

const char *xdpshare_kernel_refuses(void); /* NULL: the dispatcher can load */
enum xdp_owner xdpshare_classify(__u32 ifindex, __u32 prog_id);
bool xdpshare_pinned(const struct lvip_state *s, __u32 ifindex);
__u32 xdpshare_alive(const struct lvip_state *s, __u32 ifindex, __u8 *mode);
bool xdpshare_alive_id(__u32 ifindex, __u32 prog_id);
int xdpshare_attach(struct lvip_state *s, __u32 ifindex, enum xdp_mode_req req);
int xdpshare_detach(struct lvip_state *s, __u32 ifindex);
int xdpshare_switch(struct lvip_state *s, __u32 ifindex);
void xdpshare_reap(const struct lvip_state *s, __u32 ifindex); /* unpinned components of ours */

/* ---- links.c: the bpf_links pinned per interface; what runs on XDP ---- */

#define LVIP_LINK_PREFIX "xdp_"  /* DIR/xdp_<ifindex>: the pinned XDP link */
#define LVIP_TCX_PREFIX  "tcx_"  /* DIR/tcx_<ifindex>: the pinned tcx egress link */
#define LVIP_SHARE_PREFIX "xdpshare_" /* DIR/xdpshare_<ifindex>: the libxdp component */

/* tcx (Linux 6.6) is newer than the UAPI headers lvip builds against. */
#define LVIP_BPF_TCX_EGRESS     47        /* enum bpf_attach_type */
#define LVIP_BPF_LINK_TYPE_TCX  11        /* enum bpf_link_type */
#define LVIP_BPF_F_BEFORE       (1U << 3) /* with no anchor: first of the hook */

/* The two links lvip pins per interface. */
struct link_kind {
	const char *prefix;
	__u32 type;
};

extern const struct link_kind XDP_LINK, TCX_LINK;

/* Is the link of kind k of ifindex pinned? *alive: still attached there;
 * *prog_id (may be NULL): its program. */
bool link_pinned(const struct lvip_state *s, const struct link_kind *k, __u32 ifindex,
		 bool *alive, __u32 *prog_id);
__u32 link_alive_prog(const struct lvip_state *s, const struct link_kind *k, __u32 ifindex);
bool link_alive(const struct lvip_state *s, __u32 ifindex); /* the XDP link or component */
bool prog_named(__u32 id, const char *prefix);
__u32 xdp_attached_id(__u32 ifindex, __u8 *mode);
int link_pin_new(struct lvip_state *s, const struct link_kind *k, __u32 ifindex, int fd);
int link_unpin_detach(struct lvip_state *s, const struct link_kind *k, __u32 ifindex);
bool iface_pin_name(const char *name, __u32 *ifindex);
int link_switch(struct lvip_state *s, const struct link_kind *k, __u32 ifindex, int prog_fd);

/* ---- egress.c: the TC egress program, through tcx or clsact ---- */

#define LVIP_TC_HANDLE   0x1c1a /* without tcx: lvip's own tc filter handle ... */
#define LVIP_TC_PRIO     0xc1a  /* ... and priority on clsact egress */

bool tc_owned(const struct lvip_state *s, __u32 ifindex, __u32 prog_id);
__u32 tc_query(__u32 ifindex);
int tc_attach(struct lvip_state *s, __u32 ifindex, bool *added, bool *moved);
int tc_detach(struct lvip_state *s, __u32 ifindex);
__u32 tc_prog_of(struct lvip_state *s, __u32 ifindex);
int tc_switch(struct lvip_state *s, __u32 ifindex, int tc_fd);

/* ---- ifaddr.c: lvip_ifaddr, what lvip_tc_compat reads ---- */

bool ifaddr_current(const struct lvip_state *s, __u32 ifindex);

/* ---- tunnel.c: LVS-TUN decapsulation, lvip_tunnel and lvip_tunaddr ---- */

#define LVIP_TUN_MSS_MIN 536
#define LVIP_TUN_MSS_MAX 65534

extern const char *const lvip_tun_names[LVIP_TUN_MAX];

/* One tunnel type's settings, as the CLI, the config and the maps say them. */
struct tun_conf {
	bool enabled;
	__u16 port;             /* GUE: the UDP port (host order); else 0 */
	__u16 mss;              /* LVIP_MSS_OFF, LVIP_MSS_AUTO or the MSS */
	struct vip_addr *peers; /* the directors allowed, sorted and distinct; none: any */
	size_t npeers, cap;
};

struct tun_set {
	struct tun_conf t[LVIP_TUN_MAX];
};

/* The LOCAL entries a write added and removed (this host's addresses). */
struct tun_delta {
	size_t local_added, local_removed;
};

int tun_type_parse(const char *s); /* enum lvip_tun_type, or -1 */
int tun_mss_parse(const char *s, __u16 *mss); /* "auto" or 536..65534 */
const char *tun_mss_text(__u16 mss, char *buf, size_t len);
int tun_peer_add(struct tun_conf *t, const struct vip_addr *a);
void tun_set_free(struct tun_set *ts);
bool tun_conf_equal(const struct tun_conf *a, const struct tun_conf *b);
bool tun_any_enabled(const struct tun_set *ts);
/* Why a cannot be a peer (all: every address of the host), or NULL. */
const char *tun_peer_guard(const struct vip_addr *a, const struct addr_list *all);
int tun_read(const struct lvip_state *s, struct tun_set *out); /* not loaded: all disabled */
/* Make the maps say want (LOCAL entries included); all or nothing. */
int tun_write(struct lvip_state *s, const struct tun_set *want, struct tun_delta *d);
/* The LOCAL entries (and the peers) rewritten from what the maps say. */
int tunaddr_refresh(struct lvip_state *s, struct tun_delta *d);
bool tunaddr_stale(const struct lvip_state *s); /* a type enabled, LOCAL not the host's */
void tunlocal_add(struct lvip_tunlocal *v, const struct vip_addr *a);
int tunlocal_store(const struct lvip_state *s, const struct lvip_tunlocal *v);
bool tunlocal_is(const struct lvip_state *s, const struct lvip_tunlocal *v);
int tun_counters_read(const struct lvip_state *s, __u32 type, struct lvip_tuncounters *sum);

/* ---- iface.c: attaching to interfaces, inspecting them ---- */


struct iface_info {
	__u32 ifindex;
	char name[32];
	__u32 xdp_prog_id;  /* 0: none */
	__u8 xdp_mode;      /* XDP_ATTACHED_* */
	bool gone;          /* the interface no longer exists (name: "(gone)") */
	__u32 tc_prog_id;   /* lvip's egress program (tcx link or filter), 0: none */
	bool link_pinned, link_alive; /* the XDP link, or (shared) the libxdp component */
	bool shared;        /* lvip runs as a libxdp component there */
	bool tcx_pinned, tcx_alive;     /* the tcx egress link */
	bool xdp_maps_ok, tc_maps_ok; /* the attached programs use the pinned maps */
	bool ifaddr_stale;  /* compat: lvip_ifaddr no longer what the device has */
	bool observe;       /* lvip_ifmode: observe mode */
};

int parse_mode(const char *s, enum xdp_mode_req *mode);
const char *xdp_mode_name(__u8 attach_mode);
const char *mode_name(enum xdp_mode_req mode);
int iface_resolve(const char *name, __u32 *ifindex);
int iface_attach(struct lvip_state *s, __u32 ifindex, enum xdp_mode_req mode, bool observe,
		 bool *changed);
int iface_set_observe(struct lvip_state *s, __u32 ifindex, bool observe);
int iface_observing_sync(const struct lvip_state *s);
bool iface_observed(const struct lvip_state *s, __u32 ifindex);
int iface_detach(struct lvip_state *s, __u32 ifindex);
int iface_check_foreign(struct lvip_state *s, __u32 ifindex, const char *name,
			enum xdp_mode_req req);
int iface_list(struct lvip_state *s, __u32 **ifindexes, size_t *n);
int iface_inspect(struct lvip_state *s, __u32 ifindex, struct iface_info *info);
int iface_switch_progs(struct lvip_state *s, int xdp_fd, int tc_fd);
int iface_gc(struct lvip_state *s);
int ifaddr_refresh(struct lvip_state *s, __u32 ifindex);
int ifaddr_refresh_all(struct lvip_state *s);

/* ---- load.c: loading and pinning lvip (above state and iface), unpinning ---- */

int load_pins(struct lvip_state *s, __u32 max_vips, bool *replaced);
const char *load_note(bool stale);
int unload_pins(struct lvip_state *s);

#endif /* LVIP_LOADER_H */
