package node

import (
	"errors"
	"fmt"
	"time"

	"github.com/batonkv/baton/node/keyspace"
	"github.com/tidwall/redcon"
)

// waiter is a client parked in a blocking command (BLPOP and friends).
// When one of its keys is touched, the command is executed again right
// after the command that touched it, by the goroutine that ran that
// command and with the lock still held — as Redis serves blocked clients
// before the next command runs, oldest waiter first. So a client that
// pushes and then reads sees the element already taken, and the effective
// write is journaled by the normal path.
type waiter struct {
	keys     []string
	deadline time.Time // zero: wait forever
	ready    chan struct{}
	ctx      keyspace.Ctx // the command to retry
	// served is set once the retried command replied; next, when the
	// retry blocked again (say the key now holds another type), is the
	// waiter to keep waiting on. Both are guarded by the server lock.
	served bool
	next   *waiter
	// reply is the served command's reply, written by serveReady into a
	// buffer of its own (the parked goroutine owns its connection's
	// writer) and copied out by the parked goroutine once it wakes.
	reply []byte
	// lsn and gen are the journal entry the served command wrote (0: it
	// wrote none), which the reply must see acknowledged under
	// --sync-replicas like any write's (writeServed).
	lsn, gen uint64
}

// block parks c's command until one of keys is touched or timeout passes
// (0 = forever), for keyspace.Host.Block; the caller holds s.mu.
func (s *Server) block(c *keyspace.Ctx, keys []string, timeout time.Duration) {
	w := &waiter{keys: keys, ready: make(chan struct{}, 1), ctx: *c}
	if timeout > 0 {
		w.deadline = time.Now().Add(timeout)
	}
	c.Blocked = w
	for _, k := range keys {
		s.blocked[k] = append(s.blocked[k], w)
	}
}

// signalKey queues key for serveReady when clients are blocked on it; the
// caller holds s.mu.
func (s *Server) signalKey(key string) {
	if len(s.blocked[key]) > 0 {
		s.readyKeys = append(s.readyKeys, key)
	}
}

// serveReady re-runs, oldest first, the commands of clients blocked on the
// keys touched since the last call, until no touched key has a client that
// can be served (a served BLMOVE may make another key ready). It runs after
// every command, with s.mu held, on the goroutine of the client that ran
// it; replies go to the parked clients' own buffers, which their
// goroutines flush once woken.
func (s *Server) serveReady() {
	if s.serving || len(s.readyKeys) == 0 {
		return
	}
	s.serving = true
	defer func() { s.serving = false }()
	for len(s.readyKeys) > 0 {
		key := s.readyKeys[0]
		s.readyKeys = s.readyKeys[1:]
		for _, w := range append([]*waiter(nil), s.blocked[key]...) {
			if w.served || w.next != nil || clientOf(&w.ctx).killed.Load() {
				continue
			}
			out, buf := w.ctx.W, redcon.NewWriter(nil)
			w.ctx.W = buf
			before := s.lastLSN
			next := s.retry(w, false)
			w.ctx.W = out
			if next == nil {
				w.served, w.reply = true, buf.Buffer()
				if s.lastLSN > before {
					w.lsn, w.gen = s.lastLSN, s.repl.acks.Gen()
				}
			} else {
				next.ctx.W = out
				w.next = next
			}
			select {
			case w.ready <- struct{}{}:
			default:
			}
		}
	}
	s.readyKeys = s.readyKeys[:0]
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
func (s *Server) park(cl *client, out keyspace.Replier, w *waiter) (timedOut bool) {
	s.settle(cl, out)
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
	case <-s.life.Context().Done():
	}
	return false
}

// retry re-runs a parked command with the lock held. A command that finds
// nothing again stays parked (it blocks again); on timeout the
// command replies its timeout value.
func (s *Server) retry(w *waiter, timedOut bool) *waiter {
	s.unregisterWaiter(w)
	c := w.ctx
	if s.isReplica() {
		// The node was demoted while the client waited: a pop would now
		// be a write on a replica (Redis replies the same).
		c.W.WriteError("UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)")
		return nil
	}
	if s.frozen() {
		// A takeover froze the node: the pop runs on the new primary; the
		// rest of the client's pipeline is refused the same way.
		msg := s.takenOverError()
		clientOf(&c).refused = msg
		c.W.WriteError(msg)
		return nil
	}
	if msg := s.fenceWrite(); msg != "" {
		// The lease ended while the client waited: the pop must not run,
		// nor the rest of the client's pipeline (dispatch.go).
		clientOf(&c).refused = msg
		c.W.WriteError(msg)
		return nil
	}
	// c.Blocked keeps the old waiter while the command runs, telling the
	// handler this is a retry (retried); block replaces it when the
	// command parks again.
	c.Blocked = w
	c.TimedOut = timedOut
	c.Now = time.Now().UnixMilli()
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
	s.wakeAllBlockedLocked()
}

// wakeAllBlockedLocked releases every parked client to retry (the server
// closes, or became a replica); the caller holds s.mu.
func (s *Server) wakeAllBlockedLocked() {
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
func flushReplies(out keyspace.Replier) {
	if conn, ok := out.(redcon.Conn); ok {
		if bw := redcon.BaseWriter(conn); bw != nil {
			bw.Flush()
		}
	}
}
