package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/batonkv/baton/coordapi"
)

// fakeTarget answers the role and link questions of pick and links; the
// embedded nil Target makes any other call panic.
type fakeTarget struct {
	Target
	topo   coordapi.Topology
	leader string
	links  []*Link
}

func (f *fakeTarget) Topology(context.Context) (coordapi.Topology, error) { return f.topo, nil }
func (f *fakeTarget) RaftLeader(context.Context) (string, error)          { return f.leader, nil }
func (f *fakeTarget) Links() []*Link                                      { return f.links }
func (f *fakeTarget) Members(kind string) []string {
	switch kind {
	case KindCoordinator:
		return []string{"c1", "c2", "c3"}
	case KindProxy:
		return []string{"proxy"}
	}
	return []string{"n1", "n2", "n3"}
}

// newFake returns a fake appliance whose primary and Raft leader are the
// given members.
func newFake(primary, leader string) *fakeTarget {
	f := &fakeTarget{leader: leader}
	f.topo.Primary = primary
	for _, n := range []string{"n1", "n2", "n3"} {
		f.topo.Members = append(f.topo.Members, coordapi.Node{ID: n})
		f.links = append(f.links, &Link{Name: n, Kind: LinkNode, From: "proxy", To: n},
			&Link{Name: "repl-" + n, Kind: LinkReplication, From: "replicas", To: n})
		for _, c := range []string{"c1", "c2", "c3"} {
			f.links = append(f.links, &Link{Name: n + "-" + c, Kind: LinkNodeCoord, From: n, To: c})
		}
	}
	f.links = append(f.links, &Link{Name: "client-proxy", Kind: LinkClient, From: "client", To: "proxy"})
	return f
}

// schedule draws n choices the way the nemeses do and describes them.
func schedule(t *testing.T, f *fakeTarget, seed uint64, n int) []string {
	t.Helper()
	env := &Env{Target: f, Rand: rand.New(rand.NewPCG(seed, scheduleSeed("test")))}
	var out []string
	for range n {
		id, role, err := env.pick(context.Background(), processRoles...)
		if err != nil {
			t.Fatal(err)
		}
		g, ls, err := env.links(context.Background(), toxicGroups[:5]...)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s(%s) %s×%d %d", id, role, g, len(ls), between(env.Rand, 0, 1000)))
	}
	return out
}

func Test_Schedule_SeedReproducesChoices(t *testing.T) {
	a := schedule(t, newFake("n1", "c1"), 42, 50)
	b := schedule(t, newFake("n1", "c1"), 42, 50)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different schedules:\n%v\n%v", a, b)
	}
	if c := schedule(t, newFake("n1", "c1"), 43, 50); slices.Equal(a, c) {
		t.Fatal("seeds 42 and 43 drew the same schedule")
	}
}

// The cluster's state (who is primary) changes what a role resolves to,
// never the PRNG stream: the roles, groups and parameters drawn after a
// failover are those the seed dictates.
func Test_Schedule_StreamIndependentOfState(t *testing.T) {
	roles := func(f *fakeTarget) []string {
		var out []string
		env := &Env{Target: f, Rand: rand.New(rand.NewPCG(7, 7))}
		for range 30 {
			_, role, err := env.pick(context.Background(), processRoles...)
			if err != nil {
				t.Fatal(err)
			}
			g, _, err := env.links(context.Background(), toxicGroups[:5]...)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, role+" "+g+" "+fmt.Sprint(env.Rand.IntN(100)))
		}
		return out
	}
	if a, b := roles(newFake("n1", "c1")), roles(newFake("n3", "c2")); !slices.Equal(a, b) {
		t.Fatalf("the draws depend on the primary:\n%v\n%v", a, b)
	}
}

func Test_Links_Groups(t *testing.T) {
	f := newFake("n2", "c1")
	for g, want := range map[string]int{GroupClient: 1, GroupPrimaryNode: 1, GroupReplication: 1, GroupPrimaryCoord: 3, GroupPrimaryAll: 5} {
		env := &Env{Target: f, Rand: rand.New(rand.NewPCG(1, 1))}
		_, ls, err := env.links(context.Background(), g)
		if err != nil || len(ls) != want {
			t.Errorf("group %s: %d links (%v), want %d", g, len(ls), err, want)
		}
		for _, l := range ls {
			if g != GroupClient && l.To != "n2" && l.From != "n2" {
				t.Errorf("group %s aimed at primary n2 holds %s", g, l.Name)
			}
		}
	}
}
