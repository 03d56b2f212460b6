package testkit

import "strings"

// HostileCorpus is testdata/hostile/corpus.py's CORPUS, byte for byte:
// strings a terminal or a browser would act on or hide (escape sequences,
// C1 controls, bidi and invisible runes, invalid UTF-8, a 10 kB value).
// Each call returns a fresh map.
func HostileCorpus() map[string]string {
	return map[string]string{
		"csi_red":       "evil\x1b[31mRED\x1b[0m.test",
		"csi_clear":     "x\x1b[2J\x1b[Hcleared",
		"osc52":         "x\x1b]52;c;ZXZpbA==\x07y",
		"osc8":          "\x1b]8;;http://evil.test/\x1b\\click\x1b]8;;\x1b\\",
		"c1_8bit":       "a\x9b31mb\x9d0;t\x9c",
		"c1_utf8":       "a\u009b31mb\u009d0;t\u009c",
		"cr":            "api.rebind.test\rEVIL",
		"backspace":     "admin\b\b\b\b\bguest",
		"rlo":           "api.rebind.test\u202etset.live",
		"bidi_isolates": "a\u2066b\u2067c\u2068d\u2069e",
		"lrm_rlm":       "a\u200eb\u200fc",
		"zwj_zwsp":      "a\u200db\u200bc",
		"bom":           "\ufeffapi.rebind.test",
		"invalid_utf8":  "\xff\xfe\xc0\x80\xed\xa0\x80host",
		"del_bel":       "a\x7fb\x07c",
		"big":           strings.Repeat("B", 10000),
	}
}
