package logsrc

import (
	"testing"

	"github.com/rebindwatch/rebindwatch/detect"
)

// TestSimpleFormats: the built-in literal formats take the straight path;
// formats with raw values, a last-occurrence field or strftime times do not.
func TestSimpleFormats(t *testing.T) {
	for spec, want := range map[string]bool{
		"combined": true, "common": true, "rebindwatch": true, "vhost_combined": true, "gunicorn": true, fmtExt: true,
		"werkzeug": false, "json": false, fuzzFormats[5]: false, fuzzFormats[15]: false,
	} {
		if p := mustCompile(t, spec); p.simple != want {
			t.Errorf("%.40s: simple %v, want %v", spec, p.simple, want)
		}
	}
}

// FuzzSimplePath: on any line, a format read by extractSimple gives the
// same Request and the same error as the general path.
func FuzzSimplePath(f *testing.F) {
	for _, l := range seedLines(f) {
		for i := range fuzzFormats {
			f.Add([]byte(l), uint8(i))
		}
	}
	kx := testKeys()
	var fast, slow []*Parser
	for _, spec := range fuzzFormats {
		if p := mustCompile(f, spec); p.simple || p.auto {
			fast = append(fast, p)
			q := mustCompile(f, spec)
			q.simple = false
			for _, c := range q.candidates {
				c.simple = false
			}
			slow = append(slow, q)
		}
	}
	f.Fuzz(func(t *testing.T, line []byte, which uint8) {
		i := int(which) % len(fast)
		var r1, r2 detect.Request
		err1 := fast[i].Parse(line, kx, &r1)
		err2 := slow[i].Parse(line, kx, &r2)
		if (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() || r1 != r2 {
			t.Fatalf("straight path: %v %+v\ngeneral path: %v %+v", err1, r1, err2, r2)
		}
		if fast[i].tail(line) == nil != (slow[i].tail(line) == nil) || string(fast[i].tail(line)) != string(slow[i].tail(line)) {
			t.Fatalf("tails differ")
		}
	})
}
