package sanitize

import (
	"strings"
	"unicode/utf8"
)

// Punycode returns a name with each non-ASCII label in its ASCII form
// ("xn--" and the label's RFC 3492 encoding), the form DNS and a TLS
// certificate see, which cannot pass for another name: "аррӏе.com" gives
// "xn--80ak6aa92e.com". Labels are encoded as sent, without IDNA mapping
// (golang.org/x/net/idna would map them, but needs golang.org/x/text): this
// is for showing what a name is, not for resolving it. ok is false when a
// label cannot be encoded (invalid UTF-8); the name is then returned as is.
func Punycode(name string) (ascii string, ok bool) {
	if isPlainASCII(name) {
		return name, true
	}
	var b strings.Builder
	for i, label := range strings.Split(name, ".") {
		if i > 0 {
			b.WriteByte('.')
		}
		if isPlainASCII(label) {
			b.WriteString(label)
			continue
		}
		enc, ok := encodeLabel(label)
		if !ok {
			return name, false
		}
		b.WriteString("xn--")
		b.WriteString(enc)
	}
	return b.String(), true
}

// RFC 3492 §5 parameters.
const (
	pcBase        = 36
	pcTMin        = 1
	pcTMax        = 26
	pcSkew        = 38
	pcDamp        = 700
	pcInitialBias = 72
	pcInitialN    = 128
)

// encodeLabel is RFC 3492 §6.3's encoding procedure for one label.
func encodeLabel(label string) (string, bool) {
	if !utf8.ValidString(label) {
		return "", false
	}
	runes := []rune(label)
	var out []byte
	for _, r := range runes {
		if r < utf8.RuneSelf {
			out = append(out, byte(r))
		}
	}
	basic := len(out)
	h := basic
	if basic > 0 {
		out = append(out, '-')
	}
	n, delta, bias := rune(pcInitialN), 0, pcInitialBias
	for h < len(runes) {
		m := rune(utf8.MaxRune + 1)
		for _, r := range runes {
			if r >= n && r < m {
				m = r
			}
		}
		if int(m-n) > (1<<31-1-delta)/(h+1) {
			return "", false // overflow
		}
		delta += int(m-n) * (h + 1)
		n = m
		for _, r := range runes {
			if r < n {
				delta++
			}
			if r != n {
				continue
			}
			q := delta
			for k := pcBase; ; k += pcBase {
				t := k - bias
				switch {
				case t < pcTMin:
					t = pcTMin
				case t > pcTMax:
					t = pcTMax
				}
				if q < t {
					break
				}
				out = append(out, pcDigit(t+(q-t)%(pcBase-t)))
				q = (q - t) / (pcBase - t)
			}
			out = append(out, pcDigit(q))
			bias = pcAdapt(delta, h+1, h == basic)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return string(out), true
}

func pcDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

// pcAdapt is RFC 3492 §6.1's bias adaptation.
func pcAdapt(delta, points int, first bool) int {
	if first {
		delta /= pcDamp
	} else {
		delta /= 2
	}
	delta += delta / points
	k := 0
	for delta > ((pcBase-pcTMin)*pcTMax)/2 {
		delta /= pcBase - pcTMin
		k += pcBase
	}
	return k + (pcBase-pcTMin+1)*delta/(delta+pcSkew)
}
