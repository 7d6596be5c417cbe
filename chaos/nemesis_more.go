package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/batonkv/baton/coordapi"
)

// killRestartNemesis kills one member with SIGKILL and starts it again at
// once, inside Inject: a crash and a supervisor's immediate restart,
// faster than the coordinators' down-after, so no failover happens and the
// node comes back as the primary of the same epoch from its journal.
type killRestartNemesis struct {
	env   *Env
	roles []string
	// down is a member killed whose restart failed (Heal retries it).
	down string
}

// KillRestart returns a nemesis that kill -9s a member in one of roles
// and restarts it immediately.
func KillRestart(env *Env, roles ...string) Nemesis {
	return &killRestartNemesis{env: env, roles: roles}
}

// Name implements Nemesis.
func (n *killRestartNemesis) Name() string { return "kill9-restart" }

// Available implements Nemesis.
func (n *killRestartNemesis) Available(t Target) error { return needs(t, n.Name(), CapProcesses) }

// Inject implements Nemesis.
func (n *killRestartNemesis) Inject(ctx context.Context) (string, error) {
	id, role, err := n.env.pick(ctx, n.roles...)
	if err != nil {
		return "", err
	}
	if err := n.env.Target.Kill9(id); err != nil {
		return "", err
	}
	killed := time.Now()
	if err := n.env.Target.Restart(ctx, id); err != nil {
		n.down = id
		return fmt.Sprintf("kill -9 %s (%s), restart failed", id, role), err
	}
	return fmt.Sprintf("kill -9 %s (%s), restarted at once: listening again after %v", id, role,
		time.Since(killed).Round(time.Millisecond)), nil
}

// Heal implements Nemesis: nothing, unless the restart failed.
func (n *killRestartNemesis) Heal(ctx context.Context) error {
	return restartDown(ctx, n.env.Target, &n.down)
}

// killTargetNemesis runs a coordinated takeover to a replica and kill -9s
// that replica as soon as the coordinators' topology shows the takeover
// committed (polled while BATON.TAKEOVER runs): the new primary dies
// before, or just as, it takes its first writes. Heal restarts it.
type killTargetNemesis struct {
	env    *Env
	killed string
}

// KillTakeoverTarget returns the kill-the-takeover-target nemesis.
func KillTakeoverTarget(env *Env) Nemesis { return &killTargetNemesis{env: env} }

// Name implements Nemesis.
func (n *killTargetNemesis) Name() string { return "kill9-takeover-target" }

// Available implements Nemesis.
func (n *killTargetNemesis) Available(t Target) error { return needs(t, n.Name(), CapProcesses) }

// takeoverCommitWait bounds the poll for the takeover's commit.
const takeoverCommitWait = 10 * time.Second

// Inject implements Nemesis.
func (n *killTargetNemesis) Inject(ctx context.Context) (string, error) {
	t := n.env.Target
	to, _, err := n.env.pick(ctx, RoleReplica)
	if err != nil {
		return "", err
	}
	before, err := t.Topology(ctx)
	if err != nil {
		return "", err
	}
	type outcome struct {
		desc string
		err  error
	}
	done := make(chan outcome, 1)
	go func() {
		v, err := t.CoordinatorDo(ctx, 15*time.Second, coordapi.CmdTakeover, "TO", to, "TIMEOUT", "5000")
		if err != nil {
			done <- outcome{desc: fmt.Sprintf("refused: %v", err)}
			return
		}
		rep, err := coordapi.ReportFromReply(v)
		if err != nil {
			done <- outcome{err: err}
			return
		}
		done <- outcome{desc: fmt.Sprintf("%s in %.0f ms (epoch %d)", rep.Outcome, rep.TotalMs, rep.Epoch)}
	}()
	// Poll the topology for the commit (or the takeover's end).
	var res *outcome
	deadline := time.Now().Add(takeoverCommitWait)
	committed := false
	for !committed && res == nil && time.Now().Before(deadline) && ctx.Err() == nil {
		if topo, err := t.Topology(ctx); err == nil && topo.Primary == to && topo.Epoch > before.Epoch {
			committed = true
			break
		}
		select {
		case o := <-done:
			res = &o
		case <-time.After(5 * time.Millisecond):
		}
	}
	seen := time.Now()
	if err := t.Kill9(to); err != nil {
		return "", err
	}
	n.killed = to
	killedAfter := time.Since(seen)
	if res == nil {
		select {
		case o := <-done:
			res = &o
		case <-time.After(20 * time.Second):
			res = &outcome{desc: "no reply"}
		}
	}
	if res.err != nil {
		return "", res.err
	}
	when := "the commit was seen"
	if !committed {
		when = "the takeover ended without a commit seen"
	}
	return fmt.Sprintf("takeover %s → %s (%s); kill -9 %s %v after %s", before.Primary, to, res.desc, to,
		killedAfter.Round(time.Microsecond), when), nil
}

// Heal implements Nemesis.
func (n *killTargetNemesis) Heal(ctx context.Context) error {
	return restartDown(ctx, n.env.Target, &n.killed)
}

// asymmetricNemesis splits the appliance into {primary P, replica R,
// proxies} and {coordinators, replica Q}: every link between the two
// sides goes down — the nodes' renewals and the coordinators' probes of P
// and R, Q's replication from P (and R's and P's from Q), the proxies'
// topology streams, the proxies to Q — while P↔R replication and the
// proxies → P stay up. The coordinators (which keep a quorum) fail over
// to Q; the clients still reach P through the proxies.
type asymmetricNemesis struct {
	env     *Env
	applied []*Link
}

// Asymmetric returns the asymmetric-partition nemesis.
func Asymmetric(env *Env) Nemesis { return &asymmetricNemesis{env: env} }

// Name implements Nemesis.
func (n *asymmetricNemesis) Name() string { return "partition-asymmetric" }

// Available implements Nemesis: it needs one link per replica for
// replication and separate links for the coordinators' probes (the local
// target's demuxes); a target sharing them cannot cut Q's stream without
// R's.
func (n *asymmetricNemesis) Available(t Target) error {
	if err := needs(t, n.Name(), CapLinks); err != nil {
		return err
	}
	perReplica, probes := false, false
	for _, l := range t.Links() {
		perReplica = perReplica || (l.Kind == LinkReplication && slices.Contains(t.Members(KindNode), l.From))
		probes = probes || (l.Kind == LinkNode && l.From == "coordinators")
	}
	if !perReplica || !probes {
		return fmt.Errorf("nemesis %s needs one replication link per replica and separate coordinator→node links, which target %s lacks", n.Name(), t.Name())
	}
	return nil
}

// Inject implements Nemesis.
func (n *asymmetricNemesis) Inject(ctx context.Context) (string, error) {
	k := n.env.Rand.IntN(2)
	topo, err := n.env.Target.Topology(ctx)
	if err != nil {
		return "", err
	}
	reps := topo.ReplicaIDs()
	slices.Sort(reps)
	if topo.Primary == "" || len(reps) < 2 {
		return "", fmt.Errorf("topology epoch %d: primary %q, replicas %v; want a primary and two replicas", topo.Epoch, topo.Primary, reps)
	}
	p, r, q := topo.Primary, reps[k], reps[1-k]
	sideA := map[string]bool{p: true, r: true}
	var names []string
	for _, l := range n.env.Target.Links() {
		cut := false
		switch l.Kind {
		case LinkNodeCoord:
			cut = sideA[l.From]
		case LinkNode:
			cut = (l.From == "coordinators" && sideA[l.To]) || (l.From != "coordinators" && l.To == q)
		case LinkReplication:
			cut = (l.From == q && sideA[l.To]) || (sideA[l.From] && l.To == q)
		case LinkProxyCoord:
			cut = true
		}
		if !cut {
			continue
		}
		if err := l.Down(); err != nil {
			return strings.Join(names, ","), err
		}
		n.applied = append(n.applied, l)
		names = append(names, l.Name)
	}
	return fmt.Sprintf("asymmetric partition {%s (primary), %s, proxies} | {coordinators, %s}: down %s",
		p, r, q, strings.Join(names, ",")), nil
}

// Heal implements Nemesis.
func (n *asymmetricNemesis) Heal(context.Context) error {
	var errs []error
	for _, l := range n.applied {
		errs = append(errs, l.Up())
	}
	n.applied = nil
	return errors.Join(errs...)
}
