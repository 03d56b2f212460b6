# Shared pieces of the benchmark scripts (bench/all.sh, bench/capture.sh,
# bench/memory.sh, testdata/logs/bench_goaccess.sh). Source it; every
# function is prefixed bench_. It sets BENCH_ROOT, and BENCH_NGINX and
# BENCH_TCPDUMP while those run (bench_cleanup stops them).
#
# Load loops are bounded in count and in time; traffic stays on 127.0.0.1.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PATH=$PATH:/usr/sbin:/sbin

# bench_need NAME:PACKAGE ...: every NAME (a command, or an absolute path)
# must exist; otherwise prints the apt-get line that installs the missing
# ones and returns 1.
bench_need() {
	local missing=() spec cmd pkg
	for spec in "$@"; do
		cmd=${spec%%:*} pkg=${spec#*:}
		command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
	done
	[ ${#missing[@]} = 0 ] && return 0
	echo "missing: ${missing[*]}; install with:" >&2
	echo "  apt-get install -y $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')" >&2
	return 1
}

# bench_load: the load average, for the record.
bench_load() { echo "load average $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"; }

# bench_build DIR: builds rebindwatch (the default build, CGO_ENABLED=0) to
# DIR/rebindwatch, and the benchmark programs to DIR/flood, DIR/latency.
bench_build() {
	mkdir -p "$1"
	(cd "$BENCH_ROOT" && CGO_ENABLED=0 go build -o "$1/rebindwatch" . &&
		CGO_ENABLED=0 go build -o "$1/flood" ./bench/flood &&
		CGO_ENABLED=0 go build -o "$1/latency" ./bench/latency)
}

# bench_run DIR NAME CMD...: runs CMD under /usr/bin/time -v, stdout to
# DIR/NAME.out, stderr to DIR/NAME.err, the measurements to DIR/NAME.tv.
# Returns CMD's status.
bench_run() {
	local dir=$1 name=$2
	shift 2
	/usr/bin/time -v -o "$dir/$name.tv" "$@" >"$dir/$name.out" 2>"$dir/$name.err"
}

# bench_tv DIR NAME FIELD: a measurement of bench_run: wall (seconds), user
# and sys (CPU seconds), rss (peak, KiB).
bench_tv() {
	local f=$1/$2.tv
	case $3 in
	wall) awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s}' "$f" ;;
	user) awk -F': ' '/User time/ {print $2}' "$f" ;;
	sys) awk -F': ' '/System time/ {print $2}' "$f" ;;
	rss) awk -F': ' '/Maximum resident set size/ {print $2}' "$f" ;;
	esac
}

# bench_summary_field FILE FIELD: a top-level number of the last JSON line
# of FILE (rebindwatch's summary): requests, parse_errors, ...
bench_summary_field() {
	tail -1 "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}

# bench_nginx_conf DIR PORT ACCESS_LOG: an nginx config in DIR/nginx.conf
# answering every request with a small JSON body on 127.0.0.1:PORT, one
# worker, keep-alive without limit; ACCESS_LOG is "off" or a file for the
# combined format (buffered as production configs do).
bench_nginx_conf() {
	local dir=$1 port=$2 log=$3 access="access_log off;"
	[ "$log" = off ] || access="access_log $log combined buffer=256k flush=1s;"
	cat >"$dir/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
error_log $dir/nginx_error.log;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
	$access
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$port;
		location / { default_type application/json; return 200 '{"ok":true}'; }
	}
}
NGINX
}

# bench_wrk_lua FILE: the request mix: a few Hosts, keys (X-API-Key, and
# also ?api_key= when WRK_QUERY_KEY=1, so a combined log carries them) and
# paths, an Origin on every third. Each wrk thread stops after WRK_LIMIT
# responses (0: no limit): the count bound of a recording.
bench_wrk_lua() {
	cat >"$1" <<'LUA'
local hosts = {"api.example.com", "api.example.com", "eu.api.example.com", "evil.rebind.test:18680"}
local keys = {"k-alpha-0001", "k-bravo-0002", "k-charlie-0003", "k-delta-0004", "k-echo-0005"}
local limit = tonumber(os.getenv("WRK_LIMIT") or "0")
local querykey = os.getenv("WRK_QUERY_KEY") == "1"
local n, done = 0, 0
local threads = 0
setup = function(thread) -- in wrk's main state: number the threads
	threads = threads + 1
	thread:set("id", threads)
end
request = function()
	n = n + 1
	local key = keys[n % #keys + 1]
	local h = {
		["Host"] = hosts[n % #hosts + 1],
		["X-API-Key"] = key,
		["User-Agent"] = "wrk/4 bench",
		["Accept"] = "application/json",
	}
	if n % 3 == 0 then h["Origin"] = "https://app.example.com" end
	local target = "/v1/items/" .. (n % 1000) .. "?page=" .. (n % 7)
	if querykey then target = target .. "&api_key=" .. key end
	return wrk.format("GET", target, h)
end
response = function()
	done = done + 1
	if limit > 0 and done == limit then
		-- wrk itself waits out -d: tell bench_wrk this thread is done.
		local f = io.open(os.getenv("WRK_DONE") .. "." .. id, "w")
		if f then f:close() end
		wrk.thread:stop()
	end
end
LUA
}

# bench_wrk DIR PORT REQUESTS SECONDS: wrk -t2 -c50 against
# 127.0.0.1:PORT with the request mix until about REQUESTS responses
# (each thread stops at its half) or SECONDS, whichever comes first.
bench_wrk() {
	local dir=$1 port=$2 reqs=$3 secs=$4 pid
	bench_wrk_lua "$dir/bulk.lua"
	rm -f "$dir"/wrk.done.*
	WRK_LIMIT=$(((reqs + 1) / 2)) WRK_DONE=$dir/wrk.done \
		wrk -t2 -c50 -d"${secs}s" -s "$dir/bulk.lua" "http://127.0.0.1:$port/" >"$dir/wrk.out" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do # wrk's own -d bounds this loop
		if [ -e "$dir/wrk.done.1" ] && [ -e "$dir/wrk.done.2" ]; then
			kill -INT "$pid" # both threads stopped: wrk prints its statistics and exits
			break
		fi
		sleep 0.2
	done
	wait "$pid" || true
	sed 's/^/  wrk: /' "$dir/wrk.out"
	rm -f "$dir"/wrk.done.*
}

# bench_nginx_start DIR: starts nginx on DIR/nginx.conf in the background;
# its pid is in BENCH_NGINX. bench_nginx_stop stops it gracefully (flushing
# its access log).
bench_nginx_start() {
	rm -f "$1/nginx.pid"
	nginx -c "$1/nginx.conf" &
	BENCH_NGINX=$!
	local i
	for i in $(seq 50); do # up to 5 s for the listener
		[ -s "$1/nginx.pid" ] && return 0
		sleep 0.1
	done
	echo "nginx did not start: $(cat "$1/nginx_error.log")" >&2
	return 1
}
bench_nginx_stop() {
	[ -n "${BENCH_NGINX:-}" ] || return 0
	kill -QUIT "$BENCH_NGINX" 2>/dev/null || true
	wait "$BENCH_NGINX" 2>/dev/null || true
	BENCH_NGINX=
}

# bench_cleanup: stops what a recording started, if it is still running
# (for an EXIT trap).
bench_cleanup() {
	if [ -n "${BENCH_TCPDUMP:-}" ]; then
		kill -INT "$BENCH_TCPDUMP" 2>/dev/null || true
		wait "$BENCH_TCPDUMP" 2>/dev/null || true
	fi
	bench_nginx_stop
}

# bench_record_pcap DIR PORT REQUESTS SECONDS: records DIR/bulk.pcap:
# tcpdump on lo while wrk sends about REQUESTS keep-alive requests to
# nginx (at most SECONDS). Needs root.
bench_record_pcap() {
	local dir=$1 port=$2 reqs=$3 secs=$4
	bench_nginx_conf "$dir" "$port" off
	bench_nginx_start "$dir"
	tcpdump -i lo -B 262144 -s 0 -w "$dir/bulk.pcap" "tcp port $port" 2>"$dir/tcpdump.err" &
	BENCH_TCPDUMP=$!
	sleep 1
	echo "recording $dir/bulk.pcap: about $reqs requests (at most ${secs}s) of wrk -t2 -c50 against nginx on 127.0.0.1:$port"
	bench_wrk "$dir" "$port" "$reqs" "$secs"
	sleep 1
	kill -INT "$BENCH_TCPDUMP"
	wait "$BENCH_TCPDUMP" || true
	BENCH_TCPDUMP=
	bench_nginx_stop
	sed 's/^/  tcpdump: /' "$dir/tcpdump.err"
	if grep -q " [1-9][0-9]* packets dropped by kernel" "$dir/tcpdump.err"; then
		echo "  note: tcpdump dropped packets; the capture misses some but is still a fair benchmark"
	fi
}

# bench_record_log DIR PORT LINES SECONDS: records DIR/bulk.log, nginx's
# combined access log of about LINES wrk requests (keys also in the query
# string) within at most SECONDS.
bench_record_log() {
	local dir=$1 port=$2 lines=$3 secs=$4
	rm -f "$dir/bulk.log"
	bench_nginx_conf "$dir" "$port" "$dir/bulk.log"
	bench_nginx_start "$dir"
	echo "recording $dir/bulk.log: about $lines requests (at most ${secs}s) of wrk -t2 -c50 against nginx on 127.0.0.1:$port"
	WRK_QUERY_KEY=1 bench_wrk "$dir" "$port" "$lines" "$secs"
	bench_nginx_stop
}

# bench_synth_combined_log LINES OUT: a combined log of LINES lines made
# from the combined lines recorded from real servers in testdata (Apache,
# gunicorn, nginx), repeated with times moved forward (a line every 2 ms)
# and a page number added to each target so targets do not all repeat.
bench_synth_combined_log() {
	/usr/bin/python3 - "$1" "$2" "$BENCH_ROOT" <<'PY'
import glob, re, sys, time
n, out, root = int(sys.argv[1]), sys.argv[2], sys.argv[3]
src = []
for f in [root + "/testdata/logs/apache_combined.log", root + "/testdata/logs/gunicorn_default.log",
          *sorted(glob.glob(root + "/testdata/rec/*_access_combined.log")),
          root + "/logsrc/testdata/nginx_combined.log"]:
    try:
        src += [l.rstrip("\n") for l in open(f, encoding="utf-8", errors="surrogateescape") if l.strip()]
    except FileNotFoundError:
        pass
pat = re.compile(r'^(\S+ \S+ \S+ )\[[^\]]+\]( "\S+ )(\S+)( .*)$')
tmpl = [m.groups() for m in map(pat.match, src) if m]
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

# bench_flood_log BIN_DIR OUT N [ARGS...]: a flood log of N requests (see
# bench/flood) with the template and format of testdata/rec.
bench_flood_log() {
	local bin=$1 out=$2 n=$3
	shift 3
	(cd "$BENCH_ROOT" && "$bin/flood" -log "$out" -n "$n" "$@")
}

# bench_flood_pcap BIN_DIR OUT N [ARGS...]: the same flood as a capture.
bench_flood_pcap() {
	local bin=$1 out=$2 n=$3
	shift 3
	(cd "$BENCH_ROOT" && "$bin/flood" -pcap "$out" -n "$n" "$@")
}

# bench_ext_format: the nginx log_format of the flood logs.
bench_ext_format() { cat "$BENCH_ROOT/testdata/rec/ext.fmt"; }
