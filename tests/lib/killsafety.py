#!/usr/bin/env python3
# tests/lib/killsafety.py - SIGKILL lvip at random moments and check what it
# leaves behind: never a VIP on lo without protection.
#
#   killsafety.py --ns NS --pin PIN --lvip LVIP --ifaces veth0,veth2 --tmp DIR
#                 --peer-ns NS --peer-dev DEV --rs-addr IP
#                 [--kills 100] [--aimed-rounds 2] [--max-seconds 150] [--seed N]
#                 [--share]
#
# The base state is `apply` of a config with the interfaces and 500 VIPs
# (with --share, `interface IFACE share`: lvip as a component of libxdp's
# dispatcher, which the kernel must allow).
# Five operations are killed in turn, each from the base state:
#   apply          base -> alt (250 VIPs removed, 250 added)
#   apply-scratch  after `lvip down`: nothing pinned -> base (load, pin, attach, 500 VIPs)
#   vip-add        100 new VIPs
#   vip-del        100 of the base VIPs
#   down
# Each is started through `ip netns exec` (which execs lvip: same PID), and
# once the PID runs lvip itself it gets SIGKILL after a random delay drawn
# uniformly from [0, the median duration of the unkilled runs of that
# operation (lower median: one calibration run, then every run the signal
# missed).
# A run that finished before the signal is a "miss" and is not counted.
# Then the kills aimed at the narrow windows: each operation is run with
# LVIP_TEST_STOP_AT=POINT, lvip stops itself there (SIGSTOP) and is killed in
# that state (AIMED below: between pinning maps and programs, between the map
# and lo, between detaching and unpinning, between unpinning programs and
# maps, while removing the pin dir), --aimed-rounds times each.
#
# After each kill:
#   wire       the peer's ARP request for an IPv4 address on lo gets no
#              reply, while its request for the real server's own address
#              does (the probe works): after each kill and each recovery.
#   invariant  every address on lo (loopback excepted) is in the pinned VIP
#              map (all kinds), lvip's programs use the pinned maps, and
#              lvip's XDP and TC programs are on every
#              configured interface - for apply, vip-add and vip-del always;
#              for down and apply-scratch, which detach or attach, whenever
#              any address is on lo (down removes lo addresses before it
#              detaches; apply attaches before it adds VIPs).
#   check      `lvip check --json` agrees with the independently read state:
#              exposed addresses = on lo and not in the map, exposed
#              interfaces = the configured ones without lvip's programs,
#              nothing else exposed; exit 1 iff anything is exposed.
#   recovery   the next run, `lvip apply -f base`, exits 0 within 10 s (a
#              stale lock would time out), after which the state is exactly
#              the base one (map = lo = the 500 VIPs, all interfaces
#              attached) and `lvip check` exits 0.
# Prints one JSON summary line on stdout; exit 1 if anything was violated.
import argparse
import ipaddress
import json
import os
import random
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lvip_state  # noqa: E402

KINDS = ["apply", "apply-scratch", "vip-add", "vip-del", "down"]
AIMED = [
    ("apply-scratch", "lvip_vip4"),      # the first map pinned, nothing else
    ("apply-scratch", "lvip_monrate"),   # every map pinned, no program yet
    ("apply-scratch", "lvip_xdp"),       # lvip_xdp pinned, lvip_tc not yet
    ("apply-scratch", "tc-attached"),    # tc filter on, XDP link not yet
    ("apply-scratch", "vips-in-map"),    # VIPs in the map, not yet on lo
    ("apply", "vips-in-map"),
    ("apply", "vips-off-lo"),            # VIPs off lo, still in the map
    ("vip-add", "vips-in-map"),
    ("vip-del", "vips-off-lo"),
    ("down", "down-lo"),                 # lo emptied, interfaces attached
    ("down", "down-detached"),           # detached, everything still pinned
    ("down", "unpinned-progs"),          # programs unpinned, maps not yet
    ("down", "unpinned-map"),            # the first map unpinned
    ("down", "pindir-renamed"),          # the emptied pin dir moved aside
    ("down", "pindir-unmarked"),         # its marker removed, the dir not yet
]
# With --share: libxdp runs lvip's new component, lvip has not pinned it yet
# (the next attach removes such a component, docs/cli.md).
AIMED_SHARE = [("apply-scratch", "share-added")]


def vip_sets():
    v4 = [str(ipaddress.ip_address("198.18.4.1") + i) for i in range(600)]
    v6 = [str(ipaddress.ip_address("2001:db8:4::1") + i) for i in range(200)]
    base = v4[:400] + v6[:100]                          # 500 VIPs
    alt = base[200:400] + base[450:] + v4[400:450] + v4[450:600] + v6[100:150]
    # alt keeps 250 of base (200 v4 + 50 v6) and adds 250 new ones.
    add = [str(ipaddress.ip_address("198.18.7.1") + i) for i in range(80)] + \
          [str(ipaddress.ip_address("2001:db8:7::1") + i) for i in range(20)]
    dele = base[:80] + base[400:420]
    return base, alt, add, dele


class Killer:
    def __init__(self, a):
        self.a = a
        self.ns, self.pin, self.lvip = a.ns, a.pin, os.path.realpath(a.lvip)
        self.ifaces = a.ifaces.split(",")
        self.points = AIMED + (AIMED_SHARE if a.share else [])
        self.base, alt, self.add, self.dele = vip_sets()
        self.base_conf = os.path.join(a.tmp, "kill-base.conf")
        self.alt_conf = os.path.join(a.tmp, "kill-alt.conf")
        for path, vips in ((self.base_conf, self.base), (self.alt_conf, alt)):
            with open(path, "w") as f:
                f.write("# killsafety.py\n")
                for i in self.ifaces:
                    f.write("interface %s%s\n" % (i, " share" if a.share else ""))
                for v in vips:
                    f.write("vip %s\n" % v)
        self.problems = []
        self.probes = self.aimed_kills = 0
        self.errlog = os.path.join(a.tmp, "kill-lvip.err")

    def argv(self, args):
        return ["ip", "netns", "exec", self.ns, self.lvip, "--pin-dir", self.pin] + args

    def lvip_run(self, args, timeout=30):
        return lvip_state.run(self.argv(args), timeout=timeout)

    def cmd(self, kind):
        return {
            "apply": ["apply", "-f", self.alt_conf],
            "apply-scratch": ["apply", "-f", self.base_conf],
            "vip-add": ["vip", "add"] + self.add,
            "vip-del": ["vip", "del"] + self.dele,
            "down": ["down"],
        }[kind]

    def prepare(self, kind):
        if kind == "apply-scratch":
            r = self.lvip_run(["down"])
            if r.returncode:
                self.problems.append("prepare: lvip down exit %d: %s" % (r.returncode, r.stderr.strip()))
                return False
        return True

    def start(self, kind, stop_at=None):
        """Start lvip; return (Popen, t0 when the PID runs lvip) or (Popen, None)."""
        err = open(self.errlog, "w")
        env = dict(os.environ, LVIP_TEST_STOP_AT=stop_at) if stop_at else None
        p = subprocess.Popen(self.argv(self.cmd(kind)), stdout=subprocess.DEVNULL, stderr=err, env=env)
        err.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                if os.readlink("/proc/%d/exe" % p.pid) == self.lvip:
                    return p, time.monotonic()
            except OSError:
                pass
            if p.poll() is not None:
                return p, None
            time.sleep(0.0002)
        return p, None

    def calibrate(self):
        dur = {}
        for kind in KINDS:
            self.prepare(kind)
            p, t0 = self.start(kind)
            rc = p.wait(timeout=60)
            t1 = time.monotonic()
            if rc != 0 or t0 is None:
                self.problems.append("calibration: unkilled %s exit %s: %s" % (kind, rc, self.stderr()))
            dur[kind] = max(0.005, t1 - (t0 or t1))
            self.recover("calibration %s" % kind)
        return dur

    def stderr(self):
        try:
            with open(self.errlog) as f:
                return f.read().strip().replace("\n", " | ")[:400]
        except OSError:
            return ""

    def check_agrees(self, st, label):
        r = self.lvip_run(["check", "--json"])
        try:
            d = json.loads(r.stdout)
        except ValueError:
            self.problems.append("%s: lvip check --json exit %d, not JSON: %r %s" %
                                 (label, r.returncode, r.stdout[:200], r.stderr.strip()))
            return
        exp_addrs = set(st["lo"]) - set(st["map"] or {})
        exp_ifs = set()
        if st["pinned"] or st["lo"]:   # lvip in use, or something to hide
            exp_ifs = {dev for dev, l in st["ifaces"].items()
                       if l is None or not l["attached"] or not l["maps_ok"]}
        got_addrs, got_ifs, other = lvip_state.exposed_findings(d)
        # A link pinned but no longer attached (down killed between detaching
        # the link and unpinning it) is true of an interface that is also
        # reported unattached, or gone: not a disagreement.
        by_index = {l["ifindex"]: dev for dev, l in st["ifaces"].items() if l}
        for msg in list(other):
            m = re.search(r"XDP link for interface (\d+) is pinned but no longer attached", msg)
            if m and (by_index.get(int(m.group(1))) in exp_ifs or int(m.group(1)) not in by_index):
                other.remove(msg)
        want_rc = 1 if exp_addrs or exp_ifs else 0
        if got_addrs != exp_addrs or got_ifs != exp_ifs or other or r.returncode != want_rc:
            self.problems.append(
                "%s: lvip check disagrees with the state: exit %d (expected %d); exposed "
                "addresses %s (expected %s); exposed interfaces %s (expected %s); other %s" %
                (label, r.returncode, want_rc, sorted(got_addrs)[:5], sorted(exp_addrs)[:5],
                 sorted(got_ifs), sorted(exp_ifs), other))

    def probe(self, st, label, vip=None):
        """The wire: an IPv4 address on lo must not be answered."""
        if vip is None:
            v4 = [a for a in st["lo"] if ":" not in a]
            if not v4:
                return
            vip = v4[0]
        r = lvip_state.run(["ip", "netns", "exec", self.a.peer_ns, sys.executable,
                            os.path.join(os.path.dirname(os.path.abspath(__file__)), "arpwire.py"),
                            "probe", "--dev", self.a.peer_dev, "--sender", self.a.peer_addr,
                            "--vip", vip, "--control", self.a.rs_addr, "--timeout", "2",
                            "--grace", "0.1"])
        try:
            d = json.loads(r.stdout)
        except ValueError:
            self.problems.append("%s: ARP probe failed: %s" % (label, r.stderr.strip()[:200]))
            return
        self.probes += 1
        if d["control_replies"] < 1:
            self.problems.append("%s: ARP probe: no reply for the real server's own address" % label)
        if d["vip_replies"]:
            self.problems.append("%s: wire: %s on lo was answered (%d ARP replies)" %
                                 (label, vip, d["vip_replies"]))

    def after_kill(self, kind, label):
        """Everything judged after a kill: invariant, check, the wire, recovery."""
        st = lvip_state.state(self.ns, self.pin, self.ifaces)
        mode = "while-lo" if kind in ("down", "apply-scratch") else "strict"
        for line in lvip_state.violations(st, mode):
            self.problems.append("%s: invariant: %s" % (label, line))
        self.check_agrees(st, label)
        self.probe(st, label)
        if self.recover(label):
            self.probe(None, label + " (recovered)", self.base[0])

    def aimed(self, rounds):
        """Kills at each AIMED point; returns (kills, violations)."""
        kills = violations = 0
        for _ in range(rounds):
            for kind, point in self.points:
                label = "aimed %s at %s" % (kind, point)
                before = len(self.problems)
                if not self.prepare(kind):
                    break
                p, t0 = self.start(kind, stop_at=point)
                if not self.wait_stopped(p):
                    self.problems.append("%s: lvip never reached the point (exit %s): %s" %
                                         (label, p.poll(), self.stderr()))
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(timeout=30)
                kills += 1
                self.after_kill(kind, label)
                violations += len(self.problems) > before
        return kills, violations

    @staticmethod
    def wait_stopped(p):
        """Wait (at most 20 s) until P has stopped itself: state T."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and p.poll() is None:
            try:
                with open("/proc/%d/stat" % p.pid) as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "T":
                        return True
            except OSError:
                pass
            time.sleep(0.002)
        return False

    def recover(self, label):
        t = time.monotonic()
        r = self.lvip_run(["apply", "-f", self.base_conf])
        took = time.monotonic() - t
        if r.returncode != 0:
            self.problems.append("%s: recovery 'lvip apply' exit %d: %s" % (label, r.returncode, r.stderr.strip()))
            return False
        if took >= 10:
            self.problems.append("%s: recovery took %.1f s (a stale lock?)" % (label, took))
        st = lvip_state.state(self.ns, self.pin, self.ifaces)
        v = lvip_state.violations(st, "strict")
        if set(st["map"] or {}) != set(self.base):
            v.append("map is not the base set after recovery (%d VIPs, %d expected)" %
                     (len(st["map"] or {}), len(self.base)))
        if set(st["lo"]) != set(self.base):
            v.append("lo is not the base set after recovery: %d addresses, extra %s, missing %s" %
                     (len(st["lo"]), sorted(set(st["lo"]) - set(self.base))[:5],
                      sorted(set(self.base) - set(st["lo"]))[:5]))
        owned = [a for a, fl in (st["map"] or {}).items() if fl is not None and not fl & 1]
        if owned:
            v.append("VIPs not marked as put on lo by lvip after recovery: %s" % owned[:5])
        c = self.lvip_run(["check"])
        if c.returncode != 0:
            v.append("lvip check exit %d after recovery: %s" % (c.returncode, c.stdout.strip()[-300:]))
        for line in v:
            self.problems.append("%s: after recovery: %s" % (label, line))
        return not v

    def go(self):
        a = self.a
        rnd = random.Random(a.seed)
        t_start = time.monotonic()
        if not self.recover("initial apply"):
            return self.summary(0, {}, 0, 0, t_start)
        dur = self.calibrate()
        samples = {k: [v] for k, v in dur.items()}
        kills, by_kind, missed, attempts, violations = 0, {k: 0 for k in KINDS}, 0, 0, 0
        while kills < a.kills and attempts < 4 * a.kills and time.monotonic() - t_start < a.max_seconds:
            kind = KINDS[attempts % len(KINDS)]
            attempts += 1
            label = "attempt %d (%s)" % (attempts, kind)
            if not self.prepare(kind):
                break
            p, t0 = self.start(kind)
            delay = rnd.uniform(0, dur[kind])
            if t0 is not None:
                time.sleep(max(0.0, delay - (time.monotonic() - t0)))
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            rc = p.wait(timeout=30)
            t_end = time.monotonic()
            before = len(self.problems)
            if rc == -signal.SIGKILL:
                kills += 1
                by_kind[kind] += 1
                label += " killed after %.1f ms" % (delay * 1000)
            else:
                missed += 1
                if t0 is not None and rc == 0:
                    # One more unkilled duration: aim at the median.
                    samples[kind].append(t_end - t0)
                    dur[kind] = max(0.005, sorted(samples[kind])[(len(samples[kind]) - 1) // 2])
                if rc != 0:
                    self.problems.append("%s: not killed, but exit %d: %s" % (label, rc, self.stderr()))
            self.after_kill(kind, label)
            if len(self.problems) > before:
                violations += 1
        akills, aviolations = self.aimed(self.a.aimed_rounds)
        self.aimed_kills = akills
        return self.summary(kills, by_kind, missed, violations + aviolations, t_start, dur)

    def summary(self, kills, by_kind, missed, violations, t_start, dur=None):
        s = {"kills": kills, "by_kind": by_kind, "missed": missed, "violations": violations,
             "aimed_kills": self.aimed_kills, "aimed_points": len(self.points), "probes": self.probes,
             "seed": self.a.seed, "seconds": round(time.monotonic() - t_start, 1),
             "unkilled_ms": {k: round(v * 1000, 1) for k, v in (dur or {}).items()},
             "problems": self.problems[:40]}
        print(json.dumps(s, sort_keys=True))
        ok = not self.problems and kills >= self.a.kills
        return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ns", required=True)
    ap.add_argument("--pin", required=True)
    ap.add_argument("--lvip", required=True)
    ap.add_argument("--ifaces", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--aimed-rounds", type=int, default=2)
    ap.add_argument("--peer-ns", required=True)
    ap.add_argument("--peer-dev", required=True)
    ap.add_argument("--peer-addr", required=True)
    ap.add_argument("--rs-addr", required=True)
    ap.add_argument("--max-seconds", type=float, default=150)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--share", action="store_true",
                    help="the interfaces attached through libxdp's dispatcher (config: share)")
    a = ap.parse_args()
    if a.seed is None:
        a.seed = random.SystemRandom().randrange(1 << 31)
    return Killer(a).go()


if __name__ == "__main__":
    sys.exit(main())
