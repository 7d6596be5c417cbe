package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/internal/benchkit"
	"github.com/redis/go-redis/v9"
)

// op is one logical append as its writer saw it, on the load's monotonic
// clock: from the first send to the final reply. An append refused before
// execution (READONLY, TRYAGAIN, a refused dial) is retried with the same
// value and stays one op, so its latency includes the lookup of the new
// primary: the pause the application waited through.
type op struct {
	send, reply time.Duration
	acked       bool
}

// writerLog is what one writer did; only that writer touches it until the
// load has stopped.
type writerLog struct {
	ops   []op
	acked []int64 // acknowledged values of its sequence, ascending
	errs  map[string]int
}

// appendLoad is clients that each RPUSH their own sequence 0, 1, 2… to
// their own list on whatever resolve names (the proxy, or Redis' current
// primary): a lost or duplicated append shows as a gap or a repeat.
type appendLoad struct {
	prefix   string // key prefix: one set of lists per scenario
	resolve  func(ctx context.Context) (string, error)
	t0       time.Time
	backoff  time.Duration // pause after an error before resolving again
	interval time.Duration // pause after an acknowledged append

	halt    atomic.Bool
	total   atomic.Int64   // acknowledged appends so far, for progress waits
	errors  atomic.Int64   // failed attempts so far
	lastAck []atomic.Int64 // per writer: its newest acknowledgement, ns on the load's clock
	logs    []*writerLog
	wg      sync.WaitGroup
}

// start runs n writers until stop.
func (l *appendLoad) start(ctx context.Context, n int) {
	l.t0 = time.Now()
	l.lastAck = make([]atomic.Int64, n)
	for w := range n {
		lg := &writerLog{errs: map[string]int{}}
		l.logs = append(l.logs, lg)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.writer(ctx, w, lg)
		}()
	}
}

// stop halts the writers after their current append and waits for them.
func (l *appendLoad) stop() {
	l.halt.Store(true)
	l.wg.Wait()
}

// waitFlowing returns once every writer has had an append acknowledged
// since the call. A writer waits for each reply before sending the next,
// so after it no append still in flight was sent before the call: a stall
// before it (connecting hung clients) stays out of the next window.
func (l *appendLoad) waitFlowing(ctx context.Context, timeout time.Duration) error {
	since := int64(l.now())
	return benchkit.Poll(ctx, "every writer to have an append acknowledged", timeout, func(context.Context) error {
		for w := range l.lastAck {
			if l.lastAck[w].Load() <= since {
				return fmt.Errorf("%w: writer %d (errors so far %d)", benchkit.ErrNotYet, w, l.errors.Load())
			}
		}
		return nil
	})
}

// now is the time on the load's clock.
func (l *appendLoad) now() time.Duration { return time.Since(l.t0) }

// key is writer w's list.
func (l *appendLoad) key(w int) string { return fmt.Sprintf("%s:w%d", l.prefix, w) }

// writerClient is a client that waits long enough for a held append (a
// takeover's hold, up to the proxy's 5 s hold timeout) instead of timing
// it out into an ambiguous error.
func writerClient(addr string) *redis.Client {
	o := benchkit.ClientOptions(addr, "")
	o.ReadTimeout = 10 * time.Second
	return redis.NewClient(o)
}

// writer is one client. A value is appended at most once by an attempt
// that may have been applied: a refused append is retried with the same
// value, an ambiguous one is abandoned and the next value used.
func (l *appendLoad) writer(ctx context.Context, w int, lg *writerLog) {
	f := &benchkit.Follower{Resolve: l.resolve, Dial: writerClient, Backoff: l.backoff}
	defer f.Close()
	seq, first := int64(0), time.Duration(-1)
	for !l.halt.Load() && ctx.Err() == nil {
		c, _ := f.Client(ctx)
		if c == nil {
			continue
		}
		if first < 0 {
			first = l.now()
		}
		err := c.RPush(context.WithoutCancel(ctx), l.key(w), seq).Err()
		if err == nil {
			lg.ops = append(lg.ops, op{send: first, reply: l.now(), acked: true})
			lg.acked = append(lg.acked, seq)
			l.total.Add(1)
			l.lastAck[w].Store(int64(l.now()))
			seq, first = seq+1, -1
			benchkit.Sleep(ctx, l.interval)
			continue
		}
		l.errors.Add(1)
		lg.errs[errKind(err)]++
		if benchkit.Classify(err) != benchkit.OutcomeRejected {
			lg.ops = append(lg.ops, op{send: first, reply: l.now()})
			seq, first = seq+1, -1
		}
		f.Failed(ctx)
	}
}

// errKind is an error's first word (READONLY, TRYAGAIN, dial, i/o…), the
// granularity the report counts errors at.
func errKind(err error) string {
	s := err.Error()
	for i, r := range s {
		if r == ' ' || r == ':' {
			return s[:i]
		}
	}
	return s
}

// results merges the writers' logs once the load has stopped: all ops, the
// sorted acknowledgement times, and the errors by kind.
func (l *appendLoad) results() (ops []op, acks []time.Duration, errs map[string]int) {
	errs = map[string]int{}
	for _, lg := range l.logs {
		ops = append(ops, lg.ops...)
		for _, o := range lg.ops {
			if o.acked {
				acks = append(acks, o.reply)
			}
		}
		for k, n := range lg.errs {
			errs[k] += n
		}
	}
	sortDurations(acks)
	return ops, acks, errs
}

// verify reads every writer's list on the node at addr and returns one
// line per writer whose list does not hold its acknowledged appends.
func (l *appendLoad) verify(ctx context.Context, addr string) ([]string, error) {
	c := writerClient(addr)
	defer c.Close()
	var bad []string
	for w, lg := range l.logs {
		got, err := c.LRange(ctx, l.key(w), 0, -1).Result()
		if err != nil {
			return nil, fmt.Errorf("LRANGE %s on %s: %w", l.key(w), addr, err)
		}
		if msg := checkList(got, lg.acked); msg != "" {
			bad = append(bad, fmt.Sprintf("writer %d: %s", w, msg))
		}
	}
	if len(bad) > 0 {
		fmt.Fprintf(os.Stderr, "benchtakeover: %s: %d writers' lists do not match: %v\n", l.prefix, len(bad), bad)
	}
	return bad, nil
}
