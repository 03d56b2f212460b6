package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// The attack adds 500 burst requests from one client, one foreign Host and
// 30 requests of one key from 30 clients.
const attackRequests = 500 + 1 + 30

// TestLogFlood checks that the log flood is what bench/all.sh counts on:
// every line in the recorded format, the requested number of distinct
// keys, Hosts and clients, the attack mixed in, times never going back,
// and the recorded text around the rewritten fields unchanged.
func TestLogFlood(t *testing.T) {
	const n = 997
	tmplPath := "../../testdata/rec/normal_access_ext.log"
	out := filepath.Join(t.TempDir(), "flood.log")
	if err := run([]string{"-log", out, "-n", "997", "-attack", "-log-template", tmplPath}, io.Discard); err != nil {
		t.Fatal(err)
	}
	tmpl, err := readLogTemplate(tmplPath)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != n+attackRequests {
		t.Fatalf("%d lines, want %d", len(lines), n+attackRequests)
	}
	keys, hosts, clients := map[string]int{}, map[string]bool{}, map[string]bool{}
	spreadClients := map[string]bool{}
	var last time.Time
	for i, line := range lines {
		m := extLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("line %d is not in the format of testdata/rec/ext.fmt: %q", i+1, line)
		}
		if got := (logTemplate{a: m[2], b: m[4], c: m[6], d: m[8]}); got != tmpl {
			t.Fatalf("line %d changed the recorded text around the fields: %q", i+1, line)
		}
		at, err := time.Parse(time.RFC3339, m[3])
		if err != nil {
			t.Fatalf("line %d: time %q: %v", i+1, m[3], err)
		}
		if at.Before(last) {
			t.Fatalf("line %d goes back in time: %s after %s", i+1, at, last)
		}
		last = at
		keys[m[7]]++
		hosts[m[5]] = true
		clients[m[1]] = true
		if m[7] == "SPREADkk" {
			spreadClients[m[1]] = true
		}
		if m[7] == "FOREIGNk" && m[5] != "evil.rebind.test" {
			t.Errorf("the foreign Host's request has Host %q", m[5])
		}
	}
	// The flood's own n, plus BURSTkey, FOREIGNk, SPREADkk; plus
	// api.rebind.test and evil.rebind.test; plus the burst's client, the
	// foreign Host's and the spread's 30.
	if len(keys) != n+3 || len(hosts) != n+2 || len(clients) != n+32 {
		t.Errorf("%d keys, %d Hosts, %d clients; want %d, %d, %d", len(keys), len(hosts), len(clients), n+3, n+2, n+32)
	}
	if keys["BURSTkey"] != 500 || keys["FOREIGNk"] != 1 || keys["SPREADkk"] != 30 || len(spreadClients) != 30 {
		t.Errorf("attack: burst %d requests, foreign %d, spread %d from %d clients; want 500, 1, 30 from 30",
			keys["BURSTkey"], keys["FOREIGNk"], keys["SPREADkk"], len(spreadClients))
	}
}

// TestPcapFlood checks that each connection of the pcap flood stays a
// valid TCP conversation after the rewrite (the client's sequence numbers
// and the server's acknowledgements follow the request's new length, the
// checksums are right), and that it carries one request per planned
// request with the distinct keys.
func TestPcapFlood(t *testing.T) {
	const n = 97
	out := filepath.Join(t.TempDir(), "flood.pcap")
	if err := run([]string{"-pcap", out, "-n", "97", "-attack", "-pcap-template", "../../testdata/rec/scenarios.pcap"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	type side struct {
		next uint32 // the sequence number this side sends next
		seen bool
	}
	conns := map[gopacket.Flow]*[2]side{} // by the client's end: [client, server]
	keys := map[string]int{}
	requests := 0
	var (
		last   time.Time
		server layers.TCPPort // the template's server port, from the first SYN
	)
	for i := 1; ; i++ {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if ci.Timestamp.Before(last) {
			t.Fatalf("packet %d goes back in time", i)
		}
		last = ci.Timestamp
		pk := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		ip, _ := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := pk.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip == nil || tcp == nil {
			t.Fatalf("packet %d is not IPv4 and TCP: %v", i, pk.ErrorLayer())
		}
		checkChecksums(t, i, ip, tcp)
		if server == 0 {
			if !tcp.SYN || tcp.ACK {
				t.Fatalf("packet %d: the flood does not start with a client's SYN", i)
			}
			server = tcp.DstPort
		}
		toServer := tcp.DstPort == server
		var id gopacket.Flow
		if toServer {
			id = gopacket.NewFlow(layers.EndpointIPv4, ip.SrcIP, []byte{byte(tcp.SrcPort >> 8), byte(tcp.SrcPort)})
		} else {
			id = gopacket.NewFlow(layers.EndpointIPv4, ip.DstIP, []byte{byte(tcp.DstPort >> 8), byte(tcp.DstPort)})
		}
		c := conns[id]
		if c == nil {
			c = new([2]side)
			conns[id] = c
		}
		me, peer := &c[0], &c[1]
		if !toServer {
			me, peer = &c[1], &c[0]
		}
		if me.seen && tcp.Seq != me.next {
			t.Fatalf("packet %d: seq %d, want %d (the sequence numbers do not follow the rewritten request)", i, tcp.Seq, me.next)
		}
		if tcp.ACK && peer.seen && tcp.Ack != peer.next {
			t.Fatalf("packet %d: ack %d, want %d", i, tcp.Ack, peer.next)
		}
		me.seen, me.next = true, tcp.Seq+uint32(len(tcp.Payload))
		if tcp.SYN || tcp.FIN {
			me.next++
		}
		if toServer && strings.HasPrefix(string(tcp.Payload), "GET ") {
			requests++
			_, v, _ := strings.Cut(string(tcp.Payload), "\r\nX-API-Key: ")
			v, _, _ = strings.Cut(v, "\r\n")
			keys[v]++
		}
	}
	if requests != n+attackRequests || len(conns) != n+attackRequests {
		t.Errorf("%d requests in %d connections, want %d in as many", requests, len(conns), n+attackRequests)
	}
	if len(keys) != n+3 || keys["BURSTkey"] != 500 || keys["SPREADkk"] != 30 {
		t.Errorf("%d distinct keys (want %d), burst %d (500), spread %d (30)", len(keys), n+3, keys["BURSTkey"], keys["SPREADkk"])
	}
}

// checkChecksums serializes the packet's IPv4 and TCP layers again with
// the checksums computed and compares them with what the flood wrote.
func checkChecksums(t *testing.T, i int, ip *layers.IPv4, tcp *layers.TCP) {
	t.Helper()
	ipSum, tcpSum := ip.Checksum, tcp.Checksum
	ip2, tcp2 := *ip, *tcp
	if err := tcp2.SetNetworkLayerForChecksum(&ip2); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, &ip2, &tcp2, gopacket.Payload(tcp.Payload)); err != nil {
		t.Fatalf("packet %d: %v", i, err)
	}
	again := gopacket.NewPacket(buf.Bytes(), layers.LayerTypeIPv4, gopacket.Default)
	ip3, _ := again.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	tcp3, _ := again.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if ip3 == nil || tcp3 == nil || ip3.Checksum != ipSum || tcp3.Checksum != tcpSum {
		t.Fatalf("packet %d: checksums %#04x/%#04x, want what serializing again computes", i, ipSum, tcpSum)
	}
}
