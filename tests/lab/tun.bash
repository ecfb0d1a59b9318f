# shellcheck shell=bash
# tests/lab/tun.bash - the LVS-TUN lab: build it, drive its director, tear it
# down. It reuses the process, capture and teardown helpers of the LVS-DR lab
# (tests/lab/lab.bash: on, lab_bg, lab_stop, lab_teardown, lab_wait ...).
#
#   source tests/lab/tun.bash
#   tun_build                      # namespaces, routes, director, HTTP servers
#   tun_director gue 6 [key=value]...  # what the director sends: type, outer family
#   ...                            # tun_cap_start/tun_cap_stop, tun_http ...
#   lab_teardown                   # whatever happened
#
# Topology (nothing in the root namespace; namespaces lvip-lab-<ID>-<role>):
#
#   client eth0 198.18.0.1 2001:db8::1 ------ c0 router (forwarding)
#                                              d0 198.18.1.254 2001:db8:1::fe
#   dir eth0 198.18.1.2 2001:db8:1::2 -------- d0
#                                              br0 198.19.0.254 2001:db8:19::fe
#   rs1 eth0 198.19.0.11 2001:db8:19::11 ----- r1 (port of br0)
#   rs2 eth0 198.19.0.12 2001:db8:19::12 ----- r2 (port of br0)
#
#   The VIPs 198.18.2.100 and 2001:db8:2::100 are routed by the router to
#   the director, which holds no address for them: its tc program
#   (tests/lab/director.bpf.c, clsact ingress on eth0) encapsulates each
#   packet for a VIP like IPVS's tunnel mode and sends it back to the router
#   with the real server's address as the outer destination. The real
#   servers sit in another subnet (198.19.0.0/24), as LVS-TUN allows; their
#   default route is the router, so their replies (source VIP) go straight
#   to the client, never through the director. Each real server runs its own
#   lvip (pin dir $LAB_BPFFS/rs1, .../rs2) and an HTTP server on [::]:80.

TUN_LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lab/lab.bash
. "$TUN_LAB_DIR/lab.bash"
: "${LVIP_BUILD:=$LAB_REPO/build}"
TUN_DIRECTOR_OBJ=${TUN_DIRECTOR_OBJ:-$LVIP_BUILD/lab/director.bpf.o}

TUN_VIP4=198.18.2.100
TUN_VIP6=2001:db8:2::100
TUN_CLIENT4=198.18.0.1
TUN_CLIENT6=2001:db8::1
TUN_RC4=198.18.0.254      # the router, client side
TUN_RC6=2001:db8::fe
TUN_DIR4=198.18.1.2
TUN_DIR6=2001:db8:1::2
TUN_RD4=198.18.1.254      # the router, director side
TUN_RD6=2001:db8:1::fe
TUN_RR4=198.19.0.254      # the router, real servers' side
TUN_RR6=2001:db8:19::fe
TUN_RS1_4=198.19.0.11
TUN_RS1_6=2001:db8:19::11
TUN_RS2_4=198.19.0.12
TUN_RS2_6=2001:db8:19::12
TUN_GUE_PORT=6080

TUN_MAC_CLIENT=02:00:00:00:20:01
TUN_MAC_RC=02:00:00:00:20:fe
TUN_MAC_DIR=02:00:00:00:21:02
TUN_MAC_RD=02:00:00:00:21:fe
TUN_MAC_RR=02:00:00:00:22:fe
TUN_MAC_RS1=02:00:00:00:22:11
TUN_MAC_RS2=02:00:00:00:22:12

tun_rs4() { case $1 in rs1) echo $TUN_RS1_4 ;; rs2) echo $TUN_RS2_4 ;; esac; }
tun_rs6() { case $1 in rs1) echo $TUN_RS1_6 ;; rs2) echo $TUN_RS2_6 ;; esac; }
tun_rs_mac() { case $1 in rs1) echo $TUN_MAC_RS1 ;; rs2) echo $TUN_MAC_RS2 ;; esac; }
# tun_vip 4|6
tun_vip() { if [ "$1" = 6 ]; then echo $TUN_VIP6; else echo $TUN_VIP4; fi; }

# _tun_link ROLE1 IF1 MAC1 ROLE2 IF2 MAC2: a veth pair between two namespaces,
# fixed MACs, no automatic link-local address.
_tun_link() {
	ip -n "$(lab_ns "$1")" link add "$2" type veth peer name "$5" netns "$(lab_ns "$4")" || return 1
	ip -n "$(lab_ns "$1")" link set dev "$2" address "$3" addrgenmode none &&
	ip -n "$(lab_ns "$4")" link set dev "$5" address "$6" addrgenmode none
}

# _tun_sysctls ROLE: the kernel's ARP defaults (a new namespace may inherit
# the root's) and rp_filter strict, before the interfaces exist.
_tun_sysctls() {
	local k
	for k in all default; do
		on "$1" sysctl -qw "net.ipv4.conf.$k.arp_ignore=0" "net.ipv4.conf.$k.arp_announce=0" \
			"net.ipv4.conf.$k.arp_filter=0" "net.ipv4.conf.$k.proxy_arp=0" \
			"net.ipv4.conf.$k.rp_filter=1" >/dev/null || return 1
	done
}

_tun_routes() {
	local r
	on router sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null &&
	ip -n "$(lab_ns router)" route add $TUN_VIP4/32 via $TUN_DIR4 &&
	ip -n "$(lab_ns router)" -6 route add $TUN_VIP6/128 via $TUN_DIR6 &&
	ip -n "$(lab_ns client)" route add default via $TUN_RC4 &&
	ip -n "$(lab_ns client)" -6 route add default via $TUN_RC6 &&
	ip -n "$(lab_ns dir)" route add default via $TUN_RD4 &&
	ip -n "$(lab_ns dir)" -6 route add default via $TUN_RD6 || return 1
	for r in rs1 rs2; do
		ip -n "$(lab_ns $r)" route add default via $TUN_RR4 &&
		ip -n "$(lab_ns $r)" -6 route add default via $TUN_RR6 || return 1
	done
}

# tun_build: the whole lab, the HTTP servers listening, the director loaded
# (encapsulating nothing until tun_director). Sets and exports LAB_ID,
# LAB_TMP, LAB_BPFFS.
tun_build() {
	local r rt
	export LAB_ID=${LAB_ID:-$$-tun}
	[ -r "$TUN_DIRECTOR_OBJ" ] ||
		{ lab_fail "lab: $TUN_DIRECTOR_OBJ is not built (make test-bins)"; return 1; }
	lab_tmp_mount || return 1

	for r in client router dir rs1 rs2; do _lab_host "$r" || return 1; done
	for r in rs1 rs2; do _tun_sysctls $r || return 1; done
	rt=$(lab_ns router)
	_tun_link client eth0 $TUN_MAC_CLIENT router c0 $TUN_MAC_RC &&
	_tun_link dir eth0 $TUN_MAC_DIR router d0 $TUN_MAC_RD &&
	_tun_link rs1 eth0 $TUN_MAC_RS1 router r1 02:00:00:00:22:fc &&
	_tun_link rs2 eth0 $TUN_MAC_RS2 router r2 02:00:00:00:22:fd || return 1
	ip -n "$rt" link add br0 address $TUN_MAC_RR type bridge mcast_snooping 0 &&
	ip -n "$rt" link set br0 addrgenmode none &&
	ip -n "$rt" link set r1 master br0 up &&
	ip -n "$rt" link set r2 master br0 up || return 1

	_lab_up client eth0 fe80::1 $TUN_CLIENT4/24 $TUN_CLIENT6/64 &&
	_lab_up router c0 fe80::fe $TUN_RC4/24 $TUN_RC6/64 &&
	_lab_up router d0 fe80::fe $TUN_RD4/24 $TUN_RD6/64 &&
	_lab_up router br0 fe80::fe $TUN_RR4/24 $TUN_RR6/64 &&
	_lab_up dir eth0 fe80::2 $TUN_DIR4/24 $TUN_DIR6/64 &&
	_lab_up rs1 eth0 fe80::11 $TUN_RS1_4/24 $TUN_RS1_6/64 &&
	_lab_up rs2 eth0 fe80::12 $TUN_RS2_4/24 $TUN_RS2_6/64 || return 1
	_tun_routes || { lab_fail "lab: routes"; return 1; }
	_lab_carriers client:eth0 dir:eth0 rs1:eth0 rs2:eth0 router:c0 router:d0 router:br0 || return 1
	_lab_httpds || return 1
	tun_director_load || return 1
	lab_log "built the LVS-TUN lab lvip-lab-$LAB_ID-*"
}

# ---------------------------------------------------------------- director

TUN_DIR_PIN() { echo "$LAB_BPFFS/director"; }

# tun_director_load: director.bpf.o pinned in $LAB_BPFFS/director (maps
# dir_cfg, dir_stats), on the director's eth0 clsact ingress.
tun_director_load() {
	local d id name
	d=$(TUN_DIR_PIN)
	mkdir -p "$d"
	bpftool prog load "$TUN_DIRECTOR_OBJ" "$d/prog" type classifier \
		>"$LAB_TMP/director-load.log" 2>&1 ||
		{ lab_fail "lab: the director does not load: $(tail -n 5 "$LAB_TMP/director-load.log")"; return 1; }
	# pinned by id: libbpf's pinmaps would turn the dots of $LAB_TMP into _
	for id in $(bpftool -j prog show pinned "$d/prog" | lab_json "' '.join(map(str, d['map_ids']))"); do
		name=$(bpftool -j map show id "$id" | lab_json "d['name']")
		bpftool map pin id "$id" "$d/$name" || { lab_fail "lab: cannot pin map $name"; return 1; }
	done
	[ -e "$d/dir_cfg" ] && [ -e "$d/dir_stats" ] || { lab_fail "lab: the director's maps are not pinned"; return 1; }
	on dir tc qdisc add dev eth0 clsact &&
	on dir tc filter add dev eth0 ingress pref 1 bpf da object-pinned "$d/prog" ||
		{ lab_fail "lab: cannot attach the director's tc program"; return 1; }
}

# tun_director TYPE OUTER [KEY=VALUE]...: from now on the director
# encapsulates with TYPE (ipip, gue, gre) in an outer IPv4 or IPv6 header
# (OUTER 4 or 6), to both real servers (by flow hash) unless rs=rs1|rs2;
# GUE to port $TUN_GUE_PORT unless port=N; gre_csum=1, pmtu_disc=0.
tun_director() {
	local type=$1 outer=$2 rs4="$TUN_RS1_4,$TUN_RS2_4" rs6="$TUN_RS1_6,$TUN_RS2_6" a extra=()
	shift 2
	for a in "$@"; do
		case $a in
		rs=*) rs4=$(tun_rs4 "${a#rs=}"); rs6=$(tun_rs6 "${a#rs=}") ;;
		*) extra+=("$a") ;;
		esac
	done
	"$LAB_PY" "$LAB_DIR/director.py" set "$(TUN_DIR_PIN)" type="$type" outer="$outer" \
		vip4=$TUN_VIP4 vip6=$TUN_VIP6 saddr4=$TUN_DIR4 saddr6=$TUN_DIR6 \
		rs4="$rs4" rs6="$rs6" port=$TUN_GUE_PORT \
		ports="$(on dir sysctl -n net.ipv4.ip_local_port_range | tr -s ' \t' '-')" "${extra[@]}"
}

# tun_director_stats: "TYPE OUTER-in-INNER N" lines, what the director sent.
tun_director_stats() { "$LAB_PY" "$LAB_DIR/director.py" stats "$(TUN_DIR_PIN)"; }

# ---------------------------------------------------------------- capture

# tun_cap_start TAG ROLE IFACE: tcpdump (whole frames) on ROLE's IFACE into
# $LAB_TMP/TAG.pcap; returns once it listens. Sets TUN_CAP_PIDS (appends)
# and CAP_FILE.
tun_cap_start() {
	CAP_FILE=$LAB_TMP/$1.pcap
	rm -f "$CAP_FILE"
	lab_bg "tcpdump-$1" "$LAB_TMP/$1.tcpdump" "$2" tcpdump -i "$3" --immediate-mode -U -nn -s 0 -w "$CAP_FILE"
	TUN_CAP_PIDS="${TUN_CAP_PIDS-} $LAB_BG_PID"
	lab_wait 5 grep -q 'listening on' "$LAB_TMP/$1.tcpdump" ||
		{ lab_fail "lab: tcpdump did not start: $(cat "$LAB_TMP/$1.tcpdump")"; return 1; }
}

# tun_cap_stop: stop every capture tun_cap_start started (the pcaps flushed).
tun_cap_stop() {
	local pid
	for pid in ${TUN_CAP_PIDS-}; do lab_stop "$pid" INT; done
	TUN_CAP_PIDS=
}

# tun_wire_check PCAP TYPE OUTER [KEY=VALUE]...: every packet the router
# sent the director for a VIP in PCAP (captured on the router's d0) came back
# encapsulated exactly as IPVS would; tests/lab/tun_wire.py, one JSON line.
tun_wire_check() {
	local pcap=$1 type=$2 outer=$3
	shift 3
	"$LAB_PY" "$LAB_DIR/tun_wire.py" "$pcap" type="$type" outer="$outer" \
		vip4=$TUN_VIP4 vip6=$TUN_VIP6 saddr4=$TUN_DIR4 saddr6=$TUN_DIR6 \
		rs4="$TUN_RS1_4,$TUN_RS2_4" rs6="$TUN_RS1_6,$TUN_RS2_6" port=$TUN_GUE_PORT \
		mac_dir=$TUN_MAC_DIR mac_router=$TUN_MAC_RD \
		ports="$(on dir sysctl -n net.ipv4.ip_local_port_range | tr -s ' \t' '-')" "$@"
}

# ---------------------------------------------------------------- traffic

# tun_curl FAMILY: one GET from the client to the VIP of FAMILY; prints the
# body (the real server's name).
tun_curl() {
	local url="http://$TUN_VIP4/"
	[ "$1" = 6 ] && url="http://[$TUN_VIP6]/"
	on client env -u http_proxy -u https_proxy -u HTTP_PROXY -u all_proxy \
		curl -sS --noproxy '*' --connect-timeout "${TUN_CONNECT_TIMEOUT:-3}" --max-time 5 "$url"
}

# tun_http N FAMILY: N GETs to the VIP of FAMILY. Prints "rs1=N rs2=N failed=N".
tun_http() {
	lab_http_tally "$1" tun_curl "$2"
}

# tun_ping FAMILY TOS [DF]: one echo request to the VIP with that TOS /
# traffic class (the ECN bits included) and, for IPv4, DF set (do) or not
# (dont). The reply does not matter.
tun_ping() {
	local fam=$1 tos=$2 df=${3:-dont}
	if [ "$fam" = 6 ]; then
		on client ping -6 -n -c 1 -W 0.3 -Q "$tos" $TUN_VIP6 >/dev/null 2>&1 || true
	else
		on client ping -4 -n -c 1 -W 0.3 -Q "$tos" -M "$df" $TUN_VIP4 >/dev/null 2>&1 || true
	fi
	return 0
}

# tun_lvip RS ARGS...: that real server's lvip.
tun_lvip() { lab_lvip "$@"; }

# tun_rs_protect RS TYPE...: lvip attach eth0, vip add both VIPs, tunnel add
# each TYPE (gue on $TUN_GUE_PORT).
tun_rs_protect() {
	local r=$1 t
	shift
	lab_lvip "$r" attach eth0 >/dev/null && lab_lvip "$r" vip add $TUN_VIP4 $TUN_VIP6 >/dev/null || return 1
	for t in "$@"; do
		if [ "$t" = gue ]; then
			lab_lvip "$r" tunnel add gue --port $TUN_GUE_PORT >/dev/null || return 1
		else
			lab_lvip "$r" tunnel add "$t" >/dev/null || return 1
		fi
	done
}

# tun_kernel_path_reason: why the kernel's own LVS-TUN path (IPVS + ipip)
# cannot be tried here; empty when it can.
tun_kernel_path_reason() {
	local m
	command -v ipvsadm >/dev/null 2>&1 || { echo "ipvsadm not installed"; return; }
	for m in ip_vs ipip; do
		if [ -e /proc/modules ] && grep -q "^$m " /proc/modules; then continue; fi
		[ "$m" = ip_vs ] && [ -e /proc/net/ip_vs ] && continue
		modprobe -n -q "$m" 2>/dev/null && continue
		echo "this kernel has no $m module (modprobe -n $m fails, not built in)"
		return
	done
}
