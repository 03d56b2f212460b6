package ui

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rebindwatch/rebindwatch/detect"
)

// detInfo is how the dashboard names one detector: its label in the alert
// list and the header, its tag in an incident's line, its letter in the
// keys table's FLAGS, and what the help says about it. Every place that
// shows a detector reads this table, so the help cannot drift from it.
type detInfo struct {
	name   string // the JSON name, detect.Det*
	label  string
	tag    string
	letter string
	help   string
}

var detInfos = []detInfo{
	{detect.DetUnexpectedHost, "host", "host", "H", "a Host that is not an allowed name; host/rebind: with a key or an Origin, " +
		"as a rebinding page sends it; host/service: a rebinding service's name; host/scan: an IP literal or a scanner's path, " +
		"no key, no Origin; host/foreign: anything else"},
	{detect.DetHostServed, "served", "served", "A", "a foreign Host the server answered with 2xx or 3xx: the application does not check Host"},
	{detect.DetForeignOrigin, "origin", "origin", "O", "an Origin (or a Referer's origin, with check_referer) that is not allowed"},
	{detect.DetKeyBurst, "burst", "burst", "B", "one key made more requests within [burst] window than max_requests"},
	{detect.DetKeySpread, "spread", "spread", "S", "one key under too many Hosts (spread/host) or from too many clients (spread/client)"},
	{detect.DetDNSPrivateAnswer, "dns/private", "dns", "P", "a name outside [dns] internal_suffixes resolved to a private or loopback address"},
	{detect.DetDNSRebind, "dns/rebind", "dns", "R", "a request reached a private server after its name resolved privately: the rebinding chain, end to end"},
	{detect.DetUnexpectedSNI, "tls/sni", "sni", "T", "a TLS ClientHello's server name that is not an allowed name"},
	{detect.DetPrivateNetworkPreflight, "pna", "pna", "N", "a browser asked, for a page elsewhere, to reach this private server (a Private Network Access preflight); granted or denied"},
	{detect.DetKeyStuffing, "stuffing", "stuff", "K", "one client presented more distinct keys within [stuffing] window than max_keys, and how many were refused"},
}

// infoOf returns a detector's entry; an unknown detector (a newer engine)
// is named by itself.
func infoOf(det string) detInfo {
	for _, d := range detInfos {
		if d.name == det {
			return d
		}
	}
	n := clean(det)
	letter := "?"
	if r, _ := utf8.DecodeRuneInString(n); n != "" {
		letter = string(unicode.ToUpper(r))
	}
	return detInfo{name: det, label: n, tag: n, letter: letter}
}

// detLabel is an alert's detector for the DETECTOR column: the label with
// what qualifies it (spread dimension, Host class).
func detLabel(a *detect.Alert) string {
	switch {
	case a.Detector == detect.DetUnexpectedHost && a.Class != "":
		return "host/" + classWord(a.Class)
	case a.Detector == detect.DetKeySpread && a.Dimension != "":
		return "spread/" + clean(a.Dimension)
	}
	return infoOf(a.Detector).label
}

// classWord shortens a Host alert's class for its label.
func classWord(c string) string {
	switch c {
	case detect.ClassRebinding:
		return "rebind"
	case detect.ClassRebindingService:
		return "service"
	case detect.ClassScanner:
		return "scan"
	}
	return clean(c)
}

// detTags is an incident's detectors as short tags, each once, in the
// engine's order: "host served origin dns sni".
func detTags(dets []string) string {
	tags := make([]string, 0, len(dets))
	for _, d := range dets {
		if t := infoOf(d).tag; !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return strings.Join(tags, " ")
}

// flags shows which detectors fired on a key, one letter each, only those
// that fired ("HAO"), in the engine's order; "·" when none did.
func flags(fired []string) string {
	var b strings.Builder
	for _, d := range detInfos {
		if slices.Contains(fired, d.name) {
			b.WriteString(d.letter)
		}
	}
	for _, d := range fired { // detectors this dashboard does not know
		if !knownDetector(d) {
			b.WriteString(infoOf(d).letter)
		}
	}
	if b.Len() == 0 {
		return "·"
	}
	return b.String()
}

func knownDetector(det string) bool {
	for _, d := range detInfos {
		if d.name == det {
			return true
		}
	}
	return false
}

// detTexts is what the filter matches for a set of detectors: their JSON
// names and their labels, so "/dns_rebind" and "/dns/rebind" find the same.
func detTexts(dets []string) []string {
	out := make([]string, 0, 2*len(dets))
	for _, d := range dets {
		out = append(out, d, infoOf(d).label)
	}
	return out
}
