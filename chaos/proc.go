package chaos

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/batonkv/baton/internal/proc"
)

// startLimit bounds one process start: the time until it printed its
// "listening on" line.
const startLimit = 20 * time.Second

// process is one child `baton SUB` process of a local target, with the
// flags to restart it identically (same address, same data directory).
type process struct {
	// id names the process in the topology and the logs (c1, n2, proxy).
	id string
	// addr is the address the process must listen on (fixed in advance,
	// so a restart keeps it).
	addr string
	// cfg starts it; its log collects the output across restarts.
	cfg proc.Config

	mu  sync.Mutex
	run *proc.Process // nil before the first start
}

// newProcess returns the process id of kind sub, not started.
func newProcess(id, sub, bin, addr, logPath string, env, args []string) *process {
	return &process{id: id, addr: addr, cfg: proc.Config{
		Name: id, Bin: bin, Args: append([]string{sub}, args...), Env: env, LogPath: logPath,
		AddrPrefix: proc.Listening(sub), StartTimeout: startLimit,
	}}
}

// start launches the process and returns once it printed
// "baton SUB listening on ADDR" with ADDR == p.addr.
func (p *process) start(ctx context.Context) error {
	if f, err := os.OpenFile(p.cfg.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
		fmt.Fprintf(f, "=== chaos: start %s at %s\n", strings.Join(p.cfg.Args, " "), time.Now().Format(time.RFC3339Nano))
		f.Close()
	}
	run, err := proc.Start(ctx, p.cfg)
	if err != nil {
		return err
	}
	if run.Addr() != p.addr {
		run.Kill()
		return fmt.Errorf("%s listens on %s, want %s (log: %s)", p.id, run.Addr(), p.addr, p.cfg.LogPath)
	}
	p.mu.Lock()
	p.run = run
	p.mu.Unlock()
	return nil
}

// current returns the running process (nil before the first start).
func (p *process) current() *proc.Process {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.run
}

// alive reports whether the process runs (a stopped process counts).
func (p *process) alive() bool {
	run := p.current()
	return run != nil && run.Alive()
}

// signal sends sig to the running process.
func (p *process) signal(sig syscall.Signal) error {
	run := p.current()
	if run == nil {
		return fmt.Errorf("%s is not running", p.id)
	}
	return run.Signal(sig)
}

// kill9 kills the process with SIGKILL and waits until it is gone.
func (p *process) kill9() error {
	if run := p.current(); run != nil {
		return run.Kill()
	}
	return nil
}

// stop ends the process gracefully: SIGCONT (it may be paused), SIGTERM,
// then SIGKILL if it has not exited within limit.
func (p *process) stop(limit time.Duration) error {
	if run := p.current(); run != nil {
		return run.Terminate(limit)
	}
	return nil
}
