#!/usr/bin/python3
"""Checks the trust recordings and writes their expected alerts.

    /usr/bin/python3 check.py all|day|dns|names|pna|stuffing WORK OUT
    /usr/bin/python3 check.py expected OUT      # only the expected files and runs.tsv

For each recording it reads the capture with tshark (the independent
referee) and checks that it holds what client.py sent (WORK/<name>.jsonl),
as sent, and what the scenario needs (DNS answers, the private network
preflight headers, 40 keys from one client, ...); that nginx's two logs
have one line per request captured; and that the hand-written expectations
below agree with the traffic (the key that trips key_stuffing, how many keys
were refused by then). It then writes the expected files and runs.tsv into
OUT. Exit status 1 on any mismatch, with the reasons on stderr.

The expected files are JSON lines (see README.md, "Expected files"):

    {"type":"alert","incident":LABEL,"detector":...,"subject":...,...}
    {"type":"incident","incident":LABEL,"detectors":[...],...}
    {"type":"summary","alerts":{...},"incidents":N[,"host_check":"off"|null,...]}

An alert line names only the fields that must hold; LABEL is a stable name
for the incident the alert belongs to (alerts with the same label share one
incident id, different labels different ids). An incident line describes the
incident's last state (the last incident line rebindwatch writes for it).
"""

import collections
import hashlib
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import client  # noqa: E402
import keys  # noqa: E402

K = keys.ALL
DETECTORS = ["unexpected_host", "host_served", "foreign_origin", "key_burst", "key_spread", "dns_private_answer",
             "dns_rebind", "unexpected_sni", "private_network_preflight", "key_stuffing"]


def fp(material):
    """rebindwatch's fingerprint with no salt: the first 12 hex of SHA-256."""
    return hashlib.sha256(material.encode()).hexdigest()[:12]


def fp_suffix(role):
    """What the extended log gives: the fingerprint of the key's last 8 characters."""
    return fp(K[role][-8:])


def redact(s):
    for role, key in K.items():
        s = s.replace(key, "{" + role + "}")
    return s


# ---------------------------------------------------------------------------
# The truth: what each run must raise, written from the scenarios (client.py)
# and DESIGN.md ("Zero-config and trust"), not from what rebindwatch prints.

def alert(label, detector, subject, **fields):
    return {"type": "alert", "incident": label, "detector": detector, "subject": subject, **fields}


def incident(label, detectors, **fields):
    return {"type": "incident", "incident": label, "detectors": detectors, **fields}


def summary(alerts, incidents, **fields):
    counts = {d: 0 for d in DETECTORS}
    counts.update(alerts)
    return {"type": "summary", "alerts": counts, "incidents": incidents, **fields}


# The addresses each rebinding name embeds, as the tools document them.
REBIND = {
    "7f000001.c0a80001.rbndr.us": ("rbndr", ["127.0.0.1", "192.168.0.1"]),
    "a.52.23.194.42.1time.127.0.0.1.forever.rebind.network": ("whonow", ["52.23.194.42", "127.0.0.1"]),
    "s-35.185.206.165-127.0.0.1-4187813289-fs-e.dynamic.rebind.it": ("singularity", ["35.185.206.165", "127.0.0.1"]),
    "s-23b9cea5-7f000001-99-rr-e.attacker.example": ("singularity", ["35.185.206.165", "127.0.0.1"]),
    "make-1.2.3.4-rebind-127.0.0.1-rr.1u.ms": ("1u.ms", ["1.2.3.4", "127.0.0.1"]),
    "make-1-2-3-4-rebind-169-254-169-254-rr.1u.ms": ("1u.ms", ["1.2.3.4", "169.254.169.254"]),
    "127.0.0.1.nip.io": ("ip-embedding", ["127.0.0.1"]),
    "127-0-0-1.sslip.io": ("ip-embedding", ["127.0.0.1"]),
    "10.0.0.1.xip.io": ("ip-embedding", ["10.0.0.1"]),
}


def names_expected(port, referer_check):
    """names: per rebinding name one incident with unexpected_host and
    host_served (the Host, critical, class rebinding_service, with the tool
    and its addresses, served: GET /health got 200) and foreign_origin (the
    POST's Origin, critical, rebinding_service; the API answered 401). The
    GETs' Referer is the request's own Host: never foreign. The mixed-case
    spellings fold into the same alerts. The legitimate web app (allowed
    name and origin) raises nothing. port: whether the Host subject keeps
    ":8080" (the capture) or not (nginx's $host in the extended log).

    referer_check: the combined log with check_referer on (no Host, no
    Origin column): only the Referers are seen, each the origin of a
    rebinding page: foreign_origin, critical, rebinding_service.
    """
    out = []
    for name, (tool, addrs) in REBIND.items():
        rb = {"class": "rebinding_service", "tool": tool, "addrs": addrs}
        if referer_check:
            out.append(alert(name, "foreign_origin", "http://%s:8080" % name, severity="critical", **rb))
            out.append(incident(name, ["foreign_origin"], severity="critical", names=[name]))
            continue
        host = name + (":8080" if port else "")
        out += [
            alert(name, "unexpected_host", host, severity="critical", outcome="served", status=200, **rb),
            alert(name, "host_served", host, severity="critical", outcome="served", status=200, **rb),
            alert(name, "foreign_origin", "http://%s:8080" % name, severity="critical", outcome="other",
                  status=401, **rb),
            incident(name, ["unexpected_host", "host_served", "foreign_origin"], severity="critical",
                     outcome="served", **{"class": "rebinding_service"}, names=[name]),
        ]
    n = len(REBIND)
    if referer_check:
        out.append(summary({"foreign_origin": n}, n))
    else:
        out.append(summary({"unexpected_host": n, "host_served": n, "foreign_origin": n}, n))
    return out


def dns_expected(source):
    """dns with trust.toml: api.rebind.test and eu.api.rebind.test (allowed)
    resolve to 10.10.0.1 and 127.0.0.1 with TTL 2 and are requested with
    keys: nothing. evil.rebind.test flips from 93.184.216.34 to 127.0.0.1
    (TTL 2) and is then requested without a key (GET /health 200, GET
    /v1/items 401 with its own page as Referer): one incident."""
    label = "evil.rebind.test"
    if source == "pcap":
        return [
            alert(label, "dns_private_answer", "evil.rebind.test", severity="critical"),
            alert(label, "dns_rebind", "evil.rebind.test", severity="critical", outcome="served", status=200),
            alert(label, "unexpected_host", "evil.rebind.test:8080", severity="high", outcome="served", status=200),
            alert(label, "host_served", "evil.rebind.test:8080", severity="high", outcome="served", status=200),
            incident(label, ["unexpected_host", "host_served", "dns_private_answer", "dns_rebind"],
                     severity="critical", names=["evil.rebind.test"]),
            summary({"unexpected_host": 1, "host_served": 1, "dns_private_answer": 1, "dns_rebind": 1}, 1,
                    host_check=None, origin_check=None),
        ]
    if source == "ext":
        # nginx's $host drops the port; no DNS in a log.
        return [
            alert(label, "unexpected_host", "evil.rebind.test", severity="high", outcome="served", status=200),
            alert(label, "host_served", "evil.rebind.test", severity="high", outcome="served", status=200),
            incident(label, ["unexpected_host", "host_served"], severity="high", names=["evil.rebind.test"]),
            summary({"unexpected_host": 1, "host_served": 1}, 1),
        ]
    # combined: no Host column, so the page's own Referer cannot be matched
    # to the request's Host: a foreign Referer, at most low.
    return [
        alert(label, "foreign_origin", "http://evil.rebind.test:8080", severity="low"),
        incident(label, ["foreign_origin"], severity="low", names=["evil.rebind.test"]),
        summary({"foreign_origin": 1}, 1),
    ]


def pna_expected(variant, trust):
    """pna_granted / pna_denied: two pages, http://attacker.rebind.test
    (Access-Control-Request-Private-Network: true) and http://203.0.113.10
    (Access-Control-Request-Local-Network: true), one preflight each:
    private_network_preflight per page, high when granted, medium when
    denied; with trust.toml also foreign_origin per page (the preflight's
    Origin, answered 204: high), in the same incident."""
    out = []
    for page, name in (("http://attacker.rebind.test", "attacker.rebind.test"), ("http://203.0.113.10", "203.0.113.10")):
        sev = "high" if variant == "granted" else "medium"
        out.append(alert(name, "private_network_preflight", page, severity=sev, outcome=variant))
        dets = ["private_network_preflight"]
        if trust:
            out.append(alert(name, "foreign_origin", page, severity="high"))
            dets = ["foreign_origin", "private_network_preflight"]
            sev = "high"
        out.append(incident(name, dets, severity=sev, names=[name]))
    counts = {"private_network_preflight": 2}
    if trust:
        counts["foreign_origin"] = 2
    out.append(summary(counts, 2))
    return out


def stuffing_expected(source, trip_role, keys_at_trip, rejected_at_trip):
    """stuffing: the stuffer (203.0.113.66) trips key_stuffing at its 11th
    distinct key (default and trust.toml: more than 10 keys in 5 minutes),
    most of them refused: high. The customers (one key each, also tried by
    the stuffer) raise nothing."""
    key = fp(K[trip_role]) if source == "pcap" else fp_suffix(trip_role)
    label = client.STUFFER
    return [
        alert(label, "key_stuffing", client.STUFFER, severity="high", client=client.STUFFER, key=key,
              keys=keys_at_trip, rejected=rejected_at_trip),
        incident(label, ["key_stuffing"], severity="high", clients=[client.STUFFER]),
        summary({"key_stuffing": 1}, 1),
    ]


# What the day and the other "nothing" runs must say.
DAY = [summary({}, 0, host_check="off", origin_check="off")]
NOTHING = [summary({}, 0)]

# runs.tsv: input, how it is read (pcap: -r; ext: --no-follow --log-format
# "nginx:$(cat testdata/rec/ext.fmt)"; log: --no-follow, format detected),
# config ("-" for none: run where no ./rebindwatch.toml or
# $XDG_CONFIG_HOME/rebindwatch/config.toml exists) and the expected file.
RUNS = [
    ("day.pcap", "pcap", "-", "expected_day.jsonl"),
    ("day.pcap", "pcap", "referer.toml", "expected_day.jsonl"),
    ("day_access_ext.log", "ext", "-", "expected_day.jsonl"),
    ("day_access_ext.log", "ext", "referer.toml", "expected_day.jsonl"),
    ("day_access_combined.log", "log", "-", "expected_day.jsonl"),
    ("day_access_combined.log", "log", "referer.toml", "expected_day.jsonl"),
    ("dns.pcap", "pcap", "trust.toml", "expected_dns.jsonl"),
    ("dns_access_ext.log", "ext", "trust.toml", "expected_dns_ext_log.jsonl"),
    ("dns_access_combined.log", "log", "trust.toml", "expected_dns_combined_log.jsonl"),
    ("names.pcap", "pcap", "-", "expected_names.jsonl"),
    ("names.pcap", "pcap", "trust.toml", "expected_names.jsonl"),
    ("names_access_ext.log", "ext", "-", "expected_names_ext_log.jsonl"),
    ("names_access_ext.log", "ext", "trust.toml", "expected_names_ext_log.jsonl"),
    ("names_access_combined.log", "log", "-", "expected_nothing.jsonl"),
    ("names_access_combined.log", "log", "trust.toml", "expected_names_combined_log_trust.jsonl"),
    ("pna_chromium.pcap", "pcap", "-", "expected_nothing.jsonl"),
    ("pna_chromium.pcap", "pcap", "trust.toml", "expected_pna_chromium_trust.jsonl"),
    ("pna_granted.pcap", "pcap", "-", "expected_pna_granted.jsonl"),
    ("pna_granted.pcap", "pcap", "trust.toml", "expected_pna_granted_trust.jsonl"),
    ("pna_denied.pcap", "pcap", "-", "expected_pna_denied.jsonl"),
    ("pna_denied.pcap", "pcap", "trust.toml", "expected_pna_denied_trust.jsonl"),
    ("stuffing.pcap", "pcap", "-", "expected_stuffing.jsonl"),
    ("stuffing.pcap", "pcap", "trust.toml", "expected_stuffing.jsonl"),
    ("stuffing_access_ext.log", "ext", "-", "expected_stuffing_ext_log.jsonl"),
    ("stuffing_access_ext.log", "ext", "trust.toml", "expected_stuffing_ext_log.jsonl"),
    ("stuffing_access_combined.log", "log", "-", "expected_nothing.jsonl"),
    ("stuffing_access_combined.log", "log", "trust.toml", "expected_nothing.jsonl"),
]

# The stuffer's 11th distinct key, and how many of its first 11 were refused.
TRIP_ROLE = "unknown_09"
KEYS_AT_TRIP, REJECTED_AT_TRIP = 11, 10


def expected_files():
    return {
        "expected_day.jsonl": DAY,
        "expected_nothing.jsonl": NOTHING,
        "expected_dns.jsonl": dns_expected("pcap"),
        "expected_dns_ext_log.jsonl": dns_expected("ext"),
        "expected_dns_combined_log.jsonl": dns_expected("combined"),
        "expected_names.jsonl": names_expected(True, False),
        "expected_names_ext_log.jsonl": names_expected(False, False),
        "expected_names_combined_log_trust.jsonl": names_expected(False, True),
        "expected_pna_chromium_trust.jsonl": [
            alert("attacker.rebind.test", "foreign_origin", "http://attacker.rebind.test", severity="high"),
            incident("attacker.rebind.test", ["foreign_origin"], severity="high", names=["attacker.rebind.test"]),
            summary({"foreign_origin": 1}, 1),
        ],
        "expected_pna_granted.jsonl": pna_expected("granted", False),
        "expected_pna_granted_trust.jsonl": pna_expected("granted", True),
        "expected_pna_denied.jsonl": pna_expected("denied", False),
        "expected_pna_denied_trust.jsonl": pna_expected("denied", True),
        "expected_stuffing.jsonl": stuffing_expected("pcap", TRIP_ROLE, KEYS_AT_TRIP, REJECTED_AT_TRIP),
        "expected_stuffing_ext_log.jsonl": stuffing_expected("ext", TRIP_ROLE, KEYS_AT_TRIP, REJECTED_AT_TRIP),
    }


def write_expected(out):
    for name, lines in expected_files().items():
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            for o in lines:
                f.write(json.dumps(o, separators=(",", ":")) + "\n")
    with open(os.path.join(out, "runs.tsv"), "w", encoding="utf-8") as f:
        f.write("input\tread\tconfig\texpected\n")
        for r in RUNS:
            f.write("\t".join(r) + "\n")


# ---------------------------------------------------------------------------
# Readers.

def pairs_hook(pairs):
    return pairs  # keep duplicate keys: tshark repeats http.request.line


def get(pairs, name):
    return [v for k, v in pairs if k == name]


REQ_LINE = re.compile(r"^(\S+) (\S+) (HTTP/\d\.\d)\\r\\n$")
RESP_LINE = re.compile(r"^HTTP/\d\.\d (\d{3})")


class Req:
    def __init__(self, **kw):
        self.__dict__.update(kw)

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def tshark(path, extra=()):
    out = subprocess.run(["tshark", "-r", path, *extra, "-T", "json", "-j", "frame ip tcp udp http dns"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout or "[]", object_pairs_hook=pairs_hook)


def header_lines(http, field):
    hdrs = []
    for h in get(http, field):
        name, _, value = h.rstrip("\r\n").partition(":")
        hdrs.append((name, value.strip()))
    return hdrs


def requests_of(path):
    """Every HTTP request in a capture, in capture order, with its response's
    status and header lines when the response is there."""
    reqs, resps = [], {}
    for pkt in tshark(path, ["-Y", "http"]):
        layers = get(get(pkt, "_source")[0], "layers")[0]
        frame = get(layers, "frame")[0]
        num = int(get(frame, "frame.number")[0])
        t = float(get(frame, "frame.time_epoch")[0])
        ip = get(layers, "ip")[0]
        src, dst = get(ip, "ip.src")[0], get(ip, "ip.dst")[0]
        for http in get(layers, "http"):
            if get(http, "http.response"):
                status = next((RESP_LINE.match(k).group(1) for k, _ in http if RESP_LINE.match(k)), "0")
                req_in = get(http, "http.request_in")
                if req_in:
                    resps[int(req_in[0])] = (int(status), header_lines(http, "http.response.line"))
                continue
            line = next((k for k, _ in http if REQ_LINE.match(k)), None)
            if line is None:
                continue
            method, target, version = REQ_LINE.match(line).groups()
            reqs.append(Req(frame=num, t=t, client=src, server=dst, method=method, target=target,
                            version=version, headers=header_lines(http, "http.request.line")))
    for r in reqs:
        r.status, r.resp_headers = resps.get(r.frame, (0, []))
        r.host, r.origin, r.referer = r.header("Host"), r.header("Origin"), r.header("Referer")
    return reqs


def dns_answers(path):
    """Every DNS response: (time, name, qtype, rcode, [(type, ttl, data)])."""
    out = subprocess.run(["tshark", "-r", path, "-Y", "dns.flags.response == 1", "-T", "fields", "-E", "aggregator=|",
                          "-e", "frame.time_epoch", "-e", "dns.qry.name", "-e", "dns.qry.type", "-e", "dns.flags.rcode",
                          "-e", "dns.resp.type", "-e", "dns.resp.ttl", "-e", "dns.a", "-e", "dns.aaaa"],
                         capture_output=True, text=True, check=True)
    answers = []
    for line in out.stdout.splitlines():
        t, name, qtype, rcode, rtypes, ttls, a, aaaa = (line.split("\t") + [""] * 8)[:8]
        rtypes, ttls = [int(x) for x in rtypes.split("|") if x], [int(x) for x in ttls.split("|") if x]
        data = {1: [x for x in a.split("|") if x], 28: [x for x in aaaa.split("|") if x]}
        recs = [(rt, ttl, data[rt].pop(0) if data.get(rt) else "") for rt, ttl in zip(rtypes, ttls)]
        answers.append((float(t), name, int(qtype), int(rcode), recs))
    return answers


def manifest(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


EXT_RE = re.compile(
    r'^(\S+) - (\S+) \[([^\]]+)\] "([^"]*)" (\d{3}) (\d+) "([^"]*)" "([^"]*)" '
    r'host="([^"]*)" origin="([^"]*)" key="([^"]*)" rt=(\S+)$')
COMBINED_RE = re.compile(r'^(\S+) - (\S+) \[([^\]]+)\] "([^"]*)" (\d{3}) (\d+) "([^"]*)" "([^"]*)"$')


# ---------------------------------------------------------------------------
# Checks.

class Checker:
    def __init__(self):
        self.errors = []

    def expect(self, cond, msg):
        if not cond:
            self.errors.append(msg)
            print("FAIL " + msg, file=sys.stderr)
        return cond

    def ok(self, msg):
        print("ok   " + msg)

    def sent_in_capture(self, label, sent, got, exact=True):
        """Each request curl sent is in the capture as sent (and, exact, nothing else)."""
        want = collections.Counter((s["client"], s["method"], s["host"], s["target"], s["origin"], s["referer"],
                                    s["status"]) for s in sent if "method" in s)
        have = collections.Counter((r.client, r.method, r.host, redact(r.target), r.origin, r.referer, r.status)
                                   for r in got)
        missing = want - have
        self.expect(not missing, "%s: %d sent requests not in the capture as sent: %s" % (
            label, sum(missing.values()), list(missing)[:3]))
        if exact:
            extra = have - want
            self.expect(not extra, "%s: %d requests in the capture were not sent: %s" % (
                label, sum(extra.values()), list(extra)[:3]))
        if not missing:
            self.ok("%s: %d requests sent, all in the capture as sent" % (label, sum(want.values())))

    def logs(self, label, out, stem, reqs):
        """nginx's two logs: one line per request captured, in the formats."""
        for kind, rx in (("combined", COMBINED_RE), ("ext", EXT_RE)):
            path = os.path.join(out, "%s_access_%s.log" % (stem, kind))
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
            self.expect(len(lines) == len(reqs), "%s: %s log has %d lines for %d requests captured" % (
                label, kind, len(lines), len(reqs)))
            bad = [n for n, line in enumerate(lines, 1) if not rx.match(line)]
            self.expect(not bad, "%s: %s log lines %s do not match the format" % (label, kind, bad[:5]))
            if kind == "ext":
                for line in lines:
                    m = EXT_RE.match(line)
                    if m:
                        sfx = m.group(11)
                        self.expect(sfx == "" or (len(sfx) == 8 and sfx not in K.values()),
                                    "%s: ext key field %r is not an 8-character suffix" % (label, redact(sfx)))
        self.ok("%s: both logs have one line per request (%d)" % (label, len(reqs)))


def check_day(c, work, out):
    sent = manifest(os.path.join(work, "day.jsonl"))
    reqs = requests_of(os.path.join(out, "day.pcap"))
    c.sent_in_capture("day.pcap", sent, reqs, exact=False)
    visits = [s for s in sent if "visit" in s]
    c.expect(len(visits) == len(client.VISITS) and all(v["done"] for v in visits), "day: not every visit finished")
    browser = [r for r in reqs if "HeadlessChrome" in (r.header("User-Agent") or "")]
    c.expect(len(reqs) >= 300, "day: %d requests, want several hundred" % len(reqs))
    c.expect(len(browser) >= 250, "day: %d requests from the browser" % len(browser))
    refs = collections.Counter()
    for r in browser:
        if r.referer:
            m = re.match(r"^(https?://[^/]+)", r.referer)
            refs[m.group(1)] += 1
    external = {o for o in refs if "shop.test" not in o}
    c.expect(len(external) >= 4, "day: Referers from %d external sites: %s" % (len(external), sorted(refs)))
    c.expect(refs.get("http://www.shop.test", 0) >= 100, "day: few Referers from the site's own pages")
    paths = collections.Counter(r.target.split("?")[0] for r in reqs)
    for p in ("/static/site.css", "/static/site.js", "/static/logo.png", "/static/bg.png", "/favicon.ico",
              "/robots.txt", "/health", "/api/v1/items", "/api/contact"):
        c.expect(paths[p] > 0, "day: nobody asked for %s" % p)
    hosts = collections.Counter(r.host for r in reqs)
    for h in ("www.shop.test", "shop.test", "192.0.2.10", "127.0.0.1"):
        c.expect(hosts[h] > 0, "day: no request with Host %s: %s" % (h, dict(hosts)))
    statuses = collections.Counter(r.status for r in reqs)
    c.expect(not [s for s in statuses if s >= 500 or s == 0], "day: statuses %s" % dict(statuses))
    # Zero-config limits: no key used from more than 20 clients or under more
    # than 3 Hosts, none more than 100 times in 10 s, no client with more
    # than 10 keys (the default key_spread, key_burst and key_stuffing).
    by_key = collections.defaultdict(list)
    for r in reqs:
        k = r.header("X-API-Key") or (r.header("Authorization") or "").partition(" ")[2] or \
            (re.search(r"api_key=([^&]+)", r.target) or [None, None])[1]
        if k:
            by_key[k].append(r)
    for k, rs in by_key.items():
        ts = sorted(r.t for r in rs)
        c.expect(len({r.client for r in rs}) <= 20 and len({r.host for r in rs}) <= 3 and
                 max(sum(1 for u in ts if t <= u < t + 10) for t in ts) <= 100,
                 "day: key %s is used too widely for a normal day" % redact(k))
    keys_per_client = collections.defaultdict(set)
    for k, rs in by_key.items():
        for r in rs:
            keys_per_client[r.client].add(k)
    c.expect(max(len(v) for v in keys_per_client.values()) <= 10, "day: a client with more than 10 keys")
    c.logs("day", out, "day", reqs)
    print("     day: %d requests (%d from Chromium), %d visits, Referers from %s; statuses %s" % (
        len(reqs), len(browser), len(visits), ", ".join(sorted(refs)), dict(sorted(statuses.items()))))


def check_dns(c, work, out):
    sent = manifest(os.path.join(work, "dns.jsonl"))
    reqs = requests_of(os.path.join(out, "dns.pcap"))
    c.sent_in_capture("dns.pcap", sent, reqs)
    answers = dns_answers(os.path.join(out, "dns.pcap"))
    a_of = collections.defaultdict(list)
    c.expect(all(rcode == 0 for _, _, _, rcode, _ in answers), "dns: answers with an error: %s" % [
        (n, q, r) for _, n, q, r, _ in answers if r])
    for t, name, qtype, rcode, ans in answers:
        for atype, ttl, data in ans:
            if atype == 1:
                a_of[name].append((t, ttl, data))
    c.expect(a_of["api.rebind.test"] and all(d == "10.10.0.1" and ttl == 2 for _, ttl, d in a_of["api.rebind.test"]),
             "dns: api.rebind.test answers %s" % a_of["api.rebind.test"])
    c.expect(a_of["eu.api.rebind.test"] and all(d == "127.0.0.1" for _, _, d in a_of["eu.api.rebind.test"]),
             "dns: eu.api.rebind.test answers %s" % a_of["eu.api.rebind.test"])
    evil = [d for _, _, d in sorted(a_of["evil.rebind.test"])]
    c.expect(len(evil) >= 3 and evil[0] == "93.184.216.34" and evil[-1] == "127.0.0.1" and
             evil == sorted(evil, key=lambda d: d == "127.0.0.1"),
             "dns: evil.rebind.test answers %s, want public then private" % evil)
    flip = min(t for t, _, d in a_of["evil.rebind.test"] if d == "127.0.0.1")
    ev = [r for r in reqs if (r.host or "").startswith("evil.rebind.test")]
    c.expect(len(ev) == 2 and all(r.t > flip and r.server == "127.0.0.1" for r in ev),
             "dns: the requests for evil.rebind.test should follow its private answer, to 127.0.0.1")
    c.ok("dns: %d DNS responses; evil.rebind.test %s" % (len(answers), " -> ".join(evil)))
    c.logs("dns", out, "dns", reqs)


def check_names(c, work, out):
    sent = manifest(os.path.join(work, "names.jsonl"))
    reqs = requests_of(os.path.join(out, "names.pcap"))
    c.sent_in_capture("names.pcap", sent, reqs)
    hosts = {r.host.rsplit(":", 1)[0].lower() for r in reqs if r.client == client.NAMES_CLIENT}
    c.expect(hosts == set(REBIND), "names: Hosts %s" % sorted(hosts))
    mixed = {r.host for r in reqs if r.host != r.host.lower()}
    c.expect(len(mixed) >= len(client.REBIND_MIXED), "names: mixed-case Hosts as sent: %s" % sorted(mixed))
    c.logs("names", out, "names", reqs)


PNA_HEADERS = ("access-control-request-private-network", "access-control-request-local-network")


def check_pna(c, work, out):
    # The browser's own preflight, and curl's copies of it.
    reqs = requests_of(os.path.join(out, "pna_chromium.pcap"))
    c.expect([r.method for r in reqs] == ["OPTIONS", "PUT"] and [r.status for r in reqs] == [204, 200],
             "pna_chromium: want a preflight (204) and the PUT (200): %s" % [(r.method, r.status) for r in reqs])
    pre = reqs[0] if reqs else None
    c.expect(pre is not None and not any(k.lower() in PNA_HEADERS for k, _ in pre.headers),
             "pna_chromium: Chromium 156 sent a private network header")
    for variant in ("granted", "denied"):
        sent = manifest(os.path.join(work, "pna_%s.jsonl" % variant))
        got = requests_of(os.path.join(out, "pna_%s.pcap" % variant))
        c.sent_in_capture("pna_%s.pcap" % variant, sent, got)
        for r in got:
            if r.method != "OPTIONS":
                continue
            names = [k for k, _ in r.headers if k.lower() not in PNA_HEADERS]
            c.expect(pre is not None and names == [k for k, _ in pre.headers] and
                     [v for k, v in r.headers if k.lower() not in PNA_HEADERS + ("origin", "referer")] ==
                     [v for k, v in pre.headers if k.lower() not in ("origin", "referer")],
                     "pna_%s: the preflight's headers differ from Chromium's (apart from the PNA header)" % variant)
            pna = [(k, v) for k, v in r.headers if k.lower() in PNA_HEADERS]
            c.expect(len(pna) == 1 and pna[0][1] == "true", "pna_%s: PNA request header %s" % (variant, pna))
            allow = [v for k, v in r.resp_headers if k.lower() == "access-control-allow-private-network"]
            c.expect(allow == (["true"] if variant == "granted" else []),
                     "pna_%s: Access-Control-Allow-Private-Network %s" % (variant, allow))
        puts = [r for r in got if r.method == "PUT"]
        c.expect(len(puts) == (2 if variant == "granted" else 0), "pna_%s: %d PUTs" % (variant, len(puts)))
    c.ok("pna: Chromium's preflight has no private network header; curl's copies differ from it only by one")


def check_stuffing(c, work, out):
    sent = manifest(os.path.join(work, "stuffing.jsonl"))
    reqs = requests_of(os.path.join(out, "stuffing.pcap"))
    c.sent_in_capture("stuffing.pcap", sent, reqs)
    st = [s for s in sent if s.get("phase") == "stuffer"]
    order = []
    for s in st:
        if s["key"] not in order:
            order.append(s["key"])
    span = st[-1]["t"] - st[0]["t"]
    refused = {s["key"] for s in st if s["status"] in (401, 403)}
    c.expect(len(order) == 40 and span <= 120, "stuffing: %d keys in %.0f s" % (len(order), span))
    c.expect(len(refused) == 35 and sum(1 for k in order if k.startswith("revoked_")) == 5,
             "stuffing: %d keys refused" % len(refused))
    # The hand-written expectation: the 11th key trips it, 10 of 11 refused.
    first11 = order[:11]
    c.expect(first11[-1] == TRIP_ROLE and len(first11) == KEYS_AT_TRIP and
             sum(1 for k in first11 if k in refused) == REJECTED_AT_TRIP,
             "stuffing: the 11th key is %s, %d of the first 11 refused" % (
                 first11[-1], sum(1 for k in first11 if k in refused)))
    for src, role, _ in client.CUSTOMERS:
        ks = {s["key"] for s in sent if s.get("client") == src}
        c.expect(ks == {role}, "stuffing: customer %s used %s" % (src, ks))
    c.ok("stuffing: 40 keys (35 refused) in %.0f s from %s; 5 customers with one key each" % (span, client.STUFFER))
    c.logs("stuffing", out, "stuffing", reqs)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "expected":
        write_expected(sys.argv[2])
        return
    if len(sys.argv) != 4 or sys.argv[1] not in ("all", "day", "dns", "names", "pna", "stuffing"):
        sys.exit(__doc__)
    what, work, out = sys.argv[1:]
    c = Checker()
    checks = {"day": check_day, "dns": check_dns, "names": check_names, "pna": check_pna, "stuffing": check_stuffing}
    for name, fn in checks.items():
        if what in ("all", name):
            fn(c, work, out)
    if c.errors:
        sys.exit("check.py: %d check(s) failed" % len(c.errors))
    write_expected(out)
    print("ok   %s: all checks passed" % what)


if __name__ == "__main__":
    main()
