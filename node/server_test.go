package node

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/testutil"
)

func Test_Server_PingSetGet(t *testing.T) {
	_, c, ctx := newTestClient(t)
	if got, err := c.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING = %q, %v", got, err)
	}
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET = %q, %v", got, err)
	}
}

func Test_Server_UnknownCommandAndArity(t *testing.T) {
	_, c, ctx := newTestClient(t)
	err := c.Do(ctx, "NOSUCH", "a", "b").Err()
	if err == nil || err.Error() != "ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' " {
		t.Fatalf("unknown command error = %v", err)
	}
	err = c.Do(ctx, "GET").Err()
	if err == nil || err.Error() != "ERR wrong number of arguments for 'get' command" {
		t.Fatalf("arity error = %v", err)
	}
}

// rawExchange sends raw bytes on a fresh connection and returns what the
// server answers before closing or going quiet.
func rawExchange(t *testing.T, addr string, req string) string {
	t.Helper()
	reply, _ := testutil.RawExchange(t, addr, req)
	return reply
}

func Test_Server_Limits(t *testing.T) {
	n := mustNewNode(t, Config{MaxBulkLen: 16, MaxMultibulkLen: 4, MaxInlineLen: 32})
	cases := []struct{ name, req, want string }{
		{"bulk", "*2\r\n$4\r\nECHO\r\n$17\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"multibulk", "*5\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"inline", "PING " + strings.Repeat("x", 40), "-ERR Protocol error: too big inline request\r\n"},
		{"valid then bad", "*1\r\n$4\r\nPING\r\n*9\r\n", "+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"},
		{"malformed", "*1\r\n!4\r\nPING\r\n", "-ERR Protocol error: expected '$', got '!'\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := rawExchange(t, n.addr, tc.req); got != tc.want {
				t.Fatalf("reply = %q, want %q", got, tc.want)
			}
		})
	}
	// The server keeps serving other clients.
	c := mustClient(t, n)
	if err := c.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("PING after protocol errors: %v", err)
	}
}

func Test_Server_MaxClients(t *testing.T) {
	n := mustNewNode(t, Config{MaxClients: 1})
	first, err := net.Dial("tcp", n.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	first.Write([]byte("PING\r\n"))
	first.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, _ := bufio.NewReader(first).ReadString('\n'); line != "+PONG\r\n" {
		t.Fatalf("first client: %q", line)
	}
	if got := rawExchange(t, n.addr, ""); got != "-ERR max number of clients reached\r\n" {
		t.Fatalf("second client = %q", got)
	}
}
