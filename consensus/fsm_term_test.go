package consensus

import (
	"errors"
	"testing"

	"github.com/batonkv/baton/coordapi"
)

// Test_FSM_CommandBoundToTerm: a command bound to a term (the failover's
// promote, bound to the term of its lease wait) is refused when its log
// entry belongs to another term, on every member alike.
func Test_FSM_CommandBoundToTerm(t *testing.T) {
	f := NewFSM()
	f.Apply(logOf(t, Command{Op: OpRegister, Node: &coordapi.Node{ID: "n1", Addr: "h1:1"}}))
	f.Apply(logOf(t, Command{Op: OpRegister, Node: &coordapi.Node{ID: "n2", Addr: "h2:1"}}))
	l := logOf(t, Command{Op: OpPromote, FromEpoch: 1, Primary: "n2", Term: 4})
	l.Term = 5
	res := f.Apply(l).(ApplyResult)
	if !errors.Is(res.Err, ErrStaleTerm) || res.Topology.Epoch != 1 || res.Topology.Primary != "n1" {
		t.Fatalf("promote bound to term 4 in a term-5 entry: %+v", res)
	}
	l = logOf(t, Command{Op: OpPromote, FromEpoch: 1, Primary: "n2", Term: 5})
	l.Term = 5
	if res := f.Apply(l).(ApplyResult); res.Err != nil || res.Topology.Epoch != 2 {
		t.Fatalf("promote in its own term: %+v", res)
	}
}
