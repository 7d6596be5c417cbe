package proxy

import (
	"io"
	"net"
	"sync"
	"time"

	"github.com/tidwall/redcon"
)

// pinnedSession is a client that owns a backend connection: from the
// command that pinned it (MULTI, WATCH, SUBSCRIBE, a blocking pop, CLIENT
// SETNAME, SELECT...) until it leaves, its bytes are forwarded 1:1 in both
// directions. When the backend connection ends (for example the primary
// changed), the client connection is closed too: its transaction,
// subscriptions or blocked pop cannot silently continue elsewhere.
type pinnedSession struct {
	dc        redcon.DetachedConn
	once      sync.Once
	mu        sync.Mutex
	backend   net.Conn
	closedErr bool
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
// meanwhile (then it closes nc and reports false).
func (s *pinnedSession) setBackend(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closedErr {
		nc.Close()
		return false
	}
	s.backend = nc
	return true
}

// pin detaches the client and starts a pinned session that first sends
// cmds (the pinning command and the rest of its pipeline).
func (p *Proxy) pin(conn redcon.Conn, c *client, cmds []redcon.Command) {
	var pending []byte
	for _, cmd := range cmds {
		pending = encodeCommand(pending, cmd.Args)
	}
	c.detached = true
	s := &pinnedSession{dc: conn.Detach()}
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
		io.Copy(s.dc.NetConn(), nc)
		s.close()
	}()
	var buf []byte
	for {
		cmd, err := s.dc.ReadCommand()
		if err != nil {
			break
		}
		buf = encodeCommand(buf[:0], cmd.Args)
		if _, err := nc.Write(buf); err != nil {
			break
		}
	}
	s.close()
	<-copied
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
