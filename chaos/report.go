package chaos

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/batonkv/baton/chaos/check"
)

// Report is a whole chaos run: report.json is this structure.
type Report struct {
	Started      time.Time   `json:"started"`
	Target       string      `json:"target"`
	SyncReplicas int         `json:"sync_replicas"`
	Seed         uint64      `json:"seed"`
	Seeds        int         `json:"seeds"`
	Duration     string      `json:"duration"`
	Passed       bool        `json:"passed"`
	Runs         []RunReport `json:"runs"`
}

// RunReport is one scenario run with one seed.
type RunReport struct {
	Scenario string `json:"scenario"`
	Seed     uint64 `json:"seed"`
	// Dir holds the run's logs, lease logs, history and check artifacts,
	// relative to the report directory.
	Dir     string  `json:"dir"`
	Passed  bool    `json:"passed"`
	Skipped string  `json:"skipped,omitempty"`
	Error   string  `json:"error,omitempty"`
	Seconds float64 `json:"seconds"`
	Faults  []Fault `json:"faults"`
	// Operation outcomes of the workloads.
	Ops     int `json:"ops"`
	OKOps   int `json:"ok_ops"`
	FailOps int `json:"fail_ops"`
	InfoOps int `json:"info_ops"`
	// MaxGapMs is the longest time without an acknowledged write;
	// LostWrites the acknowledged appends and adds missing at the end
	// plus the acknowledged increments missing from the counters.
	MaxGapMs     float64        `json:"max_gap_ms"`
	LostWrites   int            `json:"lost_writes"`
	Linearizable string         `json:"linearizable"`
	Results      []ResultReport `json:"results"`
}

// ResultReport is one checker's verdict in the report.
type ResultReport struct {
	Name    string             `json:"name"`
	OK      bool               `json:"ok"`
	Unknown bool               `json:"unknown,omitempty"`
	Summary string             `json:"summary"`
	Details []string           `json:"details,omitempty"`
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Artifacts are files relative to the report directory.
	Artifacts []string `json:"artifacts,omitempty"`
}

// fill summarizes the operations and the checkers' results.
func (rr *RunReport) fill(ops []check.Op, results []check.Result) {
	rr.Ops = len(ops)
	for _, op := range ops {
		switch op.Status {
		case check.OK:
			rr.OKOps++
		case check.Fail:
			rr.FailOps++
		default:
			rr.InfoOps++
		}
	}
	rr.Passed = rr.Error == ""
	rr.Linearizable = "no"
	for _, r := range results {
		rr.Results = append(rr.Results, ResultReport{Name: r.Name, OK: r.OK, Unknown: r.Unknown,
			Summary: r.Summary, Details: r.Details, Metrics: r.Metrics})
		rr.Passed = rr.Passed && r.OK
		switch r.Name {
		case "linearizable":
			if r.OK {
				rr.Linearizable = map[bool]string{true: "unknown", false: "yes"}[r.Unknown]
			}
		case "lost-writes", "counters":
			rr.LostWrites += int(r.Metrics["lost"])
		case "availability":
			rr.MaxGapMs = r.Metrics["max_gap_ms"]
		}
	}
}

// failed names the checkers that failed.
func (rr *RunReport) failed() []string {
	var out []string
	for _, r := range rr.Results {
		if !r.OK {
			out = append(out, r.Name)
		}
	}
	return out
}

// verdict is the run's result column.
func (rr *RunReport) verdict() string {
	switch {
	case rr.Skipped != "":
		return "skipped"
	case rr.Error != "":
		return "ERROR"
	case rr.Passed:
		return "pass"
	}
	return "FAIL (" + strings.Join(rr.failed(), ", ") + ")"
}

// line is the run's one-line summary for the progress output.
func (rr *RunReport) line() string {
	return fmt.Sprintf("%s: %d faults, %d ops (%d failed, %d unknown), max write gap %.0f ms, %d lost writes, linearizable %s",
		rr.verdict(), len(rr.Faults), rr.Ops, rr.FailOps, rr.InfoOps, rr.MaxGapMs, rr.LostWrites, rr.Linearizable)
}

// writeArtifacts writes the history (one JSON op a line) and every
// checker's artifacts into dir, and lists them in the results.
func (rr *RunReport) writeArtifacts(dir string, ops []check.Op, results []check.Result) error {
	f, err := os.Create(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, op := range ops {
		enc.Encode(op)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for i, r := range results {
		names := make([]string, 0, len(r.Artifacts))
		for name := range r.Artifacts {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if err := os.WriteFile(filepath.Join(dir, name), r.Artifacts[name], 0o644); err != nil {
				return err
			}
			rr.Results[i].Artifacts = append(rr.Results[i].Artifacts, filepath.Join(rr.Dir, name))
		}
	}
	return nil
}

// write writes report.json and report.html into dir.
func (r *Report) write(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "report.html"))
	if err != nil {
		return err
	}
	if err := reportHTML.Execute(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Summary writes the summary table: one row per run.
func (r *Report) Summary(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tSEED\tFAULTS\tOPS\tERRORS\tMAX GAP\tLOST WRITES\tLINEARIZABLE\tRESULT")
	for _, rr := range r.Runs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.0f ms\t%d\t%s\t%s\n", rr.Scenario, rr.Seed, len(rr.Faults), rr.Ops,
			rr.FailOps+rr.InfoOps, rr.MaxGapMs, rr.LostWrites, rr.Linearizable, rr.verdict())
	}
	tw.Flush()
	passed := 0
	for _, rr := range r.Runs {
		if rr.Passed {
			passed++
		}
	}
	fmt.Fprintf(w, "\n%d of %d runs passed (target %s, --sync-replicas %d).\n", passed, len(r.Runs), r.Target, r.SyncReplicas)
	if r.SyncReplicas == 0 {
		fmt.Fprintln(w, "Without --sync-replicas, a primary acknowledges writes before any replica has them: the LOST WRITES column counts the acknowledged writes that failovers lost.")
	}
}
