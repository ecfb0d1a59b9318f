/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvip.h - the ABI shared by the BPF programs and the lvip loader.
 *
 * Every struct here is a map key or value: fixed-width types, explicit
 * padding, sizes pinned by _Static_assert. Changing any of them changes
 * the pinned maps' layout, so bump LVIP_ABI_VERSION with it.
 */
#ifndef LVIP_H
#define LVIP_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define LVIP_ABI_VERSION 2

/* Map names (BPF_OBJ_NAME_LEN: at most 15 characters) double as pin names. */
#define LVIP_MAP_VIP4    "lvip_vip4"
#define LVIP_MAP_VIP6    "lvip_vip6"
#define LVIP_MAP_STATS   "lvip_stats"
#define LVIP_MAP_IFSTATS "lvip_ifstats"
#define LVIP_MAP_IFSLOT  "lvip_ifslot"
#define LVIP_MAP_IFADDR  "lvip_ifaddr"
#define LVIP_MAP_META    "lvip_meta"
#define LVIP_MAP_IFMODE  "lvip_ifmode"
#define LVIP_MAP_OBSERVING "lvip_observing"
#define LVIP_MAP_EVENTS  "lvip_events"
#define LVIP_MAP_MON     "lvip_mon"
#define LVIP_MAP_MONRATE "lvip_monrate"
#define LVIP_MAP_TUNNEL  "lvip_tunnel"
#define LVIP_MAP_TUNADDR "lvip_tunaddr"
#define LVIP_MAP_TUNSTATS "lvip_tunstats"
#define LVIP_MAP_TUNLOCAL "lvip_tunlocal"

#define LVIP_MAX_VIPS_DEFAULT 65536 /* per family */
#define LVIP_MAX_IFACES       4096
#define LVIP_TUNADDR_MAX      4096  /* lvip_tunaddr: host addresses + peers */
#define LVIP_IFSLOTS          256   /* lvip_ifslot entries: a power of two */
#define LVIP_IFADDR_MAX       8     /* an interface's first addresses (kernel order) the
				     * rewrite chooses among: programs, loader, oracle */

/* Counter reasons: index into struct lvip_counters. */
enum lvip_reason {
	LVIP_R_ARP_IN_DROPPED = 0,
	LVIP_R_ARP_OUT_DROPPED,
	LVIP_R_ARP_OUT_REWRITTEN,
	LVIP_R_ND_IN_DROPPED,
	LVIP_R_ND_OUT_DROPPED,
	LVIP_R_VIP_RX,
	LVIP_R_MALFORMED,
	/* What an interface in observe mode let pass: the action it would take. */
	LVIP_R_OBSERVE_ARP_IN,
	LVIP_R_OBSERVE_ARP_OUT,
	LVIP_R_OBSERVE_REWRITE,
	LVIP_R_OBSERVE_ND_IN,
	LVIP_R_OBSERVE_ND_OUT,
	LVIP_R_MAX,
};

/* The reasons' names: counter field names, JSON keys, Prometheus labels. */
#define LVIP_REASON_NAMES {                                \
	[LVIP_R_ARP_IN_DROPPED] = "arp_in_dropped",       \
	[LVIP_R_ARP_OUT_DROPPED] = "arp_out_dropped",     \
	[LVIP_R_ARP_OUT_REWRITTEN] = "arp_out_rewritten", \
	[LVIP_R_ND_IN_DROPPED] = "nd_in_dropped",         \
	[LVIP_R_ND_OUT_DROPPED] = "nd_out_dropped",       \
	[LVIP_R_VIP_RX] = "vip_rx",                       \
	[LVIP_R_MALFORMED] = "malformed",                 \
	[LVIP_R_OBSERVE_ARP_IN] = "observe_arp_in",       \
	[LVIP_R_OBSERVE_ARP_OUT] = "observe_arp_out",     \
	[LVIP_R_OBSERVE_REWRITE] = "observe_rewrite",     \
	[LVIP_R_OBSERVE_ND_IN] = "observe_nd_in",         \
	[LVIP_R_OBSERVE_ND_OUT] = "observe_nd_out",       \
}

/* Value of lvip_stats (per-CPU array, one slot) and lvip_ifstats
 * (per-CPU hash by ifindex). Field order follows enum lvip_reason. */
struct lvip_counters {
	__u64 arp_in_dropped;
	__u64 arp_out_dropped;
	__u64 arp_out_rewritten;
	__u64 nd_in_dropped;
	__u64 nd_out_dropped;
	__u64 vip_rx;
	__u64 malformed;
	__u64 observe_arp_in;
	__u64 observe_arp_out;
	__u64 observe_rewrite;
	__u64 observe_nd_in;
	__u64 observe_nd_out;
};
_Static_assert(sizeof(struct lvip_counters) == LVIP_R_MAX * sizeof(__u64),
	       "struct lvip_counters must have one __u64 per enum lvip_reason");

/* Value of lvip_ifslot (per-CPU array, index ifindex % LVIP_IFSLOTS): the
 * per-interface counters of the interface that owns the slot. The datapath
 * counts there when owner == its ifindex, else in lvip_ifstats (a second,
 * non-inlinable hash lookup): an array lookup is inlined by the verifier.
 * The loader gives a slot to the first attached interface that maps to it,
 * and an interface's counters are its slot's (if it owns one) plus its
 * lvip_ifstats entry's, which exists for every attached interface. */
struct lvip_ifslot {
	__u32 owner; /* ifindex, 0 = free; the same on every CPU */
	__u32 _pad;
	struct lvip_counters c;
};
_Static_assert(sizeof(struct lvip_ifslot) == 8 + sizeof(struct lvip_counters), "lvip_ifslot ABI");
_Static_assert((LVIP_IFSLOTS & (LVIP_IFSLOTS - 1)) == 0, "LVIP_IFSLOTS must be a power of two");

/* Value of lvip_ifmode (hash by ifindex): how the datapath treats the
 * interface. No entry is enforce. The loader flips it with one update while
 * the programs stay attached, so every frame is judged under one mode. */
enum lvip_ifmode {
	LVIP_MODE_ENFORCE = 0,
	LVIP_MODE_OBSERVE = 1, /* count what would be dropped or rewritten, pass all */
};

/* Value of lvip_observing (array, one __u32): nonzero while any interface
 * may be in observe mode. The datapath reads lvip_ifmode (a hash lookup the
 * verifier cannot inline) only then. The loader sets it before it writes an
 * observe entry and clears it when none is left, so it is never 0 while an
 * interface observes. */

/* Keys of lvip_vip4 / lvip_vip6: the address in network byte order. */
struct lvip_vip4 {
	__u8 addr[4];
};
_Static_assert(sizeof(struct lvip_vip4) == 4, "lvip_vip4 ABI");

struct lvip_vip6 {
	__u8 addr[16];
};
_Static_assert(sizeof(struct lvip_vip6) == 16, "lvip_vip6 ABI");

/* lvip_vip_val.flags, written by the loader only. */
#define LVIP_VIP_F_LO_OWNED (1U << 0) /* lvip assigned the address to lo */
#define LVIP_VIP_F_RELEASED (1U << 1) /* not hidden on this node ('lvip vip release'):
				       * ARP/ND for it pass, packets to it are counted */

/* Value of lvip_vip4 / lvip_vip6 (per-CPU hash): the per-VIP counters. */
struct lvip_vip_val {
	__u64 packets;     /* packets to the VIP accepted (XDP ingress) */
	__u64 bytes;       /* their IP bytes, header included */
	__u64 arp_dropped; /* ARP frames for or from the VIP dropped */
	__u64 nd_dropped;  /* NS/NA for the VIP dropped */
	__u32 flags;       /* LVIP_VIP_F_* (same on every CPU) */
	__u32 _pad;
};
_Static_assert(sizeof(struct lvip_vip_val) == 40, "lvip_vip_val ABI");

/* Value of lvip_ifaddr (hash by ifindex): the interface's IPv4 addresses in
 * kernel order (primary first), kept by the loader. Used by TC egress to
 * rewrite "tell VIP" only where it cannot read the device's own address
 * list (kernels without bpf_cast_to_kern_ctx). */
struct lvip_ifaddr4 {
	__u8 addr[4];
	__u8 mask[4];
};

struct lvip_ifaddr {
	__u32 count;
	__u32 _pad;
	struct lvip_ifaddr4 a[LVIP_IFADDR_MAX];
};
_Static_assert(sizeof(struct lvip_ifaddr) == 8 + 8 * LVIP_IFADDR_MAX, "lvip_ifaddr ABI");

/* Value of lvip_meta (array, one slot): written once at load. */
struct lvip_meta {
	__u32 abi_version;
	__u32 max_vips;
};
_Static_assert(sizeof(struct lvip_meta) == 8, "lvip_meta ABI");

/*
 * lvip monitor. lvip_mon (array, one slot) says whether a monitor listens:
 * pid 0 = nobody, and the datapath builds no event. The monitor writes its
 * pid and rate when it starts and 0 when it exits; lvip clears the pid of a
 * monitor that no longer runs (killed) whenever it opens the pins.
 */
struct lvip_mon {
	__u32 pid;         /* the listening lvip monitor, 0 = none */
	__u32 rate;        /* events per second per CPU (the bucket holds as many) */
	__u64 interval_ns; /* 1e9 / rate: the cost of one event in the bucket */
};
_Static_assert(sizeof(struct lvip_mon) == 16, "lvip_mon ABI");

/* Value of lvip_monrate (per-CPU array, one slot): the per-CPU token bucket
 * as a theoretical arrival time (an event may go when tat - now stays
 * within one second), and the events sent and not sent. */
struct lvip_monrate {
	__u64 tat;      /* bpf_ktime_get_ns() time the bucket is full again */
	__u64 sent;     /* events put in lvip_events */
	__u64 not_sent; /* events the rate limit (or a full ring) left out */
};
_Static_assert(sizeof(struct lvip_monrate) == 24, "lvip_monrate ABI");

#define LVIP_EVENTS_SIZE (256 * 1024) /* lvip_events ring buffer, bytes */
#define LVIP_MON_RATE_DEFAULT 100     /* events per second per CPU */

/* A record of lvip_events: one drop or rewrite. Addresses in network
 * order; an IPv4 address fills the first 4 bytes of its field. */
struct lvip_event {
	__u64 ts_ns;      /* bpf_ktime_get_ns() */
	__u32 ifindex;
	__u16 vlan;       /* the outer VLAN tag's id, 0 when untagged */
	__u8 reason;      /* enum lvip_reason */
	__u8 family;      /* 4 (ARP) or 6 (NDP) */
	__u8 mac[6];      /* requester: ARP sender hardware address, or the
			   * Ethernet source of an NS/NA */
	__u8 _pad[2];
	__u8 requester[16]; /* ARP sender IP, or the IPv6 source */
	__u8 vip[16];
};
_Static_assert(sizeof(struct lvip_event) == 56, "lvip_event ABI");

/*
 * LVS-TUN decapsulation (docs/datapath.md, "Tunnels"). lvip_tunnel (array,
 * one entry per enum lvip_tun_type) says which tunnel types are decapsulated
 * and how; lvip_tunaddr (hash) holds this host's own addresses (the outer
 * destinations that may be decapsulated) and the directors allowed as outer
 * sources; lvip_tunstats (per-CPU array, one entry per type) counts.
 */
enum lvip_tun_type {
	LVIP_TUN_IPIP = 0, /* IP-in-IP: protocol 4 or 41 over IPv4 or IPv6 */
	LVIP_TUN_GUE,      /* UDP to the port, GUE variant 0 or 1 */
	LVIP_TUN_GRE,      /* GRE, protocol ETH_P_IP/ETH_P_IPV6, optional checksum */
	LVIP_TUN_MAX,
};

#define LVIP_TUN_NAMES { [LVIP_TUN_IPIP] = "ipip", [LVIP_TUN_GUE] = "gue", [LVIP_TUN_GRE] = "gre" }

#define LVIP_TUN_F_ENABLED (1U << 0) /* decapsulate this type */
#define LVIP_TUN_F_PEERS   (1U << 1) /* only from outer sources with this type's peer bit */

#define LVIP_MSS_OFF  0      /* lvip_tunnel.mss: no clamping */
#define LVIP_MSS_AUTO 0xffff /* the egress device's MTU less the headers and the tunnel's */

/* Value of lvip_tunnel. */
struct lvip_tunnel {
	__u16 flags; /* LVIP_TUN_F_* */
	__be16 port; /* GUE: the UDP destination port (network order); else 0 */
	__u16 mss;   /* MSS clamp of SYN/SYN-ACK from a VIP: LVIP_MSS_OFF, _AUTO or the MSS */
	__u16 _pad;
};
_Static_assert(sizeof(struct lvip_tunnel) == 8, "lvip_tunnel ABI");

/* Key of lvip_tunaddr: an IPv6 address, or an IPv4 one mapped
 * (::ffff:a.b.c.d). */
struct lvip_tunaddr_key {
	__u8 addr[16];
};
_Static_assert(sizeof(struct lvip_tunaddr_key) == 16, "lvip_tunaddr_key ABI");

/* Value of lvip_tunaddr (__u32): what the address is. */
#define LVIP_TUNADDR_LOCAL        (1U << 0)          /* an address of this host */
#define LVIP_TUNADDR_PEER(type)   (1U << (8 + (type))) /* an allowed director of that type */

/* Value of lvip_tunlocal (array, one entry): the first LOCAL addresses of
 * lvip_tunaddr (in the order the loader sorts them), which
 * the datapath compares before it looks in that hash, a lookup that costs
 * more than the rest of a decapsulation on some hosts. Always a subset of
 * lvip_tunaddr's LOCAL entries: a cache, never an answer of its own. */
#define LVIP_TUNLOCAL4 4
#define LVIP_TUNLOCAL6 2

struct lvip_tunlocal {
	__u32 n4; /* a4[0..n4) are in use */
	__u32 n6;
	__u8 a4[LVIP_TUNLOCAL4][4];
	__u8 a6[LVIP_TUNLOCAL6][16];
};
_Static_assert(sizeof(struct lvip_tunlocal) == 8 + 4 * LVIP_TUNLOCAL4 + 16 * LVIP_TUNLOCAL6,
	       "lvip_tunlocal ABI");

/* Value of lvip_tunstats; field order follows enum lvip_tun_reason. */
enum lvip_tun_reason {
	LVIP_T_DECAP = 0,     /* decapsulated: the inner packet went on to its VIP */
	LVIP_T_NOT_VIP,       /* to this host, the inner destination not a VIP: passed */
	LVIP_T_PEER_REFUSED,  /* the outer source not a listed peer: passed */
	LVIP_T_FRAGMENT,      /* an outer fragment: passed */
	LVIP_T_MALFORMED,     /* truncated or malformed headers, unsupported options: passed */
	LVIP_T_MAX,
};

#define LVIP_TUN_REASON_NAMES {                          \
	[LVIP_T_DECAP] = "decapsulated",                   \
	[LVIP_T_NOT_VIP] = "not_vip",                      \
	[LVIP_T_PEER_REFUSED] = "peer_refused",            \
	[LVIP_T_FRAGMENT] = "fragment",                    \
	[LVIP_T_MALFORMED] = "malformed",                  \
}

struct lvip_tuncounters {
	__u64 decapsulated;
	__u64 not_vip;
	__u64 peer_refused;
	__u64 fragment;
	__u64 malformed;
};
_Static_assert(sizeof(struct lvip_tuncounters) == LVIP_T_MAX * sizeof(__u64),
	       "struct lvip_tuncounters must have one __u64 per enum lvip_tun_reason");

#endif /* LVIP_H */
