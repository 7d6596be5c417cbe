package consensus

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/batonkv/baton/internal/testutil"
)

// Test_Service_HostileInput: the coordinator API holds clients to the
// node's input limits, with Redis' pre-authentication bounds until they
// present the cluster secret: a bulk length that overflows or is too large
// before AUTH gets a protocol error and a closed connection, nothing
// buffered; an HTTP request is closed unanswered. The group keeps serving.
func Test_Service_HostileInput(t *testing.T) {
	g := startGroup(t, nil)
	addr := g.addrs[g.leader(t)]
	bulk := func(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }
	for _, tc := range []struct{ name, req, want string }{
		{"bulk-overflow", "*2\r\n$4\r\nAUTH\r\n$99999999999999999999\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"unauth-100MB", "*2\r\n$4\r\nAUTH\r\n$100000000\r\n" + strings.Repeat("x", 1<<16), "-ERR Protocol error: unauthenticated bulk length\r\n"},
		{"unauth-multibulk", "*11\r\n" + strings.Repeat(bulk("x"), 11), "-ERR Protocol error: unauthenticated multibulk length\r\n"},
		{"http-post", "POST / HTTP/1.1\r\nHost: x\r\n\r\nAUTH " + testSecret + "\r\nBATON.MEMBERS\r\n", ""},
		{"auth-then-big", "AUTH " + testSecret + "\r\n*2\r\n" + bulk("BATON.TOPOLOGY") + bulk(strings.Repeat("y", 20000)) + "QUIT\r\n", "+OK\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, closed := testutil.RawExchange(t, addr, tc.req)
			if !closed {
				t.Fatalf("connection left open after %q", got)
			}
			if !strings.HasPrefix(got, tc.want) || (tc.want == "" && got != "") {
				t.Fatalf("reply = %q, want it to start with %q", got, tc.want)
			}
		})
	}
	c := g.client(t, g.leader(t), testSecret)
	if err := c.Do(context.Background(), "baton.topology").Err(); err != nil {
		t.Fatalf("the API after the hostile clients: %v", err)
	}
}
