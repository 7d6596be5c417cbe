package main

import (
	"bufio"
	"os"
	"strings"
	"time"

	"github.com/batonkv/baton/internal/benchkit"
)

// step is one line of the failover breakdown.
type step struct {
	what string
	at   string // ms since the kill, or "n/a"
}

// logEvent returns the time of the first line at or after since in p's log
// (slog text format, time=RFC3339) whose message contains msg, and whether
// one was found.
func logEvent(p *benchkit.Proc, since time.Time, msg string) (time.Time, bool) {
	f, err := os.Open(p.Log)
	if err != nil {
		return time.Time{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, msg) || !strings.HasPrefix(line, "time=") {
			continue
		}
		ts, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || t.Before(since) {
			continue
		}
		return t, true
	}
	return time.Time{}, false
}

// firstEvent is logEvent over several processes: the earliest match.
func firstEvent(ps []*benchkit.Proc, since time.Time, msg string) (time.Time, bool) {
	var best time.Time
	found := false
	for _, p := range ps {
		if t, ok := logEvent(p, since, msg); ok && (!found || t.Before(best)) {
			best, found = t, true
		}
	}
	return best, found
}

// breakdown splits the first failover's window using the log lines the
// coordinator leader and the nodes write at info level. Log timestamps have
// millisecond resolution; the steps are points in time since the kill, not
// durations, so a missing line leaves the others meaningful. The lease wait
// is logged only when the old primary's lease outlived detection.
func (b *batonCluster) breakdown(kill time.Time, killed *benchkit.Proc, firstAck time.Time) []step {
	since := func(t time.Time, ok bool) string {
		if !ok {
			return "n/a"
		}
		return benchkit.Ms(t.Sub(kill))
	}
	var others []*benchkit.Proc
	for _, p := range b.Nodes {
		if p != killed {
			others = append(others, p)
		}
	}
	var out []step
	t, ok := firstEvent(b.Coords, kill, "failover: waiting for the primary's lease to end")
	out = append(out, step{"primary declared down, waiting for its lease (logged only if a lease is left; expected ≈ down-after)", since(t, ok)})
	t, ok = firstEvent(b.Coords, kill, "failover committed")
	out = append(out, step{"epoch+1 committed in Raft (detection + lease wait + re-probe + commit)", since(t, ok)})
	t, ok = firstEvent(others, kill, "topology names this node primary; promoting")
	out = append(out, step{"new primary promotes itself (watch stream)", since(t, ok)})
	t, ok = firstEvent(others, kill, "following the topology's primary")
	out = append(out, step{"other replica repoints to the new primary", since(t, ok)})
	out = append(out, step{"first write acknowledged again (lease granted, sync replica attached, client rediscovered)", since(firstAck, !firstAck.IsZero())})
	return out
}
