#!/usr/bin/env bats
# tests/cli.bats - the lvip command line, as docs/cli.md specifies it: help
# and version for every command, what each command does to the kernel's
# state (attach, detach, vip add/del/list, status, stats, down), exit
# statuses, and bad input: bad command lines, bad config files and VIPs
# that would cut the server off (the guards) each exit 2 with exactly one
# line on stderr and leave the state byte-for-byte unchanged
# (lvip_state_snapshot: lo, links, egress filters, every pinned map, the pin
# dir). Also: interface names that are not plain text, as every command
# prints them.
#
#   RS   namespace: lo, veth0 198.18.0.11/24 2001:db8::11/64 (the real server)
#   PEER namespace: lo, veth1 198.18.0.1/24  2001:db8::1/64  (a neighbour)
#
# Each test gets fresh namespaces and an empty pin dir; the root network
# namespace is never touched. LVIP (default: build/lvip of this tree) is run
# as: ip netns exec $RS $LVIP --pin-dir $BPFFS/lvip ... Without root/BPF the
# tests skip, or fail when LVIP_REQUIRE_BPF=1.

bats_require_minimum_version 1.5.0

load lib/netns
load lib/assertions

VIP4=198.18.0.100
VIP6=2001:db8::100
REASONS='["arp_in_dropped", "arp_out_dropped", "arp_out_rewritten", "nd_in_dropped", "nd_out_dropped", "vip_rx", "malformed", "observe_arp_in", "observe_arp_out", "observe_rewrite", "observe_nd_in", "observe_nd_out"]'
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
	CONF=$BATS_TEST_TMPDIR/lvip.conf
}

teardown() {
	lvip_netns_teardown
}

# conf LINE...: write the config file $CONF.
conf() { printf '%s\n' "$@" > "$CONF"; }

# ---------------------------------------------------------------- help and version

@test "help and version: exit 0 on stdout, for lvip and every command lvip --help lists" {
	local c
	local -a cmds
	run --separate-stderr "$LVIP" --version
	assert_status 0
	grep -q '[0-9]\.[0-9]' <<<"$output" || fail "--version prints no version: $output"
	run --separate-stderr "$LVIP" --help
	assert_status 0
	[ -n "$output" ] || fail "--help prints nothing on stdout"
	# Every command of the "Commands:" section ("vip add", "tunnel add"
	# ... as such), and "vip" and "tunnel" themselves: a new command is
	# covered as soon as --help lists it.
	mapfile -t cmds < <(help_commands)
	[ "${#cmds[@]}" -ge 18 ] || fail "lvip --help lists too few commands: ${cmds[*]}"
	printf '%s\n' "${cmds[@]}" | grep -qx 'tunnel add' || fail "lvip --help lists no 'tunnel add': ${cmds[*]}"
	cmds+=(vip tunnel)
	for c in "${cmds[@]}"; do
		# shellcheck disable=SC2086 # "vip add": two words, on purpose
		run --separate-stderr "$LVIP" $c --help
		assert_status 0
		[ -n "$output" ] || fail "lvip $c --help prints nothing on stdout"
		[ -z "$stderr" ] || fail "lvip $c --help writes to stderr: $stderr"
		[[ "$output" == "Usage: lvip "* ]] || fail "lvip $c --help does not start with 'Usage: lvip': $output"
		[[ "$output" =~ (^|[[:space:]])"lvip $c"($|[[:space:]]) ]] ||
			fail "lvip $c --help does not name 'lvip $c': $output"
	done
}

# ---------------------------------------------------------------- commands

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

# detach_leaves_foreign: the detach test, lvip's egress program attached
# through tcx, or through clsact when the caller exported LVIP_FORCE_CLSACT=1.
detach_leaves_foreign() {
	local tc_id
	need_foreign
	lvip_add_veth2
	run --separate-stderr lvip attach veth0 veth2
	assert_status 0
	tc_id=$(tc_egress_ids "$RS" veth0)
	[ -n "$tc_id" ] || fail "no lvip egress program on veth0"
	# somebody else's egress filter next to lvip's (clsact: absent on tcx)
	rs tc qdisc add dev veth0 clsact 2>/dev/null || true
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
	if [ -e "$PIN/tcx_$(ifindex "$RS" veth0)" ]; then fail "veth0's tcx link pin left behind"; fi
	[ "$(xdp_prog_id "$RS" veth2)" -gt 0 ] || fail "detach veth0 detached veth2 too"

	run --separate-stderr lvip detach --all
	assert_status 0
	assert_eq 0 "$(xdp_prog_id "$RS" veth2)" "XDP program on veth2 after detach --all"
	assert_eq "" "$(tc_egress_ids "$RS" veth2)" "egress filters on veth2 after detach --all"
	run --separate-stderr lvip status --json
	json_assert "d['interfaces'] == []" "$output"
}

@test "detach: removes lvip's XDP link and tc egress program (tcx), leaves another egress filter alone" {
	detach_leaves_foreign
}

@test "detach: the same with lvip's egress program as a clsact filter (LVIP_FORCE_CLSACT=1)" {
	export LVIP_FORCE_CLSACT=1
	detach_leaves_foreign
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

# ---------------------------------------------------------------- bad command lines

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

# ---------------------------------------------------------------- bad config files

@test "a broken config is reported with file and line and changes nothing" {
	conf "interface veth0" "vip 198.18.0.100"
	lvip apply -f "$CONF"
	before=$(lvip_state_snapshot)
	local -a bad=(
		"vip 198.18.0.300|invalid VIP"
		"vip 224.0.0.1|multicast"
		"vip 198.18.0.0/24|only /32"
		"vip ::ffff:198.18.0.1|IPv4-mapped"
		"vip 198.18.0.100|duplicate vip"
		"vip|exactly one address"
		"frobnicate veth0|unknown directive"
		"interface veth0 mode=turbo|unknown interface option"
		"interface veth9|no such interface"
		"interface lo|not on 'lo'"
		"interface averyveryverylongname0|too long"
	)
	for case in "${bad[@]}"; do
		conf "interface veth0" "# comment" "vip 198.18.0.100" "${case%%|*}"
		run lvip apply -f "$CONF"
		[ "$status" -eq 2 ] || fail "'${case%%|*}': exit $status, not 2: $output"
		[ "${#lines[@]}" -eq 1 ] || fail "'${case%%|*}': not one line: $output"
		[[ "$output" == *"$CONF:4: "*"${case#*|}"* ]] || fail "'${case%%|*}': no file:4 and reason: $output"
	done
	after=$(lvip_state_snapshot)
	[ "$before" = "$after" ] || fail "a broken config changed the state: $(diff <(echo "$before") <(echo "$after"))"
}

@test "apply refuses an empty file, binary garbage and a missing file, exit 2" {
	: > "$CONF"
	run lvip apply -f "$CONF"
	assert_status 2
	printf 'interface veth0\nvip 198.18.0.100\x00\n' > "$CONF"
	run lvip apply -f "$CONF"
	assert_status 2
	[[ "$output" == *":2: binary data"* ]] || fail "$output"
	run lvip apply -f "$LVIP_T_TMP/does-not-exist.conf"
	assert_status 2
	[ ! -e "$PIN" ] || fail "pin dir created"
}

# ---------------------------------------------------------------- more bad input, command lines and files

# The command lines: one per entry, split on blanks; {EMPTY} is an empty
# argument, {NL} a newline (an error must stay one line whatever it echoes).
CLI_CASES=(
	"vip add 198.18.0.1/32/32"
	"vip add 198.18.0.1/+32"
	"vip add 198.18.0.1/-1"
	"vip add 198.18.0.1/0"
	"vip add 198.018.0.1"
	"vip add 198.18.1"
	"vip add 0xc6.0x12.0.1"
	"vip add 198.18.0.1%"
	"vip add 2001:db8:::1"
	"vip add 2001:db8::1%veth0"
	"vip add 2001:db8::1/0"
	"vip add {EMPTY}"
	"vip add 239.255.255.255"
	"vip add 127.255.255.254"
	"vip add 169.254.255.255"
	"vip add febf::1"
	"vip add ff0e::1"
	"vip add ::ffff:0.0.0.0"
	"vip add ::ffff:198.18.0.1/128"
	"vip add 0.0.0.0/32"
	"vip add ::/128"
	"vip add ::1/128"
	"vip add 198.18.0.1{NL}lvip:_forged_second_line"
	"vip add 198.18.0.1 --keep-lo"
	"vip del 198.18.0.100 --no-lo"
	"vip list extra"
	"attach aaaaaaaaaaaaaaaa"
	"attach {EMPTY}"
	"attach veth0 --mode={EMPTY}"
	"attach veth0 --max-vips 0"
	"attach veth0 --max-vips 16777217"
	"attach veth0 --max-vips -1"
	"detach --all veth0"
	"detach {EMPTY}"
	"detach aaaaaaaaaaaaaaaa"
	"stats --json --prometheus"
	"stats --count 3"
	"stats --watch 0"
	"status extra"
	"check extra"
	"down extra"
	"apply extra"
	"apply -f"
	"--pin-dir {EMPTY} status"
)

# Config lines (line 2, after "interface veth0"), each with the reason the
# message must contain.
CONF_CASES=(
	"vip 255.255.255.255|broadcast"
	"vip 127.0.0.1|loopback"
	"vip ::1|loopback"
	"vip 0.0.0.0|unspecified"
	"vip ::|unspecified"
	"vip 169.254.0.1|link-local"
	"vip fe80::1|link-local"
	"vip ff02::1|multicast"
	"vip 2001:db8::1/64|only /128"
	"vip 198.18.0.1/33|invalid VIP"
	"vip 198.18.0.1 198.18.0.2|exactly one address"
	"vip 198.18.0.1%|invalid VIP"
	"vip ::ffff:198.18.0.1/128|IPv4-mapped"
	# a long token: the reason still ends the line (it was cut at 160 bytes)
	"vip 198.18.0.1$(printf 'z%.0s' {1..200})|': not an IPv4 or IPv6 address"
	"interface|needs a name"
	"interface veth0 mode=|unknown interface option"
	"interface veth0 bogus|unknown interface option"
	"interface aaaaaaaaaaaaaaaa|too long"
	"VIP 198.18.0.1|unknown directive"
	"include /etc/lvip/other.conf|unknown directive"
)

# Config files whose line 3 repeats line 2 in another spelling.
DUP_CASES=(
	"vip 198.18.0.100|vip 198.18.0.100/32"
	"vip 2001:db8::1|vip 2001:0db8:0:0::1"
	"interface veth2|interface veth2 mode=native"
)

# problem TEXT: one failed case (counted once however many lines TEXT has).
problem() {
	problems+="$*"$'\n'
	nproblems=$((nproblems + 1))
}

# bad_case WHAT WANT CMD...: run lvip CMD; exit 2, one stderr line, state
# unchanged. WANT (may be empty) must appear in the line.
bad_case() {
	local what=$1 want=$2 after
	shift 2
	ncases=$((ncases + 1))
	run --separate-stderr timeout 10 ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" "$@"
	if [ "$status" -ne 2 ]; then
		problem "$what: exit $status, expected 2$( [ "$status" -eq 124 ] && echo ' (killed after 10 s: it hung)'): ${stderr:-<no stderr>}"
	elif [ "${#stderr_lines[@]}" -ne 1 ] || [ -z "${stderr_lines[0]}" ]; then
		problem "$what: ${#stderr_lines[@]} lines on stderr, expected 1: $stderr"
	elif [ -n "$want" ] && [[ "$stderr" != *"$want"* ]]; then
		problem "$what: the message lacks '$want': $stderr"
	fi
	after=$(lvip_state_snapshot)
	if [ "$after" != "$before" ]; then
		problem "$what: state changed:"$'\n'"$(diff <(echo "$before") <(echo "$after"))"
		before=$after
	fi
}

@test "bad input: $(( ${#CLI_CASES[@]} + ${#CONF_CASES[@]} + ${#DUP_CASES[@]} + 9 )) command lines and config files, each exit 2 with one line, state unchanged" {
	local c w line nconf=0 ncli=0 conf=$BATS_TEST_TMPDIR/bad.conf
	local -a argv
	problems="" nproblems=0 ncases=0
	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add 198.18.0.100 2001:db8::100
	assert_status 0
	before=$(lvip_state_snapshot)

	for c in "${CLI_CASES[@]}"; do
		read -r -a argv <<<"$c"
		for w in "${!argv[@]}"; do
			argv[w]=${argv[w]//\{EMPTY\}/}
			argv[w]=${argv[w]//\{NL\}/$'\n'}
		done
		bad_case "lvip $c" "" "${argv[@]}"
		ncli=$((ncli + 1))
	done

	for c in "${CONF_CASES[@]}"; do
		printf '%s\n' "interface veth0" "${c%%|*}" "vip 198.18.0.100" >"$conf"
		bad_case "config line '${c%%|*}'" "$conf:2: " apply -f "$conf"
		[[ "$stderr" == *"${c#*|}"* ]] || problem "config line '${c%%|*}': the reason lacks '${c#*|}': $stderr"
		nconf=$((nconf + 1))
	done
	for c in "${DUP_CASES[@]}"; do
		printf '%s\n' "interface veth0" "${c%%|*}" "${c#*|}" "vip 198.18.0.100" >"$conf"
		bad_case "duplicate '${c%%|*}' / '${c#*|}'" "$conf:3: " apply -f "$conf"
		[[ "$stderr" == *duplicate* ]] || problem "duplicate '${c#*|}': the reason lacks 'duplicate': $stderr"
		nconf=$((nconf + 1))
	done

	# Whole files.
	printf '# only comments\n\n   \n\t# and blanks\n' >"$conf"
	bad_case "a file of comments and blank lines" "$conf" apply -f "$conf"
	printf '\xef\xbb\xbfinterface veth0\nvip 198.18.0.100\n' >"$conf"
	bad_case "a UTF-8 byte order mark" "$conf:1: " apply -f "$conf"
	python3 -c 'import random, sys; r = random.Random(7); sys.stdout.buffer.write(bytes(r.choice([b for b in range(1, 256) if b not in b"\n# \t\r"]) for _ in range(3000)))' >"$conf"
	bad_case "3000 bytes of binary garbage (no NUL, newline or #)" "$conf:1: " apply -f "$conf"
	printf 'interface veth0\nvip 198.18.0.100\n\x80\x81\xfe\xff garbage\n' >"$conf"
	bad_case "binary garbage on line 3" "$conf:3: " apply -f "$conf"
	{ printf 'interface veth0\n'; printf 'vip 198.18.0.100 #'; head -c 5000 /dev/zero | tr '\0' x; printf '\n'; } >"$conf"
	bad_case "a line of 5019 bytes (limit 4096)" "$conf:2: " apply -f "$conf"
	{ printf 'interface veth0\nvip 198.18.0.100\n'; yes '# padding padding padding padding padding' | head -c $((17 * 1024 * 1024)); } >"$conf"
	bad_case "a 17 MiB file (limit 16 MiB)" "$conf" apply -f "$conf"
	rm -f "$conf"
	mkdir "$BATS_TEST_TMPDIR/dir.conf"
	bad_case "a directory" "$BATS_TEST_TMPDIR/dir.conf" apply -f "$BATS_TEST_TMPDIR/dir.conf"
	bad_case "a character device (/dev/zero)" "/dev/zero" apply -f /dev/zero
	mkfifo "$BATS_TEST_TMPDIR/fifo.conf"
	bad_case "a FIFO nobody writes to" "$BATS_TEST_TMPDIR/fifo.conf" apply -f "$BATS_TEST_TMPDIR/fifo.conf"
	nconf=$((nconf + 9))

	figure "bad input: $ncases cases ($ncli command lines, $nconf config files), $nproblems not exit 2 with one line and the state unchanged"
	[ "$ncases" -ge 30 ] || fail "only $ncases cases"
	[ -z "$problems" ] || fail "$problems"
	lo_has "$RS" 198.18.0.1/32 && fail "198.18.0.1 reached lo"
	return 0
}

# ---------------------------------------------------------------- guards: VIPs that would cut the server off

# Addresses the host itself uses (RS: veth0 198.18.0.11/24, 2001:db8::11/64):
# ADDR|as printed|what the one line must say. As a VIP each would be dropped
# from ARP/ND on every attached interface: the server's own address cuts it
# off, a subnet's network or broadcast address (or IPv6 subnet-router
# anycast) breaks that subnet.
GUARD_CASES=(
	"198.18.0.11|198.18.0.11|an address of interface veth0 (the server's own: ARP for it would be dropped)"
	"2001:db8::11|2001:db8::11|an address of interface veth0 (the server's own: ND for it would be dropped)"
	"198.18.0.0|198.18.0.0|the network address of 198.18.0.0/24 on veth0"
	"198.18.0.255|198.18.0.255|the broadcast address of 198.18.0.0/24 on veth0"
	"2001:db8::|2001:db8::|the subnet-router anycast address of 2001:db8::/64 on veth0"
	"2001:db8:0::0/128|2001:db8::|the subnet-router anycast address of 2001:db8::/64 on veth0"
)

# guard_case WHAT WANT CMD...: bad_case, counting the cases that failed.
guard_case() {
	local p0=$nproblems
	bad_case "$@"
	[ "$nproblems" -eq "$p0" ] || nbad=$((nbad + 1))
}

@test "guards: the server's own address, a connected subnet's network, broadcast and subnet-router anycast address: vip add, apply, watch exit 2 with one line, nothing changed" {
	local c addr canon why conf=$BATS_TEST_TMPDIR/guard.conf
	problems="" nproblems=0 ncases=0 nbad=0
	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add 198.18.0.100 2001:db8::100
	assert_status 0
	before=$(lvip_state_snapshot)

	for c in "${GUARD_CASES[@]}"; do
		IFS='|' read -r addr canon why <<<"$c"
		guard_case "vip add $addr" "vip add: invalid VIP '$addr': $why" vip add "$addr"
		guard_case "vip add --no-lo $addr" "vip add: invalid VIP '$addr': $why" vip add --no-lo "$addr"
		guard_case "vip add 198.18.0.101 $addr (a batch)" "vip add: invalid VIP '$addr': $why" \
			vip add 198.18.0.101 "$addr"
		printf '%s\n' "interface veth0" "vip 198.18.0.100" "vip 2001:db8::100" "vip $addr" >"$conf"
		guard_case "apply of 'vip $addr'" "$conf:4: invalid VIP '$canon': $why" apply -f "$conf"
		guard_case "apply --dry-run of 'vip $addr'" "$conf:4: invalid VIP '$canon': $why" \
			apply --dry-run -f "$conf"
		guard_case "watch of 'vip $addr'" "$conf:4: invalid VIP '$canon': $why" watch -f "$conf"
	done

	figure "guards: $ncases cases (own address, network, broadcast, subnet-router anycast; vip add, batch, apply, dry run, watch), $nbad not exit 2 with one line and the state unchanged"
	[ -z "$problems" ] || fail "$problems"
	run --separate-stderr lvip vip list --json
	assert_status 0
	json_assert "sorted(v['address'] for v in d) == ['198.18.0.100', '2001:db8::100']" "$output"
	for addr in 198.18.0.11/32 198.18.0.0/32 198.18.0.255/32 198.18.0.101/32 2001:db8::11/128 2001:db8::/128; do
		lo_has "$RS" "$addr" && fail "$addr reached lo"
	done
	return 0
}

@test "guards: not refused: an address on lo (adopted), another address of the subnet, a /31 and /32 peer, vip del of the server's own address" {
	rs ip addr add 198.18.5.1/32 dev lo
	rs ip addr add 198.18.6.1/24 dev lo
	rs ip addr add 198.18.7.0/31 dev veth0
	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add 198.18.5.1 198.18.6.255 198.18.0.254 198.18.7.1 2001:db8::1:0
	assert_status 0
	run --separate-stderr lvip vip list --json
	json_assert "sorted(v['address'] for v in d) == ['198.18.0.254', '198.18.5.1', '198.18.6.255', '198.18.7.1', '2001:db8::1:0']" "$output"
	run --separate-stderr lvip vip del 198.18.0.11
	assert_status 0
	assert_contains "$output" "198.18.0.11: not a VIP, nothing to do"
	run --separate-stderr lvip vip add 198.18.7.0
	assert_status 2
	assert_contains "$stderr" "an address of interface veth0"
}

@test "guards: watch keeps the previous config when a SIGHUP brings the server's own address" {
	local conf=$BATS_TEST_TMPDIR/watch.conf log=$BATS_TEST_TMPDIR/watch.log pid
	printf '%s\n' "interface veth0" "vip 198.18.0.100" >"$conf"
	bg_start pid ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" watch -f "$conf" 2>"$log"
	wait_until 5 lo_has "$RS" 198.18.0.100/32 || fail "watch did not apply the file: $(cat "$log")"
	printf '%s\n' "interface veth0" "vip 198.18.0.100" "vip 198.18.0.11" >"$conf"
	kill -HUP "$pid"
	wait_until 5 grep -q "not reloaded" "$log" || fail "no 'not reloaded' after SIGHUP: $(cat "$log")"
	grep -qF "$conf:3: invalid VIP '198.18.0.11': an address of interface veth0" "$log" ||
		fail "the line is not named: $(cat "$log")"
	kill -0 "$pid" || fail "watch exited: $(cat "$log")"
	run --separate-stderr lvip vip list --json
	json_assert "[v['address'] for v in d] == ['198.18.0.100']" "$output"
	lo_has "$RS" 198.18.0.11/32 && fail "198.18.0.11 reached lo"
	bg_stop "$pid"
}

# ---------------------------------------------------------------- odd interface names
#
# Interface names that are not plain text. Linux allows any byte in a name
# but '/', ':', NUL and whitespace: bytes >= 0x80 that are not UTF-8, and
# control characters. lvip prints every interface name with such bytes (and
# a backslash) written as \xNN text, so that its JSON stays valid UTF-8, its
# tables and messages hold no raw control byte, and the name can be told.

# odd_names_setup: in the real server's namespace, $N1 (v, 0x01, x) and its
# veth peer $N2 (v, 0xff, y), up, next to veth0; E1 and E2 are the names as
# lvip prints them.
odd_names_setup() {
	N1=$'v\x01x' N2=$'v\xffy'
	E1='v\x01x' E2='v\xffy'
	ip -n "$RS" link add name "$N1" type veth peer name "$N2" || return 1
	ip -n "$RS" addr add 198.18.20.1/24 dev "$N1"
	ip -n "$RS" addr add 198.18.21.1/24 dev "$N2"
	ip -n "$RS" link set "$N1" up
	ip -n "$RS" link set "$N2" up
}

# strict_json EXPR [ARG...]: stdin is JSON in strict UTF-8 and the Python
# expression EXPR over d (a: the ARGs) is true.
strict_json() {
	python3 -c '
import json, sys
raw = sys.stdin.buffer.read()
try:
    d = json.loads(raw.decode("utf-8"))
except Exception as e:
    sys.exit("not JSON in UTF-8 (%s): %r" % (e, raw[:3000]))
a = sys.argv[2:]
if not eval(sys.argv[1]):
    sys.exit("JSON assertion failed: %s (a = %r)\n--- JSON:\n%s" % (sys.argv[1], a, json.dumps(d, indent=1)))
' "$@"
}

# clean_text WHAT [NEEDLE...]: stdin is UTF-8 with no control character but
# newline and tab, and holds each NEEDLE.
clean_text() {
	python3 -c '
import sys, unicodedata
raw = sys.stdin.buffer.read()
what = sys.argv[1]
try:
    t = raw.decode("utf-8")
except UnicodeDecodeError as e:
    sys.exit("%s: not UTF-8 (%s): %r" % (what, e, raw[:3000]))
bad = sorted({c for c in t if unicodedata.category(c) == "Cc" and c not in "\n\t"})
if bad:
    sys.exit("%s: raw control characters %r in: %r" % (what, bad, t[:3000]))
for n in sys.argv[2:]:
    if n not in t:
        sys.exit("%s: %r not in: %r" % (what, n, t[:3000]))
' "$@"
}

# out: what the last `run --separate-stderr` printed, stdout and stderr.
out() { printf '%s\n%s\n' "$output" "$stderr"; }

# expect CHECK ARG...: run `out | CHECK ARG...` on the last run's output;
# count it in nchecks, and in nbad with its message in bad if it fails.
expect() {
	local msg
	nchecks=$((nchecks + 1))
	msg=$(out | "$@" 2>&1) && return 0
	nbad=$((nbad + 1))
	bad+="$msg"$'\n'
}

@test "odd interface names: apply --dry-run, check, attach, status, stats, detach print them as \\xNN; JSON stays valid UTF-8" {
	odd_names_setup
	local pat="any(c.get('interface') == a[0] and c['action'] == '%s' for c in d['changes']) and any(c.get('interface') == a[1] for c in d['changes'])"
	local attach_pat detach_pat
	printf -v attach_pat "$pat" attach
	printf -v detach_pat "$pat" detach
	nchecks=0 nbad=0 bad=""
	printf '%s\n' "interface v*" "vip 198.18.0.100" >"$CONF"

	run --separate-stderr lvip apply --dry-run --json -f "$CONF"
	assert_status 0
	expect strict_json "$attach_pat" "$E1" "$E2"
	run --separate-stderr lvip apply --dry-run -f "$CONF"
	assert_status 0
	expect clean_text "apply --dry-run" "would attach $E1 (mode auto)" "would attach $E2 (mode auto)"

	rs ip addr add 198.18.0.100/32 dev lo   # something to hide: every up interface is judged
	run --separate-stderr lvip check --json
	assert_status 1
	expect strict_json "any(f.get('interface') == a[0] and a[0] in f['message'] and f['severity'] == 'exposed' for f in d['findings'])" "$E1"
	run --separate-stderr lvip check
	expect clean_text "check" "$E1 is up and answers ARP" "$E2 is up and answers ARP"
	rs ip addr del 198.18.0.100/32 dev lo

	run --separate-stderr lvip attach veth0 "$N1" "$N2"
	assert_status 0
	expect clean_text "attach" "$E1: attached" "$E2: attached"

	run --separate-stderr lvip status --json
	assert_status 0
	expect strict_json "sorted(i['name'] for i in d['interfaces']) == sorted(a)" veth0 "$E1" "$E2"
	run --separate-stderr lvip status
	assert_status 0
	expect clean_text "status" "$E1 " "$E2 "
	nchecks=$((nchecks + 1))
	if LC_ALL=C grep -q $'\x01' <<<"$output" || ! grep -qF "$E1" <<<"$output"; then
		nbad=$((nbad + 1))
		bad+="status table: a raw 0x01 byte, or no '$E1': $output"$'\n'
	fi

	ip netns exec "$RS" sh -c 'echo 1 >"/proc/sys/net/ipv4/conf/$1/proxy_arp"' sh "$N2"
	run --separate-stderr lvip check --json
	expect strict_json "any(f.get('interface') == a[0] and 'proxy_arp is on for ' + a[0] in f['message'] for f in d['findings'])" "$E2"
	run --separate-stderr lvip check
	expect clean_text "check after attach" "proxy_arp is on for $E2"

	run --separate-stderr lvip stats --json
	assert_status 0
	expect strict_json "sorted(i['name'] for i in d['interfaces']) == sorted(a)" veth0 "$E1" "$E2"
	run --separate-stderr lvip stats
	expect clean_text "stats" "$E1 " "$E2 "
	run --separate-stderr lvip stats --prometheus
	expect clean_text "stats --prometheus" "interface=\"v\\\\x01x\"" "interface=\"v\\\\xffy\""

	printf '%s\n' "interface veth0" "vip 198.18.0.100" >"$CONF"
	run --separate-stderr lvip apply --dry-run --json -f "$CONF"
	assert_status 0
	expect strict_json "$detach_pat" "$E1" "$E2"
	run --separate-stderr lvip apply --dry-run -f "$CONF"
	expect clean_text "apply --dry-run" "would detach $E1" "would detach $E2"

	run --separate-stderr lvip detach "$N1" "$N2"
	assert_status 0
	expect clean_text "detach" "$E1: detached" "$E2: detached"
	run --separate-stderr lvip detach "$N1"
	expect clean_text "detach again" "$E1: not attached, nothing to do"
	figure "odd interface names: $nchecks outputs (JSON of apply --dry-run, check, status, stats; tables and lines of apply, check, attach, status, stats, Prometheus, detach), $nbad invalid or with raw bytes"
	[ "$nbad" -eq 0 ] || fail "$bad"
}

@test "odd interface names in messages: one line, \\xNN for control and non-UTF-8 bytes" {
	odd_names_setup
	run --separate-stderr lvip attach $'v\xfez'
	assert_status 2
	out | clean_text "attach of a missing odd name" "attach: no such interface 'v\\xfez'"
	printf 'interface %s\n' $'w\xfe\x02' >"$CONF"
	run --separate-stderr lvip apply -f "$CONF"
	assert_status 2
	out | clean_text "apply of a missing odd name" "$CONF:1: no such interface 'w\\xfe\\x02'"
	# a valid UTF-8 name is printed as it is; a C1 control character
	# (valid UTF-8) and a backslash (so that \xNN is not ambiguous) are not
	ip -n "$RS" link add name "vé" type veth peer name "v€"
	ip -n "$RS" link add name $'c\xc2\x85' type veth peer name 'b\x01'
	run --separate-stderr lvip attach "vé" "v€" $'c\xc2\x85' 'b\x01'
	assert_status 0
	out | clean_text "attach of UTF-8 names" "vé: attached" "v€: attached" 'c\xc2\x85: attached' \
		'b\x5cx01: attached'
	run --separate-stderr lvip status --json
	out | strict_json "set(a) <= {i['name'] for i in d['interfaces']}" "vé" "v€" 'c\xc2\x85' 'b\x5cx01'
}

@test "odd interface names in watch's lines: \xNN" {
	odd_names_setup
	local log=$BATS_TEST_TMPDIR/watch.log pid
	printf '%s\n' "interface v*" "vip 198.18.0.100" >"$CONF"
	bg_start pid ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" watch -f "$CONF" 2>"$log"
	wait_until 5 grep -qF "lvip watch: attach $E2 (mode auto)" "$log" ||
		fail "watch did not report attaching $E2: $(cat -v "$log")"
	grep -qF "lvip watch: attach $E1 (mode auto)" "$log" || fail "no '$E1' in: $(cat -v "$log")"
	bg_stop "$pid"
	clean_text "watch's log" <"$log"
}

@test "an unknown command or global option is named as such, before any privilege check" {
	local nocaps=(setpriv --bounding-set=-all --inh-caps=-all)
	run --separate-stderr "${nocaps[@]}" "$LVIP" bogus
	assert_status 2
	assert_eq "lvip: unknown command 'bogus' (see 'lvip --help')" "$stderr" "without privileges"
	run --separate-stderr "${nocaps[@]}" "$LVIP" status
	assert_status 1
	assert_contains "$stderr" "status needs root"
	run --separate-stderr "$LVIP" -j vip list
	assert_status 2
	assert_eq "lvip: unknown option '-j' (see 'lvip --help')" "$stderr" "a command's option given as a global one"
}
