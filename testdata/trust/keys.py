"""Fixed API keys of the trust recordings (testdata/trust/record.sh).

Test keys for a throw-away Flask app inside a private network namespace, not
secrets of any real service. They are fixed so that recordings are
reproducible and so that tests can check that no key (nor an 8-character
piece of one) ever leaks into rebindwatch's output: record.sh writes all of
them, one a line, to keys.txt, which the secrecy tests read. Every key has the
shared public prefix "sk_live_"; no 8-character window of the rest is made
only of hex digits or only of digits, and no two keys share their last 8
characters (what the extended nginx log keeps).
"""

# Keys the app accepts (200), by the role they play.
VALID = {
    "shop_web": "sk_live_DZuXFnZopJ07PunLeyEnLsfG",
    "partner_1": "sk_live_avojKNoVWieoZ271Kssaxpq0",
    "partner_2": "sk_live_r7mFMQihZi88xNYe1wtmXPkR",
    "partner_3": "sk_live_gO670xUujjZdJ5alj1VVlWP1",
    "dns_client": "sk_live_WNxzLksn6GwSBsXbWQPlOz3t",
    "names": "sk_live_1zZBLciGUMdiregH1fptg9I4",
    "pna": "sk_live_eUPBZMM5U9nRWX6O3MmFKngT",
    "cust_1": "sk_live_Svri8HEf3OAGAaMnjUYwPPvy",
    "cust_2": "sk_live_XaEKsq86AxgXEYCSnGR7Lv5O",
    "cust_3": "sk_live_pq2AvQDwnz6RW9rDb59yntll",
    "cust_4": "sk_live_AUPlk8xmq8zdXSh89gMl4srj",
    "cust_5": "sk_live_HZbQuTFSDX0a3GkHJ2dgAwuJ",
}

# Keys the app knows but has revoked (403).
REVOKED = {
    "revoked_1": "sk_live_yNptJnfWMsQkdA1V7FjKMCmW",
    "revoked_2": "sk_live_WWfs9zXSvCQeos2tmBe66X4d",
    "revoked_3": "sk_live_17JJqbYBnQlieqHcHflOv0JK",
    "revoked_4": "sk_live_LdQTOUkSLroNrlwXBssVMIPd",
    "revoked_5": "sk_live_NqdHPcCrvU5ATyGYSxQgBoKX",
}

# Well-formed keys the app has never issued (401): what a client trying
# leaked or guessed keys presents.
UNKNOWN = {
    "unknown_01": "sk_live_UPHQdr4fCZtDfbEPFnMudbvB",
    "unknown_02": "sk_live_UH3dUAkMR9PgUFHcp4wD2fN3",
    "unknown_03": "sk_live_NbE30X7ECH18yu5Oj7iazyhJ",
    "unknown_04": "sk_live_VXvG2Ldq0yDTmWhGJKdVumQ7",
    "unknown_05": "sk_live_A8ddu0y9uL1ioZjZlxfylrxU",
    "unknown_06": "sk_live_EMRk0rkOPJJMB5QaPdwhpnya",
    "unknown_07": "sk_live_NySi5ipT4XI1O6IoXSqmTOKS",
    "unknown_08": "sk_live_V7dRaaxi1GUQtdUKDBP4J9gy",
    "unknown_09": "sk_live_OdfW42FrVK4soD7skvSei198",
    "unknown_10": "sk_live_5r7cGeXEJFUULfPtMBXZ3T5w",
    "unknown_11": "sk_live_ZWXmQ8X3MuOlR8Q9V3XVwhXS",
    "unknown_12": "sk_live_Hteqxut4vgBv1U9GANwF0yi0",
    "unknown_13": "sk_live_DiRy9MCep6pUcxRsOPJsEYMv",
    "unknown_14": "sk_live_wk0SVI2nxfLRvfd0pcEoyfbq",
    "unknown_15": "sk_live_kJ1a4QxSRGW40Neb28SW9iqB",
    "unknown_16": "sk_live_tjAw2igUd2bNrOhH4RGiJOy0",
    "unknown_17": "sk_live_nudYlCLjifBgmy3hK1hssfFq",
    "unknown_18": "sk_live_HV3R2Ce1XGpUxRsrhh8YPVXw",
    "unknown_19": "sk_live_KFSEQi5hm9nCrTPD3wWKOXQN",
    "unknown_20": "sk_live_7oIFTucEw1gYlACqoXrkEWts",
    "unknown_21": "sk_live_lOvKkZF5M4D5HHkWzqFzTYvH",
    "unknown_22": "sk_live_hUG5nS7vuLiSRS78FFmcWlT6",
    "unknown_23": "sk_live_c4487B1MOZCpdM8t58nfzow8",
    "unknown_24": "sk_live_mOci6xFYQtkjTSXVfWDcZhgY",
    "unknown_25": "sk_live_3DqmthclBZeGjqNPmbApCwVg",
    "unknown_26": "sk_live_4SBXqkrooGfhOrU1DKEOlMJR",
    "unknown_27": "sk_live_sfwGt2hvksQkUwI4EedpqevH",
    "unknown_28": "sk_live_oFYHD24XtQLt7LFtGeaum57C",
    "unknown_29": "sk_live_nrWmzFrx9ykvyshe2TITkhES",
    "unknown_30": "sk_live_ulHCrWGmIOkwA2Eqo8l4JAFv",
}

ALL = {**VALID, **REVOKED, **UNKNOWN}
