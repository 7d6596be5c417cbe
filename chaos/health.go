package chaos

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/batonkv/baton/coordapi"
)

// healthLimit bounds one health check's calls.
const healthLimit = 5 * time.Second

// Health implements Target. It checks, in order: every process runs and
// answers PING directly; the coordinators agree on a Raft leader; the
// newest topology is stable and its primary says ROLE master; every other
// node is a connected replica of that primary; a SET through the client
// link succeeds.
func (c *cluster) Health(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, healthLimit)
	defer cancel()
	for _, kind := range []string{KindCoordinator, KindNode, KindProxy} {
		for _, id := range c.Members(kind) {
			if !c.alive(id) {
				return fmt.Errorf("%s is not running", id)
			}
			if err := c.clients[id].Ping(ctx).Err(); err != nil {
				return fmt.Errorf("%s does not answer: %w", id, err)
			}
		}
	}
	if _, err := c.RaftLeader(ctx); err != nil {
		return err
	}
	t, err := c.Topology(ctx)
	if err != nil {
		return err
	}
	if t.State != "stable" {
		return fmt.Errorf("topology epoch %d is %s", t.Epoch, t.State)
	}
	if err := c.checkRoles(ctx, t); err != nil {
		return err
	}
	c.mu.Lock()
	c.healthSeq++
	n := c.healthSeq
	c.mu.Unlock()
	if err := c.entry.Set(ctx, "chaos:health", n, 0).Err(); err != nil {
		return fmt.Errorf("write through the proxy: %w", err)
	}
	return nil
}

// checkRoles checks that the topology's primary says master and every
// other node is a connected replica following the primary's replication
// (or advertised) address.
func (c *cluster) checkRoles(ctx context.Context, t coordapi.Topology) error {
	want := map[string]bool{}
	for _, m := range t.Members {
		if m.ID == t.Primary {
			want[m.Addr], want[m.ReplAddr] = true, true
		}
	}
	if len(want) == 0 {
		return fmt.Errorf("topology epoch %d names no primary member (%q)", t.Epoch, t.Primary)
	}
	for _, id := range c.Members(KindNode) {
		v, err := c.clients[id].Do(ctx, "ROLE").Slice()
		if err != nil || len(v) == 0 {
			return fmt.Errorf("%s ROLE: %v %v", id, v, err)
		}
		kind := fmt.Sprint(v[0])
		if id == t.Primary {
			if kind != "master" {
				return fmt.Errorf("primary %s of epoch %d says ROLE %s", id, t.Epoch, kind)
			}
			continue
		}
		if kind != "slave" || len(v) < 4 {
			return fmt.Errorf("%s says ROLE %v; %s is the primary of epoch %d", id, v, t.Primary, t.Epoch)
		}
		port, _ := v[2].(int64)
		following := net.JoinHostPort(fmt.Sprint(v[1]), strconv.FormatInt(port, 10))
		if !want[following] || fmt.Sprint(v[3]) != "connected" {
			return fmt.Errorf("%s replicates from %s (%v), want connected to primary %s", id, following, v[3], t.Primary)
		}
	}
	return nil
}
