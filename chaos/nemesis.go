package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Nemesis is one kind of fault (etcd's robustness Failpoint, with a heal):
// Inject breaks something the seeded PRNG chooses and says what; Heal
// undoes it (restart, SIGCONT, remove the toxic…). The runner checks the
// target's health before every Inject and after every Heal.
type Nemesis interface {
	// Name is the nemesis's name in reports.
	Name() string
	// Available returns nil when the target supports this nemesis, or why
	// not.
	Available(t Target) error
	// Inject injects one fault and describes it ("kill -9 n1 (primary)").
	Inject(ctx context.Context) (string, error)
	// Heal undoes the fault of the last Inject.
	Heal(ctx context.Context) error
}

// Env is what a nemesis works with: the target and the run's seeded PRNG
// (every choice comes from it, so a seed reproduces the schedule).
type Env struct {
	Target Target
	Rand   *rand.Rand
}

// Roles a nemesis may aim at; pick resolves them against the topology.
const (
	RolePrimary      = "primary"
	RoleReplica      = "replica"
	RoleRaftLeader   = "raft-leader"
	RoleRaftFollower = "raft-follower"
	RoleProxy        = "proxy"
)

// pick chooses one of roles and resolves it to a member id. It draws
// exactly two numbers whatever the outcome, so the PRNG stream (and the
// rest of the schedule) does not depend on the cluster's state.
func (e *Env) pick(ctx context.Context, roles ...string) (id, role string, err error) {
	role = roles[e.Rand.IntN(len(roles))]
	n := e.Rand.IntN(1 << 20)
	var candidates []string
	switch role {
	case RolePrimary, RoleReplica:
		t, err := e.Target.Topology(ctx)
		if err != nil {
			return "", role, err
		}
		candidates = []string{t.Primary}
		if role == RoleReplica {
			candidates = t.ReplicaIDs()
		}
	case RoleRaftLeader, RoleRaftFollower:
		leader, err := e.Target.RaftLeader(ctx)
		if err != nil {
			return "", role, err
		}
		candidates = []string{leader}
		if role == RoleRaftFollower {
			candidates = without(e.Target.Members(KindCoordinator), leader)
		}
	case RoleProxy:
		candidates = e.Target.Members(KindProxy)
	}
	if len(candidates) == 0 || candidates[0] == "" {
		return "", role, fmt.Errorf("no %s to aim at", role)
	}
	return candidates[n%len(candidates)], role, nil
}

// without returns ids minus drop.
func without(ids []string, drop string) []string {
	var out []string
	for _, id := range ids {
		if id != drop {
			out = append(out, id)
		}
	}
	return out
}

// needs returns an error naming the capabilities t lacks.
func needs(t Target, name string, caps ...string) error {
	for _, c := range caps {
		if !t.Supports(c) {
			return fmt.Errorf("nemesis %s needs %s, which target %s lacks", name, c, t.Name())
		}
	}
	return nil
}

// composite injects its parts in order and heals them in reverse: one
// fault during another (a takeover during replication latency…).
type composite struct {
	name  string
	gap   time.Duration
	parts []Nemesis
	// injected is how many parts the last Inject injected.
	injected int
}

// Composite returns a nemesis that injects parts in order, gap apart, and
// heals them in reverse order.
func Composite(name string, gap time.Duration, parts ...Nemesis) Nemesis {
	return &composite{name: name, gap: gap, parts: parts}
}

// Name implements Nemesis.
func (c *composite) Name() string { return c.name }

// Available implements Nemesis.
func (c *composite) Available(t Target) error {
	for _, p := range c.parts {
		if err := p.Available(t); err != nil {
			return err
		}
	}
	return nil
}

// Inject implements Nemesis.
func (c *composite) Inject(ctx context.Context) (string, error) {
	c.injected = 0
	var descs []string
	for i, p := range c.parts {
		if i > 0 && !sleepCtx(ctx, c.gap) {
			return strings.Join(descs, ", then "), ctx.Err()
		}
		d, err := p.Inject(ctx)
		if err != nil {
			return strings.Join(descs, ", then "), fmt.Errorf("%s: %w", p.Name(), err)
		}
		c.injected++
		descs = append(descs, d)
	}
	return strings.Join(descs, ", then "), nil
}

// Heal implements Nemesis.
func (c *composite) Heal(ctx context.Context) error {
	var errs []error
	for i := c.injected - 1; i >= 0; i-- {
		if err := c.parts[i].Heal(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.parts[i].Name(), err))
		}
	}
	c.injected = 0
	return errors.Join(errs...)
}

// sleepCtx sleeps d unless ctx ends first; it reports whether it slept.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
