package proc

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// noLeaks fails the test if, once it ends, a goroutine it started is
// still running or a child process of this one is left.
func noLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before || len(children(t)) > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("left behind: %d goroutines (was %d), children %v",
					runtime.NumGoroutine(), before, children(t))
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// children returns the pids of this process's live children.
func children(t *testing.T) []string {
	paths, _ := filepath.Glob("/proc/self/task/*/children")
	var out []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		out = append(out, strings.Fields(string(b))...)
	}
	return out
}

// state returns the /proc state letter of pid (T: stopped).
func state(t *testing.T, pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndex(s, ")")+1:])[0]
}

func Test_Start_ReadsAddrAndTerminates(t *testing.T) {
	noLeaks(t)
	cfg := childConfig(t, "listen")
	out := &Buffer{}
	cfg.Output, cfg.LogPath = out, filepath.Join(t.TempDir(), "child.log")
	p, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatalf("dial the printed address %q: %v", p.Addr(), err)
	}
	c.Close()
	if p.PID() <= 0 || !p.Alive() || p.ExitCode() != -1 {
		t.Fatalf("pid %d alive %v exit code %d", p.PID(), p.Alive(), p.ExitCode())
	}
	if err := p.Terminate(10 * time.Second); err != nil {
		t.Fatalf("Terminate: %v", err)
	}
	if p.Alive() || p.ExitCode() != 0 {
		t.Fatalf("after Terminate: alive %v exit code %d", p.Alive(), p.ExitCode())
	}
	log, _ := os.ReadFile(cfg.LogPath)
	for _, w := range []string{"child: serving", "listening on", "child: terminated"} {
		if !strings.Contains(out.String(), w) || !strings.Contains(string(log), w) {
			t.Errorf("output %q / log %q lack %q", out.String(), log, w)
		}
	}
}

func Test_Start_ChildExitsBeforeListening(t *testing.T) {
	noLeaks(t)
	withLog := childConfig(t, "fail")
	withLog.LogPath = filepath.Join(t.TempDir(), "child.log") // the child writes it itself
	for _, cfg := range []Config{childConfig(t, "fail"), withLog} {
		_, err := Start(context.Background(), cfg)
		if !errors.Is(err, ErrExited) {
			t.Fatalf("err = %v, want ErrExited", err)
		}
		for _, w := range []string{"child-fail", "exit status 3", "bad flag --frobnicate"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
	}
}

func Test_Start_Timeout(t *testing.T) {
	noLeaks(t)
	cfg := childConfig(t, "silent")
	cfg.StartTimeout = 300 * time.Millisecond
	if _, err := Start(context.Background(), cfg); !errors.Is(err, ErrStartTimeout) {
		t.Fatalf("err = %v, want ErrStartTimeout", err)
	}
}

func Test_Start_ContextEnds(t *testing.T) {
	noLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := Start(ctx, childConfig(t, "silent")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's error", err)
	}
}

func Test_Start_FirstLineNoAddr(t *testing.T) {
	noLeaks(t)
	_, err := Start(context.Background(), childConfig(t, "chatty"))
	if !errors.Is(err, ErrNoAddr) || !strings.Contains(err.Error(), "hello, not an address") {
		t.Fatalf("err = %v, want ErrNoAddr quoting the line", err)
	}
}

func Test_Start_MissingBinary(t *testing.T) {
	noLeaks(t)
	_, err := Start(context.Background(), Config{Bin: filepath.Join(t.TempDir(), "nope")})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want not exist", err)
	}
}
