package proxy

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/resp"
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
		p.life.Go(func(context.Context) { p.watchCoordinator(l) })
		if !p.cfg.noPoll {
			p.life.Go(func(context.Context) { p.pollCoordinator(l) })
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
	p.life.Go(func(ctx context.Context) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(retireGrace):
		}
		p.mu.Lock()
		again := p.primaryAddr == old || p.lastPrimary == old
		p.mu.Unlock()
		if !again {
			pl.breakConns()
		}
	})
}

// setBackend points the proxy at a new primary address by hand, as the
// static configuration does; held commands are released to it at once.
// The tests move a coordinator-less proxy with it.
func (p *Proxy) setBackend(addr string) {
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
func (p *Proxy) observe(t coordapi.Topology) {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := coordapi.Topology{Epoch: p.epoch, Version: p.topoVersion}
	if p.haveEpoch && seen.NewerThan(t) {
		return
	}
	newer := !p.haveEpoch || t.NewerThan(seen)
	p.epoch, p.topoVersion, p.haveEpoch = t.Epoch, t.Version, true
	p.members = t.MemberAddrs()
	if newer {
		p.setPrimaryLocked(heldPrimaryAddr(t))
	}
}

// heldPrimaryAddr is the address commands go to: the primary's, or ""
// while a takeover hands the role over (the primary is about to refuse
// them with -TAKENOVER: they are held instead) or the shard has none.
func heldPrimaryAddr(t coordapi.Topology) string {
	if t.InTakeover() {
		return ""
	}
	return t.PrimaryAddr()
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
	var c *resp.Conn
	defer func() {
		if c != nil {
			c.Close()
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
		case <-p.ctx().Done():
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
func (p *Proxy) pollOnce(addr string, c *resp.Conn) *resp.Conn {
	var err error
	if c == nil {
		c, err = p.dialCoord(addr)
	}
	if err == nil {
		var top coordapi.Topology
		if top, err = p.localTopology(c); err == nil {
			p.observe(top)
			return c
		}
		c.Close()
	}
	p.log.Debug("poll coordinator", "addr", addr, "err", err)
	return nil
}

// dialCoord connects to a coordinator and authenticates with the cluster
// secret, within dialTimeout; Close interrupts a dial in progress.
func (p *Proxy) dialCoord(addr string) (*resp.Conn, error) {
	ctx, cancel := context.WithTimeout(p.ctx(), dialTimeout)
	defer cancel()
	c, err := resp.Dial(ctx, addr, p.cfg.ClusterSecret)
	if err != nil {
		return nil, fmt.Errorf("coordinator %s: %w", addr, err)
	}
	return c, nil
}

// localTopology sends BATON.TOPOLOGY LOCAL over c and decodes the record.
func (p *Proxy) localTopology(c *resp.Conn) (coordapi.Topology, error) {
	ctx, cancel := context.WithTimeout(p.ctx(), dialTimeout)
	defer cancel()
	v, err := c.Do(ctx, coordapi.CmdTopology, "LOCAL")
	if err != nil {
		return coordapi.Topology{}, fmt.Errorf("%s: %w", coordapi.CmdTopology, err)
	}
	t, err := coordapi.FromReply(v)
	if err != nil {
		return coordapi.Topology{}, fmt.Errorf("%s: %w", coordapi.CmdTopology, err)
	}
	return t, nil
}
