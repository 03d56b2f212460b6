package keys

import "testing"

// targets are request-targets as wrk and browsers send them: most have no
// query, many a query without a key, some a key parameter.
var benchTargets = []struct{ name, target string }{
	{"no_query", "/v1/items/752"},
	{"query_no_key", "/v1/items/752?page=4&sort=name&limit=50"},
	{"query_key", "/v1/items/752?page=4&api_key=k-charlie-0003"},
}

// BenchmarkFingerprint: five keys in turn (wrk's clients in bench/all.sh),
// each already in the cache.
func BenchmarkFingerprint(b *testing.B) {
	x := NewExtractor(DefaultConfig())
	var keys [][]byte
	for _, k := range []string{"k-alpha-0001", "k-bravo-0002", "k-charlie-0003", "k-delta-0004", "k-echo-0005"} {
		keys = append(keys, []byte(k))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		x.FromValue(keys[i%len(keys)])
	}
}

// BenchmarkTargetKey is what a parser does with each target: hide the key
// values (AppendRedacted) and fingerprint the key (FromTarget).
func BenchmarkTargetKey(b *testing.B) {
	for _, c := range benchTargets {
		b.Run(c.name, func(b *testing.B) {
			x := NewExtractor(DefaultConfig())
			t := []byte(c.target)
			var dst []byte
			b.SetBytes(int64(len(t)))
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = x.AppendRedacted(dst[:0], t)
				x.FromTarget(t)
			}
		})
	}
}
