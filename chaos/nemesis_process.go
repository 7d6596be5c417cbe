package chaos

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// killNemesis kills one member with SIGKILL; Heal restarts it with the
// same flags and data directory.
type killNemesis struct {
	env    *Env
	roles  []string
	killed string
}

// Kill9 returns a nemesis that kill -9s a member in one of roles and
// restarts it on Heal.
func Kill9(env *Env, roles ...string) Nemesis { return &killNemesis{env: env, roles: roles} }

// Name implements Nemesis.
func (n *killNemesis) Name() string { return "kill9" }

// Available implements Nemesis.
func (n *killNemesis) Available(t Target) error { return needs(t, n.Name(), CapProcesses) }

// Inject implements Nemesis.
func (n *killNemesis) Inject(ctx context.Context) (string, error) {
	id, role, err := n.env.pick(ctx, n.roles...)
	if err != nil {
		return "", err
	}
	if err := n.env.Target.Kill9(id); err != nil {
		return "", err
	}
	n.killed = id
	return fmt.Sprintf("kill -9 %s (%s)", id, role), nil
}

// Heal implements Nemesis.
func (n *killNemesis) Heal(ctx context.Context) error {
	return restartDown(ctx, n.env.Target, &n.killed)
}

// restartDown restarts the member *id names, if any, and forgets it: the
// Heal of every nemesis that leaves a process dead.
func restartDown(ctx context.Context, t Target, id *string) error {
	if *id == "" {
		return nil
	}
	m := *id
	*id = ""
	return t.Restart(ctx, m)
}

// pauseNemesis freezes one member with SIGSTOP; Heal sends SIGCONT.
type pauseNemesis struct {
	env    *Env
	roles  []string
	paused string
}

// Pause returns a nemesis that SIGSTOPs a member in one of roles and
// SIGCONTs it on Heal.
func Pause(env *Env, roles ...string) Nemesis { return &pauseNemesis{env: env, roles: roles} }

// Name implements Nemesis.
func (n *pauseNemesis) Name() string { return "pause" }

// Available implements Nemesis.
func (n *pauseNemesis) Available(t Target) error { return needs(t, n.Name(), CapProcesses) }

// Inject implements Nemesis.
func (n *pauseNemesis) Inject(ctx context.Context) (string, error) {
	id, role, err := n.env.pick(ctx, n.roles...)
	if err != nil {
		return "", err
	}
	if err := n.env.Target.Signal(id, syscall.SIGSTOP); err != nil {
		return "", err
	}
	n.paused = id
	return fmt.Sprintf("SIGSTOP %s (%s)", id, role), nil
}

// Heal implements Nemesis.
func (n *pauseNemesis) Heal(context.Context) error {
	if n.paused == "" {
		return nil
	}
	id := n.paused
	n.paused = ""
	return n.env.Target.Signal(id, syscall.SIGCONT)
}

// rollingNemesis restarts every process in turn (SIGTERM, start), waiting
// until the target is healthy after each: an upgrade's rolling restart.
type rollingNemesis struct {
	env *Env
	// settle bounds the wait for health after each restart.
	settle time.Duration
}

// RollingRestart returns a nemesis whose Inject restarts every process one
// after the other, coordinators first, then the replicas, the primary and
// the proxy; Heal has nothing to undo.
func RollingRestart(env *Env) Nemesis { return &rollingNemesis{env: env, settle: 30 * time.Second} }

// Name implements Nemesis.
func (n *rollingNemesis) Name() string { return "rolling-restart" }

// Available implements Nemesis.
func (n *rollingNemesis) Available(t Target) error { return needs(t, n.Name(), CapProcesses) }

// Inject implements Nemesis.
func (n *rollingNemesis) Inject(ctx context.Context) (string, error) {
	t := n.env.Target
	topo, err := t.Topology(ctx)
	if err != nil {
		return "", err
	}
	order := append(t.Members(KindCoordinator), topo.ReplicaIDs()...)
	order = append(order, topo.Primary)
	order = append(order, t.Members(KindProxy)...)
	start := time.Now()
	for _, id := range order {
		if err := t.Stop(id); err != nil {
			return "", fmt.Errorf("stop %s: %w", id, err)
		}
		if err := t.Restart(ctx, id); err != nil {
			return "", fmt.Errorf("restart %s: %w", id, err)
		}
		if err := poll(ctx, n.settle, func() error { return t.Health(ctx) }); err != nil {
			return "", fmt.Errorf("not healthy %v after restarting %s: %w", n.settle, id, err)
		}
	}
	return fmt.Sprintf("rolling restart of %v in %v", order, time.Since(start).Round(time.Millisecond)), nil
}

// Heal implements Nemesis.
func (n *rollingNemesis) Heal(context.Context) error { return nil }
