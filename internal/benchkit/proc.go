package benchkit

import (
	"context"

	"github.com/batonkv/baton/internal/proc"
)

// Proc is one server process of a cluster under test, restartable with the
// same arguments (same address, data directory and id).
type Proc struct {
	Name string   // label in progress lines and errors
	Addr string   // RESP address, host:port
	Bin  string   // executable
	Args []string // arguments of every Start
	Log  string   // stdout and stderr, appended across restarts

	run *proc.Process // nil before the first start
}

// Start launches p with p.Args.
func (p *Proc) Start() error { return p.StartWith(p.Args) }

// StartWith launches p once with other arguments (a first start that
// differs from the restarts, e.g. --replicaof). The process is killed if
// this program dies without running its cleanup, so no server outlives a
// crashed benchmark.
func (p *Proc) StartWith(args []string) error {
	run, err := proc.Start(context.Background(), proc.Config{Name: p.Name, Bin: p.Bin, Args: args, LogPath: p.Log})
	if err != nil {
		return err
	}
	p.run = run
	return nil
}

// Alive reports whether p was started and has not exited.
func (p *Proc) Alive() bool { return p.run != nil && p.run.Alive() }

// Kill sends SIGKILL (no shutdown path runs: for the failover benchmark
// this is the failure being measured) and waits, bounded, until the
// process is reaped.
func (p *Proc) Kill() error {
	if p.run == nil {
		return nil
	}
	return p.run.Kill()
}

// Tail returns the last n lines of p's log, for error messages.
func (p *Proc) Tail(n int) string {
	if p.run == nil {
		return ""
	}
	return p.run.Tail(n)
}
