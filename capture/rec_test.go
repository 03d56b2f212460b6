package capture

import "os"

// recDir holds the shared recordings made by testdata/record.sh.
var recDir = "../testdata/rec"

// recPorts are the server ports of the recordings (nginx, Flask).
var recPorts = []uint16{80, 8080, 8000, 5000, 18081}

func init() {
	if d := os.Getenv("CAPTURE_REC_DIR"); d != "" {
		recDir = d
	}
}
