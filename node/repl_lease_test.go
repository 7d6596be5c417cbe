package node

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Test_Coord_SyncAckAfterLeaseLapseIsNoRepl: on a coordinated primary a
// --sync-replicas acknowledgement counts only if it arrives under a valid
// lease (issue 16, finding 3a). A write waits for its ack, the lease
// lapses, then a replica connects and acks: the write must answer NOREPL
// once the sync timeout passes, not OK — by then another node may lead
// and the write may be lost.
func Test_Coord_SyncAckAfterLeaseLapseIsNoRepl(t *testing.T) {
	cfg := coordConfig("n1")
	cfg.SyncReplicas, cfg.SyncTimeout = 1, 2*time.Second
	p := mustNewNode(t, cfg)
	until := time.Now().Add(300 * time.Millisecond)
	setLease(t, p, 1, until)
	ctx := context.Background()
	wc := redis.NewClient(&redis.Options{Addr: p.addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true, ReadTimeout: 30 * time.Second})
	defer wc.Close()
	reply := make(chan error, 1)
	go func() { reply <- wc.Set(ctx, "k", "v", 0).Err() }()
	pollUntil(t, "the write to wait for its ack", func() bool { return lsnOf(p) > 0 })
	pollUntil(t, "the lease to lapse", func() bool { return !p.coord.Lease().Valid(1, time.Now()) })

	r := mustNewNode(t, Config{})
	rc := mustClient(t, r)
	replicaOf(t, rc, p)
	pollUntil(t, "the replica to hold the write", func() bool { return rc.Get(ctx, "k").Val() == "v" })
	select {
	case err := <-reply:
		if err == nil || !strings.HasPrefix(err.Error(), "NOREPL") || !strings.Contains(err.Error(), "lease lapsed") {
			t.Fatalf("a write acked after the lease lapsed answered %v; want NOREPL", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the waiting write did not answer")
	}
	if n := p.repl.acks.AckedIn(1, p.repl.acks.Gen()); n != 0 {
		t.Fatalf("%d acks after the lease lapsed counted", n)
	}
}

// Test_Coord_SyncAckWhileFrozenCounts: a takeover's freeze stops the
// lease's renewals (the coordinators refuse them), yet the writes in
// flight at the freeze must still settle on their acks during its
// checkpoint, or a takeover under replication latency answers them NOREPL.
// While frozen, an ack counts until the end of the lease last granted: no
// failover can have promoted another node by then, and the takeover
// commits only a target holding the freeze LSN.
func Test_Coord_SyncAckWhileFrozenCounts(t *testing.T) {
	cfg := coordConfig("n1")
	cfg.SyncReplicas, cfg.SyncTimeout = 1, 20*time.Second
	p := mustNewNode(t, cfg)
	setLease(t, p, 1, time.Now().Add(time.Hour))
	ctx := context.Background()
	wc := redis.NewClient(&redis.Options{Addr: p.addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true, ReadTimeout: 30 * time.Second})
	defer wc.Close()
	reply := make(chan error, 1)
	go func() { reply <- wc.Set(ctx, "k", "v", 0).Err() }()
	pollUntil(t, "the write to wait for its ack", func() bool { return lsnOf(p) > 0 })

	// The takeover freezes the node (its checkpoint waits for the write)
	// and its renewals stop: here the lease is dropped outright.
	fc := mustClient(t, p)
	froze := make(chan error, 1)
	go func() { froze <- fc.Do(ctx, "BATON.FREEZE", 1, 1, 20000).Err() }()
	pollUntil(t, "the freeze", func() bool { return p.frozen() })
	p.coord.Lease().Release()
	if p.coord.Lease().Valid(1, time.Now()) {
		t.Fatal("the lease is still held")
	}

	r := mustNewNode(t, Config{})
	rc := mustClient(t, r)
	replicaOf(t, rc, p)
	select {
	case err := <-reply:
		if err != nil {
			t.Fatalf("a write acked while frozen answered %v; want OK", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the waiting write did not answer")
	}
	if err := <-froze; err != nil {
		t.Fatalf("BATON.FREEZE: %v", err)
	}
}

// Test_Coord_StreamCarriesLedEpoch: a coordinated primary's handshake and
// stream carry the epoch it leads, not the newest it heard of (issue 16,
// finding 3b). The primary leads epoch 1 and then hears of epoch 2: a
// replica at epoch 2 refuses its stream (the frames say 1), and a fresh
// replica at epoch 2 refuses its handshake.
func Test_Coord_StreamCarriesLedEpoch(t *testing.T) {
	p := mustNewNode(t, coordConfig("n1"))
	setLease(t, p, 1, time.Now().Add(time.Hour))
	pc := mustClient(t, p)
	ctx := context.Background()
	if err := pc.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	r := mustNewNode(t, Config{})
	rc := mustClient(t, r)
	replicaOf(t, rc, p)
	waitSynced(t, p, rc)

	// The primary hears of epoch 2 (it does not lead it), then so does
	// the replica.
	if err := pc.Do(ctx, "baton.epoch", "2").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rc.Do(ctx, "baton.epoch", "2").Err(); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, "the replica to refuse the stream of epoch 1", func() bool {
		n, _ := strconv.Atoi(infoValue(t, rc, "replication", "baton_epoch_refusals"))
		return n > 0
	})

	// A fresh replica at epoch 2 refuses the handshake.
	r2 := mustNewNode(t, Config{Epoch: 2})
	rc2 := mustClient(t, r2)
	host, port, _ := strings.Cut(p.addr, ":")
	err := rc2.Do(ctx, "replicaof", host, port).Err()
	if err == nil || !strings.Contains(err.Error(), "stale epoch") {
		t.Fatalf("replicaof a primary leading an older epoch: %v; want a stale epoch refusal", err)
	}
}
