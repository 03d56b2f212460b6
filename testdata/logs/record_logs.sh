#!/usr/bin/env bash
# Records real access-log lines from real servers for the logsrc tests:
# Apache httpd, gunicorn, Caddy, Flask's development server (werkzeug, in a
# terminal, so with its colours) and nginx, each on 127.0.0.1 (ports
# 18510-18560, own config and prefix in a temp dir), driven with curl, then
# stopped. The same fixed set of requests goes to each (API keys in
# X-API-Key, Authorization: Bearer and the query; a foreign Host and Origin;
# hostile bytes; HTTP/1.0 without Host; a key of only 8 characters).
#
# It also runs every snippet of `rebindwatch --print-log-config` (kept in
# snippets/, checked against logsrc.PrintLogConfig by TestPrintLogConfig)
# against its server: *_snippet.log are what they log.
#
# Every key is fake. Apache, gunicorn and Flask run with TZ=Europe/Berlin so
# that local times and zones are not UTC. Traefik is not in Debian; its
# lines (traefik.log) are written by hand from its documented fields.
#
# Needs (Debian): apache2 gunicorn caddy nginx python3-flask curl bsdutils (script).
# Rerun: bash testdata/logs/record_logs.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/rwrec.XXXXXX)
chmod 755 "$dir"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -f "$dir/apache/httpd.pid" ] && apache2 -f "$dir/apache/httpd.conf" -k stop 2>/dev/null || true
    [ -f "$dir/nginx/nginx.pid" ] && nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -s quit 2>/dev/null || true
    sleep 0.5
    rm -rf "$dir"
}
trap cleanup EXIT
export TZ=Europe/Berlin

# c, wait_port and traffic (the fixed set of requests).
# shellcheck source=traffic.sh
source "$here/traffic.sh"

# ---------------------------------------------------------------- Apache httpd
ap=18510
mkdir -p "$dir/apache/htdocs/v1"
echo '{"items":[]}' >"$dir/apache/htdocs/ok.json"
echo 'ok' >"$dir/apache/htdocs/index.html"
snippet_apache=$(sed "s|\${APACHE_LOG_DIR}/api_access.log|$dir/apache/snippet.log|" "$here/snippets/apache.conf")
cat >"$dir/apache/httpd.conf" <<CONF
ServerRoot $dir/apache
PidFile $dir/apache/httpd.pid
ErrorLog $dir/apache/error.log
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule setenvif_module /usr/lib/apache2/modules/mod_setenvif.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
TypesConfig /etc/mime.types
User www-data
Group www-data
Listen 127.0.0.1:$ap
Listen [::1]:$ap
ServerName api.example.test
DocumentRoot $dir/apache/htdocs
AliasMatch "^/v1/" "$dir/apache/htdocs/ok.json"
# Debian's apache2.conf formats.
LogFormat "%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" vhost_combined
LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
LogFormat "%h %l %u %t \"%r\" %>s %O" common
LogFormat "$(cat "$here/apache_full.fmt")" full
LogFormat "$(cat "$here/apache_strftime.fmt")" strftime
LogFormat "$(cat "$here/apache_epoch.fmt")" epoch
CustomLog $dir/apache/common.log common
CustomLog $dir/apache/combined.log combined
CustomLog $dir/apache/vhost_combined.log vhost_combined
CustomLog $dir/apache/full.log full
CustomLog $dir/apache/strftime.log strftime
CustomLog $dir/apache/epoch.log epoch
$snippet_apache
CONF
apache2 -f "$dir/apache/httpd.conf" -k start
wait_port $ap
traffic "http://127.0.0.1:$ap" $ap
c -g -H 'Host: [::1]:'"$ap" -H 'X-API-Key: fake-key-foxtrot-0006' "http://[::1]:$ap/v1/items"
sleep 0.3
apache2 -f "$dir/apache/httpd.conf" -k stop
sleep 0.5
for f in common combined vhost_combined full strftime epoch snippet; do
    cp "$dir/apache/$f.log" "$here/apache_$f.log"
done

# ---------------------------------------------------------------- gunicorn
cat >"$dir/wsgiapp.py" <<'PY'
def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.startswith("/admin"):
        status, body = "403 FORBIDDEN", b'{"error":"forbidden"}\n'
    elif path == "/" or path.startswith("/v1/"):
        status, body = "200 OK", b'{"items":[]}\n'
    else:
        status, body = "404 NOT FOUND", b'{"error":"not found"}\n'
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
PY
gport=18520
run_gunicorn() { # PORT LOG [extra args...]
    local port=$1 log=$2
    shift 2
    gunicorn --chdir "$dir" -b "127.0.0.1:$port" --workers 1 --access-logfile "$log" \
        --error-logfile "$dir/gunicorn_$port.err" "$@" wsgiapp:app &
    pids+=($!)
    wait_port "$port"
    traffic "http://127.0.0.1:$port" "$port"
    sleep 0.3
    kill "${pids[-1]}"
    wait "${pids[-1]}" 2>/dev/null || true
}
run_gunicorn $gport "$dir/g_default.log"
run_gunicorn $((gport + 1)) "$dir/g_custom.log" --access-logformat "$(cat "$here/gunicorn_custom.fmt")"
run_gunicorn $((gport + 2)) "$dir/g_snippet.log" -c "$here/snippets/gunicorn.conf.py"
cp "$dir/g_default.log" "$here/gunicorn_default.log"
cp "$dir/g_custom.log" "$here/gunicorn_custom.log"
cp "$dir/g_snippet.log" "$here/gunicorn_snippet.log"

# ---------------------------------------------------------------- Caddy
cport=18530
mkdir -p "$dir/caddy"
cat >"$dir/caddy/Caddyfile" <<CONF
{
	admin off
	auto_https off
	storage file_system $dir/caddy/data
}
http://:$cport {
	bind 127.0.0.1
	log {
		output file $dir/caddy/access.log
		format json
	}
	respond /admin* "forbidden" 403
	respond "ok" 200
}
CONF
HOME=$dir/caddy XDG_DATA_HOME=$dir/caddy XDG_CONFIG_HOME=$dir/caddy \
    caddy run --config "$dir/caddy/Caddyfile" --adapter caddyfile >"$dir/caddy/caddy.out" 2>&1 &
pids+=($!)
wait_port $cport
traffic "http://127.0.0.1:$cport" $cport
sleep 0.3
kill "${pids[-1]}"
wait "${pids[-1]}" 2>/dev/null || true
cp "$dir/caddy/access.log" "$here/caddy.log"

# ---------------------------------------------------------------- Flask (werkzeug)
fport=18540
cat >"$dir/flaskapp.py" <<'PY'
import os
import sys

from flask import Flask, jsonify

sys.path.insert(0, sys.argv[3])
from flask_rebindwatch import RebindwatchLog  # noqa: E402

app = Flask("api")


@app.route("/", defaults={"p": ""}, methods=["GET", "POST", "DELETE", "OPTIONS", "PUT"])
@app.route("/<path:p>", methods=["GET", "POST", "DELETE", "OPTIONS", "PUT"])
def anything(p):
    if p.startswith("admin"):
        return jsonify(error="forbidden"), 403
    if p and not p.startswith("v1/"):
        return jsonify(error="not found"), 404
    return jsonify(items=[])


app.wsgi_app = RebindwatchLog(app.wsgi_app, sys.argv[2])
with open(sys.argv[4], "w") as f:
    f.write(str(os.getpid()))
app.run(host="127.0.0.1", port=int(sys.argv[1]))
PY
# In a pseudo-terminal (script), werkzeug colours its request lines.
script -qfec "/usr/bin/python3 $dir/flaskapp.py $fport $dir/flask_snippet.log $here/snippets $dir/flask.pid" \
    "$dir/werkzeug_color.log" >/dev/null 2>&1 &
pids+=($!)
wait_port $fport
traffic "http://127.0.0.1:$fport" $fport
sleep 0.3
kill "$(cat "$dir/flask.pid")"
wait "${pids[-1]}" 2>/dev/null || true
# script(1) frames the typescript with its own "Script started/done" lines.
grep -v -e '^Script started on ' -e '^Script done on ' "$dir/werkzeug_color.log" | sed '/^\r\?$/d' >"$here/werkzeug_color.log"
cp "$dir/flask_snippet.log" "$here/flask_snippet.log"

# ---------------------------------------------------------------- nginx (the snippet)
nport=18550
mkdir -p "$dir/nginx"
cat >"$dir/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log info;
$( [ "$(id -u)" = 0 ] && echo "user root root;" )
events { worker_connections 64; }
http {
    client_body_temp_path $dir/nginx/body;
    proxy_temp_path $dir/nginx/proxy;
    fastcgi_temp_path $dir/nginx/fastcgi;
    uwsgi_temp_path $dir/nginx/uwsgi;
    scgi_temp_path $dir/nginx/scgi;
$(cat "$here/snippets/nginx.conf")
    server {
        listen 127.0.0.1:$nport;
        listen [::1]:$nport;
        server_name api.example.test;
        access_log $dir/nginx/snippet.log rebindwatch;
        location / { return 200 "ok\n"; }
        location /admin { return 403; }
    }
}
CONF
nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf"
wait_port $nport
traffic "http://127.0.0.1:$nport" $nport
c -g -H 'Host: [::1]:'"$nport" -H 'X-API-Key: fake-key-foxtrot-0006' "http://[::1]:$nport/v1/items"
sleep 0.3
nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -s quit
sleep 0.5
cp "$dir/nginx/snippet.log" "$here/nginx_snippet.log"

wc -l "$here"/*.log
