package check

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// genRegisterHistory builds a history that is linearizable by
// construction: each process issues operations one after another; each
// operation takes effect at a random instant inside [Call, Return] (the
// outputs are computed by applying them in that order to real registers);
// some are refused (Fail: never applied) and some lose their reply (Info:
// applied or not, at random).
func genRegisterHistory(seed uint64, procs, keys, n int) []Op {
	rng := rand.New(rand.NewPCG(seed, 0))
	type planned struct {
		op      Op
		at      time.Duration
		applied bool
	}
	next := make([]time.Duration, procs)
	ops := make([]planned, n)
	for i := range ops {
		p := rng.IntN(procs)
		call := next[p] + time.Duration(rng.IntN(5))*time.Millisecond
		at := call + time.Duration(1+rng.IntN(20))*time.Millisecond
		ret := at + time.Duration(1+rng.IntN(20))*time.Millisecond
		next[p] = ret
		op := Op{Process: p, Key: fmt.Sprintf("k%d", rng.IntN(keys)), Call: call, Return: ret}
		switch r := rng.IntN(10); {
		case r < 4:
			op.Kind = "get"
		case r < 7:
			op.Kind, op.Value = "set", fmt.Sprintf("v%d", i)
		default:
			op.Kind, op.Value = "cas", fmt.Sprintf("v%d", i)
		}
		ops[i] = planned{op: op, at: at, applied: true}
		switch r := rng.IntN(20); {
		case r == 0:
			ops[i].op.Status, ops[i].op.Err, ops[i].applied = Fail, "TRYAGAIN", false
		case r == 1:
			ops[i].op.Status, ops[i].op.Err, ops[i].applied = Info, "i/o timeout", rng.IntN(2) == 0
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].at < ops[j].at })
	regs := map[string]string{}
	for i := range ops {
		op := &ops[i].op
		cur, present := regs[op.Key]
		if op.Kind == "cas" {
			// Expect the current value half the time, a stale one otherwise.
			if rng.IntN(2) == 0 {
				op.Expect = cur
			} else {
				op.Expect = "stale"
			}
		}
		if !ops[i].applied {
			continue
		}
		switch op.Kind {
		case "get":
			op.Out, op.Missing = cur, !present
		case "set":
			regs[op.Key] = op.Value
		case "cas":
			op.Out = "0"
			if (op.Expect == "" && !present) || (present && op.Expect == cur) {
				regs[op.Key], op.Out = op.Value, "1"
			}
		}
	}
	out := make([]Op, n)
	for i, p := range ops {
		out[i] = p.op
	}
	return out
}

// TestLinearizableGeneratedHistories checks larger histories: correct by
// construction ones must pass, and the same history with one read made
// stale (it returns the value a completed earlier write replaced) must
// fail.
func TestLinearizableGeneratedHistories(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			ops := genRegisterHistory(seed, 5, 3, 400)
			if res := Linearizable(ops, checkTimeout); !res.OK || res.Unknown {
				t.Fatalf("correct history: OK=%v Unknown=%v %s %q", res.OK, res.Unknown, res.Summary, res.Details)
			}
			if !makeStaleRead(ops) {
				t.Fatal("found no read to make stale")
			}
			if res := Linearizable(ops, checkTimeout); res.OK || res.Unknown {
				t.Fatalf("history with a stale read: OK=%v Unknown=%v %s", res.OK, res.Unknown, res.Summary)
			}
		})
	}
}

// makeStaleRead finds an OK get preceded (in real time) by two OK sets of
// its key, both complete before the get began, and makes it return the
// older one's value, which the newer one overwrote.
func makeStaleRead(ops []Op) bool {
	for i := range ops {
		g := &ops[i]
		if g.Kind != "get" || g.Status != OK {
			continue
		}
		var older, newer *Op
		for j := range ops {
			s := &ops[j]
			if s.Kind != "set" || s.Status != OK || s.Key != g.Key || s.Return >= g.Call {
				continue
			}
			if newer == nil || s.Call > newer.Return {
				older, newer = newer, s
			}
		}
		if older != nil && older.Return < newer.Call {
			g.Out, g.Missing = older.Value, false
			return true
		}
	}
	return false
}
