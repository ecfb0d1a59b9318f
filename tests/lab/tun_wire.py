#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge the LVS-TUN lab's director on the wire: in a pcap taken on the
router's interface to the director, every packet the router sent to a VIP
must come back once, encapsulated exactly as Linux's IPVS would encapsulate
it (net/netfilter/ipvs/ip_vs_xmit.c), byte for byte. The expected frame is
built here from the captured original, independently of
tests/lab/director.bpf.c:

  inner     TTL / hop limit - 1 (IPVS's decrement_ttl), IPv4 checksum redone
  outer v4  version 4, ihl 5, TOS = inner DS with ECN encapsulation (CE ->
            ECT(0)), total length, id 0 when DF else any, DF = inner IPv4 DF
            when pmtu_disc (IPVS's default) else 0, MF 0, offset 0, TTL =
            inner (after the decrement), protocol 4/41/17/47, a valid
            checksum, source = the director, destination = a real server
  outer v6  version 6, traffic class as the TOS above, flow label 0,
            payload length, next header, hop limit = inner, addresses
  GUE       UDP source port in the local port range (one per flow: a flow
            hash), destination port, length, checksum 0; GUE version 0,
            C 0, hlen 0, proto 4/41, flags 0
  GRE       flags 0 (C with gre_csum=1 and a valid checksum), version 0,
            protocol 0x0800/0x86dd, no key, no sequence number
  Ethernet  back to the router's MAC from the director's, EtherType of the
            outer family

  tun_wire.py PCAP type=ipip|gue|gre outer=4|6 vip4= vip6= saddr4= saddr6=
              rs4=A,B rs6=A,B port=N mac_dir= mac_router= [ports=MIN-MAX]
              [gre_csum=0|1] [pmtu_disc=0|1] [need=4,6]

Prints one JSON object; exit 0 when every original came back once, right,
nothing else was sent, and (need=) packets of those inner families were seen.
"""
import collections
import ipaddress
import json
import struct
import sys


def pcap_frames(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    if struct.unpack(end + "I", data[20:24])[0] != 1:
        sys.exit("tun_wire.py: not an Ethernet capture")
    off, out = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def ecn_encap(ds):
    ecn = ds & 3
    return (ds & ~3) | (2 if ecn == 3 else ecn)


def ip_packet(frame):
    """The IP packet of an Ethernet frame (trailer cut), its family, or None."""
    et = struct.unpack("!H", frame[12:14])[0]
    p = frame[14:]
    if et == 0x0800 and len(p) >= 20 and p[0] >> 4 == 4:
        return 4, p[:struct.unpack("!H", p[2:4])[0]]
    if et == 0x86DD and len(p) >= 40 and p[0] >> 4 == 6:
        return 6, p[:40 + struct.unpack("!H", p[4:6])[0]]
    return None, None


def ip_dst(fam, p):
    return p[16:20] if fam == 4 else p[24:40]


def ds_ttl(fam, p):
    if fam == 4:
        return p[1], p[8]
    return ((p[0] & 0xF) << 4) | (p[1] >> 4), p[7]


def decremented(fam, p):
    """IPVS's decrement_ttl + ip_send_check."""
    q = bytearray(p)
    if fam == 4:
        q[8] -= 1
        q[10:12] = b"\0\0"
        q[10:12] = struct.pack("!H", csum(bytes(q[:(q[0] & 0xF) * 4])))
    else:
        q[7] -= 1
    return bytes(q)


class Cfg:
    def __init__(self, args):
        o = dict(a.split("=", 1) for a in args)
        self.type = o["type"]
        self.outer = int(o["outer"])
        self.vips = {ipaddress.ip_address(o["vip4"]).packed, ipaddress.ip_address(o["vip6"]).packed}
        self.saddr = ipaddress.ip_address(o["saddr%d" % self.outer]).packed
        self.rs = {ipaddress.ip_address(a).packed for a in o["rs%d" % self.outer].split(",")}
        self.port = int(o.get("port", 0))
        self.gre_csum = o.get("gre_csum", "0") == "1"
        self.pmtu_disc = o.get("pmtu_disc", "1") == "1"
        self.mac_dir, self.mac_router = mac(o["mac_dir"]), mac(o["mac_router"])
        self.pmin, self.pmax = (int(x) for x in o.get("ports", "32768-60999").split("-"))
        self.need = [int(x) for x in o.get("need", "").split(",") if x]


def tunnel_len(cfg):
    return {"ipip": 0, "gue": 12, "gre": 8 if cfg.gre_csum else 4}[cfg.type]


def expected(cfg, fam, orig_ip, actual_ip):
    """The frame IPVS would send for the original inner packet; the outer
    id, the outer destination and the UDP source port (not predictable from
    the capture) are taken from the actual frame and checked on their own."""
    inner = decremented(fam, orig_ip)
    ds, ttl = ds_ttl(fam, inner)
    iproto = 41 if fam == 6 else 4
    olen = 20 if cfg.outer == 4 else 40
    tun = b""
    if cfg.type == "gue":
        sport = struct.unpack("!H", actual_ip[olen:olen + 2])[0]
        tun = struct.pack("!HHHH", sport, cfg.port, 8 + 4 + len(inner), 0) + bytes([0, iproto, 0, 0])
        proto = 17
    elif cfg.type == "gre":
        et = 0x86DD if fam == 6 else 0x0800
        if cfg.gre_csum:
            h = struct.pack("!HHHH", 0x8000, et, 0, 0)
            tun = struct.pack("!HHHH", 0x8000, et, csum(h + inner), 0)
        else:
            tun = struct.pack("!HH", 0, et)
        proto = 47
    else:
        proto = iproto
    payload = tun + inner
    if cfg.outer == 4:
        df = cfg.pmtu_disc and fam == 4 and bool(orig_ip[6] & 0x40)
        ident = struct.unpack("!H", actual_ip[4:6])[0]
        h = struct.pack("!BBHHHBBH4s4s", 0x45, ecn_encap(ds), 20 + len(payload), ident,
                        0x4000 if df else 0, ttl, proto, 0, cfg.saddr, actual_ip[16:20])
        h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
        et = 0x0800
    else:
        h = struct.pack("!IHBB16s16s", (6 << 28) | (ecn_encap(ds) << 20), len(payload), proto,
                        ttl, cfg.saddr, actual_ip[24:40])
        et = 0x86DD
    return cfg.mac_router + cfg.mac_dir + struct.pack("!H", et) + h + payload


def fields(cfg, frame):
    """Named fields of an encapsulated frame, for the report of a mismatch."""
    f = collections.OrderedDict()
    f["eth.dst"], f["eth.src"], f["eth.type"] = frame[0:6].hex(), frame[6:12].hex(), frame[12:14].hex()
    p = frame[14:]
    if cfg.outer == 4:
        f["ip.version"], f["ip.ihl"], f["ip.tos"] = p[0] >> 4, p[0] & 0xF, p[1]
        f["ip.tot_len"], f["ip.id"] = struct.unpack("!HH", p[2:6])
        fo = struct.unpack("!H", p[6:8])[0]
        f["ip.flags"], f["ip.frag_off"] = fo >> 13, fo & 0x1FFF
        f["ip.ttl"], f["ip.protocol"], f["ip.check"] = p[8], p[9], p[10:12].hex()
        f["ip.saddr"], f["ip.daddr"] = p[12:16].hex(), p[16:20].hex()
        o = 20
    else:
        w = struct.unpack("!I", p[:4])[0]
        f["ip6.version"], f["ip6.tclass"], f["ip6.flow_label"] = w >> 28, (w >> 20) & 0xFF, w & 0xFFFFF
        f["ip6.payload_len"], f["ip6.nexthdr"], f["ip6.hop_limit"] = struct.unpack("!HBB", p[4:8])
        f["ip6.saddr"], f["ip6.daddr"] = p[8:24].hex(), p[24:40].hex()
        o = 40
    if cfg.type == "gue":
        f["udp.source"], f["udp.dest"], f["udp.len"], f["udp.check"] = struct.unpack("!HHHH", p[o:o + 8])
        g = p[o + 8:o + 12]
        f["gue.version"], f["gue.C"], f["gue.hlen"] = g[0] >> 6, (g[0] >> 5) & 1, g[0] & 0x1F
        f["gue.proto"], f["gue.flags"] = g[1], g[2:4].hex()
    elif cfg.type == "gre":
        fl, f["gre.protocol"] = struct.unpack("!HH", p[o:o + 4])
        f["gre.flags"] = "%04x" % fl
        if fl & 0x8000:
            f["gre.csum"], f["gre.reserved1"] = p[o + 4:o + 6].hex(), p[o + 6:o + 8].hex()
    f["inner"] = p[o + tunnel_len(cfg):].hex()
    return f


def flow_key(fam, p):
    """Addresses, protocol and ports (or ICMP id) of an inner packet."""
    if fam == 4:
        hl = (p[0] & 0xF) * 4
        return (p[12:20], p[9], p[hl:hl + 4])
    return (p[8:40], p[6], p[40:44])


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cfg = Cfg(sys.argv[2:])
    olen = 20 if cfg.outer == 4 else 40
    originals = collections.defaultdict(list)  # expected inner bytes -> [(fam, ip)]
    encaps, other_from_dir = [], 0
    for fr in pcap_frames(sys.argv[1]):
        if len(fr) < 14:
            continue
        fam, p = ip_packet(fr)
        if fam is None:
            continue
        if fr[0:6] == cfg.mac_dir and fr[6:12] == cfg.mac_router and ip_dst(fam, p) in cfg.vips:
            originals[decremented(fam, p)].append((fam, p))
        elif fr[0:6] == cfg.mac_router and fr[6:12] == cfg.mac_dir:
            if fam == cfg.outer and ip_dst(fam, p) in cfg.rs:
                encaps.append(fr[:14 + len(p)])
            elif ip_dst(fam, p) in cfg.vips or (fam == 4 and p[9] in (4, 41, 47)) or \
                    (fam == 6 and p[6] in (4, 41, 47)):
                other_from_dir += 1
    errors, pairs, per_inner = [], 0, collections.Counter()
    sports, dests = {}, {}
    for fr in encaps:
        actual_ip = fr[14:]
        inner = actual_ip[olen + tunnel_len(cfg):]
        if not originals.get(inner):
            errors.append({"frame": fr[:64].hex(), "error": "no original packet with this inner packet"})
            continue
        fam, orig = originals[inner].pop(0)
        pairs += 1
        per_inner[fam] += 1
        exp = expected(cfg, fam, orig, actual_ip)
        if exp != fr:
            a, e = fields(cfg, fr), fields(cfg, exp)
            errors.append({"inner": fam, "fields": {k: {"sent": a.get(k), "ipvs": e[k]}
                                                    for k in e if a.get(k) != e[k]}})
        if cfg.outer == 4 and actual_ip[6] & 0x40 and actual_ip[4:6] != b"\0\0":
            errors.append({"inner": fam, "error": "DF set but id %s, not 0 (ip_select_ident)" % actual_ip[4:6].hex()})
        fk = flow_key(fam, orig)
        dst = actual_ip[16:20] if cfg.outer == 4 else actual_ip[24:40]
        if dests.setdefault(fk, dst) != dst:
            errors.append({"inner": fam, "error": "one flow sent to two real servers"})
        if cfg.type == "gue":
            sp = struct.unpack("!H", actual_ip[olen:olen + 2])[0]
            if not cfg.pmin <= sp < cfg.pmax:
                errors.append({"inner": fam, "error": "UDP source port %d outside [%d, %d)" % (sp, cfg.pmin, cfg.pmax)})
            if sports.setdefault(fk, sp) != sp:
                errors.append({"inner": fam, "error": "one flow, two UDP source ports"})
    unanswered = sum(len(v) for v in originals.values())
    missing = [f for f in cfg.need if per_inner[f] == 0]
    res = {"type": cfg.type, "outer": cfg.outer, "gre_csum": cfg.gre_csum,
           "pairs": pairs, "inner4": per_inner[4], "inner6": per_inner[6],
           "unanswered": unanswered, "other_from_director": other_from_dir,
           "flows": len(dests), "missing_inner": missing, "errors": errors[:5],
           "error_count": len(errors)}
    print(json.dumps(res))
    ok = pairs > 0 and not errors and unanswered == 0 and other_from_dir == 0 and not missing
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
