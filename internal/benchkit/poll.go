package benchkit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotYet marks a condition polled by Poll that does not hold yet.
var ErrNotYet = errors.New("not yet")

// Poll calls f every 20 ms until it returns nil, the context ends, or
// timeout passes; each call gets at most a second. The error names what
// was awaited and the last failure.
func Poll(ctx context.Context, what string, timeout time.Duration, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		cctx, ccancel := context.WithTimeout(ctx, time.Second)
		last = f(cctx)
		ccancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s (%v): %w", what, timeout, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
