#!/usr/bin/env bash
# Records testdata/trust ("Alerts an operator can trust") with real software,
# in a private network namespace (its own loopback with the addresses below,
# MTU 1500 and no GSO so segments are wire-sized; its own /etc/resolv.conf,
# /etc/hosts and /etc/nsswitch.conf, bind-mounted in a private mount
# namespace; nothing else on the machine is seen or disturbed):
#
#   day        day.pcap, day_access_{combined,ext}.log: a normal day of a
#              website (nginx serving site/www as www.shop.test on 192.0.2.10:80,
#              /api/ proxied to app.py), 22 visits by headless Chromium arriving
#              from other sites' pages (site/ext on 192.0.2.20) and following
#              links, health checks by IP literal, partners' keyed API calls,
#              crawlers (robots.txt, favicon)
#   dns        dns.pcap, dns_access_*.log: dnsmasq (127.0.0.153) answers the
#              allowed names with private addresses, TTL 2; curl and getaddrinfo
#              resolve them and call the API; evil.rebind.test flips from
#              93.184.216.34 to 127.0.0.1 (hosts file rewritten, SIGHUP) and is
#              requested
#   names      names.pcap, names_access_*.log: curl sends the API (nginx on
#              127.0.0.1:8080) the Host and Origin names of rebinding tools
#   pna        pna_chromium.pcap: headless Chromium on http://attacker.rebind.test/
#              (203.0.113.10) PUTs to http://api.rebind.test:8080 (10.0.0.5): its
#              real CORS preflight; pna_granted.pcap, pna_denied.pcap: curl sends
#              that preflight plus the Private Network Access header, the API
#              grants it (then the PUT follows) or does not
#   stuffing   stuffing.pcap, stuffing_access_*.log: one client tries 40 keys in
#              2 minutes while five customers use one key each
#
#   testdata/trust/record.sh [all|day|dns|names|pna|stuffing]
#
# Needs root (namespaces, packet capture) on Debian with:
#   apt-get install -y nginx tcpdump tshark curl python3-flask dnsmasq-base chromium
# Files are written only after every check (check.py) passes; on failure the
# work directory is kept and named. KEEP=1 keeps it in any case.
set -euo pipefail

usage() {
	echo "usage: testdata/trust/record.sh [all|day|dns|names|pna|stuffing]" >&2
	exit 2
}
WHAT=${1:-all}
case $WHAT in
all | day | dns | names | pna | stuffing) ;;
*) usage ;;
esac
[ $# -le 1 ] || usage

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3 # Debian's, which has python3-flask
PATH=$PATH:/usr/sbin:/sbin
export PYTHONDONTWRITEBYTECODE=1 # keep testdata/trust free of __pycache__

if [ "${TRUST_NETNS:-}" != 1 ]; then
	missing=()
	for c in nginx tcpdump tshark curl dnsmasq chromium unshare ip ss; do
		command -v "$c" >/dev/null 2>&1 || missing+=("$c")
	done
	if ! [ -x "$PY" ] || ! "$PY" -c 'import flask' 2>/dev/null; then
		missing+=("python3-flask")
	fi
	if [ ${#missing[@]} -gt 0 ]; then
		echo "record.sh: missing: ${missing[*]}" >&2
		echo "  apt-get install -y nginx tcpdump tshark curl python3-flask dnsmasq-base chromium" >&2
		exit 1
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "record.sh: run as root (network and mount namespaces, packet capture)" >&2
		exit 1
	fi
	# A new network namespace (only its loopback) and a private mount
	# namespace (unshare makes its mounts private: the bind mounts below do
	# not reach the machine).
	exec unshare --net --mount env TRUST_NETNS=1 "$0" "$@"
fi

# ------------------------------------------------------ inside the namespace
ip link set lo up
ip link set lo mtu 1500
ip link set lo gso_max_segs 1 # segments as on the wire: the capture sees MSS-sized packets
# 192.0.2.10 the website, 192.0.2.20 the sites linking to it, 127.0.0.153
# dnsmasq, 10.10.0.1 and 10.0.0.5 the API's private addresses, 10.0.0.2 a
# load balancer, 10.0.0.77 a browser host on the private network,
# 203.0.113.10 the attacker's page (public), 203.0.113.66 the key stuffer,
# 198.51.100.N visitors, partners, crawlers, customers.
for a in 192.0.2.10 192.0.2.20 127.0.0.153 10.10.0.1 10.0.0.5 10.0.0.2 10.0.0.77 203.0.113.10 203.0.113.66 \
	198.51.100.{11..26} 198.51.100.{50..52} 198.51.100.{80..82} 198.51.100.{101..105}; do
	ip addr add "$a/32" dev lo
done

WORK=$(mktemp -d /tmp/trust-record.XXXXXX)
chmod 0755 "$WORK" # nginx's workers (user nobody) read the site from it
OUT=$WORK/out
mkdir -p "$OUT"
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
trap 'exit 130' INT TERM

# The namespace's resolver configuration: dnsmasq only, hosts file with
# localhost only, "files dns" (no mDNS, no systemd-resolved).
printf 'nameserver 127.0.0.153\noptions timeout:2 attempts:1\n' >"$WORK/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$WORK/hosts"
printf 'hosts: files dns\n' >"$WORK/nsswitch.conf"
mount --bind "$WORK/resolv.conf" /etc/resolv.conf
mount --bind "$WORK/hosts" /etc/hosts
mount --bind "$WORK/nsswitch.conf" /etc/nsswitch.conf

# The site with the test keys filled in, and nginx's config.
cp -r "$HERE/site" "$WORK/site"
key() { "$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import keys; print(keys.ALL[sys.argv[2]])' "$HERE" "$1"; }
sed -i "s/@SHOP_WEB_KEY@/$(key shop_web)/" "$WORK/site/www/static/site.js"
sed -i "s/@PNA_KEY@/$(key pna)/" "$WORK/site/attacker/index.html"

# wait_port ADDR PORT [udp]: until something listens (checked with ss, so no
# probe packet enters a capture).
wait_port() {
	local i opt=-Hltn
	[ "${3:-}" = udp ] && opt=-Hlun
	for i in $(seq 100); do
		if [ -n "$(ss $opt "src $1:$2" 2>/dev/null)" ]; then
			return 0
		fi
		sleep 0.05
	done
	echo "record.sh: nothing listens on $1:$2" >&2
	exit 1
}

LAST_PID=
start_bg() { # LOG CMD...
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}
stop_bg() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# start_servers NAME [TRUST_PNA]: the Flask app and a private nginx with
# fresh logs under WORK/NAME.
FLASK_PID=
NGINX_PID=
start_servers() {
	local d=$WORK/$1
	mkdir -p "$d/nginx/tmp"
	sed "s#@PREFIX@#$d/nginx#g; s#@SITE@#$WORK/site#g" "$HERE/nginx.conf.in" >"$d/nginx/nginx.conf"
	start_bg "$d/flask.log" env TRUST_PNA="${2:-deny}" "$PY" -u "$HERE/app.py"
	FLASK_PID=$LAST_PID
	wait_port 127.0.0.1 5000
	start_bg "$d/nginx/stderr" nginx -p "$d/nginx" -e "$d/nginx/error.log" -c "$d/nginx/nginx.conf"
	NGINX_PID=$LAST_PID
	wait_port 192.0.2.10 80
	wait_port 10.10.0.1 8080
}
stop_servers() {
	# QUIT: nginx finishes what it serves and writes its logs.
	kill -QUIT "$NGINX_PID" 2>/dev/null || true
	wait "$NGINX_PID" 2>/dev/null || true
	stop_bg "$FLASK_PID"
}

CAP_PID=
CAP_FILE=
start_cap() { # FILE FILTER
	CAP_FILE=$1
	# -B: a 32 MiB kernel buffer, so a browser's bursts are not dropped.
	tcpdump -i lo --immediate-mode -U -B 32768 -s 0 -n -Z root -w "$OUT/$1" "$2" 2>"$WORK/$1.tcpdump" &
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
	sleep 1 # let the last FIN/ACKs through
	kill -INT "$CAP_PID"
	wait "$CAP_PID" || true
	if ! grep -q '^0 packets dropped by kernel' "$WORK/$CAP_FILE.tcpdump"; then
		echo "record.sh: $CAP_FILE: tcpdump lost packets: $(grep dropped "$WORK/$CAP_FILE.tcpdump")" >&2
		exit 1
	fi
}

client() { # WHAT ARGS...
	local what=$1
	shift
	"$PY" "$HERE/client.py" "$what" "$WORK/$what.jsonl" "$@"
}

# copy_logs RUN NAME SERVER: nginx's two logs of SERVER (site or api).
copy_logs() {
	cp "$WORK/$1/nginx/$3_access_combined.log" "$OUT/$2_access_combined.log"
	cp "$WORK/$1/nginx/$3_access_ext.log" "$OUT/$2_access_ext.log"
}

# ------------------------------------------------------------- recordings
FILES=()

record_day() {
	echo "== day (about 2 minutes)"
	start_servers day
	start_cap day.pcap 'tcp port 80 and (host 192.0.2.10 or host 127.0.0.1)'
	client day "$WORK/day"
	stop_cap
	stop_servers
	copy_logs day day site
	FILES+=(day.pcap day_access_combined.log day_access_ext.log)
}

record_dns() {
	echo "== dns"
	start_servers dns
	mkdir -p "$WORK/dns/dnsmasq"
	"$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import client; sys.stdout.write(client.HOSTS_BEFORE)' \
		"$HERE" >"$WORK/dns/dnsmasq/hosts"
	start_bg "$WORK/dns/dnsmasq/stderr" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
		--addn-hosts="$WORK/dns/dnsmasq/hosts" --local=/rebind.test/ --listen-address=127.0.0.153 --bind-interfaces --port=53 \
		--local-ttl=2 --user=root --group=root --pid-file="$WORK/dns/dnsmasq/pid" --log-queries \
		--log-facility="$WORK/dns/dnsmasq/queries.log"
	DNSMASQ_PID=$LAST_PID
	wait_port 127.0.0.153 53 udp
	start_cap dns.pcap 'port 53 or tcp port 8080'
	client dns "$WORK/dns/dnsmasq/hosts" "$DNSMASQ_PID"
	stop_cap
	stop_bg "$DNSMASQ_PID"
	stop_servers
	copy_logs dns dns api
	FILES+=(dns.pcap dns_access_combined.log dns_access_ext.log)
}

record_names() {
	echo "== names"
	start_servers names
	start_cap names.pcap 'tcp port 8080'
	client names
	stop_cap
	stop_servers
	copy_logs names names api
	FILES+=(names.pcap names_access_combined.log names_access_ext.log)
}

record_pna() {
	echo "== pna: chromium"
	start_servers pna_chromium grant
	start_cap pna_chromium.pcap 'tcp port 8080'
	client pna_chromium "$WORK/pna_chromium"
	stop_cap
	stop_servers
	local v
	for v in granted denied; do
		echo "== pna: $v"
		start_servers "pna_$v" "$([ $v = granted ] && echo grant || echo deny)"
		start_cap "pna_$v.pcap" 'tcp port 8080'
		client "pna_$v"
		stop_cap
		stop_servers
	done
	FILES+=(pna_chromium.pcap pna_granted.pcap pna_denied.pcap)
}

record_stuffing() {
	echo "== stuffing (about 2 minutes)"
	start_servers stuffing
	start_cap stuffing.pcap 'tcp port 8080'
	client stuffing
	stop_cap
	stop_servers
	copy_logs stuffing stuffing api
	FILES+=(stuffing.pcap stuffing_access_combined.log stuffing_access_ext.log)
}

# ------------------------------------------------------- static outputs
write_static() {
	"$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import keys; print("\n".join(keys.ALL.values()))' \
		"$HERE" >"$OUT/keys.txt"
	cat >"$OUT/trust.toml" <<'EOF'
# Config of testdata/trust's dns, names, pna and stuffing recordings
# (testdata/trust/record.sh writes this file). The API answers as
# api.rebind.test and its regional names, for the web app at
# https://app.rebind.test.
[hosts]
allowed = ["api.rebind.test", "*.api.rebind.test"]

[origins]
allowed = ["https://app.rebind.test"]
allow_null = false
check_referer = true

[capture]
ports = [8080]

[stuffing]
window = "5m"
max_keys = 10

[alerts]
dedupe = "60s"
EOF
	cat >"$OUT/referer.toml" <<'EOF'
# Config for testdata/trust/day.*: Referers checked, and nothing else
# configured (no allowed hosts or origins). record.sh writes this file.
[origins]
check_referer = true
EOF
	FILES+=(keys.txt trust.toml referer.toml)
}

# ------------------------------------------------------------------- main
write_static
case $WHAT in
day) record_day ;;
dns) record_dns ;;
names) record_names ;;
pna) record_pna ;;
stuffing) record_stuffing ;;
all)
	record_day
	record_dns
	record_names
	record_pna
	record_stuffing
	;;
esac

echo "== checks"
if ! "$PY" "$HERE/check.py" "$WHAT" "$WORK" "$OUT"; then
	echo "record.sh: checks failed; nothing was copied" >&2
	exit 1
fi
for f in "${FILES[@]}" $(cd "$OUT" && ls expected_*.jsonl runs.tsv 2>/dev/null); do
	install -m 0644 "$OUT/$f" "$HERE/$f"
done
OK=1
echo "record.sh: wrote $(printf '%s ' "${FILES[@]}")and the expected files"
