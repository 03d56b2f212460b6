#!/usr/bin/python3
"""The API of the trust recordings (testdata/trust/record.sh).

Run with Debian's /usr/bin/python3 (python3-flask) inside record.sh's private
network namespace, on 127.0.0.1:5000 behind nginx.

Keys (keys.py) are accepted in X-API-Key, Authorization: Bearer <key> and
?api_key=. A valid key gets 200 JSON, a revoked one 403, an unknown or
missing one 401.

Like testdata/recorder/app.py it does NOT validate Host: it answers whatever
name a request claims, the weakness DNS rebinding exploits.

CORS: the API answers cross-origin requests (it is meant to be called from a
web app) and their preflights (OPTIONS with Origin and
Access-Control-Request-Method) with 204 and the usual Allow headers. With
TRUST_PNA=grant it also grants Private Network Access preflights
(Access-Control-Request-Private-Network: true, or its successor
-Local-Network: true) with Access-Control-Allow-Private-Network: true (and
-Local-Network: true); with TRUST_PNA=deny (the default) it leaves that
header out, which is how a server that does not opt in answers: the browser
then refuses to send the real request.

The site's contact form posts to /contact (the site's nginx maps
/api/contact here) and is answered with 303 to /thanks.html.
"""

import os
import sys

from flask import Flask, jsonify, redirect, request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keys  # noqa: E402

app = Flask(__name__)

VALID = set(keys.VALID.values())
REVOKED = set(keys.REVOKED.values())
PNA = os.environ.get("TRUST_PNA", "deny")

ITEMS = [
    {"id": 1, "name": "anvil", "price": 120},
    {"id": 2, "name": "rope", "price": 8},
    {"id": 3, "name": "lantern", "price": 25},
]


def presented_key():
    """The key the request presents, in the order rebindwatch ranks them."""
    key = request.headers.get("X-API-Key")
    if key:
        return key.strip()
    scheme, _, cred = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and cred.strip():
        return cred.strip()
    return request.args.get("api_key", "")


def refusal():
    """None for a valid key, else the answer to send."""
    k = presented_key()
    if k in VALID:
        return None
    if k in REVOKED:
        return jsonify(error="API key revoked"), 403
    return jsonify(error="invalid or missing API key"), 401


def truthy(name):
    return request.headers.get(name, "").strip().lower() == "true"


@app.after_request
def cors(resp):
    origin = request.headers.get("Origin")
    if origin and request.path.startswith("/v1/"):
        resp.headers["Access-Control-Allow-Origin"] = origin
        resp.headers["Vary"] = "Origin"
    return resp


@app.before_request
def preflight():
    """Every OPTIONS under /v1/ (ahead of Flask's automatic OPTIONS answer)."""
    if request.method != "OPTIONS" or not request.path.startswith("/v1/"):
        return None
    resp = app.response_class(status=204)
    if request.headers.get("Origin") and request.headers.get("Access-Control-Request-Method"):
        resp.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE"
        asked = request.headers.get("Access-Control-Request-Headers")
        if asked:
            resp.headers["Access-Control-Allow-Headers"] = asked
        resp.headers["Access-Control-Max-Age"] = "600"
        if PNA == "grant" and (truthy("Access-Control-Request-Private-Network")
                               or truthy("Access-Control-Request-Local-Network")):
            resp.headers["Access-Control-Allow-Private-Network"] = "true"
            resp.headers["Access-Control-Allow-Local-Network"] = "true"
    return resp


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.route("/v1/items", methods=["GET", "POST"])
def items():
    bad = refusal()
    if bad:
        return bad
    if request.method == "POST":
        body = request.get_json(silent=True) or {}
        return jsonify(id=len(ITEMS) + 1, name=str(body.get("name", ""))[:40]), 201
    return jsonify(items=ITEMS)


@app.route("/v1/items/<int:item_id>", methods=["GET", "PUT"])
def item(item_id):
    bad = refusal()
    if bad:
        return bad
    for it in ITEMS:
        if it["id"] == item_id:
            if request.method == "PUT":
                body = request.get_json(silent=True) or {}
                return jsonify({**it, **{k: v for k, v in body.items() if k in ("name", "price")}})
            return jsonify(it)
    return jsonify(error="no such item"), 404


@app.post("/contact")
def contact():
    return redirect("/thanks.html", code=303)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=5000, threaded=True, debug=False)
