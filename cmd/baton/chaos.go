package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/batonkv/baton/chaos"
)

// runChaos runs `baton chaos <run|list>`: the chaos suite against an
// appliance it starts (--target local) or the compose appliance it runs
// in (--target compose, from the compose service "chaos").
func runChaos(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "list" {
		for _, s := range chaos.Scenarios() {
			fmt.Fprintf(stdout, "%-26s %s\n", s.Name, s.Doc)
		}
		return 0
	}
	if len(args) == 0 || args[0] != "run" {
		fmt.Fprintln(stderr, "Usage: baton chaos run [flags]   (baton chaos run --help)\n       baton chaos list          (the scenarios)")
		return 2
	}
	return runChaosRun(args[1:], stdout, stderr)
}

// runChaosRun parses `baton chaos run`'s flags, runs the suite and prints
// the summary table; the exit code is 1 if any checker failed.
func runChaosRun(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("chaos run", stderr)
	scenario := fs.String("scenario", "all", "scenarios to run, comma-separated, or all (baton chaos list names them)")
	seed := fs.Uint64("seed", 0, "seed of the first run; the same seed reproduces a run's fault schedule (0: a random seed, printed)")
	seeds := fs.Int("seeds", 1, "runs per scenario, with consecutive seeds from --seed")
	duration := fs.Duration("duration", 30*time.Second, "how long each run keeps injecting faults (at least one fault per run)")
	target := fs.String("target", "local", "local: start 3 coordinators, 3 nodes and a proxy of --bin with toxiproxy on every link; compose: the running compose appliance (docker-compose.yml), from its \"chaos\" service (make chaos-compose, make chaos-smoke): containers killed, paused and restarted through the Docker Engine socket, toxics through the toxiproxy container")
	out := fs.String("out", "", "report directory: report.json, report.html and each run's logs, lease logs, history and check artifacts (default: ./baton-chaos-<time>)")
	syncReplicas := fs.Int("sync-replicas", 1, "every node's --sync-replicas; with 0 the report counts the acknowledged writes failovers lost")
	bin := fs.String("bin", "", "baton binary the local target runs (default: this executable)")
	linTimeout := fs.Duration("linearizable-timeout", time.Minute, "bound on porcupine's search per run (a timeout reports linearizable: unknown)")
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		fmt.Fprintln(stderr, "\nEach run starts a fresh appliance, runs register, list, set and counter workloads through the proxy, injects and")
		fmt.Fprintln(stderr, "heals the scenario's faults (health checked before and after each), then checks: linearizable, lost-writes,")
		fmt.Fprintln(stderr, "counters, split-brain (the nodes' lease logs), availability and health. Exit code 1 if any check failed.")
		fmt.Fprintln(stderr, "\nScenarios:")
		for _, s := range chaos.Scenarios() {
			fmt.Fprintf(stderr, "  %-26s %s\n", s.Name, s.Doc)
		}
	}
	if err := parseWithEnv(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "baton chaos run:", err)
		return 2
	}
	o := chaos.Options{Bin: *bin, Out: *out, Scenarios: strings.Split(*scenario, ","), Seed: *seed, Seeds: *seeds,
		Duration: *duration, Target: *target, SyncReplicas: *syncReplicas, LinearizableTimeout: *linTimeout, Progress: stdout}
	if o.Bin == "" && o.Target == "local" {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintln(stderr, "baton chaos run: own executable:", err)
			return 1
		}
		o.Bin = exe
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano()%1_000_000) + 1
	}
	if o.Out == "" {
		o.Out = filepath.Join(".", "baton-chaos-"+time.Now().Format("20060102-150405"))
	}
	return chaosRunAndReport(o, stdout, stderr)
}

// chaosRunAndReport runs the suite until done or SIGINT/SIGTERM and prints
// the summary table.
func chaosRunAndReport(o chaos.Options, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rep, err := chaos.Run(ctx, o)
	if rep == nil {
		fmt.Fprintln(stderr, "baton chaos run:", err)
		return 2
	}
	fmt.Fprintln(stdout)
	rep.Summary(stdout)
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(o.Out, "report.html"))
	if err != nil {
		fmt.Fprintln(stderr, "baton chaos run:", err)
		return 1
	}
	if !rep.Passed {
		return 1
	}
	return 0
}
