package integration

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/chaos"
)

// chaosShort is each scenario's fault-injection time in these tests: one
// inject/heal cycle (a run always injects at least one fault).
const chaosShort = 2 * time.Second

// runChaos runs one scenario, seed 1, on a fresh local target with
// --sync-replicas 1 and returns its run report; progress lines go to the
// test log.
func runChaos(t *testing.T, scenario string, env ...string) chaos.RunReport {
	t.Helper()
	return runChaosSync(t, scenario, 1, env...)
}

// runChaosSync is runChaos with the nodes' --sync-replicas.
func runChaosSync(t *testing.T, scenario string, syncReplicas int, env ...string) chaos.RunReport {
	t.Helper()
	rep, err := chaos.Run(context.Background(), chaos.Options{
		Bin: batonBinary(t), Out: t.TempDir(), Scenarios: []string{scenario}, Seed: 1,
		Duration: chaosShort, SyncReplicas: syncReplicas, Env: env, LinearizableTimeout: 30 * time.Second,
		Progress: writerFunc(func(b []byte) (int, error) {
			t.Log(strings.TrimSpace(string(b)))
			return len(b), nil
		}),
	})
	if err != nil {
		t.Fatalf("chaos run %s: %v", scenario, err)
	}
	if len(rep.Runs) != 1 {
		t.Fatalf("chaos run %s: %d runs, want 1", scenario, len(rep.Runs))
	}
	return rep.Runs[0]
}

// logFailures reports every failed checker of a run with its details.
func logFailures(t *testing.T, run chaos.RunReport) {
	t.Helper()
	if run.Error != "" {
		t.Errorf("%s: %s", run.Scenario, run.Error)
	}
	for _, f := range run.Faults {
		t.Logf("fault %d: %s (error %q)", f.N, f.What, f.Error)
	}
	for _, r := range run.Results {
		if !r.OK {
			t.Errorf("%s: checker %s failed: %s", run.Scenario, r.Name, r.Summary)
			for i, d := range r.Details {
				if i == 10 {
					t.Logf("  … %d more", len(r.Details)-i)
					break
				}
				t.Logf("  %s", d)
			}
		}
	}
}

// Test_Chaos_Scenarios runs a short version of every scenario with
// --sync-replicas 1 and asserts that every checker passes: linearizable
// registers, no lost acknowledged write, exact counters, no two nodes
// holding a write lease at once, writes available, every node's DIGEST
// equal once healed, and the appliance healthy before and after every
// fault. Besides the lease windows, split-brain-writes checks the writes
// the nodes actually executed (their --write-log).
func Test_Chaos_Scenarios(t *testing.T) {
	for _, name := range chaos.ScenarioNames() {
		t.Run(name, func(t *testing.T) {
			run := runChaos(t, name)
			if run.Skipped != "" {
				t.Fatalf("skipped on the local target: %s", run.Skipped)
			}
			if len(run.Faults) == 0 || run.Ops == 0 {
				t.Errorf("%d faults, %d operations: the run tested nothing", len(run.Faults), run.Ops)
			}
			if !run.Passed {
				logFailures(t, run)
			}
			digests := false
			for _, r := range run.Results {
				digests = digests || r.Name == "digests"
			}
			if !digests {
				t.Errorf("no digests result: the final DIGEST comparison did not run")
			}
		})
	}
}

// Test_Chaos_CheckersCatchUnsafeAck proves the checkers can fail: with the
// test-only switch BATON_TEST_UNSAFE_ACK_BEFORE_SYNC=1 the nodes
// acknowledge writes before their --sync-replicas acknowledgements, so a
// kill -9 of a primary whose replication is black-holed loses
// acknowledged writes, and the suite must say so.
func Test_Chaos_CheckersCatchUnsafeAck(t *testing.T) {
	run := runChaos(t, "failover-replicas-behind", "BATON_TEST_UNSAFE_ACK_BEFORE_SYNC=1")
	if run.Passed {
		t.Fatal("the suite passed a build that acknowledges writes before replicating them")
	}
	for _, r := range run.Results {
		if r.Name == "lost-writes" {
			if r.OK || r.Metrics["lost"] == 0 {
				t.Fatalf("lost-writes: %s, want lost acknowledged writes", r.Summary)
			}
			t.Logf("caught: %s", r.Summary)
		}
	}
	if run.LostWrites == 0 {
		t.Errorf("the summary shows %d lost writes", run.LostWrites)
	}
}

// Test_Chaos_CheckersCatchSplitBrain proves the executed-writes checker
// can fail: with the test-only switch BATON_TEST_UNSAFE_IGNORE_LEASE=1 the
// nodes execute commands without a write lease, so in scenario two-proxies
// the old primary, cut off from the coordinators, keeps executing the cut
// proxy's writes while the coordinators' new primary executes the other
// proxy's: two nodes writing at once, which split-brain-writes must
// report (the lease checker cannot: no lease overlaps, the old primary
// simply ignores that it has none). Without --sync-replicas, so the old
// primary's clients are not held up waiting for acks of replicas that
// left it: it writes on for the rest of the fault.
func Test_Chaos_CheckersCatchSplitBrain(t *testing.T) {
	run := runChaosSync(t, "two-proxies", 0, "BATON_TEST_UNSAFE_IGNORE_LEASE=1")
	if run.Passed {
		t.Fatal("the suite passed a build whose primaries write without a lease")
	}
	found := false
	for _, r := range run.Results {
		if r.Name == "split-brain-writes" {
			found = true
			if r.OK || r.Metrics["overlaps"] == 0 {
				t.Fatalf("split-brain-writes: %s, want overlapping writes of two nodes", r.Summary)
			}
			t.Logf("caught: %s; %q", r.Summary, r.Details)
		}
	}
	if !found {
		t.Fatal("no split-brain-writes result")
	}
}

// Test_Chaos_ComposeTargetOutsideTheAppliance: the compose target runs
// from the appliance's chaos service; started anywhere else it says so
// (the run fails with the reason; exit code 1), without hanging.
func Test_Chaos_ComposeTargetOutsideTheAppliance(t *testing.T) {
	t.Setenv("BATON_DOCKER_SOCKET", filepath.Join(t.TempDir(), "no-docker.sock"))
	rep, err := chaos.Run(context.Background(), chaos.Options{Out: t.TempDir(), Target: "compose",
		Scenarios: []string{"takeover"}, Duration: time.Second})
	if err != nil || rep.Passed || len(rep.Runs) != 1 || !strings.Contains(rep.Runs[0].Error, "chaos service") {
		t.Fatalf("Run with target compose outside the appliance: %v, passed %v, runs %+v; want a failed run naming the chaos service", err, rep != nil && rep.Passed, rep)
	}
	cmd := exec.Command(batonBinary(t), "chaos", "run", "--target", "compose", "--scenario", "takeover", "--out", t.TempDir())
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "chaos service") {
		t.Fatalf("baton chaos run --target compose: %v, output %q; want exit code 1 naming the chaos service", err, out)
	}
}
