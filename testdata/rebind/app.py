#!/usr/bin/python3
"""The local API a rebinding page goes after, for testdata/rebind/record.sh.

Run with Debian's /usr/bin/python3 (python3-flask). It listens on
127.0.0.1:8080 inside record.sh's private network namespace.

With REBIND_TRUSTED_HOSTS unset it answers whatever Host the request names:
the weakness DNS rebinding exploits (rebindwatch reports host_served). With
REBIND_TRUSTED_HOSTS="api.rebind.test" it refuses other names with 400, as
Flask >= 3.1 does with app.config["TRUSTED_HOSTS"]; Debian 12's Flask is
2.2, so the same check is made here with werkzeug's host_is_trusted
(rebindwatch reports the foreign Host as blocked).
"""

import os

from flask import Flask, abort, jsonify, request
from werkzeug.sansio.utils import host_is_trusted

app = Flask(__name__)

TRUSTED = [h for h in os.environ.get("REBIND_TRUSTED_HOSTS", "").split(",") if h]
if TRUSTED:
    # What Flask 3.1 does with this setting; kept for when it is available.
    app.config["TRUSTED_HOSTS"] = TRUSTED


@app.before_request
def check_host():
    if TRUSTED and not host_is_trusted(request.host, TRUSTED):
        abort(400)


@app.route("/")
def index():
    return jsonify(service="local api", ok=True)


@app.route("/api/data")
def data():
    return jsonify(secret="local-only data", items=[1, 2, 3])


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=8080, threaded=False)
