package detect

import (
	"fmt"
	"testing"
)

// TestParseRebindName: the names each tool's documentation gives, in odd
// case and with ports, and near misses that are ordinary names.
func TestParseRebindName(t *testing.T) {
	doms := append(DefaultRebindDomains(), "rebind.corp.example")
	tests := []struct {
		name, host string
		tool       RebindTool
		addrs      string // fmt of the addresses; "" = not recognised
	}{
		{"rbndr", "7f000001.c0a80001.rbndr.us", ToolRbndr, "[127.0.0.1 192.168.0.1]"},
		{"rbndr_case_port", "7F000001.C0A80001.RbNdR.uS:8080", ToolRbndr, "[127.0.0.1 192.168.0.1]"},
		{"rbndr_self_hosted", "0a000001.7f000001.rebind.corp.example", ToolRbndr, "[10.0.0.1 127.0.0.1]"},
		{"rbndr_other_domain", "7f000001.c0a80001.cloudfront.net", "", ""},
		{"rbndr_one_label", "7f000001.rbndr.us", "", ""},
		{"whonow", "A.52.23.194.42.1time.192.168.1.1.forever.rebind.network", ToolWhonow, "[52.23.194.42 192.168.1.1]"},
		{"whonow_repeat_uuid", "a.52.23.194.42.1time.192.168.1.1.5times.repeat.a06a5856-1fff-4415-9aa2-823230b05826.rebind.network", ToolWhonow, "[52.23.194.42 192.168.1.1]"},
		{"whonow_0x20", "a.52.23.194.42.1TiMe.127.0.0.1.FOREVER.ReBiNd.NeTwOrK", ToolWhonow, "[52.23.194.42 127.0.0.1]"},
		{"whonow_not_rule", "a.1.2.3.4.often.rebind.network", "", ""},
		{"singularity", "s-35.185.206.165-127.0.0.1-4187813289-fs-e.dynamic.rebind.it", ToolSingularity, "[35.185.206.165 127.0.0.1]"},
		{"singularity_any_domain", "s-35.185.206.165-localhost-123-ma-e.attacker.example", ToolSingularity, "[35.185.206.165 127.0.0.1]"},
		{"singularity_hex", "s-23b9cea5-7f000001-99-rr-e.attacker.example", ToolSingularity, "[35.185.206.165 127.0.0.1]"},
		{"singularity_cname", "s-35.185.206.165-intra--net.corp-42-fs-e.attacker.example", ToolSingularity, "[35.185.206.165]"},
		{"singularity_bad_strategy", "s-1.2.3.4-5.6.7.8-1-zz-e.example.com", "", ""},
		{"oneums", "make-1.2.3.4-rebind-127.0.0.1-rr.1u.ms", ToolOneUMS, "[1.2.3.4 127.0.0.1]"},
		{"oneums_dashed", "make-1-2-3-4-rebind-169-254-169-254-rr.1u.ms", ToolOneUMS, "[1.2.3.4 169.254.169.254]"},
		{"oneums_for", "make-1.2.3.4-rebindfor30s-127.0.0.1-rr.1u.ms", ToolOneUMS, "[1.2.3.4 127.0.0.1]"},
		{"oneums_three", "make-1.2.3.4-rebind-10.0.0.1-rebind-127.0.0.1-rr.1u.ms", ToolOneUMS, "[1.2.3.4 10.0.0.1 127.0.0.1]"},
		{"nip", "127.0.0.1.nip.io", ToolIPEmbedding, "[127.0.0.1]"},
		{"nip_prefix", "app.10.0.0.5.nip.io:8080", ToolIPEmbedding, "[10.0.0.5]"},
		{"sslip_dashed", "127-0-0-1.sslip.io", ToolIPEmbedding, "[127.0.0.1]"},
		{"sslip_prefixed_dashes", "www-192-168-1-254.sslip.io", ToolIPEmbedding, "[192.168.1.254]"},
		{"sslip_v6", "--1.sslip.io", ToolIPEmbedding, "[::1]"},
		{"xip", "mysite.10.0.0.1.xip.io", ToolIPEmbedding, "[10.0.0.1]"},
		{"nip_no_ip", "www.nip.io", "", ""},
		{"plain", "api.example.com", "", ""},
		{"s_prefix_word", "s-api.example.com", "", ""},
		{"lookalike_domain", "7f000001.c0a80001.rbndr.us.evil.test", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := ParseRebindName(tc.host, doms)
			if tc.addrs == "" {
				if ok {
					t.Fatalf("%s recognised as %+v", tc.host, r)
				}
				return
			}
			if !ok || r.Tool != tc.tool || fmt.Sprint(r.Addrs) != tc.addrs {
				t.Fatalf("%s: got %v %+v, want %s %s", tc.host, ok, r, tc.tool, tc.addrs)
			}
		})
	}
}

func FuzzParseRebindName(f *testing.F) {
	for _, s := range []string{"7f000001.c0a80001.rbndr.us", "a.1.2.3.4.1time.5.6.7.8.forever.rebind.network",
		"s-1.2.3.4-localhost-1-fs-e.x.y", "make-1.2.3.4-rebind-127.0.0.1-rr.1u.ms", "--1.sslip.io"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		r, ok := ParseRebindName(host, DefaultRebindDomains())
		if ok && (r.Tool == "" || len(r.Addrs) == 0 && r.Tool != ToolSingularity) {
			t.Fatalf("%q: %+v", host, r)
		}
	})
}
