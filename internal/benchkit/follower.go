package benchkit

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Follower is one writer's way to the primary: it looks the primary up
// (Resolve) before the first write and after every failed one, and keeps
// one client per address it was sent to, so returning to an old primary
// reuses its connection.
type Follower struct {
	Resolve func(ctx context.Context) (string, error)
	Dial    func(addr string) *redis.Client // nil: NewClient(addr, "")
	Backoff time.Duration                   // pause after a failed lookup or write

	addr  string
	conns map[string]*redis.Client
}

// Client returns a client for the primary and its address. After a failed
// lookup it pauses Backoff and returns nil: the caller loops.
func (f *Follower) Client(ctx context.Context) (*redis.Client, string) {
	if f.addr == "" {
		a, err := f.Resolve(ctx)
		if err != nil {
			Sleep(ctx, f.Backoff)
			return nil, ""
		}
		f.addr = a
	}
	c := f.conns[f.addr]
	if c == nil {
		if f.conns == nil {
			f.conns = map[string]*redis.Client{}
		}
		if f.Dial != nil {
			c = f.Dial(f.addr)
		} else {
			c = NewClient(f.addr, "")
		}
		f.conns[f.addr] = c
	}
	return c, f.addr
}

// Failed records that a write on the current primary failed: the next
// Client looks the primary up again. It pauses Backoff first.
func (f *Follower) Failed(ctx context.Context) {
	f.addr = ""
	Sleep(ctx, f.Backoff)
}

// Close closes every client.
func (f *Follower) Close() {
	for _, c := range f.conns {
		c.Close()
	}
}
