#!/usr/bin/python3
"""Drives the traffic of the trust recordings (testdata/trust/record.sh).

    /usr/bin/python3 client.py day|dns|names|pna_chromium|pna_granted|pna_denied|stuffing MANIFEST

Run only inside record.sh's private network namespace, against the nginx,
Flask app and dnsmasq it starts. Requests are made by real clients: curl (one
process per request, bound to a source address with --interface), the C
library's resolver (getaddrinfo, through the namespace's /etc/resolv.conf)
and headless Chromium (Debian's chromium), which follows the site's links
itself so that every Referer it sends is its own.

MANIFEST receives one JSON object a line: one per request curl sent (phase,
client, method, Host as sent, target, Origin, Referer, the key's ROLE name,
never the key, status), one per name resolved ({"resolve": ...}) and one per
browser visit ({"visit": ...}). check.py compares it with what tshark finds
in the capture.

Every loop has a fixed count and every network call a timeout.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import keys  # noqa: E402

TIMEOUT = 10  # seconds, per curl or resolver call
K = keys.ALL
UA_BROWSER = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "HeadlessChrome/156.0.0.0 Safari/537.36")


class Manifest:
    """Thread-safe JSON-lines writer of what was sent."""

    def __init__(self, path):
        self._f = open(path, "w", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, obj):
        obj = {"t": round(time.time(), 6), **obj}
        with self._lock:
            self._f.write(json.dumps(obj, sort_keys=True) + "\n")
            self._f.flush()

    def close(self):
        self._f.close()


M = None  # the Manifest of this run


def curl(phase, src, url, *, method="GET", host=None, resolve=None, key=None, key_in="x-api-key",
         origin=None, referer=None, headers=(), json_body=None, data=None, ua=None, want=None):
    """One request with curl from source address src.

    url is what curl is asked for ("http://NAME:PORT/path"); resolve="ADDR"
    pins NAME to ADDR (curl --resolve), so no resolver is asked; host
    overrides the Host header. key is a role in keys.py, sent as key_in
    (x-api-key, bearer, query, or headers: in place of "{key}" in the
    values of headers). headers are sent as given, in order, after
    curl's own Host (one of them named like one of curl's replaces it; an
    Origin or Referer among them is recorded as such). The manifest gets the
    target with the key's role in place of a query key. want: the status the
    server must answer, checked here.
    """
    scheme_host, _, path = url.partition("//")[2].partition("/")
    path = "/" + path
    target = path
    args = ["curl", "-sS", "--http1.1", "--noproxy", "*", "--max-time", str(TIMEOUT),
            "--interface", src, "-o", "/dev/null", "-w", "%{http_code}"]
    if resolve:
        name, _, port = scheme_host.partition(":")
        args += ["--resolve", "%s:%s:%s" % (name, port or "80", resolve)]
    sent_host = scheme_host if not scheme_host.endswith(":80") else scheme_host[:-3]
    if host is not None:
        args += ["-H", "Host: " + host]
        sent_host = host
    if key is not None:
        if key_in == "x-api-key":
            args += ["-H", "X-API-Key: " + K[key]]
        elif key_in == "bearer":
            args += ["-H", "Authorization: Bearer " + K[key]]
        elif key_in == "query":
            sep = "&" if "?" in path else "?"
            url += sep + "api_key=" + K[key]
            target = path + sep + "api_key={" + key + "}"
        elif key_in == "headers":
            headers = [(k, v.replace("{key}", K[key])) for k, v in headers]
        else:
            raise ValueError(key_in)
    if origin is not None:
        args += ["-H", "Origin: " + origin]
    if referer is not None:
        args += ["-H", "Referer: " + referer]
    if ua is not None:
        args += ["-A", ua]
    for k, v in headers:
        args += ["-H", "%s:%s" % (k, " " + v if v else "")]
        if k.lower() == "origin":
            origin = v
        elif k.lower() == "referer":
            referer = v
    if method == "HEAD":
        args += ["-I"]
    elif method != "GET":
        args += ["-X", method]
    if json_body is not None:
        args += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(json_body)]
    if data is not None:
        args += ["--data-binary", data]
    args.append(url)
    out = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT + 5)
    status = int(out.stdout.strip() or 0)
    M.write({"phase": phase, "client": src, "method": method, "host": sent_host, "target": target,
             "origin": origin, "referer": referer, "key": key, "status": status})
    if want is not None and status != want:
        raise SystemExit("client.py: %s %s %s (Host %s) got %d, want %d: %s" % (
            phase, method, target, sent_host, status, want, out.stderr.strip()))
    return status


def resolve(phase, name):
    """The C library's resolver (A and AAAA), as any program on the host."""
    try:
        infos = socket.getaddrinfo(name, 8080, socket.AF_UNSPEC, socket.SOCK_STREAM)
        addrs = sorted({i[4][0] for i in infos})
    except socket.gaierror as e:
        addrs = ["error: %s" % e]
    M.write({"phase": phase, "resolve": name, "addrs": addrs})
    return addrs


def sleep_until(t):
    time.sleep(max(0.0, t - time.time()))


# ------------------------------------------------------------ 1. a normal day

SITE_ADDR = "192.0.2.10"
EXT_ADDR = "192.0.2.20"
CHROMIUM = ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--enable-logging=stderr", "--log-level=0"]
RESOLVER_RULES = ("MAP www.shop.test %s, MAP shop.test %s, MAP *.example %s, MAP * ~NOTFOUND"
                  % (SITE_ADDR, SITE_ADDR, EXT_ADDR))

# Visits: (visitor address, profile, start page, tour of the shop). A
# profile used again is a returning visitor (its cache makes 304s). The
# start pages are the other sites' (ext/), each following its link number
# "to"; None is a URL typed or bookmarked (no Referer).
VISITS = [
    ("198.51.100.11", "a", ("search.example/search.html", 0), "products,item-1"),
    ("198.51.100.12", "b", ("search.example/search.html", 1), "item-2,products"),
    ("198.51.100.13", "c", ("search.example/search.html", 2), "products"),
    ("198.51.100.14", "d", ("forum.example/t/4711-which-rope.html", 0), "products,item-3"),
    ("198.51.100.15", "e", ("forum.example/t/4711-which-rope.html", 1), "item-1,contact,submit"),
    ("198.51.100.16", "f", ("news.example/2026/11/tools.html", 0), "products,item-2"),
    ("198.51.100.17", "g", ("blog.example/post.html", 0), "contact,submit,home"),
    ("198.51.100.18", "h", ("social.example/feed.html", 0), "products"),
    ("198.51.100.19", "i", None, "about"),
    ("198.51.100.11", "a", None, "item-3"),
    ("198.51.100.20", "j", ("search.example/search.html", 0), ""),
    ("198.51.100.14", "d", ("search.example/search.html", 1), "item-1,products,item-2"),
    ("198.51.100.21", "k", ("forum.example/t/4711-which-rope.html", 0), "about,contact"),
    ("198.51.100.12", "b", ("social.example/feed.html", 0), "products,item-1,products,item-3"),
    ("198.51.100.22", "l", ("news.example/2026/11/tools.html", 0), "about,contact,submit"),
    ("198.51.100.23", "m", ("search.example/search.html", 2), "products,item-2,products,item-1"),
    ("198.51.100.13", "c", None, "item-1,products"),
    ("198.51.100.24", "n", ("blog.example/post.html", 0), "home,item-2"),
    ("198.51.100.25", "o", ("forum.example/t/4711-which-rope.html", 1), "item-3,about"),
    ("198.51.100.16", "f", ("search.example/search.html", 0), "contact"),
    ("198.51.100.26", "p", ("social.example/feed.html", 0), "about,home,products"),
    ("198.51.100.20", "j", None, "contact,submit"),
]
VISIT_TIMEOUT = 20  # seconds per visit


def visit(n, src, profile, start, tour, workdir):
    """One visitor: a headless Chromium on a profile of its own, its
    connections to the site leaving from src, until its tour is done."""
    # Connections to the site take src as their source address: the local
    # route's preferred source (record.sh added src to lo).
    subprocess.run(["ip", "route", "replace", "local", SITE_ADDR, "dev", "lo", "table", "local",
                    "proto", "kernel", "scope", "host", "src", src], check=True)
    if start is None:
        url = "http://www.shop.test/" + ("products.html" if tour.startswith("item") else "")
        url += "#tour=" + tour
    else:
        url = "http://%s#to=%d&tour=%s" % (start[0], start[1], tour)
    log = os.path.join(workdir, "chromium-%02d.log" % n)
    args = CHROMIUM + ["--user-data-dir=" + os.path.join(workdir, "profile-" + profile),
                       "--host-resolver-rules=" + RESOLVER_RULES, url]
    t0 = time.time()
    with open(log, "w") as f:
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=f)
    done = False
    try:
        while time.time() - t0 < VISIT_TIMEOUT:
            with open(log, errors="replace") as f:
                if '"tour done"' in f.read():
                    done = True
                    break
            if p.poll() is not None:
                break
            time.sleep(0.1)
        time.sleep(0.3)  # the last requests' answers
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    M.write({"phase": "visit", "visit": n, "client": src, "profile": profile, "url": url.split("#")[0],
             "tour": tour, "done": done, "seconds": round(time.time() - t0, 2)})
    if not done:
        raise SystemExit("client.py: visit %d (%s) did not finish its tour; see %s" % (n, url, log))


def day_background(stop, errors):
    """What else a site sees while people browse: a load balancer's and a
    local monitor's health checks (IP-literal Hosts), partners calling the
    API with their keys, crawlers reading robots.txt and pages."""
    site = "http://%s" % SITE_ADDR

    def every(period, count, fn):
        def run():
            try:
                for i in range(count):
                    if stop.is_set():
                        return
                    fn(i)
                    stop.wait(period)
            except BaseException as e:  # noqa: BLE001 - reported by the main thread
                errors.append(e)
        th = threading.Thread(target=run, daemon=True)
        th.start()
        return th

    threads = [
        # The load balancer, by the server's address, and a monitor on the host itself.
        every(2.0, 200, lambda i: curl("health", "10.0.0.2", site + "/health", ua="ELB-HealthChecker/2.0", want=200)),
        every(5.0, 80, lambda i: curl("health", "127.0.0.1", "http://127.0.0.1/health",
                                      ua="Prometheus/2.42.0", want=200)),
        # Partners: one key each, in the three usual places.
        every(7.0, 30, lambda i: curl("partner", "198.51.100.50", "http://www.shop.test/api/v1/items",
                                      resolve=SITE_ADDR, key="partner_1", ua="partner-sync/1.4", want=200)),
        every(9.0, 30, lambda i: curl("partner", "198.51.100.51",
                                      "http://www.shop.test/api/v1/items/%d" % (1 + i % 3), resolve=SITE_ADDR,
                                      key="partner_2", key_in="bearer", ua="python-requests/2.28.1", want=200)),
        every(11.0, 20, lambda i: curl("partner", "198.51.100.52", "http://www.shop.test/api/v1/items",
                                       resolve=SITE_ADDR, key=("revoked_1" if i == 0 else "partner_3"),
                                       key_in="query", ua="curl/7.88.1", want=(403 if i == 0 else 200))),
    ]
    return threads


def crawlers():
    bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    bing = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
    for src, ua, paths in (("198.51.100.80", bot, ["/robots.txt", "/", "/products.html", "/item-1.html",
                                                   "/item-2.html", "/item-3.html", "/about.html"]),
                           ("198.51.100.81", bing, ["/robots.txt", "/", "/favicon.ico", "/contact.html"])):
        for p in paths:
            curl("crawler", src, "http://www.shop.test" + p, resolve=SITE_ADDR, ua=ua, want=200)
            time.sleep(0.2)
    # A feed reader's favicon, and a visitor with curl following the bare domain.
    curl("crawler", "198.51.100.82", "http://www.shop.test/favicon.ico", resolve=SITE_ADDR,
         ua="FreshRSS/1.21.0 (Linux; https://freshrss.org)", want=200)
    curl("crawler", "198.51.100.82", "http://shop.test/", resolve=SITE_ADDR, ua="curl/7.88.1", want=301)


def run_day(workdir):
    stop, errors = threading.Event(), []
    threads = day_background(stop, errors)
    try:
        time.sleep(3)
        for n, (src, profile, start, tour) in enumerate(VISITS):
            visit(n, src, profile, start, tour, workdir)
            if n == 8:
                crawlers()
            time.sleep(1.5)
            if errors:
                raise errors[0]
        time.sleep(3)
    finally:
        stop.set()
        for th in threads:
            th.join(TIMEOUT + 5)
    if errors:
        raise errors[0]


# ----------------------------------------------- 2. private answers over DNS

API = "http://%s:8080"
DNS_CLIENT = "127.0.0.1"  # the resolver's and curl's source on this host


def run_dns(hosts_file, dnsmasq_pid):
    """The allowed names resolve to private addresses (the API is internal),
    with a 2-second TTL; evil.rebind.test first resolves to a public address,
    then to 127.0.0.1, and is then requested."""

    def api(name, path, **kw):
        return curl("dns", DNS_CLIENT, (API % name) + path, **kw)

    for i in range(3):
        resolve("dns", "api.rebind.test")
        api("api.rebind.test", "/v1/items", key="dns_client", want=200)
        api("api.rebind.test", "/v1/items/%d" % (i + 1), key="dns_client", key_in="bearer", want=200)
        resolve("dns", "eu.api.rebind.test")
        api("eu.api.rebind.test", "/v1/items", key="dns_client", want=200)
        time.sleep(2.5)  # past the TTL: the next lookup asks the server again
    # The attacker's name: public while the page loads, then flipped.
    for _ in range(2):
        if resolve("evil", "evil.rebind.test") != ["93.184.216.34"]:
            raise SystemExit("client.py: evil.rebind.test should resolve to 93.184.216.34 first")
        time.sleep(2.5)
    with open(hosts_file, "w") as f:
        f.write(HOSTS_AFTER)
    os.kill(dnsmasq_pid, 1)  # SIGHUP: dnsmasq re-reads its hosts file and clears its cache
    time.sleep(0.5)
    if resolve("evil", "evil.rebind.test") != ["127.0.0.1"]:
        raise SystemExit("client.py: evil.rebind.test did not flip to 127.0.0.1")
    # curl resolves the name itself (the C library again), as a browser would.
    curl("evil", DNS_CLIENT, (API % "evil.rebind.test") + "/health", ua=UA_BROWSER, want=200)
    curl("evil", DNS_CLIENT, (API % "evil.rebind.test") + "/v1/items", ua=UA_BROWSER,
         referer="http://evil.rebind.test:8080/", want=401)
    time.sleep(1)
    resolve("dns", "api.rebind.test")
    api("api.rebind.test", "/v1/items", key="dns_client", want=200)


HOSTS_BEFORE = """# dnsmasq hosts file of testdata/trust/record.sh (dns)
10.10.0.1 api.rebind.test
127.0.0.1 eu.api.rebind.test
93.184.216.34 evil.rebind.test
"""
HOSTS_AFTER = HOSTS_BEFORE.replace("93.184.216.34 evil", "127.0.0.1 evil")


# ------------------------------------------------ 3. rebinding tools' names

# Canonical names, as each tool documents them, and mixed-case spellings of
# some (DNS 0x20: resolvers randomise the case of the names they ask).
REBIND_NAMES = [
    "7f000001.c0a80001.rbndr.us",
    "A.52.23.194.42.1time.127.0.0.1.forever.rebind.network",
    "s-35.185.206.165-127.0.0.1-4187813289-fs-e.dynamic.rebind.it",
    "s-23b9cea5-7f000001-99-rr-e.attacker.example",
    "make-1.2.3.4-rebind-127.0.0.1-rr.1u.ms",
    "make-1-2-3-4-rebind-169-254-169-254-rr.1u.ms",
    "127.0.0.1.nip.io",
    "127-0-0-1.sslip.io",
    "10.0.0.1.xip.io",
]
REBIND_MIXED = [
    "7F000001.C0A80001.RbNdR.uS",
    "a.52.23.194.42.1TiMe.127.0.0.1.FoReVeR.ReBiNd.NeTwOrK",
    "127.0.0.1.NiP.iO",
    "S-23B9CEA5-7F000001-99-RR-E.Attacker.Example",
]
NAMES_CLIENT = "127.0.0.66"  # the victim's browser host


def run_names():
    """What a browser on a rebound page sends, by curl: GETs with the page as
    Referer and no Origin, a POST with the page's Origin. The page does not
    know the API's keys: only the legitimate web app's requests carry one."""
    for i in range(3):
        curl("legit", "127.0.0.67", "http://api.rebind.test:8080/v1/items", resolve="127.0.0.1",
             key="names", origin="https://app.rebind.test", referer="https://app.rebind.test/", want=200)
        time.sleep(0.1)
    for name in REBIND_NAMES:
        base = "http://%s:8080" % name
        curl("names", NAMES_CLIENT, base + "/health", resolve="127.0.0.1", ua=UA_BROWSER,
             referer=base + "/", want=200)
        curl("names", NAMES_CLIENT, base + "/v1/items", resolve="127.0.0.1", ua=UA_BROWSER,
             referer=base + "/", want=401)
        curl("names", NAMES_CLIENT, base + "/v1/items", method="POST", resolve="127.0.0.1", ua=UA_BROWSER,
             origin=base, referer=base + "/", json_body={"name": "x"}, want=401)
        time.sleep(0.2)
    for name in REBIND_MIXED:
        base = "http://%s:8080" % name
        curl("names-mixed", NAMES_CLIENT, base + "/v1/items/1", resolve="127.0.0.1", ua=UA_BROWSER,
             referer=base + "/", want=401)
        curl("names-mixed", NAMES_CLIENT, base + "/v1/items", method="POST", resolve="127.0.0.1",
             ua=UA_BROWSER, origin=base, json_body={"name": "y"}, want=401)
        time.sleep(0.2)
    for i in range(2):
        curl("legit", "127.0.0.67", "http://api.rebind.test:8080/v1/items/2", resolve="127.0.0.1",
             key="names", key_in="bearer", want=200)


# ------------------------------------------- 4. private network preflights

PNA_API = "10.0.0.5"  # the API's private address; api.rebind.test there
ATTACKER = "203.0.113.10"  # the page's public address; attacker.rebind.test there
PNA_CLIENT = "10.0.0.77"  # the victim's browser host, on the private network


def run_pna_chromium(workdir):
    """A real browser: headless Chromium loads http://attacker.rebind.test/
    (a public address) whose script PUTs to http://api.rebind.test:8080 (a
    private one) with an X-API-Key: a non-simple request, so the browser
    sends a CORS preflight first. Local Network Access checks are turned off
    (--disable-features=LocalNetworkAccessChecks): with them on, Chromium 156
    refuses the request before connecting (no permission in headless mode)."""
    subprocess.run(["ip", "route", "replace", "local", PNA_API, "dev", "lo", "table", "local",
                    "proto", "kernel", "scope", "host", "src", PNA_CLIENT], check=True)
    log = os.path.join(workdir, "chromium-pna.log")
    args = CHROMIUM + ["--user-data-dir=" + os.path.join(workdir, "profile-pna"),
                       "--host-resolver-rules=MAP attacker.rebind.test %s, MAP api.rebind.test %s, MAP * ~NOTFOUND"
                       % (ATTACKER, PNA_API),
                       "--disable-features=LocalNetworkAccessChecks", "http://attacker.rebind.test/"]
    t0 = time.time()
    with open(log, "w") as f:
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=f)
    result = None
    try:
        while time.time() - t0 < VISIT_TIMEOUT and result is None:
            with open(log, errors="replace") as f:
                for line in f:
                    if '"pna result ' in line:
                        result = line.split('"pna result ', 1)[1].split('"', 1)[0]
            if p.poll() is not None:
                break
            time.sleep(0.1)
        time.sleep(0.3)
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    M.write({"phase": "pna_chromium", "visit": 0, "client": PNA_CLIENT, "url": "http://attacker.rebind.test/",
             "result": result})
    if result != "200":
        raise SystemExit("client.py: the page's PUT did not succeed (%r); see %s" % (result, log))


# Exactly the headers Chromium 156 sent in run_pna_chromium's preflight to
# http://api.rebind.test:8080 (an http: URL, so no Sec-Fetch-Site/-Dest and
# no br/zstd), in its order, plus the Private Network Access header older
# Chromium versions (104 to about 130) added, or its successor.
def preflight_headers(page, pna_header):
    return [
        ("Connection", "keep-alive"),
        ("Accept", "*/*"),
        ("Access-Control-Request-Method", "PUT"),
        ("Access-Control-Request-Headers", "content-type,x-api-key"),
        (pna_header, "true"),
        ("Origin", page),
        ("User-Agent", UA_BROWSER),
        ("Sec-Fetch-Mode", "cors"),
        ("Referer", page + "/"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Accept-Language", "en-US,en;q=0.9"),
    ]


# What Chromium 156 sent as the PUT itself, in its order (curl adds the
# Content-Length).
def put_headers(page):
    return [
        ("Connection", "keep-alive"),
        ("User-Agent", UA_BROWSER),
        ("Content-Type", "application/json"),
        ("X-API-Key", "{key}"),
        ("Accept", "*/*"),
        ("Origin", page),
        ("Referer", page + "/"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Accept-Language", "en-US,en;q=0.9"),
    ]


def run_pna(granted):
    """Two pages, each one preflight (what a browser that implements Private
    Network Access sends before a page on a public address may reach a
    private one), then, only if the server granted it, the PUT itself."""
    url = "http://api.rebind.test:8080/v1/items/2"
    for page, hdr in (("http://attacker.rebind.test", "Access-Control-Request-Private-Network"),
                      ("http://203.0.113.10", "Access-Control-Request-Local-Network")):
        # curl's own User-Agent and Accept give way to the browser's, in the
        # browser's order.
        curl("preflight", PNA_CLIENT, url, method="OPTIONS", resolve=PNA_API,
             headers=preflight_headers(page, hdr), want=204)
        time.sleep(0.3)
        if granted:
            curl("put", PNA_CLIENT, url, method="PUT", resolve=PNA_API, key="pna", key_in="headers",
                 headers=put_headers(page), data='{"price":1}', want=200)
        time.sleep(0.5)


# ------------------------------------------------------- 5. key stuffing

STUFFER = "203.0.113.66"
CUSTOMERS = [("198.51.100.101", "cust_1", "x-api-key"), ("198.51.100.102", "cust_2", "bearer"),
             ("198.51.100.103", "cust_3", "query"), ("198.51.100.104", "cust_4", "x-api-key"),
             ("198.51.100.105", "cust_5", "x-api-key")]


def stuffing_keys():
    """The 40 keys the stuffer tries, in order: the five customers' keys
    (leaked) at positions 4, 12, 20, 28 and 36, the five revoked keys at 8,
    16, 24, 32 and 40, the 30 unknown ones elsewhere."""
    valid = ["cust_%d" % i for i in range(1, 6)]
    revoked = ["revoked_%d" % i for i in range(1, 6)]
    unknown = ["unknown_%02d" % i for i in range(1, 31)]
    out = []
    for i in range(40):
        if i % 8 == 3:
            out.append(valid.pop(0))
        elif i % 8 == 7:
            out.append(revoked.pop(0))
        else:
            out.append(unknown.pop(0))
    return out


STUFF_PERIOD = 3.0  # seconds between the stuffer's keys: 40 keys in 117 s
CUSTOMER_PERIOD = 12.0


def run_stuffing():
    stop, errors = threading.Event(), []

    def customer(src, role, where, offset):
        try:
            stop.wait(offset)
            for i in range(12):
                if stop.is_set():
                    return
                curl("customer", src, "http://api.rebind.test:8080/v1/items" + ("/%d" % (1 + i % 3) if i % 2 else ""),
                     resolve="10.10.0.1", key=role, key_in=where, ua="shop-client/2.0", want=200)
                stop.wait(CUSTOMER_PERIOD)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=customer, args=(s, r, w, 1.0 + 2.2 * n), daemon=True)
               for n, (s, r, w) in enumerate(CUSTOMERS)]
    for th in threads:
        th.start()
    try:
        time.sleep(4)
        t0 = time.time()
        for i, role in enumerate(stuffing_keys()):
            sleep_until(t0 + i * STUFF_PERIOD)
            want = 200 if role.startswith("cust_") else 403 if role.startswith("revoked_") else 401
            curl("stuffer", STUFFER, "http://api.rebind.test:8080/v1/items", resolve="10.10.0.1", key=role,
                 ua="python-requests/2.31.0", want=want)
            if want == 200:
                curl("stuffer", STUFFER, "http://api.rebind.test:8080/v1/items/1", resolve="10.10.0.1", key=role,
                     ua="python-requests/2.31.0", want=200)
            if errors:
                raise errors[0]
    finally:
        stop.set()
        for th in threads:
            th.join(TIMEOUT + 5)
    if errors:
        raise errors[0]


def main():
    global M
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    what, manifest = sys.argv[1], sys.argv[2]
    M = Manifest(manifest)
    try:
        if what == "day":
            run_day(sys.argv[3])
        elif what == "dns":
            run_dns(sys.argv[3], int(sys.argv[4]))
        elif what == "names":
            run_names()
        elif what == "pna_chromium":
            run_pna_chromium(sys.argv[3])
        elif what in ("pna_granted", "pna_denied"):
            run_pna(what == "pna_granted")
        elif what == "stuffing":
            run_stuffing()
        else:
            sys.exit(__doc__)
    finally:
        M.close()


if __name__ == "__main__":
    main()
