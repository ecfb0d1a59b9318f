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

@test "round trip: attach, vip add, list, status, stats, vip del, down" {
	local ifx xdp_id tc_id
	ifx=$(ifindex "$RS" veth0)

	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4" "$VIP6"
	assert_status 0

	lo_has "$RS" "$VIP4/32" || fail "$VIP4/32 not on lo: $(ip -n "$RS" -o addr show dev lo)"
	lo_has "$RS" "$VIP6/128" || fail "$VIP6/128 not on lo: $(ip -n "$RS" -o addr show dev lo)"
	ip -n "$RS" -o addr show dev lo | grep -F "$VIP4/32" | grep -q 'scope global' ||
		fail "$VIP4 on lo is not scope global"

	run --separate-stderr lvip vip list --json
	assert_status 0
	json_assert "isinstance(d, list) and len(d) == 2" "$output"
	json_assert "all(set($VIP_FIELDS) <= set(v) for v in d)" "$output"
	json_assert "sorted((v['address'], v['family']) for v in d) == [('$VIP4', 4), ('$VIP6', 6)]" "$output"
	json_assert "all(v['owner'] == 'lvip' and v['on_lo'] is True for v in d)" "$output"

	run --separate-stderr lvip status --json
	assert_status 0
	json_assert "d['loaded'] is True and d['vips'] == 2 and d['problems'] == []" "$output"
	json_assert "[i['name'] for i in d['interfaces']] == ['veth0']" "$output"
	json_assert "d['interfaces'][0]['ifindex'] == $ifx" "$output"
	json_assert "d['interfaces'][0]['xdp_prog_id'] > 0 and d['interfaces'][0]['tc_prog_id'] > 0" "$output"
	json_assert "d['interfaces'][0]['xdp_mode'] in ('native', 'generic')" "$output"
	xdp_id=$(json_eval "d['interfaces'][0]['xdp_prog_id']" <<<"$output")
	tc_id=$(json_eval "d['interfaces'][0]['tc_prog_id']" <<<"$output")
	assert_eq "$xdp_id" "$(xdp_prog_id "$RS" veth0)" "XDP program id on veth0 (ip link) vs status"
	tc_egress_ids "$RS" veth0 | grep -qx "$tc_id" ||
		fail "tc_prog_id $tc_id not among veth0's egress filters: $(rs tc filter show dev veth0 egress)"

	run --separate-stderr lvip stats --json
	assert_status 0
	json_assert "sorted(d['reasons']) == sorted($REASONS)" "$output"
	json_assert "all(isinstance(n, int) and n >= 0 for n in d['reasons'].values())" "$output"
	json_assert "sorted(v['address'] for v in d['vips']) == ['$VIP4', '$VIP6']" "$output"
	json_assert "[(i['name'], i['ifindex']) for i in d['interfaces']] == [('veth0', $ifx)]" "$output"
	json_assert "sorted(d['interfaces'][0]['reasons']) == sorted($REASONS)" "$output"

	run --separate-stderr lvip vip del "$VIP4" "$VIP6"
	assert_status 0
	if lo_has "$RS" "$VIP4/32" || lo_has "$RS" "$VIP6/128"; then
		fail "VIP still on lo after vip del: $(ip -n "$RS" -o addr show dev lo)"
	fi
	run --separate-stderr lvip vip list --json
	assert_status 0
	json_assert "d == []" "$output"

	run --separate-stderr lvip down
	assert_status 0
	[ ! -e "$PIN" ] || fail "pin dir $PIN still there after down: $(ls -la "$PIN")"
	if ip -n "$RS" -d link show dev veth0 | grep -q xdp; then
		fail "XDP still on veth0 after down: $(ip -n "$RS" -d link show dev veth0)"
	fi
	assert_eq 0 "$(xdp_prog_id "$RS" veth0)" "XDP program on veth0 after down"
	if tc_egress_ids "$RS" veth0 | grep -qx "$tc_id"; then
		fail "lvip's tc filter still on veth0 egress: $(rs tc filter show dev veth0 egress)"
	fi
	if rs tc filter show dev veth0 egress | grep -q lvip; then
		fail "an lvip tc filter still on veth0 egress: $(rs tc filter show dev veth0 egress)"
	fi

	run --separate-stderr lvip status --json
	assert_status 0
	json_assert "d['loaded'] is False and d['interfaces'] == []" "$output"
}

@test "idempotence: attach twice, vip add twice" {
	local xdp_id n
	run --separate-stderr lvip attach veth0
	assert_status 0
	xdp_id=$(xdp_prog_id "$RS" veth0)
	[ "$xdp_id" -gt 0 ] || fail "no XDP program after attach"
	run --separate-stderr lvip attach veth0
	assert_status 0
	assert_eq "$xdp_id" "$(xdp_prog_id "$RS" veth0)" "XDP program id after the second attach"
	n=$(tc_egress_ids "$RS" veth0 | wc -l)
	assert_eq 1 "$n" "egress tc filters on veth0 after two attaches"
	n=$(find "$PIN" -maxdepth 1 -name 'xdp_*' | wc -l)
	assert_eq 1 "$n" "xdp_* link pins after two attaches"

	run --separate-stderr lvip vip add "$VIP4" "$VIP6"
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4" "$VIP6"
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4/32" "$VIP6/128"
	assert_status 0
	# one address named twice, in other spellings: handled once
	run --separate-stderr lvip vip add 198.18.0.101 "$VIP6" 198.18.0.101/32 2001:DB8:0::100
	assert_status 0
	assert_eq 2 "${#lines[@]}" "lines of vip add with repeats: $output"
	assert_eq 1 "$(grep -c '^198.18.0.101: protected, added to lo$' <<<"$output")" "198.18.0.101 reported once: $output"
	run --separate-stderr lvip vip del 198.18.0.101 198.18.0.101
	assert_status 0
	assert_eq 1 "${#lines[@]}" "lines of vip del with a repeat: $output"
	assert_eq 1 "$(lo_count "$RS" "$VIP4/32")" "$VIP4/32 on lo"
	assert_eq 1 "$(lo_count "$RS" "$VIP6/128")" "$VIP6/128 on lo"

	run --separate-stderr lvip vip list --json
	assert_status 0
	json_assert "sorted(v['address'] for v in d) == ['$VIP4', '$VIP6']" "$output"
	json_assert "all(v['owner'] == 'lvip' for v in d)" "$output"
	run --separate-stderr lvip status --json
	json_assert "d['vips'] == 2 and len(d['interfaces']) == 1" "$output"
}

@test "adoption: a VIP already on lo is owner found, and stays on lo after vip del and down" {
	local a4=198.18.0.102 a6=2001:db8::102
	run --separate-stderr lvip attach veth0
	assert_status 0
	rs ip addr add "$a4/32" dev lo
	rs ip addr add "$a6/128" dev lo

	run --separate-stderr lvip vip add "$a4" "$a6"
	assert_status 0
	run --separate-stderr lvip vip list --json
	assert_status 0
	json_assert "sorted((v['address'], v['owner'], v['on_lo']) for v in d) == [('$a4', 'found', True), ('$a6', 'found', True)]" "$output"

	run --separate-stderr lvip vip del "$a4"
	assert_status 0
	lo_has "$RS" "$a4/32" || fail "vip del removed $a4, which the admin put on lo"
	[ -n "$stderr" ] || fail "vip del of a found VIP: no warning on stderr"
	grep -qi exposed <<<"$stderr" || fail "the warning does not say the VIP is exposed: $stderr"
	run --separate-stderr lvip vip list --json
	json_assert "[v['address'] for v in d] == ['$a6']" "$output"

	# down removes only lvip's own lo addresses
	run --separate-stderr lvip down
	assert_status 0
	lo_has "$RS" "$a4/32" || fail "down removed $a4 (found, not lvip's)"
	lo_has "$RS" "$a6/128" || fail "down removed $a6 (found, not lvip's)"
}

@test "foreign XDP program: attach refuses (exit 1) and changes nothing" {
	need_foreign
	local fid tc_before
	lvip_add_veth2
	rs ip link set dev veth0 xdpgeneric obj "$FOREIGN_OBJ" sec xdp
	fid=$(xdp_prog_id "$RS" veth0)
	[ "$fid" -gt 0 ] || fail "the foreign XDP program did not attach"
	tc_before=$(rs tc filter show dev veth0 egress)

	run --separate-stderr lvip attach veth0
	assert_status 1
	assert_one_line
	assert_eq "$fid" "$(xdp_prog_id "$RS" veth0)" "XDP program on veth0 after the refused attach"
	assert_eq "$tc_before" "$(rs tc filter show dev veth0 egress)" "veth0 egress filters after the refused attach"
	if compgen -G "$PIN/xdp_*" >/dev/null; then
		fail "an XDP link was pinned: $(ls -la "$PIN")"
	fi

	# A batch with a clean interface and the foreign one: nothing changed,
	# the clean one included.
	run --separate-stderr lvip attach veth2 veth0
	assert_status 1
	assert_one_line
	assert_eq "$fid" "$(xdp_prog_id "$RS" veth0)" "XDP program on veth0 after the refused batch"
	assert_eq 0 "$(xdp_prog_id "$RS" veth2)" "XDP program on veth2 after the refused batch"
	assert_eq "" "$(tc_egress_ids "$RS" veth2)" "veth2 egress filters after the refused batch"
	assert_eq "$tc_before" "$(rs tc filter show dev veth0 egress)" "veth0 egress filters after the refused batch"
	if compgen -G "$PIN/xdp_*" >/dev/null; then
		fail "an XDP link was pinned: $(ls -la "$PIN")"
	fi

	# With the foreign program gone, the same attach works.
	rs ip link set dev veth0 xdpgeneric off
	run --separate-stderr lvip attach veth0
	assert_status 0
	[ "$(xdp_prog_id "$RS" veth0)" -gt 0 ] || fail "no XDP program after attach"
}

@test "bad input: exit 2, one line on stderr, state byte-for-byte unchanged" {
	local -a cases=(
		"vip add 198.18.0.300"
		"vip add not-an-address"
		"vip add 198.18.0.103/24"
		"vip add 198.18.0.103/33"
		"vip add 198.18.0.103/"
		"vip add 2001:db8::103/64"
		"vip add 2001:db8::103/129"
		"vip add ::ffff:198.18.0.103"
		"vip add 224.0.0.1"
		"vip add ff02::1"
		"vip add 255.255.255.255"
		"vip add 0.0.0.0"
		"vip add ::"
		"vip add 127.0.0.2"
		"vip add ::1"
		"vip add 169.254.1.1"
		"vip add fe80::1"
		"vip add 198.18.0.103 224.0.0.1"
		"vip add 2001:db8::103 fe80::2"
		"vip add 198.18.0.103 2001:db8::103/64"
		"vip add"
		"vip add 198.18.0.103 --bogus"
		"vip del 198.18.0.100/24"
		"vip del 198.18.0.100 bogus"
		"vip del"
		"vip list --bogus"
		"vip frobnicate"
		"vip"
		"attach nosuchif0"
		"attach veth2 nosuchif0"
		"attach lo"
		"attach"
		"attach veth2 --mode turbo"
		"attach veth2 --mode"
		"attach veth2 --bogus"
		"attach veth2 --max-vips"
		"attach veth2 --max-vips abc"
		"detach nosuchif0"
		"stats --watch abc"
		"status --bogus"
		"frobnicate"
		"--pin-dir"
		"--bogus status"
	)
	local c before after problems="" n=0
	local -a argv
	lvip_add_veth2
	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4" "$VIP6"
	assert_status 0
	before=$(lvip_state_snapshot)

	for c in "${cases[@]}"; do
		read -r -a argv <<<"$c"
		n=$((n + 1))
		run --separate-stderr lvip "${argv[@]}"
		if [ "$status" -ne 2 ]; then
			problems+="lvip $c: exit $status, expected 2 (stderr: ${stderr:-<none>})"$'\n'
		elif [ "${#stderr_lines[@]}" -ne 1 ] || [ -z "${stderr_lines[0]}" ]; then
			problems+="lvip $c: ${#stderr_lines[@]} stderr lines, expected 1: ${stderr}"$'\n'
		fi
		after=$(lvip_state_snapshot)
		if [ "$after" != "$before" ]; then
			problems+="lvip $c: state changed:"$'\n'"$(diff <(echo "$before") <(echo "$after") || true)"$'\n'
			before=$after
		fi
	done
	[ "$n" -ge 20 ] || fail "only $n cases"
	[ -z "$problems" ] || fail "$problems"

	# Nothing was added by the batches: still exactly the two VIPs.
	run --separate-stderr lvip vip list --json
	json_assert "sorted(v['address'] for v in d) == ['$VIP4', '$VIP6']" "$output"
	if lo_has "$RS" 198.18.0.103/32; then
		fail "198.18.0.103 reached lo from a rejected batch"
	fi
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

@test "help and version: exit 0 on stdout, for lvip and every command" {
	local c
	run --separate-stderr "$LVIP" --version
	assert_status 0
	grep -q '[0-9]\.[0-9]' <<<"$output" || fail "--version prints no version: $output"
	run --separate-stderr "$LVIP" --help
	assert_status 0
	[ -n "$output" ] || fail "--help prints nothing on stdout"
	for c in attach detach vip stats status down; do
		run --separate-stderr "$LVIP" "$c" --help
		assert_status 0
		[ -n "$output" ] || fail "lvip $c --help prints nothing on stdout"
	done
}

@test "vip add before attach: exit 1, nothing on lo; LVIP_PIN_DIR is the default pin dir" {
	run --separate-stderr lvip vip add "$VIP4"
	assert_status 1
	assert_one_line
	if lo_has "$RS" "$VIP4/32"; then
		fail "$VIP4 put on lo although lvip is not loaded (unprotected)"
	fi

	run --separate-stderr timeout 60 ip netns exec "$RS" env LVIP_PIN_DIR="$PIN" "$LVIP" attach veth0
	assert_status 0
	[ -e "$PIN/lvip_vip4" ] || fail "LVIP_PIN_DIR ignored: nothing pinned in $PIN"
	run --separate-stderr lvip status --json
	json_assert "d['loaded'] is True and [i['name'] for i in d['interfaces']] == ['veth0']" "$output"
}

@test "vip del of an address that is not a VIP: nothing to do, exit 0; --no-lo and --keep-lo" {
	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip del 198.18.0.105
	assert_status 0

	run --separate-stderr lvip vip add --no-lo "$VIP4"
	assert_status 0
	if lo_has "$RS" "$VIP4/32"; then fail "--no-lo: $VIP4 put on lo"; fi
	run --separate-stderr lvip vip list --json
	json_assert "[(v['address'], v['on_lo']) for v in d] == [('$VIP4', False)]" "$output"
	run --separate-stderr lvip vip del "$VIP4"
	assert_status 0

	run --separate-stderr lvip vip add "$VIP4"
	assert_status 0
	run --separate-stderr lvip vip del --keep-lo "$VIP4"
	assert_status 0
	lo_has "$RS" "$VIP4/32" || fail "--keep-lo: $VIP4 removed from lo"
	run --separate-stderr lvip vip list --json
	json_assert "d == []" "$output"
}

@test "detach: removes lvip's XDP link and tc filter, leaves another egress filter alone" {
	local tc_id
	need_foreign
	lvip_add_veth2
	run --separate-stderr lvip attach veth0 veth2
	assert_status 0
	tc_id=$(tc_egress_ids "$RS" veth0)
	[ -n "$tc_id" ] || fail "no lvip egress filter on veth0"
	# somebody else's egress filter next to lvip's
	rs tc filter add dev veth0 egress pref 7 bpf da obj "$FOREIGN_OBJ" sec tc
	rs tc filter show dev veth0 egress | grep -q foreign_tc || fail "could not add the foreign filter"

	run --separate-stderr lvip detach veth0
	assert_status 0
	assert_eq 0 "$(xdp_prog_id "$RS" veth0)" "XDP program on veth0 after detach"
	if tc_egress_ids "$RS" veth0 | grep -qx "$tc_id"; then
		fail "lvip's filter still on veth0: $(rs tc filter show dev veth0 egress)"
	fi
	rs tc filter show dev veth0 egress | grep -q foreign_tc ||
		fail "detach removed somebody else's egress filter: $(rs tc filter show dev veth0 egress)"
	if [ -e "$PIN/xdp_$(ifindex "$RS" veth0)" ]; then fail "veth0's link pin left behind"; fi
	[ "$(xdp_prog_id "$RS" veth2)" -gt 0 ] || fail "detach veth0 detached veth2 too"

	run --separate-stderr lvip detach --all
	assert_status 0
	assert_eq 0 "$(xdp_prog_id "$RS" veth2)" "XDP program on veth2 after detach --all"
	assert_eq "" "$(tc_egress_ids "$RS" veth2)" "egress filters on veth2 after detach --all"
	run --separate-stderr lvip status --json
	json_assert "d['interfaces'] == []" "$output"
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
