package node

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/tidwall/redcon"
)

// Test_ReplyBuf_LenMatchesBuffer: writerLen reads the same length as
// redcon's copying Buffer().
func Test_ReplyBuf_LenMatchesBuffer(t *testing.T) {
	w := redcon.NewWriter(nil)
	if writerLen(w) != 0 {
		t.Fatalf("empty writer: len %d", writerLen(w))
	}
	w.WriteBulkString("hello")
	w.WriteInt(42)
	if got, want := writerLen(w), len(w.Buffer()); got != want {
		t.Fatalf("writerLen %d, len(Buffer()) %d", got, want)
	}
}

// Test_Pipeline_LargeRepliesCostLinear: the work of a pipeline of N GETs
// of a large value grows linearly in N (issue 17: every command copied the
// whole reply buffer, O(N²)). Measured in bytes allocated by the process
// (node and client), which a quadratic copy inflates: N=200 must cost at
// most 5× N=50.
func Test_Pipeline_LargeRepliesCostLinear(t *testing.T) {
	n := mustNewNode(t, Config{SyncReplicas: 0})
	c := mustClient(t, n)
	ctx := context.Background()
	if err := c.Set(ctx, "big", strings.Repeat("x", 64<<10), 0).Err(); err != nil {
		t.Fatal(err)
	}
	cost := func(cmds int) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		pipe := c.Pipeline()
		for range cmds {
			pipe.Get(ctx, "big")
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatalf("pipeline of %d GETs: %v", cmds, err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	cost(50) // warm the buffers up
	small, large := cost(50), cost(200)
	t.Logf("bytes allocated: 50 GETs %d, 200 GETs %d (ratio %.1f)", small, large, float64(large)/float64(small))
	if large > 5*small {
		t.Fatalf("200 GETs allocated %d bytes, more than 5× the %d of 50 GETs: quadratic", large, small)
	}
}
