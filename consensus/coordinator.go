package consensus

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/internal/metricshttp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tidwall/redcon"
)

// leaseMargin is what the coordinator adds to every lease before it treats
// it as expired: a bound on how much faster the node's monotonic clock may
// run than this one's over one lease (clock-rate error, far below 1 % on
// any sane host, plus scheduling slack). See consensus/DESIGN.md.
func leaseMargin(lease time.Duration) time.Duration {
	return lease/10 + 20*time.Millisecond
}

// Service is one member of the coordinator group.
type Service struct {
	cfg  Config
	log  *slog.Logger
	raft *Raft

	rs   *redcon.Server
	lnMu sync.Mutex
	ln   net.Listener

	leases leaseTable
	probes *prober
	// takeoverBusy is set while this member runs a takeover; a takeover
	// record seen while it is clear is an orphan of an earlier leader.
	takeoverBusy atomic.Bool
	metrics      *metrics
	reg          *prometheus.Registry

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// conns are the API connections, closed by Close (detached ones too);
	// web serves /metrics and /healthz (metrics.go), nil when off.
	connsMu sync.Mutex
	conns   map[*apiConn]struct{}
	closed  bool
	web     *metricshttp.Server
}

// New opens the member's Raft state (bootstrapping a fresh group from Peers
// once) and returns a coordinator ready to Serve.
func New(cfg Config) (*Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := newMetrics()
	r, err := OpenRaft(RaftConfig{
		ID: cfg.ID, RaftAddr: cfg.RaftAddr, APIAddr: cfg.APIAddr, Dir: cfg.Dir, Peers: cfg.Peers,
		Logger: cfg.Logger, HeartbeatTimeout: cfg.HeartbeatTimeout, ElectionTimeout: cfg.ElectionTimeout,
		LeaderLeaseTimeout: cfg.HeartbeatTimeout / 2, AddressProvider: cfg.AddressProvider,
		OnApply: m.observeApply, OnLeaderChange: m.leaderChanges.Inc,
	})
	if err != nil {
		return nil, fmt.Errorf("coordinator %s: %w", cfg.ID, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Service{
		cfg: cfg, log: cfg.Logger.With("component", "coordinator", "id", cfg.ID), raft: r,
		ctx: ctx, cancel: cancel, conns: make(map[*apiConn]struct{}),
	}
	c.metrics = m
	c.reg = m.register(c)
	c.probes = newProber(c)
	c.rs = redcon.NewServerNetwork("tcp", cfg.APIAddr, redcon.HandlerFunc(c.serveRESP), c.accept, c.closedConn)
	c.goBackground(c.leaderLoop)
	return c, nil
}

// Raft exposes the member's Raft (tests and the ctl tooling).
func (c *Service) Raft() *Raft { return c.raft }

// Serve serves the RESP API on ln (and HTTP when configured) until Close.
func (c *Service) Serve(ln net.Listener) error {
	c.lnMu.Lock()
	c.ln = ln
	c.lnMu.Unlock()
	if c.cfg.HTTPAddr != "" {
		if err := c.serveHTTP(); err != nil {
			return err
		}
	}
	if c.cfg.Join != "" {
		c.goBackground(c.joinLoop)
	}
	return c.rs.Serve(ln)
}

// Addr is the API listener's address once Serve has started.
func (c *Service) Addr() net.Addr {
	c.lnMu.Lock()
	defer c.lnMu.Unlock()
	if c.ln == nil {
		return nil
	}
	return c.ln.Addr()
}

// Close stops serving, closes every API connection, stops background work
// and shuts Raft down.
func (c *Service) Close() error {
	c.connsMu.Lock()
	if c.closed {
		c.connsMu.Unlock()
		return nil
	}
	c.closed = true
	for ac := range c.conns {
		ac.nc.Close()
	}
	web := c.web
	c.connsMu.Unlock()
	c.cancel()
	c.lnMu.Lock()
	ln := c.ln
	c.lnMu.Unlock()
	if ln != nil {
		c.rs.Close()
		ln.Close()
	}
	if web != nil {
		web.Close()
	}
	c.wg.Wait()
	c.probes.close()
	return c.raft.Close()
}

// goBackground runs fn on a goroutine owned by the coordinator.
func (c *Service) goBackground(fn func(ctx context.Context)) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		fn(c.ctx)
	}()
}

// own registers one more owned goroutine unless Close has begun.
func (c *Service) own() bool {
	c.connsMu.Lock()
	defer c.connsMu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	return true
}

// leaderAPIAddr is the API address of the current Raft leader, if known.
func (c *Service) leaderAPIAddr() string {
	id, _ := c.raft.Leader()
	if id == "" {
		return ""
	}
	if co, ok := c.raft.Local().Coordinator(id); ok && co.APIAddr != "" {
		return co.APIAddr
	}
	for _, p := range c.cfg.Peers {
		if p.ID == id {
			return p.APIAddr
		}
	}
	return ""
}
