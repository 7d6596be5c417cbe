package consensus

import (
	"context"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/resp"
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
		if addr, ok := coordapi.RedirectAddr(err); ok {
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
	rctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	conn, err := resp.Dial(rctx, addr, c.cfg.Secret)
	if err != nil {
		return err
	}
	defer conn.Close()
	v, err := conn.Do(rctx, coordapi.CmdJoin, c.cfg.ID, c.cfg.RaftAddr, c.cfg.APIAddr)
	if err != nil {
		return err
	}
	return v.Err()
}
