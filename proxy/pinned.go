package proxy

import (
	"sync"
	"time"

	"github.com/tidwall/redcon"
)

// maxPinnedEntries bounds the commands a pinned session holds (sent and not
// answered, or answered and waiting behind an earlier one): at the bound
// it stops reading the client until replies go out.
const maxPinnedEntries = 1024

// maxEventBatch is how many buffered backend replies travel in one event,
// so a pipeline's replies reach the client in few writes.
const maxEventBatch = 64

// pinnedSession is a client that owns a backend connection: from the
// command that pinned it (MULTI, WATCH, SUBSCRIBE, a blocking pop, CLIENT
// SETNAME, SELECT...) until it leaves.
//
// One goroutine (run) owns the session's state. It reads the client's
// commands (from a reader goroutine, so a client that leaves while a pop
// waits is noticed and its backend connection closed) and the backend's
// replies (from a reader goroutine), matches replies to commands in FIFO
// order, and writes replies to the client in command order.
//
// When the primary changes (the proxy follows a new one, the backend
// refuses a command with -TAKENOVER/-READONLY/-TRYAGAIN/-UNBLOCKED, or the
// connection breaks), the session moves to the new primary: it restores the
// client's name, database and subscriptions there first, then replays what
// did not run (a pop with what is left of its timeout) and answers what may
// have run (a write without a reply) with replyAmbiguous. A transaction or
// WATCH open across the switch fails (see txView).
type pinnedSession struct {
	p    *Proxy
	dc   redcon.DetachedConn
	c    *client
	quit chan struct{} // closed by close
	once sync.Once
	// wg owns the client reader and the backend readers and writers.
	wg     sync.WaitGroup
	cmds   chan clientEvent
	events chan backendEvent

	// The rest belongs to the run goroutine.

	// be is the backend connection (nil between connections); awaiting
	// are the entries sent on it, in order, whose replies are due.
	be       *pinnedBackend
	awaiting []*entry
	// draining: be is to be replaced (the primary moved, or refused a
	// command) once awaiting is empty; nothing more is sent on it.
	draining bool
	// retireAt: be's address is no longer the proxy's primary, and be is
	// cut at this time if its replies have not all come by then (zero: no
	// retirement due). See retire.
	retireAt time.Time
	// refusedBy is the address that last refused a command, asked again
	// only after a retry interval.
	refusedBy string
	// holdUntil bounds the wait for a primary that takes the commands
	// (zero: no wait in progress).
	holdUntil time.Time
	// entries are the client's commands not yet answered to it, in order;
	// npending counts those with status entryPending.
	entries  []*entry
	npending int
	// view is the transaction state after the last entry.
	view txView
	// state is the connection state confirmed by the backend's replies.
	state connState
	// out holds messages pushed to a subscriber, not yet written.
	out []byte
	// w writes to the client (pinned_writer.go).
	w *clientWriter
	// lastAddr is the address of the last backend connection (for logs).
	lastAddr string
}

// clientEvent is one command read from the client, or its end (err).
type clientEvent struct {
	args [][]byte
	err  error
}

// close closes the client connection and stops the session (idempotent;
// Proxy.Close calls it too). It closes the network connection itself, not
// redcon's, whose Close flushes a writer only the run goroutine may use.
func (s *pinnedSession) close() {
	s.once.Do(func() {
		close(s.quit)
		s.dc.NetConn().Close()
	})
}

// pin detaches the client and starts a pinned session that first handles
// cmds (the pinning command and the rest of its pipeline).
func (p *Proxy) pin(conn redcon.Conn, c *client, cmds []redcon.Command) {
	// The arguments point into redcon's read buffer, which the detached
	// connection reuses.
	first := make([][][]byte, len(cmds))
	for i, cmd := range cmds {
		first[i] = copyArgs(cmd.Args)
	}
	c.detached = true
	s := &pinnedSession{
		p: p, dc: conn.Detach(), c: c, quit: make(chan struct{}),
		cmds: make(chan clientEvent, 16), events: make(chan backendEvent, maxEventBatch),
	}
	p.mu.Lock()
	if !p.life.Own() {
		p.mu.Unlock()
		s.close()
		p.releaseClient()
		return
	}
	p.pinned[s] = struct{}{}
	p.mu.Unlock()
	go p.runPinned(s, first)
}

// copyArgs deep-copies command arguments.
func copyArgs(args [][]byte) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = append([]byte(nil), a...)
	}
	return out
}

// runPinned runs a session until the client leaves, the proxy closes, or
// no primary is found for a subscriber.
func (p *Proxy) runPinned(s *pinnedSession, first [][][]byte) {
	defer p.life.Done()
	defer func() {
		s.shutdown()
		p.mu.Lock()
		delete(p.pinned, s)
		p.mu.Unlock()
		p.releaseClient()
	}()
	// Replies written before the pinning command are still buffered.
	if err := s.dc.Flush(); err != nil {
		return
	}
	// From here on the session's writer alone writes to the client.
	s.w = newClientWriter(s.dc.NetConn(), s.c.out, s.quit)
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.w.run()
	}()
	go func() {
		defer s.wg.Done()
		s.readClient()
	}()
	for _, args := range first {
		s.accept(args)
	}
	s.run()
}

// shutdown closes the client and backend connections and waits for the
// session's goroutines.
func (s *pinnedSession) shutdown() {
	s.close()
	if s.be != nil {
		s.be.close()
		s.be = nil
	}
	s.wg.Wait()
}

// readClient reads the client's commands until it leaves or the session
// ends.
func (s *pinnedSession) readClient() {
	for {
		cmd, err := s.dc.ReadCommand()
		ev := clientEvent{err: err}
		if err == nil {
			ev.args = copyArgs(cmd.Args)
		}
		select {
		case s.cmds <- ev:
		case <-s.quit:
			return
		}
		if err != nil {
			return
		}
	}
}

// run is the session's loop; it returns when the session ends.
func (s *pinnedSession) run() {
	for {
		// Commands already read first: a client that left while the
		// session held for a primary must not have its pop sent (a push
		// could be popped for nobody).
		if !s.acceptReady() || !s.deliver() {
			return
		}
		if s.be != nil && s.retireAt.IsZero() {
			if addr, _ := s.p.primary(); addr != "" && addr != s.be.addr {
				// The proxy follows another primary: nothing more is sent
				// on be, and it is cut after retireGrace at the latest.
				s.draining = true
				s.retireAt = time.Now().Add(retireGrace)
			}
		}
		if s.be != nil && s.draining && len(s.awaiting) == 0 {
			s.drop(false)
			continue
		}
		if s.be == nil && (s.npending > 0 || s.state.subscribed()) {
			if !s.connect() && s.state.subscribed() {
				s.deliver()
				return // a subscriber with no primary: as if it broke
			}
			continue
		}
		s.flushPending()
		if !s.wait() {
			return
		}
	}
}

// wait handles the next event(s); false ends the session.
func (s *pinnedSession) wait() bool {
	var cmds <-chan clientEvent
	if len(s.entries) < maxPinnedEntries {
		cmds = s.cmds
	}
	_, changed := s.p.primary()
	var retire <-chan time.Time
	if s.be != nil && !s.retireAt.IsZero() {
		t := time.NewTimer(time.Until(s.retireAt))
		defer t.Stop()
		retire = t.C
	}
	select {
	case ev := <-cmds:
		if ev.err != nil {
			return false
		}
		s.accept(ev.args)
		return s.acceptReady()
	case ev := <-s.events:
		s.onBackend(ev)
	case <-changed:
	case <-retire:
		s.retire()
	case <-s.quit:
		return false
	case <-s.p.ctx().Done():
		return false
	}
	return true
}

// acceptReady takes the commands already read (the rest of a pipeline, to
// go out in the same write), up to the bound; false when the client left.
func (s *pinnedSession) acceptReady() bool {
	for len(s.entries) < maxPinnedEntries {
		select {
		case ev := <-s.cmds:
			if ev.err != nil {
				return false
			}
			s.accept(ev.args)
		default:
			return true
		}
	}
	return true
}

// accept takes a command from the client: the proxy answers its own
// commands (AUTH, HELLO, QUIT...) in place; the rest is routed against the
// transaction state.
func (s *pinnedSession) accept(args [][]byte) {
	if len(args) == 0 {
		return
	}
	e := newEntry(args)
	s.entries = append(s.entries, e)
	if isLocal(e.name, args) {
		reply, quit := s.localReply(e.name, args)
		e.quit = quit
		s.answer(e, reply)
		return
	}
	if refusal, ok := internalRefusal(e.def, args); ok {
		// Answered here, never sent: inside MULTI the transaction goes
		// on without it (Redis would abort it at EXEC).
		s.answer(e, []byte("-"+refusal+"\r\n"))
		return
	}
	s.route(e, s.view)
	s.view = e.post
}

// deliver writes pushed messages and the answered commands at the head of
// the queue to the client; false when the client is gone or asked to quit.
func (s *pinnedSession) deliver() bool {
	quit := false
	n := 0
	for _, e := range s.entries {
		if e.status != entryDone || quit {
			break
		}
		s.out = append(s.out, e.reply...)
		quit = e.quit
		n++
		s.p.met.countPinned(e)
	}
	clear(s.entries[:n])
	s.entries = s.entries[n:]
	if len(s.out) == 0 {
		return !quit
	}
	if s.c.out != nil {
		// A subscriber's pending output is bounded by the pubsub class.
		s.c.out.pubsub.Store(s.state.subscribed())
	}
	ok := s.w.push(s.out)
	s.out = s.out[:0]
	if ok && quit {
		s.w.drain() // the reply to QUIT goes out before the close
	}
	return ok && !quit
}
