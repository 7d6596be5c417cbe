package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync/atomic"
	"time"
)

// Fallback poll intervals of BATON.TOPOLOGY LOCAL on each coordinator. The
// watch stream (watch.go) is the primary source; the poll only covers a
// coordinator whose stream is down (pollInterval) and, slowly, one whose
// stream is up (pollWhileWatching), in case the stream stalls in a way the
// read deadline has not caught yet.
const (
	pollInterval      = 200 * time.Millisecond
	pollWhileWatching = time.Second
)

// topology is the part of a coordinator's topology record the proxy acts on.
type topology struct {
	// Version counts the changes the coordinators applied; it orders two
	// records of one epoch (0 from a coordinator that does not send it).
	Version uint64 `json:"version"`
	// Epoch only grows; the proxy follows the highest it has seen.
	Epoch uint64 `json:"epoch"`
	// Primary is the node id of the primary of Epoch ("" during a failover).
	Primary string `json:"primary"`
	// State is "takeover" while a coordinated takeover moves the primary
	// role: the proxy then holds new commands instead of sending them to
	// a primary that is about to refuse them with -TAKENOVER.
	State string `json:"state"`
	// Members are the registered nodes and their advertised addresses.
	Members []struct {
		ID   string `json:"id"`
		Addr string `json:"addr"`
	} `json:"members"`
}

// primaryAddr is the advertised address of the primary ("" when none, or
// while a takeover is handing the role over: commands are held).
func (t *topology) primaryAddr() string {
	if t.State == "takeover" {
		return ""
	}
	for _, m := range t.Members {
		if m.ID == t.Primary {
			return m.Addr
		}
	}
	return ""
}

// memberAddrs lists the advertised addresses of every member.
func (t *topology) memberAddrs() []string {
	out := make([]string, 0, len(t.Members))
	for _, m := range t.Members {
		out = append(out, m.Addr)
	}
	return out
}

// coordLink is the proxy's link to one coordinator: a watch stream and a
// fallback poller share it.
type coordLink struct {
	addr string
	// kick asks the poller to poll at once (buffered, 1).
	kick chan struct{}
	// watching is set while the watch stream delivers pushes; the poller
	// then slows down to pollWhileWatching.
	watching atomic.Bool
}

// startDiscovery starts, per coordinator, a watch stream and a fallback
// poller (no poller with the test knob noPoll).
func (p *Proxy) startDiscovery() {
	for _, addr := range p.cfg.Coordinators {
		l := &coordLink{addr: addr, kick: make(chan struct{}, 1)}
		p.coords = append(p.coords, l)
		p.wg.Add(1)
		go p.watchCoordinator(l)
		if !p.cfg.noPoll {
			p.wg.Add(1)
			go p.pollCoordinator(l)
		}
	}
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
	if addr != "" {
		// A takeover passes through "" (hold); a switchover is arriving
		// at another primary than the last one.
		if p.lastPrimary != "" && addr != p.lastPrimary {
			p.met.switchovers.Inc()
			p.retireLocked(p.lastPrimary)
		}
		p.lastPrimary = addr
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

// retireGrace is how long the old primary's shared connections keep
// waiting for replies after a switchover. A planned takeover flushes every
// reply before it commits, so they arrive within it; a primary that died
// without a reset (a host or container gone: no RST, just silence) would
// otherwise keep its in-flight commands waiting forever.
const retireGrace = time.Second

// retireLocked breaks the shared connections to old after retireGrace,
// unless old is the primary again by then: their unanswered writes get
// the ambiguous error and their reads are retried on the new primary.
// p.mu must be held.
func (p *Proxy) retireLocked(old string) {
	pl := p.pools[old]
	if pl == nil {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		select {
		case <-p.done:
			return
		case <-time.After(retireGrace):
		}
		p.mu.Lock()
		again := p.primaryAddr == old || p.lastPrimary == old
		p.mu.Unlock()
		if !again {
			pl.breakConns()
		}
	}()
}

// SetBackend points the proxy at a new primary address by hand, as the
// static configuration does. Held commands are released to it at once.
// It is meant for a proxy without coordinators (and for tests).
func (p *Proxy) SetBackend(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setPrimaryLocked(addr)
}

// observe folds one coordinator's answer (a poll or a push) into the
// proxy's view. Only a newer record counts — a higher epoch, or a higher
// version of the same epoch — so a lagging coordinator can never move the
// proxy back to an old primary. Within an epoch the version orders a
// takeover's start (hold: no primary) and its rollback (release to the
// same primary); a registration changes only the member list. A
// coordinator that sends no version (0) moves the primary only with the
// epoch.
func (p *Proxy) observe(t topology) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.haveEpoch && (t.Epoch < p.epoch || t.Epoch == p.epoch && t.Version < p.topoVersion) {
		return
	}
	newer := !p.haveEpoch || t.Epoch > p.epoch || t.Version > p.topoVersion
	p.epoch, p.topoVersion, p.haveEpoch = t.Epoch, t.Version, true
	p.members = t.memberAddrs()
	if newer {
		p.setPrimaryLocked(t.primaryAddr())
	}
}

// refresh asks every coordinator poller to poll now (a backend told us the
// role may have changed). Without coordinators it does nothing.
func (p *Proxy) refresh() {
	for _, l := range p.coords {
		l.poke()
	}
}

// poke asks the link's poller to poll at once.
func (l *coordLink) poke() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// pollCoordinator polls one coordinator with BATON.TOPOLOGY LOCAL (answered
// by any member, leader or not) at once, then every pollInterval while its
// watch stream is down or pollWhileWatching while it is up, and whenever
// kicked, until the proxy closes.
func (p *Proxy) pollCoordinator(l *coordLink) {
	defer p.wg.Done()
	var c *coordConn
	defer func() {
		if c != nil {
			c.nc.Close()
		}
	}()
	for {
		c = p.pollOnce(l.addr, c)
		every := pollInterval
		if l.watching.Load() {
			every = pollWhileWatching
		}
		t := time.NewTimer(every)
		select {
		case <-p.done:
			t.Stop()
			return
		case <-t.C:
		case <-l.kick:
			t.Stop()
		}
	}
}

// pollOnce asks the coordinator at addr for its topology over c (dialing
// when c is nil) and returns the connection to reuse (nil after an error).
func (p *Proxy) pollOnce(addr string, c *coordConn) *coordConn {
	var err error
	if c == nil {
		c, err = p.dialCoord(addr)
	}
	if err == nil {
		var top topology
		if top, err = c.topology(); err == nil {
			p.observe(top)
			return c
		}
		c.nc.Close()
	}
	p.log.Debug("poll coordinator", "addr", addr, "err", err)
	return nil
}

// coordConn is one open, authenticated connection to a coordinator.
type coordConn struct {
	nc net.Conn
	rr *respReader
}

// dialCoord connects to a coordinator and authenticates with the cluster
// secret; Close interrupts a dial in progress.
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
