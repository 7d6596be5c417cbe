package check

import (
	"bytes"
	"fmt"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"
)

// Linearizable checks the register operations of ops (kinds get, set and
// cas; other kinds are ignored) with porcupine against a register per key,
// each key checked on its own.
//
// Outcomes are handled the Jepsen way: a Fail operation never took effect
// and is dropped; an Info operation may have taken effect at any instant
// after its Call, so it is given a Return after the end of the history
// (linearizing it last is the same as "it never happened") and any output;
// an Info get tells nothing and is dropped. A cas's Expect "" means "key
// absent"; Out "1" means it swapped, anything else that the comparison
// failed — so a workload whose cas can fail for another reason (a WATCH
// abort) must record that attempt as Fail, not as OK with Out "0".
//
// timeout bounds porcupine's search (≤ 0: no bound). When it runs out the
// result is OK with Unknown set: no violation was found, and a timeout is
// not one. On a violation, and on a timeout, Artifacts["linearizability.html"]
// holds porcupine's visualization (partial linearizations per key), and
// Details name the keys whose operations do not all linearize.
//
// Metrics: ops (register operations checked), info_ops (those of unknown
// outcome), keys.
func Linearizable(ops []Op, timeout time.Duration) Result {
	history, infos := registerHistory(ops)
	model := registerModel()
	res := Result{Name: "linearizable", Metrics: map[string]float64{}}
	keys := partitionByKey(history)
	res.Metrics["ops"] = float64(len(history))
	res.Metrics["info_ops"] = float64(infos)
	res.Metrics["keys"] = float64(len(keys))
	if len(history) == 0 {
		res.OK = true
		res.Summary = "no register operations to check"
		return res
	}
	verdict, info := porcupine.CheckOperationsVerbose(model, history, timeout)
	switch verdict {
	case porcupine.Ok:
		res.OK = true
		res.Summary = fmt.Sprintf("linearizable: %d ops on %d keys", len(history), len(keys))
		return res
	case porcupine.Unknown:
		res.OK, res.Unknown = true, true
		res.Summary = fmt.Sprintf("unknown: porcupine timed out after %v on %d ops (no violation found)", timeout, len(history))
	default:
		res.Summary = fmt.Sprintf("NOT linearizable: %d ops on %d keys", len(history), len(keys))
	}
	res.Details = stuckKeys(keys, info)
	var html bytes.Buffer
	if err := porcupine.Visualize(model, info, &html); err != nil {
		res.Details = append(res.Details, "visualization failed: "+err.Error())
	} else {
		res.Artifacts = map[string][]byte{"linearizability.html": html.Bytes()}
	}
	return res
}

// registerHistory turns the register operations of ops into porcupine
// operations (see Linearizable for the rules) and counts the Info ones
// kept.
func registerHistory(ops []Op) ([]porcupine.Operation, int) {
	var end time.Duration
	for _, op := range ops {
		end = max(end, op.Call)
		if op.Status != Info {
			end = max(end, op.Return)
		}
	}
	clients := denseProcesses(ops)
	var out []porcupine.Operation
	infos := 0
	for _, op := range ops {
		if !isRegister(op.Kind) || op.Status == Fail || (op.Status == Info && op.Kind == "get") {
			continue
		}
		in := regInput{key: op.Key, kind: op.Kind, value: op.Value, process: op.Process}
		if op.Expect != "" {
			in.expect = regValue{present: true, v: op.Expect}
		}
		res := regOutput{known: op.Status == OK}
		ret := op.Return
		if op.Status == Info {
			ret = end + 1
			infos++
		}
		switch op.Kind {
		case "get":
			res.got = regValue{present: !op.Missing, v: op.Out}
			if op.Missing {
				res.got.v = ""
			}
		case "cas":
			res.swap = op.Out == "1"
		}
		out = append(out, porcupine.Operation{
			ClientId: clients[op.Process], Input: in, Output: res,
			Call: int64(op.Call), Return: int64(ret),
		})
	}
	return out, infos
}

// isRegister reports whether kind is a register operation.
func isRegister(kind string) bool {
	return kind == "get" || kind == "set" || kind == "cas"
}

// denseProcesses maps process ids to 0..n-1 in ascending order: porcupine's
// visualization wants zero-indexed client ids.
func denseProcesses(ops []Op) map[int]int {
	var ids []int
	seen := map[int]bool{}
	for _, op := range ops {
		if !seen[op.Process] {
			seen[op.Process] = true
			ids = append(ids, op.Process)
		}
	}
	sort.Ints(ids)
	m := make(map[int]int, len(ids))
	for i, id := range ids {
		m[id] = i
	}
	return m
}

// stuckKeys names the keys whose longest partial linearization does not
// cover all their operations: the keys with a violation (or, on a timeout,
// the keys not yet proven).
func stuckKeys(keys [][]porcupine.Operation, info porcupine.LinearizationInfo) []string {
	var d details
	partials := info.PartialLinearizations()
	for i, part := range keys {
		if i >= len(partials) {
			break
		}
		longest := 0
		for _, p := range partials[i] {
			longest = max(longest, len(p))
		}
		if longest < len(part) {
			d.addf("key %s: at most %d of its %d ops linearize", part[0].Input.(regInput).key, longest, len(part))
		}
	}
	return d.list()
}
