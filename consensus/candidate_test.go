package consensus

import (
	"errors"
	"strings"
	"testing"

	"github.com/batonkv/baton/coordapi"
)

func ok(id string, off uint64) ReplicaStatus {
	return ReplicaStatus{ID: id, Reachable: true, Following: "h1:1", LinkState: "connected", Offset: off, Role: "slave"}
}

func Test_ChooseCandidate(t *testing.T) {
	top := coordapi.Topology{Epoch: 5, Primary: "n1", Members: []coordapi.Node{{ID: "n1", Addr: "h1:1"}, {ID: "n2", Addr: "h2:1"}, {ID: "n3", Addr: "h3:1"}, {ID: "n4", Addr: "h4:1"}}}
	mod := func(s ReplicaStatus, f func(*ReplicaStatus)) ReplicaStatus { f(&s); return s }
	tests := []struct {
		name    string
		st      []ReplicaStatus
		want    string
		reasons []string // substrings of the error, when no candidate
	}{
		{name: "highest offset", st: []ReplicaStatus{ok("n2", 10), ok("n3", 12), ok("n4", 11)}, want: "n3"},
		{name: "tie by smallest id", st: []ReplicaStatus{ok("n4", 12), ok("n3", 12), ok("n2", 11)}, want: "n3"},
		{name: "primary itself never chosen", st: []ReplicaStatus{mod(ok("n1", 99), func(s *ReplicaStatus) {}), ok("n2", 1)}, want: "n2"},
		{name: "non-member ignored", st: []ReplicaStatus{ok("n9", 99), ok("n2", 1)}, want: "n2"},
		{
			name: "skips ineligible, picks the eligible lower offset",
			st: []ReplicaStatus{
				mod(ok("n2", 50), func(s *ReplicaStatus) { s.LinkState = "sync" }),
				mod(ok("n3", 60), func(s *ReplicaStatus) { s.Reachable = false }),
				ok("n4", 5),
			},
			want: "n4",
		},
		{
			name: "none eligible",
			st: []ReplicaStatus{
				mod(ok("n2", 50), func(s *ReplicaStatus) { s.LinkState = "sync" }),
				mod(ok("n3", 60), func(s *ReplicaStatus) { s.Reachable = false }),
				mod(ok("n4", 70), func(s *ReplicaStatus) { s.Following = "h9:1" }),
			},
			reasons: []string{"n2: state sync", "n3: unreachable", "n4: follows h9:1"},
		},
		{
			name: "offset 0 and a master are refused",
			st: []ReplicaStatus{
				ok("n2", 0),
				mod(ok("n3", 60), func(s *ReplicaStatus) { s.Role = "master"; s.Following = "" }),
			},
			reasons: []string{"n2: offset 0", "n3: role master", "n4: no status"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ChooseCandidate(top, tc.st)
			if tc.reasons == nil {
				if err != nil || got != tc.want {
					t.Fatalf("got %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, ErrNoCandidate) || got != "" {
				t.Fatalf("got %q, %v; want ErrNoCandidate", got, err)
			}
			for _, r := range tc.reasons {
				if !strings.Contains(err.Error(), r) {
					t.Errorf("error %q lacks %q", err, r)
				}
			}
		})
	}
}

func Test_ChooseCandidate_NoPrimaryAddr(t *testing.T) {
	top := coordapi.Topology{Members: []coordapi.Node{{ID: "n2", Addr: "h2:1"}}}
	if _, err := ChooseCandidate(top, []ReplicaStatus{ok("n2", 3)}); !errors.Is(err, ErrNoCandidate) {
		t.Fatalf("err = %v, want ErrNoCandidate", err)
	}
}

// Test_ChooseCandidate_LinkDownAfterPrimaryLoss: once the primary is gone
// its replicas' links show "connect" (retrying); they stay eligible, a
// replica mid full sync does not.
func Test_ChooseCandidate_LinkDownAfterPrimaryLoss(t *testing.T) {
	top := coordapi.Topology{Epoch: 4, Primary: "n1", Members: []coordapi.Node{{ID: "n1", Addr: "h1:1"}, {ID: "n2", Addr: "h2:1"}, {ID: "n3", Addr: "h3:1"}}}
	down := func(id string, off uint64, state string) ReplicaStatus {
		return ReplicaStatus{ID: id, Reachable: true, Following: "h1:1", LinkState: state, Offset: off, Role: "slave"}
	}
	got, err := ChooseCandidate(top, []ReplicaStatus{down("n2", 40, "connect"), down("n3", 90, "sync")})
	if err != nil || got != "n2" {
		t.Fatalf("ChooseCandidate = %q, %v; want n2 (n3 is mid full sync)", got, err)
	}
}

func Test_ChooseCandidateAtLeast_SkipsReplicasBehindTheAckedLSN(t *testing.T) {
	top := coordapi.Topology{Epoch: 5, Primary: "n1", Members: []coordapi.Node{{ID: "n1", Addr: "h1:1"}, {ID: "n2", Addr: "h2:1"}, {ID: "n3", Addr: "h3:1"}}}
	if got, err := ChooseCandidateAtLeast(top, []ReplicaStatus{ok("n2", 99), ok("n3", 100)}, 100); err != nil || got != "n3" {
		t.Fatalf("got %q, %v; want n3", got, err)
	}
	_, err := ChooseCandidateAtLeast(top, []ReplicaStatus{ok("n2", 99)}, 100)
	if !errors.Is(err, ErrNoCandidate) || !strings.Contains(err.Error(), "n2: offset 99 behind the acknowledged LSN 100") {
		t.Fatalf("err = %v", err)
	}
}

func Test_CheckAckers(t *testing.T) {
	top := coordapi.Topology{Epoch: 5, Primary: "n1", Members: []coordapi.Node{{ID: "n1", Addr: "h1:1"}, {ID: "n2", Addr: "h2:1"}, {ID: "n3", Addr: "h3:1"}, {ID: "n4", Addr: "h4:1"}}}
	gone := func(id string) ReplicaStatus { return ReplicaStatus{ID: id} }
	tests := []struct {
		name     string
		st       []ReplicaStatus
		replicas int
		ok       bool
	}{
		{"async: nothing promised", []ReplicaStatus{ok("n2", 1), gone("n3"), gone("n4")}, 0, true},
		{"k=1: two of three unseen", []ReplicaStatus{ok("n2", 1), gone("n3"), gone("n4")}, 1, false},
		{"k=2: two unseen, one seen acker", []ReplicaStatus{ok("n2", 1), gone("n3"), gone("n4")}, 2, false},
		{"k=3: one seen is enough", []ReplicaStatus{ok("n2", 1), gone("n3"), gone("n4")}, 3, true},
		{"k=2: one unseen", []ReplicaStatus{ok("n2", 1), ok("n3", 2), gone("n4")}, 2, true},
		{"k=1: all seen", []ReplicaStatus{ok("n2", 1), ok("n3", 2), ok("n4", 3)}, 1, true},
		{"no report: all must be seen", []ReplicaStatus{ok("n2", 1), ok("n3", 2), gone("n4")}, -1, false},
		{"no report, all seen", []ReplicaStatus{ok("n2", 1), ok("n3", 2), ok("n4", 3)}, -1, true},
	}
	for _, tc := range tests {
		err := CheckAckers(top, tc.st, tc.replicas)
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrNoCandidate) {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
