#!/usr/bin/env bash
# make demo: the LVS-DR lab, guided.
#
# A client, a director holding the VIPs, and two real servers (rs1, rs2)
# running HTTP servers, on one switch, all in network namespaces built here
# (tests/lab/lab.bash) and removed on exit whatever happens.
#
#   Phase 1, the problem: the VIP on each real server's lo, no lvip, default
#   sysctls. The real servers answer ARP for the VIP, the client's neighbour
#   entry for the VIP flips to a real server's MAC, requests bypass the
#   director.
#   Phase 2, the fix: lvip on both real servers. Only the director answers
#   ARP/ND for the VIPs, requests go through the director and are spread over
#   both real servers, replies come straight from them, "who-has gateway tell
#   VIP" leaves rewritten; lvip monitor shows who asked for the VIP (XDP
#   drops never reach tcpdump on the real server); the counters, from lvip
#   and from plain bpftool.
#
# Every observation is read on the wire (tcpdump on the switch's bridge) or
# from the hosts' own state; the demo exits 0 only if every one held.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/lab/lab.bash
. tests/lab/lab.bash

# shellcheck source=tests/lab/demo.bash
. tests/lab/demo.bash
T0=$SECONDS

# spread_ok "rs1=A rs2=B failed=C" N: A + B = N, both > 0, C = 0.
spread_ok() {
	local a b c
	read -r a b c <<<"$(sed -E 's/[a-z0-9]+=//g' <<<"$1")"
	[ "$c" = 0 ] && [ "$a" -gt 0 ] && [ "$b" -gt 0 ] && [ $((a + b)) -eq "$2" ]
}
# monitor_listening RS: RS's lvip monitor has set its flag (lvip_mon.pid).
monitor_listening() {
	bpftool -j map dump pinned "$LAB_BPFFS/$1/lvip_mon" |
		"$LAB_PY" -c 'import json, sys; e = json.load(sys.stdin)[0]; sys.exit(e.get("formatted", e)["value"]["pid"] == 0)'
}
# monitor_who LOG: the requesters of lvip monitor --json's events in LOG, one
# "REASON MAC IP -> VIP xN" line per kind, then "not sent N".
monitor_who() {
	"$LAB_PY" -c '
import collections, json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
c = collections.Counter((e["reason"], e["mac"], e["requester"], e["vip"]) for e in lines if "reason" in e)
for k, n in sorted(c.items()):
    print("%s %s %s -> %s x%d" % (k + (n,)))
print("not sent %d" % sum(e["not_sent"] for e in lines if "not_sent" in e))' "$1"
}

reason=$(lab_env_reason)
if [ -n "$reason" ]; then
	echo "make demo: cannot run here: $reason" >&2
	exit 1
fi
[ -x "$LVIP" ] || { echo "make demo: $LVIP is not built (run make)" >&2; exit 1; }

trap lab_teardown EXIT
trap 'echo "make demo: interrupted" >&2; exit 130' INT TERM

say "Build the lab: switch, client, director, real servers rs1 and rs2 (namespaces lvip-lab-$$-*)"
if ! lab_build; then
	echo "make demo: the lab could not be built" >&2
	exit 1
fi
note "client   eth0 $MAC_CLIENT  $CLIENT4 $CLIENT6 (also the RSs' gateway $GW4)"
note "director eth0 $MAC_DIR  $DIR4 $DIR6, holds the VIPs $VIP4 $VIP6"
note "rs1      eth0 $MAC_RS1  $RS1_4 $RS1_6, HTTP server answering \"rs1\""
note "rs2      eth0 $MAC_RS2  $RS2_4 $RS2_6, HTTP server answering \"rs2\""
note "director in use: $LAB_DIRECTOR_DESC"
note "every frame is captured on the switch's bridge (tcpdump -i br0 in the switch namespace)"

# ====================================================================== phase 1
printf '\n===== Phase 1, the problem: the VIP on each real server'"'"'s lo, no lvip, default sysctls =====\n'

say "On rs1 and rs2: ip addr add $VIP4/32 dev lo; ip addr add $VIP6/128 dev lo"
for r in rs1 rs2; do
	on $r ip addr add $VIP4/32 dev lo && on $r ip -6 addr add $VIP6/128 dev lo ||
		hold "VIP on $r's lo" false
done
note "arp_ignore/arp_announce on rs1: $(on rs1 sysctl -n net.ipv4.conf.all.arp_ignore)/$(on rs1 sysctl -n net.ipv4.conf.all.arp_announce) (the kernel's defaults)"

say "The client asks ARP for the VIP: arping -c 1 $VIP4"
expect "answers from the director and from both real servers (Linux answers ARP for any local address, lo included)"
cap_start p1-arp
on client arping -c 1 -w 0.5 -i eth0 $VIP4 >/dev/null 2>&1
cap_stop
pcap_show "$CAP_FILE" "arp and $(arp_op 2) and $(arp_sender_is $VIP4)" | indent
who=$(pcap_hosts "$CAP_FILE" "arp and $(arp_op 2) and $(arp_sender_is $VIP4)" src)
seen "\"$VIP4 is-at\" from: $who"
hold "the real servers answer ARP for the VIP" eq "$who" "director rs1 rs2"

say "rs1 looks up the client from the VIP, as a DR real server does when it replies (ping -I $VIP4 $CLIENT4 after ip neigh flush)"
expect "\"who-has $CLIENT4 tell $VIP4\" leaves rs1; the client's entry for the VIP flips to rs1's MAC"
on client ip neigh flush dev eth0
cap_start p1-tell
on rs1 ip neigh flush dev eth0
on rs1 ping -c 1 -W 1 -I $VIP4 $CLIENT4 >/dev/null 2>&1
cap_stop
f="arp and $(arp_op 1) and ether src $MAC_RS1 and $(arp_sender_is $VIP4)"
pcap_show "$CAP_FILE" "$f" | indent
n=$(pcap_count "$CAP_FILE" "$f")
neigh=$(lab_client_neigh $VIP4)
seen "$n such request(s) from rs1; client: $VIP4 lladdr $neigh ($(mac_name "${neigh%% *}"))"
hold "rs1 announces the VIP in its ARP request" [ "$n" -ge 1 ]
hold "the client's neighbour entry for the VIP is rs1's MAC" eq "${neigh%% *}" "$MAC_RS1"

say "10 HTTP requests from the client to http://$VIP4/"
expect "all answered by rs1, sent straight to rs1's MAC: the director is bypassed"
cap_start p1-http
res=$(lab_http_many 10 4)
cap_stop
to_dir=$(pcap_count "$CAP_FILE" "ether src $MAC_CLIENT and ether dst $MAC_DIR and tcp dst port 80 and dst host $VIP4")
to_rs1=$(pcap_count "$CAP_FILE" "ether src $MAC_CLIENT and ether dst $MAC_RS1 and tcp dst port 80 and dst host $VIP4")
seen "answers: $res; client's frames to the VIP: $to_dir to the director, $to_rs1 straight to rs1"
hold "every request answered by rs1" eq "$res" "rs1=10 rs2=0 failed=0"
hold "no request through the director" [ "$to_dir" -eq 0 -a "$to_rs1" -gt 0 ]

# ====================================================================== phase 2
printf '\n===== Phase 2, the fix: lvip on both real servers =====\n'

say "On rs1 and rs2: ip addr del the VIPs from lo; lvip attach eth0; lvip vip add $VIP4 $VIP6"
for r in rs1 rs2; do
	on $r ip addr del $VIP4/32 dev lo
	on $r ip -6 addr del $VIP6/128 dev lo
	out=$(lab_lvip $r attach eth0 2>&1 && lab_lvip $r vip add $VIP4 $VIP6 2>&1)
	st=$?
	printf '%s\n' "$out" | sed "s/^/        $r: /"
	hold "lvip on $r" [ "$st" -eq 0 ]
done
note "rs1's lo: $(on rs1 ip -o addr show dev lo | awk '{ printf "%s ", $4 }')"
lab_lvip rs1 vip list | indent
for r in rs1 rs2; do
	hold "the VIPs are on $r's lo, put there by lvip" \
		[ "$(lab_lvip $r vip list --json | lab_json "sorted(v['address'] for v in d if v['on_lo'] and v['owner'] == 'lvip')")" = '["198.18.0.100", "2001:db8::100"]' ]
done
s1=$(lab_stats rs1); s2=$(lab_stats rs2)

say "The client forgets its neighbours and asks ARP for the VIP three times: arping -c 3 $VIP4"
expect "only the director answers; each real server drops the 3 requests (arp_in_dropped +3)"
note "meanwhile rs1 runs lvip monitor --json: the requests XDP drops never reach tcpdump on rs1"
on client ip neigh flush dev eth0
lab_bg monitor-rs1 "$LAB_TMP/monitor-rs1.json" rs1 "$LVIP" --pin-dir "$LAB_BPFFS/rs1" monitor --json
mon_pid=$LAB_BG_PID
lab_wait 5 monitor_listening rs1 || note "lvip monitor did not start: $(cat "$LAB_TMP/monitor-rs1.json")"
cap_start p2-arp
on client arping -c 3 -W 0.2 -w 1 -i eth0 $VIP4 >/dev/null 2>&1
cap_stop
lab_stop "$mon_pid" TERM
pcap_show "$CAP_FILE" "arp and ($(arp_target_is $VIP4) or $(arp_sender_is $VIP4))" | indent
asked=$(pcap_count "$CAP_FILE" "arp and $(arp_op 1) and ether src $MAC_CLIENT and $(arp_target_is $VIP4)")
who=$(pcap_hosts "$CAP_FILE" "arp and $(arp_op 2) and $(arp_sender_is $VIP4)" src)
t1=$(lab_stats rs1); t2=$(lab_stats rs2)
d1=$(( $(stat_of "$t1" arp_in_dropped) - $(stat_of "$s1" arp_in_dropped) ))
d2=$(( $(stat_of "$t2" arp_in_dropped) - $(stat_of "$s2" arp_in_dropped) ))
seen "$asked requests on the wire; answered by: $who; arp_in_dropped rs1 +$d1, rs2 +$d2"
hold "only the director answers ARP for the VIP" eq "$who" "director"
hold "each real server dropped exactly the requests on the wire" eq "$asked $asked $asked" "3 $d1 $d2"
who=$(monitor_who "$LAB_TMP/monitor-rs1.json")
seen "lvip monitor on rs1:"
printf '%s\n' "$who" | indent
hold "lvip monitor on rs1 shows the client ($MAC_CLIENT $CLIENT4) asking for $VIP4, once per dropped request" \
	eq "$who" "arp_in_dropped $MAC_CLIENT $CLIENT4 -> $VIP4 x$d1
not sent 0"

say "The client asks the IPv6 VIP's neighbour (ping -6 $VIP6 after ip -6 neigh flush: a Neighbor Solicitation)"
expect "only the director answers with a Neighbor Advertisement; each real server drops the NS (nd_in_dropped +1)"
s1=$t1; s2=$t2
cap_start p2-nd
on client ping -6 -c 1 -W 1 $VIP6 >/dev/null 2>&1
cap_stop
nsf="$(icmp6_type 135) and $(nd_target_is $VIP6)"
naf="$(icmp6_type 136) and $(nd_target_is $VIP6)"
pcap_show "$CAP_FILE" "($nsf) or ($naf)" | indent
asked=$(pcap_count "$CAP_FILE" "$nsf")
who=$(pcap_hosts "$CAP_FILE" "$naf" src)
t1=$(lab_stats rs1); t2=$(lab_stats rs2)
d1=$(( $(stat_of "$t1" nd_in_dropped) - $(stat_of "$s1" nd_in_dropped) ))
d2=$(( $(stat_of "$t2" nd_in_dropped) - $(stat_of "$s2" nd_in_dropped) ))
seen "$asked NS on the wire; NA from: $who; nd_in_dropped rs1 +$d1, rs2 +$d2"
hold "only the director answers ND for the VIP" eq "$who" "director"
hold "each real server dropped exactly the NS on the wire" eq "$asked $asked $asked" "1 $d1 $d2"

say "rs1 looks up its gateway from the VIP (ip neigh flush; ping -I $VIP4 $GW4): the kernel asks \"who-has $GW4 tell $VIP4\""
expect "the request leaves rs1 as \"tell $RS1_4\" (arp_out_rewritten +1), the gateway is resolved, the client's entry for the VIP stays the director's"
s1=$t1
cap_start p2-tell
on rs1 ip neigh flush dev eth0
on rs1 ping -c 1 -W 1 -I $VIP4 $GW4 >/dev/null 2>&1
cap_stop
pcap_show "$CAP_FILE" "arp and (ether src $MAC_RS1 or ether dst $MAC_RS1)" | indent
leaked=$(pcap_count "$CAP_FILE" "arp and ether src $MAC_RS1 and $(arp_sender_is $VIP4)")
rewritten=$(pcap_count "$CAP_FILE" "arp and $(arp_op 1) and ether src $MAC_RS1 and $(arp_sender_is $RS1_4) and $(arp_target_is $GW4)")
gw=$(on rs1 ip neigh show $GW4 dev eth0 | awk '{ for (i = 1; i <= NF; i++) if ($i == "lladdr") print $(i + 1) }')
t1=$(lab_stats rs1)
d1=$(( $(stat_of "$t1" arp_out_rewritten) - $(stat_of "$s1" arp_out_rewritten) ))
neigh=$(lab_client_neigh $VIP4)
seen "$rewritten request(s) \"tell $RS1_4\", $leaked with sender $VIP4; arp_out_rewritten +$d1; rs1: $GW4 lladdr ${gw:-none}; client: $VIP4 lladdr $neigh"
hold "nothing leaves rs1 with sender $VIP4" eq "$leaked" 0
hold "the request left rewritten, counted once per frame" [ "$rewritten" -ge 1 -a "$rewritten" = "$d1" ]
hold "rs1 resolved its gateway" eq "$gw" "$MAC_CLIENT"
hold "the client's entry for the VIP is still the director's" eq "${neigh%% *}" "$MAC_DIR"

say "20 HTTP requests to http://$VIP4/ and 20 to http://[$VIP6]/ from the client"
expect "all answered, spread over rs1 and rs2; the client sends to the director, the director to the real servers; replies come straight from the real servers to the client"
s1=$t1; s2=$(lab_stats rs2)
h1=$(lab_hits rs1); h2=$(lab_hits rs2)
cap_start p2-http
res4=$(lab_http_many 20 4)
res6=$(lab_http_many 20 6)
lab_quiet
cap_stop
for fam in 4 6; do
	if [ $fam = 4 ]; then vip=$VIP4; res=$res4; else vip=$VIP6; res=$res6; fi
	req="tcp dst port 80 and dst host $vip"
	rep="tcp src port 80 and src host $vip"
	c_to=$(pcap_hosts "$CAP_FILE" "$req and ether src $MAC_CLIENT" dst)
	d_to=$(pcap_hosts "$CAP_FILE" "$req and ether src $MAC_DIR" dst)
	r_from=$(pcap_hosts "$CAP_FILE" "$rep" src)
	r_to=$(pcap_hosts "$CAP_FILE" "$rep" dst)
	seen "IPv$fam answers: $res"
	seen "IPv$fam requests: client -> $c_to; director -> $d_to; replies: $r_from -> $r_to"
	hold "IPv$fam: 20 answered by both real servers" spread_ok "$res" 20
	hold "IPv$fam: requests through the director, to both real servers" \
		eq "$c_to/$d_to" "director/rs1 rs2"
	hold "IPv$fam: replies straight from the real servers to the client" \
		eq "$r_from/$r_to" "rs1 rs2/client"
done
served=$(( $(lab_hits rs1) - h1 + $(lab_hits rs2) - h2 ))
t1=$(lab_stats rs1); t2=$(lab_stats rs2)
for r in rs1 rs2; do
	if [ $r = rs1 ]; then a=$s1; b=$t1; else a=$s2; b=$t2; fi
	wire=$(pcap_count "$CAP_FILE" "ether dst $(rs_mac $r) and (dst host $VIP4 or dst host $VIP6)")
	d=$(( $(stat_of "$b" vip_rx) - $(stat_of "$a" vip_rx) ))
	seen "$r: $wire frames for the VIPs on the wire to its MAC, vip_rx +$d"
	hold "$r counted every packet for the VIPs it received" eq "$d" "$wire"
done
seen "the HTTP servers logged $served requests"
hold "40 requests sent, 40 served" eq "$served" 40
neigh=$(lab_client_neigh $VIP4)
hold "the client's entry for the VIP is the director's ($neigh)" eq "${neigh%% *}" "$MAC_DIR"

say "The counters on rs1: lvip stats"
lab_lvip rs1 stats | indent
expect "the same numbers through plain bpftool (bpftool map dump pinned \$PIN/lvip_stats, per-CPU values summed)"
note "bpftool -j map dump pinned $LAB_BPFFS/rs1/lvip_stats (first CPU):"
bpftool map dump pinned "$LAB_BPFFS/rs1/lvip_stats" | sed -n '1,14p' | indent
js=$(lab_stats rs1)
all=ok
for k in arp_in_dropped arp_out_dropped arp_out_rewritten nd_in_dropped nd_out_dropped vip_rx malformed; do
	a=$(stat_of "$js" $k)
	b=$(lab_bpftool_sum rs1 lvip_stats $k)
	printf '        %-18s lvip %6s   bpftool %6s\n' $k "$a" "$b"
	[ "$a" = "$b" ] || all=bad
done
hold "lvip stats and bpftool agree" eq "$all" ok
a=$(vip_stat_of "$js" $VIP4 packets)
b=$(bpftool -j map dump pinned "$LAB_BPFFS/rs1/lvip_vip4" | "$LAB_PY" -c '
import json, sys
print(sum(v["value"]["packets"] for e in json.load(sys.stdin) for v in e.get("formatted", e)["values"]))')
seen "packets for $VIP4: lvip vip list $a, bpftool lvip_vip4 $b"
hold "per-VIP packets agree" eq "$a" "$b"

say "Tear down: stop the HTTP servers, delete the namespaces, unmount the bpffs"
demo_end "make demo" "director: $LAB_DIRECTOR"
