package coordapi

import (
	"testing"
	"time"
)

func Test_Topology_Compare(t *testing.T) {
	cases := []struct {
		name string
		a, b Topology
		want int
	}{
		{"zero values", Topology{}, Topology{}, 0},
		{"both equal", Topology{Epoch: 3, Version: 9}, Topology{Epoch: 3, Version: 9}, 0},
		{"same epoch, version up", Topology{Epoch: 3, Version: 10}, Topology{Epoch: 3, Version: 9}, 1},
		{"same epoch, version down", Topology{Epoch: 3, Version: 8}, Topology{Epoch: 3, Version: 9}, -1},
		{"epoch up, version down", Topology{Epoch: 4, Version: 1}, Topology{Epoch: 3, Version: 9}, 1},
		{"epoch down, version up", Topology{Epoch: 2, Version: 99}, Topology{Epoch: 3, Version: 9}, -1},
		{"anything beats zero", Topology{Version: 1}, Topology{}, 1},
	}
	for _, c := range cases {
		if got := c.a.Compare(c.b); got != c.want {
			t.Errorf("%s: Compare = %d, want %d", c.name, got, c.want)
		}
		if got := c.b.Compare(c.a); got != -c.want {
			t.Errorf("%s: reversed Compare = %d, want %d", c.name, got, -c.want)
		}
		if c.a.NewerThan(c.b) != (c.want > 0) {
			t.Errorf("%s: NewerThan disagrees with Compare", c.name)
		}
	}
}

// The JSON is the coordinators' wire format: field names and omissions must
// not change.
func Test_Topology_JSON(t *testing.T) {
	top := Topology{Version: 7, Epoch: 2, Primary: "n1",
		Members:    []Node{{ID: "n1", Addr: "h1:1"}, {ID: "n2", Addr: "h2:1", ReplAddr: "r2:1"}},
		State:      StateTakeover,
		Takeover:   &Takeover{ID: 6, From: "n1", To: "n2", Deadline: time.Unix(0, 0).UTC(), Step: StepHold},
		PromotedAt: Promotion{Replid: "abc", LSN: 10}, Coordinators: []Coordinator{{ID: "c1", RaftAddr: "h:2", APIAddr: "h:3"}}}
	want := `{"version":7,"epoch":2,"primary":"n1","members":[{"id":"n1","addr":"h1:1"},{"id":"n2","addr":"h2:1","repl_addr":"r2:1"}],` +
		`"state":"takeover","takeover":{"id":6,"from":"n1","to":"n2","deadline":"1970-01-01T00:00:00Z","step":"hold"},` +
		`"promoted_at":{"replid":"abc","lsn":10},"coordinators":[{"id":"c1","raft_addr":"h:2","api_addr":"h:3"}]}`
	if got := top.JSON(); got != want {
		t.Fatalf("JSON =\n%s\nwant\n%s", got, want)
	}
	back, err := Decode(want)
	if err != nil || back.JSON() != want {
		t.Fatalf("Decode round trip: %v, %s", err, back.JSON())
	}
	if _, err := Decode("{"); err == nil {
		t.Fatal("Decode accepted bad JSON")
	}
}

func Test_Topology_Addresses(t *testing.T) {
	top := Topology{Primary: "n2", Members: []Node{{ID: "n1", Addr: "h1:1"}, {ID: "n2", Addr: "h2:1", ReplAddr: "r2:1"}}}
	if top.PrimaryAddr() != "h2:1" || top.AddrOf("n1") != "h1:1" || top.AddrOf("n9") != "" {
		t.Fatalf("addresses: primary %q n1 %q", top.PrimaryAddr(), top.AddrOf("n1"))
	}
	if top.ReplAddrOf("n2") != "r2:1" || top.ReplAddrOf("n1") != "h1:1" || top.ReplAddrOf("n9") != "" {
		t.Fatal("ReplAddrOf: ReplAddr when set, else Addr, else empty")
	}
	if got := top.MemberAddrs(); len(got) != 2 || got[0] != "h1:1" || got[1] != "h2:1" {
		t.Fatalf("MemberAddrs = %v", got)
	}
	if (Topology{}).PrimaryAddr() != "" || top.InTakeover() {
		t.Fatal("no primary, no takeover")
	}
	c := top.Clone()
	c.Members[0].Addr = "x"
	if top.Members[0].Addr != "h1:1" {
		t.Fatal("Clone shares members")
	}
}
