package node

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/batonkv/baton/internal/outbuf"
	"github.com/batonkv/baton/internal/resplimit"
)

// FsyncPolicy says when journal writes reach stable storage, with the same
// meaning as Redis' appendfsync.
type FsyncPolicy string

// Fsync policies.
const (
	// FsyncAlways acknowledges a write only after it is fsynced; concurrent
	// writers share one fsync (group commit).
	FsyncAlways FsyncPolicy = "always"
	// FsyncEverySec writes to the OS before replying and fsyncs once a
	// second: a machine crash may lose about a second, a process crash nothing.
	FsyncEverySec FsyncPolicy = "everysec"
	// FsyncNo leaves flushing to the OS.
	FsyncNo FsyncPolicy = "no"
)

// ParseFsyncPolicy parses always|everysec|no.
func ParseFsyncPolicy(s string) (FsyncPolicy, error) {
	switch p := FsyncPolicy(s); p {
	case FsyncAlways, FsyncEverySec, FsyncNo:
		return p, nil
	}
	return "", fmt.Errorf("fsync policy %q: want always, everysec or no", s)
}

// Config holds a node's settings. Zero values are replaced by DefaultConfig's.
type Config struct {
	// Addr is the configured RESP listen address; Serve takes the listener,
	// whose real address wins where the node reports where it listens.
	Addr string
	// DataDir holds the journal and snapshots. Empty means memory only.
	DataDir string
	// Fsync is the journal's fsync policy.
	Fsync FsyncPolicy
	// SnapshotInterval is how often a snapshot is taken when the journal grew
	// by at least SnapshotMinWrites entries since the last one (0 disables).
	SnapshotInterval time.Duration
	// SnapshotMinWrites is the journal growth that makes a snapshot due.
	SnapshotMinWrites uint64
	// RequirePass, when set, makes clients AUTH first.
	RequirePass string
	// MaxClients bounds concurrent client connections.
	MaxClients int
	// IdleTimeout closes a client idle for longer (Redis' timeout; 0: never).
	// Replicas' streams, subscribers and clients in a blocking command or
	// writing replies are never idle.
	IdleTimeout time.Duration
	// MaxBulkLen bounds one bulk string in a request (proto-max-bulk-len).
	MaxBulkLen int64
	// MaxMultibulkLen bounds the number of arguments of one request.
	MaxMultibulkLen int64
	// MaxQueryBuffer bounds the bytes of one not yet complete request
	// (client-query-buffer-limit).
	MaxQueryBuffer int64
	// MaxInlineLen bounds an inline (telnet-style) request line.
	MaxInlineLen int64
	// BacklogBytes is the in-memory replication backlog: a replica that
	// fell behind by less continues with a partial sync (repl-backlog-size).
	BacklogBytes int
	// ReplicaOf, when set ("host:port"), starts the node as a replica of
	// that primary; the link is retried in the background until it works.
	ReplicaOf string
	// PrimaryAuth is the password this node AUTHs with on its primary
	// (masterauth).
	PrimaryAuth string
	// SyncReplicas makes a write's reply wait until that many replicas
	// acknowledged its LSN (0: replies do not wait for replicas).
	SyncReplicas int
	// OutputLimits are the client-output-buffer-limit of normal, replica
	// and pub/sub clients (nil: Redis' defaults, outbuf.Defaults); CONFIG
	// SET changes them at run time.
	OutputLimits *outbuf.Limits
	// SyncTimeout bounds that wait; past it the client gets a NOREPL
	// error (the write stays applied and journaled).
	SyncTimeout time.Duration
	// Epoch is the primary epoch this node starts with when its data
	// directory records none newer.
	Epoch uint64
	// Coordinators are the coordinator group's RESP API addresses. When
	// set, the coordinators decide this node's role (it registers, follows
	// their topology and accepts writes only under their lease); empty
	// means a standalone node, whose role REPLICAOF decides.
	Coordinators []string
	// NodeID is this node's id in the coordinators' topology (required
	// with Coordinators).
	NodeID string
	// ClusterSecret, when set, is sent with AUTH to the coordinators.
	ClusterSecret string
	// AdvertiseAddr is the "host:port" other nodes and proxies reach this
	// node at, as registered with the coordinators (default: the listening
	// address).
	AdvertiseAddr string
	// ReplicationAddr, when set, is registered as the address replicas
	// dial to replicate from this node, instead of AdvertiseAddr (a
	// separate replication network).
	ReplicationAddr string
	// LeaseLog, when set, is a file every granted write lease window is
	// appended to (chaos and failover tests audit it for overlaps).
	LeaseLog string
	// WriteLog, when set, is a file the windows in which this node
	// executed writes as a primary are appended to (coord.WriteLog; chaos
	// audits them for overlaps between nodes).
	WriteLog string
	// HTTPAddr, when set, serves Prometheus metrics on /metrics and the
	// node's health on /healthz (empty: off).
	HTTPAddr string
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns the defaults, which follow redis.conf where Redis has
// the same setting.
func DefaultConfig() Config {
	lim := resplimit.Defaults()
	return Config{
		Addr:              "127.0.0.1:6379",
		Fsync:             FsyncEverySec,
		SnapshotInterval:  time.Minute,
		SnapshotMinWrites: 10000,
		MaxClients:        10000,
		MaxBulkLen:        lim.MaxBulk,
		MaxMultibulkLen:   lim.MaxMultibulk,
		MaxQueryBuffer:    lim.MaxQuery,
		MaxInlineLen:      lim.MaxInline,
		BacklogBytes:      1 << 20,
		SyncTimeout:       5 * time.Second,
	}
}

// withDefaults fills zero values from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.Addr = cmp.Or(c.Addr, d.Addr)
	c.Fsync = cmp.Or(c.Fsync, d.Fsync)
	c.SnapshotMinWrites = cmp.Or(c.SnapshotMinWrites, d.SnapshotMinWrites)
	c.MaxClients = cmp.Or(c.MaxClients, d.MaxClients)
	c.MaxBulkLen = cmp.Or(c.MaxBulkLen, d.MaxBulkLen)
	c.MaxMultibulkLen = cmp.Or(c.MaxMultibulkLen, d.MaxMultibulkLen)
	c.MaxQueryBuffer = cmp.Or(c.MaxQueryBuffer, d.MaxQueryBuffer)
	c.MaxInlineLen = cmp.Or(c.MaxInlineLen, d.MaxInlineLen)
	c.BacklogBytes = cmp.Or(c.BacklogBytes, d.BacklogBytes)
	c.SyncTimeout = cmp.Or(c.SyncTimeout, d.SyncTimeout)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	return c
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	if _, err := ParseFsyncPolicy(string(c.Fsync)); err != nil {
		return err
	}
	if c.MaxClients < 1 {
		return errors.New("max clients must be at least 1")
	}
	if c.IdleTimeout < 0 {
		return errors.New("idle timeout must not be negative")
	}
	if c.MaxBulkLen < 1 || c.MaxMultibulkLen < 1 || c.MaxQueryBuffer < 1 || c.MaxInlineLen < 1 {
		return errors.New("request limits must be positive")
	}
	if c.BacklogBytes < 16<<10 {
		return errors.New("backlog size must be at least 16 KiB")
	}
	if c.SyncReplicas < 0 || c.SyncTimeout < 0 {
		return errors.New("sync replicas and sync timeout must not be negative")
	}
	if c.ReplicaOf != "" {
		if _, _, err := splitHostPort(c.ReplicaOf); err != nil {
			return fmt.Errorf("replicaof: %w", err)
		}
	}
	if c.SnapshotInterval < 0 {
		return errors.New("snapshot interval must not be negative")
	}
	return c.validateCoord()
}

// validateCoord checks the coordination settings.
func (c Config) validateCoord() error {
	if len(c.Coordinators) == 0 {
		if c.NodeID != "" || c.ClusterSecret != "" || c.AdvertiseAddr != "" {
			return errors.New("node id, cluster secret and advertise address need coordinators")
		}
		return nil
	}
	if c.NodeID == "" {
		return errors.New("a node id is required with coordinators")
	}
	for _, a := range c.Coordinators {
		if _, _, err := splitHostPort(a); err != nil {
			return fmt.Errorf("coordinator address %q: %w", a, err)
		}
	}
	if c.AdvertiseAddr != "" {
		if _, _, err := splitHostPort(c.AdvertiseAddr); err != nil {
			return fmt.Errorf("advertise address: %w", err)
		}
	}
	if c.ReplicationAddr != "" {
		if len(c.Coordinators) == 0 {
			return errors.New("replication address needs coordinators")
		}
		if _, _, err := splitHostPort(c.ReplicationAddr); err != nil {
			return fmt.Errorf("replication address: %w", err)
		}
	}
	return nil
}
