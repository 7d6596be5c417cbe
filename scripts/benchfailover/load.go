package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/internal/benchkit"
)

// load is the write load: clients that SET unique keys on whatever the
// system says the primary is, and the acknowledgement times of all of them
// on one monotonic clock (offsets from t0).
type load struct {
	sys      system
	t0       time.Time
	backoff  time.Duration // pause after an error before looking up the primary again
	interval time.Duration // pause after an acknowledged write (offered-load cap)

	mu       sync.Mutex
	lastAddr string        // the server that acknowledged the newest write
	lastAt   time.Duration // and when
	acks     [][]time.Duration

	ambiguous atomic.Int64 // sent, no reply or NOREPL: may or may not have been applied
	rejected  atomic.Int64 // refused before execution (TRYAGAIN, READONLY, refused connection): retried
	other     atomic.Int64 // any other error
	wg        sync.WaitGroup
}

// run starts n clients that write until ctx ends.
func (l *load) run(ctx context.Context, n int) {
	l.acks = make([][]time.Duration, n)
	for i := 0; i < n; i++ {
		l.wg.Add(1)
		go func(id int) {
			defer l.wg.Done()
			l.client(ctx, id)
		}(i)
	}
}

// last returns which server acknowledged the newest write, and when.
func (l *load) last() (string, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastAddr, l.lastAt
}

// client is one writer. Every key is written at most once by an attempt
// that may have been applied: a write refused before execution is retried
// with the same key, an ambiguous one is abandoned and the next key used.
func (l *load) client(ctx context.Context, id int) {
	hint := id
	f := &benchkit.Follower{Backoff: l.backoff, Resolve: func(ctx context.Context) (string, error) {
		hint++
		return l.sys.discover(ctx, hint-1)
	}}
	defer f.Close()
	val := strings.Repeat("v", 16)
	seq := 0
	var mine []time.Duration
	defer func() { l.mu.Lock(); l.acks[id] = mine; l.mu.Unlock() }()
	for ctx.Err() == nil {
		c, addr := f.Client(ctx)
		if c == nil {
			continue
		}
		err := c.Set(ctx, fmt.Sprintf("bf:%d:%d", id, seq), val, 0).Err()
		if err == nil {
			at := time.Since(l.t0)
			mine = append(mine, at)
			l.mu.Lock()
			if at > l.lastAt {
				l.lastAt, l.lastAddr = at, addr
			}
			l.mu.Unlock()
			seq++
			benchkit.Sleep(ctx, l.interval)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		switch benchkit.Classify(err) {
		case benchkit.OutcomeRejected:
			l.rejected.Add(1)
		case benchkit.OutcomeAmbiguous:
			l.ambiguous.Add(1)
			seq++
		default:
			if l.other.Add(1) <= 5 {
				fmt.Fprintf(os.Stderr, "benchfailover: %s: client %d: SET on %s: %v\n", l.sys.name(), id, addr, err)
			}
			seq++
		}
		f.Failed(ctx)
	}
}
