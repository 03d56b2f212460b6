#!/usr/bin/env bash
# Memory under attack, measured on the binary: a 2,000,000-line nginx log in
# the extended format of testdata/rec/ext.fmt carrying 1,000,000 distinct
# keys, 1,000,000 distinct Host values and 1,000,000 distinct client
# addresses, with a real attack mixed in (one key bursting 500 requests in
# 2 s, one foreign Host with a key, one key from 30 clients), read at the
# default [limits]. Reports the peak RSS (/usr/bin/time -v), the run time,
# the evictions and whether each attack alert fired. Then a capture of
# 200,000 TCP connections that never close (SYN, SYN-ACK, ACK and one
# request each; synthetic: real software will not leave that many open on
# demand) replayed at the default max_streams (100,000): peak RSS, requests
# reported and streams_evicted. Exits 1 when an alert or a request is
# missing or a peak RSS is over the cap.
#
#   bench/memory.sh                          # 2M lines, 200k connections
#   LINES=200000 STREAMS=30000 bench/memory.sh
#   CAP_MIB=512 KEEP=1 bench/memory.sh
#
# Needs: go, /usr/bin/python3, /usr/bin/time (Debian: apt-get install time).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LINES=${LINES:-2000000}
STREAMS=${STREAMS:-200000}
CAP_MIB=${CAP_MIB:-512}             # the log flood: the engine at its default caps
CAP_STREAMS_MIB=${CAP_STREAMS_MIB:-768} # the capture: 100k connections and the engine's 100k keys
PY=/usr/bin/python3
for c in go "$PY" /usr/bin/time; do
	command -v "$c" >/dev/null || { echo "memory.sh: missing $c" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/rebindwatch-memory.XXXXXX)
cleanup() { [ -n "${KEEP:-}" ] && echo "memory.sh: kept $WORK" >&2 || rm -rf "$WORK"; }
trap cleanup EXIT

echo "== build"
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$WORK/rebindwatch" .)

echo "== generate $LINES lines"
"$PY" - "$WORK/flood.log" "$LINES" <<'PYEOF'
import sys, datetime
path, n = sys.argv[1], int(sys.argv[2])
distinct = n // 2
t0 = datetime.datetime(2026, 11, 26, 22, 0, 0, tzinfo=datetime.timezone.utc)
rate = 10000  # lines per second of event time
fmt = '%s - - [%s] "GET /v1/items HTTP/1.1" 200 12 "-" "flood/1.0" host="%s" origin="-" key="%s" rt=0.001\n'
def ts(i):
    return (t0 + datetime.timedelta(microseconds=i * 1000000 // rate)).isoformat()
# The attack, by line index.
burst_at, foreign_at, spread_from = int(n * 0.4), int(n * 0.6), int(n * 0.05)
spread_every = max(1, (n - spread_from) // 40)
with open(path, "w", buffering=1 << 20) as f:
    w = f.write
    for i in range(n):
        k = i % distinct
        # Key k twice, half a run apart, from the same client and Host:
        # churn only, no burst or spread.
        h = (3 * i + 1) % distinct
        c = (7 * i + 5) % distinct
        w(fmt % ("10.%d.%d.%d" % (c >> 16, (c >> 8) & 255, c & 255), ts(i), "h%d.api.rebind.test" % h, "%08x" % k))
        if burst_at <= i < burst_at + 20:
            # 500 requests on one key within 2 s: 25 per flood line over 20 lines (2 ms).
            for j in range(25):
                w(fmt % ("192.0.2.7", ts(i), "api.rebind.test", "BURSTkey"))
        if i == foreign_at:
            w(fmt % ("192.0.2.8", ts(i), "evil.rebind.test", "FOREIGNk"))
        if i >= spread_from and (i - spread_from) % spread_every == 0 and (i - spread_from) // spread_every < 30:
            w(fmt % ("192.0.2.%d" % (100 + (i - spread_from) // spread_every), ts(i), "api.rebind.test", "SPREADkk"))
PYEOF
wc -lc "$WORK/flood.log" | awk '{printf "   %d lines, %.0f MB\n", $1, $2 / 1e6}'

echo "== run (default limits)"
set +e
/usr/bin/time -v "$WORK/rebindwatch" --no-tui --no-follow --emit alert,summary \
	--allow-host api.rebind.test --allow-host '*.api.rebind.test' \
	--log-format "nginx:$(cat "$ROOT/testdata/rec/ext.fmt")" "$WORK/flood.log" \
	>"$WORK/out.jsonl" 2>"$WORK/time.txt"
rc=$?
set -e
grep -v '^\s' "$WORK/time.txt" | sed 's/^/   /' || true # stderr of the run, if any
rss_kib=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$WORK/time.txt")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time.txt")
echo "   exit $rc, wall $wall, peak RSS $((rss_kib / 1024)) MiB (cap $CAP_MIB MiB)"
tail -1 "$WORK/out.jsonl" | "$PY" -c 'import json,sys; s=json.load(sys.stdin); print("   requests", s["requests"], "evicted", s["evicted"], "alerts", {k: v for k, v in s["alerts"].items() if v})'

echo "== attack alerts"
fp() { printf %s "$1" | "$WORK/rebindwatch" fingerprint; }
fail=0
check() { # DETECTOR SUBJECT [DIMENSION]
	if grep -q "\"detector\":\"$1\".*\"subject\":\"$2\"${3:+.*\"dimension\":\"$3\"}" "$WORK/out.jsonl"; then
		echo "   found  $1 $2 ${3:-}"
	else
		echo "   MISSED $1 $2 ${3:-}"
		fail=1
	fi
}
(cd "$WORK" && check key_burst "$(fp BURSTkey)" && check unexpected_host evil.rebind.test && check key_spread "$(fp SPREADkk)" client) || fail=1
other=$(grep -c '"type":"alert"' "$WORK/out.jsonl" || true)
echo "   $other alerts in all (want 4: the three above and host_served for the foreign Host)"
[ "$rc" = 0 ] || fail=1
[ "$((rss_kib / 1024))" -le "$CAP_MIB" ] || { echo "memory.sh: peak RSS over $CAP_MIB MiB" >&2; fail=1; }
rm -f "$WORK/flood.log"

echo "== generate $STREAMS open connections"
"$PY" - "$WORK/open.pcap" "$STREAMS" <<'PYEOF'
import struct, sys
path, n = sys.argv[1], int(sys.argv[2])
srv = bytes([10, 9, 0, 1])
eth = bytes([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0])
def ipsum(h):
    s = sum(struct.unpack("!10H", h))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF
def frame(src, dst, sport, dport, seq, ack, flags, payload):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", ipsum(ip)) + ip[12:]
    return eth + ip + tcp  # TCP checksums left 0: nothing here verifies them
with open(path, "wb", buffering=1 << 20) as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    def pkt(t_us, data):
        f.write(struct.pack("<IIII", 1795730400 + t_us // 1000000, t_us % 1000000, len(data), len(data)))
        f.write(data)
    SYN, ACK, PSH = 0x02, 0x10, 0x08
    for i in range(n):
        t = i * 100  # 10,000 new connections a second
        cli = bytes([10, 10 + (i >> 16), (i >> 8) & 255, i & 255])
        cp = 1024 + i % 60000
        req = b"GET /v1/items/%d HTTP/1.1\r\nHost: h%d.api.example.com\r\nX-API-Key: k%d\r\n\r\n" % (i, i, i)
        pkt(t, frame(cli, srv, cp, 8080, 1000, 0, SYN, b""))
        pkt(t + 10, frame(srv, cli, 8080, cp, 9000, 1001, SYN | ACK, b""))
        pkt(t + 20, frame(cli, srv, cp, 8080, 1001, 9001, ACK, b""))
        pkt(t + 30, frame(cli, srv, cp, 8080, 1001, 9001, ACK | PSH, req))
PYEOF
wc -c "$WORK/open.pcap" | awk '{printf "   %.0f MB\n", $1 / 1e6}'
printf '[hosts]\nallowed = ["*.api.example.com"]\n[capture]\nports = [8080]\n' >"$WORK/rw.toml"

echo "== replay (default max_streams)"
set +e
/usr/bin/time -v "$WORK/rebindwatch" --no-tui -c "$WORK/rw.toml" --emit summary -r "$WORK/open.pcap" \
	>"$WORK/open.jsonl" 2>"$WORK/time2.txt"
rc=$?
set -e
grep -v '^\s' "$WORK/time2.txt" | sed 's/^/   /' || true
rss_kib=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$WORK/time2.txt")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time2.txt")
echo "   exit $rc, wall $wall, peak RSS $((rss_kib / 1024)) MiB (cap $CAP_STREAMS_MIB MiB)"
"$PY" - "$WORK/open.jsonl" "$STREAMS" <<'PYEOF' || fail=1
import json, sys
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
n = int(sys.argv[2])
ev = s["counters"].get("streams_evicted", 0)
print("   requests", s["requests"], "of", n, "streams_evicted", ev, "counters", s["counters"])
sys.exit(0 if s["requests"] == n and (n <= 100000 or ev >= n - 100000 - 100000 // 16) else 1)
PYEOF
[ "$rc" = 0 ] || fail=1
[ "$((rss_kib / 1024))" -le "$CAP_STREAMS_MIB" ] || { echo "memory.sh: peak RSS over $CAP_STREAMS_MIB MiB" >&2; fail=1; }
exit $fail
