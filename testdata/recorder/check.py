#!/usr/bin/python3
"""Checks a recording and writes the files derived from it.

    /usr/bin/python3 check.py normal|scenarios|demo WORK OUT
    /usr/bin/python3 check.py cut FILE          # byte offset inside a packet record

For a recording it
  * reads every capture with tshark (the independent referee) and checks that
    each request the client sent (WORK/<name>.jsonl) is in it, with the Host,
    Origin and Referer intended;
  * checks the nginx logs have one line per request;
  * runs a small reference model of rebindwatch's four detectors (DESIGN.md
    rules) over the capture, the extended log and the combined log, and checks
    that it finds exactly the alerts written by hand below;
  * writes expected_alerts*.jsonl, requests_tshark*.tsv and timeline_*.tsv
    into OUT.
Exit status 1 on any mismatch, with the reasons on stderr.
"""

import collections
import datetime
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testkeys  # noqa: E402

K = testkeys.ALL

# The config of testdata/rec/rebindwatch.toml (record.sh writes the file).
ALLOWED_HOSTS = ["api.rebind.test", "*.api.rebind.test"]
ALLOWED_ORIGINS = ["https://app.rebind.test"]
ALLOW_NULL = False
CHECK_REFERER = True
BURST_WINDOW, BURST_MAX = 10.0, 100
SPREAD_WINDOW, SPREAD_MAX_HOSTS, SPREAD_MAX_CLIENTS = 600.0, 3, 20
DEDUPE = 60.0


def fp(material):
    """rebindwatch's fingerprint with no salt: first 12 hex of SHA-256."""
    return hashlib.sha256(material.encode()).hexdigest()[:12]


def fp_key(role):
    return fp(K[role])


def fp_suffix(role):
    """What the extended log gives: the fingerprint of the 8-char suffix."""
    return fp(K[role][-8:])


def uh(subject):
    return {"detector": "unexpected_host", "subject": subject}


def fo(subject):
    return {"detector": "foreign_origin", "subject": subject}


def kb(subject):
    return {"detector": "key_burst", "subject": subject}


def ks(subject, dim):
    return {"detector": "key_spread", "subject": subject, "dimension": dim}


# ---------------------------------------------------------------------------
# The alerts each recording must raise, written from the scenario design
# (client.py), not computed: the reference model below has to agree.

EXPECTED = {
    # testdata/rec/expected_alerts.jsonl: scenarios.pcap and scenarios.pcapng
    "scenarios_pcap": [
        uh("evil.rebind.test:8080"),   # curl --resolve, valid key; and EVIL.Rebind.Test.:8080 folds into it
        uh("localhost"),               # Host: localhost
        uh("127.0.0.1:8080"),          # curl http://127.0.0.1:8080/
        uh("(missing)"),               # HTTP/1.1 with no Host (HTTP/1.0 with none does not count)
        fo("http://evil.rebind.test"),  # Origin; the Referer http://evil.rebind.test/page folds into it
        fo("null"),
        fo("http://evil.rebind.test:8080"),  # Referer only
        kb(fp_key("burst")),
        ks(fp_key("spread_host"), "host"),
        ks(fp_key("spread_client"), "client"),
    ],
    # expected_alerts_ext_log.jsonl: scenarios_access_ext.log. nginx's $host
    # drops the port and, for a request without Host, is the server_name "_".
    "scenarios_ext": [
        uh("evil.rebind.test"),
        uh("localhost"),
        uh("127.0.0.1"),
        uh("_"),
        fo("http://evil.rebind.test"),
        fo("null"),
        fo("http://evil.rebind.test:8080"),
        kb(fp_suffix("burst")),
        ks(fp_suffix("spread_host"), "host"),
        ks(fp_suffix("spread_client"), "client"),
    ],
    # expected_alerts_combined_log.jsonl: no Host, no Origin, key only in the
    # request line's query.
    "scenarios_combined": [
        fo("http://evil.rebind.test"),       # Referer http://evil.rebind.test/page
        fo("http://evil.rebind.test:8080"),  # Referer http://evil.rebind.test:8080/steal?x=1
        ks(fp_key("spread_client"), "client"),
    ],
    "short_pcap": [
        uh("evil.rebind.test:8080"),
        fo("http://evil.rebind.test"),
    ],
    "demo_pcap": [
        uh("evil.rebind.test:8080"),
        uh("localhost:8080"),
        fo("http://evil.rebind.test"),
        fo("null"),
        kb(fp_key("burst")),
        ks(fp_key("spread_client"), "client"),
        ks(fp_key("spread_host"), "host"),
    ],
    "normal_pcap": [],
    "normal_ext": [],
    "normal_combined": [],
}

OUTFILE = {
    "scenarios_pcap": "expected_alerts.jsonl",
    "scenarios_ext": "expected_alerts_ext_log.jsonl",
    "scenarios_combined": "expected_alerts_combined_log.jsonl",
    "short_pcap": "expected_alerts_short.jsonl",
    "demo_pcap": "expected_alerts_demo.jsonl",
}


# ---------------------------------------------------------------------------
# Reference model of the detectors, per DESIGN.md.

class Req:
    __slots__ = ("t", "client", "method", "target", "version", "host", "host_known",
                 "origin", "origin_known", "referer", "key", "src")

    def __init__(self, **kw):
        self.host_known = self.origin_known = True
        self.host = self.origin = self.referer = self.key = None
        self.version = "HTTP/1.1"
        for k, v in kw.items():
            setattr(self, k, v)


def norm_host(h):
    h = h.strip().lower()
    if h.startswith("["):
        end = h.find("]")
        name, rest = h[: end + 1], h[end + 1:]
        return name + rest
    name, sep, port = h.rpartition(":")
    if sep and port.isdigit():
        return name.rstrip(".") + ":" + port
    return h.rstrip(".")


def split_hostport(nh):
    """Name and port ("" when none) of a normalised Host; IPv6 stays bracketed."""
    if nh.startswith("["):
        end = nh.find("]")
        rest = nh[end + 1:]
        return nh[: end + 1], rest[1:] if rest.startswith(":") else ""
    name, sep, port = nh.rpartition(":")
    if sep and port.isdigit():
        return name, port
    return nh, ""


def host_allowed(nh):
    name, _ = split_hostport(nh)
    for p in ALLOWED_HOSTS:
        if p.startswith("*."):
            if name.endswith(p[1:]) and len(name) > len(p) - 1:
                return True
        elif split_hostport(p)[1]:
            if nh == p:
                return True
        elif name == p:
            return True
    return False


def norm_origin(o):
    o = o.strip()
    if o.lower() == "null":
        return "null"
    u = urllib.parse.urlsplit(o)
    scheme = u.scheme.lower()
    host = (u.hostname or "").lower()
    port = u.port
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return "%s://%s" % (scheme, host)
    return "%s://%s:%d" % (scheme, host, port)


def simulate(reqs):
    """Alerts (dicts, in the order raised) the detectors should raise."""
    out = []
    last = {}  # (detector, subject, dim) -> time last counted

    def raise_(t, det, subject, dim=None):
        ident = (det, subject, dim)
        if ident in last and t - last[ident] <= DEDUPE:
            last[ident] = t
            return
        last[ident] = t
        a = {"detector": det, "subject": subject}
        if dim:
            a["dimension"] = dim
        out.append(a)

    burst_times = collections.defaultdict(collections.deque)
    in_burst = set()
    hosts = collections.defaultdict(dict)
    clients = collections.defaultdict(dict)
    for r in sorted(reqs, key=lambda r: r.t):
        if r.host_known:
            if r.host is None:
                if r.version == "HTTP/1.1":
                    raise_(r.t, "unexpected_host", "(missing)")
            else:
                nh = norm_host(r.host)
                if not host_allowed(nh):
                    raise_(r.t, "unexpected_host", nh)
        origin = None
        if r.origin_known and r.origin is not None:
            origin = norm_origin(r.origin)
        elif CHECK_REFERER and r.referer is not None:
            origin = norm_origin(r.referer)
        if origin is not None:
            if origin == "null":
                if not ALLOW_NULL:
                    raise_(r.t, "foreign_origin", "null")
            elif origin not in ALLOWED_ORIGINS:
                raise_(r.t, "foreign_origin", origin)
        if r.key:
            q = burst_times[r.key]
            q.append(r.t)
            while q and q[0] <= r.t - BURST_WINDOW:
                q.popleft()
            if len(q) > BURST_MAX:
                if r.key not in in_burst:
                    in_burst.add(r.key)
                    raise_(r.t, "key_burst", r.key)
            else:
                in_burst.discard(r.key)
            for table, value, limit, dim in (
                    (hosts, norm_host(r.host) if (r.host_known and r.host) else None, SPREAD_MAX_HOSTS, "host"),
                    (clients, r.client, SPREAD_MAX_CLIENTS, "client")):
                if value is None:
                    continue
                seen = table[r.key]
                seen[value] = r.t
                for v in [v for v, t in seen.items() if t <= r.t - SPREAD_WINDOW]:
                    del seen[v]
                if len(seen) > limit:
                    raise_(r.t, "key_spread", r.key, dim)
    return out


# ---------------------------------------------------------------------------
# Key extraction, as rebindwatch's default [keys].

QUERY_KEYS = ["api_key", "apikey", "key", "access_token", "token"]


def key_from_target(target):
    _, _, q = target.partition("?")
    for name in QUERY_KEYS:
        for pair in q.split("&"):
            k, _, v = pair.partition("=")
            if k == name and v:
                return urllib.parse.unquote_plus(v)
    return None


def key_from_headers(hdrs, target):
    for name, value in hdrs:
        if name.lower() == "x-api-key" and value.strip():
            return value.strip()
    for name, value in hdrs:
        if name.lower() == "authorization":
            scheme, _, cred = value.strip().partition(" ")
            if scheme.lower() in ("bearer", "token", "apikey") and cred.strip():
                return cred.strip()
    return key_from_target(target)


def redact(s):
    for role, key in K.items():
        s = s.replace(key, "{" + role + "}")
    return s


# ---------------------------------------------------------------------------
# Readers.

def pairs_hook(pairs):
    return pairs  # keep duplicate keys: tshark repeats http.request.line


def get(pairs, name):
    return [v for k, v in pairs if k == name]


REQ_LINE = re.compile(r"^(\S+) (\S+) (HTTP/\d\.\d)\\r\\n$")


def tshark_requests(path):
    """Every HTTP request tshark finds in a capture, in capture order."""
    out = subprocess.run(
        ["tshark", "-r", path, "-Y", "http.request", "-T", "json", "-j", "frame ip ipv6 tcp http"],
        capture_output=True, text=True, check=True)
    reqs = []
    for pkt in json.loads(out.stdout, object_pairs_hook=pairs_hook):
        layers = get(get(pkt, "_source")[0], "layers")[0]
        t = float(get(get(layers, "frame")[0], "frame.time_epoch")[0])
        ip = (get(layers, "ip") or get(layers, "ipv6"))[0]
        src = (get(ip, "ip.src") or get(ip, "ipv6.src"))[0]
        for http in get(layers, "http"):
            line = next((k for k, _ in http if REQ_LINE.match(k)), None)
            if line is None:
                continue
            method, target, version = REQ_LINE.match(line).groups()
            hdrs = []
            for h in get(http, "http.request.line"):
                name, _, value = h.rstrip("\r\n").partition(":")
                hdrs.append((name, value.strip()))
            hmap = collections.defaultdict(list)
            for n, v in hdrs:
                hmap[n.lower()].append(v)
            key = key_from_headers(hdrs, target)
            reqs.append(Req(
                t=t, client=src, method=method, target=target, version=version,
                host=hmap["host"][0] if hmap["host"] else None,
                origin=hmap["origin"][0] if hmap["origin"] else None,
                referer=hmap["referer"][0] if hmap["referer"] else None,
                key=fp(key) if key else None, src="pcap"))
    return reqs


EXT_RE = re.compile(
    r'^(\S+) - (\S+) \[([^\]]+)\] "([^"]*)" (\d{3}) (\d+) "([^"]*)" "([^"]*)" '
    r'host="([^"]*)" origin="([^"]*)" key="([^"]*)" rt=(\S+)$')
COMBINED_RE = re.compile(r'^(\S+) - (\S+) \[([^\]]+)\] "([^"]*)" (\d{3}) (\d+) "([^"]*)" "([^"]*)"$')


def dash(v):
    return None if v in ("-", "") else v


def split_request(line):
    parts = line.split(" ")
    if len(parts) == 3:
        return parts
    return [parts[0], "", ""]


def ext_requests(path):
    reqs = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = EXT_RE.match(line.rstrip("\n"))
            if not m:
                raise SystemExit("%s:%d: does not match the rebind format" % (path, n))
            addr, _, ts, request, status, _, ref, ua, host, origin, sfx, _ = m.groups()
            method, target, version = split_request(request)
            reqs.append(Req(
                t=datetime.datetime.fromisoformat(ts).timestamp(), client=addr, method=method,
                target=target, version=version, host=host, origin=dash(origin), referer=dash(ref),
                key=fp(sfx) if dash(sfx) else None, src="ext"))
    return reqs


def combined_requests(path):
    reqs = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = COMBINED_RE.match(line.rstrip("\n"))
            if not m:
                raise SystemExit("%s:%d: does not match combined" % (path, n))
            addr, _, ts, request, status, _, ref, ua = m.groups()
            method, target, version = split_request(request)
            key = key_from_target(target)
            reqs.append(Req(
                t=datetime.datetime.strptime(ts, "%d/%b/%Y:%H:%M:%S %z").timestamp(), client=addr,
                method=method, target=target, version=version, host_known=False,
                origin_known=False, referer=dash(ref), key=fp(key) if key else None, src="combined"))
    return reqs


def manifest(path):
    phases, sent = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            (sent if "method" in o else phases).append(o)
    return phases, sent


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

    def same_requests(self, label, sent, got):
        """The capture holds exactly the requests sent, as sent."""
        want = collections.Counter(
            (s["client"], s["method"], s["host"], s["target"], s.get("origin"), s.get("referer")) for s in sent)
        have = collections.Counter(
            (r.client, r.method, r.host, redact(r.target), r.origin, r.referer) for r in got)
        missing, extra = want - have, have - want
        self.expect(not missing, "%s: %d sent requests not in capture: %s" % (label, sum(missing.values()),
                                                                              list(missing)[:5]))
        self.expect(not extra, "%s: %d requests in capture not sent: %s" % (label, sum(extra.values()),
                                                                            list(extra)[:5]))
        print("ok   %s: %d requests, all as sent" % (label, len(got)) if not missing and not extra else
              "     %s: %d requests" % (label, len(got)))

    def alerts(self, label, reqs, want):
        got = simulate(reqs)
        norm = lambda xs: sorted(json.dumps(x, sort_keys=True) for x in xs)  # noqa: E731
        ok = self.expect(norm(got) == norm(want), "%s: reference model raises %s, expected %s" % (
            label, json.dumps(got), json.dumps(want)))
        if ok:
            print("ok   %s: %d alerts as expected" % (label, len(got)))
        return got


def write_jsonl(path, alerts):
    with open(path, "w", encoding="utf-8") as f:
        for a in alerts:
            keys = ["detector", "subject"] + (["dimension"] if "dimension" in a else [])
            f.write(json.dumps({k: a[k] for k in keys}, separators=(",", ":")) + "\n")


def write_tsv(pcap, path):
    out = subprocess.run(
        ["tshark", "-r", pcap, "-Y", "http.request", "-T", "fields", "-e", "tcp.stream",
         "-e", "http.request.method", "-e", "http.host", "-e", "http.request.uri"],
        capture_output=True, text=True, check=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(out.stdout)


def write_timeline(phases, sent, path):
    """Per phase: seconds from the first mark to its first and last request
    (as the client saw them answered), and how many requests it sent."""
    t0 = phases[0]["t"]
    with open(path, "w", encoding="utf-8") as f:
        f.write("phase\tfirst_s\tlast_s\trequests\n")
        for p in phases[:-1]:
            ts = [s["t"] for s in sent if s["phase"] == p["phase"]]
            if ts:
                f.write("%s\t%.2f\t%.2f\t%d\n" % (p["phase"], min(ts) - t0, max(ts) - t0, len(ts)))


def order_like(alerts, reference):
    """Expected alerts in the order the reference model raised them."""
    pos = {json.dumps(a, sort_keys=True): i for i, a in enumerate(reference)}
    return sorted(alerts, key=lambda a: pos.get(json.dumps(a, sort_keys=True), len(pos)))


def check_log_count(c, label, path, sent):
    with open(path, encoding="utf-8") as f:
        n = sum(1 for _ in f)
    c.expect(n == len(sent), "%s: %d lines for %d requests sent" % (label, n, len(sent)))


def check_secrecy_of_suffix(c, path):
    """The key= field of the extended log is never a whole key."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = EXT_RE.match(line.rstrip("\n"))
            sfx = m.group(11)
            c.expect(sfx in ("", "-") or (len(sfx) == 8 and sfx not in K.values()),
                     "%s: key field %r is not an 8-char suffix" % (path, redact(sfx)))


def run_normal(work, out):
    c = Checker()
    phases, sent = manifest(os.path.join(work, "normal.jsonl"))
    pcap = tshark_requests(os.path.join(out, "normal.pcap"))
    c.same_requests("normal.pcap", sent, pcap)
    c.alerts("normal.pcap", pcap, EXPECTED["normal_pcap"])
    ext = os.path.join(out, "normal_access_ext.log")
    comb = os.path.join(out, "normal_access_combined.log")
    check_log_count(c, "normal ext log", ext, sent)
    check_log_count(c, "normal combined log", comb, sent)
    check_secrecy_of_suffix(c, ext)
    c.alerts("normal ext log", ext_requests(ext), EXPECTED["normal_ext"])
    c.alerts("normal combined log", combined_requests(comb), EXPECTED["normal_combined"])
    check_normal_limits(c, sent)
    write_tsv(os.path.join(out, "normal.pcap"), os.path.join(out, "requests_tshark_normal.tsv"))
    write_timeline(phases, sent, os.path.join(out, "timeline_normal.tsv"))
    return c


def check_normal_limits(c, sent):
    """The brief's limits on normal traffic, checked on what was sent."""
    by_key = collections.defaultdict(list)
    for s in sent:
        if s["key"]:
            by_key[s["key"]].append(s)
    for key, ss in by_key.items():
        ts = sorted(s["t"] for s in ss)
        peak = max(sum(1 for u in ts if t <= u < t + 10) for t in ts)
        c.expect(peak < 20, "normal: key %s makes %d requests in 10 s" % (key, peak))
        c.expect(len({s["client"] for s in ss}) <= 2, "normal: key %s from > 2 clients" % key)
        c.expect(len({s["host"] for s in ss}) <= 2, "normal: key %s under > 2 Hosts" % key)


def run_scenarios(work, out):
    c = Checker()
    phases, sent = manifest(os.path.join(work, "scenarios.jsonl"))
    pcap = tshark_requests(os.path.join(out, "scenarios.pcap"))
    c.same_requests("scenarios.pcap", sent, pcap)
    ref = c.alerts("scenarios.pcap", pcap, EXPECTED["scenarios_pcap"])
    ng = tshark_requests(os.path.join(out, "scenarios.pcapng"))
    c.same_requests("scenarios.pcapng", sent, ng)
    c.alerts("scenarios.pcapng", ng, EXPECTED["scenarios_pcap"])
    ext = os.path.join(out, "scenarios_access_ext.log")
    comb = os.path.join(out, "scenarios_access_combined.log")
    check_log_count(c, "scenarios ext log", ext, sent)
    check_log_count(c, "scenarios combined log", comb, sent)
    check_secrecy_of_suffix(c, ext)
    ref_ext = c.alerts("scenarios ext log", ext_requests(ext), EXPECTED["scenarios_ext"])
    ref_comb = c.alerts("scenarios combined log", combined_requests(comb), EXPECTED["scenarios_combined"])
    # Intended Host / Origin / status per scenario request, spot checks.
    st = collections.Counter((s["phase"], s["status"]) for s in sent)
    c.expect(st[("key_burst", 200)] == 150, "key_burst: %r" % st)
    c.expect(st[("key_spread_client", 200)] == 25, "key_spread_client: %r" % st)
    c.expect(st[("unexpected_host", 400)] == 1, "missing Host should get nginx's 400: %r" % st)
    burst = sorted(s["t"] for s in sent if s["phase"] == "key_burst")
    c.expect(burst[-1] - burst[0] < 8, "burst took %.1f s" % (burst[-1] - burst[0]))
    print("     key_burst: 150 requests in %.2f s" % (burst[-1] - burst[0]))

    for name, exp in (("scenarios_pcap", EXPECTED["scenarios_pcap"]), ("scenarios_ext", EXPECTED["scenarios_ext"]),
                      ("scenarios_combined", EXPECTED["scenarios_combined"])):
        r = {"scenarios_pcap": ref, "scenarios_ext": ref_ext, "scenarios_combined": ref_comb}[name]
        write_jsonl(os.path.join(out, OUTFILE[name]), order_like(exp, r))
    write_tsv(os.path.join(out, "scenarios.pcap"), os.path.join(out, "requests_tshark.tsv"))
    write_timeline(phases, sent, os.path.join(out, "timeline_scenarios.tsv"))

    # The truncated copies: shorter, and cut inside a record.
    for trunc, full in (("scenarios_truncated.pcap", "scenarios.pcap"),
                        ("scenarios_truncated.pcapng", "scenarios.pcapng")):
        tp, fpth = os.path.join(out, trunc), os.path.join(out, full)
        size = os.path.getsize(tp)
        c.expect(size == cut_point(fpth), "%s: %d bytes, want %d" % (trunc, size, cut_point(fpth)))

    # Link-type variants of the short run.
    phases_s, sent_s = manifest(os.path.join(work, "short.jsonl"))
    ref_s = None
    for f, want in (("short_any_sll.pcap", (b"\xd4\xc3\xb2\xa1", 113)),
                    ("short_any_sll2.pcap", (b"\xd4\xc3\xb2\xa1", 276)),
                    ("short_lo_nano.pcap", (b"\x4d\x3c\xb2\xa1", 1))):
        with open(os.path.join(out, f), "rb") as fh:
            head = fh.read(24)
        got = (head[:4], struct.unpack_from("<I", head, 20)[0])
        c.expect(got == want, "%s: magic/link type %r, want %r" % (f, got, want))
        rs = tshark_requests(os.path.join(out, f))
        c.same_requests(f, sent_s, rs)
        ref_s = c.alerts(f, rs, EXPECTED["short_pcap"])
    write_jsonl(os.path.join(out, OUTFILE["short_pcap"]), order_like(EXPECTED["short_pcap"], ref_s))
    return c


def run_demo(work, out):
    c = Checker()
    phases, sent = manifest(os.path.join(work, "demo.jsonl"))
    reqs = tshark_requests(os.path.join(out, "demo.pcapng"))
    c.same_requests("demo.pcapng", sent, reqs)
    ref = c.alerts("demo.pcapng", reqs, EXPECTED["demo_pcap"])
    write_jsonl(os.path.join(out, OUTFILE["demo_pcap"]), order_like(EXPECTED["demo_pcap"], ref))
    write_timeline(phases, sent, os.path.join(out, "timeline_demo.tsv"))
    span = max(r.t for r in reqs) - min(r.t for r in reqs)
    c.expect(50 < span < 70, "demo spans %.1f s" % span)
    print("     demo: %d requests over %.1f s" % (len(reqs), span))
    return c


# ---------------------------------------------------------------------------
# Where to cut a capture: in the middle of the data of its middle record.

def cut_point(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):  # pcap, little-endian (us/ns)
        off, recs = 24, []
        while off + 16 <= len(data):
            incl = struct.unpack_from("<I", data, off + 8)[0]
            recs.append((off, incl))
            off += 16 + incl
        start, incl = recs[len(recs) // 2]
        return start + 16 + incl // 2
    if magic == b"\x0a\x0d\x0d\x0a":  # pcapng, assume little-endian (dumpcap on x86)
        off, blocks = 0, []
        while off + 12 <= len(data):
            btype, blen = struct.unpack_from("<II", data, off)
            if btype == 6:  # Enhanced Packet Block
                blocks.append((off, blen))
            off += blen
        start, blen = blocks[len(blocks) // 2]
        return start + blen // 2
    raise SystemExit("%s: not a little-endian pcap or pcapng" % path)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "cut":
        print(cut_point(sys.argv[2]))
        return
    if len(sys.argv) != 4 or sys.argv[1] not in ("normal", "scenarios", "demo"):
        sys.exit("usage: check.py normal|scenarios|demo WORK OUT | check.py cut FILE")
    c = {"normal": run_normal, "scenarios": run_scenarios, "demo": run_demo}[sys.argv[1]](sys.argv[2], sys.argv[3])
    if c.errors:
        sys.exit("%s: %d check(s) failed" % (sys.argv[1], len(c.errors)))
    print("ok   %s: all checks passed" % sys.argv[1])


if __name__ == "__main__":
    main()
