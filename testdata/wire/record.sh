#!/usr/bin/env bash
# Records the captures in testdata/wire with real software, in two network
# namespaces made here (a client, and a server side holding our API at
# 10.88.0.2 and an outside web server at 203.0.113.10), captured with
# tcpdump on the client's side of the link. See README.md.
#
#   testdata/wire/record.sh [all|lenient|h2c|tls|servers]
#
# lenient  request lines that are not textbook HTTP/1.1 (lenient_client.py,
#          raw sockets) against nginx, one connection each
# h2c      curl --http2 and nghttp -u against h2cserver.go (x/net's h2c;
#          nghttpd --no-tls speaks HTTP/2 at once and never upgrades):
#          HTTP/1.1 requests that upgrade to h2c (101), then HTTP/2
# tls      large ClientHellos (openssl s_client with every cipher suite and
#          a long SNI, curl) to openssl s_server, with the server's
#          advertised MSS cut to 160 bytes: each hello spans several segments
# servers  a rebinding name served first by the outside server (a page and
#          its resources, no key), then by our API (nginx, keys): the capture
#          holds both servers on port 80 (issue 17 item 3)
#
# Needs root and, on Debian: apt-get install -y iproute2 tcpdump tshark
# nginx curl openssl nghttp2-client python3, and Go (h2cserver.go). Files are
# replaced only when every step worked; KEEP=1 keeps the work directory.
set -euo pipefail

WHAT=${1:-all}
case $WHAT in all | lenient | h2c | tls | servers) ;; *)
	echo "usage: testdata/wire/record.sh [all|lenient|h2c|tls|servers]" >&2
	exit 2
	;;
esac

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OFFLOAD=$HERE/../capture/tools/offload.py
PY=/usr/bin/python3
PATH=$PATH:/usr/sbin:/sbin
export PYTHONDONTWRITEBYTECODE=1
for c in ip tcpdump tshark nginx curl openssl nghttp go $PY; do
	command -v "$c" >/dev/null || { echo "record.sh: missing $c (apt-get install -y iproute2 tcpdump tshark nginx curl openssl nghttp2-client python3; Go)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "record.sh: run as root (captures, network namespaces)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/rwwire.XXXXXX)
OUT=$WORK/out
mkdir -p "$OUT" "$WORK/tmp"
PIDS=()
NS=(rww-cli rww-srv)
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for p in "${NS[@]}"; do ip netns del "$p" 2>/dev/null || true; done
	if [ "${KEEP:-}" = 1 ]; then echo "record.sh: work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

bg() { "$@" & BG=$!; PIDS+=("$BG"); }
cli() { ip netns exec rww-cli "$@"; }
srv() { ip netns exec rww-srv "$@"; }

# Names: our API, and a rebinding name (rbndr's form) whose two addresses
# are the outside server's and our API's.
API=api.wire.test
REBIND=cb00710a.0a580002.rbndr.us

netns_up() {
	local ns
	for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; ip netns add "$ns"; done
	ip link add vc netns rww-cli type veth peer name vs netns rww-srv
	cli ip link set lo up
	srv ip link set lo up
	cli ip addr add 10.88.0.1/24 dev vc
	srv ip addr add 10.88.0.2/24 dev vs
	srv ip addr add 203.0.113.10/32 dev vs
	cli ip link set vc up
	srv ip link set vs up
	cli ip route add 203.0.113.10/32 dev vc
	# Wire-sized segments in the capture: no segmentation offload.
	cli $PY "$OFFLOAD" vc
	srv $PY "$OFFLOAD" vs
}

wait_port() { # ADDR PORT
	local i
	for i in $(seq 50); do
		if cli $PY -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('$1',$2)))" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "record.sh: server $1:$2 did not start" >&2
	exit 1
}

# capture_start NAME FILTER: tcpdump on the client's interface.
capture_start() {
	ip netns exec rww-cli tcpdump --immediate-mode -U -i vc -s 0 -w "$WORK/$1.pcap" "$2" 2>"$WORK/$1.err" &
	CAP=$!
	PIDS+=("$CAP")
	local i
	for i in $(seq 50); do
		grep -q "listening on" "$WORK/$1.err" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "record.sh: capture $1 did not start" >&2
	cat "$WORK/$1.err" >&2
	exit 1
}
capture_stop() {
	sleep 0.5
	kill -INT "$CAP"
	wait "$CAP" 2>/dev/null || true
	if grep -q "[1-9][0-9]* packets dropped by kernel" "$WORK/$1.err"; then
		echo "record.sh: capture $1 dropped packets" >&2
		exit 1
	fi
}

nginx_up() {
	sed "s|@WORK@|$WORK|g" "$HERE/nginx.conf.in" >"$WORK/nginx.conf"
	: >"$WORK/access.log"
	bg ip netns exec rww-srv nginx -c "$WORK/nginx.conf" -p "$WORK"
	NGINX=$BG
	wait_port 10.88.0.2 80
}
nginx_down() {
	kill -QUIT "$NGINX" 2>/dev/null || true
	wait "$NGINX" 2>/dev/null || true
}

# ------------------------------------------------------------ lenient
lenient() {
	echo "== lenient request lines (nginx, 10.88.0.2:80)"
	nginx_up
	capture_start lenient 'tcp port 80'
	cli timeout 120 $PY "$HERE/lenient_client.py" 10.88.0.2 80 "$WORK/lenient_manifest.tsv"
	capture_stop lenient
	nginx_down
	cp "$WORK/lenient.pcap" "$OUT/lenient.pcap"
	cp "$WORK/lenient_manifest.tsv" "$OUT/lenient_manifest.tsv"
	cp "$WORK/access.log" "$OUT/lenient_access.log"
	local n
	n=$(grep -c . "$OUT/lenient_access.log")
	[ "$n" = 17 ] || { echo "record.sh: nginx logged $n request lines, want 17" >&2; exit 1; }
}

# ---------------------------------------------------------------- h2c
h2c() {
	echo "== h2c upgrade (h2cserver.go, 10.88.0.2:8080)"
	(cd "$HERE/../.." && go build -o "$WORK/h2cserver" testdata/wire/h2cserver.go)
	bg ip netns exec rww-srv "$WORK/h2cserver" -addr 10.88.0.2:8080 -for 120s
	wait_port 10.88.0.2 8080
	capture_start h2c 'tcp port 8080'
	# curl: a GET that upgrades (HTTP2-Settings), then a second request
	# as stream 3 on the same connection.
	cli timeout 20 curl -sS -o /dev/null -o /dev/null --http2 --resolve "$API:8080:10.88.0.2" \
		-H 'X-API-Key: wire-key-alpha-0001' "http://$API:8080/v1/items" "http://$API:8080/health"
	# The rebinding name, through the upgrade, with a key and an Origin.
	cli timeout 20 curl -sS -o /dev/null --http2 --resolve "$REBIND:8080:10.88.0.2" \
		-H 'X-API-Key: wire-key-bravo-0002' -H "Origin: http://$REBIND:8080" "http://$REBIND:8080/v1/items"
	# nghttp: its upgrade request is an OPTIONS, then the GET on stream 3.
	cli timeout 20 nghttp -u -H ":authority: $API:8080" "http://10.88.0.2:8080/v1/items" >/dev/null
	capture_stop h2c
	cp "$WORK/h2c.pcap" "$OUT/h2c_upgrade.pcap"
	local ups
	ups=$(tshark -r "$OUT/h2c_upgrade.pcap" -Y 'http.response.code == 101' -T fields -e frame.number | wc -l)
	[ "$ups" = 3 ] || { echo "record.sh: $ups upgrades (101) in h2c_upgrade.pcap, want 3" >&2; exit 1; }
}

# ---------------------------------------------------------------- tls
tls() {
	echo "== large ClientHellos (openssl s_server, 10.88.0.2:443, advmss 160)"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$API" \
		-keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
	# The server advertises a 160-byte MSS: the client's segments are small.
	srv ip route replace 10.88.0.0/24 dev vs proto kernel scope link src 10.88.0.2 advmss 160
	bg ip netns exec rww-srv openssl s_server -quiet -accept 10.88.0.2:443 -cert "$WORK/cert.pem" -key "$WORK/key.pem" -www
	wait_port 10.88.0.2 443
	capture_start tls 'tcp port 443'
	local long=evil-$(printf 'a%.0s' $(seq 60)).$(printf 'b%.0s' $(seq 60)).rebind.test
	# openssl: every cipher suite, every group it has, a long SNI, ALPN.
	cli timeout 20 openssl s_client -connect 10.88.0.2:443 -servername "$long" -cipher 'ALL:@SECLEVEL=0' \
		-groups X25519:P-256:P-384:P-521:X448:ffdhe2048:ffdhe3072:ffdhe4096:ffdhe6144:ffdhe8192 \
		-alpn h2,http/1.1 </dev/null >/dev/null 2>&1 || true
	# openssl, TLS 1.2 only, the allowed name.
	cli timeout 20 openssl s_client -connect 10.88.0.2:443 -servername "$API" -tls1_2 -cipher 'ALL:@SECLEVEL=0' \
		</dev/null >/dev/null 2>&1 || true
	# curl with the rebinding name.
	cli timeout 20 curl -sS -k -o /dev/null --resolve "$REBIND:443:10.88.0.2" "https://$REBIND/" || true
	capture_stop tls
	srv ip route replace 10.88.0.0/24 dev vs proto kernel scope link src 10.88.0.2
	cp "$WORK/tls.pcap" "$OUT/tls_split.pcap"
	# Each hello spans several TCP segments, as tshark reassembles it.
	tshark -r "$OUT/tls_split.pcap" -Y 'tls.handshake.type == 1' -T fields \
		-e tcp.reassembled.length -e tls.handshake.extensions_server_name >"$WORK/hellos.tsv"
	local n
	n=$(awk -F'\t' '$1 > 160' "$WORK/hellos.tsv" | wc -l)
	[ "$n" = 3 ] || { echo "record.sh: $n ClientHellos over several segments, want 3:" >&2; cat "$WORK/hellos.tsv" >&2; exit 1; }
	cp "$WORK/hellos.tsv" "$OUT/tls_split_hellos.tsv"
}

# ------------------------------------------------------------ servers
servers() {
	echo "== two servers on port 80: the outside one (203.0.113.10) and our API (10.88.0.2)"
	mkdir -p "$WORK/attacker"
	printf '<html><script src="/rebind.js"></script><img src="/logo.png"></html>\n' >"$WORK/attacker/index.html"
	printf 'setTimeout(function(){fetch("/admin")}, 3000);\n' >"$WORK/attacker/rebind.js"
	printf 'PNG' >"$WORK/attacker/logo.png"
	bg ip netns exec rww-srv $PY -m http.server --bind 203.0.113.10 --directory "$WORK/attacker" 80
	wait_port 203.0.113.10 80
	nginx_up
	capture_start servers 'tcp port 80'
	local ua='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'
	local i
	# The legitimate app before: our name, key alpha.
	for i in 1 2 3; do
		cli timeout 10 curl -sS -o /dev/null -A "$ua" --resolve "$API:80:10.88.0.2" -H 'X-API-Key: wire-key-alpha-0001' \
			-H "Origin: https://app.wire.test" "http://$API/v1/items"
	done
	# The rebinding page loads from the outside server, and polls it
	# (what the page does while the name's first answer lasts): no key.
	for i in $(seq 1 30); do
		for p in / /rebind.js /logo.png; do
			cli timeout 10 curl -sS -o /dev/null -A "$ua" --resolve "$REBIND:80:203.0.113.10" "http://$REBIND$p"
		done
	done
	# The name now answers with our API: the page's requests reach it,
	# with the victim's key (charlie) as the browser sends it.
	for i in $(seq 1 10); do
		cli timeout 10 curl -sS -o /dev/null -A "$ua" --resolve "$REBIND:80:10.88.0.2" -H 'X-API-Key: wire-key-charlie-0003' \
			"http://$REBIND/admin"
		cli timeout 10 curl -sS -o /dev/null -A "$ua" --resolve "$REBIND:80:10.88.0.2" -H 'X-API-Key: wire-key-charlie-0003' \
			-H 'Content-Type: application/json' -d '{"name":"x"}' "http://$REBIND/api/items"
		cli timeout 10 curl -sS -o /dev/null -A "$ua" --resolve "$REBIND:80:10.88.0.2" -H 'X-API-Key: wire-key-charlie-0003' \
			"http://$REBIND/v1/items"
	done
	# The legitimate app after.
	for i in 1 2 3; do
		cli timeout 10 curl -sS -o /dev/null -A "$ua" --resolve "$API:80:10.88.0.2" -H 'X-API-Key: wire-key-alpha-0001' \
			-H "Origin: https://app.wire.test" "http://$API/v1/items"
	done
	capture_stop servers
	nginx_down
	cp "$WORK/servers.pcap" "$OUT/servers.pcap"
	cp "$WORK/access.log" "$OUT/servers_access.log"
	local ours theirs
	ours=$(tshark -r "$OUT/servers.pcap" -Y 'http.request && ip.dst == 10.88.0.2' -T fields -e frame.number | wc -l)
	theirs=$(tshark -r "$OUT/servers.pcap" -Y 'http.request && ip.dst == 203.0.113.10' -T fields -e frame.number | wc -l)
	[ "$ours" = 36 ] && [ "$theirs" = 90 ] || { echo "record.sh: servers.pcap has $ours requests to our API (want 36) and $theirs outside (want 90)" >&2; exit 1; }
}

netns_up
case $WHAT in
all) lenient; h2c; tls; servers ;;
*) "$WHAT" ;;
esac
cp "$OUT"/* "$HERE/"
ls -l "$OUT"
