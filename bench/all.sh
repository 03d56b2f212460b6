#!/usr/bin/env bash
# Every speed and memory figure of the README, measured side by side in one
# run on this machine, and a table of the targets at the end:
#
#   1. capture: rebindwatch, tshark and httpry replaying the same bulk
#      capture of keep-alive requests (nginx + wrk on 127.0.0.1, recorded
#      by tcpdump): requests/s and the ratios;
#   2. log: rebindwatch and GoAccess reading the same combined access log
#      (nginx's own, written while wrk ran): lines/s and the ratio;
#   3. flood: N requests carrying N distinct keys, Hosts and clients, with
#      a burst, a foreign Host and a spread key mixed in (bench/flood, from
#      recorded nginx lines and a recorded curl connection), as a log and
#      as a pcap, at 100k, 250k, 500k and 1M, $ROUNDS runs each: the
#      median time, the highest peak RSS, whether the attack was found
#      (flat: the peak RSS at the last size within 10% of the one before);
#   4. the dashboard's key-to-frame latency in a 140x40 pty while it
#      replays the bulk capture at full speed (bench/latency);
#   5. with PROFILE=1, CPU profiles of the log and capture replays (the
#      app-level benchmarks in bench/app_test.go): pprof -top.
#
#   sudo bench/all.sh                  # records the capture and the log, then measures
#   sudo KEEP=1 bench/all.sh           # reuses $OUT/bulk.pcap and $OUT/bulk.log if they are there
#
# Environment: OUT (work directory, default /tmp/rebindwatch-bench; nothing
# large goes into the repo), PORT (18680), REQS (requests in the capture,
# 500000), LINES (lines in the log, 2000000), ROUNDS (alternating rounds
# of each comparison, 3), FLOODS ("100000 250000 500000 1000000"), LAT_N
# (latency samples, 60), PROFILE=1, CORES (a taskset CPU list for every
# "${PIN[@]}" run; default: all CPUs).
#
# Needs root (tcpdump on lo) and Go; it prints the apt-get line for the
# rest. Every load loop is bounded in count and in time (wrk stops at the
# count or after RECORD_SECS, 180 s); only 127.0.0.1 is used.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT=${OUT:-/tmp/rebindwatch-bench}
PORT=${PORT:-18680}
REQS=${REQS:-500000}
LINES=${LINES:-2000000}
ROUNDS=${ROUNDS:-3}
FLOODS=${FLOODS:-100000 250000 500000 1000000}
LAT_N=${LAT_N:-60}
RECORD_SECS=${RECORD_SECS:-180}

bench_need nginx:nginx wrk:wrk tcpdump:tcpdump tshark:tshark httpry:httpry goaccess:goaccess \
	/usr/bin/time:time taskset:util-linux go:golang
[ "$(id -u)" = 0 ] || { echo "all.sh: run as root (tcpdump on lo)" >&2; exit 1; }
mkdir -p "$OUT"
trap bench_cleanup EXIT

# PIN prefixes every "${PIN[@]}" command: taskset to $CORES when set.
PIN=()
[ -z "${CORES:-}" ] || PIN=(taskset -c "$CORES")
# median V...: the median of numbers.
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {printf "%.6f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# calc EXPR: floating-point arithmetic.
calc() { awk "BEGIN {printf \"%.6f\", $1}"; }
# rss_mib DIR NAME: a run's peak RSS in MiB.
rss_mib() { calc "$(bench_tv "$1" "$2" rss) / 1024"; }
# cpu_s DIR NAME: a run's CPU seconds, user and system (at least 1 ms).
cpu_s() { calc "$(bench_tv "$1" "$2" user) + $(bench_tv "$1" "$2" sys) + 0.001"; }
section() { printf '\n== %s (%s)\n' "$1" "$(bench_load)"; }

section "machine"
echo "$(nproc) CPUs: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); $(free -m | awk '/Mem:/ {print $2 " MiB memory"}')"
echo "$(go version); rebindwatch $(cd "$BENCH_ROOT" && git describe --always --dirty 2>/dev/null || echo '(no git)')"
echo "tshark $(tshark --version 2>/dev/null | head -1 | awk '{print $3}'), httpry $(httpry -h 2>&1 | head -1 | awk '{print $3}'), GoAccess $(goaccess --version 2>/dev/null | head -1 | awk '{print $3}' | sed 's/\.$//')"
bench_build "$OUT"

section "bulk capture and log"
if [ "${KEEP:-}" = 1 ] && [ -s "$OUT/bulk.pcap" ]; then
	echo "reusing $OUT/bulk.pcap"
else
	bench_record_pcap "$OUT" "$PORT" "$REQS" "$RECORD_SECS"
fi
if [ "${KEEP:-}" = 1 ] && [ -s "$OUT/bulk.log" ]; then
	echo "reusing $OUT/bulk.log"
else
	bench_record_log "$OUT" "$PORT" "$LINES" "$RECORD_SECS"
fi
log_lines=$(wc -l <"$OUT/bulk.log")
printf '%s: %.0f MB; %s: %d lines, %.0f MB\n' "$OUT/bulk.pcap" "$(calc "$(stat -c %s "$OUT/bulk.pcap") / 1e6")" \
	"$OUT/bulk.log" "$log_lines" "$(calc "$(stat -c %s "$OUT/bulk.log") / 1e6")"
printf '[hosts]\nallowed = ["api.example.com", "*.api.example.com"]\n[origins]\nallowed = ["https://app.example.com"]\n[capture]\nports = [%s]\n' "$PORT" >"$OUT/bench.toml"
cat "$OUT/bulk.pcap" "$OUT/bulk.log" >/dev/null # page cache warm for every contender

section "capture: rebindwatch vs tshark vs httpry, $ROUNDS alternating rounds"
printf '%-6s %-12s %10s %7s %7s %7s %11s %11s %10s  %s\n' round program requests "wall s" "user s" "sys s" requests/s "per CPU-s" "peak RSS" load
cap_rw=() cap_ts=() cap_hp=() cap_vs_ts=() cap_vs_hp=() cpu_vs_ts=() cpu_vs_hp=()
for r in $(seq "$ROUNDS"); do
	bench_run "$OUT" cap_rw "${PIN[@]}" "$OUT/rebindwatch" --no-tui --speed 0 --emit summary -c "$OUT/bench.toml" -r "$OUT/bulk.pcap"
	l1=$(cut -d' ' -f1 /proc/loadavg)
	bench_run "$OUT" cap_ts "${PIN[@]}" tshark -r "$OUT/bulk.pcap" -d "tcp.port==$PORT,http" -Y http.request -T fields \
		-e http.request.method -e http.host -e http.request.uri
	l2=$(cut -d' ' -f1 /proc/loadavg)
	rm -f "$OUT/httpry.log" # httpry appends
	bench_run "$OUT" cap_hp "${PIN[@]}" httpry -q -r "$OUT/bulk.pcap" -o "$OUT/httpry.log" "tcp port $PORT"
	l3=$(cut -d' ' -f1 /proc/loadavg)
	n_rw=$(bench_summary_field "$OUT/cap_rw.out" requests)
	n_ts=$(wc -l <"$OUT/cap_ts.out")
	n_hp=$(awk -F'\t' '$4 == ">"' "$OUT/httpry.log" | wc -l)
	for p in rw:rebindwatch:$n_rw:$l1 ts:tshark:$n_ts:$l2 hp:httpry:$n_hp:$l3; do
		IFS=: read -r k name n l <<<"$p"
		w=$(bench_tv "$OUT" "cap_$k" wall)
		u=$(bench_tv "$OUT" "cap_$k" user) s=$(bench_tv "$OUT" "cap_$k" sys)
		printf '%-6s %-12s %10d %7.2f %7.2f %7.2f %11.0f %11.0f %6.1f MiB  %s\n' "$r" "$name" "$n" "$w" "$u" "$s" \
			"$(calc "$n / $w")" "$(calc "$n / ($u + $s + 0.001)")" "$(rss_mib "$OUT" "cap_$k")" "$l"
	done
	cap_rw+=("$(calc "$n_rw / $(bench_tv "$OUT" cap_rw wall)")")
	cap_ts+=("$(calc "$n_ts / $(bench_tv "$OUT" cap_ts wall)")")
	cap_hp+=("$(calc "$n_hp / $(bench_tv "$OUT" cap_hp wall)")")
	cap_vs_ts+=("$(calc "${cap_rw[-1]} / ${cap_ts[-1]}")")
	cap_vs_hp+=("$(calc "${cap_rw[-1]} / ${cap_hp[-1]}")")
	cpu_vs_ts+=("$(calc "$(cpu_s "$OUT" cap_ts) / $(cpu_s "$OUT" cap_rw) * $n_rw / $n_ts")")
	cpu_vs_hp+=("$(calc "$(cpu_s "$OUT" cap_hp) / $(cpu_s "$OUT" cap_rw) * $n_rw / $n_hp")")
done
[ "$n_rw" = "$n_ts" ] || echo "note: the request counts differ: rebindwatch $n_rw, tshark $n_ts, httpry $n_hp"
CAP_RW=$(median "${cap_rw[@]}") CAP_TS=$(median "${cap_ts[@]}") CAP_HP=$(median "${cap_hp[@]}")
CAP_X_TS=$(median "${cap_vs_ts[@]}") CAP_X_HP=$(median "${cap_vs_hp[@]}")
CPU_X_TS=$(median "${cpu_vs_ts[@]}") CPU_X_HP=$(median "${cpu_vs_hp[@]}")
printf 'median: rebindwatch %.0f requests/s, tshark %.0f (rebindwatch %.1fx), httpry %.0f (%.1fx); ratios are per round, then the median\n' \
	"$CAP_RW" "$CAP_TS" "$CAP_X_TS" "$CAP_HP" "$CAP_X_HP"
printf 'by CPU time (user + sys, steadier under load): rebindwatch %.1fx tshark, %.1fx httpry\n' "$CPU_X_TS" "$CPU_X_HP"

section "log: rebindwatch vs GoAccess on $log_lines lines, $ROUNDS alternating rounds"
printf '%-6s %-12s %10s %7s %7s %7s %11s %11s %10s  %s\n' round program lines "wall s" "user s" "sys s" lines/s "per CPU-s" "peak RSS" load
log_rw=() log_ga=() log_x=() cpu_log_x=()
for r in $(seq "$ROUNDS"); do
	bench_run "$OUT" log_rw "${PIN[@]}" "$OUT/rebindwatch" --no-tui --no-follow --emit summary "$OUT/bulk.log"
	l1=$(cut -d' ' -f1 /proc/loadavg)
	bench_run "$OUT" log_ga "${PIN[@]}" goaccess "$OUT/bulk.log" --log-format=COMBINED --no-global-config -o "$OUT/goaccess.json"
	l2=$(cut -d' ' -f1 /proc/loadavg)
	for p in rw:rebindwatch:$l1 ga:GoAccess:$l2; do
		IFS=: read -r k name l <<<"$p"
		w=$(bench_tv "$OUT" "log_$k" wall)
		u=$(bench_tv "$OUT" "log_$k" user) s=$(bench_tv "$OUT" "log_$k" sys)
		printf '%-6s %-12s %10d %7.2f %7.2f %7.2f %11.0f %11.0f %6.1f MiB  %s\n' "$r" "$name" "$log_lines" "$w" "$u" "$s" \
			"$(calc "$log_lines / $w")" "$(calc "$log_lines / ($u + $s + 0.001)")" "$(rss_mib "$OUT" "log_$k")" "$l"
	done
	log_rw+=("$(calc "$log_lines / $(bench_tv "$OUT" log_rw wall)")")
	log_ga+=("$(calc "$log_lines / $(bench_tv "$OUT" log_ga wall)")")
	log_x+=("$(calc "${log_rw[-1]} / ${log_ga[-1]}")")
	cpu_log_x+=("$(calc "$(cpu_s "$OUT" log_ga) / $(cpu_s "$OUT" log_rw)")")
done
echo "rebindwatch counted $(bench_summary_field "$OUT/log_rw.out" requests) requests, $(bench_summary_field "$OUT/log_rw.out" parse_errors) parse errors;" \
	"GoAccess $(sed -n 's/.*"valid_requests": *\([0-9]*\).*/\1/p' "$OUT/goaccess.json" | head -1) valid requests"
LOG_RW=$(median "${log_rw[@]}") LOG_GA=$(median "${log_ga[@]}") LOG_X=$(median "${log_x[@]}")
CPU_LOG_X=$(median "${cpu_log_x[@]}")
printf 'median: rebindwatch %.0f lines/s, GoAccess %.0f (rebindwatch %.1fx); by CPU time %.1fx\n' "$LOG_RW" "$LOG_GA" "$LOG_X" "$CPU_LOG_X"

section "flood: N requests, N distinct keys, Hosts and clients, default [limits]"
printf '[hosts]\nallowed = ["api.rebind.test", "*.api.rebind.test"]\n[origins]\nallowed = ["https://app.rebind.test"]\n[capture]\nports = [8080]\n' >"$OUT/flood.toml"
fp() { printf %s "$1" | "$OUT/rebindwatch" fingerprint; }
want_burst=$(fp BURSTkey) want_spread=$(fp SPREADkk)
# attack FILE: which of the three mixed-in attacks were reported.
attack() {
	local found=0
	grep -q "\"detector\":\"key_burst\".*\"subject\":\"$want_burst\"" "$1" && found=$((found + 1))
	grep -q '"detector":"unexpected_host".*"subject":"evil.rebind.test"' "$1" && found=$((found + 1))
	grep -q "\"detector\":\"key_spread\".*\"subject\":\"$want_spread\"" "$1" && found=$((found + 1))
	echo "$found/3"
}
# flood_round KIND N NAME: one run of the flood input of kind KIND.
flood_round() {
	if [ "$1" = log ]; then
		bench_run "$OUT" "$3" "${PIN[@]}" "$OUT/rebindwatch" --no-tui --no-follow --emit alert,summary -c "$OUT/flood.toml" \
			--log-format "nginx:$(bench_ext_format)" "$OUT/flood.log" || echo "flood $1 $2: exit $?"
	else
		bench_run "$OUT" "$3" "${PIN[@]}" "$OUT/rebindwatch" --no-tui --speed 0 --emit alert,summary -c "$OUT/flood.toml" \
			-r "$OUT/flood.pcap" || echo "flood $1 $2: exit $?"
	fi
}
# Each size and kind runs $ROUNDS times: flood_KIND_N.* are the files of
# the run of median wall time, and the peak RSS reported is the highest of
# the rounds (FLOOD_RSS).
declare -A FLOOD_RSS
printf '%-9s %-5s %7s %7s %10s %11s %9s %10s %7s  %s\n' N input "wall s" "CPU s" "peak RSS" requests/s evicted requests attack load
for n in $FLOODS; do
	for kind in log pcap; do
		in="$OUT/flood.$kind"
		if [ $kind = log ]; then
			bench_flood_log "$OUT" "$in" "$n" -attack
		else
			bench_flood_pcap "$OUT" "$in" "$n" -attack
		fi
		sync "$in" # written back now, not while it is read: that is the disk's time, not rebindwatch's
		walls=() rss=0
		for r in $(seq "$ROUNDS"); do
			flood_round "$kind" "$n" "flood_${kind}_${n}_r$r"
			walls+=("$(bench_tv "$OUT" "flood_${kind}_${n}_r$r" wall) $r")
			rss=$(awk -v a="$rss" -v b="$(rss_mib "$OUT" "flood_${kind}_${n}_r$r")" 'BEGIN {print (b > a) ? b : a}')
		done
		rm -f "$in"
		mid=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{r[NR] = $2} END {print r[int((NR + 1) / 2)]}')
		for ext in tv out err; do cp "$OUT/flood_${kind}_${n}_r$mid.$ext" "$OUT/flood_${kind}_$n.$ext"; done
		FLOOD_RSS[${kind}_$n]=$rss
		f="$OUT/flood_${kind}_$n"
		got=$(bench_summary_field "$f.out" requests)
		evicted=$(tail -1 "$f.out" | sed -n 's/.*"evicted":{\([^}]*\)}.*/\1/p' | sed -n 's/.*"keys":\([0-9]*\).*/\1/p')
		w=$(bench_tv "$OUT" "flood_${kind}_$n" wall)
		printf '%-9s %-5s %7.2f %7.2f %6.1f MiB %11.0f %9s %10s %7s  %s\n' "$n" "$kind" "$w" "$(cpu_s "$OUT" "flood_${kind}_$n")" "$rss" \
			"$(calc "${got:-0} / $w")" "${evicted:-?}" "${got:-?}" "$(attack "$f.out")" "$(cut -d' ' -f1 /proc/loadavg)"
		echo "          walls of the $ROUNDS rounds: $(printf '%s\n' "${walls[@]}" | awk '{printf "%s ", $1}')"
		grep -v '^rebindwatch: config: ' "$f.err" | head -3 | sed 's/^/  stderr: /' || true
	done
done
echo "(evicted: keys evicted at the [limits] keys cap; requests include the attack's 531)"

section "dashboard: key-to-frame latency while replaying $OUT/bulk.pcap at full speed"
"$OUT/latency" -n "$LAT_N" -size 140x40 -- "$OUT/rebindwatch" -c "$OUT/bench.toml" --speed 0 -r "$OUT/bulk.pcap" | tee "$OUT/latency.out"
read -r LAT_MED LAT_P95 LAT_MAX LAT_MISSED < <(sed -n 's/^RESULT .*missed=\([0-9]*\).*median_ms=\([0-9.]*\) p95_ms=\([0-9.]*\) max_ms=\([0-9.]*\).*/\2 \3 \4 \1/p' "$OUT/latency.out")

if [ "${PROFILE:-}" = 1 ]; then
	section "CPU profiles (go test -cpuprofile on app.Run, three replays each)"
	for p in Capture:CAPTURE_BENCH_FILE:bulk.pcap Log:LOG_BENCH_FILE:bulk.log; do
		IFS=: read -r name env file <<<"$p"
		(cd "$BENCH_ROOT" && env "$env=$OUT/$file" BENCH_CONFIG="$OUT/bench.toml" go test ./bench -run '^$' -bench "^BenchmarkApp$name\$" \
			-benchtime 3x -count 1 -cpuprofile "$OUT/cpu_$name.prof" -o "$OUT/bench.test" | grep -E '^Benchmark|ok|FAIL')
		echo "-- $name: go tool pprof -top (first 15 lines of the table)"
		go tool pprof -top "$OUT/bench.test" "$OUT/cpu_$name.prof" 2>/dev/null | sed -n '1,/flat%/p;/flat%/,+15p' | awk '!seen[$0]++'
	done
fi

section "targets (issue 12)"
# row WHAT MEASURED TARGET OK
row() { printf '%-40s %-40s %-12s %s\n' "$1" "$2" "$3" "$([ "$4" = 1 ] && echo met || echo 'NOT MET')"; }
ge() { awk "BEGIN {exit !($1 >= $2)}" && echo 1 || echo 0; }
le() { awk "BEGIN {exit !($1 <= $2)}" && echo 1 || echo 0; }
last=${FLOODS##* }
fl_w=$(bench_tv "$OUT" "flood_log_$last" wall) fl_r=${FLOOD_RSS[log_$last]}
fp_w=$(bench_tv "$OUT" "flood_pcap_$last" wall) fp_r=${FLOOD_RSS[pcap_$last]}
prev=$(echo "$FLOODS" | awk '{print $(NF > 1 ? NF - 1 : 1)}') # flat: the last size against the one before
printf '%-40s %-40s %-12s %s\n' "what" "measured (wall clock, median of rounds)" "target" ""
row "capture replay, requests/s" "$(printf '%.0f' "$CAP_RW")" ">= 700000" "$(ge "$CAP_RW" 700000)"
row "capture, rebindwatch / tshark" "$(printf '%.1fx (tshark %.0f/s; CPU %.1fx)' "$CAP_X_TS" "$CAP_TS" "$CPU_X_TS")" ">= 35x" "$(ge "$CAP_X_TS" 35)"
row "capture, rebindwatch / httpry" "$(printf '%.1fx (httpry %.0f/s; CPU %.1fx)' "$CAP_X_HP" "$CAP_HP" "$CPU_X_HP")" ">= 4x" "$(ge "$CAP_X_HP" 4)"
row "combined log, lines/s" "$(printf '%.0f' "$LOG_RW")" ">= 2500000" "$(ge "$LOG_RW" 2500000)"
row "combined log, rebindwatch / GoAccess" "$(printf '%.1fx (GoAccess %.0f/s; CPU %.1fx)' "$LOG_X" "$LOG_GA" "$CPU_LOG_X")" ">= 30x" "$(ge "$LOG_X" 30)"
row "flood log $last keys: time (median)" "$(printf '%.2f s' "$fl_w")" "<= 1.2 s" "$(le "$fl_w" 1.2)"
row "flood log $last keys: peak RSS (max)" "$(printf '%.0f MiB' "$fl_r")" "<= 128 MiB" "$(le "$fl_r" 128)"
row "flood pcap $last keys: time (median)" "$(printf '%.2f s' "$fp_w")" "<= 1.5 s" "$(le "$fp_w" 1.5)"
row "flood pcap $last keys: peak RSS (max)" "$(printf '%.0f MiB' "$fp_r")" "<= 160 MiB" "$(le "$fp_r" 160)"
for kind in log pcap; do
	a=${FLOOD_RSS[${kind}_$prev]} b=${FLOOD_RSS[${kind}_$last]}
	row "flood $kind peak RSS, $last vs $prev keys" "$(printf '%.0f vs %.0f MiB' "$b" "$a")" "within 10%" "$(le "$b" "$(calc "$a * 1.1")")"
done
row "dashboard key-to-frame, p95" "${LAT_P95:-?} ms (${LAT_MISSED:-?} missed)" "<= 100 ms" "$([ "${LAT_MISSED:-1}" = 0 ] && le "${LAT_P95:-1e9}" 100 || echo 0)"
row "dashboard key-to-frame, max" "${LAT_MAX:-?} ms (median ${LAT_MED:-?})" "<= 100 ms" "$(le "${LAT_MAX:-1e9}" 100)"
echo "($(bench_load) at the end)"
