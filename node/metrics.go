package node

import (
	"net"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/internal/metricshttp"
	"github.com/batonkv/baton/node/command"
	"github.com/prometheus/client_golang/prometheus"
)

// A node's Prometheus metrics, all declared here (docs/OPERATIONS.md lists
// them). Each Server has its own registry, so several nodes can run in one
// test process.
//
// The hot path pays little: a command bumps one atomic counter in an array
// indexed by its command-table index and result (no map, no label lookup,
// no allocation), and a pipeline makes one histogram observation. Most
// metrics are read from the node's existing state when Prometheus scrapes
// (collector, metrics_collect.go) rather than kept twice.

// Histogram buckets.
var (
	// latencyBuckets span 10 µs to ~5 s: a pipeline served from memory
	// up to one that waited for replicas or a sync timeout.
	latencyBuckets = prometheus.ExponentialBuckets(10e-6, 2, 20)
	// diskBuckets span 50 µs to ~13 s: an fsync, or writing a snapshot.
	diskBuckets = prometheus.ExponentialBuckets(50e-6, 2, 19)
)

// metrics are the instruments the node updates itself; the collector reads
// the rest from the node's state at scrape time.
type metrics struct {
	// commands counts commands by command-table index and result, at
	// commands[index*numResults+result]; the row after the last command
	// counts unknown commands.
	commands []atomic.Uint64
	// pipeline observes, once per pipeline, the time from its start to its
	// replies being written.
	pipeline prometheus.Histogram
	// fsync observes every journal fsync.
	fsync prometheus.Histogram
	// snapshot observes each snapshot written, by mode (save, background).
	snapshot *prometheus.HistogramVec
	// freezes counts takeover freezes this node entered.
	freezes prometheus.Counter
	// noRepl counts replies replaced by -NOREPL (--sync-replicas timeout).
	noRepl prometheus.Counter
	// outputLimitClosed counts clients closed at their
	// client-output-buffer-limit, by class.
	outputLimitClosed *prometheus.CounterVec
}

// newMetrics creates the node's own instruments (before recovery: the
// journal reports its fsyncs from the start).
func newMetrics() *metrics {
	return &metrics{
		commands: make([]atomic.Uint64, (len(command.List())+1)*int(command.NumResults)),
		pipeline: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "baton_node_pipeline_duration_seconds",
			Help:    "Time from reading a client's pipeline to writing its replies (durability and --sync-replicas waits included), once per pipeline; pipelines that parked a blocking command are left out.",
			Buckets: latencyBuckets,
		}),
		fsync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "baton_node_journal_fsync_duration_seconds", Help: "Duration of each journal fsync.",
			Buckets: diskBuckets,
		}),
		snapshot: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "baton_node_snapshot_duration_seconds", Help: "Time to take and write a snapshot, by mode (save: SAVE, blocking; background: BGSAVE or scheduled).",
			Buckets: diskBuckets,
		}, []string{"mode"}),
		freezes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baton_node_takeover_freezes_total", Help: "Coordinated takeovers that froze this node (TAKEN_OVER entered).",
		}),
		outputLimitClosed: newOutputLimitClosed(),
		noRepl: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baton_node_norepl_replies_total", Help: "Replies replaced by -NOREPL: fewer than --sync-replicas replicas acknowledged in time.",
		}),
	}
}

// desc is a shorthand for the collector's descriptors.
func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// Descriptors of the metrics the collector reads from the node's state when
// Prometheus scrapes (metrics_collect.go).
var (
	descCommands = desc("baton_node_commands_total",
		"Commands executed, by command (unknown: not in the command table) and result: ok, or the kind of error reply (err, wrongtype, noauth, readonly, tryagain, takenover, execabort, unblocked, other_error). A command queued by MULTI counts when EXEC runs it; a blocking command counts once, when it first runs.",
		"cmd", "result")
	descInfo        = desc("baton_node_info", "Always 1; the labels identify the node.", "node_id", "version")
	descClients     = desc("baton_node_connected_clients", "Open client connections (replication streams and subscribers included).")
	descConnections = desc("baton_node_connections_total", "Client connections accepted.")
	descRejected    = desc("baton_node_rejected_connections_total", "Connections refused because maxclients was reached.")
	descRole        = desc("baton_node_role", "1 for the node's replication role (primary or replica), 0 for the other.", "role")
	descEpoch       = desc("baton_node_epoch", "The newest primary epoch this node has seen (its own while it is primary).")
	descFrozen      = desc("baton_node_frozen", "1 while a coordinated takeover holds this node TAKEN_OVER.")
	descLSN         = desc("baton_node_lsn", "LSN of the last journal entry (on a replica: the last entry applied from the primary).")
	descLease       = desc("baton_node_lease_remaining_seconds", "Time left on the write lease of the node's current epoch (0 without one; always 0 on a standalone node).")
	descLinkState   = desc("baton_node_replication_link_state",
		"On a replica: 1 for the state of its link to the primary (connect, connecting, sync, connected), 0 for the others.", "state")
	descReplicas   = desc("baton_node_connected_replicas", "Replicas streaming from this node.")
	descReplicaAck = desc("baton_node_replica_acked_lsn", "The last LSN each replica (ip:port) acknowledged.", "replica")
	descReplicaLag = desc("baton_node_replica_lag_lsn", "Journal entries each replica (ip:port) has not acknowledged yet.", "replica")
	descReplicaAge = desc("baton_node_replica_lag_seconds",
		"How stale each replica (ip:port) may be: 0 when it acknowledged every entry, else the time since it last held every write (an upper bound, coarse by the 100 ms ack interval). Absent until its first acknowledgement.",
		"replica")
	descSyncs = desc("baton_node_replica_syncs_total",
		"Syncs served to replicas, by kind: full, partial, partial_refused (a partial sync the backlog no longer covered; a full sync followed).", "kind")
	descJournalBytes   = desc("baton_node_journal_written_bytes_total", "Record bytes written to the journal files.")
	descJournalHealthy = desc("baton_node_journal_healthy", "0 after a journal write or fsync error (sticky: writes are no longer acknowledged), else 1.")
	descKeys           = desc("baton_node_keys", "Keys in the keyspace.")
	descKeysExpiring   = desc("baton_node_keys_with_expiry", "Keys with a time to live.")
	descExpired        = desc("baton_node_expired_keys_total", "Keys deleted because their time to live passed.")
	descHits           = desc("baton_node_keyspace_hits_total", "Key lookups of read commands that found the key.")
	descMisses         = desc("baton_node_keyspace_misses_total", "Key lookups of read commands that found no key.")
	descSnapRunning    = desc("baton_node_snapshot_in_progress", "1 while a snapshot is being taken.")
	descSnapLast       = desc("baton_node_snapshot_last_success_timestamp_seconds", "Unix time of the last successful snapshot (the start time before the first).")
	descForceClosed    = desc("baton_node_takeover_closed_connections_total",
		"Connections force-closed because they missed a takeover's checkpoint (hung clients; their writes were journaled already).")
	descEpochRefusals = desc("baton_node_epoch_refusals_total", "Replication streams refused because the primary's epoch was older than this node's.")
	descDivergent     = desc("baton_node_divergent_entries_discarded_total",
		"Entries of former primaries beyond the point the current history branched off, discarded by the full syncs of the replicas that held them.")
)

// countCommand counts one command (nil: an unknown command) with its
// result. The caller holds the keyspace lock, so the counters are not
// contended; they are atomic for the scraper.
func (m *metrics) countCommand(cmd *command.Command, res command.Result) {
	row := len(command.List())
	if cmd != nil {
		row = cmd.Index()
	}
	m.commands[row*int(command.NumResults)+int(res)].Add(1)
}

// newRegistry registers the node's metrics (and the Go runtime's and the
// process's) on a new registry.
func (s *Server) newRegistry() *prometheus.Registry {
	reg := metricshttp.NewRegistry()
	m := s.met
	m.snapshot.WithLabelValues("save")
	m.snapshot.WithLabelValues("background")
	reg.MustRegister(m.pipeline, m.fsync, m.snapshot, m.freezes, m.noRepl, m.outputLimitClosed, newCollector(s))
	return reg
}

// Registry is the node's metrics registry (served on Config.HTTPAddr;
// tests and embedding programs may gather it directly).
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Health is what a node's /healthz reports.
type Health struct {
	// Serving is true once Serve started and until Close.
	Serving bool `json:"serving"`
	// NodeID is the node's id with the coordinators ("" standalone).
	NodeID string `json:"node_id,omitempty"`
	// Role is "primary" or "replica"; "busy" when the keyspace lock was
	// held throughout healthBusyWait (a SAVE, say): the node is alive.
	Role string `json:"role"`
	// Epoch is the newest primary epoch the node has seen.
	Epoch uint64 `json:"epoch"`
	// LSN is the node's last LSN (0 when busy).
	LSN uint64 `json:"lsn"`
	// Frozen is true while a takeover holds the node TAKEN_OVER.
	Frozen bool `json:"frozen"`
}

// healthBusyWait bounds how long /healthz waits for the keyspace lock: a
// health check must answer within its own timeout even while SAVE holds
// the lock.
const healthBusyWait = 200 * time.Millisecond

// health answers /healthz: 200 while the node serves clients.
func (s *Server) health() (bool, any) {
	h := Health{Role: "busy", NodeID: s.cfg.NodeID}
	if s.lockWithin(healthBusyWait) {
		h.Role, h.LSN = "primary", s.lastLSN
		if s.isReplica() {
			h.Role = "replica"
		}
		s.mu.Unlock()
	}
	h.Epoch, h.Frozen = s.repl.epoch.Load(), s.frozen()
	h.Serving = s.Addr() != nil && !s.isClosing()
	return h.Serving, h
}

// lockWithin takes the keyspace lock if it can within d and reports
// whether it did.
func (s *Server) lockWithin(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !s.mu.TryLock() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// HTTPAddr is the address /metrics and /healthz are served on (nil when
// Config.HTTPAddr is empty).
func (s *Server) HTTPAddr() net.Addr {
	if s.web == nil {
		return nil
	}
	return s.web.Addr()
}
