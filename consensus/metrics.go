package consensus

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the coordinator's Prometheus metrics (one registry per
// coordinator, so several can run in one test process).
type metrics struct {
	failovers     prometheus.Counter
	leasesGranted prometheus.Counter
	leaseRefusals prometheus.Counter
	nodeUp        *prometheus.GaugeVec
	takeovers     *prometheus.CounterVec
	takeoverStep  *prometheus.HistogramVec
}

// newMetrics registers the coordinator's metrics on reg.
func newMetrics(reg *prometheus.Registry, c *Service) *metrics {
	m := &metrics{
		failovers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baton_coordinator_failovers_total", Help: "Primary changes this member committed as leader.",
		}),
		leasesGranted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baton_coordinator_leases_granted_total", Help: "Write lease renewals granted to primaries.",
		}),
		leaseRefusals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baton_coordinator_lease_refusals_total", Help: "Write lease renewals refused (not the primary of the current epoch, or being moved).",
		}),
		nodeUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "baton_coordinator_node_up", Help: "1 when the node answered the leader's last probe.",
		}, []string{"node"}),
		takeovers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_coordinator_takeovers_total", Help: "Coordinated takeovers this member ran as leader, by outcome (committed, rolled_back).",
		}, []string{"outcome"}),
		takeoverStep: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "baton_coordinator_takeover_step_seconds", Help: "Duration of each takeover step (intent, freeze, parity, commit, promoted).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"step"}),
	}
	reg.MustRegister(m.failovers, m.leasesGranted, m.leaseRefusals, m.nodeUp, m.takeovers, m.takeoverStep,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "baton_coordinator_is_leader", Help: "1 on the Raft leader.",
		}, func() float64 {
			if c.raft.IsLeader() {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "baton_coordinator_epoch", Help: "The committed primary epoch this member applied.",
		}, func() float64 { return float64(c.raft.Local().Epoch) }),
	)
	return m
}

// setNodeUp records a probe result.
func (m *metrics) setNodeUp(node string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	m.nodeUp.WithLabelValues(node).Set(v)
}

// serveHTTP serves /metrics and /healthz on cfg.HTTPAddr.
func (c *Service) serveHTTP() error {
	ln, err := net.Listen("tcp", c.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen http %s: %w", c.cfg.HTTPAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(c.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		leader, _ := c.raft.Leader()
		t := c.raft.Local()
		w.Header().Set("Content-Type", "application/json")
		if leader == "" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(map[string]any{
			"id": c.cfg.ID, "leader": leader, "is_leader": c.raft.IsLeader(), "epoch": t.Epoch, "primary": t.Primary,
		})
	})
	c.httpSv = &http.Server{Handler: mux}
	if !c.own() {
		ln.Close()
		return nil
	}
	go func() {
		defer c.wg.Done()
		c.httpSv.Serve(ln)
	}()
	return nil
}
