package capture

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// The second reference (issue 13 part 5): tcpflow reassembles each TCP
// connection into a file, without parsing HTTP, and a request-line scan
// reads every line of each client-to-server flow that is a request line
// (METHOD SP target SP HTTP/1.x) and the first Host field after it. It
// parses differently from tshark's dissector (no message framing at all),
// so where both agree with us the agreement means something. Each
// disagreement falls in a class the README's capture section explains;
// one that falls in none fails the test.

// tcpflowFiles are every capture in testdata and the demo's.
func tcpflowFiles(t *testing.T) []string {
	var files []string
	for _, pat := range []string{"../testdata/*/*.pcap", "../testdata/*/*.pcapng", "../testdata/*/*.pcap.gz", "../testdata/*/*.pcapng.gz", "../app/demo/*.pcapng"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	if len(files) < 30 {
		t.Fatalf("%d captures in testdata: the comparison would compare little", len(files))
	}
	return files
}

// tcpflowPorts are the server ports of every recording.
var tcpflowPorts = append(slices.Clone(tsharkPorts), 8443)

var (
	flowName    = regexp.MustCompile(`^([0-9a-f.:]+)\.(\d{5})-([0-9a-f.:]+)\.(\d{5})(?:c(\d+))?$`)
	requestLine = regexp.MustCompile(`^([!#$%&'*+.^_` + "`" + `|~0-9A-Za-z-]+) ([^ \x00-\x20\x7f]+) HTTP/1\.[0-9]\r?$`)
	// A known method at the end of a line that something else begins.
	embeddedLine = regexp.MustCompile(`(GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH) ([^ \x00-\x20\x7f]+) HTTP/1\.[0-9]\r?$`)
)

// flowAddr reads tcpflow's address and port of a flow file name
// (IPv4 with zero-padded octets).
func flowAddr(addr, port string) netip.AddrPort {
	if !strings.Contains(addr, ":") {
		o := strings.Split(addr, ".")
		for i := range o {
			n, _ := strconv.Atoi(o[i])
			o[i] = strconv.Itoa(n)
		}
		addr = strings.Join(o, ".")
	}
	a, _ := netip.ParseAddr(addr)
	p, _ := strconv.Atoi(port)
	return netip.AddrPortFrom(a, uint16(p))
}

// flowScan is what the scan of one capture's flows found.
type flowScan struct {
	reqs     map[string][]string        // connection -> "METHOD host target", in stream order
	embedded map[string]map[string]bool // connection -> request lines that do not start a line
	flows    map[string]bool            // connections tcpflow wrote a client-to-server flow for
}

// scanFlows runs tcpflow on path and scans each client-to-server flow for
// request lines.
func scanFlows(t *testing.T, path string) flowScan {
	t.Helper()
	dir := t.TempDir()
	in := path
	if strings.HasSuffix(path, ".gz") {
		in = filepath.Join(dir, "in.pcap")
		gunzip(t, path, in)
	}
	out := filepath.Join(dir, "flows")
	os.Mkdir(out, 0o755)
	cmd := exec.Command("tcpflow", "-Z", "-r", in, "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Logf("tcpflow %s: %v: %s", path, err, b) // a cut file: what it read is there
	}
	ents, _ := os.ReadDir(out)
	type flow struct {
		conn     string
		n        int
		reqs     []string
		embedded []string
	}
	var flows []flow
	for _, e := range ents {
		m := flowName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		src, dst := flowAddr(m[1], m[2]), flowAddr(m[3], m[4])
		if !slices.Contains(tcpflowPorts, dst.Port()) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(m[5])
		reqs, embedded := scanRequests(data)
		flows = append(flows, flow{src.String() + " > " + dst.String(), n, reqs, embedded})
	}
	sort.SliceStable(flows, func(i, j int) bool { return flows[i].n < flows[j].n })
	fs := flowScan{reqs: map[string][]string{}, embedded: map[string]map[string]bool{}, flows: map[string]bool{}}
	for _, f := range flows {
		fs.flows[f.conn] = true
		if len(f.reqs) > 0 {
			fs.reqs[f.conn] = append(fs.reqs[f.conn], f.reqs...)
		}
		for _, e := range f.embedded {
			method, target, _ := strings.Cut(e, " ")
			if red, ok := keys.NewExtractor(keys.DefaultConfig()).AppendRedacted(nil, []byte(target)); ok {
				e = method + " " + string(red)
			}
			if fs.embedded[f.conn] == nil {
				fs.embedded[f.conn] = map[string]bool{}
			}
			fs.embedded[f.conn][e] = true
		}
	}
	return fs
}

// scanRequests finds every request line in a flow and the first Host
// field of the lines after it, up to an empty line; and, apart, the
// request lines that end a line without starting it (glued to what came
// before, as "METHOD target" only).
func scanRequests(data []byte) (reqs, embedded []string) {
	lines := bytes.Split(data, []byte("\n"))
	for i, l := range lines {
		if m := embeddedLine.FindSubmatchIndex(l); m != nil && m[0] > 0 {
			embedded = append(embedded, string(l[m[2]:m[3]])+" "+string(l[m[4]:m[5]]))
		}
		m := requestLine.FindSubmatch(l)
		if m == nil {
			continue
		}
		host := ""
		for _, h := range lines[i+1:] {
			h = bytes.TrimRight(h, "\r")
			if len(h) == 0 {
				break
			}
			if name, v, ok := bytes.Cut(h, []byte(":")); ok && strings.EqualFold(string(name), "host") {
				host = string(trimOWS(v))
				break
			}
		}
		reqs = append(reqs, string(m[1])+" "+host+" "+string(m[2]))
	}
	return reqs, embedded
}

func gunzip(t *testing.T, from, to string) {
	t.Helper()
	f, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := io.Copy(&b, z); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tcpflowNoFlow are captures where tcpflow 1.6 writes no flow for some
// connections, with why.
var tcpflowNoFlow = map[string]string{
	"fmt_any_sll2.pcap":   "LINKTYPE_LINUX_SLL2 (tcpdump -i any -y LINUX_SLL2) is not decoded by tcpflow",
	"short_any_sll2.pcap": "LINKTYPE_LINUX_SLL2 is not decoded by tcpflow",
	"fmt_multi.pcapng":    "libpcap, which tcpflow reads with, stops where the second interface has another link type",
	"fmt_rawip6.pcap":     "LINKTYPE_IPV6 (229) is not decoded by tcpflow",
	"tun_gre.pcap":        "GRE with Ethernet inside (transparent Ethernet bridging) is not decoded by tcpflow",
	"tun_ipip.pcap":       "IP-in-IP and 6in4 are not decoded by tcpflow",
	"tun_vxlan.pcap":      "VXLAN is not decoded by tcpflow",
	"frag_vxlan.pcap":     "VXLAN (here with its outer packets fragmented) is not decoded by tcpflow",
	"enc_vxlan_gpe.pcap":  "VXLAN-GPE is not decoded by tcpflow",
	"enc_geneve.pcap":     "Geneve is not decoded by tcpflow",
	"enc_gre_ovs.pcap":    "GRE with Ethernet inside is not decoded by tcpflow",
	"enc_erspan2.pcap":    "ERSPAN is not decoded by tcpflow",
	"enc_erspan3.pcap":    "ERSPAN is not decoded by tcpflow",
	"enc_mpls.pcap":       "MPLS is not decoded by tcpflow",
	"enc_mpls_vlan.pcap":  "MPLS is not decoded by tcpflow",
	"enc_nflog.pcap":      "LINKTYPE_NFLOG (239) is not decoded by tcpflow",
	"enc_teredo.pcap":     "Teredo is not decoded by tcpflow",
}

// Disagreement classes (README, capture section).
const (
	classLenient = "lenient request line (rebindwatch reads it as a server would; the scan wants METHOD SP target SP HTTP/1.x)"
	classH2      = "HTTP/2 (h2c): the scan reads HTTP/1 only"
	classGlued   = "a request right after a body that ends without a line end: the scan sees no line start, rebindwatch follows Content-Length and chunked framing"
	classNoFlow  = "no flow from tcpflow"
)

func TestAgainstTcpflow(t *testing.T) {
	if _, err := exec.LookPath("tcpflow"); err != nil {
		t.Skip("SKIPPING THE TCPFLOW CROSS-CHECK: tcpflow is not installed (Debian: apt-get install tcpflow)")
	}
	for _, path := range tcpflowFiles(t) {
		t.Run(strings.TrimPrefix(path, "../"), func(t *testing.T) {
			t.Parallel()
			fs := scanFlows(t, path)
			redactAll(fs.reqs)
			kx := keys.NewExtractor(keys.DefaultConfig())
			r := readPath(t, path, Options{Ports: tcpflowPorts, Keys: kx})
			if r.err != nil {
				t.Fatal(r.err)
			}
			got := map[string][]*detect.Request{}
			for i := range r.reqs {
				q := &r.reqs[i]
				conn := q.Client.String() + " > " + q.Server.String()
				got[conn] = append(got[conn], q)
			}
			classes := map[string]int{}
			agree := 0
			for c := range union(got, fs.reqs) {
				ours, theirs := got[c], fs.reqs[c]
				plain := make([]string, len(ours))
				for i, q := range ours {
					plain[i] = q.Method + " " + q.Host + " " + q.Target
				}
				oo, to := minus(plain, theirs), minus(theirs, plain)
				agree += len(plain) - len(oo)
				if len(oo) == 0 && len(to) == 0 && !slices.Equal(plain, theirs) {
					t.Errorf("%s: same requests in another order:\n ours    %q\n tcpflow %q", c, plain, theirs)
				}
				// A line the scan read with body bytes before its method.
				for _, s := range to {
					if i := slices.IndexFunc(oo, func(o string) bool { return strings.HasSuffix(s, o) && len(s) > len(o) }); i >= 0 {
						oo = slices.Delete(oo, i, i+1)
						classes[classGlued]++
						continue
					}
					t.Errorf("%s: tcpflow's scan reads %q, rebindwatch does not", c, short(s))
				}
				for _, o := range oo {
					q := ours[slices.Index(plain, o)]
					method, rest, _ := strings.Cut(o, " ")
					_, target, _ := strings.Cut(rest, " ")
					switch {
					case q.Malformed != "":
						classes[classLenient]++
					case q.Proto == "HTTP/2.0":
						classes[classH2]++
					case fs.embedded[c][method+" "+target]:
						classes[classGlued]++
					case !fs.flows[c] && tcpflowNoFlow[filepath.Base(path)] != "":
						classes[classNoFlow+": "+tcpflowNoFlow[filepath.Base(path)]]++
					default:
						t.Errorf("%s: rebindwatch reads %q, tcpflow's scan does not (flow written: %v)", c, short(o), fs.flows[c])
					}
				}
			}
			t.Logf("%d requests agree", agree)
			for cl, n := range classes {
				t.Logf("%d: %s", n, cl)
			}
		})
	}
}

// minus returns a's elements not matched in b (as multisets).
func minus(a, b []string) []string {
	left := map[string]int{}
	for _, s := range b {
		left[s]++
	}
	var out []string
	for _, s := range a {
		if left[s] > 0 {
			left[s]--
			continue
		}
		out = append(out, s)
	}
	return out
}

func short(s string) string {
	if len(s) > 90 {
		return s[:40] + "…" + s[len(s)-40:]
	}
	return s
}

func union[A, B any](a map[string]A, b map[string]B) map[string]bool {
	u := map[string]bool{}
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}
