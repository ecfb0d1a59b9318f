#!/usr/bin/env python3
"""addrmarks.py IFACE: one line per address of IFACE in this network
namespace, "ADDR proto=N label=L" (N: IFA_PROTO, "-" when the kernel sent
none; L: IFA_LABEL, "-" for none), read with a raw rtnetlink dump, because
the iproute2 of Debian 12 does not print an address's protocol."""
import ipaddress
import socket
import struct
import sys

RTM_GETADDR, RTM_NEWADDR, NLMSG_DONE, NLMSG_ERROR = 22, 20, 3, 2
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL, IFA_PROTO = 1, 2, 3, 11


def attrs(buf):
    """(type, payload) of the rtattrs in buf."""
    off = 0
    while off + 4 <= len(buf):
        alen, atype = struct.unpack_from("=HH", buf, off)
        if alen < 4:
            break
        yield atype & 0x3fff, buf[off + 4:off + alen]
        off += (alen + 3) & ~3


def dump(ifindex):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    req = struct.pack("=LHHLL", 16 + 8, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
    s.send(req + struct.pack("=BBBBL", socket.AF_UNSPEC, 0, 0, 0, 0))
    for _ in range(10000):  # bounded: a dump ends with NLMSG_DONE
        data = s.recv(1 << 16)
        off = 0
        while off + 16 <= len(data):
            mlen, mtype = struct.unpack_from("=LH", data, off)
            if mtype in (NLMSG_DONE, NLMSG_ERROR) or mlen < 16:
                return
            if mtype == RTM_NEWADDR:
                yield from addr_line(data[off + 16:off + mlen], ifindex)
            off += (mlen + 3) & ~3


def addr_line(msg, ifindex):
    family, _plen, _flags, _scope, index = struct.unpack_from("=BBBBL", msg)
    if index != ifindex:
        return
    a = dict(attrs(msg[8:]))
    raw = a.get(IFA_LOCAL, a.get(IFA_ADDRESS))
    if raw is None:
        return
    addr = ipaddress.ip_address(raw)
    proto = str(a[IFA_PROTO][0]) if IFA_PROTO in a else "-"
    label = a[IFA_LABEL].rstrip(b"\0").decode() if IFA_LABEL in a else "-"
    yield f"{addr} proto={proto} label={label}"


if __name__ == "__main__":
    for line in dump(socket.if_nametoindex(sys.argv[1])):
        print(line)
