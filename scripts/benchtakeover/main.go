// Command benchtakeover measures the write pause of coordinated takeovers
// (BATON.TAKEOVER) under load: 3 coordinators, 3 nodes and one baton proxy
// on loopback, writers appending through the proxy while the primary role
// moves n1 → n2 → n1 … K times, without and then with hung clients on the
// primary; and, as an anchor, Redis 7's FAILOVER between a primary and its
// replica under the same load written straight to the current primary. It
// prints one Markdown table on stdout; progress goes to stderr. Run by
// scripts/bench-takeover.sh.
//
// Per switch, in [start, min(end + tail, next start)] where start and end
// bracket the switch command (Redis: FAILOVER until INFO says
// no-failover): the write pause is the longest latency of an append in
// flight in that window (a refused append retried on the new primary is one
// append: its latency runs from its first send to its acknowledgement), and
// the ack gap is the longest gap between consecutive acknowledgements of
// all writers.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/batonkv/baton/internal/benchkit"
)

// config is the benchmark's flags.
type config struct {
	baton        string
	systems      string
	k            int
	clients      int
	hung         int
	syncReplicas int
	grace        time.Duration
	timeout      time.Duration
	settle       time.Duration
	tail         time.Duration
	interval     time.Duration
	backoff      time.Duration
	waitTimeout  time.Duration
	keep         bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.baton, "baton", "bin/baton", "baton binary")
	flag.StringVar(&cfg.systems, "systems", "baton,baton-hung,redis-failover", "scenarios, comma-separated: baton (takeovers through the proxy), baton-hung (the same with hung clients on the primary), redis-failover (the Redis 7 FAILOVER anchor)")
	flag.IntVar(&cfg.k, "k", 20, "switches per scenario")
	flag.IntVar(&cfg.clients, "clients", 50, "concurrent writers")
	flag.IntVar(&cfg.hung, "hung", 20, "hung clients on the primary before each takeover of the baton-hung scenario")
	flag.IntVar(&cfg.syncReplicas, "sync-replicas", 1, "baton node --sync-replicas")
	flag.DurationVar(&cfg.grace, "grace", 300*time.Millisecond, "BATON.TAKEOVER GRACE in the baton-hung scenario")
	flag.DurationVar(&cfg.timeout, "timeout", 5*time.Second, "BATON.TAKEOVER TIMEOUT and Redis FAILOVER TIMEOUT")
	flag.DurationVar(&cfg.settle, "settle", time.Second, "load-only time after each switch (not shorter than -tail, or windows are cut at the next switch)")
	flag.DurationVar(&cfg.tail, "tail", time.Second, "how long after a switch ends its window lasts")
	flag.DurationVar(&cfg.interval, "interval", 5*time.Millisecond, "each writer's pause between appends: the same offered load for every scenario")
	flag.DurationVar(&cfg.backoff, "backoff", 10*time.Millisecond, "writer pause after an error before looking up the primary again")
	flag.DurationVar(&cfg.waitTimeout, "wait-timeout", 60*time.Second, "bound on every wait for a cluster state")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the servers' data and logs (temp dirs are printed)")
	flag.Parse()
	benchkit.Main("benchtakeover", func(ctx context.Context) error { return run(ctx, cfg) })
}

// run measures every requested scenario and prints the table. The two
// Baton scenarios share one appliance.
func run(ctx context.Context, cfg config) error {
	var names []string
	want := map[string]bool{}
	for _, n := range strings.Split(cfg.systems, ",") {
		n = strings.TrimSpace(n)
		switch n {
		case "":
			continue
		case "baton", "baton-hung", "redis-failover":
			names, want[n] = append(names, n), true
		default:
			return fmt.Errorf("unknown scenario %q (baton, baton-hung, redis-failover)", n)
		}
	}
	load0 := loadAvg()
	results := map[string]*result{}
	if want["baton"] || want["baton-hung"] {
		if err := withDir(cfg, "baton", func(dir string) error { return runBaton(ctx, cfg, dir, want, results) }); err != nil {
			return err
		}
	}
	anchorSkipped := false
	if want["redis-failover"] {
		if _, err := exec.LookPath("redis-server"); err != nil {
			fmt.Fprintln(os.Stderr, "benchtakeover: redis-server not installed; skipping the Redis FAILOVER anchor")
			anchorSkipped = true
		} else if err := withDir(cfg, "redis", func(dir string) error {
			r, err := measureRedis(ctx, cfg, dir)
			results["redis-failover"] = r
			return err
		}); err != nil {
			return err
		}
	}
	printTable(cfg, names, results, load0, loadAvg(), anchorSkipped)
	var bad []string
	for _, n := range names {
		if r := results[n]; r != nil && len(r.bad) > 0 && n != "redis-failover" {
			bad = append(bad, fmt.Sprintf("%s: %d writers' lists wrong", n, len(r.bad)))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("acknowledged appends lost: %s", strings.Join(bad, "; "))
	}
	return nil
}

// runBaton starts the appliance in dir and runs the Baton scenarios on it.
func runBaton(ctx context.Context, cfg config, dir string, want map[string]bool, results map[string]*result) error {
	fmt.Fprintln(os.Stderr, "baton: starting 3 coordinators, 3 nodes, 1 proxy")
	a, err := startAppliance(ctx, cfg.baton, dir, cfg.syncReplicas, cfg.waitTimeout)
	defer a.stop()
	if err != nil {
		return fmt.Errorf("baton: start: %w", err)
	}
	for _, s := range []struct {
		name string
		hung int
	}{{"baton", 0}, {"baton-hung", cfg.hung}} {
		if !want[s.name] {
			continue
		}
		r, err := measureBaton(ctx, cfg, a, s.name, s.hung)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		results[s.name] = r
	}
	return nil
}

// withDir runs f with a new temp dir, removed afterwards unless -keep.
func withDir(cfg config, name string, f func(dir string) error) error {
	dir, err := os.MkdirTemp("", "benchtakeover-"+name+"-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	err = f(dir)
	if cfg.keep {
		fmt.Fprintf(os.Stderr, "%s: data and logs kept in %s\n", name, dir)
	} else {
		os.RemoveAll(dir)
	}
	return err
}

// loadAvg is the 1-minute load average (from /proc/loadavg), to say how
// busy the machine was.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}
