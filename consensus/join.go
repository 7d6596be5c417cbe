package consensus

import (
	"context"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// joinLoop asks a running member to admit this one (BATON.JOIN), following
// redirects to the leader, until this member is part of the group.
func (c *Service) joinLoop(ctx context.Context) {
	target := c.cfg.Join
	for attempt := 0; ctx.Err() == nil; attempt++ {
		if _, addr := c.raft.Leader(); addr != "" {
			return // admitted: a leader reaches us
		}
		err := c.askToJoin(ctx, target)
		if err == nil {
			c.log.Info("joined the coordinator group", "via", target)
			return
		}
		if addr, ok := strings.CutPrefix(err.Error(), "REDIRECT "); ok {
			target = addr
			continue
		}
		c.log.Warn("join: not admitted yet; retrying", "via", target, "err", err)
		target = c.cfg.Join
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// askToJoin sends BATON.JOIN to addr.
func (c *Service) askToJoin(ctx context.Context, addr string) error {
	cl := redis.NewClient(&redis.Options{Addr: addr, Password: c.cfg.Secret, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer cl.Close()
	rctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	return cl.Do(rctx, "baton.join", c.cfg.ID, c.cfg.RaftAddr, c.cfg.APIAddr).Err()
}
