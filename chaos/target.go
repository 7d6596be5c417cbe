package chaos

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/batonkv/baton/chaos/check"
	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/resp"
)

// Member kinds of an appliance.
const (
	KindCoordinator = "coordinator"
	KindNode        = "node"
	KindProxy       = "proxy"
)

// Capabilities a nemesis may need from a target (Target.Supports).
const (
	// CapLinks: toxiproxy sits on every link (toxics, partitions).
	CapLinks = "links"
	// CapProcesses: processes can be killed, restarted and signalled.
	CapProcesses = "processes"
	// CapDirect: the runner can dial nodes directly (hung clients).
	CapDirect = "direct"
)

// Target is a running Baton appliance the chaos suite drives: where the
// workloads connect, what can be broken, and how its health is read.
type Target interface {
	// Name is the target's kind ("local").
	Name() string
	// ClientAddrs are where workloads connect (the client→proxy links,
	// one per proxy the workloads use; the first is the health check's).
	ClientAddrs() []string
	// Members returns the ids of the members of one kind, sorted.
	Members(kind string) []string
	// DirectAddr is a member's own RESP address, bypassing every link.
	DirectAddr(id string) string
	// Links returns every toxiproxy link, sorted by name.
	Links() []*Link
	// Supports reports whether the target offers a capability (Cap…).
	Supports(capability string) bool

	// Topology is the newest topology the coordinators applied.
	Topology(ctx context.Context) (coordapi.Topology, error)
	// RaftLeader is the id of the coordinators' Raft leader.
	RaftLeader(ctx context.Context) (string, error)
	// CoordinatorDo sends a leader-only command (BATON.TAKEOVER…) to the
	// coordinator group, following -REDIRECT; timeout bounds the reply.
	CoordinatorDo(ctx context.Context, timeout time.Duration, args ...string) (resp.Value, error)

	// Kill9 kills a member with SIGKILL; Restart starts it again with
	// the same flags; Stop ends it with SIGTERM; Signal sends a signal
	// (SIGSTOP/SIGCONT).
	Kill9(id string) error
	Restart(ctx context.Context, id string) error
	Stop(id string) error
	Signal(id string, sig syscall.Signal) error

	// Health returns nil when every member answers, the coordinators
	// agree on one primary that says so, every other node is a connected
	// replica of it, and a write through the first of ClientAddrs succeeds.
	Health(ctx context.Context) error
	// HealAll removes every toxic and brings every link up.
	HealAll() error
	// LeaseWindows reads the nodes' lease logs.
	LeaseWindows() ([]check.LeaseWindow, error)
	// WriteWindows reads the nodes' executed-writes logs (--write-log).
	WriteWindows() ([]check.WriteWindow, error)
	// Close stops every process and link; nothing is left running.
	Close() error
}

// TargetConfig chooses and shapes a target.
type TargetConfig struct {
	// Kind is "local" or "compose".
	Kind string
	// Bin is the baton binary the local target runs.
	Bin string
	// Dir holds the processes' data, logs and lease logs.
	Dir string
	// SyncReplicas is every node's --sync-replicas.
	SyncReplicas int
	// Env is added to every process's environment (test-only switches).
	Env []string
	// Proxies is how many proxies the local target runs (default 1); the
	// compose appliance has 2, the workloads use the first only.
	Proxies int
}

// StartTarget starts (local) or connects to (compose) a target.
func StartTarget(ctx context.Context, cfg TargetConfig) (Target, error) {
	switch cfg.Kind {
	case "", "local":
		return StartLocal(ctx, cfg)
	case "compose":
		return StartCompose(ctx, cfg)
	default:
		return nil, fmt.Errorf("unknown target %q (local or compose)", cfg.Kind)
	}
}
