// Package coordapi holds what clients of the coordinators' RESP API share:
// reaching the Raft leader for leader-only commands (BATON.TAKEOVER,
// BATON.FAILOVER, …), which followers answer with -REDIRECT and an election
// with -NOLEADER.
package coordapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// LeaderDo sends a leader-only command to the coordinators at addrs in
// turn until one answers with anything but -REDIRECT or -NOLEADER, at most
// rounds rounds 100 ms apart (a leader election takes a few hundred ms).
// Any other error reply ends it at once. Each call uses a one-off client
// whose I/O is bounded by ctx; addrs that are down are skipped by their
// dial error.
func LeaderDo(ctx context.Context, addrs []string, secret string, rounds int, args ...any) (any, error) {
	var last error = errors.New("no coordinator address")
	for round := 0; round < rounds && ctx.Err() == nil; round++ {
		for _, addr := range addrs {
			// Reads are bounded by ctx alone: go-redis's default 3 s read
			// timeout would cut a takeover that waits for its target.
			cl := redis.NewClient(&redis.Options{Addr: addr, Password: secret, MaxRetries: -1,
				DialTimeout: time.Second, ReadTimeout: -1, WriteTimeout: -1, ContextTimeoutEnabled: true,
				Protocol: 2, DisableIdentity: true})
			v, err := cl.Do(ctx, args...).Result()
			cl.Close()
			if err == nil {
				return v, nil
			}
			last = fmt.Errorf("%s: %w", addr, err)
			if !Redirected(err) && !isDialError(err) {
				return nil, last
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("no coordinator leader answered: %w", last)
}

// Redirected reports whether err is a follower's -REDIRECT or -NOLEADER.
func Redirected(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "REDIRECT") || strings.HasPrefix(s, "NOLEADER")
}

// isDialError reports whether err means the coordinator could not be
// reached at all (down, or not yet listening): nothing was sent, so the
// next one may be tried. Any other failure (a timeout after sending) may
// have run the command and ends LeaderDo: a takeover is never sent twice.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
