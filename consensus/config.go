package consensus

import (
	"cmp"
	"errors"
	"log/slog"
	"time"

	"github.com/hashicorp/raft"
)

// Config configures one coordinator: a member of the Raft group that serves
// the RESP API to nodes, proxies and operators.
type Config struct {
	// ID, RaftAddr and APIAddr identify the member; Dir holds its Raft log,
	// stable store and snapshots.
	ID, RaftAddr, APIAddr, Dir string
	// HTTPAddr serves /metrics and /healthz ("" disables).
	HTTPAddr string
	// Peers is the bootstrap group (this member included); empty for a
	// member that joins a running group.
	Peers []Peer
	// Join, when set and Dir holds no Raft state, is a running member's API
	// address to ask for admission (BATON.JOIN).
	Join string
	// Secret is the cluster secret every API client (nodes, proxies,
	// operators, joining members) must AUTH with ("" disables).
	Secret string
	// NodeAuth is the password the coordinator AUTHs with on datastore
	// nodes (their --requirepass) when there is no Secret; with one, it
	// authenticates as coordapi.InternalUser with the Secret.
	NodeAuth string
	// Lease is the write lease granted to the primary (DefaultConfig: 1 s).
	Lease time.Duration
	// DownAfter is how long the primary must fail probes before it is
	// declared down (DefaultConfig: 1 s).
	DownAfter time.Duration
	// ProbeInterval is how often the leader probes every node (DefaultConfig:
	// 100 ms).
	ProbeInterval time.Duration
	// TakeoverGrace is how long a frozen old primary waits for its
	// connections to pass the checkpoint before force-closing the rest
	// (DefaultConfig: DefaultTakeoverGrace); BATON.TAKEOVER GRACE overrides it.
	TakeoverGrace time.Duration
	// Raft timing (0: RaftConfig's defaults) and transport routing.
	HeartbeatTimeout, ElectionTimeout time.Duration
	AddressProvider                   raft.ServerAddressProvider
	// Logger receives structured logs (nil: slog.Default()).
	Logger *slog.Logger
}

// DefaultConfig returns a coordinator's defaults; `baton coordinator`'s
// flags take theirs from it. ID, RaftAddr, Dir and Peers or Join have no
// default.
func DefaultConfig() Config {
	return Config{
		APIAddr:       "127.0.0.1:7379",
		Lease:         time.Second,
		DownAfter:     time.Second,
		ProbeInterval: 100 * time.Millisecond,
		TakeoverGrace: DefaultTakeoverGrace,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.Lease = cmp.Or(c.Lease, d.Lease)
	c.DownAfter = cmp.Or(c.DownAfter, d.DownAfter)
	c.ProbeInterval = cmp.Or(c.ProbeInterval, d.ProbeInterval)
	c.TakeoverGrace = cmp.Or(c.TakeoverGrace, d.TakeoverGrace)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	return c
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.ID == "" || c.RaftAddr == "" || c.Dir == "" {
		return errors.New("coordinator: id, raft address and data directory are required")
	}
	if c.Lease <= 0 || c.DownAfter <= 0 || c.ProbeInterval <= 0 || c.TakeoverGrace <= 0 {
		return errors.New("coordinator: lease, down-after, probe interval and takeover grace must be positive")
	}
	return nil
}
