#!/usr/bin/env python3
"""Send ICMPv6 Neighbor Solicitations or Advertisements on an interface, built
byte by byte (no scapy: it takes a second to import), through an AF_PACKET
socket, so that they pass the interface's TC egress hook like any program's.

    nd.py IFACE ns|na SRCMAC DSTMAC SRCIP DSTIP TARGET [FLAGS] [COUNT]

FLAGS for na: any of R (router), S (solicited), O (override), or "-".
Prints "sent N dropped M": a frame refused with ENOBUFS was dropped by the
qdisc layer (e.g. a TC egress program).
"""
import errno
import ipaddress
import socket
import struct
import sys


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(kind, smac, dmac, src, dst, target, flags):
    src, dst, tgt = (ipaddress.IPv6Address(a).packed for a in (src, dst, target))
    if kind == "ns":
        head = struct.pack("!BBHI", 135, 0, 0, 0)
        opt = b"" if src == bytes(16) else struct.pack("!BB", 1, 1) + mac(smac)
    else:
        bits = sum({"R": 0x80, "S": 0x40, "O": 0x20}.get(f, 0) for f in flags)
        head = struct.pack("!BBHB3x", 136, 0, 0, bits)
        opt = struct.pack("!BB", 2, 1) + mac(smac)
    icmp = head + tgt + opt
    pseudo = src + dst + struct.pack("!I3xB", len(icmp), 58)
    c = checksum(pseudo + icmp)
    icmp = icmp[:2] + struct.pack("!H", c) + icmp[4:]
    ip6 = struct.pack("!IHBB", 0x60000000, len(icmp), 58, 255) + src + dst
    return mac(dmac) + mac(smac) + struct.pack("!H", 0x86DD) + ip6 + icmp


def main():
    iface, kind, smac, dmac, src, dst, target = sys.argv[1:8]
    flags = sys.argv[8] if len(sys.argv) > 8 else "-"
    count = int(sys.argv[9]) if len(sys.argv) > 9 else 1
    if kind not in ("ns", "na"):
        sys.exit("nd.py: kind is ns or na")
    f = frame(kind, smac, dmac, src, dst, target, flags)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    sent = dropped = 0
    for _ in range(count):
        try:
            s.send(f)
            sent += 1
        except OSError as e:
            if e.errno != errno.ENOBUFS:
                raise
            dropped += 1
    print("sent", sent, "dropped", dropped)


main()
