#!/usr/bin/env bats
# Operations: lvip apply (plan, dry run, all-or-nothing, config errors),
# lvip watch (globs, interfaces appearing, VIPs restored) and lvip check
# (each exposed finding constructed, clean state exits 0). Each test gets
# fresh namespaces and pin dir; nothing touches the root network namespace.

load lib/netns

setup_file()    { lvip_env_check; lvip_tmp_setup; }
teardown_file() { lvip_tmp_teardown; }
setup() {
	lvip_env_require
	lvip_netns_setup
	CONF=$LVIP_T_TMP/lvip-$BATS_TEST_NUMBER.conf
	WATCH_PID=
}
teardown() {
	if [ -n "${WATCH_PID-}" ]; then
		kill "$WATCH_PID" 2>/dev/null
		wait "$WATCH_PID" 2>/dev/null
	fi
	lvip_netns_teardown
}

conf() { printf '%s\n' "$@" > "$CONF"; }

attached() { # IFACE: lvip's XDP and TC programs are on it
	lvip status --json | json_assert "any(i['name'] == '$1' and i['xdp_prog_id'] > 0 and i['tc_prog_id'] > 0 for i in d['interfaces'])"
}

vips_are() { # ADDR...: the VIP map holds exactly these, all on lo
	local want
	want=$(printf "'%s'," "$@")
	lvip vip list --json | json_assert "sorted(v['address'] for v in d) == sorted([$want]) and all(v['on_lo'] for v in d)"
}

@test "apply from empty: attaches, adds the VIPs to the map and lo, prints the plan" {
	conf "# real server" "interface veth0" "vip 198.18.0.100" "vip 2001:db8::100"
	run lvip apply -f "$CONF"
	assert_status 0
	[[ "$output" == *"attach veth0 (mode auto)"* ]] || fail "$output"
	[[ "$output" == *"add vip 198.18.0.100"* ]] || fail "$output"
	[[ "$output" == *"applied 3 change(s)"* ]] || fail "$output"
	attached veth0
	vips_are 198.18.0.100 2001:db8::100
	lo_has "$RS" 198.18.0.100/32 && lo_has "$RS" 2001:db8::100/128
}

@test "apply a second time: no changes, exit 0" {
	conf "interface veth0" "vip 198.18.0.100"
	lvip apply -f "$CONF"
	run lvip apply -f "$CONF"
	assert_status 0
	[ "$output" = "no changes" ] || fail "$output"
}

@test "apply changes: VIP and interface added and removed" {
	ip -n "$RS" link add veth2 type veth peer name veth3
	conf "interface veth0" "vip 198.18.0.100" "vip 198.18.0.101"
	lvip apply -f "$CONF"
	conf "interface veth2" "vip 198.18.0.101" "vip 2001:db8::100"
	run lvip apply -f "$CONF" --json
	assert_status 0
	json_assert "[(c['action'], c.get('interface', c.get('address'))) for c in d['changes']] == [('attach', 'veth2'), ('add_vip', '2001:db8::100'), ('remove_vip', '198.18.0.100'), ('detach', 'veth0')] and d['applied']" "$output"
	attached veth2
	run attached veth0
	[ "$status" -ne 0 ] || fail "veth0 still attached"
	vips_are 198.18.0.101 2001:db8::100
	! lo_has "$RS" 198.18.0.100/32 || fail "198.18.0.100 left on lo"
}

@test "apply --dry-run prints the plan and changes nothing" {
	conf "interface veth0" "vip 198.18.0.100"
	lvip apply -f "$CONF"
	conf "interface veth0" "vip 198.18.0.102"
	before=$(lvip_state_snapshot)
	run lvip apply -f "$CONF" --dry-run
	assert_status 0
	[[ "$output" == *"would add vip 198.18.0.102"* ]] || fail "$output"
	[[ "$output" == *"would remove vip 198.18.0.100"* ]] || fail "$output"
	after=$(lvip_state_snapshot)
	[ "$before" = "$after" ] || fail "dry run changed the state: $(diff <(echo "$before") <(echo "$after"))"
}

@test "apply --dry-run on a machine without lvip creates no pin dir" {
	conf "interface veth0" "vip 198.18.0.100"
	run lvip apply -f "$CONF" --dry-run
	assert_status 0
	[ ! -e "$PIN" ] || fail "pin dir created by a dry run"
}

@test "apply: an interface with a foreign XDP program is refused alone (exit 1), the rest is applied" {
	local fid
	ip -n "$RS" link add veth2 type veth peer name veth3
	ip -n "$RS" link set veth2 up
	clang -O2 -g -target bpf -c "$LVIP_TESTS_DIR/fixtures/foreign_xdp.bpf.c" -o "$LVIP_T_TMP/foreign.o"
	ip -n "$RS" link set dev veth2 xdpgeneric obj "$LVIP_T_TMP/foreign.o" sec xdp
	fid=$(xdp_prog_id "$RS" veth2)
	conf "interface veth0" "vip 198.18.0.100"
	lvip apply -f "$CONF"
	conf "interface veth0" "interface veth2" "vip 198.18.0.100" "vip 198.18.0.101"
	run --separate-stderr lvip apply -f "$CONF"
	assert_status 1
	[[ "$stderr" == *"veth2 already carries an XDP program"* ]] || fail "$stderr"
	[[ "$output" != *"attach veth2"* ]] || fail "the plan claims veth2: $output"
	[ "$(xdp_prog_id "$RS" veth2)" = "$fid" ] || fail "the foreign program on veth2 was replaced"
	[ -z "$(tc_egress_ids "$RS" veth2)" ] || fail "a tc filter was added to the refused veth2"
	lo_has "$RS" 198.18.0.101/32 || fail "the VIP of the file was not applied"
	vips_are 198.18.0.100 198.18.0.101
}

@test "interface globs: 'veth*' and '*' pick interfaces with a MAC, never lo" {
	ip -n "$RS" link add veth2 type veth peer name veth3
	conf "interface veth*" "vip 198.18.0.100"
	run lvip apply -f "$CONF" --dry-run
	assert_status 0
	[[ "$output" == *"would attach veth0"* && "$output" == *"would attach veth2"* && "$output" == *"would attach veth3"* ]] || fail "$output"
	conf "interface *" "vip 198.18.0.100"
	run lvip apply -f "$CONF" --dry-run
	[[ "$output" != *"attach lo"* ]] || fail "$output"
}

@test "watch attaches an interface created after it started (within 2 s) and restores a removed VIP" {
	conf "interface veth*" "vip 198.18.0.100"
	ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" watch -f "$CONF" 2> "$LVIP_T_TMP/watch.log" &
	WATCH_PID=$!
	wait_until 5 attached veth0 || fail "watch did not apply the file: $(cat "$LVIP_T_TMP/watch.log")"
	ip -n "$RS" link add veth7 type veth peer name veth8
	start=$(date +%s%N)
	wait_until 2 attached veth7 || fail "veth7 not attached within 2 s: $(cat "$LVIP_T_TMP/watch.log")"
	echo "# attached after $(( ($(date +%s%N) - start) / 1000000 )) ms" >&3
	grep -q "lvip watch: attach veth7" "$LVIP_T_TMP/watch.log"
	ip -n "$RS" addr del 198.18.0.100/32 dev lo
	wait_until 3 lo_has "$RS" 198.18.0.100/32 || fail "VIP not restored: $(cat "$LVIP_T_TMP/watch.log")"
	grep -q "restore vip 198.18.0.100 (it was missing" "$LVIP_T_TMP/watch.log"
	kill -TERM "$WATCH_PID"
	wait "$WATCH_PID"
	WATCH_PID=
	attached veth0 # stopping watch leaves the protection in place
	vips_are 198.18.0.100
}

@test "check: exit 0 when clean" {
	lvip attach veth0
	lvip vip add 198.18.0.100 2001:db8::100
	run lvip check
	assert_status 0
	[[ "$output" == *"0 exposed"* ]] || fail "$output"
}

@test "check: a VIP on lo that is not in the map is exposed" {
	lvip attach veth0
	rs ip addr add 198.18.0.150/32 dev lo
	run lvip check --json
	assert_status 1
	json_assert "any(f['severity'] == 'exposed' and f.get('address') == '198.18.0.150' for f in d['findings'])" "$output"
}

@test "check: an up interface with addresses that is not attached is exposed" {
	lvip attach veth0
	ip -n "$RS" link add veth2 type veth peer name veth3
	ip -n "$RS" addr add 198.18.1.11/24 dev veth2
	ip -n "$RS" link set veth2 up
	run lvip check --json
	assert_status 1
	json_assert "any(f['severity'] == 'exposed' and f.get('interface') == 'veth2' for f in d['findings'])" "$output"
}

@test "check: a VIP assigned to a non-lo interface is exposed" {
	lvip attach veth0
	lvip vip add 198.18.0.100
	rs ip addr add 198.18.0.100/32 dev veth0
	run lvip check --json
	assert_status 1
	json_assert "any(f['severity'] == 'exposed' and f.get('address') == '198.18.0.100' and f.get('interface') == 'veth0' for f in d['findings'])" "$output"
}

@test "check: lvip's link pinned for an interface that vanished is exposed" {
	ip -n "$RS" link add veth2 type veth peer name veth3
	lvip attach veth0 veth2
	ip -n "$RS" link del veth2
	run lvip check --json
	assert_status 1
	json_assert "any(f['severity'] == 'exposed' and 'no longer attached' in f['message'] for f in d['findings'])" "$output"
}

@test "check: proxy_arp and arp_ignore are reported as information, not exposure" {
	lvip attach veth0
	rs sysctl -qw net.ipv4.conf.veth0.proxy_arp=1 net.ipv4.conf.all.arp_ignore=1
	run lvip check --json
	assert_status 0
	json_assert "any(f['severity'] == 'info' and 'proxy_arp' in f['message'] for f in d['findings']) and any(f['severity'] == 'info' and 'arp_ignore' in f['message'] for f in d['findings'])" "$output"
}

# The ARP sender of the first request the peer sees from the RS for 198.18.0.1.
rewritten_sender() {
	local cap=$LVIP_T_TMP/arp-$BATS_TEST_NUMBER.txt
	: > "$cap.err"
	peer timeout 10 tcpdump -l -n -i veth1 -c 1 'arp and arp[6:2] == 1 and arp[24:4] == 0xc6120001' > "$cap" 2> "$cap.err" &
	local tpid=$!
	wait_until 5 grep -q "listening on" "$cap.err" || fail "tcpdump did not start: $(cat "$cap.err")"
	for _ in 1 2 3 4 5; do
		rs ip neigh flush dev veth0
		rs arping -c 1 -w 1 -I veth0 -S 198.18.0.100 198.18.0.1 >/dev/null 2>&1
		grep -q "tell" "$cap" && break
	done
	wait "$tpid"
	awk '/tell/ { for (i = 1; i < NF; i++) if ($i == "tell") { v = $(i + 1); sub(",", "", v); print v } }' "$cap"
}

@test "compat datapath: watch keeps lvip_ifaddr current, so the rewrite follows an address change" {
	conf "interface veth0" "vip 198.18.0.100"
	LVIP_FORCE_COMPAT=1 ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" watch -f "$CONF" 2> "$LVIP_T_TMP/watch.log" &
	WATCH_PID=$!
	wait_until 5 attached veth0 || fail "watch did not apply the file: $(cat "$LVIP_T_TMP/watch.log")"
	bpftool prog show pinned "$PIN/lvip_tc" | grep -q lvip_tc_compat || fail "not the compat program"
	[ "$(rewritten_sender)" = 198.18.0.11 ] || fail "rewrite did not use 198.18.0.11"
	rs ip addr del 198.18.0.11/24 dev veth0
	rs ip addr add 198.18.0.12/24 dev veth0
	wait_until 3 sh -c "bpftool -j map dump pinned '$PIN/lvip_ifaddr' | grep -q '\"addr\":\[198,18,0,12\]'" ||
		fail "lvip_ifaddr not refreshed: $(bpftool map dump pinned "$PIN/lvip_ifaddr")"
	[ "$(rewritten_sender)" = 198.18.0.12 ] || fail "rewrite did not follow the address change"
}
