package capture

import (
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// filterFrame builds one frame for the filter tests: Ethernet (optionally
// with a VLAN tag) or raw IP, over IPv4 or IPv6, carrying l4.
func filterFrame(t *testing.T, ethernet, v6 bool, vlan bool, l4 ...gopacket.SerializableLayer) []byte {
	t.Helper()
	var ip gopacket.SerializableLayer
	ethType := layers.EthernetTypeIPv4
	proto := layers.IPProtocolTCP
	switch l := l4[0].(type) {
	case *layers.UDP:
		proto = layers.IPProtocolUDP
	case *layers.GRE:
		proto = layers.IPProtocolGRE
	case *layers.IPv4:
		proto = layers.IPProtocolIPv4
	case *layers.IPv6:
		proto = layers.IPProtocolIPv6
	case *layers.TCP:
		_ = l
	}
	if v6 {
		ip6 := &layers.IPv6{Version: 6, NextHeader: proto, HopLimit: 64, SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
		setChecksumLayer(l4, ip6)
		ip, ethType = ip6, layers.EthernetTypeIPv6
	} else {
		ip4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}}
		setChecksumLayer(l4, ip4)
		ip = ip4
	}
	ls := []gopacket.SerializableLayer{ip}
	if ethernet {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: ethType}
		if vlan {
			eth.EthernetType = layers.EthernetTypeDot1Q
			ls = append([]gopacket.SerializableLayer{eth, &layers.Dot1Q{VLANIdentifier: 7, Type: ethType}}, ls...)
		} else {
			ls = append([]gopacket.SerializableLayer{eth}, ls...)
		}
	}
	ls = append(ls, l4...)
	if _, ok := l4[len(l4)-1].(gopacket.Payload); !ok {
		ls = append(ls, gopacket.Payload("GET / HTTP/1.1\r\n\r\n"))
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// setChecksumLayer gives the TCP and UDP layers in ls their network layer.
func setChecksumLayer(ls []gopacket.SerializableLayer, ip gopacket.NetworkLayer) {
	for _, l := range ls {
		switch l := l.(type) {
		case *layers.TCP:
			l.SetNetworkLayerForChecksum(ip)
		case *layers.UDP:
			l.SetNetworkLayerForChecksum(ip)
		}
	}
}

// The kernel filter, run in x/net/bpf's VM (without the ancillary loads,
// which only the kernel runs: TestLiveKernelFilter checks those).
func TestKernelFilterProgram(t *testing.T) {
	tcp := func(sp, dp int) *layers.TCP {
		return &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp), ACK: true, Window: 100}
	}
	udp := func(sp, dp int) *layers.UDP {
		return &layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)}
	}
	inner := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IP{192, 168, 0, 1}, DstIP: net.IP{192, 168, 0, 2}}
	tests := []struct {
		name    string
		v6      bool
		vlan    bool
		l4      []gopacket.SerializableLayer
		keep    bool // with ports [80 8080]
		keepAny bool // with AnyPort
	}{
		{"tcp_dst_watched", false, false, []gopacket.SerializableLayer{tcp(40000, 8080)}, true, true},
		{"tcp_src_watched", false, false, []gopacket.SerializableLayer{tcp(80, 40000)}, true, true},
		{"tcp_other_port", false, false, []gopacket.SerializableLayer{tcp(40000, 22)}, false, true},
		{"tcp_dns", false, false, []gopacket.SerializableLayer{tcp(40000, 53)}, true, true},
		{"udp_dns_answer", false, false, []gopacket.SerializableLayer{udp(53, 40000)}, true, true},
		{"udp_other", false, false, []gopacket.SerializableLayer{udp(40000, 123)}, false, false},
		{"vxlan", false, false, []gopacket.SerializableLayer{udp(40000, 4789)}, true, true},
		{"geneve", false, false, []gopacket.SerializableLayer{udp(40000, 6081)}, true, true},
		{"gtpu_v6", true, false, []gopacket.SerializableLayer{udp(2152, 2152)}, true, true},
		{"teredo_server", false, false, []gopacket.SerializableLayer{udp(3544, 40000)}, true, true},
		{"gre_in_udp", false, false, []gopacket.SerializableLayer{udp(40000, 4754)}, true, true},
		{"gre", false, false, []gopacket.SerializableLayer{&layers.GRE{Protocol: layers.EthernetTypeIPv4}}, true, true},
		{"ipip", false, false, []gopacket.SerializableLayer{inner, tcp(1, 2)}, true, true},
		{"v6_tcp_watched", true, false, []gopacket.SerializableLayer{tcp(40000, 80)}, true, true},
		{"v6_tcp_other", true, false, []gopacket.SerializableLayer{tcp(40000, 22)}, false, true},
		{"v6_udp_dns", true, false, []gopacket.SerializableLayer{udp(40000, 53)}, true, true},
		{"v6_udp_other", true, false, []gopacket.SerializableLayer{udp(40000, 5353)}, false, false},
		{"https_port_any_payload", false, false, []gopacket.SerializableLayer{tcp(40000, 443)}, true, true},
		{"https_8443_ack", true, false, []gopacket.SerializableLayer{tcp(8443, 40000), gopacket.Payload(nil)}, true, true},
		{"client_hello_other_port", false, false, []gopacket.SerializableLayer{tcp(40000, 9443), gopacket.Payload("\x16\x03\x01\x02\x00\x01")}, true, true},
		{"client_hello_other_port_v6", true, false, []gopacket.SerializableLayer{tcp(40000, 9443), gopacket.Payload("\x16\x03\x01\x02\x00\x01")}, true, true},
		{"tls_data_other_port", false, false, []gopacket.SerializableLayer{tcp(40000, 9443), gopacket.Payload("\x17\x03\x03\x00\x20")}, false, true},
		{"no_payload_other_port", false, false, []gopacket.SerializableLayer{tcp(40000, 9443), gopacket.Payload(nil)}, false, true},
		{"vlan_tagged_kept_for_userspace", false, true, []gopacket.SerializableLayer{tcp(40000, 22)}, true, true},
	}
	for _, ethernet := range []bool{true, false} {
		for _, anyPort := range []bool{false, true} {
			prog, err := buildFilter(filterSpec{ports: []uint16{8080, 80, 80}, anyPort: anyPort, ethernet: ethernet})
			if err != nil {
				t.Fatal(err)
			}
			ins, ok := bpf.Disassemble(prog)
			if !ok {
				t.Fatal("program does not disassemble")
			}
			vm, err := bpf.NewVM(ins)
			if err != nil {
				t.Fatal(err)
			}
			for _, tt := range tests {
				if tt.vlan && !ethernet {
					continue
				}
				frame := filterFrame(t, ethernet, tt.v6, tt.vlan, tt.l4...)
				n, err := vm.Run(frame)
				if err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
				want := tt.keep
				if anyPort {
					want = tt.keepAny
				}
				if (n > 0) != want {
					t.Errorf("ethernet=%v any=%v %s: kept=%v, want %v", ethernet, anyPort, tt.name, n > 0, want)
				}
				if n > 0 && n < len(frame) {
					t.Errorf("%s: kept %d of %d bytes", tt.name, n, len(frame))
				}
			}
		}
	}
	// Non-IP frames are dropped; IPv4 fragments after the first are kept
	// for reassembly.
	prog, _ := buildFilter(filterSpec{ports: []uint16{80}, ethernet: true})
	ins, _ := bpf.Disassemble(prog)
	vm, _ := bpf.NewVM(ins)
	arp := make([]byte, 42)
	arp[12], arp[13] = 0x08, 0x06
	if n, _ := vm.Run(arp); n != 0 {
		t.Error("ARP kept")
	}
	frag := filterFrame(t, true, false, false, tcp(40000, 80))
	frag[14+6] = 0x00
	frag[14+7] = 0x10 // fragment offset 16 (x8 bytes)
	if n, _ := vm.Run(frag); n == 0 {
		t.Error("non-first fragment dropped")
	}
	// MPLS and PPPoE sessions on Ethernet are for the decoder to open.
	for _, et := range []byte{0x47, 0x48, 0x64} {
		f := filterFrame(t, true, false, false, tcp(40000, 22))
		f[12], f[13] = 0x88, et
		if n, _ := vm.Run(f); n == 0 {
			t.Errorf("ethertype 0x88%02x dropped", et)
		}
	}
}

// Many ports: long programs still assemble (jumps beyond 255
// instructions), and beyond maxFilterPorts every TCP segment is kept.
func TestKernelFilterManyPorts(t *testing.T) {
	for _, n := range []int{200, maxFilterPorts, maxFilterPorts + 1, 5000} {
		var ports []uint16
		for i := range n {
			ports = append(ports, uint16(10000+i))
		}
		prog, err := buildFilter(filterSpec{ports: ports, ethernet: true, dropOutgoingOn: []int{1, 2}})
		if err != nil {
			t.Fatalf("%d ports: %v", n, err)
		}
		if len(prog) > 4096 {
			t.Fatalf("%d ports: %d instructions, beyond the kernel's 4096", n, len(prog))
		}
		plain, _ := buildFilter(filterSpec{ports: ports, ethernet: true})
		ins, _ := bpf.Disassemble(plain)
		vm, err := bpf.NewVM(ins)
		if err != nil {
			t.Fatal(err)
		}
		last := filterFrame(t, true, false, false, &layers.TCP{SrcPort: 40000, DstPort: layers.TCPPort(ports[n-1])})
		other := filterFrame(t, true, false, false, &layers.TCP{SrcPort: 40000, DstPort: 22})
		if k, _ := vm.Run(last); k == 0 {
			t.Errorf("%d ports: the last port is dropped", n)
		}
		if k, _ := vm.Run(other); (k > 0) != (n > maxFilterPorts) {
			t.Errorf("%d ports: port 22 kept=%v", n, k > 0)
		}
	}
}
