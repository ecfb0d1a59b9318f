# shellcheck shell=bash
# tests/lib/reliability.bash - helpers of the reliability and security tests
# (kill safety, interface churn, concurrency, upgrades, environment faults,
# security, bad input), on top of tests/lib/netns.bash (load that first).
#
# The heavy drivers are Python (one process per test, so that a loop of a
# hundred kills or upgrades does not pay Python's start-up a hundred times):
#   lvip_state.py   the state read without lvip (ip, tc, bpftool) + invariants
#   killsafety.py   SIGKILL at random moments
#   churn.py        interface churn
#   concurrency.py  verify concurrent runs
#   arpflood.py     ARP requests from the peer, and a pcap reader (upgrades)
#
# Knobs (environment):
#   LVIP_VARIANT        second build for upgrades (default: build/variant/lvip
#                       next to $LVIP)
#   LVIP_KILLS          kills in the kill-safety test (default 100)
#   LVIP_CHURN_CYCLES   interface churn cycles (default 50)
#   LVIP_UPGRADES       upgrades under traffic (default 100)
#   LVIP_REL_SEED       seed for the random choices (default: random, printed)
#   LVIP_FIGURES        if set, a file each figure line is appended to

LVIP_REL_LIB=$LVIP_TESTS_DIR/lib
: "${LVIP_VARIANT:=$(dirname "$LVIP")/variant/lvip}"
export LVIP_VARIANT

# figure TEXT...: the test's headline figure, on fd 3 (bats prints it) as
# "# figure: TEXT", and appended to $LVIP_FIGURES if set.
figure() {
	printf '# figure: %s\n' "$*" >&3
	if [ -n "${LVIP_FIGURES-}" ]; then
		printf '%s: %s\n' "${BATS_TEST_FILENAME##*/}" "$*" >>"$LVIP_FIGURES"
	fi
}

# rel_seed: the seed of this test (LVIP_REL_SEED or a fresh one).
rel_seed() {
	if [ -n "${LVIP_REL_SEED-}" ]; then
		echo "$LVIP_REL_SEED"
	else
		echo $(( (RANDOM << 15 | RANDOM) ))
	fi
}

# rel_py SCRIPT ARGS...: run one of the Python drivers.
rel_py() {
	local s=$1
	shift
	python3 "$LVIP_REL_LIB/$s" "$@"
}

# lvip_invariant MODE IFACE...: the kill-safety invariant (see
# lvip_state.py); prints the violations, fails if any.
lvip_invariant() {
	local mode=$1
	shift
	rel_py lvip_state.py invariant "$RS" "$PIN" "$mode" "$@"
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

# assert_one_line: bats `run --separate-stderr` left exactly one non-empty
# line on stderr.
assert_one_line() {
	[ "${#stderr_lines[@]}" -eq 1 ] && [ -n "${stderr_lines[0]}" ] && return 0
	fail "expected exactly one line on stderr, got ${#stderr_lines[@]}:"$'\n'"${stderr-}"
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
	[[ "$1" == *"$2"* ]] && return 0
	fail "${3:-output} does not contain '$2': $1"
}

# rel_state_unchanged BEFORE [WHAT]: lvip_state_snapshot equals BEFORE.
rel_state_unchanged() {
	local after
	after=$(lvip_state_snapshot)
	[ "$after" = "$1" ] && return 0
	fail "${2:-state} changed:"$'\n'"$(diff <(echo "$1") <(echo "$after"))"
}

# rel_peer_ns SUFFIX: a third namespace of this test, named so that
# lvip_netns_delete_all (teardown_file) removes it whatever happens.
rel_peer_ns() {
	echo "lvip-t-$LVIP_T_ID-${LVIP_T_SEQ:-0}-$1"
}

# rel_teardown_extra_ns SUFFIX...: remove the extra namespaces of a test.
rel_teardown_extra_ns() {
	local s
	for s in "$@"; do
		ip netns del "$(rel_peer_ns "$s")" 2>/dev/null
	done
	return 0
}
