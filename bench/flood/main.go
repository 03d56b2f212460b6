// Command flood writes the floods the memory benchmarks replay: N requests
// carrying up to N distinct API keys, Host values and client addresses, as
// an nginx access log or as a pcap, each made from a real recording in
// testdata (a line nginx wrote; a whole TCP connection between curl and
// nginx) with only the client address, time, Host and key rewritten. Real
// software will not send a million distinct keys from a million addresses
// on demand; the bytes around those fields are what it sent.
//
//	go run ./bench/flood -log flood.log -n 1000000
//	go run ./bench/flood -pcap flood.pcap -n 1000000
//	go run ./bench/flood -pcap open.pcap -n 200000 -open     # connections that never close
//	go run ./bench/flood -log flood.log -n 2000000 -distinct 1000000 -attack
//
// Request i uses key i mod D, Host (3i+1) mod D and client (7i+5) mod D,
// where D is -distinct (default N): all distinct when D is prime to 3 and
// 7, and not moving in step, so no table evicts in the order another
// fills. -attack mixes in what the flood must not hide: one key bursting
// 500 requests within a few milliseconds at 40% (key "BURSTkey"), one
// foreign Host with a key at 60% ("evil.rebind.test", key "FOREIGNk"),
// and one key from 30 clients spread over the run ("SPREADkk").
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("flood", flag.ContinueOnError)
	fs.SetOutput(stderr)
	logOut := fs.String("log", "", "write an nginx access log (the format of testdata/rec/ext.fmt) to `FILE`")
	pcapOut := fs.String("pcap", "", "write a pcap to `FILE`")
	logTmpl := fs.String("log-template", "testdata/rec/normal_access_ext.log", "recorded log whose first line with a key is the template")
	pcapTmpl := fs.String("pcap-template", "testdata/rec/scenarios.pcap", "recorded capture whose first closed GET connection with an X-API-Key is the template")
	n := fs.Int("n", 1_000_000, "requests in the flood (besides the attack's)")
	distinct := fs.Int("distinct", 0, "distinct keys, Hosts and clients (default: -n)")
	rate := fs.Float64("rate", 10_000, "requests per second of event time")
	attack := fs.Bool("attack", false, "mix in a burst, a foreign Host and a spread key")
	open := fs.Bool("open", false, "pcap: each connection stops after its request (no answer, no close)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*logOut == "") == (*pcapOut == "") {
		return errors.New("name one of -log FILE and -pcap FILE")
	}
	if *distinct <= 0 {
		*distinct = *n
	}
	if *n <= 0 || *rate <= 0 || *distinct > 1<<24 {
		return errors.New("-n and -rate must be positive, -distinct at most 2^24 (client addresses are 10.0.0.0/8)")
	}
	// The day the recordings in testdata/rec were made.
	p := plan{n: *n, distinct: *distinct, rate: *rate, attack: *attack, start: time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC)}
	if *logOut != "" {
		return writeFile(*logOut, func(w *bufio.Writer) error { return writeLog(w, *logTmpl, p) })
	}
	return writeFile(*pcapOut, func(w *bufio.Writer) error { return writePcap(w, *pcapTmpl, p, *open) })
}

// writeFile creates path and has fill write it through a large buffer.
func writeFile(path string, fill func(*bufio.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := fill(w); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// plan is the flood's sequence of requests, the same for both formats.
type plan struct {
	n, distinct int
	rate        float64
	attack      bool
	start       time.Time // the first request's event time
}

// request is one request of the flood. key is -1 for the attack's
// requests, whose key is named.
type request struct {
	at      time.Time
	client  netip.Addr
	host    string
	key     int
	keyName string
}

// each calls f for every request in event-time order.
func (p plan) each(f func(*request) error) error {
	burstAt, foreignAt, spreadFrom := p.n*4/10, p.n*6/10, p.n/20
	spreadEvery := max(1, (p.n-spreadFrom)/40)
	var r request
	for i := 0; i < p.n; i++ {
		at := p.start.Add(time.Duration(float64(i) / p.rate * float64(time.Second)))
		r = request{at: at, client: clientAddr((7*i + 5) % p.distinct), host: fmt.Sprintf("h%d.api.rebind.test", (3*i+1)%p.distinct), key: i % p.distinct}
		if err := f(&r); err != nil {
			return err
		}
		if !p.attack {
			continue
		}
		if i >= burstAt && i < burstAt+20 { // 25 a line over 20 lines
			for range 25 {
				r = request{at: at, client: netip.AddrFrom4([4]byte{192, 0, 2, 7}), host: "api.rebind.test", key: -1, keyName: "BURSTkey"}
				if err := f(&r); err != nil {
					return err
				}
			}
		}
		if i == foreignAt {
			r = request{at: at, client: netip.AddrFrom4([4]byte{192, 0, 2, 8}), host: "evil.rebind.test", key: -1, keyName: "FOREIGNk"}
			if err := f(&r); err != nil {
				return err
			}
		}
		if j := (i - spreadFrom) / spreadEvery; i >= spreadFrom && (i-spreadFrom)%spreadEvery == 0 && j < 30 {
			r = request{at: at, client: netip.AddrFrom4([4]byte{192, 0, 2, byte(100 + j)}), host: "api.rebind.test", key: -1, keyName: "SPREADkk"}
			if err := f(&r); err != nil {
				return err
			}
		}
	}
	return nil
}

// clientAddr is the c-th client: 10.0.0.0/8 in order.
func clientAddr(c int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(c >> 16), byte(c >> 8), byte(c)})
}
