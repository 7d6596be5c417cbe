package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/batonkv/baton/chaos/check"
)

// healthWait bounds how long the runner waits for the target to be
// healthy before a fault and after healing one.
const healthWait = 30 * time.Second

// Fault is one inject/heal cycle of a run, on the run's clock.
type Fault struct {
	N    int    `json:"n"`
	What string `json:"what"`
	// At, HealedAt and HealthyAt are offsets from the start of the
	// workloads; HealthyAt is zero when health did not return.
	At        time.Duration `json:"at_ns"`
	HealedAt  time.Duration `json:"healed_at_ns"`
	HealthyAt time.Duration `json:"healthy_at_ns"`
	Error     string        `json:"error,omitempty"`
}

// healthLog collects the health checks and fault errors of a run into the
// "health" result.
type healthLog struct {
	checks   int
	failures []string
	recovery time.Duration
}

// check waits until t is healthy (bounded) and records the outcome.
func (hl *healthLog) check(ctx context.Context, t Target, when string) bool {
	hl.checks++
	if err := poll(ctx, healthWait, func() error { return t.Health(ctx) }); err != nil {
		hl.failures = append(hl.failures, fmt.Sprintf("not healthy %s within %v: %v", when, healthWait, err))
		return false
	}
	return true
}

// result is the health checker's verdict.
func (hl *healthLog) result() check.Result {
	res := check.Result{Name: "health", OK: len(hl.failures) == 0, Details: hl.failures,
		Metrics: map[string]float64{"checks": float64(hl.checks), "failures": float64(len(hl.failures)),
			"max_recovery_ms": float64(hl.recovery.Microseconds()) / 1000}}
	res.Summary = fmt.Sprintf("%d health checks, %d failed; slowest recovery after a heal %v", hl.checks, len(hl.failures), hl.recovery.Round(time.Millisecond))
	return res
}

// runOne runs one scenario with one seed on a fresh target.
func (r *runner) runOne(ctx context.Context, sc Scenario, seed uint64) RunReport {
	name := fmt.Sprintf("%s seed %d", sc.Name, seed)
	rep := RunReport{Scenario: sc.Name, Seed: seed, Dir: fmt.Sprintf("%s-seed%d", sc.Name, seed)}
	began := time.Now()
	defer func() { rep.Seconds = time.Since(began).Seconds() }()
	dir := filepath.Join(r.o.Out, rep.Dir)
	r.logf(name, "starting the %s target in %s", r.o.Target, dir)
	t, err := StartTarget(ctx, TargetConfig{Kind: r.o.Target, Bin: r.o.Bin, Dir: dir, SyncReplicas: r.o.SyncReplicas,
		Env: r.o.Env, Proxies: sc.Proxies})
	if err != nil {
		rep.Error = "start target: " + err.Error()
		r.logf(name, "FAILED: %s", rep.Error)
		return rep
	}
	defer t.Close()
	rng := rand.New(rand.NewPCG(seed, scheduleSeed(sc.Name)))
	nem := sc.Nemesis(&Env{Target: t, Rand: rng})
	if err := nem.Available(t); err != nil {
		rep.Skipped, rep.Passed = err.Error(), true
		r.logf(name, "skipped: %v", err)
		return rep
	}
	h := newHistory()
	w := r.o.Workloads
	if sc.Workloads != nil {
		w = sc.Workloads(w)
	}
	if sc.Proxies > 1 && len(t.ClientAddrs()) < sc.Proxies {
		rep.Skipped, rep.Passed = fmt.Sprintf("scenario %s needs clients on %d proxies; target %s offers %d", sc.Name, sc.Proxies, t.Name(), len(t.ClientAddrs())), true
		r.logf(name, "skipped: %s", rep.Skipped)
		return rep
	}
	ld := startLoad(t.ClientAddrs(), w, h, seed)
	hl := &healthLog{}
	rep.Faults = r.cycles(ctx, name, t, nem, sc, rng, h, hl)
	ld.stop()
	end := h.since()
	ops := h.snapshot()
	r.logf(name, "workloads stopped: %d operations in %v; reading the final state", len(ops), end.Round(time.Millisecond))
	if err := t.HealAll(); err != nil {
		hl.failures = append(hl.failures, "heal all links: "+err.Error())
	}
	final, finalErr := r.final(ctx, t, ops, hl)
	states := readNodeStates(ctx, t, convergeWait)
	t.Close() // the lease logs are complete once every node has stopped
	windows, leaseErr := t.LeaseWindows()
	writes, writesErr := t.WriteWindows()
	results := checkAll(ops, final, finalErr, windows, leaseErr, end, r.o.LinearizableTimeout)
	results = append(results, checkWrites(writes, writesErr))
	results = append(results, check.Digests(states), hl.result())
	rep.fill(ops, results)
	if err := rep.writeArtifacts(dir, ops, results); err != nil {
		rep.Error = "write artifacts: " + err.Error()
		rep.Passed = false
	}
	r.logf(name, "%s", rep.line())
	return rep
}

// cycles injects and heals faults until the run's duration is over (at
// least once), checking health before each fault and after each heal.
func (r *runner) cycles(ctx context.Context, name string, t Target, nem Nemesis, sc Scenario, rng *rand.Rand, h *history, hl *healthLog) []Fault {
	var faults []Fault
	sleepCtx(ctx, min(time.Second, r.o.Duration/4)) // the workloads warm up
	for i := 0; ctx.Err() == nil && (i == 0 || h.since() < r.o.Duration); i++ {
		hold := sc.Hold/2 + time.Duration(rng.Int64N(int64(sc.Hold)+1))
		quiet := time.Duration(between(rng, 200, 1000)) * time.Millisecond
		if !hl.check(ctx, t, fmt.Sprintf("before fault %d", i+1)) {
			r.logf(name, "not healthy before fault %d: %s", i+1, hl.failures[len(hl.failures)-1])
			break
		}
		f := Fault{N: i + 1, At: h.since()}
		what, err := nem.Inject(ctx)
		f.What = what
		if err != nil {
			f.Error = "inject: " + err.Error()
			r.logf(name, "fault %d: inject %s FAILED: %v", f.N, what, err)
		} else {
			r.logf(name, "fault %d: %s (hold %v)", f.N, what, hold.Round(time.Millisecond))
			sleepCtx(ctx, hold)
		}
		if err := nem.Heal(ctx); err != nil {
			f.Error += " heal: " + err.Error()
		}
		f.HealedAt = h.since()
		ok := hl.check(ctx, t, fmt.Sprintf("after healing fault %d", f.N))
		if ok {
			f.HealthyAt = h.since()
			hl.recovery = max(hl.recovery, f.HealthyAt-f.HealedAt)
			r.logf(name, "fault %d healed; healthy again after %v", f.N, (f.HealthyAt - f.HealedAt).Round(time.Millisecond))
		}
		if f.Error != "" {
			hl.failures = append(hl.failures, fmt.Sprintf("fault %d (%s): %s", f.N, f.What, f.Error))
		}
		faults = append(faults, f)
		if !ok {
			r.logf(name, "fault %d: %s", f.N, hl.failures[len(hl.failures)-1])
			break
		}
		sleepCtx(ctx, quiet)
	}
	return faults
}

// final waits for health and reads the final state from the primary.
func (r *runner) final(ctx context.Context, t Target, ops []check.Op, hl *healthLog) (check.Final, error) {
	hl.check(ctx, t, "at the end")
	f, _, err := readFinal(ctx, t, ops)
	return f, err
}

// checkWrites runs the split-brain checker on the executed writes: the
// processes of both targets share one host's clock, so no tolerance.
func checkWrites(writes []check.WriteWindow, err error) check.Result {
	if err != nil {
		return check.Result{Name: "split-brain-writes", Summary: "executed-writes logs unreadable: " + err.Error()}
	}
	return check.WriteOverlap(writes, 0)
}

// checkAll runs every checker over the run's history, final state and
// lease windows.
func checkAll(ops []check.Op, final check.Final, finalErr error, windows []check.LeaseWindow, leaseErr error, end, linTimeout time.Duration) []check.Result {
	res := []check.Result{check.Linearizable(ops, linTimeout)}
	if finalErr != nil {
		for _, n := range []string{"lost-writes", "counters"} {
			res = append(res, check.Result{Name: n, Summary: "final state unreadable: " + finalErr.Error()})
		}
	} else {
		res = append(res, check.LostWrites(ops, final), check.Counters(ops, final))
	}
	if leaseErr != nil {
		res = append(res, check.Result{Name: "split-brain", Summary: "lease logs unreadable: " + leaseErr.Error()})
	} else {
		res = append(res, check.SplitBrain(windows))
	}
	return append(res, check.Availability(ops, end))
}
