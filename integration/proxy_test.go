package integration

import (
	"bufio"
	"context"
	"fmt"
	"net"
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
	px := startClusterProxy(t, c)
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

// Test_Proxy_SubscriberSurvivesAFailover: a subscriber connected through
// the proxy keeps its one TCP connection (a raw one: go-redis would quietly
// reconnect and resubscribe) when the primary is killed, and receives what
// is published (through the proxy) on the new primary.
func Test_Proxy_SubscriberSurvivesAFailover(t *testing.T) {
	c := startCluster(t, clusterOpts{syncReplicas: 1})
	px := startClusterProxy(t, c)
	ctx := context.Background()
	pub := redis.NewClient(&redis.Options{Addr: px.addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer pub.Close()
	nc, err := net.Dial("tcp", px.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprint(nc, "*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\nnews\r\n")
	msgs := make(chan string, 64)
	go func() {
		defer close(msgs)
		r := bufio.NewReader(nc)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			// Message payloads are the only bulks starting with "m-".
			if strings.HasPrefix(line, "m-") {
				msgs <- strings.TrimSpace(line)
			}
		}
	}()
	receive := func(want string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			// Publish until it arrives: after a switch the subscriber is
			// re-subscribed on the new primary a moment later.
			pub.Publish(ctx, "news", want)
			select {
			case m, ok := <-msgs:
				if !ok {
					t.Fatalf("the proxy closed the subscriber's connection")
				}
				if m == want {
					return
				}
			case <-time.After(100 * time.Millisecond):
			case <-deadline:
				t.Fatalf("the subscriber never received %q", want)
			}
		}
	}
	receive("m-before")
	old := c.clusterPrimary()
	c.kill9(old)
	c.clusterPrimary(old.id)
	receive("m-after")
}

// startClusterProxy starts `baton proxy` following c's coordinators.
func startClusterProxy(t *testing.T, c *testCluster) *nodeProc {
	t.Helper()
	var apis []string
	for _, m := range c.coords {
		apis = append(apis, m.addr)
	}
	return startBaton(t, "proxy", []string{"--addr", "127.0.0.1:0", "--coordinators", strings.Join(apis, ","),
		"--cluster-secret", clusterSecret, "--log-level", "warn"})
}
