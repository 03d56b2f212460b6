package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// packet is one packet of the template connection, decoded.
type packet struct {
	eth      layers.Ethernet
	ip       layers.IPv4
	tcp      layers.TCP
	payload  []byte
	toServer bool
}

// connTemplate is one whole recorded TCP connection: handshake, one GET
// with a Host and an X-API-Key, the answer, the close.
type connTemplate struct {
	packets []packet
	request int    // index of the packet carrying the request
	reqSeq  uint32 // its sequence number: later client bytes shift by the rewrite
	host    [2]int // the Host value's span in the request payload
	key     [2]int // the X-API-Key value's span
}

// readConnTemplate finds, in a recorded Ethernet/IPv4 capture, the first
// connection whose handshake and close are both there and whose first
// request is a GET with a Host and an X-API-Key, sent in one segment.
func readConnTemplate(path string) (*connTemplate, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("the capture template: %w", err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("the capture template %s: %w", path, err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		return nil, fmt.Errorf("the capture template %s: link type %v, want Ethernet", path, r.LinkType())
	}
	type flow struct{ a, b gopacket.Endpoint }
	conns := map[flow][]packet{}
	var order []flow
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("the capture template %s: %w", path, err)
		}
		pk := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		eth, _ := pk.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		ip, _ := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := pk.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if eth == nil || ip == nil || tcp == nil {
			continue
		}
		src, dst := tcp.TransportFlow().Endpoints()
		key := flow{src, dst}
		if _, ok := conns[key]; !ok {
			if _, ok := conns[flow{dst, src}]; ok {
				key = flow{dst, src}
			} else if tcp.SYN && !tcp.ACK {
				order = append(order, key) // a connection starts with the client's SYN
			} else {
				continue
			}
		}
		c := packet{eth: *eth, ip: *ip, tcp: *tcp, payload: bytes.Clone(tcp.Payload), toServer: key.a == src}
		c.ip.Payload, c.tcp.Payload, c.eth.Payload = nil, nil, nil
		conns[key] = append(conns[key], c)
	}
	for _, k := range order {
		if t := connFrom(conns[k]); t != nil {
			return t, nil
		}
	}
	return nil, fmt.Errorf("the capture template %s has no closed connection whose first request is a GET with a Host and an X-API-Key", path)
}

// connFrom makes a template of pks if they are one as readConnTemplate wants.
func connFrom(pks []packet) *connTemplate {
	req, fin := -1, false
	for i, p := range pks {
		if req < 0 && p.toServer && len(p.payload) > 0 {
			req = i
		}
		fin = fin || p.tcp.FIN
	}
	if req < 0 || !fin || !bytes.HasPrefix(pks[req].payload, []byte("GET ")) || !bytes.HasSuffix(pks[req].payload, []byte("\r\n\r\n")) {
		return nil
	}
	t := &connTemplate{packets: pks, request: req, reqSeq: pks[req].tcp.Seq}
	var ok1, ok2 bool
	t.host, ok1 = headerSpan(pks[req].payload, "\r\nHost: ")
	t.key, ok2 = headerSpan(pks[req].payload, "\r\nX-API-Key: ")
	if !ok1 || !ok2 || t.host[0] > t.key[0] {
		return nil
	}
	return t
}

// headerSpan is where the value of the header that name starts lies.
func headerSpan(req []byte, name string) ([2]int, bool) {
	i := bytes.Index(req, []byte(name))
	if i < 0 {
		return [2]int{}, false
	}
	i += len(name)
	j := bytes.Index(req[i:], []byte("\r\n"))
	return [2]int{i, i + j}, j > 0
}

// keyValue is the X-API-Key of the flood's k-th key: as long as the
// recorded one (sk_live_ and 24 characters).
func keyValue(b []byte, k int) []byte {
	return fmt.Appendf(b, "sk_live_%024x", k)
}

// writePcap writes one connection per request of the flood, the template's
// packets with the client's address and port, the Host and the key
// rewritten (sequence numbers follow the request's new length, checksums
// are computed). Packets are 1 µs apart within a connection; connections
// do not interleave. open stops each connection after its request.
func writePcap(w *bufio.Writer, tmplPath string, p plan, open bool) error {
	t, err := readConnTemplate(tmplPath)
	if err != nil {
		return err
	}
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return err
	}
	last := len(t.packets)
	if open {
		last = t.request + 1
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	var (
		payload []byte
		now     time.Time
		conn    int
	)
	return p.each(func(r *request) error {
		if r.at.After(now) {
			now = r.at
		}
		req := t.packets[t.request].payload
		payload = append(payload[:0], req[:t.host[0]]...)
		payload = append(payload, r.host...)
		payload = append(payload, req[t.host[1]:t.key[0]]...)
		if r.key >= 0 {
			payload = keyValue(payload, r.key)
		} else {
			payload = append(payload, r.keyName...)
		}
		payload = append(payload, req[t.key[1]:]...)
		shift := uint32(len(payload) - len(req))
		port := uint16(1024 + conn%60000)
		conn++
		client := r.client.As4()
		for i := range last {
			pk := t.packets[i] // a copy: the template stays as recorded
			data := pk.payload
			if i == t.request {
				data = payload
			}
			if pk.toServer {
				pk.ip.SrcIP, pk.tcp.SrcPort = client[:], layers.TCPPort(port)
				if seqAfter(pk.tcp.Seq, t.reqSeq) {
					pk.tcp.Seq += shift
				}
			} else {
				pk.ip.DstIP, pk.tcp.DstPort = client[:], layers.TCPPort(port)
				if pk.tcp.ACK && seqAfter(pk.tcp.Ack, t.reqSeq) {
					pk.tcp.Ack += shift
				}
			}
			if err := pk.tcp.SetNetworkLayerForChecksum(&pk.ip); err != nil {
				return err
			}
			if err := gopacket.SerializeLayers(buf, opts, &pk.eth, &pk.ip, &pk.tcp, gopacket.Payload(data)); err != nil {
				return err
			}
			out := buf.Bytes()
			ci := gopacket.CaptureInfo{Timestamp: now, CaptureLength: len(out), Length: len(out)}
			if err := pw.WritePacket(ci, out); err != nil {
				return err
			}
			now = now.Add(time.Microsecond)
		}
		return nil
	})
}

// seqAfter reports a > b in TCP sequence space (RFC 1982 serial numbers).
func seqAfter(a, b uint32) bool { return int32(a-b) > 0 }
