// Package benchkit is what Baton's benchmark programs (scripts/benchfailover,
// scripts/benchtakeover) share: server processes on loopback, a Baton
// appliance of 3 coordinators and 3 nodes, clients that never retry on
// their own, polling with a bound, and the statistics their tables print.
// It exists so the two programs measure with the same definitions instead
// of two copies that drift apart.
package benchkit

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Proc is one server process of a cluster under test, restartable with the
// same arguments (same address, data directory and id).
type Proc struct {
	Name string   // label in progress lines and errors
	Addr string   // RESP address, host:port
	Bin  string   // executable
	Args []string // arguments of every Start
	Log  string   // stdout and stderr, appended across restarts

	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has been reaped
}

// Start launches p with p.Args.
func (p *Proc) Start() error { return p.StartWith(p.Args) }

// StartWith launches p once with other arguments (a first start that
// differs from the restarts, e.g. --replicaof). Pdeathsig kills the process
// if this program dies without running its cleanup, so no server outlives
// a crashed benchmark.
func (p *Proc) StartWith(args []string) error {
	f, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	defer f.Close()
	cmd := exec.Command(p.Bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(p.done)
	return nil
}

// Alive reports whether p was started and has not exited.
func (p *Proc) Alive() bool {
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

// Kill sends SIGKILL (no shutdown path runs: for the failover benchmark
// this is the failure being measured) and waits, bounded, until the
// process is reaped.
func (p *Proc) Kill() error {
	if !p.Alive() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("kill %s (pid %d): not reaped within 10s", p.Name, p.cmd.Process.Pid)
	}
}

// Tail returns the last n lines of p's log, for error messages.
func (p *Proc) Tail(n int) string {
	b, _ := os.ReadFile(p.Log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// FreePorts reserves n distinct loopback ports by listening on port 0 with
// all listeners open at once, then releases them for the servers.
func FreePorts(n int) ([]int, error) {
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
