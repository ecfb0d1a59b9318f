#!/usr/bin/env bats
# tests/upgrades.bats - upgrading lvip in place under traffic, and refusing
# pinned maps it cannot read: another layout, another ABI
# (lvip_meta.abi_version, docs/pins.md).
#
# Two builds with the same behaviour and different program tags: $LVIP
# (build/lvip) and $LVIP_VARIANT (build/variant/lvip, built with
# -DLVIP_TEST_VARIANT by `make test-bins`). `lvip attach` by the other build
# loads its programs against the pinned maps and switches the interface
# atomically (bpf_link_update for the XDP and tcx links, a replacing tc
# filter through clsact).
#
# Loop variables are not called i: bats 1.8's `run --separate-stderr` calls
# bats_version_lt, which assigns i without declaring it local.

bats_require_minimum_version 1.5.0

load lib/netns
load lib/assertions

VIP4=198.18.0.100

setup_file()    { lvip_env_check; lvip_tmp_setup; }
teardown_file() { lvip_tmp_teardown; }
setup() {
	lvip_env_require
	[ -x "$LVIP_VARIANT" ] || fail "$LVIP_VARIANT is not built (make test-bins)"
	lvip_netns_setup
}
teardown() { lvip_netns_teardown; }

# xdp_id_text / tc_id_text: program ids on veth0 without Python (per upgrade).
xdp_id_text() { ip -n "$RS" -d link show dev veth0 | grep -o 'prog/xdp id [0-9]*' | awk '{ print $3; exit }'; }
tc_id_text() { tc_egress_ids "$RS" veth0 | head -n 1; }
# link_id NAME: id of the link pinned as $PIN/NAME, or "none".
link_id() {
	if [ -e "$PIN/$1" ]; then bpftool -j link show pinned "$PIN/$1" | json_eval "d['id']"; else echo none; fi
}

# upgrade_under_traffic N [ATTACH_OPTION]: N in-place upgrades under
# traffic, lvip's egress program attached through tcx, or through clsact
# when the caller exported LVIP_FORCE_CLSACT=1; with --xdp-share, lvip's XDP
# program a component of libxdp's dispatcher (each upgrade puts in a new
# component, then takes the old one out).
upgrade_under_traffic() {
	local n=$1 share=${2-} dir=$BATS_TEST_TMPDIR up bin out link_before link_after tcx_before
	local tcpdump_pid peer_pid rs_pid ping_pid rs_mac ifx
	local -a xdp_ids=() tc_ids=()
	ifx=$(ifindex "$RS" veth0)
	rs_mac=$(ip -n "$RS" -j link show dev veth0 | json_eval "d[0]['address']")

	run --separate-stderr lvip attach ${share:+"$share"} veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4"
	assert_status 0
	peer ip route add "$VIP4/32" via "$RS_ADDR4"
	link_before=$(link_id "xdp_$ifx")
	tcx_before=$(link_id "tcx_$ifx")
	if [ -n "${LVIP_FORCE_CLSACT-}" ] || ! has_tcx; then
		assert_eq none "$tcx_before" "tcx link with LVIP_FORCE_CLSACT=1"
	else
		[ "$tcx_before" != none ] || fail "no tcx link pinned for veth0"
	fi

	# Capture on the peer's side of the wire: every ARP and ICMP frame.
	bg_start tcpdump_pid ip netns exec "$PEER" timeout 300 tcpdump -n -U -s 128 -i veth1 \
		-w "$dir/wire.pcap" 'arp or icmp' 2>"$dir/tcpdump.err"
	wait_until 10 grep -q 'listening on' "$dir/tcpdump.err" || fail "tcpdump did not start: $(cat "$dir/tcpdump.err")"

	# Traffic, each bounded in time and frames, stopped by $dir/stop:
	# ARP requests for the VIP from the peer (1 in 10 for the RS's own
	# address, answered), gratuitous ARP for the VIP sent by the RS itself
	# (TC egress must drop each), pings to the VIP in batches of 100.
	bg_start peer_pid ip netns exec "$PEER" python3 "$LVIP_LIB_DIR/arpflood.py" send --dev veth1 \
		--role peer --vip "$VIP4" --own "$PEER_ADDR4" --control "$RS_ADDR4" --stop "$dir/stop" \
		--pps 1000 --max-seconds 150 >"$dir/peer.json"
	bg_start rs_pid ip netns exec "$RS" python3 "$LVIP_LIB_DIR/arpflood.py" send --dev veth0 \
		--role rs --vip "$VIP4" --stop "$dir/stop" --pps 200 --max-seconds 150 >"$dir/rs.json"
	bg_start ping_pid bash -c '
		for (( k = 0; k < 150; k++ )); do
			[ -e "$1/stop" ] && break
			ip netns exec "$2" ping -n -q -c 100 -i 0.01 -W 2 "$3" >>"$1/ping.out" 2>&1
		done' _ "$dir" "$PEER" "$VIP4"
	wait_until 10 grep -q 'transmitted' "$dir/ping.out" || fail "ping did not start: $(cat "$dir/ping.out" 2>/dev/null)"

	lvip stats --json >"$dir/stats.0.json"
	for (( up = 1; up <= n; up++ )); do
		if (( up % 2 )); then bin=$LVIP_VARIANT; else bin=$LVIP; fi
		run --separate-stderr ip netns exec "$RS" "$bin" --pin-dir "$PIN" attach veth0
		if [ "$status" -ne 0 ] || [[ "$output" != *"upgraded the programs in place"* ]]; then
			touch "$dir/stop"
			fail "upgrade $up ($bin): exit $status, stdout: $output, stderr: $stderr"
		fi
		lvip stats --json >"$dir/stats.$up.json"
		xdp_ids+=("$(xdp_id_text)")
		tc_ids+=("$(tc_id_text)")
	done
	touch "$dir/stop"
	wait_until 30 bg_gone "$peer_pid" || fail "ARP flood (peer) did not stop"
	wait_until 30 bg_gone "$rs_pid" || fail "ARP sender (rs) did not stop"
	wait_until 30 bg_gone "$ping_pid" || fail "ping loop did not stop"
	wait "$peer_pid" "$rs_pid" "$ping_pid" 2>/dev/null
	sleep 0.5 # the last replies reach the capture (tcpdump -U writes each packet)
	bg_stop "$tcpdump_pid"
	link_after=$(link_id "xdp_$ifx")

	# The wire.
	out=$(python3 "$LVIP_LIB_DIR/arpflood.py" count "$dir/wire.pcap" --vip "$VIP4" --control "$RS_ADDR4" --rs-mac "$rs_mac")
	local sent tx rx leaked
	sent=$(json_eval "d['vip']" <"$dir/peer.json")
	tx=$(awk '/packets transmitted/ { t += $1 } END { print t + 0 }' "$dir/ping.out")
	rx=$(awk '/packets transmitted/ { r += $4 } END { print r + 0 }' "$dir/ping.out")
	leaked=$(json_eval "d['leaked']" <<<"$out")
	local path=${LVIP_FORCE_CLSACT:+clsact}
	[ -z "$share" ] || path="libxdp dispatcher, tcx"
	figure "upgrade under traffic (${path:-tcx}): $n upgrades (${LVIP#"$LVIP_REPO"/} <-> ${LVIP_VARIANT#"$LVIP_REPO"/}), $leaked ARP frames for the VIP leaked of $sent requests for it from the peer and $(json_eval "d['sent']" <"$dir/rs.json") announcements by the RS, $((tx - rx)) of $tx pings to the VIP lost, counters never reset"
	json_assert "d['leaked'] == 0" "$out"
	json_assert "d['requests_for_vip'] >= 0.9 * $sent and d['requests_for_vip'] > 0" "$out"
	json_assert "d['control_replies'] > 0" "$out"
	[ "$tx" -gt 0 ] || fail "no ping was sent: $(cat "$dir/ping.out")"
	assert_eq "$tx" "$rx" "pings to the VIP answered (of $tx sent)"

	# One XDP link and one tcx link (or filter) throughout (bpf_link_update,
	# a replacing filter), a new program each time.
	assert_eq "$link_before" "$link_after" "id of the pinned XDP link"
	assert_eq "$tcx_before" "$(link_id "tcx_$ifx")" "id of the pinned tcx link"
	for (( up = 1; up < n; up++ )); do
		[ "${xdp_ids[up]}" != "${xdp_ids[up - 1]}" ] || fail "XDP program id unchanged by upgrade $((up + 1)): ${xdp_ids[*]}"
		[ "${tc_ids[up]}" != "${tc_ids[up - 1]}" ] || fail "tc program id unchanged by upgrade $((up + 1)): ${tc_ids[*]}"
	done
	assert_eq 1 "$(tc_egress_ids "$RS" veth0 | wc -l)" "egress programs on veth0 after $n upgrades"
	if [ -n "$share" ]; then
		# one component of lvip's left, the one pinned, and status sees it
		run python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import lvip_state as s
print(" ".join(str(i) for n, i in s.xdp_components(sys.argv[2], "veth0") if n.startswith("lvip_xdp")))' \
			"$LVIP_LIB_DIR" "$RS"
		assert_eq "$(bpftool -j prog show pinned "$PIN/xdpshare_$ifx" | json_eval "d['id']")" "$output" \
			"lvip's components in the dispatcher after $n upgrades"
		lvip status --json | json_assert 'd["interfaces"][0]["xdp_mode"] == "libxdp" and not d["problems"]'
	fi

	# Counters: never decrease across upgrades, and grew with the traffic.
	python3 - "$dir" "$n" "$VIP4" <<-'EOF' || fail "counters went backwards or did not grow"
		import json, sys
		d, n, vip = sys.argv[1], int(sys.argv[2]), sys.argv[3]
		prev, first = None, None
		for i in range(n + 1):
		    s = json.load(open("%s/stats.%d.json" % (d, i)))
		    v = [x for x in s["vips"] if x["address"] == vip][0]
		    cur = dict(s["reasons"], vip_packets=v["packets"], vip_arp_dropped=v["arp_dropped"])
		    if prev:
		        back = [k for k in cur if cur[k] < prev[k]]
		        if back:
		            sys.exit("after upgrade %d: %s went backwards: %s -> %s" % (i, back, prev, cur))
		    first = first or cur
		    prev = cur
		for k in ("arp_in_dropped", "arp_out_dropped", "vip_rx", "vip_packets", "vip_arp_dropped"):
		    if prev[k] <= first[k]:
		        sys.exit("%s did not grow: %d -> %d" % (k, first[k], prev[k]))
		print("counters: %s -> %s" % (first, prev))
	EOF
	# Pins re-pinned by the upgrades keep mode 0600.
	run find "$PIN" -mindepth 1 ! -type d ! -perm 0600
	assert_eq "" "$output" "pins not 0600 after the upgrades"
}

@test "upgrade under traffic: ${LVIP_UPGRADES:-100} in-place upgrades leak 0 ARP replies and lose 0 pings, counters keep growing" {
	upgrade_under_traffic "${LVIP_UPGRADES:-100}"
}

@test "upgrade under traffic, egress through clsact (LVIP_FORCE_CLSACT=1): $(( (${LVIP_UPGRADES:-100} + 4) / 5 )) upgrades, the same checks" {
	export LVIP_FORCE_CLSACT=1
	upgrade_under_traffic "$(( (${LVIP_UPGRADES:-100} + 4) / 5 ))"
}

@test "upgrade under traffic, XDP shared through libxdp's dispatcher (attach --xdp-share): $(( (${LVIP_UPGRADES:-100} + 4) / 5 )) upgrades, the same checks, one lvip component left" {
	need_dispatcher
	upgrade_under_traffic "$(( (${LVIP_UPGRADES:-100} + 4) / 5 ))" --xdp-share
}

@test "a pinned VIP map with another layout is refused by attach: exit 1, says what to do, changes nothing" {
	local other=$BPFFS/other map_id before
	mkdir -m 0700 "$other"
	# What an older lvip might have left: lvip_vip4 with 16-byte values.
	bpftool map create "$other/lvip_vip4" type percpu_hash key 4 value 16 entries 16 name lvip_vip4 ||
		fail "bpftool map create failed"
	map_id=$(bpftool -j map show pinned "$other/lvip_vip4" | json_eval "d['id']")

	run --separate-stderr ip netns exec "$RS" "$LVIP" --pin-dir "$other" attach veth0
	assert_status 1
	assert_one_line
	assert_contains "$stderr" "lvip_vip4" "the message"
	assert_contains "$stderr" "layout" "the message"
	assert_contains "$stderr" "lvip down" "the message (what to do)"
	assert_eq 0 "$(xdp_prog_id "$RS" veth0)" "XDP on veth0 after the refusal"
	assert_eq "" "$(tc_egress_ids "$RS" veth0)" "egress filters on veth0 after the refusal"
	assert_eq "lvip_vip4" "$(ls "$other")" "pins in $other after the refusal"
	assert_eq "$map_id" "$(bpftool -j map show pinned "$other/lvip_vip4" | json_eval "d['id']")" "the pinned map"

	# The other commands refuse to read it too (never silently misread).
	run --separate-stderr ip netns exec "$RS" "$LVIP" --pin-dir "$other" vip add "$VIP4"
	assert_status 1
	assert_contains "$stderr" "layout" "vip add's message"
	run --separate-stderr ip netns exec "$RS" "$LVIP" --pin-dir "$other" vip list
	assert_status 1
	assert_contains "$stderr" "layout" "vip list's message"
	lo_has "$RS" "$VIP4/32" && fail "$VIP4 reached lo"
	rm -rf "$other"
	figure "another layout: a pinned lvip_vip4 with 16-byte values refused by attach, vip add, vip list (exit 1, one line: ${stderr#lvip: }); nothing attached or pinned"
}

@test "pinned maps of another ABI (lvip_meta.abi_version) are refused with a message that says what to do" {
	local before abi
	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4"
	assert_status 0
	abi=$("$LVIP" --version | grep -o 'ABI [0-9]*' | awk '{ print $2 }')
	# lvip_meta = { __u32 abi_version; __u32 max_vips; }: pretend ABI abi+1.
	bpftool map update pinned "$PIN/lvip_meta" key 0 0 0 0 \
		value $(( (abi + 1) & 255 )) 0 0 0 0 0 1 0 || fail "bpftool map update failed"
	before=$(lvip_state_snapshot)

	local c
	for c in "attach veth0" "vip add 198.18.0.101" "vip del $VIP4" "vip list" "stats" "status"; do
		run --separate-stderr lvip $c
		[ "$status" -eq 1 ] || fail "lvip $c with a foreign ABI: exit $status (expected 1): $output $stderr"
		assert_one_line
		assert_contains "$stderr" "ABI $((abi + 1))" "lvip $c's message"
		assert_contains "$stderr" "lvip down" "lvip $c's message (what to do)"
	done
	assert_state_unchanged "$before" "state after the refused commands"
	figure "another ABI: lvip_meta.abi_version $((abi + 1)) refused by attach, vip add/del/list, stats, status (exit 1, one line saying to run 'lvip down' with that version); state unchanged"
}
