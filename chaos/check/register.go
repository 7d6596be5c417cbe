package check

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// The register model: each key is an independent register holding a string
// or nothing. It is what porcupine checks get/set/cas histories against.

// regValue is a register's state: absent, or present with a value ("" is a
// value: a key set to the empty string is not a missing key).
type regValue struct {
	present bool
	v       string
}

// String renders the state for the visualization.
func (r regValue) String() string {
	if !r.present {
		return "∅"
	}
	return fmt.Sprintf("%q", r.v)
}

// regInput is one register operation as porcupine sees it.
type regInput struct {
	key  string
	kind string // "get", "set" or "cas"
	// value is what set writes, or cas writes on success; expect is what
	// cas compares with (an absent expect matches a missing key only).
	value  string
	expect regValue
	// process is the Op's Process, shown in the visualization.
	process int
}

// regOutput is what the client saw. known is false for Info operations:
// the model then accepts whatever the operation would have done.
type regOutput struct {
	known bool
	got   regValue // get: the value read
	swap  bool     // cas: whether it swapped
}

// registerModel is porcupine's model of a map of independent registers,
// partitioned by key so each key is checked on its own (linearizability is
// compositional: the history is linearizable iff every key's is).
func registerModel() porcupine.Model {
	return porcupine.Model{
		Partition: partitionByKey,
		Init:      func() any { return regValue{} },
		Step:      registerStep,
		DescribeOperation: func(in, out any) string {
			return describeRegOp(in.(regInput), out.(regOutput))
		},
		DescribeState: func(s any) string { return s.(regValue).String() },
	}
}

// registerStep applies in to state s and reports whether out is what the
// register would have answered. An operation with an unknown outcome is
// deterministic once placed: wherever porcupine linearizes it, it does what
// the register says — and placing it after everything else is the same as
// "it never happened".
func registerStep(s, in, out any) (bool, any) {
	st, op, res := s.(regValue), in.(regInput), out.(regOutput)
	switch op.kind {
	case "get":
		return !res.known || res.got == st, st
	case "set":
		return true, regValue{present: true, v: op.value}
	case "cas":
		match := st == op.expect
		if res.known && res.swap != match {
			return false, st
		}
		if match {
			return true, regValue{present: true, v: op.value}
		}
		return true, st
	}
	return false, st
}

// partitionByKey splits a history into one sub-history per key, in the
// order keys first appear (a stable order keeps the visualization stable).
func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	index := map[string]int{}
	var parts [][]porcupine.Operation
	for _, op := range history {
		k := op.Input.(regInput).key
		i, ok := index[k]
		if !ok {
			i = len(parts)
			index[k] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], op)
	}
	return parts
}

// describeRegOp renders an operation for the visualization, e.g.
// `p3 cas(k, ∅→"v7") = ok` or `p1 get(k) = "v2"`.
func describeRegOp(in regInput, out regOutput) string {
	var call string
	switch in.kind {
	case "get":
		call = fmt.Sprintf("get(%s)", in.key)
	case "set":
		call = fmt.Sprintf("set(%s, %q)", in.key, in.value)
	case "cas":
		call = fmt.Sprintf("cas(%s, %s→%q)", in.key, in.expect, in.value)
	}
	res := "?"
	switch {
	case !out.known:
		res = "? (info)"
	case in.kind == "get":
		res = out.got.String()
	case in.kind == "cas" && out.swap:
		res = "ok"
	case in.kind == "cas":
		res = "no"
	default:
		res = "ok"
	}
	return fmt.Sprintf("p%d %s = %s", in.process, call, res)
}
