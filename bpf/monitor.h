/* SPDX-License-Identifier: GPL-2.0 */
/*
 * monitor.h - events for lvip monitor: one per drop or rewrite, built only
 * on those paths and only while a monitor listens (lvip_mon.pid != 0),
 * through a per-CPU token bucket (struct lvip_monrate) into lvip_events.
 */
#ifndef LVIP_MONITOR_H
#define LVIP_MONITOR_H

#include "parsing.h"
#include "maps.h"

#define LVIP_NSEC_PER_SEC 1000000000ULL

/* The reason the datapath counts for r on ifindex (observe mode counts a
 * would-be drop under its observe reason): verdict.h defines it. */
static __always_inline enum lvip_reason acted_reason(__u32 ifindex, enum lvip_reason r);

static __always_inline const struct lvip_mon *mon_listening(void)
{
	__u32 zero = 0;
	struct lvip_mon *m = bpf_map_lookup_elem(&lvip_mon, &zero);

	return m && m->pid ? m : 0;
}

/* The outer VLAN tag's id in the frame, 0 when untagged. */
static __always_inline __u16 mon_vlan(const struct cursor *c)
{
	struct ethhdr *eth = c->start;
	struct vlan_tag *tag = c->start + sizeof(*eth);

	if ((void *)(tag + 1) > c->end || !proto_is_vlan(eth->h_proto))
		return 0;
	return bpf_ntohs(tag->tci) & 0x0fff;
}

/* Take a token (a bucket of one second's worth of events); count the event
 * sent or not. */
static __always_inline void mon_send(const struct lvip_mon *m, struct lvip_event *e)
{
	__u32 zero = 0;
	struct lvip_monrate *b = bpf_map_lookup_elem(&lvip_monrate, &zero);
	__u64 now = bpf_ktime_get_ns(), tat;

	if (!b)
		return;
	tat = b->tat > now ? b->tat : now;
	if (tat + m->interval_ns - now > LVIP_NSEC_PER_SEC) {
		b->not_sent++;
		return;
	}
	b->tat = tat + m->interval_ns;
	e->ts_ns = now;
	if (bpf_ringbuf_output(&lvip_events, e, sizeof(*e), 0))
		b->not_sent++;
	else
		b->sent++;
}

/* An ARP frame dropped or rewritten: the requester is the ARP sender. */
static __always_inline void mon_arp(const struct cursor *c, const struct arp_eth *arp,
				    const void *vip, __u32 ifindex, enum lvip_reason r)
{
	const struct lvip_mon *m = mon_listening();
	struct lvip_event e = {};

	if (!m)
		return;
	e.ifindex = ifindex;
	e.vlan = mon_vlan(c);
	e.reason = acted_reason(ifindex, r);
	e.family = 4;
	__builtin_memcpy(e.mac, arp->sha, sizeof(e.mac));
	__builtin_memcpy(e.requester, arp->sip, 4);
	__builtin_memcpy(e.vip, vip, 4);
	mon_send(m, &e);
}

/* An NS or NA dropped: the requester is the IPv6 source and the Ethernet
 * source. */
static __always_inline void mon_nd(const struct cursor *c, const struct ipv6hdr *ip6,
				   const void *target, __u32 ifindex, enum lvip_reason r)
{
	const struct lvip_mon *m = mon_listening();
	struct ethhdr *eth = c->start;
	struct lvip_event e = {};

	if (!m || (void *)(eth + 1) > c->end)
		return;
	e.ifindex = ifindex;
	e.vlan = mon_vlan(c);
	e.reason = acted_reason(ifindex, r);
	e.family = 6;
	__builtin_memcpy(e.mac, eth->h_source, sizeof(e.mac));
	__builtin_memcpy(e.requester, &ip6->saddr, 16);
	__builtin_memcpy(e.vip, target, 16);
	mon_send(m, &e);
}

#endif /* LVIP_MONITOR_H */
