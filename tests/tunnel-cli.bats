#!/usr/bin/env bats
# tests/tunnel-cli.bats - the loader side of LVS-TUN decapsulation (issue 13):
#
#  - lvip tunnel add|del|list: what lands in lvip_tunnel and lvip_tunaddr,
#    read with bpftool (flags, port in network order, MSS, the PEER(type)
#    bits of the directors, the LOCAL bit of each of this host's addresses);
#    replacing a type's settings, "unchanged", deleting an absent type;
#  - every bad command line and config line: exit 2, one line on stderr,
#    the state (every pinned map included) byte for byte unchanged;
#  - apply, save and apply again: the same state, "no changes"; dry-run
#    shows the tunnel changes and changes nothing;
#  - watch follows an address added to or removed from veth0 into
#    lvip_tunaddr;
#  - status and check call a lvip_tunaddr that misses an address of the
#    host tunaddr_stale (exit 1); stats shows the counters written into
#    lvip_tunstats (text, JSON, Prometheus);
#  - check names a VIP on a kernel tunnel device (faked: no tunnel modules
#    here) and says what lvip offers instead.
#
#   RS   namespace: lo, veth0 198.18.0.11/24 2001:db8::11/64 (the real server)
#   PEER namespace: lo, veth1 198.18.0.1/24  2001:db8::1/64  (the director)
#
# Without root/BPF the tests skip, or fail when LVIP_REQUIRE_BPF=1.

bats_require_minimum_version 1.5.0

load lib/netns
load lib/assertions

VIP4=198.18.0.100

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
	CONF=$BATS_TEST_TMPDIR/lvip.conf
}

teardown() {
	lvip_netns_teardown
}

# tunnel_map: lvip_tunnel as "TYPE FLAGS PORT(host order) MSS" lines, by bpftool.
tunnel_map() {
	bpftool -j map dump pinned "$PIN/lvip_tunnel" | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    v = bytes(int(b, 16) for b in e["value"])
    k = int.from_bytes(bytes(int(b, 16) for b in e["key"]), "little")
    print(k, int.from_bytes(v[0:2], "little"), int.from_bytes(v[2:4], "big"), int.from_bytes(v[4:6], "little"))'
}

# tunaddr_map: lvip_tunaddr as sorted "ADDRESS VALUE" lines (IPv4-mapped
# keys as IPv4), by bpftool.
tunaddr_map() {
	bpftool -j map dump pinned "$PIN/lvip_tunaddr" | python3 -c '
import ipaddress, json, sys
out = []
for e in json.load(sys.stdin):
    a = ipaddress.IPv6Address(bytes(int(b, 16) for b in e["key"]))
    a = a.ipv4_mapped or a
    out.append("%s %d" % (a, int.from_bytes(bytes(int(b, 16) for b in e["value"]), "little")))
print("\n".join(sorted(out)))'
}

# tunaddr_local: the addresses with the LOCAL bit, sorted.
tunaddr_local() {
	tunaddr_map | awk '$2 % 2 == 1 { print $1 }'
}

# host_addrs: what the LOCAL entries must be, read with ip: every address
# of scope below host but loopback ones (no VIP is on lo in these tests).
host_addrs() {
	ip -n "$RS" -j addr show | python3 -c '
import ipaddress, json, sys
out = set()
for l in json.load(sys.stdin):
    for a in l.get("addr_info", []):
        if a.get("scope") in ("host",) or ipaddress.ip_address(a["local"]).is_loopback:
            continue
        out.add(a["local"])
print("\n".join(sorted(out)))'
}

# The map values: LOCAL 1, PEER(type) 1 << (8 + type).
PEER_IPIP=256 PEER_GUE=512 PEER_GRE=1024

@test "tunnel add, list, del: lvip_tunnel and lvip_tunaddr hold exactly the settings, peers and this host's addresses" {
	run --separate-stderr lvip attach veth0
	assert_status 0
	assert_eq "0 0 0 0
1 0 0 0
2 0 0 0" "$(tunnel_map)" "lvip_tunnel after attach"
	assert_eq "" "$(tunaddr_map)" "lvip_tunaddr with no tunnel (LOCAL entries only while a type is enabled)"

	run --separate-stderr lvip tunnel add ipip --peer 198.18.0.1 --peer 2001:db8::1 --mss auto
	assert_status 0
	assert_eq "ipip: added (peers 198.18.0.1 2001:db8::1, mss auto)" "$output"
	run --separate-stderr lvip tunnel add gue --port 6080 --mss 1400
	assert_status 0
	assert_eq "0 3 0 65535
1 1 6080 1400
2 0 0 0" "$(tunnel_map)" "lvip_tunnel (flags ENABLED|PEERS = 3, port in network order)"
	# the port is stored in network order: 6080 = 0x17c0, bytes 17 c0
	bpftool -j map lookup pinned "$PIN/lvip_tunnel" key 1 0 0 0 | grep -q '"0x17","0xc0"' ||
		fail "port not in network order: $(bpftool -j map lookup pinned "$PIN/lvip_tunnel" key 1 0 0 0)"
	assert_eq "$(host_addrs)" "$(tunaddr_local)" "LOCAL entries = the host's addresses"
	tunaddr_map | grep -qx "198.18.0.1 $PEER_IPIP" || fail "peer 198.18.0.1: $(tunaddr_map)"
	tunaddr_map | grep -qx "2001:db8::1 $PEER_IPIP" || fail "peer 2001:db8::1: $(tunaddr_map)"
	tunaddr_map | grep -qx "198.18.0.11 1" || fail "LOCAL 198.18.0.11: $(tunaddr_map)"
	tunaddr_map | grep -q '^127\.\|^::1 ' && fail "a loopback address is LOCAL: $(tunaddr_map)"

	run --separate-stderr lvip tunnel list --json
	assert_status 0
	json_assert "[t['type'] for t in d] == ['ipip', 'gue']" "$output"
	json_assert "d[0]['peers'] == ['198.18.0.1', '2001:db8::1'] and d[0]['mss'] == 'auto' and d[0]['port'] == 0" "$output"
	json_assert "d[1]['peers'] == [] and d[1]['mss'] == '1400' and d[1]['port'] == 6080" "$output"
	json_assert "set(d[0]['counters']) == {'decapsulated', 'not_vip', 'peer_refused', 'fragment', 'malformed'}" "$output"
	run --separate-stderr lvip tunnel list
	assert_status 0
	grep -q '^gue  *6080  *1400 .* any$' <<<"$output" || fail "text list: $output"

	# the same settings again: unchanged; other settings: replaced
	run --separate-stderr lvip tunnel add gue --port 6080 --mss 1400
	assert_status 0
	assert_eq "gue: unchanged (port 6080, mss 1400)" "$output"
	run --separate-stderr lvip tunnel add ipip --peer 2001:db8::1
	assert_status 0
	assert_eq "ipip: updated (peers 2001:db8::1)" "$output"
	tunaddr_map | grep -q '^198\.18\.0\.1 ' && fail "the dropped peer stays: $(tunaddr_map)"
	assert_eq "0 3 0 0" "$(tunnel_map | head -n 1)" "ipip replaced (mss off)"

	run --separate-stderr lvip tunnel del ipip gre
	assert_status 0
	assert_eq "ipip: removed
gre: not configured, nothing to do" "$output"
	assert_eq "0 0 0 0" "$(tunnel_map | head -n 1)"
	tunaddr_map | grep -q '^2001:db8::1 ' && fail "the removed type's peer stays: $(tunaddr_map)"
	run --separate-stderr lvip tunnel del gue
	assert_status 0
	assert_eq "" "$(tunaddr_map)" "lvip_tunaddr once no type is enabled"
	run --separate-stderr lvip tunnel del gue
	assert_status 0
	assert_eq "gue: not configured, nothing to do" "$output"
}

@test "tunnel add/del before lvip is loaded: exit 1, nothing created; list says no tunnels" {
	run --separate-stderr lvip tunnel add ipip
	assert_status 1
	[ ! -e "$PIN" ] || fail "the pin dir was created"
	run --separate-stderr lvip tunnel del ipip
	assert_status 1
	run --separate-stderr lvip tunnel list
	assert_status 0
	assert_eq "no tunnels" "$output"
}

TUN_BAD=(
	"tunnel add"
	"tunnel add ipip gre"
	"tunnel add bogus"
	"tunnel add gue"
	"tunnel add gue --port 0"
	"tunnel add gue --port 65536"
	"tunnel add gue --port x"
	"tunnel add ipip --port 6080"
	"tunnel add gre --port 1"
	"tunnel add ipip --mss 535"
	"tunnel add ipip --mss 65535"
	"tunnel add ipip --mss fast"
	"tunnel add ipip --peer 198.18.0.999"
	"tunnel add ipip --peer 198.18.0.11"
	"tunnel add ipip --peer 2001:db8::11"
	"tunnel add ipip --peer 127.0.0.1"
	"tunnel add ipip --peer 198.18.0.0/24"
	"tunnel add ipip --bogus"
	"tunnel del"
	"tunnel del ipip bogus"
	"tunnel list extra"
	"tunnel bogus"
	"tunnel"
)

@test "bad input: ${#TUN_BAD[@]} tunnel command lines, each exit 2 with one line on stderr, state unchanged" {
	local before c
	lvip attach veth0 >/dev/null
	lvip tunnel add gue --port 6080 --peer 198.18.0.1 >/dev/null
	before=$(lvip_state_snapshot)
	for c in "${TUN_BAD[@]}"; do
		# shellcheck disable=SC2086 # the words of the case, on purpose
		run --separate-stderr lvip $c
		[ "$status" -eq 2 ] || fail "'lvip $c': exit $status, not 2 (stderr: $stderr)"
		[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || fail "'lvip $c': not one line: $stderr"
		[ -z "$output" ] || fail "'lvip $c' wrote to stdout: $output"
	done
	assert_state_unchanged "$before" "the state after ${#TUN_BAD[@]} bad tunnel commands"
}

CONF_BAD=(
	"tunnel"
	"tunnel bogus"
	"tunnel gue"
	"tunnel gue port=0"
	"tunnel gue port=70000"
	"tunnel gue port=1 port=2"
	"tunnel ipip port=6080"
	"tunnel ipip mss=100"
	"tunnel ipip mss=auto mss=1400"
	"tunnel ipip peer=198.18.0.1,nope"
	"tunnel ipip peer=198.18.0.11"
	"tunnel ipip color=red"
	"tunnel ipip peer=198.18.0.1 peer=198.18.0.2 peer=198.18.0.3 peer=198.18.0.4 peer=198.18.0.5 peer=198.18.0.6 peer=198.18.0.7"
)

@test "bad config lines: ${#CONF_BAD[@]} tunnel lines (and a duplicate), apply exits 2 naming file:line, state unchanged" {
	local before l
	lvip attach veth0 >/dev/null
	lvip tunnel add ipip >/dev/null
	before=$(lvip_state_snapshot)
	for l in "${CONF_BAD[@]}"; do
		printf '%s\n' "interface veth0" "$l" >"$CONF"
		run --separate-stderr lvip apply -f "$CONF"
		[ "$status" -eq 2 ] || fail "'$l': exit $status, not 2 (stderr: $stderr)"
		[[ "$stderr" == "lvip: $CONF:2: "* ]] || fail "'$l': not named $CONF:2: $stderr"
		[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || fail "'$l': not one line: $stderr"
	done
	printf '%s\n' "interface veth0" "tunnel gre" "tunnel gre mss=auto" >"$CONF"
	run --separate-stderr lvip apply -f "$CONF"
	assert_status 2
	assert_eq "lvip: $CONF:3: duplicate tunnel 'gre' (first at $CONF:2)" "$stderr"
	assert_state_unchanged "$before" "the state after bad config files"
}

@test "apply: tunnels added, changed, removed as the file says; dry-run changes nothing; save and apply again: no changes" {
	local before saved=$BATS_TEST_TMPDIR/saved.conf
	printf '%s\n' "interface veth0" "tunnel ipip peer=198.18.0.1,2001:db8::1 mss=auto" \
		"tunnel gue port=6080" >"$CONF"
	run --separate-stderr lvip apply -f "$CONF"
	assert_status 0
	grep -qx "add tunnel ipip peer=198.18.0.1,2001:db8::1 mss=auto" <<<"$output" || fail "plan: $output"
	grep -qx "add tunnel gue port=6080" <<<"$output" || fail "plan: $output"
	assert_eq "0 3 0 65535
1 1 6080 0
2 0 0 0" "$(tunnel_map)"
	assert_eq "$(host_addrs)" "$(tunaddr_local)" "LOCAL entries after apply"

	run --separate-stderr lvip save
	assert_status 0
	printf '%s\n' "$output" >"$saved"
	grep -qx "tunnel ipip peer=198.18.0.1,2001:db8::1 mss=auto" "$saved" || fail "save: $output"
	grep -qx "tunnel gue port=6080" "$saved" || fail "save: $output"
	before=$(lvip_state_snapshot)
	run --separate-stderr lvip apply -f "$saved"
	assert_status 0
	assert_eq "no changes" "$output"
	assert_state_unchanged "$before" "apply of the saved file"

	printf '%s\n' "interface veth0" "tunnel ipip mss=1400" "tunnel gre peer=198.18.0.1" >"$CONF"
	before=$(lvip_state_snapshot)
	run --separate-stderr lvip apply -f "$CONF" --dry-run --json
	assert_status 0
	json_assert "sorted((c['action'], c['type']) for c in d['changes']) == [('add_tunnel', 'gre'), ('change_tunnel', 'ipip'), ('remove_tunnel', 'gue')]" "$output"
	json_assert "d['applied'] is False" "$output"
	assert_state_unchanged "$before" "apply --dry-run"
	run --separate-stderr lvip apply -f "$CONF"
	assert_status 0
	assert_eq "0 1 0 1400
1 0 0 0
2 3 0 0" "$(tunnel_map)"
	tunaddr_map | grep -qx "198.18.0.1 $PEER_GRE" || fail "peer of gre only: $(tunaddr_map)"
	tunaddr_map | grep -q '^2001:db8::1 ' && fail "ipip's old peer stays: $(tunaddr_map)"

	# a file without tunnel lines removes them all, and the LOCAL entries
	printf '%s\n' "interface veth0" >"$CONF"
	run --separate-stderr lvip apply -f "$CONF"
	assert_status 0
	assert_eq "" "$(tunaddr_map)"
	tunnel_map | grep -qv ' 0 0 0$' && fail "a type stays enabled: $(tunnel_map)"
	true
}

@test "watch: an address added to or removed from veth0 enters or leaves lvip_tunaddr" {
	local log=$BATS_TEST_TMPDIR/watch.log pid
	printf '%s\n' "interface veth0" "tunnel ipip" >"$CONF"
	bg_start pid ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" watch -f "$CONF" 2>"$log"
	wait_until 10 grep -q 'add tunnel ipip' "$log" || fail "watch did not add the tunnel: $(cat "$log")"
	tunaddr_local | grep -qx 198.18.0.11 || fail "no LOCAL 198.18.0.11: $(tunaddr_map)"

	ip -n "$RS" addr add 198.18.0.12/24 dev veth0
	ip -n "$RS" addr add 2001:db8::12/64 dev veth0 nodad
	wait_until 10 eval 'tunaddr_local | grep -qx 198.18.0.12 && tunaddr_local | grep -qx 2001:db8::12' ||
		fail "the new addresses did not reach lvip_tunaddr: $(tunaddr_map); log: $(cat "$log")"
	ip -n "$RS" addr del 198.18.0.12/24 dev veth0
	wait_until 10 eval '! tunaddr_local | grep -qx 198.18.0.12' ||
		fail "198.18.0.12 stays in lvip_tunaddr: $(tunaddr_map)"
	grep -q "updated this host's addresses in lvip_tunaddr" "$log" || fail "watch did not say so: $(cat "$log")"
	assert_eq "$(host_addrs)" "$(tunaddr_local)" "LOCAL entries = the host's addresses"
	bg_stop "$pid"
}

@test "status and check: lvip_tunaddr missing an address of the host is tunaddr_stale (exit 1); any changing command repairs it" {
	local key
	lvip attach veth0 >/dev/null
	lvip tunnel add gre >/dev/null
	run --separate-stderr lvip status --json
	assert_status 0
	json_assert "d['problems'] == [] and [t['type'] for t in d['tunnels']] == ['gre']" "$output"
	run --separate-stderr lvip check
	assert_status 0

	# behind lvip's back: the entry of 198.18.0.11 goes
	key="0 0 0 0 0 0 0 0 0 0 255 255 198 18 0 11"
	# shellcheck disable=SC2086 # the key's bytes as words
	bpftool map delete pinned "$PIN/lvip_tunaddr" key $key
	run --separate-stderr lvip status --json
	assert_status 1
	json_assert "any('lvip_tunaddr' in p for p in d['problems'])" "$output"
	run --separate-stderr lvip check --json
	assert_status 1
	json_assert "[f['code'] for f in d['findings'] if f['severity'] == 'exposed'] == ['tunaddr_stale']" "$output"

	# a new address on the host is stale the same way
	lvip attach veth0 >/dev/null
	run --separate-stderr lvip check
	assert_status 0
	ip -n "$RS" addr add 198.18.0.12/24 dev veth0
	run --separate-stderr lvip check --json
	assert_status 1
	json_assert "'tunaddr_stale' in [f['code'] for f in d['findings']]" "$output"
	lvip tunnel add gre >/dev/null # unchanged, and the addresses refreshed
	run --separate-stderr lvip status
	assert_status 0
	grep -qx 'tunnels: gre' <<<"$output" || fail "status text: $output"
}

@test "stats: the counters of lvip_tunstats, per type, in text, JSON and Prometheus" {
	local want
	lvip attach veth0 >/dev/null
	lvip tunnel add gue --port 6080 >/dev/null
	# gue (key 1): decapsulated 7, not_vip 0, peer_refused 3, fragment 0,
	# malformed 2; bpftool writes the value on every CPU
	bpftool map update pinned "$PIN/lvip_tunstats" key 1 0 0 0 value \
		7 0 0 0 0 0 0 0  0 0 0 0 0 0 0 0  3 0 0 0 0 0 0 0  0 0 0 0 0 0 0 0  2 0 0 0 0 0 0 0
	want=$(bpftool -j map lookup pinned "$PIN/lvip_tunstats" key 1 0 0 0 | python3 -c '
import json, sys
d = json.load(sys.stdin)
vals = d["values"] if "values" in d else d["formatted"]["values"]
tot = [0] * 5
for v in vals:
    b = bytes(int(x, 16) for x in v["value"])
    for i in range(5):
        tot[i] += int.from_bytes(b[8 * i:8 * i + 8], "little")
print(" ".join(map(str, tot)))')
	[ "${want%% *}" -ge 7 ] || fail "bpftool reads back $want"
	read -r dec nv pr fr mal <<<"$want"

	run --separate-stderr lvip stats --json
	assert_status 0
	json_assert "d['tunnels']['gue'] == {'decapsulated': $dec, 'not_vip': $nv, 'peer_refused': $pr, 'fragment': $fr, 'malformed': $mal}" "$output"
	json_assert "sorted(d['tunnels']) == ['gre', 'gue', 'ipip'] and d['tunnels']['ipip']['decapsulated'] == 0" "$output"
	run --separate-stderr lvip stats --prometheus
	assert_status 0
	grep -qx "lvip_tunnel_packets_total{type=\"gue\",reason=\"decapsulated\"} $dec" <<<"$output" ||
		fail "no gue decapsulated series: $(grep tunnel <<<"$output")"
	grep -qx "lvip_tunnel_packets_total{type=\"gue\",reason=\"peer_refused\"} $pr" <<<"$output" || fail "peer_refused"
	grep -qx 'lvip_tunnel_enabled{type="gue"} 1' <<<"$output" || fail "lvip_tunnel_enabled"
	grep -qx 'lvip_tunnel_enabled{type="ipip"} 0' <<<"$output" || fail "lvip_tunnel_enabled ipip"
	run --separate-stderr lvip stats
	assert_status 0
	grep -q "^gue  *$dec  *$nv  *$pr  *$fr  *$mal$" <<<"$output" || fail "stats text: $output"
	run --separate-stderr lvip tunnel list --json
	json_assert "d[0]['counters']['decapsulated'] == $dec" "$output"
}

@test "check: a VIP on a kernel tunnel device is named as the kernel's LVS-TUN setup, with 'lvip tunnel add' (device kind faked)" {
	lvip attach veth0 >/dev/null
	lvip vip add --no-lo "$VIP4" >/dev/null
	ip -n "$RS" addr add "$VIP4/32" dev veth0
	run --separate-stderr lvip check --json
	assert_status 1
	json_assert "'vip_on_interface' in [f['code'] for f in d['findings']]" "$output"
	LVIP_TEST_KERNEL_TUNNEL=veth0:ipip run --separate-stderr lvip check --json
	assert_status 1
	json_assert "'vip_on_interface' not in [f['code'] for f in d['findings']]" "$output"
	json_assert "[f['interface'] for f in d['findings'] if f['code'] == 'vip_on_kernel_tunnel'] == ['veth0']" "$output"
	json_assert "any(\"'lvip tunnel add ipip'\" in f['message'] and 'kernel ipip tunnel' in f['message'] for f in d['findings'])" "$output"
	LVIP_TEST_KERNEL_TUNNEL=veth0:gre run --separate-stderr lvip check
	grep -q "kernel gre tunnel.*'lvip tunnel add gre'" <<<"$output" || fail "gre: $output"
}
