/* SPDX-License-Identifier: GPL-2.0 */
/* maps.h - the maps, all with BTF so bpftool prints named fields. */
#ifndef LVIP_MAPS_H
#define LVIP_MAPS_H

#include "lvip.h"

/* VIP sets. Per-CPU values make the per-VIP counters contention-free and
 * membership + counting one lookup. No prealloc: memory follows the VIPs
 * actually configured, not max_entries x CPUs. max_entries is set at load. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LVIP_MAX_VIPS_DEFAULT);
	__type(key, struct lvip_vip4);
	__type(value, struct lvip_vip_val);
} lvip_vip4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LVIP_MAX_VIPS_DEFAULT);
	__type(key, struct lvip_vip6);
	__type(value, struct lvip_vip_val);
} lvip_vip6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lvip_counters);
} lvip_stats SEC(".maps");

/* The per-interface counters: an interface's slot in lvip_ifslot if it owns
 * one (inlined lookup), else its lvip_ifstats entry. The loader creates both
 * on attach (see struct lvip_ifslot); the datapath only updates. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LVIP_IFSLOTS);
	__type(key, __u32);
	__type(value, struct lvip_ifslot);
} lvip_ifslot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, LVIP_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct lvip_counters);
} lvip_ifstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LVIP_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct lvip_ifaddr);
} lvip_ifaddr SEC(".maps");

/* enum lvip_ifmode by ifindex; read only when a frame would be dropped or
 * rewritten and lvip_observing is set, so it costs nothing on the rest. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LVIP_MAX_IFACES);
	__type(key, __u32);
	__type(value, __u32);
} lvip_ifmode SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} lvip_observing SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lvip_meta);
} lvip_meta SEC(".maps");

/* lvip monitor: events, whether anyone listens, the per-CPU rate limit. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, LVIP_EVENTS_SIZE);
} lvip_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lvip_mon);
} lvip_mon SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lvip_monrate);
} lvip_monrate SEC(".maps");

/* LVS-TUN decapsulation: configuration, addresses, counters (lvip.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LVIP_TUN_MAX);
	__type(key, __u32);
	__type(value, struct lvip_tunnel);
} lvip_tunnel SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LVIP_TUNADDR_MAX);
	__type(key, struct lvip_tunaddr_key);
	__type(value, __u32);
} lvip_tunaddr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LVIP_TUN_MAX);
	__type(key, __u32);
	__type(value, struct lvip_tuncounters);
} lvip_tunstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lvip_tunlocal);
} lvip_tunlocal SEC(".maps");

#endif /* LVIP_MAPS_H */
