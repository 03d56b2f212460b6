//go:build linux && !pcap

package capture

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
)

// Ring geometry: 32 blocks of 1 MiB. A block is handed to us when it is
// full or after ringBlockTimeout, so a quiet link still delivers within
// that time; a packet up to a block's size (GRO on loopback makes 64 KiB
// ones) fits whole.
const (
	ringFrameSize    = 1 << 11
	ringBlockSize    = 1 << 20
	ringBlocks       = 32
	ringBlockTimeout = 50 * time.Millisecond
)

// ARPHRD values (linux/if_arp.h) of devices whose frames start with an
// Ethernet header.
const (
	arphrdEther    = 1
	arphrdLoopback = 772
)

// afpacketReader reads an AF_PACKET TPACKET_V3 ring.
type afpacketReader struct {
	tp   *afpacket.TPacket
	link layers.LinkType
}

// pcapBackend says whether Live uses libpcap in this build.
const pcapBackend = false

// openLive opens an AF_PACKET socket on iface with the kernel filter.
func openLive(iface string, opts *Options) (liveReader, error) {
	if opts.Filter != "" {
		return nil, ErrFilterNeedsPcap
	}
	all := iface == "any" || iface == ""
	spec := filterSpec{ports: opts.Ports, anyPort: opts.AnyPort}
	sockType := afpacket.SocketDgram // network layer first: any device type
	link := layers.LinkTypeRaw
	var ifi *net.Interface
	if !all {
		var err error
		if ifi, err = net.InterfaceByName(iface); err != nil {
			return nil, noInterface(iface)
		}
		if t := arphrd(iface); t == arphrdEther || t == arphrdLoopback {
			// Keep the Ethernet header: the decoder reads VLAN tags the
			// kernel left in the frame.
			sockType, link, spec.ethernet = afpacket.SocketRaw, layers.LinkTypeEthernet, true
		}
		if ifi.Flags&net.FlagLoopback != 0 {
			spec.dropOutgoingOn = []int{-1}
		}
	} else if ifs, err := net.Interfaces(); err == nil {
		for _, i := range ifs {
			if i.Flags&net.FlagLoopback != 0 {
				spec.dropOutgoingOn = append(spec.dropOutgoingOn, i.Index)
			}
		}
	}
	prog, err := buildFilter(spec)
	if err != nil {
		return nil, fmt.Errorf("building the kernel filter: %w", err)
	}
	topts := []any{
		afpacket.OptFrameSize(ringFrameSize),
		afpacket.OptBlockSize(ringBlockSize),
		afpacket.OptNumBlocks(ringBlocks),
		afpacket.OptBlockTimeout(ringBlockTimeout),
		afpacket.OptPollTimeout(livePoll),
		afpacket.TPacketVersion3,
		sockType,
	}
	if !all {
		topts = append(topts, afpacket.OptInterface(iface))
	}
	tp, err := afpacket.NewTPacket(topts...)
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return nil, &privilegeError{iface: iface, cause: err}
		}
		return nil, fmt.Errorf("opening a capture socket on %s: %w", displayIface(iface), err)
	}
	// The filter goes on before the first read; the ring may already hold
	// a few packets from before it, which the pipeline filters anyway.
	if err := tp.SetBPF(prog); err != nil {
		tp.Close()
		return nil, fmt.Errorf("attaching the kernel filter on %s: %w", displayIface(iface), err)
	}
	if ifi != nil && ifi.Flags&net.FlagLoopback == 0 {
		// Traffic to the server behind a switch's mirror port is not
		// addressed to us. Failure only narrows what we see.
		_ = tp.SetPromiscuous(true)
	}
	return &afpacketReader{tp: tp, link: link}, nil
}

func (r *afpacketReader) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	data, ci, err := r.tp.ZeroCopyReadPacketData()
	if err != nil {
		if errors.Is(err, afpacket.ErrTimeout) {
			err = errIdle
		}
		return nil, ci, 0, err
	}
	return data, ci, r.link, nil
}

func (r *afpacketReader) drops() (uint64, error) {
	_, v3, err := r.tp.SocketStats()
	if err != nil {
		return 0, fmt.Errorf("reading socket statistics: %w", err)
	}
	return uint64(v3.Drops()), nil
}

func (r *afpacketReader) close() { r.tp.Close() }

// arphrd returns the ARPHRD type of a network device, -1 when unknown.
func arphrd(iface string) int {
	if strings.ContainsAny(iface, "/\x00") || iface == "." || iface == ".." {
		return -1
	}
	b, err := os.ReadFile("/sys/class/net/" + iface + "/type")
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}
