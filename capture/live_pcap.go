//go:build pcap

package capture

// The libpcap backend (cgo): macOS, the BSDs, and Linux when a tcpdump
// filter expression is wanted. Build with -tags pcap; Debian needs
// libpcap-dev.

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
)

const (
	pcapSnapLen = 262144
	pcapBuffer  = 32 << 20 // the kernel buffer, as the AF_PACKET ring
)

// pcapLiveReader reads a libpcap handle.
type pcapLiveReader struct {
	h    *pcap.Handle
	link layers.LinkType
}

// pcapBackend says whether Live uses libpcap in this build.
const pcapBackend = true

// openLive opens a libpcap handle on iface with Options.Filter, or else
// the filter built from the ports.
func openLive(iface string, opts *Options) (liveReader, error) {
	if iface == "" {
		iface = "any"
	}
	if iface != "any" {
		if _, err := net.InterfaceByName(iface); err != nil {
			return nil, noInterface(iface)
		}
	}
	in, err := pcap.NewInactiveHandle(iface)
	if err != nil {
		return nil, fmt.Errorf("opening %s with libpcap: %w", displayIface(iface), err)
	}
	defer in.CleanUp()
	for _, set := range []func() error{
		func() error { return in.SetSnapLen(pcapSnapLen) },
		func() error { return in.SetPromisc(iface != "any") },
		func() error { return in.SetTimeout(livePoll) },
		func() error { return in.SetBufferSize(pcapBuffer) },
	} {
		if err := set(); err != nil {
			return nil, fmt.Errorf("setting up %s with libpcap: %w", displayIface(iface), err)
		}
	}
	h, err := in.Activate()
	if err != nil {
		// gopacket's activate errors are unexported; their texts are fixed.
		// PCAP_ERROR_PERM_DENIED, and PCAP_ERROR_PROMISC_PERM_DENIED (-11).
		if s := err.Error(); s == "Permission Denied" || strings.HasSuffix(s, ": -11") ||
			strings.Contains(s, "not permitted") || strings.Contains(s, "ermission denied") {
			return nil, &privilegeError{iface: iface, cause: err}
		}
		if err.Error() == "No Such Device" {
			return nil, noInterface(iface)
		}
		return nil, fmt.Errorf("opening %s with libpcap: %w", displayIface(iface), err)
	}
	if err := setPcapFilter(h, opts); err != nil {
		h.Close()
		return nil, err
	}
	return &pcapLiveReader{h: h, link: h.LinkType()}, nil
}

func (r *pcapLiveReader) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	data, ci, err := r.h.ZeroCopyReadPacketData()
	if err != nil {
		if errors.Is(err, pcap.NextErrorTimeoutExpired) {
			err = errIdle
		}
		return nil, ci, 0, err
	}
	return data, ci, r.link, nil
}

func (r *pcapLiveReader) drops() (uint64, error) {
	st, err := r.h.Stats()
	if err != nil {
		return 0, fmt.Errorf("reading libpcap statistics: %w", err)
	}
	return uint64(st.PacketsDropped), nil
}

func (r *pcapLiveReader) close() { r.h.Close() }

// setPcapFilter sets Options.Filter, or else the filter built from the
// ports.
func setPcapFilter(h *pcap.Handle, opts *Options) error {
	if opts.Filter != "" {
		if err := h.SetBPFFilter(opts.Filter); err != nil {
			return &filterError{expr: opts.Filter, cause: err}
		}
		return nil
	}
	var err error
	for _, expr := range pcapFilters(opts.Ports, opts.AnyPort) {
		if err = h.SetBPFFilter(expr); err == nil {
			return nil
		}
	}
	return fmt.Errorf("setting the capture filter: %w", err)
}

// pcapFilters are tcpdump expressions equivalent to the kernel filter,
// for the libpcap backend when no -f expression is given, most complete
// first: link types without VLAN support (Linux cooked, BSD loopback)
// refuse the "vlan" branch, and some libpcap versions the TLS payload test
// over IPv6.
func pcapFilters(ports []uint16, anyPort bool) []string {
	ports = slices.Clone(ports)
	slices.Sort(ports)
	ports = slices.Compact(ports)
	var tcp string
	if anyPort || len(ports) > maxFilterPorts {
		tcp = "tcp"
	} else {
		ps := []string{strconv.Itoa(dnsPort)}
		for _, p := range ports {
			if p != dnsPort {
				ps = append(ps, strconv.Itoa(int(p)))
			}
		}
		for _, p := range tlsPorts {
			if !slices.Contains(ports, p) {
				ps = append(ps, strconv.Itoa(int(p)))
			}
		}
		tcp = "(tcp and (port " + strings.Join(ps, " or port ") + "))"
	}
	const hello = " or (tcp[((tcp[12:1] & 0xf0) >> 2):1] = 0x16 and tcp[((tcp[12:1] & 0xf0) >> 2) + 1:1] = 3)"
	udp := []string{strconv.Itoa(dnsPort)}
	for _, p := range tunnelUDPPorts {
		udp = append(udp, strconv.Itoa(int(p)))
	}
	// The encapsulations the decoder opens (bpf.go lists them), and IPv4
	// fragments after the first, which have no ports ("ether proto", not
	// "mpls" or "pppoes": those shift the offsets of what follows).
	rest := " or (udp and (port " + strings.Join(udp, " or port ") + "))" +
		" or ip proto " + strconv.Itoa(ipProtoGRE) + " or ip proto " + strconv.Itoa(ipProtoIPIP) +
		" or ip proto " + strconv.Itoa(ipProtoIPv6) + " or ip6 proto " + strconv.Itoa(ipProtoGRE) +
		" or (ip and ip[6:2] & 0x1fff != 0) or ip6 proto 44" +
		" or ether proto 0x8847 or ether proto 0x8848 or ether proto 0x8864"
	var out []string
	for _, core := range []string{tcp + hello + rest, tcp + rest} {
		out = append(out, core+" or (vlan and ("+core+"))", core)
	}
	return out
}

// filterError is a -f expression libpcap refused.
type filterError struct {
	expr  string
	cause error
}

func (e *filterError) Error() string {
	return "the capture filter (-f) " + strconv.Quote(e.expr) + " does not compile: " + e.cause.Error()
}

func (e *filterError) Unwrap() []error { return []error{ErrBadFilter, e.cause} }
