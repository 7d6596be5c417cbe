package node

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/batonkv/baton/node/keyspace"
)

// snapshotDigest decodes a snapshot file and digests its keyspace,
// expired keys included (now = 0).
func snapshotDigest(t *testing.T, data []byte) string {
	t.Helper()
	sd, err := decodeSnapshot(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("decode snapshot: %v", err)
	}
	return keyspace.Digest(&keyspace.DB{Keys: sd.keys, Expires: sd.expires}, 0)
}

// run executes one command on s with the lock held, as the dispatcher does.
func runLocked(s *Server, cl *client, args ...string) {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	s.call(cl, keyspace.Discard{}, b, false)
}

// Test_Snapshot_ConsistentWhileWritesInterleave takes a snapshot a few keys
// at a time while commands of every kind change keys already saved, keys
// not yet saved, new keys, expiring keys and the whole keyspace, and checks
// the file holds exactly the keyspace as it was when the snapshot began.
func Test_Snapshot_ConsistentWhileWritesInterleave(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			s := newFuzzServer(t)
			cl := authedClient()
			rng := rand.New(rand.NewPCG(seed, 0))
			s.mu.Lock()
			defer s.mu.Unlock()
			for i := 0; i < 200; i++ {
				k := fmt.Sprint("k", i)
				switch i % 5 {
				case 0:
					runLocked(s, cl, "set", k, "v")
				case 1:
					runLocked(s, cl, "rpush", k, "a", "b")
				case 2:
					runLocked(s, cl, "hset", k, "f", "1")
				case 3:
					runLocked(s, cl, "sadd", k, "m1", "m2")
				case 4:
					runLocked(s, cl, "zadd", k, "1", "m")
				}
			}
			runLocked(s, cl, "pexpire", "k7", "100000")
			want := keyspace.Digest(s.db, 0)
			cs := s.startSnapshot(true)
			for done := false; !done; {
				done = s.stepSnapshot(cs, 1+rng.IntN(8))
				for w := 0; w < 3; w++ {
					k := fmt.Sprint("k", rng.IntN(260))
					switch rng.IntN(9) {
					case 0:
						runLocked(s, cl, "set", k, "changed")
					case 1:
						runLocked(s, cl, "rpush", k, "x")
					case 2:
						runLocked(s, cl, "hset", k, "g", "2")
					case 3:
						runLocked(s, cl, "del", k)
					case 4:
						runLocked(s, cl, "rename", k, fmt.Sprint("k", rng.IntN(260)))
					case 5:
						runLocked(s, cl, "sadd", k, "m3")
					case 6:
						runLocked(s, cl, "zincrby", k, "2", "m")
					case 7:
						runLocked(s, cl, "pexpireat", k, "1") // expired at once
						s.db.Get(k, 2, true)
					case 8:
						if rng.IntN(20) == 0 {
							runLocked(s, cl, "flushall")
						}
					}
				}
			}
			p := s.endSnapshot(cs)
			if got := snapshotDigest(t, sealSnapshot(p.data)); got != want {
				t.Fatalf("snapshot differs from the keyspace at its start: %s, want %s", got, want)
			}
			if len(s.cows) > 0 || s.db.PreWrite != nil {
				t.Fatalf("snapshot state left behind")
			}
		})
	}
}

// Test_Snapshot_BackgroundUnderLoadRecovers takes background snapshots in
// tiny steps while clients write, then restarts the node from its newest
// snapshot plus journal tail: the result must equal the live dataset.
func Test_Snapshot_BackgroundUnderLoadRecovers(t *testing.T) {
	old := cowStepKeys
	cowStepKeys = 3
	defer func() { cowStepKeys = old }()
	dir := t.TempDir()
	n := mustNewNode(t, Config{DataDir: dir})
	ctx := t.Context()
	seed := mustClient(t, n)
	for i := 0; i < 300; i++ {
		seed.RPush(ctx, fmt.Sprint("l", i%30), i)
		seed.HSet(ctx, fmt.Sprint("h", i%30), fmt.Sprint("f", i), i)
	}
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		c := mustClient(t, n)
		go func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				k := fmt.Sprint(i % 30)
				var err error
				switch i % 4 {
				case 0:
					err = c.RPush(ctx, "l"+k, i).Err()
				case 1:
					err = c.HIncrBy(ctx, "h"+k, "n", 1).Err()
				case 2:
					err = c.Incr(ctx, "c"+k).Err()
				case 3:
					err = c.LPop(ctx, "l"+k).Err()
				}
				if err != nil && err.Error() != "redis: nil" {
					errs <- err
					return
				}
			}
		}()
	}
	for round := 0; round < 3; round++ {
		before := n.snap.lastLSN.Load()
		if err := seed.BgSave(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		pollUntil(t, "a background snapshot to finish", func() bool {
			// A writer that stopped on an error would stall the LSN (and
			// this wait): report its error instead.
			select {
			case err := <-errs:
				t.Fatalf("a writer stopped during snapshot round %d: %v", round, err)
			default:
			}
			return n.snap.lastLSN.Load() > before && !n.snap.running.Load()
		})
	}
	close(stop)
	for w := 0; w < 4; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	want := n.Digest()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	again := mustNewNode(t, Config{DataDir: dir})
	if got := again.Digest(); got != want {
		t.Fatalf("recovered dataset differs: %s, want %s", got, want)
	}
}
