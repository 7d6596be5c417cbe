package proxy

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/batonkv/baton/internal/resp"
)

// maxKeptBuffer bounds the buffers a backend connection or a client keeps
// for reuse: one huge reply or pipeline must not pin its memory forever.
const maxKeptBuffer = 1 << 20

// maxKeptReply bounds the read buffer a backend connection keeps: larger,
// as there are few of them, so that a stream of 1 MB replies does not
// allocate one buffer per reply.
const maxKeptReply = 8 << 20

// batch is one client pipeline in flight on a backend connection: the
// backend answers its commands in order, so the k-th reply read for a batch
// belongs to its k-th command. A client reuses one batch for all its
// pipelines (see forwarder), so the steady state allocates nothing.
type batch struct {
	want int
	// replies holds the raw replies received so far, back to back, in
	// order; ends[k] is where reply k ends. errs counts error replies.
	replies []byte
	ends    []int
	errs    int
	// err is set (before done is signalled) when the connection broke
	// before all replies arrived; replies then holds the ones that did.
	// errNotSent means none of the batch's commands was written.
	err error
	// max bounds len(replies) (0: no bound); past it, over is set and the
	// replies' bytes are dropped (the client is closed at its output
	// limit), so a client that never reads cannot make the proxy hold
	// more than its limit.
	max  int64
	over bool
	// done receives exactly one value per send (buffered, 1): when the
	// last reply arrived or the connection failed.
	done chan struct{}
}

// reset prepares b for a send of want commands.
func (b *batch) reset(want int) {
	if b.done == nil {
		b.done = make(chan struct{}, 1)
	}
	if cap(b.replies) > maxKeptBuffer {
		b.replies = nil
	}
	b.want, b.replies, b.ends, b.errs, b.err = want, b.replies[:0], b.ends[:0], 0, nil
	b.max, b.over = 0, false
}

// add appends one reply and reports whether it was the last one.
func (b *batch) add(reply []byte) bool {
	if b.max > 0 && int64(len(b.replies)+len(reply)) > b.max {
		b.over = true
	}
	if !b.over {
		if need := len(b.replies) + len(reply); need > cap(b.replies) {
			// Double: append grows large slices by only 1.25×, which
			// copies a pipeline of big replies many times over.
			b.replies = append(make([]byte, 0, max(need, 2*cap(b.replies))), b.replies...)
		}
		b.replies = append(b.replies, reply...)
	}
	b.ends = append(b.ends, len(b.replies))
	if reply[0] == '-' {
		b.errs++
	}
	return len(b.ends) == b.want
}

// got is the number of replies received.
func (b *batch) got() int { return len(b.ends) }

// reply returns reply k (k < got); the bytes are b's until its next reset.
func (b *batch) reply(k int) []byte {
	start := 0
	if k > 0 {
		start = b.ends[k-1]
	}
	return b.replies[start:b.ends[k]]
}

// anyRetriable reports whether some received reply is a retriable error.
func (b *batch) anyRetriable() bool {
	if b.errs == 0 {
		return false
	}
	for k := range b.got() {
		if retriable(b.reply(k)) {
			return true
		}
	}
	return false
}

// errNotSent fails a batch whose connection broke before any of its
// commands was written: none of them can have run.
var errNotSent = errors.New("proxy: backend connection lost before the batch was written")

// backendConn is one shared, pipelined connection to a node. Senders
// append a whole batch's commands to pending and the batch to queue under
// mu, so batches from different clients never interleave and the FIFO
// queue matches the order of replies on the wire.
//
// Writes are coalesced: senders never write. The first batch to find no
// write under way wakes the connection's flusher goroutine, which first
// yields so that the clients ready to run add their batches too, then
// writes everything pending in one write, and again as long as batches
// arrived during the previous write. So under load a node gets many
// clients' commands per read and answers them with one write: the system
// calls of the proxy and of the node are shared by groups of client
// batches, as in an event loop that flushes once per iteration.
type backendConn struct {
	c *resp.Conn
	// reply is the read loop's buffer for the reply being read.
	reply []byte
	// wake starts the flusher (buffered, 1); stop is closed when
	// the connection fails, which ends the flusher.
	wake, stop chan struct{}

	mu    sync.Mutex
	queue []*batch
	// unsent is how many batches at the tail of queue have their commands
	// in pending, not yet handed to a write.
	unsent int
	// pending holds the commands not yet written; spare is the buffer of
	// the previous write, kept for reuse.
	pending, spare []byte
	// flushing is set from the wake of the flusher until it finds pending
	// empty; changed under mu, read without it by pool.get.
	flushing atomic.Bool
	broken   error // non-nil once the connection failed; no new batches
}

// newBackendConn wraps a connected, authenticated connection.
func newBackendConn(c *resp.Conn) *backendConn {
	return &backendConn{c: c, wake: make(chan struct{}, 1), stop: make(chan struct{})}
}

// send queues b for the replies of the commands reqs[i], i in todo, and
// leaves them to the flusher. It fails only if the connection was already
// broken; nothing was written then.
func (bc *backendConn) send(b *batch, reqs []request, todo []int) error {
	bc.mu.Lock()
	if bc.broken != nil {
		err := bc.broken
		bc.mu.Unlock()
		return err
	}
	bc.queue = append(bc.queue, b)
	bc.unsent++
	for _, i := range todo {
		bc.pending = reqs[i].appendRESP(bc.pending)
	}
	if !bc.flushing.Load() {
		// Never blocks: a wake is sent only when flushing turns on, and
		// the flusher takes it before it can turn off.
		bc.flushing.Store(true)
		bc.wake <- struct{}{}
	}
	bc.mu.Unlock()
	return nil
}

// writeLocked writes everything pending in one write, with mu released
// during the write. bc.mu must be held; only the flusher calls it.
func (bc *backendConn) writeLocked() {
	buf := bc.pending
	bc.pending, bc.spare, bc.unsent = bc.spare[:0], nil, 0
	bc.mu.Unlock()
	_, err := bc.c.NetConn().Write(buf)
	bc.mu.Lock()
	if cap(buf) <= maxKeptBuffer {
		bc.spare = buf[:0]
	}
	if err != nil {
		// Part of the payload may have reached the node, so its batches
		// fail like any other in-flight batch (ambiguous for writes).
		bc.failLocked(fmt.Errorf("%w: write: %v", errBackendLost, err))
	}
}

// flushLoop writes what senders leave pending, from each wake until
// pending is empty, until the connection fails.
func (bc *backendConn) flushLoop() {
	for {
		select {
		case <-bc.wake:
		case <-bc.stop:
			return
		}
		// Let the clients that are ready to run add their batches first:
		// then one write carries them all.
		runtime.Gosched()
		bc.mu.Lock()
		for len(bc.pending) > 0 && bc.broken == nil {
			bc.writeLocked()
		}
		bc.flushing.Store(false)
		bc.mu.Unlock()
	}
}

// failLocked marks the connection broken, closes it, and fails every
// queued batch. bc.mu must be held.
func (bc *backendConn) failLocked(err error) {
	if bc.broken == nil {
		bc.broken = err
		bc.c.Close()
		close(bc.stop)
	}
	for k, b := range bc.queue {
		b.err = bc.broken
		if k >= len(bc.queue)-bc.unsent {
			b.err = errNotSent
		}
		b.done <- struct{}{}
	}
	bc.queue, bc.unsent, bc.pending, bc.spare = nil, 0, nil, nil
}

// readLoop delivers replies to queued batches in order until the
// connection fails; then it fails whatever is still queued.
func (bc *backendConn) readLoop() {
	for {
		if cap(bc.reply) > maxKeptReply {
			bc.reply = nil
		}
		reply, err := bc.c.ReadRaw(bc.reply[:0])
		bc.reply = reply
		bc.mu.Lock()
		if err != nil {
			bc.failLocked(fmt.Errorf("%w: %v", errBackendLost, err))
			bc.mu.Unlock()
			return
		}
		if len(bc.queue)-bc.unsent == 0 {
			// A reply nobody asked for: the stream is out of step.
			bc.failLocked(fmt.Errorf("%w: unsolicited reply %q", errBadReply, reply))
			bc.mu.Unlock()
			return
		}
		if b := bc.queue[0]; b.add(reply) {
			bc.queue[0] = nil
			bc.queue = bc.queue[1:]
			b.done <- struct{}{}
		}
		bc.mu.Unlock()
	}
}

// close fails the connection and every queued batch.
func (bc *backendConn) close() {
	bc.mu.Lock()
	bc.failLocked(fmt.Errorf("%w: closed", errBackendLost))
	bc.mu.Unlock()
}

// isBroken reports whether the connection has failed.
func (bc *backendConn) isBroken() bool {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	return bc.broken != nil
}
