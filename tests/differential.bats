#!/usr/bin/env bats
# tests/differential.bats - lvip against the kernel's own cure.
#
# The same scenarios run in the LVS-DR lab (tests/lab/lab.bash) three times,
# with the real servers protected three ways, and what each real server puts
# on the wire is compared (tcpdump on the switch's bridges):
#
#   none    the VIPs on lo by hand, the kernel's defaults (the problem)
#   sysctl  the VIPs on lo by hand, net.ipv4.conf.all.arp_ignore=1 and
#           arp_announce=2 (set inside the RS namespaces only), the usual recipe
#   lvip    lvip attach eth0 eth1, lvip vip add VIP4 VIP6, default sysctls
#
# Each RS also has a management address on lo (not a VIP) and a second
# interface eth1 on a management segment (198.18.1.0/24, bridge br1).
#
# The lab and the management addresses are built once (setup_file) and
# never changed by a test. Each test brings the real servers into the modes
# it compares (from whatever state the previous test left, checking that
# each mode is what it claims) and runs the scenarios it asserts on, into
# results of its own: any test runs alone (bats -f), and a missing
# observation is a failure, never an empty value equal to another. The
# first test runs every scenario in every mode and prints the table (as TAP
# comments, and into build/differential.txt); the others assert where the
# two cures agree and where lvip is better.

load lab/lab

MGMT_LO1=198.18.0.201	# rs1's management address on lo
MGMT_LO2=198.18.0.202	# rs2's

setup_file() {
	lab_bats_setup_file diff || return 1
	[ -n "${LAB_TMP-}" ] || return 0
	export TABLE=${LAB_DIFF_TABLE:-$LAB_REPO/build/differential.txt}
	on rs1 ip addr add $MGMT_LO1/32 dev lo
	on rs2 ip addr add $MGMT_LO2/32 dev lo
}

teardown_file() {
	lab_teardown
}

setup() {
	lab_bats_require
	RESULTS=$BATS_TEST_TMPDIR/differential.results
	: >"$RESULTS"
}

teardown() {
	cap_stop
}

# ---------------------------------------------------------------- modes

sysctls() {	# RS ARP_IGNORE ARP_ANNOUNCE
	on "$1" sysctl -qw "net.ipv4.conf.all.arp_ignore=$2" "net.ipv4.conf.all.arp_announce=$3"
}

# mode_reset: from any state: lvip down where it is loaded, the kernel's
# default sysctls, the VIPs off lo.
mode_reset() {
	local r
	for r in rs1 rs2; do
		if [ -d "$LAB_BPFFS/$r" ]; then
			lab_lvip $r down >/dev/null || { lab_fail "lvip down on $r failed"; return 1; }
		fi
		sysctls $r 0 0
		on $r ip addr del $VIP4/32 dev lo 2>/dev/null || true
		on $r ip -6 addr del $VIP6/128 dev lo 2>/dev/null || true
	done
}

mode_none() {
	local r
	mode_reset
	for r in rs1 rs2; do
		sysctls $r 0 0
		on $r ip addr add $VIP4/32 dev lo
		on $r ip -6 addr add $VIP6/128 dev lo
	done
}

mode_sysctl() {
	local r
	mode_none
	for r in rs1 rs2; do sysctls $r 1 2; done
}

mode_lvip() {
	local r
	mode_reset
	for r in rs1 rs2; do
		sysctls $r 0 0
		lab_lvip $r attach eth0 eth1 >/dev/null
		lab_lvip $r vip add $VIP4 $VIP6 >/dev/null
	done
}

# mode_check MODE: the real servers are in MODE: the sysctls, the VIPs on lo,
# lvip loaded with eth0 and eth1 attached (mode lvip) or not loaded at all.
mode_check() {
	local r want=0 lo
	[ "$1" = sysctl ] && want=1
	for r in rs1 rs2; do
		assert_eq "$want $((want * 2))" \
			"$(on $r sysctl -n net.ipv4.conf.all.arp_ignore) $(on $r sysctl -n net.ipv4.conf.all.arp_announce)" \
			"$r arp_ignore arp_announce in mode $1" || return 1
		lo=$(on $r ip -o addr show dev lo | awk '{ print $4 }' | grep -xF -e $VIP4/32 -e $VIP6/128 | sort | xargs)
		assert_eq "$VIP4/32 $VIP6/128" "$lo" "VIPs on $r's lo in mode $1" || return 1
		if [ "$1" = lvip ]; then
			assert_eq '["eth0", "eth1"]' "$(lab_lvip $r status --json | lab_json "sorted(i['name'] for i in d['interfaces'])")" \
				"$r interfaces attached in mode lvip" || return 1
		else
			[ ! -e "$LAB_BPFFS/$r" ] || { lab_fail "lvip still loaded on $r in mode $1"; return 1; }
		fi
	done
}

# use_mode MODE: bring both RSs into MODE (none, sysctl, lvip) from any
# state, flush every neighbour cache of the lab, check the mode. (Called
# plainly, as is every step here: errexit stops the test at a failure.)
use_mode() {
	MODE=$1
	"mode_$1"
	flush_all
	mode_check "$1"
}

flush_all() {
	local r
	for r in client:eth0 client:eth1 dir:eth0 rs1:eth0 rs1:eth1 rs2:eth0 rs2:eth1; do
		on "${r%:*}" ip neigh flush dev "${r#*:}"
		on "${r%:*}" ip -6 neigh flush dev "${r#*:}"
	done
}

# ---------------------------------------------------------------- recording

# record KEY LABEL VALUE: one cell of the table (mode $MODE).
record() {
	printf '%s|%s|%s|%s\n' "$1" "$MODE" "$2" "$3" >>"$RESULTS"
}
# cell RS1VALUE RS2VALUE: one value when both RSs did the same.
cell() {
	if [ "$1" = "$2" ]; then echo "$1"; else echo "rs1 $1, rs2 $2"; fi
}
# obs KEY MODE: the cell this test recorded for KEY in MODE; a failure when
# there is none (or more than one).
obs() {
	local n
	n=$(awk -F'|' -v k="$1" -v m="$2" '$1 == k && $2 == m' "$RESULTS" | wc -l)
	[ "$n" -eq 1 ] || { lab_fail "observation $1 in mode $2: $n rows in this test's results, expected 1"; return 1; }
	awk -F'|' -v k="$1" -v m="$2" '$1 == k && $2 == m { print $4 }' "$RESULTS"
}
# assert_obs EXPECTED KEY MODE WHAT: the cell exists and is EXPECTED.
assert_obs() {
	local v
	v=$(obs "$2" "$3") || return 1
	assert_eq "$1" "$v" "$4"
}

# answered FILE MAC SENDER: "answers" if MAC sent an ARP reply for SENDER.
answered() {
	if [ "$(pcap_count "$1" "arp and $(arp_op 2) and ether src $2 and $(arp_sender_is "$3")")" -gt 0 ]; then
		echo answers
	else
		echo silent
	fi
}

# ---------------------------------------------------------------- scenarios

# arp_in KEY LABEL IFACE T1 T2 ARPING-ARGS...: the client asks on IFACE for
# T1 (rs1's) and T2 (rs2's); does each RS answer?
arp_in() {
	local key=$1 label=$2 ifc=$3 t1=$4 t2=$5 br m1 m2 v1 v2
	shift 5
	if [ "$ifc" = eth1 ]; then br=br1; m1=$MAC_RS1_1; m2=$MAC_RS2_1; else br=br0; m1=$MAC_RS1; m2=$MAC_RS2; fi
	cap_start "$MODE-$key" $br
	on client arping -c 1 -w 0.2 -i "$ifc" "$@" "$t1" >/dev/null 2>&1 || true
	if [ "$t2" != "$t1" ]; then
		on client arping -c 1 -w 0.2 -i "$ifc" "$@" "$t2" >/dev/null 2>&1 || true
	fi
	cap_stop
	[ "$(pcap_count "$CAP_FILE" "arp and $(arp_op 1) and ether src $(if [ $ifc = eth1 ]; then echo $MAC_CLIENT_1; else echo $MAC_CLIENT; fi)")" -ge 1 ] ||
		{ lab_fail "$key: the client's request is not on the wire"; return 1; }
	v1=$(answered "$CAP_FILE" $m1 "$t1")
	v2=$(answered "$CAP_FILE" $m2 "$t2")
	record "$key" "$label" "$(cell "$v1" "$v2")"
}

# tell KEY LABEL IFACE DST SRC: each RS sends a datagram from SRC (VIP: the
# VIP; eth0: its own eth0 address) to DST, neighbours flushed: which sender
# address does the ARP request it puts on the wire carry?
tell() {
	local key=$1 label=$2 ifc=$3 dst=$4 src=$5 br r m from sender v s=""
	if [ "$ifc" = eth1 ]; then br=br1; else br=br0; fi
	cap_start "$MODE-$key" $br
	for r in rs1 rs2; do
		if [ "$src" = VIP ]; then from=$VIP4; else from=$(rs_addr4 $r); fi
		lab_from_vip $r "$dst" "$from"
		lab_wait 3 lab_rs_resolved $r "$dst" "$ifc" ||
			{ lab_fail "$key: $r did not resolve $dst"; return 1; }
	done
	cap_stop
	for r in rs1 rs2; do
		if [ "$ifc" = eth1 ]; then
			m=$([ $r = rs1 ] && echo $MAC_RS1_1 || echo $MAC_RS2_1)
		else
			m=$(rs_mac $r)
		fi
		sender=$(pcap_show "$CAP_FILE" "arp and $(arp_op 1) and ether src $m and $(arp_target_is "$dst")" |
			sed -n 's/.* tell \([0-9.]*\),.*/\1/p' | sort -u | tr '\n' ' ')
		case "${sender% }" in
		"") v="no request seen" ;;
		"$VIP4") v="tell VIP" ;;
		"$(rs_addr4 $r)") v="tell its eth0 address" ;;
		"$RS1_MGMT4"|"$RS2_MGMT4") v="tell its eth1 address" ;;
		*) v="tell ${sender% }" ;;
		esac
		s="$s|$v"
	done
	s=${s#|}
	record "$key" "$label" "$(cell "${s%%|*}" "${s#*|}")"
}

# announce KEY LABEL: each RS runs arping -U -S VIP (a program announcing the
# VIP, as keepalived or an admin would); does a frame with sender VIP leave?
announce() {
	local r v s=""
	cap_start "$MODE-$1"
	for r in rs1 rs2; do
		on $r arping -U -S $VIP4 -c 1 -w 0.2 -i eth0 $VIP4 >/dev/null 2>&1 || true
	done
	cap_stop
	for r in rs1 rs2; do
		if [ "$(pcap_count "$CAP_FILE" "arp and ether src $(rs_mac $r) and $(arp_sender_is $VIP4)")" -gt 0 ]; then
			v="VIP leaves"
		else
			v="stopped"
		fi
		s="$s|$v"
	done
	s=${s#|}
	record "$1" "$2" "$(cell "${s%%|*}" "${s#*|}")"
}

# nd_in KEY LABEL: the client solicits the VIP6; does an RS advertise it?
nd_in() {
	local r s="" na
	on client ip -6 neigh flush dev eth0
	cap_start "$MODE-$1"
	on client ping -6 -c 1 -W 1 $VIP6 >/dev/null 2>&1 || true
	cap_stop
	[ "$(pcap_count "$CAP_FILE" "$(icmp6_type 135) and $(nd_target_is $VIP6)")" -ge 1 ] ||
		{ lab_fail "$1: no NS for $VIP6 on the wire"; return 1; }
	na="$(icmp6_type 136) and $(nd_target_is $VIP6)"
	for r in rs1 rs2; do
		if [ "$(pcap_count "$CAP_FILE" "$na and ether src $(rs_mac $r)")" -gt 0 ]; then s="$s|answers"; else s="$s|silent"; fi
	done
	s=${s#|}
	record "$1" "$2" "$(cell "${s%%|*}" "${s#*|}")"
}

# na_out KEY LABEL: a program on each RS sends an unsolicited NA for the VIP6.
na_out() {
	local r s=""
	cap_start "$MODE-$1"
	for r in rs1 rs2; do
		lab_nd $r na "$(rs_mac $r)" 33:33:00:00:00:01 $VIP6 ff02::1 $VIP6 O 1 >/dev/null
	done
	cap_stop
	for r in rs1 rs2; do
		if [ "$(pcap_count "$CAP_FILE" "$(icmp6_type 136) and $(nd_target_is $VIP6) and ether src $(rs_mac $r)")" -gt 0 ]; then
			s="$s|VIP6 leaves"
		else
			s="$s|stopped"
		fi
	done
	s=${s#|}
	record "$1" "$2" "$(cell "${s%%|*}" "${s#*|}")"
}

# http KEY LABEL FAMILY: 20 GETs to the VIP through the director.
http() {
	local res via vip
	if [ "$3" = 6 ]; then vip=$VIP6; else vip=$VIP4; fi
	if [ "$MODE" = none ]; then
		# which MAC the client learns for the VIP is a race here: not compared
		record "$1" "$2" "(not compared)"
		return 0
	fi
	on client ip neigh flush dev eth0
	on client ip -6 neigh flush dev eth0
	cap_start "$MODE-$1"
	res=$(lab_http_many 20 "$3")
	cap_stop
	via=$(pcap_hosts "$CAP_FILE" "tcp dst port 80 and dst host $vip and ether src $MAC_CLIENT" dst)
	if [[ $res == *failed=0 && $res != *rs1=0* && $res != *rs2=0* && $via == director ]] &&
		[ "$(pcap_hosts "$CAP_FILE" "tcp src port 80 and src host $vip" src)" = "rs1 rs2" ]; then
		record "$1" "$2" "20/20 via the director, both RSs"
	else
		record "$1" "$2" "$res, client sends to $via"
	fi
}

# Every scenario, in the order of the table.
SCENARIOS="arp-req arp-probe arp-garp tell-gw announce nd-ns nd-na mgmt-lo eth1-own eth1-other eth1-vip eth1-tell http4 http6"

# scenario KEY: run scenario KEY in the current mode, record its cell.
scenario() {
	case $1 in
	arp-req)    arp_in  arp-req    "ARP request for the VIP (eth0)"             eth0 $VIP4 $VIP4 ;;
	arp-probe)  arp_in  arp-probe  "ARP probe for the VIP (sender 0.0.0.0)"     eth0 $VIP4 $VIP4 -0 ;;
	arp-garp)   arp_in  arp-garp   "gratuitous ARP request for the VIP"         eth0 $VIP4 $VIP4 -U -S $VIP4 ;;
	tell-gw)    tell    tell-gw    "RS resolves its gateway from the VIP"       eth0 $GW4 VIP ;;
	announce)   announce announce  "arping -U -S VIP run on the RS" ;;
	nd-ns)      nd_in   nd-ns      "NS for the VIP6 (eth0)" ;;
	nd-na)      na_out  nd-na      "unsolicited NA for the VIP6 sent on the RS" ;;
	mgmt-lo)    arp_in  mgmt-lo    "ARP for a non-VIP address on lo (eth0)"     eth0 $MGMT_LO1 $MGMT_LO2 ;;
	eth1-own)   arp_in  eth1-own   "eth1: ARP for eth1's own address"           eth1 $RS1_MGMT4 $RS2_MGMT4 ;;
	eth1-other) arp_in  eth1-other "eth1: ARP for the RS's eth0 address"        eth1 $RS1_4 $RS2_4 ;;
	eth1-vip)   arp_in  eth1-vip   "eth1: ARP for the VIP"                      eth1 $VIP4 $VIP4 ;;
	eth1-tell)  tell    eth1-tell  "eth1: RS asks a neighbour from its eth0 address" eth1 $MGMT_CLIENT4 eth0 ;;
	http4)      http    http4      "HTTP over DR, IPv4 (20 requests)" 4 ;;
	http6)      http    http6      "HTTP over DR, IPv6 (20 requests)" 6 ;;
	*)          lab_fail "no scenario $1"; return 1 ;;
	esac
}

# observe "MODE..." "KEY...": each mode in turn (use_mode), each scenario
# KEY in it, into this test's results.
observe() {
	local m k
	for m in $1; do
		use_mode "$m"
		for k in $2; do
			scenario "$k"
		done
	done
}

# print_table: the comparison, from $RESULTS.
print_table() {
	"$LAB_PY" - "$RESULTS" <<'EOF'
import sys
rows, labels, order = {}, {}, []
for line in open(sys.argv[1]):
    key, mode, label, value = line.rstrip("\n").split("|", 3)
    if key not in rows:
        rows[key] = {}
        order.append(key)
    rows[key][mode] = value
    labels[key] = label
head = ["scenario", "no protection", "arp_ignore=1 arp_announce=2", "lvip", "sysctls vs lvip"]
table = []
for k in order:
    r = rows[k]
    s, l = r.get("sysctl", "?"), r.get("lvip", "?")
    table.append([labels[k], r.get("none", "?"), s, l, "same" if s == l else "DIFFER"])
w = [max(len(x[i]) for x in table + [head]) for i in range(len(head))]
for x in [head, ["-" * n for n in w]] + table:
    print("  ".join(c.ljust(n) for c, n in zip(x, w)).rstrip())
EOF
}

# ---------------------------------------------------------------- tests

@test "differential: run every scenario with no protection, with the sysctls and with lvip; print the table" {
	local k m
	observe "none sysctl lvip" "$SCENARIOS"
	# the modes were what they claim
	assert_eq "0 0" "$(on rs1 sysctl -n net.ipv4.conf.all.arp_ignore) $(on rs1 sysctl -n net.ipv4.conf.all.arp_announce)" "rs1 sysctls in mode lvip"
	assert_eq '["eth0", "eth1"]' "$(lab_lvip rs1 status --json | lab_json "sorted(i['name'] for i in d['interfaces'])")" "rs1 interfaces attached"
	print_table >"$LAB_TMP/table"
	if [ -d "$(dirname "$TABLE")" ]; then cp "$LAB_TMP/table" "$TABLE"; fi
	{
		echo "# differential (director: $LAB_DIRECTOR; table also in $TABLE):"
		sed 's/^/#   /' "$LAB_TMP/table"
	} >&3
	[ "$(grep -c . "$RESULTS")" -eq 42 ] || lab_fail "expected 42 cells, got $(grep -c . "$RESULTS")"
	# every cell of the table observed, once
	for k in $SCENARIOS; do
		for m in none sysctl lvip; do
			obs "$k" "$m" >/dev/null
		done
	done
}

@test "differential: the problem is real: with no protection the RSs answer ARP for the VIP and ask \"tell VIP\"" {
	observe none "arp-req arp-probe tell-gw eth1-vip"
	assert_obs answers arp-req none "ARP request, none"
	assert_obs answers arp-probe none "ARP probe, none"
	# (a gratuitous request carrying the VIP as sender is not answered even
	# with no protection: the kernel's route check refuses a local address as
	# a source; it is still a row of the table, silent in every column)
	assert_obs "tell VIP" tell-gw none "gateway lookup, none"
	assert_obs answers eth1-vip none "ARP for the VIP on eth1, none"
}

@test "differential: agree, the VIP hidden both ways (ARP request, probe, GARP, on eth0 and eth1; NS for the VIP6)" {
	local k
	observe "sysctl lvip" "arp-req arp-probe arp-garp eth1-vip nd-ns"
	for k in arp-req arp-probe arp-garp eth1-vip nd-ns; do
		assert_obs silent $k sysctl "$k with the sysctls"
		assert_obs silent $k lvip "$k with lvip"
	done
}

@test "differential: agree, an RS resolving its gateway from the VIP asks with its own address both ways" {
	observe "sysctl lvip" tell-gw
	assert_obs "tell its eth0 address" tell-gw sysctl "with the sysctls"
	assert_obs "tell its eth0 address" tell-gw lvip "with lvip"
}

@test "differential: agree, HTTP over DR works both ways (IPv4 and IPv6)" {
	observe "sysctl lvip" "http4 http6"
	assert_obs "20/20 via the director, both RSs" http4 sysctl "IPv4 with the sysctls"
	assert_obs "20/20 via the director, both RSs" http4 lvip "IPv4 with lvip"
	assert_obs "20/20 via the director, both RSs" http6 sysctl "IPv6 with the sysctls"
	assert_obs "20/20 via the director, both RSs" http6 lvip "IPv6 with lvip"
}

@test "differential: lvip better, a management (non-VIP) address on lo is still answered with lvip, silenced by the sysctls" {
	observe "none sysctl lvip" mgmt-lo
	assert_obs answers mgmt-lo none "no protection"
	assert_obs silent mgmt-lo sysctl "with the sysctls"
	assert_obs answers mgmt-lo lvip "with lvip"
}

@test "differential: lvip better, a second interface keeps normal ARP with lvip (the sysctls change it on every interface)" {
	local tell_none tell_lvip
	observe "none sysctl lvip" "eth1-own eth1-other eth1-tell"
	# its own address: everyone answers
	assert_obs answers eth1-own none "eth1 own, none"
	assert_obs answers eth1-own sysctl "eth1 own, sysctls"
	assert_obs answers eth1-own lvip "eth1 own, lvip"
	# the RS's other address asked on eth1: the kernel's default answer stays with lvip
	assert_obs answers eth1-other none "eth1 other, none"
	assert_obs silent eth1-other sysctl "eth1 other, sysctls"
	assert_obs answers eth1-other lvip "eth1 other, lvip"
	# requests the RS sends on eth1 from another of its addresses: unchanged by lvip
	tell_none=$(obs eth1-tell none)
	tell_lvip=$(obs eth1-tell lvip)
	assert_eq "$tell_none" "$tell_lvip" "eth1 requests, lvip vs none"
	assert_obs "tell its eth1 address" eth1-tell sysctl "eth1 requests, sysctls"
}

@test "differential: lvip better, announcements of the VIP by a program (arping -U, unsolicited NA) are stopped by lvip, not by the sysctls" {
	observe "none sysctl lvip" "announce nd-na"
	assert_obs "VIP leaves" announce none "arping -U, none"
	assert_obs "VIP leaves" announce sysctl "arping -U, sysctls"
	assert_obs stopped announce lvip "arping -U, lvip"
	assert_obs "VIP6 leaves" nd-na none "NA, none"
	assert_obs "VIP6 leaves" nd-na sysctl "NA, sysctls"
	assert_obs stopped nd-na lvip "NA, lvip"
}
