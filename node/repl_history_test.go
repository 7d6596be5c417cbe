package node

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/batonkv/baton/node/keyspace"
)

// copyDataDir copies dir's files to a new directory: what a crash would
// leave on disk at this moment (with fsync always, every acknowledged
// write is in the files).
func copyDataDir(t *testing.T, dir string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// Test_Repl_RestartBehindStreamedStartsNewHistory: a primary streamed
// entries its journal file did not hold yet when it crashed; restarted on
// what the disk held, it takes new writes at LSNs its replica already holds
// with other contents. The replica must not continue with a partial sync
// (before the fix it did: sync_partial_ok, same LSN, different data): the
// restart begins a new history, and the replica beyond the recovered LSN
// gets a full sync.
func Test_Repl_RestartBehindStreamedStartsNewHistory(t *testing.T) {
	dir := t.TempDir()
	oldp := mustNewNode(t, Config{DataDir: dir, Fsync: FsyncAlways})
	replica := mustNewNode(t, Config{})
	oc, rc := mustClient(t, oldp), mustClient(t, replica)
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		oc.Set(ctx, "k"+keyspace.Itoa(int64(i)), i, 0)
	}
	replicaOf(t, rc, oldp)
	waitSynced(t, oldp, rc)
	crashed := copyDataDir(t, dir) // the disk at the crash
	for i := 0; i < 5; i++ {       // streamed, never on disk
		oc.Set(ctx, "lost"+keyspace.Itoa(int64(i)), i, 0)
	}
	waitSynced(t, oldp, rc)
	lostAt := oldp.jr.LSN()

	newp := mustNewNode(t, Config{DataDir: crashed, Fsync: FsyncAlways})
	nc := mustClient(t, newp)
	if got := newp.jr.LSN(); got >= lostAt {
		t.Fatalf("restarted at LSN %d, want below %d", got, lostAt)
	}
	for i := 0; i < 12; i++ {
		nc.Set(ctx, "new"+keyspace.Itoa(int64(i)), i, 0)
	}
	if newp.jr.LSN() < lostAt {
		t.Fatalf("the restarted primary is at %d, not past the replica's %d", newp.jr.LSN(), lostAt)
	}
	replicaOf(t, rc, newp)
	waitSynced(t, newp, rc)
	if n := rc.Exists(ctx, "lost0").Val(); n != 0 {
		t.Fatalf("the replica kept entries the primary lost")
	}
	if got := infoValue(t, nc, "stats", "sync_full"); got != "1" {
		t.Fatalf("sync_full %s, want 1", got)
	}
}

// Test_Repl_RestartedNodesStillPartialSync: a new history at every
// restart costs no full sync where a partial one is safe: a replica at the
// LSN a restarted primary recovered continues, and so does a restarted
// replica (it offers the history its recovery continued).
func Test_Repl_RestartedNodesStillPartialSync(t *testing.T) {
	pdir, rdir := t.TempDir(), t.TempDir()
	pcfg := Config{DataDir: pdir, Fsync: FsyncAlways}
	p := mustNewNode(t, pcfg)
	pc := mustClient(t, p)
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		pc.Set(ctx, "k"+keyspace.Itoa(int64(i)), i, 0)
	}
	rcfg := Config{DataDir: rdir, Fsync: FsyncAlways, ReplicaOf: p.addr}
	r := mustNewNode(t, rcfg)
	rc := mustClient(t, r)
	waitSynced(t, p, rc)

	full := infoValue(t, pc, "stats", "sync_full")
	// The replica restarts: it continues its primary's history.
	rc.Close()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r = mustNewNode(t, rcfg)
	rc = mustClient(t, r)
	waitSynced(t, p, rc)
	if got := infoValue(t, pc, "stats", "sync_full"); got != full {
		t.Fatalf("restarted replica: sync_full %s, was %s", got, full)
	}

	// The replica restarts as a primary (as a coordinator-managed node
	// does) and is then pointed at its primary: its new history holds no
	// entry, so it also offers the recovered one and continues.
	rcfg.ReplicaOf = ""
	rc.Close()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r = mustNewNode(t, rcfg)
	rc = mustClient(t, r)
	if h := r.jr.History(); h.PrevReplid != p.jr.Replid() || h.PrevEnd != p.jr.LSN() {
		t.Fatalf("restarted as a primary: history %+v, want the previous one %s at %d", h, p.jr.Replid(), p.jr.LSN())
	}
	replicaOf(t, rc, p)
	waitSynced(t, p, rc)
	if got := infoValue(t, pc, "stats", "sync_full"); got != full {
		t.Fatalf("replica restarted as a primary: sync_full %s, was %s", got, full)
	}

	// The primary restarts (cleanly: it recovers everything it streamed):
	// the replica at its recovered LSN continues.
	pc.Close()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = mustNewNode(t, pcfg)
	pc = mustClient(t, p)
	pc.Set(ctx, "after", "restart", 0)
	replicaOf(t, rc, p)
	waitSynced(t, p, rc)
	if got, full := infoValue(t, pc, "stats", "sync_partial_ok"), infoValue(t, pc, "stats", "sync_full"); got != "1" || full != "0" {
		t.Fatalf("restarted primary: sync_partial_ok %s, sync_full %s; want 1, 0", got, full)
	}
}

// Test_Recovery_RestartsAcrossNewHistories: the histories restarts begin
// recover like a promotion's: snapshots in a restart's history over
// segments of the recovered one, restarts without a write in between.
func Test_Recovery_RestartsAcrossNewHistories(t *testing.T) {
	dir := t.TempDir()
	cfg := persistConfig(dir, nil)
	n, c := persistNode(t, cfg)
	ctx := context.Background()
	for r := 0; r < 30; r++ {
		persistWorkload(t, ctx, c, r)
		switch r {
		case 9, 19:
			want := n.Digest()
			n, c = persistRestart(t, n, c, cfg)
			if got := n.Digest(); got != want {
				t.Fatalf("round %d: digest after restart %s, want %s", r, got, want)
			}
		case 12:
			n, c = persistRestart(t, n, c, cfg) // no write in between
			fallthrough
		case 14, 24:
			if err := c.Do(ctx, "save").Err(); err != nil {
				t.Fatalf("SAVE: %v", err)
			}
		}
	}
	want, lsn := n.Digest(), n.jr.LSN()
	n, c = persistRestart(t, n, c, cfg)
	n, _ = persistRestart(t, n, c, cfg)
	if got := n.Digest(); got != want || n.jr.LSN() != lsn {
		t.Fatalf("digest %s at %d after restart, want %s at %d", got, n.jr.LSN(), want, lsn)
	}
}
