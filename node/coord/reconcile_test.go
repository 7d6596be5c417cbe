package coord

import (
	"reflect"
	"strconv"
	"testing"

	"github.com/batonkv/baton/coordapi"
)

// topo builds a topology whose members are n1..n3 on ports 7001..7003.
func topo(epoch uint64, primary string) coordapi.Topology {
	t := coordapi.Topology{Epoch: epoch, Primary: primary}
	for i := 1; i <= 3; i++ {
		t.Members = append(t.Members, coordapi.Node{ID: "n" + strconv.Itoa(i), Addr: "127.0.0.1:700" + strconv.Itoa(i)})
	}
	return t
}

func Test_Coord_Decide(t *testing.T) {
	primaryE3 := View{ID: "n1", Epoch: 3}
	replicaOfN2 := View{ID: "n1", Epoch: 3, Replica: true, Primary: "127.0.0.1:7002"}
	replicaOfN3 := View{ID: "n1", Epoch: 3, Replica: true, Primary: "127.0.0.1:7003"}
	noAddr := topo(4, "n9")
	cases := []struct {
		name string
		topo coordapi.Topology
		view View
		want action
	}{
		{"older epoch is ignored", topo(2, "n2"), primaryE3, action{ignore: true}},
		{"older epoch naming me is ignored", topo(2, "n1"), replicaOfN2, action{ignore: true}},
		{"primary stays primary", topo(3, "n1"), primaryE3, action{epoch: 3, lead: true}},
		{"primary of a newer epoch", topo(4, "n1"), primaryE3, action{epoch: 4, lead: true}},
		{"replica named primary promotes", topo(4, "n1"), replicaOfN2, action{epoch: 4, lead: true, promote: true}},
		{"primary demoted follows the new one", topo(4, "n2"), primaryE3, action{epoch: 4, follow: "127.0.0.1:7002"}},
		{"replica of the right primary does nothing", topo(3, "n2"), replicaOfN2, action{epoch: 3}},
		{"replica repoints to a new primary", topo(4, "n2"), replicaOfN3, action{epoch: 4, follow: "127.0.0.1:7002"}},
		{"a newer epoch with the same primary only raises", topo(5, "n2"), replicaOfN2, action{epoch: 5}},
		{"no primary", topo(4, ""), primaryE3, action{epoch: 4}},
		{"primary without an address", noAddr, replicaOfN2, action{epoch: 4}},
		{"fresh node, epoch 0", topo(1, "n2"), View{ID: "n1"}, action{epoch: 1, follow: "127.0.0.1:7002"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := decide(tc.topo, tc.view)
			got.reason = "" // free text, checked below
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("decide = %+v, want %+v", got, tc.want)
			}
		})
	}
	if a := decide(noAddr, replicaOfN2); a.reason == "" {
		t.Errorf("a primary without an address must be explained")
	}
}

func Test_Coord_NormalizeAddr(t *testing.T) {
	cases := map[string]string{
		"127.0.0.1:7001": "127.0.0.1:7001",
		"[::1]:7001":     "[::1]:7001",
		"::1":            "",
		"host":           "",
		":7001":          "",
		"":               "",
	}
	for in, want := range cases {
		if got := normalizeAddr(in); got != want {
			t.Errorf("normalizeAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func Test_Coord_ParseTopology(t *testing.T) {
	doc := `{"version":9,"epoch":3,"primary":"n1","members":[{"id":"n1","addr":"127.0.0.1:7001"},{"id":"n2","addr":"127.0.0.1:7002"}],` +
		`"state":"stable","takeover":null,"promoted_at":{"replid":"","lsn":0},` +
		`"coordinators":[{"id":"c1","raft_addr":"x","api_addr":"127.0.0.1:6701"}]}`
	got, err := coordapi.Decode(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := coordapi.Topology{Epoch: 3, Primary: "n1", Members: []coordapi.Node{{ID: "n1", Addr: "127.0.0.1:7001"}, {ID: "n2", Addr: "127.0.0.1:7002"}},
		Version: 9, State: coordapi.StateStable, Coordinators: []coordapi.Coordinator{{ID: "c1", RaftAddr: "x", APIAddr: "127.0.0.1:6701"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode = %+v, want %+v", got, want)
	}
	if got.AddrOf("n2") != "127.0.0.1:7002" || got.AddrOf("n9") != "" {
		t.Errorf("AddrOf is wrong")
	}
	if _, err := coordapi.Decode("{"); err == nil {
		t.Errorf("a truncated document must not parse")
	}
}
