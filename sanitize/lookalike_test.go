package sanitize

import "testing"

func TestLookAlike(t *testing.T) {
	for _, tc := range []struct{ name, in, why, latin string }{
		{"ascii", "api.example.com", "", "api.example.com"},
		{"cyrillic_a_in_latin", "pаypal.com", "mixed scripts: Latin and Cyrillic", "paypal.com"},
		{"greek_o_in_latin", "gοogle.com", "mixed scripts: Latin and Greek", "google.com"},
		{"whole_cyrillic_apple", "аррӏе.com", "Cyrillic or Greek letters that look Latin", "apple.com"},
		{"upper_cyrillic", "АРІ.example.com", "Cyrillic or Greek letters that look Latin", "API.example.com"},
		{"cyrillic_and_greek", "аο.test", "mixed scripts: Cyrillic and Greek", "ao.test"},
		{"mixed_with_port", "evіl.test:8080", "mixed scripts: Latin and Cyrillic", "evil.test:8080"},
		{"origin", "https://аpp.example.test", "mixed scripts: Latin and Cyrillic", "https://app.example.test"},
		{"russian_word_is_fine", "пример.рф", "", "пример.рф"},
		{"german_is_fine", "bücher.de", "", "bücher.de"},
		{"japanese_is_fine", "漢字ドメイン.test", "", "漢字ドメイン.test"},
		{"latin_accent_is_fine", "café.example", "", "café.example"},
		{"digits_and_hyphen_whole_cyrillic", "о-1.test", "Cyrillic or Greek letters that look Latin", "o-1.test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			why, latin := LookAlike(tc.in)
			if why != tc.why || latin != tc.latin {
				t.Errorf("LookAlike(%q) = %q, %q; want %q, %q", tc.in, why, latin, tc.why, tc.latin)
			}
		})
	}
}

// TestPunycode: RFC 3492 §7.1's samples and the well-known look-alikes.
func TestPunycode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"api.example.com", "api.example.com"},
		{"bücher.de", "xn--bcher-kva.de"},
		{"münchen", "xn--mnchen-3ya"},
		{"аррӏе.com", "xn--80ak6aa92e.com"},
		{"pаypal.com", "xn--pypal-4ve.com"},
		{"他们为什么不说中文", "xn--ihqwcrb4cv8a8dqg056pqjye"},
		{"3年B組金八先生", "xn--3B-ww4c5e180e575a65lsy2b"},
		{"安室奈美恵-with-SUPER-MONKEYS", "xn---with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n"},
		{"ليهمابتكلموشعربي؟", "xn--egbpdaj6bu4bxfgehfvwxn"},
	} {
		got, ok := Punycode(tc.in)
		if !ok || got != tc.want {
			t.Errorf("Punycode(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	if got, ok := Punycode("a\xffb.test"); ok || got != "a\xffb.test" {
		t.Errorf("invalid UTF-8: %q, %v", got, ok)
	}
}
