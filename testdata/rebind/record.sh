#!/usr/bin/env bash
# Records the captures of testdata/rebind with real software, in a private
# network namespace (its own loopback, MTU 1500 so large TLS ClientHellos are
# split into segments as on Ethernet; nothing else on the machine is seen or
# disturbed):
#
#   rebind.pcap            the DNS rebinding chain: a DNS server (helpers.go dns)
#                          answers attacker.rebind.test with 93.184.216.34, TTL 1,
#                          twice, then with 127.0.0.1; client.py waits out each
#                          TTL, then sends the Flask app (app.py) on 127.0.0.1:8080
#                          a request with Host attacker.rebind.test:8080. Also a
#                          CNAME chain (UDP), an AAAA answer over TCP, an NXDOMAIN.
#   rebind_werkzeug.log    the Flask app's log of it
#   served.pcap, served_werkzeug.log    app.py without a Host check, sent a
#                          legitimate and a foreign Host: the foreign one is served (200)
#   blocked.pcap, blocked_werkzeug.log  the same with REBIND_TRUSTED_HOSTS=api.rebind.test:
#                          the foreign Host gets 400
#   h2c.pcap               HTTP/2 prior knowledge against an h2c server (helpers.go h2c):
#                          curl --http2-prior-knowledge with :authority
#                          evil.rebind.test:8080 and an Origin, curl with
#                          api.rebind.test:8080, and Go's client (helpers.go
#                          h2cclient) making two requests with an X-API-Key on
#                          one connection (curl 7.88 fails to reuse one)
#   tls.pcap               ClientHellos to a TLS server on 127.0.0.1:8443 (helpers.go tls)
#                          from curl (SNI evil.rebind.test), Python's ssl (SNI
#                          api.rebind.test), Go's crypto/tls (SNI evil.rebind.test;
#                          ~1.8 kB, two segments) and curl to the IP (no SNI)
#
#   testdata/rebind/record.sh
#
# Needs root (network namespace, packet capture) on Debian with:
#   apt-get install -y tcpdump tshark curl python3-flask   (and Go, to build helpers.go)
# Files are written only after every check passes; on failure the work
# directory is kept and named. KEEP=1 keeps it in any case.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3 # Debian's, which has python3-flask
PATH=$PATH:/usr/sbin:/sbin:/usr/local/go/bin
export PYTHONDONTWRITEBYTECODE=1

if [ "${REBIND_NETNS:-}" != 1 ]; then
	missing=()
	for c in tcpdump tshark curl go unshare ip; do
		command -v "$c" >/dev/null 2>&1 || missing+=("$c")
	done
	if ! [ -x "$PY" ] || ! "$PY" -c 'import flask' 2>/dev/null; then
		missing+=("python3-flask")
	fi
	if [ ${#missing[@]} -gt 0 ]; then
		echo "record.sh: missing: ${missing[*]}" >&2
		exit 1
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "record.sh: run as root (network namespace, packet capture)" >&2
		exit 1
	fi
	exec unshare --net env REBIND_NETNS=1 "$0" "$@"
fi

# ------------------------------------------------------ inside the namespace
ip link set lo up
ip link set lo mtu 1500
ip link set lo gso_max_segs 1 # segments as on the wire: the capture sees MSS-sized packets
WORK=$(mktemp -d /tmp/rebind-record.XXXXXX)
PIDS=()
OK=0
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ "$OK" = 1 ] && [ "${KEEP:-}" != 1 ]; then
		rm -rf "$WORK"
	else
		echo "record.sh: work directory kept: $WORK" >&2
	fi
}
trap cleanup EXIT

(cd "$ROOT" && go build -o "$WORK/helpers" testdata/rebind/helpers.go)

# wait_port PROTO ADDR PORT: until something listens (checked with ss, so
# no probe packet enters a capture).
wait_port() {
	local i
	for i in $(seq 100); do
		if [ -n "$(ss -Hln"${1:0:1}" "src $2:$3" 2>/dev/null)" ]; then
			return 0
		fi
		sleep 0.05
	done
	echo "record.sh: nothing listens on $1 $2:$3" >&2
	exit 1
}

CAP_PID=
start_cap() { # FILE FILTER
	tcpdump -i lo --immediate-mode -U -s 0 -w "$WORK/$1" "$2" 2>"$WORK/$1.tcpdump" &
	CAP_PID=$!
	PIDS+=("$CAP_PID")
	local i
	for i in $(seq 100); do
		grep -q "listening on" "$WORK/$1.tcpdump" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "record.sh: tcpdump did not start: $(cat "$WORK/$1.tcpdump")" >&2
	exit 1
}
stop_cap() {
	sleep 0.5 # let the last FIN/ACKs through
	kill -INT "$CAP_PID"
	wait "$CAP_PID" || true
}

start_bg() { # LOG CMD...
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	PIDS+=($!)
	LAST_PID=$!
}
stop_bg() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# werkzeug's log without the startup banner: only the request lines.
requests_of() { grep -E '" [0-9]{3} ' "$1" || true; }

# ---------------------------------------------------------------- rebind
echo "== rebind"
start_bg "$WORK/dns.log" "$WORK/helpers" dns -addr 127.0.0.153:53 -public 2
DNS_PID=$LAST_PID
start_bg "$WORK/app_rebind.log" "$PY" "$HERE/app.py"
APP_PID=$LAST_PID
wait_port udp 127.0.0.153 53
wait_port tcp 127.0.0.153 53
wait_port tcp 127.0.0.1 8080
start_cap rebind.pcap 'port 53 or tcp port 8080'
"$PY" "$HERE/client.py" | tee "$WORK/client.out"
stop_cap
stop_bg "$APP_PID"
stop_bg "$DNS_PID"
requests_of "$WORK/app_rebind.log" >"$WORK/rebind_werkzeug.log"

# ------------------------------------------------------- served, blocked
for run in served blocked; do
	echo "== $run"
	trusted=
	[ "$run" = blocked ] && trusted=api.rebind.test
	start_bg "$WORK/app_$run.log" env REBIND_TRUSTED_HOSTS="$trusted" "$PY" "$HERE/app.py"
	APP_PID=$LAST_PID
	wait_port tcp 127.0.0.1 8080
	start_cap "$run.pcap" 'tcp port 8080'
	curl -sS -o /dev/null -w '%{http_code} legitimate\n' --interface 127.0.0.66 \
		-H 'Host: api.rebind.test:8080' http://127.0.0.1:8080/api/data
	curl -sS -o /dev/null -w '%{http_code} foreign\n' --interface 127.0.0.66 \
		-H 'Host: evil.rebind.test:8080' -A 'Mozilla/5.0 (X11; Linux x86_64) rebind-test' \
		http://127.0.0.1:8080/api/data
	stop_cap
	stop_bg "$APP_PID"
	requests_of "$WORK/app_$run.log" >"$WORK/${run}_werkzeug.log"
done

# ------------------------------------------------------------------- h2c
echo "== h2c"
start_bg "$WORK/h2c.log" "$WORK/helpers" h2c -addr 127.0.0.1:8080
H2C_PID=$LAST_PID
wait_port tcp 127.0.0.1 8080
start_cap h2c.pcap 'tcp port 8080'
curl -sS --http2-prior-knowledge --interface 127.0.0.66 \
	--resolve evil.rebind.test:8080:127.0.0.1 -H 'Origin: http://evil.rebind.test:8080' \
	http://evil.rebind.test:8080/h2/one
curl -sS --http2-prior-knowledge --interface 127.0.0.67 \
	--resolve api.rebind.test:8080:127.0.0.1 http://api.rebind.test:8080/h2/ok
"$WORK/helpers" h2cclient -addr 127.0.0.1:8080 -name evil.rebind.test
stop_cap
stop_bg "$H2C_PID"
cat "$WORK/h2c.log"

# ------------------------------------------------------------------- TLS
echo "== tls"
start_bg "$WORK/tls.log" "$WORK/helpers" tls -addr 127.0.0.1:8443
TLS_PID=$LAST_PID
wait_port tcp 127.0.0.1 8443
start_cap tls.pcap 'tcp port 8443'
curl -sS -k -o /dev/null -w '%{http_version} %{http_code} curl\n' --interface 127.0.0.66 \
	--resolve evil.rebind.test:8443:127.0.0.1 https://evil.rebind.test:8443/curl
"$PY" - <<'EOF'
import socket, ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols(["http/1.1"])
with socket.create_connection(("127.0.0.1", 8443), source_address=("127.0.0.68", 0)) as raw:
    with ctx.wrap_socket(raw, server_hostname="api.rebind.test") as s:
        s.sendall(b"GET /python HTTP/1.1\r\nHost: api.rebind.test:8443\r\nConnection: close\r\n\r\n")
        print(s.recv(4096).split(b"\r\n", 1)[0].decode(), "python")
EOF
"$WORK/helpers" tlsclient -addr 127.0.0.1:8443 -name evil.rebind.test
curl -sS -k -o /dev/null -w '%{http_version} %{http_code} curl, no SNI\n' --interface 127.0.0.69 \
	https://127.0.0.1:8443/ip
stop_cap
stop_bg "$TLS_PID"

# ---------------------------------------------------------------- checks
echo "== checks"
fail() {
	echo "record.sh: check failed: $*" >&2
	exit 1
}
count() { tshark -r "$WORK/$1" -Y "$2" 2>/dev/null | wc -l; }
[ "$(count rebind.pcap 'dns.flags.response == 1')" = 6 ] || fail "rebind.pcap: want 6 DNS responses"
[ "$(count rebind.pcap 'dns.a == 127.0.0.1')" = 1 ] || fail "rebind.pcap: want one answer 127.0.0.1"
[ "$(count rebind.pcap 'http.host == "attacker.rebind.test:8080"')" = 1 ] || fail "rebind.pcap: want the rebound request"
grep -q '"GET /api/data HTTP/1.1" 200' "$WORK/rebind_werkzeug.log" || fail "rebind: the app did not serve the request"
[ "$(grep -c '" 200 ' "$WORK/served_werkzeug.log")" = 2 ] || fail "served: want two 200s"
grep -q '" 400 ' "$WORK/blocked_werkzeug.log" || fail "blocked: want a 400"
[ "$(tshark -r "$WORK/h2c.pcap" -d tcp.port==8080,http2 -Y 'http2.type == 1 && http2.header.value == "evil.rebind.test:8080"' 2>/dev/null | wc -l)" = 3 ] ||
	fail "h2c.pcap: want 3 HEADERS with :authority evil.rebind.test:8080"
[ "$(count tls.pcap 'tls.handshake.type == 1')" = 4 ] || fail "tls.pcap: want 4 ClientHellos"
[ "$(count tls.pcap 'tls.handshake.extensions_server_name == "evil.rebind.test"')" = 2 ] || fail "tls.pcap: want 2 SNI evil.rebind.test"

for f in rebind.pcap served.pcap blocked.pcap h2c.pcap tls.pcap rebind_werkzeug.log served_werkzeug.log blocked_werkzeug.log; do
	cp "$WORK/$f" "$HERE/$f"
done
OK=1
echo "record.sh: wrote $(cd "$HERE" && ls ./*.pcap ./*_werkzeug.log | tr '\n' ' ')"
