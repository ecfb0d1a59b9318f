#!/usr/bin/env bats
# tests/loader.bats - the lvip CLI against docs/cli.md and docs/pins.md,
# end to end: real namespaces, a veth pair, a private bpffs, the real kernel.
#
#   RS   namespace: lo, veth0 198.18.0.11/24 2001:db8::11/64 (the real server)
#   PEER namespace: lo, veth1 198.18.0.1/24  2001:db8::1/64  (a neighbour)
#
# Each test gets fresh namespaces and an empty pin dir; the root network
# namespace is never touched. LVIP (default: build/lvip of this tree) is run
# as: ip netns exec $RS $LVIP --pin-dir $BPFFS/lvip ...
# Without root/BPF the tests skip, or fail when LVIP_REQUIRE_BPF=1.

bats_require_minimum_version 1.5.0

load lib/netns
load lib/assertions

VIP4=198.18.0.100
VIP6=2001:db8::100
REASONS='["arp_in_dropped", "arp_out_dropped", "arp_out_rewritten", "nd_in_dropped", "nd_out_dropped", "vip_rx", "malformed"]'
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
}

teardown() {
	lvip_netns_teardown
}

# ---------------------------------------------------------------- tests

@test "pin permissions: dir 0700, every pin 0600, every contract pin present" {
	local ifx p mode bad=""
	ifx=$(ifindex "$RS" veth0)
	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4" "$VIP6"
	assert_status 0

	assert_eq 700 "$(stat -c %a "$PIN")" "mode of the pin dir"
	for p in lvip_vip4 lvip_vip6 lvip_stats lvip_ifstats lvip_ifslot lvip_ifaddr lvip_meta lvip_xdp lvip_tc "xdp_$ifx"; do
		[ -e "$PIN/$p" ] || bad+="missing pin $p"$'\n'
	done
	while IFS= read -r -d '' p; do
		mode=$(stat -c %a "$p")
		if [ -d "$p" ]; then
			[ "$mode" = 700 ] || bad+="$p: directory mode $mode, expected 700"$'\n'
		else
			[ "$mode" = 600 ] || bad+="$p: mode $mode, expected 600"$'\n'
		fi
	done < <(find "$PIN" -mindepth 1 -print0)
	[ -z "$bad" ] || fail "$bad$(ls -laR "$PIN")"

	# The maps carry BTF: bpftool prints named fields.
	bpftool map dump pinned "$PIN/lvip_stats" | grep -q '"arp_in_dropped"' ||
		fail "bpftool map dump of lvip_stats shows no named fields"
}

# ifslot_owner IFINDEX: the owner of IFINDEX's lvip_ifslot slot (CPU 0's
# copy; the loader writes the same owner on every CPU), as bpftool prints it.
ifslot_owner() {
	bpftool -j map dump pinned "$PIN/lvip_ifslot" | python3 -c '
import json, sys
slot = int(sys.argv[1]) % 256
for e in json.load(sys.stdin):
    f = e["formatted"]
    if f["key"] == slot:
        print(f["values"][0]["value"]["owner"])' "$1"
}

# iface_reason DEV NAME: DEV's counter NAME from lvip stats --json.
iface_reason() {
	lvip stats --json | json_eval "[i['reasons']['$2'] for i in d['interfaces'] if i['name'] == '$1'][0]"
}
