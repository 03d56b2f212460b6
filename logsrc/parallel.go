package logsrc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// A file read to its end is parsed on every core: once the format is known,
// a reader cuts the rest of the file into chunks of whole lines (with the
// same splitter as one core: partial and over-long lines alike), workers
// (each with its own Parser and key extractor) parse them, and the source
// goroutine takes their results back in file order and hands them to the
// emitter. So the requests, their order, the problems kept and the counts
// are exactly those of one worker (TestParallelIsSequential), only sooner.

// chunkSize is about what one worker parses at a time: large enough that
// handing chunks around costs nothing next to parsing them, small enough
// that the chunks in flight (2 per worker, plus 2) stay a few MiB.
const chunkSize = 256 << 10

// chunk is a run of lines and what a worker made of them.
type chunk struct {
	seq     int
	data    []byte    // the lines, each ended by '\n'
	linenos []int64   // each line's number
	tooLong []badLine // lines the splitter dropped for their length, in order
	reqs    []detect.Request
	bad     []badLine
	skipped uint64
}

// badLine is a line that did not parse, its problem text built off the
// source goroutine (only the first few are kept, so later ones go without).
type badLine struct {
	lineno int64
	text   string
}

// workerCount is how many workers parse a file: the option, else one per core.
func (s *input) workerCount() int {
	if s.opts.Workers > 0 {
		return s.opts.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// canParallel reports whether the rest of the file can be parsed on several
// cores: there are several, the format is decided and reads each line on
// its own (sensors' TSV headers change how later lines read, so they stay on
// one), and no line is waiting for the decision.
func (s *input) canParallel() bool {
	return s.workerCount() > 1 && s.p.decided() && len(s.pending) == 0 && s.p.evParser().sensor == sensorNone
}

// readParallel reads the rest of r (sp holds the partial line and the line
// count so far) with the decided format on every core, until its end or a
// stop; it returns a read error.
func (s *input) readParallel(ctx context.Context, r io.Reader, sp *splitter, progress func(int64)) error {
	n := s.workerCount()
	inFlight := 2*n + 2
	work := make(chan *chunk, inFlight)
	done := make(chan *chunk, inFlight)
	// free holds the chunks not in use: the reader takes one to fill and
	// the sequencer gives it back once handed over, so at most inFlight
	// chunks exist whatever order the workers finish in.
	free := make(chan *chunk, inFlight)
	for range inFlight {
		free <- &chunk{data: make([]byte, 0, chunkSize+chunkSize/8)}
	}
	var readBytes atomic.Int64
	var readErr error

	go func() { // the reader
		defer close(work)
		readErr = s.readChunks(ctx, r, sp, work, free, &readBytes)
	}()
	var workers sync.WaitGroup
	for range n {
		p := s.p.forWorker()
		var k *keys.Extractor
		if s.opts.Keys != nil {
			k = s.opts.Keys.Clone()
		}
		workers.Add(1)
		go func() {
			defer workers.Done()
			for c := range work {
				s.parseChunk(p, k, c)
				done <- c
			}
		}()
	}
	go func() {
		workers.Wait()
		close(done)
	}()

	held := map[int]*chunk{}
	next := 0
	for c := range done {
		held[c.seq] = c
		for c, ok := held[next]; ok; c, ok = held[next] {
			delete(held, next)
			next++
			s.handOver(c)
			progress(readBytes.Load())
			free <- c
		}
	}
	return readErr
}

// readChunks splits r into chunks for the workers. The splitter is the one
// the file was read with so far, so line numbers and a line cut by the last
// read carry on.
func (s *input) readChunks(ctx context.Context, r io.Reader, sp *splitter, work, free chan *chunk, readBytes *atomic.Int64) error {
	seq := 0
	newChunk := func() *chunk {
		c := <-free // the sequencer gives chunks back whatever happens
		c.data, c.linenos, c.tooLong = c.data[:0], c.linenos[:0], c.tooLong[:0]
		c.seq = seq
		seq++
		return c
	}
	cur := newChunk()
	send := func() {
		if len(cur.linenos) > 0 || len(cur.tooLong) > 0 {
			work <- cur
			cur = newChunk()
		}
	}
	emit := func(line []byte, lineno int64) error {
		line = bytes.TrimSuffix(line, []byte("\n"))
		cur.data = append(append(cur.data, line...), '\n')
		cur.linenos = append(cur.linenos, lineno)
		if len(cur.data) >= chunkSize {
			send()
		}
		return nil
	}
	tooLong := func(lineno int64, head []byte) {
		cur.tooLong = append(cur.tooLong, badLine{lineno, errTooLong.Error() + ": " + shapeOf(head, problemBytes)})
	}
	buf := make([]byte, readSize)
	for ctx.Err() == nil {
		k, err := io.ReadFull(r, buf)
		if k > 0 {
			sp.feed(buf[:k], emit, tooLong)
			readBytes.Add(int64(k))
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			sp.end(emit)
			break
		}
		if err != nil {
			send()
			return err
		}
	}
	send()
	return nil
}

// parseChunk parses a chunk's lines as handleLine would, into the chunk.
func (s *input) parseChunk(p *Parser, k *keys.Extractor, c *chunk) {
	c.reqs, c.bad, c.skipped = c.reqs[:0], c.bad[:0], 0
	data := c.data
	for _, lineno := range c.linenos {
		i := bytes.IndexByte(data, '\n')
		line := bytes.TrimSuffix(data[:i], []byte("\r"))
		data = data[i+1:]
		if isBlank(line) {
			continue
		}
		// Parse resets the request it fills: a recycled chunk's slot is
		// reused as it is, not zeroed first.
		if len(c.reqs) < cap(c.reqs) {
			c.reqs = c.reqs[:len(c.reqs)+1]
		} else {
			c.reqs = append(c.reqs, detect.Request{})
		}
		r := &c.reqs[len(c.reqs)-1]
		r.Source = s.path
		err := p.Parse(line, k, r)
		if err != nil {
			c.reqs = c.reqs[:len(c.reqs)-1]
		}
		switch {
		case err == nil:
		case errors.Is(err, ErrNotRequest):
			if !quietSkip(err) {
				c.skipped++
			}
		default:
			text := ""
			if len(c.bad) < s.opts.MaxProblems {
				text = err.Error() + ": " + shapeOf(line, problemBytes)
			}
			c.bad = append(c.bad, badLine{lineno, text})
		}
	}
}

// handOver gives the emitter a chunk's results, in line order.
func (s *input) handOver(c *chunk) {
	for i := range c.reqs {
		if c.reqs[i].Time.IsZero() {
			c.reqs[i].Time = s.now() // a format without a clock: the time it was read
		}
		s.e.Request(&c.reqs[i])
	}
	// The problems kept are the first few in line order, as with one worker.
	for i, j := 0, 0; i < len(c.tooLong) || j < len(c.bad); {
		var b badLine
		if j >= len(c.bad) || i < len(c.tooLong) && c.tooLong[i].lineno < c.bad[j].lineno {
			b, i = c.tooLong[i], i+1
		} else {
			b, j = c.bad[j], j+1
		}
		s.e.ParseError()
		if s.e.WantsProblems() && b.text != "" {
			s.e.Problem(s.name+":"+strconv.FormatInt(b.lineno, 10), b.text)
		}
	}
	if c.skipped > 0 {
		s.e.Counter("skipped_lines").Add(c.skipped)
	}
}
