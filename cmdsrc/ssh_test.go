package cmdsrc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/internal/testkit"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/state"
)

// sshd is a real OpenSSH server on a loopback port with keys made for the
// test, and the client config (-F) that reaches it as "testhost".
type sshd struct {
	dir, port, config string
	cmd               *exec.Cmd
}

// startSSHD starts sshd on a free loopback port (or on port, to restart
// it where it was).
func startSSHD(t *testing.T) *sshd {
	t.Helper()
	bin := "/usr/sbin/sshd"
	if _, err := os.Stat(bin); err != nil {
		t.Skip("SKIPPED: sshd is not installed (apt-get install openssh-server; .ci/run does)")
	}
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: sshd needs root to run here (its privilege separation)")
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // its privilege separation directory, made by its service otherwise
		t.Fatal(err)
	}
	dir := t.TempDir()
	keygen := func(name string) {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", filepath.Join(dir, name)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v: %s", err, out)
		}
	}
	keygen("host_key")
	keygen("client_key")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	pub := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name+".pub"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	writeFile(t, filepath.Join(dir, "authorized_keys"), pub("client_key"))
	writeFile(t, filepath.Join(dir, "known_hosts"), "[127.0.0.1]:"+port+" "+pub("host_key"))
	writeFile(t, filepath.Join(dir, "sshd_config"), fmt.Sprintf(`Port %s
ListenAddress 127.0.0.1
HostKey %s/host_key
PidFile %s/sshd.pid
AuthorizedKeysFile %s/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
LogLevel ERROR
`, port, dir, dir, dir))
	s := &sshd{dir: dir, port: port, config: filepath.Join(dir, "ssh_config")}
	u := "root"
	writeFile(t, s.config, fmt.Sprintf(`Host testhost testhost2
  HostName 127.0.0.1
  Port %s
  User %s
  IdentityFile %s/client_key
  IdentitiesOnly yes
  UserKnownHostsFile %s/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  ConnectTimeout 5
`, port, u, dir, dir))
	s.start(t)
	t.Cleanup(func() { s.kill() })
	return s
}

// start starts sshd and waits until it accepts connections.
func (s *sshd) start(t *testing.T) {
	t.Helper()
	s.cmd = exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", filepath.Join(s.dir, "sshd_config"))
	// A file, not a pipe: the sessions sshd forks hold its stderr, and a
	// pipe would keep Wait waiting for them.
	logf, err := os.OpenFile(filepath.Join(s.dir, "sshd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	s.cmd.Stderr = logf
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.Dial("tcp", "127.0.0.1:"+s.port)
		if err == nil {
			c.Close()
			return
		}
		if time.Since(start) > 10*time.Second {
			b, _ := os.ReadFile(filepath.Join(s.dir, "sshd.log"))
			t.Fatalf("sshd did not start: %s", b)
		}
	}
}

// kill kills sshd and the sessions it serves (its descendants: each
// connection's processes and the remote command), as a crash or a reboot
// of the host would.
func (s *sshd) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	for _, pid := range descendants(s.cmd.Process.Pid) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// descendants lists the processes under pid (from /proc), deepest last.
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so from the last ')'.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 1 {
			ppid, _ := strconv.Atoi(f[1])
			children[ppid] = append(children[ppid], child)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, children[p]...)
		queue = append(queue, children[p]...)
	}
	return out
}

func (s *sshd) opts() Options {
	return Options{Follow: true, Location: time.UTC, SSH: []string{"ssh", "-F", s.config},
		RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func appendLines(t *testing.T, path string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := from; i < to; i++ {
		fmt.Fprintf(f, "127.0.0.%d - - [26/Nov/2026:23:58:29 +0100] \"GET /r/%d HTTP/1.1\" 200 2 \"-\" \"curl/7.88.1\"\n", 1+i%200, i)
	}
}

func targets(reqs []detect.Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Target)
	}
	return out
}

func wantTargets(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, "/r/"+strconv.Itoa(i))
	}
	return out
}

// One sshd for the package's ssh tests, each a subtest: following a file
// through a crash of sshd, a glob's files as sources of their own, the
// journal over ssh, and a host ssh refuses.
func TestSSH(t *testing.T) {
	s := startSSHD(t)

	// sshd killed mid-stream (with its sessions) and restarted on the
	// same port: the source says so in its note, reconnects, resumes at
	// the byte offset it had, and every line arrives once.
	t.Run("reconnect", func(t *testing.T) {
		log := filepath.Join(t.TempDir(), "access.log")
		appendLines(t, log, 0, 5)
		arg := "ssh://testhost" + log
		c := testkit.Collect(t, func(ctx context.Context, out chan<- detect.Batch) error { return Run(ctx, arg, s.opts(), out) })
		c.WaitFor(t, "the first 5 lines", 15*time.Second, func(v testkit.View) bool { return len(v.Requests[arg]) == 5 })
		appendLines(t, log, 5, 10)
		c.WaitFor(t, "10 lines", 15*time.Second, func(v testkit.View) bool { return len(v.Requests[arg]) == 10 })
		s.kill()
		c.WaitFor(t, "the connection's end in the note", 15*time.Second, func(v testkit.View) bool {
			return strings.Contains(v.Notes[arg], "again in")
		})
		appendLines(t, log, 10, 15) // written while the host is unreachable
		s.start(t)
		c.WaitFor(t, "15 lines after the restart", 15*time.Second, func(v testkit.View) bool { return len(v.Requests[arg]) >= 15 })
		appendLines(t, log, 15, 20)
		c.WaitFor(t, "20 lines", 15*time.Second, func(v testkit.View) bool { return len(v.Requests[arg]) >= 20 })
		if err := c.Stop(t); err != nil {
			t.Fatal(err)
		}
		v := c.View()
		if got, want := strings.Join(targets(v.Requests[arg]), " "), strings.Join(wantTargets(0, 20), " "); got != want {
			t.Errorf("requests %s\nwant     %s", got, want)
		}
		if st := v.States[arg]; st != detect.StateStopped {
			t.Errorf("state %v, want stopped", st)
		}
	})

	// A glob: tail's headers make each file a source with its own format.
	t.Run("glob", func(t *testing.T) {
		dir := t.TempDir()
		appendLines(t, filepath.Join(dir, "a.log"), 0, 3)
		writeFile(t, filepath.Join(dir, "b.log"), `127.0.0.1 - - [26/Nov/2026 23:58:29] "GET /w/1 HTTP/1.1" 200 -`+"\n")
		arg := "ssh://testhost" + dir + "/*.log"
		c := testkit.Collect(t, func(ctx context.Context, out chan<- detect.Batch) error { return Run(ctx, arg, s.opts(), out) })
		a, b := "ssh://testhost"+dir+"/a.log", "ssh://testhost"+dir+"/b.log"
		c.WaitFor(t, "both files", 15*time.Second, func(v testkit.View) bool {
			return len(v.Requests[a]) == 3 && len(v.Requests[b]) == 1
		})
		appendLines(t, filepath.Join(dir, "a.log"), 3, 4)
		c.WaitFor(t, "the line appended to a.log", 15*time.Second, func(v testkit.View) bool { return len(v.Requests[a]) == 4 })
		if err := c.Stop(t); err != nil {
			t.Fatal(err)
		}
		v := c.View()
		if !strings.Contains(v.Notes[a], "format: combined (auto)") || !strings.Contains(v.Notes[b], "format: werkzeug (auto)") {
			t.Errorf("notes: a %q, b %q", v.Notes[a], v.Notes[b])
		}
	})

	// The recorded journal read by journalctl on the remote host.
	t.Run("journal", func(t *testing.T) {
		path := journalFile(t)
		arg := "ssh://testhost/journal-file:" + path
		o := s.opts()
		o.Follow = false
		c := testkit.Collect(t, func(ctx context.Context, out chan<- detect.Batch) error { return Run(ctx, arg, o, out) })
		if err := c.Wait(t); err != nil {
			t.Fatal(err)
		}
		if n := c.View().Count(); n[arg+":gunicorn.service"] != 16 || n[arg+":flaskapp.service"] != 16 {
			t.Errorf("requests %v", n)
		}
	})

	// Several hosts in one run, into one engine: a key that shows up from
	// more clients than [spread] allows across two hosts raises key_spread,
	// which neither host's log raises alone.
	t.Run("hosts", func(t *testing.T) {
		dir := t.TempDir()
		line := func(i int) string {
			return fmt.Sprintf(`10.0.0.%d - - [26/Nov/2026:23:58:%02d +0100] "GET /v1/items?api_key=spreadkey000001 HTTP/1.1" 200 3 "-" "curl/7.88.1"`+"\n", i+1, i)
		}
		var a, b strings.Builder
		for i := range 6 {
			fmt.Fprint(&a, line(i))
			fmt.Fprint(&b, line(i+6))
		}
		writeFile(t, filepath.Join(dir, "a.log"), a.String())
		writeFile(t, filepath.Join(dir, "b.log"), b.String())
		cfg := detect.DefaultConfig()
		cfg.SpreadMaxClients = 8
		e, err := detect.NewEngine(cfg)
		if err != nil {
			t.Fatal(err)
		}
		o := s.opts()
		o.Follow = false
		o.Keys = keys.NewExtractor(keys.DefaultConfig())
		o2 := o
		o2.Keys = keys.NewExtractor(keys.DefaultConfig()) // one extractor per source goroutine
		// Two names for the one sshd: two hosts as far as the source knows.
		args := []string{"ssh://testhost" + dir + "/a.log", "ssh://root@testhost2" + dir + "/b.log"}
		testkit.Feed(t, e, "two hosts", func(ctx context.Context, out chan<- detect.Batch) error {
			errs := make(chan error, 2)
			go func() { errs <- Run(ctx, args[0], o, out) }()
			go func() { errs <- Run(ctx, args[1], o2, out) }()
			return errors.Join(<-errs, <-errs)
		})
		snap := e.Snapshot()
		if snap.AlertsByDetector[detect.DetKeySpread] == 0 {
			t.Errorf("no key_spread across the two hosts; alerts %v, sources %+v", snap.AlertsByDetector, snap.Sources)
		}
	})

	// --state: a second run reads a remote file from where the first's
	// written requests end.
	t.Run("state", func(t *testing.T) {
		dir := t.TempDir()
		log := filepath.Join(dir, "access.log")
		appendLines(t, log, 0, 3)
		store, err := state.Open(filepath.Join(dir, "rw.state"))
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		arg := "ssh://testhost" + log
		o := s.opts()
		o.State = store
		runOnce := func(want int) []string {
			c := testkit.Collect(t, func(ctx context.Context, out chan<- detect.Batch) error {
				// The engine commits a batch's position once it is written.
				mid := make(chan detect.Batch, 64)
				done := make(chan error, 1)
				go func() {
					done <- Run(ctx, arg, o, mid)
					close(mid)
				}()
				for b := range mid {
					if b.Commit != nil {
						b.Commit()
					}
					out <- b
				}
				return <-done
			})
			c.WaitFor(t, "the new lines", 15*time.Second, func(v testkit.View) bool { return len(v.Requests[arg]) >= want })
			if err := c.Stop(t); err != nil {
				t.Fatal(err)
			}
			return targets(c.View().Requests[arg])
		}
		if got := strings.Join(runOnce(3), " "); got != "/r/0 /r/1 /r/2" {
			t.Fatalf("first run: %s", got)
		}
		appendLines(t, log, 3, 5)
		if got := strings.Join(runOnce(2), " "); got != "/r/3 /r/4" {
			t.Errorf("second run read %s, want /r/3 /r/4", got)
		}
	})

	// Host keys and BatchMode: a host ssh cannot log in to (here, one whose
	// key is not in known_hosts) never prompts; the source says why in its
	// note and keeps trying.
	t.Run("unknown_host", func(t *testing.T) {
		o := s.opts()
		cfg := filepath.Join(t.TempDir(), "config")
		b, err := os.ReadFile(s.config)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, cfg, strings.Replace(string(b), "UserKnownHostsFile "+s.dir+"/known_hosts", "UserKnownHostsFile /dev/null", 1))
		o.SSH = []string{"ssh", "-F", cfg}
		arg := "ssh://testhost/var/log/nothing.log"
		c := testkit.Collect(t, func(ctx context.Context, out chan<- detect.Batch) error { return Run(ctx, arg, o, out) })
		c.WaitFor(t, "ssh's refusal in the note", 15*time.Second, func(v testkit.View) bool {
			return strings.Contains(v.Notes[arg], "Host key verification failed") && strings.Contains(v.Notes[arg], "again in")
		})
	})
}

func TestParseSSH(t *testing.T) {
	for _, tc := range []struct {
		name, in         string
		user, host, port string
		path             string
		bad              bool
	}{
		{name: "host_path", in: "web-3/var/log/nginx/access.log", host: "web-3", path: "/var/log/nginx/access.log"},
		{name: "user_port", in: "ops@web-3:2222/var/log/*.log", user: "ops", host: "web-3", port: "2222", path: "/var/log/*.log"},
		{name: "ipv6", in: "[::1]:22/x.log", host: "::1", port: "22", path: "/x.log"},
		{name: "ipv6_no_port", in: "[::1]/x.log", host: "::1", path: "/x.log"},
		{name: "journal", in: "web-3/journal:myapp.service", host: "web-3", path: "/journal:myapp.service"},
		{name: "glob_question_mark", in: "h/var/log/a?.log", host: "h", path: "/var/log/a?.log"},
		{name: "hostile_option_host", in: "-oProxyCommand=touch /tmp/x/y.log", bad: true},
		{name: "hostile_option_user", in: "-oProxyCommand=x@h/y.log", bad: true},
		{name: "hostile_shell_in_host", in: "h;reboot/x.log", bad: true},
		{name: "hostile_space_in_host", in: "h x/y.log", bad: true},
		{name: "hostile_newline_in_path", in: "h/x.log\nreboot", bad: true},
		{name: "hostile_port_range", in: "h:70000/x.log", bad: true},
		{name: "hostile_no_path", in: "h", bad: true},
		{name: "hostile_empty_path", in: "h/", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSSH(tc.in)
			if tc.bad {
				if err == nil {
					t.Fatalf("accepted: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.user != tc.user || got.host != tc.host || got.port != tc.port || got.path != tc.path {
				t.Errorf("got %+v", got)
			}
		})
	}
}

// The remote command quotes everything but the glob characters, through
// the real sh.
func TestGlobQuote(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a b.log", "it's.log", "$(x).log", "c.log"} {
		writeFile(t, filepath.Join(dir, name), "")
	}
	for _, tc := range []struct{ pattern, want string }{
		{dir + "/*.log", "$(x).log a b.log c.log it's.log"},
		{dir + "/a b.log", "a b.log"},
		{dir + "/it's.log", "it's.log"},
		{dir + "/$(x).log", "$(x).log"},
		{dir + "/[ac]*.log", "a b.log c.log"},
	} {
		out, err := exec.Command("sh", "-c", "for f in "+globQuote(tc.pattern)+`; do printf '%s\n' "${f##*/}"; done`).Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", "|")), " "); strings.ReplaceAll(got, "|", " ") != tc.want {
			t.Errorf("%s: %q, want %q", tc.pattern, got, tc.want)
		}
	}
}

func FuzzTailHeader(f *testing.F) {
	f.Add([]byte("==> /var/log/a.log <=="))
	f.Add([]byte("==>  <=="))
	f.Fuzz(func(t *testing.T, b []byte) {
		name, ok := tailHeader(b)
		if ok && (name == "" || name[0] != '/' || !strings.Contains(string(b), name)) {
			t.Fatalf("%q from %q", name, b)
		}
	})
}

// The byte offset a single file resumes from counts what was read of the
// file tail follows now: a resume marker sets it, tail's word that it
// follows a new file starts it over.
func TestRemoteTailOffset(t *testing.T) {
	batches := testkit.Batches(t, func(ctx context.Context, out chan<- detect.Batch) error {
		s, err := logsrc.NewStreams(ctx, out, logsrc.StreamsOptions{})
		if err != nil {
			return err
		}
		r := &remoteTail{name: "ssh://h/x.log", target: sshTarget{host: "h", path: "/x.log"}, streams: s, opts: Options{Follow: true}}
		r.attempt()
		for _, step := range []struct {
			line    string
			fromErr bool
			offset  int64
		}{
			{"abc", false, 4},
			{"de", false, 7},
			{"tail: '/x.log' has been replaced;  following new file", true, 0},
			{"fghij", false, 6},
		} {
			r.line([]byte(step.line), step.fromErr)
			if r.offset != step.offset {
				t.Errorf("after %q: offset %d, want %d", step.line, r.offset, step.offset)
			}
		}
		argv := strings.Join(r.argv(true), " ")
		if !strings.Contains(argv, "o=6;") || !r.resuming {
			t.Errorf("resume command %s", argv)
		}
		r.attempt()
		r.line([]byte(resumeMarker+"0"), false) // the file was shorter: read from its start
		if r.offset != 0 {
			t.Errorf("after the marker: offset %d", r.offset)
		}
		return s.Close(nil)
	})
	if len(batches) == 0 {
		t.Fatal("no batch")
	}
}

// FuzzParseSSH: whatever an ssh:// argument holds, what reaches ssh is no
// option and what reaches the remote shell is one absolute path on one
// line.
func FuzzParseSSH(f *testing.F) {
	for _, s := range []string{"web-3/var/log/nginx/access.log", "ops@web-3:2222/var/log/*.log", "[::1]:22/x.log", "-oProxyCommand=x/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := parseSSH(s)
		if err != nil {
			return
		}
		if !sshName(tg.host) || tg.user != "" && !sshName(tg.user) || !strings.HasPrefix(tg.path, "/") || strings.ContainsAny(tg.path, "\n\r\x00") {
			t.Fatalf("%q parsed as %+v", s, tg)
		}
		for _, a := range sshArgv(Options{}, tg) {
			if a != "-o" && a != "-p" && a != "-l" && a != "--" && strings.HasPrefix(a, "-") {
				t.Fatalf("%q gives ssh the option %q", s, a)
			}
		}
	})
}
