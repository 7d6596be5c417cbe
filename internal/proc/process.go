package proc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Errors a start or a signal reports; callers branch on them with
// errors.Is.
var (
	// ErrExited: the child exited before it printed its address line.
	ErrExited = errors.New("exited before printing its address")
	// ErrStartTimeout: the child printed no address line in time.
	ErrStartTimeout = errors.New("printed no address in time")
	// ErrNoAddr: the child's first stdout line is not the address line.
	ErrNoAddr = errors.New("first line is not the address line")
	// ErrNotRunning: the process has exited.
	ErrNotRunning = errors.New("not running")
	// ErrRunning: Restart of a process that still runs.
	ErrRunning = errors.New("still running")
	// ErrKilled: Terminate had to SIGKILL the process.
	ErrKilled = errors.New("did not exit after SIGTERM; killed")
)

// Process is one started child. Its methods are safe for concurrent use.
type Process struct {
	cfg  Config
	cmd  *exec.Cmd
	out  *sink
	addr string
	done chan struct{} // closed once the child is reaped
	err  error         // cmd.Wait's result, set before done closes
}

// Start starts cfg.Bin with cfg.Args and, when cfg.AddrPrefix is set,
// returns once the child printed its address, bounded by ctx and
// cfg.StartTimeout. On an error no child is left running.
func Start(ctx context.Context, cfg Config) (*Process, error) {
	p := &Process{cfg: cfg, out: &sink{out: cfg.Output}, done: make(chan struct{})}
	if cfg.LogPath != "" {
		f, err := os.OpenFile(cfg.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", cfg.name(), err)
		}
		p.out.file, p.out.logPath = f, cfg.LogPath
	}
	p.cmd = exec.Command(cfg.Bin, cfg.Args...)
	p.cmd.Dir = cfg.Dir
	if len(cfg.Env) > 0 {
		p.cmd.Env = append(os.Environ(), cfg.Env...)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if p.out.direct() {
		p.cmd.Stdout, p.cmd.Stderr = p.out.file, p.out.file
	}
	lines := make(chan string, 1)
	if cfg.AddrPrefix != "" {
		p.cmd.Stdout = &firstLine{next: p.out, found: lines}
	}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: cfg.deathSignal()}
	p.cmd.WaitDelay = waitDelay
	if err := p.cmd.Start(); err != nil {
		p.out.closeFile()
		return nil, fmt.Errorf("start %s: %w", cfg.name(), err)
	}
	go p.reap()
	if cfg.AddrPrefix == "" {
		return p, nil
	}
	if err := p.awaitAddr(ctx, lines); err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}

// reap waits for the child and releases its log file.
func (p *Process) reap() {
	p.err = p.cmd.Wait()
	p.out.closeFile()
	close(p.done)
}

// awaitAddr reads the address from the first stdout line.
func (p *Process) awaitAddr(ctx context.Context, lines <-chan string) error {
	timer := time.NewTimer(p.cfg.startTimeout())
	defer timer.Stop()
	var line string
	select {
	case line = <-lines:
	case <-p.done:
		select {
		case line = <-lines: // printed, then exited: still report the line
		default:
			return p.startErr(fmt.Errorf("%w (%v)", ErrExited, p.err))
		}
	case <-timer.C:
		return p.startErr(fmt.Errorf("%w (%v)", ErrStartTimeout, p.cfg.startTimeout()))
	case <-ctx.Done():
		return p.startErr(ctx.Err())
	}
	addr, ok := strings.CutPrefix(line, p.cfg.AddrPrefix)
	if !ok || strings.TrimSpace(addr) == "" {
		return p.startErr(fmt.Errorf("%w: %q, want %q…", ErrNoAddr, line, p.cfg.AddrPrefix))
	}
	p.addr = strings.TrimSpace(addr)
	return nil
}

// startErr names the process, its arguments and its last output lines.
func (p *Process) startErr(err error) error {
	var where string
	if p.cfg.LogPath != "" {
		where = " (log: " + p.cfg.LogPath + ")"
	}
	if tail := p.out.lastLines(tailLines); tail != "" {
		where += "; output: " + tail
	}
	return fmt.Errorf("start %s: %w (command: %s %s)%s", p.cfg.name(), err,
		filepath.Base(p.cfg.Bin), strings.Join(p.cfg.Args, " "), where)
}

// Restart starts a new child with the same Config; p must have exited.
func (p *Process) Restart(ctx context.Context) (*Process, error) {
	if p.Alive() {
		return nil, fmt.Errorf("restart %s: %w", p.cfg.name(), ErrRunning)
	}
	return Start(ctx, p.cfg)
}
