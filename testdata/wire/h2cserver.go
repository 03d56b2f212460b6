//go:build ignore

// Command h2cserver is the server record.sh runs for the h2c upgrade: HTTP/1.1
// that upgrades to HTTP/2 cleartext when a request asks for it (Upgrade:
// h2c, RFC 7540 §3.2), with golang.org/x/net/http2/h2c. nghttpd --no-tls
// (Debian's) speaks HTTP/2 at once instead of upgrading, so it cannot
// record this. Keys as nginx.conf.in checks them: X-API-Key valid 200,
// otherwise 401.
//
//	go run testdata/wire/h2cserver.go -addr 10.88.0.2:8080 -for 60s
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log"
	"net/http"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

var validKeys = map[string]bool{"wire-key-alpha-0001": true, "wire-key-bravo-0002": true, "wire-key-charlie-0003": true}

func handle(w http.ResponseWriter, r *http.Request) {
	log.Printf("%s %s %s host=%q", r.Proto, r.Method, r.URL.RequestURI(), r.Host)
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path != "/health" && !validKeys[r.Header.Get("X-API-Key")] {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"key"}`+"\n")
		return
	}
	io.WriteString(w, `{"items":[1,2,3]}`+"\n")
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	life := flag.Duration("for", 60*time.Second, "exit after")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *life)
	defer cancel()
	srv := &http.Server{Addr: *addr, Handler: h2c.NewHandler(http.HandlerFunc(handle), &http2.Server{})}
	go func() { <-ctx.Done(); srv.Close() }()
	log.Printf("h2cserver: listening on %s", *addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
