package coord

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/coordapi"
)

const (
	// pollInterval is how often the topology is polled besides the watch
	// stream.
	pollInterval = time.Second
	// requestTimeout bounds one REGISTER or TOPOLOGY request.
	requestTimeout = 2 * time.Second
	// watchIdle reopens a watch stream that was silent this long (a
	// black-holed connection would otherwise look healthy forever);
	// coordinators repeat the topology every second on an idle stream.
	watchIdle = 3 * time.Second
	// retryMin is the first delay before a failed reconcile is retried.
	retryMin = 50 * time.Millisecond
	// backoffMin and backoffMax bound retry backoff.
	backoffMin = 100 * time.Millisecond
	backoffMax = 2 * time.Second
)

// Config is what a Coordinator needs of the node's configuration.
type Config struct {
	// Coordinators are the coordinator group's RESP API addresses (at
	// least one).
	Coordinators []string
	// Secret, when set, is sent with AUTH to the coordinators.
	Secret string
	// NodeID is this node's id in the topology.
	NodeID string
	// Advertise is the address registered for this node; "" means the
	// listener's (DefaultAdvertise).
	Advertise string
	// ReplicationAddr, when set, is registered as the address replicas
	// dial to replicate from this node.
	ReplicationAddr string
	// AckedLSN, when set, is the highest LSN the node's --sync-replicas
	// replicas acknowledged (0 without --sync-replicas); every lease
	// renewal reports it, and the coordinators promote no replica behind
	// it.
	AckedLSN func() uint64
	// SyncReplicas is the node's --sync-replicas, reported with AckedLSN.
	SyncReplicas int
}

// Coordinator runs a coordinated node's coordination: registration, the
// topology watch and poll, reconciliation, the write lease and its fence.
type Coordinator struct {
	cfg      Config
	node     Node
	log      *slog.Logger
	leaseLog *LeaseLog
	// advertise is the address registered for this node; set by
	// DefaultAdvertise when the listener is known and read by the
	// reconciler, hence atomic.
	advertise atomic.Pointer[string]
	// lease is the write lease.
	lease *Lease
	// poll asks the reconcile loop to poll the topology now.
	poll chan struct{}
	// topos carries records from the watch stream to the reconcile loop
	// (the newest replaces one not yet taken).
	topos chan coordapi.Topology
}

// New returns the Coordinator of node n, which logs lease windows to
// leaseLog (nil: none). Run starts it.
func New(cfg Config, n Node, leaseLog *LeaseLog, log *slog.Logger) *Coordinator {
	c := &Coordinator{
		cfg:      cfg,
		node:     n,
		log:      log,
		leaseLog: leaseLog,
		lease:    newLease(),
		poll:     make(chan struct{}, 1),
		topos:    make(chan coordapi.Topology, 1),
	}
	addr := cfg.Advertise
	c.advertise.Store(&addr)
	return c
}

// Lease is the node's write lease.
func (c *Coordinator) Lease() *Lease { return c.lease }

// advertised is the address registered for this node.
func (c *Coordinator) advertised() string { return *c.advertise.Load() }

// DefaultAdvertise makes listenAddr, the address the node listens on, the
// one registered for it unless the configuration named one. Call it before
// Run, once the node serves.
func (c *Coordinator) DefaultAdvertise(listenAddr string) {
	if c.advertised() != "" {
		return
	}
	c.advertise.Store(&listenAddr)
	if host, _, err := net.SplitHostPort(listenAddr); err == nil {
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			c.log.Warn("advertising a wildcard address to the coordinators; set --advertise-addr",
				"addr", listenAddr)
		}
	}
}

// Run registers with the coordinators, then follows their topology and
// renews the write lease while it leads, until ctx ends.
func (c *Coordinator) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, fn := range []func(context.Context){c.reconcileLoop, c.watchLoop, c.renewLoop} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(ctx)
		}()
	}
	wg.Wait()
}

// reconcileLoop registers, then reconciles every record from the watch
// stream and from a poll every second (or at once when asked).
func (c *Coordinator) reconcileLoop(ctx context.Context) {
	cc := coordapi.NewClient(c.cfg.Coordinators, c.cfg.Secret)
	defer cc.Close()
	if !c.register(ctx, cc) {
		return
	}
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	// A failed reconcile is retried after retryDelay (50 ms, doubling up
	// to the poll interval) with the newest record seen.
	var last coordapi.Topology
	var retry <-chan time.Time
	retryDelay := retryMin
	apply := func(t coordapi.Topology) {
		last = t
		if c.Reconcile(t) {
			retry = time.After(retryDelay)
			retryDelay = min(2*retryDelay, pollInterval)
			return
		}
		retry, retryDelay = nil, retryMin
	}
	for {
		select {
		case <-ctx.Done():
			return
		case t := <-c.topos:
			apply(t)
			continue
		case <-retry:
			apply(last)
			continue
		case <-tick.C:
		case <-c.poll:
		}
		t, err := c.request(ctx, cc, coordapi.CmdTopology)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.log.Debug("topology poll failed", "err", err)
			continue
		}
		apply(t)
	}
}

// register sends BATON.REGISTER until it succeeds and reconciles the
// record it replies; false when ctx ended first.
func (c *Coordinator) register(ctx context.Context, cc *coordapi.Client) bool {
	for attempt := 0; ; attempt++ {
		args := []string{coordapi.CmdRegister, c.cfg.NodeID, c.advertised()}
		if c.cfg.ReplicationAddr != "" {
			args = append(args, c.cfg.ReplicationAddr)
		}
		t, err := c.request(ctx, cc, args...)
		if err == nil {
			c.log.Info("registered with the coordinators", "node_id", c.cfg.NodeID, "addr", c.advertised(),
				"epoch", t.Epoch, "primary", t.Primary)
			c.Reconcile(t)
			return true
		}
		c.log.Warn("register with the coordinators failed; retrying", "err", err)
		if !sleepCtx(ctx, backoff(attempt)) {
			return false
		}
	}
}

// request sends a topology request bounded by requestTimeout.
func (c *Coordinator) request(ctx context.Context, cc *coordapi.Client, args ...string) (coordapi.Topology, error) {
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	return cc.Topology(rctx, args...)
}

// pollSoon asks for an immediate topology poll.
func (c *Coordinator) pollSoon() {
	select {
	case c.poll <- struct{}{}:
	default:
	}
}

// backoff is the delay before retry number attempt (0-based), doubling
// from backoffMin up to backoffMax.
func backoff(attempt int) time.Duration {
	d := backoffMin
	for i := 0; i < attempt && d < backoffMax; i++ {
		d *= 2
	}
	return min(d, backoffMax)
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
