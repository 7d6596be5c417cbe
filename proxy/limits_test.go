package proxy

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/testutil"
	"github.com/batonkv/baton/node"
	"github.com/batonkv/baton/node/nodetest"
	"github.com/redis/go-redis/v9"
)

// isReset reports a connection reset: the proxy closed with unread bytes.
func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// rawExchange sends req on a new connection to addr and returns all it
// reads until the proxy closes the connection (or 5 s pass: the test then
// fails, a client over the limits must be closed).
func rawExchange(t *testing.T, addr, req string) string {
	t.Helper()
	reply, closed := testutil.RawExchange(t, addr, req)
	if !closed {
		t.Fatalf("connection not closed by the proxy (read %q)", reply)
	}
	return reply
}

func Test_Proxy_ClientInputLimits(t *testing.T) {
	ctx := context.Background()
	n := nodetest.StartAddr(t, node.Config{})
	_, addr := mustNewProxy(t, Config{Backend: n})
	other := newClient(t, addr, "")
	if err := other.Set(ctx, "k", "before", 0).Err(); err != nil {
		t.Fatal(err)
	}
	ping := "*1\r\n$4\r\nPING\r\n"
	cases := []struct{ name, req, want string }{
		// 1 GB announced: over proto-max-bulk-len (512 MB), refused before
		// the proxy buffers any of it; the PING before it is answered.
		{"oversized bulk", ping + "*2\r\n$4\r\nECHO\r\n$1000000000\r\n",
			"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"},
		{"oversized multibulk", "*99999999\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		// Garbage with no line end: an inline request over 64 KB.
		{"garbage without newline", strings.Repeat("\x00\xffgarbage", 10<<10),
			"-ERR Protocol error: too big inline request\r\n"},
		// Garbage in a multibulk: redcon's own protocol error. (Unlike
		// Redis, redcon drops the replies of valid commands read in the
		// same buffer before it: the node does the same.)
		{"garbage in a multibulk", "*1\r\n!4\r\nPING\r\n", "-ERR Protocol error: expected '$', got '!'\r\n"},
		{"header too long", "*1\r\n$" + strings.Repeat("9", 40) + "\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := rawExchange(t, addr, tc.req); got != tc.want {
				t.Fatalf("reply = %q, want %q", got, tc.want)
			}
			// The client connected all along keeps working.
			if err := other.Set(ctx, "k", tc.name, 0).Err(); err != nil {
				t.Fatalf("other client after %s: %v", tc.name, err)
			}
			if v, err := other.Get(ctx, "k").Result(); err != nil || v != tc.name {
				t.Fatalf("other client GET = %q, %v", v, err)
			}
		})
	}
}

// A pinned client (here in a transaction) is read through the same limits.
func Test_Proxy_ClientInputLimits_Pinned(t *testing.T) {
	ctx := context.Background()
	n := nodetest.StartAddr(t, node.Config{})
	_, addr := mustNewProxy(t, Config{Backend: n})
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write([]byte("*1\r\n$5\r\nMULTI\r\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(nc, buf); err != nil || string(buf) != "+OK\r\n" {
		t.Fatalf("MULTI = %q, %v", buf, err)
	}
	nc.Write([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000000\r\n"))
	got, err := io.ReadAll(nc)
	if err != nil && !isReset(err) {
		t.Fatalf("connection not closed by the proxy: %v (read %q)", err, got)
	}
	if want := "-ERR Protocol error: invalid bulk length\r\n"; string(got) != want {
		t.Fatalf("reply = %q, want %q", got, want)
	}
	if err := newClient(t, addr, "").Ping(ctx).Err(); err != nil {
		t.Fatalf("another client: %v", err)
	}
}

// Test_Proxy_PreAuthAndHTTP: a proxy with a password holds clients to
// Redis' pre-authentication bounds until they AUTH (a pipelined AUTH lifts
// them for what follows it), and closes an HTTP request unanswered without
// forwarding anything it carried.
func Test_Proxy_PreAuthAndHTTP(t *testing.T) {
	ctx := context.Background()
	n := nodetest.StartAddr(t, node.Config{})
	_, addr := mustNewProxy(t, Config{Backend: n, RequirePass: "pw"})
	bulk := func(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }
	big := strings.Repeat("v", 20000)
	for _, tc := range []struct{ name, req, want string }{
		{"unauth-bulk", "*2\r\n$4\r\nAUTH\r\n$100000000\r\n" + strings.Repeat("x", 1<<16), "-ERR Protocol error: unauthenticated bulk length\r\n"},
		{"unauth-multibulk", "*11\r\n" + strings.Repeat(bulk("x"), 11), "-ERR Protocol error: unauthenticated multibulk length\r\n"},
		{"auth-then-big", "AUTH pw\r\n*3\r\n" + bulk("SET") + bulk("big") + bulk(big) + "QUIT\r\n", "+OK\r\n+OK\r\n+OK\r\n"},
		{"http-post", "POST / HTTP/1.1\r\nHost: x\r\n\r\nAUTH pw\r\nSET http yes\r\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rawExchange(t, addr, tc.req); got != tc.want {
				t.Fatalf("reply = %q, want %q", got, tc.want)
			}
		})
	}
	c := newClient(t, addr, "pw")
	if v, err := c.StrLen(ctx, "big").Result(); err != nil || v != int64(len(big)) {
		t.Fatalf("STRLEN big = %d, %v", v, err)
	}
	if v, err := c.Exists(ctx, "http").Result(); err != nil || v != 0 {
		t.Fatalf("EXISTS http = %d, %v: the HTTP request's payload was forwarded", v, err)
	}
}

// Test_Proxy_RefusesControlCommands: the proxy's clients are applications:
// control commands (epochs, freezes, replication, FAILOVER, SHUTDOWN,
// CONFIG SET, CLIENT KILL/PAUSE) get NOPERM and never reach the node, on
// the shared path and in a pinned session (MULTI); reads of the
// configuration still work.
func Test_Proxy_RefusesControlCommands(t *testing.T) {
	ctx := context.Background()
	n := nodetest.StartAddr(t, node.Config{})
	_, addr := mustNewProxy(t, Config{Backend: n})
	c := newClient(t, addr, "")
	for _, tc := range []struct {
		args []any
		name string
	}{
		{[]any{"baton.epoch", "1000000"}, "baton.epoch"},
		{[]any{"baton.freeze", "18446744073709551615", "1", "0"}, "baton.freeze"},
		{[]any{"replicaof", "127.0.0.1", "1"}, "replicaof"},
		{[]any{"failover"}, "failover"},
		{[]any{"shutdown", "nosave"}, "shutdown"},
		{[]any{"config", "set", "maxclients", "1"}, "config|set"},
		{[]any{"client", "pause", "100000"}, "client|pause"},
	} {
		err := c.Do(ctx, tc.args...).Err()
		if want := "NOPERM this user has no permissions to run the '" + tc.name + "' command"; err == nil || err.Error() != want {
			t.Errorf("%v through the proxy: %v; want %q", tc.args, err, want)
		}
	}
	conn := c.Conn()
	defer conn.Close()
	if err := conn.Do(ctx, "multi").Err(); err != nil {
		t.Fatal(err)
	}
	if err := conn.Do(ctx, "baton.epoch", "1000000").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Errorf("BATON.EPOCH in a pinned MULTI: %v; want NOPERM", err)
	}
	conn.Do(ctx, "discard")
	direct := redis.NewClient(&redis.Options{Addr: n, MaxRetries: -1})
	t.Cleanup(func() { direct.Close() })
	if e, err := direct.Do(ctx, "baton.epoch").Int64(); err != nil || e != 0 {
		t.Fatalf("the node's epoch = %d, %v: a control command went through", e, err)
	}
	if v, err := direct.ConfigGet(ctx, "maxclients").Result(); err != nil || v["maxclients"] == "1" {
		t.Fatalf("the node's maxclients = %v, %v", v, err)
	}
	if v, err := c.ConfigGet(ctx, "maxclients").Result(); err != nil || v["maxclients"] == "" {
		t.Fatalf("CONFIG GET through the proxy = %v, %v", v, err)
	}
}
