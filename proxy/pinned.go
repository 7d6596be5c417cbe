package proxy

import (
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/redcon"
)

// pinnedSession is a client that owns a backend connection: from the
// command that pinned it (MULTI, WATCH, SUBSCRIBE, a blocking pop, CLIENT
// SETNAME, SELECT...) until it leaves, its commands and replies are
// forwarded in both directions. When the backend connection ends (for
// example the primary changed), a pure subscriber is moved to the new
// primary with its subscriptions; any other client connection is closed:
// its transaction or blocked pop cannot silently continue elsewhere.
type pinnedSession struct {
	dc        redcon.DetachedConn
	once      sync.Once
	mu        sync.Mutex
	moved     *sync.Cond // signalled when backend is replaced
	backend   net.Conn
	closedErr bool
	hold      time.Duration
	// subs and psubs are the client's subscriptions; stateful is set once
	// it used its connection for anything else (see track).
	subs, psubs map[string]bool
	stateful    bool
}

// close closes both sides (idempotent).
func (s *pinnedSession) close() {
	s.once.Do(func() {
		s.dc.Close()
		s.mu.Lock()
		s.closedErr = true
		if s.backend != nil {
			s.backend.Close()
		}
		s.mu.Unlock()
	})
}

// setBackend records the backend connection unless the session was closed
// meanwhile (then it closes nc and reports false); a previous backend is
// replaced (a subscriber moved to a new primary).
func (s *pinnedSession) setBackend(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closedErr {
		nc.Close()
		return false
	}
	s.backend = nc
	s.moved.Broadcast()
	return true
}

// send writes a command to the current backend. A subscriber whose backend
// broke waits (up to the hold timeout) for the connection to the new
// primary and sends it there.
func (s *pinnedSession) send(b []byte) bool {
	s.mu.Lock()
	nc := s.backend
	s.mu.Unlock()
	if _, err := nc.Write(b); err == nil {
		return true
	}
	if _, _, ok := s.resumable(); !ok {
		return false
	}
	deadline := time.Now().Add(s.hold)
	s.mu.Lock()
	for s.backend == nc && !s.closedErr && time.Now().Before(deadline) {
		waitTimeout(s.moved, 50*time.Millisecond)
	}
	nc2, closed := s.backend, s.closedErr
	s.mu.Unlock()
	if closed || nc2 == nc {
		return false
	}
	_, err := nc2.Write(b)
	return err == nil
}

// track follows what a client subscribes to, and whether it ever used its
// connection for anything a new primary could not take over (a transaction,
// a blocking pop, connection state): such a session is not resumable.
func (s *pinnedSession) track(args [][]byte) {
	if len(args) == 0 {
		return
	}
	name := strings.ToLower(string(args[0]))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs == nil {
		s.subs, s.psubs = map[string]bool{}, map[string]bool{}
	}
	set := func(m map[string]bool, on bool) {
		if len(args) == 1 && !on {
			clear(m)
		}
		for _, a := range args[1:] {
			if on {
				m[string(a)] = true
			} else {
				delete(m, string(a))
			}
		}
	}
	switch name {
	case "subscribe":
		set(s.subs, true)
	case "unsubscribe":
		set(s.subs, false)
	case "psubscribe":
		set(s.psubs, true)
	case "punsubscribe":
		set(s.psubs, false)
	case "ping", "quit":
	default:
		s.stateful = true
	}
}

// resumable reports whether the session is a pure subscriber, and what it
// is subscribed to.
func (s *pinnedSession) resumable() (chans, pats []string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stateful || s.closedErr || len(s.subs)+len(s.psubs) == 0 {
		return nil, nil, false
	}
	for ch := range s.subs {
		chans = append(chans, ch)
	}
	for pt := range s.psubs {
		pats = append(pats, pt)
	}
	return chans, pats, true
}

// waitTimeout waits on c (whose lock is held) for at most d.
func waitTimeout(c *sync.Cond, d time.Duration) {
	t := time.AfterFunc(d, c.Broadcast)
	c.Wait()
	t.Stop()
}

// pin detaches the client and starts a pinned session that first sends
// cmds (the pinning command and the rest of its pipeline).
func (p *Proxy) pin(conn redcon.Conn, c *client, cmds []redcon.Command) {
	var pending []byte
	for _, cmd := range cmds {
		pending = encodeCommand(pending, cmd.Args)
	}
	c.detached = true
	s := &pinnedSession{dc: conn.Detach(), hold: p.cfg.HoldTimeout}
	s.moved = sync.NewCond(&s.mu)
	for _, cmd := range cmds {
		s.track(cmd.Args)
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		s.close()
		p.releaseClient()
		return
	}
	p.pinned[s] = struct{}{}
	p.wg.Add(1)
	p.mu.Unlock()
	go p.runPinned(s, pending)
}

// runPinned connects the session to the primary (holding up to
// HoldTimeout for one) and pumps bytes until either side ends.
func (p *Proxy) runPinned(s *pinnedSession, pending []byte) {
	defer p.wg.Done()
	defer func() {
		s.close()
		p.mu.Lock()
		delete(p.pinned, s)
		p.mu.Unlock()
		p.releaseClient()
	}()
	// Replies written before the pinning command are still buffered.
	if err := s.dc.Flush(); err != nil {
		return
	}
	nc := p.dialPrimary()
	if nc == nil {
		s.dc.WriteError("TRYAGAIN proxy: no primary available within the hold timeout")
		s.dc.Flush()
		return
	}
	if !s.setBackend(nc) {
		return
	}
	if _, err := nc.Write(pending); err != nil {
		return
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		p.pumpReplies(s, nc)
	}()
	var buf []byte
	for {
		cmd, err := s.dc.ReadCommand()
		if err != nil {
			break
		}
		s.track(cmd.Args)
		buf = encodeCommand(buf[:0], cmd.Args)
		if !s.send(buf) {
			break
		}
	}
	s.close()
	<-copied
}

// pumpReplies copies the backend's replies and messages to the client.
// When the backend connection ends and the session is a pure subscriber,
// it reconnects to the (new) primary, subscribes again to everything the
// client was subscribed to, swallows those confirmations, and carries on:
// the client keeps its connection and receives what is published after the
// switch. Any other session ends with its backend.
func (p *Proxy) pumpReplies(s *pinnedSession, nc net.Conn) {
	defer s.close()
	io.Copy(s.dc.NetConn(), nc)
	for {
		chans, pats, ok := s.resumable()
		if !ok {
			return
		}
		nc2 := p.dialPrimary()
		if nc2 == nil {
			return
		}
		var b []byte
		for _, ch := range chans {
			b = encodeCommand(b, [][]byte{[]byte("SUBSCRIBE"), []byte(ch)})
		}
		for _, pt := range pats {
			b = encodeCommand(b, [][]byte{[]byte("PSUBSCRIBE"), []byte(pt)})
		}
		rr := newRespReader(nc2)
		if _, err := nc2.Write(b); err != nil {
			nc2.Close()
			continue
		}
		ok = true
		for range len(chans) + len(pats) {
			if _, err := rr.next(); err != nil {
				ok = false
				break
			}
		}
		if !ok || !s.setBackend(nc2) {
			nc2.Close()
			if !ok {
				continue
			}
			return
		}
		p.log.Info("subscriber moved to the new primary", "channels", len(chans), "patterns", len(pats))
		for {
			msg, err := rr.next()
			if err != nil {
				break
			}
			if _, err := s.dc.NetConn().Write(msg); err != nil {
				return
			}
		}
	}
}

// dialPrimary connects to the primary, holding up to HoldTimeout while
// none is known or reachable; nil when none could be reached.
func (p *Proxy) dialPrimary() net.Conn {
	deadline := time.Now().Add(p.cfg.HoldTimeout)
	for {
		addr, changed := p.primary()
		if addr != "" {
			nc, _, err := dialRESP(p.ctx, addr, p.cfg.BackendAuth)
			if err == nil {
				return nc
			}
			p.log.Debug("pinned dial", "addr", addr, "err", err)
			p.refresh()
		}
		if !p.hold(deadline, changed) {
			return nil
		}
	}
}
