package proc

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Addr returns the address the child printed (empty without AddrPrefix).
func (p *Process) Addr() string { return p.addr }

// PID returns the child's process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Config returns the configuration the process was started with.
func (p *Process) Config() Config { return p.cfg }

// Alive reports whether the child has not exited (a stopped one counts).
func (p *Process) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Tail returns the last n lines of the child's output joined by " | ".
func (p *Process) Tail(n int) string { return p.out.lastLines(n) }

// Signal sends sig to the running child.
func (p *Process) Signal(sig os.Signal) error {
	if !p.Alive() {
		return fmt.Errorf("signal %v to %s: %w", sig, p.cfg.name(), ErrNotRunning)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal %v to %s: %w", sig, p.cfg.name(), err)
	}
	return nil
}

// Stop pauses the child with SIGSTOP.
func (p *Process) Stop() error { return p.Signal(syscall.SIGSTOP) }

// Cont resumes a paused child with SIGCONT.
func (p *Process) Cont() error { return p.Signal(syscall.SIGCONT) }

// Kill sends SIGKILL (no shutdown path runs) and waits, bounded, until the
// child is reaped; an exited child is not an error.
func (p *Process) Kill() error {
	p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(reapLimit):
		return fmt.Errorf("kill %s (pid %d): not reaped within %v", p.cfg.name(), p.PID(), reapLimit)
	}
}

// Terminate ends the child gracefully: SIGCONT (it may be paused), then
// SIGTERM, then SIGKILL if it has not exited within limit (ErrKilled).
func (p *Process) Terminate(limit time.Duration) error {
	p.cmd.Process.Signal(syscall.SIGCONT)
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(limit):
		if err := p.Kill(); err != nil {
			return err
		}
		return fmt.Errorf("%s: %w (after %v)", p.cfg.name(), ErrKilled, limit)
	}
}

// Wait waits until the child exits or ctx ends, and returns its exit
// status (nil for code 0, an *exec.ExitError otherwise) or ctx's error.
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return fmt.Errorf("wait for %s: %w", p.cfg.name(), ctx.Err())
	}
}

// ExitCode returns the child's exit code: -1 while it runs or if a signal
// ended it.
func (p *Process) ExitCode() int {
	if p.Alive() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}
