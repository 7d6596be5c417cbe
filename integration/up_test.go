package integration

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonkv/baton/coordapi"
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

// Test_Up_ClusterSecretIsPrivate: `baton up` generates its cluster secret
// (no fixed default an attacker could know), keeps it in DIR/cluster-secret
// with mode 0600, passes it to its processes through the environment (no
// command line shows it), and an application client can run no control
// command, through the proxy or on the primary itself.
func Test_Up_ClusterSecretIsPrivate(t *testing.T) {
	dir := t.TempDir()
	p := startBaton(t, "up", []string{"--addr", "127.0.0.1:0", "--dir", dir, "--log-level", "warn"})
	path := filepath.Join(dir, "cluster-secret")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v; want 0600", path, st.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	secret := strings.TrimSpace(string(raw))
	if len(secret) < 32 {
		t.Fatalf("cluster secret %q: want 128 random bits", secret)
	}
	// No process's command line carries it.
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), secret) {
			t.Errorf("%s shows the cluster secret: %q", f, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	if strings.Contains(p.log.String(), secret) {
		t.Errorf("baton up printed the cluster secret")
	}

	ctx := context.Background()
	m := logLine(t, p, regexp.MustCompile(`coordinators (\S+);`))
	topo, err := coordapi.NewClient(strings.Split(m[1], ","), secret).Topology(ctx, coordapi.CmdTopology)
	if err != nil {
		t.Fatal(err)
	}
	primary, ok := topo.Member(topo.Primary)
	if !ok {
		t.Fatalf("no primary in %+v", topo)
	}
	for _, addr := range []string{p.addr, primary.Addr} {
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
		defer c.Close()
		for _, args := range [][]any{{"baton.epoch", "1000000"}, {"baton.freeze", "18446744073709551615", "1", "0"}, {"shutdown", "nosave"}, {"replicaof", "127.0.0.1", "1"}} {
			if err := c.Do(ctx, args...).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
				t.Errorf("%v on %s: %v; want NOPERM", args, addr, err)
			}
		}
		err := c.Do(ctx, "auth", coordapi.InternalUser, "baton-local").Err()
		if err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
			t.Errorf("AUTH %s with the former default secret on %s: %v; want WRONGPASS", coordapi.InternalUser, addr, err)
		}
	}
	c := redis.NewClient(&redis.Options{Addr: p.addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer c.Close()
	if err := c.Set(ctx, "after", "attack", 0).Err(); err != nil {
		t.Fatalf("SET after the attempts: %v", err)
	}
	after, err := coordapi.NewClient(strings.Split(m[1], ","), secret).Topology(ctx, coordapi.CmdTopology)
	if err != nil || after.Epoch != topo.Epoch || after.Primary != topo.Primary {
		t.Fatalf("topology moved: %+v → %+v (%v)", topo, after, err)
	}
}

// Test_Up_TLS: `baton up --tls` makes a private CA and certificate in its
// directory, its proxy speaks TLS only, and the redis-cli command it
// prints works as printed; plaintext gets nothing.
func Test_Up_TLS(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not installed (make deps installs it): the test drives the printed command")
	}
	dir := t.TempDir()
	p := startBaton(t, "up", []string{"--addr", "127.0.0.1:0", "--dir", dir, "--tls", "--log-level", "warn"})
	m := logLine(t, p, regexp.MustCompile(`connect with: redis-cli (.*)`))
	args := strings.Fields(m[1])
	for _, cmd := range [][]string{{"SET", "tls-key", "over-tls"}, {"GET", "tls-key"}} {
		out, err := exec.Command(cli, append(append([]string{}, args...), cmd...)...).CombinedOutput()
		want := map[string]string{"SET": "OK", "GET": "over-tls"}[cmd[0]]
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Fatalf("redis-cli %s %v: %q, %v; want %q", strings.Join(args, " "), cmd, out, err, want)
		}
	}
	// Plaintext: the handshake fails, no reply.
	c := redis.NewClient(&redis.Options{Addr: p.addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true, ReadTimeout: 2 * time.Second})
	defer c.Close()
	if v, err := c.Get(context.Background(), "tls-key").Result(); err == nil {
		t.Fatalf("a plaintext GET was answered %q", v)
	}
}

// logLine waits for a line of p's output matching re (`baton up` prints its
// status lines just after the address line startBaton waited for) and
// returns the match.
func logLine(t *testing.T, p *nodeProc, re *regexp.Regexp) []string {
	t.Helper()
	var m []string
	waitFor(t, "the line "+re.String(), func() (bool, string) {
		m = re.FindStringSubmatch(p.log.String())
		return m != nil, p.log.String()
	})
	return m
}

// Test_Up_RestartKeepsData: `baton up` a second time on its directory (a
// user's Ctrl-C, then `make run` again) resumes the same appliance: the
// coordinators elect at the addresses their Raft configuration names, the
// data written before is there, writes work, and the readiness probe left
// nothing in the keyspace.
func Test_Up_RestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var epochs []int
	run := func(check func(c *redis.Client)) {
		p := startBaton(t, "up", []string{"--addr", "127.0.0.1:0", "--dir", dir, "--log-level", "warn"})
		c := redis.NewClient(&redis.Options{Addr: p.addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
		check(c)
		c.Close()
		// baton ctl finds the appliance from its directory alone.
		out, err := exec.Command(batonBinary(t), "ctl", "status", "--dir", dir).CombinedOutput()
		m := regexp.MustCompile(`shard: epoch (\d+), primary n\d`).FindSubmatch(out)
		if err != nil || m == nil {
			t.Fatalf("baton ctl status --dir: %v\n%s", err, out)
		}
		e, _ := strconv.Atoi(string(m[1]))
		epochs = append(epochs, e)
		if err := p.run.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		if code := p.waitExit(t, 30*time.Second); code != 0 {
			t.Fatalf("baton up exited with %d; log:\n%s", code, p.log.String())
		}
	}
	run(func(c *redis.Client) {
		if err := c.Set(ctx, "persist-me", "yes", 0).Err(); err != nil {
			t.Fatalf("SET: %v", err)
		}
		if n, err := c.DBSize(ctx).Result(); err != nil || n != 1 {
			t.Fatalf("DBSIZE = %d, %v; want 1 (the readiness probe must leave nothing)", n, err)
		}
	})
	run(func(c *redis.Client) {
		if v, err := c.Get(ctx, "persist-me").Result(); err != nil || v != "yes" {
			t.Fatalf("GET persist-me after the restart = %q, %v", v, err)
		}
		if err := c.Set(ctx, "after-restart", "ok", 0).Err(); err != nil {
			t.Fatalf("SET after the restart: %v", err)
		}
		if n, err := c.DBSize(ctx).Result(); err != nil || n != 2 {
			t.Fatalf("DBSIZE after the restart = %d, %v; want 2", n, err)
		}
	})
	if epochs[1] < epochs[0] {
		t.Fatalf("the epoch went back from %d to %d across the restart: a new history, not the same appliance", epochs[0], epochs[1])
	}
}
