package integration

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/redisinfo"
	"github.com/batonkv/baton/internal/resp"
	"github.com/redis/go-redis/v9"
)

// appendLoad is clients writing through the proxy, each appending its own
// sequence 0, 1, 2… to its own list with RPUSH: a lost or duplicated
// append shows as a gap or a repeat in that list.
type appendLoad struct {
	t    *testing.T
	halt atomic.Bool
	wg   sync.WaitGroup
	once sync.Once

	mu sync.Mutex
	// acked[w] is how many appends of writer w were acknowledged (they are
	// acknowledged in order: each writer waits for its reply).
	acked []int
	// errs are the errors clients saw, by message.
	errs map[string]int
	// maxPause is the longest time one append waited for its reply.
	maxPause time.Duration
}

// startAppendLoad starts writers clients on proxyAddr.
func startAppendLoad(t *testing.T, proxyAddr string, writers int) *appendLoad {
	l := &appendLoad{t: t, acked: make([]int, writers), errs: map[string]int{}}
	for w := range writers {
		cl := redis.NewClient(&redis.Options{Addr: proxyAddr, MaxRetries: -1, PoolSize: 1, Protocol: 2,
			DisableIdentity: true, DialTimeout: time.Second, ReadTimeout: 10 * time.Second})
		l.wg.Add(1)
		go l.run(cl, w)
	}
	t.Cleanup(l.stop)
	return l
}

// appendKey is writer w's list.
func appendKey(w int) string { return fmt.Sprintf("seq:{w%d}", w) }

// run is one writer: it stops at its first error (an append whose outcome
// is unknown would make the list check ambiguous).
func (l *appendLoad) run(cl *redis.Client, w int) {
	defer l.wg.Done()
	defer cl.Close()
	for seq := 0; !l.halt.Load(); seq++ {
		start := time.Now()
		err := cl.RPush(context.Background(), appendKey(w), seq).Err()
		took := time.Since(start)
		l.mu.Lock()
		l.maxPause = max(l.maxPause, took)
		if err != nil {
			l.errs[err.Error()]++
			l.mu.Unlock()
			return
		}
		l.acked[w]++
		l.mu.Unlock()
	}
}

// stop halts the writers and waits for them.
func (l *appendLoad) stop() {
	l.once.Do(func() {
		l.halt.Store(true)
		l.wg.Wait()
	})
}

// total is the number of acknowledged appends so far.
func (l *appendLoad) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, a := range l.acked {
		n += a
	}
	return n
}

// longest is the longest time one append waited for its reply.
func (l *appendLoad) longest() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.maxPause
}

// waitProgress waits until n more appends were acknowledged.
func (l *appendLoad) waitProgress(n int) {
	l.t.Helper()
	from := l.total()
	waitFor(l.t, fmt.Sprintf("%d more appends", n), func() (bool, string) {
		return l.total()-from >= n, fmt.Sprintf("%d, errors %v", l.total()-from, l.errors())
	})
}

// errors returns a copy of the error counts.
func (l *appendLoad) errors() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for k, v := range l.errs {
		out[k] = v
	}
	return out
}

// verify stops the load and checks on the node at addr that every writer's
// list is exactly 0..acked-1, with a tolerance of one extra trailing
// element for a writer that stopped on an (ambiguous) error.
func (l *appendLoad) verify(cl *redis.Client) {
	l.t.Helper()
	l.stop()
	errs := l.errors()
	for w, n := range l.acked {
		got, err := cl.LRange(context.Background(), appendKey(w), 0, -1).Result()
		if err != nil {
			l.t.Fatalf("LRANGE %s: %v", appendKey(w), err)
		}
		extra := len(got) - n
		if extra < 0 || (extra > 0 && (len(errs) == 0 || extra > 1)) {
			l.t.Errorf("writer %d: %d appends acknowledged, list holds %d", w, n, len(got))
			continue
		}
		for i := range n {
			if got[i] != fmt.Sprint(i) {
				l.t.Errorf("writer %d: element %d is %q: lost or reordered append", w, i, got[i])
				break
			}
		}
	}
}

// coordLeaderDo sends a leader-only command to the live coordinators,
// following -REDIRECT (coordapi.LeaderDo).
func (c *testCluster) coordLeaderDo(ctx context.Context, args ...string) (resp.Value, error) {
	var addrs []string
	for _, m := range c.coords {
		if m.alive() {
			addrs = append(addrs, m.addr)
		}
	}
	return coordapi.LeaderDo(ctx, addrs, clusterSecret, 20, args...)
}

// takeover runs BATON.TAKEOVER with args (TO id, TIMEOUT ms…) and returns
// the report.
func (c *testCluster) takeover(args ...any) coordapi.TakeoverReport {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := []string{coordapi.CmdTakeover}
	for _, a := range args {
		cmd = append(cmd, fmt.Sprint(a))
	}
	v, err := c.coordLeaderDo(ctx, cmd...)
	if err != nil {
		c.t.Fatalf("BATON.TAKEOVER %v: %v", args, err)
	}
	rep, err := coordapi.ReportFromReply(v)
	if err != nil {
		c.t.Fatalf("BATON.TAKEOVER %v: %v", args, err)
	}
	return rep
}

// hangClients opens n connections to addr that each send a pipeline of
// GETs of a large value and never read: the node blocks writing their
// replies, as behind a hung application. They are closed at the end of the
// test (if the node did not close them first).
func hangClients(t *testing.T, addr string, n int) {
	t.Helper()
	big := strings.Repeat("x", 512<<10)
	setup := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
	defer setup.Close()
	if err := setup.Set(context.Background(), "hang:big", big, 0).Err(); err != nil {
		t.Fatalf("SET hang:big: %v", err)
	}
	var pipeline []byte
	for range 16 {
		pipeline = append(pipeline, "*2\r\n$3\r\nGET\r\n$8\r\nhang:big\r\n"...)
	}
	for range n {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %s: %v", addr, err)
		}
		nc.(*net.TCPConn).SetReadBuffer(4096)
		t.Cleanup(func() { nc.Close() })
		if _, err := nc.Write(pipeline); err != nil {
			t.Fatalf("hung client write: %v", err)
		}
	}
	// Wait until the node is stuck writing to all of them (it built their
	// replies: 8 MB each, pending in CLIENT LIST omem), so the test
	// measures the takeover, not the node's copying.
	waitFor(t, "the hung clients to be served", func() (bool, string) {
		list, err := setup.ClientList(context.Background()).Result()
		// omem counts replies from the first one built: wait for all 16.
		return err == nil && redisinfo.CountPendingOutput(list, 16*(512<<10)) >= n, list
	})
}
