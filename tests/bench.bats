#!/usr/bin/env bats
# tests/bench.bats - make bench's bookkeeping (tests/bench/report.py) on
# results files made up here: a part the kernel refuses (XDP live frames
# refused with EPERM, a whole part that could not run) comes out as "not
# measured" with its reason, its goals neither met nor missed, and the rest
# of the table still comes out, exit 0. No BPF, no namespace, no root.
# (The runner's side, tests/bench/run with LVIP_BENCH_REFUSE_LIVE=1, is run
# by hand: it needs root and takes seconds; see tests/README.md.)

REPORT=$BATS_TEST_DIRNAME/bench/report.py

setup() {
	T=$(mktemp -d /tmp/lvip.benchtest.XXXXXX)
}

teardown() {
	rm -rf "$T"
}

# wire_samples METHOD...: one valid sample per method and config, round 0.
wire_samples() {
	local m c
	for m in "$@"; do
		for c in nofilter arp_ignore nftables generic native xdp_drop; do
			python3 "$REPORT" wire-sample --method "$m" --config "$c" --round 0 --n 1000 \
				--delivered 1000 --json '{"cpu_ns": 1000000}'
		done
	done
}

@test "bench report: live frames refused by the kernel are not measured, the AF_PACKET rows and their goals still come out" {
	{
		wire_samples packet
		python3 "$REPORT" wire-refused --method live \
			--reason "kernel refuses live frames: Operation not permitted"
	} >"$T/wire.jsonl"
	python3 "$REPORT" wire-rows "$T/wire.jsonl" >"$T/res.jsonl"
	run python3 "$REPORT" report "$T/res.jsonl" "$T/bench.json"
	[ "$status" -eq 0 ]
	[[ $output == *"(B) AF_PACKET: lvip generic XDP"*"1.000"* ]]
	[[ $output == *"(C) XDP live frames: lvip native XDP"*"not measured: kernel refuses live frames: Operation not permitted"* ]]
	[[ $output == *"1 of 2 goals met: missed (B) AF_PACKET: lvip generic XDP"* ]] # 1.00 > 0.70
	[[ $output == *"not measured (kernel refuses live frames: Operation not permitted): 8 cases, 2 goals"* ]]
	run python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
live=[r for r in d if r["name"].startswith("(C)")]
assert len(live) == 8 and all(r["met"] is None and r["ns"] is None and r["not_measured"] for r in live)
assert [r["met"] for r in d if r["name"].startswith("(B)") and r["goal"] is not None] == [False, True]' "$T/bench.json"
	[ "$status" -eq 0 ]
}

@test "bench report: a part that could not run is reported with its reason and the other parts' rows still come out" {
	{
		python3 "$REPORT" part-failed --part datapath --reason "kernel refuses BPF_PROG_RUN: Operation not permitted"
		python3 "$REPORT" pair-row --group control --name "1 VIP: lvip vip add" --baseline "ip addr add" \
			--goal 3 --goal-text "<= 3 x ip addr add" --ns "2 2 2" --base "1 1 1"
	} >"$T/res.jsonl"
	run python3 "$REPORT" report "$T/res.jsonl" "$T/bench.json"
	[ "$status" -eq 0 ]
	[[ $output == *"datapath: not measured"*"not measured: kernel refuses BPF_PROG_RUN: Operation not permitted"* ]]
	[[ $output == *"1 VIP: lvip vip add"*"met"* ]]
	[[ $output == *"1 of 1 goals met"* ]]
}

@test "bench report: the datapath's extra-over-bare rows keep their goals" {
	printf '%s\n' '{"group":"datapath","name":"IPv4 to a VIP, accepted and counted (over bare)","ns":12.0,"baseline":"minimal XDP, over bare","baseline_ns":10.0,"ratio":1.2,"extra_ns":2.0,"goal":1.25,"goal_text":"<= 1.25 x minimal'"'"'s extra","met":true}' \
		'{"group":"datapath","name":"IPv4 to a non-VIP (over bare)","ns":12.0,"baseline":"minimal XDP, over bare","baseline_ns":10.0,"ratio":1.2,"extra_ns":2.0,"goal":1.15,"goal_text":"<= 1.15 x minimal'"'"'s extra","met":false}' \
		>"$T/res.jsonl"
	run python3 "$REPORT" report "$T/res.jsonl" "$T/bench.json"
	[ "$status" -eq 0 ]
	[[ $output == *"1 of 2 goals met: missed IPv4 to a non-VIP (over bare)"* ]]
}

# traffic_samples PATH CPU_NS...: one request/response and one bulk sample
# each way per round (round = the argument's position) for PATH, as the
# runner writes them from traffic.py's two JSON lines.
traffic_samples() {
	local path=$1 r=0 ns
	shift
	for ns in "$@"; do
		python3 "$REPORT" traffic-sample --path "$path" --mode rr --round "$r" --slot 0 \
			--client '{"cpu_ns": '"$ns"', "wall_ns": 1, "ksoftirqd_ns": 0, "n": 1000}' \
			--server '{"cpu_ns": 0, "count": 1000}'
		python3 "$REPORT" traffic-sample --path "$path" --mode bulk --round "$r" --slot 0 \
			--client '{"cpu_ns": '"$((ns / 2))"', "wall_ns": 1, "ksoftirqd_ns": '"$((ns / 2))"', "n": 2097152}' \
			--server '{"cpu_ns": 0, "count": 2097152}'
		python3 "$REPORT" traffic-sample --path "$path" --mode down --round "$r" --slot 0 \
			--client '{"cpu_ns": 0, "wall_ns": 1, "ksoftirqd_ns": 0, "n": 4194304}' \
			--server '{"cpu_ns": '"$ns"', "count": 4194304}'
		r=$((r + 1))
	done
}

@test "bench report: real traffic per attach path and over the XDP floor, the paths that cannot attach not measured with their reason" {
	{
		python3 "$REPORT" traffic-attach --path default --attach "status [...]; tc egress filters: 1"
		python3 "$REPORT" traffic-refused --path clsact --attach "status [...]; tc egress filters: 1" \
			--reason "this lvip has one TC attach path (LVIP_FORCE_CLSACT=1 attaches as the default does)"
		python3 "$REPORT" traffic-refused --path share --reason "lvip: eth0: kernel refuses freplace"
		traffic_samples none 1000000 1000000 1000000
		traffic_samples floor 1005000 1005000 1005000
		traffic_samples default 1010000 1050000 1000000
	} >"$T/traffic.jsonl"
	python3 "$REPORT" traffic-rows "$T/traffic.jsonl" >"$T/res.jsonl"
	run python3 "$REPORT" report "$T/res.jsonl" "$T/bench.json"
	[ "$status" -eq 0 ]
	# rr: 1000 ns per request; bulk: 2 MB per run, so 500,000 ns per MB.
	[[ $output == *"TCP request/response, default (XDP link + TC egress)"*"1,010"*"no lvip"*"1,000"*"1.010"*"1.02  met"* ]]
	[[ $output == *"TCP bulk upload, default (XDP link + TC egress)"*"505,000"*"500,000"*"1.010"* ]]
	[[ $output == *"TCP bulk download, default (XDP link + TC egress)"*"252,500"*"250,000"*"1.010"* ]]
	[[ $output == *"TCP request/response, LVIP_FORCE_CLSACT=1 (clsact)"*"not measured: this lvip has one TC attach path"* ]]
	[[ $output == *"TCP bulk upload, --xdp-share (libxdp dispatcher)"*"not measured: lvip: eth0: kernel refuses freplace"* ]]
	[[ $output == *"TCP request/response, floor: bare native XDP_PASS"*"1,005"*"1,000"*"1.005"*"  -"* ]]
	[[ $output == *"TCP request/response, default, over the floor"*"1,010"*"floor: XDP_PASS"*"1,005"*"1.005"* ]]
	[[ $output == *"3 of 3 goals met"* ]]
	[[ $output == *"not measured (lvip: eth0: kernel refuses freplace): 3 cases, 3 goals"* ]]
	run python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
t={r["name"]: r for r in d if r["group"] == "traffic"}
assert len(t) == 15
rr=t["TCP request/response, default (XDP link + TC egress)"]
assert (rr["ns"], rr["baseline_ns"], rr["ratio"], rr["met"], rr["ratios"]) == (1010, 1000, 1.01, True, [1.01, 1.05, 1.0])
assert rr["attach"].endswith("tc egress filters: 1")
off=[r for r in t.values() if r.get("not_measured")]
assert len(off) == 6 and all(r["met"] is None and r["ns"] is None for r in off)' "$T/bench.json"
	[ "$status" -eq 0 ]
}

@test "bench report: a traffic path missing its goal is reported missed" {
	{
		python3 "$REPORT" traffic-attach --path default --attach x
		python3 "$REPORT" traffic-attach --path clsact --attach y
		python3 "$REPORT" traffic-attach --path share --attach z
		traffic_samples none 1000000
		traffic_samples default 1010000
		traffic_samples clsact 1030000
		traffic_samples share 1000000
	} >"$T/traffic.jsonl"
	python3 "$REPORT" traffic-rows "$T/traffic.jsonl" >"$T/res.jsonl"
	run python3 "$REPORT" report "$T/res.jsonl" "$T/bench.json"
	[ "$status" -eq 0 ]
	[[ $output == *"6 of 9 goals met: missed TCP request/response, LVIP_FORCE_CLSACT=1 (clsact); TCP bulk upload, LVIP_FORCE_CLSACT=1 (clsact); TCP bulk download, LVIP_FORCE_CLSACT=1 (clsact)"* ]]
}

# traffic_runtime PATH MODE N ROUND NS RUNS: a run-time line as the runner
# writes it from lvip-bench runtime before and after an exchange.
traffic_runtime() {
	python3 "$REPORT" traffic-runtime --path "$1" --mode "$2" --n "$3" --round "$4" \
		--before '{"run_time_ns": 1000, "run_cnt": 7}' \
		--after '{"run_time_ns": '"$((1000 + $5))"', "run_cnt": '"$((7 + $6))"'}'
}

@test "bench report: lvip's BPF run time in real traffic, added to no lvip's CPU, per round; the floor's without a goal; no run counted is not measured" {
	{
		python3 "$REPORT" traffic-attach --path default --attach x
		python3 "$REPORT" traffic-attach --path clsact --attach y
		python3 "$REPORT" traffic-refused --path share --reason "kernel refuses freplace"
		traffic_samples none 1000000 2000000 1000000
		traffic_samples floor 1000000 2000000 1000000
		traffic_samples default 1000000 2000000 1000000
		traffic_samples clsact 1000000 2000000 1000000
		# rr: 1000 requests of 1000, 2000, 1000 ns: lvip's programs 10, 30, 30 ns a request
		traffic_runtime floor rr 1000 0 5000 1000
		traffic_runtime default rr 1000 0 10000 2000
		traffic_runtime default rr 1000 1 30000 2000
		traffic_runtime default rr 1000 2 30000 2000
		traffic_runtime clsact rr 1000 0 0 0
		traffic_runtime clsact rr 1000 1 0 0
	} >"$T/traffic.jsonl"
	python3 "$REPORT" traffic-rows "$T/traffic.jsonl" >"$T/res.jsonl"
	run python3 "$REPORT" report "$T/res.jsonl" "$T/bench.json"
	[ "$status" -eq 0 ]
	# per round 1.010, 1.015, 1.030: the median round is the second
	[[ $output == *"TCP request/response, default, lvip's BPF run time"*"2,030"*"no lvip"*"2,000"*"1.015"*"30.00"*"1.02  met"* ]]
	[[ $output == *"TCP request/response, floor: its BPF run time"*"1,005"*"1,000"*"1.005"*"  -"* ]]
	[[ $output == *"TCP request/response, clsact, lvip's BPF run time"*"not measured: the kernel counted no run of lvip's programs"* ]]
	run python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
r={r["name"]: r for r in d}["TCP request/response, default, lvip'"'"'s BPF run time"]
assert (r["ratios"], r["program_runs_per_unit"], r["met"]) == ([1.01, 1.015, 1.03], 2.0, True), r' "$T/bench.json"
	[ "$status" -eq 0 ]
}
