# Sourced by record_logs.sh and record_extended.sh: the fixed set of
# requests every recorded server gets, and two helpers.
# shellcheck shell=bash

c() { curl -s -o /dev/null --max-time 5 "$@" || true; }
wait_port() { for _ in $(seq 100); do curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; echo "port $1 did not come up" >&2; return 1; }

# traffic BASE_URL PORT: the fixed set of requests.
traffic() {
    local u=$1 port=$2
    c -H 'Host: api.example.test' -H 'X-API-Key: fake-key-alpha-0001' -A 'python-requests/2.31.0' "$u/v1/items?page=1"
    c -H 'Host: api.example.test' -H 'Origin: https://app.example.test' -H 'Referer: https://app.example.test/dash' \
      -A 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' -H 'X-API-Key: fake-key-alpha-0001' "$u/v1/items"
    c -X POST -H "Host: api.example.test:$port" -H 'Content-Type: application/json' -d '{"name":"x"}' \
      -H 'Authorization: Bearer fake-token-bravo-0002' "$u/v1/items"
    c -H 'Host: api.example.test' "$u/v1/items?api_key=fake-key-delta-0003&q=a%20b"
    # DNS rebinding shape: the attacker's name in Host and Origin, same key.
    c -H 'Host: evil.rebind.test' -H 'Origin: http://evil.rebind.test' -H 'X-API-Key: fake-key-alpha-0001' "$u/admin"
    c -H "Host: evil.rebind.test:$port" -H 'Origin: null' -H 'X-API-Key: fake-key-alpha-0001' "$u/v1/items"
    # HTTP/1.0 without Host.
    c -0 -H 'Host:' "$u/v1/items"
    # Hostile bytes: quotes, backslashes, escape sequences, UTF-8 and bidi controls.
    c -H 'Host: api.example.test' -A 'evil "quoted" \back\slash' "$u/v1/items"
    c -H 'Host: api.example.test' -A $'term\x1b[31mred\x1b[0m\x07' -H $'Origin: https://\xe2\x80\xaeapp.example.test' "$u/"
    c -H 'Host: api.example.test' --request-target '/v1/items?q=caf%C3%A9&x=y' "$u"
    # A key of 8 characters: its "suffix" would be the whole key, so the snippets log none.
    c -H 'Host: api.example.test' -H 'X-API-Key: shortkey' "$u/v1/items"
    c -X DELETE -H 'Host: api.example.test' -H 'X-API-Key: fake-key-echo-0004' "$u/v1/items/7"
    c -X OPTIONS -H 'Host: api.example.test' -H 'Origin: http://evil.rebind.test' -H 'Access-Control-Request-Method: GET' "$u/v1/items"
    # All three key places at once: X-API-Key wins.
    c -H 'Host: api.example.test' -H 'X-API-Key: fake-key-alpha-0001' -H 'Authorization: Bearer fake-token-bravo-0002' \
      "$u/v1/items?api_key=fake-key-delta-0003"
    c -H 'Host: api.example.test' -u 'fake-user-charlie:fake-pass' "$u/v1/me"
}
