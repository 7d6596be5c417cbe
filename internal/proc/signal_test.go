package proc

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"
)

func Test_Signals_StopContKill(t *testing.T) {
	noLeaks(t)
	p := startChild(t, "listen")
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	waitState(t, p.PID(), true)
	if err := p.Cont(); err != nil {
		t.Fatal(err)
	}
	waitState(t, p.PID(), false)
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if p.Alive() || p.ExitCode() != -1 {
		t.Fatalf("after Kill: alive %v exit code %d, want dead by a signal", p.Alive(), p.ExitCode())
	}
	if err := p.Signal(syscall.SIGTERM); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("signal after exit = %v, want ErrNotRunning", err)
	}
	if err := p.Kill(); err != nil {
		t.Fatalf("second Kill = %v, want nil", err)
	}
}

// waitState polls until pid is (or is no longer) stopped.
func waitState(t *testing.T, pid int, stopped bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for (state(t, pid) == "T") != stopped {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d state %s, want stopped=%v", pid, state(t, pid), stopped)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func Test_Terminate_KillsAStubbornChild(t *testing.T) {
	noLeaks(t)
	p := startChild(t, "stubborn")
	if err := p.Terminate(300 * time.Millisecond); !errors.Is(err, ErrKilled) {
		t.Fatalf("Terminate = %v, want ErrKilled", err)
	}
	if p.Alive() {
		t.Fatal("still alive after Terminate")
	}
}

func Test_Terminate_PausedChild(t *testing.T) {
	noLeaks(t)
	p := startChild(t, "listen")
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := p.Terminate(10 * time.Second); err != nil {
		t.Fatalf("Terminate of a paused child = %v, want a clean exit", err)
	}
}

func Test_Wait_BoundedAndExitStatus(t *testing.T) {
	noLeaks(t)
	p := startChild(t, "listen")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := p.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on a running child = %v, want the deadline", err)
	}
	p.Signal(syscall.SIGTERM)
	if err := p.Wait(context.Background()); err != nil || p.ExitCode() != 0 {
		t.Fatalf("Wait = %v, exit code %d; want a clean exit", err, p.ExitCode())
	}
}

func Test_Restart_SameConfig(t *testing.T) {
	noLeaks(t)
	p := startChild(t, "listen")
	if _, err := p.Restart(context.Background()); !errors.Is(err, ErrRunning) {
		t.Fatalf("Restart of a running child = %v, want ErrRunning", err)
	}
	p.Kill()
	q, err := p.Restart(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Kill()
	if q.PID() == p.PID() || q.Addr() == "" || q.Config().Name != p.Config().Name {
		t.Fatalf("restart: pid %d→%d addr %q name %q", p.PID(), q.PID(), q.Addr(), q.Config().Name)
	}
}

func Test_FreeAddrs_Distinct(t *testing.T) {
	addrs, err := FreeAddrs(8)
	if err != nil {
		t.Fatal(err)
	}
	ports, err := FreePorts(8)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range addrs {
		if seen[a] {
			t.Fatalf("%s handed out twice: %v", a, addrs)
		}
		seen[a] = true
	}
	if len(addrs) != 8 || len(ports) != 8 {
		t.Fatalf("got %d addrs, %d ports", len(addrs), len(ports))
	}
}
