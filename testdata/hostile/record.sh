#!/usr/bin/env bash
# Records testdata/hostile with real software on loopback: nginx answering
# on 127.0.0.1:18391 (nginx.conf.in), a raw-socket Python client
# (client.py) sending the hostile strings of corpus.py, curl sending known
# fake keys (secrets_keys.txt) every way an API key travels, tcpdump
# capturing, and nginx logging in combined, extended (default \xHH escaping
# and escape=none) and a "secrets" format that logs whole credentials.
#
#   testdata/hostile/record.sh [all|gen|hostile|secrets|markup|matrix]
#
# gen      hostile_gen_escaped.log, hostile_gen_raw.log   (gen.py; no root)
# hostile  hostile.pcap, hostile_access_ext.log, hostile_access_ext_raw.log
# secrets  secrets.pcap, secrets_access_combined.log, secrets_access_secrets.log,
#          secrets_access_secrets_cut.log (the writer died mid-line, right
#          after a key), secrets_error.log (nginx's error.log lines quoting
#          an invalid header with a key), secrets.fmt
# markup   markup.pcap, markup_access_ext.log: the HTML of markup.txt in every
#          field (client.py markup), for the incident report's tests
# matrix   matrix_keys.txt (fake keys of 6 to 40 characters in five
#          character classes), matrix.pcap.gz and matrix_access_secrets.log:
#          curl sending each key every way a key travels (X-API-Key,
#          Authorization Bearer with a TAB, Token, Basic, a cookie, a Referer
#          query, and the query spellings key[]=, api_key[0]=, api_key%00=,
#          api_key%20= and api_key+=), for the key matrix of e2e's secrecy test
#
# hostile and secrets need root (tcpdump on lo) on Debian with:
#   apt-get install -y nginx tcpdump curl python3
# Port 127.0.0.1:18391 must be free. Only loopback is used. KEEP=1 keeps
# the work directory.
set -euo pipefail

WHAT=${1:-all}
case $WHAT in
all | gen | hostile | secrets | markup | matrix) ;;
*)
	echo "usage: testdata/hostile/record.sh [all|gen|hostile|secrets|markup|matrix]" >&2
	exit 2
	;;
esac

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
PORT=18391
PATH=$PATH:/usr/sbin:/sbin
export PYTHONDONTWRITEBYTECODE=1

WORK=
NGINX_PID=
CAP_PID=
cleanup() {
	local rc=$?
	[ -z "$CAP_PID" ] || { kill -INT "$CAP_PID" 2>/dev/null || true; wait "$CAP_PID" 2>/dev/null || true; }
	[ -z "$NGINX_PID" ] || { kill -QUIT "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; }
	if [ -n "$WORK" ]; then
		if [ "$rc" != 0 ] || [ -n "${KEEP:-}" ]; then
			echo "record.sh: work directory kept: $WORK" >&2
		else
			rm -rf "$WORK"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

prereqs() {
	local c missing=()
	for c in nginx tcpdump curl; do command -v "$c" >/dev/null || missing+=("$c"); done
	[ -x "$PY" ] || missing+=(python3)
	if [ ${#missing[@]} -gt 0 ]; then
		echo "record.sh: missing: ${missing[*]} (apt-get install -y nginx tcpdump curl python3)" >&2
		exit 1
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "record.sh: run as root (packet capture on lo)" >&2
		exit 1
	fi
	if "$PY" -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1',$PORT))!=0)"; then
		echo "record.sh: something already listens on 127.0.0.1:$PORT" >&2
		exit 1
	fi
}

wait_port() {
	local i
	for ((i = 0; i < 100; i++)); do
		"$PY" -c "import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(s.connect_ex(('127.0.0.1',$PORT)))" && return 0
		sleep 0.1
	done
	echo "record.sh: nginx did not come up on 127.0.0.1:$PORT" >&2
	exit 1
}

# start NAME: a private nginx with fresh logs under WORK/NAME, and tcpdump
# writing WORK/NAME.pcap.
start() {
	local d=$WORK/$1 i
	mkdir -p "$d/tmp"
	sed "s#@PREFIX@#$d#g" "$HERE/nginx.conf.in" >"$d/nginx.conf"
	nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf" >"$d/stderr" 2>&1 &
	NGINX_PID=$!
	wait_port
	# -U: each packet written as it comes; -Z root: keep the file root's.
	tcpdump -i lo -U -n -Z root -s 0 -w "$WORK/$1.pcap" "tcp port $PORT" 2>"$WORK/$1.pcap.err" &
	CAP_PID=$!
	for ((i = 0; i < 100; i++)); do
		grep -q 'listening on' "$WORK/$1.pcap.err" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "record.sh: tcpdump did not start" >&2
	exit 1
}

stop() {
	sleep 1 # the last packets reach the file
	kill -INT "$CAP_PID"
	wait "$CAP_PID" || true
	CAP_PID=
	kill -QUIT "$NGINX_PID"
	wait "$NGINX_PID" || true
	NGINX_PID=
}

record_gen() {
	echo "== gen"
	"$PY" "$HERE/gen.py" "$HERE/hostile_gen_escaped.log" "$HERE/hostile_gen_raw.log"
}

record_hostile() {
	echo "== hostile"
	start hostile
	"$PY" "$HERE/client.py" hostile "$PORT"
	stop
	install -m 0644 "$WORK/hostile.pcap" "$HERE/hostile.pcap"
	install -m 0644 "$WORK/hostile/access_ext.log" "$HERE/hostile_access_ext.log"
	install -m 0644 "$WORK/hostile/access_ext_raw.log" "$HERE/hostile_access_ext_raw.log"
}

# key NAME: the fake key of that role (secrets_keys.txt, in this order).
ROLES=(xapikey bearer token basic_user basic_pass q_api_key q_token q_access_token
	cookie_session cookie_api_key referer_api_key fragment_access_token encoded_name
	apikey_scheme log_only_cookie error_log_header markup)
key() {
	local i
	for i in "${!ROLES[@]}"; do
		if [ "${ROLES[$i]}" = "$1" ]; then
			sed -n "$((i + 1))p" "$HERE/secrets_keys.txt"
			return
		fi
	done
	echo "record.sh: no key for role $1" >&2
	exit 1
}

record_secrets() {
	echo "== secrets"
	start secrets
	local u=http://127.0.0.1:$PORT
	local c=(curl -sS -o /dev/null --max-time 5 -H "Host: api.rebind.test")
	# Every way a key travels. Some with a foreign Host or Origin, so that
	# alerts (with their evidence) carry the requests too.
	"${c[@]}" -H "X-API-Key: $(key xapikey)" "$u/v1/items"
	curl -sS -o /dev/null --max-time 5 -H "Host: evil.rebind.test" -H "X-API-Key: $(key xapikey)" "$u/v1/admin/users"
	local h
	for h in api.rebind.test eu.api.rebind.test us.api.rebind.test ap.api.rebind.test evil.rebind.test; do
		# One Bearer key under five Host values: key_spread (max_hosts 3).
		curl -sS -o /dev/null --max-time 5 -H "Host: $h" -H "Authorization: Bearer $(key bearer)" "$u/v1/items"
	done
	"${c[@]}" -H "Authorization: Token $(key token)" "$u/v1/items"
	"${c[@]}" -u "$(key basic_user):$(key basic_pass)" "$u/v1/items"
	"${c[@]}" -H "Authorization: ApiKey $(key apikey_scheme)" -H "Origin: https://evil.rebind.test" "$u/v1/items"
	"${c[@]}" "$u/v1/items?api_key=$(key q_api_key)&page=2"
	"${c[@]}" "$u/v1/items?page=3&token=$(key q_token)"
	"${c[@]}" -H "Origin: https://evil.rebind.test" "$u/v1/items?access_token=$(key q_access_token)"
	"${c[@]}" "$u/v1/items?api%5Fkey=$(key encoded_name)"
	"${c[@]}" -H "Cookie: session=$(key cookie_session); api_key=$(key cookie_api_key)" "$u/v1/items"
	"${c[@]}" -e "https://evil.rebind.test/page?api_key=$(key referer_api_key)" "$u/v1/items"
	"${c[@]}" -e "https://evil.rebind.test/cb#access_token=$(key fragment_access_token)&token_type=bearer" "$u/v1/items"
	"${c[@]}" -H "Cookie: sid=$(key log_only_cookie)" "$u/v1/items?page=9"
	"${c[@]}" "$u/v1/items?page=10"
	# An invalid header name (underscores): nginx ignores the header and
	# logs the whole line, key included, in error.log at level info. A
	# glob such as /var/log/nginx/*.log picks error.log up with the access
	# logs, and its lines do not parse as access log lines.
	"${c[@]}" -H "X_API_Key: $(key error_log_header)" "$u/v1/items?page=11"
	stop
	install -m 0644 "$WORK/secrets.pcap" "$HERE/secrets.pcap"
	install -m 0644 "$WORK/secrets/access_combined.log" "$HERE/secrets_access_combined.log"
	install -m 0644 "$WORK/secrets/access_secrets.log" "$HERE/secrets_access_secrets.log"
	grep 'client sent invalid header line' "$WORK/secrets/error.log" >"$WORK/secrets_error.log"
	install -m 0644 "$WORK/secrets_error.log" "$HERE/secrets_error.log"
	# A writer that died mid-line: the log ends right after the key in the
	# sid cookie (no closing quote, no newline), so that line does not parse.
	"$PY" - "$HERE/secrets_access_secrets.log" "$HERE/secrets_access_secrets_cut.log" "$(key log_only_cookie)" <<'PYEOF'
import sys
src, dst, k = sys.argv[1], sys.argv[2], sys.argv[3].encode()
data = open(src, "rb").read()
open(dst, "wb").write(data[: data.index(k) + len(k)])
PYEOF
	"$PY" - "$HERE/nginx.conf.in" "$HERE/secrets.fmt" <<'PYEOF'
import re, sys
conf = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"^\s*log_format secrets '([^']*)';", conf, re.M)
open(sys.argv[2], "w", encoding="utf-8").write(m.group(1))
PYEOF
}

record_markup() {
	echo "== markup"
	start markup
	"$PY" "$HERE/client.py" markup "$PORT" "$(key markup)"
	stop
	install -m 0644 "$WORK/markup.pcap" "$HERE/markup.pcap"
	install -m 0644 "$WORK/markup/access_ext.log" "$HERE/markup_access_ext.log"
}

# The key matrix: for each character class and length, one fake key made
# from a fixed seed (so a re-recording sends the same keys), sent nine ways.
# Host evil.rebind.test and a foreign Origin on the first request make
# alerts, so the keys' requests are in alert evidence too.
record_matrix() {
	echo "== matrix"
	"$PY" - "$HERE/matrix_keys.txt" <<'PYEOF'
import random, string, sys
rng = random.Random(18391)
classes = {
    "lower": string.ascii_lowercase,
    "digits": string.digits,
    "upper": string.ascii_uppercase + string.digits,
    "mixed": string.ascii_letters + string.digits + "-_",
    "b64": string.ascii_letters + string.digits + "+/=",
}
with open(sys.argv[1], "w") as f:
    for name, alphabet in classes.items():
        for n in (6, 7, 8, 10, 12, 14, 16, 20, 24, 32, 40):
            f.write("%s %d %s\n" % (name, n, "".join(rng.choice(alphabet) for _ in range(n))))
PYEOF
	start matrix
	local u=http://127.0.0.1:$PORT
	local c=(curl -sS -g -o /dev/null --max-time 5 -H "Host: api.rebind.test")
	local class n k tab=$'\t'
	while read -r class n k; do
		curl -sS -g -o /dev/null --max-time 5 -H "Host: evil.rebind.test" -H "Origin: https://evil.rebind.test" \
			-H "X-API-Key: $k" -H "Authorization: Bearer${tab}$k" -H "Cookie: sid=$k; theme=dark" \
			-e "https://evil.rebind.test/p?api_key=$k" \
			"$u/v1/all?key[]=$k&api_key[0]=$k&api_key%00=$k&api_key%20=$k&api_key+=$k&page=2"
		"${c[@]}" -H "Authorization: Bearer${tab}$k" "$u/v1/tab"
		"${c[@]}" -H "Authorization: Token $k" "$u/v1/token"
		"${c[@]}" -u "$k:x" "$u/v1/basic"
		"${c[@]}" "$u/v1/q1?key[]=$k"
		"${c[@]}" "$u/v1/q2?api_key[0]=$k"
		"${c[@]}" "$u/v1/q3?api_key%00=$k"
		"${c[@]}" "$u/v1/q4?api_key%20=$k"
		"${c[@]}" "$u/v1/q5?api_key+=$k"
	done <"$HERE/matrix_keys.txt"
	stop
	gzip -9n <"$WORK/matrix.pcap" >"$WORK/matrix.pcap.gz"
	install -m 0644 "$WORK/matrix.pcap.gz" "$HERE/matrix.pcap.gz"
	install -m 0644 "$WORK/matrix/access_secrets.log" "$HERE/matrix_access_secrets.log"
}

case $WHAT in gen | all) record_gen ;; esac
if [ "$WHAT" != gen ]; then
	prereqs
	WORK=$(mktemp -d /tmp/rebindwatch-hostile.XXXXXX)
	case $WHAT in hostile | all) record_hostile ;; esac
	case $WHAT in secrets | all) record_secrets ;; esac
	case $WHAT in markup | all) record_markup ;; esac
	case $WHAT in matrix | all) record_matrix ;; esac
fi
echo "== done"
ls -l "$HERE" | sed 1d
