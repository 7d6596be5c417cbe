package chaos

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/batonkv/baton/chaos/check"
	"github.com/redis/go-redis/v9"
)

// convergeWait bounds how long the final digest check waits for every
// replica's offset to reach the primary's.
const convergeWait = 10 * time.Second

// readNodeStates reads every node's replication offset and DIGEST for the
// final digests check, polling (bounded by limit) until a sample is
// converged: every node readable, every offset equal to the primary's, and
// the offsets unchanged across the DIGEST reads (an expiry on the primary
// in between would otherwise compare two different moments). It returns
// the converged sample, or the last one when limit passed first, for
// check.Digests to judge. DIGEST is an admin command, answered by a
// primary even without a lease, and by replicas.
func readNodeStates(ctx context.Context, t Target, limit time.Duration) []check.NodeState {
	nodes := t.Members(KindNode)
	clients := make(map[string]*redis.Client, len(nodes))
	for _, id := range nodes {
		clients[id] = redis.NewClient(&redis.Options{Addr: t.DirectAddr(id), MaxRetries: -1, Protocol: 2,
			DisableIdentity: true, PoolSize: 1, DialTimeout: time.Second, ReadTimeout: 2 * time.Second})
		defer clients[id].Close()
	}
	deadline := time.Now().Add(limit)
	for {
		states, ok := sampleNodeStates(ctx, t, nodes, clients)
		if ok || time.Now().After(deadline) || !sleepCtx(ctx, 100*time.Millisecond) {
			return states
		}
	}
}

// sampleNodeStates takes one sample: offsets, then (when they agree)
// digests, then offsets again. ok is true when the sample is converged.
func sampleNodeStates(ctx context.Context, t Target, nodes []string, clients map[string]*redis.Client) ([]check.NodeState, bool) {
	states := make([]check.NodeState, len(nodes))
	primary := ""
	if topo, err := t.Topology(ctx); err == nil {
		primary = topo.Primary
	}
	for i, id := range nodes {
		states[i] = check.NodeState{Node: id, Primary: id == primary}
		off, err := replOffset(ctx, clients[id])
		if err != nil {
			states[i].Err = err.Error()
			continue
		}
		states[i].Offset = off
	}
	if !converged(states) {
		return states, false
	}
	for i, id := range nodes {
		d, err := clients[id].Do(ctx, "DIGEST").Text()
		if err != nil {
			states[i].Err = "DIGEST: " + err.Error()
			return states, false
		}
		states[i].Digest = d
	}
	for i, id := range nodes {
		if off, err := replOffset(ctx, clients[id]); err != nil || off != states[i].Offset {
			return states, false // moved under the digests: sample again
		}
	}
	return states, true
}

// converged reports whether every node was read, one is the primary and
// every offset equals the primary's.
func converged(states []check.NodeState) bool {
	var want uint64
	found := false
	for _, s := range states {
		if s.Err != "" {
			return false
		}
		if s.Primary {
			want, found = s.Offset, true
		}
	}
	if !found {
		return false
	}
	for _, s := range states {
		if s.Offset != want {
			return false
		}
	}
	return true
}

// replOffset reads INFO replication's master_repl_offset: a primary's last
// LSN, a replica's applied LSN.
func replOffset(ctx context.Context, cl *redis.Client) (uint64, error) {
	info, err := cl.Info(ctx, "replication").Result()
	if err != nil {
		return 0, fmt.Errorf("INFO replication: %w", err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "master_repl_offset:"); ok {
			return strconv.ParseUint(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("INFO replication has no master_repl_offset")
}
