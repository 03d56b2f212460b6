#!/usr/bin/python3
"""Writes traefik.log: Traefik JSON access-log lines made by hand.

Traefik is not packaged in Debian, so these lines are not recorded from a
running Traefik. They follow its documentation, "Access Logs" ("Available
Fields", "Limiting the Fields/Including Headers"):
https://doc.traefik.io/traefik/observability/access-logs/
(traefik/traefik, docs/content/observability/access-logs.md): one JSON object
a line, keys sorted (logrus' JSON formatter), StartUTC/StartLocal/time,
ClientAddr/ClientHost/ClientPort, RequestAddr (the Host header), RequestHost
(without port), RequestMethod, RequestPath, RequestProtocol, DownstreamStatus,
and request headers as request_<Name> only when fields.headers keeps them
(defaultMode is drop); "redact" writes REDACTED. Every key is fake.
"""
import json

base = {"ClientUsername": "-", "DownstreamContentSize": 13, "Duration": 812345, "OriginContentSize": 13,
        "OriginDuration": 701234, "OriginStatus": 200, "Overhead": 111111, "RequestContentSize": 0,
        "RequestCount": 1, "RequestPort": "-", "RequestProtocol": "HTTP/1.1", "RequestScheme": "http",
        "RetryAttempts": 0, "RouterName": "api@file", "ServiceAddr": "127.0.0.1:8000", "ServiceName": "api@file",
        "ServiceURL": {"Scheme": "http", "Opaque": "", "User": None, "Host": "127.0.0.1:8000", "Path": "",
                       "RawPath": "", "ForceQuery": False, "RawQuery": "", "Fragment": "", "RawFragment": ""},
        "entryPointName": "web", "level": "info", "msg": ""}


def req(addr, port, status, host_addr, host, method, path, utc, local, t, **headers):
    d = dict(ClientAddr="%s:%s" % (addr if ":" not in addr else "[%s]" % addr, port), ClientHost=addr,
             ClientPort=port, DownstreamStatus=status, RequestAddr=host_addr, RequestHost=host,
             RequestMethod=method, RequestPath=path, StartUTC=utc, StartLocal=local, time=t)
    d.update({"request_" + k.replace("_", "-"): v for k, v in headers.items()})
    return d


rows = [
    # Headers dropped (the default): no Origin, no key header.
    req("203.0.113.7", "51234", 200, "api.example.test", "api.example.test", "GET", "/v1/items?page=1",
        "2026-11-26T22:13:19.123456789Z", "2026-11-26T23:13:19.123456789+01:00", "2026-11-26T23:13:19+01:00"),
    req("203.0.113.7", "51236", 200, "api.example.test", "api.example.test", "GET",
        "/v1/items?api_key=fake-key-delta-0003", "2026-11-26T22:13:19.223456789Z",
        "2026-11-26T23:13:19.223456789+01:00", "2026-11-26T23:13:19+01:00"),
    # Headers kept (fields.headers.defaultMode=keep).
    req("203.0.113.9", "40000", 403, "evil.rebind.test:8080", "evil.rebind.test", "GET", "/admin",
        "2026-11-26T22:13:20.5Z", "2026-11-26T23:13:20.5+01:00", "2026-11-26T23:13:20+01:00",
        Origin="http://evil.rebind.test", X_Api_Key="fake-key-alpha-0001", Accept="*/*",
        User_Agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
    req("2001:db8::7", "40002", 200, "api.example.test", "api.example.test", "POST", "/v1/items",
        "2026-11-26T22:13:21Z", "2026-11-26T23:13:21+01:00", "2026-11-26T23:13:21+01:00",
        Authorization="Bearer fake-token-bravo-0002", Content_Type="application/json", User_Agent="curl/8.5.0"),
    # Authorization redacted (fields.headers.names.Authorization=redact): no key.
    req("203.0.113.7", "51240", 200, "api.example.test", "api.example.test", "GET", "/v1/me",
        "2026-11-26T22:13:22.000000001Z", "2026-11-26T23:13:22.000000001+01:00", "2026-11-26T23:13:22+01:00",
        Authorization="REDACTED", Origin="null", User_Agent="curl/8.5.0"),
    # Hostile bytes, JSON-escaped.
    req("203.0.113.7", "51242", 200, "api.example.test", "api.example.test", "GET", "/v1/items",
        "2026-11-26T22:13:23Z", "2026-11-26T23:13:23+01:00", "2026-11-26T23:13:23+01:00",
        User_Agent="term\x1b[31mred\x1b[0m \"quoted\" \\back", Origin="https://\u202eapp.example.test",
        X_Api_Key="fake-key-echo-0004"),
]
with open("traefik.log", "w") as f:
    for r in rows:
        f.write(json.dumps({**base, **r}, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n")
