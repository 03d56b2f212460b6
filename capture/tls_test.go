package capture

import (
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/rebindwatch/rebindwatch/detect"
)

// recordedHellos returns the ClientHellos of tls.pcap by client address:
// curl (127.0.0.66), Python's ssl (127.0.0.68), Go's crypto/tls
// (127.0.0.1, two segments) and curl to the IP (127.0.0.69, no SNI).
// Each is the client's first bytes, cut after the hello's records.
func recordedHellos(t testing.TB) map[string][]byte {
	t.Helper()
	streams := map[string][]byte{}
	recordedPayloads(t, "tls.pcap", func(pk gopacket.Packet) []byte {
		ip, _ := pk.NetworkLayer().(*layers.IPv4)
		tc, _ := pk.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip != nil && tc != nil && tc.DstPort == 8443 {
			streams[ip.SrcIP.String()] = append(streams[ip.SrcIP.String()], tc.Payload...)
		}
		return nil
	})
	out := map[string][]byte{}
	for k, s := range streams {
		// Records up to the end of the handshake message.
		off, got, need := 0, 0, -1
		for off+5 <= len(s) && (need < 0 || got < need) {
			n := int(binary.BigEndian.Uint16(s[off+3:]))
			if need < 0 {
				need = 4 + int(s[off+6])<<16 | int(s[off+7])<<8 | int(s[off+8])
			}
			got += n
			off += 5 + n
		}
		out[k] = s[:off]
	}
	if len(out) != 4 {
		t.Fatalf("tls.pcap: %d clients, want 4", len(out))
	}
	return out
}

// helloBody builds a ClientHello body with the given extensions.
func helloBody(exts ...[]byte) []byte {
	b := []byte{3, 3}
	b = append(b, make([]byte, 32)...) // random
	b = append(b, 0)                   // session id
	b = append(b, 0, 2, 0x13, 0x01)    // one cipher suite
	b = append(b, 1, 0)                // null compression
	var e []byte
	for _, x := range exts {
		e = append(e, x...)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(e)))
	return append(b, e...)
}

// ext builds an extension.
func ext(typ int, data []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(typ))
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

// sniExt builds a server_name extension with host_name entries.
func sniExt(names ...string) []byte {
	var list []byte
	for _, n := range names {
		list = append(list, tlsSNIHostName)
		list = binary.BigEndian.AppendUint16(list, uint16(len(n)))
		list = append(list, n...)
	}
	return ext(tlsExtServerName, append(binary.BigEndian.AppendUint16(nil, uint16(len(list))), list...))
}

// alpnExt builds an ALPN extension.
func alpnExt(protos ...string) []byte {
	var list []byte
	for _, p := range protos {
		list = append(list, byte(len(p)))
		list = append(list, p...)
	}
	return ext(tlsExtALPN, append(binary.BigEndian.AppendUint16(nil, uint16(len(list))), list...))
}

// handshake wraps a body as a ClientHello handshake message.
func handshake(body []byte) []byte {
	n := len(body)
	return append([]byte{tlsClientHello, byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

// records frames a handshake message as records of at most size bytes.
func records(msg []byte, size int) []byte {
	var out []byte
	for len(msg) > 0 {
		n := min(size, len(msg))
		out = append(out, tlsRecordHandshake, 3, 1, byte(n>>8), byte(n))
		out = append(out, msg[:n]...)
		msg = msg[n:]
	}
	return out
}

// unrecord returns the handshake message of a single-record hello.
func unrecord(b []byte) []byte { return b[5:] }

func TestParseClientHello(t *testing.T) {
	real := recordedHellos(t)
	curl, py, gotls, bare := real["127.0.0.66"], real["127.0.0.68"], real["127.0.0.1"], real["127.0.0.69"]
	if len(gotls) < 1500 {
		t.Fatalf("Go's ClientHello is only %d bytes", len(gotls))
	}
	type want struct {
		err    error
		sni    string
		hasSNI bool
		alpn   []string
	}
	ok := func(sni string, alpn ...string) want { return want{sni: sni, hasSNI: true, alpn: alpn} }
	bigLen := records(handshake(helloBody(sniExt("a.test"))), 1<<14)
	bigLen[6], bigLen[7], bigLen[8] = 0x01, 0x00, 0x00 // claims 64 KiB
	cases := []struct {
		name string
		b    []byte
		want want
	}{
		{"curl", curl, ok("evil.rebind.test", "h2", "http/1.1")},
		{"python_ssl", py, ok("api.rebind.test", "http/1.1")},
		{"go_crypto_tls_two_segments", gotls, ok("evil.rebind.test", "h2", "http/1.1")},
		{"curl_ip_no_sni", bare, want{alpn: []string{"h2", "http/1.1"}}},
		{"go_first_segment_only", gotls[:1448], want{err: errHelloMore}},
		{"curl_over_two_records", records(unrecord(curl), 300), ok("evil.rebind.test", "h2", "http/1.1")},
		{"curl_over_many_records", records(unrecord(curl), 16), ok("evil.rebind.test", "h2", "http/1.1")},
		{"curl_over_3_byte_records", records(unrecord(curl), 3), ok("evil.rebind.test", "h2", "http/1.1")},
		{"curl_over_3_byte_records_cut", records(unrecord(curl), 3)[:40], want{err: errHelloMore}},
		{"curl_with_app_data_after", append(slices.Clone(curl), 0x17, 3, 3, 0, 1, 0), ok("evil.rebind.test", "h2", "http/1.1")},
		{"record_header_only", curl[:5], want{err: errHelloMore}},
		{"two_bytes", curl[:2], want{err: errHelloMore}},
		// Hostile or odd.
		{"record_length_overflow", append([]byte{0x16, 3, 1, 0xff, 0xff, 1}, make([]byte, 100)...), want{err: errHelloBad}},
		{"record_length_zero", []byte{0x16, 3, 1, 0, 0, 1, 0, 0, 0}, want{err: errHelloBad}},
		{"handshake_length_overflow", bigLen, want{err: errHelloBig}},
		{"handshake_length_overflow_record_incomplete", append(slices.Clone(bigLen[:5]), 1, 1, 0, 0, 3, 3), want{err: errHelloBig}},
		{"server_hello", records(append([]byte{2, 0, 0, 4}, 3, 3, 0, 0), 100), want{err: errHelloNot}},
		{"application_data", []byte{0x17, 3, 3, 0, 5, 1, 2, 3, 4, 5}, want{err: errHelloNot}},
		{"alert_before_hello_complete", append(records(unrecord(curl), 300)[:305], 0x15, 3, 3, 0, 2, 2, 40), want{err: errHelloBad}},
		{"no_cipher_suites", records(handshake(append(append(make([]byte, 34), 0, 0, 0, 1, 0), 0, 0)), 100), want{err: errHelloBad}},
		{"odd_cipher_suites", records(handshake(append(append(make([]byte, 34), 0, 0, 3, 1, 2, 3, 1, 0), 0, 0)), 100), want{err: errHelloBad}},
		{"extensions_length_overflow", records(handshake(append(helloBody()[:len(helloBody())-2], 0xff, 0xff, 0, 0)), 100), want{err: errHelloBad}},
		{"trailing_bytes_after_extensions", records(handshake(append(helloBody(sniExt("a.test")), 9)), 100), want{err: errHelloBad}},
		{"extension_overruns_list", records(handshake(helloBody([]byte{0, 0, 0, 40, 0, 1})), 100), want{err: errHelloBad}},
		{"sni_list_length_mismatch", records(handshake(helloBody(ext(0, []byte{0, 9, 0, 0, 1, 'a'}))), 100), want{err: errHelloBad}},
		{"sni_name_overruns", records(handshake(helloBody(ext(0, []byte{0, 4, 0, 0, 9, 'a'}))), 100), want{err: errHelloBad}},
		{"alpn_empty_name", records(handshake(helloBody(ext(16, []byte{0, 1, 0}))), 100), want{err: errHelloBad}},
		{"no_extensions_at_all", records(handshake(helloBody()[:len(helloBody())-2]), 100), want{}},
		{"no_sni_extension", records(handshake(helloBody(alpnExt("h2"))), 100), want{alpn: []string{"h2"}}},
		{"empty_sni_extension", records(handshake(helloBody(ext(0, nil))), 100), want{}},
		{"grease", records(handshake(helloBody(ext(0x0a0a, nil), sniExt("a.test"), ext(0xdada, []byte{0}), alpnExt("\x1a\x1a", "h2"))), 100), ok("a.test", "h2")},
		{"first_sni_extension_wins", records(handshake(helloBody(sniExt("first.test"), sniExt("second.test"))), 100), ok("first.test")},
		{"other_name_type_then_host_name", records(handshake(helloBody(ext(0, []byte{0, 10, 7, 0, 2, 'x', 'y', 0, 0, 2, 'o', 'k'}))), 100), ok("ok")},
		{"alpn_capped", records(handshake(helloBody(alpnExt("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"))), 100), want{alpn: []string{"a", "b", "c", "d", "e", "f", "g", "h"}}},
		{"control_characters_kept_for_the_sanitiser", records(handshake(helloBody(sniExt("evil\x1b[2J.test"))), 100), ok("evil\x1b[2J.test")},
	}
	var scratch []byte
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ch clientHello
			err := parseClientHello(tc.b, &scratch, &ch)
			if err != tc.want.err {
				t.Fatalf("err %v, want %v", err, tc.want.err)
			}
			if err != nil {
				return
			}
			var alpn []string
			for _, a := range ch.alpn[:ch.nalpn] {
				alpn = append(alpn, string(a))
			}
			if string(ch.sni) != tc.want.sni || ch.hasSNI != tc.want.hasSNI || !slices.Equal(alpn, tc.want.alpn) {
				t.Errorf("sni %q (%v) alpn %q, want %+v", ch.sni, ch.hasSNI, alpn, tc.want)
			}
		})
	}
}

func TestParseClientHelloAllocs(t *testing.T) {
	curl := recordedHellos(t)["127.0.0.66"]
	split := records(unrecord(curl), 200)
	var scratch []byte
	var ch clientHello
	_ = parseClientHello(split, &scratch, &ch)
	for name, b := range map[string][]byte{"one_record": curl, "records": split} {
		if n := testing.AllocsPerRun(100, func() { _ = parseClientHello(b, &scratch, &ch) }); n != 0 {
			t.Errorf("%s: %v allocations per hello", name, n)
		}
	}
}

func hellosOf(r result) []detect.TLSHello {
	var out []detect.TLSHello
	for _, b := range r.batches {
		out = append(out, b.TLS...)
	}
	return out
}

// The recording end to end: four ClientHellos, one of them in two segments.
func TestTLSRecording(t *testing.T) {
	r := readPath(t, rebindFile(t, "tls.pcap"), Options{Ports: []uint16{8080}})
	if r.err != nil || r.parse != 0 || len(r.reqs) != 0 {
		t.Fatalf("err %v parse %d requests %d", r.err, r.parse, len(r.reqs))
	}
	var got []string
	for i, h := range hellosOf(r) {
		got = append(got, h.Client.Addr().String()+">"+h.Server.String()+" "+h.SNI+" "+strings.Join(h.ALPN, ","))
		if h.Source != "pcap" || h.Time.IsZero() {
			t.Errorf("hello %d: %+v", i, h)
		}
	}
	want := []string{
		"127.0.0.66>127.0.0.1:8443 evil.rebind.test h2,http/1.1",
		"127.0.0.68>127.0.0.1:8443 api.rebind.test http/1.1",
		"127.0.0.1>127.0.0.1:8443 evil.rebind.test h2,http/1.1",
		"127.0.0.69>127.0.0.1:8443  h2,http/1.1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("hellos\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if fmt := r.counters; fmt["tls_client_hellos"] != 4 || len(fmt) != 1 {
		t.Errorf("counters %v", r.counters)
	}
}

// ClientHellos in synthetic packets, on ports that are not [capture] ports.
func TestTLSPackets(t *testing.T) {
	curl := recordedHellos(t)["127.0.0.66"]
	t0 := synthEpoch
	run := func(t *testing.T, c *convo, opts Options) result {
		t.Helper()
		return readFrames(t, tcpFrames(t, c), opts)
	}
	sni := func(r result) []string {
		var s []string
		for _, h := range hellosOf(r) {
			s = append(s, h.SNI)
		}
		return s
	}
	t.Run("three_segments", func(t *testing.T) {
		c := newConvo("10.0.0.7:50000", "10.0.0.1:443", t0).handshake().req(string(curl), 200).resp("\x16\x03\x03\x00\x02\x02\x00").close()
		r := run(t, c, Options{})
		if h := hellosOf(r); len(h) != 1 || h[0].SNI != "evil.rebind.test" || h[0].Client.String() != "10.0.0.7:50000" || !h[0].Time.Equal(c.pkts[3].ts) {
			t.Fatalf("hellos %+v", h)
		}
	})
	t.Run("retransmitted", func(t *testing.T) {
		c := newConvo("10.0.0.7:50001", "10.0.0.1:443", t0).handshake().req(string(curl), 300)
		c.pkts = append(c.pkts, c.pkts[3], c.pkts[4]) // the first two segments again
		c.pkts[len(c.pkts)-1].ts = c.t.Add(time.Second)
		c.pkts[len(c.pkts)-2].ts = c.t.Add(time.Second)
		r := run(t, c, Options{})
		if s := sni(r); !slices.Equal(s, []string{"evil.rebind.test"}) {
			t.Fatalf("hellos %q", s)
		}
	})
	t.Run("out_of_order", func(t *testing.T) {
		// Segments that overtake one before them wait for it.
		c := newConvo("10.0.0.7:50002", "10.0.0.1:443", t0).handshake().req(string(curl), 200)
		c.pkts[4].ts, c.pkts[5].ts = c.pkts[5].ts, c.pkts[4].ts
		r := run(t, c, Options{})
		if s := sni(r); !slices.Equal(s, []string{"evil.rebind.test"}) || r.counters["tls_malformed"] != 0 {
			t.Fatalf("hellos %q counters %v", s, r.counters)
		}
	})
	t.Run("out_of_order_reversed", func(t *testing.T) {
		// Every segment but the first in reverse order, one of them twice.
		c := newConvo("10.0.0.7:50006", "10.0.0.1:443", t0).handshake().req(string(curl), 60)
		rest := slices.Clone(c.pkts[4:])
		slices.Reverse(rest)
		rest = append(rest, rest[1])
		for i := range rest {
			rest[i].ts = t0.Add(time.Duration(i+10) * time.Millisecond)
		}
		c.pkts = append(c.pkts[:4], rest...)
		r := run(t, c, Options{})
		if s := sni(r); !slices.Equal(s, []string{"evil.rebind.test"}) {
			t.Fatalf("hellos %q counters %v", s, r.counters)
		}
	})
	t.Run("first_segment_last", func(t *testing.T) {
		// A reordering network delivers the first segment last: the
		// segments after it were kept since the SYN, and the hello is
		// read whole when it comes.
		c := newConvo("10.0.0.7:50007", "10.0.0.1:443", t0).handshake().req(string(curl), 200)
		c.pkts[3].ts, c.pkts[5].ts = c.pkts[5].ts, c.pkts[3].ts
		c.pkts[3], c.pkts[5] = c.pkts[5], c.pkts[3]
		r := run(t, c, Options{})
		if s := sni(r); !slices.Equal(s, []string{"evil.rebind.test"}) || r.counters["tls_malformed"] != 0 {
			t.Fatalf("hellos %q counters %v", s, r.counters)
		}
	})
	t.Run("first_segment_last_every_order", func(t *testing.T) {
		// Every segment after the first reversed, then the first.
		c := newConvo("10.0.0.7:50008", "10.0.0.1:443", t0).handshake().req(string(curl), 60)
		rest := slices.Clone(c.pkts[4:])
		slices.Reverse(rest)
		rest = append(rest, c.pkts[3])
		for i := range rest {
			rest[i].ts = t0.Add(time.Duration(i+10) * time.Millisecond)
		}
		c.pkts = append(c.pkts[:3], rest...)
		r := run(t, c, Options{})
		if s := sni(r); !slices.Equal(s, []string{"evil.rebind.test"}) {
			t.Fatalf("hellos %q counters %v", s, r.counters)
		}
	})
	t.Run("first_segment_last_without_syn_is_missed", func(t *testing.T) {
		// A capture that starts inside the handshake has no SYN to tell
		// where the data starts: the early segments are not kept.
		c := newConvo("10.0.0.7:50009", "10.0.0.1:443", t0).handshake().req(string(curl), 200)
		c.pkts[3].ts, c.pkts[5].ts = c.pkts[5].ts, c.pkts[3].ts
		c.pkts[3], c.pkts[5] = c.pkts[5], c.pkts[3]
		c.pkts = c.pkts[1:]
		r := run(t, c, Options{})
		if len(hellosOf(r)) != 0 {
			t.Fatalf("hellos %v", hellosOf(r))
		}
	})
	t.Run("ipv6_on_an_http_port", func(t *testing.T) {
		c := newConvo("[fd00::7]:50003", "[fd00::1]:8080", t0).handshake().req(string(curl)).close()
		r := run(t, c, Options{})
		if s := sni(r); !slices.Equal(s, []string{"evil.rebind.test"}) || r.counters["non_http_streams"] != 1 {
			t.Fatalf("hellos %q counters %v", s, r.counters)
		}
	})
	t.Run("malformed_is_counted", func(t *testing.T) {
		c := newConvo("10.0.0.7:50004", "10.0.0.1:443", t0).handshake().
			req(string(records(handshake(helloBody(ext(0, []byte{0, 9, 0, 0, 1, 'a'}))), 100))).close()
		r := run(t, c, Options{})
		if len(hellosOf(r)) != 0 || r.counters["tls_malformed"] != 1 || len(r.problems) != 1 {
			t.Fatalf("hellos %v counters %v problems %v", hellosOf(r), r.counters, r.problems)
		}
	})
	t.Run("server_name_as_sent", func(t *testing.T) {
		c := newConvo("10.0.0.7:50005", "10.0.0.1:443", t0).handshake().
			req(string(records(handshake(helloBody(sniExt("evil\x1b[2J.test"))), 100))).close()
		r := run(t, c, Options{})
		if h := hellosOf(r); len(h) != 1 || h[0].SNI != "evil\x1b[2J.test" {
			t.Fatalf("hellos %+v", h)
		}
	})
	t.Run("many_half_hellos_are_bounded", func(t *testing.T) {
		opts := Options{}.withDefaults()
		p := newTestPipeline(&opts, "test")
		for i := 0; i < maxHelloParts+50; i++ {
			c := newConvo("10.1.0.1:"+strconv.Itoa(1024+i), "10.0.0.1:443", t0).req(string(curl[:100]))
			for _, f := range tcpFrames(t, c) {
				p.packet(f.data, gopacketCI(f.ts, len(f.data)), layers.LinkTypeEthernet)
			}
		}
		if n, h := len(p.tls.parts), p.rep.value(cTLSClientHellos); n != maxHelloParts || h != 0 {
			t.Fatalf("%d partial hellos kept, %d reported", n, h)
		}
		// Once they are old, new ones replace them.
		c := newConvo("10.1.0.2:999", "10.0.0.1:443", t0.Add(time.Minute)).req(string(curl[:100]))
		for _, f := range tcpFrames(t, c) {
			p.packet(f.data, gopacketCI(f.ts, len(f.data)), layers.LinkTypeEthernet)
		}
		if n := len(p.tls.parts); n != 1 {
			t.Fatalf("%d partial hellos kept after expiry", n)
		}
	})
}

// FuzzParseClientHello: no input may panic or keep more than the caps; a
// parsed server name lies within the input.
func FuzzParseClientHello(f *testing.F) {
	for _, b := range recordedHellos(f) {
		f.Add(b)
		f.Add(records(unrecord(b[:min(len(b), 600)]), 150))
	}
	f.Add(records(handshake(helloBody(ext(0x0a0a, nil), sniExt("a.test"), alpnExt("\x1a\x1a", "h2"))), 40))
	var scratch []byte
	f.Fuzz(func(t *testing.T, b []byte) {
		var ch clientHello
		err := parseClientHello(b, &scratch, &ch)
		if err != nil {
			return
		}
		if ch.nalpn > maxALPN || len(ch.sni) > len(b) {
			t.Fatalf("beyond caps: %d ALPN, SNI of %d bytes from %d", ch.nalpn, len(ch.sni), len(b))
		}
		if ch.hasSNI && len(ch.sni) > 0 && !strings.Contains(string(b), string(ch.sni)) && !strings.Contains(string(scratch), string(ch.sni)) {
			t.Fatalf("SNI %q not from the input", ch.sni)
		}
	})
}

func BenchmarkParseClientHello(b *testing.B) {
	hello := recordedHellos(b)["127.0.0.1"] // Go's, 1.5 kB
	var scratch []byte
	var ch clientHello
	b.ReportAllocs()
	b.SetBytes(int64(len(hello)))
	for b.Loop() {
		if err := parseClientHello(hello, &scratch, &ch); err != nil {
			b.Fatal(err)
		}
	}
}
