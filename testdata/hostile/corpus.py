"""The hostile strings of testdata/hostile, shared by gen.py and client.py.

Each value tries to reach a terminal as a command (CSI, OSC 52 clipboard
write, OSC 8 link, an 8-bit or UTF-8 C1 introducer), to rewrite what is
already on screen (CR, backspace), to pass for something else (bidi
overrides and isolates, zero-width characters, a BOM), or to break the
layout (10 kB, invalid UTF-8). They are bytes: what goes on the wire or into
the log exactly. MARKUP (markup.txt) is aimed at HTML: the incident report.
"""

import os

CORPUS = [
    ("csi_red", b"evil\x1b[31mRED\x1b[0m.test"),
    ("csi_clear", b"x\x1b[2J\x1b[Hcleared"),
    ("osc52", b"x\x1b]52;c;ZXZpbA==\x07y"),
    ("osc8", b"\x1b]8;;http://evil.test/\x1b\\click\x1b]8;;\x1b\\"),
    ("c1_8bit", b"a\x9b31mb\x9d0;t\x9c"),
    ("c1_utf8", "a\u009b31mb\u009d0;t\u009c".encode()),
    ("cr", b"api.rebind.test\rEVIL"),
    ("backspace", b"admin\b\b\b\b\bguest"),
    ("rlo", "api.rebind.test\u202etset.live".encode()),
    ("bidi_isolates", "a\u2066b\u2067c\u2068d\u2069e".encode()),
    ("lrm_rlm", "a\u200eb\u200fc".encode()),
    ("zwj_zwsp", "a\u200db\u200bc".encode()),
    ("bom", "\ufeffapi.rebind.test".encode()),
    ("invalid_utf8", b"\xff\xfe\xc0\x80\xed\xa0\x80host"),
    ("del_bel", b"a\x7fb\x07c"),
    ("big", b"B" * 10000),
]


def _markup():
    """MARKUP: markup.txt's values, aimed at HTML rather than a terminal."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "markup.txt")
    out = []
    with open(path, "rb") as f:
        for line in f:
            line = line.rstrip(b"\n")
            if line and not line.startswith(b"#"):
                name, value = line.split(b"\t", 1)
                out.append((name.decode(), value))
    return out


MARKUP = _markup()

# Fields of the nginx extended format (testdata/rec/ext.fmt) that carry
# request data. "target" is the request-target inside $request.
FIELDS = ["host", "origin", "user_agent", "target", "referer", "remote_user"]
