package coord

import (
	"context"

	"github.com/batonkv/baton/coordapi"
)

// watchLoop keeps a BATON.WATCH stream open to some coordinator, rotating
// through them with backoff, and hands every pushed record to the
// reconcile loop. When a stream breaks, the reconcile loop polls at once.
func (c *Coordinator) watchLoop(ctx context.Context) {
	addrs := c.cfg.Coordinators
	for i, fails := 0, 0; ; i++ {
		got, err := c.watchOnce(ctx, addrs[i%len(addrs)])
		if ctx.Err() != nil {
			return
		}
		c.pollSoon()
		if got {
			fails = 0
		} else {
			fails++
		}
		c.log.Debug("topology watch ended", "coordinator", addrs[i%len(addrs)], "err", err)
		if !sleepCtx(ctx, backoff(fails)) {
			return
		}
	}
}

// watchOnce runs one watch stream until it fails; got reports whether it
// delivered at least one record.
func (c *Coordinator) watchOnce(ctx context.Context, addr string) (got bool, err error) {
	err = coordapi.Watch(ctx, addr, c.cfg.Secret, requestTimeout, watchIdle,
		func(t coordapi.Topology) {
			got = true
			c.offer(t)
		})
	return got, err
}

// offer hands a record from the watch stream to the reconcile loop,
// replacing one still waiting (only the newest matters).
func (c *Coordinator) offer(t coordapi.Topology) {
	for {
		select {
		case c.topos <- t:
			return
		default:
		}
		select {
		case <-c.topos:
		default:
		}
	}
}
