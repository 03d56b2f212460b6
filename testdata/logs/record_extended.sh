#!/usr/bin/env bash
# Records nginx access logs in formats that add the Host, the Origin and the
# key after combined's columns, as many sites' log_format does, so the
# logsrc tests can check that auto-detection says it cannot read them
# rather than silently dropping the columns (README: "Logs"):
#
#   nginx_ext_combined.log  combined + "$host" "$http_origin" "$http_x_api_key"
#   nginx_json_extra.log    escape=json with those fields under nginx's own names
#
# The same fixed requests as record_logs.sh (traffic.sh). Every key is fake.
# Needs (Debian): nginx curl. Rerun: bash testdata/logs/record_extended.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/rwext.XXXXXX)
chmod 755 "$dir"
cleanup() {
    [ -f "$dir/nginx.pid" ] && nginx -p "$dir" -c "$dir/nginx.conf" -s quit 2>/dev/null || true
    sleep 0.5
    rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck source=traffic.sh
source "$here/traffic.sh"

port=18560
cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log info;
$( [ "$(id -u)" = 0 ] && echo "user root root;" )
events { worker_connections 64; }
http {
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    log_format ext_combined '\$remote_addr - \$remote_user [\$time_local] "\$request" \$status \$body_bytes_sent '
                            '"\$http_referer" "\$http_user_agent" "\$host" "\$http_origin" "\$http_x_api_key"';
    log_format json_extra escape=json '{"time":"\$time_iso8601","remote_addr":"\$remote_addr","request":"\$request",'
                            '"status":\$status,"body_bytes_sent":\$body_bytes_sent,"http_referer":"\$http_referer",'
                            '"http_user_agent":"\$http_user_agent","host":"\$host","http_origin":"\$http_origin",'
                            '"http_x_api_key":"\$http_x_api_key"}';
    server {
        listen 127.0.0.1:$port;
        server_name api.example.test;
        access_log $dir/ext_combined.log ext_combined;
        access_log $dir/json_extra.log json_extra;
        location / { return 200 "ok\n"; }
        location /admin { return 403; }
    }
}
CONF
nginx -p "$dir" -c "$dir/nginx.conf"
wait_port $port
traffic "http://127.0.0.1:$port" $port
sleep 0.3
nginx -p "$dir" -c "$dir/nginx.conf" -s quit
sleep 0.5
cp "$dir/ext_combined.log" "$here/nginx_ext_combined.log"
cp "$dir/json_extra.log" "$here/nginx_json_extra.log"
wc -l "$here/nginx_ext_combined.log" "$here/nginx_json_extra.log"
