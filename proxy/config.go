package proxy

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config configures a Proxy. Exactly one of Coordinators and Backend is set.
type Config struct {
	// Addr is the listen address, for logs (Serve takes the listener).
	Addr string
	// Coordinators are coordinator API addresses; the proxy follows the
	// primary of the highest epoch any of them reports.
	Coordinators []string
	// ClusterSecret is sent with AUTH to the coordinators.
	ClusterSecret string
	// Backend is a static primary address, used when Coordinators is empty.
	Backend string
	// BackendAuth is the password the proxy sends with AUTH to nodes.
	BackendAuth string
	// RequirePass is the password clients must AUTH to the proxy with.
	RequirePass string
	// TLSCertFile and TLSKeyFile, when set, make the client port speak TLS
	// only (a plaintext client fails its handshake); the files are read
	// again when they change (internal/tlsfiles), no restart needed.
	TLSCertFile, TLSKeyFile string
	// HoldTimeout bounds how long a command is held while no primary takes
	// it (none known, or it answered -TAKENOVER/-READONLY/-TRYAGAIN).
	HoldTimeout time.Duration
	// MaxClients bounds concurrent client connections.
	MaxClients int
	// PoolSize is the number of shared backend connections per primary.
	PoolSize int
	// MaxHeld bounds the commands held at once (no primary, or replaying
	// after -TAKENOVER/-READONLY/-TRYAGAIN), across all clients: beyond it
	// a command is answered at once with -TRYAGAIN instead of queuing, so a
	// long role change cannot pile up unbounded memory.
	MaxHeld int
	// ReadFrom is where read-only commands of the shared path go:
	// ReadFromPrimary (default, "") or ReadFromReplicas (replicas.go).
	ReadFrom string
	// MaxReplicaLag bounds, with ReadFromReplicas, how far behind the
	// primary a replica serving a read may be: it holds every write the
	// primary acknowledged up to MaxReplicaLag ago.
	MaxReplicaLag time.Duration
	// Replicas are replica addresses for ReadFromReplicas with a static
	// Backend; with Coordinators the replicas are the topology's members.
	Replicas []string
	// OutputLimit and PubSubOutputLimit are the client-output-buffer-limit
	// of normal clients and of subscribers: the most reply bytes the proxy
	// keeps pending for a client that does not read them before it closes
	// the client (see OutputLimit). Zero fields take the defaults; a
	// negative one means no bound.
	OutputLimit, PubSubOutputLimit OutputLimit
	// HTTPAddr, when set, serves Prometheus metrics on /metrics and the
	// proxy's health on /healthz (empty: off).
	HTTPAddr string
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger

	// noPoll (tests) turns the coordinators' fallback poll off, so only
	// the watch stream informs the proxy.
	noPoll bool
	// replicaPoll (tests) replaces replicaPollInterval.
	replicaPoll time.Duration
}

// DefaultConfig returns the proxy's defaults; `baton proxy`'s flags take
// theirs from it.
func DefaultConfig() Config {
	return Config{
		Addr:          "127.0.0.1:6380",
		HoldTimeout:   5 * time.Second,
		MaxClients:    10000,
		PoolSize:      4,
		MaxHeld:       10000,
		ReadFrom:      ReadFromPrimary,
		MaxReplicaLag: time.Second,
		replicaPoll:   replicaPollInterval,
		// Redis' pubsub default; for normal clients, whose Redis default
		// is no bound, the bound of Redis' replicas: a hung client costs
		// at most 256 MB, or 64 MB for longer than a minute.
		OutputLimit:       OutputLimit{Hard: 256 << 20, Soft: 64 << 20, SoftFor: 60 * time.Second},
		PubSubOutputLimit: OutputLimit{Hard: 32 << 20, Soft: 8 << 20, SoftFor: 60 * time.Second},
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.Addr = cmp.Or(c.Addr, d.Addr)
	c.HoldTimeout = cmp.Or(c.HoldTimeout, d.HoldTimeout)
	c.MaxClients = cmp.Or(c.MaxClients, d.MaxClients)
	c.PoolSize = cmp.Or(c.PoolSize, d.PoolSize)
	c.MaxHeld = cmp.Or(c.MaxHeld, d.MaxHeld)
	c.ReadFrom = cmp.Or(c.ReadFrom, d.ReadFrom)
	c.MaxReplicaLag = cmp.Or(c.MaxReplicaLag, d.MaxReplicaLag)
	c.replicaPoll = cmp.Or(c.replicaPoll, d.replicaPoll)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	c.OutputLimit = limitWithDefaults(c.OutputLimit, d.OutputLimit)
	c.PubSubOutputLimit = limitWithDefaults(c.PubSubOutputLimit, d.PubSubOutputLimit)
	return c
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.HoldTimeout < 0 || c.MaxReplicaLag < 0 || c.replicaPoll < 0 {
		return errors.New("proxy: the hold timeout and the maximum replica lag must not be negative")
	}
	if c.MaxClients < 1 || c.PoolSize < 1 || c.MaxHeld < 1 {
		return errors.New("proxy: max clients, pool size and max held must be at least 1")
	}
	if c.ReadFrom != ReadFromPrimary && c.ReadFrom != ReadFromReplicas {
		return fmt.Errorf("proxy: read-from must be %q or %q, not %q", ReadFromPrimary, ReadFromReplicas, c.ReadFrom)
	}
	if len(c.Replicas) > 0 && len(c.Coordinators) > 0 {
		return errors.New("proxy: static replicas go with a static backend; with coordinators the replicas come from the topology")
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("proxy: a TLS certificate file needs its key file, and the other way round")
	}
	if len(c.Coordinators) == 0 && c.Backend == "" {
		return errors.New("proxy: need coordinators or a static backend")
	}
	if len(c.Coordinators) > 0 && c.Backend != "" {
		return errors.New("proxy: coordinators and a static backend are exclusive")
	}
	return nil
}
