package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Test_Proxy_ClientKeepsItsConnectionAcrossAFailover: one client connection
// through `baton proxy` keeps writing while the primary behind it is
// killed: its commands are held and complete on the new primary; only a
// write that was in flight when the primary died may fail, with an error
// that says it is ambiguous. Every acknowledged write is on the new
// primary.
func Test_Proxy_ClientKeepsItsConnectionAcrossAFailover(t *testing.T) {
	c := startCluster(t, clusterOpts{syncReplicas: 1})
	var apis []string
	for _, m := range c.coords {
		apis = append(apis, m.addr)
	}
	px := startBaton(t, "proxy", []string{"--addr", "127.0.0.1:0", "--coordinators", strings.Join(apis, ","),
		"--cluster-secret", clusterSecret, "--log-level", "warn"})
	// One connection, so a reconnect would show as a new client id.
	cl := redis.NewClient(&redis.Options{Addr: px.addr, MaxRetries: -1, PoolSize: 1, Protocol: 2, DisableIdentity: true,
		ReadTimeout: 10 * time.Second})
	defer cl.Close()
	ctx := context.Background()
	old := c.clusterPrimary()
	var acked []string
	ambiguous := 0
	killed := false
	var held time.Duration
	for i := 0; i < 400; i++ {
		if i == 100 {
			c.kill9(old)
			killed = true
		}
		k := fmt.Sprintf("px:%04d", i)
		start := time.Now()
		err := cl.Set(ctx, k, i, 0).Err()
		switch {
		case err == nil:
			acked = append(acked, k)
			if killed {
				held = max(held, time.Since(start))
			}
		case strings.Contains(err.Error(), "may or may not have been applied"):
			ambiguous++
		default:
			t.Fatalf("SET %s through the proxy: %v (want success, or an explicit ambiguous-write error)", k, err)
		}
	}
	if ambiguous > 1 {
		t.Fatalf("%d ambiguous writes on one connection; at most the one in flight at the kill may be", ambiguous)
	}
	np := c.clusterPrimary(old.id)
	for _, k := range acked {
		if err := np.client.Get(ctx, k).Err(); err != nil {
			t.Fatalf("acknowledged %s missing on the new primary %s: %v", k, np.id, err)
		}
	}
	t.Logf("%d acknowledged, %d ambiguous; the longest held write took %v", len(acked), ambiguous, held.Round(time.Millisecond))
}
