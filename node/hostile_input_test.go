package node

import (
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/testutil"
)

// startRedisServer starts Debian's redis-server on a free loopback port
// with extra arguments, stopped at cleanup, and returns its address. The
// test is skipped (with why) when the binary is missing: `make test`
// installs it first (make deps).
func startRedisServer(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed (make deps installs it): the side-by-side reference is missing")
	}
	addr := testutil.FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--daemonize", "no", "--loglevel", "warning"}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for range 500 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("redis-server did not listen on %s", addr)
	return ""
}

// Test_Server_HostileInput_SideBySide sends what an attacker on the
// loopback would (lengths that overflow, large requests before AUTH, an
// HTTP request from a web page) to Debian's redis-server and to a node,
// both with a password, and requires the same replies byte for byte: a
// Redis-style protocol error (or, for HTTP, nothing) and a closed
// connection, nothing buffered or executed.
func Test_Server_HostileInput_SideBySide(t *testing.T) {
	redisAddr := startRedisServer(t, "--requirepass", "pw")
	n := mustNewNode(t, Config{RequirePass: "pw"})
	big := strings.Repeat("v", 20000)
	bulk := func(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }
	cases := []struct{ name, req, want string }{
		{"bulk-overflow", "*2\r\n$4\r\nECHO\r\n$99999999999999999999\r\nxx\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"bulk-negative", "*2\r\n$4\r\nECHO\r\n$-3\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"bulk-leading-zero", "*1\r\n$04\r\nPING\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"multibulk-overflow", "*18446744073709551616\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"multibulk-junk", "*1x\r\n$4\r\nPING\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"unauth-bulk", "*2\r\n$4\r\nAUTH\r\n" + bulk(big), "-ERR Protocol error: unauthenticated bulk length\r\n"},
		{"unauth-multibulk", "*11\r\n" + strings.Repeat(bulk("x"), 11), "-ERR Protocol error: unauthenticated multibulk length\r\n"},
		{"auth-then-big", "AUTH pw\r\n*3\r\n" + bulk("SET") + bulk("k") + bulk(big) + "*1\r\n" + bulk("DBSIZE") + "QUIT\r\n", "+OK\r\n+OK\r\n:1\r\n+OK\r\n"},
		{"http-post", "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 20\r\n\r\nAUTH pw\r\nSET a b\r\n", ""},
		{"http-host", "GET / HTTP/1.1\r\nHost: localhost\r\n\r\nAUTH pw\r\nSET a b\r\n", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ref := rawExchange(t, redisAddr, tc.req)
			if ref != tc.want {
				t.Fatalf("redis-server replied %q; the test expects %q", ref, tc.want)
			}
			if got := rawExchange(t, n.addr, tc.req); got != ref {
				t.Fatalf("node replied %q, redis-server %q", got, ref)
			}
		})
	}
	// Nothing the HTTP requests carried was executed.
	c := mustClient(t, n)
	if err := c.Do(t.Context(), "auth", "pw").Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Exists(t.Context(), "a").Result(); err != nil || v != 0 {
		t.Fatalf("EXISTS a = %d, %v: an HTTP request's payload ran", v, err)
	}
}
