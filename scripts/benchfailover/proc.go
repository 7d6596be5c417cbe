package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/batonkv/baton/internal/redisinfo"
	"github.com/redis/go-redis/v9"
)

// proc is one server process of a cluster under test, restartable with the
// same arguments (same address, data directory and id).
type proc struct {
	name string
	addr string // RESP address, host:port
	bin  string
	args []string
	log  string // stdout and stderr, appended across restarts
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has been reaped
}

// start launches p. Pdeathsig kills it if this program dies without running
// its cleanup, so no server outlives a crashed benchmark.
func (p *proc) start() error {
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	defer f.Close()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(p.done)
	return nil
}

// alive reports whether p was started and has not exited.
func (p *proc) alive() bool {
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL (no shutdown path runs: this is the failure being
// measured) and waits, bounded, until the process is reaped.
func (p *proc) kill() error {
	if !p.alive() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("kill %s (pid %d): not reaped within 10s", p.name, p.cmd.Process.Pid)
	}
}

// tail returns the last n lines of p's log, for error messages.
func (p *proc) tail(n int) string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// freePorts reserves n distinct loopback ports by listening on port 0 with
// all listeners open at once, then releases them for the servers.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// newClient returns a go-redis client for one server that never retries on
// its own: a retried write could be applied twice or hide an ambiguous one.
func newClient(addr, password string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: addr, Password: password, PoolSize: 1, MinIdleConns: 0,
		DialTimeout: 500 * time.Millisecond, ReadTimeout: 3 * time.Second, WriteTimeout: 3 * time.Second,
		MaxRetries: -1, Protocol: 2, DisableIdentity: true,
		// One dial attempt: go-redis' default of 5 attempts 100 ms apart
		// would keep a client on a dead primary's address for up to 0.5 s
		// instead of sending it back to discovery.
		DialerRetries: 1, DialerRetryTimeout: time.Millisecond,
	})
}

// quietLogger drops go-redis' internal log lines (one per failed dial to a
// killed server: expected here, and they would drown the report).
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...interface{}) {}

func init() { redis.SetLogger(quietLogger{}) }

// replInfo is the part of INFO replication the benchmark reads; baton node
// and redis-server share these fields.
type replInfo struct {
	role     string
	linkUp   bool
	replicas int
}

func getReplInfo(ctx context.Context, c *redis.Client) (replInfo, error) {
	f, err := redisinfo.Fetch(ctx, c, "replication")
	if err != nil {
		return replInfo{}, err
	}
	r := replInfo{role: f["role"], linkUp: f["master_link_status"] == "up"}
	fmt.Sscan(f["connected_slaves"], &r.replicas)
	return r, nil
}

// errNotYet marks a condition polled by poll that does not hold yet.
var errNotYet = errors.New("not yet")

// poll calls f every interval until it returns nil, the context ends, or
// timeout passes; the error names what was awaited and the last failure.
func poll(ctx context.Context, what string, timeout time.Duration, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		cctx, ccancel := context.WithTimeout(ctx, time.Second)
		last = f(cctx)
		ccancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s (%v): %w", what, timeout, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
