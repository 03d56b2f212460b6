"""Fixed API keys of the recorded test data.

These are test keys for a throw-away Flask app on loopback, not secrets of
any real service. They are fixed so that recordings are reproducible and so
that tests can check that no key (nor an 8-character piece of one) ever
leaks into rebindwatch's output. Every key has the shared public prefix
"sk_live_"; the 24 characters after it are what identify a key.
"""

# Keys the app accepts, by the role they play in the recordings.
VALID = {
    "normal_1": "sk_live_CrFtNuT0aJUMyl0B8Y6uusXn",
    "normal_2": "sk_live_Fz37RMoy98GmprJ191no5De3",
    "normal_3": "sk_live_qvMnSzNX7G9Eqgic32t2Glly",
    "normal_4": "sk_live_NETdVqHWB8Y95M4LrxYQy9WL",
    "bg_5": "sk_live_KULCQr6AS7Ow6MIwBTUbyRqe",
    "bg_6": "sk_live_hMB9FVIezp7U0Xsu6fFzEykv",
    "host": "sk_live_0l532sIpQLvVUBQj28WilSEq",
    "origin": "sk_live_AadK6xCf2QIOft66tFBFHR3n",
    "burst": "sk_live_FDFKPJ4zDSTJEFWXrT8MFeWG",
    "spread_host": "sk_live_rZi4GYCgRdFZXun7Q105djQA",
    "spread_client": "sk_live_wT9HxX7dWotmzLwcsnzWS6f3",
    "short": "sk_live_0gHNky7khq5KJ6y6F6n5SZb4",
}

# Well-formed keys the app rejects (401): they are sent too, so they are key
# material on the wire as much as the valid ones.
INVALID = {
    "bad_1": "sk_live_hzh2avuYMj3ZEmMGgPkIAvGJ",
    "bad_2": "sk_live_rLZrpLM2FOVp1mqiWmM6NORo",
}

ALL = {**VALID, **INVALID}
