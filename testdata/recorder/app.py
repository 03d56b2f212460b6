#!/usr/bin/python3
"""A small API protected by API keys, the victim of the recorded traffic.

Run with Debian's /usr/bin/python3 (python3-flask). It listens on
127.0.0.1:5000 behind nginx (127.0.0.1:8080).

Keys are accepted in X-API-Key, Authorization: Bearer <key> and ?api_key=.
A valid key gets 200 JSON, a bad or missing one 401.

The Host header is deliberately NOT validated: the app answers whatever name
the request claims. That is the weakness DNS rebinding exploits (a page on
evil.example re-points its name at 127.0.0.1 and the browser then talks to
this API as "evil.example"), and what rebindwatch is there to notice.
"""

import os
import sys

from flask import Flask, jsonify, request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testkeys  # noqa: E402

app = Flask(__name__)

VALID_KEYS = set(testkeys.VALID.values())

ITEMS = [
    {"id": 1, "name": "anvil", "price": 120},
    {"id": 2, "name": "rope", "price": 8},
    {"id": 3, "name": "lantern", "price": 25},
]

USERS = [
    {"id": 1, "login": "alice", "role": "admin"},
    {"id": 2, "login": "bob", "role": "viewer"},
]


def presented_key():
    """The key the request presents, in the same order rebindwatch ranks them."""
    key = request.headers.get("X-API-Key")
    if key:
        return key.strip()
    auth = request.headers.get("Authorization", "")
    scheme, _, cred = auth.partition(" ")
    if scheme.lower() == "bearer" and cred.strip():
        return cred.strip()
    return request.args.get("api_key", "")


def authorised():
    return presented_key() in VALID_KEYS


def denied():
    return jsonify(error="invalid or missing API key"), 401


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.route("/v1/items", methods=["GET", "POST"])
def items():
    if not authorised():
        return denied()
    if request.method == "POST":
        body = request.get_json(silent=True) or {}
        item = {"id": len(ITEMS) + 1, "name": str(body.get("name", ""))[:40]}
        return jsonify(item), 201
    return jsonify(items=ITEMS)


@app.get("/v1/items/<int:item_id>")
def item(item_id):
    if not authorised():
        return denied()
    for it in ITEMS:
        if it["id"] == item_id:
            return jsonify(it)
    return jsonify(error="no such item"), 404


@app.get("/v1/admin/users")
def admin_users():
    if not authorised():
        return denied()
    return jsonify(users=USERS)


if __name__ == "__main__":
    # threaded: nginx may open several upstream connections at once.
    app.run(host="127.0.0.1", port=5000, threaded=True, debug=False)
