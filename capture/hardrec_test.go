package capture

import (
	"os"
	"path/filepath"
	"testing"
)

// hardDir holds the recordings of testdata/capture/record.sh: captures
// as responders get them (formats, link types, tunnels) and real TCP
// trouble (loss, reordering, retransmission, a capture started late).
var hardDir = "../testdata/capture"

func init() {
	if d := os.Getenv("CAPTURE_HARD_DIR"); d != "" {
		hardDir = d
	}
}

// captureFiles lists every capture in hardDir (none is not an error:
// callers that need them skip).
func captureFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.pcap", "*.pcapng", "*.pcap.gz", "*.pcapng.gz"} {
		m, _ := filepath.Glob(filepath.Join(hardDir, pat))
		files = append(files, m...)
	}
	return files
}
