package cmdsrc

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/state"
)

// sshTarget is ssh://[user@]host[:port]/path parsed.
type sshTarget struct {
	user, host, port string
	path             string // absolute; may hold glob characters; "/journal:UNIT" reads the journal
}

// parseSSH parses what follows "ssh://". Nothing of it may reach ssh as
// an option or the remote shell unquoted: the host and user may not start
// with '-' or hold spaces or control characters, the path must be
// absolute and on one line.
func parseSSH(rest string) (sshTarget, error) {
	auth, path, ok := strings.Cut(rest, "/")
	if !ok || path == "" {
		return sshTarget{}, fmt.Errorf("no path: want ssh://[user@]host[:port]/path/to/access.log or ssh://host/journal:UNIT")
	}
	var t sshTarget
	t.path = "/" + path
	if u, h, ok := strings.Cut(auth, "@"); ok {
		t.user, auth = u, h
		if !sshName(t.user) {
			return sshTarget{}, fmt.Errorf("user %q is not a user name", t.user)
		}
	}
	t.host = auth
	if h, p, err := net.SplitHostPort(auth); err == nil {
		n, perr := strconv.Atoi(p)
		if perr != nil || n < 1 || n > 65535 {
			return sshTarget{}, fmt.Errorf("port %q is not a port from 1 to 65535", p)
		}
		t.host, t.port = h, p
	} else if strings.HasPrefix(auth, "[") && strings.HasSuffix(auth, "]") {
		t.host = auth[1 : len(auth)-1]
	}
	if !sshName(t.host) {
		return sshTarget{}, fmt.Errorf("host %q is not a host name or address", t.host)
	}
	if strings.ContainsAny(t.path, "\x00\n\r") {
		return sshTarget{}, fmt.Errorf("the path has a line break or NUL")
	}
	return t, nil
}

// sshName reports whether s can be given to ssh as a user or host: not
// empty, not an option, no spaces, control characters or shell quoting.
func sshName(s string) bool {
	if s == "" || s[0] == '-' || len(s) > 255 {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c == 0x7f || strings.IndexByte(`'"\$;&|<>(){}`+"`", c) >= 0 {
			return false
		}
	}
	return true
}

// base is ssh://[user@]host[:port], how the target's streams begin.
func (t sshTarget) base() string {
	b := "ssh://"
	if t.user != "" {
		b += t.user + "@"
	}
	if t.port != "" {
		return b + net.JoinHostPort(t.host, t.port)
	}
	if strings.Contains(t.host, ":") {
		return b + "[" + t.host + "]"
	}
	return b + t.host
}

// sshArgv is the ssh command up to the remote command: the user's ssh
// with their keys, agent, ~/.ssh/config and ControlMaster; never a
// password prompt (BatchMode); a dead connection noticed within 45 s.
func sshArgv(o Options, t sshTarget) []string {
	a := append([]string(nil), o.SSH...)
	if len(a) == 0 {
		a = []string{"ssh"}
	}
	a = append(a, "-o", "BatchMode=yes", "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3")
	if t.port != "" {
		a = append(a, "-p", t.port)
	}
	if t.user != "" {
		a = append(a, "-l", t.user)
	}
	return append(a, "--", t.host)
}

// shellCommand quotes argv for the remote shell, each word in single
// quotes.
func shellCommand(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// globQuote quotes a path for the remote shell leaving its glob
// characters (* ? [ ]) for the shell to expand.
func globQuote(p string) string {
	var b strings.Builder
	run := 0
	flush := func(i int) {
		if i > run {
			b.WriteString(shellQuote(p[run:i]))
		}
	}
	for i := 0; i < len(p); i++ {
		if strings.IndexByte("*?[]", p[i]) >= 0 {
			flush(i)
			b.WriteByte(p[i])
			run = i + 1
		}
	}
	flush(len(p))
	return b.String()
}

// remoteTail reads files on a remote host through `tail -F` over ssh.
// Several files (a glob) come with tail's "==> FILE <==" headers, and each
// file is a stream of its own. Following one file, a new attempt resumes
// at the byte offset where the last ended, when the file is still at least
// that long (else it was rotated or truncated: from its start; tail saying
// it follows a new file starts the count over); a glob's new attempt
// starts at the files' ends (what they got meanwhile is lost).
// Until a first line came, an attempt starts as the first did.
type remoteTail struct {
	name    string // the source as given
	target  sshTarget
	glob    bool
	opts    Options
	streams *logsrc.Streams

	cur      string // the stream the next line belongs to
	offset   int64  // one file: bytes read of it
	resuming bool   // this attempt's first line is the resume marker
	started  bool   // a line came (or --state says where): later attempts resume rather than start over
	kept     int64  // offset, as last handed to the store (-1: never)
	first    bool   // no line read yet in this attempt
	blank    bool   // the previous line was empty (a header follows one)
}

// resumeMarker starts the output of a resume: the offset tail starts at.
const resumeMarker = "#rebindwatch resume "

func (r *remoteTail) argv(again bool) []string {
	path := globQuote(r.target.path)
	var cmd string
	switch {
	case !r.opts.Follow:
		cmd = "exec tail -n +1 -- " + path
	case (again || r.kept >= 0) && r.started && !r.glob:
		// The file as it is now: still at least as long, go on where we
		// were; else read it from its start.
		cmd = fmt.Sprintf(`f=%s; o=%d; s=$(wc -c < "$f" 2>/dev/null | tr -d ' '); `+
			`if [ "${s:-0}" -ge "$o" ]; then echo "%s$o"; exec tail -c +$((o+1)) -F -- "$f"; `+
			`else echo "%s0"; exec tail -n +1 -F -- "$f"; fi`, path, r.offset, resumeMarker, resumeMarker)
		r.resuming = true
	case again && r.started || r.opts.TailOnly:
		cmd = "exec tail -n 0 -F -- " + path
	default:
		cmd = "exec tail -n +1 -F -- " + path
	}
	return append(sshArgv(r.opts, r.target), "sh -c "+shellQuote(cmd))
}

// tailRecord is what --state keeps for a remote file: the bytes of it
// whose lines were handed over.
type tailRecord struct {
	Offset int64 `json:"offset"`
}

func (r *remoteTail) checkpoint() (string, any, bool) {
	if r.glob {
		return "", nil, false // a glob's files are not resumed
	}
	moved := r.offset != r.kept
	r.kept = r.offset
	return stateKey(r.name), tailRecord{r.offset}, moved
}

// resume starts a single file where the store says its lines were read
// to (the remote command checks the file is still that long).
func (r *remoteTail) resume(store *state.Store) error {
	r.kept = -1
	if store == nil || r.glob || !r.opts.Follow {
		return nil
	}
	var rec tailRecord
	found, err := store.Get(stateKey(r.name), &rec)
	if err != nil || !found {
		return err
	}
	r.offset, r.kept, r.started = rec.Offset, rec.Offset, true
	return nil
}

func (r *remoteTail) attempt() {
	r.cur, r.first, r.blank = r.name, true, false
}

func (r *remoteTail) line(b []byte, fromErr bool) lineKind {
	if fromErr {
		if !r.glob && tailRestarted(b) {
			r.offset = 0 // tail follows a new file from its start
		}
		return diagnostic // ssh's and tail's own words
	}
	r.started = true
	first, blank := r.first, r.blank
	r.first, r.blank = false, len(b) == 0
	if first && r.resuming {
		r.resuming = false
		if v, ok := bytes.CutPrefix(b, []byte(resumeMarker)); ok {
			if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				r.offset = n
				return seen
			}
		}
	}
	if name, ok := tailHeader(b); ok && (first || blank) && r.glob {
		r.cur = r.target.base() + name
		return seen
	}
	if !r.glob {
		r.offset += int64(len(b)) + 1
	}
	r.streams.Stream(r.cur).Line(b, time.Time{}) // a tailed line has no envelope
	return fresh
}

// tailRestarted reports whether a line of tail's stderr says it went back
// to the start of a file: GNU tail's "has been replaced; following new
// file", "file truncated", "has appeared; following new file".
func tailRestarted(b []byte) bool {
	for _, s := range []string{"has been replaced", "file truncated", "has appeared"} {
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// tailHeader reads tail's "==> /var/log/nginx/a.log <==".
func tailHeader(b []byte) (string, bool) {
	name, ok := bytes.CutPrefix(b, []byte("==> "))
	if !ok {
		return "", false
	}
	name, ok = bytes.CutSuffix(name, []byte(" <=="))
	if !ok || len(name) == 0 || name[0] != '/' {
		return "", false
	}
	return string(name), true
}
