#!/usr/bin/env bash
# Re-records rebindwatch's test data with real software on loopback:
# a Flask API (testdata/recorder/app.py) behind nginx on 127.0.0.1:8080,
# driven by curl and Python clients (testdata/recorder/client.py), captured
# with tcpdump/dumpcap, checked with tshark (testdata/recorder/check.py).
#
#   testdata/record.sh [all|normal|scenarios|demo]
#
# normal     testdata/rec/normal.*          ordinary traffic, must raise nothing
# scenarios  testdata/rec/scenarios.*       one scenario per detector, plus
#            testdata/rec/short_*.pcap      the same short run as Linux cooked
#                                           v1 (any -y LINUX_SLL), v2 (-y LINUX_SLL2)
#                                           and nanosecond pcap (lo)
# demo       app/demo/demo.pcapng               ~60 s in real time
#
# Needs root (packet capture, binding 127.0.0.N) on Debian with:
#   apt-get install -y nginx tcpdump tshark wireshark-common curl python3-flask
# Ports 127.0.0.1:8080 and :5000 must be free. Only loopback is used.
# Files are written only after every check passes; on failure the work
# directory is kept and named. KEEP=1 keeps it in any case.
set -euo pipefail

usage() {
	echo "usage: testdata/record.sh [all|normal|scenarios|demo]" >&2
	exit 2
}
WHAT=${1:-all}
case $WHAT in
all | normal | scenarios | demo) ;;
*) usage ;;
esac
[ $# -le 1 ] || usage

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
RECORDER=$HERE/recorder
REC=$HERE/rec
DEMO=$ROOT/app/demo
PY=/usr/bin/python3 # Debian's, which has python3-flask
PATH=$PATH:/usr/sbin:/sbin
export PYTHONDONTWRITEBYTECODE=1 # keep testdata/recorder free of __pycache__
FILTER='tcp port 8080' # client <-> nginx only; nginx -> Flask (5000) stays out

# ------------------------------------------------------------ prerequisites
prereqs() {
	local missing=() c
	for c in nginx tcpdump dumpcap editcap tshark curl; do
		command -v "$c" >/dev/null 2>&1 || missing+=("$c")
	done
	if ! [ -x "$PY" ] || ! "$PY" -c 'import flask' 2>/dev/null; then
		missing+=("python3-flask")
	fi
	if [ ${#missing[@]} -gt 0 ]; then
		echo "record.sh: missing: ${missing[*]}" >&2
		echo "  apt-get install -y nginx tcpdump tshark wireshark-common curl python3 python3-flask" >&2
		exit 1
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "record.sh: run as root (packet capture on lo, client addresses 127.0.0.N)" >&2
		exit 1
	fi
	local p
	for p in 8080 5000; do
		if "$PY" -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1',$p))!=0)"; then
			echo "record.sh: something already listens on 127.0.0.1:$p; stop it first" >&2
			exit 1
		fi
	done
}

# --------------------------------------------------------- process control
WORK=
CAPS=()
NGINX_PID=
FLASK_PID=
CLIENT_PID=
FAILED=0

stop_captures() {
	local p
	for p in "${CAPS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	for p in "${CAPS[@]}"; do wait "$p" 2>/dev/null || true; done
	CAPS=()
}

stop_servers() {
	if [ -n "$NGINX_PID" ]; then
		kill -QUIT "$NGINX_PID" 2>/dev/null || true
		wait "$NGINX_PID" 2>/dev/null || true
		NGINX_PID=
	fi
	if [ -n "$FLASK_PID" ]; then
		kill -TERM "$FLASK_PID" 2>/dev/null || true
		wait "$FLASK_PID" 2>/dev/null || true
		FLASK_PID=
	fi
}

cleanup() {
	local rc=$?
	if [ -n "$CLIENT_PID" ]; then
		kill -TERM "$CLIENT_PID" 2>/dev/null || true
		wait "$CLIENT_PID" 2>/dev/null || true
	fi
	stop_captures
	stop_servers
	if [ -n "$WORK" ]; then
		if [ "$rc" != 0 ] || [ "$FAILED" != 0 ] || [ -n "${KEEP:-}" ]; then
			echo "record.sh: work directory kept: $WORK" >&2
		else
			rm -rf "$WORK"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for FILE REGEX SECONDS: until a line of FILE matches.
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "record.sh: timed out waiting for /$2/ in $1:" >&2
	cat "$1" >&2 || true
	exit 1
}

wait_port() {
	local i
	for ((i = 0; i < 100; i++)); do
		"$PY" -c "import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(s.connect_ex(('127.0.0.1',$1)))" && return 0
		sleep 0.1
	done
	echo "record.sh: nothing came up on 127.0.0.1:$1" >&2
	exit 1
}

# start_servers NAME: Flask and a private nginx with fresh logs under WORK/NAME.
start_servers() {
	local d=$WORK/$1
	mkdir -p "$d/nginx/tmp"
	sed "s#@PREFIX@#$d/nginx#g" "$RECORDER/nginx.conf.in" >"$d/nginx/nginx.conf"
	"$PY" -u "$RECORDER/app.py" >"$d/werkzeug.log" 2>&1 &
	FLASK_PID=$!
	wait_port 5000
	nginx -p "$d/nginx" -e "$d/nginx/error.log" -c "$d/nginx/nginx.conf" >"$d/nginx/stderr" 2>&1 &
	NGINX_PID=$!
	wait_port 8080
}

# tcpdump_on FILE IFACE [OPTION...]: capture FILTER into FILE until stopped.
tcpdump_on() {
	local file=$1 iface=$2
	shift 2
	# -U: write each packet as it comes; -Z root: keep the file root's
	# (Debian's tcpdump otherwise switches to user tcpdump).
	tcpdump -i "$iface" -U -n -Z root "$@" -w "$file" "$FILTER" 2>"$file.err" &
	CAPS+=($!)
	wait_for "$file.err" 'listening on' 10
}

dumpcap_on() {
	dumpcap -i "$2" -f "$FILTER" -w "$1" 2>"$1.err" &
	CAPS+=($!)
	wait_for "$1.err" 'Capturing on' 10
}

# finish_capture: let the last packets reach the files, then stop.
finish_capture() {
	sleep 1
	stop_captures
}

# client NAME: run the traffic; in the background so that a signal reaches
# the trap at once instead of after the client is done.
client() {
	"$PY" "$RECORDER/client.py" "$1" "$WORK/$1.jsonl" &
	CLIENT_PID=$!
	wait "$CLIENT_PID"
	CLIENT_PID=
}

check() {
	if ! "$PY" "$RECORDER/check.py" "$1" "$WORK" "$OUT"; then
		FAILED=1
		echo "record.sh: $1: checks failed; nothing was copied" >&2
		exit 1
	fi
}

# copy_logs NAME: the nginx logs and the Flask (werkzeug) log of a run.
copy_logs() {
	cp "$WORK/$1/nginx/access_combined.log" "$OUT/$1_access_combined.log"
	cp "$WORK/$1/nginx/access_ext.log" "$OUT/$1_access_ext.log"
	cp "$WORK/$1/werkzeug.log" "$OUT/$1_werkzeug.log"
}

# ------------------------------------------------------------- recordings
record_normal() {
	echo "== normal"
	start_servers normal
	tcpdump_on "$OUT/normal.pcap" lo
	client normal
	finish_capture
	stop_servers
	copy_logs normal
	check normal
	install_files normal.pcap normal_access_combined.log normal_access_ext.log normal_werkzeug.log \
		requests_tshark_normal.tsv timeline_normal.tsv
}

record_scenarios() {
	echo "== scenarios"
	start_servers scenarios
	tcpdump_on "$OUT/scenarios.pcap" lo
	dumpcap_on "$OUT/scenarios.pcapng" lo
	client scenarios
	finish_capture
	stop_servers
	copy_logs scenarios
	# What tcpdump killed mid-write leaves: a file cut inside a record.
	head -c "$("$PY" "$RECORDER/check.py" cut "$OUT/scenarios.pcap")" "$OUT/scenarios.pcap" >"$OUT/scenarios_truncated.pcap"
	head -c "$("$PY" "$RECORDER/check.py" cut "$OUT/scenarios.pcapng")" "$OUT/scenarios.pcapng" >"$OUT/scenarios_truncated.pcapng"

	echo "== short (link types)"
	start_servers short
	# tcpdump/libpcap 1.10 default to cooked v2 on "any": ask for v1 by name.
	tcpdump_on "$OUT/short_any_sll.pcap" any -y LINUX_SLL
	tcpdump_on "$OUT/short_any_sll2.pcap" any -y LINUX_SLL2
	tcpdump_on "$OUT/short_lo_nano.pcap" lo --time-stamp-precision=nano
	client short
	finish_capture
	stop_servers
	check scenarios
	install_files scenarios.pcap scenarios.pcapng scenarios_truncated.pcap scenarios_truncated.pcapng \
		scenarios_access_combined.log scenarios_access_ext.log scenarios_werkzeug.log \
		short_any_sll.pcap short_any_sll2.pcap short_lo_nano.pcap \
		requests_tshark.tsv timeline_scenarios.tsv \
		expected_alerts.jsonl expected_alerts_ext_log.jsonl expected_alerts_combined_log.jsonl \
		expected_alerts_short.jsonl
}

record_demo() {
	echo "== demo (about 60 s)"
	start_servers demo
	dumpcap_on "$OUT/demo.pcapng" lo
	client demo
	finish_capture
	stop_servers
	check demo
	install_files expected_alerts_demo.jsonl timeline_demo.tsv
	install -m 0644 "$OUT/demo.pcapng" "$DEMO/demo.pcapng"
	write_demo_toml
}

install_files() {
	local f
	# install -m: dumpcap creates its files 0600.
	for f in "$@"; do install -m 0644 "$OUT/$f" "$REC/$f"; done
}

# ------------------------------------------------------- static outputs
write_common() {
	# The rebind log_format string exactly as nginx.conf.in has it.
	"$PY" - "$RECORDER/nginx.conf.in" "$REC/ext.fmt" <<'EOF'
import re, sys
conf = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"^\s*log_format rebind '([^']*)';", conf, re.M)
open(sys.argv[2], "w", encoding="utf-8").write(m.group(1))
EOF
	"$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import testkeys; print("\n".join(testkeys.ALL.values()))' \
		"$RECORDER" >"$REC/keys.txt"
	cat >"$REC/rebindwatch.toml" <<'EOF'
# Config of the recorded test data (testdata/record.sh writes this file).
[hosts]
allowed = ["api.rebind.test", "*.api.rebind.test"]

[origins]
allowed = ["https://app.rebind.test"]
allow_null = false
check_referer = true

[capture]
ports = [8080]

[burst]
window = "10s"
max_requests = 100

[spread]
window = "10m"
max_hosts = 3
max_clients = 20

[alerts]
dedupe = "60s"
EOF
}

write_demo_toml() {
	cat >"$DEMO/demo.toml" <<'EOF'
# Config for app/demo/demo.pcapng: the API answers as api.rebind.test and its
# regional names, for the web app at https://app.rebind.test.
[hosts]
allowed = ["api.rebind.test", "*.api.rebind.test"]

[origins]
allowed = ["https://app.rebind.test"]
allow_null = false
check_referer = true

[capture]
ports = [8080]

[burst]
window = "10s"
max_requests = 100

[spread]
window = "10m"
max_hosts = 3
max_clients = 20

[alerts]
dedupe = "60s"
EOF
}

# ------------------------------------------------------------------- main
prereqs
WORK=$(mktemp -d /tmp/rebindwatch-record.XXXXXX)
OUT=$WORK/out
mkdir -p "$OUT" "$REC" "$DEMO"
write_common
case $WHAT in
normal) record_normal ;;
scenarios) record_scenarios ;;
demo) record_demo ;;
all)
	record_normal
	record_scenarios
	record_demo
	;;
esac
echo "== done"
ls -l "$REC" | sed 1d
[ "$WHAT" = scenarios ] || [ "$WHAT" = normal ] || ls -l "$DEMO/demo.pcapng"
