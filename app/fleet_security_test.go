package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/rebindwatch/rebindwatch/internal/testkit"
	"github.com/rebindwatch/rebindwatch/kafka"
)

// A cluster as managed services run them: TLS only, SASL SCRAM-SHA-256.
// rebindwatch publishes its requests there and a detect stage consumes
// them, through the flags a user gives (--kafka-ca, --kafka-sasl,
// --kafka-user, the password from a file); a wrong password and an
// untrusted certificate fail without a record through.
func TestFleetOverTLSAndSASL(t *testing.T) {
	certFile, keyFile := testkit.SelfSigned(t)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "rebindwatch-requests"),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}}),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "rw-fleet", "correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := strings.Join(c.ListenAddrs(), ",")
	dir := t.TempDir()
	pass := filepath.Join(dir, "password")
	if err := os.WriteFile(pass, []byte("correct horse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secure := func(o *Options) {
		o.KafkaSecurity = kafka.Security{CAFile: certFile, SASL: "scram-sha-256", User: "rw-fleet"}
		o.KafkaPasswordFile = pass
	}

	// Publish: a local rebindwatch reading a log.
	o := recOptions(t)
	o.Logs, o.NoFollow, o.Emit = []string{"../testdata/rec/normal_access_ext.log"}, true, "summary"
	o.KafkaOut, o.KafkaBrokers = "rebindwatch-requests", brokers
	secure(&o)
	var out bytes.Buffer
	if err := Run(context.Background(), o, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	sum := summaryOf(t, out.String())
	if sum.Requests == 0 || sum.Counters["kafka_out_sent"] != sum.Requests {
		t.Fatalf("over TLS and SASL: %d requests, %d published: %s", sum.Requests, sum.Counters["kafka_out_sent"], out.String())
	}

	// What the broker holds, read back by a client with the same settings.
	pool := x509.NewCertPool()
	pemBytes, _ := os.ReadFile(certFile)
	pool.AppendCertsFromPEM(pemBytes)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("rebindwatch-requests"),
		kgo.DialTLSConfig(&tls.Config{RootCAs: pool}),
		kgo.SASL(scram.Auth{User: "rw-fleet", Pass: "correct horse"}.AsSha256Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n := uint64(0)
	for n < sum.Requests && ctx.Err() == nil {
		n += uint64(cl.PollFetches(ctx).NumRecords())
	}
	if n != sum.Requests {
		t.Errorf("the broker holds %d records, %d were published", n, sum.Requests)
	}

	// Consume: a detect stage reads them over the same settings.
	d := recOptions(t)
	d.LogFormat, d.Emit = "", "request,summary"
	d.KafkaIn, d.Topic, d.Group = brokers, "rebindwatch-requests", "rebindwatch-detect"
	secure(&d)
	var dout testkit.SyncBuffer
	dctx, dcancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(dctx, d, &dout, &bytes.Buffer{}) }()
	deadline := time.Now().Add(30 * time.Second)
	for uint64(strings.Count(dout.String(), `"type":"request"`)) < sum.Requests && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	dcancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := summaryOf(t, dout.String()).Requests; got != sum.Requests {
		t.Errorf("the detect stage read %d requests over TLS and SASL, want %d", got, sum.Requests)
	}

	// A wrong password, a certificate nobody said to trust, and no TLS at
	// all: configuration that retrying cannot fix, so both the publisher
	// and the consumer stop at start with the reason (a consumer would
	// otherwise wait for an assignment for ever).
	for name, c := range map[string]struct {
		mod  func(*Options)
		want string
	}{
		"wrong password": {func(o *Options) {
			bad := filepath.Join(dir, "bad")
			os.WriteFile(bad, []byte("wrong"), 0o600)
			o.KafkaPasswordFile = bad
		}, "a wrong user, password or mechanism?"},
		"untrusted certificate": {func(o *Options) { o.KafkaSecurity.CAFile, o.KafkaSecurity.TLS = "", true }, "certificate signed by unknown authority"},
		"no TLS":                {func(o *Options) { o.KafkaSecurity.CAFile = "" }, "is TLS missing?"},
	} {
		pub := recOptions(t)
		pub.Logs, pub.NoFollow, pub.Emit = []string{"../testdata/rec/normal_access_ext.log"}, true, "summary"
		pub.KafkaOut, pub.KafkaBrokers = "rebindwatch-requests", brokers
		con := recOptions(t)
		con.LogFormat, con.Emit = "", "summary"
		con.KafkaIn, con.Topic, con.Group = brokers, "rebindwatch-requests", "rebindwatch-other"
		for stage, o := range map[string]Options{"publish": pub, "consume": con} {
			secure(&o)
			c.mod(&o)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := Run(ctx, o, &bytes.Buffer{}, &bytes.Buffer{})
			cancel()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s, %s: %v, want an error saying %q", name, stage, err, c.want)
			}
		}
	}
}

// TestKafkaSecurityUsage: security flags without Kafka, SASL without a
// password or a user, an unknown mechanism and an unreadable CA are
// usage errors naming the flag.
func TestKafkaSecurityUsage(t *testing.T) {
	t.Setenv(kafkaPasswordEnv, "")
	for _, c := range []struct {
		name string
		mod  func(o *Options)
		want string
	}{
		{"no kafka", func(o *Options) {
			o.KafkaIn, o.Topic, o.Logs, o.NoFollow = "", "", []string{"../testdata/rec/normal_access_ext.log"}, true
			o.KafkaSecurity.TLS = true
		}, "go with --kafka-in"},
		{"no password", func(o *Options) { o.KafkaSecurity.SASL, o.KafkaSecurity.User = "plain", "u" }, "no password"},
		{"no user", func(o *Options) { o.KafkaSecurity.SASL, o.KafkaPasswordFile = "plain", "/dev/null" }, "no password"},
		{"unknown mechanism", func(o *Options) {
			o.KafkaSecurity.SASL, o.KafkaSecurity.User = "gssapi", "u"
			t.Setenv(kafkaPasswordEnv, "p")
		}, "want plain, scram-sha-256 or scram-sha-512"},
		{"no CA", func(o *Options) { o.KafkaSecurity.CAFile = "/nonexistent/ca.pem" }, "reading the CA file"},
		{"half a client certificate", func(o *Options) { o.KafkaSecurity.CertFile = "/nonexistent/c.pem" }, "needs both"},
	} {
		o := recOptions(t)
		o.KafkaIn, o.Topic = "127.0.0.1:1", "t"
		c.mod(&o)
		err := Run(context.Background(), o, &bytes.Buffer{}, &bytes.Buffer{})
		var ue UsageError
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, &ue) {
			t.Errorf("%s: %v (want a usage error saying %q)", c.name, err, c.want)
		}
	}
}

type fleetSummary struct {
	Requests uint64
	Counters map[string]uint64
}

func summaryOf(t *testing.T, out string) fleetSummary {
	t.Helper()
	var s fleetSummary
	if err := json.Unmarshal([]byte(lastLine(out)), &s); err != nil {
		t.Fatalf("summary: %v: %q", err, out)
	}
	return s
}
