package consensus

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/batonkv/baton/coordapi"
	"github.com/hashicorp/raft"
)

func logOf(t *testing.T, c Command) *raft.Log {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return &raft.Log{Type: raft.LogCommand, Data: b}
}

// memSink is a raft.SnapshotSink in memory.
type memSink struct{ bytes.Buffer }

func (*memSink) ID() string    { return "mem" }
func (*memSink) Cancel() error { return nil }
func (*memSink) Close() error  { return nil }

func Test_FSM_ApplyChangedSnapshotRestore(t *testing.T) {
	f := NewFSM()
	ch := f.Changed()
	res := f.Apply(logOf(t, Command{Op: OpRegister, Node: &coordapi.Node{ID: "n1", Addr: "h1:1"}})).(ApplyResult)
	if res.Err != nil || res.Topology.Primary != "n1" || res.Topology.Epoch != 1 {
		t.Fatalf("apply: %+v", res)
	}
	select {
	case <-ch:
	default:
		t.Fatal("Changed did not fire on a change")
	}
	ch = f.Changed()
	res = f.Apply(logOf(t, Command{Op: OpPromote, FromEpoch: 0, Primary: "n1"})).(ApplyResult)
	if !errors.Is(res.Err, ErrStaleEpoch) || res.Topology.Epoch != 1 {
		t.Fatalf("stale promote: %+v", res)
	}
	res = f.Apply(&raft.Log{Type: raft.LogCommand, Data: []byte("{")}).(ApplyResult)
	if !errors.Is(res.Err, ErrBadCommand) {
		t.Fatalf("garbage: %+v", res)
	}
	select {
	case <-ch:
		t.Fatal("Changed fired on a refused command")
	default:
	}

	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	g := NewFSM()
	gch := g.Changed()
	if err := g.Restore(io.NopCloser(&sink)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g.Current(), f.Current()) {
		t.Fatalf("restored %+v, want %+v", g.Current(), f.Current())
	}
	select {
	case <-gch:
	default:
		t.Fatal("Changed did not fire on restore")
	}
}
