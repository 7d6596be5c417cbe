package proxy

import (
	"errors"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/internal/metricshttp"
	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/node/command"
	"github.com/prometheus/client_golang/prometheus"
)

// A proxy's Prometheus metrics, all declared here (docs/OPERATIONS.md lists
// them). Each Proxy has its own registry, so several can run in one test
// process.
//
// The shared path stays allocation-free: a forwarded batch bumps atomic
// counters in an array indexed by command-table index and result (one add
// per run of equal commands and results, so a pipeline of 16 SETs costs one
// add) and makes one histogram observation. Gauges are read from the
// proxy's state when Prometheus scrapes.

// Results the proxy gives itself (indexes in node.CommandResults).
var (
	resultErr    = slices.Index(command.Results(), "err")
	resultNoAuth = slices.Index(command.Results(), "noauth")
)

// latencyBuckets span 10 µs to ~5 s (the default hold timeout).
var latencyBuckets = prometheus.ExponentialBuckets(10e-6, 2, 20)

// metrics are the proxy's instruments.
type metrics struct {
	// commands counts commands by command-table index and result
	// (node.CommandResults), at commands[index*nres+result]; the row after
	// the last command counts commands the table does not know.
	commands []atomic.Uint64
	nres     int
	// latencyShared and latencyPinned are the two paths of the latency
	// histogram.
	latency                      *prometheus.HistogramVec
	latencyShared, latencyPinned prometheus.Observer
	holdDuration                 prometheus.Histogram
	switchovers                  prometheus.Counter
	replayed                     prometheus.Counter
	ambiguous                    prometheus.Counter
	holdFailures                 *prometheus.CounterVec
	holdTimeouts, tooManyHeld    prometheus.Counter
	backendErrors                *prometheus.CounterVec
	replicaReads                 *prometheus.CounterVec
	replicaServed, replicaFell   prometheus.Counter
	connections, rejected        prometheus.Counter
	// outputLimitClosed counts clients closed at their output buffer
	// limit, by class (normal, pubsub).
	outputLimitClosed *prometheus.CounterVec
}

// Kinds of backend errors (the kind label of backend_errors_total).
const (
	backendDial      = "dial"            // could not connect (or AUTH) to a node
	backendSend      = "send"            // a batch could not be written
	backendLost      = "connection_lost" // a connection broke with replies due
	backendProtocol  = "protocol"        // a node sent bytes that are not RESP
	backendReplicaRd = "replica"         // a replica could not answer a read batch
)

// newMetrics creates the proxy's instruments.
func newMetrics() *metrics {
	nres := len(command.Results())
	m := &metrics{
		commands: make([]atomic.Uint64, (len(command.List())+1)*nres),
		nres:     nres,
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "baton_proxy_pipeline_duration_seconds",
			Help:    "End-to-end latency at the proxy, holds and replays included, by path: shared (once per forwarded batch of a client's pipeline), pinned (once per command of a pinned client; blocking and pub/sub commands left out).",
			Buckets: latencyBuckets,
		}, []string{"path"}),
		holdDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "baton_proxy_hold_duration_seconds", Help: "How long a batch (or a pinned client) was held waiting for a primary that takes its commands, once per hold.",
			Buckets: latencyBuckets,
		}),
		switchovers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baton_proxy_switchovers_total", Help: "Times the proxy moved to a different primary.",
		}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baton_proxy_replayed_commands_total", Help: "Commands held for another attempt because the previous one cannot have run them (refused before execution with -TAKENOVER/-READONLY/-TRYAGAIN/-UNBLOCKED, or a read whose connection broke); sent again unless the hold times out.",
		}),
		ambiguous: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baton_proxy_ambiguous_commands_total", Help: "Writes answered with the ambiguous-write error: their connection broke before a reply, so they may or may not have run.",
		}),
		holdFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_proxy_hold_failures_total", Help: "Commands answered with an error instead of being held, by reason: timeout (no primary took them within --hold-timeout), too_many_held (--max-held reached).",
		}, []string{"reason"}),
		backendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_proxy_backend_errors_total", Help: "Errors talking to nodes, by kind: dial, send, connection_lost, protocol, replica (a replica left a read batch to the primary).",
		}, []string{"kind"}),
		replicaReads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_proxy_replica_reads_total", Help: "Read-only commands sent to a replica (--read-from replicas), by result: served by the replica, or fallback (went on to the primary).",
		}, []string{"result"}),
		connections: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baton_proxy_connections_total", Help: "Client connections accepted.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baton_proxy_rejected_connections_total", Help: "Client connections refused because maxclients was reached.",
		}),
		outputLimitClosed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_proxy_output_limit_closed_total", Help: "Clients closed because their pending replies overcame the client-output-buffer-limit of their class (normal, pubsub).",
		}, []string{"class"}),
	}
	m.latencyShared, m.latencyPinned = m.latency.WithLabelValues("shared"), m.latency.WithLabelValues("pinned")
	for _, class := range []string{classNormal, classPubSub} {
		m.outputLimitClosed.WithLabelValues(class) // exported at 0 from the start
	}
	m.holdTimeouts, m.tooManyHeld = m.holdFailures.WithLabelValues("timeout"), m.holdFailures.WithLabelValues("too_many_held")
	m.replicaServed, m.replicaFell = m.replicaReads.WithLabelValues("served"), m.replicaReads.WithLabelValues("fallback")
	for _, k := range []string{backendDial, backendSend, backendLost, backendProtocol, backendReplicaRd} {
		m.backendErrors.WithLabelValues(k)
	}
	return m
}

// Descriptors of what the collector reads from the proxy's state.
var (
	descCommands = prometheus.NewDesc("baton_proxy_commands_total",
		"Commands forwarded to nodes (shared and pinned paths) or refused by the proxy (arity, NOAUTH), by command (unknown: not in the command table) and result: ok, or the kind of error reply (err, wrongtype, noauth, readonly, tryagain, takenover, execabort, unblocked, other_error).",
		[]string{"cmd", "result"}, nil)
	descClients = prometheus.NewDesc("baton_proxy_connected_clients", "Open client connections (pinned ones included).", nil, nil)
	descPinned  = prometheus.NewDesc("baton_proxy_pinned_sessions", "Clients with a backend connection of their own (MULTI/WATCH, pub/sub, blocking pops, connection state).", nil, nil)
	descHeld    = prometheus.NewDesc("baton_proxy_held_commands", "Commands of the shared path held now, waiting for a primary (bounded by --max-held).", nil, nil)
	descEpoch   = prometheus.NewDesc("baton_proxy_topology_epoch", "The newest primary epoch the proxy has seen from the coordinators (0 with a static backend).", nil, nil)
	descVersion = prometheus.NewDesc("baton_proxy_topology_version", "Version of the newest topology record the proxy follows.", nil, nil)
	descPrimary = prometheus.NewDesc("baton_proxy_primary_known", "1 while the proxy knows a primary to send commands to (0: holding, e.g. during a takeover).", nil, nil)
)

// count counts n commands with command-table row row and result res.
func (m *metrics) count(row, res int, n uint64) {
	m.commands[row*m.nres+res].Add(n)
}

// row is a command's row in the counters (the last one for nil: a command
// the table does not know).
func (m *metrics) row(def *command.Command) int {
	if def == nil {
		return len(m.commands)/m.nres - 1
	}
	return def.Index()
}

// countForwarded counts the commands of fw's last forward by name and
// result: fw.out holds their replies when the batch needed more than one
// attempt, fw.b (in order) otherwise. Runs of equal counters are added at
// once.
func (m *metrics) countForwarded(fw *forwarder) {
	cur, n := -1, uint64(0)
	for i := range fw.reqs {
		var reply []byte
		if fw.out != nil {
			reply = fw.out[i]
		} else if i < fw.b.got() {
			reply = fw.b.reply(i)
		}
		res := 0
		if len(reply) > 0 && reply[0] == '-' {
			res = command.ReplyResult(reply)
		}
		k := int(fw.reqs[i].row)*m.nres + res
		if k != cur {
			if n > 0 {
				m.commands[cur].Add(n)
			}
			cur, n = k, 0
		}
		n++
	}
	if n > 0 {
		m.commands[cur].Add(n)
	}
}

// countPinned counts a pinned client's command whose reply goes out now,
// and observes its latency unless it waits by design (a blocking pop, a
// pub/sub command).
func (m *metrics) countPinned(e *entry) {
	res := 0
	if len(e.reply) > 0 && e.reply[0] == '-' {
		res = command.ReplyResult(e.reply)
	}
	m.count(m.row(e.def), res, 1)
	if e.def == nil || e.def.Flags&(command.FlagBlocking|command.FlagPubSub) == 0 {
		m.latencyPinned.Observe(time.Since(e.start).Seconds())
	}
}

// backendError counts a failed attempt on a backend by the kind of err.
func (m *metrics) backendError(err error) {
	kind := backendLost
	switch {
	case errors.Is(err, errNotSent):
		kind = backendSend
	case errors.Is(err, errBadReply), errors.Is(err, resp.ErrProtocol):
		kind = backendProtocol
	}
	m.backendErrors.WithLabelValues(kind).Inc()
}

// observeHold records a hold that began at start (zero: there was none).
func (m *metrics) observeHold(start time.Time) {
	if !start.IsZero() {
		m.holdDuration.Observe(time.Since(start).Seconds())
	}
}

// collector reads the proxy's state at scrape time.
type collector struct{ p *Proxy }

// Describe implements prometheus.Collector.
func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCommands, descClients, descPinned, descHeld, descEpoch, descVersion, descPrimary} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	p := c.p
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	m := p.met
	results := command.Results()
	cmds := command.List()
	for k := range m.commands {
		if v := m.commands[k].Load(); v > 0 {
			name := "unknown"
			if row := k / m.nres; row < len(cmds) {
				name = cmds[row].Name
			}
			ch <- prometheus.MustNewConstMetric(descCommands, prometheus.CounterValue, float64(v), name, results[k%m.nres])
		}
	}
	p.mu.Lock()
	clients, pinned, epoch, version, known := p.clients, len(p.pinned), p.epoch, p.topoVersion, p.primaryAddr != ""
	p.mu.Unlock()
	gauge(descClients, float64(clients))
	gauge(descPinned, float64(pinned))
	gauge(descHeld, float64(p.held.Load()))
	gauge(descEpoch, float64(epoch))
	gauge(descVersion, float64(version))
	primary := 0.0
	if known {
		primary = 1
	}
	gauge(descPrimary, primary)
}

// newRegistry registers the proxy's metrics (and the Go runtime's and the
// process's) on a new registry.
func (p *Proxy) newRegistry() *prometheus.Registry {
	reg := metricshttp.NewRegistry()
	m := p.met
	reg.MustRegister(m.latency, m.holdDuration, m.switchovers, m.replayed, m.ambiguous, m.holdFailures,
		m.backendErrors, m.replicaReads, m.connections, m.rejected, m.outputLimitClosed, collector{p: p})
	return reg
}

// Registry is the proxy's metrics registry (served on Config.HTTPAddr;
// tests and embedding programs may gather it directly).
func (p *Proxy) Registry() *prometheus.Registry { return p.reg }

// Health is what a proxy's /healthz reports.
type Health struct {
	// Serving is true once Serve started and until Close.
	Serving bool `json:"serving"`
	// Primary is the address commands go to ("" while holding).
	Primary string `json:"primary"`
	// Epoch is the newest primary epoch seen from the coordinators.
	Epoch uint64 `json:"epoch"`
	// Clients is the number of open client connections.
	Clients int `json:"clients"`
}

// health answers /healthz: 200 while the proxy serves clients (with or
// without a primary: without one it holds commands, which is its job).
func (p *Proxy) health() (bool, any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	serving := p.life.Addr() != nil && !p.life.Closing()
	h := Health{Serving: serving, Primary: p.primaryAddr, Epoch: p.epoch, Clients: p.clients}
	return h.Serving, h
}

// HTTPAddr is the address /metrics and /healthz are served on (nil when
// Config.HTTPAddr is empty).
func (p *Proxy) HTTPAddr() net.Addr {
	if p.web == nil {
		return nil
	}
	return p.web.Addr()
}
