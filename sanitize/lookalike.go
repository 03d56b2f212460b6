package sanitize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// latinLookalikes maps the Cyrillic and Greek letters that are drawn like a
// Latin letter to that letter. It is the subset of Unicode TR39's
// confusables.txt (the "MA" table) whose source is a Cyrillic or Greek
// letter and whose target is a single ASCII letter, lower and upper case:
// the homoglyphs that phishing and rebinding names use in practice
// ("аррӏе.com" in Cyrillic). The whole file (6,000+ lines, any script to
// any script) would be the reference for a general skeleton; a dashboard
// that must flag Host names passing for ASCII ones needs only these, and a
// table this size can be read and checked by eye.
var latinLookalikes = map[rune]byte{
	// Cyrillic lower case.
	'а': 'a', 'с': 'c', 'ԁ': 'd', 'е': 'e', 'һ': 'h', 'і': 'i', 'ј': 'j', 'ӏ': 'l', 'о': 'o', 'р': 'p',
	'ԛ': 'q', 'ѕ': 's', 'у': 'y', 'х': 'x', 'ԝ': 'w',
	// Cyrillic upper case.
	'А': 'A', 'В': 'B', 'С': 'C', 'Е': 'E', 'Н': 'H', 'І': 'I', 'Ј': 'J', 'К': 'K', 'М': 'M', 'О': 'O',
	'Р': 'P', 'Ѕ': 'S', 'Т': 'T', 'Х': 'X', 'Ү': 'Y',
	// Greek lower case.
	'α': 'a', 'γ': 'y', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'υ': 'u', 'χ': 'x',
	// Greek upper case.
	'Α': 'A', 'Β': 'B', 'Ε': 'E', 'Ζ': 'Z', 'Η': 'H', 'Ι': 'I', 'Κ': 'K', 'Μ': 'M', 'Ν': 'N', 'Ο': 'O',
	'Ρ': 'P', 'Τ': 'T', 'Υ': 'Y', 'Χ': 'X',
}

// LookAlike reports whether a host name (or an origin, or any name made of
// dot-separated labels) could pass for another one: a label that mixes
// Latin letters with Cyrillic or Greek ones ("pаypal": the second letter is
// Cyrillic), or a label written wholly in Cyrillic or Greek letters that all
// look Latin ("аррӏе"). why says which, "" when neither; latin is name with
// each look-alike replaced by the Latin letter it imitates, to show what it
// passes for. Plain ASCII returns at once.
func LookAlike(name string) (why, latin string) {
	if isPlainASCII(name) {
		return "", name
	}
	var b strings.Builder
	mixed, whole := "", false
	for label := range strings.SplitSeq(name, ".") {
		var latinN, cyr, greek, other, looks int
		for _, r := range label {
			switch {
			case r < utf8.RuneSelf:
				if unicode.IsLetter(r) {
					latinN++
				}
			case unicode.Is(unicode.Cyrillic, r):
				cyr++
			case unicode.Is(unicode.Greek, r):
				greek++
			case unicode.Is(unicode.Latin, r):
				latinN++
			case unicode.IsLetter(r):
				other++
			}
			if _, ok := latinLookalikes[r]; ok {
				looks++
			}
		}
		switch {
		case latinN > 0 && cyr > 0 && mixed == "":
			mixed = "mixed scripts: Latin and Cyrillic"
		case latinN > 0 && greek > 0 && mixed == "":
			mixed = "mixed scripts: Latin and Greek"
		case cyr > 0 && greek > 0 && mixed == "":
			mixed = "mixed scripts: Cyrillic and Greek"
		case latinN == 0 && other == 0 && cyr+greek > 0 && looks == cyr+greek:
			whole = true
		}
	}
	switch {
	case mixed != "":
		why = mixed
	case whole:
		why = "Cyrillic or Greek letters that look Latin"
	default:
		return "", name
	}
	for _, r := range name {
		if l, ok := latinLookalikes[r]; ok {
			b.WriteByte(l)
		} else {
			b.WriteRune(r)
		}
	}
	return why, b.String()
}
