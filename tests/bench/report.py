#!/usr/bin/env python3
"""tests/bench/report.py - the bookkeeping half of make bench.

  jget EXPR                 print a Python expression over d (JSON on stdin)
  row ...                   one JSON line for a measured value (memory)
  pair-row ...              one JSON line from interleaved case/baseline samples
  wire-sample ...           one JSON line for one on-the-wire run
  wire-refused ...          one JSON line: the kernel refuses a wire method
  wire-rows FILE            the on-the-wire cases from the samples in FILE
  traffic-attach ...        one JSON line: how an attach path sits on the veth
  traffic-refused ...       one JSON line: an attach path that cannot be measured
  traffic-sample ...        one JSON line for one TCP exchange (traffic.py's output)
  traffic-runtime ...       one JSON line: lvip's programs' run time in one exchange
  traffic-rows FILE         the real-traffic cases from the lines in FILE
  part-failed ...           one JSON line: a part of make bench could not run
  report RESULTS OUT        print the table, write OUT (build/bench.json)

Every case object has: name, ns, baseline_ns, ratio, extra_ns, goal, met
(ns figures null where the case is not a time, goal/met null where the case
has no goal), plus group, baseline, goal_text and details. A case that could
not be measured (the kernel refusing what it needs) has ns null, met null and
not_measured: the reason; its goal is reported as not measured, not missed.
"""
import argparse
import json
import os
import platform
import sys


def case(group, name, ns=None, baseline=None, baseline_ns=None, ratio=None, extra_ns=None,
         goal=None, goal_text=None, **more):
    met = None if goal is None or "not_measured" in more else (ratio is not None and ratio <= goal)
    d = {"group": group, "name": name, "ns": ns, "baseline": baseline,
         "baseline_ns": baseline_ns, "ratio": ratio, "extra_ns": extra_ns,
         "goal": goal, "goal_text": goal_text, "met": met}
    d.update(more)
    return d


def rnd(x, n=2):
    return None if x is None else round(x, n)


def paired(ns, base):
    """Rounds were interleaved, so each (case, baseline) pair shares its noise:
    the round whose ratio is the median (lower middle for an even count) gives
    ns, baseline_ns, ratio and extra together (ns / baseline_ns = ratio)."""
    ratios = [a / b for a, b in zip(ns, base)]
    m = sorted(range(len(ratios)), key=lambda i: ratios[i])[(len(ratios) - 1) // 2]
    return ns[m], base[m], ratios[m], ns[m] - base[m], ratios


def cmd_jget(a):
    d = json.load(sys.stdin)
    r = eval(a.expr, {}, {"d": d})  # the runner's own expressions only
    print(json.dumps(r) if isinstance(r, (dict, list, bool)) or r is None else r)


def cmd_row(a):
    print(json.dumps(case(a.group, a.name, value=a.value, unit=a.unit)))


def cmd_pair_row(a):
    ns = [float(x) for x in a.ns.split()]
    base = [float(x) for x in a.base.split()]
    m, b, ratio, extra, ratios = paired(ns, base)
    print(json.dumps(case(a.group, a.name, rnd(m, 0), a.baseline, rnd(b, 0), rnd(ratio, 3),
                          rnd(extra, 0), a.goal, a.goal_text, rounds=len(ns),
                          ratios=[rnd(r, 3) for r in ratios])))


def cmd_wire_sample(a):
    d = json.loads(a.json)
    d.update(method=a.method, config=a.config, round=a.round, n=a.n,
             delivered=a.delivered, valid=not a.invalid)
    print(json.dumps(d))


METHODS = {"packet": "(B) AF_PACKET", "live": "(C) XDP live frames"}
CONFIGS = {"nofilter": "no filter (kernel replies)", "arp_ignore": "arp_ignore=1",
           "nftables": "nftables arp drop", "generic": "lvip generic XDP",
           "native": "lvip native XDP", "xdp_drop": "floor: native XDP_DROP only"}
SHORT = {"nofilter": "no filter", "nftables": "nftables"}
GOALS = {("packet", "generic", "nofilter"): 0.70, ("packet", "generic", "nftables"): 1.15,
         ("live", "native", "nofilter"): 0.15, ("live", "native", "nftables"): 0.40}


def cmd_wire_refused(a):
    print(json.dumps({"method": a.method, "refused": a.reason}))


def cmd_part_failed(a):
    print(json.dumps(case(a.part, f"{a.part}: not measured", not_measured=a.reason)))


def cmd_wire_rows(a):
    lines = [json.loads(l) for l in open(a.file) if l.strip()]
    refused = {s["method"]: s["refused"] for s in lines if "refused" in s}
    samples = [s for s in lines if "refused" not in s]
    per = {}  # (method, config) -> {round: ns per frame}
    bad = {}
    for s in samples:
        key = (s["method"], s["config"])
        if s["valid"]:
            per.setdefault(key, {})[s["round"]] = s["cpu_ns"] / s["n"]
        else:
            bad.setdefault(key, []).append(s["delivered"])

    def row(method, cfg, base_cfg, goal):
        name = f"{METHODS[method]}: {CONFIGS[cfg]}"
        base = SHORT[base_cfg]
        c, b = per.get((method, cfg), {}), per.get((method, base_cfg), {})
        rounds = sorted(set(c) & set(b))
        gt = None if goal is None else f"<= {goal:.2f} x {base}"
        details = {"unit": "CPU ns per frame (sender thread + its ksoftirqd)",
                   "rounds": len(rounds), "n": samples[0]["n"] if samples else None}
        if bad.get((method, cfg)) or bad.get((method, base_cfg)):
            details["not_counted"] = {"case": bad.get((method, cfg), []),
                                      "baseline": bad.get((method, base_cfg), [])}
        if method in refused:
            return case("wire", name, None, base, None, None, None, goal, gt,
                        not_measured=refused[method], **details)
        if not rounds:
            return case("wire", name, None, base, None, None, None, goal, gt,
                        note="no run delivered exactly N frames", **details)
        m, bm, ratio, extra, ratios = paired([c[r] for r in rounds], [b[r] for r in rounds])
        return case("wire", name, rnd(m, 1), base, rnd(bm, 1), rnd(ratio, 3),
                    rnd(extra, 1), goal, gt, ratios=[rnd(x, 3) for x in ratios], **details)

    for method in METHODS:
        for cfg in CONFIGS:
            if (method, cfg, "nofilter") in GOALS or cfg == "xdp_drop":
                continue
            print(json.dumps(row(method, cfg, "nofilter", None)))
        for (m, cfg, base), goal in GOALS.items():
            if m == method:
                print(json.dumps(row(method, cfg, base, goal)))
        # The floor of any XDP drop on this path, against both baselines.
        for base in ("nofilter", "nftables"):
            print(json.dumps(row(method, "xdp_drop", base, None)))


TRAFFIC_PATHS = {"default": "default (XDP link + TC egress)",
                 "clsact": "LVIP_FORCE_CLSACT=1 (clsact)",
                 "share": "--xdp-share (libxdp dispatcher)"}
TRAFFIC_MODES = {"rr": ("TCP request/response", "CPU ns per request"),
                 "bulk": ("TCP bulk upload", "CPU ns per MB"),
                 "down": ("TCP bulk download", "CPU ns per MB")}
TRAFFIC_GOAL = 1.02
TRAFFIC_CPU = ("client and server process CPU time (the veth runs the receiving "
               "stack, XDP and TC inline in the sending task) + every CPU's ksoftirqd")


def cmd_traffic_attach(a):
    print(json.dumps({"path": a.path, "attach": a.attach}))


def cmd_traffic_refused(a):
    d = {"path": a.path, "refused": a.reason}
    if a.attach:
        d["attach"] = a.attach
    print(json.dumps(d))


def cmd_traffic_sample(a):
    c, s = json.loads(a.client), json.loads(a.server)
    print(json.dumps({"path": a.path, "mode": a.mode, "round": a.round, "slot": a.slot,
                      "n": c["n"], "cpu_ns": c["cpu_ns"] + s["cpu_ns"] + c["ksoftirqd_ns"],
                      "client_ns": c["cpu_ns"], "server_ns": s["cpu_ns"],
                      "ksoftirqd_ns": c["ksoftirqd_ns"], "wall_ns": c["wall_ns"]}))


def cmd_traffic_runtime(a):
    b, e = json.loads(a.before), json.loads(a.after)
    print(json.dumps({"path": a.path, "mode": a.mode, "round": a.round, "n": a.n,
                      "runtime_ns": e["run_time_ns"] - b["run_time_ns"],
                      "runs": e["run_cnt"] - b["run_cnt"]}))


def traffic_units(mode, n):
    return n if mode == "rr" else n / 1048576


def traffic_per_round(samples, path, mode, key="cpu_ns"):
    """{round: mean ns of key per unit (request or MB) of path's runs in it}"""
    per = {}
    for s in samples:
        if s["path"] == path and s["mode"] == mode:
            per.setdefault(s["round"], []).append(s[key] / traffic_units(mode, s["n"]))
    return {r: sum(v) / len(v) for r, v in per.items()}


def runtime_row(samples, runtimes, mode, path, name, goal, details):
    """No lvip's CPU per unit plus what the kernel counted for lvip's programs
    in the same round's run-time exchange, against no lvip alone."""
    rt = traffic_per_round(runtimes, path, mode, "runtime_ns")
    runs = traffic_per_round(runtimes, path, mode, "runs")
    b = traffic_per_round(samples, "none", mode)
    rounds = sorted(set(rt) & set(b))
    gt = None if goal is None else f"<= {goal:.2f} x no lvip"
    if not rounds or not any(runs[r] for r in rounds):
        return case("traffic", name, None, "no lvip", goal=goal, goal_text=gt,
                    not_measured="the kernel counted no run of lvip's programs", **details)
    m, bm, ratio, extra, ratios = paired([b[r] + rt[r] for r in rounds], [b[r] for r in rounds])
    per_unit = sorted(runs[r] for r in rounds)[(len(rounds) - 1) // 2]
    return case("traffic", name, rnd(m, 0), "no lvip", rnd(bm, 0), rnd(ratio, 4), rnd(extra, 0),
                goal, gt, rounds=len(rounds), ratios=[rnd(x, 4) for x in ratios],
                program_runs_per_unit=rnd(per_unit, 1), **details)


def traffic_row(samples, mode, path, base, name, goal, details):
    c, b = traffic_per_round(samples, path, mode), traffic_per_round(samples, base, mode)
    rounds = sorted(set(c) & set(b))
    bname = "no lvip" if base == "none" else "floor: XDP_PASS"
    gt = None if goal is None else f"<= {goal:.2f} x {bname}"
    if not rounds:
        return case("traffic", name, None, bname, goal=goal, goal_text=gt,
                    note="no round measured", **details)
    m, bm, ratio, extra, ratios = paired([c[r] for r in rounds], [b[r] for r in rounds])
    return case("traffic", name, rnd(m, 0), bname, rnd(bm, 0), rnd(ratio, 3), rnd(extra, 0),
                goal, gt, rounds=len(rounds), ratios=[rnd(x, 3) for x in ratios], **details)


def cmd_traffic_rows(a):
    """Per mode: each attach path against no lvip (the goal), the floor
    against no lvip, each path against the floor (what lvip's programs add
    to any native XDP program on this veth)."""
    lines = [json.loads(l) for l in open(a.file) if l.strip()]
    refused = {l["path"]: l["refused"] for l in lines if "refused" in l}
    attach = {l["path"]: l["attach"] for l in lines if "attach" in l}
    samples = [l for l in lines if "cpu_ns" in l]
    runtimes = [l for l in lines if "runtime_ns" in l]
    for mode, (what, unit) in TRAFFIC_MODES.items():
        n = next((s["n"] for s in samples if s["mode"] == mode), None)
        base = {"unit": f"{unit} ({TRAFFIC_CPU})", "n": n}
        out = []
        for path, label in TRAFFIC_PATHS.items():
            d = dict(base, attach=attach.get(path))
            name = f"{what}, {label}"
            if path in refused:
                gt = f"<= {TRAFFIC_GOAL:.2f} x no lvip"
                out.append(case("traffic", name, None, "no lvip", goal=TRAFFIC_GOAL, goal_text=gt,
                                not_measured=refused[path], **d))
                continue
            out.append(traffic_row(samples, mode, path, "none", name, TRAFFIC_GOAL, d))
        out.append(traffic_row(samples, mode, "floor", "none",
                               f"{what}, floor: bare native XDP_PASS", None, base))
        for path, label in TRAFFIC_PATHS.items():
            if path not in refused:
                out.append(traffic_row(samples, mode, path, "floor",
                                       f"{what}, {path}, over the floor", None,
                                       dict(base, attach=attach.get(path))))
        if runtimes:
            out.append(runtime_row(samples, runtimes, mode, "floor",
                                   f"{what}, floor: its BPF run time", None, base))
        for path, label in TRAFFIC_PATHS.items():
            if path not in refused and runtimes:
                out.append(runtime_row(samples, runtimes, mode, path,
                                       f"{what}, {path}, lvip's BPF run time", TRAFFIC_GOAL,
                                       dict(base, attach=attach.get(path))))
        for r in out:
            print(json.dumps(r))


def fmt(x, unit=""):
    if x is None:
        return "-"
    if isinstance(x, float) and abs(x) < 1000:
        return f"{x:.2f}{unit}"
    return f"{x:,.0f}{unit}"


def human_bytes(n):
    for u in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or u == "GiB":
            return f"{n:,.1f} {u}" if u != "B" else f"{n} B"
        n /= 1024


def cmd_report(a):
    rows = [json.loads(l) for l in open(a.results) if l.strip()]
    for r in rows:
        r.pop("group_order", None)
    with open(a.out + ".tmp", "w") as f:
        json.dump(rows, f, indent=1)
        f.write("\n")
    os.replace(a.out + ".tmp", a.out)

    titles = {"datapath": "Datapath: ns per BPF_PROG_RUN iteration (thread CPU time), medians",
              "wire": "On the wire: CPU ns per ARP request delivered",
              "traffic": ("Real traffic: CPU ns per request / per MB, both ends of the veth "
                          "(processes + ksoftirqd), medians"),
              "control": "Control plane: wall time per command (ns in bench.json), medians",
              "memory": "Memory"}
    hdr = (f"{'case':<54} {'ns':>9} {'baseline':<20} {'base ns':>9} {'ratio':>6} "
           f"{'extra ns':>9} {'goal':>6}  met")
    lines = [f"lvip make bench - {platform.node()}, Linux {platform.release()}, "
             f"{os.cpu_count()} CPUs, {a.seconds} s"]
    for g in ("datapath", "wire", "traffic", "control", "memory"):
        grp = [r for r in rows if r["group"] == g]
        if not grp:
            continue
        lines += ["", titles[g]]
        if g == "memory":
            for r in grp:
                lines.append(f"  {r['name']:<60} {human_bytes(r['value']):>14}")
            continue
        scale = 1e6 if g == "control" else 1  # control plane in ms
        lines.append("  " + (hdr.replace("      ns", "      ms").replace(" base ns", " base ms")
                             .replace("extra ns", "extra ms") if g == "control" else hdr))
        for r in grp:
            if r.get("not_measured"):
                lines.append(f"  {r['name'][:54]:<54} not measured: {r['not_measured']}")
                continue
            met = "-" if r["met"] is None else ("met" if r["met"] else "MISSED")
            goal = "-" if r["goal"] is None else f"{r['goal']:.2f}"
            sc = lambda x: None if x is None else x / scale
            ratio = "-" if r["ratio"] is None else f"{r['ratio']:.3f}"
            lines.append(f"  {r['name'][:54]:<54} {fmt(sc(r['ns'])):>9} {(r.get('baseline') or '')[:20]:<20} "
                         f"{fmt(sc(r['baseline_ns'])):>9} {ratio:>6} {fmt(sc(r['extra_ns'])):>9} "
                         f"{goal:>6}  {met}")
    goals = [r for r in rows if r["met"] is not None]
    missed = [r for r in goals if not r["met"]]
    unmeasured = [r for r in rows if r.get("not_measured")]
    lines += ["", f"{len(goals) - len(missed)} of {len(goals)} goals met"
              + (": missed " + "; ".join(r["name"] for r in missed) if missed else "")]
    for reason in sorted({r["not_measured"] for r in unmeasured}):
        why = [r for r in unmeasured if r["not_measured"] == reason]
        goal_rows = [r["name"] for r in why if r["goal"] is not None]
        lines.append(f"not measured ({reason}): {len(why)} cases, {len(goal_rows)} goals"
                     + (": " + "; ".join(goal_rows) if goal_rows else ""))
    lines.append(f"written: {a.out}")
    print("\n".join(lines))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("jget")
    s.add_argument("expr")
    s = sub.add_parser("row")
    s.add_argument("--group", required=True)
    s.add_argument("--name", required=True)
    s.add_argument("--value", type=int, required=True)
    s.add_argument("--unit", required=True)
    s = sub.add_parser("pair-row")
    for o in ("group", "name", "baseline", "goal-text", "ns", "base"):
        s.add_argument("--" + o, required=True)
    s.add_argument("--goal", type=float, required=True)
    s = sub.add_parser("wire-sample")
    for o in ("method", "config", "json"):
        s.add_argument("--" + o, required=True)
    for o in ("round", "n", "delivered"):
        s.add_argument("--" + o, type=int, required=True)
    s.add_argument("--invalid", action="store_true")
    s = sub.add_parser("wire-refused")
    s.add_argument("--method", required=True)
    s.add_argument("--reason", required=True)
    s = sub.add_parser("traffic-attach")
    s.add_argument("--path", required=True)
    s.add_argument("--attach", required=True)
    s = sub.add_parser("traffic-refused")
    s.add_argument("--path", required=True)
    s.add_argument("--reason", required=True)
    s.add_argument("--attach")
    s = sub.add_parser("traffic-sample")
    for o in ("path", "mode", "client", "server"):
        s.add_argument("--" + o, required=True)
    for o in ("round", "slot"):
        s.add_argument("--" + o, type=int, required=True)
    s = sub.add_parser("traffic-runtime")
    for o in ("path", "mode", "before", "after"):
        s.add_argument("--" + o, required=True)
    for o in ("round", "n"):
        s.add_argument("--" + o, type=int, required=True)
    s = sub.add_parser("traffic-rows")
    s.add_argument("file")
    s = sub.add_parser("part-failed")
    s.add_argument("--part", required=True)
    s.add_argument("--reason", required=True)
    s = sub.add_parser("wire-rows")
    s.add_argument("file")
    s = sub.add_parser("report")
    s.add_argument("results")
    s.add_argument("out")
    s.add_argument("--seconds", type=int, default=0)
    a = p.parse_args()
    {"jget": cmd_jget, "row": cmd_row, "pair-row": cmd_pair_row,
     "wire-sample": cmd_wire_sample, "wire-rows": cmd_wire_rows,
     "wire-refused": cmd_wire_refused, "part-failed": cmd_part_failed,
     "traffic-attach": cmd_traffic_attach, "traffic-refused": cmd_traffic_refused,
     "traffic-sample": cmd_traffic_sample, "traffic-runtime": cmd_traffic_runtime,
     "traffic-rows": cmd_traffic_rows,
     "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
