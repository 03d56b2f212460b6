package capture

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// checkRequest asserts what holds for any request the parser makes.
func checkRequest(t *testing.T, r detect.Request) {
	t.Helper()
	switch {
	case r.Malformed == "" && (r.Method == "" || r.Target == "" || !strings.HasPrefix(r.Proto, "HTTP/1.")):
		t.Fatalf("incomplete request %+v", r)
	case r.Malformed != "" && (r.Method == "" || r.Proto == "" || r.Target == "" && r.Malformed != "no_target"):
		t.Fatalf("incomplete malformed request %+v", r)
	}
	if r.Host != "" && !r.HasHost || r.Origin != "" && !r.HasOrigin {
		t.Fatalf("value without presence flag: %+v", r)
	}
	if r.Key != "" && len(r.Key) != keys.FingerprintLen {
		t.Fatalf("key %q is not a fingerprint", r.Key)
	}
}

// FuzzParseRequest feeds a client byte stream (cut in two at split) and a
// server byte stream to one connection. Nothing may panic or hang, every
// request must be well formed and sanitised, and a lone request that
// net/http accepts must come out with the same method, target and host.
func FuzzParseRequest(f *testing.F) {
	seeds := []string{
		benchHead,
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: x\r\n y\r\n\r\n",
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;e\r\nhello\r\n0\r\nT: 1\r\n\r\n",
		"GET /lf HTTP/1.1\nHost: a\n\n",
		"GET http://x/y HTTP/1.1\r\nHost: z\r\n\r\n",
		"GET https://u:p@x.test:8443/y?z HTTP/1.1\r\nHost: x.test:8443\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
		"GET /?api_key=abc HTTP/1.1\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n",
		"GET /09\r\n",
		"GET /09\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\n\r\n",
		"GET /adminHTTP/1.1\r\nHost: a\r\n\r\n",
		"GET HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET\t/  HTTP/1.1 x\r\n\r\n",
		"CONNECT a.test:443\r\n\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), uint16(len(s)/2))
	}
	kx := keys.NewExtractor(keys.DefaultConfig())
	f.Fuzz(func(t *testing.T, client, server []byte, split uint16) {
		cut := int(split) % (len(client) + 1)
		events := []ev{{0, string(client[:cut])}, {1, string(server)}, {0, string(client[cut:])}}
		reqs, _ := runStream(t, events, Options{Keys: kx}, false)
		for _, r := range reqs {
			checkRequest(t, r)
		}
		// Differential check against net/http on the whole client bytes.
		whole, _ := runStream(t, []ev{{0, string(client)}}, Options{Keys: kx}, false)
		hr, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(client)))
		if err != nil || hr.ProtoMajor != 1 || len(client) > maxHeadBytes {
			return
		}
		if len(whole) == 0 {
			t.Fatalf("net/http reads %s %s, we read nothing", hr.Method, hr.RequestURI)
		}
		r := whole[0]
		uri := hr.RequestURI
		if red, ok := kx.AppendRedacted(nil, []byte(uri)); ok {
			uri = string(red)
		}
		if r.Method != hr.Method || r.Target != uri {
			t.Fatalf("net/http reads %q %q, we read %q %q", hr.Method, hr.RequestURI, r.Method, r.Target)
		}
		if strings.HasPrefix(hr.RequestURI, "/") && r.Host != hr.Host {
			t.Fatalf("net/http reads Host %q, we read %q", hr.Host, r.Host)
		}
		// Absolute form: the URI's authority is the host net/http uses.
		if hr.URL.Scheme != "" && hr.URL.Opaque == "" && !strings.Contains(hr.RequestURI, "%") && r.URIHost != hr.URL.Host {
			t.Fatalf("net/http reads URI host %q from %q, we read %q", hr.URL.Host, hr.RequestURI, r.URIHost)
		}
	})
}

// maxFuzzSeed bounds the seed inputs FuzzReadCapture takes from recordings.
const maxFuzzSeed = 1500

// FuzzReadCapture reads arbitrary bytes as a capture file: it must not
// panic or hang, and whatever it reports must be well formed.
func FuzzReadCapture(f *testing.F) {
	// Real recordings, cut to their first few kilobytes: the fuzzer
	// minimises every input that finds new coverage, for up to a minute,
	// and on a large one that takes all of a short fuzzing run.
	var recs []string
	for _, pat := range []string{"*.pcap", "*.pcapng"} {
		m, _ := filepath.Glob(filepath.Join(recDir, pat))
		recs = append(recs, m...)
	}
	for _, p := range append(recs, captureFiles(f)...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b[:min(len(b), maxFuzzSeed)])
		}
	}
	// Synthetic ones for the link types and formats recordings lack.
	c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake().
		req("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n").
		resp("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").close()
	for _, ls := range []linkSpec{{link: layers.LinkTypeEthernet, vlan: 2}, {link: layers.LinkTypeNull}, {link: layers.LinkTypeLinuxSLL2},
		{link: layers.LinkTypeEthernet, tunnel: "gre_eth"}, {link: layers.LinkTypeEthernet, tunnel: "vxlan"}, {link: layers.LinkTypeEthernet, tunnel: "ipip"}} {
		f.Add(writePcap(f, c.pkts, ls, pcapOpts{}))
	}
	var ng []ngPkt
	for _, p := range c.pkts {
		ng = append(ng, ngPkt{p, 0})
	}
	f.Add(writePcapng(f, []linkSpec{{link: layers.LinkTypeRaw}}, ng))
	f.Add(writePcap(f, c.pkts, linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{nano: true, be: true, snaplen: 90}))

	opts := Options{Ports: []uint16{80}, Keys: keys.NewExtractor(keys.DefaultConfig()), MaxStreams: 16}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out := make(chan detect.Batch, 16)
		got := make(chan []detect.Batch)
		go func() {
			var bs []detect.Batch
			for b := range out {
				bs = append(bs, b)
			}
			got <- bs
		}()
		err := readCapture(ctx, bytes.NewReader(data), "fuzz", int64(len(data)), opts, out)
		close(out)
		var last detect.Batch
		for _, b := range <-got {
			for _, r := range b.Requests {
				checkRequest(t, r)
			}
			last = b
		}
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("replay did not finish: %v", err)
			}
			return // not a capture, or a bad header
		}
		if last.State != detect.StateDone {
			t.Fatalf("last batch state %v", last.State)
		}
	})
}

// fuzzLinks are the first layers FuzzDecode starts frames at.
var fuzzLinks = [...]layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw, linkTypeNFLOG,
	linkMPLS, linkPPPoE, linkGRE, layers.LinkTypeLinuxSLL2}

// FuzzDecode decodes a run of frames (data cut at each "\xff\xfe\xfd"),
// all starting at one link type, through the decoder with its
// defragmenter: every encapsulation and the reassembly state across
// frames. Nothing may panic, a result is one of the known ones, and a
// TCP result has its addresses.
func FuzzDecode(f *testing.F) {
	for _, k := range encapKinds {
		cli, srv := "[2001:db8::3]:40000", "[2001:db8::4]:8080"
		if k.v4only {
			cli, srv = "10.1.2.3:40000", "10.1.2.4:8080"
		}
		if k.kind == "teredo_heuristic" {
			cli, srv = "[2001:0:c633:6401::3]:40000", "[2001:0:c633:6402::4]:8080"
		}
		frames, link, _ := encapFrames(f, newConvo(cli, srv, synthEpoch).handshake().req(getA), k.kind)
		li := slices.Index(fuzzLinks[:], link)
		f.Add(bytes.Join(frames, fuzzSep), uint8(li))
	}
	ip := frame(f, simpleConvo("10.1.2.3:40000", "10.1.2.4:8080").pkts[3], linkSpec{link: layers.LinkTypeRaw})
	f.Add(bytes.Join(frag4At(ip, 7, fragPiece{from: 24, to: len(ip) - 20}, fragPiece{from: 0, to: 32}), fuzzSep), uint8(1))
	ip6 := frame(f, simpleConvo("[2001:db8::3]:40000", "[2001:db8::4]:8080").pkts[3], linkSpec{link: layers.LinkTypeRaw})
	f.Add(bytes.Join(frag6At(ip6, 7, fragPiece{from: 24, to: len(ip6) - 40}, fragPiece{from: 0, to: 32}), fuzzSep), uint8(1))

	opts := Options{Keys: keys.NewExtractor(keys.DefaultConfig())}.withDefaults()
	f.Fuzz(func(t *testing.T, data []byte, link uint8) {
		p := newTestPipeline(&opts, "fuzz")
		defer p.tally()
		d := p.dec
		l := fuzzLinks[int(link)%len(fuzzLinks)]
		for i, fr := range bytes.Split(data, fuzzSep) {
			d.now = int64(i) * 1e9
			switch r := d.decode(fr, l); r {
			case decodedTCP:
				if src, dst := d.addrs(); !src.Addr().IsValid() || !dst.Addr().IsValid() {
					t.Fatalf("frame %d: TCP without addresses", i)
				}
			case decodedOther, decodedFragment, decodedError, decodedLinkType,
				decodedEncapMalformed, decodedEncapUnsupported, decodedTooDeep:
			default:
				t.Fatalf("frame %d: result %v", i, r)
			}
		}
		p.dec.frags.finish()
		if len(p.dec.frags.pending) != 0 || p.dec.frags.bytes != 0 {
			t.Fatalf("defragmenter not empty: %d datagrams, %d bytes", len(p.dec.frags.pending), p.dec.frags.bytes)
		}
	})
}

var fuzzSep = []byte("\xff\xfe\xfd")
