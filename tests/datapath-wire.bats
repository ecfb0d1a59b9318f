#!/usr/bin/env bats
# tests/datapath-wire.bats - the datapath (docs/datapath.md) judged on the
# wire between two namespaces, with the counters (docs/metrics.md) checked
# against what was sent and against bpftool's view of the pinned maps
# (docs/pins.md):
#
#   RS   namespace: lo (the VIPs), veth0 198.18.0.11/24 2001:db8::11/64
#   PEER namespace: veth1 198.18.0.1/24 2001:db8::1/64
#
#  - the control: without lvip the real server answers ARP for a VIP on lo;
#  - ingress: ARP requests and Neighbor Solicitations for a VIP dropped, the
#    server's own address still answered, the VIP still reachable; an ARP
#    request with hardware type 6 (IEEE 802), which Linux answers like
#    hardware type 1 (tests/lib/arpwire.py);
#  - egress: gratuitous ARP announcing a VIP never leaves, "who-has X tell
#    VIP" leaves with the real server's own address, also for a frame sent
#    through PACKET_TX_RING, whose skb carries only the Ethernet header in
#    its linear part (tests/lib/txring.py);
#  - counters: global, per VIP and per interface, equal to the frames sent,
#    equal to bpftool's sum over CPUs, two interfaces sharing one
#    lvip_ifslot slot counted apart.
#
# Each probe that expects silence has a control that must get through, so
# that "nothing seen" means something. The datapath frame by frame, without
# the wire, is tests/unit (BPF_PROG_RUN over the fixture table) and
# tests/fuzz (against an independent oracle). Without root/BPF the tests
# skip, or fail when LVIP_REQUIRE_BPF=1.

bats_require_minimum_version 1.5.0

load lib/netns

VIP4=198.18.0.100
VIP6=2001:db8::100
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

# ---------------------------------------------------------------- the control

@test "negative control: without lvip the real server answers ARP for a VIP on lo" {
	rs ip addr add "$VIP4/32" dev lo
	read -r tx rx < <(arp_probe "$VIP4" 3)
	[ "$tx" -ge 1 ] || fail "arping sent nothing (tx=$tx)"
	[ "$rx" -ge 1 ] || fail "no ARP reply for $VIP4 on lo without lvip: this test setup cannot see the problem lvip solves"
}

# ---------------------------------------------------------------- ingress

@test "on the wire: no ARP reply for a VIP, own address answered, VIP pinged, counters agree" {
	local tx rx otx orx js drop bsum
	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4"
	assert_status 0
	peer ip route add "$VIP4/32" via "$RS_ADDR4"

	read -r tx rx < <(arp_probe "$VIP4" 3)
	assert_eq 3 "$tx" "ARP requests sent for $VIP4"
	assert_eq 0 "$rx" "ARP replies for the VIP $VIP4"

	read -r otx orx < <(arp_probe "$RS_ADDR4" 3)
	assert_eq 3 "$otx" "ARP requests sent for $RS_ADDR4"
	assert_eq 3 "$orx" "ARP replies for the real server's own $RS_ADDR4"

	run peer ping -c 3 -W 1 -i 0.2 "$VIP4"
	assert_status 0
	grep -q '3 received' <<<"$output" || fail "ping $VIP4: not 3 of 3 answered: $output"

	run --separate-stderr lvip stats --json
	assert_status 0
	js=$output
	json_assert "d['reasons']['arp_in_dropped'] == $tx" "$js"
	json_assert "d['reasons']['vip_rx'] >= 3" "$js"
	json_assert "[(v['arp_dropped'], v['packets'] >= 3, v['bytes'] >= 3 * 84) for v in d['vips'] if v['address'] == '$VIP4'] == [($tx, True, True)]" "$js"
	json_assert "[i['reasons']['arp_in_dropped'] for i in d['interfaces'] if i['name'] == 'veth0'] == [$tx]" "$js"

	drop=$(json_eval "d['reasons']['arp_in_dropped']" <<<"$js")
	bpftool map dump pinned "$PIN/lvip_stats" | grep -q arp_in_dropped ||
		fail "bpftool map dump pinned lvip_stats does not name arp_in_dropped"
	bsum=$(bpftool_stat_sum arp_in_dropped)
	assert_eq "$drop" "$bsum" "arp_in_dropped: lvip stats vs bpftool (summed over CPUs)"
	[ "$bsum" -gt 0 ] || fail "arp_in_dropped is 0"
}

@test "on the wire, IPv6: NS for a VIP dropped, VIP pinged over a route" {
	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP6"
	assert_status 0

	# On-link: the peer solicits the VIP; lvip drops the NS.
	run peer ping -6 -c 2 -W 1 -i 0.5 "$VIP6"
	[ "$(stat_reason nd_in_dropped)" -ge 1 ] || fail "nd_in_dropped not counted: $(lvip stats --json)"

	peer ip -6 route add "$VIP6/128" via "$RS_ADDR6"
	run peer ping -6 -c 3 -W 1 -i 0.2 "$VIP6"
	assert_status 0
	grep -q '3 received' <<<"$output" || fail "ping $VIP6: not 3 of 3 answered: $output"
	run --separate-stderr lvip vip list --json
	json_assert "[(v['nd_dropped'] >= 1, v['packets'] >= 3) for v in d if v['address'] == '$VIP6'] == [(True, True)]" "$output"
}

# ---------------------------------------------------------------- ingress: ARP hardware type 6

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

@test "ARP request with hardware type 6 for a VIP: ingress alone (lvip's TC program removed) keeps the VIP silent" {
	# With lvip's TC egress program in place, a reply the kernel built
	# would be dropped there (it names the VIP as sender) and the wire
	# would not show whether XDP judged the request: take it away.
	protect_vip
	lvip_egress_remove veth0
	[ -z "$(tc_egress_ids "$RS" veth0)" ] || fail "a TC egress program is still on veth0"
	probe802
	json_assert "d['vip_replies'] == 0" "$PROBE" ||
		fail "the real server answered an hrd 6 ARP request for $VIP4: $PROBE"
}

# ---------------------------------------------------------------- egress

@test "on the wire, egress: gratuitous ARP for a VIP never leaves, 'tell VIP' is rewritten" {
	need_cmds tcpdump arping
	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4"
	assert_status 0
	egress_wire_check "$VIP4"
}

# ---------------------------------------------------------------- egress: PACKET_TX_RING

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

# ---------------------------------------------------------------- counters per interface

# ifslot_owner IFINDEX: the owner of IFINDEX's lvip_ifslot slot (CPU 0's
# copy; the loader writes the same owner on every CPU), as bpftool prints it.
ifslot_owner() {
	bpftool -j map dump pinned "$PIN/lvip_ifslot" | python3 -c '
import json, sys
slot = int(sys.argv[1]) % 256
for e in json.load(sys.stdin):
    f = e["formatted"]
    if f["key"] == slot:
        print(f["values"][0]["value"]["owner"])' "$1"
}

# iface_reason DEV NAME: DEV's counter NAME from lvip stats --json.
iface_reason() {
	lvip stats --json | json_eval "[i['reasons']['$2'] for i in d['interfaces'] if i['name'] == '$1'][0]"
}

@test "per-interface counters: two interfaces in one lvip_ifslot slot count apart; detach frees the slot" {
	local ix0 ix2 tx
	ix0=$(ifindex "$RS" veth0)
	ix2=$((ix0 + 256))
	# veth2 with an ifindex in veth0's slot (ifindex modulo 256)
	ip -n "$RS" link add veth2 index "$ix2" type veth peer name veth3 netns "$PEER"
	ip -n "$RS" addr add 198.18.2.11/24 dev veth2
	ip -n "$RS" link set veth2 up
	ip -n "$PEER" addr add 198.18.2.1/24 dev veth3
	ip -n "$PEER" link set veth3 up
	wait_until 5 link_has_carrier "$RS" veth2 || fail "veth2 never came up"

	run --separate-stderr lvip attach veth0 veth2
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4"
	assert_status 0
	assert_eq "$ix0" "$(ifslot_owner "$ix0")" "owner of the shared slot: the first attached"

	read -r tx _ < <(arp_probe "$VIP4" 3)
	assert_eq 3 "$tx" "ARP requests sent on veth1"
	peer timeout 20 arping -c 2 -w 2 -i veth3 "$VIP4" >/dev/null 2>&1 || true # no reply: exit 1
	assert_eq 3 "$(iface_reason veth0 arp_in_dropped)" "veth0 (owns the slot): arp_in_dropped"
	assert_eq 2 "$(iface_reason veth2 arp_in_dropped)" "veth2 (lvip_ifstats): arp_in_dropped"
	assert_eq 5 "$(stat_reason arp_in_dropped)" "global arp_in_dropped"

	run --separate-stderr lvip detach veth0
	assert_status 0
	assert_eq 0 "$(ifslot_owner "$ix0")" "owner of the slot after veth0 is detached"
	assert_eq 2 "$(iface_reason veth2 arp_in_dropped)" "veth2 after veth0 is detached"

	# attach again takes the free slot; the counters so far stay (summed)
	run --separate-stderr lvip attach veth2
	assert_status 0
	assert_eq "$ix2" "$(ifslot_owner "$ix2")" "owner of the slot after attach veth2 again"
	peer timeout 20 arping -c 1 -w 1 -i veth3 "$VIP4" >/dev/null 2>&1 || true # no reply: exit 1
	assert_eq 3 "$(iface_reason veth2 arp_in_dropped)" "veth2 after one more request"
}
