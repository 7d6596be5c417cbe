package chaos

import "time"

// moreScenarios are issue 16's "what it must show": crashes at the worst
// moments, an asymmetric partition, a frozen primary beside a cut-off
// replica, and a stale proxy beside a current one.
func moreScenarios() []Scenario {
	ttl := func(w Workloads) Workloads {
		w.TTLs = max(w.TTLs, 2)
		return w
	}
	both := []string{"both"}
	return []Scenario{
		{Name: "kill9-restart-ttl", Doc: "kill -9 of the primary and restart at once (before any failover) under pipelined SET PX / PEXPIRE load: the journaled expiry deletions replay",
			Nemesis: func(e *Env) Nemesis { return KillRestart(e, RolePrimary) }, Hold: time.Second, Workloads: ttl},
		{Name: "kill9-takeover-target", Doc: "coordinated takeover to a replica; kill -9 of that replica as soon as the coordinators' topology shows the commit, restarted on heal",
			Nemesis: func(e *Env) Nemesis { return KillTakeoverTarget(e) }, Hold: 3 * time.Second},
		{Name: "partition-asymmetric", Doc: "{primary, replica R, proxies} | {coordinators, replica Q}: every link between the sides down, P↔R and proxies→P up; the coordinators fail over to Q",
			Nemesis: func(e *Env) Nemesis { return Asymmetric(e) }, Hold: 4 * time.Second},
		{Name: "pause-primary-replica-cut", Doc: "a replica cut off from the coordinators (both ways), then SIGSTOP of the primary",
			Nemesis: func(e *Env) Nemesis {
				return Composite("pause-primary-replica-cut", 200*time.Millisecond,
					Partition(e, "replica-cut", []string{GroupReplicaCoordAll}, both), Pause(e, RolePrimary))
			}, Hold: 3 * time.Second},
		{Name: "two-proxies", Doc: "clients on two proxies; one proxy cut off from the coordinators, then the primary too: the coordinators fail over, the cut proxy cannot know",
			Nemesis: func(e *Env) Nemesis {
				return Composite("two-proxies", 300*time.Millisecond,
					Partition(e, "proxy-cut", []string{GroupProxyCoord}, both),
					Partition(e, "primary-cut", []string{GroupPrimaryCoord}, both))
			}, Hold: 4 * time.Second, Proxies: 2},
	}
}
