package proxy

import (
	"net"
	"sync"
)

// clientWriter writes a pinned client's replies and pushed messages from
// a goroutine of its own, so the session goes on reading its backend
// connection while the client does not read (a hung subscriber never backs
// up into the node), and what waits for the client is counted against its
// output limit (outConn.queued): past the hard limit, or the soft one for
// its seconds, the client is closed (issue 17).
type clientWriter struct {
	nc  net.Conn
	out *outConn // nil: unbounded

	mu sync.Mutex
	// idle is signalled (Broadcast) when buf empties or the writer fails.
	idle       *sync.Cond
	buf, spare []byte
	writing    bool
	err        error
	wake, quit chan struct{}
	stopped    bool
}

// newClientWriter returns a writer to nc; run must be started.
func newClientWriter(nc net.Conn, out *outConn, quit chan struct{}) *clientWriter {
	w := &clientWriter{nc: nc, out: out, wake: make(chan struct{}, 1), quit: quit}
	w.idle = sync.NewCond(&w.mu)
	return w
}

// push queues b (copied) for the client; false when the client is gone or
// was closed at its output limit.
func (w *clientWriter) push(b []byte) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return false
	}
	if w.out != nil {
		total := int64(len(w.buf)+len(b)) + w.out.pending.Load()
		if w.out.overBatch(total) {
			w.err = errOutputLimit
			w.idle.Broadcast()
			return false
		}
	}
	w.buf = append(w.buf, b...)
	if w.out != nil {
		w.out.queued.Store(int64(len(w.buf)))
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return true
}

// drain waits until everything pushed was written; false if the client
// is gone.
func (w *clientWriter) drain() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for (len(w.buf) > 0 || w.writing) && w.err == nil && !w.stopped {
		w.idle.Wait()
	}
	return w.err == nil
}

// run writes what is pushed until the connection fails or quit closes.
func (w *clientWriter) run() {
	defer func() {
		w.mu.Lock()
		w.stopped = true
		w.idle.Broadcast()
		w.mu.Unlock()
	}()
	for {
		select {
		case <-w.wake:
		case <-w.quit:
			return
		}
		w.mu.Lock()
		for len(w.buf) > 0 && w.err == nil {
			b := w.buf
			w.buf, w.spare, w.writing = w.spare[:0], nil, true
			if w.out != nil {
				w.out.queued.Store(0)
			}
			w.mu.Unlock()
			_, err := w.nc.Write(b)
			w.mu.Lock()
			w.writing = false
			if cap(b) <= maxKeptBuffer {
				w.spare = b[:0]
			}
			if err != nil {
				w.err = err
			}
		}
		w.idle.Broadcast()
		failed := w.err != nil
		w.mu.Unlock()
		if failed {
			return
		}
	}
}
