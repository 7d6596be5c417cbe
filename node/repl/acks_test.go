package repl

import (
	"context"
	"strconv"
	"testing"
	"time"
)

func lsnAt(n uint64) func() uint64 { return func() uint64 { return n } }

// The floor is the k-th highest ack of the generation; it never goes back
// while the generation lasts, and a new generation starts it over and
// makes every ack of the previous one count for nothing.
func Test_Acks_FloorAndGenerations(t *testing.T) {
	a := NewAcks(2)
	p1, p2, p3 := NewPeer("10.0.0.1:1", 1, 0), NewPeer("10.0.0.2:1", 2, 0), NewPeer("10.0.0.3:1", 3, 0)
	a.Add(p1)
	a.Add(p2)
	a.Add(p3)
	a.Ack(p1, 10, 1, lsnAt(10))
	if a.Floor() != 0 {
		t.Fatalf("one ack of two required: floor %d", a.Floor())
	}
	a.Ack(p2, 7, 1, lsnAt(10))
	a.Ack(p3, 5, 1, lsnAt(10))
	gen := a.Gen()
	if a.Floor() != 7 || !a.FloorCovers(7, gen) || a.FloorCovers(8, gen) || a.AckedIn(7, gen) != 2 {
		t.Fatalf("floor %d, acked(7) %d", a.Floor(), a.AckedIn(7, gen))
	}
	a.Remove(p1)
	if !a.FloorCovers(7, gen) {
		t.Fatal("an acknowledged LSN stays covered after its replica left")
	}
	a.NewGeneration()
	if a.FloorCovers(1, gen) || a.AckedIn(1, gen) != 0 || a.Floor() != 0 {
		t.Fatal("acks of a previous generation count")
	}
}

// Wait asks every replica for an ack, wakes when one arrives, and ends at
// its deadline, at a role change or when its client leaves.
func Test_Acks_Wait(t *testing.T) {
	a := NewAcks(0)
	p := NewPeer("10.0.0.1:1", 1, 0)
	a.Add(p)
	go func() {
		<-p.GetAck()
		a.Ack(p, 5, time.Now().UnixNano(), lsnAt(5))
	}()
	if got, _ := a.Wait(context.Background(), 5, a.Gen(), 1, time.Time{}, nil); got != 1 {
		t.Fatalf("wait for an ack: %d", got)
	}
	if got, _ := a.Wait(context.Background(), 6, a.Gen(), 1, time.Now().Add(20*time.Millisecond), nil); got != 0 {
		t.Fatalf("wait past the deadline: %d", got)
	}
	gone := make(chan struct{})
	close(gone)
	if _, left := a.Wait(context.Background(), 6, a.Gen(), 1, time.Time{}, gone); !left {
		t.Fatal("a client that left ends its wait")
	}
	gen := a.Gen()
	go a.NewGeneration()
	if got, _ := a.Wait(context.Background(), 6, gen, 1, time.Time{}, nil); got != 0 {
		t.Fatalf("wait across a role change: %d", got)
	}
}

// Unacked prunes keys at or below the floor once the map grows.
func Test_Unacked_Prune(t *testing.T) {
	var u Unacked
	for i := range unackedPruneMin - 1 {
		u.NoteKey(strconv.Itoa(i), uint64(i+1), 0)
	}
	u.NoteKey("late", 5000, 4000)
	if len(u.keys) != 1 || u.Of([]byte("late")) != 5000 {
		t.Fatalf("after a prune at floor 4000: %d keys", len(u.keys))
	}
	u.NoteAll(6000)
	u.Reset(7)
	if u.All() != 7 || u.Of([]byte("late")) != 0 {
		t.Fatal("reset keeps state")
	}
}

// An ack counts only if the gate lets it as it arrives: one refused stays
// refused (a later opening of the gate does not revive it), but moves the
// replica's reported position, and the next ack after the gate opens
// counts. A replica registering while the gate is shut brings no ack.
func Test_Acks_Gate(t *testing.T) {
	a := NewAcks(1)
	open := true
	a.SetGate(func() bool { return open })
	p := NewPeer("10.0.0.1:1", 1, 3)
	a.Add(p)
	gen := a.Gen()
	if a.AckedIn(3, gen) != 1 {
		t.Fatal("the position a replica registers with counts under an open gate")
	}
	open = false
	a.Ack(p, 5, 1, lsnAt(5))
	if a.AckedIn(5, gen) != 0 || a.FloorCovers(5, gen) || p.Acked() != 5 {
		t.Fatalf("refused ack: acked %d, floor %d, reported %d", a.AckedIn(5, gen), a.Floor(), p.Acked())
	}
	q := NewPeer("10.0.0.2:1", 2, 5)
	a.Add(q)
	open = true
	if a.AckedIn(5, gen) != 0 {
		t.Fatal("acks refused at arrival count once the gate opens")
	}
	a.Ack(p, 5, 2, lsnAt(5))
	if a.AckedIn(5, gen) != 1 || !a.FloorCovers(5, gen) {
		t.Fatalf("an ack under an open gate: acked %d, floor %d", a.AckedIn(5, gen), a.Floor())
	}
}
