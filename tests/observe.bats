#!/usr/bin/env bats
# tests/observe.bats - observe mode (docs/datapath.md, "Observe mode") on
# the wire between two namespaces (the layout of datapath-wire.bats):
#
#  - attach --observe: an ARP request for a VIP is answered by the kernel and
#    counted as observe_arp_in (and the reply as observe_arp_out), "who-has
#    X tell VIP" leaves unrewritten and is counted as observe_rewrite; no
#    *_dropped or arp_out_rewritten, no VIP charged;
#  - attach without --observe switches to enforce at once (the next probe
#    gets no reply), the programs staying attached, and back; each request
#    is counted once, as observed or as dropped;
#  - the mode lives in the pins (lvip_ifmode): a new lvip process sees it,
#    status and stats (table, JSON, Prometheus) show it;
#  - apply and watch honour 'interface IFACE observe' and switch an attached
#    interface when the file changes.
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
	lvip_netns_setup
	CONF=$BATS_TEST_TMPDIR/lvip.conf
	WATCH_PID=
}

teardown() {
	if [ -n "${WATCH_PID-}" ]; then
		bg_stop "$WATCH_PID"
	fi
	lvip_netns_teardown
}

# mode_is IFACE MODE: status --json says IFACE is in MODE (observe|enforce).
mode_is() {
	lvip status --json | json_assert "[i['mode'] for i in d['interfaces'] if i['name'] == '$1'] == ['$2']"
}

# counts: the global reasons that observe mode splits, as one line.
counts() {
	lvip stats --json | json_eval "' '.join(str(d['reasons'][k]) for k in
		('arp_in_dropped', 'observe_arp_in', 'observe_arp_out', 'arp_out_rewritten', 'observe_rewrite'))"
}

observed_some() { [ "$(stat_reason observe_arp_in)" -gt 0 ]; }

# answered N: N ARP requests for the VIP from the peer; prints the replies.
answered() {
	local tx rx
	read -r tx rx < <(arp_probe "$VIP4" "$1")
	assert_eq "$1" "$tx" "ARP requests sent for $VIP4" >&2
	echo "$rx"
}

@test "observe: ARP for a VIP is answered and counted would-drop; 'tell VIP' leaves unrewritten, counted would-rewrite" {
	local js
	command -v tcpdump >/dev/null || fail "tcpdump not installed"
	run --separate-stderr lvip attach --observe veth0
	assert_status 0
	assert_contains "$output" "veth0: attached (xdp native, tc egress, observe)"
	run --separate-stderr lvip vip add "$VIP4"
	assert_status 0

	assert_eq 3 "$(answered 3)" "ARP replies for $VIP4 in observe mode (the kernel answers)"
	assert_eq "$VIP4" "$(tell_sender "$VIP4")" "sender of 'who-has peer tell VIP' in observe mode"

	run --separate-stderr lvip stats --json
	assert_status 0
	js=$output
	json_assert "d['reasons']['observe_arp_in'] == 3 and d['reasons']['arp_in_dropped'] == 0" "$js"
	json_assert "d['reasons']['observe_arp_out'] >= 3 and d['reasons']['arp_out_dropped'] == 0" "$js"
	json_assert "d['reasons']['observe_rewrite'] >= 1 and d['reasons']['arp_out_rewritten'] == 0" "$js"
	json_assert "[(i['mode'], i['reasons']['observe_arp_in']) for i in d['interfaces']] == [('observe', 3)]" "$js"
	json_assert "[v['arp_dropped'] for v in d['vips']] == [0]" "$js"

	mode_is veth0 observe
	run --separate-stderr lvip status
	assert_status 0
	grep -Eq '^veth0 .* observe *$' <<<"$output" || fail "status does not show veth0 in observe mode: $output"
	run --separate-stderr lvip stats
	assert_status 0
	grep -q 'OBSERVE_ARP_IN' <<<"$output" || fail "stats has no OBSERVE_ARP_IN column: $output"
	run --separate-stderr lvip stats --prometheus
	assert_status 0
	grep -qx 'lvip_interface_observe{interface="veth0"} 1' <<<"$output" ||
		fail "no lvip_interface_observe 1 for veth0: $output"
	grep -qx 'lvip_packets_total{reason="observe_arp_in"} 3' <<<"$output" ||
		fail "no lvip_packets_total observe_arp_in 3: $output"
	figure "observe mode: 3 of 3 ARP requests for the VIP answered, counted observe_arp_in 3, arp_in_dropped 0; 'tell VIP' left as sent, counted observe_rewrite"
}

@test "observe <-> enforce: the next probe after the switch gets no reply, nothing counted twice, programs stay attached" {
	local xdp tc before
	run --separate-stderr lvip attach --observe veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4"
	assert_status 0
	xdp=$(xdp_prog_id "$RS" veth0)
	tc=$(tc_egress_ids "$RS" veth0)

	assert_eq 2 "$(answered 2)" "replies in observe mode"
	read -r -a before < <(counts)
	assert_eq "0 2" "${before[0]} ${before[1]}" "arp_in_dropped, observe_arp_in after 2 observed requests"

	run --separate-stderr lvip attach veth0
	assert_status 0
	assert_contains "$output" "veth0: already attached, mode switched (xdp native, tc egress, enforce)"
	mode_is veth0 enforce # a new lvip process reads the mode from the pins
	assert_eq 0 "$(answered 1)" "replies to the first request after the switch to enforce"
	assert_eq 0 "$(answered 2)" "replies in enforce mode"
	read -r -a after < <(counts)
	assert_eq "3 2" "${after[0]} ${after[1]}" "arp_in_dropped, observe_arp_in: each request counted once"
	assert_eq "$xdp" "$(xdp_prog_id "$RS" veth0)" "XDP program across the switch"
	assert_eq "$tc" "$(tc_egress_ids "$RS" veth0)" "TC filter across the switch"

	run --separate-stderr lvip attach --observe veth0
	assert_status 0
	mode_is veth0 observe
	assert_eq 1 "$(answered 1)" "replies to the first request after the switch back to observe"
	read -r -a after < <(counts)
	assert_eq "3 3" "${after[0]} ${after[1]}" "arp_in_dropped, observe_arp_in after switching back"

	# Other commands leave the mode alone; save writes it, apply takes it back.
	run --separate-stderr lvip vip add 198.18.0.101
	assert_status 0
	mode_is veth0 observe
	lvip save > "$CONF" || fail "save failed"
	grep -Eq '^interface veth0( mode=[a-z]+)? observe$' "$CONF" || fail "save did not write observe: $(cat "$CONF")"
	run --separate-stderr lvip apply -f "$CONF"
	assert_status 0
	assert_eq "no changes" "$output" "apply of the saved file"
	figure "observe -> enforce -> observe with the programs attached: 2 answered, then 0 of 3 (first probe after the switch included), then 1 of 1; arp_in_dropped 3 + observe_arp_in 3 = 6 requests sent"
}

@test "switching modes 20 times under an ARP flood: every request for the VIP counted exactly once" {
	local dir=$BATS_TEST_TMPDIR peer_pid k sent total
	run --separate-stderr lvip attach --observe veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4"
	assert_status 0
	bg_start peer_pid ip netns exec "$PEER" python3 "$LVIP_LIB_DIR/arpflood.py" send --dev veth1 \
		--role peer --vip "$VIP4" --own "$PEER_ADDR4" --control "$RS_ADDR4" --stop "$dir/stop" \
		--pps 500 --max-seconds 60 >"$dir/peer.json"
	wait_until 10 observed_some || fail "no ARP request for the VIP arrived"
	for (( k = 0; k < 20; k++ )); do
		if (( k % 2 )); then
			run --separate-stderr lvip attach --observe veth0
		else
			run --separate-stderr lvip attach veth0
		fi
		[ "$status" -eq 0 ] || { touch "$dir/stop"; fail "switch $k: exit $status: $stderr"; }
	done
	touch "$dir/stop"
	wait_until 30 bg_gone "$peer_pid" || fail "the ARP flood did not stop"
	wait "$peer_pid" 2>/dev/null
	sent=$(json_eval "d['vip']" <"$dir/peer.json")
	total=$(lvip stats --json | json_eval "d['reasons']['arp_in_dropped'] + d['reasons']['observe_arp_in']")
	[ "$sent" -gt 0 ] || fail "the flood sent no request for the VIP"
	assert_eq "$sent" "$total" "arp_in_dropped + observe_arp_in against the requests for the VIP sent"
	[ "$(stat_reason arp_in_dropped)" -gt 0 ] || fail "nothing dropped while enforcing"
	figure "20 mode switches under an ARP flood: $sent requests for the VIP sent, arp_in_dropped + observe_arp_in = $total"
}

# observing_flag: lvip_observing's value as bpftool shows it.
observing_flag() {
	bpftool -j map dump pinned "$PIN/lvip_observing" | json_eval "d[0]['formatted']['value']"
}

@test "lvip_observing: set while an interface observes, 0 when none does; a pin set without it is repaired observing" {
	lvip attach --observe veth0 >/dev/null
	lvip vip add "$VIP4" >/dev/null
	assert_eq 1 "$(observing_flag)" "lvip_observing with veth0 observing"
	# A pin set from a build before lvip_observing: the next changing command
	# pins it and rebinds the programs; the interface must go on observing.
	rm "$PIN/lvip_observing"
	lvip vip add 198.18.0.101 >/dev/null
	[ -e "$PIN/lvip_observing" ] || fail "lvip_observing not re-created: $(ls "$PIN")"
	assert_eq 1 "$(observing_flag)" "lvip_observing after the repair"
	assert_eq 3 "$(answered 3)" "ARP replies for $VIP4 after the repair (observe)"
	mode_is veth0 observe

	lvip attach veth0 >/dev/null
	assert_eq 0 "$(observing_flag)" "lvip_observing with no interface observing"
	assert_eq 0 "$(answered 3)" "ARP replies for $VIP4 in enforce mode"
	lvip attach --observe veth0 >/dev/null
	assert_eq 3 "$(answered 3)" "ARP replies for $VIP4 in observe mode again"
	lvip detach veth0 >/dev/null
	assert_eq 0 "$(observing_flag)" "lvip_observing after the observing interface is detached"
}

@test "apply and watch honour 'interface IFACE observe' and switch an attached interface when the file changes" {
	local xdp log=$BATS_TEST_TMPDIR/watch.log
	printf 'interface veth0 observe\nvip %s\n' "$VIP4" > "$CONF"
	run --separate-stderr lvip apply -f "$CONF"
	assert_status 0
	mode_is veth0 observe
	assert_eq 1 "$(answered 1)" "replies after apply in observe mode"
	xdp=$(xdp_prog_id "$RS" veth0)

	printf 'interface veth0\nvip %s\n' "$VIP4" > "$CONF"
	run --separate-stderr lvip apply --dry-run -f "$CONF"
	assert_status 0
	assert_contains "$output$stderr" "would switch veth0 to enforce mode"
	mode_is veth0 observe # a dry run changes nothing
	run --separate-stderr lvip apply -f "$CONF"
	assert_status 0
	mode_is veth0 enforce
	assert_eq 0 "$(answered 1)" "replies after apply in enforce mode"
	assert_eq "$xdp" "$(xdp_prog_id "$RS" veth0)" "XDP program across apply's switch"

	printf 'interface veth0 mode=generic observe\nvip %s\n' "$VIP4" > "$CONF"
	bg_start WATCH_PID ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" watch -f "$CONF" 2>"$log"
	wait_until 10 mode_is veth0 observe || fail "watch did not switch veth0 to observe: $(cat "$log")"
	grep -q "lvip watch: switch veth0 to observe mode" "$log" || fail "watch did not log the switch: $(cat "$log")"
	assert_eq 1 "$(answered 1)" "replies under watch in observe mode"
	printf 'interface veth0\nvip %s\n' "$VIP4" > "$CONF"
	kill -HUP "$WATCH_PID"
	wait_until 10 mode_is veth0 enforce || fail "watch did not switch veth0 to enforce: $(cat "$log")"
	assert_eq 0 "$(answered 1)" "replies under watch in enforce mode"
	assert_eq "$xdp" "$(xdp_prog_id "$RS" veth0)" "XDP program across watch's switches"
}

@test "config: an unknown interface option is one line naming the file and line, exit 2" {
	printf 'interface veth0 observing\n' > "$CONF"
	run -2 --separate-stderr lvip apply --check -f "$CONF"
	assert_one_line
	assert_contains "$stderr" "$CONF:1: unknown interface option 'observing'"
}

@test "check: an interface in observe mode is exposed (iface_observe), unless its sysctls hide lo (information)" {
	run --separate-stderr lvip attach --observe veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4"
	assert_status 0
	run --separate-stderr lvip check --json
	assert_status 1
	json_assert "[f['severity'] for f in d['findings'] if f['code'] == 'iface_observe'] == ['exposed']" "$output"

	# The migration: the sysctls (in the RS namespace only) still hide lo.
	rs sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
	run --separate-stderr lvip check --json
	assert_status 0
	json_assert "[f['severity'] for f in d['findings'] if f['code'] == 'iface_observe_sysctl'] == ['info']" "$output"
	json_assert "not [f for f in d['findings'] if f['code'] == 'iface_observe']" "$output"

	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip check --json
	assert_status 0
	json_assert "not [f for f in d['findings'] if f['code'].startswith('iface_observe')]" "$output"
}
