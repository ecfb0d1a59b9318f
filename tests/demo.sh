#!/usr/bin/env bash
# make demo: a real server (namespace "rs") with a VIP on lo, and a neighbour
# on the same segment (namespace "peer"). First without lvip: the real server
# answers ARP for the VIP (the LVS-DR problem). Then with lvip: it does not,
# and packets to the VIP are still accepted.
# Everything lives in namespaces created here and removed on exit.
set -u
cd "$(dirname "$0")/.."

LVIP=${LVIP:-$PWD/build/lvip}
VIP=198.18.0.100
VIP6=2001:db8::100
RS=lvip-demo-$$-rs
PEER=lvip-demo-$$-peer
TMP=$(mktemp -d /tmp/lvip.demo.XXXXXX)
BPFFS=$TMP/bpffs
PIN=$BPFFS/lvip
failures=0
step=0

cleanup() {
	ip netns del "$RS" 2>/dev/null
	ip netns del "$PEER" 2>/dev/null
	mountpoint -q "$BPFFS" && umount "$BPFFS"
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

say()    { step=$((step + 1)); printf '\n[%d] %s\n' "$step" "$*"; }
expect() { printf '    expected: %s\n' "$*"; }
seen()   { printf '    seen:     %s\n' "$*"; }
ok()     { printf '    OK\n'; }
bad()    { printf '    FAILED: %s\n' "$*"; failures=$((failures + 1)); }
rs()     { ip netns exec "$RS" "$@"; }
peer()   { ip netns exec "$PEER" "$@"; }
lvip()   { rs "$LVIP" --pin-dir "$PIN" "$@"; }

# Replies arping got for ADDR from the peer (3 requests, 3 s at most).
arp_replies() {
	peer arping -c 3 -w 3 -I veth1 "$1" 2>/dev/null | awk '/packets received/ { print $4 }'
}

json_get() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }

[ "$(id -u)" -eq 0 ] || { echo "make demo: needs root" >&2; exit 1; }
[ -x "$LVIP" ] || { echo "make demo: $LVIP not built (run make)" >&2; exit 1; }

mkdir -p "$BPFFS" && mount -t bpf bpf "$BPFFS" || { echo "cannot mount bpffs" >&2; exit 1; }
ip netns add "$RS" && ip netns add "$PEER" || exit 1
ip -n "$RS" link add veth0 type veth peer name veth1 netns "$PEER"
ip -n "$RS" link set lo up
ip -n "$RS" addr add 198.18.0.11/24 dev veth0
ip -n "$RS" addr add 2001:db8::11/64 dev veth0 nodad
ip -n "$RS" link set veth0 up
ip -n "$PEER" link set lo up
ip -n "$PEER" addr add 198.18.0.1/24 dev veth1
ip -n "$PEER" addr add 2001:db8::1/64 dev veth1 nodad
ip -n "$PEER" link set veth1 up
ip -n "$PEER" route add $VIP/32 via 198.18.0.11

echo "lvip demo: real server $RS (veth0 198.18.0.11) and neighbour $PEER (veth1 198.18.0.1)"

say "Without lvip: put $VIP on the real server's lo (ip addr add $VIP/32 dev lo) and ask ARP for it"
rs ip addr add $VIP/32 dev lo
expect "the real server answers ARP for the VIP (the problem: the router would send it the VIP's traffic)"
n=$(arp_replies $VIP); seen "$n of 3 ARP requests answered"
[ "${n:-0}" -gt 0 ] && ok || bad "no answer: the demo cannot show the problem"
rs ip addr del $VIP/32 dev lo

say "With lvip: lvip attach veth0 && lvip vip add $VIP $VIP6"
lvip attach veth0 && lvip vip add $VIP $VIP6 || bad "lvip failed"
rs ip -o addr show dev lo | awk '{ print "    lo:", $4 }'

say "ARP for the VIP from the neighbour"
expect "no answer; the real server's own address is still answered"
n=$(arp_replies $VIP); own=$(arp_replies 198.18.0.11)
seen "$n of 3 for $VIP, $own of 3 for 198.18.0.11"
[ "${n:-1}" -eq 0 ] && [ "${own:-0}" -eq 3 ] && ok || bad "VIP answered or own address not"

say "Ping the VIP (routed to the real server, as an LVS director would send it)"
expect "3 of 3 answered: packets to the VIP are accepted"
n=$(peer ping -c 3 -W 1 -i 0.2 $VIP | awk '/received/ { print $4 }')
seen "$n of 3 answered"
[ "${n:-0}" -eq 3 ] && ok || bad "ping to the VIP failed"

say "The real server resolves its neighbour from the VIP (who-has 198.18.0.1 tell $VIP)"
expect "the request leaves with the real server's own address, and is answered"
rs ip neigh flush dev veth0
n=$(rs arping -c 1 -w 2 -I veth0 -S $VIP 198.18.0.1 2>/dev/null | awk '/packets received/ { print $4 }')
seen "${n:-0} of 1 answered"
[ "${n:-0}" -eq 1 ] && ok || bad "not answered"

say "Counters: lvip stats"
lvip stats | sed 's/^/    /'
js=$(lvip stats --json)
arp=$(json_get '["reasons"]["arp_in_dropped"]' <<<"$js")
rx=$(json_get '["reasons"]["vip_rx"]' <<<"$js")
rw=$(json_get '["reasons"]["arp_out_rewritten"]' <<<"$js")
expect "arp_in_dropped = 3, vip_rx >= 3, arp_out_rewritten >= 1"
seen "arp_in_dropped = $arp, vip_rx = $rx, arp_out_rewritten = $rw"
[ "$arp" -eq 3 ] && [ "$rx" -ge 3 ] && [ "$rw" -ge 1 ] && ok || bad "counters"

say "The same counters through plain bpftool: bpftool map dump pinned $PIN/lvip_stats"
sum=$(bpftool -j map dump pinned "$PIN/lvip_stats" |
	python3 -c 'import json,sys; print(sum(v["value"]["arp_in_dropped"] for e in json.load(sys.stdin) for v in e["formatted"]["values"]))')
expect "arp_in_dropped summed over CPUs = $arp"
seen "$sum"
[ "$sum" = "$arp" ] && ok || bad "bpftool disagrees"

say "lvip down: VIPs off lo, programs detached, pins removed"
lvip down | sed 's/^/    /'
left=$(rs ip -o addr show dev lo | grep -c "$VIP" || true)
[ "$left" -eq 0 ] && [ ! -e "$PIN" ] && ok || bad "state left behind"

echo
if [ "$failures" -eq 0 ]; then
	echo "demo: every expected observation held"
	exit 0
fi
echo "demo: $failures observation(s) did not hold"
exit 1
