#!/usr/bin/env bash
# Records the encapsulation, link type and fragment captures in
# testdata/capture (enc_*.pcap, frag_*.pcap) with real software:
# tools/server.py and tools/client.py (HTTP/1.1 with test keys) in network
# namespaces created here, carried by the kernel or by Open vSwitch's
# userspace datapath, captured with tcpdump. See README.md for each file.
#
#   testdata/capture/record_encap.sh [all|nflog|frag|gpe|ovs|teredo]
#
# nflog   nftables "log group 5" on loopback, captured with `tcpdump -i
#         nflog:5` (LINKTYPE_NFLOG, 239)
# frag    a router namespace forwarding on a 576-byte-MTU route, the client
#         with path MTU discovery off (DF clear): the router fragments the
#         client's IPv4 TCP segments; dnsmasq answering A and AAAA queries
#         larger than the link's 1280 bytes (UDP fragmented by the server, IPv4 and
#         IPv6); and kernel VXLAN on an IPv4 underlay whose route MTU is
#         smaller than the overlay's: the outer packets are fragmented
# gpe     kernel VXLAN-GPE (`ip link add type vxlan gpe external`, routes
#         with `encap ip`): IPv4 and IPv6 straight in VXLAN-GPE, UDP 4790
# ovs     Open vSwitch (userspace datapath, no kernel module) between two
#         namespaces: Geneve, GRE (Ethernet in GRE), ERSPAN type II and
#         III, and MPLS pushed by OpenFlow actions, alone and under an
#         802.1Q tag
# teredo  miredo-server and two miredo clients: HTTP between the two
#         clients' Teredo addresses, with the qualification, bubbles and
#         origin indications on the way
#
# Needs root and, on Debian: apt-get install -y iproute2 tcpdump tshark
# python3 nftables dnsmasq-base openvswitch-switch miredo miredo-server.
# Only namespaces made here are used; they are removed on exit. Files are
# replaced only when every step worked; KEEP=1 keeps the work directory.
set -euo pipefail

WHAT=${1:-all}
case $WHAT in all | nflog | frag | gpe | ovs | teredo) ;; *)
	echo "usage: testdata/capture/record_encap.sh [all|nflog|frag|gpe|ovs|teredo]" >&2
	exit 2
	;;
esac

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS=$HERE/tools
PY=/usr/bin/python3
PATH=$PATH:/usr/sbin:/sbin
export PYTHONDONTWRITEBYTECODE=1
need() { command -v "$1" >/dev/null || { echo "record_encap.sh: missing $1 (apt-get install -y $2)" >&2; exit 1; }; }
need ip iproute2
need tcpdump tcpdump
need tshark tshark
need $PY python3
case $WHAT in all | nflog) need nft nftables ;; esac
case $WHAT in all | frag) need dnsmasq dnsmasq-base ;; esac
case $WHAT in all | ovs) need ovs-vswitchd openvswitch-switch ;; esac
case $WHAT in all | teredo) need miredo miredo && need miredo-server miredo-server ;; esac
[ "$(id -u)" = 0 ] || { echo "record_encap.sh: run as root (captures, network namespaces)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/rwencap.XXXXXX)
PIDS=()
NS=(rwe-cli rwe-mid rwe-srv rwe-ova rwe-ovb rwe-ter)
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "$WORK"/ovs-*/*.pid; do if [ -e "$p" ]; then kill "$(cat "$p")" 2>/dev/null || true; fi; done
	wait 2>/dev/null || true
	for p in "${NS[@]}"; do ip netns del "$p" 2>/dev/null || true; done
	if [ "${KEEP:-}" = 1 ]; then echo "record_encap.sh: work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
OUT=$WORK/out
mkdir -p "$OUT"

bg() { # CMD...: in the background; BG is its pid
	"$@" &
	BG=$!
	PIDS+=("$BG")
}
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
ns_fresh() { # NS...: new, empty namespaces with loopback up
	local ns
	for ns in "$@"; do
		ip netns del "$ns" 2>/dev/null || true
		ip netns add "$ns"
		in_ns "$ns" ip link set lo up
	done
}
ns_gone() { local ns; for ns in "$@"; do ip netns del "$ns" 2>/dev/null || true; done; }

# capture_start NAME CMD...: a capture in the background; waits until it runs.
capture_start() {
	local name=$1
	shift
	"$@" 2>"$WORK/$name.err" &
	PIDS+=($!)
	eval "CAP_$name=$!"
	local i
	for i in $(seq 50); do
		grep -q "listening on" "$WORK/$name.err" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "record_encap.sh: capture $name did not start:" >&2
	cat "$WORK/$name.err" >&2
	exit 1
}
capture_stop() {
	local pid
	eval "pid=\$CAP_$1"
	sleep 0.5
	kill -INT "$pid"
	wait "$pid" 2>/dev/null || true
	if grep -q "[1-9][0-9]* packets dropped by kernel" "$WORK/$1.err"; then
		echo "record_encap.sh: capture $1 dropped packets" >&2
		exit 1
	fi
}
wait_port() { # NS ADDR PORT
	local i
	for i in $(seq 100); do
		if in_ns "$1" $PY -c "import socket,sys; s=socket.socket(socket.AF_INET6 if ':' in '$2' else socket.AF_INET); s.settimeout(0.3); sys.exit(s.connect_ex(('$2',$3)))" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "record_encap.sh: server $2:$3 cannot be reached from $1" >&2
	exit 1
}
server() { bg ip netns exec "$1" $PY "$TOOLS/server.py" "$2" "$3"; } # NS ADDR PORT
client() { in_ns "$1" $PY "$TOOLS/client.py" small "$2" "$3" "$4"; } # NS ADDR PORT MANIFEST
veth() { # NS1 DEV1 NS2 DEV2 [MTU]: a veth pair, up, offloads off
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
	if [ -n "${5:-}" ]; then
		in_ns "$1" ip link set "$2" mtu "$5"
		in_ns "$3" ip link set "$4" mtu "$5"
	fi
	in_ns "$1" ip link set "$2" up
	in_ns "$3" ip link set "$4" up
	in_ns "$1" $PY "$TOOLS/offload.py" "$2"
	in_ns "$3" $PY "$TOOLS/offload.py" "$4"
}

# ---------------------------------------------------------------- nflog
nflog() {
	echo "== nflog (nftables log group 5, loopback, port 18670)"
	ns_fresh rwe-srv
	# queue-threshold 1: each packet goes to tcpdump at once, not after
	# nfnetlink_log's one-second batching (the last ones would be lost
	# when the capture stops).
	in_ns rwe-srv nft -f - <<-'EOF'
		table inet rw {
			chain out {
				type filter hook output priority 0;
				tcp dport 18670 log group 5 queue-threshold 1
				tcp sport 18670 log group 5 queue-threshold 1
			}
		}
	EOF
	server rwe-srv 127.0.0.1 18670
	server rwe-srv ::1 18670
	wait_port rwe-srv 127.0.0.1 18670
	wait_port rwe-srv ::1 18670
	capture_start nflog ip netns exec rwe-srv tcpdump --immediate-mode -U -B 32768 -i nflog:5 -s 0 -w "$WORK/nflog.pcap"
	: >"$WORK/nflog.tsv"
	client rwe-srv 127.0.0.1 18670 "$WORK/nflog.tsv"
	client rwe-srv ::1 18670 "$WORK/nflog.tsv"
	capture_stop nflog
	cp "$WORK/nflog.pcap" "$OUT/enc_nflog.pcap"
	cp "$WORK/nflog.tsv" "$OUT/enc_nflog_manifest.tsv"
	ns_gone rwe-srv
}

# ----------------------------------------------------------------- frag
frag() {
	echo "== frag (a router to a 576-byte MTU; dnsmasq; VXLAN on a small underlay)"
	ns_fresh rwe-cli rwe-mid rwe-srv
	veth rwe-cli c0 rwe-mid m0
	veth rwe-mid m1 rwe-srv s0 1280
	in_ns rwe-cli ip addr add 10.81.0.1/24 dev c0
	in_ns rwe-mid ip addr add 10.81.0.254/24 dev m0
	in_ns rwe-mid ip addr add 10.81.1.254/24 dev m1
	in_ns rwe-srv ip addr add 10.81.1.2/24 dev s0
	in_ns rwe-cli ip addr add fd81::1/64 dev c0 nodad
	in_ns rwe-mid ip addr add fd81::fe/64 dev m0 nodad
	in_ns rwe-mid ip addr add fd81:1::fe/64 dev m1 nodad
	in_ns rwe-srv ip addr add fd81:1::2/64 dev s0 nodad
	in_ns rwe-cli ip route add default via 10.81.0.254
	in_ns rwe-srv ip route add default via 10.81.1.254
	in_ns rwe-cli ip -6 route add default via fd81::fe
	in_ns rwe-srv ip -6 route add default via fd81:1::fe
	in_ns rwe-mid sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	# The client does no path MTU discovery: its segments leave without
	# DF and the router fragments them for the small link.
	in_ns rwe-cli sysctl -qw net.ipv4.ip_no_pmtu_disc=1
	# The link to the server is 1280 bytes (IPv6's least); the route
	# over it takes 576 for IPv4, which forwarding honours.
	in_ns rwe-mid ip route change 10.81.1.0/24 dev m1 mtu 576
	server rwe-srv 10.81.1.2 18671
	wait_port rwe-cli 10.81.1.2 18671
	# dnsmasq with names whose A and AAAA answers exceed the MTU.
	local hosts=$WORK/hosts i
	: >"$hosts"
	for i in $(seq 1 120); do
		echo "10.99.$((i / 200)).$((i % 200 + 1)) big.frag.test" >>"$hosts"
		printf 'fd99::%x big6.frag.test\n' "$i" >>"$hosts"
	done
	bg ip netns exec rwe-srv dnsmasq --no-daemon --no-resolv --no-hosts --addn-hosts="$hosts" \
		--listen-address=10.81.1.2,fd81:1::2 --bind-interfaces --port=53 --edns-packet-max=4096 --local-ttl=30 --log-facility=/dev/null
	capture_start frag ip netns exec rwe-srv tcpdump --immediate-mode -U -i s0 -s 0 -w "$WORK/frag.pcap" 'tcp or udp or ip[6:2] & 0x1fff != 0 or ip6[6] == 44'
	: >"$WORK/frag.tsv"
	client rwe-cli 10.81.1.2 18671 "$WORK/frag.tsv"
	in_ns rwe-cli $PY "$TOOLS/dnsq.py" 10.81.1.2 big.frag.test A
	in_ns rwe-cli $PY "$TOOLS/dnsq.py" fd81:1::2 big6.frag.test AAAA
	capture_stop frag
	cp "$WORK/frag.pcap" "$OUT/frag_router.pcap"
	cp "$WORK/frag.tsv" "$OUT/frag_router_manifest.tsv"
	ns_gone rwe-cli rwe-mid rwe-srv

	# VXLAN whose overlay MTU (1500) is above what the IPv4 underlay's
	# route carries (1000): the kernel fragments the outer packets (DF
	# clear: vxlan's "df unset"). IPv4 and IPv6 inside.
	ns_fresh rwe-cli rwe-srv
	veth rwe-cli u0 rwe-srv u1
	in_ns rwe-cli ip addr add 192.0.2.1/24 dev u0
	in_ns rwe-srv ip addr add 192.0.2.2/24 dev u1
	in_ns rwe-cli ip route change 192.0.2.0/24 dev u0 mtu 1000
	in_ns rwe-srv ip route change 192.0.2.0/24 dev u1 mtu 1000
	local side a b
	for side in cli:1:2 srv:2:1; do
		IFS=: read -r ns a b <<<"$side"
		in_ns "rwe-$ns" ip link add vx4 type vxlan id 43 dstport 4789 local 192.0.2.$a remote 192.0.2.$b
		in_ns "rwe-$ns" ip link set vx4 mtu 1500 up
		in_ns "rwe-$ns" ip addr add 10.82.0.$a/24 dev vx4
		in_ns "rwe-$ns" ip addr add fd82::$a/64 dev vx4 nodad
	done
	server rwe-srv 10.82.0.2 18671
	server rwe-srv fd82::2 18671
	wait_port rwe-cli 10.82.0.2 18671
	wait_port rwe-cli fd82::2 18671
	capture_start vxf ip netns exec rwe-srv tcpdump --immediate-mode -U -i u1 -s 0 -w "$WORK/vxf.pcap" 'ip and not icmp'
	: >"$WORK/vxf.tsv"
	client rwe-cli 10.82.0.2 18671 "$WORK/vxf.tsv"
	client rwe-cli fd82::2 18671 "$WORK/vxf.tsv"
	capture_stop vxf
	cp "$WORK/vxf.pcap" "$OUT/frag_vxlan.pcap"
	cp "$WORK/vxf.tsv" "$OUT/frag_vxlan_manifest.tsv"
	ns_gone rwe-cli rwe-srv
}

# ------------------------------------------------------------------ gpe
gpe() {
	echo "== gpe (kernel VXLAN-GPE, UDP 4790, port 18672)"
	ns_fresh rwe-cli rwe-srv
	veth rwe-cli u0 rwe-srv u1
	in_ns rwe-cli ip addr add 192.0.2.1/24 dev u0
	in_ns rwe-srv ip addr add 192.0.2.2/24 dev u1
	local side a b
	for side in cli:1:2 srv:2:1; do
		IFS=: read -r ns a b <<<"$side"
		in_ns "rwe-$ns" ip link add gpe0 type vxlan gpe external dstport 4790
		in_ns "rwe-$ns" ip link set gpe0 mtu 1450 up # no fragments: frag has those
		in_ns "rwe-$ns" ip addr add 10.83.0.$a/32 dev gpe0
		in_ns "rwe-$ns" ip addr add fd83::$a/128 dev gpe0 nodad
		in_ns "rwe-$ns" ip route add 10.83.0.$b/32 encap ip id 45 dst 192.0.2.$b dev gpe0
		in_ns "rwe-$ns" ip -6 route add fd83::$b/128 encap ip id 45 dst 192.0.2.$b dev gpe0
	done
	server rwe-srv 10.83.0.2 18672
	server rwe-srv fd83::2 18672
	wait_port rwe-cli 10.83.0.2 18672
	wait_port rwe-cli fd83::2 18672
	capture_start gpe ip netns exec rwe-srv tcpdump --immediate-mode -U -i u1 -s 0 -w "$WORK/gpe.pcap" 'udp port 4790'
	: >"$WORK/gpe.tsv"
	client rwe-cli 10.83.0.2 18672 "$WORK/gpe.tsv"
	client rwe-cli fd83::2 18672 "$WORK/gpe.tsv"
	capture_stop gpe
	cp "$WORK/gpe.pcap" "$OUT/enc_vxlan_gpe.pcap"
	cp "$WORK/gpe.tsv" "$OUT/enc_vxlan_gpe_manifest.tsv"
	ns_gone rwe-cli rwe-srv
}

# ------------------------------------------------------------------ ovs
# ovs_start SIDE: an ovsdb-server and an ovs-vswitchd (userspace datapath)
# in namespace rwe-ovSIDE, with their files in $WORK/ovs-SIDE.
ovs_start() {
	local d=$WORK/ovs-$1 ns=rwe-ov$1
	rm -rf "$d"
	mkdir -p "$d"
	ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema
	OVS_RUNDIR=$d OVS_LOGDIR=$d OVS_DBDIR=$d in_ns "$ns" ovsdb-server "$d/conf.db" --remote="punix:$d/db.sock" \
		--pidfile="$d/ovsdb.pid" --unixctl="$d/ovsdb.ctl" --log-file="$d/ovsdb.log" --detach
	ovs-vsctl --db="unix:$d/db.sock" --no-wait init
	OVS_RUNDIR=$d OVS_LOGDIR=$d OVS_DBDIR=$d in_ns "$ns" ovs-vswitchd "unix:$d/db.sock" \
		--pidfile="$d/vswitchd.pid" --unixctl="$d/vswitchd.ctl" --log-file="$d/vswitchd.log" --detach
}
ovs_stop() {
	local d=$WORK/ovs-$1 f
	for f in vswitchd ovsdb; do
		[ -e "$d/$f.pid" ] && kill "$(cat "$d/$f.pid")" 2>/dev/null || true
		rm -f "$d/$f.pid"
	done
}
vsctl() { local d=$WORK/ovs-$1; shift; ovs-vsctl --db="unix:$d/db.sock" "$@"; }
addflows() { # SIDE BRIDGE FLOW...
	local d=$WORK/ovs-$1 br=$2
	shift 2
	local f
	for f in "$@"; do ovs-ofctl add-flow "unix:$d/$br.mgmt" "$f"; done
}

# ovs_case KIND: client and server namespaces, each behind its own Open
# vSwitch, the two joined by an underlay veth (u0, u1) captured at u0.
ovs_case() {
	local kind=$1 out=$2
	echo "== ovs $kind"
	ns_fresh rwe-cli rwe-srv rwe-ova rwe-ovb
	# 1400 bytes inside leave room for the tunnel headers on a 1500 underlay.
	veth rwe-cli c0 rwe-ova a0 1400
	veth rwe-srv s0 rwe-ovb b0 1400
	veth rwe-ova u0 rwe-ovb u1
	in_ns rwe-cli ip addr add 10.84.0.1/24 dev c0
	in_ns rwe-srv ip addr add 10.84.0.2/24 dev s0
	in_ns rwe-cli ip addr add fd84::1/64 dev c0 nodad
	in_ns rwe-srv ip addr add fd84::2/64 dev s0 nodad
	ovs_start a
	ovs_start b
	local side me peer ext inner
	for side in a:1:2:a0 b:2:1:b0; do
		IFS=: read -r me a b inner <<<"$side"
		vsctl "$me" add-br br-int -- set bridge br-int datapath_type=netdev
		vsctl "$me" add-port br-int "$inner"
		case $kind in
		mpls | mpls_vlan)
			vsctl "$me" add-port br-int "u$((a - 1))"
			;;
		*)
			vsctl "$me" add-br br-phy -- set bridge br-phy datapath_type=netdev
			vsctl "$me" add-port br-phy "u$((a - 1))"
			in_ns "rwe-ov$me" ip addr add "192.0.2.$a/24" dev br-phy
			in_ns "rwe-ov$me" ip link set br-phy up
			case $kind in
			geneve) ext="type=geneve options:key=46" ;;
			gre) ext="type=gre options:key=47" ;;
			erspan2) ext="type=erspan options:key=48 options:erspan_ver=1 options:erspan_idx=7" ;;
			erspan3) ext="type=erspan options:key=49 options:erspan_ver=2 options:erspan_dir=1 options:erspan_hwid=4" ;;
			esac
			# shellcheck disable=SC2086
			vsctl "$me" add-port br-int tun0 -- set interface tun0 $ext "options:remote_ip=192.0.2.$b"
			;;
		esac
	done
	case $kind in
	mpls | mpls_vlan)
		# Labels 100/101 from the client's side, 200/201 from the
		# server's, for IPv4/IPv6; with mpls_vlan under 802.1Q tag 10.
		local vl="" strip=""
		if [ "$kind" = mpls_vlan ]; then vl="mod_vlan_vid:10,"; strip="strip_vlan,"; fi
		for side in a:a0:u0:100:200 b:b0:u1:200:100; do
			IFS=: read -r me inner ext a b <<<"$side"
			addflows "$me" br-int \
				"priority=10,in_port=$inner,ip,actions=${vl}push_mpls:0x8847,set_field:$a->mpls_label,output:$ext" \
				"priority=10,in_port=$inner,ipv6,actions=${vl}push_mpls:0x8847,set_field:$((a + 1))->mpls_label,output:$ext" \
				"priority=10,in_port=$ext,mpls,mpls_label=$b,actions=pop_mpls:0x0800,${strip}output:$inner" \
				"priority=10,in_port=$ext,mpls,mpls_label=$((b + 1)),actions=pop_mpls:0x86dd,${strip}output:$inner"
		done
		;;
	esac
	server rwe-srv 10.84.0.2 18673
	server rwe-srv fd84::2 18673
	wait_port rwe-cli 10.84.0.2 18673
	wait_port rwe-cli fd84::2 18673
	capture_start "ovs$kind" ip netns exec rwe-ova tcpdump --immediate-mode -U -i u0 -s 0 -w "$WORK/$out" 'not arp'
	: >"$WORK/$kind.tsv"
	client rwe-cli 10.84.0.2 18673 "$WORK/$kind.tsv"
	client rwe-cli fd84::2 18673 "$WORK/$kind.tsv"
	capture_stop "ovs$kind"
	cp "$WORK/$out" "$OUT/$out"
	cp "$WORK/$kind.tsv" "$OUT/${out%.pcap}_manifest.tsv"
	ovs_stop a
	ovs_stop b
	ns_gone rwe-cli rwe-srv rwe-ova rwe-ovb
}

ovs_all() {
	[ -n "${ONLY:-}" ] && [ "$ONLY" != geneve ] || ovs_case geneve enc_geneve.pcap
	[ -n "${ONLY:-}" ] && [ "$ONLY" != gre ] || ovs_case gre enc_gre_ovs.pcap
	[ -n "${ONLY:-}" ] && [ "$ONLY" != erspan2 ] || ovs_case erspan2 enc_erspan2.pcap
	[ -n "${ONLY:-}" ] && [ "$ONLY" != erspan3 ] || ovs_case erspan3 enc_erspan3.pcap
	[ -n "${ONLY:-}" ] && [ "$ONLY" != mpls ] || ovs_case mpls enc_mpls.pcap
	[ -n "${ONLY:-}" ] && [ "$ONLY" != mpls_vlan ] || ovs_case mpls_vlan enc_mpls_vlan.pcap
}

# --------------------------------------------------------------- teredo
# A Teredo server (miredo-server, on two consecutive IPv4 addresses as
# RFC 4380 requires) and two Teredo clients (miredo) on one Ethernet
# segment (a bridge in rwe-ter, captured there): the clients qualify
# with the server (router solicitations with the authentication
# indicator, advertisements with the origin indication), then HTTP runs
# between their Teredo addresses, opened by bubbles through the server.
teredo() {
	echo "== teredo (miredo-server and two miredo clients, port 18674)"
	ns_fresh rwe-ter rwe-cli rwe-srv
	in_ns rwe-ter ip link add br0 type bridge
	in_ns rwe-ter ip link set br0 up
	veth rwe-cli t0 rwe-ter tc
	veth rwe-srv t0 rwe-ter ts
	in_ns rwe-ter ip link set tc master br0
	in_ns rwe-ter ip link set ts master br0
	in_ns rwe-ter ip addr add 198.51.100.1/24 dev br0
	in_ns rwe-ter ip addr add 198.51.100.2/24 dev br0
	in_ns rwe-cli ip addr add 198.51.100.10/24 dev t0
	in_ns rwe-srv ip addr add 198.51.100.20/24 dev t0
	local d=$WORK/teredo
	mkdir -p "$d"
	printf 'ServerBindAddress 198.51.100.1\nServerBindAddress2 198.51.100.2\n' >"$d/server.conf"
	printf 'InterfaceName teredo\nServerAddress 198.51.100.1\n' >"$d/client.conf"
	capture_start teredo ip netns exec rwe-ter tcpdump --immediate-mode -U -i br0 -s 0 -w "$WORK/teredo.pcap" 'udp'
	bg ip netns exec rwe-ter miredo-server -f -c "$d/server.conf" -p "$d/server.pid"
	bg ip netns exec rwe-srv miredo -f -c "$d/client.conf" -p "$d/srv.pid"
	bg ip netns exec rwe-cli miredo -f -c "$d/client.conf" -p "$d/cli.pid"
	local i addr=""
	for i in $(seq 100); do
		addr=$(in_ns rwe-srv ip -6 -o addr show dev teredo scope global 2>/dev/null | awk '{print $4}' | cut -d/ -f1)
		[ -n "$addr" ] && in_ns rwe-cli ip -6 -o addr show dev teredo scope global 2>/dev/null | grep -q 2001: && break
		sleep 0.2
	done
	[ -n "$addr" ] || { echo "record_encap.sh: the Teredo clients did not qualify" >&2; exit 1; }
	server rwe-srv "$addr" 18674
	wait_port rwe-cli "$addr" 18674
	: >"$WORK/teredo.tsv"
	client rwe-cli "$addr" 18674 "$WORK/teredo.tsv"
	capture_stop teredo
	cp "$WORK/teredo.pcap" "$OUT/enc_teredo.pcap"
	cp "$WORK/teredo.tsv" "$OUT/enc_teredo_manifest.tsv"
	ns_gone rwe-ter rwe-cli rwe-srv
}

case $WHAT in
all) nflog; frag; gpe; ovs_all; teredo ;;
nflog) nflog ;;
frag) frag ;;
gpe) gpe ;;
ovs) ovs_all ;;
teredo) teredo ;;
esac

# Every file must read in tshark with requests in it.
for f in "$OUT"/*.pcap; do
	[ -e "$f" ] || continue
	n=$(tshark -r "$f" --enable-heuristic teredo_udp -d tcp.port==18670,http -d tcp.port==18671,http -d tcp.port==18672,http \
		-d tcp.port==18673,http -d tcp.port==18674,http -Y http.request 2>/dev/null | wc -l)
	printf '  %-28s %7d bytes %4d requests (tshark)\n' "$(basename "$f")" "$(stat -c %s "$f")" "$n"
	[ "$n" -gt 0 ] || { echo "record_encap.sh: tshark finds no request in $f" >&2; exit 1; }
done
cp "$OUT"/* "$HERE/"
echo "record_encap.sh: written to $HERE"
