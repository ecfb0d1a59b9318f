#!/usr/bin/env bats
# tests/operations.bats - lvip as an operator runs it (docs/cli.md,
# docs/metrics.md): apply (the plan, all or nothing, --dry-run, globs, an
# interface already carrying a foreign XDP program), watch (interfaces
# appearing, VIPs restored), check (each exposed finding constructed; a
# clean state exits 0), status (its exit status), stats --prometheus
# (promtool, and a real prometheus-node-exporter serving it), and the
# compatibility datapath of kernels before 6.3, whose lvip_ifaddr map lvip
# keeps current.
#
#   RS   namespace: lo, veth0 198.18.0.11/24 2001:db8::11/64 (the real server)
#   PEER namespace: lo, veth1 198.18.0.1/24  2001:db8::1/64  (a neighbour)
#
# Each test gets fresh namespaces and pin dir; nothing touches the root
# network namespace. The node exporter listens on 198.18.0.11 in the test
# namespace and is killed by PID, as is every watcher started here. Without
# root/BPF the tests skip, or fail when LVIP_REQUIRE_BPF=1; so do the
# Prometheus tests without promtool, prometheus-node-exporter, curl or
# arping.

bats_require_minimum_version 1.5.0

load lib/netns
load lib/assertions

VIP4=198.18.0.100

setup_file() {
	lvip_env_check
	lvip_tmp_setup || return 1
	foreign_fixture_build
}
teardown_file() { lvip_tmp_teardown; }
setup() {
	lvip_env_require
	lvip_netns_setup
	CONF=$LVIP_T_TMP/lvip-$BATS_TEST_NUMBER.conf
	WATCH_PID=
	NE_PID=
}
teardown() {
	# Only the watcher and the node exporter this test started, by PID.
	if [ -n "${WATCH_PID-}" ]; then
		kill "$WATCH_PID" 2>/dev/null
		wait "$WATCH_PID" 2>/dev/null
	fi
	if [ -n "${NE_PID-}" ]; then
		kill "$NE_PID" 2>/dev/null
		wait "$NE_PID" 2>/dev/null
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

# ---------------------------------------------------------------- apply

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

@test "apply removing a found VIP from the map warns that it stays on lo, exposed" {
	local conf=$BATS_TEST_TMPDIR/lvip.conf
	rs ip addr add "$VIP4/32" dev lo
	printf 'interface veth0\nvip %s\n' "$VIP4" >"$conf"
	lvip apply -f "$conf"
	printf 'interface veth0\n' >"$conf"
	run --separate-stderr lvip apply -f "$conf"
	assert_status 0
	assert_contains "$stderr" "$VIP4 stays on lo (not assigned by lvip) and is now exposed"
}

# ---------------------------------------------------------------- apply --dry-run

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

@test "apply --dry-run changes nothing at all, the pin dir's mode included" {
	local conf=$BATS_TEST_TMPDIR/lvip.conf before
	mkdir -m 0750 "$PIN"
	printf 'interface veth0\nvip %s\n' "$VIP4" >"$conf"
	before=$(lvip_state_snapshot; stat -c '%a %U' "$PIN")
	run --separate-stderr lvip apply -f "$conf" --dry-run
	assert_status 0
	assert_eq "$before" "$(lvip_state_snapshot; stat -c '%a %U' "$PIN")" "the state after apply --dry-run"
}

# ---------------------------------------------------------------- save

@test "save: two interfaces with their modes, IPv4 and IPv6 VIPs; apply of the saved file: no changes" {
	lvip_add_veth2
	lvip attach veth0 --mode native >/dev/null
	lvip attach veth2 --mode generic >/dev/null
	lvip vip add 198.18.0.100 2001:db8::100 >/dev/null
	run --separate-stderr lvip save
	assert_status 0
	assert_eq "" "$stderr" "stderr of save"
	printf '%s\n' "$output" >"$CONF"
	[[ "${lines[0]}" == "# lvip config written by 'lvip save'"* ]] || fail "header: ${lines[0]}"
	assert_eq "interface veth0 mode=native
interface veth2 mode=generic
vip 198.18.0.100
vip 2001:db8::100" "$(grep -v '^#' "$CONF")" "saved directives"
	run lvip apply -f "$CONF"
	assert_status 0
	assert_eq "no changes" "$output" "apply of the saved file"
}

@test "save: a VIP added with --no-lo is saved as a vip line with a comment; apply puts it on lo and changes nothing else" {
	lvip attach veth0 >/dev/null
	lvip vip add 198.18.0.100 >/dev/null
	lvip vip add --no-lo 198.18.0.101 2001:db8::101 >/dev/null
	run --separate-stderr lvip save
	assert_status 0
	printf '%s\n' "$output" >"$CONF"
	assert_contains "$output" "# 198.18.0.101 is not on lo now (added with --no-lo, or removed since): apply puts it on lo"
	assert_contains "$output" $'\nvip 198.18.0.101\n'
	assert_contains "$output" $'\nvip 2001:db8::101'
	assert_contains "$stderr" "VIP 198.18.0.101 is not on lo: applying the saved file puts it on lo"
	run lvip apply -f "$CONF" --dry-run
	assert_status 0
	assert_eq "would add vip 198.18.0.101
would add vip 2001:db8::101
dry run: nothing changed, 2 change(s)" "$output" "plan of the saved file"
	lvip apply -f "$CONF" >/dev/null
	lo_has "$RS" 198.18.0.101/32 || fail "198.18.0.101 not on lo"
	lvip save >"$CONF" 2>/dev/null
	run lvip apply -f "$CONF"
	assert_status 0
	assert_eq "no changes" "$output" "apply of the second save"
}

@test "save: an interface whose name a config cannot hold is a comment, not an interface line" {
	ip -n "$RS" link add 'v#2' type veth peer name 'v\3' || fail "cannot create the interfaces"
	lvip attach veth0 'v#2' 'v\3' >/dev/null
	run --separate-stderr lvip save
	assert_status 0
	assert_contains "$output" "# interface 'v#2' (ifindex $(ifindex "$RS" 'v#2')): its name cannot be written in a config file: not saved"
	assert_contains "$output" "# interface 'v\\x5c3'"
	assert_eq "interface veth0 mode=native" "$(grep -v '^#' <<<"$output")" "the only directive"
	assert_contains "$stderr" "interface 'v#2' not saved"
}

@test "save: nothing loaded is exit 1" {
	run --separate-stderr lvip save
	assert_status 1
	assert_contains "$stderr" "lvip is not loaded"
}

# ---------------------------------------------------------------- interface globs, foreign XDP programs

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

@test "apply: an interface with a foreign XDP program is refused alone (exit 1), the rest is applied" {
	local fid
	ip -n "$RS" link add veth2 type veth peer name veth3
	ip -n "$RS" link set veth2 up
	[ -n "$FOREIGN_OBJ" ] || fail "$FOREIGN_SKIP"
	ip -n "$RS" link set dev veth2 xdpgeneric obj "$FOREIGN_OBJ" sec xdp
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

@test "a glob meeting a foreign XDP program: that interface refused (exit 1), the others protected" {
	need_foreign
	local conf=$BATS_TEST_TMPDIR/lvip.conf fid
	lvip_add_veth2
	rs ip link set dev veth2 xdpgeneric obj "$FOREIGN_OBJ" sec xdp
	fid=$(xdp_prog_id "$RS" veth2)
	printf 'interface veth*\nvip %s\n' "$VIP4" >"$conf"
	run --separate-stderr lvip apply -f "$conf"
	assert_status 1
	assert_contains "$stderr" "veth2 already carries an XDP program"
	[[ "$output" != *"attach veth2"* ]] || fail "the plan claims veth2 was attached: $output"
	assert_eq "$fid" "$(xdp_prog_id "$RS" veth2)" "the foreign program on veth2"
	[ "$(xdp_prog_id "$RS" veth0)" -gt 0 ] || fail "veth0 not attached"
	lo_has "$RS" "$VIP4/32" || fail "VIP not on lo"
	no_arp_reply "$VIP4"
}

@test "watch with a glob meeting a foreign XDP program attaches new interfaces and logs only what it did" {
	need_foreign
	local conf=$BATS_TEST_TMPDIR/lvip.conf log=$BATS_TEST_TMPDIR/watch.log pid
	lvip_add_veth2
	rs ip link set dev veth2 xdpgeneric obj "$FOREIGN_OBJ" sec xdp
	printf 'interface veth*\nvip %s\n' "$VIP4" >"$conf"
	bg_start pid ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" watch -f "$conf" 2>"$log"
	wait_until 10 lo_has "$RS" "$VIP4/32" || fail "watch did not apply: $(cat "$log")"
	# veth8 in the peer: ARP for the VIP asked on veth7, which the kernel
	# answers there unless lvip's XDP program is on it.
	ip -n "$RS" link add veth7 type veth peer name veth8 netns "$PEER"
	ip -n "$RS" link set veth7 up
	ip -n "$PEER" addr add 198.18.7.1/24 dev veth8 # arping's source
	ip -n "$PEER" link set veth8 up
	wait_until 5 xdp_on "$RS" veth7 || fail "veth7 not attached: $(cat "$log")"
	assert_eq "$(xdp_prog_id "$RS" veth0)" "$(xdp_prog_id "$RS" veth7)" "lvip's XDP program on veth7"
	wait_until 5 link_has_carrier "$RS" veth7 || fail "veth7 has no carrier"
	if grep -q "attach veth2" "$log"; then
		fail "watch logged an attach of veth2, which it refused: $(cat "$log")"
	fi
	no_arp_reply "$VIP4"
	no_arp_reply "$VIP4" veth8
}

# ---------------------------------------------------------------- watch

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

# ---------------------------------------------------------------- drop-ins

@test "conf.d: two drop-ins with separate VIPs are both applied, with FILE's, in name order" {
	local d=$BATS_TEST_TMPDIR/etc
	mkdir -p "$d/conf.d/skipped.conf"
	printf 'interface veth0\n' > "$d/lvip.conf"
	printf 'vip 198.18.0.101\n' > "$d/conf.d/20-web.conf"
	printf 'vip 198.18.0.102\nvip 2001:db8::102\n' > "$d/conf.d/10-dns.conf"
	printf 'vip 198.18.0.103\n' > "$d/conf.d/README"        # not *.conf: skipped
	ln -s /dev/null "$d/conf.d/30-null.conf"                 # not a regular file: skipped
	run lvip apply -f "$d/lvip.conf"
	assert_status 0
	attached veth0
	vips_are 198.18.0.101 198.18.0.102 2001:db8::102
	run lvip apply --dry-run -f "$d/lvip.conf"
	assert_status 0
	assert_contains "$output" "no changes"
}

@test "conf.d: the same VIP in two files is refused naming both FILE:LINE, nothing changed" {
	local d=$BATS_TEST_TMPDIR/etc
	mkdir -p "$d/conf.d"
	printf 'interface veth0\nvip 198.18.0.101\n' > "$d/lvip.conf"
	printf '# web\n\nvip 198.18.0.101\n' > "$d/conf.d/web.conf"
	run -2 --separate-stderr lvip apply -f "$d/lvip.conf"
	assert_one_line
	assert_contains "$stderr" "$d/conf.d/web.conf:3: duplicate vip '198.18.0.101' (first at $d/lvip.conf:2)"
	[ ! -e "$PIN" ] || fail "the pin dir was created"
	! lo_has "$RS" 198.18.0.101/32 || fail "198.18.0.101 put on lo"
	printf 'interface veth0\n' > "$d/conf.d/web.conf"
	run -2 --separate-stderr lvip apply -f "$d/lvip.conf"
	assert_one_line
	assert_contains "$stderr" "$d/conf.d/web.conf:1: duplicate interface 'veth0' (first at $d/lvip.conf:1)"
	printf 'ignore veth0\n' > "$d/conf.d/web.conf"
	run -2 --separate-stderr lvip check -f "$d/lvip.conf"
	assert_one_line
	assert_contains "$stderr" "$d/lvip.conf:1: interface 'veth0' is also ignored (at $d/conf.d/web.conf:1)"
	[ ! -e "$PIN" ] || fail "the pin dir was created"
}

@test "conf.d: watch picks up a new drop-in after SIGHUP" {
	local d=$BATS_TEST_TMPDIR/etc log=$BATS_TEST_TMPDIR/watch.log
	mkdir -p "$d"
	printf 'interface veth0\nvip 198.18.0.101\n' > "$d/lvip.conf"
	ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" watch -f "$d/lvip.conf" 2> "$log" &
	WATCH_PID=$!
	wait_until 5 lo_has "$RS" 198.18.0.101/32 || fail "watch did not apply: $(cat "$log")"
	mkdir "$d/conf.d"
	printf 'vip 198.18.0.102\n' > "$d/conf.d/new.conf"
	kill -HUP "$WATCH_PID"
	wait_until 5 lo_has "$RS" 198.18.0.102/32 || fail "the drop-in was not applied: $(cat "$log")"
	vips_are 198.18.0.101 198.18.0.102
	grep -q "lvip watch: add vip 198.18.0.102" "$log"
}

@test "apply --check: a broken drop-in exits 2 with one line and no pin dir; a good file exits 0" {
	local d=$BATS_TEST_TMPDIR/etc
	mkdir -p "$d/conf.d"
	printf 'interface veth0\nvip 198.18.0.101\n' > "$d/lvip.conf"
	printf 'vip 198.18.0.102\nvip 198.18.0.11\n' > "$d/conf.d/web.conf"  # veth0's own address
	run -2 --separate-stderr lvip apply --check -f "$d/lvip.conf"
	assert_one_line
	assert_contains "$stderr" "$d/conf.d/web.conf:2: invalid VIP '198.18.0.11'"
	[ ! -e "$PIN" ] || fail "apply --check created the pin dir"
	printf 'vip 198.18.0.102\ninterface veth9\n' > "$d/conf.d/web.conf" # watch waits for veth9
	run --separate-stderr lvip apply --check -f "$d/lvip.conf"
	assert_status 0
	[ -z "$output$stderr" ] || fail "apply --check printed: $output$stderr"
	[ ! -e "$PIN" ] || fail "apply --check created the pin dir"
	lvip attach veth0
	before=$(lvip_state_snapshot)
	run lvip apply --check -f "$d/lvip.conf"
	assert_status 0
	assert_state_unchanged "$before"
}

# ---------------------------------------------------------------- journald priorities

# journal_stream FILE: FILE emptied, and the JOURNAL_STREAM value systemd
# would give a unit whose stderr is FILE (its device:inode).
journal_stream() { : > "$1" && stat -c '%d:%i' "$1"; }

# every_line_prefixed FILE PREFIX...: each line of FILE starts with one of them.
every_line_prefixed() {
	local f=$1 line ok p
	shift
	[ -s "$f" ] || fail "$f is empty"
	while IFS= read -r line; do
		ok=
		for p in "$@"; do [[ $line == "$p"* ]] && ok=1; done
		[ -n "$ok" ] || fail "a line without a priority prefix ($*): '$line' in:"$'\n'"$(cat "$f")"
	done < "$f"
}

@test "journald: under JOURNAL_STREAM, errors start <3>, warnings <4>, watch's lines <6>; without it, no prefix" {
	local err=$BATS_TEST_TMPDIR/err.log log=$BATS_TEST_TMPDIR/watch.log conf=$BATS_TEST_TMPDIR/lvip.conf js
	js=$(journal_stream "$err")
	JOURNAL_STREAM=$js lvip vip add 198.18.0 2>> "$err" && fail "vip add of an invalid address succeeded"
	every_line_prefixed "$err" "<3>lvip: "
	rs ip addr add "$VIP4/32" dev lo
	printf 'interface veth0\nvip %s\n' "$VIP4" > "$conf"
	lvip apply -f "$conf" > /dev/null
	printf 'interface veth0\n' > "$conf"
	js=$(journal_stream "$err")
	JOURNAL_STREAM=$js lvip apply -f "$conf" 2>> "$err" > /dev/null
	every_line_prefixed "$err" "<4>lvip: warning: "
	grep -q "^<4>lvip: warning: $VIP4 stays on lo" "$err"
	printf 'interface veth*\nvip 198.18.0.101\n' > "$conf"
	js=$(journal_stream "$log")
	JOURNAL_STREAM=$js ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" watch -f "$conf" 2>> "$log" &
	WATCH_PID=$!
	wait_until 5 lo_has "$RS" 198.18.0.101/32 || fail "watch did not apply: $(cat "$log")"
	ip -n "$RS" link add veth7 type veth peer name veth8
	wait_until 5 grep -q "lvip watch: attach veth7" "$log" || fail "veth7 not logged: $(cat "$log")"
	printf 'vip 1.2.3\n' > "$conf"
	kill -HUP "$WATCH_PID"
	wait_until 5 grep -q "not reloaded" "$log" || fail "the reload was not logged: $(cat "$log")"
	kill -TERM "$WATCH_PID"
	wait "$WATCH_PID"
	WATCH_PID=
	every_line_prefixed "$log" "<6>lvip watch: " "<3>lvip: " "<4>lvip: warning: "
	grep -q '^<6>lvip watch: following' "$log"
	grep -q '^<6>lvip watch: add vip 198.18.0.101' "$log"   # through the printer
	grep -q '^<6>lvip watch: attach veth7' "$log"
	grep -q '^<3>lvip: .*invalid VIP' "$log"
	grep -q '^<4>lvip: warning: watch: .* not reloaded' "$log"
	grep -q '^<6>lvip watch: stopped' "$log"
	# Without JOURNAL_STREAM, or with a stderr that is not the stream it names: no prefix.
	run --separate-stderr lvip vip add 198.18.0
	assert_status 2
	[[ $stderr == "lvip: "* ]] || fail "$stderr"
	js=$(journal_stream "$err")
	JOURNAL_STREAM=$js lvip vip add 198.18.0 2>&1 | grep -q '^lvip: ' || fail "a prefix on a stderr that is not the journal"
}

# ---------------------------------------------------------------- check

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

@test "check: an up interface without addresses is exposed (the kernel answers there) until attached or its sysctls hide lo" {
	local tx rx peer2
	ip -n "$RS" link add veth4 type veth peer name veth5 netns "$PEER"
	ip -n "$RS" link set veth4 up
	ip -n "$PEER" addr add 198.18.4.1/24 dev veth5
	ip -n "$PEER" link set veth5 up
	wait_until 5 link_has_carrier "$RS" veth4
	lvip attach veth0
	lvip vip add "$VIP4"
	read -r tx rx < <(peer timeout 20 arping -c 3 -w 3 -i veth5 "$VIP4" 2>&1 | awk '/packets transmitted/ { print $1, $4 }')
	[ "${rx:-0}" -ge 1 ] || fail "control: the kernel should answer ARP for the VIP on veth4 ($tx sent, $rx answered)"
	run lvip check --json
	assert_status 1
	json_assert "[(f['code'], f['interface']) for f in d['findings'] if f['severity'] == 'exposed'] == [('iface_unattached', 'veth4')]" "$output"

	rs sysctl -qw net.ipv4.conf.veth4.arp_ignore=1 net.ipv4.conf.veth4.arp_announce=2
	read -r tx rx < <(peer timeout 20 arping -c 3 -w 3 -i veth5 "$VIP4" 2>&1 | awk '/packets transmitted/ { print $1, $4 }')
	assert_eq 0 "${rx:-0}" "ARP replies for the VIP on veth4 with its own sysctls"
	run lvip check --json
	assert_status 0
	json_assert "any(f['code'] == 'iface_hidden_by_sysctl' and f['interface'] == 'veth4' for f in d['findings'])" "$output"

	rs sysctl -qw net.ipv4.conf.veth4.arp_ignore=0 net.ipv4.conf.veth4.arp_announce=0
	printf 'interface veth0\nignore veth4\n' >"$BATS_TEST_TMPDIR/c.conf"
	run lvip check --json -f "$BATS_TEST_TMPDIR/c.conf"
	assert_status 0
	json_assert "any(f['code'] == 'iface_ignored' for f in d['findings'])" "$output"
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

# ---------------------------------------------------------------- status

@test "status exits 1 when it lists a problem, and agrees with check when nothing is loaded" {
	run lvip status
	assert_status 0
	rs ip addr add "$VIP4/32" dev lo
	run lvip status --json
	assert_status 1
	json_assert "any('$VIP4' in p for p in d['problems'])" "$output"
	run lvip check
	assert_status 1
	lvip attach veth0
	lvip vip add "$VIP4"
	run lvip status
	assert_status 0
	lvip_egress_remove veth0
	run lvip status
	assert_status 1
	assert_contains "$output" "tc egress program is missing"
	run lvip check --json
	assert_status 1
	json_assert "all('code' in f and f['code'] for f in d['findings'])" "$output"
}

# ---------------------------------------------------------------- stats --prometheus

# protect_and_probe N: attach to veth0, two VIPs, then N ARP requests for
# the IPv4 VIP from the peer (none answered).
protect_and_probe() {
	lvip attach veth0 >/dev/null
	lvip vip add 198.18.0.100 2001:db8::100 >/dev/null
	assert_eq "$1 0" "$(arp_probe 198.18.0.100 "$1")" "ARP requests sent, replies"
}

# sample NAME{LABELS} < exposition: the value of one series (exact match of
# the series name and labels as written by lvip).
sample() {
	awk -v s="$1" '$1 == s { print $2; found = 1 } END { exit !found }'
}

# bytes_column VIP: the BYTES cell of VIP's row in a VIP table on stdin (the
# column found by its header).
bytes_column() {
	awk -v vip="$1" '$1 == "VIP" { for (i = 1; i <= NF; i++) if ($i == "BYTES") col = i }
		$1 == vip && col { print $col; exit }'
}

@test "vip list -x and stats --exact print a byte count over 100,000 in full digits" {
	lvip attach veth0 >/dev/null
	lvip vip add 198.18.0.100 >/dev/null
	peer ip route add 198.18.0.100/32 via "$RS_ADDR4"
	run peer ping -c 10 -i 0.05 -W 2 -s 12000 198.18.0.100
	assert_status 0
	local bytes row
	bytes=$(lvip vip list --json | json_eval "d[0]['bytes']")
	[ "$bytes" -gt 100000 ] || fail "only $bytes bytes counted"
	row=$(lvip vip list | awk '$1 == "198.18.0.100"')
	[[ "$row" == *KiB* && "$row" != *" $bytes "* ]] || fail "vip list without -x: $row"
	assert_eq "$bytes" "$(lvip vip list -x | bytes_column 198.18.0.100)" "BYTES of vip list -x"
	assert_eq "$bytes" "$(lvip stats --exact | bytes_column 198.18.0.100)" "BYTES of stats --exact"
}

@test "stats --prometheus passes promtool check metrics and counts the dropped ARP requests" {
	need_cmds promtool prometheus-node-exporter curl arping
	protect_and_probe 3
	run lvip stats --prometheus
	assert_status 0
	local out=$output
	printf '%s\n' "$out" | sed 's/^/# /' >&3

	run promtool check metrics <<<"$out"
	assert_status 0
	assert_eq "" "$output" "promtool check metrics output"

	# The same numbers as stats --json.
	local js
	js=$(lvip stats --json)
	assert_eq 3 "$(json_eval "d['reasons']['arp_in_dropped']" <<<"$js")" "arp_in_dropped (json)"
	assert_eq 3 "$(sample 'lvip_packets_total{reason="arp_in_dropped"}' <<<"$out")" arp_in_dropped
	local r
	for r in arp_in_dropped arp_out_dropped arp_out_rewritten nd_in_dropped nd_out_dropped vip_rx malformed; do
		assert_eq "$(json_eval "d['reasons']['$r']" <<<"$js")" \
			"$(sample "lvip_packets_total{reason=\"$r\"}" <<<"$out")" "lvip_packets_total $r" || return 1
		sample "lvip_interface_packets_total{interface=\"veth0\",reason=\"$r\"}" <<<"$out" >/dev/null ||
			fail "no lvip_interface_packets_total for veth0, $r"
	done
	assert_eq 3 "$(sample 'lvip_interface_packets_total{interface="veth0",reason="arp_in_dropped"}' <<<"$out")" "veth0 arp_in_dropped"
	assert_eq 3 "$(sample 'lvip_vip_dropped_total{vip="198.18.0.100",proto="arp"}' <<<"$out")" "VIP ARP dropped"
	assert_eq 0 "$(sample 'lvip_vip_dropped_total{vip="2001:db8::100",proto="nd"}' <<<"$out")" "VIP6 ND dropped"
	sample 'lvip_vip_packets_total{vip="198.18.0.100"}' <<<"$out" >/dev/null || fail "no lvip_vip_packets_total"
	sample 'lvip_vip_bytes_total{vip="2001:db8::100"}' <<<"$out" >/dev/null || fail "no lvip_vip_bytes_total"
	assert_eq 2 "$(sample lvip_vips <<<"$out")" lvip_vips
	assert_eq 1 "$(sample lvip_interfaces_attached <<<"$out")" lvip_interfaces_attached
	assert_eq 1 "$(sample 'lvip_vip_on_lo{vip="198.18.0.100"}' <<<"$out")" "lvip_vip_on_lo"

	# Every family has HELP and TYPE, of the right kind.
	local fam kind
	while read -r fam kind; do
		grep -q "^# HELP $fam " <<<"$out" || fail "no HELP for $fam"
		assert_eq "$kind" "$(awk -v f="$fam" '$1 == "#" && $2 == "TYPE" && $3 == f { print $4 }' <<<"$out")" "TYPE of $fam" || return 1
	done <<'EOF'
lvip_packets_total counter
lvip_interface_packets_total counter
lvip_vip_packets_total counter
lvip_vip_bytes_total counter
lvip_vip_dropped_total counter
lvip_vips gauge
lvip_interfaces_attached gauge
lvip_vip_on_lo gauge
lvip_vip_series_omitted gauge
lvip_build_info gauge
lvip_last_export_timestamp_seconds gauge
EOF

	# Who wrote it, and when: a failed export leaves an old timestamp.
	local version abi ts now
	read -r _ version _ abi < <(lvip --version)
	abi=${abi%)}
	assert_eq 1 "$(sample "lvip_build_info{version=\"$version\",abi=\"$abi\"}" <<<"$out")" lvip_build_info
	ts=$(sample lvip_last_export_timestamp_seconds <<<"$out")
	now=$(date +%s)
	[ "$ts" -le "$now" ] && [ "$ts" -ge $(( now - 5 )) ] ||
		fail "lvip_last_export_timestamp_seconds $ts is not within 5 s of now ($now)"
	assert_eq 0 "$(sample lvip_vip_series_omitted <<<"$out")" "lvip_vip_series_omitted without --vip-series"
}

# vip_series < exposition: how many distinct VIPs have per-VIP series.
vip_series() {
	grep -o '^lvip_vip_[a-z_]*{vip="[^"]*"' | sed 's/.*{vip=//' | sort -u | wc -l
}

@test "stats --prometheus --vip-series: 0 gives no per-VIP series, 1 the first VIP's; the rest counted as omitted" {
	need_cmds promtool
	lvip attach veth0 >/dev/null
	lvip vip add 198.18.0.100 198.18.0.101 2001:db8::100 >/dev/null
	run lvip stats --prometheus --vip-series 0
	assert_status 0
	local out=$output fam
	run promtool check metrics <<<"$out"
	assert_status 0
	assert_eq 0 "$(vip_series <<<"$out")" "VIPs with series under --vip-series 0"
	assert_eq 3 "$(sample lvip_vip_series_omitted <<<"$out")" lvip_vip_series_omitted
	assert_eq 3 "$(sample lvip_vips <<<"$out")" lvip_vips
	for fam in lvip_vip_packets_total lvip_vip_bytes_total lvip_vip_dropped_total lvip_vip_on_lo; do
		grep -q "^# HELP $fam " <<<"$out" && grep -q "^# TYPE $fam " <<<"$out" ||
			fail "$fam lost its HELP or TYPE under --vip-series 0"
	done

	run lvip stats --prometheus --vip-series 1
	assert_status 0
	out=$output
	run promtool check metrics <<<"$out"
	assert_status 0
	assert_eq 1 "$(vip_series <<<"$out")" "VIPs with series under --vip-series 1"
	sample 'lvip_vip_packets_total{vip="198.18.0.100"}' <<<"$out" >/dev/null || fail "not the first VIP's series"
	assert_eq 2 "$(sample lvip_vip_series_omitted <<<"$out")" lvip_vip_series_omitted

	run lvip stats --prometheus --vip-series 5
	assert_eq 3 "$(vip_series <<<"$output")" "VIPs with series under --vip-series 5"
	assert_eq 0 "$(sample lvip_vip_series_omitted <<<"$output")" lvip_vip_series_omitted

	run --separate-stderr lvip stats --vip-series 1
	assert_status 2
	assert_eq "lvip: stats: --vip-series needs --prometheus" "$stderr" "--vip-series without --prometheus"
	run --separate-stderr lvip stats --prometheus --vip-series -1
	assert_status 2
}

@test "a VIP off lo reads lvip_vip_on_lo 0" {
	need_cmds promtool prometheus-node-exporter curl arping
	lvip attach veth0 >/dev/null
	lvip vip add --no-lo 198.18.0.100 >/dev/null
	run lvip stats --prometheus
	assert_status 0
	assert_eq 0 "$(sample 'lvip_vip_on_lo{vip="198.18.0.100"}' <<<"$output")" "lvip_vip_on_lo"
	run promtool check metrics <<<"$output"
	assert_status 0
}

@test "node_exporter's textfile collector serves lvip's series on /metrics" {
	need_cmds promtool prometheus-node-exporter curl arping
	TEXTFILE=$LVIP_T_TMP/textfile-$BATS_TEST_NUMBER
	mkdir -p "$TEXTFILE"
	protect_and_probe 2
	# As documented: write beside, then rename into place.
	lvip stats --prometheus > "$TEXTFILE/lvip.prom.$$"
	mv "$TEXTFILE/lvip.prom.$$" "$TEXTFILE/lvip.prom"

	# ip netns exec execs the command itself: $! is the node exporter.
	ip netns exec "$RS" prometheus-node-exporter \
		--web.listen-address="$RS_ADDR4:9100" \
		--collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$TEXTFILE" \
		> "$LVIP_T_TMP/node-exporter-$BATS_TEST_NUMBER.log" 2>&1 &
	NE_PID=$!
	wait_until 10 rs curl -sf -o /dev/null "http://$RS_ADDR4:9100/metrics" ||
		fail "node exporter not ready in 10 s: $(cat "$LVIP_T_TMP/node-exporter-$BATS_TEST_NUMBER.log")"
	assert_eq prometheus-node "$(cut -c1-15 "/proc/$NE_PID/comm")" "process behind NE_PID"

	# Scraped from the peer, across the veth lvip is attached to.
	local page
	page=$(peer curl -sf --max-time 10 "http://$RS_ADDR4:9100/metrics")
	assert_eq 2 "$(sample 'lvip_packets_total{reason="arp_in_dropped"}' <<<"$page")" "served arp_in_dropped"
	assert_eq 2 "$(sample 'lvip_vip_dropped_total{proto="arp",vip="198.18.0.100"}' <<<"$page")" "served VIP ARP dropped"
	assert_eq 2 "$(sample lvip_vips <<<"$page")" "served lvip_vips"
	assert_eq 1 "$(sample 'lvip_vip_on_lo{vip="2001:db8::100"}' <<<"$page")" "served lvip_vip_on_lo"
	grep -q '^# TYPE lvip_packets_total counter' <<<"$page" || fail "no TYPE on /metrics"
	assert_eq 0 "$(sample node_textfile_scrape_error <<<"$page")" node_textfile_scrape_error
	run promtool check metrics <<<"$page"
	assert_status 0

	# A new file is served at the next scrape: more ARP, rewrite, fetch.
	assert_eq "1 0" "$(arp_probe 198.18.0.100 1)" "ARP requests sent, replies"
	lvip stats --prometheus > "$TEXTFILE/lvip.prom.$$"
	mv "$TEXTFILE/lvip.prom.$$" "$TEXTFILE/lvip.prom"
	page=$(peer curl -sf --max-time 10 "http://$RS_ADDR4:9100/metrics")
	assert_eq 3 "$(sample 'lvip_packets_total{reason="arp_in_dropped"}' <<<"$page")" "served arp_in_dropped after more ARP"

	kill "$NE_PID"
	wait "$NE_PID" || true
	NE_PID=
}

# ---------------------------------------------------------------- the compat datapath (kernels before 6.3)
#
# lvip_tc_compat (forced with LVIP_FORCE_COMPAT=1) reads the interface's
# IPv4 address for the "tell VIP" rewrite from lvip_ifaddr, which lvip
# writes (docs/datapath.md, docs/pins.md).

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

@test "compat datapath: a stale lvip_ifaddr is named by check and status, and the next command refreshes it" {
	export LVIP_FORCE_COMPAT=1
	lvip attach veth0
	lvip vip add "$VIP4"
	rs ip addr del "$RS_ADDR4/24" dev veth0
	rs ip addr add 198.18.0.12/24 dev veth0
	run lvip check --json
	assert_status 1
	json_assert "any(f['code'] == 'ifaddr_stale' and f['interface'] == 'veth0' for f in d['findings'])" "$output"
	run lvip status
	assert_status 1
	lvip vip add "$VIP4"    # any command that changes state refreshes it
	run lvip check
	assert_status 0
	assert_eq 198.18.0.12 "$(tell_sender "$VIP4")" "sender of 'who-has peer tell VIP' after the address change"
}
