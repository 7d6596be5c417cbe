package chaos

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/resp"
	"github.com/redis/go-redis/v9"
)

// cluster is what every target shares: each member's kind, address and
// direct client, the client through the client link, and how to tell
// whether a member runs. Reads of the appliance's state (topology, Raft
// leader, health) are answered from it the same way for every target.
type cluster struct {
	// secret is the coordinators' cluster secret.
	secret string
	kinds  map[string]string
	addrs  map[string]string
	// clients talk to each member directly (coordinators AUTHed).
	clients map[string]*redis.Client
	// entry talks to a proxy through the client link (health writes).
	entry *redis.Client
	// alive reports whether a member's process (or container) runs; a
	// paused one counts as running.
	alive func(id string) bool

	mu        sync.Mutex
	healthSeq int
}

// newCluster returns an empty cluster whose coordinators AUTH with secret.
func newCluster(secret string, alive func(id string) bool) *cluster {
	return &cluster{secret: secret, kinds: map[string]string{}, addrs: map[string]string{},
		clients: map[string]*redis.Client{}, alive: alive}
}

// addMember records a member and opens its direct client.
func (c *cluster) addMember(id, kind, addr string) {
	c.kinds[id], c.addrs[id] = kind, addr
	opts := &redis.Options{Addr: addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true, PoolSize: 2,
		DialTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: time.Second}
	if kind == KindCoordinator {
		opts.Password = c.secret
	}
	c.clients[id] = redis.NewClient(opts)
}

// setEntry opens the client through the client link at addr.
func (c *cluster) setEntry(addr string) {
	c.entry = redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true,
		PoolSize: 2, DialTimeout: time.Second, ReadTimeout: 3 * time.Second, WriteTimeout: time.Second})
}

// closeClients closes every client.
func (c *cluster) closeClients() {
	for _, cl := range c.clients {
		cl.Close()
	}
	if c.entry != nil {
		c.entry.Close()
	}
}

// Members implements Target.
func (c *cluster) Members(kind string) []string {
	var out []string
	for id, k := range c.kinds {
		if k == kind {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// DirectAddr implements Target.
func (c *cluster) DirectAddr(id string) string { return c.addrs[id] }

// Topology implements Target: the newest topology any live coordinator
// applied (BATON.TOPOLOGY LOCAL, the newest by coordapi's rule), so a lagging or dead
// member does not hide a change.
func (c *cluster) Topology(ctx context.Context) (coordapi.Topology, error) {
	var best coordapi.Topology
	var last error = errors.New("no coordinator answered")
	found := false
	for _, id := range c.Members(KindCoordinator) {
		if !c.alive(id) {
			continue
		}
		s, err := c.clients[id].Do(ctx, coordapi.CmdTopology, "LOCAL").Text()
		if err != nil {
			last = fmt.Errorf("%s: %w", id, err)
			continue
		}
		t, err := coordapi.Decode(s)
		if err != nil {
			last = fmt.Errorf("%s: BATON.TOPOLOGY %q: %w", id, s, err)
			continue
		}
		if !found || t.NewerThan(best) {
			best, found = t, true
		}
	}
	if !found {
		return best, last
	}
	return best, nil
}

// RaftLeader implements Target: the leader every live coordinator's
// BATON.MEMBERS agrees on.
func (c *cluster) RaftLeader(ctx context.Context) (string, error) {
	leader := ""
	for _, id := range c.Members(KindCoordinator) {
		if !c.alive(id) {
			continue
		}
		lines, err := c.clients[id].Do(ctx, "BATON.MEMBERS").StringSlice()
		if err != nil {
			return "", fmt.Errorf("%s: BATON.MEMBERS: %w", id, err)
		}
		seen := ""
		for _, line := range lines {
			if f := strings.Fields(line); len(f) == 4 && f[3] == "leader" {
				seen = f[0]
			}
		}
		if seen == "" || (leader != "" && seen != leader) {
			return "", fmt.Errorf("no agreed Raft leader (%s sees %q, others %q)", id, seen, leader)
		}
		leader = seen
	}
	if leader == "" {
		return "", errors.New("no live coordinator")
	}
	return leader, nil
}

// CoordinatorDo implements Target: the live coordinators in turn,
// following -REDIRECT (coordapi.LeaderDo), each call bounded by timeout.
func (c *cluster) CoordinatorDo(ctx context.Context, timeout time.Duration, args ...string) (resp.Value, error) {
	var addrs []string
	for _, id := range c.Members(KindCoordinator) {
		if c.alive(id) {
			addrs = append(addrs, c.addrs[id])
		}
	}
	if len(addrs) == 0 {
		return resp.Value{}, errors.New("no live coordinator")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return coordapi.LeaderDo(ctx, addrs, c.secret, 30, args...)
}
