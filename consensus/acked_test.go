package consensus

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonkv/baton/coordapi"
)

// fakeReplica answers every command (ROLE, probes) with a replica's ROLE
// reply: following primary at the given offset (atomic, settable).
func fakeReplica(t *testing.T, primary string, offset *atomic.Uint64) string {
	return fakeReplicaOn(t, "127.0.0.1:0", primary, offset)
}

// fakeReplicaOn is fakeReplica listening on addr.
func fakeReplicaOn(t *testing.T, addr, primary string, offset *atomic.Uint64) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	host, port, _ := net.SplitHostPort(primary)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				r := bufio.NewReader(nc)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
					var cmd string
					for i := 0; i < n; i++ {
						r.ReadString('\n')
						a, _ := r.ReadString('\n')
						if i == 0 {
							cmd = strings.ToLower(strings.TrimSpace(a))
						}
					}
					if cmd != "role" {
						fmt.Fprint(nc, "+OK\r\n")
						continue
					}
					fmt.Fprintf(nc, "*5\r\n$5\r\nslave\r\n$%d\r\n%s\r\n:%s\r\n$7\r\nconnect\r\n:%d\r\n", len(host), host, port, offset.Load())
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// Test_Failover_NotToAReplicaBehindTheAckedLSN: the primary reported (with
// its lease renewal) that writes up to LSN 100 were acknowledged; the only
// reachable replica is at 50. The leader must not promote it (it would
// discard acknowledged writes) until it has caught up.
func Test_Failover_NotToAReplicaBehindTheAckedLSN(t *testing.T) {
	g := startGroup(t, func(c *Config) {
		c.Lease = 300 * time.Millisecond
		c.DownAfter = 300 * time.Millisecond
	})
	ctx := context.Background()
	lc := g.client(t, g.leader(t), testSecret)
	primary := "127.0.0.1:1" // nothing listens: the primary is down
	var off atomic.Uint64
	off.Store(50)
	if err := lc.Do(ctx, "baton.register", "n1", primary).Err(); err != nil {
		t.Fatal(err)
	}
	if err := lc.Do(ctx, "baton.register", "n2", fakeReplica(t, primary, &off)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := lc.Do(ctx, "baton.lease", "n1", "1", "100", "1").Err(); err != nil {
		t.Logf("BATON.LEASE n1 1 100 1: %v", err)
	}
	epochNow := func() coordapi.Topology {
		s, err := lc.Do(ctx, "baton.topology").Text()
		if err != nil { // a leader election under load: ask again
			return coordapi.Topology{Epoch: 1}
		}
		return parseTopology(t, s)
	}
	// The report lives in the leader's memory: a leader elected meanwhile
	// (a loaded machine) would not know it and, seeing every replica,
	// rightly trusts the best one (a real replica's offset is never below
	// what it acknowledged; this fake's is). So the report is repeated to
	// whoever leads, as a primary's renewals would.
	cc := coordapi.NewClient(g.addrs, testSecret)
	defer cc.Close()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		cc.Do(ctx, "baton.lease", "n1", "1", "100", "1")
		if tp := epochNow(); tp.Epoch != 1 {
			t.Fatalf("promoted %s (epoch %d) at offset 50, behind the acknowledged LSN 100", tp.Primary, tp.Epoch)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Caught up: now it may be promoted.
	off.Store(100)
	waitFor(t, "failover to n2", func() bool { tp := epochNow(); return tp.Epoch == 2 && tp.Primary == "n2" })
}

// Test_Failover_NotWhileAnAckingReplicaIsUnseen: the primary reported LSN
// 100 acknowledged under --sync-replicas 1; n2 is at 100 but n3 is
// unreachable. A write acknowledged after the last renewal (before the
// lease ran out) may live on n3 alone, so no failover until n3 is seen.
func Test_Failover_NotWhileAnAckingReplicaIsUnseen(t *testing.T) {
	g := startGroup(t, func(c *Config) {
		c.Lease = 300 * time.Millisecond
		c.DownAfter = 300 * time.Millisecond
	})
	ctx := context.Background()
	lc := g.client(t, g.leader(t), testSecret)
	primary := "127.0.0.1:1"
	var off2, off3 atomic.Uint64
	off2.Store(100)
	off3.Store(120)
	n3ln, err := net.Listen("tcp", "127.0.0.1:0") // reserved; n3 is not answering yet
	if err != nil {
		t.Fatal(err)
	}
	n3addr := n3ln.Addr().String()
	n3ln.Close()
	for _, r := range [][2]string{{"n1", primary}, {"n2", fakeReplica(t, primary, &off2)}, {"n3", n3addr}} {
		if err := lc.Do(ctx, "baton.register", r[0], r[1]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := lc.Do(ctx, "baton.lease", "n1", "1", "100", "1").Err(); err != nil {
		t.Logf("BATON.LEASE n1 1 100 1: %v", err)
	}
	epochNow := func() coordapi.Topology {
		s, err := lc.Do(ctx, "baton.topology").Text()
		if err != nil { // a leader election under load: ask again
			return coordapi.Topology{Epoch: 1}
		}
		return parseTopology(t, s)
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if tp := epochNow(); tp.Epoch != 1 {
			t.Fatalf("promoted %s (epoch %d) while n3, which may hold acknowledged writes, was unreachable", tp.Primary, tp.Epoch)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// n3 answers again (the partition healed): the best of both is chosen.
	fakeReplicaOn(t, n3addr, primary, &off3)
	waitFor(t, "failover to n3", func() bool { tp := epochNow(); return tp.Epoch == 2 && tp.Primary == "n3" })
}
