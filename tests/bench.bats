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
