//go:build ignore

// Command helpers is the real software record.sh runs that Debian does not
// package: a DNS server whose answers rebind, an h2c (HTTP/2 cleartext,
// prior knowledge) server, a TLS server with a throw-away self-signed
// certificate, and a TLS client with Go's default ClientHello (which, with
// its post-quantum key share, is larger than one Ethernet segment).
//
//	go run testdata/rebind/helpers.go dns  -addr 127.0.0.153:53 -public 2
//	go run testdata/rebind/helpers.go h2c  -addr 127.0.0.1:8080
//	go run testdata/rebind/helpers.go tls  -addr 127.0.0.1:8443
//	go run testdata/rebind/helpers.go tlsclient -name evil.rebind.test -addr 127.0.0.1:8443
//	go run testdata/rebind/helpers.go h2cclient -name evil.rebind.test -addr 127.0.0.1:8080
//
// Everything listens on loopback only and exits after -for (default 60 s).
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: helpers dns|h2c|tls|tlsclient [flags]")
	}
	mode := os.Args[1]
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	addr := fs.String("addr", "", "listen (or, tlsclient, connect) address; loopback only")
	public := fs.Int("public", 2, "dns: how many answers for the rebinding name are public before it flips to 127.0.0.1")
	name := fs.String("name", "evil.rebind.test", "tlsclient, h2cclient: server name to send")
	life := fs.Duration("for", 60*time.Second, "exit after this long")
	_ = fs.Parse(os.Args[2:])
	ap, err := netip.ParseAddrPort(*addr)
	if err != nil || !ap.Addr().IsLoopback() {
		log.Fatalf("-addr %q: a loopback address:port is required", *addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *life)
	defer cancel()
	switch mode {
	case "dns":
		err = serveDNS(ctx, *addr, *public)
	case "h2c":
		err = serveH2C(ctx, *addr)
	case "tls":
		err = serveTLS(ctx, *addr)
	case "tlsclient":
		err = tlsClient(ctx, *addr, *name)
	case "h2cclient":
		err = h2cClient(ctx, *addr, *name)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Fatal(err)
	}
}

// ---------------------------------------------------------------- DNS

// zone answers queries. attacker.rebind.test is the rebinding name: its
// first `public` A answers are a public-looking address, later ones
// 127.0.0.1, all with TTL 1 (a rebinding server's trick to defeat caches).
// www.rebind.test is a two-step CNAME chain to public addresses; anything
// else under rebind.test is NXDOMAIN.
type zone struct {
	mu     sync.Mutex
	public int
	asked  int
}

// Public-looking addresses, used only as DNS data: nothing connects to them.
var (
	publicV4 = [4]byte{93, 184, 216, 34}
	publicV6 = [16]byte{0x26, 0x06, 0x28, 0x00, 0x02, 0x20, 0x00, 0x01, 0x02, 0x48, 0x18, 0x93, 0x25, 0xc8, 0x19, 0x46}
)

func mustName(s string) dnsmessage.Name { return dnsmessage.MustNewName(s) }

func (z *zone) answer(req []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(req)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	resp := dnsmessage.Message{Header: dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}}
	resp.Questions = []dnsmessage.Question{q}
	name := strings.ToLower(q.Name.String())
	hdr := func(n string, t dnsmessage.Type, ttl uint32) dnsmessage.ResourceHeader {
		return dnsmessage.ResourceHeader{Name: mustName(n), Type: t, Class: dnsmessage.ClassINET, TTL: ttl}
	}
	switch name {
	case "attacker.rebind.test.":
		if q.Type == dnsmessage.TypeA {
			z.mu.Lock()
			z.asked++
			n := z.asked
			z.mu.Unlock()
			a := publicV4
			if n > z.public {
				a = [4]byte{127, 0, 0, 1}
			}
			resp.Answers = append(resp.Answers, dnsmessage.Resource{Header: hdr(name, dnsmessage.TypeA, 1), Body: &dnsmessage.AResource{A: a}})
			log.Printf("dns: %s A -> %v (answer %d)", name, netip.AddrFrom4(a), n)
		}
	case "www.rebind.test.":
		resp.Answers = append(resp.Answers,
			dnsmessage.Resource{Header: hdr(name, dnsmessage.TypeCNAME, 300), Body: &dnsmessage.CNAMEResource{CNAME: mustName("edge.rebind.test.")}},
			dnsmessage.Resource{Header: hdr("edge.rebind.test.", dnsmessage.TypeCNAME, 300), Body: &dnsmessage.CNAMEResource{CNAME: mustName("cdn.rebind.test.")}})
		switch q.Type {
		case dnsmessage.TypeA:
			resp.Answers = append(resp.Answers,
				dnsmessage.Resource{Header: hdr("cdn.rebind.test.", dnsmessage.TypeA, 120), Body: &dnsmessage.AResource{A: publicV4}},
				dnsmessage.Resource{Header: hdr("cdn.rebind.test.", dnsmessage.TypeA, 60), Body: &dnsmessage.AResource{A: [4]byte{93, 184, 216, 35}}})
		case dnsmessage.TypeAAAA:
			resp.Answers = append(resp.Answers,
				dnsmessage.Resource{Header: hdr("cdn.rebind.test.", dnsmessage.TypeAAAA, 90), Body: &dnsmessage.AAAAResource{AAAA: publicV6}})
		}
	default:
		resp.RCode = dnsmessage.RCodeNameError
	}
	return resp.Pack()
}

// serveDNS answers over UDP and TCP (RFC 1035 §4.2.2: two-byte length prefix).
func serveDNS(ctx context.Context, addr string, public int) error {
	z := &zone{public: public}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); pc.Close(); ln.Close() }()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				for {
					var l [2]byte
					if _, err := io.ReadFull(c, l[:]); err != nil {
						return
					}
					msg := make([]byte, binary.BigEndian.Uint16(l[:]))
					if _, err := io.ReadFull(c, msg); err != nil {
						return
					}
					out, err := z.answer(msg)
					if err != nil {
						return
					}
					if _, err := c.Write(binary.BigEndian.AppendUint16(nil, uint16(len(out)))); err != nil {
						return
					}
					if _, err := c.Write(out); err != nil {
						return
					}
				}
			}()
		}
	}()
	log.Printf("dns: listening on %s (udp, tcp)", addr)
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return ctx.Err()
		}
		out, err := z.answer(buf[:n])
		if err != nil {
			log.Printf("dns: bad query from %v: %v", from, err)
			continue
		}
		if _, err := pc.WriteTo(out, from); err != nil {
			return err
		}
	}
}

// ---------------------------------------------------------------- h2c

func hello(w http.ResponseWriter, r *http.Request) {
	log.Printf("%s %s %s host=%q", r.Proto, r.Method, r.URL.RequestURI(), r.Host)
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"ok":true}`+"\n")
}

// serveH2C serves HTTP/1.1 and HTTP/2 cleartext on one port: net/http
// (Go 1.24+) recognises the prior-knowledge preface itself.
func serveH2C(ctx context.Context, addr string) error {
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(hello), Protocols: &protos}
	go func() { <-ctx.Done(); srv.Close() }()
	log.Printf("h2c: listening on %s", addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return ctx.Err()
}

// h2cKey is the API key the h2c client sends: a test value, in the
// recording on purpose, so the capture's key extraction over HPACK is tested.
const h2cKey = "h2c-test-key-not-a-secret"

// h2cClient makes two requests on one HTTP/2 prior-knowledge connection
// (curl 7.88 cannot reuse one), so the second header block leans on the
// HPACK dynamic table the first one filled.
func h2cClient(ctx context.Context, addr, name string) error {
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	tr := &http.Transport{
		Protocols: &protos,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for _, path := range []string{"/h2/go1", "/h2/go2?page=2"} {
		req, err := http.NewRequestWithContext(ctx, "GET", "http://"+name+":"+strings.Split(addr, ":")[1]+path, nil)
		if err != nil {
			return err
		}
		req.Header.Set("X-API-Key", h2cKey)
		req.Header.Set("Origin", "http://"+name+":"+strings.Split(addr, ":")[1])
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		log.Printf("h2cclient: %s %s %s", path, resp.Proto, resp.Status)
	}
	return nil
}

// ---------------------------------------------------------------- TLS

// selfSigned makes a throw-away certificate for api.rebind.test; clients
// are told not to verify it (curl -k).
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "api.rebind.test"},
		DNSNames:     []string{"api.rebind.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func serveTLS(ctx context.Context, addr string) error {
	cert, err := selfSigned()
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(hello),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}}
	go func() { <-ctx.Done(); srv.Close() }()
	log.Printf("tls: listening on %s", addr)
	if err := srv.ListenAndServeTLS("", ""); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return ctx.Err()
}

// tlsClient makes one HTTPS request with Go's default ClientHello.
func tlsClient(ctx context.Context, addr, name string) error {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{ServerName: name, InsecureSkipVerify: true},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2: true,
	}
	req, err := http.NewRequestWithContext(ctx, "GET", "https://"+name+":"+strings.Split(addr, ":")[1]+"/go-client", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	log.Printf("tlsclient: %s %s", resp.Proto, resp.Status)
	return nil
}
