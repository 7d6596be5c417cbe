// Package check holds the chaos suite's checkers: pure functions over a
// recorded history (and the final state and audit logs of the cluster)
// that say whether Baton kept its promises. They know nothing about how
// the history was produced.
package check

import "time"

// Status is what a client knows about one operation's outcome.
type Status int

// Outcomes: OK (acknowledged), Fail (definitely not applied: refused before
// execution, e.g. -TRYAGAIN, -READONLY, connection refused) and Info
// (unknown: a timeout, a connection lost before the reply, the proxy's
// ambiguous-write error).
const (
	OK Status = iota
	Fail
	Info
)

// Op is one client operation of a history.
type Op struct {
	// Process is the client that issued it; a client's operations never
	// overlap in time.
	Process int
	// Kind is one of: "get", "set", "cas" (registers), "append" (RPUSH of
	// a unique value to a list), "add" (SADD of a unique value), "incr".
	Kind string
	Key  string
	// Value is the value written (set, append, add), or the new value of a
	// cas; Expect is the value a cas compares with ("" = key absent).
	Value, Expect string
	// Out is what a get returned ("" for a missing key: Missing is then
	// true), or a cas's success ("1"/"0"), or incr's result.
	Out     string
	Missing bool
	// Call and Return are monotonic offsets from the start of the run.
	// Return is meaningless for Info operations (they may take effect at
	// any time after Call).
	Call, Return time.Duration
	Status       Status
	// Err is the error text for Fail and Info operations.
	Err string
}

// Final is the cluster's state read at the end of a run (from the final
// primary, after healing and catch-up).
type Final struct {
	Lists    map[string][]string
	Sets     map[string][]string
	Counters map[string]int64
}

// LeaseWindow is one line of a node's lease log (node/coord.LeaseLog):
// the node could accept writes of Epoch in [From, Until) (wall clock).
// ParseLeaseLog already applies the log's "end" records.
type LeaseWindow struct {
	Node        string
	Epoch       uint64
	From, Until time.Time
}

// Result is one checker's verdict.
type Result struct {
	// Name is the checker's name ("linearizable", "lost-writes",
	// "counters", "split-brain", "availability").
	Name string
	// OK is false when the checker found a violation (or, for some
	// checkers, had nothing to check: see each checker).
	OK bool
	// Unknown is true when the checker could not decide in the time it
	// was given (porcupine timed out). OK is then true — no violation was
	// found, and a timeout is not evidence of one — but the verdict is not
	// a proof, and reports should show "unknown" rather than "yes".
	Unknown bool
	// Summary is one line for the summary table; Details lists the
	// violations found (bounded) or notable facts.
	Summary string
	Details []string
	// Metrics are numbers the report shows (e.g. "max_gap_ms",
	// "errors_fail", "lost").
	Metrics map[string]float64
	// Artifacts are files for the report directory (e.g.
	// "linearizability.html", porcupine's visualization on failure).
	Artifacts map[string][]byte
}
