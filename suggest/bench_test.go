package suggest

import (
	"fmt"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// benchRequests is a mix like a busy API's: 200 keys over four names (one
// sent in a non-normalised spelling), Origins, Referers and clients.
func benchRequests() []detect.Request {
	hosts := []string{"api.example.com", "API.Example.com.", "eu.api.example.com:8443", "us.api.example.com"}
	rs := make([]detect.Request, 1000)
	for i := range rs {
		opts := []reqOpt{host(hosts[i%len(hosts)]), key(fp(i % 200)), client(clientN(i % 300)), at(time.Duration(i) * time.Millisecond)}
		switch i % 3 {
		case 0:
			opts = append(opts, origin("https://app.example.com"))
		case 1:
			opts = append(opts, referer(fmt.Sprintf("https://App.Example.com/page/%d?q=1", i%7)))
		}
		rs[i] = mk(opts...)
	}
	return rs
}

func BenchmarkCollectorRequest(b *testing.B) {
	reqs := benchRequests()
	c := New(Options{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := &reqs[i%len(reqs)]
		r.Time = t0.Add(time.Duration(i) * time.Millisecond)
		if err := c.Request(r); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkCollectorConfig(b *testing.B) {
	rs := service()
	c := New(Options{})
	for i := range rs {
		c.Request(&rs[i])
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Config("bench")
	}
}
