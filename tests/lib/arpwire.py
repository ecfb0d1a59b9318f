#!/usr/bin/env python3
# tests/lib/arpwire.py - ARP requests with a chosen hardware type, and the
# replies they get, seen from the sender's side (tests/datapath-wire.bats).
#
#   arpwire.py probe --dev DEV --sender IP --hrd N --vip IP --control IP
#                    [--timeout SECONDS] [--grace SECONDS]
#       From the namespace it runs in, through one AF_PACKET socket on DEV
#       (open before anything is sent): a broadcast "who-has VIP tell
#       SENDER" with hardware type N, then the same for CONTROL. Reads ARP
#       frames until the reply for CONTROL has come and GRACE seconds more
#       have passed (the reply for VIP, if any, was sent first), or TIMEOUT.
#       Prints {"vip_replies": N, "control_replies": N} on stdout.
#
# Standard library only.
import argparse
import json
import select
import socket
import struct
import sys
import time

ETH_P_ARP = 0x0806
ARP_REQUEST, ARP_REPLY = 1, 2
BROADCAST = b"\xff" * 6


def arp_frame(src_mac, hrd, op, sender, target):
    eth = BROADCAST + src_mac + struct.pack("!H", ETH_P_ARP)
    body = struct.pack("!HHBBH", hrd, 0x0800, 6, 4, op)
    body += src_mac + socket.inet_aton(sender) + b"\x00" * 6 + socket.inet_aton(target)
    return eth + body


def arp_reply_sender(frame):
    """The sender IP of an ARP reply (any VLAN-free Ethernet frame), else None."""
    if len(frame) < 42 or struct.unpack("!H", frame[12:14])[0] != ETH_P_ARP:
        return None
    if struct.unpack("!H", frame[20:22])[0] != ARP_REPLY:
        return None
    return socket.inet_ntoa(frame[28:32])


def probe(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    s.bind((a.dev, ETH_P_ARP))
    mac = s.getsockname()[4][:6]
    counts = {a.vip: 0, a.control: 0}
    s.send(arp_frame(mac, a.hrd, ARP_REQUEST, a.sender, a.vip))
    s.send(arp_frame(mac, a.hrd, ARP_REQUEST, a.sender, a.control))
    deadline = time.monotonic() + a.timeout
    for _ in range(100000):  # bounded in count as well as in time
        left = deadline - time.monotonic()
        if left <= 0:
            break
        if not select.select([s], [], [], left)[0]:
            continue
        frame, addr = s.recvfrom(2048)
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        ip = arp_reply_sender(frame)
        if ip not in counts:
            continue
        counts[ip] += 1
        if ip == a.control:
            deadline = min(deadline, time.monotonic() + a.grace)
    s.close()
    return {"vip_replies": counts[a.vip], "control_replies": counts[a.control]}


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("probe")
    q.add_argument("--dev", required=True)
    q.add_argument("--sender", required=True)
    q.add_argument("--hrd", type=int, default=1)
    q.add_argument("--vip", required=True)
    q.add_argument("--control", required=True)
    q.add_argument("--timeout", type=float, default=5.0)
    q.add_argument("--grace", type=float, default=0.5)
    a = p.parse_args()
    if a.vip == a.control:
        sys.exit("arpwire.py: --vip and --control must differ")
    print(json.dumps(probe(a)))


if __name__ == "__main__":
    main()
