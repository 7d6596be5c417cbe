// Package chaos is Baton's chaos suite: it starts an appliance (Target;
// "local" is 3 coordinators, 3 nodes and a proxy on loopback with an
// embedded toxiproxy on every link), runs workloads through the proxy
// while a Nemesis injects and heals faults — toxics, partitions, kill -9,
// SIGSTOP, hung clients, coordinated takeovers and composites of them —
// and then runs the checkers of package check over the recorded history,
// the final state and the nodes' lease logs.
//
// Shape (after etcd's robustness tests): one Nemesis interface (Name,
// Available, Inject, Heal); the target's health is checked before every
// Inject and after every Heal; every choice a nemesis makes (whom to hit,
// the toxic's parameters, hold and quiet times) comes from a PRNG seeded
// by the run's seed, drawing the same numbers whatever the cluster's
// state, so a seed reproduces a run's schedule.
//
// Outcomes are classified the Jepsen way (Classify): OK, Fail only when
// the command surely did not apply, Info otherwise. Run writes report.json
// and report.html, and per run the processes' logs, the lease logs, the
// history (history.jsonl) and the checkers' artifacts.
package chaos
