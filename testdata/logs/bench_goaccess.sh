#!/usr/bin/env bash
# Times rebindwatch reading a big combined access log beside GoAccess reading
# the same file, and prints lines/s for both, the ratio, and peak RSS.
# bench/all.sh compares the two on a log recorded from nginx instead.
#
# The log is made from the combined lines recorded from real servers
# (apache_combined.log, gunicorn_default.log, ../rec/*_access_combined.log,
# ../../logsrc/testdata/nginx_combined.log), repeated with times shifted
# forward (one line every 2 ms) and a page number added to each target so
# that targets do not all repeat (bench_synth_combined_log in bench/lib.sh).
# Memory is measured at two sizes to show it does not grow with the file.
#
#   LINES=2000000 bash testdata/logs/bench_goaccess.sh
set -euo pipefail
. "$(dirname "$0")/../../bench/lib.sh"

lines=${LINES:-2000000}
small=$((lines / 4))
work=$(mktemp -d /tmp/rwbench.XXXXXX)
trap 'rm -rf "$work"' EXIT

bench_need goaccess:goaccess /usr/bin/time:time /usr/bin/python3:python3 go:golang bc:bc

echo "building rebindwatch..."
bench_build "$work"

echo "making $lines and $small line logs from the recorded combined lines..."
bench_synth_combined_log "$lines" "$work/big.log"
bench_synth_combined_log "$small" "$work/small.log"
ls -l "$work/big.log" "$work/small.log" | awk '{print "  " $5 " bytes  " $9}'

# measure NAME LINES CMD...: prints seconds, lines/s and peak RSS (KiB).
measure() {
	local name=$1 n=$2
	shift 2
	bench_run "$work" "$name" "$@" || {
		echo "$name failed:" >&2
		cat "$work/$name.err" >&2
		exit 1
	}
	local secs rss
	secs=$(bench_tv "$work" "$name" wall)
	rss=$(bench_tv "$work" "$name" rss)
	printf '%-34s %8.2f s  %12.0f lines/s  peak RSS %7d KiB\n' "$name" "$secs" "$(echo "$n / $secs" | bc -l)" "$rss"
}

echo
echo "results ($(bench_load); GoAccess $(goaccess --version 2>/dev/null | head -1 | awk '{print $3}'); one run each, same file, page cache warm)"
cat "$work/big.log" >/dev/null
measure "rebindwatch (combined)" "$lines" "$work/rebindwatch" --no-tui --no-follow --emit summary --log-format combined "$work/big.log"
measure "rebindwatch (auto)" "$lines" "$work/rebindwatch" --no-tui --no-follow --emit summary "$work/big.log"
measure "goaccess (COMBINED)" "$lines" goaccess "$work/big.log" --log-format=COMBINED --no-global-config -o "$work/report.json"
measure "rebindwatch, quarter file" "$small" "$work/rebindwatch" --no-tui --no-follow --emit summary --log-format combined "$work/small.log"
measure "goaccess, quarter file" "$small" goaccess "$work/small.log" --log-format=COMBINED --no-global-config -o "$work/report-small.json"

ours=$(bench_tv "$work" "rebindwatch (combined)" wall)
theirs=$(bench_tv "$work" "goaccess (COMBINED)" wall)
echo
printf 'speed: rebindwatch is %.1fx GoAccess (%d lines)\n' "$(echo "$theirs / $ours" | bc -l)" "$lines"
printf 'memory: rebindwatch %d KiB for %d lines, %d KiB for %d lines; GoAccess %d KiB\n' \
	"$(bench_tv "$work" "rebindwatch (combined)" rss)" "$lines" "$(bench_tv "$work" "rebindwatch, quarter file" rss)" "$small" \
	"$(bench_tv "$work" "goaccess (COMBINED)" rss)"
echo "summary line: $(tail -1 "$work/rebindwatch (combined).out")"
