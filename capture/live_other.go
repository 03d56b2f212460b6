//go:build !linux && !pcap

package capture

import "errors"

// errNoLiveBackend explains what a build for this system lacks.
var errNoLiveBackend = errors.New("live capture without libpcap works on Linux only; on this system build with -tags pcap (cgo and libpcap), or record with tcpdump and replay with -r")

// pcapBackend says whether Live uses libpcap in this build.
const pcapBackend = false

// openLive has no backend on this system without libpcap.
func openLive(iface string, opts *Options) (liveReader, error) {
	return nil, errNoLiveBackend
}
