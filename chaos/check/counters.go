package check

import (
	"fmt"
	"sort"
)

// Counters checks the incr operations of ops against final.Counters. Each
// incr adds 1, so for every counter key the final value must lie between
// the number of acknowledged (OK) incrs and that number plus the Info ones
// (which may or may not have been applied); Fail incrs were not applied.
// Below the range means acknowledged increments were lost; above, some
// increment was applied twice (or by someone else). It also checks that no
// two acknowledged incrs of a key returned the same value (Out, when
// recorded): each saw its own increment, so a repeated result means one
// was lost and redone.
//
// Metrics: keys, ok_incrs, info_incrs, lost (increments missing below the
// range), extra (increments above it), duplicate_results.
func Counters(ops []Op, final Final) Result {
	res := Result{Name: "counters", Metrics: map[string]float64{}}
	type tally struct {
		ok, info int64
		results  map[string]int
	}
	per := map[string]*tally{}
	for _, op := range ops {
		if op.Kind != "incr" {
			continue
		}
		t := per[op.Key]
		if t == nil {
			t = &tally{results: map[string]int{}}
			per[op.Key] = t
		}
		switch op.Status {
		case OK:
			t.ok++
			if op.Out != "" {
				t.results[op.Out]++
			}
		case Info:
			t.info++
		}
	}
	for k := range final.Counters {
		if per[k] == nil {
			per[k] = &tally{results: map[string]int{}}
		}
	}
	keys := make([]string, 0, len(per))
	for k := range per {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var d details
	var okIncrs, infoIncrs, lost, extra, dups int64
	for _, k := range keys {
		t, v := per[k], final.Counters[k]
		okIncrs += t.ok
		infoIncrs += t.info
		switch {
		case v < t.ok:
			lost += t.ok - v
			d.addf("counter %s = %d, but %d increments were acknowledged: %d lost", k, v, t.ok, t.ok-v)
		case v > t.ok+t.info:
			extra += v - t.ok - t.info
			d.addf("counter %s = %d, above %d acknowledged + %d unknown increments", k, v, t.ok, t.info)
		}
		dups += duplicateResults(k, t.results, &d)
	}
	res.Metrics["keys"] = float64(len(keys))
	res.Metrics["ok_incrs"] = float64(okIncrs)
	res.Metrics["info_incrs"] = float64(infoIncrs)
	res.Metrics["lost"] = float64(lost)
	res.Metrics["extra"] = float64(extra)
	res.Metrics["duplicate_results"] = float64(dups)
	res.OK = lost+extra+dups == 0
	res.Details = d.list()
	res.Summary = fmt.Sprintf("%d counters, %d acknowledged + %d unknown increments: %d lost, %d extra, %d repeated results",
		len(keys), okIncrs, infoIncrs, lost, extra, dups)
	return res
}

// duplicateResults counts (and describes) the values that more than one
// acknowledged incr of key returned.
func duplicateResults(key string, results map[string]int, d *details) int64 {
	vals := make([]string, 0, len(results))
	for v, n := range results {
		if n > 1 {
			vals = append(vals, v)
		}
	}
	sort.Strings(vals)
	for _, v := range vals {
		d.addf("counter %s: %d acknowledged increments returned %s", key, results[v], v)
	}
	return int64(len(vals))
}
