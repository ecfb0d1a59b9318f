#!/usr/bin/env bats
# Interface names that are not plain text. Linux allows any byte in a name
# but '/', ':', NUL and whitespace: bytes >= 0x80 that are not UTF-8, and
# control characters. lvip prints every interface name with such bytes (and
# a backslash) written as \xNN text, so that its JSON stays valid UTF-8, its
# tables and messages hold no raw control byte, and the name can be told.
#
# In the real server's namespace: $N1 (v, 0x01, x) and its veth peer $N2
# (v, 0xff, y), next to veth0 of lib/netns.

bats_require_minimum_version 1.5.0

load lib/netns
load lib/assertions

setup_file()    { lvip_env_check; lvip_tmp_setup; }
teardown_file() { lvip_tmp_teardown; }
setup() {
	lvip_env_require
	lvip_netns_setup
	N1=$'v\x01x' N2=$'v\xffy'
	E1='v\x01x' E2='v\xffy' # as lvip prints them
	CONF=$BATS_TEST_TMPDIR/names.conf
	ip -n "$RS" link add name "$N1" type veth peer name "$N2" || return 1
	ip -n "$RS" addr add 198.18.20.1/24 dev "$N1"
	ip -n "$RS" addr add 198.18.21.1/24 dev "$N2"
	ip -n "$RS" link set "$N1" up
	ip -n "$RS" link set "$N2" up
}
teardown() { lvip_netns_teardown; }

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
	local log=$BATS_TEST_TMPDIR/watch.log pid
	printf '%s\n' "interface v*" "vip 198.18.0.100" >"$CONF"
	bg_start pid ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" watch -f "$CONF" 2>"$log"
	wait_until 5 grep -qF "lvip watch: attach $E2 (mode auto)" "$log" ||
		fail "watch did not report attaching $E2: $(cat -v "$log")"
	grep -qF "lvip watch: attach $E1 (mode auto)" "$log" || fail "no '$E1' in: $(cat -v "$log")"
	bg_stop "$pid"
	clean_text "watch's log" <"$log"
}
