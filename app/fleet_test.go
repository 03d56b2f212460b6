package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rebindwatch/rebindwatch/internal/testkit"
)

// alertIDs lists the alerts of JSON or ECS lines as detector|subject|dimension, sorted.
func alertIDs(t *testing.T, out string) []string {
	t.Helper()
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct {
			Type, Detector, Subject, Dimension string
			Rule                               struct{ Name string }
			Rebindwatch                        struct{ Subject, Dimension string }
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		switch {
		case l.Type == "alert":
			ids = append(ids, l.Detector+"|"+l.Subject+"|"+l.Dimension)
		case l.Rule.Name != "":
			ids = append(ids, l.Rule.Name+"|"+l.Rebindwatch.Subject+"|"+l.Rebindwatch.Dimension)
		}
	}
	slices.Sort(ids)
	return ids
}

func recOptions(t *testing.T) Options {
	t.Helper()
	format, err := os.ReadFile("../testdata/rec/ext.fmt")
	if err != nil {
		t.Fatal(err)
	}
	return Options{Config: "../testdata/rec/rebindwatch.toml", NoTUI: true, Emit: "alert", EmitSet: true,
		LogFormat: "nginx:" + string(format), Version: "test"}
}

// The fleet end to end through the composition root, on the recorded
// scenarios' nginx log: nginx's raw lines shipped to a topic (keyed by
// host, as Vector's key_field does), a parse stage republishing
// normalised requests keyed by key fingerprint, a detect stage writing
// ECS alerts. Its alerts are exactly those rebindwatch raises reading the
// log itself.
func TestTwoStagesRaiseWhatTheLogRaises(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "access-logs", "rebindwatch-requests"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := strings.Join(c.ListenAddrs(), ",")
	const log = "../testdata/rec/scenarios_access_ext.log"

	// The reference: the log read directly.
	var direct testkit.SyncBuffer
	o := recOptions(t)
	o.Logs, o.NoFollow = []string{log}, true
	if err := Run(context.Background(), o, &direct, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	want := alertIDs(t, direct.String())
	if len(want) < 5 {
		t.Fatalf("the log raised %d alerts: the comparison would prove little", len(want))
	}

	// The shipper: every line, keyed by its host.
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	ship, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("access-logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer ship.Close()
	var recs []*kgo.Record
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		recs = append(recs, &kgo.Record{Key: []byte("web-01"), Value: []byte(line)})
	}
	if err := ship.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var parseOut, parseErr, detectOut, detectErr testkit.SyncBuffer
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		p := recOptions(t)
		p.EmitSet, p.Emit = false, "alert,summary" // the default: a parse stage writes the summary only
		p.KafkaIn, p.Topic, p.Group, p.KafkaOut = brokers, "access-logs", "rebindwatch-parse", "rebindwatch-requests"
		if err := Run(ctx, p, &parseOut, &parseErr); err != nil {
			t.Error(err)
		}
	}()
	go func() {
		defer wg.Done()
		d := recOptions(t)
		d.LogFormat = ""
		d.KafkaIn, d.Topic, d.Group, d.OutputFormat = brokers, "rebindwatch-requests", "rebindwatch-detect", "ecs"
		if err := Run(ctx, d, &detectOut, &detectErr); err != nil {
			t.Error(err)
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for len(alertIDs(t, detectOut.String())) < len(want) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	// A little longer: nothing more may come.
	time.Sleep(300 * time.Millisecond)
	cancel()
	wg.Wait()
	if got := alertIDs(t, detectOut.String()); !slices.Equal(got, want) {
		t.Errorf("the detect stage raised\n %v\nthe log raises\n %v\nstderr: %s", got, want, detectErr.String())
	}
	if ids := alertIDs(t, parseOut.String()); len(ids) != 0 || !strings.Contains(parseErr.String(), "parse stage") {
		t.Errorf("the parse stage wrote alerts %v; stderr %s", ids, parseErr.String())
	}
	var sum struct {
		Requests uint64
		Counters map[string]uint64
		Sources  []struct {
			Name, Note string
			Lag        *int64
		}
	}
	if err := json.Unmarshal([]byte(lastLine(parseOut.String())), &sum); err != nil {
		t.Fatalf("parse stage summary: %v: %q", err, parseOut.String())
	}
	if sum.Counters["kafka_out_sent"] != sum.Requests || sum.Requests == 0 {
		t.Errorf("parse stage: %d requests, %d published", sum.Requests, sum.Counters["kafka_out_sent"])
	}
	lags := 0
	for _, s := range sum.Sources {
		if strings.HasPrefix(s.Name, "kafka:access-logs/") && s.Lag != nil {
			lags++
			// The format was given (--log-format), so, as for a file,
			// the note does not repeat it.
			if !strings.Contains(s.Note, "start cold") {
				t.Errorf("%s: note %q", s.Name, s.Note)
			}
		}
	}
	if lags == 0 {
		t.Errorf("no partition of the parse stage reports its lag: %+v", sum.Sources)
	}
}

// A local rebindwatch publishes what it reads, stamped with its host name.
func TestLocalSourcePublishes(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "rebindwatch-requests"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o := recOptions(t)
	o.Logs, o.NoFollow, o.Emit = []string{"../testdata/rec/normal_access_ext.log"}, true, "summary"
	o.KafkaOut, o.KafkaBrokers = "rebindwatch-requests", strings.Join(c.ListenAddrs(), ",")
	var out bytes.Buffer
	if err := Run(context.Background(), o, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("rebindwatch-requests"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n := 0
	for n == 0 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			n++
			if !strings.Contains(string(r.Value), `"node":`+jsonString(hostname())) || !strings.Contains(string(r.Value), `"source":"../testdata/rec/normal_access_ext.log"`) {
				t.Errorf("record %s", r.Value)
			}
		})
	}
	if n == 0 {
		t.Error("nothing published")
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
