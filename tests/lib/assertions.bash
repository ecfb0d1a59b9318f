# shellcheck shell=bash
# tests/lib/assertions.bash - assertions and state readers shared by the bats
# files, on top of tests/lib/netns.bash (load that first):
#
#   one-line errors and messages   assert_one_line, assert_contains
#   nothing changed                assert_state_unchanged (lvip_state_snapshot)
#   the state read without lvip    pin_count, pinned_prog_id, lvip_links_of,
#                                  lvip_invariant (lvip_state.py)
#   the wire                       no_arp_reply, tell_sender
#   lvip's own lists               help_commands (from lvip --help)
#   long-running drivers           figure, test_seed, extra_ns, extra_ns_teardown
#
# The heavy drivers are Python (one process per test, so that a loop of a
# hundred kills or upgrades does not pay Python's start-up a hundred times),
# in $LVIP_LIB_DIR:
#   lvip_state.py   the state read without lvip (ip, tc, bpftool) + invariants
#   killsafety.py   SIGKILL at random moments (faults.bats)
#   churn.py        interface churn (faults.bats)
#   concurrency.py  verify concurrent runs (faults.bats)
#   arpflood.py     ARP requests from the peer, and a pcap reader (upgrades.bats)
#   arpwire.py      ARP with another hardware type (datapath-wire.bats)
#   addrmarks.py    lo's addresses with IFA_PROTO and IFA_LABEL (safety.bats)
#   txring.py       ARP through PACKET_TX_RING (datapath-wire.bats)
#
# Knobs (environment):
#   LVIP_VARIANT        second build for upgrades (default: build/variant/lvip
#                       next to $LVIP)
#   LVIP_KILLS          kills in the kill-safety test (default 100)
#   LVIP_CHURN_CYCLES   interface churn cycles (default 50)
#   LVIP_UPGRADES       upgrades under traffic (default 100)
#   LVIP_REL_SEED       seed for the random choices (default: random, printed)
#   LVIP_FIGURES        if set, a file each figure line is appended to

LVIP_LIB_DIR=$LVIP_TESTS_DIR/lib
: "${LVIP_VARIANT:=$(dirname "$LVIP")/variant/lvip}"
export LVIP_VARIANT

# ---------------------------------------------------------------- messages

# assert_one_line: bats `run --separate-stderr` left exactly one non-empty
# line on stderr (the error format of docs/cli.md).
assert_one_line() {
	[ "${#stderr_lines[@]}" -eq 1 ] && [ -n "${stderr_lines[0]}" ] && return 0
	fail "expected exactly one line on stderr, got ${#stderr_lines[@]}:"$'\n'"${stderr-}"
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
	[[ "$1" == *"$2"* ]] && return 0
	fail "${3:-output} does not contain '$2': $1"
}

# assert_state_unchanged BEFORE [WHAT]: lvip_state_snapshot equals BEFORE.
assert_state_unchanged() {
	local after
	after=$(lvip_state_snapshot)
	[ "$after" = "$1" ] && return 0
	fail "${2:-state} changed:"$'\n'"$(diff <(echo "$1") <(echo "$after"))"
}

# ---------------------------------------------------------------- the state, read without lvip

# lvip_invariant MODE IFACE...: the kill-safety invariant (see
# lvip_state.py); prints the violations, fails if any.
lvip_invariant() {
	local mode=$1
	shift
	python3 "$LVIP_LIB_DIR/lvip_state.py" invariant "$RS" "$PIN" "$mode" "$@"
}

# pin_count [DIR]: entries under the pin dir (0 if absent).
pin_count() {
	local d=${1:-$PIN}
	[ -d "$d" ] || { echo 0; return; }
	find "$d" -mindepth 1 | wc -l
}

# lvip_links_of PROG_ID: bpf links (any netns) running program PROG_ID.
lvip_links_of() {
	bpftool -j link show | python3 -c '
import json, sys
print(sum(1 for l in json.load(sys.stdin) if l.get("prog_id") == int(sys.argv[1])))' "$1"
}

# pinned_prog_id NAME: id of the program pinned as $PIN/NAME, or 0.
pinned_prog_id() {
	bpftool -j prog show pinned "$PIN/$1" 2>/dev/null | json_eval "d.get('id', 0)" 2>/dev/null || echo 0
}

# ---------------------------------------------------------------- the wire

# no_arp_reply ADDR [DEV]: ARP requests for ADDR from the peer's DEV
# (veth1 by default) get no reply.
no_arp_reply() {
	local tx rx
	read -r tx rx < <(arp_probe "$1" 3 "${2:-veth1}")
	[ "$tx" -ge 1 ] && [ "$rx" -eq 0 ] && return 0
	fail "ARP for $1: $tx sent, $rx answered (expected none answered)"
}

# tell_sender VIP: the sender IP of the "who-has PEER tell ..." request the
# real server puts on the wire when asked to resolve the peer from VIP.
tell_sender() {
	local cap=$BATS_TEST_TMPDIR/tell.pcap err=$BATS_TEST_TMPDIR/tell.err pid
	bg_start pid ip netns exec "$PEER" timeout 30 tcpdump -n -U -i veth1 -w "$cap" arp 2>"$err"
	wait_until 10 grep -q 'listening on' "$err" || { fail "tcpdump did not start: $(cat "$err")"; return 1; }
	rs ip neigh flush dev veth0
	rs arping -c 1 -w 2 -S "$1" -i veth0 "$PEER_ADDR4" >/dev/null 2>&1 || true
	wait_until 5 test -s "$cap" || true
	bg_stop "$pid"
	tcpdump -n -r "$cap" 2>/dev/null | grep -o "who-has $PEER_ADDR4 tell [0-9.]*" | awk '{ print $4; exit }'
}

# ---------------------------------------------------------------- lvip's own lists

# help_commands: the commands `lvip --help` lists ("Commands:"), one a line;
# the vip subcommands as two words ("vip add", "vip del", "vip list").
help_commands() {
	"$LVIP" --help | awk '
		/^Commands:/ { on = 1; next }
		on && /^[^ ]/ { on = 0 }
		on && NF { print ($1 == "vip" || $1 == "tunnel" ? $1 " " $2 : $1) }'
}

# ---------------------------------------------------------------- long-running drivers

# figure TEXT...: the test's headline figure, on fd 3 (bats prints it) as
# "# figure: TEXT", and appended to $LVIP_FIGURES if set.
figure() {
	printf '# figure: %s\n' "$*" >&3
	if [ -n "${LVIP_FIGURES-}" ]; then
		printf '%s: %s\n' "${BATS_TEST_FILENAME##*/}" "$*" >>"$LVIP_FIGURES"
	fi
}

# test_seed: the seed of this test's random choices (LVIP_REL_SEED or a
# fresh one; the test prints it).
test_seed() {
	if [ -n "${LVIP_REL_SEED-}" ]; then
		echo "$LVIP_REL_SEED"
	else
		echo $(( (RANDOM << 15 | RANDOM) ))
	fi
}

# extra_ns SUFFIX: the name of a third namespace of this test, named so that
# lvip_netns_delete_all (teardown_file) removes it whatever happens.
extra_ns() {
	echo "lvip-t-$LVIP_T_ID-${LVIP_T_SEQ:-0}-$1"
}

# extra_ns_teardown SUFFIX...: remove the extra namespaces of a test.
extra_ns_teardown() {
	local s
	for s in "$@"; do
		ip netns del "$(extra_ns "$s")" 2>/dev/null
	done
	return 0
}
