// SPDX-License-Identifier: GPL-2.0
/*
 * frame.c - the frame builder of the datapath tests (see frame.h).
 */
#include "frame.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint8_t mac_peer[6] = { 0x02, 0, 0, 0, 0, 0x01 };
const uint8_t mac_self[6] = { 0x02, 0, 0, 0, 0, 0x02 };
const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
const uint8_t mac_lldp[6] = { 0x01, 0x80, 0xc2, 0, 0, 0x0e };
const uint8_t mac_zero[6];

void frame_init(struct frame *f)
{
	memset(f, 0, sizeof(*f));
}

void frame_put(struct frame *f, const void *p, size_t n)
{
	if (f->len + n > FRAME_MAX) {
		n = FRAME_MAX - f->len;
		f->overflow = 1;
	}
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

void frame_put8(struct frame *f, uint8_t v)
{
	frame_put(f, &v, 1);
}

void frame_put16(struct frame *f, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	frame_put(f, x, sizeof(x));
}

void frame_put32(struct frame *f, uint32_t v)
{
	frame_put16(f, (uint16_t)(v >> 16));
	frame_put16(f, (uint16_t)v);
}

void frame_zero(struct frame *f, size_t n)
{
	static const uint8_t zeros[FRAME_MAX];

	frame_put(f, zeros, n); /* more than FRAME_MAX never fits */
}

void frame_set16(struct frame *f, size_t off, uint16_t v)
{
	if (off + 2 <= f->len) {
		f->b[off] = (uint8_t)(v >> 8);
		f->b[off + 1] = (uint8_t)v;
	}
}

void frame_mark_at(struct frame *f, size_t off)
{
	if (f->nmark < FRAME_MARKS)
		f->mark[f->nmark++] = off;
}

void frame_mark(struct frame *f)
{
	frame_mark_at(f, f->len);
}

static void bad_literal(const char *family, const char *s)
{
	printf("Bail out! bad %s literal: %s\n", family, s);
	exit(1);
}

void frame_addr4(const char *s, uint8_t out[4])
{
	if (inet_pton(AF_INET, s, out) != 1)
		bad_literal("IPv4", s);
}

void frame_addr6(const char *s, uint8_t out[16])
{
	if (inet_pton(AF_INET6, s, out) != 1)
		bad_literal("IPv6", s);
}

void frame_ipv6_mcast_mac(const uint8_t group[16], uint8_t mac[6])
{
	mac[0] = mac[1] = 0x33;
	memcpy(mac + 2, group + 12, 4);
}

void frame_eth_addrs(struct frame *f, const uint8_t dst[6], const uint8_t src[6])
{
	frame_put(f, dst, 6);
	frame_put(f, src, 6);
}

void frame_vlan_tag(struct frame *f, uint16_t tpid, uint16_t tci)
{
	frame_put16(f, tpid);
	frame_put16(f, tci);
}

void frame_ethertype(struct frame *f, uint16_t type)
{
	frame_put16(f, type);
}

void frame_arp(struct frame *f, const struct frame_arp_fields *a)
{
	frame_put16(f, a->hrd);
	frame_put16(f, a->pro);
	frame_put8(f, a->hln);
	frame_put8(f, a->pln);
	frame_put16(f, a->op);
	frame_put(f, a->sha, 6);
	frame_put(f, a->spa, 4);
	frame_put(f, a->tha, 6);
	frame_put(f, a->tpa, 4);
}

void frame_ipv4(struct frame *f, const struct frame_ipv4_fields *h)
{
	frame_put8(f, h->ver_ihl);
	frame_put8(f, h->tos);
	frame_put16(f, h->tot_len);
	frame_put16(f, h->id);
	frame_put16(f, h->frag_off);
	frame_put8(f, h->ttl);
	frame_put8(f, h->protocol);
	frame_put16(f, h->check);
	frame_put(f, h->saddr, 4);
	frame_put(f, h->daddr, 4);
}

void frame_ipv4_checksum(struct frame *f, size_t start, size_t hlen)
{
	if (start + hlen > f->len)
		return;
	frame_set16(f, start + 10, 0);
	frame_set16(f, start + 10, frame_csum_fold(frame_csum_add(0, f->b + start, hlen)));
}

void frame_ipv6(struct frame *f, const struct frame_ipv6_fields *h)
{
	frame_put32(f, h->vtf);
	frame_put16(f, h->payload_len);
	frame_put8(f, h->nexthdr);
	frame_put8(f, h->hop_limit);
	frame_put(f, h->saddr, 16);
	frame_put(f, h->daddr, 16);
}

void frame_ext_padn(struct frame *f, uint8_t next, uint8_t hdrlen)
{
	size_t pad = 4 + (size_t)hdrlen * 8;

	frame_put8(f, next);
	frame_put8(f, hdrlen);
	frame_put8(f, 1); /* PadN over the rest */
	frame_put8(f, (uint8_t)pad);
	frame_zero(f, pad);
}

void frame_ext_routing0(struct frame *f, uint8_t next)
{
	frame_put8(f, next);
	frame_put8(f, 0); /* hdrlen: 8 bytes */
	frame_put8(f, 0); /* routing type 0 */
	frame_put8(f, 0); /* segments left */
	frame_put32(f, 0);
}

void frame_nd(struct frame *f, const struct frame_nd_fields *nd)
{
	static const uint8_t unspecified[16];

	frame_put8(f, nd->type);
	frame_put8(f, nd->code);
	frame_put16(f, nd->checksum);
	frame_put32(f, nd->flags);
	frame_put(f, nd->target ? nd->target : unspecified, 16);
}

void frame_nd_lla(struct frame *f, uint8_t type, uint8_t len8, const uint8_t mac[6])
{
	frame_put8(f, type);
	frame_put8(f, len8);
	frame_put(f, mac, 6);
}

void frame_udp(struct frame *f, uint16_t sport, uint16_t dport, uint16_t len, uint16_t check)
{
	frame_put16(f, sport);
	frame_put16(f, dport);
	frame_put16(f, len);
	frame_put16(f, check);
}

void frame_ipv6_frag(struct frame *f, uint8_t next, uint16_t frag_off, uint32_t id)
{
	frame_put8(f, next);
	frame_put8(f, 0);
	frame_put16(f, frag_off);
	frame_put32(f, id);
}

void frame_gre(struct frame *f, uint16_t flags_ver, uint16_t proto)
{
	frame_put16(f, flags_ver);
	frame_put16(f, proto);
}

void frame_gue0(struct frame *f, uint8_t ctrl_hlen, uint8_t proto, uint16_t flags)
{
	frame_put8(f, ctrl_hlen);
	frame_put8(f, proto);
	frame_put16(f, flags);
}

void frame_gre_checksum(struct frame *f, size_t gre)
{
	if (gre + 8 > f->len)
		return;
	frame_set16(f, gre + 4, 0);
	frame_set16(f, gre + 4, frame_csum_fold(frame_csum_add(0, f->b + gre, f->len - gre)));
}

uint32_t frame_csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return sum;
}

uint16_t frame_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void frame_ipv6_l4_checksum(struct frame *f, size_t ip6, size_t l4, uint8_t proto,
			    size_t check_off)
{
	uint8_t pseudo[40] = { 0 };
	size_t n;
	uint32_t sum;

	if (ip6 + 40 > f->len || l4 > f->len)
		return;
	n = f->len - l4;
	memcpy(pseudo, f->b + ip6 + 8, 32); /* source, destination */
	pseudo[34] = (uint8_t)(n >> 8);
	pseudo[35] = (uint8_t)n;
	pseudo[39] = proto;
	frame_set16(f, l4 + check_off, 0);
	sum = frame_csum_add(frame_csum_add(0, pseudo, sizeof(pseudo)), f->b + l4, n);
	frame_set16(f, l4 + check_off, frame_csum_fold(sum));
}

void frame_tcp(struct frame *f, const struct frame_tcp_fields *t)
{
	frame_put16(f, t->sport);
	frame_put16(f, t->dport);
	frame_put32(f, t->seq);
	frame_put32(f, t->ack);
	frame_put8(f, (uint8_t)(t->doff << 4));
	frame_put8(f, t->flags);
	frame_put16(f, t->window);
	frame_put16(f, t->check);
	frame_put16(f, t->urg);
}

void frame_tcp_opt_mss(struct frame *f, uint16_t mss)
{
	frame_put8(f, 2);
	frame_put8(f, 4);
	frame_put16(f, mss);
}

void frame_tcp_opt_ws(struct frame *f, uint8_t shift)
{
	frame_put8(f, 3);
	frame_put8(f, 3);
	frame_put8(f, shift);
}

void frame_tcp_opt_sackok(struct frame *f)
{
	frame_put8(f, 4);
	frame_put8(f, 2);
}

void frame_tcp_opt_ts(struct frame *f, uint32_t val, uint32_t ecr)
{
	frame_put8(f, 8);
	frame_put8(f, 10);
	frame_put32(f, val);
	frame_put32(f, ecr);
}

/* The pseudo-header's sum: addresses, zero, proto, upper-layer length. */
static uint32_t pseudo_sum(const uint8_t *buf, size_t l3, size_t n, uint8_t proto, int v6)
{
	uint8_t tail[4] = { 0, proto, (uint8_t)(n >> 8), (uint8_t)n };
	uint32_t sum = v6 ? frame_csum_add(0, buf + l3 + 8, 32) : frame_csum_add(0, buf + l3 + 12, 8);

	if (v6) { /* 32-bit length, 3 zero bytes, next header */
		uint8_t t6[8] = { 0, 0, (uint8_t)(n >> 8), (uint8_t)n, 0, 0, 0, proto };

		return frame_csum_add(sum, t6, sizeof(t6));
	}
	return frame_csum_add(sum, tail, sizeof(tail));
}

uint16_t frame_l4_sum(const uint8_t *buf, size_t l3, size_t l4, size_t n, uint8_t proto, int v6)
{
	uint32_t sum = frame_csum_add(pseudo_sum(buf, l3, n, proto, v6), buf + l4, n);

	return (uint16_t)~frame_csum_fold(sum);
}

void frame_ipv4_l4_checksum(struct frame *f, size_t ip4, size_t l4, uint8_t proto,
			    size_t check_off)
{
	size_t n;

	if (ip4 + 20 > f->len || l4 > f->len)
		return;
	n = f->len - l4;
	frame_set16(f, l4 + check_off, 0);
	frame_set16(f, l4 + check_off,
		    frame_csum_fold(frame_csum_add(pseudo_sum(f->b, ip4, n, proto, 0), f->b + l4, n)));
}
