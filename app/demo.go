package app

import (
	_ "embed"
	"fmt"
	"os"
)

// The demo capture was recorded by testdata/record.sh demo: nginx and a Flask
// API on loopback, curl and Python clients, tcpdump. See demo/README.md.
var (
	//go:embed demo/demo.pcapng
	demoPcap []byte
	//go:embed demo/demo.toml
	demoToml []byte
)

func demoConfig() []byte { return demoToml }

// demoCapture writes the embedded capture to a temporary file for the
// capture reader, and returns a function that removes it.
func demoCapture() (string, func(), error) {
	f, err := os.CreateTemp("", "rebindwatch-demo-*.pcapng")
	if err != nil {
		return "", func() {}, fmt.Errorf("writing the demo capture: %w", err)
	}
	remove := func() { os.Remove(f.Name()) }
	if _, err := f.Write(demoPcap); err != nil {
		f.Close()
		return "", remove, fmt.Errorf("writing the demo capture: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", remove, fmt.Errorf("writing the demo capture: %w", err)
	}
	return f.Name(), remove, nil
}
