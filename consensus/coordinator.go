package consensus

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/lifecycle"
	"github.com/batonkv/baton/internal/metricshttp"
	"github.com/batonkv/baton/internal/resplimit"
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

	rs *redcon.Server
	// life owns the background goroutines, the API listener and
	// connections (detached ones too), and the order of Close.
	life *lifecycle.Lifecycle

	leases leaseTable
	// leaderTerm is the current Raft term and whether this member leads in
	// it (Raft.LeaderTerm; tests replace it).
	leaderTerm func() (term uint64, leading bool)
	// apply commits a takeover's steps (Raft.Apply; tests inject results).
	apply  func(ctx context.Context, c Command) (coordapi.Topology, error)
	probes *prober
	// takeoverBusy is set while this member runs a takeover; a takeover
	// record seen while it is clear is an orphan of an earlier leader.
	takeoverBusy atomic.Bool
	metrics      *metrics
	reg          *prometheus.Registry

	// web serves /metrics and /healthz (metrics.go), nil when off.
	webMu sync.Mutex
	web   *metricshttp.Server
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
	c := &Service{
		cfg: cfg, log: cfg.Logger.With("component", "coordinator", "id", cfg.ID), raft: r,
		life: lifecycle.New(),
	}
	c.leaderTerm = r.LeaderTerm
	c.apply = r.Apply
	c.metrics = m
	c.reg = m.register(c)
	c.probes = newProber(c)
	// Close hooks run last registered first: the probes' connections are
	// closed, then Raft, opened first, is shut down last.
	c.life.OnClose(c.raft.Close)
	c.life.OnClose(func() error {
		c.probes.close()
		return nil
	})
	c.rs = redcon.NewServerNetwork("tcp", cfg.APIAddr, redcon.HandlerFunc(c.serveRESP), c.accept, c.closedConn)
	c.life.Go(c.leaderLoop)
	return c, nil
}

// Raft exposes the member's Raft (tests and the ctl tooling).
func (c *Service) Raft() *Raft { return c.raft }

// Serve serves the RESP API on ln (and HTTP when configured) until Close.
func (c *Service) Serve(ln net.Listener) error {
	return c.life.Serve(ln, c.rs, func(ln net.Listener) error {
		if c.cfg.HTTPAddr != "" {
			if err := c.serveHTTP(); err != nil {
				return err
			}
		}
		if c.cfg.Join != "" {
			c.life.Go(c.joinLoop)
		}
		// The node's input limits, pre-authentication bounds included:
		// the API is as exposed as a node's client port.
		return c.rs.Serve(resplimit.Listener{Listener: ln, Limits: resplimit.Defaults()})
	})
}

// Addr is the API listener's address once Serve has started.
func (c *Service) Addr() net.Addr { return c.life.Addr() }

// Close stops background work and serving, closes every API connection,
// stops the metrics server, waits for the background goroutines, closes
// the probes' connections and shuts Raft down: the lifecycle's order
// (internal/lifecycle).
func (c *Service) Close() error { return c.life.Close() }

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
