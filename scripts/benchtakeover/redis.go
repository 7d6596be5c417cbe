package main

import (
	"context"
	"fmt"
	"time"

	"github.com/batonkv/baton/internal/benchkit"
	"github.com/batonkv/baton/internal/proc"
	"github.com/redis/go-redis/v9"
)

// redisPair is the anchor: one redis-server primary and one replica on
// loopback, switched with Redis 7's FAILOVER command.
type redisPair struct {
	dir   string
	wait  time.Duration
	nodes []*benchkit.Proc
	roles []*redis.Client // one per node, shared by the writers' lookups
}

// start launches r1 (primary) and r2 (its replica) and returns once the
// replica's link is up.
func (r *redisPair) start(ctx context.Context) error {
	ports, err := proc.FreePorts(2)
	if err != nil {
		return err
	}
	if r.nodes, err = benchkit.StartRedisGroup(r.dir, ports); err != nil {
		return err
	}
	for _, p := range r.nodes {
		o := benchkit.ClientOptions(p.Addr, "")
		o.PoolSize = 8
		r.roles = append(r.roles, redis.NewClient(o))
	}
	_, _, err = r.ready(ctx)
	return err
}

// primaryAddr is a client's lookup after an error: ROLE on both servers,
// the one that answers master.
func (r *redisPair) primaryAddr(ctx context.Context) (string, error) {
	for i, c := range r.roles {
		v, err := c.Do(ctx, "ROLE").Slice()
		if err == nil && len(v) > 0 && v[0] == "master" {
			return r.nodes[i].Addr, nil
		}
	}
	return "", fmt.Errorf("no redis-server answers ROLE master")
}

// ready waits until one server is a primary with no failover under way and
// the other its connected replica, and returns both.
func (r *redisPair) ready(ctx context.Context) (primary, replica *benchkit.Proc, err error) {
	err = benchkit.Poll(ctx, "a redis primary with its replica connected", r.wait, func(ctx context.Context) error {
		var infos []benchkit.ReplInfo
		for _, p := range r.nodes {
			c := benchkit.NewClient(p.Addr, "")
			ri, err := benchkit.GetReplInfo(ctx, c)
			c.Close()
			if err != nil {
				return err
			}
			infos = append(infos, ri)
		}
		for i, ri := range infos {
			o := infos[1-i]
			if ri.Role == "master" && ri.Replicas >= 1 && ri.FailoverState == "no-failover" && o.Role == "slave" && o.LinkUp {
				primary, replica = r.nodes[i], r.nodes[1-i]
				return nil
			}
		}
		return fmt.Errorf("%w: r1 %+v, r2 %+v", benchkit.ErrNotYet, infos[0], infos[1])
	})
	return primary, replica, err
}

// failover sends FAILOVER TIMEOUT to the primary p and polls its INFO
// replication every 2 ms until master_failover_state is no-failover again.
// It reports whether p ended a replica (the switch completed) or still a
// primary (FAILOVER aborted at its timeout).
func (r *redisPair) failover(ctx context.Context, p *benchkit.Proc, timeout time.Duration) (bool, error) {
	c := benchkit.NewClient(p.Addr, "")
	defer c.Close()
	if err := c.Do(ctx, "FAILOVER", "TIMEOUT", timeout.Milliseconds()).Err(); err != nil {
		return false, fmt.Errorf("FAILOVER on %s: %w", p.Name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	for {
		ri, err := benchkit.GetReplInfo(ctx, c)
		if err == nil && ri.FailoverState == "no-failover" {
			return ri.Role == "slave", nil
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("FAILOVER on %s: still under way after %v (last: %+v, %v)", p.Name, timeout+5*time.Second, ri, err)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// stop kills both servers.
func (r *redisPair) stop() {
	for _, c := range r.roles {
		c.Close()
	}
	for _, p := range r.nodes {
		_ = p.Kill()
	}
}
