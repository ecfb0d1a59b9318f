#!/usr/bin/env bats
# tests/egress.bats - how lvip's TC egress program is attached (docs/pins.md,
# docs/datapath.md): through a pinned tcx link (DIR/tcx_<ifindex>), or
# through a clsact filter at lvip's handle 0x1c1a priority 0xc1a where the
# kernel has no tcx, which LVIP_FORCE_CLSACT=1 forces here:
#
#  - each path: what is attached and pinned, what status reports, what
#    detach leaves;
#  - an interface attached through clsact (an older lvip) taken over by a
#    tcx attach: the tcx link first, then the filter removed, one lvip
#    program left on egress, the wire still protected; killed in between,
#    both run and the next attach finishes the move;
#  - somebody else's TC program (tests/fixtures/foreign_tc.bpf.c, counting
#    packets) as a clsact filter and on tcx next to lvip, in both paths:
#    both keep counting, lvip's drop and rewrite still happen on the wire
#    (egress_wire_check), lvip's detach leaves them;
#  - an interface that vanished: its tcx link pin reported (link_defunct)
#    and removed by detach --all.
#
# The egress tests of datapath-wire.bats run in the clsact path too
# (tests/run runs them again with LVIP_FORCE_CLSACT=1). Without root/BPF, or
# on a kernel without tcx (Linux 6.6) the tests that need it, the tests
# skip, or fail when LVIP_REQUIRE_BPF=1.

bats_require_minimum_version 1.5.0

load lib/netns
load lib/assertions

VIP4=198.18.0.100

setup_file() {
	lvip_env_check
	lvip_tmp_setup
	foreign_fixture_build
}

teardown_file() {
	lvip_tmp_teardown
}

setup() {
	lvip_env_require
	lvip_netns_setup
	unset LVIP_FORCE_CLSACT
}

teardown() {
	lvip_netns_teardown
}

# lvip_tc_ids DEV: ids of lvip's programs on DEV's egress (tcx and clsact).
lvip_tc_ids() {
	local id
	for id in $(tc_egress_ids "$RS" "$1"); do
		bpftool -j prog show id "$id" | json_eval "d['name']" | grep -q '^lvip_tc' && echo "$id"
	done
	return 0
}

# status_tc_id DEV: tc_prog_id of DEV in lvip status --json.
status_tc_id() {
	lvip status --json | json_eval "[i['tc_prog_id'] for i in d['interfaces'] if i['name'] == '$1'][0]"
}

@test "tcx: attach pins DIR/tcx_<ifindex>, lvip_tc first on tcx egress, no clsact filter; detach unpins it" {
	local idx tc_id
	need_tcx
	idx=$(ifindex "$RS" veth0)
	run --separate-stderr lvip attach veth0
	assert_status 0
	[ -e "$PIN/tcx_$idx" ] || fail "no tcx link pinned at $PIN/tcx_$idx: $(ls "$PIN")"
	tc_id=$(tcx_egress_ids "$RS" veth0 | head -n 1)
	[ -n "$tc_id" ] || fail "nothing on veth0's tcx egress"
	assert_eq "$(pinned_prog_id lvip_tc)" "$tc_id" "the first program on veth0's tcx egress"
	assert_eq "$tc_id" "$(status_tc_id veth0)" "tc_prog_id in status"
	assert_eq "" "$(clsact_egress_ids "$RS" veth0)" "clsact filters on veth0"
	run --separate-stderr lvip check
	assert_status 0

	run --separate-stderr lvip detach veth0
	assert_status 0
	[ ! -e "$PIN/tcx_$idx" ] || fail "tcx link pin left behind"
	assert_eq "" "$(tc_egress_ids "$RS" veth0)" "egress programs on veth0 after detach"
}

@test "LVIP_FORCE_CLSACT=1: lvip's filter at handle 0x1c1a priority 0xc1a, no tcx link; detach removes it" {
	local tc_id
	export LVIP_FORCE_CLSACT=1
	run --separate-stderr lvip attach veth0
	assert_status 0
	assert_eq "" "$(tcx_egress_ids "$RS" veth0)" "programs on veth0's tcx egress"
	[ ! -e "$PIN/tcx_$(ifindex "$RS" veth0)" ] || fail "a tcx link pinned in the clsact path"
	rs tc filter show dev veth0 egress | grep -q 'pref 3098 .*handle 0x1c1a .*lvip_tc' ||
		fail "lvip's filter not at its handle/priority: $(rs tc filter show dev veth0 egress)"
	tc_id=$(clsact_egress_ids "$RS" veth0)
	assert_eq "$tc_id" "$(status_tc_id veth0)" "tc_prog_id in status"
	run --separate-stderr lvip attach veth0
	assert_status 0
	assert_eq "$tc_id" "$(clsact_egress_ids "$RS" veth0)" "filters after a second attach"

	run --separate-stderr lvip detach veth0
	assert_status 0
	assert_eq "" "$(tc_egress_ids "$RS" veth0)" "egress programs on veth0 after detach"
}

@test "takeover: attached through clsact, attach on a tcx kernel moves egress to tcx; one lvip program, wire protected" {
	local ids
	need_tcx
	need_cmds tcpdump arping
	LVIP_FORCE_CLSACT=1 lvip attach veth0
	LVIP_FORCE_CLSACT=1 lvip vip add "$VIP4"
	[ -n "$(clsact_egress_ids "$RS" veth0)" ] || fail "no clsact filter to take over"

	run --separate-stderr lvip attach veth0
	assert_status 0
	assert_contains "$output" "attached"
	ids=$(lvip_tc_ids veth0)
	assert_eq "$(pinned_prog_id lvip_tc)" "$ids" "lvip's programs on veth0's egress (tcx and clsact)"
	assert_eq "$ids" "$(tcx_egress_ids "$RS" veth0)" "veth0's tcx egress"
	assert_eq "" "$(clsact_egress_ids "$RS" veth0)" "clsact filters on veth0 after the takeover"
	egress_wire_check "$VIP4"
	run --separate-stderr lvip check
	assert_status 0
}

@test "takeover killed between the tcx link and the filter's removal: egress covered twice, the next attach leaves one" {
	local pid
	need_tcx
	LVIP_FORCE_CLSACT=1 lvip attach veth0
	LVIP_FORCE_CLSACT=1 lvip vip add "$VIP4"
	bg_start pid ip netns exec "$RS" env LVIP_TEST_STOP_AT=tcx-attached "$LVIP" --pin-dir "$PIN" attach veth0
	wait_until 10 grep -q '^State:.*stopped' "/proc/$pid/status" || fail "lvip never stopped at tcx-attached"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	assert_eq 2 "$(lvip_tc_ids veth0 | wc -l)" "lvip's programs on veth0's egress (tcx and the old filter)"
	run --separate-stderr lvip check
	assert_status 0

	run --separate-stderr lvip attach veth0
	assert_status 0
	assert_eq "$(pinned_prog_id lvip_tc)" "$(lvip_tc_ids veth0)" "lvip's programs on veth0's egress"
	assert_eq "" "$(clsact_egress_ids "$RS" veth0)" "clsact filters on veth0"
}

# foreign_next_to_lvip CLSACT: somebody else's counting program as a clsact
# filter and on tcx egress of veth0, lvip attached with LVIP_FORCE_CLSACT
# set to CLSACT (empty: tcx): all run, the wire is protected, detach leaves
# the foreign ones.
foreign_next_to_lvip() {
	local f_cls f_tcx c_cls c_tcx lvip_id
	need_tcx
	need_foreign
	need_cmds tcpdump arping bpftool
	f_cls=$(foreign_tc_clsact veth0)
	f_tcx=$(foreign_tc_tcx veth0)
	[ -n "$f_cls" ] && [ -n "$f_tcx" ] || fail "foreign programs not attached: $(tc_egress_ids "$RS" veth0)"
	if [ -n "$1" ]; then export LVIP_FORCE_CLSACT=$1; fi
	run --separate-stderr lvip attach veth0
	assert_status 0
	run --separate-stderr lvip vip add "$VIP4"
	assert_status 0
	lvip_id=$(lvip_tc_ids veth0)
	assert_eq "$(pinned_prog_id lvip_tc)" "$lvip_id" "lvip's program on veth0's egress"
	if [ -n "$1" ]; then
		assert_eq "$lvip_id" "$(clsact_egress_ids "$RS" veth0 | grep -x "$lvip_id")" "lvip in a clsact filter"
	else
		assert_eq "$lvip_id $f_tcx" "$(tcx_egress_ids "$RS" veth0 | xargs)" "tcx egress, in order"
	fi
	c_cls=$(foreign_tc_count "$f_cls")
	c_tcx=$(foreign_tc_count "$f_tcx")

	egress_wire_check "$VIP4"
	run rs ping -c 2 -i 0.2 -W 2 "$PEER_ADDR4"
	[ "$(foreign_tc_count "$f_cls")" -gt "$c_cls" ] || fail "the foreign clsact filter counted nothing"
	[ "$(foreign_tc_count "$f_tcx")" -gt "$c_tcx" ] || fail "the foreign tcx program counted nothing"

	run --separate-stderr lvip detach veth0
	assert_status 0
	assert_eq "" "$(lvip_tc_ids veth0)" "lvip's programs on veth0 after detach"
	assert_eq "$f_tcx" "$(tcx_egress_ids "$RS" veth0)" "veth0's tcx egress after detach"
	assert_eq "$f_cls" "$(clsact_egress_ids "$RS" veth0)" "veth0's clsact filters after detach"
}

@test "foreign TC programs (clsact filter and tcx) next to lvip on tcx: all run, wire protected, detach leaves them" {
	foreign_next_to_lvip ""
}

@test "foreign TC programs (clsact filter and tcx) next to lvip through clsact: all run, wire protected, detach leaves them" {
	foreign_next_to_lvip 1
}

@test "interface gone: its tcx link pin is reported (link_defunct) and removed by detach --all" {
	local idx
	need_tcx
	lvip_add_veth2
	idx=$(ifindex "$RS" veth2)
	run --separate-stderr lvip attach veth2
	assert_status 0
	[ -e "$PIN/tcx_$idx" ] || fail "no tcx link pinned for veth2"
	ip -n "$RS" link del veth2
	run --separate-stderr lvip check --json
	json_assert "any(f['code'] == 'link_defunct' and 'tcx' in f['message'] for f in d['findings'])" "$output"
	run --separate-stderr lvip detach --all
	assert_status 0
	[ ! -e "$PIN/tcx_$idx" ] || fail "veth2's tcx link pin left behind: $(ls "$PIN")"
	[ ! -e "$PIN/xdp_$idx" ] || fail "veth2's XDP link pin left behind: $(ls "$PIN")"
}
