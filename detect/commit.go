package detect

// commits runs the sources' Batch.Commit callbacks in the order their
// batches arrived, each once every request of its batch has been handed to
// the sinks: at once without a reorder window, or once the reorderer has
// let the last of them go. Only batches with a Commit are tracked, so a
// run without checkpoints pays nothing.
type commits struct {
	next  uint64          // id of the next tracked batch (ids start at 1)
	queue []pendingCommit // in arrival order
	held  map[uint64]int  // tracked batch -> its requests the reorderer still holds
	ready []func()        // due commits, run once the delivery in progress succeeded
}

type pendingCommit struct {
	id uint64
	fn func()
}

// add tracks b when it carries a Commit and returns its id (0: untracked).
// held is how many of its requests the reorderer keeps.
func (c *commits) add(b *Batch, held int) uint64 {
	if b.Commit == nil {
		return 0
	}
	c.next++
	c.queue = append(c.queue, pendingCommit{c.next, b.Commit})
	if held > 0 {
		if c.held == nil {
			c.held = map[uint64]int{}
		}
		c.held[c.next] = held
	}
	return c.next
}

// released notes that a held request of batch id was observed.
func (c *commits) released(id uint64) {
	if id == 0 {
		return
	}
	if n := c.held[id] - 1; n > 0 {
		c.held[id] = n
	} else {
		delete(c.held, id)
	}
}

// due moves the commits at the head of the queue whose requests are all
// observed to ready.
func (c *commits) due() {
	n := 0
	for n < len(c.queue) && c.held[c.queue[n].id] == 0 {
		c.ready = append(c.ready, c.queue[n].fn)
		n++
	}
	if n > 0 {
		rest := copy(c.queue, c.queue[n:])
		clear(c.queue[rest:])
		c.queue = c.queue[:rest]
	}
}

// run calls the ready commits (after the sinks took everything before
// them) and forgets them.
func (c *commits) run() {
	for i, fn := range c.ready {
		fn()
		c.ready[i] = nil
	}
	c.ready = c.ready[:0]
}

// drop forgets the ready commits: the delivery failed, so what they would
// record is not true.
func (c *commits) drop() {
	clear(c.ready)
	c.ready = c.ready[:0]
}
