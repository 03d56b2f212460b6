package allowimport

import (
	"strings"
	"testing"
	"time"
)

func TestZZPerf(t *testing.T) {
	cases := map[string]string{
		"settings.py":   strings.Repeat("ALLOWED_HOSTS=[", 250000),
		"settings.py#2": "A=[" + strings.Repeat("A,", 1000000) + "]\nALLOWED_HOSTS=A",
		"production.rb": strings.Repeat("config.hosts << [", 200000),
		"vite.config.js": strings.Repeat("{allowedHosts:[", 250000),
		"nginx.conf":     strings.Repeat("server_name a.example.com;\n", 150000),
		"settings.py#3": "ALLOWED_HOSTS=" + strings.Repeat("B+", 1000000) + "B\nB=['a.com']*1\n",
		"settings.py#4": strings.Repeat("ALLOWED_HOSTS=[\"", 250000),
		"mcp.ts": "import '@modelcontextprotocol/sdk';" + strings.Repeat("createMcpExpressApp(", 200000),
	}
	for name, src := range cases {
		n := strings.Split(name, "#")[0]
		start := time.Now()
		r, err := ImportBytes(n, []byte(src))
		t.Logf("%s: %d bytes %v, %d hosts %d notes err=%v", name, len(src), time.Since(start), len(r.Hosts), len(r.Notes), err)
	}
}
