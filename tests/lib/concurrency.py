#!/usr/bin/env python3
# tests/lib/concurrency.py - verify concurrent lvip runs (no lost update).
#
#   concurrency.py verify LOGDIR NS PIN LVIP
#
# LOGDIR holds one log per worker process, one line per lvip run:
#   WORKER SEQ OP VIP T0 T1 EXIT
# (T0 before the run was started, T1 after it ended, seconds). lvip
# serialises runs with a lock held inside [T0, T1], so whatever the order
# the lock was taken in, the final state must satisfy:
#   - every run exited 0 (no lock timeout, no failure);
#   - a worker's own VIPs (nobody else touches them): present iff the
#     worker's last operation on it was `add` (0 lost updates);
#   - a shared VIP: the outcome of one of the runs on it that may have been
#     the last one - a run is ruled out only if another run on the same VIP
#     started after it ended;
#   - map (bpftool) = lo = `lvip vip list --json`, exactly, every VIP on lo
#     and owned by lvip.
# Prints a JSON summary; exit 1 if anything does not hold.
import ipaddress
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lvip_state  # noqa: E402


def verify(logdir, ns, pin, lvip):
    runs = []
    for name in sorted(os.listdir(logdir)):
        with open(os.path.join(logdir, name)) as f:
            for line in f:
                w, seq, op, vip, t0, t1, rc = line.split()
                runs.append({"w": w, "seq": int(seq), "op": op, "vip": str(ipaddress.ip_address(vip)),
                             "t0": float(t0), "t1": float(t1), "rc": int(rc)})
    problems = []
    failed = [r for r in runs if r["rc"] != 0]
    for r in failed[:10]:
        problems.append("worker %s run %d: vip %s %s exited %d" % (r["w"], r["seq"], r["op"], r["vip"], r["rc"]))
    owners = {}
    for r in runs:
        owners.setdefault(r["vip"], set()).add(r["w"])
    free = {}
    lost = 0
    st = lvip_state.state(ns, pin, [])
    in_map = set(st["map"] or {})
    on_lo = set(st["lo"])
    for vip, ws in owners.items():
        ops = sorted((r for r in runs if r["vip"] == vip), key=lambda r: r["t1"])
        if len(ws) == 1:  # a worker's own VIP: its runs are sequential
            want = ops[-1]["op"] == "add"
            if (vip in in_map) != want:
                lost += 1
                problems.append("lost update: %s is %s the map, the last run on it (worker %s) was %s" %
                                (vip, "in" if vip in in_map else "not in", ops[-1]["w"], ops[-1]["op"]))
            continue
        last_candidates = [x for x in ops if not any(y["t0"] > x["t1"] for y in ops)]
        outcomes = {x["op"] == "add" for x in last_candidates}
        free[vip] = sorted(outcomes)
        if (vip in in_map) not in outcomes:
            lost += 1
            problems.append("shared %s is %s the map, but every run that may have been last was %s" %
                            (vip, "in" if vip in in_map else "not in",
                             "add" if True in outcomes else "del"))
    if in_map != on_lo:
        problems.append("map and lo differ: only in the map %s, only on lo %s" %
                        (sorted(in_map - on_lo)[:5], sorted(on_lo - in_map)[:5]))
    unknown = in_map - set(owners)
    if unknown:
        problems.append("VIPs nobody added: %s" % sorted(unknown)[:5])
    r = lvip_state.run(["ip", "netns", "exec", ns, lvip, "--pin-dir", pin, "vip", "list", "--json"])
    try:
        listed = json.loads(r.stdout)
    except ValueError:
        listed = []
        problems.append("vip list --json exit %d: %s" % (r.returncode, r.stderr.strip()))
    lset = {v["address"] for v in listed}
    if lset != in_map:
        problems.append("vip list differs from the map: only listed %s, only in the map %s" %
                        (sorted(lset - in_map)[:5], sorted(in_map - lset)[:5]))
    bad = [v["address"] for v in listed if not v.get("on_lo") or v.get("owner") != "lvip"]
    if bad:
        problems.append("listed VIPs not on lo or not owned by lvip: %s" % bad[:5])
    lat = sorted(r["t1"] - r["t0"] for r in runs)
    out = {"runs": len(runs), "workers": len({r["w"] for r in runs}),
           "adds": sum(r["op"] == "add" for r in runs), "dels": sum(r["op"] == "del" for r in runs),
           "failed_runs": len(failed), "lost_updates": lost,
           "own_vips": sum(len(w) == 1 for w in owners.values()),
           "shared_vips": sum(len(w) > 1 for w in owners.values()),
           "shared_either_outcome": sum(len(o) > 1 for o in free.values()),
           "final_vips": len(in_map),
           "latency_ms_median": round(1000 * lat[len(lat) // 2], 1) if lat else 0,
           "latency_ms_max": round(1000 * lat[-1], 1) if lat else 0,
           "problems": problems[:30]}
    print(json.dumps(out, sort_keys=True))
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 6 or sys.argv[1] != "verify":
        sys.exit("usage: concurrency.py verify LOGDIR NS PIN LVIP")
    sys.exit(verify(*sys.argv[2:]))
