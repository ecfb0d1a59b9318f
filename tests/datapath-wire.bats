#!/usr/bin/env bats
# tests/datapath-wire.bats - datapath cases that BPF_PROG_RUN cannot show,
# asserted on the wire between two namespaces (tests/lib/netns.bash):
#
#   RS   namespace: lo (the VIP), veth0 198.18.0.11/24, lvip attached
#   PEER namespace: veth1 198.18.0.1/24
#
#  - an ARP request with hardware type 6 (IEEE 802), which Linux answers
#    like hardware type 1, for a VIP (tests/lib/arpwire.py).
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
