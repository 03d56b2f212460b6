package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStoreRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rw.state")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	type rec struct{ Offset int64 }
	out := int64(0)
	s.Attach("output", func() any { return out })
	out = 42
	s.Put("log:/a", rec{7})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".rw.state.tmp*")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var r rec
	var o int64
	if found, err := s.Get("log:/a", &r); !found || err != nil || r.Offset != 7 {
		t.Errorf("log:/a = %+v, %v, %v", r, found, err)
	}
	if found, _ := s.Get("output", &o); !found || o != 42 {
		t.Errorf("the companion was not recorded with the Put: %v %v", o, found)
	}
	if found, _ := s.Get("nothing", &r); found {
		t.Error("a missing key was found")
	}
}

func TestStoreRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content, want string
	}{
		{"not_json", "offset=3\n", "not a rebindwatch state file"},
		{"other_version", `{"version":9,"entries":{}}`, "version 9"},
		{"a_log_by_mistake", `127.0.0.1 - - [03/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 2`, "not a rebindwatch state file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			os.WriteFile(path, []byte(tc.content), 0o600)
			_, err := Open(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open = %v, want an error naming the file and saying %q", err, tc.want)
			}
		})
	}
	t.Run("a_directory", func(t *testing.T) {
		if _, err := Open(dir); err == nil {
			t.Error("a directory was opened as a state file")
		}
	})
}

func TestStoreLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rw.state")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("a second Open of a store in use = %v, want refused", err)
	}
	s.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	s2.Close()
}

func TestFileIDMatches(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	os.WriteFile(path, []byte("first line\nsecond\n"), 0o644)
	f, _ := os.Open(path)
	fi, _ := f.Stat()
	id := Identify(f, fi)
	f.Close()
	if id.HeadLen != len("first line\n") || id.Ino == 0 {
		t.Fatalf("identity %+v", id)
	}
	check := func(what string, want bool) {
		t.Helper()
		f, _ := os.Open(path)
		defer f.Close()
		fi, _ := f.Stat()
		if got := id.Matches(f, fi); got != want {
			t.Errorf("%s: Matches = %v, want %v", what, got, want)
		}
	}
	check("the same file, grown", true)
	os.Rename(path, path+".1")
	path += ".1"
	check("renamed", true)
	// The same inode with another first line: a later file (or this one
	// truncated and rewritten) is not the one recorded.
	os.WriteFile(path, []byte("other first\n"), 0o644)
	check("rewritten in place", false)
}
