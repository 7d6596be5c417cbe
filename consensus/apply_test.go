package consensus

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/coordapi"
)

func threeNodes() coordapi.Topology {
	return coordapi.Topology{
		Version: 3, Epoch: 3, Primary: "n1", State: coordapi.StateStable,
		Members: []coordapi.Node{{ID: "n1", Addr: "h1:1"}, {ID: "n2", Addr: "h2:1"}, {ID: "n3", Addr: "h3:1"}},
	}
}

func Test_Topology_Apply(t *testing.T) {
	deadline := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		start   coordapi.Topology
		cmds    []Command
		wantErr error
		check   func(t *testing.T, got coordapi.Topology)
	}{
		{
			name:  "first node of a fresh shard is primary of epoch 1",
			start: coordapi.Topology{},
			cmds:  []Command{{Op: OpRegister, Node: &coordapi.Node{ID: "n1", Addr: "h1:1"}}, {Op: OpRegister, Node: &coordapi.Node{ID: "n2", Addr: "h2:1"}}},
			check: func(t *testing.T, got coordapi.Topology) {
				if got.Epoch != 1 || got.Primary != "n1" || len(got.Members) != 2 || got.State != coordapi.StateStable {
					t.Fatalf("got %+v", got)
				}
				if got.PrimaryAddr() != "h1:1" {
					t.Fatalf("PrimaryAddr = %q", got.PrimaryAddr())
				}
			},
		},
		{
			name:  "register updates the address, epoch unchanged",
			start: threeNodes(),
			cmds:  []Command{{Op: OpRegister, Node: &coordapi.Node{ID: "n2", Addr: "h2:2"}}},
			check: func(t *testing.T, got coordapi.Topology) {
				if n, _ := got.Member("n2"); n.Addr != "h2:2" || got.Epoch != 3 || len(got.Members) != 3 {
					t.Fatalf("got %+v", got)
				}
			},
		},
		{name: "register without address", start: threeNodes(), cmds: []Command{{Op: OpRegister, Node: &coordapi.Node{ID: "n4"}}}, wantErr: ErrBadCommand},
		{name: "register without node", start: threeNodes(), cmds: []Command{{Op: OpRegister}}, wantErr: ErrBadCommand},
		{
			name:  "deregister a replica",
			start: threeNodes(),
			cmds:  []Command{{Op: OpDeregister, ID: "n3"}},
			check: func(t *testing.T, got coordapi.Topology) {
				if _, ok := got.Member("n3"); ok || len(got.Members) != 2 {
					t.Fatalf("got %+v", got)
				}
			},
		},
		{name: "deregister the primary is refused", start: threeNodes(), cmds: []Command{{Op: OpDeregister, ID: "n1"}}, wantErr: ErrBadCommand},
		{name: "deregister unknown", start: threeNodes(), cmds: []Command{{Op: OpDeregister, ID: "n9"}}, wantErr: ErrUnknownNode},
		{
			name: "promote moves the epoch and clears a takeover",
			start: func() coordapi.Topology {
				x := threeNodes()
				x.State = coordapi.StateTakeover
				x.Takeover = &coordapi.Takeover{From: "n1", To: "n2"}
				return x
			}(),
			cmds: []Command{{Op: OpPromote, FromEpoch: 3, Primary: "n2", PromotedAt: &coordapi.Promotion{Replid: "r2", LSN: 42}}},
			check: func(t *testing.T, got coordapi.Topology) {
				want := coordapi.Promotion{Replid: "r2", LSN: 42}
				if got.Epoch != 4 || got.Primary != "n2" || got.State != coordapi.StateStable || got.Takeover != nil || got.PromotedAt != want {
					t.Fatalf("got %+v", got)
				}
			},
		},
		{
			name: "promote without PromotedAt zeroes it",
			start: func() coordapi.Topology {
				x := threeNodes()
				x.PromotedAt = coordapi.Promotion{Replid: "old", LSN: 7}
				return x
			}(),
			cmds: []Command{{Op: OpPromote, FromEpoch: 3, Primary: "n3"}},
			check: func(t *testing.T, got coordapi.Topology) {
				if got.PromotedAt != (coordapi.Promotion{}) || got.Epoch != 4 {
					t.Fatalf("got %+v", got)
				}
			},
		},
		{name: "promote from a stale epoch", start: threeNodes(), cmds: []Command{{Op: OpPromote, FromEpoch: 2, Primary: "n2"}}, wantErr: ErrStaleEpoch},
		{name: "promote from a future epoch", start: threeNodes(), cmds: []Command{{Op: OpPromote, FromEpoch: 4, Primary: "n2"}}, wantErr: ErrStaleEpoch},
		{
			name:    "second promote of the same epoch loses the CAS",
			start:   threeNodes(),
			cmds:    []Command{{Op: OpPromote, FromEpoch: 3, Primary: "n2"}, {Op: OpPromote, FromEpoch: 3, Primary: "n3"}},
			wantErr: ErrStaleEpoch,
		},
		{name: "promote a non-member", start: threeNodes(), cmds: []Command{{Op: OpPromote, FromEpoch: 3, Primary: "n9"}}, wantErr: ErrUnknownNode},
		{
			name:  "set_state keeps the epoch",
			start: threeNodes(),
			cmds:  []Command{{Op: OpSetState, FromEpoch: 3, State: coordapi.StateTakeover, Takeover: &coordapi.Takeover{From: "n1", To: "n2", Deadline: deadline, Step: "hold"}}},
			check: func(t *testing.T, got coordapi.Topology) {
				if got.Epoch != 3 || got.State != coordapi.StateTakeover || got.Takeover == nil || got.Takeover.To != "n2" || !got.Takeover.Deadline.Equal(deadline) {
					t.Fatalf("got %+v", got)
				}
			},
		},
		{
			name:  "version: every command counts, a stale FromVersion is refused",
			start: threeNodes(),
			cmds: []Command{
				{Op: OpSetState, FromEpoch: 3, FromVersion: 3, State: coordapi.StateTakeover, Takeover: &coordapi.Takeover{ID: 4, From: "n1", To: "n2"}},
				{Op: OpSetState, FromEpoch: 3, State: coordapi.StateStable},
				{Op: OpPromote, FromEpoch: 3, FromVersion: 4, Primary: "n2"},
			},
			wantErr: ErrStaleEpoch,
		},
		{
			name:  "version chains a takeover's steps into its promote",
			start: threeNodes(),
			cmds: []Command{
				{Op: OpSetState, FromEpoch: 3, FromVersion: 3, State: coordapi.StateTakeover, Takeover: &coordapi.Takeover{ID: 4, From: "n1", To: "n2"}},
				{Op: OpPromote, FromEpoch: 3, FromVersion: 4, Primary: "n2"},
			},
			check: func(t *testing.T, got coordapi.Topology) {
				if got.Version != 5 || got.Epoch != 4 || got.Primary != "n2" || got.State != coordapi.StateStable {
					t.Fatalf("got %+v", got)
				}
			},
		},
		{name: "set_state stale", start: threeNodes(), cmds: []Command{{Op: OpSetState, FromEpoch: 1, State: coordapi.StateFailover}}, wantErr: ErrStaleEpoch},
		{name: "set_state unknown state", start: threeNodes(), cmds: []Command{{Op: OpSetState, FromEpoch: 3, State: "odd"}}, wantErr: ErrBadCommand},
		{
			name:  "coordinators add, update, remove (absent is fine)",
			start: threeNodes(),
			cmds: []Command{
				{Op: OpSetCoordinator, Coordinator: &coordapi.Coordinator{ID: "c1", RaftAddr: "r1", APIAddr: "a1"}},
				{Op: OpSetCoordinator, Coordinator: &coordapi.Coordinator{ID: "c2", RaftAddr: "r2", APIAddr: "a2"}},
				{Op: OpSetCoordinator, Coordinator: &coordapi.Coordinator{ID: "c1", RaftAddr: "r1", APIAddr: "a1b"}},
				{Op: OpRemoveCoordinator, ID: "c2"},
				{Op: OpRemoveCoordinator, ID: "c9"},
			},
			check: func(t *testing.T, got coordapi.Topology) {
				want := []coordapi.Coordinator{{ID: "c1", RaftAddr: "r1", APIAddr: "a1b"}}
				if !reflect.DeepEqual(got.Coordinators, want) {
					t.Fatalf("coordinators = %+v", got.Coordinators)
				}
				if c, ok := got.Coordinator("c1"); !ok || c.APIAddr != "a1b" {
					t.Fatalf("Coordinator(c1) = %+v %v", c, ok)
				}
			},
		},
		{name: "unknown op", start: threeNodes(), cmds: []Command{{Op: "nope"}}, wantErr: ErrBadCommand},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.start.Clone()
			var err error
			for _, c := range tc.cmds {
				before := got.Clone()
				if err = Apply(&got, c); err != nil {
					if !reflect.DeepEqual(got, before) {
						t.Fatalf("failed Apply changed the topology: %+v -> %+v", before, got)
					}
					break
				}
			}
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

func Test_Topology_StaleEpochNamesBoth(t *testing.T) {
	top := threeNodes()
	err := Apply(&top, Command{Op: OpPromote, FromEpoch: 1, Primary: "n2"})
	if !errors.Is(err, ErrStaleEpoch) {
		t.Fatalf("err = %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "epoch 1") || !strings.Contains(msg, "epoch 3") {
		t.Fatalf("error %q should name both epochs", msg)
	}
}

func Test_Topology_CloneIsDeep(t *testing.T) {
	a := threeNodes()
	a.Takeover = &coordapi.Takeover{From: "n1"}
	a.Coordinators = []coordapi.Coordinator{{ID: "c1"}}
	b := a.Clone()
	b.Members[0].Addr = "x"
	b.Takeover.From = "x"
	b.Coordinators[0].ID = "x"
	if a.Members[0].Addr == "x" || a.Takeover.From == "x" || a.Coordinators[0].ID == "x" {
		t.Fatalf("clone shares memory: %+v", a)
	}
}

func Test_Topology_PrimaryAddrEmpty(t *testing.T) {
	if got := (coordapi.Topology{}).PrimaryAddr(); got != "" {
		t.Fatalf("PrimaryAddr = %q", got)
	}
}
