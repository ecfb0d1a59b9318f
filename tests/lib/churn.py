#!/usr/bin/env python3
# tests/lib/churn.py - interface churn under lvip: status and check stay true.
#
#   churn.py --ns RS --peer-ns PEER2 --pin PIN --lvip LVIP [--cycles 50] [--share]
#
# RS has veth0 (attached, left alone) and veth2, whose peer veth3 lives in the
# namespace PEER2. Both are attached and two VIPs are on lo. Each cycle does
# one of, in turn:
#   recreate    veth2 deleted and created again with the same name (new ifindex)
#   rename      veth2 renamed (down, rename, up) and renamed back
#   downup      veth2 set down, then up
#   mtu         veth2's MTU set to 1280, 9000 (may be refused with native XDP), 1500
#   addresses   veth2's addresses flushed, others added, the original ones back
#   peer-ns     PEER2 deleted (veth3 goes, and veth2 with it), then made again
# After each change and after each repair, `lvip status --json` and `lvip
# check --json` are compared with the state read from ip/tc/bpftool:
#   status  every listed interface: the name of that ifindex now (or
#           "(gone)", with a problem naming it, when it no longer exists), the
#           XDP and TC program ids really on it; every interface carrying
#           lvip's XDP program is listed.
#   check   exposed addresses = on lo and not in the map; exposed interfaces =
#           up, with a MAC and an IPv4 or global IPv6 address, without lvip's
#           XDP+TC (check's definition, docs/cli.md); nothing else is
#           exposed once the interface is attached again; exit 1 iff
#           anything is exposed.
# The repair is what an operator (or `lvip watch`) does: `lvip attach veth2`
# (`attach --xdp-share` with --share: lvip as a component of libxdp's
# dispatcher, which the kernel must allow).
# Leaks: pins, bpf links running lvip's XDP program, lvip_ifstats and
# lvip_ifaddr entries, owned lvip_ifslot slots and egress filters are counted before the first cycle
# and after the last one. Prints a JSON summary; exit 1 on any problem.
import argparse
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lvip_state  # noqa: E402
from lvip_state import run  # noqa: E402

KINDS = ["recreate", "rename", "downup", "mtu", "addresses", "peer-ns"]
V2_ADDRS = ["198.18.2.11/24", "2001:db8:2::11/64"]


class Churn:
    def __init__(self, a):
        self.a = a
        self.ns, self.p2, self.pin = a.ns, a.peer_ns, a.pin
        self.problems = []
        self.cycle = -1
        self.kind = "setup"
        self.notes = []

    # ---- helpers
    def sh(self, cmd, ok=True):
        r = run(cmd)
        if ok and r.returncode:
            self.problem("command failed: %s: %s" % (" ".join(cmd), r.stderr.strip()))
        return r

    def lvip(self, *args):
        return run(["ip", "netns", "exec", self.ns, self.a.lvip, "--pin-dir", self.pin] + list(args))

    def problem(self, msg):
        self.problems.append("cycle %d (%s): %s" % (self.cycle, self.kind, msg))

    def wait(self, cond, what, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if cond():
                return True
            time.sleep(0.02)
        if cond():
            return True
        self.problem("timed out waiting for " + what)
        return False

    def exists(self, dev):
        return run(["ip", "-n", self.ns, "link", "show", "dev", dev]).returncode == 0

    def carrier(self, dev):
        r = run(["ip", "-n", self.ns, "link", "show", "dev", dev])
        return "LOWER_UP" in r.stdout

    def make_veth2(self):
        if run(["ip", "netns", "pids", self.p2]).returncode:
            self.sh(["ip", "netns", "add", self.p2])
        self.sh(["ip", "-n", self.ns, "link", "add", "veth2", "type", "veth", "peer", "name",
                 "veth3", "netns", self.p2])
        for a in V2_ADDRS:
            self.sh(["ip", "-n", self.ns, "addr", "add", a, "dev", "veth2"] + (["nodad"] if ":" in a else []))
        self.sh(["ip", "-n", self.ns, "link", "set", "veth2", "up"])
        self.sh(["ip", "-n", self.p2, "addr", "add", "198.18.2.1/24", "dev", "veth3"])
        self.sh(["ip", "-n", self.p2, "link", "set", "veth3", "up"])
        self.wait(lambda: self.carrier("veth2"), "veth2 carrier")

    def attach(self, dev):
        r = self.lvip("attach", *(["--xdp-share"] if self.a.share else []), dev)
        if r.returncode:
            self.problem("lvip attach %s: exit %d: %s" % (dev, r.returncode, r.stderr.strip()))

    # ---- the truth, and lvip's reports compared with it
    def truth(self):
        links = lvip_state.links(self.ns)
        addrs = json.loads(run(["ip", "-n", self.ns, "-j", "addr", "show"]).stdout or "[]")
        by_index = {}
        for name, l in links.items():
            l = dict(lvip_state.lvip_progs(self.ns, name, l, self.pin), name=name, routable=False)
            by_index[l["ifindex"]] = l
        for link in addrs:
            l = by_index.get(link["ifindex"])
            if not l:
                continue
            l["has_mac"] = link.get("link_type") == "ether"
            for ai in link.get("addr_info", []):
                if ai["family"] == "inet" or ai.get("scope") == "global":
                    l["routable"] = True
        return by_index, lvip_state.lo_addrs(self.ns), lvip_state.map_vips(self.pin) or {}

    def verify(self, when, expect_clean):
        by_index, lo, vmap = self.truth()
        r = self.lvip("status", "--json")
        try:
            st = json.loads(r.stdout)
        except ValueError:
            self.problem("%s: status --json exit %d, not JSON: %s" % (when, r.returncode, r.stderr.strip()))
            return
        listed = set()
        for f in st.get("interfaces", []):
            idx = f["ifindex"]
            listed.add(idx)
            real = by_index.get(idx)
            if real is None:
                if f["name"] != "(gone)" or f["xdp_prog_id"] or f["tc_prog_id"]:
                    self.problem("%s: status shows ifindex %d as %r (xdp %d, tc %d) but it no longer exists" %
                                 (when, idx, f["name"], f["xdp_prog_id"], f["tc_prog_id"]))
                if not any(("interface %d is gone" % idx) in p for p in st.get("problems", [])):
                    self.problem("%s: status lists no problem for the gone interface %d: %s" %
                                 (when, idx, st.get("problems")))
                continue
            if f["name"] != real["name"]:
                self.problem("%s: status names ifindex %d %r, it is %r" % (when, idx, f["name"], real["name"]))
            if f["xdp_prog_id"] != real["lvip_xdp_id"]:
                self.problem("%s: status: %s xdp_prog_id %d, really %d" % (when, real["name"], f["xdp_prog_id"], real["lvip_xdp_id"]))
            if f["tc_prog_id"] != real["tc_id"]:
                self.problem("%s: status: %s tc_prog_id %d, really %d" % (when, real["name"], f["tc_prog_id"], real["tc_id"]))
        for idx, real in by_index.items():
            if real["lvip_xdp_id"] and idx not in listed:
                self.problem("%s: %s runs lvip's XDP program but status does not list it" % (when, real["name"]))
        if not st.get("loaded"):
            self.problem("%s: status says not loaded" % when)

        r = self.lvip("check", "--json")
        try:
            d = json.loads(r.stdout)
        except ValueError:
            self.problem("%s: check --json exit %d, not JSON: %s" % (when, r.returncode, r.stderr.strip()))
            return
        exp_addrs = lo - set(vmap)
        exp_ifs = {l["name"] for l in by_index.values()
                   if l["up"] and l.get("has_mac") and l["routable"] and not l["attached"]}
        got_addrs, got_ifs, other = lvip_state.exposed_findings(d)
        want_rc = 1 if exp_addrs or exp_ifs else 0
        if got_addrs != exp_addrs or got_ifs != exp_ifs:
            self.problem("%s: check reports exposed addresses %s, interfaces %s; really %s, %s" %
                         (when, sorted(got_addrs), sorted(got_ifs), sorted(exp_addrs), sorted(exp_ifs)))
        if expect_clean and (other or r.returncode != want_rc):
            self.problem("%s: check exit %d (expected %d) with %d exposed finding(s) beyond the "
                         "contract's, e.g. %r" % (when, r.returncode, want_rc, len(other), other[:1]))
        elif not expect_clean and r.returncode != want_rc and not other:
            self.problem("%s: check exit %d, expected %d" % (when, r.returncode, want_rc))

    # ---- leaks
    def counts(self):
        pins = sorted(os.listdir(self.pin)) if os.path.isdir(self.pin) else []
        xdp_id = json.loads(run(["bpftool", "-j", "prog", "show", "pinned",
                                 os.path.join(self.pin, "lvip_xdp")]).stdout or "{}").get("id")
        links = json.loads(run(["bpftool", "-j", "link", "show"]).stdout or "[]")
        nlinks = sum(1 for l in links if xdp_id and l.get("prog_id") == xdp_id)
        ent = {}
        for m in ("lvip_ifstats", "lvip_ifaddr"):
            ent[m] = len(json.loads(run(["bpftool", "-j", "map", "dump", "pinned",
                                         os.path.join(self.pin, m)]).stdout or "[]"))
        slots = json.loads(run(["bpftool", "-j", "map", "dump", "pinned",
                                os.path.join(self.pin, "lvip_ifslot")]).stdout or "[]")
        owned = sum(1 for e in slots if e["formatted"]["values"][0]["value"]["owner"])
        return {"pins": len(pins), "pin_names": pins, "lvip_links": nlinks,
                "ifstats_entries": ent["lvip_ifstats"], "ifaddr_entries": ent["lvip_ifaddr"],
                "ifslots_owned": owned,
                "veth0_egress_filters": lvip_state.tc_filter_count(self.ns, "veth0"),
                "veth2_egress_filters": lvip_state.tc_filter_count(self.ns, "veth2")}

    # ---- the cycles
    def do(self, kind, i):
        ns = self.ns
        if kind in ("recreate", "peer-ns"):
            if kind == "recreate":
                self.sh(["ip", "-n", ns, "link", "del", "veth2"])
            else:
                self.sh(["ip", "netns", "del", self.p2])
            self.wait(lambda: not self.exists("veth2"), "veth2 to vanish")
            self.verify("veth2 gone", False)
            self.make_veth2()
            self.verify("veth2 re-created, not attached", False)
            self.attach("veth2")
        elif kind == "rename":
            new = "vethR%d" % i
            self.sh(["ip", "-n", ns, "link", "set", "veth2", "down"])
            self.sh(["ip", "-n", ns, "link", "set", "veth2", "name", new])
            self.sh(["ip", "-n", ns, "link", "set", new, "up"])
            self.wait(lambda: self.carrier(new), new + " carrier")
            self.verify("renamed to " + new, True)
            self.sh(["ip", "-n", ns, "link", "set", new, "down"])
            self.sh(["ip", "-n", ns, "link", "set", new, "name", "veth2"])
            self.sh(["ip", "-n", ns, "link", "set", "veth2", "up"])
            self.wait(lambda: self.carrier("veth2"), "veth2 carrier")
            self.attach("veth2")
        elif kind == "downup":
            self.sh(["ip", "-n", ns, "link", "set", "veth2", "down"])
            self.verify("veth2 down", True)
            self.sh(["ip", "-n", ns, "link", "set", "veth2", "up"])
            self.wait(lambda: self.carrier("veth2"), "veth2 carrier")
            self.attach("veth2")
        elif kind == "mtu":
            self.sh(["ip", "-n", ns, "link", "set", "veth2", "mtu", "1280"])
            self.verify("mtu 1280", True)
            r = self.sh(["ip", "-n", ns, "link", "set", "veth2", "mtu", "9000"], ok=False)
            self.notes.append("mtu 9000 with lvip attached: %s" %
                              ("accepted" if r.returncode == 0 else "refused (%s)" % r.stderr.strip()))
            self.verify("mtu 9000 %s" % ("set" if r.returncode == 0 else "refused"), True)
            self.sh(["ip", "-n", ns, "link", "set", "veth2", "mtu", "1500"])
            self.attach("veth2")
        elif kind == "addresses":
            self.sh(["ip", "-n", ns, "addr", "flush", "dev", "veth2"])
            self.verify("veth2 without addresses", True)
            self.sh(["ip", "-n", ns, "addr", "add", "198.18.3.%d/24" % (20 + i), "dev", "veth2"])
            self.sh(["ip", "-n", ns, "addr", "add", "2001:db8:3::%x/64" % (20 + i), "dev", "veth2", "nodad"])
            self.verify("veth2 with other addresses", True)
            self.sh(["ip", "-n", ns, "addr", "flush", "dev", "veth2"])
            for a in V2_ADDRS:
                self.sh(["ip", "-n", ns, "addr", "add", a, "dev", "veth2"] + (["nodad"] if ":" in a else []))
            self.attach("veth2")
        self.verify("after 'lvip attach veth2'", True)
        links = lvip_state.links(ns)
        for dev in ("veth0", "veth2"):
            if not lvip_state.lvip_progs(ns, dev, links[dev], self.pin)["attached"]:
                self.problem("%s not attached after the repair" % dev)

    def go(self):
        t0 = time.monotonic()
        self.make_veth2()
        for dev in ("veth0", "veth2"):
            self.attach(dev)
        r = self.lvip("vip", "add", "198.18.0.100", "2001:db8::100")
        if r.returncode:
            self.problem("vip add: %s" % r.stderr.strip())
        before = self.counts()
        self.verify("start", True)
        by_kind = {k: 0 for k in KINDS}
        done = 0
        for i in range(self.a.cycles):
            if time.monotonic() - t0 > self.a.max_seconds:
                self.problems.append("stopped after %d cycles: time limit %d s" % (i, self.a.max_seconds))
                break
            self.cycle, self.kind = i, KINDS[i % len(KINDS)]
            self.do(self.kind, i)
            by_kind[self.kind] += 1
            done += 1
        self.cycle, self.kind = done, "end"
        after = self.counts()
        for k in ("pins", "lvip_links", "ifstats_entries", "ifaddr_entries", "ifslots_owned",
                  "veth0_egress_filters", "veth2_egress_filters"):
            if after[k] != before[k]:
                self.problems.append("leak: %s %d before the cycles, %d after" % (k, before[k], after[k]))
        stale = [p for p in after["pin_names"] if re.fullmatch(r"xdp(share)?_\d+", p) and
                 int(p.rsplit("_", 1)[1]) not in {l["ifindex"] for l in lvip_state.links(self.ns).values()}]
        if stale:
            self.problems.append("pins of interfaces that no longer exist: %s" % stale[:8])
        out = {"cycles": done, "by_kind": by_kind, "seconds": round(time.monotonic() - t0, 1),
               "before": {k: v for k, v in before.items() if k != "pin_names"},
               "after": {k: v for k, v in after.items() if k != "pin_names"},
               "untruthful_or_failed": len([p for p in self.problems if not p.startswith("leak")]),
               "notes": sorted(set(self.notes)), "problems": grouped(self.problems)}
        print(json.dumps(out, sort_keys=True))
        return 1 if self.problems else 0


def grouped(problems):
    """The problems, each distinct one once (numbers aside) with its count."""
    seen = {}
    for p in problems:
        key = re.sub(r"\d+", "N", re.sub(r"^cycle \d+ \([^)]*\): [^:]*: ", "", p))
        if key in seen:
            seen[key][0] += 1
        else:
            seen[key] = [1, p]
    return ["%dx %s" % (n, p) for n, p in seen.values()][:30]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ns", required=True)
    ap.add_argument("--peer-ns", required=True)
    ap.add_argument("--pin", required=True)
    ap.add_argument("--lvip", required=True)
    ap.add_argument("--cycles", type=int, default=50)
    ap.add_argument("--max-seconds", type=int, default=120)
    ap.add_argument("--share", action="store_true",
                    help="attach through libxdp's dispatcher (attach --xdp-share)")
    return Churn(ap.parse_args()).go()


if __name__ == "__main__":
    sys.exit(main())
