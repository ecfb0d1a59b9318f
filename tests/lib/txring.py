#!/usr/bin/env python3
# tests/lib/txring.py - send one ARP frame through an AF_PACKET socket's
# PACKET_TX_RING (tests/datapath-wire.bats).
#
#   txring.py --dev DEV --op 1|2 --sender IP --target IP
#
# The frame (broadcast, from DEV's MAC, hardware type 1) is written into a
# slot of an mmap()ed TPACKET_V2 TX ring, marked TP_STATUS_SEND_REQUEST and
# flushed with send(b""). The kernel then builds an skb whose linear part is
# only the Ethernet header; the rest stays in the ring's pages as fragments.
# Prints {"sent": N, "errno": E} on stdout: N is what send() reported, E the
# error it raised (0 for none; ENOBUFS when an egress filter dropped it).
#
# Standard library only.
import argparse
import json
import mmap
import socket
import struct

ETH_P_ARP = 0x0806
SOL_PACKET = 263
PACKET_VERSION = 10
PACKET_TX_RING = 13
TPACKET_V2 = 1
TP_STATUS_AVAILABLE = 0
TP_STATUS_SEND_REQUEST = 1

BLOCK_SIZE = 4096
FRAME_SIZE = 2048
FRAME_NR = BLOCK_SIZE // FRAME_SIZE
# struct tpacket2_hdr is 32 bytes; a TX frame's data follows it at
# TPACKET2_HDRLEN - sizeof(struct sockaddr_ll) = TPACKET_ALIGN(32).
TP2_HDR = struct.Struct("=IIIHHIIHH4x")
TX_DATA_OFF = 32


def arp_frame(src_mac, op, sender, target):
    eth = b"\xff" * 6 + src_mac + struct.pack("!H", ETH_P_ARP)
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, op)
    body += src_mac + socket.inet_aton(sender) + b"\x00" * 6 + socket.inet_aton(target)
    return eth + body


def send_ring(dev, frame):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    s.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V2)
    req = struct.pack("=IIII", BLOCK_SIZE, 1, FRAME_SIZE, FRAME_NR)
    s.setsockopt(SOL_PACKET, PACKET_TX_RING, req)
    s.bind((dev, ETH_P_ARP))
    ring = mmap.mmap(s.fileno(), BLOCK_SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    frame = frame(s.getsockname()[4][:6])
    ring[TX_DATA_OFF:TX_DATA_OFF + len(frame)] = frame
    # tp_len and the rest first; tp_status last: it hands the slot over.
    ring[0:TP2_HDR.size] = TP2_HDR.pack(TP_STATUS_AVAILABLE, len(frame), len(frame), 0, 0, 0, 0, 0, 0)
    ring[0:4] = struct.pack("=I", TP_STATUS_SEND_REQUEST)
    try:
        sent, err = s.send(b""), 0
    except OSError as e:
        sent, err = 0, e.errno
    ring.close()
    s.close()
    return {"sent": sent, "errno": err}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dev", required=True)
    p.add_argument("--op", type=int, choices=(1, 2), required=True)
    p.add_argument("--sender", required=True)
    p.add_argument("--target", required=True)
    a = p.parse_args()
    res = send_ring(a.dev, lambda mac: arp_frame(mac, a.op, a.sender, a.target))
    print(json.dumps(res))


if __name__ == "__main__":
    main()
