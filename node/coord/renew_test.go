package coord

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/coordapi/coordapitest"
)

// unfrozen is a Node that is never frozen (all renewOnce asks of it).
type unfrozen struct{ Node }

func (unfrozen) FrozenBy() uint64 { return 0 }

// Test_Renew_ReportsTheAcknowledgedLSN: every renewal carries the
// acknowledged LSN and --sync-replicas (BATON.LEASE id epoch acked k).
func Test_Renew_ReportsTheAcknowledgedLSN(t *testing.T) {
	var mu sync.Mutex
	var got [][]string
	fake := coordapitest.NewFake(t, func(args []string) string {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, slices.Clone(args))
		return ":900\r\n"
	})
	acked := uint64(41)
	c := New(Config{Coordinators: []string{fake.Addr}, NodeID: "n1", SyncReplicas: 1,
		AckedLSN: func() uint64 { acked++; return acked }}, unfrozen{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c.lease.Claim(3)
	cc := coordapi.NewClient([]string{fake.Addr}, "")
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.renewOnce(ctx, cc, 3, time.Second)
	if !c.lease.Valid(3, time.Now()) {
		t.Fatal("no lease after a grant")
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{coordapi.CmdLease, "n1", "3", "42", "1"}
	if len(got) != 1 || !slices.Equal(got[0], want) {
		t.Fatalf("sent %q, want [%q]", got, want)
	}
}
