package consensus

import (
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/testutil"
	"github.com/tidwall/redcon"
)

// roleNode is a fake node answering ROLE as a replica of primary at
// offset (settable); close stops it (its probes fail from then on).
func roleNode(t *testing.T, primary string, offset *atomic.Int64) (addr string, close func()) {
	t.Helper()
	host, port, _ := net.SplitHostPort(primary)
	p, _ := strconv.Atoi(port)
	ln := svcListen(t)
	var closed atomic.Bool
	srv := redcon.NewServer("", func(conn redcon.Conn, cmd redcon.Command) {
		if closed.Load() {
			conn.Close()
			return
		}
		switch strings.ToLower(string(cmd.Args[0])) {
		case "role":
			conn.WriteArray(5)
			conn.WriteBulkString("slave")
			conn.WriteBulkString(host)
			conn.WriteInt(p)
			conn.WriteBulkString("connect")
			conn.WriteInt64(offset.Load())
		default:
			conn.WriteString("OK")
		}
	}, nil, func(redcon.Conn, error) {})
	go srv.Serve(ln)
	stop := func() {
		if closed.CompareAndSwap(false, true) {
			srv.Close()
		}
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}

// unpromotedCandidate sets up issue 16 #7a: P dies; the leader commits
// epoch 2 with C (the best replica, at cOff), which then vanishes before it
// promotes (it would learn the record only from the coordinators). The
// other replica R (at rOff, settable) still follows P. It returns the
// leader's Raft and R's offset.
func unpromotedCandidate(t *testing.T, cOff, rOff int64) (*Raft, *atomic.Int64) {
	t.Helper()
	g := startGroup(t, func(c *Config) {
		c.Lease, c.DownAfter, c.ProbeInterval = 300*time.Millisecond, 300*time.Millisecond, 50*time.Millisecond
	})
	l := g.svcs[g.leader(t)]
	p := testutil.FreeAddr(t) // dead: nothing listens
	var co, ro atomic.Int64
	co.Store(cOff)
	ro.Store(rOff)
	cAddr, stopC := roleNode(t, p, &co)
	rAddr, _ := roleNode(t, p, &ro)
	for _, n := range []coordapi.Node{{ID: "p", Addr: p}, {ID: "c", Addr: cAddr}, {ID: "r", Addr: rAddr}} {
		if _, err := l.raft.Apply(ctxT(t), Command{Op: OpRegister, Node: &n}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "epoch 2 with C", func() bool {
		top := l.raft.Local()
		return top.Epoch == 2 && top.Primary == "c"
	})
	stopC()
	return l.raft, &ro
}

// Test_Failover_CandidateThatNeverPromotesIsReplaced: C never promoted
// (it held no lease, so it took no write); R is as far as C was chosen at,
// so it holds every write P acknowledged. The leader fails over again,
// away from C, to R.
func Test_Failover_CandidateThatNeverPromotesIsReplaced(t *testing.T) {
	l, _ := unpromotedCandidate(t, 200, 200)
	deadline := time.Now().Add(5 * time.Second)
	for {
		top := l.Local()
		if top.Epoch == 3 && top.Primary == "r" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("topology %+v 5 s after C vanished: want epoch 3 with r", top)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Test_Failover_UnpromotedCandidateIsNotReplacedByAStaleReplica: C was
// chosen at LSN 200 and P never reported what it acknowledged, so P may
// have acknowledged writes up to 200 (on C alone). R at 100 may lack them:
// it must not replace C until it has caught up to 200.
func Test_Failover_UnpromotedCandidateIsNotReplacedByAStaleReplica(t *testing.T) {
	l, r := unpromotedCandidate(t, 200, 100)
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if top := l.Local(); top.Epoch != 2 {
			t.Fatalf("%+v: promoted %s at offset 100, behind the LSN 200 C was chosen at", top, top.Primary)
		}
	}
	r.Store(200)
	waitFor(t, "epoch 3 with r once it caught up", func() bool {
		top := l.Local()
		return top.Epoch == 3 && top.Primary == "r"
	})
}

// Test_AckedBound: the bound a replacement of an unpromoted candidate must
// reach is the highest eligible offset when writes were promised durable
// (or k is unknown), the reported LSN when none were (k = 0).
func Test_AckedBound(t *testing.T) {
	top := coordapi.Topology{Epoch: 5, Primary: "n1", Members: []coordapi.Node{{ID: "n1", Addr: "h1:1"}, {ID: "n2", Addr: "h2:1"}, {ID: "n3", Addr: "h3:1"}, {ID: "n4", Addr: "h4:1"}}}
	st := []ReplicaStatus{ok("n2", 150), ok("n3", 120), {ID: "n4", Reachable: true, Role: "slave", Following: "h9:1", Offset: 900}}
	for _, tc := range []struct {
		rep  ackedReport
		want uint64
	}{
		{ackedReport{lsn: 100, replicas: 1}, 150},
		{ackedReport{lsn: 0, replicas: -1}, 150},
		{ackedReport{lsn: 160, replicas: 2}, 160},
		{ackedReport{lsn: 0, replicas: 0}, 0},
	} {
		if got := ackedBound(top, st, tc.rep); got != tc.want {
			t.Errorf("ackedBound(%+v) = %d, want %d (n4 follows another primary)", tc.rep, got, tc.want)
		}
	}
}
