package proxy

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/resp"
)

// pinnedBackend is one backend connection of a pinned session, with a
// reader goroutine (replies to the session's events) and a writer
// goroutine (commands from out), so the session never blocks on the
// backend: a backend that stops reading because nobody reads its replies
// cannot deadlock it.
type pinnedBackend struct {
	addr string
	c    *resp.Conn
	// out feeds the writer. Its capacity exceeds the entries a session
	// holds, and each send carries at least one entry that has no reply
	// yet, so a send never blocks.
	out chan []byte
}

// backendEvent is replies (or the end) of a backend connection.
type backendEvent struct {
	be      *pinnedBackend
	replies [][]byte
	err     error
}

// dial connects to addr, restores the client's connection state (name,
// database, subscriptions) and starts the connection's goroutines.
func (s *pinnedSession) dial(addr string) (*pinnedBackend, error) {
	c, err := dialBackend(s.p.ctx(), addr, s.p.cfg.BackendAuth)
	if err != nil {
		return nil, err
	}
	if cmds, n := s.state.restoreCommands(); n > 0 {
		if err := restore(s.p.ctx(), c, cmds, n); err != nil {
			c.Close()
			return nil, fmt.Errorf("restoring the connection state on %s: %w", addr, err)
		}
	}
	be := &pinnedBackend{addr: addr, c: c, out: make(chan []byte, maxPinnedEntries+1)}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.readBackend(be)
	}()
	go func() {
		defer s.wg.Done()
		be.writeLoop()
	}()
	return be, nil
}

// restore sends the state commands and checks their n replies, within
// dialTimeout. A message published between two subscription confirmations
// is dropped: it belongs to the gap of the switch (pub/sub is at most
// once).
func restore(ctx context.Context, c *resp.Conn, cmds []byte, n int) error {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	defer c.Bind(ctx)()
	if _, err := c.NetConn().Write(cmds); err != nil {
		return err
	}
	var r []byte
	for got := 0; got < n; {
		var err error
		if r, err = c.ReadRaw(r[:0]); err != nil {
			return err
		}
		if r[0] == '-' {
			return fmt.Errorf("%s", strings.TrimSpace(string(r[1:])))
		}
		if !isMessage(r) {
			got++
		}
	}
	return nil
}

// readBackend delivers the connection's replies to the session until it
// breaks (or is closed), then one last event with the error. Replies
// already buffered travel together (a pipeline's replies in one event).
func (s *pinnedSession) readBackend(be *pinnedBackend) {
	for {
		ev := backendEvent{be: be}
		for {
			r, err := be.c.ReadRaw(nil)
			if err != nil {
				ev.err = err
				break
			}
			ev.replies = append(ev.replies, r)
			// Stop when the next reply would need a read from the
			// network.
			if be.c.Buffered() == 0 || len(ev.replies) == maxEventBatch {
				break
			}
		}
		select {
		case s.events <- ev:
		case <-s.quit:
			return
		}
		if ev.err != nil {
			return
		}
	}
}

// writeLoop writes commands until out is closed; after a write error it
// closes the connection (the reader reports it) and discards the rest.
func (be *pinnedBackend) writeLoop() {
	failed := false
	for b := range be.out {
		if failed {
			continue
		}
		if _, err := be.c.NetConn().Write(b); err != nil {
			be.c.Close()
			failed = true
		}
	}
}

// close closes the connection and stops its writer.
func (be *pinnedBackend) close() {
	be.c.Close()
	close(be.out)
}

// connect connects the session to the primary, holding (up to the hold
// timeout, counted from the first failure) while none is known or
// reachable. A primary that just refused a command is asked again only
// after the topology changed or a retry interval passed. When the hold
// times out, the commands waiting to be sent are answered with an error.
func (s *pinnedSession) connect() bool {
	p := s.p
	if s.holdUntil.IsZero() {
		s.holdUntil = time.Now().Add(p.cfg.HoldTimeout)
	}
	var lastErr []byte
	var holdStart time.Time
	defer func() { p.met.observeHold(holdStart) }()
	for attempt := 0; ; attempt++ {
		addr, changed := p.primary()
		if addr != "" && (attempt > 0 || addr != s.refusedBy) {
			be, err := s.dial(addr)
			if err == nil {
				s.install(be)
				return true
			}
			if p.ctx().Err() == nil {
				p.met.backendErrors.WithLabelValues(backendDial).Inc()
			}
			p.log.Debug("pinned dial", "addr", addr, "err", err)
			lastErr = []byte("-" + coordapi.ErrCodeTryAgain + " proxy: primary " + addr + " unreachable\r\n")
			p.refresh()
		}
		if holdStart.IsZero() {
			holdStart = time.Now()
		}
		if !p.hold(s.holdUntil, changed, attempt) {
			fail := []byte(replyNoPrimary)
			switch {
			case p.ctx().Err() != nil:
				fail = []byte(replyClosed)
			case lastErr != nil:
				fail = lastErr
			}
			if p.ctx().Err() == nil {
				p.met.holdTimeouts.Add(float64(s.npending))
			}
			s.replan(fail)
			s.holdUntil, s.refusedBy = time.Time{}, ""
			return false
		}
	}
}

// install makes be the session's backend connection.
func (s *pinnedSession) install(be *pinnedBackend) {
	s.be, s.draining, s.refusedBy = be, false, ""
	if s.npending == 0 {
		s.holdUntil = time.Time{}
	}
	if s.lastAddr != "" && s.lastAddr != be.addr {
		s.p.log.Info("pinned client moved to the new primary", "from", s.lastAddr, "to", be.addr,
			"channels", len(s.state.subs), "patterns", len(s.state.psubs), "named", s.state.name != "")
	}
	s.lastAddr = be.addr
}

// drop closes the backend connection. Commands sent on it and not answered
// go back to pending, marked lost when the connection broke (they may have
// run); then every command not answered is routed again (replan).
func (s *pinnedSession) drop(lost bool) {
	s.be.close()
	for _, e := range s.awaiting {
		s.setStatus(e, entryPending)
		e.lost = e.lost || lost
		// Part of a (P)SUBSCRIBE's confirmations may have come: the
		// replay answers all of them again.
		e.reply, e.got = nil, 0
	}
	s.awaiting, s.be, s.draining, s.retireAt = nil, nil, false, time.Time{}
	s.replan(nil)
}

// retire cuts the backend connection to a primary the proxy no longer
// follows, retireGrace after the switch, when replies are still due on it:
// a deposed primary that is alive but never answers (a blocking pop parked
// there, or a node gone silent) must not hold the session forever. The
// shared connections get the same bound (Proxy.retireLocked). Unless the
// old primary is the proxy's primary again by then.
//
// Invariant: a blocking pop at the head of what is due, with no reply yet
// and outside MULTI, is replayed on the new primary (with what is left of
// its timeout) together with the commands behind it, which a connection
// blocked on the pop never ran. The pop did not run on the old primary:
// a live connection delivers a pop's reply well within retireGrace, and a
// deposed primary takes no writes once its lease ran out — which precedes
// the new primary's epoch — so no push can wake the pop after the switch.
// Anything else still due is cut as by a broken connection: a write
// without its reply is answered with replyAmbiguous, an open transaction
// fails at EXEC.
func (s *pinnedSession) retire() {
	s.retireAt = time.Time{}
	addr, _ := s.p.primary()
	if s.be == nil || addr == s.be.addr || len(s.awaiting) == 0 {
		return
	}
	head := s.awaiting[0]
	parkedPop := head.got == 0 && !head.pre.multi && timeoutArg(head.name, len(head.args)) >= 0
	s.p.log.Info("pinned connection to the old primary retired", "addr", s.be.addr, "to", addr,
		"in_flight", len(s.awaiting), "pop_replayed", parkedPop)
	s.drop(!parkedPop)
}

// flushPending sends the pending commands, in client order, as one write.
func (s *pinnedSession) flushPending() {
	if s.be == nil || s.draining || s.npending == 0 {
		return
	}
	var b []byte
	now := time.Now()
	for _, e := range s.entries {
		if e.status != entryPending {
			continue
		}
		var expired bool
		b, expired = e.encode(b, now)
		if expired {
			s.answer(e, []byte(replyPopTimedOut))
			continue
		}
		if e.sends > 0 {
			s.p.met.replayed.Inc()
		}
		e.sends++
		s.setStatus(e, entryAwaiting)
		s.awaiting = append(s.awaiting, e)
	}
	if len(b) > 0 {
		s.be.out <- b
	}
}

// onBackend handles one event of a backend connection (a stale one, from a
// connection already dropped, is ignored).
func (s *pinnedSession) onBackend(ev backendEvent) {
	for _, r := range ev.replies {
		if ev.be != s.be {
			return
		}
		s.onReply(r)
	}
	if ev.err != nil && ev.be == s.be {
		if s.p.ctx().Err() == nil {
			s.p.met.backendError(ev.err)
		}
		s.p.log.Info("pinned backend connection lost", "addr", s.be.addr, "err", ev.err, "in_flight", len(s.awaiting))
		s.p.refresh()
		s.refusedBy = ""
		s.drop(true)
	}
}

// onReply matches one reply of the backend connection to its command.
func (s *pinnedSession) onReply(r []byte) {
	if len(s.awaiting) == 0 || (s.state.subscribed() && isMessage(r)) {
		s.out = append(s.out, r...) // a message pushed to a subscriber
		return
	}
	e := s.awaiting[0]
	if e.got == 0 && notExecuted(r) {
		// Refused before execution: replayed on the next primary once the
		// commands sent after it are answered (draining).
		s.awaiting = s.awaiting[1:]
		s.setStatus(e, entryPending)
		e.lastErr = r
		s.draining, s.refusedBy = true, s.be.addr
		if s.holdUntil.IsZero() {
			s.holdUntil = time.Now().Add(s.p.cfg.HoldTimeout)
		}
		s.p.refresh()
		return
	}
	s.holdUntil = time.Time{}
	e.reply = append(e.reply, r...)
	e.got++
	s.state.apply(e, r)
	if s.state.complete(e, r) {
		s.awaiting = s.awaiting[1:]
		s.setStatus(e, entryDone)
	}
}
