package main

import (
	"context"

	"github.com/batonkv/baton/internal/benchkit"
)

// system is one replicated store under test: how to start it, how a client
// finds the primary, and which process to kill.
type system interface {
	// name labels the system in the table.
	name() string
	// start brings up the cluster and returns once it has a primary with
	// two connected replicas.
	start(ctx context.Context) error
	// discover returns the primary's address as a client would learn it
	// after an error (the call a client makes before every retry).
	discover(ctx context.Context, hint int) (string, error)
	// primary returns the process that is primary now, once the cluster
	// agrees on one with both replicas connected.
	primary(ctx context.Context) (*benchkit.Proc, error)
	// waitReplica returns once p, restarted, is a replica with its link up.
	waitReplica(ctx context.Context, p *benchkit.Proc) error
	// stop kills every process.
	stop()
}

// batonCluster is the shared 3-coordinator, 3-node appliance as a system.
type batonCluster struct {
	*benchkit.BatonCluster
}

func (b *batonCluster) name() string                    { return "baton" }
func (b *batonCluster) start(ctx context.Context) error { return b.Start(ctx) }
func (b *batonCluster) stop()                           { b.Stop() }

func (b *batonCluster) discover(ctx context.Context, _ int) (string, error) {
	return b.PrimaryAddr(ctx)
}

func (b *batonCluster) primary(ctx context.Context) (*benchkit.Proc, error) { return b.Primary(ctx) }

func (b *batonCluster) waitReplica(ctx context.Context, p *benchkit.Proc) error {
	return benchkit.WaitLinkUp(ctx, p, b.WaitTimeout)
}
