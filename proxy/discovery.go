package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"
)

// pollInterval is how often each coordinator is asked for the topology.
const pollInterval = 200 * time.Millisecond

// topology is the part of a coordinator's topology record the proxy acts on.
type topology struct {
	// Epoch only grows; the proxy follows the highest it has seen.
	Epoch uint64 `json:"epoch"`
	// Primary is the node id of the primary of Epoch ("" during a failover).
	Primary string `json:"primary"`
	// Members are the registered nodes and their advertised addresses.
	Members []struct {
		ID   string `json:"id"`
		Addr string `json:"addr"`
	} `json:"members"`
}

// primaryAddr is the advertised address of the primary ("" when none).
func (t *topology) primaryAddr() string {
	for _, m := range t.Members {
		if m.ID == t.Primary {
			return m.Addr
		}
	}
	return ""
}

// primary returns the current primary address ("" when none is known) and
// a channel closed at the next change.
func (p *Proxy) primary() (string, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.primaryAddr, p.changed
}

// setPrimaryLocked records a new primary and wakes every held command.
// p.mu must be held.
func (p *Proxy) setPrimaryLocked(addr string) {
	if addr == p.primaryAddr {
		return
	}
	p.log.Info("primary changed", "from", p.primaryAddr, "to", addr, "epoch", p.epoch)
	p.primaryAddr = addr
	close(p.changed)
	p.changed = make(chan struct{})
}

// SetBackend points the proxy at a new primary address by hand, as the
// static configuration does. Held commands are released to it at once.
// It is meant for a proxy without coordinators (and for tests).
func (p *Proxy) SetBackend(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setPrimaryLocked(addr)
}

// observe folds one coordinator's answer into the proxy's view: only a
// strictly higher epoch changes the primary, so a lagging coordinator can
// never move the proxy back to an old primary.
func (p *Proxy) observe(t topology) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.haveEpoch && t.Epoch <= p.epoch {
		return
	}
	p.epoch, p.haveEpoch = t.Epoch, true
	p.setPrimaryLocked(t.primaryAddr())
}

// refresh asks every coordinator poller to poll now (a backend told us the
// role may have changed). Without coordinators it does nothing.
func (p *Proxy) refresh() {
	for _, ch := range p.kick {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// pollCoordinator polls one coordinator with BATON.TOPOLOGY LOCAL (answered
// by any member, leader or not) every pollInterval or when kicked, until the
// proxy closes.
func (p *Proxy) pollCoordinator(addr string, kick <-chan struct{}) {
	defer p.wg.Done()
	var c *coordConn
	defer func() {
		if c != nil {
			c.nc.Close()
		}
	}()
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		var err error
		if c == nil {
			c, err = p.dialCoord(addr)
		}
		if err == nil {
			var top topology
			top, err = c.topology()
			if err == nil {
				p.observe(top)
			} else {
				c.nc.Close()
				c = nil
			}
		}
		if err != nil {
			p.log.Debug("poll coordinator", "addr", addr, "err", err)
		}
		select {
		case <-p.done:
			return
		case <-t.C:
		case <-kick:
		}
	}
}

// coordConn is one open, authenticated connection to a coordinator.
type coordConn struct {
	nc net.Conn
	rr *respReader
}

// dialCoord connects to a coordinator and authenticates with the cluster
// secret. The connection is registered so Close can interrupt it.
func (p *Proxy) dialCoord(addr string) (*coordConn, error) {
	ctx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(p.ctx, cancel)
	defer stop()
	defer cancel()
	nc, rr, err := dialRESP(ctx, addr, p.cfg.ClusterSecret)
	if err != nil {
		return nil, fmt.Errorf("coordinator %s: %w", addr, err)
	}
	return &coordConn{nc: nc, rr: rr}, nil
}

// topology sends BATON.TOPOLOGY LOCAL and decodes the JSON reply.
func (c *coordConn) topology() (topology, error) {
	var t topology
	c.nc.SetDeadline(time.Now().Add(dialTimeout))
	defer c.nc.SetDeadline(time.Time{})
	reply, err := roundTrip(c.nc, c.rr, encodeStrings("BATON.TOPOLOGY", "LOCAL"))
	if err != nil {
		return t, fmt.Errorf("BATON.TOPOLOGY: %w", err)
	}
	body, ok := bulkBody(reply)
	if !ok {
		return t, fmt.Errorf("BATON.TOPOLOGY: unexpected reply %q", reply)
	}
	if err := json.Unmarshal(body, &t); err != nil {
		return t, fmt.Errorf("BATON.TOPOLOGY: decode: %w", err)
	}
	return t, nil
}

// bulkBody returns the payload of a raw bulk-string reply.
func bulkBody(raw []byte) ([]byte, bool) {
	if len(raw) < 4 || raw[0] != '$' {
		return nil, false
	}
	for i := 1; i < len(raw)-1; i++ {
		if raw[i] == '\r' && raw[i+1] == '\n' {
			body := raw[i+2:]
			if len(body) < 2 {
				return nil, false
			}
			return body[:len(body)-2], true
		}
	}
	return nil, false
}
