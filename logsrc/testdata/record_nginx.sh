#!/usr/bin/env bash
# Records real nginx access-log lines for the logsrc tests.
#
# Runs nginx on 127.0.0.1 and [::1] (own prefix in a temp dir, PORT default
# 18431), sends it a fixed set of requests with curl and /usr/bin/python3
# (normal API calls, foreign Host and Origin, keys in headers and the query,
# hostile bytes, TLS to the plain port, HTTP/0.9, IPv6), then copies the three
# access logs next to this script:
#   nginx_real.log      log_format in nginx_real.fmt     (default escaping)
#   nginx_combined.log  the predefined "combined" format
#   nginx_json.log      log_format in nginx_json.fmt     (escape=json)
# Every key is fake. Needs: nginx, curl, /usr/bin/python3. Rerun: bash record_nginx.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
port=${PORT:-18431}
dir=$(mktemp -d)
trap 'nginx -p "$dir" -c "$dir/nginx.conf" -s quit 2>/dev/null || true; sleep 0.3; rm -rf "$dir"' EXIT

cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log info;
$( [ "$(id -u)" = 0 ] && echo "user root root;" )
events { worker_connections 64; }
http {
    $(cat "$here/nginx_real.fmt")
    $(cat "$here/nginx_json.fmt")
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    server {
        listen 127.0.0.1:$port;
        listen [::1]:$port;
        server_name api.example.test;
        access_log $dir/real.log ext;
        access_log $dir/combined.log combined;
        access_log $dir/json.log jsonlog;
        location / { return 200 "ok\n"; }
        location /v1/ { return 200 '{"items":[]}\n'; }
        location /admin { return 403; }
    }
}
CONF

nginx -p "$dir" -c "$dir/nginx.conf"
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

u="http://127.0.0.1:$port"
c() { curl -s -o /dev/null --max-time 5 "$@" || true; }

# Ordinary API traffic with a key header, as a browser app and a script would send it.
for i in 1 2 3; do
    c -H 'Host: api.example.test' -H 'X-API-Key: fake-key-alpha-0001' -A 'python-requests/2.31.0' "$u/v1/items?page=$i"
done
c -H 'Host: api.example.test' -H 'Origin: https://app.example.test' -H 'Referer: https://app.example.test/dash' \
  -A 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' \
  -H 'X-API-Key: fake-key-alpha-0001' "$u/v1/items"
c -X POST -H 'Host: api.example.test:'"$port" -H 'Content-Type: application/json' -d '{"name":"x"}' \
  -H 'Authorization: Bearer fake-token-bravo-0002' "$u/v1/items"
c -u 'fake-user-charlie:fake-pass' -H 'Host: api.example.test' "$u/v1/me"
# Key in the query string.
c -H 'Host: api.example.test' "$u/v1/items?api_key=fake-key-delta-0003&q=a%20b"
# DNS rebinding shape: the attacker's name in Host and Origin, same key.
c -H 'Host: evil.rebind.test' -H 'Origin: http://evil.rebind.test' -H 'X-API-Key: fake-key-alpha-0001' "$u/admin"
c -H 'Host: evil.rebind.test:'"$port" -H 'Origin: null' -H 'X-API-Key: fake-key-alpha-0001' "$u/v1/items"
c -H 'Host: API.Example.TEST.' "$u/v1/items"
# HTTP/1.0 without Host.
c -0 -H 'Host:' "$u/v1/items"
# Hostile bytes: quotes, backslashes, escape sequences, UTF-8 in headers; spaces and UTF-8 in the target.
c -H 'Host: api.example.test' -A 'evil "quoted" \back\slash' "$u/v1/items"
c -H 'Host: api.example.test' -A $'term\x1b[31mred\x1b[0m\x07' -H $'Origin: https://\xe2\x80\xaeapp.example.test' "$u/"
c -H 'Host: api.example.test' --request-target '/v1/items?q=caf%C3%A9&x=y z' "$u"
c -H 'Host: api.example.test' --request-target $'/v1/caf\xc3\xa9' "$u"
c -H 'Host: api.example.test' -H 'X-API-Key: fake "key" with space' "$u/v1/items"
# Two Host headers: nginx answers 400.
c -H 'Host: api.example.test' -H 'Host: evil.rebind.test' "$u/v1/items"
# Other methods.
c -X DELETE -H 'Host: api.example.test' -H 'X-API-Key: fake-key-echo-0004' "$u/v1/items/7"
c -I -H 'Host: api.example.test' "$u/"
c -X OPTIONS -H 'Host: api.example.test' -H 'Origin: http://evil.rebind.test' -H 'Access-Control-Request-Method: GET' "$u/v1/items"
# IPv6 client.
c -g -H 'Host: [::1]:'"$port" "http://[::1]:$port/v1/items"
# TLS to the plain-HTTP port: nginx logs the ClientHello bytes as the request.
c --max-time 2 "https://127.0.0.1:$port/"
# Raw requests curl will not send.
/usr/bin/python3 - "$port" <<'PY'
import socket, sys
port = int(sys.argv[1])
def send(data):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.sendall(data)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()
send(b"GET /v1/items\r\n")                                   # HTTP/0.9
send(b"GET /v1/items HTTP/1.1\r\nHost: api.example.test\r\nUser-Agent: a\tb\r\nConnection: close\r\n\r\n")
send(b"BREW /pot HTTP/1.1\r\nHost: api.example.test\r\nConnection: close\r\n\r\n")
send(b"\r\n\r\n")                                               # nothing but blank lines
send(b"GARBAGE\x00\x01\xff\r\n\r\n")
send(b"GET /a\"b HTTP/1.1\r\nHost: api.example.test\r\nX-Api-Key: fake-key-\xc3\xa9-0005\r\nConnection: close\r\n\r\n")
PY
sleep 0.5

cp "$dir/real.log" "$here/nginx_real.log"
cp "$dir/combined.log" "$here/nginx_combined.log"
cp "$dir/json.log" "$here/nginx_json.log"
wc -l "$here"/nginx_*.log
