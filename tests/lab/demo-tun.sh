#!/usr/bin/env bash
# make demo-tun (and the last phase of make demo): the LVS-TUN lab, guided.
#
# A client, a router, a director and two real servers (rs1, rs2) in another
# subnet behind the router, all in network namespaces built here
# (tests/lab/tun.bash) and removed on exit whatever happens. The director
# has no IPVS here: a tc program (tests/lab/director.bpf.c) writes what
# IPVS's tunnel mode writes (ipvsadm -i --tun-type ipip|gue|gre).
#
#   Phase 3, LVS-TUN: the real servers run lvip with the VIPs on lo. Without
#   a tunnel configured the tunnelled requests die (this kernel has no ipip,
#   fou or gre module); with one lvip line per type, one request per type
#   and family is answered straight from a real server, never through the
#   director; the counters per type (lvip tunnel list, lvip stats) match
#   what the director sent; nobody on the real servers' subnet gets an ARP
#   answer for the VIP.
#
# Every observation is read on the wire (tcpdump in the router and director
# namespaces) or from the hosts' own state; exit 0 only if every one held.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lab/tun.bash
. tests/lab/tun.bash
# shellcheck source=tests/lab/demo.bash
. tests/lab/demo.bash
T0=$SECONDS

# sent_by_director TYPE: packets the director encapsulated with TYPE.
sent_by_director() { tun_director_stats | awk -v t="$1" '$1 == t { n += $3 } END { print n + 0 }'; }
# decapsulated TYPE: lvip's decapsulated counter for TYPE (lvip stats
# --json), both real servers.
decapsulated() {
	local r n=0
	for r in rs1 rs2; do
		n=$((n + $(tun_lvip $r stats --json | lab_json "d['tunnels']['$1']['decapsulated']" 2>/dev/null || echo 0)))
	done
	echo $n
}
# reply_is_rs BODY: the body names a real server.
reply_is_rs() { [ "$1" = rs1 ] || [ "$1" = rs2 ]; }

reason=$(lab_env_reason)
if [ -n "$reason" ]; then
	echo "make demo-tun: cannot run here: $reason" >&2
	exit 1
fi
[ -x "$LVIP" ] || { echo "make demo-tun: $LVIP is not built (run make)" >&2; exit 1; }

trap lab_teardown EXIT
trap 'echo "make demo-tun: interrupted" >&2; exit 130' INT TERM

printf '\n===== Phase 3, LVS-TUN: real servers in another subnet, packets tunnelled by the director =====\n'

say "Build the TUN lab: client, router, director, real servers rs1 and rs2 behind the router (namespaces lvip-lab-$$-tun-*)"
export LAB_ID=$$-tun
if ! tun_build; then
	echo "make demo-tun: the lab could not be built" >&2
	exit 1
fi
note "client   $TUN_CLIENT4 $TUN_CLIENT6, default route: the router"
note "router   routes the VIPs $TUN_VIP4 $TUN_VIP6 to the director, 198.19.0.0/24 to the real servers"
note "director $TUN_DIR4 $TUN_DIR6: tc ingress program director.bpf.c, encapsulating like ipvsadm -i (no IPVS here)"
note "rs1      $TUN_RS1_4 $TUN_RS1_6, rs2 $TUN_RS2_4 $TUN_RS2_6: HTTP servers answering their name"

say "On rs1 and rs2: lvip attach eth0; lvip vip add $TUN_VIP4 $TUN_VIP6 (the VIPs on lo, ARP/ND for them hidden)"
for r in rs1 rs2; do
	hold "lvip on $r" tun_rs_protect $r
done

say "The director sends one request to rs1 over IPIP (ipvsadm -a -t VIP:80 -r $TUN_RS1_4 -i): no tunnel configured on rs1"
expect "no answer: this kernel has no ipip module, nothing takes protocol 4 off the packet"
tun_director ipip 4 rs=rs1
body=$(TUN_CONNECT_TIMEOUT=2 tun_curl 4 2>/dev/null) || body=""
seen "answer: '${body:-none}'"
hold "the tunnelled request is not answered" eq "$body" ""

say "On rs1 and rs2, one line per type: lvip tunnel add ipip; lvip tunnel add gue --port $TUN_GUE_PORT; lvip tunnel add gre"
for r in rs1 rs2; do
	hold "tunnels on $r" eval "tun_lvip $r tunnel add ipip >/dev/null && tun_lvip $r tunnel add gue --port $TUN_GUE_PORT >/dev/null && tun_lvip $r tunnel add gre >/dev/null"
done
tun_lvip rs1 tunnel list | indent

for spec in "ipip 4" "gue 6" "gre 4"; do
	read -r t o <<<"$spec"
	say "The director tunnels with $t in IPv$o (ipvsadm --tun-type $t$([ $t = gue ] && echo " --tun-port $TUN_GUE_PORT")): one GET to http://$TUN_VIP4/ and one to http://[$TUN_VIP6]/"
	expect "both answered by a real server, replies straight to the client: the director sees the requests, no reply"
	tun_director $t $o
	before=$(sent_by_director $t)
	dbefore=$(decapsulated $t)
	tun_cap_start tun-$t-dir dir eth0
	tun_cap_start tun-$t-rtr router br0
	b4=$(tun_curl 4 2>/dev/null) || b4=""
	b6=$(tun_curl 6 2>/dev/null) || b6=""
	tun_cap_stop
	tcpdump -r "$LAB_TMP/tun-$t-rtr.pcap" -nn -c 1 "src host $TUN_DIR4 or src host $TUN_DIR6" 2>/dev/null |
		cut -d' ' -f2- | sed 's/^/to a real server: /' | indent
	replies=$(pcap_count "$LAB_TMP/tun-$t-dir.pcap" "src host $TUN_VIP4 or src host $TUN_VIP6")
	reqs=$(pcap_count "$LAB_TMP/tun-$t-dir.pcap" "dst host $TUN_VIP4 or dst host $TUN_VIP6")
	from_rs=$(pcap_count "$LAB_TMP/tun-$t-rtr.pcap" "(src host $TUN_VIP4 or src host $TUN_VIP6) and (ether src $TUN_MAC_RS1 or ether src $TUN_MAC_RS2)")
	sent=$(( $(sent_by_director $t) - before ))
	dec=$(( $(decapsulated $t) - dbefore ))
	seen "IPv4 VIP answered by '${b4:-nobody}', IPv6 VIP by '${b6:-nobody}'"
	seen "director: $reqs request packets in, $replies reply packets; router: $from_rs reply packets from a real server's MAC"
	seen "the director encapsulated $sent packets with $t, the real servers decapsulated $dec"
	hold "$t: both requests answered by a real server" eval 'reply_is_rs "$b4" && reply_is_rs "$b6"'
	hold "$t: replies straight from the real servers, none through the director" [ "$replies" -eq 0 -a "$reqs" -gt 0 -a "$from_rs" -gt 0 ]
	hold "$t: every packet the director sent was decapsulated" eq "$dec" "$sent"
done

say "The counters on rs1: lvip tunnel list; lvip stats (its TUNNEL table)"
tun_lvip rs1 tunnel list | indent
tun_lvip rs1 stats | sed -n '/^TUNNEL/,$p' | indent
note "the same through plain bpftool: bpftool map dump pinned \$PIN/lvip_tunstats"

say "The router asks ARP for the VIP on the real servers' subnet (arping -i br0 $TUN_VIP4)"
expect "no answer: lvip drops the requests on both real servers"
tun_cap_start tun-arp router br0
on router arping -c 2 -W 0.2 -w 1 -i br0 $TUN_VIP4 >/dev/null 2>&1
tun_cap_stop
asked=$(pcap_count "$CAP_FILE" "arp and $(arp_op 1) and $(arp_target_is $TUN_VIP4)")
answered=$(pcap_count "$CAP_FILE" "arp and $(arp_op 2) and $(arp_sender_is $TUN_VIP4)")
neigh=$(on router ip neigh show $TUN_VIP4 | head -n 1)
seen "$asked requests, $answered answers; the router's neighbour entry for the VIP: ${neigh:-none}"
hold "nobody answers ARP for the VIP" [ "$asked" -ge 1 -a "$answered" -eq 0 ]

say "Tear down: stop the HTTP servers, lvip down, delete the namespaces, unmount the bpffs"
demo_end "make demo-tun" "director: tc fixture like IPVS tunnel mode"
