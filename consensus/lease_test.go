package consensus

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// waitService is a Service with just what awaitLeaseEnd uses; leaderTerm
// reports term 1 (leading) for the first first calls, then next.
func waitService(lease time.Duration, first int, next func() (uint64, bool)) *Service {
	var calls atomic.Int32
	c := &Service{cfg: Config{Lease: lease}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	c.leaderTerm = func() (uint64, bool) {
		if int(calls.Add(1)) <= first {
			return 1, true
		}
		return next()
	}
	return c
}

// Test_Failover_LeaseWaitRestartsInANewTerm: the leader lost and regained
// leadership during the wait for the old primary's lease (the term moved
// from 1 to 2). Another leader may have granted that primary a lease in
// between, which this one cannot know: it must wait a full lease from the
// moment it saw the new term, as a newly elected leader does, and report
// the new term (the promote is bound to it).
func Test_Failover_LeaseWaitRestartsInANewTerm(t *testing.T) {
	lease := 100 * time.Millisecond
	full := lease + leaseMargin(lease)
	c := waitService(lease, 1, func() (uint64, bool) { return 2, true })
	start := time.Now()
	c.leases.reset(start.Add(-time.Hour), lease) // term 1's floor is long past
	c.leases.grant("p", 3, start, lease)         // p's last lease: one full lease
	term, err := c.awaitLeaseEnd(context.Background(), "p", 3, 1)
	elapsed := time.Since(start)
	if err != nil || term != 2 {
		t.Fatalf("awaitLeaseEnd = term %d, %v; want term 2", term, err)
	}
	if elapsed < 2*full {
		t.Fatalf("committed %v after the wait began; the term moved after %v, so a lease granted in between could run until %v",
			elapsed, full, 2*full)
	}
	if c.leases.grant("p", 3, time.Now(), lease) {
		t.Error("p's renewals are not revoked in the new term")
	}
}

// Test_Failover_LeaseWaitLeadershipLost: losing leadership during the wait
// ends the failover with "not the leader" (nothing is committed).
func Test_Failover_LeaseWaitLeadershipLost(t *testing.T) {
	lease := 50 * time.Millisecond
	c := waitService(lease, 1, func() (uint64, bool) { return 2, false })
	c.leases.reset(time.Now().Add(-time.Hour), lease)
	c.leases.grant("p", 3, time.Now(), lease)
	if term, err := c.awaitLeaseEnd(context.Background(), "p", 3, 1); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("awaitLeaseEnd = term %d, %v; want ErrNotLeader", term, err)
	}
}

func Test_LeaseTable_AckedReports(t *testing.T) {
	var lt leaseTable
	if _, ok := lt.ackedBy("n1", 3); ok {
		t.Fatal("a report before any renewal")
	}
	lt.noteAcked("n1", 3, 100, 1)
	lt.noteAcked("n1", 3, 90, 1) // an older renewal's report arriving late
	if r, ok := lt.ackedBy("n1", 3); !ok || r.lsn != 100 || r.replicas != 1 {
		t.Fatalf("epoch 3: %+v %v, want lsn 100, 1 replica", r, ok)
	}
	lt.noteAcked("n1", 2, 500, 1) // an older epoch changes nothing
	if r, _ := lt.ackedBy("n1", 3); r.lsn != 100 {
		t.Fatalf("after an old epoch's report: %+v", r)
	}
	lt.noteAcked("n1", 4, 7, 2)
	if _, ok := lt.ackedBy("n1", 3); ok {
		t.Fatal("epoch 3's report kept after epoch 4's")
	}
	if r, ok := lt.ackedBy("n1", 4); !ok || r.lsn != 7 || r.replicas != 2 {
		t.Fatalf("epoch 4: %+v %v", r, ok)
	}
	lt.reset(time.Now(), time.Second) // a new term keeps the reports (lower bounds)
	if _, ok := lt.ackedBy("n1", 4); !ok {
		t.Fatal("report lost on a new term")
	}
}
