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

// roleNode is a fake node answering ROLE as a replica of primary with the
// offset offset; close stops it (its probes fail from then on).
func roleNode(t *testing.T, primary string, offset int64) (addr string, close func()) {
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
			conn.WriteInt64(offset)
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

// Test_Failover_CandidateThatNeverPromotesIsReplaced: P dies; the leader
// commits epoch 2 with C (the best replica), which then vanishes before it
// promotes (it would learn the record only from the coordinators). The
// other replica R still follows P. The leader fails over again, away from
// C, to R: C never held a lease, so R's copy of P's history is all there
// is.
func Test_Failover_CandidateThatNeverPromotesIsReplaced(t *testing.T) {
	g := startGroup(t, func(c *Config) {
		c.Lease, c.DownAfter, c.ProbeInterval = 300*time.Millisecond, 300*time.Millisecond, 50*time.Millisecond
	})
	l := g.svcs[g.leader(t)]
	p := testutil.FreeAddr(t) // dead: nothing listens
	cAddr, stopC := roleNode(t, p, 200)
	rAddr, _ := roleNode(t, p, 100)
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
	deadline := time.Now().Add(5 * time.Second)
	for {
		top := l.raft.Local()
		if top.Epoch == 3 && top.Primary == "r" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("topology %+v 5 s after C vanished: want epoch 3 with r", top)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
