#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The LVS-TUN lab's MSS clamp on the wire (tests/lab-tun.bats).

  mss_wire.py decode PCAP VIP4 VIP6
      Read a capture taken on the client: for each family, the SYN-ACKs
      from VIP:80 (MSS option, TCP checksum verified here, destination
      port), the other segments from VIP:80 (how many carry data, their
      bytes, how many have a bad checksum), the largest TCP payload the
      client sent to VIP:80 on a connection whose SYN-ACK is in PCAP (not an
      older one still retransmitting), and the source ports of the client's
      RSTs to VIP:80. One JSON object.
  mss_wire.py synack SRC DST DPORT MSS good|bad
      Send one SYN-ACK from SRC:80 to DST:DPORT through a raw socket (so
      its TCP checksum is complete when it reaches TC egress, unlike the
      kernel's own segments), options window scale, MSS (at an odd offset),
      NOP; its checksum right, or off by one with "bad".
  mss_wire.py offload IFACE txcsum|tso|gso on|off
      Switch one offload of IFACE (the legacy ethtool ioctl: no ethtool
      here). The lab's veths checksum nothing: with tx checksumming on, the
      checksum on the wire is the pseudo-header seed, and with TSO/GSO on,
      one captured frame holds many segments.
  mss_wire.py pattern N [sha]
      The N bytes tests/lab/httpd.py serves on /bytes/N (or their sha256).
"""
import ctypes
import fcntl
import hashlib
import ipaddress
import json
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tun_wire import csum, ip_packet, pcap_frames  # noqa: E402

TCP_FIN, TCP_SYN, TCP_RST, TCP_ACK = 0x01, 0x02, 0x04, 0x10


def pattern(n):
    return bytes(i % 251 for i in range(n))


def pseudo(fam, src, dst, length):
    if fam == 4:
        return src + dst + struct.pack("!BBH", 0, 6, length)
    return src + dst + struct.pack("!I3xB", length, 6)


def tcp_of(fam, p):
    """(src, dst, tcp bytes) of an IP packet carrying TCP, or None."""
    if fam == 4:
        ihl = (p[0] & 15) * 4
        if p[9] != 6 or struct.unpack("!H", p[6:8])[0] & 0x3FFF:
            return None
        return p[12:16], p[16:20], p[ihl:]
    if p[6] != 6:
        return None
    return p[8:24], p[24:40], p[40:]


def mss_option(tcp):
    doff = (tcp[12] >> 4) * 4
    opts, i = tcp[20:doff], 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        if kind == 2 and opts[i + 1] == 4:
            return struct.unpack("!H", opts[i + 2:i + 4])[0]
        i += opts[i + 1]
    return None


def decode(path, vip4, vip6):
    vips = {4: ipaddress.IPv4Address(vip4).packed, 6: ipaddress.IPv6Address(vip6).packed}
    out = {}
    for fam in (4, 6):
        out[fam] = {"synacks": [], "from_vip": 0, "data_segments": 0, "data_bytes": 0,
                    "bad_csum": 0, "client_max_payload": 0, "client_rst_ports": []}
    payload = {}
    for fr in pcap_frames(path):
        fam, p = ip_packet(fr)
        if fam is None:
            continue
        t = tcp_of(fam, p)
        if t is None or len(t[2]) < 20:
            continue
        src, dst, tcp = t
        sport, dport = struct.unpack("!HH", tcp[:4])
        flags, doff = tcp[13], (tcp[12] >> 4) * 4
        o = out[fam]
        if src == vips[fam] and sport == 80:
            ok = csum(pseudo(fam, src, dst, len(tcp)) + tcp) == 0
            o["from_vip"] += 1
            if flags & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK:
                o["synacks"].append({"mss": mss_option(tcp), "csum_ok": ok, "dport": dport})
                continue
            o["bad_csum"] += not ok
            if len(tcp) > doff:
                o["data_segments"] += 1
                o["data_bytes"] += len(tcp) - doff
        elif dst == vips[fam] and dport == 80:
            payload[fam, sport] = max(payload.get((fam, sport), 0), len(tcp) - doff)
            if flags & TCP_RST:
                o["client_rst_ports"].append(sport)
    for (fam, sport), n in payload.items():
        if any(s["dport"] == sport for s in out[fam]["synacks"]):
            out[fam]["client_max_payload"] = max(out[fam]["client_max_payload"], n)
    print(json.dumps(out))


def synack(src, dst, dport, mss, bad):
    fam = 6 if ":" in src else 4
    s, d = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    # window scale 7, MSS (offset 23: odd), NOP: 8 bytes, data offset 7
    opts = bytes([3, 3, 7, 2, 4]) + struct.pack("!H", mss) + bytes([1])
    tcp = bytearray(struct.pack("!HHIIBBHHH", 80, dport, 0x10203040, 1, 7 << 4,
                                TCP_SYN | TCP_ACK, 64240, 0, 0) + opts)
    c = csum(pseudo(fam, s, d, len(tcp)) + bytes(tcp))
    if bad:
        c = (c + 1) & 0xFFFF or 1
    tcp[16:18] = struct.pack("!H", c)
    af = socket.AF_INET6 if fam == 6 else socket.AF_INET
    with socket.socket(af, socket.SOCK_RAW, socket.IPPROTO_TCP) as sk:
        sk.bind((src, 0))
        sk.sendto(bytes(tcp), (dst, 0))


class EthtoolValue(ctypes.Structure):
    _fields_ = [("cmd", ctypes.c_uint32), ("data", ctypes.c_uint32)]


OFFLOADS = {"txcsum": (0x16, 0x17), "tso": (0x1E, 0x1F), "gso": (0x23, 0x24)}


def ethtool(sk, ifname, cmd, data=0):
    ev = EthtoolValue(cmd, data)
    ifr = struct.pack("16sP16x", ifname.encode(), ctypes.addressof(ev))
    fcntl.ioctl(sk.fileno(), 0x8946, ifr)
    return ev.data


def offload(ifname, what, state):
    get, set_ = OFFLOADS[what]
    want = 1 if state == "on" else 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sk:
        ethtool(sk, ifname, set_, want)
        if ethtool(sk, ifname, get) != want:
            sys.exit("mss_wire.py: %s %s is still %s" % (ifname, what, "off" if want else "on"))


def main():
    a = sys.argv[1:]
    if len(a) == 4 and a[0] == "decode":
        decode(a[1], a[2], a[3])
    elif len(a) == 6 and a[0] == "synack" and a[5] in ("good", "bad"):
        synack(a[1], a[2], int(a[3]), int(a[4]), a[5] == "bad")
    elif len(a) == 4 and a[0] == "offload" and a[2] in OFFLOADS and a[3] in ("on", "off"):
        offload(a[1], a[2], a[3])
    elif len(a) in (2, 3) and a[0] == "pattern":
        b = pattern(int(a[1]))
        if len(a) == 3:
            print(hashlib.sha256(b).hexdigest())
        else:
            sys.stdout.buffer.write(b)
    else:
        sys.exit(__doc__)


main()
