package node

import (
	"errors"
	"fmt"
	"time"

	"github.com/tidwall/redcon"
)

// waiter is a client parked in a blocking command (BLPOP and friends). The
// command is simply executed again when one of its keys is touched, exactly
// as Redis re-runs a blocked command, so the effective write is journaled by
// the normal path.
type waiter struct {
	keys     []string
	deadline time.Time // zero: wait forever
	ready    chan struct{}
	ctx      Ctx // the command to retry
}

// blockOn parks the current command until one of keys is touched or
// timeout passes (0 = forever). Only valid for FlagBlocking commands outside
// MULTI; the handler must not have replied.
func (c *Ctx) blockOn(keys []string, timeout time.Duration) {
	w := &waiter{keys: keys, ready: make(chan struct{}, 1), ctx: *c}
	if timeout > 0 {
		w.deadline = time.Now().Add(timeout)
	}
	c.blocked = w
	for _, k := range keys {
		c.s.blocked[k] = append(c.s.blocked[k], w)
	}
}

// signalKey wakes every client blocked on key; each retries its command.
func (s *Server) signalKey(key string) {
	for _, w := range s.blocked[key] {
		select {
		case w.ready <- struct{}{}:
		default:
		}
	}
}

// unregisterWaiter forgets w on all its keys; the caller holds s.mu.
func (s *Server) unregisterWaiter(w *waiter) {
	for _, k := range w.keys {
		ws := s.blocked[k]
		for i, x := range ws {
			if x == w {
				ws = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(s.blocked, k)
		} else {
			s.blocked[k] = ws
		}
	}
}

// park waits without the lock until w is signalled, times out, the client
// disconnects or the server closes. Earlier replies of the pipeline are
// flushed first so the client sees them while this command blocks.
func (s *Server) park(cl *client, out Replier, w *waiter) (timedOut bool) {
	flushReplies(out)
	var gone <-chan struct{}
	if cl.netConn != nil {
		g, stop := cl.netConn.watchClose()
		gone = g
		defer stop()
	}
	var timer <-chan time.Time
	if !w.deadline.IsZero() {
		t := time.NewTimer(time.Until(w.deadline))
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-w.ready:
		return false
	case <-timer:
		return true
	case <-gone:
		cl.killed.Store(true)
	case <-s.ctx.Done():
	}
	return false
}

// retry re-runs a parked command with the lock held. A command that finds
// nothing again stays parked (it calls blockOn again); on timeout the
// command replies its timeout value.
func (s *Server) retry(cl *client, out Replier, w *waiter, timedOut bool) *waiter {
	s.unregisterWaiter(w)
	c := w.ctx
	// c.blocked keeps the old waiter while the command runs, telling the
	// handler this is a retry (Ctx.retried); blockOn replaces it when the
	// command parks again.
	c.blocked = w
	c.timedOut = timedOut
	c.now = time.Now().UnixMilli()
	next := s.exec(&c)
	if next == w {
		next = nil
	}
	if next != nil && !w.deadline.IsZero() {
		next.deadline = w.deadline
	}
	return next
}

// wakeAllBlocked releases every parked client (server closing).
func (s *Server) wakeAllBlocked() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ws := range s.blocked {
		for _, w := range ws {
			select {
			case w.ready <- struct{}{}:
			default:
			}
		}
	}
}

// errUnknownEntry reports a journal entry that names no command.
func errUnknownEntry(args [][]byte) error {
	return fmt.Errorf("journal entry %q: %w", args[0], errBadEntry)
}

var errBadEntry = errors.New("not a command this node can apply")

// flushReplies sends the replies buffered so far on a redcon connection,
// before its goroutine waits (a blocking pop, CLIENT PAUSE), so the client
// sees the replies to the commands before the one that waits.
func flushReplies(out Replier) {
	if conn, ok := out.(redcon.Conn); ok {
		if bw := redcon.BaseWriter(conn); bw != nil {
			bw.Flush()
		}
	}
}
