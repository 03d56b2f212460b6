#!/usr/bin/env bash
# Capture-path speed: makes a bulk capture of keep-alive HTTP/1.1 requests
# on loopback (nginx + wrk, recorded by tcpdump), then replays it with
# rebindwatch and with tshark's HTTP dissector, one after the other, and
# prints requests/s for each, the ratio, wall and CPU time and peak RSS.
# bench/all.sh runs this comparison and every other one in one go.
#
#   bench/capture.sh [SECONDS]      # at most SECONDS of wrk traffic (default 60)
#
# Environment: OUT (work directory, default /tmp/rebindwatch-bench; the
# capture is large and never goes into the repo), PORT (default 18680),
# REQS (requests to record, default 500000), KEEP=1 reuses an existing
# $OUT/bulk.pcap instead of recording anew, CORES (taskset CPU list for
# the replays, default 0: one core).
#
# Needs root (tcpdump on lo). Only 127.0.0.1 is used.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SECS=${1:-60}
OUT=${OUT:-/tmp/rebindwatch-bench}
PORT=${PORT:-18680}
REQS=${REQS:-500000}
CORES=${CORES:-0}

bench_need nginx:nginx wrk:wrk tcpdump:tcpdump tshark:tshark /usr/bin/time:time taskset:util-linux go:golang
[ "$(id -u)" = 0 ] || { echo "capture.sh: run as root (tcpdump on lo)" >&2; exit 1; }
mkdir -p "$OUT"
trap bench_cleanup EXIT
PCAP=$OUT/bulk.pcap

if [ "${KEEP:-}" = 1 ] && [ -s "$PCAP" ]; then
	echo "reusing $PCAP"
else
	bench_record_pcap "$OUT" "$PORT" "$REQS" "$SECS"
fi
ls -l "$PCAP"

printf '[hosts]\nallowed = ["api.example.com", "*.api.example.com"]\n[origins]\nallowed = ["https://app.example.com"]\n[capture]\nports = [%s]\n' "$PORT" >"$OUT/bench.toml"
bench_build "$OUT"

echo "replaying on CPU $CORES ... ($(bench_load))"
bench_run "$OUT" rebindwatch taskset -c "$CORES" "$OUT/rebindwatch" --no-tui --speed 0 --emit summary -c "$OUT/bench.toml" -r "$PCAP"
bench_run "$OUT" tshark taskset -c "$CORES" tshark -r "$PCAP" -d "tcp.port==$PORT,http" -Y http.request -T fields \
	-e http.request.method -e http.host -e http.request.uri

ours=$(bench_summary_field "$OUT/rebindwatch.out" requests)
theirs=$(wc -l <"$OUT/tshark.out")
awk -v n="$ours" -v w="$(bench_tv "$OUT" rebindwatch wall)" -v u="$(bench_tv "$OUT" rebindwatch user)" \
	-v s="$(bench_tv "$OUT" rebindwatch sys)" -v r="$(bench_tv "$OUT" rebindwatch rss)" \
	-v tn="$theirs" -v tw="$(bench_tv "$OUT" tshark wall)" -v tu="$(bench_tv "$OUT" tshark user)" \
	-v ts="$(bench_tv "$OUT" tshark sys)" -v tr="$(bench_tv "$OUT" tshark rss)" -v size="$(stat -c %s "$PCAP")" 'BEGIN {
	printf "capture: %.1f MB\n", size / 1e6
	printf "%-12s %10s %8s %8s %8s %12s %10s\n", "", "requests", "wall s", "user s", "sys s", "requests/s", "peak RSS"
	printf "%-12s %10d %8.2f %8.2f %8.2f %12.0f %8.1f MiB\n", "rebindwatch", n, w, u, s, n / w, r / 1024
	printf "%-12s %10d %8.2f %8.2f %8.2f %12.0f %8.1f MiB\n", "tshark", tn, tw, tu, ts, tn / tw, tr / 1024
	printf "rebindwatch / tshark: %.1fx requests/s\n", (n / w) / (tn / tw)
}'
# Memory must not grow with the capture: the same replay of its first quarter.
head -c "$(($(stat -c %s "$PCAP") / 4))" "$PCAP" >"$OUT/quarter.pcap"
bench_run "$OUT" quarter taskset -c "$CORES" "$OUT/rebindwatch" --no-tui --speed 0 --emit summary -c "$OUT/bench.toml" -r "$OUT/quarter.pcap"
awk -v q="$(bench_tv "$OUT" quarter rss)" -v f="$(bench_tv "$OUT" rebindwatch rss)" 'BEGIN { printf "peak RSS: %.1f MiB for a quarter of the capture, %.1f MiB for all of it\n", q / 1024, f / 1024 }'
rm -f "$OUT/quarter.pcap"
if [ "$ours" != "$theirs" ]; then
	echo "note: request counts differ (rebindwatch $ours, tshark $theirs)"
fi
