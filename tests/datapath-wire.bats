#!/usr/bin/env bats
# tests/datapath-wire.bats - datapath cases that BPF_PROG_RUN cannot show,
# asserted on the wire between two namespaces (tests/lib/netns.bash):
#
#   RS   namespace: lo (the VIP), veth0 198.18.0.11/24, lvip attached
#   PEER namespace: veth1 198.18.0.1/24
#
#  - an ARP request with hardware type 6 (IEEE 802), which Linux answers
#    like hardware type 1, for a VIP (tests/lib/arpwire.py);
#  - an ARP frame sent through PACKET_TX_RING, whose skb carries only the
#    Ethernet header in its linear part (tests/lib/txring.py).
#
# Each probe has a control that must get through, so that "nothing seen"
# means something. Without root/BPF the tests skip, or fail when
# LVIP_REQUIRE_BPF=1.

bats_require_minimum_version 1.5.0

load lib/netns

VIP4=198.18.0.100
LIB=$LVIP_TESTS_DIR/lib

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
}

teardown() {
	lvip_netns_teardown
}

protect_vip() {
	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4"
	assert_status 0
}

# probe802: from the peer, "who-has VIP" then "who-has RS_ADDR4", both with
# hardware type 6; sets PROBE to the JSON counts of replies.
probe802() {
	PROBE=$(peer timeout 20 python3 "$LIB/arpwire.py" probe --dev veth1 --sender "$PEER_ADDR4" \
		--hrd 6 --vip "$VIP4" --control "$RS_ADDR4" --timeout 5)
	json_assert "d['control_replies'] >= 1" "$PROBE" ||
		fail "the control probe (hrd 6, for $RS_ADDR4) got no reply: the probe proves nothing"
}

# reason_delta BEFORE AFTER NAME: growth of the global counter NAME between
# two `lvip stats --json`.
reason_delta() {
	python3 -c '
import json, sys
b, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(a["reasons"][sys.argv[3]] - b["reasons"][sys.argv[3]])' "$1" "$2" "$3"
}

# ip_hex ADDR: 198.18.0.100 -> 0xc6120064 (for tcpdump's arp[14:4]).
ip_hex() {
	local IFS=.
	# shellcheck disable=SC2086 # split on dots, on purpose
	set -- $1
	printf '0x%02x%02x%02x%02x' "$1" "$2" "$3" "$4"
}

# pcap_count FILE FILTER: frames in FILE that FILTER matches.
pcap_count() {
	tcpdump -n -r "$1" "$2" 2>/dev/null | wc -l
}

pcap_has() { [ "$(pcap_count "$1" "$2")" -ge 1 ]; }

# ---------------------------------------------------------------- ARP hardware type 6

@test "ARP request with hardware type 6 (IEEE 802) for a VIP: no reply on the wire, dropped on ingress" {
	local before after r
	protect_vip
	before=$(lvip stats --json)
	probe802
	after=$(lvip stats --json)
	json_assert "d['vip_replies'] == 0" "$PROBE" ||
		fail "the real server answered an hrd 6 ARP request for $VIP4"
	for r in arp_in_dropped malformed arp_out_dropped; do
		echo "$r +$(reason_delta "$before" "$after" $r)"
	done
	assert_eq 1 "$(reason_delta "$before" "$after" arp_in_dropped)" "arp_in_dropped growth"
	assert_eq 0 "$(reason_delta "$before" "$after" malformed)" "malformed growth"
	# The kernel never saw the request, so it built no reply for TC to drop.
	assert_eq 0 "$(reason_delta "$before" "$after" arp_out_dropped)" "arp_out_dropped growth"
}

@test "ARP request with hardware type 6 for a VIP: ingress alone (lvip's TC filter removed) keeps the VIP silent" {
	# With lvip's TC egress program in place, a reply the kernel built
	# would be dropped there (it names the VIP as sender) and the wire
	# would not show whether XDP judged the request: take it away.
	protect_vip
	rs tc filter del dev veth0 egress
	[ -z "$(tc_egress_ids "$RS" veth0)" ] || fail "a TC egress filter is still on veth0"
	probe802
	json_assert "d['vip_replies'] == 0" "$PROBE" ||
		fail "the real server answered an hrd 6 ARP request for $VIP4: $PROBE"
}

# ---------------------------------------------------------------- PACKET_TX_RING

# cap_start: tcpdump on the peer's veth1 (ARP only) into $CAP.
cap_start() {
	CAP=$BATS_TEST_TMPDIR/wire.pcap
	bg_start CAP_PID ip netns exec "$PEER" timeout 60 tcpdump -n -U -i veth1 -w "$CAP" arp \
		2>"$CAP.err"
	wait_until 10 grep -q 'listening on' "$CAP.err" || fail "tcpdump did not start: $(cat "$CAP.err")"
}

# cap_stop FILTER: once a frame FILTER matches is captured (a frame sent
# last), and a short bounded window more for anything sent before it, stop.
cap_stop() {
	wait_until 5 pcap_has "$CAP" "$1" || fail "no frame '$1' reached the peer"
	sleep 0.5
	bg_stop "$CAP_PID"
}

# txring OP SENDER TARGET: one ARP frame from the real server's veth0
# through PACKET_TX_RING; prints the sender's JSON.
txring() {
	rs timeout 20 python3 "$LIB/txring.py" --dev veth0 --op "$1" --sender "$2" --target "$3"
}

@test "PACKET_TX_RING: a gratuitous ARP reply announcing a VIP never leaves; a non-VIP one does" {
	local before after out ctl_f
	command -v tcpdump >/dev/null || skip "tcpdump not installed"
	protect_vip
	ctl_f="arp[6:2] == 2 and arp[14:4] == $(ip_hex "$RS_ADDR4")"
	cap_start
	before=$(lvip stats --json)
	# The VIP's frame first: once the control (sent after it, the same
	# way) is captured, a leaked VIP frame would be too.
	echo "VIP frame: $(txring 2 "$VIP4" "$VIP4")"
	out=$(txring 2 "$RS_ADDR4" "$RS_ADDR4")
	echo "control frame: $out"
	json_assert "d['sent'] == 42 and d['errno'] == 0" "$out"
	cap_stop "$ctl_f"
	after=$(lvip stats --json)

	echo "arp_out_dropped +$(reason_delta "$before" "$after" arp_out_dropped)"
	assert_eq 0 "$(pcap_count "$CAP" "arp[14:4] == $(ip_hex "$VIP4")")" \
		"ARP frames with sender $VIP4 on the wire ($(tcpdump -n -r "$CAP" 2>/dev/null))"
	assert_eq 1 "$(reason_delta "$before" "$after" arp_out_dropped)" "arp_out_dropped growth"
}

@test "PACKET_TX_RING: 'who-has peer tell VIP' leaves with the real server's own address" {
	local before after out rew_f
	command -v tcpdump >/dev/null || skip "tcpdump not installed"
	protect_vip
	rew_f="arp[6:2] == 1 and arp[14:4] == $(ip_hex "$RS_ADDR4") and arp[24:4] == $(ip_hex "$PEER_ADDR4")"
	cap_start
	before=$(lvip stats --json)
	out=$(txring 1 "$VIP4" "$PEER_ADDR4")
	echo "request: $out"
	json_assert "d['sent'] == 42 and d['errno'] == 0" "$out"
	cap_stop "arp[6:2] == 1 and arp[24:4] == $(ip_hex "$PEER_ADDR4")"
	after=$(lvip stats --json)

	echo "arp_out_rewritten +$(reason_delta "$before" "$after" arp_out_rewritten)"
	assert_eq 0 "$(pcap_count "$CAP" "arp[14:4] == $(ip_hex "$VIP4")")" \
		"ARP frames with sender $VIP4 on the wire ($(tcpdump -n -r "$CAP" 2>/dev/null))"
	pcap_has "$CAP" "$rew_f" ||
		fail "no 'who-has $PEER_ADDR4 tell $RS_ADDR4' on the wire: $(tcpdump -n -r "$CAP" 2>/dev/null)"
	assert_eq 1 "$(reason_delta "$before" "$after" arp_out_rewritten)" "arp_out_rewritten growth"
	assert_eq 0 "$(reason_delta "$before" "$after" arp_out_dropped)" "arp_out_dropped growth"
}
