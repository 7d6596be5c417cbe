package consensus

import (
	"net"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/metricshttp"
	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the coordinator's Prometheus metrics, all declared here
// (docs/OPERATIONS.md lists them): one registry per coordinator, so several
// can run in one test process. Raft's state is read at scrape time.
type metrics struct {
	failovers     *prometheus.CounterVec
	leasesGranted prometheus.Counter
	leaseRefusals prometheus.Counter
	nodeUp        *prometheus.GaugeVec
	probes        *prometheus.CounterVec
	takeovers     *prometheus.CounterVec
	takeoverStep  *prometheus.HistogramVec
	leaderChanges prometheus.Counter
	apply         *prometheus.HistogramVec
}

// Outcomes of a failover attempt (the outcome label of failovers_total).
const (
	failoverCommitted   = "committed"    // epoch+1 committed with a new primary
	failoverNoCandidate = "no_candidate" // no replica may take over (yet)
	failoverFailed      = "failed"       // the commit failed or its outcome is unknown
)

// newMetrics creates the coordinator's instruments (before Raft starts: it
// reports its applies and leader changes from the start).
func newMetrics() *metrics {
	m := &metrics{
		failovers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_coordinator_failovers_total",
			Help: "Failover attempts this member ran as leader (unplanned, or BATON.FAILOVER), by outcome: committed, no_candidate (retried every probe interval while the primary stays down), failed.",
		}, []string{"outcome"}),
		leasesGranted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baton_coordinator_leases_granted_total", Help: "Write lease renewals granted to primaries.",
		}),
		leaseRefusals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baton_coordinator_lease_refusals_total", Help: "Write lease renewals refused (not the primary of the current epoch, or being moved).",
		}),
		nodeUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "baton_coordinator_node_up", Help: "1 when the node answered the leader's last probe.",
		}, []string{"node"}),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_coordinator_probes_total", Help: "Probes (ROLE) this member sent as leader, by node and result (ok, error).",
		}, []string{"node", "result"}),
		takeovers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_coordinator_takeovers_total", Help: "Coordinated takeovers this member ran as leader, by outcome: committed, rolled_back, refused (not possible at all: no primary, no synced target...).",
		}, []string{"outcome"}),
		takeoverStep: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "baton_coordinator_takeover_step_seconds", Help: "Duration of each takeover step (intent, freeze, parity, commit, promoted).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"step"}),
		leaderChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baton_coordinator_raft_leader_changes_total", Help: "Times this member saw a new Raft leader elected (itself or another).",
		}),
		apply: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "baton_coordinator_raft_apply_duration_seconds",
			Help:    "Time for a topology command this member proposed as leader to be committed by the group and applied, by result: committed (FSM refusals included), failed (not the leader, timeout, outcome unknown).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"result"}),
	}
	for _, o := range []string{failoverCommitted, failoverNoCandidate, failoverFailed} {
		m.failovers.WithLabelValues(o)
	}
	for _, o := range []string{"committed", "rolled_back", "refused"} {
		m.takeovers.WithLabelValues(o)
	}
	for _, step := range []string{"intent", "freeze", coordapi.StepParity, "commit", "promoted"} {
		m.takeoverStep.WithLabelValues(step)
	}
	m.apply.WithLabelValues("committed")
	m.apply.WithLabelValues("failed")
	return m
}

// raftStates are the values of the state label of raft_state.
var raftStates = []raft.RaftState{raft.Follower, raft.Candidate, raft.Leader, raft.Shutdown}

// register registers the metrics, those read from c's Raft at scrape time,
// and the Go runtime's and the process's, on a new registry.
func (m *metrics) register(c *Service) *prometheus.Registry {
	reg := metricshttp.NewRegistry()
	reg.MustRegister(m.failovers, m.leasesGranted, m.leaseRefusals, m.nodeUp, m.probes, m.takeovers, m.takeoverStep,
		m.leaderChanges, m.apply,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "baton_coordinator_is_leader", Help: "1 on the Raft leader.",
		}, func() float64 { return boolGauge(c.raft.IsLeader()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "baton_coordinator_epoch", Help: "The committed primary epoch this member applied.",
		}, func() float64 { return float64(c.raft.Local().Epoch) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "baton_coordinator_raft_term", Help: "This member's current Raft term.",
		}, func() float64 { return float64(c.raft.raft.CurrentTerm()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "baton_coordinator_raft_commit_index", Help: "The latest Raft log index this member knows committed.",
		}, func() float64 { return float64(c.raft.raft.CommitIndex()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "baton_coordinator_raft_applied_index", Help: "The latest Raft log index this member applied to its topology.",
		}, func() float64 { return float64(c.raft.raft.AppliedIndex()) }),
	)
	for _, st := range raftStates {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "baton_coordinator_raft_state", Help: "1 for this member's Raft state (follower, candidate, leader, shutdown), 0 for the others.",
			ConstLabels: prometheus.Labels{"state": stateName(st)},
		}, func() float64 { return boolGauge(c.raft.raft.State() == st) }))
	}
	return reg
}

// stateName is a Raft state as the state label says it.
func stateName(st raft.RaftState) string {
	switch st {
	case raft.Follower:
		return "follower"
	case raft.Candidate:
		return "candidate"
	case raft.Leader:
		return "leader"
	}
	return "shutdown"
}

// boolGauge is 1 for true, 0 for false.
func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// setNodeUp records a probe result.
func (m *metrics) setNodeUp(node string, up bool) {
	result := "error"
	if up {
		result = "ok"
	}
	m.nodeUp.WithLabelValues(node).Set(boolGauge(up))
	m.probes.WithLabelValues(node, result).Inc()
}

// observeApply records one Raft Apply (RaftConfig.OnApply).
func (m *metrics) observeApply(took time.Duration, err error) {
	result := "committed"
	if err != nil {
		result = "failed"
	}
	m.apply.WithLabelValues(result).Observe(took.Seconds())
}

// health answers /healthz: 200 while the member knows a Raft leader.
func (c *Service) health() (bool, any) {
	leader, _ := c.raft.Leader()
	t := c.raft.Local()
	return leader != "", map[string]any{
		"id": c.cfg.ID, "leader": leader, "is_leader": c.raft.IsLeader(), "epoch": t.Epoch, "primary": t.Primary,
	}
}

// serveHTTP serves /metrics and /healthz on cfg.HTTPAddr until Close.
func (c *Service) serveHTTP() error {
	web, err := metricshttp.Start(c.cfg.HTTPAddr, c.reg, c.health)
	if err != nil {
		return err
	}
	c.webMu.Lock()
	c.web = web
	c.webMu.Unlock()
	// Stopped before the background goroutines are waited for (at once
	// when Close has begun).
	c.life.OnStop(func() { web.Close() })
	return nil
}

// HTTPAddr is the address /metrics and /healthz are served on (nil until
// Serve, or when Config.HTTPAddr is empty).
func (c *Service) HTTPAddr() net.Addr {
	c.webMu.Lock()
	defer c.webMu.Unlock()
	if c.web == nil {
		return nil
	}
	return c.web.Addr()
}

// Registry is the coordinator's metrics registry (tests and embedding
// programs may gather it directly).
func (c *Service) Registry() *prometheus.Registry { return c.reg }
