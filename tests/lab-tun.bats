#!/usr/bin/env bats
# tests/lab-tun.bats - lvip on LVS-TUN real servers, end to end in the TUN lab
# (tests/lab/tun.bash): a client, a router, a director whose tc program
# (tests/lab/director.bpf.c) encapsulates like IPVS's tunnel mode, and two
# real servers in another subnet behind the router, each with lvip attached,
# the VIPs on lo and the tunnels decapsulated in XDP.
#
#  - the director fixture: every packet for a VIP comes back from it
#    encapsulated byte for byte as net/netfilter/ipvs/ip_vs_xmit.c would,
#    for ipip, gue and gre (with and without checksum), outer IPv4 and IPv6,
#    inner IPv4 and IPv6 (4-in-4, 6-in-6, 4-in-6, 6-in-4), judged by
#    tests/lab/tun_wire.py on a capture of the router's link to it, and
#    reaches the real servers;
#  - HTTP over each type and family pair, answered by the real servers
#    straight to the client (nothing from a VIP through the director),
#    counted as decapsulated per type;
#  - nobody learns a real server's MAC for the VIP: ARP and ND for the VIPs
#    on the real servers' subnet go unanswered;
#  - `lvip tunnel del` stops the decapsulation, `--peer` restricts it to the
#    listed directors (peer_refused counts the others).
#  - the MSS clamp (TC egress) on the wire, judged on the client's capture
#    by tests/lab/mss_wire.py: SYN-ACKs from the VIP with the clamped MSS
#    (fixed, and auto from the MTU), valid checksums, the client's segments
#    small enough for the tunnel, data segments intact.
#
# One lab for the whole file; the per type and family results are printed as
# TAP comments.

load lab/tun

TYPES="ipip gue gre"

setup_file() {
	# Without the director's object no lab is built: setup fails each test.
	if [ ! -r "$TUN_DIRECTOR_OBJ" ]; then
		export LAB_SKIP_REASON
		LAB_SKIP_REASON=$(lab_env_reason)
		return 0
	fi
	lab_bats_setup_file tun tun_build
}

teardown_file() {
	lab_teardown
}

setup() {
	[ -r "$TUN_DIRECTOR_OBJ" ] || {
		[ -n "${LAB_SKIP_REASON-}" ] || { lab_fail "$TUN_DIRECTOR_OBJ is not built (make test-bins)"; return 1; }
	}
	lab_bats_require
}

teardown() {
	tun_cap_stop
}

# ---------------------------------------------------------------- helpers

# tap_note LINE: a TAP comment in the bats output.
tap_note() { printf '# %s\n' "$*" >&3; }

# tun_stat RS TYPE FIELD: FIELD of struct lvip_tuncounters for TYPE, summed
# over CPUs, read from the pinned lvip_tunstats with plain bpftool.
tun_stat() {
	local k
	case $2 in ipip) k=0 ;; gue) k=1 ;; gre) k=2 ;; esac
	bpftool -j map lookup pinned "$LAB_BPFFS/$1/lvip_tunstats" key $k 0 0 0 | "$LAB_PY" -c '
import json, sys
e = json.load(sys.stdin)
e = e.get("formatted", e)
print(sum(int(v["value"][sys.argv[1]]) for v in e["values"]))' "$3"
}
# dir_sent TYPE: packets the director encapsulated with TYPE so far.
dir_sent() { tun_director_stats | awk -v t="$1" '$1 == t { n += $3 } END { print n + 0 }'; }
tun_stat_both() { echo $(( $(tun_stat rs1 "$1" "$2") + $(tun_stat rs2 "$1" "$2") )); }

# tun_lvip_ready: lvip on both real servers with the three tunnels (once).
tun_lvip_ready() {
	[ -e "$LAB_TMP/lvip-ready" ] && return 0
	local r
	for r in rs1 rs2; do
		tun_rs_protect $r $TYPES || { lab_fail "lvip attach / vip add / tunnel add failed on $r"; return 1; }
	done
	touch "$LAB_TMP/lvip-ready"
}

# http_ok "rs1=A rs2=B failed=C" N: A + B = N, C = 0.
http_ok() {
	local a b c
	read -r a b c <<<"$(sed -E 's/[a-z0-9]+=//g' <<<"$1")"
	[ "$c" = 0 ] && [ $((a + b)) -eq "$2" ]
}
http_none() {
	local a b c
	read -r a b c <<<"$(sed -E 's/[a-z0-9]+=//g' <<<"$1")"
	[ "$a" = 0 ] && [ "$b" = 0 ]
}

# ---------------------------------------------------------------- the director

@test "director fixture: every packet for a VIP comes back encapsulated as IPVS does (ipip, gue, gre x outer 4/6 x inner 4/6), and reaches the real servers" {
	local t o f out arrived pairs
	for t in $TYPES; do
		for o in 4 6; do
			tun_director $t $o
			tun_cap_start wire-$t-$o router d0
			tun_cap_start arrive1-$t-$o rs1 eth0
			tun_cap_start arrive2-$t-$o rs2 eth0
			for f in 4 6; do
				tun_ping $f 0x03 do    # CE: the outer gets ECT(0); DF copied
				tun_ping $f 0xb9 dont  # DSCP 46 + ECT(1); no DF: a random id
				# unanswered (no lvip yet): the SYN and its retransmission
				TUN_CONNECT_TIMEOUT=1.5 tun_curl $f >/dev/null 2>&1 || true
			done
			tun_cap_stop
			out=$(tun_wire_check "$LAB_TMP/wire-$t-$o.pcap" $t $o need=4,6) ||
				lab_fail "$t over IPv$o: $out" || return 1
			arrived=$(( $(pcap_count "$LAB_TMP/arrive1-$t-$o.pcap" "src host $(if [ $o = 6 ]; then echo $TUN_DIR6; else echo $TUN_DIR4; fi)") +
				$(pcap_count "$LAB_TMP/arrive2-$t-$o.pcap" "src host $(if [ $o = 6 ]; then echo $TUN_DIR6; else echo $TUN_DIR4; fi)") ))
			pairs=$(lab_json "d['pairs']" <<<"$out")
			# a retransmitted SYN: same real server, same UDP source port
			[ "$pairs" -gt "$(lab_json "d['flows']" <<<"$out")" ] ||
				lab_fail "$t over IPv$o: no flow with two packets: $out" || return 1
			assert_eq "$pairs" "$arrived" "$t over IPv$o: frames from the director at the real servers" || return 1
			tap_note "director $t outer IPv$o: $(lab_json "'%d packets (%d inner IPv4, %d inner IPv6, %d flows) as IPVS, %d at the real servers' % (d['pairs'], d['inner4'], d['inner6'], d['flows'], $arrived)" <<<"$out")"
		done
	done
	for o in 4 6; do
		tun_director gre $o gre_csum=1
		tun_cap_start wire-grec-$o router d0
		for f in 4 6; do tun_ping $f 0x03 do; tun_ping $f 0x02 dont; done
		tun_cap_stop
		out=$(tun_wire_check "$LAB_TMP/wire-grec-$o.pcap" gre $o gre_csum=1 need=4,6) ||
			lab_fail "gre with checksum over IPv$o: $out" || return 1
		tap_note "director gre+csum outer IPv$o: $(lab_json "'%d ICMP packets as IPVS' % d['pairs']" <<<"$out")"
	done
}

@test "director fixture: the byte checker names the field that differs from IPVS (wrong port, DF without pmtu_disc)" {
	tun_director gue 4
	tun_cap_start wire-neg router d0
	tun_ping 4 0x00 do
	tun_cap_stop
	run tun_wire_check "$LAB_TMP/wire-neg.pcap" gue 4 port=6081
	[ "$status" -eq 1 ] || lab_fail "a wrong port passed: $output" || return 1
	[[ $output == *'"udp.dest": {"sent": 6080, "ipvs": 6081}'* ]] || lab_fail "udp.dest not named: $output" || return 1
	run tun_wire_check "$LAB_TMP/wire-neg.pcap" gue 4 pmtu_disc=0
	[ "$status" -eq 1 ] || lab_fail "DF without pmtu_disc passed: $output" || return 1
	[[ $output == *'"ip.flags"'* ]] || lab_fail "ip.flags not named: $output"
}

# ---------------------------------------------------------------- lvip

@test "HTTP over ipip, gue and gre, IPv4 and IPv6 VIPs, every outer family: answered by the real servers straight to the client, counted as decapsulated" {
	local t o f res dec before after sent sent_before vip replies_dir reqs_dir from_rs total_ok=0 r1=0 r2=0
	tun_lvip_ready
	for t in $TYPES; do
		before=$(tun_stat_both $t decapsulated)
		sent_before=$(dir_sent $t)
		for o in 4 6; do
			tun_director $t $o
			for f in 4 6; do
				tun_cap_start dir-$t-$o-$f dir eth0
				tun_cap_start rtr-$t-$o-$f router br0
				res=$(tun_http 4 $f)
				tun_cap_stop
				tap_note "HTTP IPv$f VIP over $t in IPv$o: $res"
				http_ok "$res" 4 || lab_fail "$t, IPv$f VIP in IPv$o: $res" || return 1
				vip=$(tun_vip $f)
				replies_dir=$(pcap_count "$LAB_TMP/dir-$t-$o-$f.pcap" "src host $vip")
				reqs_dir=$(pcap_count "$LAB_TMP/dir-$t-$o-$f.pcap" "dst host $vip")
				assert_eq 0 "$replies_dir" "$t/$o/$f: packets from the VIP seen by the director" || return 1
				[ "$reqs_dir" -gt 0 ] || lab_fail "$t/$o/$f: the director saw no request" || return 1
				from_rs=$(pcap_count "$LAB_TMP/rtr-$t-$o-$f.pcap" "src host $vip and tcp src port 80 and (ether src $TUN_MAC_RS1 or ether src $TUN_MAC_RS2)")
				[ "$from_rs" -gt 0 ] || lab_fail "$t/$o/$f: no reply from a real server's MAC on the router" || return 1
				total_ok=$((total_ok + 4))
				r1=$((r1 + $(sed -E 's/rs1=([0-9]+).*/\1/' <<<"$res")))
				r2=$((r2 + $(sed -E 's/.*rs2=([0-9]+).*/\1/' <<<"$res")))
			done
		done
		after=$(tun_stat_both $t decapsulated)
		dec=$((after - before))
		sent=$(( $(dir_sent $t) - sent_before ))
		tap_note "$t: the director encapsulated $sent packets, the real servers decapsulated $dec (lvip_tunstats)"
		assert_eq "$sent" "$dec" "$t: packets decapsulated by the real servers vs encapsulated by the director" || return 1
	done
	for t in $TYPES; do
		assert_eq "$(tun_stat rs1 $t decapsulated)" "$(lab_lvip rs1 stats --json | lab_json "d['tunnels']['$t']['decapsulated']")" \
			"rs1 $t decapsulated: bpftool vs lvip stats --json" || return 1
	done
	tap_note "HTTP over TUN: $total_ok requests answered (rs1 $r1, rs2 $r2)"
	[ "$r1" -gt 0 ] && [ "$r2" -gt 0 ] || lab_fail "the director's hash used one real server only (rs1 $r1, rs2 $r2)"
}

@test "nobody learns a real server's MAC for the VIP: ARP and ND for the VIPs on the real servers' subnet go unanswered" {
	local out nsf naf a
	tun_lvip_ready
	tun_director ipip 4
	tun_http 2 4 >/dev/null
	tun_http 2 6 >/dev/null
	tun_cap_start arp-nd router br0
	out=$(on router arping -c 2 -W 0.2 -w 1 -i br0 $TUN_VIP4 2>&1) || true
	on router "$LAB_PY" "$LAB_DIR/nd.py" br0 ns $TUN_MAC_RR 33:33:ff:00:01:00 $TUN_RR6 ff02::1:ff00:100 $TUN_VIP6 - 2 >/dev/null
	tun_cap_stop
	assert_eq 0 "$(pcap_count "$CAP_FILE" "arp and $(arp_op 2) and $(arp_sender_is $TUN_VIP4)")" "ARP replies for $TUN_VIP4" || return 1
	[ "$(pcap_count "$CAP_FILE" "arp and $(arp_op 1) and $(arp_target_is $TUN_VIP4)")" -ge 2 ] ||
		lab_fail "the router's ARP requests are not on the wire" || return 1
	nsf="$(icmp6_type 135) and $(nd_target_is $TUN_VIP6)"
	naf="$(icmp6_type 136) and $(nd_target_is $TUN_VIP6)"
	[ "$(pcap_count "$CAP_FILE" "$nsf")" -ge 2 ] || lab_fail "the NS are not on the wire" || return 1
	assert_eq 0 "$(pcap_count "$CAP_FILE" "$naf")" "NAs for $TUN_VIP6" || return 1
	for a in $TUN_VIP4 $TUN_VIP6; do
		on router ip neigh show "$a" | grep -qi -e "$TUN_MAC_RS1" -e "$TUN_MAC_RS2" &&
			{ lab_fail "the router has a real server's MAC for $a"; return 1; }
		on client ip neigh show "$a" | grep -qi -e "$TUN_MAC_RS1" -e "$TUN_MAC_RS2" &&
			{ lab_fail "the client has a real server's MAC for $a"; return 1; }
	done
	tap_note "ARP/ND for the VIPs from the router: $(pcap_count "$CAP_FILE" "arp and $(arp_op 1)") requests, $(pcap_count "$CAP_FILE" "$nsf") NS, no answer"
}

@test "lvip tunnel del TYPE: requests tunnelled with TYPE fail (no kernel tunnel here), the other types still work; tunnel add brings it back" {
	local r res
	tun_lvip_ready
	for r in rs1 rs2; do lab_lvip $r tunnel del gue >/dev/null || lab_fail "tunnel del gue on $r" || return 1; done
	tun_director gue 4
	res=$(TUN_CONNECT_TIMEOUT=1 tun_http 2 4)
	tap_note "gue deleted: $res"
	http_none "$res" || lab_fail "gue still answered after tunnel del: $res" || return 1
	tun_director ipip 4
	res=$(tun_http 2 4)
	http_ok "$res" 2 || lab_fail "ipip with gue deleted: $res" || return 1
	for r in rs1 rs2; do lab_lvip $r tunnel add gue --port $TUN_GUE_PORT >/dev/null || return 1; done
	tun_director gue 4
	res=$(tun_http 2 4)
	http_ok "$res" 2 || lab_fail "gue added back: $res"
}

@test "lvip tunnel add --peer: only the listed director is decapsulated; from another, requests fail and peer_refused counts them" {
	local r res res6 before after
	tun_lvip_ready
	for r in rs1 rs2; do
		lab_lvip $r tunnel del gre >/dev/null &&
		lab_lvip $r tunnel add gre --peer 198.18.1.99 --peer 2001:db8:1::99 >/dev/null ||
			lab_fail "tunnel add gre --peer on $r" || return 1
	done
	before=$(tun_stat_both gre peer_refused)
	tun_director gre 4
	res=$(TUN_CONNECT_TIMEOUT=1 tun_http 2 4)
	tun_director gre 6
	res6=$(TUN_CONNECT_TIMEOUT=1 tun_http 2 6)
	after=$(tun_stat_both gre peer_refused)
	tap_note "gre, peers 198.18.1.99 2001:db8:1::99: IPv4 $res, IPv6 $res6, peer_refused +$((after - before))"
	http_none "$res" && http_none "$res6" || lab_fail "decapsulated from a director that is not a peer: $res / $res6" || return 1
	[ $((after - before)) -ge 4 ] || lab_fail "peer_refused grew by $((after - before))" || return 1
	for r in rs1 rs2; do
		lab_lvip $r tunnel del gre >/dev/null &&
		lab_lvip $r tunnel add gre --peer $TUN_DIR4 --peer $TUN_DIR6 >/dev/null || return 1
	done
	res=$(tun_http 2 6)
	http_ok "$res" 2 || lab_fail "gre from the listed peer: $res"
}

# ---------------------------------------------------------------- MSS clamp on the wire

MSS_BYTES=40000	# each way, in the clamp tests: about 30 full segments

mss_wire() { "$LAB_PY" "$LAB_DIR/mss_wire.py" "$@"; }

# mss_clamps_off RS: every type decapsulated again with no clamp and no peer.
mss_clamps_off() {
	lab_lvip "$1" tunnel add ipip >/dev/null &&
	lab_lvip "$1" tunnel add gue --port $TUN_GUE_PORT >/dev/null &&
	lab_lvip "$1" tunnel add gre >/dev/null
}

# mss_offloads on|off: rs1's eth0 checksums in software (off) so that the
# checksum on the wire is complete, computed after TC egress; the client's
# eth0 segments in software (off) so that one captured frame is one segment.
mss_offloads() {
	on rs1 "$LAB_PY" "$LAB_DIR/mss_wire.py" offload eth0 txcsum "$1" &&
	on client "$LAB_PY" "$LAB_DIR/mss_wire.py" offload eth0 tso "$1" &&
	on client "$LAB_PY" "$LAB_DIR/mss_wire.py" offload eth0 gso "$1"
}

# mss_url FAMILY: the VIP's base URL.
mss_url() { if [ "$1" = 6 ]; then echo "http://[$TUN_VIP6]"; else echo "http://$TUN_VIP4"; fi; }
mss_curl() { on client curl -sS --noproxy '*' --connect-timeout 3 "$@"; }

# mss_get FAMILY: GET $MSS_BYTES bytes from the VIP; they arrive whole.
mss_get() {
	local want got
	want=$(mss_wire pattern $MSS_BYTES sha)
	got=$(mss_curl --max-time 5 "$(mss_url "$1")/bytes/$MSS_BYTES" | sha256sum)
	[ "${got%% *}" = "$want" ] || lab_fail "GET of $MSS_BYTES bytes over IPv$1: sha256 ${got%% *}"
}

# mss_post FAMILY SECONDS: POST $MSS_BYTES bytes to the VIP within SECONDS;
# succeeds when the real server got them whole.
mss_post() {
	local got
	got=$(mss_wire pattern $MSS_BYTES | mss_curl --max-time "$2" -H 'Expect:' --data-binary @- "$(mss_url "$1")/echo" 2>/dev/null)
	[ "$got" = "rs1 $MSS_BYTES $(mss_wire pattern $MSS_BYTES sha)" ]
}

# mss_of JSON FAMILY: the MSS options of the SYN-ACKs from VIP:80 to a
# client port below 40000 (the kernel's; the crafted ones use 4000x).
mss_of() {
	lab_json "' '.join(str(s['mss']) for s in d['$2']['synacks'] if s['dport'] < 40000 or s['dport'] > 40009)" <<<"$1"
}
# mss_csum_ok JSON FAMILY: every segment from VIP:80 but the crafted bad
# ones (ports 40002, 40004) has a valid TCP checksum, the SYN-ACKs included.
mss_csum_ok() {
	[ "$(lab_json "sum(not s['csum_ok'] for s in d['$2']['synacks'] if s['dport'] not in (40002, 40004)) + d['$2']['bad_csum']" <<<"$1")" = 0 ]
}
# mss_rst_seen PCAP N: the client sent RSTs to VIP:80 from N distinct ports.
mss_rst_seen() {
	[ "$(mss_wire decode "$1" $TUN_VIP4 $TUN_VIP6 |
		lab_json "len(set(d['4']['client_rst_ports'] + d['6']['client_rst_ports']) & {40001, 40003})")" -ge "$2" ]
}

@test "MSS clamp on the wire, --mss 1200: the real server's SYN-ACKs from the VIP carry 1200 instead of its own 1460/1440, checksums right, the client's segments fit, data segments untouched (IPv4 and IPv6 VIPs)" {
	local out f mss maxp r
	tun_lvip_ready
	mss_clamps_off rs1 || lab_fail "tunnel add on rs1" || return 1
	mss_offloads off || lab_fail "cannot switch the veth offloads off" || return 1
	tun_director ipip 4 rs=rs1

	# without a clamp the client's full-size segments cannot be encapsulated
	# (1500 + 20 > the director's MTU) and this director sends no ICMP: the
	# upload never completes (a PMTU black hole), the download does.
	tun_cap_start mss-control client eth0
	for f in 4 6; do
		mss_get $f || return 1
		! mss_post $f 2 || lab_fail "IPv$f: the upload went through without a clamp" || return 1
	done
	tun_cap_stop
	out=$(mss_wire decode "$LAB_TMP/mss-control.pcap" $TUN_VIP4 $TUN_VIP6)
	for f in 4 6; do
		mss=$(mss_of "$out" $f)
		maxp=$(lab_json "d['$f']['client_max_payload']" <<<"$out")
		tap_note "no clamp, IPv$f VIP: SYN-ACK MSS $mss, largest client segment $maxp bytes (the upload times out)"
		assert_eq "$((f == 4 ? 1460 : 1440)) $((f == 4 ? 1460 : 1440))" "$mss" "IPv$f SYN-ACK MSS without a clamp (GET, POST)" || return 1
		[ "$maxp" -gt 1200 ] || lab_fail "IPv$f: without a clamp the client's segments are $maxp bytes at most" || return 1
		mss_csum_ok "$out" $f || lab_fail "IPv$f, no clamp: a bad checksum: $out" || return 1
	done

	lab_lvip rs1 tunnel add ipip --mss 1200 >/dev/null || lab_fail "tunnel add ipip --mss 1200" || return 1
	tun_cap_start mss-1200 client eth0
	for f in 4 6; do
		mss_get $f || return 1
		mss_post $f 5 || lab_fail "IPv$f: the upload failed with the clamp" || return 1
	done
	# crafted SYN-ACKs with a complete checksum at TC egress (the kernel's
	# own are CHECKSUM_PARTIAL): lvip's incremental fix itself is judged,
	# by this decoder and by the client's kernel, which answers a SYN-ACK
	# for no connection with a RST only when its checksum is right.
	on rs1 "$LAB_PY" "$LAB_DIR/mss_wire.py" synack $TUN_VIP4 $TUN_CLIENT4 40002 1460 bad &&
	on rs1 "$LAB_PY" "$LAB_DIR/mss_wire.py" synack $TUN_VIP4 $TUN_CLIENT4 40001 1460 good &&
	on rs1 "$LAB_PY" "$LAB_DIR/mss_wire.py" synack $TUN_VIP6 $TUN_CLIENT6 40004 1460 bad &&
	on rs1 "$LAB_PY" "$LAB_DIR/mss_wire.py" synack $TUN_VIP6 $TUN_CLIENT6 40003 1460 good ||
		lab_fail "cannot send the crafted SYN-ACKs" || return 1
	lab_wait 3 mss_rst_seen "$LAB_TMP/mss-1200.pcap" 2
	tun_cap_stop
	out=$(mss_wire decode "$LAB_TMP/mss-1200.pcap" $TUN_VIP4 $TUN_VIP6)
	for f in 4 6; do
		mss=$(mss_of "$out" $f)
		maxp=$(lab_json "d['$f']['client_max_payload']" <<<"$out")
		tap_note "--mss 1200, IPv$f VIP: SYN-ACK MSS $mss, largest client segment $maxp bytes, $(lab_json "'%d data segments from the VIP (%d bytes), %d bad checksums' % (d['$f']['data_segments'], d['$f']['data_bytes'], d['$f']['bad_csum'])" <<<"$out")"
		assert_eq "1200 1200" "$mss" "IPv$f SYN-ACK MSS with --mss 1200 (GET, POST)" || return 1
		[ "$maxp" -le 1200 ] && [ "$maxp" -gt 1000 ] || lab_fail "IPv$f: the client's segments reach $maxp bytes" || return 1
		mss_csum_ok "$out" $f || lab_fail "IPv$f, --mss 1200: a bad checksum: $out" || return 1
		[ "$(lab_json "d['$f']['data_bytes']" <<<"$out")" -ge $MSS_BYTES ] || lab_fail "IPv$f: data from the VIP missing: $out" || return 1
	done
	r=$(lab_json "[(f, s['dport'], s['mss'], s['csum_ok'], s['dport'] in d[f]['client_rst_ports']) for f in ('4', '6') for s in d[f]['synacks'] if 40000 < s['dport'] < 40005]" <<<"$out")
	tap_note "crafted SYN-ACKs (family, port, MSS on the wire, checksum valid, client RST): $r"
	assert_eq '[["4", 40002, 1200, false, false], ["4", 40001, 1200, true, true], ["6", 40004, 1200, false, false], ["6", 40003, 1200, true, true]]' "$r" \
		"crafted SYN-ACKs, MSS 1460 sent" || return 1
	mss_clamps_off rs1
	mss_offloads on
}

@test "MSS clamp on the wire, --mss auto (gue): the SYN-ACKs carry MTU - 40/60 - 52, and a smaller MTU on the real server's eth0 lowers them" {
	local out f mtu res got want
	tun_lvip_ready
	mss_clamps_off rs1 || return 1
	lab_lvip rs1 tunnel add gue --port $TUN_GUE_PORT --mss auto >/dev/null || lab_fail "tunnel add gue --mss auto" || return 1
	tun_director gue 4 rs=rs1
	for mtu in 1500 1400; do
		on rs1 ip link set eth0 mtu $mtu || return 1
		tun_cap_start mss-auto-$mtu client eth0
		res="$(tun_http 1 4) $(tun_http 1 6)"
		tun_cap_stop
		[ "$res" = "rs1=1 rs2=0 failed=0 rs1=1 rs2=0 failed=0" ] || lab_fail "MTU $mtu: HTTP $res" || return 1
		out=$(mss_wire decode "$LAB_TMP/mss-auto-$mtu.pcap" $TUN_VIP4 $TUN_VIP6)
		for f in 4 6; do
			got=$(mss_of "$out" $f)
			want=$((mtu - (f == 4 ? 40 : 60) - 52))
			tap_note "--mss auto, gue, eth0 MTU $mtu, IPv$f VIP: SYN-ACK MSS $got (MTU - $((f == 4 ? 40 : 60)) - 52 = $want)"
			assert_eq "$want" "$got" "IPv$f SYN-ACK MSS, gue auto, MTU $mtu" || return 1
		done
	done
	on rs1 ip link set eth0 mtu 1500
	mss_clamps_off rs1
}

@test "the kernel's own LVS-TUN path (IPVS director, ipip) against lvip's decapsulation" {
	local why res4 res6 out
	why=$(tun_kernel_path_reason)
	if [ -n "$why" ]; then
		tap_note "kernel path not runnable here: $why"
		skip "kernel refuses: $why"
	fi
	tun_lvip_ready
	# IPVS in the director namespace instead of the tc fixture: the VIPs on
	# its lo, a virtual service per VIP, both real servers in tunnel mode.
	on dir tc filter del dev eth0 ingress pref 1
	on dir ip addr add $TUN_VIP4/32 dev lo
	on dir ip addr add $TUN_VIP6/128 dev lo
	on dir ipvsadm -A -t $TUN_VIP4:80 -s rr &&
	on dir ipvsadm -a -t $TUN_VIP4:80 -r $TUN_RS1_4 -i &&
	on dir ipvsadm -a -t $TUN_VIP4:80 -r $TUN_RS2_4 -i &&
	on dir ipvsadm -A -t "[$TUN_VIP6]:80" -s rr &&
	on dir ipvsadm -a -t "[$TUN_VIP6]:80" -r "[$TUN_RS1_6]" -i &&
	on dir ipvsadm -a -t "[$TUN_VIP6]:80" -r "[$TUN_RS2_6]" -i || lab_fail "ipvsadm" || return 1
	tun_cap_start kernel-4 router d0
	res4=$(tun_http 4 4)
	tun_cap_stop
	tun_cap_start kernel-6 router d0
	res6=$(tun_http 4 6)
	tun_cap_stop
	tap_note "IPVS director: IPv4 $res4, IPv6 $res6"
	http_ok "$res4" 4 && http_ok "$res6" 4 || lab_fail "IPVS + lvip: $res4 / $res6" || return 1
	# the byte checker's model of IPVS against IPVS itself
	out=$(tun_wire_check "$LAB_TMP/kernel-4.pcap" ipip 4 need=4) || lab_fail "IPVS, IPv4: $out" || return 1
	out=$(tun_wire_check "$LAB_TMP/kernel-6.pcap" ipip 6 need=6) || lab_fail "IPVS, IPv6: $out"
}
