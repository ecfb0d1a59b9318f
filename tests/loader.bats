#!/usr/bin/env bats
# tests/loader.bats - the lvip CLI against docs/cli.md and docs/pins.md,
# end to end: real namespaces, a veth pair, a private bpffs, the real kernel.
#
#   RS   namespace: lo, veth0 198.18.0.11/24 2001:db8::11/64 (the real server)
#   PEER namespace: lo, veth1 198.18.0.1/24  2001:db8::1/64  (a neighbour)
#
# Each test gets fresh namespaces and an empty pin dir; the root network
# namespace is never touched. LVIP (default: build/lvip of this tree) is run
# as: ip netns exec $RS $LVIP --pin-dir $BPFFS/lvip ...
# Without root/BPF the tests skip, or fail when LVIP_REQUIRE_BPF=1.

bats_require_minimum_version 1.5.0

load lib/netns
load lib/assertions

VIP4=198.18.0.100
VIP6=2001:db8::100
REASONS='["arp_in_dropped", "arp_out_dropped", "arp_out_rewritten", "nd_in_dropped", "nd_out_dropped", "vip_rx", "malformed"]'
VIP_FIELDS='["address", "family", "on_lo", "owner", "packets", "bytes", "arp_dropped", "nd_dropped"]'

setup_file() {
	lvip_env_check
	lvip_tmp_setup || return 1
	foreign_fixture_build
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

# ---------------------------------------------------------------- tests

@test "negative control: without lvip the real server answers ARP for a VIP on lo" {
	rs ip addr add "$VIP4/32" dev lo
	read -r tx rx < <(arp_probe "$VIP4" 3)
	[ "$tx" -ge 1 ] || fail "arping sent nothing (tx=$tx)"
	[ "$rx" -ge 1 ] || fail "no ARP reply for $VIP4 on lo without lvip: this test setup cannot see the problem lvip solves"
}

@test "pin permissions: dir 0700, every pin 0600, every contract pin present" {
	local ifx p mode bad=""
	ifx=$(ifindex "$RS" veth0)
	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4" "$VIP6"
	assert_status 0

	assert_eq 700 "$(stat -c %a "$PIN")" "mode of the pin dir"
	for p in lvip_vip4 lvip_vip6 lvip_stats lvip_ifstats lvip_ifslot lvip_ifaddr lvip_meta lvip_xdp lvip_tc "xdp_$ifx"; do
		[ -e "$PIN/$p" ] || bad+="missing pin $p"$'\n'
	done
	while IFS= read -r -d '' p; do
		mode=$(stat -c %a "$p")
		if [ -d "$p" ]; then
			[ "$mode" = 700 ] || bad+="$p: directory mode $mode, expected 700"$'\n'
		else
			[ "$mode" = 600 ] || bad+="$p: mode $mode, expected 600"$'\n'
		fi
	done < <(find "$PIN" -mindepth 1 -print0)
	[ -z "$bad" ] || fail "$bad$(ls -laR "$PIN")"

	# The maps carry BTF: bpftool prints named fields.
	bpftool map dump pinned "$PIN/lvip_stats" | grep -q '"arp_in_dropped"' ||
		fail "bpftool map dump of lvip_stats shows no named fields"
}

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

@test "on the wire, egress: gratuitous ARP for a VIP never leaves, 'tell VIP' is rewritten" {
	local tcpdump_pid cap=$BATS_TEST_TMPDIR/arp.pcap err=$BATS_TEST_TMPDIR/tcpdump.err text
	command -v tcpdump >/dev/null || skip "tcpdump not installed"
	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4"
	assert_status 0

	bg_start tcpdump_pid ip netns exec "$PEER" timeout 60 tcpdump -n -U -i veth1 -w "$cap" arp 2>"$err"
	wait_until 10 grep -q 'listening on' "$err" || fail "tcpdump did not start: $(cat "$err")"

	# Unsolicited ARP (request, then reply) announcing the VIP: dropped on
	# egress (arping sees ENOBUFS and gives up; its status is not the point).
	run rs arping -c 1 -w 1 -U -S "$VIP4" -i veth0 "$VIP4"
	run rs arping -c 1 -w 1 -U -P -S "$VIP4" -i veth0 "$VIP4"
	# "who-has peer tell VIP": leaves with the real server's own address.
	rs ip neigh flush dev veth0
	run rs arping -c 1 -w 2 -S "$VIP4" -i veth0 "$PEER_ADDR4"
	assert_status 0

	wait_until 5 test -s "$cap" || true
	bg_stop "$tcpdump_pid"
	text=$(tcpdump -n -r "$cap" 2>/dev/null)
	if grep -F "$VIP4" <<<"$text"; then
		fail "ARP naming the VIP left the real server:"$'\n'"$text"
	fi
	grep -q "who-has $PEER_ADDR4 tell $RS_ADDR4" <<<"$text" ||
		fail "no rewritten request 'who-has $PEER_ADDR4 tell $RS_ADDR4' on the wire:"$'\n'"$text"
	[ "$(stat_reason arp_out_dropped)" -ge 2 ] || fail "arp_out_dropped < 2: $(lvip stats --json)"
	[ "$(stat_reason arp_out_rewritten)" -ge 1 ] || fail "arp_out_rewritten < 1: $(lvip stats --json)"
}

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
