package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Security is how the client reaches brokers that are not plaintext and
// open: TLS (the system's roots, or a CA file; a client certificate for
// mutual TLS) and SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), as managed
// clusters (Amazon MSK, Confluent Cloud, Aiven, Redpanda Cloud) require.
type Security struct {
	TLS      bool   // TLS with the system's roots (implied by CAFile and CertFile)
	CAFile   string // PEM roots to trust instead of the system's
	CertFile string // PEM client certificate (mutual TLS), with KeyFile
	KeyFile  string
	SASL     string // "", "plain", "scram-sha-256" or "scram-sha-512"
	User     string
	Password string
}

// UsesTLS says whether the connection is encrypted.
func (s Security) UsesTLS() bool { return s.TLS || s.CAFile != "" || s.CertFile != "" }

// Opts are the client options s asks for; an error names what is wrong
// (a file that cannot be read, a mechanism not known, a user missing).
func (s Security) Opts() ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if s.UsesTLS() {
		cfg, err := s.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg)) // the server name is each broker's host
	}
	if s.SASL == "" {
		if s.User != "" {
			return nil, errors.New("a user without a SASL mechanism: give plain, scram-sha-256 or scram-sha-512")
		}
		return opts, nil
	}
	if s.User == "" {
		return nil, fmt.Errorf("SASL %s needs a user", s.SASL)
	}
	switch strings.ToLower(s.SASL) {
	case "plain":
		opts = append(opts, kgo.SASL(plain.Auth{User: s.User, Pass: s.Password}.AsMechanism()))
	case "scram-sha-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: s.User, Pass: s.Password}.AsSha256Mechanism()))
	case "scram-sha-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: s.User, Pass: s.Password}.AsSha512Mechanism()))
	default:
		return nil, fmt.Errorf("SASL mechanism %q: want plain, scram-sha-256 or scram-sha-512", s.SASL)
	}
	return opts, nil
}

// tlsConfig builds the client's TLS settings.
func (s Security) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading the CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", s.CAFile)
		}
		cfg.RootCAs = pool
	}
	if (s.CertFile == "") != (s.KeyFile == "") {
		return nil, errors.New("a client certificate needs both the certificate and its key")
	}
	if s.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading the client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// preflightWait bounds the first contact with the brokers at start.
const preflightWait = 5 * time.Second

// preflight makes first contact with the brokers. A refusal of who we are
// (SASL) or of who they are (TLS) is configuration that retrying cannot
// fix: it is returned, so the run stops at once with the reason. Brokers
// that cannot be reached yet are not an error: the client keeps trying.
func preflight(ctx context.Context, cl *kgo.Client, sec Security) error {
	ctx, cancel := context.WithTimeout(ctx, preflightWait)
	defer cancel()
	err := cl.Ping(ctx)
	switch {
	case err == nil:
		return nil
	case sec.SASL != "" && errors.Is(err, io.EOF) && !firstRead(err):
		// A broker that refuses the credentials may just hang up
		// instead of answering SASL_AUTHENTICATION_FAILED.
		return fmt.Errorf("the brokers closed the connection during SASL %s authentication as %q: a wrong user, password or mechanism?", sec.SASL, sec.User)
	case refused(err):
		return fmt.Errorf("the brokers: %w", err)
	}
	return nil
}

// refused says whether err is an authentication or TLS failure, or a
// broker that wants TLS from a plaintext client.
func refused(err error) bool {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		switch ke {
		case kerr.SaslAuthenticationFailed, kerr.UnsupportedSaslMechanism, kerr.IllegalSaslState,
			kerr.ClusterAuthorizationFailed:
			return true
		}
	}
	var (
		verify  *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		record  tls.RecordHeaderError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &record) ||
		firstRead(err)
}

// firstRead says whether err is the client's guess that TLS or SASL is
// missing or misplaced (a broker hanging up on the first read).
func firstRead(err error) bool {
	var first *kgo.ErrFirstReadEOF
	return errors.As(err, &first)
}
