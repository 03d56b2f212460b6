#!/usr/bin/env bash
# Capture-path speed: makes a bulk capture of keep-alive HTTP/1.1 requests
# on loopback (nginx + wrk, recorded by tcpdump), then replays it with
# rebindwatch and with tshark's HTTP dissector, one after the other, and
# prints requests/s for each, the ratio, wall and CPU time and peak RSS.
#
#   bench/capture.sh [SECONDS]      # default 30 s of wrk traffic (500k+ requests)
#
# Environment: OUT (work directory, default /tmp/rebindwatch-bench; the
# capture is large and never goes into the repo), PORT (default 18680),
# KEEP=1 reuses an existing $OUT/bulk.pcap instead of recording anew,
# CORES (taskset CPU list for the replays, default 0: one core).
#
# Needs root (tcpdump on lo) and, on Debian:
#   apt-get install -y nginx wrk tcpdump tshark time
# Only 127.0.0.1 is used.
set -euo pipefail

SECS=${1:-30}
OUT=${OUT:-/tmp/rebindwatch-bench}
PORT=${PORT:-18680}
CORES=${CORES:-0}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
PATH=$PATH:/usr/sbin:/sbin

for c in nginx wrk tcpdump tshark /usr/bin/time taskset; do
	command -v "$c" >/dev/null 2>&1 || { echo "capture.sh: missing $c (apt-get install -y nginx wrk tcpdump tshark time util-linux)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "capture.sh: run as root (tcpdump on lo)" >&2; exit 1; }
mkdir -p "$OUT"
PCAP=$OUT/bulk.pcap

record() {
	local conf=$OUT/nginx.conf
	cat >"$conf" <<NGINX
worker_processes 1;
daemon off;
error_log $OUT/nginx_error.log;
pid $OUT/nginx.pid;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$PORT;
		location / { default_type application/json; return 200 '{"ok":true}'; }
	}
}
NGINX
	cat >"$OUT/bulk.lua" <<'LUA'
-- Realistic API requests: a few hosts, keys and paths, an Origin on some.
local hosts = {"api.example.com", "api.example.com", "eu.api.example.com", "evil.rebind.test:18680"}
local keys = {"k-alpha-0001", "k-bravo-0002", "k-charlie-0003", "k-delta-0004", "k-echo-0005"}
local n = 0
request = function()
	n = n + 1
	local h = {
		["Host"] = hosts[n % #hosts + 1],
		["X-API-Key"] = keys[n % #keys + 1],
		["User-Agent"] = "wrk/4 bench",
		["Accept"] = "application/json",
	}
	if n % 3 == 0 then h["Origin"] = "https://app.example.com" end
	return wrk.format("GET", "/v1/items/" .. (n % 1000) .. "?page=" .. (n % 7), h)
end
LUA
	nginx -c "$conf" &
	local ngx=$!
	sleep 0.5
	tcpdump -i lo -B 262144 -s 0 -w "$PCAP" "tcp port $PORT" 2>"$OUT/tcpdump.err" &
	local tcpd=$!
	sleep 1
	echo "recording ${SECS}s of wrk -t2 -c50 against nginx on 127.0.0.1:$PORT ..."
	wrk -t2 -c50 -d"${SECS}s" --latency -s "$OUT/bulk.lua" "http://127.0.0.1:$PORT/" | sed 's/^/  wrk: /'
	sleep 1
	kill -INT "$tcpd"
	wait "$tcpd" || true
	kill -QUIT "$ngx"
	wait "$ngx" || true
	sed 's/^/  tcpdump: /' "$OUT/tcpdump.err"
	if grep -q " [1-9][0-9]* packets dropped by kernel" "$OUT/tcpdump.err"; then
		echo "capture.sh: tcpdump dropped packets; the capture is incomplete but still a fair benchmark" >&2
	fi
}

if [ "${KEEP:-}" = 1 ] && [ -s "$PCAP" ]; then
	echo "reusing $PCAP"
else
	record
fi
ls -l "$PCAP"

cat >"$OUT/bench.toml" <<TOML
[hosts]
allowed = ["api.example.com", "*.api.example.com"]
[origins]
allowed = ["https://app.example.com"]
[capture]
ports = [$PORT]
TOML
BIN=$OUT/rebindwatch
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$BIN" .)

# run NAME CMD...: one timed run on one core; prints "NAME wall user sys rss".
run() {
	local name=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$OUT/$name.time" taskset -c "$CORES" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
}

echo "replaying on CPU $CORES ..."
run rebindwatch "$BIN" --no-tui --speed 0 --emit summary -c "$OUT/bench.toml" -r "$PCAP"
run tshark tshark -r "$PCAP" -d "tcp.port==$PORT,http" -Y http.request -T fields \
	-e http.request.method -e http.host -e http.request.uri

ours=$(sed -n 's/.*"requests":\([0-9]*\).*/\1/p' "$OUT/rebindwatch.out" | tail -1)
theirs=$(wc -l <"$OUT/tshark.out")
read -r ow ou os orss <"$OUT/rebindwatch.time"
read -r tw tu ts trss <"$OUT/tshark.time"
awk -v n="$ours" -v w="$ow" -v u="$ou" -v s="$os" -v r="$orss" \
	-v tn="$theirs" -v tw="$tw" -v tu="$tu" -v ts="$ts" -v tr="$trss" -v size="$(stat -c %s "$PCAP")" 'BEGIN {
	printf "capture: %.1f MB\n", size / 1e6
	printf "%-12s %10s %8s %8s %8s %12s %10s\n", "", "requests", "wall s", "user s", "sys s", "requests/s", "peak RSS"
	printf "%-12s %10d %8.2f %8.2f %8.2f %12.0f %8.1f MB\n", "rebindwatch", n, w, u, s, n / w, r / 1024
	printf "%-12s %10d %8.2f %8.2f %8.2f %12.0f %8.1f MB\n", "tshark", tn, tw, tu, ts, tn / tw, tr / 1024
	printf "rebindwatch / tshark: %.1fx requests/s\n", (n / w) / (tn / tw)
}'
# Memory must not grow with the capture: the same replay of its first quarter.
head -c "$(($(stat -c %s "$PCAP") / 4))" "$PCAP" >"$OUT/quarter.pcap"
run quarter "$BIN" --no-tui --speed 0 --emit summary -c "$OUT/bench.toml" -r "$OUT/quarter.pcap"
read -r _ _ _ qrss <"$OUT/quarter.time"
awk -v q="$qrss" -v f="$orss" 'BEGIN { printf "peak RSS: %.1f MB for a quarter of the capture, %.1f MB for all of it\n", q / 1024, f / 1024 }'
rm -f "$OUT/quarter.pcap"
if [ "$ours" != "$theirs" ]; then
	echo "note: request counts differ (rebindwatch $ours, tshark $theirs)"
fi
