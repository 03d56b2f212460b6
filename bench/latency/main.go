// Command latency measures the dashboard's key-to-frame latency while a
// replay runs at full speed: it starts the dashboard in a pseudo-terminal
// of a fixed size, keeps a screen of what it draws (screen.go), sends a
// key (2: the Keys pane; 1: back to Incidents; ?: help, and again to close
// it) and times until the frame that reflects the key has been read from
// the terminal. It repeats while the header says the replay is running
// (▶ max), starting the dashboard again when a replay ends, until it has
// -n samples, -runs runs or -timeout. A key that no frame reflects within
// -key-timeout counts as missed.
//
//	latency -n 60 -- /tmp/rw/rebindwatch -c bench.toml --speed 0 -r bulk.pcap
//
// The last line is for scripts:
//
//	RESULT n=60 missed=0 late=1 median_ms=12.3 p95_ms=31.0 max_ms=40.2
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "latency:", err)
		os.Exit(1)
	}
}

// step is a key and text that a frame reflecting it shows and the frame
// before it does not.
type step struct{ key, want string }

// cycle leaves the dashboard as it found it: Incidents active, no help.
// The active pane's border is heavy (┏━); help hides the panes.
var cycle = []step{
	{"2", "┏━ 2 "},
	{"1", "┏━ 1 "},
	{"?", "esc closes the help"},
	{"?", "┏━ 1 "},
}

type options struct {
	cols, rows  int
	n, runs     int
	timeout     time.Duration
	keyTimeout  time.Duration
	gap         time.Duration
	dump        bool
	argv        []string
	environment []string
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("latency", flag.ContinueOnError)
	size := fs.String("size", "140x40", "the terminal's `COLSxROWS`")
	var o options
	fs.IntVar(&o.n, "n", 60, "samples to take")
	fs.IntVar(&o.runs, "runs", 10, "dashboard runs at most (a replay that ends starts another)")
	fs.DurationVar(&o.timeout, "timeout", 3*time.Minute, "give up after this long in all")
	fs.DurationVar(&o.keyTimeout, "key-timeout", 5*time.Second, "a key no frame reflects within this is missed")
	fs.DurationVar(&o.gap, "gap", 60*time.Millisecond, "mean pause between a frame and the next key (uniform, ±50%)")
	fs.BoolVar(&o.dump, "dump", false, "print the screen after each run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := fmt.Sscanf(*size, "%dx%d", &o.cols, &o.rows); err != nil || o.cols < 20 || o.rows < 10 {
		return fmt.Errorf("-size %q: want COLSxROWS, at least 20x10", *size)
	}
	o.argv = fs.Args()
	if len(o.argv) == 0 {
		return errors.New("name the dashboard's command after --")
	}
	o.environment = append(os.Environ(), "TERM=xterm-256color", "LANG=C.UTF-8")
	return measure(o, stdout)
}

// result is what the runs measured.
type result struct {
	lat    []time.Duration
	perKey map[string][]time.Duration
	missed int // no frame reflected the key in time
	late   int // reflected, but the replay had ended by then: not counted
}

func measure(o options, stdout io.Writer) error {
	res := result{perKey: map[string][]time.Duration{}}
	deadline := time.Now().Add(o.timeout)
	rng := rand.New(rand.NewPCG(1, 2)) // the same pauses every time
	for r := 1; r <= o.runs && len(res.lat) < o.n && time.Now().Before(deadline); r++ {
		before := len(res.lat)
		why, err := oneRun(o, &res, deadline, rng, stdout)
		if err != nil {
			return fmt.Errorf("run %d: %w", r, err)
		}
		fmt.Fprintf(stdout, "run %d: %d samples while replaying (%s)\n", r, len(res.lat)-before, why)
	}
	if len(res.lat) == 0 {
		return errors.New("no samples: the replay ended before a key could be timed (use a longer capture)")
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range res.perKey {
			if !yield(k) {
				return
			}
		}
	})
	var per []string
	for _, k := range keys {
		d := res.perKey[k]
		per = append(per, fmt.Sprintf("%q: %d, median %s", k, len(d), ms(quantile(d, 0.5))))
	}
	med, p95, mx := quantile(res.lat, 0.5), quantile(res.lat, 0.95), quantile(res.lat, 1)
	if res.missed > 0 {
		mx = o.keyTimeout // a missed key took at least this long
	}
	fmt.Fprintf(stdout, "key-to-frame while replaying at full speed, %dx%d: %d samples (%s), %d missed, %d after the replay ended (not counted)\n",
		o.cols, o.rows, len(res.lat), strings.Join(per, "; "), res.missed, res.late)
	fmt.Fprintf(stdout, "median %s ms, p95 %s ms, max %s ms\n", ms(med), ms(p95), ms(mx))
	fmt.Fprintf(stdout, "RESULT n=%d missed=%d late=%d median_ms=%s p95_ms=%s max_ms=%s\n", len(res.lat), res.missed, res.late, ms(med), ms(p95), ms(mx))
	return nil
}

// quantile is the q-quantile of ds (nearest rank).
func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*q+0.999999) - 1
	return s[max(0, min(len(s)-1, i))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

// term is the dashboard's terminal: the pty's master and the screen that
// what was read from it draws. A reader goroutine feeds the screen and
// answers an expectation when a read makes it true.
type term struct {
	master *os.File
	mu     sync.Mutex
	scr    *screen
	expect *expectation // the key in flight, if any
	eof    chan struct{}
}

// expectation is a key sent and the text its frame shows.
type expectation struct {
	want string
	seen chan frame
}

// frame is when a read made the screen show what was expected, and
// whether the replay was still running in it.
type frame struct {
	at        time.Time
	replaying bool
}

func (t *term) read() {
	defer close(t.eof)
	buf := make([]byte, 64<<10)
	for {
		n, err := t.master.Read(buf)
		at := time.Now()
		if n > 0 {
			t.mu.Lock()
			t.scr.Write(buf[:n])
			if len(t.scr.reply) > 0 {
				t.master.Write(t.scr.reply)
				t.scr.reply = t.scr.reply[:0]
			}
			if e := t.expect; e != nil && t.scr.Contains(e.want) {
				e.seen <- frame{at: at, replaying: replaying(t.scr)}
				t.expect = nil
			}
			t.mu.Unlock()
		}
		if err != nil {
			return // EIO once the program has exited
		}
	}
}

// replaying reports the header's badge for a replay at full speed.
func replaying(s *screen) bool { return strings.Contains(s.Row(0), "▶ max") }

func done(s *screen) bool { return strings.Contains(s.Row(0), "DONE") }

// oneRun starts the dashboard, waits for its first frame and times keys
// until the replay ends or enough samples are in. It says why it stopped.
func oneRun(o options, res *result, deadline time.Time, rng *rand.Rand, stdout io.Writer) (string, error) {
	cmd := exec.Command(o.argv[0], o.argv[1:]...)
	cmd.Env = o.environment
	master, err := startInPTY(cmd, o.cols, o.rows)
	if err != nil {
		return "", err
	}
	t := &term{master: master, scr: newScreen(o.cols, o.rows), eof: make(chan struct{})}
	go t.read()
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	defer func() {
		if o.dump {
			t.mu.Lock()
			fmt.Fprintln(stdout, t.scr.String())
			t.mu.Unlock()
		}
		master.Write([]byte("q"))
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		master.Close()
		<-t.eof
	}()

	// The first frame: the panes drawn and the replay running.
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		t.mu.Lock()
		ready, over := replaying(t.scr) && t.scr.Contains(cycle[0].want[:len("┏━")]), done(t.scr)
		t.mu.Unlock()
		if ready {
			break
		}
		if over {
			return "the replay ended before the first frame", nil
		}
		select {
		case <-exited:
			return "", fmt.Errorf("the dashboard exited before its first frame: %v", waitErr)
		default:
		}
		if time.Since(start) > 20*time.Second {
			return "", errors.New("no first frame within 20 s")
		}
	}
	for i := 0; len(res.lat) < o.n; i++ {
		if time.Now().After(deadline) {
			return "out of time", nil
		}
		st := cycle[i%len(cycle)]
		seen := make(chan frame, 1)
		t.mu.Lock()
		if !replaying(t.scr) {
			t.mu.Unlock()
			return "the replay ended", nil
		}
		if t.scr.Contains(st.want) {
			t.mu.Unlock()
			return "", fmt.Errorf("before key %q the screen already shows %q: the dashboard is not where the cycle expects", st.key, st.want)
		}
		t.expect = &expectation{want: st.want, seen: seen}
		sent := time.Now()
		t.mu.Unlock()
		if _, err := master.Write([]byte(st.key)); err != nil {
			return "", fmt.Errorf("sending %q: %w", st.key, err)
		}
		select {
		case f := <-seen:
			if !f.replaying {
				res.late++
				return "the replay ended", nil
			}
			d := f.at.Sub(sent)
			res.lat = append(res.lat, d)
			res.perKey[st.key] = append(res.perKey[st.key], d)
		case <-time.After(o.keyTimeout):
			t.mu.Lock()
			ended := done(t.scr)
			t.mu.Unlock()
			if ended {
				res.late++
				return "the replay ended", nil
			}
			res.missed++
			return fmt.Sprintf("key %q unanswered after %s", st.key, o.keyTimeout), nil
		case <-exited:
			return "", fmt.Errorf("the dashboard exited: %v", waitErr)
		}
		time.Sleep(o.gap/2 + time.Duration(rng.Int64N(int64(o.gap)+1)))
	}
	return "enough samples", nil
}
