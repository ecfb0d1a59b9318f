#!/usr/bin/env bats
# tests/reliability-badinput.bats - bad input across the command line and
# the config file. Each case exits 2 with exactly one line on stderr (naming
# FILE:LINE for a config line, FILE for a whole-file problem) and leaves the
# state byte-for-byte unchanged (lvip_state_snapshot: lo, links, egress
# filters, every pinned map, the pin dir).
#
# Not repeated here: the cases of loader.bats ("bad input": 43 command lines)
# and ops.bats ("a broken config ...", "apply refuses an empty file ...").

bats_require_minimum_version 1.5.0

load lib/netns
load lib/assertions

setup_file()    { lvip_env_check; lvip_tmp_setup; }
teardown_file() { lvip_tmp_teardown; }
setup()         { lvip_env_require; lvip_netns_setup; }
teardown()      { lvip_netns_teardown; }

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
