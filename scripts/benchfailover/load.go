package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
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
	conns := map[string]*redis.Client{}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	val := strings.Repeat("v", 16)
	addr, seq, hint := "", 0, id
	var mine []time.Duration
	defer func() { l.mu.Lock(); l.acks[id] = mine; l.mu.Unlock() }()
	for ctx.Err() == nil {
		if addr == "" {
			a, err := l.sys.discover(ctx, hint)
			hint++
			if err != nil {
				sleep(ctx, l.backoff)
				continue
			}
			addr = a
		}
		c := conns[addr]
		if c == nil {
			c = newClient(addr, "")
			conns[addr] = c
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
			sleep(ctx, l.interval)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		switch classify(err) {
		case outcomeRejected:
			l.rejected.Add(1)
		case outcomeAmbiguous:
			l.ambiguous.Add(1)
			seq++
		default:
			if l.other.Add(1) <= 5 {
				fmt.Fprintf(os.Stderr, "benchfailover: %s: client %d: SET on %s: %v\n", l.sys.name(), id, addr, err)
			}
			seq++
		}
		addr = ""
		sleep(ctx, l.backoff)
	}
}

// outcome is what a failed write means for the history.
type outcome int

const (
	outcomeOther     outcome = iota
	outcomeRejected          // certainly not applied: safe to retry the same key
	outcomeAmbiguous         // maybe applied: never counted as acknowledged
)

// classify sorts a failed SET. Refusals before execution (TRYAGAIN: no write
// lease; READONLY: a replica; LOADING / MASTERDOWN: not serving yet) and
// failed dials are safe to retry. A connection that broke after the command
// was sent, a timeout, or NOREPL (applied on the primary, not acknowledged by
// enough replicas) is ambiguous.
func classify(err error) outcome {
	var re redis.Error
	if errors.As(err, &re) {
		msg := re.Error()
		for _, p := range []string{"TRYAGAIN", "READONLY", "LOADING", "MASTERDOWN"} {
			if strings.HasPrefix(msg, p) {
				return outcomeRejected
			}
		}
		if strings.HasPrefix(msg, "NOREPL") {
			return outcomeAmbiguous
		}
		return outcomeOther
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" || errors.Is(err, syscall.ECONNREFUSED) {
		return outcomeRejected
	}
	return outcomeAmbiguous
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
