package report

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// fullBackend is a run at every cap: [limits] alerts incidents (2000), the
// tables at [limits] rows (1000), each incident with 64 alerts of 20
// requests of evidence (1280 timeline entries, of which 200 are shown).
// Details are made when asked for, as the engine copies them.
type fullBackend struct{ fakeBackend }

func (f *fullBackend) IncidentDetail(id string) (detect.IncidentDetail, bool) {
	for _, inc := range f.snap.Incidents {
		if inc.ID == id {
			return fullDetail(inc), true
		}
	}
	return detect.IncidentDetail{}, false
}

func fullDetail(inc detect.Incident) detect.IncidentDetail {
	d := detect.IncidentDetail{Incident: inc}
	for a := range 64 {
		al := detect.Alert{ID: uint64(a), Time: fxNow, Detector: detect.DetUnexpectedHost, Subject: inc.Subject, Key: "0123456789ab",
			Message: "Host " + inc.Subject + " is not an allowed name", Count: 1}
		for r := range 20 {
			al.Evidence = append(al.Evidence, detect.Request{Time: fxNow.Add(time.Duration(a*20+r) * time.Millisecond),
				Client: netip.MustParseAddrPort("10.0.0.7:51234"), Method: "GET", Host: inc.Subject, HasHost: true,
				Target: "/v1/items/" + strconv.Itoa(r), Proto: "HTTP/1.1", UserAgent: "curl/8.0", Key: "0123456789ab", Status: 200})
		}
		d.Incident.Alerts = append(d.Incident.Alerts, al.ID)
		d.Alerts = append(d.Alerts, al)
	}
	d.Timeline = detect.Timeline(d.Alerts...)
	return d
}

func newFullBackend() *fullBackend {
	b := &fullBackend{}
	s := &b.snap
	s.AlertsByDetector = map[string]int{detect.DetUnexpectedHost: 2000 * 64}
	for i := range 2000 {
		id := "inc-" + strconv.Itoa(i+1)
		host := "evil-" + strconv.Itoa(i) + ".rebind.test"
		inc := detect.Incident{ID: id, Opened: fxNow, Last: fxNow, Severity: detect.Severity(i % 4), Detectors: []string{detect.DetUnexpectedHost},
			Subject: host, Names: []string{host}, Keys: []string{"0123456789ab"}, Clients: []string{"10.0.0.7"}, Count: 64,
			Alerts: make([]uint64, 64)}
		s.Incidents = append(s.Incidents, inc)
	}
	for i := range 1000 {
		v := "host-" + strconv.Itoa(i) + ".example.com"
		s.Keys = append(s.Keys, detect.KeyStat{Key: strconv.Itoa(100000000000 + i), Requests: uint64(5000 - i)})
		s.Hosts = append(s.Hosts, detect.ValueStat{Value: v, Requests: uint64(5000 - i)})
		s.Origins = append(s.Origins, detect.ValueStat{Value: "https://" + v, Requests: uint64(5000 - i)})
	}
	var h [detect.RunBuckets]detect.HistoryBucket
	for i := range h {
		h[i] = detect.HistoryBucket{Requests: uint64(i * 100), Alerts: [4]uint64{uint64(i % 3), 1, 0, uint64(i % 2)}}
	}
	b.history = detect.RunHistory{Start: fxNow, Width: time.Minute, Buckets: h[:]}
	return b
}

// countWriter counts bytes.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkWriteFull writes the report of a run at every cap: its time,
// and its size (bytes/op as a metric) stay bounded whatever the run.
func BenchmarkWriteFull(b *testing.B) {
	be := newFullBackend()
	var size int64
	for b.Loop() {
		var c countWriter
		if err := Write(&c, be, Run{Title: "full", Final: true}); err != nil {
			b.Fatal(err)
		}
		size = c.n
	}
	b.ReportMetric(float64(size), "report-bytes")
}

// TestFullReportIsBounded: at every cap the report stays a size a mail
// can carry and a browser opens.
func TestFullReportIsBounded(t *testing.T) {
	var c countWriter
	if err := Write(&c, newFullBackend(), Run{Title: "full", Final: true}); err != nil {
		t.Fatal(err)
	}
	if c.n > 8<<20 {
		t.Errorf("the report at every cap is %d bytes", c.n)
	}
	t.Logf("report at every cap: %d bytes", c.n)
}
