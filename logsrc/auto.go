package logsrc

import (
	"errors"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// autoLines is how many non-empty lines (werkzeug banners aside) Run reads
// before auto-detection decides; it decides earlier at the end of the input
// or when a followed file goes quiet.
const autoLines = 10

// newAutoParser returns a parser that tries the known line shapes, the more
// specific first: a line PrintLogConfig's snippet wrote also reads as
// combined, and a combined line also reads as common; a Zeek JSON line
// also reads as generic JSON.
func newAutoParser() *Parser {
	must := func(p *Parser, err error) *Parser {
		if err != nil {
			panic("logsrc: built-in format does not compile: " + err.Error()) // a bug caught by any test
		}
		return p
	}
	return &Parser{name: nameAuto, auto: true, candidates: []*Parser{
		must(compileNginxFormat(nameExt, extFormat, escDefault, false)),
		must(compileApacheFormat(nameVhostCombined, vhostCombinedFormat, true)),
		must(compileNginxFormat(nameCombined, combinedFormat, escDefault, true)),
		must(compileNginxFormat(nameCommon, commonFormat, escDefault, true)),
		newWerkzeugParser(),
		newALBParser(),
		newZeekParser(),
		newCloudFrontParser(),
		newCaddyParser(),
		newTraefikParser(),
		newSuricataParser(),
		newGCPParser(),
		newCloudflareParser(),
		newAzureParser(),
		newGenericJSONParser(),
	}}
}

// reads reports whether err means the candidate format read the line: it
// parsed, or it has the format's shape and only its request is not HTTP.
func reads(err error) bool {
	var pe *parseError
	return err == nil || (errors.As(err, &pe) && pe.notHTTP)
}

// parseAuto tries the candidate formats until one reads a line, and keeps
// it. Run decides over several lines instead (decide).
func (p *Parser) parseAuto(line []byte, keys *keys.Extractor, r *detect.Request) error {
	if p.chosen != nil {
		return p.chosen.Parse(line, keys, r)
	}
	if isBlank(line) {
		*r = detect.Request{Source: r.Source}
		return errEmpty
	}
	if werkzeugBanner(line) {
		*r = detect.Request{Source: r.Source}
		return errBanner
	}
	for _, c := range p.candidates {
		if err := c.Parse(line, keys, r); reads(err) {
			p.chosen = c
			return err
		}
	}
	*r = detect.Request{Source: r.Source}
	return &parseError{reason: "no known log format reads this line (" + p.whyNot(line) + ")"}
}

// decide picks the candidate that reads the most of lines (ties go to the
// more specific), and keeps it. It reports false when none reads any.
func (p *Parser) decide(lines [][]byte) bool {
	if p.chosen != nil {
		return true
	}
	best, bestN := -1, 0
	var r detect.Request
	for i, c := range p.candidates {
		n := 0
		for _, l := range lines {
			if reads(c.Parse(l, nil, &r)) {
				n++
			}
		}
		if n > bestN {
			best, bestN = i, n
		}
	}
	if best < 0 {
		return false
	}
	p.chosen = p.candidates[best]
	return true
}

// whyNot says why the most likely candidate does not read line: a JSON
// format for a line that starts with '{', else combined.
func (p *Parser) whyNot(line []byte) string {
	var c *Parser
	for _, cand := range p.candidates {
		isJSON := cand.json != nil
		if isJSON == looksJSON(line) && (cand.name == nameCombined || cand.name == nameJSON) {
			c = cand
		}
	}
	if c == nil {
		return "no candidate"
	}
	var r detect.Request
	err := c.Parse(line, nil, &r)
	if err == nil {
		return "as " + c.name + ": parsed"
	}
	return "as " + c.name + ": " + err.Error()
}

// looksJSON reports whether a line starts like a JSON object.
func looksJSON(line []byte) bool {
	i := skipWS(line, 0)
	return i < len(line) && line[i] == '{'
}
