package capture

// This file turns the heads an HTTP/1 connection parses into requests and
// pairs responses with them, in order (RFC 9112 §9.3.2: responses come in
// the order of their requests). Requests go to the orderer at once and
// wait there for their status; a response only sets it.

// Pairing bounds.
const (
	// maxFIFO caps the requests of one connection awaiting responses
	// (pipelining depth).
	maxFIFO = 64
	// maxOrphans caps responses that arrived before their request was
	// reassembled.
	maxOrphans = 16
)

// orphan is a response that arrived before any request it could answer
// was reassembled.
type orphan struct {
	at      int64
	code    int
	granted bool // it granted a private network preflight
}

// request handles a request head parsed into sh.rh with fault f, at
// packet time at. It returns false when the head is not a request (the
// direction is then resynchronising).
func (c *conn) request(i int, f fault, at int64) bool {
	sh := c.sh
	rh := &sh.rh
	if !c.accept(i, f, rh.badLines) {
		return false
	}
	x := sh.pool.get()
	sh.req.fromHead(&x.req, rh, at, c.addr[i], c.addr[1-i])
	x.at = at
	x.head = x.req.Method == "HEAD"
	c.expect(x)
	sh.out.push(x)

	kind, n := rh.requestBody()
	if rh.ambiguous {
		sh.rep.inc(cAmbiguousFraming)
	}
	c.expectBody(i, kind, n)
	return true
}

// response handles a response head parsed into sh.rsp with fault f, at
// packet time at.
func (c *conn) response(i int, f fault, at int64) bool {
	sh := c.sh
	rs := &sh.rsp
	if !c.accept(i, f, rs.badLines) {
		return false
	}
	code := rs.code
	if code < 200 && code != 101 {
		// Interim (100 Continue, 103 Early Hints): the request still
		// waits for its final response (RFC 9110 §15.2).
		c.h[i].st = stStart
		return true
	}
	x := c.answer(at, code, rs.pnaGranted)
	if code == 101 && rs.upgradeH2C {
		c.upgradeH2C(x)
		return true
	}
	headReq, connect := false, false
	if x != nil {
		headReq, connect = x.head, x.req.Method == "CONNECT"
		sh.out.answer(x, code, rs.pnaGranted)
	}
	if code == 101 || (connect && code/100 == 2) {
		// The connection now carries another protocol (RFC 9110 §15.2.2,
		// §9.3.6): stop parsing both directions.
		sh.rep.inc(cTunnels)
		c.stopParsing()
		return true
	}
	kind, n := rs.responseBody(headReq)
	c.expectBody(i, kind, n)
	return true
}

// accept takes a parsed head's fault: a bad start line makes direction i
// look for the next message; malformed field lines are counted and
// reported. A head that parsed settles who the client is.
func (c *conn) accept(i int, f fault, badLines int) bool {
	if f != faultNone {
		c.fault(i, f, false)
		return false
	}
	if badLines > 0 {
		c.sh.rep.parseError()
		c.problem(i, faultFieldLine)
	}
	c.firm = true
	return true
}

// expectBody sets direction i to read the body a head announced.
func (c *conn) expectBody(i int, kind bodyKind, n int64) {
	h := &c.h[i]
	switch kind {
	case bodyLength:
		h.st, h.remain = stBody, n
	case bodyChunked:
		h.st = stChunkSize
	case bodyClose:
		h.st = stUntilClose
	case bodyBroken:
		c.fault(i, faultFraming, true)
	default:
		h.st = stStart
	}
}

// expect queues a request for its response, or answers it at once with a
// response that was reassembled before it.
func (c *conn) expect(x *pending) {
	sh := c.sh
	n := 0
	for n < len(c.orphans) && c.orphans[n].at < x.at {
		n++ // earlier than the request: they answered something we missed
	}
	if n > 0 {
		sh.rep.add(cUnmatchedResponses, uint64(n))
		c.orphans = c.orphans[:copy(c.orphans, c.orphans[n:])]
	}
	if len(c.orphans) > 0 {
		x.req.Status, x.req.PNAGranted, x.ready = c.orphans[0].code, c.orphans[0].granted, true
		c.orphans = c.orphans[:copy(c.orphans, c.orphans[1:])]
		return
	}
	if c.client >= 0 && c.h[1-c.client].closed {
		x.ready = true // the server has finished sending
		return
	}
	if len(c.fifo) >= maxFIFO {
		old := c.fifo[0]
		c.fifo = c.fifo[:copy(c.fifo, c.fifo[1:])]
		sh.out.settle(old)
		sh.rep.inc(cPipelineOverflow)
	}
	x.queued = true
	c.fifo = append(c.fifo, x)
}

// answer takes the request a final response with status code at time at
// answers: the oldest waiting one, unless the response is older than it
// (it answers a request sent before the capture or lost in a gap). With
// nothing waiting, the response (and whether it granted a private network
// preflight) is kept briefly in case its request is still being
// reassembled.
func (c *conn) answer(at int64, code int, granted bool) *pending {
	if len(c.fifo) == 0 {
		if len(c.orphans) < maxOrphans {
			c.orphans = append(c.orphans, orphan{at: at, code: code, granted: granted})
		} else {
			c.sh.rep.inc(cUnmatchedResponses)
		}
		return nil
	}
	x := c.fifo[0]
	if x.at > at {
		c.sh.rep.inc(cUnmatchedResponses)
		return nil
	}
	c.fifo = c.fifo[:copy(c.fifo, c.fifo[1:])]
	return x
}

// dropBefore releases, without a status, the waiting requests sent before at.
func (c *conn) dropBefore(at int64) {
	n := 0
	for n < len(c.fifo) && c.fifo[n].at < at {
		c.sh.out.settle(c.fifo[n])
		n++
	}
	c.fifo = c.fifo[:copy(c.fifo, c.fifo[n:])]
}

// unanswered releases every waiting request without a status.
func (c *conn) unanswered() {
	for _, x := range c.fifo {
		c.sh.out.settle(x)
	}
	clear(c.fifo)
	c.fifo = c.fifo[:0]
}

// upgradeH2C goes on in HTTP/2 after a 101 that switched to h2c (RFC 7540
// §3.2): the client sends the connection preface, the server its
// SETTINGS, and the request that asked for the upgrade is stream 1, whose
// response comes in HTTP/2. So x, that request, waits for stream 1's
// :status instead of taking the 101.
func (c *conn) upgradeH2C(x *pending) {
	c.sh.rep.inc(cH2CUpgrades)
	c.h2 = newH2Conn(c.sh, c.addr, c.client)
	if x != nil {
		c.h2.upgraded(x)
	}
	for i := range c.h {
		c.h[i].st, c.h[i].buf = stIgnore, nil
	}
	c.unanswered() // pipelined requests after the upgrade request: none are answered in HTTP/1
}
