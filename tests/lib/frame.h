/* SPDX-License-Identifier: GPL-2.0 */
/*
 * frame.h - the one byte-level frame builder of the datapath tests: the unit
 * tests' fixture frames (tests/unit/fixture_cases.c) and the fuzzer's random
 * frames (tests/fuzz/fuzz_datapath.c) are both written with it.
 *
 * Each header function (frame_eth_addrs to frame_udp) appends one header, or
 * one part of it, in network byte order, with exactly the field values it is
 * given - wrong ones included, since the tests need malformed frames. Nothing
 * is filled in behind the caller's back: lengths and checksums are the
 * caller's, with helpers for the checksums. A header whose fields say
 * otherwise (an ARP hln of 8, an IPv4 ihl of 6) is still written with its
 * usual layout; options and payload are appended separately.
 *
 * A frame holds at most FRAME_MAX bytes: what does not fit is cut off and
 * the frame is marked overflowed (the fuzzer keeps such a frame as cut, the
 * unit tests refuse such a fixture).
 *
 * C with POSIX inet_pton; no kernel, libbpf or lvip header.
 */
#ifndef LVIP_TEST_FRAME_H
#define LVIP_TEST_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX   512 /* the largest frame built */
#define FRAME_MARKS 24

struct frame {
	uint8_t b[FRAME_MAX];
	size_t len;
	int overflow;             /* something did not fit: cut at FRAME_MAX */
	size_t needed_xdp;        /* unit tests: bytes lvip_xdp must see to judge it, */
	size_t needed_tc;         /* and the TC programs (fixture_cases.c) */
	size_t mark[FRAME_MARKS]; /* fuzzer: header boundaries, for targeted cuts */
	int nmark;
};

/* The test network's link-layer addresses. */
extern const uint8_t mac_peer[6];  /* the other host: the sender of what XDP sees */
extern const uint8_t mac_self[6];  /* the interface lvip runs on */
extern const uint8_t mac_bcast[6];
extern const uint8_t mac_lldp[6];  /* 01:80:c2:00:00:0e, nearest bridge */
extern const uint8_t mac_zero[6];

/* An empty frame. */
void frame_init(struct frame *f);

/* Raw bytes. frame_set16 overwrites two bytes already in the frame
 * (nothing when off + 2 is beyond its end). */
void frame_put(struct frame *f, const void *p, size_t n);
void frame_put8(struct frame *f, uint8_t v);
void frame_put16(struct frame *f, uint16_t v);
void frame_put32(struct frame *f, uint32_t v);
void frame_zero(struct frame *f, size_t n);
void frame_set16(struct frame *f, size_t off, uint16_t v);

/* Record the current length (frame_mark_at: off) as a header boundary;
 * marks past FRAME_MARKS are not recorded. */
void frame_mark(struct frame *f);
void frame_mark_at(struct frame *f, size_t off);

/* Address literals; a bad one is a bug of the test: TAP "Bail out!", exit 1. */
void frame_addr4(const char *s, uint8_t out[4]);
void frame_addr6(const char *s, uint8_t out[16]);

/* The Ethernet multicast address of an IPv6 multicast group: 33:33 and the
 * group's low 32 bits. */
void frame_ipv6_mcast_mac(const uint8_t group[16], uint8_t mac[6]);

/* Ethernet: the addresses, then any VLAN tags (TPID, TCI) one call each,
 * then the EtherType. */
void frame_eth_addrs(struct frame *f, const uint8_t dst[6], const uint8_t src[6]);
void frame_vlan_tag(struct frame *f, uint16_t tpid, uint16_t tci);
void frame_ethertype(struct frame *f, uint16_t type);

/* The 28-byte ARP body: hrd pro hln pln op sha spa tha tpa, always with
 * 6-byte hardware and 4-byte protocol addresses, whatever hln and pln say. */
struct frame_arp_fields {
	uint16_t hrd, pro;
	uint8_t hln, pln;
	uint16_t op;
	const uint8_t *sha, *spa, *tha, *tpa;
};

#define FRAME_ARP_FORMAT 6  /* hrd pro hln pln: the bytes before op */
#define FRAME_ARP_SPA    14 /* offset of the sender protocol address */

void frame_arp(struct frame *f, const struct frame_arp_fields *a);

/* The 20-byte IPv4 header without options. */
struct frame_ipv4_fields {
	uint8_t ver_ihl, tos;
	uint16_t tot_len, id, frag_off;
	uint8_t ttl, protocol;
	uint16_t check;
	const uint8_t *saddr, *daddr;
};

void frame_ipv4(struct frame *f, const struct frame_ipv4_fields *h);

/* The header checksum of the IPv4 header of hlen bytes (options included)
 * at start, written into it. */
void frame_ipv4_checksum(struct frame *f, size_t start, size_t hlen);

/* The 40-byte IPv6 header. vtf: version, traffic class, flow label. */
struct frame_ipv6_fields {
	uint32_t vtf;
	uint16_t payload_len;
	uint8_t nexthdr, hop_limit;
	const uint8_t *saddr, *daddr;
};

void frame_ipv6(struct frame *f, const struct frame_ipv6_fields *h);

/* IPv6 extension headers. An options header (hop-by-hop, destination
 * options) of (hdrlen + 1) * 8 bytes whose options are one PadN; a routing
 * header of 8 bytes, type 0, no segment left. */
void frame_ext_padn(struct frame *f, uint8_t next, uint8_t hdrlen);
void frame_ext_routing0(struct frame *f, uint8_t next);

/* The 24-byte fixed part of an ICMPv6 NS or NA (or any ICMPv6 message
 * shaped like one): type code checksum, 32 bits of flags (NA: R S O),
 * target. */
struct frame_nd_fields {
	uint8_t type, code;
	uint16_t checksum;
	uint32_t flags;
	const uint8_t *target;
};

void frame_nd(struct frame *f, const struct frame_nd_fields *nd);

/* An ND option carrying a link-layer address: type (1 source, 2 target),
 * length in units of 8 bytes as given, the address. 8 bytes. */
void frame_nd_lla(struct frame *f, uint8_t type, uint8_t len8, const uint8_t mac[6]);

/* The 8-byte UDP header. */
void frame_udp(struct frame *f, uint16_t sport, uint16_t dport, uint16_t len, uint16_t check);

/* Tunnel headers (LVS-TUN), each exactly as given. An IPv6 fragment header
 * (8 bytes: next header, reserved, offset/flags, id). A GRE base header
 * (flags/version, protocol); a checksummed one (flags with 0x8000) is
 * followed by the caller's 4 bytes (frame_gre_checksum fills them). A GUE
 * variant 0 header: byte 0 (version 00, C, hlen), proto/ctype, flags; its
 * hlen words of options are the caller's. GUE variant 1 has no header. */
void frame_ipv6_frag(struct frame *f, uint8_t next, uint16_t frag_off, uint32_t id);
void frame_gre(struct frame *f, uint16_t flags_ver, uint16_t proto);
void frame_gue0(struct frame *f, uint8_t ctrl_hlen, uint8_t proto, uint16_t flags);

/* The GRE checksum (RFC 2784: GRE header and payload, to the end of the
 * frame) of the checksummed GRE header at gre. */
void frame_gre_checksum(struct frame *f, size_t gre);
/* ---- TCP (the MSS clamp's frames) ---- */

/* The 20-byte TCP header: doff in 32-bit words, as given (options are
 * appended by the caller: frame_put, frame_tcp_opt_*), flags the byte of
 * FIN SYN RST PSH ACK URG ECE CWR. */
struct frame_tcp_fields {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t doff, flags;
	uint16_t window, check, urg;
};

#define FRAME_TCP_FIN   0x01
#define FRAME_TCP_SYN   0x02
#define FRAME_TCP_RST   0x04
#define FRAME_TCP_ACK   0x10
#define FRAME_TCP_CHECK 16 /* offset of the checksum in the header */

void frame_tcp(struct frame *f, const struct frame_tcp_fields *t);

/* TCP options, as Linux sends them: MSS (kind 2, 4 bytes), window scale
 * (3, 3 bytes), SACK permitted (4, 2 bytes), timestamps (8, 10 bytes). */
void frame_tcp_opt_mss(struct frame *f, uint16_t mss);
void frame_tcp_opt_ws(struct frame *f, uint8_t shift);
void frame_tcp_opt_sackok(struct frame *f);
void frame_tcp_opt_ts(struct frame *f, uint32_t val, uint32_t ecr);

/* The checksum of the upper-layer message at l4 (up to the end of the
 * frame) of the IPv4 packet whose header is at ip4, with the pseudo-header
 * (addresses, proto, upper-layer length), written at l4 + check_off. */
void frame_ipv4_l4_checksum(struct frame *f, size_t ip4, size_t l4, uint8_t proto,
			    size_t check_off);

/* The ones' complement sum of the upper-layer message of n bytes at l4 in
 * buf, with the pseudo-header of the IP header at l3 (v6: IPv6): 0xffff
 * when its checksum is right. */
uint16_t frame_l4_sum(const uint8_t *buf, size_t l3, size_t l4, size_t n, uint8_t proto, int v6);

/* The Internet checksum: big-endian 16-bit words summed (a chunk of odd
 * length ends in half a word, so chunks other than the last start even),
 * then folded and complemented. */
uint32_t frame_csum_add(uint32_t sum, const uint8_t *p, size_t n);
uint16_t frame_csum_fold(uint32_t sum);

/* The checksum of the upper-layer message at l4 (up to the end of the
 * frame) of the IPv6 packet whose header is at ip6, with the pseudo-header
 * (addresses, upper-layer length, proto), written at l4 + check_off. */
void frame_ipv6_l4_checksum(struct frame *f, size_t ip6, size_t l4, uint8_t proto,
			    size_t check_off);

#endif /* LVIP_TEST_FRAME_H */
