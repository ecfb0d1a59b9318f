/* SPDX-License-Identifier: GPL-2.0 */
/* consts.h - protocol numbers that vmlinux.h (types only) does not carry. */
#ifndef LVIP_CONSTS_H
#define LVIP_CONSTS_H

#define ETH_ALEN      6
#define ETH_P_IP      0x0800
#define ETH_P_ARP     0x0806
#define ETH_P_IPV6    0x86DD
#define ETH_P_8021Q   0x8100
#define ETH_P_8021AD  0x88A8
#define ARPHRD_ETHER  1
#define ARPHRD_IEEE802 6
#define ARPOP_REQUEST 1
#define ARPOP_REPLY   2

#define NDISC_NEIGHBOUR_SOLICITATION  135
#define NDISC_NEIGHBOUR_ADVERTISEMENT 136

#define IFA_F_SECONDARY 0x01 /* RT_SCOPE_LINK comes from vmlinux.h */

#define IPPROTO_HOPOPTS 0
#define IPPROTO_ROUTING 43
#define IPPROTO_ICMPV6  58
#define IPPROTO_DSTOPTS 60

#define IP_OFFSET 0x1fff /* iphdr.frag_off: the fragment offset */

#define TC_ACT_UNSPEC (-1) /* pass, and let the programs after lvip's run (TCX_NEXT) */
#define TC_ACT_OK   0
#define TC_ACT_SHOT 2

#define LVIP_VLAN_MAX     2 /* 802.1Q / 802.1ad tags parsed */
#define LVIP_IPV6_EXT_MAX 3 /* IPv6 extension headers skipped before ICMPv6 */

#endif /* LVIP_CONSTS_H */
