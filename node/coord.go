package node

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/coordapi"
)

// Coordination: with Config.Coordinators set, the coordinator group, not
// REPLICAOF from an operator, decides this node's role. The node
//
//   - registers (BATON.REGISTER id advertise-addr) until it succeeds;
//   - learns topologies from a BATON.WATCH stream to any coordinator and
//     from a BATON.TOPOLOGY poll every second (at once when the watch
//     breaks or the lease is refused);
//   - reconciles each (coord_reconcile.go): adopt the epoch, then lead it
//     (promote, renew the lease) or follow its primary (REPLICAOF v2);
//   - refuses client writes unless it holds the lease (coord_lease.go).
//
// Without coordinators none of this runs and the node behaves as before.

const (
	// coordPollInterval is how often the topology is polled besides the
	// watch stream.
	coordPollInterval = time.Second
	// coordRequestTimeout bounds one REGISTER or TOPOLOGY request.
	coordRequestTimeout = 2 * time.Second
	// coordWatchIdle reopens a watch stream that was silent this long (a
	// black-holed connection would otherwise look healthy forever);
	// coordinators repeat the topology every second on an idle stream.
	coordWatchIdle = 3 * time.Second
	// coordRetryMin is the first delay before a failed reconcile is
	// retried.
	coordRetryMin = 50 * time.Millisecond
	// coordBackoffMin and coordBackoffMax bound retry backoff.
	coordBackoffMin = 100 * time.Millisecond
	coordBackoffMax = 2 * time.Second
)

// coordState is a coordinated node's coordination state; Server.coord is
// nil on a standalone node.
type coordState struct {
	// advertise is the address registered for this node; set once by
	// startCoord (the listening address is known only then) and read by
	// the reconciler, hence atomic.
	advertise atomic.Pointer[string]
	// lease is the write lease.
	lease *leaseHolder
	// poll asks the coordination loop to poll the topology now.
	poll chan struct{}
	// topos carries topologies from the watch stream to the loop (the
	// newest replaces one not yet taken).
	topos chan coordapi.Topology
}

// newCoordState returns the state of a coordinated node, nil when cfg has no
// coordinators.
func newCoordState(cfg Config) *coordState {
	if len(cfg.Coordinators) == 0 {
		return nil
	}
	co := &coordState{
		lease: newLeaseHolder(),
		poll:  make(chan struct{}, 1),
		topos: make(chan coordapi.Topology, 1),
	}
	addr := cfg.AdvertiseAddr
	co.advertise.Store(&addr)
	return co
}

// advertised is the address registered for this node.
func (co *coordState) advertised() string { return *co.advertise.Load() }

// pollSoon asks for an immediate topology poll.
func (co *coordState) pollSoon() {
	select {
	case co.poll <- struct{}{}:
	default:
	}
}

// offer hands a topology from the watch stream to the loop, replacing one
// still waiting (only the newest matters).
func (co *coordState) offer(t coordapi.Topology) {
	for {
		select {
		case co.topos <- t:
			return
		default:
		}
		select {
		case <-co.topos:
		default:
		}
	}
}

// startCoord starts the coordination goroutines once the node serves (so
// the advertised address can default to the listener's).
func (s *Server) startCoord() {
	co := s.coord
	if co == nil {
		return
	}
	if co.advertised() == "" {
		addr := s.cfg.Addr
		if a := s.Addr(); a != nil {
			addr = a.String()
		}
		co.advertise.Store(&addr)
		if host, _, err := net.SplitHostPort(addr); err == nil {
			if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
				s.log.Warn("advertising a wildcard address to the coordinators; set --advertise-addr",
					"addr", addr)
			}
		}
	}
	if !s.ownGoroutines(3) {
		return
	}
	for _, fn := range []func(context.Context){s.coordLoop, s.watchLoop, s.leaseLoop} {
		go func() {
			defer s.wg.Done()
			fn(s.ctx)
		}()
	}
}

// coordLoop registers, then reconciles every topology from the watch
// stream and from a poll every second (or at once when asked).
func (s *Server) coordLoop(ctx context.Context) {
	co := s.coord
	cc := coordapi.NewClient(s.cfg.Coordinators, s.cfg.ClusterSecret)
	defer cc.Close()
	for attempt := 0; ; attempt++ {
		args := []string{coordapi.CmdRegister, s.cfg.NodeID, co.advertised()}
		if s.cfg.ReplicationAddr != "" {
			args = append(args, s.cfg.ReplicationAddr)
		}
		t, err := s.coordRequest(ctx, cc, args...)
		if err == nil {
			s.log.Info("registered with the coordinators", "node_id", s.cfg.NodeID, "addr", co.advertised(),
				"epoch", t.Epoch, "primary", t.Primary)
			s.reconcile(t)
			break
		}
		s.log.Warn("register with the coordinators failed; retrying", "err", err)
		if !sleepCtx(ctx, backoff(attempt)) {
			return
		}
	}
	tick := time.NewTicker(coordPollInterval)
	defer tick.Stop()
	// A failed reconcile is retried after retryDelay (50 ms, doubling up
	// to the poll interval) with the newest topology seen.
	var last coordapi.Topology
	var retry <-chan time.Time
	retryDelay := coordRetryMin
	apply := func(t coordapi.Topology) {
		last = t
		if s.reconcile(t) {
			retry = time.After(retryDelay)
			retryDelay = min(2*retryDelay, coordPollInterval)
			return
		}
		retry, retryDelay = nil, coordRetryMin
	}
	for {
		select {
		case <-ctx.Done():
			return
		case t := <-co.topos:
			apply(t)
			continue
		case <-retry:
			apply(last)
			continue
		case <-tick.C:
		case <-co.poll:
		}
		t, err := s.coordRequest(ctx, cc, coordapi.CmdTopology)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Debug("topology poll failed", "err", err)
			continue
		}
		apply(t)
	}
}

// coordRequest sends a topology request bounded by coordRequestTimeout.
func (s *Server) coordRequest(ctx context.Context, cc *coordapi.Client, args ...string) (coordapi.Topology, error) {
	rctx, cancel := context.WithTimeout(ctx, coordRequestTimeout)
	defer cancel()
	return cc.Topology(rctx, args...)
}

// watchLoop keeps a BATON.WATCH stream open to some coordinator, rotating
// through them with backoff, and hands every pushed topology to coordLoop.
// When a stream breaks, coordLoop polls at once.
func (s *Server) watchLoop(ctx context.Context) {
	co := s.coord
	addrs := s.cfg.Coordinators
	for i, fails := 0, 0; ; i++ {
		got, err := s.watchOnce(ctx, addrs[i%len(addrs)])
		if ctx.Err() != nil {
			return
		}
		co.pollSoon()
		if got {
			fails = 0
		} else {
			fails++
		}
		s.log.Debug("topology watch ended", "coordinator", addrs[i%len(addrs)], "err", err)
		if !sleepCtx(ctx, backoff(fails)) {
			return
		}
	}
}

// watchOnce runs one watch stream until it fails; got reports whether it
// delivered at least one topology.
func (s *Server) watchOnce(ctx context.Context, addr string) (got bool, err error) {
	err = coordapi.Watch(ctx, addr, s.cfg.ClusterSecret, coordRequestTimeout, coordWatchIdle,
		func(t coordapi.Topology) {
			got = true
			s.coord.offer(t)
		})
	return got, err
}

// backoff is the delay before retry number attempt (0-based), doubling
// from coordBackoffMin up to coordBackoffMax.
func backoff(attempt int) time.Duration {
	d := coordBackoffMin
	for i := 0; i < attempt && d < coordBackoffMax; i++ {
		d *= 2
	}
	return min(d, coordBackoffMax)
}

// sleepCtx sleeps d unless ctx ends first; it reports whether it slept.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
