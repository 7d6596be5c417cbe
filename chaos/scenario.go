package chaos

import (
	"math/rand/v2"
	"time"
)

// Scenario is one chaos experiment: a nemesis (built against the run's
// target and PRNG) injected and healed in cycles while the workloads run.
type Scenario struct {
	Name string
	// Doc is one line for `baton chaos list` and the report.
	Doc string
	// Nemesis builds the scenario's nemesis.
	Nemesis func(env *Env) Nemesis
	// Hold is how long a fault stays before Heal (the PRNG draws 50–150%
	// of it each cycle).
	Hold time.Duration
	// Proxies is how many proxies the workloads spread over (0: one).
	Proxies int
	// Workloads, when set, adjusts the run's workloads for the scenario.
	Workloads func(Workloads) Workloads
}

// Directions a one-way fault may take; "both" is a full fault.
var (
	anyStream    = []string{"upstream", "downstream", "both"}
	toxicGroups  = []string{GroupClient, GroupPrimaryNode, GroupReplication, GroupPrimaryCoord, GroupReplicaCoord, GroupRaftLeader}
	cutGroups    = []string{GroupPrimaryAll, GroupPrimaryCoord, GroupPrimaryNode, GroupReplicaCoord, GroupRaftLeader, GroupReplication}
	processRoles = []string{RolePrimary, RolePrimary, RoleReplica, RoleRaftLeader, RoleRaftFollower, RoleProxy}
)

// Scenarios returns every scenario, one per nemesis and the composites.
func Scenarios() []Scenario {
	toxic := func(name, typ string, attrs func(r *rand.Rand) map[string]any) func(*Env) Nemesis {
		return func(e *Env) Nemesis { return LinkToxic(e, name, typ, toxicGroups, anyStream, attrs) }
	}
	type basic struct {
		name, doc string
		nemesis   func(*Env) Nemesis
		hold      time.Duration
	}
	var out []Scenario
	for _, b := range []basic{
		{"latency", "latency with jitter on a group of links", toxic("latency", "latency", func(r *rand.Rand) map[string]any {
			return map[string]any{"latency": between(r, 20, 300), "jitter": between(r, 0, 100)}
		}), 2 * time.Second},
		{"bandwidth", "bandwidth limit on a group of links", toxic("bandwidth", "bandwidth", func(r *rand.Rand) map[string]any {
			return map[string]any{"rate": between(r, 8, 256)}
		}), 2 * time.Second},
		{"timeout", "black hole (data dropped; closed after the timeout if any)", toxic("timeout", "timeout", func(r *rand.Rand) map[string]any {
			return map[string]any{"timeout": []int{0, between(r, 200, 2000)}[r.IntN(2)]}
		}), 2 * time.Second},
		{"reset-peer", "connections reset (RST) after a delay", toxic("reset_peer", "reset_peer", func(r *rand.Rand) map[string]any {
			return map[string]any{"timeout": between(r, 0, 500)}
		}), 2 * time.Second},
		{"slow-close", "connections close late", toxic("slow_close", "slow_close", func(r *rand.Rand) map[string]any {
			return map[string]any{"delay": between(r, 100, 2000)}
		}), 2 * time.Second},
		{"limit-data", "connections close after a number of bytes", toxic("limit_data", "limit_data", func(r *rand.Rand) map[string]any {
			return map[string]any{"bytes": between(r, 512, 64<<10)}
		}), 2 * time.Second},
		{"partition", "links down (both ways) or black-holed one way: the primary, a replica or the Raft leader cut off",
			func(e *Env) Nemesis { return Partition(e, "partition", cutGroups, anyStream) }, 3 * time.Second},
		{"kill9", "kill -9 of a process (primary, replica, coordinator, proxy), restarted on heal",
			func(e *Env) Nemesis { return Kill9(e, processRoles...) }, 3 * time.Second},
		{"kill9-primary", "kill -9 of the primary, restarted on heal (the coordinators fail over)",
			func(e *Env) Nemesis { return Kill9(e, RolePrimary) }, 3 * time.Second},
		{"pause", "SIGSTOP of a process, SIGCONT on heal",
			func(e *Env) Nemesis { return Pause(e, RolePrimary, RolePrimary, RoleReplica, RoleRaftLeader) }, 3 * time.Second},
		{"hung-clients", "clients that pipeline and never read, straight to the primary, during a takeover",
			func(e *Env) Nemesis { return Composite("hung-clients", 0, HungClients(e), Takeover(e)) }, time.Second},
		{"hung-clients-proxy", "clients that pipeline and never read, through the proxy, during a takeover",
			func(e *Env) Nemesis { return Composite("hung-clients-proxy", 0, HungClientsProxy(e), Takeover(e)) }, time.Second},
		{"takeover", "coordinated takeover to a replica",
			func(e *Env) Nemesis { return Takeover(e) }, time.Second},
		{"takeover-repl-latency", "coordinated takeover while the replication stream is slow",
			func(e *Env) Nemesis {
				return Composite("takeover-repl-latency", 300*time.Millisecond,
					LinkToxic(e, "repl-latency", "latency", []string{GroupReplication}, []string{"downstream"}, func(r *rand.Rand) map[string]any {
						return map[string]any{"latency": between(r, 50, 200), "jitter": between(r, 0, 30)}
					}), Takeover(e))
			}, time.Second},
		{"failover-coordinator-loss", "kill -9 of the primary together with the coordinators' Raft leader",
			func(e *Env) Nemesis {
				return Composite("failover-coordinator-loss", 0, Kill9(e, RoleRaftLeader), Kill9(e, RolePrimary))
			}, 4 * time.Second},
		{"failover-replicas-behind", "replication black-holed, then kill -9 of the primary: replicas are behind at the failover",
			func(e *Env) Nemesis {
				return Composite("failover-replicas-behind", time.Second,
					Partition(e, "repl-blackhole", []string{GroupReplication}, []string{"downstream"}), Kill9(e, RolePrimary))
			}, 3 * time.Second},
		{"rolling-restart", "SIGTERM and restart of every process in turn, healthy in between",
			func(e *Env) Nemesis { return RollingRestart(e) }, 0},
	} {
		out = append(out, Scenario{Name: b.name, Doc: b.doc, Nemesis: b.nemesis, Hold: b.hold})
	}
	return append(out, moreScenarios()...)
}

// ScenarioNames lists the scenarios' names in order.
func ScenarioNames() []string {
	var out []string
	for _, s := range Scenarios() {
		out = append(out, s.Name)
	}
	return out
}
