package main

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/batonkv/baton/internal/benchkit"
)

// pct is the nearest-rank q-quantile of ds in milliseconds (ds untouched).
func pct(ds []time.Duration, q float64) string {
	return benchkit.Ms(benchkit.Percentile(append([]time.Duration{}, ds...), q))
}

// printTable writes the Markdown report.
func printTable(cfg config, names []string, rs map[string]*result, load0, load1 string, anchorSkipped bool) {
	fmt.Printf("%d switches per scenario, %d writers (RPUSH of their own sequence, one every %v each), %d cores, loopback, one machine, load average %s before / %s after\n\n",
		cfg.k, cfg.clients, cfg.interval, runtime.NumCPU(), load0, load1)
	fmt.Println("| scenario | takeovers | errors | pause p50 ms | p99 | max | ack gap p50 ms | max | takeover total p50 ms | max | force-closed (sum) | target met? |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, n := range names {
		r := rs[n]
		if r == nil {
			continue
		}
		var totals []time.Duration
		ok, closed := 0, int64(0)
		for _, s := range r.switches {
			totals = append(totals, s.total)
			closed += s.forceClosed
			if s.ok {
				ok++
			}
		}
		fc := fmt.Sprint(closed)
		if n == "redis-failover" {
			fc = "n/a"
		}
		fmt.Printf("| %s | %d/%d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.label, ok, len(r.switches),
			errSummary(r.errs), pct(r.pauses, 0.5), pct(r.pauses, 0.99), pct(r.pauses, 1), pct(r.gaps, 0.5), pct(r.gaps, 1),
			pct(totals, 0.5), pct(totals, 1), fc, verdict(r, ok))
	}
	fmt.Println()
	fmt.Printf("Baton: 3 coordinators, 3 nodes (--sync-replicas %d), writers through one `baton proxy`; BATON.TAKEOVER TO n2, TO n1, …\n", cfg.syncReplicas)
	fmt.Printf("TIMEOUT %d; hung clients: %d connections straight to the primary, each a pipeline of 16 GETs of a 512 KB value,\n", cfg.timeout.Milliseconds(), cfg.hung)
	fmt.Printf("SO_RCVBUF 4 KB, never read, GRACE %d. Redis: one primary + one replica, appendonly everysec, writers straight to the\n", cfg.grace.Milliseconds())
	fmt.Printf("primary, FAILOVER TIMEOUT %d, a writer that gets an error looks the primary up again (ROLE on both) after %v.\n", cfg.timeout.Milliseconds(), cfg.backoff)
	fmt.Printf("Window of a switch: from the command to min(end + %v, next switch); %v of load between switches. Pause = longest\n", cfg.tail, cfg.settle)
	fmt.Println("append in flight in the window (first send to acknowledgement; a refused append retried on the new primary counts")
	fmt.Println("as one); ack gap = longest gap between consecutive acknowledgements (all writers). Takeover total: Baton's report")
	fmt.Printf("total_ms; Redis: FAILOVER sent until INFO says no-failover (polled every 2 ms). Percentiles are nearest-rank over the\n%d switches (with 20, p99 is the max). Errors count failed attempts, by kind.\n", cfg.k)
	fmt.Println()
	for _, n := range names {
		if r := rs[n]; r != nil {
			fmt.Printf("- %s: %d appends acknowledged, %s.%s%s%s\n", n, r.acked, listCheck(r), stepMedians(r), prepNote(r), unplannedNote(r))
		}
	}
	if anchorSkipped {
		fmt.Println("\nRedis FAILOVER anchor not measured: redis-server is not installed.")
	}
}

// errSummary is the error count with its kinds, e.g. "40 (READONLY 40)".
func errSummary(errs map[string]int) string {
	total := 0
	var kinds []string
	for k, v := range errs {
		total += v
		kinds = append(kinds, fmt.Sprintf("%s %d", k, v))
	}
	if total == 0 {
		return "0"
	}
	sort.Strings(kinds)
	return fmt.Sprintf("%d (%s)", total, strings.Join(kinds, ", "))
}

// verdict is the target column: zero errors, every switch committed, no
// acknowledged append lost, max pause under the scenario's limit.
func verdict(r *result, ok int) string {
	if r.limit == 0 {
		return "anchor"
	}
	var why []string
	if n := r.errCount(); n > 0 {
		why = append(why, fmt.Sprintf("%d errors", n))
	}
	if ok < len(r.switches) {
		why = append(why, fmt.Sprintf("%d rolled back", len(r.switches)-ok))
	}
	if len(r.bad) > 0 {
		why = append(why, fmt.Sprintf("%d writers lost appends", len(r.bad)))
	}
	if m := benchkit.Percentile(append([]time.Duration{}, r.pauses...), 1); m >= r.limit {
		why = append(why, fmt.Sprintf("max pause ≥ %s ms", benchkit.Ms(r.limit)))
	}
	if len(why) > 0 {
		return "**no**: " + strings.Join(why, ", ")
	}
	return fmt.Sprintf("yes (< %s ms, 0 errors)", benchkit.Ms(r.limit))
}

// listCheck says whether every writer's list held its acknowledged appends.
func listCheck(r *result) string {
	if len(r.bad) == 0 {
		return "all present on the final primary, in order, none duplicated"
	}
	return fmt.Sprintf("%d writers' lists WRONG on the final primary (first: %s)", len(r.bad), r.bad[0])
}

// stepMedians is the median of each takeover step over the committed
// takeovers, in the report's order ("" for Redis).
func stepMedians(r *result) string {
	by := map[string][]time.Duration{}
	var order []string
	for _, s := range r.switches {
		if !s.ok {
			continue
		}
		for _, st := range s.steps {
			if _, seen := by[st.Name]; !seen {
				order = append(order, st.Name)
			}
			by[st.Name] = append(by[st.Name], time.Duration(st.Ms*float64(time.Millisecond)))
		}
	}
	if len(order) == 0 {
		return ""
	}
	var parts []string
	for _, name := range order {
		parts = append(parts, fmt.Sprintf("%s %.1f", name, float64(benchkit.Percentile(by[name], 0.5).Microseconds())/1000))
	}
	return " Takeover steps, median ms: " + strings.Join(parts, ", ") + "."
}

// prepNote reports how long writes stalled while the hung clients were
// being connected (before each takeover, outside its window).
func prepNote(r *result) string {
	if len(r.prepGaps) == 0 {
		return ""
	}
	return fmt.Sprintf(" Connecting the hung clients (before each takeover, outside its window) stalled writes: longest ack gap p50 %s ms, max %s ms.",
		pct(r.prepGaps, 0.5), pct(r.prepGaps, 1))
}

// unplannedNote reports failovers the coordinators made on their own.
func unplannedNote(r *result) string {
	if r.unplanned == 0 {
		return ""
	}
	return fmt.Sprintf(" **%d automatic failover(s)** happened on their own (the primary missed probes for --down-after; see stderr).", r.unplanned)
}
