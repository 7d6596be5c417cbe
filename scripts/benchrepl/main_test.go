package main

import (
	"testing"
	"time"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// Test_LagStats checks the lag definitions on a hand-made timeline: the
// primary's offset moves 0→100→200→300 at 10, 20, 30 ms; one replica trails.
func Test_LagStats(t *testing.T) {
	prim := []sample{{ms(0), 0}, {ms(10), 100}, {ms(20), 200}, {ms(30), 300}, {ms(40), 300}}
	rep := []sample{
		{ms(0), 0},    // before the window (primary had not moved): ignored
		{ms(12), 50},  // primary first showed ≥50 at 10 ms: lag 2 ms; offsets 100−50
		{ms(25), 100}, // first ≥100 at 10 ms: lag 15 ms; offsets 200−100
		{ms(41), 300}, // first ≥300 at 30 ms: lag 11 ms; offsets 0
	}
	r := lagStats([][]sample{prim, rep}, 0, ms(35))
	if r.samples != 3 {
		t.Fatalf("samples = %d, want 3", r.samples)
	}
	if r.maxOffsetLag != 100 {
		t.Errorf("maxOffsetLag = %d, want 100", r.maxOffsetLag)
	}
	if r.max != 15 || r.p50 != 11 {
		t.Errorf("max, p50 = %v, %v; want 15, 11", r.max, r.p50)
	}
	if r.finalOffset != 300 {
		t.Errorf("finalOffset = %d, want 300", r.finalOffset)
	}
}

// Test_LagStats_ReplicaAhead floors at zero a replica sample taken after the
// primary's newest sample that already shows a newer offset.
func Test_LagStats_ReplicaAhead(t *testing.T) {
	prim := []sample{{ms(0), 0}, {ms(10), 100}}
	rep := []sample{{ms(11), 150}, {ms(12), 100}}
	r := lagStats([][]sample{prim, rep}, 0, ms(12))
	if r.samples != 2 || r.max != 2 {
		t.Errorf("samples, max = %d, %v; want 2, 2", r.samples, r.max)
	}
}
