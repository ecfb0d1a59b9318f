#!/usr/bin/env bats
# tests/lab.bats - lvip end to end in the LVS-DR lab (tests/lab/lab.bash): a
# client, a director holding the VIPs, two real servers with lvip attached to
# eth0 and the VIPs put on lo by `lvip vip add`, HTTP servers on both.
#
#  - ARP in: requests, probes and gratuitous ARP for the VIP answered only by
#    the director; each real server drops and counts every one;
#  - ARP out: announcements of the VIP never leave a real server; "who-has
#    gateway tell VIP" leaves with the real server's own address, also after
#    that address changes;
#  - IPv6: NS for the VIP (ordinary and DAD) answered only by the director;
#    NAs for it never leave a real server;
#  - HTTP over DR, IPv4 and IPv6, through the director to both real
#    servers, every packet for the VIP counted with its bytes;
#  - vip del / vip add while HTTP runs: no request fails.
#
# Every test asserts on the wire: frames captured on the switch's bridge
# (tcpdump in the switch namespace) and read back with tcpdump filters; the
# counters are checked against what the capture shows, exactly where the
# traffic is deterministic. One lab for the whole file. The same lab with
# lvip compared to the arp_ignore/arp_announce sysctls: differential.bats.

load lab/lab

setup_file() {
	lab_bats_setup_file lab || return 1
	[ -n "${LAB_TMP-}" ] || return 0
	lab_rs_protect rs1 && lab_rs_protect rs2 ||
		{ lab_teardown; lab_fail "lvip attach / vip add failed in the lab"; return 1; }
}

teardown_file() {
	lab_teardown
}

setup() {
	lab_bats_require
}

teardown() {
	cap_stop
	# undo what a failed test may have left changed
	if [ -n "${LAB_TMP-}" ] && [ -d "$LAB_TMP" ]; then
		if on rs1 ip -o addr show dev eth0 | grep -q ' 198.18.0.21/'; then
			on rs1 ip addr del 198.18.0.21/24 dev eth0 || true
			on rs1 ip addr add $RS1_4/24 dev eth0 || true
			on rs1 ip route replace default via $GW4 dev eth0 || true
		fi
		on client ip neigh del $VIP4 dev eth0 2>/dev/null || true
		on client ip -6 neigh del $VIP6 dev eth0 2>/dev/null || true
	fi
}

# ---------------------------------------------------------------- helpers

# snap: remember both RSs' counters (lvip stats --json).
snap() {
	S_rs1=$(lab_stats rs1)
	S_rs2=$(lab_stats rs2)
}
# delta RS: D[KEY] = the growth of every counter of RS since snap; KEY is a
# reason (arp_in_dropped), VIP/FIELD (198.18.0.100/packets) or IFACE:REASON.
delta() {
	local before="S_$1" k v
	declare -gA D=()
	while read -r k v; do D[$k]=$v; done < <(lab_delta "${!before}" "$(lab_stats "$1")")
}

# no_rs_arp_for_vip FILE: no ARP frame from an RS's MAC carries the VIP as
# sender, and no RS answers an ARP request for the VIP.
no_rs_arp_for_vip() {
	local r n
	for r in rs1 rs2; do
		n=$(pcap_count "$1" "arp and ether src $(rs_mac $r) and ($(arp_sender_is $VIP4) or $(arp_target_is $VIP4))")
		assert_eq 0 "$n" "ARP frames about $VIP4 sent by $r"
	done
}

# arp_in_case TAG ARPING-ARGS...: the client sends ARP frames for the VIP with
# arping ARGS; none is answered by an RS, each RS counts exactly the frames on
# the wire (globally, per VIP, per interface). Sets FRAMES.
arp_in_case() {
	local tag=$1 r
	shift
	on client ip neigh flush dev eth0
	snap
	cap_start "$tag"
	on client arping -i eth0 "$@" >/dev/null 2>&1 || true
	cap_stop
	FRAMES=$(pcap_count "$CAP_FILE" "arp and ether src $MAC_CLIENT and $(arp_target_is $VIP4)")
	[ "$FRAMES" -ge 1 ] || lab_fail "the client's ARP frames for the VIP are not on the wire"
	no_rs_arp_for_vip "$CAP_FILE"
	for r in rs1 rs2; do
		delta $r
		assert_eq "$FRAMES" "${D[arp_in_dropped]}" "$r arp_in_dropped growth"
		assert_eq "$FRAMES" "${D[$VIP4/arp_dropped]}" "$r arp_dropped of $VIP4 growth"
		assert_eq "$FRAMES" "${D[eth0:arp_in_dropped]}" "$r eth0 arp_in_dropped growth"
		assert_eq 0 "${D[malformed]}" "$r malformed growth"
	done
}

rs_resolved() { [ "$(lab_rs_neigh "$1" "$2")" = "$3" ]; }

# tell_case RS OWN: RS resolves its gateway from the VIP; the request leaves
# with sender OWN, never the VIP, is answered, and is counted as rewritten
# once per frame on the wire.
tell_case() {
	local r=$1 own=$2 n other
	snap
	cap_start "tell-$own"
	lab_from_vip "$r" $GW4
	lab_wait 3 rs_resolved "$r" $GW4 $MAC_CLIENT ||
		lab_fail "$r did not resolve $GW4 (has '$(lab_rs_neigh "$r" $GW4)')"
	cap_stop
	assert_eq 0 "$(pcap_count "$CAP_FILE" "arp and ether src $(rs_mac $r) and $(arp_sender_is $VIP4)")" \
		"ARP frames from $r with sender $VIP4"
	n=$(pcap_count "$CAP_FILE" "arp and $(arp_op 1) and ether src $(rs_mac $r) and $(arp_target_is $GW4) and $(arp_sender_is $own)")
	other=$(pcap_count "$CAP_FILE" "arp and $(arp_op 1) and ether src $(rs_mac $r) and $(arp_target_is $GW4) and not $(arp_sender_is $own)")
	[ "$n" -ge 1 ] || lab_fail "no \"who-has $GW4 tell $own\" from $r on the wire: $(pcap_show "$CAP_FILE" arp)"
	assert_eq 0 "$other" "requests for $GW4 from $r with another sender"
	[ "$(pcap_count "$CAP_FILE" "arp and $(arp_op 2) and ether src $MAC_CLIENT and ether dst $(rs_mac $r) and $(arp_sender_is $GW4)")" -ge 1 ] ||
		lab_fail "the gateway's reply to $r is not on the wire"
	delta "$r"
	assert_eq "$n" "${D[arp_out_rewritten]}" "$r arp_out_rewritten growth (frames on the wire: $n)"
}

# ---------------------------------------------------------------- ARP in

@test "ARP requests for the VIP from the client: only the director answers; each RS drops and counts every one" {
	arp_in_case arp-request -c 3 -W 0.05 -w 1 $VIP4
	assert_eq 3 "$FRAMES" "requests on the wire"
	assert_eq director "$(pcap_hosts "$CAP_FILE" "arp and $(arp_op 2) and $(arp_sender_is $VIP4)" src)" \
		"hosts answering ARP for $VIP4"
}

@test "ARP probes for the VIP (sender 0.0.0.0) from the client: no RS answers; each RS drops and counts every one" {
	arp_in_case arp-probe -0 -c 2 -W 0.05 -w 1 $VIP4
	assert_eq 2 "$(pcap_count "$CAP_FILE" "arp and $(arp_op 1) and ether src $MAC_CLIENT and $(arp_sender_is 0.0.0.0) and $(arp_target_is $VIP4)")" \
		"probes (sender 0.0.0.0) on the wire"
}

@test "gratuitous ARP for the VIP (sender = target = VIP) from the client: no RS answers; each RS drops and counts every one" {
	arp_in_case arp-garp -U -S $VIP4 -c 2 -W 0.05 -w 0.5 $VIP4
	assert_eq 2 "$(pcap_count "$CAP_FILE" "arp and $(arp_op 1) and ether src $MAC_CLIENT and $(arp_sender_is $VIP4) and $(arp_target_is $VIP4)")" \
		"gratuitous requests on the wire"
}

# ---------------------------------------------------------------- ARP out

@test "arping -U -S VIP on an RS (GARP request, GARP reply, a reply to the client): nothing with sender VIP leaves it" {
	snap
	cap_start rs-garp
	on rs1 arping -U -S $VIP4 -c 1 -w 0.2 -i eth0 $VIP4 >/dev/null 2>&1 || true
	on rs1 arping -U -P -S $VIP4 -c 1 -w 0.2 -i eth0 $VIP4 >/dev/null 2>&1 || true
	on rs1 arping -P -S $VIP4 -c 1 -w 0.2 -i eth0 $CLIENT4 >/dev/null 2>&1 || true
	cap_stop
	assert_eq 0 "$(pcap_count "$CAP_FILE" "arp and ether src $MAC_RS1")" "ARP frames from rs1"
	assert_eq 0 "$(pcap_count "$CAP_FILE" "arp and $(arp_sender_is $VIP4)")" "ARP frames with sender $VIP4"
	# the three frames reached rs1's egress and were dropped there
	delta rs1
	assert_eq 3 "${D[arp_out_dropped]}" "rs1 arp_out_dropped growth"
	assert_eq 3 "${D[eth0:arp_out_dropped]}" "rs1 eth0 arp_out_dropped growth"
	delta rs2
	assert_eq 0 "${D[arp_out_dropped]}" "rs2 arp_out_dropped growth"
}

@test "an RS resolving its gateway from the VIP: \"tell VIP\" leaves with the RS's own address, is answered, counted per frame" {
	tell_case rs1 $RS1_4
	tell_case rs2 $RS2_4
	assert_eq "$MAC_DIR" "$(lab_client_neigh $VIP4 | cut -d' ' -f1)" "the client's MAC for $VIP4"
}

@test "after the RS's interface address changes, the \"tell VIP\" rewrite uses the new address" {
	on rs1 ip addr del $RS1_4/24 dev eth0
	on rs1 ip addr add 198.18.0.21/24 dev eth0
	on rs1 ip route replace default via $GW4 dev eth0
	# kernels before 6.3 run lvip_tc_compat, whose addresses lvip refreshes
	# on its next command (README); 6.3 and later read them live.
	if [ "$(printf '%s\n' 6.3 "$(uname -r)" | sort -V | head -n1)" != 6.3 ]; then
		lab_lvip rs1 vip add $VIP4 >/dev/null
	fi
	tell_case rs1 198.18.0.21
	assert_eq 0 "$(pcap_count "$CAP_FILE" "arp and ether src $MAC_RS1 and $(arp_sender_is $RS1_4)")" \
		"requests from rs1 with its old address"
	on rs1 ip addr del 198.18.0.21/24 dev eth0
	on rs1 ip addr add $RS1_4/24 dev eth0
	on rs1 ip route replace default via $GW4 dev eth0
	tell_case rs1 $RS1_4
}

# ---------------------------------------------------------------- IPv6

@test "IPv6: NS for the VIP6 from the client (ordinary and DAD) is answered only by the director; each RS drops and counts them" {
	local r ns na out
	on client ip -6 neigh flush dev eth0
	snap
	cap_start nd-in
	on client ping -6 -c 1 -W 1 $VIP6 >/dev/null
	# DAD for the VIP6: source ::, to its solicited-node group
	out=$(lab_nd client ns $MAC_CLIENT 33:33:ff:00:01:00 :: ff02::1:ff00:100 $VIP6)
	assert_eq "sent 1 dropped 0" "$out" "the client's DAD NS"
	cap_stop
	ns="$(icmp6_type 135) and $(nd_target_is $VIP6)"
	na="$(icmp6_type 136) and $(nd_target_is $VIP6)"
	assert_eq 2 "$(pcap_count "$CAP_FILE" "$ns and ether src $MAC_CLIENT")" "NS for $VIP6 from the client (1 DAD)"
	assert_eq 1 "$(pcap_count "$CAP_FILE" "$ns and src host ::")" "DAD NS (source ::)"
	assert_eq director "$(pcap_hosts "$CAP_FILE" "$na" src)" "hosts advertising $VIP6"
	# the DAD NS was valid: its owner, the director, defended the address
	[ "$(pcap_count "$CAP_FILE" "$na and ether src $MAC_DIR and dst host ff02::1")" -ge 1 ] ||
		lab_fail "the director did not answer the DAD NS"
	for r in rs1 rs2; do
		delta $r
		assert_eq 2 "${D[nd_in_dropped]}" "$r nd_in_dropped growth"
		assert_eq 2 "${D[$VIP6/nd_dropped]}" "$r nd_dropped of $VIP6 growth"
	done
}

@test "IPv6: Neighbor Advertisements for the VIP6 sent on an RS (unsolicited and solicited) do not leave it" {
	local a b
	snap
	cap_start nd-out
	a=$(lab_nd rs1 na $MAC_RS1 33:33:00:00:00:01 $VIP6 ff02::1 $VIP6 O 2)
	b=$(lab_nd rs1 na $MAC_RS1 $MAC_CLIENT $VIP6 $CLIENT6 $VIP6 SO 1)
	# a control frame that is not about a VIP leaves (the crafting works)
	lab_nd rs1 na $MAC_RS1 $MAC_CLIENT $RS1_6 $CLIENT6 $RS1_6 SO 1 >/dev/null
	cap_stop
	assert_eq "sent 0 dropped 2/sent 0 dropped 1" "$a/$b" "NAs for $VIP6 refused at rs1's egress"
	assert_eq 1 "$(pcap_count "$CAP_FILE" "$(icmp6_type 136) and $(nd_target_is $RS1_6) and ether src $MAC_RS1")" \
		"the control NA for $RS1_6 on the wire"
	assert_eq 0 "$(pcap_count "$CAP_FILE" "$(icmp6_type 136) and $(nd_target_is $VIP6)")" "NA for $VIP6 on the wire"
	assert_eq 0 "$(pcap_count "$CAP_FILE" "ip6 and ether src $MAC_RS1 and src host $VIP6")" "frames from rs1 with source $VIP6"
	delta rs1
	assert_eq 3 "${D[nd_out_dropped]}" "rs1 nd_out_dropped growth"
}

# ---------------------------------------------------------------- HTTP over DR

# http_case FAMILY: 20 GETs to the VIP of FAMILY through the director.
http_case() {
	local fam=$1 vip res h1 h2 r wire d bytes req rep
	if [ "$fam" = 6 ]; then vip=$VIP6; else vip=$VIP4; fi
	req="tcp dst port 80 and dst host $vip"
	rep="tcp src port 80 and src host $vip"
	snap
	h1=$(lab_hits rs1); h2=$(lab_hits rs2)
	cap_start "http$fam"
	res=$(lab_http_many 20 "$fam")
	lab_quiet
	cap_stop
	# 20 sent, 20 answered, by both RSs, and each RS's server logged its own
	[[ $res == *failed=0 ]] || lab_fail "IPv$fam over DR: $res"
	[[ $res != *rs1=0* && $res != *rs2=0* ]] || lab_fail "IPv$fam: not spread over both RSs: $res"
	assert_eq "$res" "rs1=$(( $(lab_hits rs1) - h1 )) rs2=$(( $(lab_hits rs2) - h2 )) failed=0" \
		"answers seen by the client vs requests logged by the servers"
	# the path on the wire
	assert_eq director "$(pcap_hosts "$CAP_FILE" "$req and ether src $MAC_CLIENT" dst)" "client's requests go to"
	assert_eq "rs1 rs2" "$(pcap_hosts "$CAP_FILE" "$req and ether src $MAC_DIR" dst)" "director forwards to"
	assert_eq "rs1 rs2" "$(pcap_hosts "$CAP_FILE" "$rep" src)" "replies come from"
	assert_eq client "$(pcap_hosts "$CAP_FILE" "$rep" dst)" "replies go to"
	assert_eq 0 "$(pcap_count "$CAP_FILE" "tcp and ether src $MAC_DIR and src host $vip")" "frames from the director with source $vip"
	# every packet an RS got for the VIP is counted, with its bytes
	for r in rs1 rs2; do
		wire=$(pcap_count "$CAP_FILE" "ether dst $(rs_mac $r) and dst host $vip")
		bytes=$(pcap_ip_bytes "$CAP_FILE" "ether dst $(rs_mac $r) and dst host $vip")
		[ "$wire" -gt 0 ] || lab_fail "no frame for $vip to $r"
		delta $r
		assert_eq "$wire" "${D[vip_rx]}" "$r vip_rx growth vs frames on the wire"
		assert_eq "$wire" "${D[$vip/packets]}" "$r packets of $vip growth"
		assert_eq "$bytes" "${D[$vip/bytes]}" "$r bytes of $vip growth (IP bytes on the wire)"
	done
}

@test "HTTP over DR, IPv4: 20 requests through the director to both RSs, replies straight to the client, every packet counted" {
	http_case 4
}

@test "HTTP over DR, IPv6: 20 requests through the director to both RSs, replies straight to the client, every packet counted" {
	http_case 6
}

@test "N packets for the VIP at an RS's MAC: vip_rx and the VIP's packets grow by exactly N, bytes by N x IP length" {
	# the client sends straight to the RS, as the director would forward
	on client ip neigh replace $VIP4 lladdr $MAC_RS1 dev eth0 nud permanent
	on client ip -6 neigh replace $VIP6 lladdr $MAC_RS2 dev eth0 nud permanent
	snap
	cap_start exact
	on client ping -c 7 -i 0.01 -W 1 $VIP4 >/dev/null
	on client ping -6 -c 5 -i 0.01 -W 1 $VIP6 >/dev/null
	lab_quiet
	cap_stop
	on client ip neigh del $VIP4 dev eth0
	on client ip -6 neigh del $VIP6 dev eth0
	assert_eq 7 "$(pcap_count "$CAP_FILE" "icmp[icmptype] = icmp-echo and ether dst $MAC_RS1 and dst host $VIP4")" "echo requests to rs1 on the wire"
	assert_eq 7 "$(pcap_count "$CAP_FILE" "icmp[icmptype] = icmp-echoreply and ether src $MAC_RS1 and src host $VIP4 and ether dst $MAC_CLIENT")" "echo replies from rs1"
	delta rs1
	assert_eq 7 "${D[vip_rx]}" "rs1 vip_rx growth"
	assert_eq 7 "${D[$VIP4/packets]}" "rs1 packets of $VIP4"
	assert_eq $((7 * 84)) "${D[$VIP4/bytes]}" "rs1 bytes of $VIP4 (7 x 84)"
	assert_eq 0 "${D[$VIP6/packets]}" "rs1 packets of $VIP6"
	delta rs2
	assert_eq 5 "${D[vip_rx]}" "rs2 vip_rx growth"
	assert_eq 5 "${D[$VIP6/packets]}" "rs2 packets of $VIP6"
	assert_eq $((5 * 104)) "${D[$VIP6/bytes]}" "rs2 bytes of $VIP6 (5 x 104)"
	assert_eq 0 "${D[$VIP4/packets]}" "rs2 packets of $VIP4"
}

# ---------------------------------------------------------------- runtime changes

@test "vip del + vip add on both RSs, 5 times, while HTTP runs: 0 failed requests, the VIPs never answered by an RS" {
	local ap fl i ok=0 bad=0 body url t_end flap_end r
	cap_start flap
	# the client keeps asking ARP for the VIP: an RS answering would show
	lab_bg arping-flap "$LAB_TMP/arping-flap.log" client arping -c 60 -W 0.05 -w 6 -i eth0 $VIP4
	ap=$LAB_BG_PID
	(
		for (( i = 0; i < 5; i++ )); do
			for r in rs1 rs2; do
				on $r timeout 10 "$LVIP" --pin-dir "$LAB_BPFFS/$r" vip del $VIP4 $VIP6 || echo "FAIL del $r"
				on $r timeout 10 "$LVIP" --pin-dir "$LAB_BPFFS/$r" vip add $VIP4 $VIP6 || echo "FAIL add $r"
			done
		done
		date +%s%N >"$LAB_TMP/flap.end"
	) >"$LAB_TMP/flap.log" 2>&1 3>&- &
	fl=$!
	for (( i = 0; i < 30; i++ )); do
		for url in "http://$VIP4/" "http://[$VIP6]/"; do
			body=$(lab_curl "$url" 2>/dev/null) || body=""
			case $body in rs1|rs2) ok=$((ok + 1)) ;; *) bad=$((bad + 1)) ;; esac
		done
	done
	t_end=$(date +%s%N)
	wait "$fl" || true
	lab_stop "$ap" INT
	cap_stop
	flap_end=$(cat "$LAB_TMP/flap.end")
	assert_eq "" "$(grep FAIL "$LAB_TMP/flap.log" || true)" "lvip vip del/add failures"
	# one line per VIP: 2 VIPs x 2 RSs x 5
	assert_eq 20 "$(grep -c 'removed' "$LAB_TMP/flap.log")" "VIP removals"
	assert_eq 20 "$(grep -c 'added to lo' "$LAB_TMP/flap.log")" "VIP additions"
	[ "$flap_end" -lt "$t_end" ] || lab_fail "the VIP changes did not all happen while the HTTP requests ran"
	assert_eq "60 0" "$ok $bad" "HTTP requests answered / failed"
	no_rs_arp_for_vip "$CAP_FILE"
	assert_eq director "$(pcap_hosts "$CAP_FILE" "arp and $(arp_op 2) and $(arp_sender_is $VIP4)" src)" "hosts answering ARP for $VIP4"
	assert_eq 0 "$(pcap_count "$CAP_FILE" "$(icmp6_type 136) and $(nd_target_is $VIP6) and not ether src $MAC_DIR")" \
		"NA for $VIP6 not from the director"
	for r in rs1 rs2; do
		assert_eq '["198.18.0.100", "2001:db8::100"]' \
			"$(lab_lvip $r vip list --json | lab_json "sorted(v['address'] for v in d if v['on_lo'] and v['owner'] == 'lvip')")" \
			"VIPs on $r's lo, by lvip, afterwards"
	done
}
