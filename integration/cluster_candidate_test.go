package integration

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Test_Cluster_CandidateHasTheHighestLSN: the replica that would win a tie
// (smallest id) is frozen while the primary takes ~20 MB of writes, more
// than the socket buffers between them hold, so it falls behind. The
// primary is then killed and the frozen replica thawed before the
// coordinators decide: they must promote the other, more up-to-date
// replica, and no acknowledged write is lost (--sync-replicas 1).
func Test_Cluster_CandidateHasTheHighestLSN(t *testing.T) {
	c := startCluster(t, clusterOpts{syncReplicas: 1})
	p := c.clusterPrimary()
	var reps []*member
	for _, m := range c.nodes {
		if m != p {
			reps = append(reps, m)
		}
	}
	behind, ahead := reps[0], reps[1]
	if ahead.id < behind.id {
		behind, ahead = ahead, behind
	}
	c.signal(behind, syscall.SIGSTOP)
	ctx := context.Background()
	value := strings.Repeat("v", 1000)
	const n = 20000
	for i := 0; i < n; i += 500 {
		cmds, err := p.client.Pipelined(ctx, func(pl redis.Pipeliner) error {
			for k := i; k < i+500; k++ {
				pl.Set(ctx, fmt.Sprintf("big:%05d", k), value, 0)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("writes to the primary while %s is frozen: %v (%d replies)", behind.id, err, len(cmds))
		}
	}
	c.kill9(p)
	c.signal(behind, syscall.SIGCONT)
	np := c.waitPrimary(true, p.id)
	if np.id != ahead.id {
		t.Fatalf("promoted %s; want %s, the replica with the highest LSN (%s was behind)", np.id, ahead.id, behind.id)
	}
	for i := 0; i < n; i += 997 {
		k := fmt.Sprintf("big:%05d", i)
		if v, err := np.client.Get(ctx, k).Result(); err != nil || v != value {
			t.Fatalf("acknowledged %s missing on the new primary: %v", k, err)
		}
	}
	c.start(p)
	c.waitReplica(p)
	c.waitReplica(behind)
	c.auditLeases(2)
}
