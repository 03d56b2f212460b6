package capture

import "testing"

// TestAbsoluteAuthority covers the request-target forms of RFC 9112 §3.2:
// only an absolute-form target, whose scheme starts with a letter in
// either case, has an authority.
func TestAbsoluteAuthority(t *testing.T) {
	for _, c := range []struct {
		target, auth, scheme string
		ok                   bool
	}{
		{"/v1/items?x=http://evil.test/", "", "", false}, // origin-form, a URL in the query
		{"*", "", "", false},                             // asterisk-form
		{"api.example.com:443", "", "", false},           // authority-form (CONNECT)
		{"", "", "", false},
		{"http://evil.test/x", "evil.test", "http", true},
		{"HTTP://Evil.Test:8080?q", "Evil.Test:8080", "HTTP", true},
		{"svn+ssh://user@h.test#f", "h.test", "svn+ssh", true},
		{"zz://h", "h", "zz", true},
		{"1http://h/", "", "", false},    // a scheme starts with ALPHA (RFC 3986 §3.1)
		{"@http://h/", "", "", false},    // the byte before 'A'
		{"[http://h/", "", "", false},    // the byte after 'Z'
		{"`http://h/", "", "", false},    // the byte before 'a'
		{"{http://h/", "", "", false},    // the byte after 'z'
		{"\xc1http://h/", "", "", false}, // 'A' with the high bit set
		{"://h/", "", "", false},
	} {
		auth, scheme, ok := absoluteAuthority([]byte(c.target))
		if string(auth) != c.auth || string(scheme) != c.scheme || ok != c.ok {
			t.Errorf("absoluteAuthority(%q) = %q, %q, %v; want %q, %q, %v", c.target, auth, scheme, ok, c.auth, c.scheme, c.ok)
		}
	}
}
