// Command benchfailover measures how long writes stop when the primary is
// killed with SIGKILL: Baton (3 coordinators, 3 nodes) and, as an anchor,
// Redis Sentinel (3 redis-servers, 3 sentinels), both on loopback, under
// the same write load and the same number of kills. It prints a Markdown
// table on stdout; progress goes to stderr. Run by scripts/bench-failover.sh.
//
// For each kill the write-unavailability window is the longest gap between
// consecutive acknowledged writes (all clients together) from the kill to
// 10 s after it or to the next kill, whichever is first.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/batonkv/baton/internal/benchkit"
)

// config is the benchmark's flags.
type config struct {
	baton        string
	systems      string
	kills        int
	clients      int
	syncReplicas int
	downAfter    time.Duration
	lease        time.Duration
	window       time.Duration
	settle       time.Duration
	waitTimeout  time.Duration
	backoff      time.Duration
	keep         bool
	interval     time.Duration
}

func main() {
	var cfg config
	flag.StringVar(&cfg.baton, "baton", "bin/baton", "baton binary")
	flag.StringVar(&cfg.systems, "systems", "baton,redis-sentinel", "systems to measure, comma-separated: redis-sentinel, baton")
	flag.IntVar(&cfg.kills, "k", 20, "kill -9 failovers per system")
	flag.IntVar(&cfg.clients, "clients", 20, "concurrent writers")
	flag.IntVar(&cfg.syncReplicas, "sync-replicas", 1, "baton node --sync-replicas")
	flag.DurationVar(&cfg.downAfter, "down-after", time.Second, "baton --down-after and Sentinel down-after-milliseconds")
	flag.DurationVar(&cfg.lease, "lease", time.Second, "baton coordinator --lease")
	flag.DurationVar(&cfg.window, "window", 10*time.Second, "longest interval after a kill a window is measured in")
	flag.DurationVar(&cfg.settle, "settle", time.Second, "pause after the killed node is a replica again")
	flag.DurationVar(&cfg.waitTimeout, "wait-timeout", 120*time.Second, "bound on every wait for a cluster state")
	flag.DurationVar(&cfg.backoff, "backoff", 10*time.Millisecond, "client pause after an error before looking up the primary")
	flag.DurationVar(&cfg.interval, "interval", 5*time.Millisecond, "each writer's pause between writes: the same offered load for every system, and a dataset Redis can full-sync within a cycle")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the servers' data and logs (temp dirs are printed)")
	flag.Parse()
	benchkit.Main("benchfailover", func(ctx context.Context) error { return run(ctx, cfg) })
}

// result is one system's measurements.
type result struct {
	windows   []time.Duration
	acked     int
	ambiguous int64
	rejected  int64
	other     int64
	breakdown []step // Baton only, first kill
}

func run(ctx context.Context, cfg config) error {
	results := map[string]*result{}
	var order []string
	for _, name := range strings.Split(cfg.systems, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		dir, err := os.MkdirTemp("", "benchfailover-"+name+"-")
		if err != nil {
			return fmt.Errorf("temp dir: %w", err)
		}
		var sys system
		switch name {
		case "baton":
			sys = &batonCluster{&benchkit.BatonCluster{Bin: cfg.baton, Dir: dir, Secret: "bench-failover-secret",
				SyncReplicas: cfg.syncReplicas, DownAfter: cfg.downAfter, Lease: cfg.lease, WaitTimeout: cfg.waitTimeout}}
		case "redis-sentinel":
			if _, err := exec.LookPath("redis-server"); err != nil {
				fmt.Fprintln(os.Stderr, "benchfailover: redis-server not installed; skipping the Sentinel anchor")
				os.RemoveAll(dir)
				continue
			}
			sys = &sentinelCluster{dir: dir, downAfter: cfg.downAfter, waitTimeout: cfg.waitTimeout}
		default:
			os.RemoveAll(dir)
			return fmt.Errorf("unknown system %q", name)
		}
		r, err := measure(ctx, cfg, sys)
		sys.stop()
		if cfg.keep {
			fmt.Fprintf(os.Stderr, "%s: data and logs kept in %s\n", name, dir)
		} else {
			os.RemoveAll(dir)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		results[name] = r
		order = append(order, name)
	}
	printTable(cfg, order, results)
	return nil
}

// measure starts sys, runs the load, performs cfg.kills failovers and
// computes the windows.
func measure(ctx context.Context, cfg config, sys system) (*result, error) {
	fmt.Fprintf(os.Stderr, "%s: starting\n", sys.name())
	if err := sys.start(ctx); err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	l := &load{sys: sys, t0: time.Now(), backoff: cfg.backoff, interval: cfg.interval}
	t0Wall := l.t0
	lctx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	l.run(lctx, cfg.clients)
	if err := benchkit.Poll(ctx, "the first acknowledged write", cfg.waitTimeout, func(context.Context) error {
		if a, _ := l.last(); a == "" {
			return benchkit.ErrNotYet
		}
		return nil
	}); err != nil {
		return nil, err
	}
	benchkit.Sleep(ctx, cfg.settle)
	var kills []time.Duration
	var firstKillWall time.Time
	var killedFirst *benchkit.Proc
	for i := 0; i < cfg.kills; i++ {
		p, err := sys.primary(ctx)
		if err != nil {
			return nil, fmt.Errorf("kill %d: %w", i+1, err)
		}
		killAt, killWall := time.Since(l.t0), time.Now()
		if err := p.Kill(); err != nil {
			return nil, err
		}
		if i == 0 {
			firstKillWall, killedFirst = killWall, p
		}
		kills = append(kills, killAt)
		if err := benchkit.Poll(ctx, "writes acknowledged by a new primary", cfg.waitTimeout, func(context.Context) error {
			if a, at := l.last(); a == p.Addr || at <= killAt {
				return benchkit.ErrNotYet
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("kill %d of %s: %w", i+1, p.Name, err)
		}
		_, back := l.last()
		if err := p.Start(); err != nil {
			return nil, err
		}
		if err := sys.waitReplica(ctx, p); err != nil {
			return nil, fmt.Errorf("kill %d: restart: %w", i+1, err)
		}
		fmt.Fprintf(os.Stderr, "%s: kill %d/%d of %s: writes back after %v\n", sys.name(), i+1, cfg.kills, p.Name,
			(back - killAt).Round(time.Millisecond))
		benchkit.Sleep(ctx, cfg.settle)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	end := time.Since(l.t0)
	stopLoad()
	l.wg.Wait()
	var acks []time.Duration
	for _, a := range l.acks {
		acks = append(acks, a...)
	}
	sort.Slice(acks, func(i, j int) bool { return acks[i] < acks[j] })
	r := &result{acked: len(acks), ambiguous: l.ambiguous.Load(), rejected: l.rejected.Load(), other: l.other.Load()}
	for i, k := range kills {
		to := min(k+cfg.window, end)
		if i+1 < len(kills) {
			to = min(to, kills[i+1])
		}
		r.windows = append(r.windows, benchkit.LongestGap(acks, k, to))
	}
	if b, ok := sys.(*batonCluster); ok && len(kills) > 0 {
		var firstAck time.Time
		if i := sort.Search(len(acks), func(i int) bool { return acks[i] > kills[0] }); i < len(acks) {
			firstAck = t0Wall.Add(acks[i])
		}
		r.breakdown = b.breakdown(firstKillWall, killedFirst, firstAck)
	}
	return r, nil
}

// printTable writes the Markdown report.
func printTable(cfg config, order []string, rs map[string]*result) {
	fmt.Printf("%d kill -9 failovers per system, %d writers (SET of unique keys, one every %v each), %d cores, loopback, one machine\n\n",
		cfg.kills, cfg.clients, cfg.interval, runtime.NumCPU())
	fmt.Print("| measurement |")
	for _, n := range order {
		fmt.Printf(" %s |", n)
	}
	anchor := rs["redis-sentinel"] != nil && rs["baton"] != nil
	if anchor {
		fmt.Print(" baton/sentinel |")
	}
	fmt.Print("\n|---|")
	for range order {
		fmt.Print("---:|")
	}
	if anchor {
		fmt.Print("---:|")
	}
	fmt.Println()
	row := func(label string, f func(*result) string, ratio func(*result) float64) {
		fmt.Printf("| %s |", label)
		for _, n := range order {
			fmt.Printf(" %s |", f(rs[n]))
		}
		if anchor {
			if ratio != nil && ratio(rs["redis-sentinel"]) > 0 {
				fmt.Printf(" %.2f |", ratio(rs["baton"])/ratio(rs["redis-sentinel"]))
			} else {
				fmt.Print(" |")
			}
		}
		fmt.Println()
	}
	for _, q := range []struct {
		label string
		q     float64
	}{{"p50", 0.5}, {"p99", 0.99}, {"max", 1}} {
		q := q
		f := func(r *result) float64 {
			return float64(benchkit.Percentile(append([]time.Duration{}, r.windows...), q.q))
		}
		row("write-unavailability window "+q.label+", ms", func(r *result) string { return benchkit.Ms(time.Duration(f(r))) }, f)
	}
	row("acknowledged writes", func(r *result) string { return fmt.Sprint(r.acked) }, nil)
	row("ambiguous writes (no reply, or NOREPL)", func(r *result) string { return fmt.Sprint(r.ambiguous) }, nil)
	row("writes refused before execution, retried", func(r *result) string { return fmt.Sprint(r.rejected) }, nil)
	row("other write errors", func(r *result) string { return fmt.Sprint(r.other) }, nil)
	fmt.Println()
	fmt.Printf("Settings: baton --down-after %v --lease %v --sync-replicas %d, probe interval default (100ms);\n",
		cfg.downAfter, cfg.lease, cfg.syncReplicas)
	fmt.Printf("Sentinel down-after-milliseconds %d, failover-timeout 10000, quorum 2; Redis has no --sync-replicas\n",
		cfg.downAfter.Milliseconds())
	fmt.Println("equivalent here (asynchronous replication). Both: appendonly/fsync everysec. Window = longest gap")
	fmt.Printf("between consecutive acknowledged writes from the kill to min(kill+%v, next kill); percentiles are\n", cfg.window)
	fmt.Printf("nearest-rank over the %d windows (p99 of 20 is the max). Clients look the primary up again after any error\n", cfg.kills)
	fmt.Printf("(Baton: BATON.TOPOLOGY LOCAL on every coordinator, newest epoch; Sentinel: get-master-addr-by-name) after %v.\n", cfg.backoff)
	if b := rs["baton"]; b != nil {
		max := benchkit.Percentile(append([]time.Duration{}, b.windows...), 1)
		verdict := "met"
		if max >= 2*time.Second {
			verdict = "NOT met"
		}
		fmt.Printf("\nTarget (issue): baton max window < 2 s with --down-after 1s: %s (max %s ms).\n", verdict, benchkit.Ms(max))
		if len(b.breakdown) > 0 {
			fmt.Println("\nBaton, first failover, from the coordinators' and nodes' logs (wall clock, ms resolution):")
			fmt.Println()
			fmt.Println("| step | ms since kill |")
			fmt.Println("|---|---:|")
			for _, s := range b.breakdown {
				fmt.Printf("| %s | %s |\n", s.what, s.at)
			}
		}
	}
	if rs["redis-sentinel"] == nil {
		fmt.Println("\nRedis Sentinel anchor not measured (not requested or redis-server missing): Baton's numbers alone.")
	}
}
