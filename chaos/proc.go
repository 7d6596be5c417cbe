package chaos

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// startLimit bounds one process start: the time until it printed its
// "listening on" line.
const startLimit = 20 * time.Second

// process is one child `baton SUB` process of a local target, with the
// flags to restart it identically (same address, same data directory).
type process struct {
	// id names the process in the topology and the logs (c1, n2, proxy).
	id   string
	sub  string
	bin  string
	args []string
	env  []string
	// addr is the address the process must listen on (fixed in advance,
	// so a restart keeps it).
	addr string
	// logPath collects stderr across restarts.
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// start launches the process and returns once it printed
// "baton SUB listening on ADDR" with ADDR == p.addr.
func (p *process) start(ctx context.Context) error {
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close() // the child holds its own descriptor
	fmt.Fprintf(logf, "=== chaos: start %s %s at %s\n", p.sub, strings.Join(p.args, " "), time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.bin, append([]string{p.sub}, p.args...)...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stderr = logf
	// Children die with the chaos run even if it is killed outright.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.id, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }() // ends when the process exits
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	line, err := firstLine(ctx, out, done)
	if err == nil {
		want := "baton " + p.sub + " listening on " + p.addr
		if strings.TrimSpace(line) != want {
			err = fmt.Errorf("printed %q, want %q", line, want)
		}
	}
	if err != nil {
		p.kill9()
		return fmt.Errorf("%s: %w (log: %s)", p.id, err, p.logPath)
	}
	return nil
}

// firstLine reads the first stdout line of a process and then drains the
// rest in the background (the reader ends when the process exits).
func firstLine(ctx context.Context, out io.Reader, exited <-chan struct{}) (string, error) {
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		line, _ := r.ReadString('\n')
		lines <- line
		io.Copy(io.Discard, r)
	}()
	select {
	case line := <-lines:
		return line, nil
	case <-exited:
		return "", errors.New("exited during start")
	case <-time.After(startLimit):
		return "", fmt.Errorf("no address printed within %v", startLimit)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// current returns the running command and its exit channel (nil, nil
// before the first start).
func (p *process) current() (*exec.Cmd, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd, p.done
}

// alive reports whether the process runs (a stopped process counts).
func (p *process) alive() bool {
	_, done := p.current()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// signal sends sig to the running process.
func (p *process) signal(sig syscall.Signal) error {
	cmd, _ := p.current()
	if cmd == nil || !p.alive() {
		return fmt.Errorf("%s is not running", p.id)
	}
	return cmd.Process.Signal(sig)
}

// kill9 kills the process with SIGKILL and waits until it is gone.
func (p *process) kill9() error {
	cmd, done := p.current()
	if cmd == nil {
		return nil
	}
	cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s did not exit 10s after SIGKILL", p.id)
	}
}

// stop ends the process gracefully: SIGCONT (it may be paused), SIGTERM,
// then SIGKILL if it has not exited within limit.
func (p *process) stop(limit time.Duration) error {
	cmd, done := p.current()
	if cmd == nil {
		return nil
	}
	cmd.Process.Signal(syscall.SIGCONT)
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return nil
	case <-time.After(limit):
		p.kill9()
		return fmt.Errorf("%s did not exit %v after SIGTERM; killed", p.id, limit)
	}
}
