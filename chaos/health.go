package chaos

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"
)

// healthLimit bounds one health check's calls.
const healthLimit = 5 * time.Second

// Health implements Target. It checks, in order: every process runs and
// answers PING directly; the coordinators agree on a Raft leader; the
// newest topology is stable and its primary says ROLE master; every other
// node is a connected replica of that primary; a SET through the client
// link succeeds.
func (l *Local) Health(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, healthLimit)
	defer cancel()
	for _, kind := range []string{KindCoordinator, KindNode, KindProxy} {
		for _, id := range l.Members(kind) {
			if !l.procs[id].alive() {
				return fmt.Errorf("%s is not running", id)
			}
			if err := l.clients[id].Ping(ctx).Err(); err != nil {
				return fmt.Errorf("%s does not answer: %w", id, err)
			}
		}
	}
	if _, err := l.RaftLeader(ctx); err != nil {
		return err
	}
	t, err := l.Topology(ctx)
	if err != nil {
		return err
	}
	if t.State != "stable" {
		return fmt.Errorf("topology epoch %d is %s", t.Epoch, t.State)
	}
	if err := l.checkRoles(ctx, t); err != nil {
		return err
	}
	l.mu.Lock()
	l.healthSeq++
	n := l.healthSeq
	l.mu.Unlock()
	if err := l.entry.Set(ctx, "chaos:health", n, 0).Err(); err != nil {
		return fmt.Errorf("write through the proxy: %w", err)
	}
	return nil
}

// checkRoles checks that the topology's primary says master and every
// other node is a connected replica following the primary's replication
// (or advertised) address.
func (l *Local) checkRoles(ctx context.Context, t Topology) error {
	want := map[string]bool{}
	for _, m := range t.Members {
		if m.ID == t.Primary {
			want[m.Addr], want[m.ReplAddr] = true, true
		}
	}
	if len(want) == 0 {
		return fmt.Errorf("topology epoch %d names no primary member (%q)", t.Epoch, t.Primary)
	}
	for _, id := range l.Members(KindNode) {
		v, err := l.clients[id].Do(ctx, "ROLE").Slice()
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
