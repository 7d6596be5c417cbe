package integration

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/testutil"
)

// Test_Security_AttackerOnTheLoopback plays the attacker of issue 18
// against a whole appliance (3 coordinators, 3 nodes, a proxy), without
// and with an application password: through the proxy and straight to the
// primary, every control command is refused; the coordinator API refuses
// clients without the cluster secret; an overflowing or oversized length
// before AUTH costs the targets no memory; an HTTP POST is closed with
// nothing written. Afterwards the appliance is writable with the same
// epoch and primary.
func Test_Security_AttackerOnTheLoopback(t *testing.T) {
	for _, pass := range []string{"", "app-pw"} {
		t.Run("password="+strconv.FormatBool(pass != ""), func(t *testing.T) {
			attack(t, pass)
		})
	}
}

func attack(t *testing.T, pass string) {
	c := startCluster(t, clusterOpts{syncReplicas: 1, requirePass: pass})
	coords := make([]string, len(c.coords))
	for i, m := range c.coords {
		coords[i] = m.addr
	}
	pargs := []string{"--addr", "127.0.0.1:0", "--coordinators", strings.Join(coords, ","), "--cluster-secret", clusterSecret, "--log-level", "warn"}
	if pass != "" {
		pargs = append(pargs, "--requirepass", pass, "--backend-auth", pass)
	}
	px := startBaton(t, "proxy", pargs)
	ctx := context.Background()
	before, err := c.topology()
	if err != nil {
		t.Fatal(err)
	}
	primary := c.node(before.Primary)

	control := [][]any{
		{"baton.epoch", "1000000"},
		{"baton.freeze", "18446744073709551615", "1", "0"},
		{"replicaof", "127.0.0.1", "1"},
		{"shutdown", "nosave"},
		{"failover"},
		{"config", "set", "requirepass", "pwned"},
		{"client", "pause", "100000"},
	}
	for _, addr := range []string{px.addr, primary.addr} {
		cl := redis.NewClient(&redis.Options{Addr: addr, Password: pass, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
		defer cl.Close()
		for _, args := range control {
			if err := cl.Do(ctx, args...).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
				t.Errorf("%v on %s: %v; want NOPERM", args, addr, err)
			}
		}
	}
	// The coordinator API without the cluster secret.
	api := redis.NewClient(&redis.Options{Addr: coords[0], MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer api.Close()
	for _, args := range [][]any{{coordapi.CmdTakeover, "n2"}, {coordapi.CmdFailover}, {coordapi.CmdRegister, "evil", "127.0.0.1:1"}} {
		if err := api.Do(ctx, args...).Err(); !coordapi.HasCode(err, coordapi.ErrCodeNoAuth) {
			t.Errorf("%v on the coordinator API without the secret: %v; want NOAUTH", args, err)
		}
	}

	// Lengths before AUTH: an int64 overflow and 600 MB announced, the
	// bytes streamed after the header. Memory stays flat.
	targets := map[string]int{"proxy": px.run.PID(), "primary": primary.proc.run.PID(), "coordinator": c.coords[0].proc.run.PID()}
	addrs := map[string]string{"proxy": px.addr, "primary": primary.addr, "coordinator": coords[0]}
	for name, pid := range targets {
		rss0 := rssBytes(t, pid)
		for _, header := range []string{"$99999999999999999999", "$600000000"} {
			floodAfter(t, addrs[name], "*2\r\n$4\r\nAUTH\r\n"+header+"\r\n", 600<<20)
		}
		if grown := rssBytes(t, pid) - rss0; grown > 50<<20 {
			t.Errorf("%s: RSS grew by %d MB under the length attack; want < 50 MB", name, grown>>20)
		}
	}

	// An HTTP POST carrying commands: closed, nothing written.
	post := "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n\r\nAUTH " + pass + "\r\nSET pwned 1\r\n"
	for _, addr := range []string{px.addr, primary.addr} {
		if got, closed := testutil.RawExchange(t, addr, post); got != "" || !closed {
			t.Errorf("HTTP POST to %s: reply %q, closed %v; want closed with no reply", addr, got, closed)
		}
	}

	app := redis.NewClient(&redis.Options{Addr: px.addr, Password: pass, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer app.Close()
	if n, err := app.Exists(ctx, "pwned").Result(); err != nil || n != 0 {
		t.Errorf("EXISTS pwned = %d, %v: the HTTP request's payload ran", n, err)
	}
	if err := app.Set(ctx, "after", "attack", 0).Err(); err != nil {
		t.Fatalf("SET through the proxy after the attack: %v", err)
	}
	after, err := c.topology()
	if err != nil || after.Epoch != before.Epoch || after.Primary != before.Primary {
		t.Fatalf("topology moved: epoch %d primary %s → epoch %d primary %s (%v)", before.Epoch, before.Primary, after.Epoch, after.Primary, err)
	}
}

// floodAfter sends header on a new connection to addr and then up to n
// bytes, until the server closes the connection (or 10 s pass).
func floodAfter(t *testing.T, addr, header string, n int) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write([]byte(header)); err != nil {
		return
	}
	chunk := make([]byte, 1<<20)
	for sent := 0; sent < n; sent += len(chunk) {
		if _, err := nc.Write(chunk); err != nil {
			return // closed by the server: what a limit must do
		}
	}
	t.Errorf("%s accepted %d MB after %q without closing", addr, n>>20, strings.TrimSpace(header))
}

// rssBytes is the resident set size of process pid.
func rssBytes(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS for pid %d", pid)
	return 0
}
