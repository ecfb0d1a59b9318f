#!/usr/bin/env python3
# tests/lib/lvip_state.py - lvip's state as the kernel sees it, read without
# lvip: `ip` for lo's addresses and XDP, `tc` for egress filters, tcx.py for
# the programs on tcx egress, `bpftool` for the pinned VIP maps. The fault tests (tests/faults.bats) compare lvip's own view
# (status, check, vip list) and their invariants against this.
#
# Imported by the test drivers in tests/lib/, or run:
#   lvip_state.py state NS PIN IFACE...   print the state as JSON
#   lvip_state.py invariant NS PIN MODE IFACE...
#       MODE strict: every address on lo (loopback excepted) is in the pinned
#                    VIP map, and lvip's XDP and TC programs are on every IFACE;
#       MODE while-lo: the same, but the programs are required only while an
#                    address other than loopback is on lo (during `down`).
#       In both, lvip's programs on an interface must use the maps pinned in
#       PIN (bpf_prog_info.map_ids), else the VIPs of those maps are not
#       hidden there.
#       Prints one line per violation; exit 1 if any.
import ipaddress
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcx  # noqa: E402

TC_HANDLE = "0x1c1a"


def run(cmd, timeout=30):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout)


def lo_addrs(ns):
    """Addresses on lo in NS, loopback (127/8, ::1) excepted, as strings."""
    r = run(["ip", "-n", ns, "-j", "addr", "show", "dev", "lo"])
    if r.returncode:
        raise RuntimeError("ip addr show dev lo: " + r.stderr.strip())
    out = set()
    for link in json.loads(r.stdout or "[]"):
        for a in link.get("addr_info", []):
            ip = ipaddress.ip_address(a["local"])
            if ip.is_loopback:
                continue
            out.add(str(ip))
    return out


def _key_bytes(entry):
    k = entry.get("key")
    if isinstance(k, list):
        return bytes(int(x, 16) for x in k)
    f = entry.get("formatted", {}).get("key", {})
    return bytes(f.get("addr", []))


def _flags(entry):
    f = entry.get("formatted")
    if not f:
        return None
    vals = f.get("values") or []
    if vals and isinstance(vals[0].get("value"), dict):
        return vals[0]["value"].get("flags")
    return None


def map_vips(pin):
    """{address: flags} of the pinned VIP maps; None when neither is pinned.
    A family whose map is not pinned contributes nothing."""
    out, any_pinned = {}, False
    for name in ("lvip_vip4", "lvip_vip6"):
        path = os.path.join(pin, name)
        if not os.path.exists(path):
            continue
        any_pinned = True
        r = run(["bpftool", "-j", "map", "dump", "pinned", path])
        if r.returncode:
            raise RuntimeError("bpftool map dump %s: %s" % (path, r.stderr.strip()))
        for e in json.loads(r.stdout or "[]"):
            out[str(ipaddress.ip_address(_key_bytes(e)))] = _flags(e)
    return out if any_pinned else None


def links(ns):
    """{name: {"ifindex", "up", "xdp_id", "xdp_name", "mtu"}} of NS."""
    r = run(["ip", "-n", ns, "-j", "-d", "link", "show"])
    if r.returncode:
        raise RuntimeError("ip link show: " + r.stderr.strip())
    out = {}
    for l in json.loads(r.stdout or "[]"):
        x = l.get("xdp") or {}
        progs = [x.get("prog")] + [a.get("prog") for a in x.get("attached", [])]
        progs = [p for p in progs if p]
        out[l["ifname"]] = {
            "ifindex": l["ifindex"],
            "up": "UP" in l.get("flags", []),
            "mtu": l.get("mtu"),
            "xdp_id": progs[0]["id"] if progs else 0,
            "xdp_name": progs[0].get("name", "") if progs else "",
        }
    return out


def xdp_components(ns, dev):
    """[(name, id)] of the component programs libxdp's dispatcher runs on
    DEV, from `xdp-loader status` (which finds them through libxdp's pins:
    LIBXDP_BPFFS must name the bpffs they are in)."""
    r = run(["ip", "netns", "exec", ns, "xdp-loader", "status", dev])
    out, mine = [], False
    for line in r.stdout.splitlines():
        f = line.split()
        if f and f[0] == "=>":  # " =>  PRIO  NAME  ID  TAG  ACTIONS"
            if mine and len(f) >= 4 and f[3].isdigit():
                out.append((f[2], int(f[3])))
        elif f:
            mine = f[0] == dev
    return out


def lvip_xdp_id(ns, dev, link, pin):
    """The id of lvip's XDP program on DEV (link: from links()): the
    program attached, or the component of libxdp's dispatcher that PIN holds
    as xdpshare_<ifindex> (a component lvip does not know, left by a kill,
    is not lvip's attachment); 0 if neither."""
    if link["xdp_name"].startswith("lvip_xdp"):
        return link["xdp_id"]
    if link["xdp_name"] == "xdp_dispatcher":
        r = run(["bpftool", "-j", "prog", "show", "pinned",
                 os.path.join(pin, "xdpshare_%d" % link["ifindex"])])
        pinned = json.loads(r.stdout or "{}").get("id") if r.returncode == 0 else None
        for name, pid in xdp_components(ns, dev):
            if name.startswith("lvip_xdp") and pid == pinned:
                return pid
    return 0


def lvip_progs(ns, dev, link, pin):
    """link (from links()) with lvip's XDP and TC program ids and names and
    whether both are on DEV: lvip_xdp_id, tc_id, tc_name, attached."""
    tid, tname = tc_lvip(ns, dev)
    xid = lvip_xdp_id(ns, dev, link, pin)
    return dict(link, lvip_xdp_id=xid, tc_id=tid, tc_name=tname,
                attached=bool(xid) and tname.startswith("lvip_tc"))


def tcx_ids(ns, dev):
    """Ids of the programs on DEV's tcx egress, in order (none without tcx)."""
    return tcx.ids_in_ns(ns, dev)


def tc_lvip(ns, dev):
    """(prog id, prog name) of lvip's egress program: an lvip_tc* program on
    tcx egress, else the filter at lvip's clsact handle; or (0, '')."""
    for pid in tcx_ids(ns, dev):
        name = tcx.prog_name(pid)
        if name.startswith("lvip_tc"):
            return pid, name
    return tc_clsact(ns, dev)


def tc_clsact(ns, dev):
    """(prog id, prog name) of the egress filter at lvip's handle, or (0, '')."""
    r = run(["tc", "-n", ns, "-j", "filter", "show", "dev", dev, "egress"])
    if r.returncode:
        return 0, ""
    for f in json.loads(r.stdout or "[]"):
        o = f.get("options") or {}
        if o.get("handle") == TC_HANDLE:
            p = o.get("prog") or {}
            return p.get("id", 0), p.get("name", "")
    return 0, ""


def tc_filter_count(ns, dev):
    """How many egress bpf filters and tcx programs DEV has (lvip's or not)."""
    r = run(["tc", "-n", ns, "-j", "filter", "show", "dev", dev, "egress"])
    n = len(tcx_ids(ns, dev))
    if r.returncode:
        return n
    return n + sum(1 for f in json.loads(r.stdout or "[]") if f.get("options"))


def bpftool_json(args):
    r = run(["bpftool", "-j"] + args)
    return json.loads(r.stdout or "[]") if r.returncode == 0 else []


def pinned_map_ids(pin):
    """Ids of the maps pinned directly in PIN."""
    ids = set()
    for m in bpftool_json(["-f", "map", "show"]):
        if any(os.path.dirname(p) == pin.rstrip("/") for p in m.get("pinned", [])):
            ids.add(m["id"])
    return ids


def prog_maps():
    """{prog id: set of its map ids}, every program of the host."""
    return {p["id"]: set(p.get("map_ids", [])) for p in bpftool_json(["prog", "show"])}


def pinned_any(pin):
    """Does PIN hold any of lvip's pins (its marker subdirectories aside)?"""
    try:
        return any(n not in ("lvip_made_dir", "lvip_watch") for n in os.listdir(pin))
    except OSError:
        return False


def state(ns, pin, ifaces):
    ls = links(ns)
    st = {"lo": sorted(lo_addrs(ns)), "map": None, "ifaces": {}, "pinned": pinned_any(pin)}
    pinned_ids, pmaps = pinned_map_ids(pin), prog_maps()
    m = map_vips(pin)
    st["map"] = None if m is None else {a: m[a] for a in sorted(m)}
    for dev in ifaces:
        l = ls.get(dev)
        if l is None:
            st["ifaces"][dev] = None
            continue
        l = lvip_progs(ns, dev, l, pin)
        used = [pmaps.get(i, set()) for i in (l["lvip_xdp_id"], l["tc_id"]) if i]
        l["maps_ok"] = all(u and u <= pinned_ids for u in used)
        st["ifaces"][dev] = l
    return st


def violations(st, mode):
    """The invariant (see the header) over a state() result."""
    v = []
    lo = set(st["lo"])
    m = set(st["map"] or {})
    for a in sorted(lo - m):
        v.append("%s is on lo but not in the pinned VIP map%s" %
                 (a, "" if st["map"] is not None else " (no VIP map pinned)"))
    need = mode == "strict" or (mode == "while-lo" and lo)
    if need:
        for dev, l in sorted(st["ifaces"].items()):
            if l is None:
                v.append("%s does not exist" % dev)
            elif not l["attached"]:
                v.append("%s: lvip's programs not attached (xdp %r, tc %r)%s" %
                         (dev, l["xdp_name"], l["tc_name"],
                          " while VIPs are on lo" if mode == "while-lo" else ""))
    for dev, l in sorted(st["ifaces"].items()):
        if l and l["attached"] and not l["maps_ok"]:
            v.append("%s: lvip's programs do not use the maps pinned in the pin dir" % dev)
    return v


def exposed_findings(d):
    """The exposed findings of `lvip check --json` output d: (addresses,
    interfaces, messages of the others)."""
    addrs, ifs, other = set(), set(), []
    for f in d.get("findings", []):
        if f.get("severity") != "exposed":
            continue
        if f.get("address"):
            addrs.add(f["address"])
        elif f.get("interface"):
            ifs.add(f["interface"])
        else:
            other.append(f.get("message", ""))
    return addrs, ifs, other


def main(argv):
    if len(argv) >= 3 and argv[0] == "state":
        print(json.dumps(state(argv[1], argv[2], argv[3:]), indent=1, sort_keys=True))
        return 0
    if len(argv) >= 4 and argv[0] == "invariant":
        v = violations(state(argv[1], argv[2], argv[4:]), argv[3])
        for line in v:
            print(line)
        return 1 if v else 0
    sys.stderr.write(__doc__ if __doc__ else "usage: see the header\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
