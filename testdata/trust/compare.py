#!/usr/bin/python3
"""Runs rebindwatch on every run of runs.tsv and compares its alerts,
incidents and summary with the expected files (README.md, "Expected files").

    /usr/bin/python3 testdata/trust/compare.py BINARY [--dir DIR] [RUN-FILTER]

BINARY is a built rebindwatch (go build -o /tmp/rebindwatch .). Runs without
a config are made in an empty directory with XDG_CONFIG_HOME pointing at an
empty one, so no config file is found. Prints one line per run (ok, or the
differences) and exits 1 when any run differs. It also checks that no line
of keys.txt, nor an 8-character piece of one (the public "sk_live_" prefix
excepted), appears in anything rebindwatch printed. --dir reads the
recordings, configs, keys.txt, runs.tsv and expected files from DIR instead
(record.sh's work directory, WORK/out, before they are installed).
"""

import collections
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXT_FMT = os.path.join(ROOT, "testdata", "rec", "ext.fmt")


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def run(binary, inp, read, config):
    args = [binary, "--no-tui", "--emit", "alert,incident,summary"]
    if config != "-":
        args += ["-c", os.path.join(HERE, config)]
    path = os.path.join(HERE, inp)
    if read == "pcap":
        args += ["-r", path]
    elif read == "ext":
        with open(EXT_FMT, encoding="utf-8") as f:
            args += ["--no-follow", "--log-format", "nginx:" + f.read(), path]
    else:
        args += ["--no-follow", path]
    with tempfile.TemporaryDirectory() as cwd:
        os.mkdir(os.path.join(cwd, "xdg"))
        env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(cwd, "xdg"), HOME=cwd)
        p = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise SystemExit("%s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()], p.stdout + p.stderr


def matches(want, got):
    """got has every field of want (bar type and incident) with the same value;
    a summary check value is a prefix ("off"), null means absent."""
    for k, v in want.items():
        if k in ("type", "incident"):
            continue
        if k in ("host_check", "origin_check"):
            g = got.get(k, "")
            if (v is None and g) or (v is not None and not g.startswith(v)):
                return False
            continue
        if got.get(k) != v:
            return False
    return True


def compare(want, got):
    """Differences between an expected file and rebindwatch's lines, as text."""
    diffs = []
    walerts = [w for w in want if w["type"] == "alert"]
    galerts = [g for g in got if g["type"] == "alert"]
    unmatched = list(galerts)
    label_ids = collections.defaultdict(set)
    for w in walerts:
        hit = next((g for g in unmatched if matches(w, g)), None)
        if hit is None:
            diffs.append("missing alert %s" % json.dumps({k: v for k, v in w.items() if k != "type"}))
            continue
        unmatched.remove(hit)
        label_ids[w["incident"]].add(hit.get("incident"))
    for g in unmatched:
        diffs.append("unexpected alert %s %s %s (%s)" % (g["detector"], g["subject"], g["severity"], g["message"]))
    owner = {}
    for label, ids in label_ids.items():
        if len(ids) > 1:
            diffs.append("incident %s: its alerts are in %d incidents %s" % (label, len(ids), sorted(ids)))
        for i in ids:
            if i in owner and owner[i] != label:
                diffs.append("incidents %s and %s are one (%s)" % (owner[i], label, i))
            owner[i] = label
    # An incident's detectors are those of the alerts that carry its id (its
    # incident lines are written when it opens or escalates, so their
    # detector lists may be older); its other fields come from its last line.
    last, dets = {}, collections.defaultdict(set)
    for g in got:
        if g["type"] == "incident":
            last[g["incident"]] = g
        elif g["type"] == "alert":
            dets[g.get("incident")].add(g["detector"])
    order = ["unexpected_host", "host_served", "foreign_origin", "key_burst", "key_spread", "dns_private_answer",
             "dns_rebind", "unexpected_sni", "private_network_preflight", "key_stuffing"]
    for w in (w for w in want if w["type"] == "incident"):
        ids = label_ids.get(w["incident"], set())
        for i in ids:
            g = dict(last.get(i) or {}, detectors=sorted(dets[i], key=order.index))
            if not last.get(i) or not matches(w, g):
                diffs.append("incident %s: want %s, got %s" % (
                    w["incident"], json.dumps({k: v for k, v in w.items() if k not in ("type", "incident")}),
                    json.dumps({k: g.get(k) for k in w if k not in ("type", "incident")})))
    for w in (w for w in want if w["type"] == "summary"):
        g = next((g for g in got if g["type"] == "summary"), {})
        if not matches(w, g):
            diffs.append("summary: want %s, got %s" % (
                json.dumps({k: v for k, v in w.items() if k != "type"}),
                json.dumps({k: g.get(k) for k in w if k != "type"})))
    return diffs


def leaks(text):
    with open(os.path.join(HERE, "keys.txt"), encoding="utf-8") as f:
        keys = f.read().split()
    found = set()
    for k in keys:
        for i in range(len(k) - 7):
            w = k[i:i + 8]
            if w != "sk_live_" and w in text:
                found.add(w)
    return found


def main():
    global HERE
    argv = sys.argv[1:]
    if len(argv) >= 3 and argv[1] == "--dir":
        HERE = os.path.abspath(argv[2])
        del argv[1:3]
    if len(argv) not in (1, 2):
        sys.exit(__doc__)
    binary = os.path.abspath(argv[0])
    flt = argv[1] if len(argv) == 2 else ""
    failed = 0
    with open(os.path.join(HERE, "runs.tsv"), encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    for inp, read, config, expected in rows:
        if flt not in inp:
            continue
        got, text = run(binary, inp, read, config)
        diffs = compare(load(os.path.join(HERE, expected)), got)
        if leaks(text):
            diffs.append("output holds pieces of keys: %s" % sorted(leaks(text))[:3])
        name = "%s (%s, config %s) vs %s" % (inp, read, config, expected)
        if diffs:
            failed += 1
            print("DIFF " + name)
            for d in diffs:
                print("       " + d)
        else:
            print("ok   " + name)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
