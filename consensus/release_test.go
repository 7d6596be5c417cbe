package consensus

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/tidwall/redcon"
)

// fakeNode serves RESP on loopback, answering every command with reply
// (args lower-cased in args[0]); it stops with the test.
func fakeNode(t *testing.T, reply func(conn redcon.Conn, args []string)) string {
	t.Helper()
	ln := svcListen(t)
	srv := redcon.NewServer("", func(conn redcon.Conn, cmd redcon.Command) {
		args := make([]string, len(cmd.Args))
		for i, a := range cmd.Args {
			args[i] = string(a)
		}
		args[0] = strings.ToLower(args[0])
		reply(conn, args)
	}, nil, func(redcon.Conn, error) {})
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// fakePrimary is a node that says it is a primary at lsn, and answers a
// takeover's BATON.FREEZE with [lsn, 0] and anything else with +OK.
func fakePrimary(t *testing.T, lsn int64) string {
	return fakeNode(t, func(conn redcon.Conn, args []string) {
		switch args[0] {
		case "role":
			conn.WriteArray(3)
			conn.WriteBulkString("master")
			conn.WriteInt64(lsn)
			conn.WriteArray(0)
		case "baton.freeze":
			conn.WriteArray(2)
			conn.WriteInt64(lsn)
			conn.WriteInt64(0)
		default:
			conn.WriteString("OK")
		}
	})
}

// registerAll registers nodes [id, addr] in order (the first is primary of
// epoch 1).
func registerAll(t *testing.T, lc *redis.Client, nodes ...[2]string) {
	t.Helper()
	for _, n := range nodes {
		if err := lc.Do(ctxT(t), "baton.register", n[0], n[1]).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// Test_Failover_WithoutCandidateGivesTheLeaseBack: a failover refuses the
// primary's renewals while it waits out its lease; when it then finds no
// candidate (here n3, which may hold acknowledged writes, is unseen) it
// committed nothing, and the primary, alive after all, must be able to
// renew again — not be refused for the rest of the leader's term.
func Test_Failover_WithoutCandidateGivesTheLeaseBack(t *testing.T) {
	g := startGroup(t, func(c *Config) {
		c.Lease = 300 * time.Millisecond
		c.DownAfter = time.Minute // only the requested failover below
	})
	ctx := context.Background()
	lc := g.client(t, g.leader(t), testSecret)
	p := fakePrimary(t, 100)
	var off atomic.Uint64
	off.Store(100)
	registerAll(t, lc, [2]string{"n1", p}, [2]string{"n2", fakeReplica(t, p, &off)}, [2]string{"n3", testutil.FreeAddr(t)})
	if err := lc.Do(ctx, "baton.lease", "n1", "1", "100", "1").Err(); err != nil {
		t.Fatalf("first renewal: %v", err)
	}
	err := lc.Do(ctx, "baton.failover").Err()
	if err == nil || !strings.Contains(err.Error(), "n3 may hold acknowledged writes") {
		t.Fatalf("BATON.FAILOVER = %v, want no candidate while n3 is unseen", err)
	}
	if err := lc.Do(ctx, "baton.lease", "n1", "1", "100", "1").Err(); err != nil {
		t.Fatalf("renewal after a failover that committed nothing: %v", err)
	}
}

// Test_Takeover_RollbackDoesNotDeclareThePrimaryDown: the coordinators
// refuse the old primary's renewals while a takeover runs (here 1.5 s,
// longer than down-after + L/3); once it rolled back, the primary is due
// to renew from then on. Before, the detector counted the takeover as a
// renewal gap and failed over away from a primary that was serving again.
func Test_Takeover_RollbackDoesNotDeclareThePrimaryDown(t *testing.T) {
	g := startGroup(t, func(c *Config) {
		c.Lease = 300 * time.Millisecond
		c.DownAfter = 600 * time.Millisecond
	})
	ctx := context.Background()
	lc := g.client(t, g.leader(t), testSecret)
	p := fakePrimary(t, 100)
	var off atomic.Uint64
	off.Store(50) // never reaches the frozen primary's LSN: parity fails
	registerAll(t, lc, [2]string{"n1", p}, [2]string{"n2", fakeReplica(t, p, &off)})
	if err := lc.Do(ctx, "baton.lease", "n1", "1", "100", "0").Err(); err != nil {
		t.Fatalf("first renewal: %v", err)
	}
	s, err := lc.Do(ctx, "baton.takeover", "TO", "n2", "TIMEOUT", "1500", "GRACE", "100").Text()
	if err != nil {
		t.Fatal(err)
	}
	var rep coordapi.TakeoverReport
	if err := json.Unmarshal([]byte(s), &rep); err != nil || rep.Outcome != coordapi.OutcomeRolledBack {
		t.Fatalf("takeover: %s (%v), want a rollback", s, err)
	}
	// The node renews within its first interval (300 ms) after the
	// refusals; it is well inside down-after + L/3 of the rollback.
	time.Sleep(200 * time.Millisecond)
	if err := lc.Do(ctx, "baton.lease", "n1", "1", "100", "0").Err(); err != nil {
		t.Fatalf("renewal after the rollback: %v", err)
	}
	if tp := parseTopology(t, lc.Do(ctx, "baton.topology").Val().(string)); tp.Epoch != 1 || tp.Primary != "n1" {
		t.Fatalf("after the rollback: %+v, want n1 still primary of epoch 1", tp)
	}
}

// Test_Failover_ForcedTargetBehindAnotherReplicaIsRefused: under
// --sync-replicas 1 the primary reported LSN 100; n2 is at 150, n3 at 120.
// A write acknowledged after the report may be on n2 alone (up to 150), so
// a forced failover to n3 would discard it: refused. To n2 it goes.
func Test_Failover_ForcedTargetBehindAnotherReplicaIsRefused(t *testing.T) {
	g := startGroup(t, func(c *Config) {
		c.Lease = 300 * time.Millisecond
		c.DownAfter = time.Minute // only the requested failovers below
	})
	ctx := context.Background()
	lc := g.client(t, g.leader(t), testSecret)
	p := fakePrimary(t, 150)
	var off2, off3 atomic.Uint64
	off2.Store(150)
	off3.Store(120)
	registerAll(t, lc, [2]string{"n1", p}, [2]string{"n2", fakeReplica(t, p, &off2)}, [2]string{"n3", fakeReplica(t, p, &off3)})
	if err := lc.Do(ctx, "baton.lease", "n1", "1", "100", "1").Err(); err != nil {
		t.Fatalf("renewal: %v", err)
	}
	err := lc.Do(ctx, "baton.failover", "n3").Err()
	if err == nil || !strings.Contains(err.Error(), "n3: offset 120 behind the acknowledged LSN 150") {
		t.Fatalf("BATON.FAILOVER n3 = %v, want a refusal: n3 is behind n2", err)
	}
	s, err := lc.Do(ctx, "baton.failover", "n2").Text()
	if err != nil {
		t.Fatalf("BATON.FAILOVER n2: %v", err)
	}
	if tp := parseTopology(t, s); tp.Epoch != 2 || tp.Primary != "n2" {
		t.Fatalf("after BATON.FAILOVER n2: %+v", tp)
	}
}
