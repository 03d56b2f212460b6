#!/usr/bin/env bash
# Memory under attack, measured on the binary: a 2,000,000-line nginx log in
# the extended format of testdata/rec/ext.fmt carrying 1,000,000 distinct
# keys, 1,000,000 distinct Host values and 1,000,000 distinct client
# addresses, with a real attack mixed in (one key bursting 500 requests in
# 2 ms, one foreign Host with a key, one key from 30 clients), read at the
# default [limits]. Reports the peak RSS (/usr/bin/time -v), the run time,
# the evictions and whether each attack alert fired. Then a capture of
# 200,000 TCP connections that never close (handshake and one request each,
# the packets of a recorded curl connection with the client, Host and key
# rewritten: real software will not leave that many open on demand)
# replayed at the default max_streams (100,000): peak RSS, requests
# reported and streams_evicted. Exits 1 when an alert or a request is
# missing or a peak RSS is over the cap. The floods come from bench/flood;
# bench/all.sh measures time and peak RSS at 100k to 1M distinct keys.
#
#   bench/memory.sh                          # 2M lines, 200k connections
#   LINES=200000 STREAMS=30000 bench/memory.sh
#   CAP_MIB=512 KEEP=1 bench/memory.sh
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LINES=${LINES:-2000000}
STREAMS=${STREAMS:-200000}
CAP_MIB=${CAP_MIB:-512}                 # the log flood: the engine at its default caps
CAP_STREAMS_MIB=${CAP_STREAMS_MIB:-768} # the capture: 100k connections and the engine's 100k keys
PY=/usr/bin/python3
bench_need go:golang "$PY":python3 /usr/bin/time:time

WORK=$(mktemp -d /tmp/rebindwatch-memory.XXXXXX)
cleanup() { [ -n "${KEEP:-}" ] && echo "memory.sh: kept $WORK" >&2 || rm -rf "$WORK"; }
trap cleanup EXIT

echo "== build"
bench_build "$WORK"

echo "== generate $LINES lines"
bench_flood_log "$WORK" "$WORK/flood.log" "$LINES" -distinct $((LINES / 2)) -attack
wc -lc "$WORK/flood.log" | awk '{printf "   %d lines, %.0f MB\n", $1, $2 / 1e6}'

echo "== run (default limits; $(bench_load))"
set +e
bench_run "$WORK" log "$WORK/rebindwatch" --no-tui --no-follow --emit alert,summary \
	--allow-host api.rebind.test --allow-host '*.api.rebind.test' \
	--log-format "nginx:$(bench_ext_format)" "$WORK/flood.log"
rc=$?
set -e
sed 's/^/   /' "$WORK/log.err" # stderr of the run, if any
rss_kib=$(bench_tv "$WORK" log rss)
echo "   exit $rc, wall $(bench_tv "$WORK" log wall) s, peak RSS $((rss_kib / 1024)) MiB (cap $CAP_MIB MiB)"
tail -1 "$WORK/log.out" | "$PY" -c 'import json,sys; s=json.load(sys.stdin); print("   requests", s["requests"], "evicted", s["evicted"], "alerts", {k: v for k, v in s["alerts"].items() if v})'

echo "== attack alerts"
fp() { printf %s "$1" | "$WORK/rebindwatch" fingerprint; }
fail=0
check() { # DETECTOR SUBJECT [DIMENSION]
	if grep -q "\"detector\":\"$1\".*\"subject\":\"$2\"${3:+.*\"dimension\":\"$3\"}" "$WORK/log.out"; then
		echo "   found  $1 $2 ${3:-}"
	else
		echo "   MISSED $1 $2 ${3:-}"
		fail=1
	fi
}
(cd "$WORK" && check key_burst "$(fp BURSTkey)" && check unexpected_host evil.rebind.test && check key_spread "$(fp SPREADkk)" client) || fail=1
other=$(grep -c '"type":"alert"' "$WORK/log.out" || true)
echo "   $other alerts in all (want 4: the three above and host_served for the foreign Host)"
[ "$rc" = 0 ] || fail=1
[ "$((rss_kib / 1024))" -le "$CAP_MIB" ] || { echo "memory.sh: peak RSS over $CAP_MIB MiB" >&2; fail=1; }
rm -f "$WORK/flood.log"

echo "== generate $STREAMS open connections"
bench_flood_pcap "$WORK" "$WORK/open.pcap" "$STREAMS" -open
wc -c "$WORK/open.pcap" | awk '{printf "   %.0f MB\n", $1 / 1e6}'
printf '[hosts]\nallowed = ["*.api.rebind.test"]\n[capture]\nports = [8080]\n' >"$WORK/rw.toml"

echo "== replay (default max_streams; $(bench_load))"
set +e
bench_run "$WORK" open "$WORK/rebindwatch" --no-tui -c "$WORK/rw.toml" --emit summary -r "$WORK/open.pcap"
rc=$?
set -e
sed 's/^/   /' "$WORK/open.err"
rss_kib=$(bench_tv "$WORK" open rss)
echo "   exit $rc, wall $(bench_tv "$WORK" open wall) s, peak RSS $((rss_kib / 1024)) MiB (cap $CAP_STREAMS_MIB MiB)"
"$PY" - "$WORK/open.out" "$STREAMS" <<'PYEOF' || fail=1
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
