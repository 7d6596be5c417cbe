package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/batonkv/baton/chaos/check"
)

// composeCall bounds one Docker Engine call (a stop waits up to 15 s).
const composeCall = 30 * time.Second

// Name implements Target.
func (c *Compose) Name() string { return "compose" }

// ClientAddrs implements Target: proxy1 through its client link (the
// appliance has no client link to proxy2).
func (c *Compose) ClientAddrs() []string { return []string{c.clientAddr} }

// Links implements Target.
func (c *Compose) Links() []*Link { return c.links }

// Supports implements Target: links through the toxiproxy container,
// processes through the engine, and the runner dials members directly
// on the appliance's network.
func (c *Compose) Supports(string) bool { return true }

// running reports whether a member's container runs (paused or not).
func (c *Compose) running(id string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), composeCall)
	defer cancel()
	st, err := c.docker.Inspect(ctx, c.containers[id])
	return err == nil && st.Running
}

// container returns a member's container id, or an error naming it.
func (c *Compose) container(id string) (string, error) {
	if ct := c.containers[id]; ct != "" {
		return ct, nil
	}
	return "", fmt.Errorf("no member %q", id)
}

// Kill9 implements Target: SIGKILL to the container's process. The
// engine treats it as a manual stop, so its restart policy leaves it
// down until Restart.
func (c *Compose) Kill9(id string) error {
	return c.withContainer(context.Background(), id, func(ctx context.Context, ct string) error {
		return c.docker.Kill(ctx, ct, "KILL")
	})
}

// Restart implements Target: the container starts again with the same
// command and volumes.
func (c *Compose) Restart(ctx context.Context, id string) error {
	return c.withContainer(ctx, id, c.docker.Start)
}

// Stop implements Target: SIGTERM, SIGKILL after 15 s.
func (c *Compose) Stop(id string) error {
	return c.withContainer(context.Background(), id, func(ctx context.Context, ct string) error {
		return c.docker.Stop(ctx, ct, 15*time.Second)
	})
}

// Signal implements Target: SIGSTOP and SIGCONT pause and unpause the
// container (every process in it frozen, as docker pause does); other
// signals go to its main process.
func (c *Compose) Signal(id string, sig syscall.Signal) error {
	return c.withContainer(context.Background(), id, func(ctx context.Context, ct string) error {
		switch sig {
		case syscall.SIGSTOP:
			return c.docker.Pause(ctx, ct)
		case syscall.SIGCONT:
			return c.docker.Unpause(ctx, ct)
		}
		return c.docker.Kill(ctx, ct, fmt.Sprint(int(sig)))
	})
}

// withContainer calls f with a member's container id, bounded by ctx and
// composeCall.
func (c *Compose) withContainer(ctx context.Context, id string, f func(ctx context.Context, ct string) error) error {
	ct, err := c.container(id)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, composeCall)
	defer cancel()
	return f(ctx, ct)
}

// HealAll implements Target.
func (c *Compose) HealAll() error {
	if err := c.toxi.ResetState(); err != nil {
		return fmt.Errorf("toxiproxy: reset: %w", err)
	}
	return nil
}

// LeaseWindows implements Target: the nodes' lease logs in the shared
// leases volume. They hold every run's windows since the volume was
// made, which the split-brain check reads as one history.
func (c *Compose) LeaseWindows() ([]check.LeaseWindow, error) {
	var paths []string
	for _, id := range c.Members(KindNode) {
		paths = append(paths, filepath.Join(c.leases, id+".leases"))
	}
	return readLeaseLogs(paths)
}

// WriteWindows implements Target: the nodes' executed-writes logs in the
// shared leases volume (every run's windows since the volume was made,
// like the lease logs).
func (c *Compose) WriteWindows() ([]check.WriteWindow, error) {
	var paths []string
	for _, id := range c.Members(KindNode) {
		paths = append(paths, filepath.Join(c.leases, id+".writes"))
	}
	return readWriteLogs(paths)
}

// Close implements Target: the appliance is left whole and running
// (members started and thawed, links healed), each member's log since
// the run began is saved in the run's logs/, and the clients close.
func (c *Compose) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*composeCall)
	defer cancel()
	err := c.reset(ctx)
	for _, m := range composeMembers {
		c.saveLog(ctx, m.id)
	}
	c.saveLeaseLogs()
	c.closeClients()
	c.docker.Close()
	return err
}

// saveLog writes a member's container log since the run began to the
// run's logs/ (best effort: the log is an artifact, not a check).
func (c *Compose) saveLog(ctx context.Context, id string) {
	f, err := os.Create(filepath.Join(c.cfg.Dir, "logs", id+".log"))
	if err != nil {
		return
	}
	defer f.Close()
	if err := c.docker.Logs(ctx, c.containers[id], c.started, f); err != nil {
		fmt.Fprintf(f, "\n=== chaos: reading the log failed: %v\n", err)
	}
}

// saveLeaseLogs copies the nodes' lease logs into the run's leases/, as
// the local target keeps them (best effort: an artifact, not a check).
func (c *Compose) saveLeaseLogs() {
	dir := filepath.Join(c.cfg.Dir, "leases")
	if os.MkdirAll(dir, 0o755) != nil {
		return
	}
	for _, id := range c.Members(KindNode) {
		for _, ext := range []string{".leases", ".writes"} {
			if b, err := os.ReadFile(filepath.Join(c.leases, id+ext)); err == nil {
				os.WriteFile(filepath.Join(dir, id+ext), b, 0o644)
			}
		}
	}
}
