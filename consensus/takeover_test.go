package consensus

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/testutil"
	"github.com/hashicorp/raft"
)

// takeoverAtParity is a one-member group whose record is a takeover from
// n2 to n1 at the parity step, and a run of it on a Service whose applies
// of a promote go through lose (the promote is applied or not, then
// ErrIndeterminate is returned, as when leadership is lost mid-flight).
func takeoverAtParity(t *testing.T, applyPromote bool) (*takeoverRun, *Raft) {
	t.Helper()
	l := mustNewCluster(t, 1, nil).leader()
	seed(t, l)
	ctx := ctxT(t)
	// The leader may still apply records of its own (the coordinator
	// list) after seed: compare-and-set against the record as it is now,
	// again when one of those lands in between.
	var top coordapi.Topology
	var err error
	for try := 0; try < 20; try++ {
		cur := l.Local()
		top, err = l.Apply(ctx, Command{Op: OpSetState, FromEpoch: cur.Epoch, FromVersion: cur.Version, State: coordapi.StateTakeover,
			Takeover: &coordapi.Takeover{ID: cur.Version + 1, From: "n2", To: "n1", Step: coordapi.StepParity}})
		if !errors.Is(err, ErrStaleEpoch) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	c := &Service{raft: l, log: testutil.Logger(t)}
	c.apply = func(ctx context.Context, cmd Command) (coordapi.Topology, error) {
		if cmd.Op != OpPromote {
			return l.Apply(ctx, cmd)
		}
		if applyPromote {
			if _, err := l.Apply(ctx, cmd); err != nil {
				return coordapi.Topology{}, err
			}
		}
		return coordapi.Topology{}, fmt.Errorf("consensus: apply promote: %w: %w", ErrIndeterminate, raft.ErrLeadershipLost)
	}
	return &takeoverRun{c: c, t: top, rep: coordapi.TakeoverReport{From: "n2", To: "n1"}}, l
}

// Test_Takeover_IndeterminatePromoteThatCommitted: the promote's apply
// came back indeterminate but the promote did commit: the takeover is
// committed (not rolled back), and the run holds the committed record.
func Test_Takeover_IndeterminatePromoteThatCommitted(t *testing.T) {
	r, l := takeoverAtParity(t, true)
	from := r.t.Epoch
	if err := r.promote(ctxT(t), 10); err != nil {
		t.Fatalf("promote = %v; the record says epoch %d, primary %s: it committed", err, l.Local().Epoch, l.Local().Primary)
	}
	if r.t.Epoch != from+1 || r.t.Primary != "n1" || r.t.State != coordapi.StateStable {
		t.Fatalf("run's record after the promote: %+v", r.t)
	}
}

// Test_Takeover_IndeterminatePromoteThatDidNot: indeterminate and not
// committed: the step fails (the takeover rolls back) with the cause.
func Test_Takeover_IndeterminatePromoteThatDidNot(t *testing.T) {
	r, l := takeoverAtParity(t, false)
	err := r.promote(ctxT(t), 10)
	if !errors.Is(err, ErrIndeterminate) {
		t.Fatalf("promote = %v, want the indeterminate error", err)
	}
	if got := l.Local(); got.State != coordapi.StateTakeover {
		t.Fatalf("record after a promote that did not commit: %+v", got)
	}
}
