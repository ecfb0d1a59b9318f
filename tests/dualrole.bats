#!/usr/bin/env bats
# tests/dualrole.bats - nodes that are both director and real server
# (docs/cli.md, "vip release" and "vip hide"): a released VIP is answered by
# the kernel on the wire and still counted, hidden again on `vip hide`; the
# state is kept in the pinned map (a new lvip sees it, apply and watch keep
# it, both commands work while watch runs); bad input changes nothing. Then
# the classic two-node LVS-DR pair with the real keepalived deciding which
# node releases the VIP (packaging/lvip-keepalived-notify and
# packaging/keepalived.conf.example, as shipped), failover measured on the
# wire from a client.
#
#   RS   namespace: lo, veth0 198.18.0.11/24 2001:db8::11/64 (the node)
#   PEER namespace: lo, veth1 198.18.0.1/24  2001:db8::1/64  (a neighbour)
#
# The keepalived test makes its own namespaces: nodes A (198.18.0.11) and B
# (198.18.0.12), each with its own pin dir and lvip, and a client
# (198.18.0.1) whose bridge joins them. keepalived runs in A and B with
# pidfiles in the test's temp dir, started and killed by PID. Without root,
# BPF, arping, tcpdump or keepalived the tests skip, or fail when
# LVIP_REQUIRE_BPF=1.

bats_require_minimum_version 1.5.0

load lib/netns
load lib/assertions

VIP4=198.18.0.100
VIP6=2001:db8::100

setup_file() {
	lvip_env_check
	lvip_tmp_setup || return 1
}
teardown_file() { lvip_tmp_teardown; }
setup() {
	lvip_env_require
	lvip_netns_setup
	WATCH_PID=
	KA_PIDS=()
	DR_NS=()
}
teardown() {
	local pid ns
	for pid in ${WATCH_PID:+"$WATCH_PID"} "${KA_PIDS[@]}"; do
		bg_stop "$pid"
	done
	for ns in "${DR_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$BPFFS/lvip-a" "$BPFFS/lvip-b"
	lvip_netns_teardown
}

released() { # ADDR: lvip vip list --json says ADDR is released
	lvip vip list --json | json_assert "any(v['address'] == '$1' and v['released'] for v in d)"
}

hidden() { # ADDR
	lvip vip list --json | json_assert "any(v['address'] == '$1' and not v['released'] for v in d)"
}

answered() { # ADDR: ARP requests from the peer are answered
	local tx rx
	read -r tx rx < <(arp_probe "$1" 2)
	[ "$rx" -ge 1 ] || fail "ARP for $1: $tx sent, $rx answered (expected answers)"
}

vip_packets() { # ADDR
	lvip vip list --json | json_eval "[v['packets'] for v in d if v['address'] == '$1'][0]"
}

# ---------------------------------------------------------------- release, hide

@test "vip release: the kernel answers ARP/ND for the VIP, packets to it are counted, tell-VIP is not rewritten; vip hide hides it again" {
	need_cmds arping tcpdump
	lvip attach veth0
	lvip vip add "$VIP4" "$VIP6"
	no_arp_reply "$VIP4"
	run --separate-stderr lvip vip release "$VIP4" "$VIP6"
	assert_status 0
	assert_contains "$output" "$VIP4: released" "release's message"
	released "$VIP4"
	released "$VIP6"
	answered "$VIP4"
	# NS for the released IPv6 VIP pass (Linux answers NS only for the
	# receiving interface's own addresses, so the wire shows no NA).
	local nd_before
	nd_before=$(stat_reason nd_in_dropped)
	peer ping -c 1 -W 1 "$VIP6" >/dev/null 2>&1 || true
	assert_eq "$nd_before" "$(stat_reason nd_in_dropped)" "nd_in_dropped after NS for the released $VIP6"
	local before after
	before=$(vip_packets "$VIP4")
	peer ping -c 3 -i 0.2 -W 2 "$VIP4" >/dev/null || fail "ping $VIP4 failed while released"
	after=$(vip_packets "$VIP4")
	[ "$after" -ge $((before + 3)) ] || fail "packets to the released $VIP4 not counted: $before -> $after"
	assert_eq "$VIP4" "$(tell_sender "$VIP4")" "sender of who-has from the released VIP (not rewritten)"

	# Shown everywhere.
	run --separate-stderr lvip vip list
	assert_status 0
	[[ "${lines[0]}" == *RELEASED* ]] || fail "vip list has no RELEASED column: ${lines[0]}"
	run --separate-stderr lvip stats --prometheus
	assert_contains "$output" "lvip_vip_released{vip=\"$VIP4\"} 1" "prometheus"
	run --separate-stderr lvip status --json
	assert_status 0
	json_assert "d['vips'] == 2 and d['vips_released'] == 2" <<<"$output"
	run --separate-stderr lvip status
	assert_contains "$output" "VIPs: 2 (2 released" "status"
	run --separate-stderr lvip check --json
	assert_status 0 # released on purpose: information, not exposure
	json_assert "[f['address'] for f in d['findings'] if f['code'] == 'vip_released'] == ['$VIP4', '$VIP6'] and all(f['severity'] == 'info' for f in d['findings'] if f['code'] == 'vip_released')" <<<"$output"

	# Again: idempotent. Then hidden again, on the wire.
	run --separate-stderr lvip vip release "$VIP4"
	assert_status 0
	assert_contains "$output" "already released" "second release"
	run --separate-stderr lvip vip hide "$VIP4" "$VIP6"
	assert_status 0
	hidden "$VIP4"
	hidden "$VIP6"
	peer ip neigh flush dev veth1
	no_arp_reply "$VIP4"
	assert_eq "$RS_ADDR4" "$(tell_sender "$VIP4")" "sender of who-has from the hidden VIP (rewritten)"
	run --separate-stderr lvip stats --prometheus
	assert_contains "$output" "lvip_vip_released{vip=\"$VIP4\"} 0" "prometheus after hide"
	figure "vip release: ARP for the VIP answered, NS for it passed, 3 pings counted, tell-VIP left as is; vip hide: ARP unanswered, tell-VIP rewritten to $RS_ADDR4"
}

@test "vip release/hide: not a VIP, an invalid address, or lvip not loaded: one line, exit 2 (1 when not loaded), nothing changed" {
	run --separate-stderr lvip vip release "$VIP4"
	assert_status 1
	assert_one_line
	lvip attach veth0
	lvip vip add "$VIP4"
	local before
	before=$(lvip_state_snapshot)
	for c in "vip release 198.18.0.200" "vip release $VIP4 198.18.0.200" "vip hide 198.18.0.200" \
		"vip release bogus" "vip release" "vip hide"; do
		# shellcheck disable=SC2086 # words on purpose
		run --separate-stderr lvip $c
		assert_status 2
		assert_one_line
	done
	run --separate-stderr lvip vip release "$VIP4" 198.18.0.200
	assert_contains "$stderr" "198.18.0.200 is not a VIP" "release of a non-VIP"
	assert_state_unchanged "$before" "state after the refused release/hide"
	hidden "$VIP4"
}

@test "a released VIP stays released: a new lvip process, apply and a watcher keep it; release and hide work while watch runs" {
	local conf=$BATS_TEST_TMPDIR/lvip.conf log=$BATS_TEST_TMPDIR/watch.log
	printf 'interface veth0\nvip %s\nvip 198.18.0.101\n' "$VIP4" > "$conf"
	lvip apply -f "$conf" >/dev/null
	lvip vip release "$VIP4"
	run --separate-stderr lvip apply -f "$conf"
	assert_status 0
	assert_contains "$output" "no changes" "apply over a released VIP"
	released "$VIP4"
	# Taken off lo behind lvip's back: apply restores it, still released.
	rs ip addr del "$VIP4/32" dev lo
	lvip apply -f "$conf" >/dev/null
	lo_has "$RS" "$VIP4/32" || fail "apply did not restore $VIP4 on lo"
	released "$VIP4"

	bg_start WATCH_PID ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" watch -f "$conf" 2>"$log"
	wait_until 10 grep -q "following" "$log" || fail "watch did not start: $(cat "$log")"
	run --separate-stderr lvip vip add 198.18.0.102
	assert_status 1 # an ordinary change is refused while watch runs
	run --separate-stderr lvip vip hide "$VIP4"
	assert_status 0
	hidden "$VIP4"
	run --separate-stderr lvip vip release "$VIP4" 198.18.0.101
	assert_status 0
	# A pass of watch (a VIP taken off lo) restores lo and keeps both released.
	rs ip addr del "$VIP4/32" dev lo
	wait_until 5 lo_has "$RS" "$VIP4/32" || fail "watch did not restore $VIP4: $(cat "$log")"
	released "$VIP4"
	released 198.18.0.101
	answered "$VIP4"
	bg_stop "$WATCH_PID"
	WATCH_PID=
	released "$VIP4"
	# Out of the map and back: a new entry, hidden.
	lvip vip del 198.18.0.101 >/dev/null
	lvip vip add 198.18.0.101 >/dev/null
	hidden 198.18.0.101
}

# ---------------------------------------------------------------- keepalived

# dr_node NAME ADDR: namespace $DR_PREFIX-NAME, veth0 ADDR/24 joined to the
# client's bridge, lo up; lvip watch (own pin dir) attaches veth0 and keeps
# the VIP on lo, hidden.
dr_node() {
	local n=$1 addr=$2 ns=$DR_PREFIX-$1 pid
	ip netns add "$ns" || return 1
	DR_NS+=("$ns")
	ip -n "$ns" link add veth0 type veth peer name "p$n" netns "$DR_CLIENT" || return 1
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$addr/24" dev veth0
	ip -n "$ns" link set veth0 up
	ip -n "$DR_CLIENT" link set "p$n" master br0 up
	printf 'interface veth0\nvip %s\n' "$VIP4" > "$DR_TMP/lvip-$n.conf"
	bg_start pid ip netns exec "$ns" "$LVIP" --pin-dir "$BPFFS/lvip-$n" watch \
		-f "$DR_TMP/lvip-$n.conf" 2>"$DR_TMP/watch-$n.log"
	WATCHERS+=("$pid")
	wait_until 10 lo_has "$ns" "$VIP4/32" || { fail "node $n: watch did not apply: $(cat "$DR_TMP/watch-$n.log")"; return 1; }
}

# node_lvip NAME ARGS...: lvip on node NAME with its pin dir.
node_lvip() {
	local n=$1
	shift
	timeout -k 5 30 ip netns exec "$DR_PREFIX-$n" "$LVIP" --pin-dir "$BPFFS/lvip-$n" "$@"
}

# keepalived_start NAME PRIORITY: keepalived (VRRP only) in node NAME, with
# packaging/keepalived.conf.example made to fit: veth0, the priority, the
# notify script from the tree with the node's pin dir and this lvip.
keepalived_start() {
	local n=$1 prio=$2 conf=$DR_TMP/keepalived-$1.conf pid
	sed -e "s|router_id lvip-node-a|router_id lvip-node-$n|" \
	    -e "s|interface eth0|interface veth0|" \
	    -e "s|priority 150|priority $prio|" \
	    -e "s|\"/usr/local/share/lvip/lvip-keepalived-notify |\"$LVIP_REPO/packaging/lvip-keepalived-notify --pin-dir $BPFFS/lvip-$n --lvip $LVIP |" \
	    "$LVIP_REPO/packaging/keepalived.conf.example" > "$conf"
	grep -q "priority $prio" "$conf" && grep -q "lvip-$n --lvip" "$conf" ||
		{ fail "keepalived.conf.example no longer has the lines the test adapts"; return 1; }
	bg_start pid ip netns exec "$DR_PREFIX-$n" keepalived -n -l -D -P -f "$conf" \
		-p "$DR_TMP/keepalived-$n.pid" -r "$DR_TMP/vrrp-$n.pid" >"$DR_TMP/keepalived-$n.log" 2>&1
	KA_PIDS+=("$pid")
	eval "KA_$n=$pid"
}

# answerers: which nodes answer ARP requests for the VIP from the client,
# as "a", "b", "a b" or "" (two requests, replies collected for 2 s).
answerers() {
	local out who=""
	out=$(ip netns exec "$DR_CLIENT" timeout 5 arping -c 2 -w 2 -I br0 "$VIP4" 2>/dev/null) || true
	grep -qi "from $MAC_A " <<<"$out" && who="a"
	grep -qi "from $MAC_B " <<<"$out" && who="${who:+$who }b"
	printf '%s\n' "$who"
}

answered_by() { [ "$(answerers)" = "$1" ]; }

node_state() { # NAME: released or hidden, as lvip vip list --json says
	node_lvip "$1" vip list --json | json_eval "'released' if d[0]['released'] else 'hidden'"
}

states_are() { # STATE_A STATE_B
	[ "$(node_state a)" = "$1" ] && [ "$(node_state b)" = "$2" ]
}

@test "keepalived pair: only the VRRP MASTER answers ARP for the VIP; after the MASTER's keepalived stops, only the new MASTER does" {
	need_cmds keepalived arping
	DR_PREFIX="lvip-t-$LVIP_T_ID-$BATS_TEST_NUMBER"
	DR_CLIENT=$DR_PREFIX-client
	DR_TMP=$BATS_TEST_TMPDIR
	WATCHERS=()
	ip netns add "$DR_CLIENT" || fail "cannot create $DR_CLIENT"
	DR_NS+=("$DR_CLIENT")
	ip -n "$DR_CLIENT" link set lo up
	ip -n "$DR_CLIENT" link add br0 type bridge
	ip -n "$DR_CLIENT" addr add 198.18.0.1/24 dev br0
	ip -n "$DR_CLIENT" link set br0 up
	dr_node a 198.18.0.11
	dr_node b 198.18.0.12
	KA_PIDS+=("${WATCHERS[@]}") # stopped in teardown, by PID
	MAC_A=$(ip -n "$DR_PREFIX-a" -j link show veth0 | json_eval "d[0]['address']")
	MAC_B=$(ip -n "$DR_PREFIX-b" -j link show veth0 | json_eval "d[0]['address']")
	wait_until 5 link_has_carrier "$DR_PREFIX-a" veth0 || fail "node a: veth0 never came up"
	wait_until 5 link_has_carrier "$DR_PREFIX-b" veth0 || fail "node b: veth0 never came up"
	assert_eq "" "$(answerers)" "ARP answerers with both nodes hidden"

	keepalived_start a 150
	keepalived_start b 100
	local t0 t1 i who
	t0=$(date +%s%N)
	wait_until 20 answered_by a ||
		fail "node a never became the only one to answer ($(answerers)): $(tail -n 20 "$DR_TMP/keepalived-a.log")"
	t1=$(date +%s%N)
	local elect_ms=$(( (t1 - t0) / 1000000 ))
	assert_eq released "$(node_state a)" "node a (MASTER)"
	assert_eq hidden "$(node_state b)" "node b (BACKUP)"
	for i in 1 2; do
		assert_eq a "$(answerers)" "ARP answerers, MASTER a (probe $i)"
	done

	t0=$(date +%s%N)
	bg_stop "$KA_a"
	wait_until 20 states_are hidden released ||
		fail "after a's keepalived stopped: a $(node_state a), b $(node_state b): $(tail -n 20 "$DR_TMP/keepalived-b.log")"
	t1=$(date +%s%N)
	local state_ms=$(( (t1 - t0) / 1000000 ))
	wait_until 20 answered_by b ||
		fail "node b never became the only one to answer ($(answerers)): $(tail -n 20 "$DR_TMP/keepalived-b.log")"
	t1=$(date +%s%N)
	local failover_ms=$(( (t1 - t0) / 1000000 ))
	for i in 1 2; do
		who=$(answerers)
		assert_eq b "$who" "ARP answerers, MASTER b (probe $i)"
	done
	grep -q "following" "$DR_TMP/watch-a.log" && grep -q "following" "$DR_TMP/watch-b.log" ||
		fail "a watcher is not running"
	figure "keepalived pair (lvip watch on both nodes): election: only A answers ARP for $VIP4 after ${elect_ms} ms; A's keepalived stopped (SIGTERM): A hidden and B released after ${state_ms} ms (0.1 s polls), only B answers on the wire after ${failover_ms} ms (bound 20 s; 2 s ARP probes)"
}
