package integration

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Test_Up_WholeApplianceServesAndStops: `baton up` starts 3 coordinators,
// 3 nodes and a proxy, prints the proxy's address once a write through it
// works, and on SIGINT stops every process it started.
func Test_Up_WholeApplianceServesAndStops(t *testing.T) {
	p := startBaton(t, "up", []string{"--addr", "127.0.0.1:0", "--dir", t.TempDir(), "--log-level", "warn"})
	c := redis.NewClient(&redis.Options{Addr: p.addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer c.Close()
	ctx := context.Background()
	if err := c.Set(ctx, "hello", "world", 0).Err(); err != nil {
		t.Fatalf("SET through the appliance's proxy: %v", err)
	}
	if v, err := c.Get(ctx, "hello").Result(); err != nil || v != "world" {
		t.Fatalf("GET = %q, %v", v, err)
	}
	if err := p.run.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := p.waitExit(t, 30*time.Second); code != 0 {
		t.Fatalf("baton up exited with %d; log:\n%s", code, p.log.String())
	}
	if conn, err := net.DialTimeout("tcp", p.addr, time.Second); err == nil {
		conn.Close()
		t.Fatalf("the proxy still accepts connections after baton up stopped")
	}
}
