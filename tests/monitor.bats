#!/usr/bin/env bats
# tests/monitor.bats - lvip monitor (docs/cli.md#monitor): the
# datapath's drops and rewrites as events through the lvip_events ring
# buffer, between two namespaces:
#
#  - an ARP flood for a VIP from the peer: one event per dropped request
#    that the rate limit lets through, each naming the peer's MAC and IP and
#    the VIP; events sent <= the bound; sent + not sent = the drops counted;
#  - a "who-has X tell VIP" rewrite shows as an event;
#  - nobody listening: counters move, no event is built (lvip_monrate stays
#    0); a killed monitor's flag is cleared by the next locked command, a
#    monitor whose reader went (| head) clears its own;
#  - a pin set without the monitor's maps gets them on the next attach.
#
# Without root/BPF the tests skip, or fail when LVIP_REQUIRE_BPF=1.

bats_require_minimum_version 1.5.0

load lib/netns
load lib/assertions

VIP4=198.18.0.100

setup_file() {
	lvip_env_check
	lvip_tmp_setup
}

teardown_file() {
	lvip_tmp_teardown
}

setup() {
	lvip_env_require
	need_cmds bpftool arping
	lvip_netns_setup
	lvip attach veth0 >/dev/null
	lvip vip add "$VIP4" >/dev/null
}

teardown() {
	lvip_netns_teardown
}

# mon_field NAME: lvip_mon's field NAME as bpftool shows it.
mon_field() {
	bpftool -j map dump pinned "$PIN/lvip_mon" | python3 -c '
import json, sys
e = json.load(sys.stdin)[0]
print(e.get("formatted", e)["value"][sys.argv[1]])' "$1"
}

# monrate_sum NAME: lvip_monrate's NAME summed over CPUs.
monrate_sum() {
	bpftool -j map dump pinned "$PIN/lvip_monrate" | python3 -c '
import json, sys
e = json.load(sys.stdin)[0]
e = e.get("formatted", e)
print(sum(int(v["value"][sys.argv[1]]) for v in e["values"]))' "$1"
}

mon_listening() { [ "$(mon_field pid)" != 0 ]; }
mon_idle() { [ "$(mon_field pid)" = 0 ]; }

# monitor_start OUT ARGS...: lvip monitor ARGS in the background, stdout to
# OUT; returns when its flag is set. Its PID in MON_PID.
monitor_start() {
	local out=$1
	shift
	bg_start MON_PID ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" monitor "$@" >"$out" \
		2>"$out.err"
	wait_until 10 mon_listening || { fail "monitor did not start: $(cat "$out.err")"; return 1; }
}

# arp_flood N: N ARP requests "who-has VIP4 tell PEER" from the peer at
# 2000 a second (tests/lib/arpflood.py; 1 in 10 asks for the real server's
# own address instead). Prints the number of requests for the VIP.
arp_flood() {
	peer timeout 60 python3 "$LVIP_TESTS_DIR/lib/arpflood.py" send --dev veth1 --role peer \
		--vip "$VIP4" --own "$PEER_ADDR4" --control "$RS_ADDR4" --pps 2000 --max-frames "$1" \
		--stop "$BATS_TEST_TMPDIR/no-stop" | json_eval "d['vip']"
}

@test "monitor --json during an ARP flood: requester and VIP per event, rate limit holds, sent + not sent = drops" {
	local out=$BATS_TEST_TMPDIR/mon.json rate=5 before after t0 t1 ncpus mac nvip res
	mac=$(ip -n "$PEER" -j link show dev veth1 | json_eval "d[0]['address']")
	ncpus=$(python3 -c 'import os; print(os.cpu_count())')
	before=$(stat_reason arp_in_dropped)
	monitor_start "$out" --json --rate "$rate"
	t0=$(date +%s)
	nvip=$(arp_flood 400)
	t1=$(date +%s)
	after=$(stat_reason arp_in_dropped)
	bg_stop "$MON_PID"
	wait_until 5 mon_idle || fail "the monitor left its flag set"
	[ "$(wc -l <"$out")" -ge 1 ] || fail "no output: $(cat "$out.err")"
	assert_eq "$nvip" "$(( after - before ))" "drops counted for the requests sent"
	res=$(python3 - "$out" "$mac" "$PEER_ADDR4" "$VIP4" "$(( after - before ))" \
		"$(( ncpus * rate * (t1 - t0 + 2) ))" <<'PY'
import json, sys
path, mac, req, vip, drops, bound = sys.argv[1:4] + [sys.argv[4], int(sys.argv[5]), int(sys.argv[6])]
lines = [json.loads(l) for l in open(path)]
events, summary = lines[:-1], lines[-1]
for e in events:
    want = {"interface": "veth0", "reason": "arp_in_dropped", "mac": mac, "requester": req,
            "vip": vip, "vlan": 0}
    bad = {k: (v, e.get(k)) for k, v in want.items() if e.get(k) != v}
    if bad or not e.get("time", "").endswith("Z"):
        sys.exit("event %r: expected %r" % (e, bad))
n = len(events)
if summary["shown"] != n or summary["sent"] != n:
    sys.exit("summary %r, %d events printed" % (summary, n))
if not 1 <= n <= bound:
    sys.exit("%d events sent, the bound is %d" % (n, bound))
if n + summary["not_sent"] != drops:
    sys.exit("%d sent + %d not sent != %d drops" % (n, summary["not_sent"], drops))
print("%d drops: %d events, %d not sent (bound %d)" % (drops, n, summary["not_sent"], bound))
PY
) || fail "$res"
	figure "monitor at $rate/s per CPU: $res"
}

@test "monitor: a 'tell VIP' rewrite shows as an event; text output names the interface" {
	local out=$BATS_TEST_TMPDIR/mon.txt
	monitor_start "$out" --count 1
	rs ip neigh flush dev veth0
	rs arping -c 1 -w 2 -S "$VIP4" -i veth0 "$PEER_ADDR4" >/dev/null 2>&1 || true
	wait_until 10 bg_gone "$MON_PID" || fail "monitor --count 1 did not stop: $(cat "$out")"
	wait "$MON_PID" || fail "monitor exited $?"
	grep -E "^[0-9T:.-]+Z veth0 vlan 0 arp_out_rewritten from [0-9a-f:]{17} $RS_ADDR4 vip $VIP4\$" "$out" ||
		fail "no rewrite event: $(cat "$out")"
	grep -E '^1 events shown, 1 sent, 0 events not sent \(rate limit\)$' "$out" ||
		fail "no summary: $(cat "$out")"
}

@test "monitor: nobody listening builds no event; a killed monitor's flag is cleared; one monitor at a time" {
	local out=$BATS_TEST_TMPDIR/mon.json pid
	no_arp_reply "$VIP4"
	[ "$(stat_reason arp_in_dropped)" -ge 1 ] || fail "the drops were not counted"
	assert_eq 0 "$(monrate_sum sent)" "events sent with nobody listening"
	assert_eq 0 "$(monrate_sum not_sent)" "events counted as not sent with nobody listening"
	monitor_start "$out" --json
	run -1 lvip monitor
	assert_contains "$output" "another lvip monitor (pid $MON_PID) is listening"
	kill -KILL "$MON_PID"
	wait "$MON_PID" 2>/dev/null || true
	assert_eq "$MON_PID" "$(mon_field pid)" "the killed monitor's flag"
	lvip vip add 198.18.0.101 >/dev/null
	assert_eq 0 "$(mon_field pid)" "the flag after the next locked command"
}

@test "monitor | head -n 1: the monitor exits when its reader goes, its flag cleared" {
	local out=$BATS_TEST_TMPDIR/head.txt pid
	# shellcheck disable=SC2016 # expanded by the inner shell
	bg_start pid bash -c 'ip netns exec "$RS" "$1" --pin-dir "$PIN" monitor | head -n 1 >"$2"' _ \
		"$LVIP" "$out"
	wait_until 10 mon_listening || fail "monitor did not start"
	no_arp_reply "$VIP4"
	wait_until 10 mon_idle || fail "the monitor kept its flag after its reader went"
	wait_until 10 bg_gone "$pid" || fail "the pipeline did not end"
	grep -q "arp_in_dropped from .* $PEER_ADDR4 vip $VIP4\$" "$out" || fail "first line: $(cat "$out")"
}

@test "monitor: a pin set without the monitor's maps gets them on the next attach" {
	local out=$BATS_TEST_TMPDIR/mon.json
	rm "$PIN/lvip_events" "$PIN/lvip_mon" "$PIN/lvip_monrate"
	lvip attach veth0 >/dev/null
	[ -e "$PIN/lvip_events" ] && [ -e "$PIN/lvip_mon" ] && [ -e "$PIN/lvip_monrate" ] ||
		fail "maps not re-created: $(ls "$PIN")"
	monitor_start "$out" --json --count 1
	no_arp_reply "$VIP4"
	wait_until 10 bg_gone "$MON_PID" || fail "no event"
	json_assert "d['vip'] == '$VIP4' and d['reason'] == 'arp_in_dropped'" "$(head -1 "$out")"
}

@test "monitor: bad arguments are refused with exit 2" {
	run -2 lvip monitor --rate 0
	run -2 lvip monitor --count 0
	run -2 lvip monitor extra
}
