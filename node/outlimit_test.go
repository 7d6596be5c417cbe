package node

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/outbuf"
	"github.com/batonkv/baton/internal/redisinfo"
	"github.com/batonkv/baton/internal/testutil"
)

// Test_Config_ClientOutputBufferLimit: CONFIG GET and SET of
// client-output-buffer-limit reply as redis-server 7 does (its defaults,
// its format, its errors).
func Test_Config_ClientOutputBufferLimit(t *testing.T) {
	_, c, _ := newTestClient(t)
	fail := func(why string) string {
		return "ERR:ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - " + why
	}
	expectReplies(t, c, []replyCase{
		rc([]any{"client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"},
			"CONFIG", "GET", "client-output-buffer-limit"),
		rc("OK", "CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 512kb 10"),
		rc([]any{"client-output-buffer-limit", "normal 1048576 524288 10 slave 268435456 67108864 60 pubsub 33554432 8388608 60"},
			"CONFIG", "GET", "client-output-buffer-limit"),
		rc("OK", "CONFIG", "SET", "client-output-buffer-limit", "replica 1k 2 3"),
		rc([]any{"client-output-buffer-limit", "normal 1048576 524288 10 slave 1000 2 3 pubsub 33554432 8388608 60"},
			"CONFIG", "GET", "client-output-buffer-limit"),
		rc(fail("Wrong number of arguments in buffer limit configuration."), "CONFIG", "SET", "client-output-buffer-limit", "normal 1 2"),
		rc(fail("Invalid client class specified in buffer limit configuration."), "CONFIG", "SET", "client-output-buffer-limit", "bogus 1 2 3"),
		rc(fail("Error in hard, soft or soft_seconds setting in buffer limit configuration."), "CONFIG", "SET", "client-output-buffer-limit", "normal x 2 3"),
	})
}

// Test_OutputLimit_HungClientsAreClosed: clients that never read are
// closed at the normal class' limit — one past the hard limit at once,
// one above the soft limit after its second — counted in the metrics;
// without a limit, CLIENT LIST omem shows the bytes pending (issue 17).
func Test_OutputLimit_HungClientsAreClosed(t *testing.T) {
	ls := outbuf.Defaults()
	ls.Normal = outbuf.Limit{Hard: 8 << 20, Soft: 1 << 20, SoftFor: time.Second}
	n := mustNewNode(t, Config{OutputLimits: &ls})
	c := mustClient(t, n)
	ctx := context.Background()
	if err := c.Set(ctx, "big", strings.Repeat("x", 256<<10), 0).Err(); err != nil {
		t.Fatal(err)
	}
	testutil.HungClient(t, n.addr, "big", 64) // 16 MB: over the hard limit
	testutil.HungClient(t, n.addr, "big", 24) // 6 MB: over the soft limit
	var list string
	for range 300 {
		if got := mustSample(t, n.Registry(), "baton_node_output_limit_closed_total", map[string]string{"class": "normal"}); got == 2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := mustSample(t, n.Registry(), "baton_node_output_limit_closed_total", map[string]string{"class": "normal"}); got != 2 {
		list, _ = c.ClientList(ctx).Result()
		t.Fatalf("output_limit_closed_total{class=normal} = %v, want 2; clients:\n%s", got, list)
	}
	for range 300 {
		if list, _ = c.ClientList(ctx).Result(); strings.Count(strings.TrimSpace(list), "\n") == 0 {
			break // only this client is left
		}
		time.Sleep(100 * time.Millisecond)
	}
	if strings.Count(strings.TrimSpace(list), "\n") != 0 {
		t.Fatalf("hung clients still listed:\n%s", list)
	}

	// No bound: a hung client stays, its replies pending in omem.
	if err := c.ConfigSet(ctx, "client-output-buffer-limit", "normal 0 0 0").Err(); err != nil {
		t.Fatal(err)
	}
	testutil.HungClient(t, n.addr, "big", 24)
	for range 300 {
		if list, _ = c.ClientList(ctx).Result(); redisinfo.CountPendingOutput(list, 1<<20) == 1 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no client with ≥ 1 MB omem:\n%s", list)
}
