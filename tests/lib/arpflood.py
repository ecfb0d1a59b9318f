#!/usr/bin/env python3
# tests/lib/arpflood.py - ARP traffic for the in-place upgrade test,
# and a pcap reader to count what went over the wire.
#
#   arpflood.py send --dev DEV --role peer|rs --vip VIP --own IP --control IP
#                    --stop FILE [--pps 1000] [--max-seconds 60] [--max-frames 60000]
#       From the namespace it runs in, through an AF_PACKET socket on DEV:
#       role peer: ARP requests "who-has VIP tell OWN" (1 in 10 is instead
#                  "who-has CONTROL tell OWN", which must be answered: it
#                  shows that the capture sees replies);
#       role rs:   gratuitous ARP replies announcing VIP (what a real server
#                  must never send; lvip's TC egress drops them).
#       Runs until FILE exists, or the time or frame bound. Prints
#       {"sent": N, "vip": N, "control": N} on stdout.
#
#   arpflood.py count PCAP --vip VIP --control IP --rs-mac MAC
#       Reads a pcap (Ethernet) and prints JSON counts:
#       requests_for_vip    ARP requests for VIP seen
#       leaked              ARP frames from RS-MAC whose sender IP is VIP
#                           (replies for it, announcements, "tell VIP")
#       control_replies     ARP replies from RS-MAC for CONTROL
#       echo_requests / echo_replies   ICMP echo to / from VIP
import json
import os
import socket
import struct
import sys
import time


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def dev_mac(dev):
    with open("/sys/class/net/%s/address" % dev) as f:
        return f.read().strip()


def arp_frame(op, src_mac, dst_mac, spa, tha, tpa):
    eth = dst_mac + src_mac + struct.pack("!H", 0x0806)
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + src_mac + socket.inet_aton(spa) + \
        tha + socket.inet_aton(tpa)
    return eth + arp


def send(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.dev, 0))
    me = mac_bytes(dev_mac(a.dev))
    bcast = b"\xff" * 6
    if a.role == "peer":
        vip_f = arp_frame(1, me, bcast, a.own, b"\0" * 6, a.vip)
        ctl_f = arp_frame(1, me, bcast, a.own, b"\0" * 6, a.control)
    else:
        vip_f = arp_frame(2, me, bcast, a.vip, bcast, a.vip)
        ctl_f = None
    sent = nvip = nctl = 0
    gap = 1.0 / a.pps
    end = time.monotonic() + a.max_seconds
    nxt = time.monotonic()
    while sent < a.max_frames and time.monotonic() < end:
        if sent % 200 == 0 and os.path.exists(a.stop):
            break
        if ctl_f is not None and sent % 10 == 9:
            f, nctl = ctl_f, nctl + 1
        else:
            f, nvip = vip_f, nvip + 1
        try:
            s.send(f)
        except OSError:
            # ENOBUFS and the like: the frame was not sent (lvip's egress
            # drop makes AF_PACKET return an error on the rs side).
            pass
        sent += 1
        nxt += gap
        d = nxt - time.monotonic()
        if d > 0:
            time.sleep(d)
    print(json.dumps({"sent": sent, "vip": nvip, "control": nctl}))
    return 0


def pcap_frames(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("%s: not a pcap file (magic %s)" % (path, magic.hex()))
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        yield data[off:off + incl]
        off += incl


def count(a):
    vip = socket.inet_aton(a.vip)
    ctl = socket.inet_aton(a.control)
    rs = mac_bytes(a.rs_mac)
    c = {"frames": 0, "requests_for_vip": 0, "leaked": 0, "control_replies": 0,
         "echo_requests": 0, "echo_replies": 0, "leaked_examples": []}
    for fr in pcap_frames(a.pcap):
        c["frames"] += 1
        if len(fr) < 14:
            continue
        etype = struct.unpack("!H", fr[12:14])[0]
        src = fr[6:12]
        if etype == 0x0806 and len(fr) >= 42:
            op = struct.unpack("!H", fr[20:22])[0]
            spa, tpa = fr[28:32], fr[38:42]
            if op == 1 and tpa == vip and src != rs:
                c["requests_for_vip"] += 1
            if src == rs and spa == vip:
                c["leaked"] += 1
                if len(c["leaked_examples"]) < 3:
                    c["leaked_examples"].append(fr[:42].hex())
            if src == rs and op == 2 and spa == ctl:
                c["control_replies"] += 1
        elif etype == 0x0800 and len(fr) >= 34 + 8 and fr[23] == 1:
            ihl = (fr[14] & 0x0F) * 4
            icmp_type = fr[14 + ihl]
            if icmp_type == 8 and fr[30:34] == vip:
                c["echo_requests"] += 1
            elif icmp_type == 0 and fr[26:30] == vip:
                c["echo_replies"] += 1
    print(json.dumps(c, sort_keys=True))
    return 0


def main(argv):
    import argparse
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--dev", required=True)
    s.add_argument("--role", choices=("peer", "rs"), required=True)
    s.add_argument("--vip", required=True)
    s.add_argument("--own", default="0.0.0.0")
    s.add_argument("--control", default="0.0.0.0")
    s.add_argument("--stop", required=True)
    s.add_argument("--pps", type=float, default=1000)
    s.add_argument("--max-seconds", type=float, default=60)
    s.add_argument("--max-frames", type=int, default=60000)
    c = sub.add_parser("count")
    c.add_argument("pcap")
    c.add_argument("--vip", required=True)
    c.add_argument("--control", required=True)
    c.add_argument("--rs-mac", required=True)
    a = ap.parse_args(argv)
    return send(a) if a.cmd == "send" else count(a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
