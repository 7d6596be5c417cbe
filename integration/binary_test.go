package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/proc"
	"github.com/redis/go-redis/v9"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// batonBinary builds cmd/baton once per test run and returns its path.
func batonBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "baton-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "baton")
		out, err := exec.Command("go", "build", "-o", builtBin, "github.com/batonkv/baton/cmd/baton").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// TestMain removes the built binary after all tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// nodeProc is a `baton SUB` process on loopback.
type nodeProc struct {
	run  *proc.Process
	addr string
	// log is the process's output (stdout and stderr).
	log *proc.Buffer
}

// startNode starts `baton node` with args (port 0; the bound address is read
// from its first stdout line) and kills it when the test ends.
func startNode(t testing.TB, env []string, args ...string) *nodeProc {
	t.Helper()
	return launch(t, env, "node", append([]string{"--addr", "127.0.0.1:0", "--log-level", "warn"}, args...))
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// client returns a go-redis client for p with retries off.
func (p *nodeProc) client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: p.addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// waitExit waits for the process to exit and returns its exit code.
func (p *nodeProc) waitExit(t testing.TB, within time.Duration) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	err := p.run.Wait(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("process did not exit within %v", within)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("wait: %v", err)
	}
	return p.run.ExitCode()
}

func Test_Binary_NodeServesAndStopsOnSIGTERM(t *testing.T) {
	p := startNode(t, nil, "--dir", t.TempDir())
	c := p.client(t)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET = %q, %v", got, err)
	}
	p.run.Signal(syscall.SIGTERM)
	if code := p.waitExit(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM; log:\n%s", code, p.log.String())
	}
}

func Test_Binary_EnvironmentFallback(t *testing.T) {
	p := startNode(t, []string{"BATON_REQUIREPASS=s3cret"})
	c := p.client(t)
	err := c.Ping(context.Background()).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Fatalf("PING without AUTH = %v, want NOAUTH (BATON_REQUIREPASS ignored?)", err)
	}
}

func Test_Binary_BadFlagExitsWithUsage(t *testing.T) {
	out, err := exec.Command(batonBinary(t), "node", "--fsync", "sometimes").CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit = %v, want code 2; output %s", err, out)
	}
	if !strings.Contains(string(out), "fsync policy") {
		t.Fatalf("output does not explain the bad flag: %s", out)
	}
}
