package node

import (
	"time"

	"github.com/batonkv/baton/node/command"
	"github.com/batonkv/baton/node/repl"
	"github.com/prometheus/client_golang/prometheus"
)

// collector reads the node's state when Prometheus scrapes: the metrics
// whose descriptors metrics.go declares, so nothing is counted twice.
type collector struct{ s *Server }

// newCollector returns the collector of s's state.
func newCollector(s *Server) prometheus.Collector { return collector{s: s} }

// collectorDescs are every descriptor the collector emits.
var collectorDescs = []*prometheus.Desc{
	descCommands, descInfo, descClients, descConnections, descRejected, descRole, descEpoch, descFrozen,
	descLSN, descLease, descLinkState, descReplicas, descReplicaAck, descReplicaLag, descReplicaAge,
	descSyncs, descJournalBytes, descJournalHealthy, descKeys, descKeysExpiring, descExpired, descHits,
	descMisses, descSnapRunning, descSnapLast, descForceClosed, descEpochRefusals, descDivergent,
}

// Describe implements prometheus.Collector.
func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range collectorDescs {
		ch <- d
	}
}

// emit sends one sample.
func emit(ch chan<- prometheus.Metric, d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, t, v, labels...)
}

// boolGauge is 1 for true, 0 for false.
func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Collect implements prometheus.Collector.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	now := time.Now()
	c.collectCommands(ch)
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		emit(ch, d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		emit(ch, d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(descInfo, 1, s.cfg.NodeID, Version)
	s.clientsMu.Lock()
	clients := len(s.clients)
	s.clientsMu.Unlock()
	gauge(descClients, float64(clients))
	st := &s.stats
	counter(descConnections, st.connections.Load())
	counter(descRejected, st.rejectedConns.Load())
	counter(descExpired, st.expiredKeys.Load())
	counter(descHits, st.keyspaceHits.Load())
	counter(descMisses, st.keyspaceMisses.Load())
	counter(descSyncs, st.syncFull.Load(), "full")
	counter(descSyncs, st.syncPartialOK.Load(), "partial")
	counter(descSyncs, st.syncPartialErr.Load(), "partial_refused")
	counter(descForceClosed, st.takeoverClosed.Load())
	counter(descEpochRefusals, s.repl.epochRefusals.Load())
	counter(descDivergent, s.repl.divergentEntries.Load())

	s.mu.Lock()
	replica, lsn := s.isReplica(), s.lastLSN
	keys, expiring := s.db.Size(), len(s.db.Expires)
	s.mu.Unlock()
	gauge(descRole, boolGauge(!replica), "primary")
	gauge(descRole, boolGauge(replica), "replica")
	epoch := s.repl.epoch.Load()
	gauge(descEpoch, float64(epoch))
	gauge(descFrozen, boolGauge(s.frozen()))
	gauge(descLSN, float64(lsn))
	gauge(descKeys, float64(keys))
	gauge(descKeysExpiring, float64(expiring))
	gauge(descLease, s.leaseLeft(now, epoch).Seconds())
	if replica {
		state := s.repl.status.State()
		for _, name := range repl.LinkStates {
			gauge(descLinkState, boolGauge(state == name), name)
		}
	}
	c.collectReplicas(ch, now, lsn)

	emit(ch, descJournalBytes, prometheus.CounterValue, float64(s.jr.BytesWritten()))
	gauge(descJournalHealthy, boolGauge(s.jr.Err() == nil))
	if sn := s.snap; sn != nil {
		gauge(descSnapRunning, boolGauge(sn.running.Load()))
		gauge(descSnapLast, float64(sn.lastSave.Load()))
	} else {
		gauge(descSnapRunning, 0)
	}
}

// collectCommands emits the command counters that are not zero.
func (c collector) collectCommands(ch chan<- prometheus.Metric) {
	counts := c.s.met.commands
	for row := 0; row <= len(command.List()); row++ {
		name := "unknown"
		if row < len(command.List()) {
			name = command.List()[row].Name
		}
		for res := range int(command.NumResults) {
			if v := counts[row*int(command.NumResults)+res].Load(); v > 0 {
				emit(ch, descCommands, prometheus.CounterValue, float64(v), name, command.Results()[res])
			}
		}
	}
}

// collectReplicas emits the replicas streaming from this node; lsn is the
// node's last LSN.
func (c collector) collectReplicas(ch chan<- prometheus.Metric, now time.Time, lsn uint64) {
	s := c.s
	peers := s.repl.acks.Peers()
	emit(ch, descReplicas, prometheus.GaugeValue, float64(len(peers)))
	names := repl.Names(peers)
	for _, r := range peers {
		name := names[r]
		ack := r.Acked()
		emit(ch, descReplicaAck, prometheus.GaugeValue, float64(ack), name)
		emit(ch, descReplicaLag, prometheus.GaugeValue, float64(lsn-min(ack, lsn)), name)
		switch fresh := r.FreshAt(); {
		case ack >= lsn:
			emit(ch, descReplicaAge, prometheus.GaugeValue, 0, name)
		case fresh > 0:
			emit(ch, descReplicaAge, prometheus.GaugeValue, max(now.Sub(time.Unix(0, fresh)).Seconds(), 0), name)
		}
	}
}

// leaseLeft is what is left of the write lease of epoch (0 without one, or
// on a standalone node).
func (s *Server) leaseLeft(now time.Time, epoch uint64) time.Duration {
	if s.coord == nil {
		return 0
	}
	d, e := s.coord.Lease().Left(now)
	if e != epoch {
		return 0
	}
	return d
}
