package capture

import (
	"fmt"
	"slices"

	"golang.org/x/net/bpf"
)

// The kernel filter of a live capture. Without cgo there is no libpcap to
// compile a tcpdump expression, so the classic BPF program is assembled
// here from the configured ports, with golang.org/x/net/bpf instructions.
// It keeps what the pipeline can use and lets the kernel drop the rest
// before it is copied to the ring:
//
//   - TCP to or from a configured port (every TCP segment with AnyPort);
//   - DNS (UDP and TCP port 53), for the DNS answers;
//   - TLS ClientHellos, for their server names: every segment on the
//     usual https ports (443, 8443: a ClientHello with a post-quantum key
//     share spans two segments), and on any other port a segment whose
//     payload starts like a TLS handshake record (its first segment);
//   - tunnels the decoder follows: GRE (IP protocol 47), IP-in-IP (4),
//     IPv6-in-IPv4 (41), the UDP encapsulations on their ports (VXLAN,
//     VXLAN-GPE, Geneve, GRE and MPLS in UDP, GTP-U, Teredo, AYIYA:
//     tunnelUDPPorts), and on Ethernet MPLS and PPPoE sessions;
//   - IPv6 packets with extension headers (fragments among them), and
//     frames still carrying a VLAN tag (the kernel usually strips the
//     outer one), which a fixed-offset filter cannot look into: the
//     decoder sorts them out;
//   - IPv4 fragments after the first: they carry no ports, so each is
//     kept for the reassembly, which keeps only the datagrams whose first
//     fragment the filter also let through (the rest time out, bounded).
//
// Teredo between two clients runs on any UDP port: live, only what goes
// through port 3544 (a server or relay) is seen.

// tlsPorts are the https ports whose every TCP segment is kept, so a
// ClientHello spanning several segments is seen whole.
var tlsPorts = [...]uint16{443, 8443}

// IP protocol numbers of the tunnels the decoder follows.
const (
	ipProtoIPIP = 4
	ipProtoTCP  = 6
	ipProtoUDP  = 17
	ipProtoIPv6 = 41
	ipProtoGRE  = 47
)

// maxFilterPorts bounds the ports compared one by one in the kernel
// filter; with more, every TCP segment is kept and the pipeline filters.
// Each port costs four instructions, far below the kernel's 4096.
const maxFilterPorts = 256

// snapAccept is what the filter returns for a packet it keeps: the number
// of bytes to keep, i.e. all of them.
const snapAccept = 262144

// Kernel values for the ancillary loads (linux/if_packet.h).
const packetOutgoing = 4 // PACKET_OUTGOING: a packet this host sends

// filterSpec says what a live filter keeps.
type filterSpec struct {
	ports   []uint16 // TCP ports (either end); ignored with anyPort
	anyPort bool
	// link is the first layer the filter sees: Ethernet (SOCK_RAW on an
	// Ethernet or loopback device) or raw IP (SOCK_DGRAM, "any").
	ethernet bool
	// dropOutgoingOn lists interface indexes whose outgoing packets are
	// dropped: a loopback interface shows every packet twice, as sent and
	// as received. -1 in the list means every interface (the socket is
	// bound to a loopback one). Uses ancillary loads, which the x/net/bpf
	// VM cannot run: tests assemble the program without them.
	dropOutgoingOn []int
}

// asm is a tiny assembler with forward labels. Conditional jumps in
// classic BPF reach at most 255 instructions, so every branch here is a
// short hop over one unconditional jump (32-bit reach) to its label.
type asm struct {
	ins    []bpf.Instruction
	labels map[string]int
	fixups map[int]string // index of a bpf.Jump -> label
}

func newAsm() *asm {
	return &asm{labels: map[string]int{}, fixups: map[int]string{}}
}

func (a *asm) emit(i ...bpf.Instruction) { a.ins = append(a.ins, i...) }

func (a *asm) label(name string) { a.labels[name] = len(a.ins) }

// jumpIf goes to label when A cond val holds, else falls through.
func (a *asm) jumpIf(cond bpf.JumpTest, val uint32, label string) {
	a.emit(bpf.JumpIf{Cond: cond, Val: val, SkipTrue: 0, SkipFalse: 1})
	a.jump(label)
}

func (a *asm) jump(label string) {
	a.fixups[len(a.ins)] = label
	a.emit(bpf.Jump{})
}

// acceptIf returns the packet when A cond val holds.
func (a *asm) acceptIf(cond bpf.JumpTest, val uint32) {
	a.emit(bpf.JumpIf{Cond: cond, Val: val, SkipTrue: 0, SkipFalse: 1}, bpf.RetConstant{Val: snapAccept})
}

func (a *asm) assemble() ([]bpf.RawInstruction, error) {
	for at, name := range a.fixups {
		to, ok := a.labels[name]
		if !ok || to <= at {
			return nil, fmt.Errorf("bpf: bad label %q", name)
		}
		a.ins[at] = bpf.Jump{Skip: uint32(to - at - 1)}
	}
	return bpf.Assemble(a.ins)
}

// buildFilter assembles the kernel filter for spec.
func buildFilter(spec filterSpec) ([]bpf.RawInstruction, error) {
	a := newAsm()
	ports := slices.Clone(spec.ports)
	slices.Sort(ports)
	ports = slices.Compact(ports)
	anyTCP := spec.anyPort || len(ports) > maxFilterPorts

	for _, idx := range spec.dropOutgoingOn {
		// if pkttype == OUTGOING && (idx < 0 || ifindex == idx) return 0
		a.emit(bpf.LoadExtension{Num: bpf.ExtType})
		if idx < 0 {
			a.emit(bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing, SkipTrue: 0, SkipFalse: 1}, bpf.RetConstant{Val: 0})
			continue
		}
		a.emit(bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing, SkipTrue: 0, SkipFalse: 3},
			bpf.LoadExtension{Num: bpf.ExtInterfaceIndex},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(idx), SkipTrue: 0, SkipFalse: 1},
			bpf.RetConstant{Val: 0})
	}

	base := uint32(0)
	if spec.ethernet {
		base = 14
		a.emit(bpf.LoadAbsolute{Off: 12, Size: 2})
		a.jumpIf(bpf.JumpEqual, 0x0800, "ip4")
		a.jumpIf(bpf.JumpEqual, 0x86dd, "ip6")
		a.acceptIf(bpf.JumpEqual, 0x8100) // 802.1Q still in the frame
		a.acceptIf(bpf.JumpEqual, 0x88a8) // 802.1ad (QinQ)
		a.acceptIf(bpf.JumpEqual, etherMPLS)
		a.acceptIf(bpf.JumpEqual, etherMPLSMulticast)
		a.acceptIf(bpf.JumpEqual, etherPPPoESession)
		a.emit(bpf.RetConstant{Val: 0})
	} else {
		// Raw IP: the version nibble says which.
		a.emit(bpf.LoadAbsolute{Off: 0, Size: 1}, bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4})
		a.jumpIf(bpf.JumpEqual, 4, "ip4")
		a.jumpIf(bpf.JumpEqual, 6, "ip6")
		a.emit(bpf.RetConstant{Val: 0})
	}

	// IPv4: protocol at 9; X = header length.
	a.label("ip4")
	a.emit(bpf.LoadAbsolute{Off: base + 9, Size: 1})
	for _, p := range []uint32{ipProtoGRE, ipProtoIPIP, ipProtoIPv6} {
		a.acceptIf(bpf.JumpEqual, p)
	}
	a.jumpIf(bpf.JumpEqual, ipProtoTCP, "tcp4")
	a.jumpIf(bpf.JumpEqual, ipProtoUDP, "udp4")
	a.emit(bpf.RetConstant{Val: 0})
	for _, l4 := range []string{"tcp4", "udp4"} {
		a.label(l4)
		// A non-first fragment has no ports: kept for reassembly.
		a.emit(bpf.LoadAbsolute{Off: base + 6, Size: 2},
			bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff, SkipTrue: 0, SkipFalse: 1},
			bpf.RetConstant{Val: snapAccept},
			bpf.LoadMemShift{Off: base})
		if l4 == "tcp4" {
			portChecks(a, true, base, ports, anyTCP)
			tlsCheck(a, true, base)
		} else {
			portChecks(a, true, base, nil, false)
			a.emit(bpf.RetConstant{Val: 0})
		}
	}

	// IPv6: next header at 6, a fixed 40-byte header.
	a.label("ip6")
	a.emit(bpf.LoadAbsolute{Off: base + 6, Size: 1})
	for _, p := range []uint32{ipProtoGRE, ipProtoIPIP, ipProtoIPv6,
		0, 43, 44, 60} { // hop-by-hop, routing, fragment, destination options
		a.acceptIf(bpf.JumpEqual, p)
	}
	a.jumpIf(bpf.JumpEqual, ipProtoTCP, "tcp6")
	a.jumpIf(bpf.JumpEqual, ipProtoUDP, "udp6")
	a.emit(bpf.RetConstant{Val: 0})
	a.label("tcp6")
	portChecks(a, false, base+40, ports, anyTCP)
	tlsCheck(a, false, base+40)
	a.label("udp6")
	portChecks(a, false, base+40, nil, false)
	a.emit(bpf.RetConstant{Val: 0})
	return a.assemble()
}

// portChecks keeps the segment when either port is wanted. For TCP the
// wanted ports are ports plus DNS and the TLS ports (all with anyTCP); for
// UDP (ports nil) DNS and the encapsulations' ports. indirect loads the ports at X+off (IPv4,
// whose header length varies), else at off.
func portChecks(a *asm, indirect bool, off uint32, ports []uint16, anyTCP bool) {
	if anyTCP {
		a.emit(bpf.RetConstant{Val: snapAccept})
		return
	}
	want := []uint32{dnsPort}
	if ports == nil {
		for _, p := range tunnelUDPPorts {
			want = append(want, uint32(p))
		}
	} else {
		for _, p := range tlsPorts {
			if !slices.Contains(ports, p) {
				want = append(want, uint32(p))
			}
		}
	}
	for _, p := range ports {
		if p != dnsPort {
			want = append(want, uint32(p))
		}
	}
	for _, at := range []uint32{off, off + 2} {
		if indirect {
			a.emit(bpf.LoadIndirect{Off: at, Size: 2})
		} else {
			a.emit(bpf.LoadAbsolute{Off: at, Size: 2})
		}
		for _, p := range want {
			a.acceptIf(bpf.JumpEqual, p)
		}
	}
}

// tlsCheck keeps a TCP segment whose payload starts like a TLS handshake
// record (content type 22, version major 3), then drops the rest. The TCP
// header starts at X+off (IPv4, indirect) or off. A segment without
// payload makes the load run past the packet, which drops it.
func tlsCheck(a *asm, indirect bool, off uint32) {
	if indirect {
		a.emit(bpf.LoadIndirect{Off: off + 12, Size: 1})
	} else {
		a.emit(bpf.LoadAbsolute{Off: off + 12, Size: 1})
	}
	// A = data offset in bytes: (byte & 0xf0) >> 2.
	a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf0}, bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 2})
	if indirect {
		a.emit(bpf.ALUOpX{Op: bpf.ALUOpAdd}) // plus the IPv4 header length in X
	}
	a.emit(bpf.TAX{},
		bpf.LoadIndirect{Off: off, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: tlsRecordHandshake, SkipTrue: 0, SkipFalse: 3},
		bpf.LoadIndirect{Off: off + 1, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 3, SkipTrue: 0, SkipFalse: 1},
		bpf.RetConstant{Val: snapAccept},
		bpf.RetConstant{Val: 0})
}
