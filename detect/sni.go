package detect

import (
	"net/netip"
	"strconv"
	"strings"
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

// DetUnexpectedSNI names the detector for TLS server names outside the allowlist.
const DetUnexpectedSNI = "unexpected_sni"

// observeTLS checks a ClientHello's server name against [hosts] allowed, the
// TLS twin of unexpected_host: a rebinding page on https reaches the server
// with its own name in SNI. A pattern with a port matches the server port.
func (e *Engine) observeTLS(h *TLSHello) {
	e.tlsCount++
	if h.SNI == "" || len(e.hostAllow) == 0 {
		return
	}
	name := strings.TrimRight(strings.ToLower(h.SNI), ".")
	port := ""
	if h.Server.IsValid() {
		port = strconv.Itoa(int(h.Server.Port()))
	}
	for i := range e.hostAllow {
		if e.hostAllow[i].match(name, port) || e.hostAllow[i].match(name, "") {
			return
		}
	}
	r := &Request{Time: h.Time, Source: h.Source, Client: h.Client, Server: h.Server, Host: h.SNI, HasHost: true, Method: "TLS", Proto: "TLS"}
	o := &observation{r: r, host: name, client: h.Client.Addr()}
	sev := SeverityMedium
	if isIPLiteral(name) {
		sev = SeverityLow
	}
	e.raise(o, Alert{
		Detector: DetUnexpectedSNI,
		Severity: sev,
		Subject:  name,
		Host:     Sanitize(h.SNI),
		Message:  "TLS server name " + Sanitize(name) + " is not an allowed name",
	}, func() []Request { return nil })
}
