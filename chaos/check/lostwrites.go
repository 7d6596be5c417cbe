package check

import (
	"fmt"
	"sort"
)

// LostWrites checks the append (list) and add (set) operations of ops
// against the final lists and sets: every acknowledged (OK) write is
// present; no Fail write is present (it was refused, so it must not have
// happened); no value is present that no operation wrote; no value is
// present twice (each write carries a unique value, so a duplicate is a
// write applied twice, e.g. retried after an ambiguous error); and, for
// lists, one process's acknowledged appends to a key appear in the order
// they were acknowledged. Info writes may or may not be present: they are
// only counted.
//
// Metrics: acked, lost, duplicated, unexpected (present but refused or
// never written), reordered, info_present, info_absent.
func LostWrites(ops []Op, final Final) Result {
	res := Result{Name: "lost-writes", Metrics: map[string]float64{}}
	var d details
	var c writeCounts
	keys, byKey := writeKeys(ops)
	for _, key := range keys {
		present := final.Lists[key.key]
		if key.kind == "add" {
			present = final.Sets[key.key]
		}
		c.check(key, byKey[key], present, &d)
	}
	c.report(res.Metrics)
	res.Details = d.list()
	res.OK = c.lost+c.duplicated+c.unexpected+c.reordered == 0
	res.Summary = fmt.Sprintf("%d acknowledged writes: %d lost, %d duplicated, %d unexpected, %d reordered; %d of %d unknown-outcome writes present",
		c.acked, c.lost, c.duplicated, c.unexpected, c.reordered, c.infoPresent, c.infoPresent+c.infoAbsent)
	return res
}

// writeKey is one collection a history writes to: a list (append) or a
// set (add) — the same key name used both ways is two collections.
type writeKey struct{ kind, key string }

// writeKeys groups the append and add operations of ops by collection and
// lists the collections, sorted for stable output.
func writeKeys(ops []Op) ([]writeKey, map[writeKey][]Op) {
	byKey := map[writeKey][]Op{}
	var keys []writeKey
	for _, op := range ops {
		if op.Kind != "append" && op.Kind != "add" {
			continue
		}
		k := writeKey{op.Kind, op.Key}
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], op)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].kind != keys[j].kind {
			return keys[i].kind < keys[j].kind
		}
		return keys[i].key < keys[j].key
	})
	return keys, byKey
}

// writeCounts accumulates LostWrites' tallies over all collections.
type writeCounts struct {
	acked, lost, duplicated, unexpected, reordered, infoPresent, infoAbsent int
}

// check compares one collection's writes (ops) with its final contents.
func (c *writeCounts) check(k writeKey, ops []Op, present []string, d *details) {
	where := make(map[string][]int, len(present)) // value → positions
	for i, v := range present {
		where[v] = append(where[v], i)
	}
	written := map[string]Op{}
	for _, op := range ops {
		written[op.Value] = op
		n := len(where[op.Value])
		switch {
		case op.Status == OK:
			c.acked++
			if n == 0 {
				c.lost++
				d.addf("lost: %s %s %q by p%d acknowledged at %v", k.kind, k.key, op.Value, op.Process, op.Return)
			}
		case op.Status == Fail && n > 0:
			c.unexpected++
			d.addf("refused write present: %s %s %q by p%d (%s)", k.kind, k.key, op.Value, op.Process, op.Err)
		case op.Status == Info && n > 0:
			c.infoPresent++
		case op.Status == Info:
			c.infoAbsent++
		}
	}
	for i, v := range present {
		pos := where[v]
		if pos[0] != i {
			continue // reported at its first position
		}
		if len(pos) > 1 {
			c.duplicated++
			d.addf("duplicated: %s %s %q present %d times", k.kind, k.key, v, len(pos))
		}
		if _, ok := written[v]; !ok {
			c.unexpected++
			d.addf("unexpected: %s %s %q present but never written", k.kind, k.key, v)
		}
	}
	if k.kind == "append" {
		c.reordered += appendOrder(k.key, ops, where, d)
	}
}

// appendOrder checks that each process's acknowledged appends (ops, all
// to one list) that are present appear in the list in the order they were
// acknowledged (a process's operations never overlap, so that is also the
// order it issued them). It returns the number of appends found before an
// append of the same process acknowledged earlier.
func appendOrder(key string, ops []Op, where map[string][]int, d *details) int {
	var acked []Op
	for _, op := range ops {
		if op.Status == OK && len(where[op.Value]) > 0 {
			acked = append(acked, op)
		}
	}
	sort.SliceStable(acked, func(i, j int) bool { return acked[i].Return < acked[j].Return })
	furthest := map[int]Op{} // process → its acknowledged append furthest down the list so far
	bad := 0
	for _, op := range acked {
		prev, ok := furthest[op.Process]
		switch {
		case !ok || where[op.Value][0] > where[prev.Value][0]:
			furthest[op.Process] = op
		default:
			bad++
			d.addf("reordered: list %s has %q (p%d, acked at %v) before %q (acked earlier, at %v)",
				key, op.Value, op.Process, op.Return, prev.Value, prev.Return)
		}
	}
	return bad
}

// report writes the tallies into m.
func (c *writeCounts) report(m map[string]float64) {
	m["acked"] = float64(c.acked)
	m["lost"] = float64(c.lost)
	m["duplicated"] = float64(c.duplicated)
	m["unexpected"] = float64(c.unexpected)
	m["reordered"] = float64(c.reordered)
	m["info_present"] = float64(c.infoPresent)
	m["info_absent"] = float64(c.infoAbsent)
}
