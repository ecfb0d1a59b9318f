#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Configure and read the lab's LVS-TUN director (tests/lab/director.bpf.c)
through its pinned maps, with bpftool.

  director.py set DIR type=ipip|gue|gre outer=4|6 vip4=A vip6=A saddr4=A
              saddr6=A rs4=A[,A] rs6=A[,A] [port=N] [gre_csum=0|1]
              [pmtu_disc=0|1] [ports=MIN-MAX]
  director.py stats DIR     one line per type and family pair that was used:
                            "TYPE OUTER-in-INNER N", e.g. "gue 4-in-6 3"

DIR is the directory holding the pinned maps dir_cfg and dir_stats.
"""
import ipaddress
import json
import struct
import subprocess
import sys

TYPES = {"ipip": 0, "gue": 1, "gre": 2}
NAMES = {v: k for k, v in TYPES.items()}
# struct dir_cfg
CFG = struct.Struct("=BBBBBB2sHH4s16s4s16s4s4s16s16s")


def a4(s):
    return ipaddress.IPv4Address(s).packed


def a6(s):
    return ipaddress.IPv6Address(s).packed


def pack(o):
    rs4 = [a4(x) for x in o["rs4"].split(",")]
    rs6 = [a6(x) for x in o["rs6"].split(",")]
    if len(rs4) != len(rs6) or not 1 <= len(rs4) <= 2:
        sys.exit("director.py: rs4 and rs6 need 1 or 2 addresses each, as many of each")
    n = len(rs4)
    rs4 += rs4[:1] * (2 - n)
    rs6 += rs6[:1] * (2 - n)
    pmin, pmax = (int(x) for x in o.get("ports", "32768-60999").split("-"))
    return CFG.pack(TYPES[o["type"]], 1 if o["outer"] == "6" else 0,
                    int(o.get("gre_csum", 0)), int(o.get("pmtu_disc", 1)), n, 0,
                    struct.pack("!H", int(o.get("port", 0))), pmin, pmax,
                    a4(o["vip4"]), a6(o["vip6"]), a4(o["saddr4"]), a6(o["saddr6"]),
                    rs4[0], rs4[1], rs6[0], rs6[1])


def hexargs(b):
    return ["%02x" % x for x in b]


def cmd_set(d, args):
    o = dict(a.split("=", 1) for a in args)
    v = pack(o)
    subprocess.run(["bpftool", "map", "update", "pinned", d + "/dir_cfg", "key", "hex"]
                   + hexargs(struct.pack("=I", 0)) + ["value", "hex"] + hexargs(v), check=True)


def cmd_stats(d):
    out = subprocess.run(["bpftool", "-j", "map", "dump", "pinned", d + "/dir_stats"],
                         check=True, capture_output=True, text=True).stdout
    for e in json.loads(out):
        e = e.get("formatted", e)
        k, v = int(e["key"]), int(e["value"])
        if v:
            print("%s %s-in-%s %d" % (NAMES[k // 4], 6 if k & 2 else 4, 6 if k & 1 else 4, v))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    if sys.argv[1] == "set":
        cmd_set(sys.argv[2], sys.argv[3:])
    elif sys.argv[1] == "stats":
        cmd_stats(sys.argv[2])
    else:
        sys.exit(__doc__)


main()
