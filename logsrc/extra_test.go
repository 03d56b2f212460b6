package logsrc

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// TestAutoSaysWhatItCannotRead: recorded logs whose format adds the Host,
// the Origin and the key after what auto-detection reads are not read
// silently: the note says so, and proposes the format when the extra
// columns are recognisable.
func TestAutoSaysWhatItCannotRead(t *testing.T) {
	tests := []struct {
		file, want, propose string
	}{
		// nginx: combined + "$host" "$http_origin" "$http_x_api_key" (record_extended.sh)
		{logsDir + "nginx_ext_combined.log", "3 more column(s) than combined reads",
			`"$http_user_agent" "$host" "$http_origin" "$http_x_api_key"'`},
		// gunicorn: a custom access_log_format after the default's columns
		{logsDir + "gunicorn_custom.log", "14 more column(s) than combined reads", "--log-format (nginx:"},
		// the rebindwatch shape is read whole: nothing to say
		{logsDir + "nginx_snippet.log", "", ""},
		{logsDir + "nginx_json_extra.log", "", ""}, // its fields are common names: read whole
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))[:autoLines]
			p := newAutoParser()
			if !p.decide(lines) {
				t.Fatal("no format")
			}
			warn, proposed := extraColumns(p.chosen, lines)
			got := warn + extraJSONFields(p.chosen, lines)
			if proposed != "" {
				// What the dashboard's L uses must be a format that reads the lines whole.
				pp, err := Compile(proposed)
				if err != nil {
					t.Fatalf("proposed %q: %v", proposed, err)
				}
				var r detect.Request
				if err := pp.Parse(lines[0], keys.NewExtractor(keys.DefaultConfig()), &r); err != nil || !r.HasHost {
					t.Errorf("the proposed format does not read the log's Host: %v %+v", err, r)
				}
				if !strings.Contains(warn, proposed) {
					t.Errorf("the note does not name the proposed format")
				}
			}
			if tc.want == "" {
				if got != "" {
					t.Errorf("warned %q", got)
				}
				return
			}
			if !strings.Contains(got, tc.want) || !strings.Contains(got, tc.propose) {
				t.Errorf("note %q\nwant %q and %q", got, tc.want, tc.propose)
			}
		})
	}
	json := [][]byte{[]byte(`{"time":"2026-12-03T09:17:02+00:00","request":"GET / HTTP/1.1","status":200,"req_host":"api.test","origin_hdr":"https://a.test","x_token":"abc"}`)}
	p := newAutoParser()
	p.decide(json)
	if got := extraJSONFields(p.chosen, json); !strings.Contains(got, "json:host=req_host,origin=origin_hdr,key=x_token") {
		t.Errorf("JSON note %q", got)
	}
}
