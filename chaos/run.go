package chaos

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"slices"
	"sync"
	"time"
)

// Options configures a chaos run (`baton chaos run`).
type Options struct {
	// Bin is the baton binary the local target runs.
	Bin string
	// Out is the report directory (created).
	Out string
	// Scenarios are the names to run; empty or "all" runs every one.
	Scenarios []string
	// Seed is the first seed; Seeds how many consecutive seeds each
	// scenario runs with (default 1). A seed reproduces a run's schedule:
	// the nemesis's targets, parameters, hold and quiet times.
	Seed  uint64
	Seeds int
	// Duration is how long each run keeps injecting faults (at least one
	// fault is always injected).
	Duration time.Duration
	// Target is "local" (default) or "compose".
	Target string
	// SyncReplicas is every node's --sync-replicas.
	SyncReplicas int
	// Env is added to every process's environment (test-only switches).
	Env []string
	// Workloads shapes the load (zero: DefaultWorkloads()).
	Workloads Workloads
	// LinearizableTimeout bounds porcupine per run (default 60 s).
	LinearizableTimeout time.Duration
	// Progress receives progress lines (nil: none).
	Progress io.Writer
}

// withDefaults fills zero fields and validates the scenario names.
func (o Options) withDefaults() (Options, []Scenario, error) {
	if o.Seeds <= 0 {
		o.Seeds = 1
	}
	if o.Duration <= 0 {
		o.Duration = 30 * time.Second
	}
	if o.Target == "" {
		o.Target = "local"
	}
	if o.Workloads == (Workloads{}) {
		o.Workloads = DefaultWorkloads()
	}
	if o.LinearizableTimeout <= 0 {
		o.LinearizableTimeout = time.Minute
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	switch {
	case o.Target != "local" && o.Target != "compose":
		return o, nil, fmt.Errorf("unknown target %q (local or compose)", o.Target)
	case o.Out == "" || (o.Bin == "" && o.Target == "local"):
		return o, nil, errors.New("chaos: Out (and Bin for the local target) are required")
	}
	all := Scenarios()
	if len(o.Scenarios) == 0 || slices.Contains(o.Scenarios, "all") {
		return o, all, nil
	}
	var out []Scenario
	for _, name := range o.Scenarios {
		i := slices.IndexFunc(all, func(s Scenario) bool { return s.Name == name })
		if i < 0 {
			return o, nil, fmt.Errorf("unknown scenario %q (one of %v, or all)", name, ScenarioNames())
		}
		out = append(out, all[i])
	}
	return o, out, nil
}

// Run runs every selected scenario with every seed, each on a fresh
// target, writes report.json and report.html into o.Out after each run,
// and returns the report (Passed is false if any checker failed).
func Run(ctx context.Context, o Options) (*Report, error) {
	o, scenarios, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	r := &runner{o: o, start: time.Now()}
	rep := &Report{Started: r.start, Target: o.Target, SyncReplicas: o.SyncReplicas, Seed: o.Seed, Seeds: o.Seeds,
		Duration: o.Duration.String(), Passed: true}
	r.logf("", "chaos run: %d scenarios × %d seeds from --seed %d (the same seed reproduces the schedule), %v each, target %s, --sync-replicas %d, report in %s",
		len(scenarios), o.Seeds, o.Seed, o.Duration, o.Target, o.SyncReplicas, o.Out)
	for _, sc := range scenarios {
		for i := range o.Seeds {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			run := r.runOne(ctx, sc, o.Seed+uint64(i))
			rep.Runs = append(rep.Runs, run)
			rep.Passed = rep.Passed && run.Passed
			if err := rep.write(o.Out); err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}

// runner carries one Run's options and clock.
type runner struct {
	o     Options
	start time.Time
	mu    sync.Mutex
}

// logf prints one progress line, prefixed with the run's clock and the
// run's name.
func (r *runner) logf(name, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	prefix := fmt.Sprintf("[%7.1fs] ", time.Since(r.start).Seconds())
	if name != "" {
		prefix += name + ": "
	}
	fmt.Fprintf(r.o.Progress, prefix+format+"\n", args...)
}

// scheduleSeed derives a run's PRNG stream from its seed and scenario.
func scheduleSeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}
