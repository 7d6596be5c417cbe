package coord

import (
	"context"
	"errors"
	"time"

	"github.com/batonkv/baton/coordapi"
)

// renewLoop renews the write lease while the topology makes this node the
// primary of an epoch, every lease/3 (300 ms before the first grant), each
// request bounded by that interval. Every grant is timed from the moment
// its request was sent (Lease.renew), on the monotonic clock.
func (c *Coordinator) renewLoop(ctx context.Context) {
	cc := coordapi.NewClient(c.cfg.Coordinators, c.cfg.Secret)
	defer cc.Close()
	for {
		epoch, interval, changed := c.lease.wanted()
		if epoch == 0 {
			select {
			case <-ctx.Done():
				return
			case <-changed:
			}
			continue
		}
		next := time.Now().Add(interval)
		if !c.renewOnce(ctx, cc, epoch, interval) {
			return
		}
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// renewOnce sends one renewal for epoch bounded by interval and logs a
// granted window; false when ctx ended.
func (c *Coordinator) renewOnce(ctx context.Context, cc *coordapi.Client, epoch uint64, interval time.Duration) bool {
	var t0 time.Time
	d, err := c.lease.renew(epoch, func() time.Time { t0 = time.Now(); return t0 }, func() (time.Duration, error) {
		rctx, cancel := context.WithTimeout(ctx, interval)
		defer cancel()
		if c.cfg.AckedLSN != nil {
			// Read after t0: the report covers every write acknowledged
			// before the lease this renewal grants begins.
			return cc.LeaseAcked(rctx, c.cfg.NodeID, epoch, c.cfg.AckedLSN(), c.cfg.SyncReplicas)
		}
		return cc.Lease(rctx, c.cfg.NodeID, epoch)
	})
	switch {
	case err == nil:
		c.logWindow(epoch, t0, d)
	case errors.Is(err, coordapi.ErrNotPrimary):
		c.log.Warn("coordinator refused the write lease; checking the topology", "epoch", epoch, "err", err)
		c.pollSoon()
	case ctx.Err() != nil:
		return false
	default:
		c.log.Debug("lease renewal failed", "epoch", epoch, "err", err)
	}
	return true
}
