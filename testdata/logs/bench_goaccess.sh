#!/usr/bin/env bash
# Times rebindwatch reading a big combined access log beside GoAccess reading
# the same file, and prints lines/s for both, the ratio, and peak RSS.
#
# The log is made from the combined lines recorded from real servers
# (apache_combined.log, gunicorn_default.log, ../rec/*_access_combined.log,
# ../../logsrc/testdata/nginx_combined.log), repeated with times shifted
# forward (one line every 2 ms) and a page number added to each target so
# that targets do not all repeat. Memory is measured at two sizes to show it
# does not grow with the file.
#
#   LINES=2000000 bash testdata/logs/bench_goaccess.sh
#
# Needs (Debian): goaccess time (for /usr/bin/time -v), python3, Go.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lines=${LINES:-2000000}
small=$((lines / 4))
work=$(mktemp -d /tmp/rwbench.XXXXXX)
trap 'rm -rf "$work"' EXIT

command -v goaccess >/dev/null || { echo "goaccess is not installed (apt-get install goaccess)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is not installed (apt-get install time)" >&2; exit 1; }

echo "building rebindwatch..."
(cd "$root" && CGO_ENABLED=0 go build -o "$work/rebindwatch" .)

make_log() { # LINES OUT
    /usr/bin/python3 - "$1" "$2" "$here" "$root" <<'PY'
import glob, re, sys, time
n, out, here, root = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
src = []
for f in [here + "/apache_combined.log", here + "/gunicorn_default.log",
          *sorted(glob.glob(root + "/testdata/rec/*_access_combined.log")),
          root + "/logsrc/testdata/nginx_combined.log"]:
    try:
        src += [l.rstrip("\n") for l in open(f, encoding="utf-8", errors="surrogateescape") if l.strip()]
    except FileNotFoundError:
        pass
pat = re.compile(r'^(\S+ \S+ \S+ )\[[^\]]+\]( "\S+ )(\S+)( .*)$')
tmpl = []
for l in src:
    m = pat.match(l)
    if m:
        tmpl.append(m.groups())
if not tmpl:
    sys.exit("no recorded combined lines")
months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
start = 1795730000
w = open(out, "w", encoding="utf-8", errors="surrogateescape")
cache_sec, cache_str = -1, ""
buf = []
for i in range(n):
    sec = start + i // 500  # one line every 2 ms
    if sec != cache_sec:
        t = time.gmtime(sec)
        cache_sec = sec
        cache_str = "[%02d/%s/%04d:%02d:%02d:%02d +0000]" % (t.tm_mday, months[t.tm_mon - 1], t.tm_year, t.tm_hour, t.tm_min, t.tm_sec)
    a, b, target, rest = tmpl[i % len(tmpl)]
    sep = "&" if "?" in target else "?"
    buf.append("%s%s%s%s%spage=%d%s\n" % (a, cache_str, b, target, sep, i % 5000, rest))
    if len(buf) >= 10000:
        w.write("".join(buf))
        buf = []
w.write("".join(buf))
w.close()
PY
}

echo "making $lines and $small line logs from $(cd "$here" && ls apache_combined.log gunicorn_default.log | tr '\n' ' ')..."
make_log "$lines" "$work/big.log"
make_log "$small" "$work/small.log"
ls -l "$work/big.log" "$work/small.log" | awk '{print "  " $5 " bytes  " $9}'

# measure NAME LINES CMD...: prints seconds and peak RSS (KiB).
measure() {
    local name=$1 n=$2
    shift 2
    /usr/bin/time -v -o "$work/time.txt" "$@" >"$work/$name.out" 2>"$work/$name.err" || {
        echo "$name failed:" >&2
        cat "$work/$name.err" >&2
        exit 1
    }
    local secs rss
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
    printf '%-34s %8.2f s  %12.0f lines/s  peak RSS %7d KiB\n' "$name" "$secs" "$(echo "$n / $secs" | bc -l)" "$rss"
    echo "$secs $rss" >"$work/$name.res"
}

echo
echo "results ($(nproc) CPUs; GoAccess $(goaccess --version 2>/dev/null | head -1 | awk '{print $3}'); one run each, same file, page cache warm)"
cat "$work/big.log" >/dev/null
measure "rebindwatch (combined)" "$lines" "$work/rebindwatch" --no-tui --no-follow --emit summary --log-format combined "$work/big.log"
measure "rebindwatch (auto)" "$lines" "$work/rebindwatch" --no-tui --no-follow --emit summary "$work/big.log"
measure "goaccess (COMBINED)" "$lines" goaccess "$work/big.log" --log-format=COMBINED --no-global-config -o "$work/report.json"
measure "rebindwatch, quarter file" "$small" "$work/rebindwatch" --no-tui --no-follow --emit summary --log-format combined "$work/small.log"
measure "goaccess, quarter file" "$small" goaccess "$work/small.log" --log-format=COMBINED --no-global-config -o "$work/report-small.json"

read -r ours ours_rss <"$work/rebindwatch (combined).res"
read -r theirs theirs_rss <"$work/goaccess (COMBINED).res"
read -r _ ours_small_rss <"$work/rebindwatch, quarter file.res"
echo
printf 'speed: rebindwatch is %.1fx GoAccess (%d lines)\n' "$(echo "$theirs / $ours" | bc -l)" "$lines"
printf 'memory: rebindwatch %d KiB for %d lines, %d KiB for %d lines; GoAccess %d KiB\n' \
    "$ours_rss" "$lines" "$ours_small_rss" "$small" "$theirs_rss"
echo "summary line: $(tail -1 "$work/rebindwatch (combined).out")"
