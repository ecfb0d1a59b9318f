#!/usr/bin/env bats
# tests/libxdp.bats - lvip beside other XDP programs through libxdp
# (xdp-tools): lvip as a libxdp component program in libxdp's dispatcher,
# and the refusals where that cannot be:
#
#  - an interface holding a libxdp program loaded without the dispatcher
#    (what libxdp does where the kernel refuses freplace programs, or with
#    LIBXDP_SKIP_DISPATCHER=1): refused, exit 1, one line, nothing changed;
#  - attach --xdp-share where the kernel refuses the dispatcher: exit 1,
#    one line, nothing changed;
#  - lvip beside xdp-filter in both attach orders, and after either leaves.
#    These need a kernel that loads freplace (ext) programs: elsewhere they
#    skip with "kernel refuses: ...", which tests/run counts as skipped even
#    with LVIP_REQUIRE_BPF=1 (tests/README.md).
#
#   RS   namespace: lo, veth0 198.18.0.11/24 (the real server)
#   PEER namespace: lo, veth1 198.18.0.1/24  (a neighbour)

bats_require_minimum_version 1.5.0

load lib/netns
load lib/assertions

VIP4=198.18.0.100

setup_file() {
	lvip_env_check
	lvip_tmp_setup
}
teardown_file() { lvip_tmp_teardown; }
setup() {
	lvip_env_require
	lvip_netns_setup
	export LIBXDP_BPFFS=$BPFFS # libxdp's pins in the private bpffs
}
teardown() { lvip_netns_teardown; }

# xdp_filter ARGS...: xdp-filter in the real server's namespace.
xdp_filter() { timeout -k 5 60 ip netns exec "$RS" xdp-filter "$@"; }
# loader_status: xdp-loader's view of veth0.
loader_status() { timeout -k 5 60 ip netns exec "$RS" xdp-loader status veth0; }

# nothing_changed XDP_ID: veth0 still runs XDP program XDP_ID, lvip left
# no tc filter and no pin dir.
nothing_changed() {
	assert_eq "$(xdp_prog_id "$RS" veth0)" "$1"
	assert_eq "$(tc_egress_ids "$RS" veth0)" ""
	[ ! -e "$PIN" ] || fail "the pin dir $PIN was left behind"
}

# hides_vip: an ARP request for the VIP gets no reply, lvip counts it.
hides_vip() {
	local before
	before=$(stat_reason arp_in_dropped)
	assert_eq "$(arp_probe "$VIP4" 2)" "2 0"
	[ "$(stat_reason arp_in_dropped)" -ge $((before + 2)) ] || fail "lvip did not count the drops"
}

@test "attach: an interface holding a libxdp program loaded without the dispatcher is refused, one line, exit 1, nothing changed" {
	need_cmds xdp-filter
	LIBXDP_SKIP_DISPATCHER=1 xdp_filter load -m skb veth0
	local id
	id=$(xdp_prog_id "$RS" veth0)
	[ "$id" -gt 0 ]
	run --separate-stderr lvip attach veth0
	assert_status 1
	assert_eq "$(printf '%s\n' "$stderr" | wc -l)" 1
	[[ $stderr == "lvip: veth0 carries a libxdp program (id $id) loaded without libxdp's dispatcher ("*"): nothing can run beside it, refusing to replace it" ]]
	nothing_changed "$id"
	# the same with --xdp-share
	run --separate-stderr lvip attach --xdp-share veth0
	assert_status 1
	[[ $stderr == *"loaded without libxdp's dispatcher"* ]]
	nothing_changed "$id"
}

@test "attach --xdp-share where the kernel refuses libxdp's dispatcher: one line with the reason, exit 1, nothing changed" {
	# LVIP_TEST_NO_DISPATCHER makes lvip see what a kernel refusing freplace
	# programs gives, where the kernel does load them; here it may be real.
	run --separate-stderr env LVIP_TEST_NO_DISPATCHER=1 \
		ip netns exec "$RS" "$LVIP" --pin-dir "$PIN" attach --xdp-share veth0
	assert_status 1
	assert_eq "$stderr" "lvip: veth0: cannot share XDP through libxdp: this kernel refuses freplace (ext) programs, which libxdp's dispatcher needs"
	nothing_changed 0
}

@test "attach --xdp-share on this kernel: shared where the dispatcher loads, else refused with the kernel's reason" {
	if bpftool feature probe kernel 2>/dev/null | grep -q "program_type ext is available"; then
		lvip attach --xdp-share veth0
		lvip status --json | json_assert 'd["interfaces"][0]["xdp_mode"] == "libxdp"'
		lvip detach veth0
		assert_eq "$(xdp_prog_id "$RS" veth0)" 0
	else
		run --separate-stderr lvip attach --xdp-share veth0
		assert_status 1
		assert_eq "$stderr" "lvip: veth0: cannot share XDP through libxdp: this kernel refuses freplace (ext) programs, which libxdp's dispatcher needs"
		nothing_changed 0
	fi
}

@test "dispatcher: xdp-filter first, then lvip attach joins it; both run; lvip detach leaves xdp-filter" {
	need_dispatcher
	xdp_filter load -m skb veth0
	lvip attach veth0
	lvip vip add "$VIP4"
	run loader_status
	[[ $output == *xdp_dispatcher* && $output == *lvip_xdp* && $output == *xdpfilt* ]]
	lvip status --json | json_assert 'd["interfaces"][0]["xdp_mode"] == "libxdp"'
	lvip check
	hides_vip
	lvip detach veth0
	run loader_status
	[[ $output == *xdpfilt* && $output != *lvip_xdp* ]]
	xdp_filter unload veth0
	assert_eq "$(xdp_prog_id "$RS" veth0)" 0
}

@test "dispatcher: lvip attach --xdp-share first, then xdp-filter joins; xdp-filter leaves, lvip still hides; down removes the dispatcher" {
	need_dispatcher
	lvip attach --xdp-share veth0
	lvip vip add "$VIP4"
	xdp_filter load -m skb veth0
	run loader_status
	[[ $output == *lvip_xdp* && $output == *xdpfilt* ]]
	hides_vip
	xdp_filter unload veth0
	run loader_status
	[[ $output == *lvip_xdp* && $output != *xdpfilt* ]]
	lvip status --json | json_assert 'd["interfaces"][0]["xdp_mode"] == "libxdp" and not d["problems"]'
	hides_vip
	lvip down
	assert_eq "$(xdp_prog_id "$RS" veth0)" 0
	assert_eq "$(tc_egress_ids "$RS" veth0)" ""
}

@test "dispatcher: config 'interface veth0 share' attaches through libxdp, save writes it back" {
	need_dispatcher
	printf 'interface veth0 share\nvip %s\n' "$VIP4" >"$BATS_TEST_TMPDIR/lvip.conf"
	lvip apply -f "$BATS_TEST_TMPDIR/lvip.conf"
	lvip status --json | json_assert 'd["interfaces"][0]["xdp_mode"] == "libxdp"'
	hides_vip
	run lvip save
	[[ $output == *"interface veth0 share"* ]]
	lvip detach veth0
	assert_eq "$(xdp_prog_id "$RS" veth0)" 0
}
