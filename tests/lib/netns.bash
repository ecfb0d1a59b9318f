# shellcheck shell=bash
# tests/lib/netns.bash - shared helpers for lvip's bats tests.
#
# A test file loads it (load lib/netns) and calls, typically:
#
#   setup_file()    { lvip_env_check; lvip_tmp_setup; }
#   teardown_file() { lvip_tmp_teardown; }
#   setup()         { lvip_env_require; lvip_netns_setup; }
#   teardown()      { lvip_netns_teardown; }
#
# Topology made by lvip_netns_setup (nothing in the root network namespace):
#
#   namespace $RS   : lo (up), veth0 198.18.0.11/24 2001:db8::11/64
#   namespace $PEER : lo (up), veth1 198.18.0.1/24  2001:db8::1/64
#
# A private bpffs is mounted at $BPFFS (under a temp dir whose name contains
# a dot) because `ip netns exec` hides /sys/fs/bpf; lvip always runs with
# --pin-dir $PIN.
#
# Rules kept here: the root network namespace is never changed; namespaces
# carry the PID of the bats run in their names; every loop is bounded in
# count and time; only processes started here are killed, by PID.

LVIP_TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LVIP_REPO=$(cd "$LVIP_TESTS_DIR/.." && pwd)
: "${LVIP:=$LVIP_REPO/build/lvip}"

RS_ADDR4=198.18.0.11
RS_ADDR6=2001:db8::11
PEER_ADDR4=198.18.0.1
PEER_ADDR6=2001:db8::1

# ---------------------------------------------------------------- generic

# wait_until TIMEOUT CMD...: poll CMD every 0.1 s until it succeeds; fail
# (status 1) after TIMEOUT seconds (bounded by count and by wall clock).
wait_until() {
	local timeout=$1 i max deadline
	shift
	max=$(( ${timeout%.*} * 10 + 1 ))
	deadline=$(( $(date +%s) + ${timeout%.*} + 1 ))
	for (( i = 0; i < max; i++ )); do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(date +%s)" -le "$deadline" ] || break
		sleep 0.1
	done
	"$@" >/dev/null 2>&1
}

# fail MESSAGE...: print to stderr (bats shows it) and return 1.
fail() {
	printf '%s\n' "$*" >&2
	return 1
}

# assert_status N: $status (from bats' run) is N, else show the output.
# shellcheck disable=SC2154 # status, output, stderr: set by bats' run
assert_status() {
	[ "$status" -eq "$1" ] && return 0
	fail "expected exit status $1, got $status" \
		$'\n'"--- stdout/output:"$'\n'"${output-}" \
		$'\n'"--- stderr:"$'\n'"${stderr-}"
}

# assert_eq EXPECTED GOT [WHAT]
assert_eq() {
	[ "$1" = "$2" ] && return 0
	fail "${3:-value}: expected '$1', got '$2'"
}

# json_eval EXPR: read JSON on stdin as d, print the Python expression EXPR.
json_eval() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
r = eval(sys.argv[1])
print(json.dumps(r) if isinstance(r, (dict, list, bool)) or r is None else r)
' "$1"
}

# json_assert EXPR [JSON]: the Python expression EXPR over d (the JSON, from
# the argument or stdin) is true; else print the expression and the JSON.
json_assert() {
	local expr=$1 js
	if [ $# -ge 2 ]; then js=$2; else js=$(cat); fi
	python3 -c '
import json, sys
try:
    d = json.loads(sys.argv[2])
except Exception as e:
    sys.exit("not JSON (%s): %r" % (e, sys.argv[2]))
if not eval(sys.argv[1]):
    sys.exit("JSON assertion failed: %s\n--- JSON:\n%s" % (sys.argv[1], json.dumps(d, indent=1)))
' "$expr" "$js"
}

# ---------------------------------------------------------------- environment

# lvip_env_check: run from setup_file. Decides whether the tests can run
# here; the reason they cannot is exported as LVIP_SKIP_REASON and acted on
# by lvip_env_require in each test (bats 1.8 cannot skip from setup_file).
lvip_env_check() {
	local reason="" c d
	if [ "$(id -u)" -ne 0 ]; then
		reason="not root (the tests need network namespaces, bpffs and BPF)"
	fi
	for c in ip tc bpftool python3 mount umount mountpoint; do
		[ -n "$reason" ] && break
		command -v "$c" >/dev/null 2>&1 || reason="$c not installed"
	done
	if [ -z "$reason" ] && ! grep -qw bpf /proc/filesystems; then
		reason="bpffs not supported by this kernel"
	fi
	if [ -z "$reason" ] && ! bpftool prog show >/dev/null 2>&1; then
		reason="BPF unavailable (bpftool prog show fails: no bpf() syscall or no permission)"
	fi
	if [ -z "$reason" ]; then
		# Can we mount a bpffs and make a namespace? Try it, then undo.
		d=$(mktemp -d /tmp/lvip.probe.XXXXXX) || reason="cannot create a temp dir"
		if [ -z "$reason" ]; then
			if mount -t bpf bpf "$d" 2>/dev/null; then
				umount "$d"
			else
				reason="cannot mount a bpffs"
			fi
			rmdir "$d"
		fi
	fi
	if [ -z "$reason" ]; then
		if ip netns add "lvip-t-$$-probe" 2>/dev/null; then
			ip netns del "lvip-t-$$-probe"
		else
			reason="cannot create network namespaces"
		fi
	fi
	export LVIP_SKIP_REASON=$reason
}

# lvip_env_require: at the start of each test (setup). Skips with the reason,
# or fails loudly when LVIP_REQUIRE_BPF=1. A missing build/lvip is always a
# failure: it is a build problem, not an environment one.
lvip_env_require() {
	if [ -n "${LVIP_SKIP_REASON-}" ]; then
		if [ "${LVIP_REQUIRE_BPF-}" = 1 ]; then
			fail "LVIP_REQUIRE_BPF=1 but the tests cannot run here: $LVIP_SKIP_REASON"
			return 1
		fi
		skip "$LVIP_SKIP_REASON (set LVIP_REQUIRE_BPF=1 to make this a failure)"
	fi
	[ -x "$LVIP" ] || fail "$LVIP is not built (make build/lvip)"
}

# ---------------------------------------------------------------- temp dir, bpffs

# lvip_tmp_setup: the run's temp dir (a dot in its name, on purpose: a pin
# dir with dotted parents must work) with a private bpffs. Exports
# LVIP_T_ID (the PID in namespace names), LVIP_T_TMP, BPFFS.
lvip_tmp_setup() {
	[ -n "${LVIP_SKIP_REASON-}" ] && return 0
	export LVIP_T_ID=$$
	LVIP_T_TMP=$(mktemp -d /tmp/lvip.test.XXXXXX) || return 1
	export LVIP_T_TMP
	export BPFFS=$LVIP_T_TMP/bpffs
	mkdir -p "$BPFFS"
	mount -t bpf bpf "$BPFFS" || { fail "cannot mount bpffs on $BPFFS"; return 1; }
}

# lvip_tmp_teardown: whatever happened, remove namespaces of this run, the
# bpffs and the temp dir.
lvip_tmp_teardown() {
	[ -n "${LVIP_T_ID-}" ] && lvip_netns_delete_all
	if [ -n "${LVIP_T_TMP-}" ] && [ -d "$LVIP_T_TMP" ]; then
		local i
		for (( i = 0; i < 5; i++ )); do
			mountpoint -q "$BPFFS" || break
			umount "$BPFFS" 2>/dev/null || sleep 0.2
		done
		mountpoint -q "$BPFFS" && umount -l "$BPFFS"
		case $LVIP_T_TMP in
		/tmp/lvip.test.*) rm -rf --one-file-system "$LVIP_T_TMP" ;;
		esac
	fi
}

# ---------------------------------------------------------------- fixtures

# foreign_fixture_build: in setup_file, after lvip_tmp_setup: build
# tests/fixtures/foreign_xdp.bpf.c (somebody else's XDP program and tc
# filter) and foreign_tc.bpf.c (somebody else's counting TC program) into
# the run's temp dir. Exports FOREIGN_OBJ and FOREIGN_TC_OBJ (both empty
# when they could not be built) and FOREIGN_SKIP (why not).
foreign_fixture_build() {
	export FOREIGN_OBJ="" FOREIGN_TC_OBJ="" FOREIGN_SKIP=""
	[ -n "${LVIP_SKIP_REASON-}" ] && return 0
	if ! command -v clang >/dev/null 2>&1; then
		FOREIGN_SKIP="clang not installed: cannot build tests/fixtures/foreign_*.bpf.c"
		return 0
	fi
	local f
	for f in foreign_xdp foreign_tc; do
		clang -O2 -g -target bpf -c "$LVIP_TESTS_DIR/fixtures/$f.bpf.c" \
			-o "$LVIP_T_TMP/$f.o" 2>"$LVIP_T_TMP/$f.err" && continue
		FOREIGN_SKIP="$f.bpf.c does not build: $(head -n 1 "$LVIP_T_TMP/$f.err")"
		return 0
	done
	FOREIGN_OBJ=$LVIP_T_TMP/foreign_xdp.o
	FOREIGN_TC_OBJ=$LVIP_T_TMP/foreign_tc.o
}

# foreign_tc_clsact DEV: foreign_tc.bpf.c as a clsact egress filter on the
# real server's DEV, at priority 49152 (after lvip's 0xc1a: it runs only if
# lvip's filter lets the packet go on). Prints its program id.
foreign_tc_clsact() {
	rs tc qdisc add dev "$1" clsact 2>/dev/null || true
	rs tc filter add dev "$1" egress pref 49152 bpf da obj "$FOREIGN_TC_OBJ" sec tc ||
		fail "cannot add the foreign filter on $1"
	rs tc filter show dev "$1" egress pref 49152 | grep -o ' id [0-9]*' | awk '{ print $2; exit }'
}

# foreign_tc_tcx DEV: foreign_tc.bpf.c on the real server's DEV's tcx
# egress, last, through a link pinned in $BPFFS (outside lvip's pin dir).
# Prints its program id.
foreign_tc_tcx() {
	local prog=$BPFFS/foreign_tc_${BATS_TEST_NUMBER}_$1
	bpftool prog load "$FOREIGN_TC_OBJ" "$prog" >&2 || fail "bpftool cannot load foreign_tc.o"
	rs python3 "$LVIP_TESTS_DIR/lib/tcx.py" attach "$prog" "$1" "$BPFFS/foreign_tcx_${BATS_TEST_NUMBER}_$1" ||
		fail "cannot attach the foreign program to $1's tcx egress"
	bpftool -j prog show pinned "$prog" | json_eval "d['id']"
}

# foreign_tc_count PROG_ID: the packets foreign_tc.bpf.c (program PROG_ID)
# has counted.
foreign_tc_count() {
	local map
	map=$(bpftool -j prog show id "$1" | json_eval "d['map_ids'][0]") || return 1
	bpftool -j map dump id "$map" | json_eval "sum(int(e['formatted']['value']) if 'formatted' in e else int.from_bytes(bytes(int(b, 16) for b in e['value']), 'little') for e in d)"
}

# need_foreign: first thing in a test that uses $FOREIGN_OBJ: skip without
# it, or fail when LVIP_REQUIRE_BPF=1.
need_foreign() {
	[ -n "${FOREIGN_OBJ-}" ] && return 0
	[ "${LVIP_REQUIRE_BPF-}" = 1 ] && fail "LVIP_REQUIRE_BPF=1: ${FOREIGN_SKIP-}"
	skip "${FOREIGN_SKIP-}"
}

# has_tcx: the kernel has tcx (Linux 6.6), where lvip's egress goes unless
# LVIP_FORCE_CLSACT is set.
has_tcx() {
	rs python3 "$LVIP_TESTS_DIR/lib/tcx.py" probe lo
}

# need_tcx: first thing in a test that needs tcx: skip on a kernel without
# it, or fail when LVIP_REQUIRE_BPF=1.
need_tcx() {
	has_tcx && return 0
	[ "${LVIP_REQUIRE_BPF-}" = 1 ] && fail "LVIP_REQUIRE_BPF=1: this kernel has no tcx (Linux 6.6)"
	skip "this kernel has no tcx (Linux 6.6): lvip's egress goes through clsact"
}

# need_cmds CMD...: first thing in a test that needs these programs (the
# rest of the file does not): skip without one, or fail when
# LVIP_REQUIRE_BPF=1.
need_cmds() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 && continue
		[ "${LVIP_REQUIRE_BPF-}" = 1 ] && fail "LVIP_REQUIRE_BPF=1: $c not installed (make deps installs it)"
		skip "$c not installed (make deps installs it)"
	done
}

# need_dispatcher: first thing in a test of libxdp's dispatcher path: skip
# with "kernel refuses: ..." (counted as skipped by tests/run, even with
# LVIP_REQUIRE_BPF=1) where the kernel refuses freplace programs. libxdp's
# pins (and lvip's through libxdp) go to the test's private bpffs.
need_dispatcher() {
	need_cmds xdp-filter xdp-loader
	if ! bpftool feature probe kernel 2>/dev/null | grep -q "program_type ext is available"; then
		skip "kernel refuses: freplace (ext) programs (bpftool feature probe), which libxdp's dispatcher needs"
	fi
	export LIBXDP_BPFFS=$BPFFS
}

# ---------------------------------------------------------------- namespaces

rs()   { ip netns exec "$RS" "$@"; }
peer() { ip netns exec "$PEER" "$@"; }
# lvip ARGS...: the CLI in the real server's namespace, with our pin dir,
# killed after LVIP_CMD_TIMEOUT seconds (default 60; status 124 then).
lvip() {
	timeout -k 5 "${LVIP_CMD_TIMEOUT:-60}" ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" "$@"
}
# lvip_at DIR ARGS...: the same with the pin dir DIR (another instance, or
# a pin dir on the wrong filesystem).
lvip_at() {
	local d=$1
	shift
	timeout -k 5 "${LVIP_CMD_TIMEOUT:-60}" ip netns exec "$RS" "$LVIP" --pin-dir "$d" "$@"
}

# lvip_netns_setup: fresh namespaces and pin dir for one test. Sets RS,
# PEER, PIN (exported for sub-shells).
lvip_netns_setup() {
	LVIP_T_SEQ=${BATS_TEST_NUMBER:-0}
	export RS="lvip-t-$LVIP_T_ID-$LVIP_T_SEQ-rs"
	export PEER="lvip-t-$LVIP_T_ID-$LVIP_T_SEQ-peer"
	export PIN="$BPFFS/lvip"
	rm -rf "$PIN"
	ip netns add "$RS" || return 1
	ip netns add "$PEER" || return 1
	ip -n "$RS" link add veth0 type veth peer name veth1 netns "$PEER" || return 1
	ip -n "$RS" link set lo up
	ip -n "$RS" addr add "$RS_ADDR4/24" dev veth0
	ip -n "$RS" addr add "$RS_ADDR6/64" dev veth0 nodad
	ip -n "$RS" link set veth0 up
	ip -n "$PEER" link set lo up
	ip -n "$PEER" addr add "$PEER_ADDR4/24" dev veth1
	ip -n "$PEER" addr add "$PEER_ADDR6/64" dev veth1 nodad
	ip -n "$PEER" link set veth1 up
	wait_until 5 link_has_carrier "$RS" veth0 || { fail "veth0 never came up"; return 1; }
	wait_until 5 link_has_carrier "$PEER" veth1 || { fail "veth1 never came up"; return 1; }
}

# lvip_add_veth2: a second interface in RS (veth2, peer veth3 in PEER),
# 198.18.2.11/24, up. For tests that need an interface lvip has not touched.
lvip_add_veth2() {
	ip -n "$RS" link add veth2 type veth peer name veth3 netns "$PEER" || return 1
	ip -n "$RS" addr add 198.18.2.11/24 dev veth2
	ip -n "$RS" link set veth2 up
	ip -n "$PEER" addr add 198.18.2.1/24 dev veth3
	ip -n "$PEER" link set veth3 up
	wait_until 5 link_has_carrier "$RS" veth2
}

# lvip_netns_teardown: after each test: stop what bg_start started, remove
# the namespaces and the pins.
lvip_netns_teardown() {
	bg_stop_all
	[ -n "${RS-}" ] && ip netns del "$RS" 2>/dev/null
	[ -n "${PEER-}" ] && ip netns del "$PEER" 2>/dev/null
	[ -n "${PIN-}" ] && rm -rf "$PIN"
	return 0
}

# Every namespace of this run (safety net in teardown_file).
lvip_netns_delete_all() {
	local ns
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep "^lvip-t-$LVIP_T_ID-"); do
		ip netns del "$ns"
	done
	return 0
}

# link_has_carrier NS DEV
link_has_carrier() {
	ip -n "$1" link show dev "$2" | grep -q 'LOWER_UP'
}

# ifindex NS DEV
ifindex() {
	ip -n "$1" -o link show dev "$2" | awk -F: '{ print $1; exit }'
}

# xdp_prog_id NS DEV: id of the XDP program attached to DEV (any mode), or 0.
xdp_prog_id() {
	ip -n "$1" -d -j link show dev "$2" | python3 -c '
import json, sys
l = json.load(sys.stdin)[0]
x = l.get("xdp") or {}
p = x.get("prog") or {}
ids = [p.get("id")] + [a.get("prog", {}).get("id") for a in x.get("attached", [])]
ids = [i for i in ids if i]
print(ids[0] if ids else 0)'
}

# xdp_on NS DEV: DEV carries an XDP program. A command of its own, so that
# wait_until re-reads the kernel each try ('wait_until 5 test "$(xdp_prog_id
# ...)" -gt 0' would judge, again and again, the one id read before it ran).
xdp_on() {
	[ "$(xdp_prog_id "$1" "$2")" -gt 0 ]
}

# tc_egress_ids NS DEV: ids of the BPF programs on DEV's egress: on tcx (in
# the order they run, before any filter) and in its clsact filters.
tc_egress_ids() {
	tcx_egress_ids "$1" "$2"
	ip netns exec "$1" tc filter show dev "$2" egress 2>/dev/null |
		grep -o ' id [0-9]*' | awk '{ print $2 }'
}

# tcx_egress_ids NS DEV: ids of the BPF programs on DEV's tcx egress.
tcx_egress_ids() {
	ip netns exec "$1" python3 "$LVIP_TESTS_DIR/lib/tcx.py" ids "$2"
}

# clsact_egress_ids NS DEV: ids of the BPF programs in DEV's egress filters.
clsact_egress_ids() {
	ip netns exec "$1" tc filter show dev "$2" egress 2>/dev/null |
		grep -o ' id [0-9]*' | awk '{ print $2 }'
}

# lvip_egress_remove DEV: take lvip's TC egress program off the real
# server's DEV behind lvip's back: its clsact filter, or its tcx link (held
# by its pin only).
lvip_egress_remove() {
	local i
	rs tc filter del dev "$1" egress pref 3098 2>/dev/null || true
	rm -f "$PIN/tcx_$(ifindex "$RS" "$1")"
	for (( i = 0; i < 50; i++ )); do
		[ -z "$(tc_egress_ids "$RS" "$1")" ] && return 0
		sleep 0.1
	done
}

# lo_has NS ADDR/PLEN: ADDR/PLEN is on NS's lo.
lo_has() {
	ip -n "$1" -o addr show dev lo | awk '{ print $4 }' | grep -qxF "$2"
}

# lo_count NS ADDR/PLEN: how many times ADDR/PLEN is on lo.
lo_count() {
	ip -n "$1" -o addr show dev lo | awk '{ print $4 }' | grep -cxF "$2"
}

# ---------------------------------------------------------------- the wire

# arp_probe ADDR [COUNT [DEV]]: from the peer, COUNT ARP requests for ADDR
# on DEV, veth1 by default (at most COUNT seconds). Prints "transmitted
# received".
arp_probe() {
	local addr=$1 n=${2:-3} dev=${3:-veth1} out
	out=$(peer timeout 20 arping -c "$n" -w "$n" -i "$dev" "$addr" 2>&1) || true
	printf '%s\n' "$out" | awk '
		/packets transmitted/ { t = $1; r = $4 }
		END { print (t == "" ? -1 : t), (r == "" ? -1 : r) }'
}

# stat_reason NAME: the global counter NAME from lvip stats --json.
stat_reason() {
	lvip stats --json | json_eval "d['reasons']['$1']"
}

# egress_wire_check VIP: with lvip attached to the real server's veth0 and
# VIP added, unsolicited ARP announcing VIP never reaches the peer, and "who-has
# peer tell VIP" reaches it with the real server's own address (tcpdump on
# the peer's veth1); lvip counts both.
egress_wire_check() {
	local vip=$1 tcpdump_pid cap=$BATS_TEST_TMPDIR/arp.pcap err=$BATS_TEST_TMPDIR/tcpdump.err text
	rm -f "$cap"
	bg_start tcpdump_pid ip netns exec "$PEER" timeout 60 tcpdump -n -U -i veth1 -w "$cap" arp 2>"$err"
	wait_until 10 grep -q 'listening on' "$err" || fail "tcpdump did not start: $(cat "$err")"

	# Unsolicited ARP (request, then reply) announcing the VIP: dropped on
	# egress (arping sees ENOBUFS and gives up; its status is not the point).
	run rs arping -c 1 -w 1 -U -S "$vip" -i veth0 "$vip"
	run rs arping -c 1 -w 1 -U -P -S "$vip" -i veth0 "$vip"
	# "who-has peer tell VIP": leaves with the real server's own address.
	rs ip neigh flush dev veth0
	run rs arping -c 1 -w 2 -S "$vip" -i veth0 "$PEER_ADDR4"
	assert_status 0

	wait_until 5 test -s "$cap" || true
	bg_stop "$tcpdump_pid"
	text=$(tcpdump -n -r "$cap" 2>/dev/null)
	if grep -F "$vip" <<<"$text"; then
		fail "ARP naming the VIP left the real server:"$'\n'"$text"
	fi
	grep -q "who-has $PEER_ADDR4 tell $RS_ADDR4" <<<"$text" ||
		fail "no rewritten request 'who-has $PEER_ADDR4 tell $RS_ADDR4' on the wire:"$'\n'"$text"
	[ "$(stat_reason arp_out_dropped)" -ge 2 ] || fail "arp_out_dropped < 2: $(lvip stats --json)"
	[ "$(stat_reason arp_out_rewritten)" -ge 1 ] || fail "arp_out_rewritten < 1: $(lvip stats --json)"
}

# bpftool_stat_sum NAME: the counter NAME in the pinned lvip_stats map,
# summed over CPUs, as bpftool prints it (named fields, from BTF).
bpftool_stat_sum() {
	bpftool -j map dump pinned "$PIN/lvip_stats" | python3 -c '
import json, sys
name = sys.argv[1]
total = 0
for e in json.load(sys.stdin):
    e = e.get("formatted", e)  # bpftool -j: raw bytes, BTF view in "formatted"
    vals = e.get("values")
    if vals is None:
        vals = [{"value": e.get("value")}]
    for v in vals:
        val = v.get("value")
        if isinstance(val, dict):
            total += int(val[name])
        else:
            sys.exit("no BTF field %s in bpftool output" % name)
print(total)' "$1"
}

# ---------------------------------------------------------------- state snapshot

# lvip_state_snapshot: everything a failed command must leave unchanged:
# lo's addresses, the veths' link state (XDP included), egress tc filters,
# every pinned map's content and the pin dir listing.
lvip_state_snapshot() {
	local dev m
	echo "== lo"; ip -n "$RS" -d addr show dev lo
	for dev in veth0 veth2; do
		ip -n "$RS" link show dev "$dev" >/dev/null 2>&1 || continue
		echo "== link $dev"; ip -n "$RS" -d link show dev "$dev"
		echo "== tc $dev"; ip netns exec "$RS" tc filter show dev "$dev" egress
		echo "== tcx $dev"; tcx_egress_ids "$RS" "$dev"
	done
	for m in lvip_vip4 lvip_vip6 lvip_stats lvip_ifstats lvip_ifslot lvip_ifaddr lvip_ifmode lvip_observing lvip_meta \
		lvip_mon lvip_monrate lvip_tunnel lvip_tunaddr lvip_tunstats lvip_tunlocal; do
		echo "== map $m"
		if [ -e "$PIN/$m" ]; then
			bpftool map dump pinned "$PIN/$m" 2>&1
		else
			echo "(absent)"
		fi
	done
	echo "== pins"; ls -la "$PIN" 2>&1
}

# ---------------------------------------------------------------- background processes

# bg_start VAR CMD...: start CMD in the background, its PID in VAR and in
# LVIP_T_BG_PIDS (so that bg_stop_all in teardown ends it if the test did
# not). Run ip netns exec directly (it execs CMD: the PID is CMD's).
LVIP_T_BG_PIDS=()
bg_start() {
	local __var=$1
	shift
	"$@" &
	printf -v "$__var" '%s' "$!"
	LVIP_T_BG_PIDS+=("$!")
}

# bg_stop PID: SIGTERM (then SIGKILL after 5 s) the process we started, reap it.
bg_stop() {
	local pid=$1
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null
	wait_until 5 bg_gone "$pid" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true # its status is that of the signal
	return 0
}

bg_gone() { ! kill -0 "$1" 2>/dev/null; }

bg_stop_all() {
	local pid
	for pid in "${LVIP_T_BG_PIDS[@]}"; do
		bg_stop "$pid"
	done
	LVIP_T_BG_PIDS=()
}
