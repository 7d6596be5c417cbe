package integration

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/testutil"
	"github.com/redis/go-redis/v9"
)

// crashWriters is the number of concurrent clients writing during a crash
// test.
const crashWriters = 16

// writerLog is what one writer had acknowledged when the node died.
type writerLog struct {
	sets    map[string]string // key → value, every acknowledged SET
	list    string            // the writer's list key
	pushed  []string          // acknowledged RPUSHes, in order
	counter string            // the writer's counter key
	incr    int64             // value of the last acknowledged INCR
	// inflight is true when the writer's last command got no reply: it
	// may or may not have been applied.
	inflight bool
}

// crashLoad is a running write load against one node.
type crashLoad struct {
	acked atomic.Int64
	stop  atomic.Bool
	wg    sync.WaitGroup
	logs  [crashWriters]*writerLog
	start time.Time
}

// startLoad starts crashWriters clients doing unique SET, RPUSH and INCR
// writes against addr, each recording what was acknowledged.
func startLoad(t *testing.T, addr string) *crashLoad {
	ctx := context.Background()
	l := &crashLoad{start: time.Now()}
	for w := 0; w < crashWriters; w++ {
		wl := &writerLog{sets: map[string]string{}, list: fmt.Sprintf("list:%d", w), counter: fmt.Sprintf("counter:%d", w)}
		l.logs[w] = wl
		// One connection per writer and no retries: a write is either
		// acknowledged once or its outcome is unknown.
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1, Protocol: 2, DisableIdentity: true})
		t.Cleanup(func() { c.Close() })
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.write(t, ctx, c, w, wl)
		}()
	}
	return l
}

// write runs one writer until the node dies or the load stops.
func (l *crashLoad) write(t *testing.T, ctx context.Context, c *redis.Client, w int, wl *writerLog) {
	for i := 0; !l.stop.Load(); i++ {
		var err error
		switch op := i % 3; {
		case op == 1:
			item := strconv.Itoa(i)
			var n int64
			if n, err = c.RPush(ctx, wl.list, item).Result(); err == nil {
				wl.pushed = append(wl.pushed, item)
				if n != int64(len(wl.pushed)) {
					t.Errorf("RPUSH %s replied length %d, want %d", wl.list, n, len(wl.pushed))
				}
			}
		case op == 2:
			var v int64
			if v, err = c.Incr(ctx, wl.counter).Result(); err == nil {
				wl.incr = v
			}
		default:
			key, val := fmt.Sprintf("set:%d:%d", w, i), fmt.Sprintf("v%d-%d", w, i)
			if err = c.Set(ctx, key, val, 0).Err(); err == nil {
				wl.sets[key] = val
			}
		}
		if err != nil {
			wl.inflight = true
			return
		}
		l.acked.Add(1)
	}
}

// killMidLoad waits until the load acknowledged enough writes (or a few
// seconds passed), SIGKILLs the node and waits for the writers to stop.
func killMidLoad(t *testing.T, p *nodeProc, l *crashLoad) time.Duration {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for l.acked.Load() < 20000 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.run.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(l.start)
	p.waitExit(t, 10*time.Second)
	l.stop.Store(true)
	l.wg.Wait()
	return elapsed
}

// missing counts the acknowledged writes absent from the node at addr and
// fails the test on any state no history of the writes could produce (a
// wrong value, a list that is not a prefix-extension of what was pushed, a
// counter ahead of what was sent).
func (l *crashLoad) missing(t *testing.T, addr string) int {
	t.Helper()
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer c.Close()
	lost := 0
	for _, wl := range l.logs {
		keys := make([]string, 0, len(wl.sets))
		for k := range wl.sets {
			keys = append(keys, k)
		}
		for len(keys) > 0 {
			n := min(len(keys), 1000)
			pipe := c.Pipeline()
			gets := make([]*redis.StringCmd, n)
			for i, k := range keys[:n] {
				gets[i] = pipe.Get(ctx, k)
			}
			pipe.Exec(ctx)
			for i, g := range gets {
				v, err := g.Result()
				switch {
				case err == redis.Nil:
					lost++
				case err != nil:
					t.Fatalf("GET %s: %v", keys[i], err)
				case v != wl.sets[keys[i]]:
					t.Fatalf("%s = %q, acknowledged %q", keys[i], v, wl.sets[keys[i]])
				}
			}
			keys = keys[n:]
		}
		lost += missingPushes(t, ctx, c, wl) + missingIncrs(t, ctx, c, wl)
	}
	return lost
}

// digest returns DIGEST of the node at addr.
func digest(t *testing.T, addr string) string {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer c.Close()
	d, err := c.Do(context.Background(), "digest").Text()
	if err != nil {
		t.Fatalf("DIGEST: %v", err)
	}
	return d
}

// crashRun starts a node with the fsync policy, writes until it is killed,
// restarts it on the same directory and returns the restarted node, the
// load, how long the load ran, the data directory and a copy of it as the
// crash left it.
func crashRun(t *testing.T, fsync string) (p *nodeProc, l *crashLoad, ran time.Duration, dir, crashed string) {
	dir = t.TempDir()
	// Small snapshot thresholds, so recovery is snapshot + journal tail.
	args := []string{"--dir", dir, "--fsync", fsync, "--snapshot-interval", "300ms", "--snapshot-min-writes", "2000"}
	p = startNode(t, nil, args...)
	l = startLoad(t, p.addr)
	ran = killMidLoad(t, p, l)
	crashed = testutil.CopyDir(t, dir)
	files, _ := os.ReadDir(dir)
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name()
	}
	t.Logf("%s: %d writes acknowledged in %v before SIGKILL; data dir: %v", fsync, l.acked.Load(), ran.Round(time.Millisecond), names)
	return startNode(t, nil, args...), l, ran, dir, crashed
}

func Test_Crash_FsyncAlwaysKeepsEveryAcknowledgedWrite(t *testing.T) {
	p, l, _, dir, crashed := crashRun(t, "always")
	if lost := l.missing(t, p.addr); lost != 0 {
		t.Fatalf("%d acknowledged writes missing after SIGKILL with --fsync always; log:\n%s", lost, p.log.String())
	}
	// A fresh process replaying the same crashed files reaches the same
	// dataset, and so does a clean restart of the recovered node.
	want := digest(t, p.addr)
	replay := startNode(t, nil, "--dir", crashed, "--fsync", "always")
	if got := digest(t, replay.addr); got != want {
		t.Fatalf("DIGEST of a replay of the crashed files %s, restarted node %s", got, want)
	}
	p.run.Signal(syscall.SIGTERM)
	if code := p.waitExit(t, 10*time.Second); code != 0 {
		t.Fatalf("clean shutdown exit code %d; log:\n%s", code, p.log.String())
	}
	again := startNode(t, nil, "--dir", dir, "--fsync", "always")
	if got := digest(t, again.addr); got != want {
		t.Fatalf("DIGEST after a clean restart %s, want %s", got, want)
	}
}

func Test_Crash_FsyncEverysecLosesAtMostASecond(t *testing.T) {
	p, l, ran, _, _ := crashRun(t, "everysec")
	lost := l.missing(t, p.addr)
	perSecond := float64(l.acked.Load()) / ran.Seconds()
	t.Logf("everysec: %d of %d acknowledged writes missing after SIGKILL (%.0f writes/s)", lost, l.acked.Load(), perSecond)
	if float64(lost) > perSecond {
		t.Fatalf("%d acknowledged writes missing, more than one second's worth (%.0f)", lost, perSecond)
	}
}

// missingPushes checks wl's list against its acknowledged RPUSHes: the
// acknowledged prefix in order, at most one unacknowledged extra (the push
// in flight at the kill). It returns how many acknowledged pushes are gone.
func missingPushes(t *testing.T, ctx context.Context, c *redis.Client, wl *writerLog) int {
	got, err := c.LRange(ctx, wl.list, 0, -1).Result()
	if err != nil {
		t.Fatalf("LRANGE %s: %v", wl.list, err)
	}
	for i, v := range got {
		if i < len(wl.pushed) && v != wl.pushed[i] {
			t.Fatalf("%s[%d] = %q, acknowledged %q", wl.list, i, v, wl.pushed[i])
		}
	}
	if extra := len(got) - len(wl.pushed); extra > 1 || (extra == 1 && !wl.inflight) {
		t.Fatalf("%s has %d elements, only %d were pushed", wl.list, len(got), len(wl.pushed))
	}
	return max(0, len(wl.pushed)-len(got))
}

// missingIncrs checks wl's counter against its last acknowledged INCR and
// returns how many acknowledged increments are gone.
func missingIncrs(t *testing.T, ctx context.Context, c *redis.Client, wl *writerLog) int {
	v, err := c.Get(ctx, wl.counter).Int64()
	if err == redis.Nil {
		v, err = 0, nil
	}
	if err != nil {
		t.Fatalf("GET %s: %v", wl.counter, err)
	}
	if v > wl.incr+1 || (v == wl.incr+1 && !wl.inflight) {
		t.Fatalf("%s = %d, last acknowledged INCR gave %d", wl.counter, v, wl.incr)
	}
	return int(max(0, wl.incr-v))
}
