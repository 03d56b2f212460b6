package detect

import (
	"net/netip"
	"time"
)

// TLSHello is one TLS ClientHello a capture saw.
type TLSHello struct {
	Time   time.Time
	Source string
	Client netip.AddrPort
	Server netip.AddrPort
	SNI    string   // server_name as sent; "" when the hello has none
	ALPN   []string // offered protocols
}

// observeTLS counts a ClientHello and hands it to the detectors.
func (e *Engine) observeTLS(h *TLSHello) {
	e.tlsCount++
	e.route(event{tls: h})
}
