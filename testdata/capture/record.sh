#!/usr/bin/env bash
# Records the captures in testdata/capture with real software: Python's
# http.server (tools/server.py) and raw-socket clients (tools/client.py),
# on loopback and in network namespaces created here, captured with
# tcpdump and dumpcap, converted with editcap. See README.md for what each
# file is and what the tests expect of it.
#
#   testdata/capture/record.sh [all|formats|lossy|tunnels]
#
# formats  loopback: pcap (us), nanosecond pcap, pcapng, gzipped pcap and
#          pcapng, raw IPv4/IPv6 link types, Linux cooked v2 ("any"), a
#          two-interface pcapng with two link types, and a copy with a
#          request's segment removed (a gap the capture never saw)
# lossy    client and server namespaces joined through a third one where
#          tools/relay.py loses 5%, holds back 25% and delays 10 ms (the
#          kernel here has no netem): the kernels retransmit for real;
#          captured on both sides, plus a copy cut to start mid-connection
# tunnels  the same namespaces without loss, the relay mirroring every
#          frame as a switch monitor session would: with QinQ tags, in GRE,
#          in IP-in-IP / 6in4; and a real kernel VXLAN (UDP 4789) link
#
# Needs root and, on Debian: apt-get install -y iproute2 tcpdump tshark
# wireshark-common python3. Only loopback and namespaces made here are
# used (ports 18651-18662); they are removed on exit. Files are replaced
# only when every step worked; KEEP=1 keeps the work directory.
set -euo pipefail

WHAT=${1:-all}
case $WHAT in all | formats | lossy | tunnels) ;; *)
	echo "usage: testdata/capture/record.sh [all|formats|lossy|tunnels]" >&2
	exit 2
	;;
esac

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS=$HERE/tools
PY=/usr/bin/python3
PATH=$PATH:/usr/sbin:/sbin
export PYTHONDONTWRITEBYTECODE=1
for c in ip tcpdump dumpcap editcap tshark gzip $PY; do
	command -v "$c" >/dev/null || { echo "record.sh: missing $c (apt-get install -y iproute2 tcpdump tshark wireshark-common python3)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "record.sh: run as root (captures, network namespaces)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/rwcapture.XXXXXX)
PIDS=()
NS=(rwc-cli rwc-mid rwc-srv rwc-mon)
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for p in "${NS[@]}"; do ip netns del "$p" 2>/dev/null || true; done
	if [ "${KEEP:-}" = 1 ]; then echo "record.sh: work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# bg CMD...: runs CMD in the background; BG is its pid.
bg() {
	"$@" &
	BG=$!
	PIDS+=("$BG")
}
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# capture_start NAME CMD...: a capture in the background; waits until it runs.
capture_start() {
	local name=$1
	shift
	"$@" 2>"$WORK/$name.err" &
	PIDS+=($!)
	eval "CAP_$name=$!"
	local i
	for i in $(seq 50); do
		grep -q "listening on\|Capturing on" "$WORK/$name.err" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "record.sh: capture $name did not start:" >&2
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
		echo "record.sh: capture $1 dropped packets" >&2
		exit 1
	fi
}

# run_client HOLD CMD...: runs a client; when it prints HOLDING (a
# connection left open), stops the captures named in HOLD first, then
# lets it finish.
run_client() {
	local hold=$1
	shift
	local release=$WORK/release
	rm -f "$release"
	"$@" "$release" >"$WORK/client.out" &
	local cpid=$!
	local i
	for i in $(seq 600); do
		grep -q HOLDING "$WORK/client.out" 2>/dev/null && break
		kill -0 "$cpid" 2>/dev/null || break
		sleep 0.1
	done
	for c in $hold; do capture_stop "$c"; done
	touch "$release"
	wait "$cpid"
}

wait_port() { # NS ADDR PORT
	local i
	for i in $(seq 50); do
		if ${1:+ip netns exec "$1"} $PY -c "import socket,sys; s=socket.socket(socket.AF_INET6 if ':' in '$2' else socket.AF_INET); s.settimeout(0.2); sys.exit(s.connect_ex(('$2',$3)))" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "record.sh: server $2:$3 did not start" >&2
	exit 1
}

# ------------------------------------------------------------- formats
formats() {
	echo "== formats (loopback, ports 18651/18652)"
	bg $PY "$TOOLS/server.py" 127.0.0.1 18651
	local s4=$BG
	bg $PY "$TOOLS/server.py" ::1 18652
	local s6=$BG
	wait_port "" 127.0.0.1 18651
	wait_port "" ::1 18652
	local f='tcp port 18651 or tcp port 18652'
	capture_start lo tcpdump --immediate-mode -U -B 32768 -i lo -s 0 -w "$WORK/lo.pcap" "$f"
	capture_start lo6 tcpdump --immediate-mode -U -B 32768 -i lo -s 0 -w "$WORK/lo6.pcap" 'tcp port 18652'
	capture_start any tcpdump --immediate-mode -U -B 32768 -i any -y LINUX_SLL2 -s 0 -w "$WORK/any.pcap" "$f"
	# Two interfaces, each with its own filter: IPv4 on lo (Ethernet),
	# IPv6 on any (Linux cooked): two link types, no packet twice.
	capture_start multi dumpcap -q -i lo -f 'tcp port 18651' -i any -f 'tcp port 18652' -w "$WORK/multi.pcapng"
	: >"$WORK/fmt.tsv"
	$PY "$TOOLS/client.py" formats 127.0.0.1 18651 "$WORK/fmt.tsv"
	run_client "lo lo6 any multi" $PY "$TOOLS/client.py" formats ::1 18652 "$WORK/fmt.tsv"

	local o=$WORK/out
	mkdir -p "$o"
	cp "$WORK/lo.pcap" "$o/fmt_lo.pcap"
	editcap -F nsecpcap "$WORK/lo.pcap" "$o/fmt_lo_nano.pcap"
	gzip -9n <"$WORK/lo.pcap" >"$o/fmt_lo.pcap.gz"
	editcap -F pcapng "$WORK/lo.pcap" "$WORK/lo.pcapng"
	gzip -9n <"$WORK/lo.pcapng" >"$o/fmt_lo.pcapng.gz"
	# Raw IP link types: the Ethernet header chopped off.
	editcap -F pcap -C 14 -T rawip "$WORK/lo.pcap" "$o/fmt_rawip.pcap"
	editcap -F pcap -C 14 -T rawip6 "$WORK/lo6.pcap" "$o/fmt_rawip6.pcap"
	cp "$WORK/any.pcap" "$o/fmt_any_sll2.pcap"
	cp "$WORK/multi.pcapng" "$o/fmt_multi.pcapng"
	cp "$WORK/fmt.tsv" "$o/fmt_manifest.tsv"
	# A gap: the segment carrying GET /size/5000 on IPv4 never captured.
	local n
	n=$(tshark -r "$WORK/lo.pcap" -Y 'tcp.dstport == 18651 && http.request.uri == "/size/5000"' -T fields -e frame.number | sed -n '1p')
	[ -n "$n" ] || { echo "record.sh: no /size/5000 request in the capture" >&2; exit 1; }
	editcap -F pcap "$WORK/lo.pcap" "$o/tcp_gap_lo.pcap" "$n"
	kill "$s4" "$s6"
}

# ------------------------------------------------------- namespace setup
# Client and server namespaces joined through a middle one where relay.py
# forwards frames; monitor interfaces for the relay's mirrored copies.
netns_up() {
	local ns
	for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; ip netns add "$ns"; done
	ip link add c0 netns rwc-cli type veth peer name m0 netns rwc-mid
	ip link add s0 netns rwc-srv type veth peer name m1 netns rwc-mid
	local m
	for m in q g i; do
		ip link add "x$m" netns rwc-mon type veth peer name "m$m" netns rwc-mid
	done
	in_ns rwc-mid sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	in_ns rwc-mon sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	in_ns rwc-cli ip addr add 10.77.0.1/24 dev c0
	in_ns rwc-cli ip addr add fd77::1/64 dev c0 nodad
	in_ns rwc-srv ip addr add 10.77.0.2/24 dev s0
	in_ns rwc-srv ip addr add fd77::2/64 dev s0 nodad
	for ns in "${NS[@]}"; do in_ns "$ns" ip link set lo up; done
	in_ns rwc-cli ip link set c0 up
	in_ns rwc-srv ip link set s0 up
	for m in m0 m1; do in_ns rwc-mid ip link set "$m" up; done
	# Monitor ports take the mirrored frames plus their tags or tunnel headers.
	for m in mq mg mi; do in_ns rwc-mid ip link set "$m" mtu 9000 up; done
	for m in xq xg xi; do in_ns rwc-mon ip link set "$m" mtu 9000 up; done
	# Whole, checksummed, MTU-sized frames: what a relay can forward.
	in_ns rwc-cli $PY "$TOOLS/offload.py" c0
	in_ns rwc-srv $PY "$TOOLS/offload.py" s0
	in_ns rwc-mid $PY "$TOOLS/offload.py" m0 m1 mq mg mi
	bg ip netns exec rwc-srv $PY "$TOOLS/server.py" 10.77.0.2 18660
	bg ip netns exec rwc-srv $PY "$TOOLS/server.py" fd77::2 18661
}

relay() { # ARGS...; RELAY is its pid
	bg ip netns exec rwc-mid $PY "$TOOLS/relay.py" m0 m1 "$@"
	RELAY=$BG
	wait_port rwc-cli 10.77.0.2 18660
	wait_port rwc-cli fd77::2 18661
}

# ---------------------------------------------------------------- lossy
lossy() {
	echo "== lossy (namespaces, 5% loss, 25% held back, 10 ms)"
	netns_up
	relay --loss 0.05 --reorder 0.25 --delay-ms 10 --seed 7
	local f='tcp port 18660'
	capture_start srv ip netns exec rwc-srv tcpdump --immediate-mode -U -B 32768 -i s0 -s 0 -w "$WORK/srv.pcap" "$f"
	capture_start cli ip netns exec rwc-cli tcpdump --immediate-mode -U -B 32768 -i c0 -s 0 -w "$WORK/cli.pcap" "$f"
	: >"$WORK/lossy.tsv"
	run_client "srv cli" in_ns rwc-cli $PY "$TOOLS/client.py" lossy 10.77.0.2 18660 "$WORK/lossy.tsv"
	local o=$WORK/out
	mkdir -p "$o"
	cp "$WORK/srv.pcap" "$o/tcp_lossy_server.pcap"
	cp "$WORK/cli.pcap" "$o/tcp_lossy_client.pcap"
	cp "$WORK/lossy.tsv" "$o/tcp_lossy_manifest.tsv"
	# Started late: from the middle of the run on.
	local first last
	first=$(tshark -r "$WORK/srv.pcap" -T fields -e frame.time_epoch | sed -n '1p')
	last=$(tshark -r "$WORK/srv.pcap" -T fields -e frame.time_epoch | sed -n '$p')
	editcap -F pcap -A "$(awk -v a="$first" -v b="$last" 'BEGIN { printf "%.6f", a + (b - a) * 0.4 }')" "$WORK/srv.pcap" "$o/tcp_midstream.pcap"
	for ns in "${NS[@]}"; do ip netns del "$ns"; done
}

# -------------------------------------------------------------- tunnels
tunnels() {
	echo "== tunnels (namespaces, mirrored copies; kernel VXLAN)"
	netns_up
	# Three relays would fight over m0/m1: one relay mirrors to one
	# monitor port per run.
	local mode dev out
	: >"$WORK/tun.tsv"
	for mode in qinq gre ipip; do
		case $mode in qinq) dev=mq out=fmt_qinq.pcap ;; gre) dev=mg out=tun_gre.pcap ;; ipip) dev=mi out=tun_ipip.pcap ;; esac
		relay --mirror "$dev" --mirror-mode "$mode"
		capture_start mon ip netns exec rwc-mon tcpdump --immediate-mode -U -B 32768 -i "x${dev#m}" -s 0 -w "$WORK/$out"
		: >"$WORK/$mode.tsv"
		in_ns rwc-cli $PY "$TOOLS/client.py" small 10.77.0.2 18660 "$WORK/$mode.tsv"
		in_ns rwc-cli $PY "$TOOLS/client.py" small fd77::2 18661 "$WORK/$mode.tsv"
		capture_stop mon
		kill "$RELAY"
		wait "$RELAY" 2>/dev/null || true
	done
	local o=$WORK/out
	mkdir -p "$o"
	cp "$WORK/fmt_qinq.pcap" "$WORK/tun_gre.pcap" "$WORK/tun_ipip.pcap" "$o/"
	cp "$WORK/qinq.tsv" "$o/tun_manifest.tsv"
	for ns in "${NS[@]}"; do ip netns del "$ns"; done

	# VXLAN: two namespaces on a veth underlay, a kernel vxlan device each.
	ip netns add rwc-cli
	ip netns add rwc-srv
	ip link add u0 netns rwc-cli type veth peer name u1 netns rwc-srv
	in_ns rwc-cli ip addr add 192.0.2.1/24 dev u0
	in_ns rwc-srv ip addr add 192.0.2.2/24 dev u1
	in_ns rwc-cli ip link set u0 up
	in_ns rwc-srv ip link set u1 up
	in_ns rwc-cli ip link set lo up
	in_ns rwc-srv ip link set lo up
	in_ns rwc-cli ip link add vx0 type vxlan id 42 dstport 4789 local 192.0.2.1 remote 192.0.2.2 dev u0
	in_ns rwc-srv ip link add vx0 type vxlan id 42 dstport 4789 local 192.0.2.2 remote 192.0.2.1 dev u1
	in_ns rwc-cli ip addr add 10.78.0.1/24 dev vx0
	in_ns rwc-srv ip addr add 10.78.0.2/24 dev vx0
	in_ns rwc-cli ip addr add fd78::1/64 dev vx0 nodad
	in_ns rwc-srv ip addr add fd78::2/64 dev vx0 nodad
	in_ns rwc-cli ip link set vx0 up
	in_ns rwc-srv ip link set vx0 up
	bg ip netns exec rwc-srv $PY "$TOOLS/server.py" 10.78.0.2 18662
	bg ip netns exec rwc-srv $PY "$TOOLS/server.py" fd78::2 18662
	wait_port rwc-cli 10.78.0.2 18662
	wait_port rwc-cli fd78::2 18662
	capture_start vx ip netns exec rwc-srv tcpdump --immediate-mode -U -B 32768 -i u1 -s 0 -w "$WORK/vx.pcap" 'udp port 4789'
	: >"$WORK/vx.tsv"
	in_ns rwc-cli $PY "$TOOLS/client.py" small 10.78.0.2 18662 "$WORK/vx.tsv"
	in_ns rwc-cli $PY "$TOOLS/client.py" small fd78::2 18662 "$WORK/vx.tsv"
	capture_stop vx
	cp "$WORK/vx.pcap" "$o/tun_vxlan.pcap"
	cp "$WORK/vx.tsv" "$o/tun_vxlan_manifest.tsv"
	ip netns del rwc-cli
	ip netns del rwc-srv
}

case $WHAT in
all) formats; lossy; tunnels ;;
formats) formats ;;
lossy) lossy ;;
tunnels) tunnels ;;
esac

# Every file must read in tshark with the requests the client sent.
for f in "$WORK"/out/*.pcap "$WORK"/out/*.pcapng "$WORK"/out/*.gz; do
	[ -e "$f" ] || continue
	n=$(tshark -r "$f" -d tcp.port==18651,http -d tcp.port==18652,http -d tcp.port==18660,http \
		-d tcp.port==18661,http -d tcp.port==18662,http -Y http.request 2>/dev/null | wc -l)
	printf '  %-28s %7d bytes %4d requests (tshark)\n' "$(basename "$f")" "$(stat -c %s "$f")" "$n"
	[ "$n" -gt 0 ] || { echo "record.sh: tshark finds no request in $f" >&2; exit 1; }
done
cp "$WORK"/out/* "$HERE/"
echo "record.sh: written to $HERE"
