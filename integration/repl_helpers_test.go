package integration

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Bounds of the replication tests' polling: every wait gives up (and fails
// the test) after replWaitLimit, polling every replPoll.
const (
	replWaitLimit = 20 * time.Second
	replPoll      = 20 * time.Millisecond
)

// waitFor polls cond until it reports true or replWaitLimit passes; then it
// fails the test with what and cond's last description of the state.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(replWaitLimit)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; last state: %s", replWaitLimit, what, state)
		}
		time.Sleep(replPoll)
	}
}

// info returns the fields of one INFO section of the node c talks to.
func info(t *testing.T, c *redis.Client, section string) map[string]string {
	t.Helper()
	s, err := c.Info(context.Background(), section).Result()
	if err != nil {
		t.Fatalf("INFO %s on %s: %v", section, c.Options().Addr, err)
	}
	fields := make(map[string]string)
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = v
		}
	}
	return fields
}

// infoField returns one INFO field; a missing field fails the test, so a
// renamed field cannot make a comparison pass vacuously.
func infoField(t *testing.T, c *redis.Client, section, field string) string {
	t.Helper()
	v, ok := info(t, c, section)[field]
	if !ok {
		t.Fatalf("INFO %s on %s has no field %q", section, c.Options().Addr, field)
	}
	return v
}

// infoInt returns one numeric INFO field.
func infoInt(t *testing.T, c *redis.Client, section, field string) int64 {
	t.Helper()
	v := infoField(t, c, section, field)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("INFO %s %s = %q on %s: not an integer", section, field, v, c.Options().Addr)
	}
	return n
}

// syncStats is what a primary counts of the syncs it served (INFO stats).
type syncStats struct{ full, partialOK, partialErr int64 }

// syncStatsOf reads the sync counters of the node c talks to.
func syncStatsOf(t *testing.T, c *redis.Client) syncStats {
	t.Helper()
	f := info(t, c, "stats")
	get := func(k string) int64 {
		n, err := strconv.ParseInt(f[k], 10, 64)
		if err != nil {
			t.Fatalf("INFO stats %s = %q on %s: %v", k, f[k], c.Options().Addr, err)
		}
		return n
	}
	return syncStats{full: get("sync_full"), partialOK: get("sync_partial_ok"), partialErr: get("sync_partial_err")}
}

// waitCaughtUp waits until every replica's link to its primary is up and
// its offset (an LSN) equals primary's master_repl_offset. primary may
// itself be a replica (a chain): its master_repl_offset is then its own
// applied LSN. Writes to primary must be stopped, or the offsets chase each
// other.
func waitCaughtUp(t *testing.T, primary *nodeProc, replicas ...*nodeProc) {
	t.Helper()
	pc := primary.client(t)
	rcs := make([]*redis.Client, len(replicas))
	for i, r := range replicas {
		rcs[i] = r.client(t)
	}
	waitFor(t, fmt.Sprintf("replicas of %s to catch up", primary.addr), func() (bool, string) {
		want := infoField(t, pc, "replication", "master_repl_offset")
		for i, rc := range rcs {
			f := info(t, rc, "replication")
			if f["master_link_status"] != "up" || f["slave_repl_offset"] != want {
				return false, fmt.Sprintf("primary %s at %s; replica %s: role=%s link=%s offset=%s",
					primary.addr, want, replicas[i].addr, f["role"], f["master_link_status"], f["slave_repl_offset"])
			}
		}
		return true, ""
	})
}

// assertSameDigest fails the test unless every node has the DIGEST of the
// first.
func assertSameDigest(t *testing.T, nodes ...*nodeProc) {
	t.Helper()
	want := digest(t, nodes[0].addr)
	for _, n := range nodes[1:] {
		if got := digest(t, n.addr); got != want {
			t.Fatalf("DIGEST of %s = %s, of %s = %s", n.addr, got, nodes[0].addr, want)
		}
	}
}

// role is a node's ROLE reply, flattened.
type role struct {
	kind   string // "master" or "slave"
	host   string // a replica's primary
	port   int64
	state  string // a replica's link state
	offset int64  // a primary's LSN, a replica's offset
}

// roleOf sends ROLE to the node c talks to.
func roleOf(t *testing.T, c *redis.Client) role {
	t.Helper()
	v, err := c.Do(context.Background(), "role").Slice()
	if err != nil || len(v) < 2 {
		t.Fatalf("ROLE on %s = %v, %v", c.Options().Addr, v, err)
	}
	r := role{kind: fmt.Sprint(v[0])}
	switch r.kind {
	case "master":
		r.offset, _ = v[1].(int64)
	case "slave":
		if len(v) != 5 {
			t.Fatalf("ROLE on replica %s = %v, want 5 elements", c.Options().Addr, v)
		}
		r.host, _ = v[1].(string)
		r.port, _ = v[2].(int64)
		r.state, _ = v[3].(string)
		r.offset, _ = v[4].(int64)
	default:
		t.Fatalf("ROLE on %s = %v", c.Options().Addr, v)
	}
	return r
}

// replicaOf sends REPLICAOF pointing the node c talks to at addr.
func replicaOf(c *redis.Client, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	return c.Do(context.Background(), "replicaof", host, port).Err()
}

// mustReplicaOf is replicaOf that fails the test on an error.
func mustReplicaOf(t *testing.T, c *redis.Client, addr string) {
	t.Helper()
	if err := replicaOf(c, addr); err != nil {
		t.Fatalf("REPLICAOF %s on %s: %v", addr, c.Options().Addr, err)
	}
}

// mustPromote sends REPLICAOF NO ONE.
func mustPromote(t *testing.T, c *redis.Client) {
	t.Helper()
	if err := c.Do(context.Background(), "replicaof", "no", "one").Err(); err != nil {
		t.Fatalf("REPLICAOF NO ONE on %s: %v", c.Options().Addr, err)
	}
}

// stopNode stops p with SIGTERM and checks it exits cleanly.
func stopNode(t *testing.T, p *nodeProc) {
	t.Helper()
	if err := p.run.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM %s: %v", p.addr, err)
	}
	if code := p.waitExit(t, 10*time.Second); code != 0 {
		t.Fatalf("node %s exit code %d after SIGTERM; log:\n%s", p.addr, code, p.log.String())
	}
}

// restartNode starts a stopped node again on its old address with args
// (which should name its old --dir), so peers find it where it was.
func restartNode(t *testing.T, old *nodeProc, args ...string) *nodeProc {
	t.Helper()
	return startNode(t, nil, append([]string{"--addr", old.addr}, args...)...)
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	return freeAddrs(t, 1)[0]
}

// Shape of the background load: loadWorkers clients writing over loadKeys
// string and counter keys and loadCollections lists and hashes.
const (
	loadWorkers     = 2
	loadKeys        = 3000
	loadCollections = 300
)

// replLoad is a background write load (SET, INCR, RPUSH, HSET) against one
// node. Every write must succeed: the load only targets a primary that can
// acknowledge it.
type replLoad struct {
	addr   string
	halt   atomic.Bool
	wg     sync.WaitGroup
	writes atomic.Int64
	mu     sync.Mutex
	err    error // the first write error
	once   sync.Once
}

// startReplLoad starts the load against addr; it is stopped at the latest
// when the test ends (before the nodes are killed).
func startReplLoad(t *testing.T, addr string) *replLoad {
	l := &replLoad{addr: addr}
	for w := 0; w < loadWorkers; w++ {
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1, Protocol: 2, DisableIdentity: true})
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer c.Close()
			l.run(c, w)
		}()
	}
	t.Cleanup(l.shutdown)
	return l
}

// run writes until the load is stopped or a write fails.
func (l *replLoad) run(c *redis.Client, w int) {
	ctx := context.Background()
	for i := 0; !l.halt.Load(); i++ {
		k := (w*7919 + i*31) % loadKeys
		coll := k % loadCollections
		var err error
		switch i % 4 {
		case 0:
			err = c.Set(ctx, fmt.Sprintf("s:%d", k), fmt.Sprintf("w%d-%d", w, i), 0).Err()
		case 1:
			err = c.Incr(ctx, fmt.Sprintf("n:%d", k)).Err()
		case 2:
			err = c.RPush(ctx, fmt.Sprintf("l:%d", coll), i).Err()
		default:
			err = c.HSet(ctx, fmt.Sprintf("h:%d", coll), fmt.Sprintf("f%d", i%50), i).Err()
		}
		if err != nil {
			l.mu.Lock()
			if l.err == nil {
				l.err = fmt.Errorf("load writer %d, write %d to %s: %w", w, i, l.addr, err)
			}
			l.mu.Unlock()
			return
		}
		l.writes.Add(1)
	}
}

// shutdown stops the writers and waits for them.
func (l *replLoad) shutdown() {
	l.once.Do(func() {
		l.halt.Store(true)
		l.wg.Wait()
	})
}

// stop stops the load, fails the test if a write failed and returns how
// many writes were acknowledged.
func (l *replLoad) stop(t *testing.T) int64 {
	t.Helper()
	l.shutdown()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		t.Fatal(l.err)
	}
	return l.writes.Load()
}

// waitWrites waits until the load acknowledged at least n more writes
// than when called, so a phase of a test really ran under load.
func (l *replLoad) waitWrites(t *testing.T, n int64) {
	t.Helper()
	from := l.writes.Load()
	waitFor(t, fmt.Sprintf("%d writes of the load on %s", n, l.addr), func() (bool, string) {
		l.mu.Lock()
		err := l.err
		l.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		done := l.writes.Load() - from
		return done >= n, fmt.Sprintf("%d writes", done)
	})
}

// writeValues SETs n keys named prefix:i to values of size bytes, pipelined,
// and fails the test on an error.
func writeValues(t *testing.T, c *redis.Client, prefix string, n, size int) {
	t.Helper()
	ctx := context.Background()
	val := strings.Repeat("x", size)
	for start := 0; start < n; start += 500 {
		pipe := c.Pipeline()
		for i := start; i < min(n, start+500); i++ {
			pipe.Set(ctx, fmt.Sprintf("%s:%d", prefix, i), val, 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatalf("writing %s:* on %s: %v", prefix, c.Options().Addr, err)
		}
	}
}
