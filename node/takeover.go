package node

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/node/command"
	"github.com/batonkv/baton/node/keyspace"
)

// The TAKEN_OVER state of a coordinated takeover (consensus/takeover.go).
// The coordinator leader freezes the old primary under the takeover's ID:
// from that instant every data command is refused with -TAKENOVER (the
// proxy replays it on the new primary), so the LSN the freeze replies is
// final — the target matching it holds every write this primary ever
// acknowledged. Frozen is left only by an UNFREEZE with the same ID (a
// rollback), by a topology that shows the takeover over while this node is
// still primary of its epoch, or by demotion.
//
// Takeover IDs grow (the record's version at the intent), and a takeover
// is over once this node thawed or was told to UNFREEZE it: a FREEZE whose
// ID is not above the last such ID is late (it was overtaken by its
// rollback's UNFREEZE) and is refused, so it cannot freeze the node with
// nothing left to thaw it.

// freezeState is the node's TAKEN_OVER state; id is the takeover's ID, 0
// while the node is active; over is the highest takeover ID this node
// thawed or was told to UNFREEZE.
type freezeState struct {
	id   atomic.Uint64
	over atomic.Uint64
}

// ended notes that takeover id is over: no FREEZE up to id is obeyed.
func (f *freezeState) ended(id uint64) {
	for {
		cur := f.over.Load()
		if id <= cur || f.over.CompareAndSwap(cur, id) {
			return
		}
	}
}

// frozen reports whether the node is TAKEN_OVER.
func (s *Server) frozen() bool { return s.freeze.id.Load() != 0 }

// refusedWhileFrozen reports whether cmd is a data command a frozen node
// refuses: reads too, since after the commit a read here could miss a
// write the new primary acknowledged.
func refusedWhileFrozen(cmd *command.Command) bool {
	return cmd.Flags&(command.FlagWrite|command.FlagReadonly|command.FlagBlocking) != 0 || cmd.Name == "exec" || cmd.Name == "publish"
}

// takenOverError is the reply to a command refused while frozen.
func (s *Server) takenOverError() string {
	return coordapi.ErrCodeTakenOver + " " + strconv.FormatUint(s.repl.epoch.Load(), 10) +
		" the primary role is being handed over; retry on the new primary"
}

// thaw leaves TAKEN_OVER if the node is frozen under id (0: any).
func (s *Server) thaw(id uint64, why string) bool {
	cur := s.freeze.id.Load()
	if cur == 0 || (id != 0 && cur != id) {
		return false
	}
	now := time.Now()
	if !s.freeze.id.CompareAndSwap(cur, 0) {
		return false
	}
	s.freeze.ended(cur)
	if s.coord != nil {
		// Writes resume under what is left of the lease: log it as a
		// window from before the thaw (the audit's view stays a superset).
		s.coord.Thawed(now)
	}
	s.log.Info("takeover over; serving again", "takeover", cur, "why", why)
	return true
}

// cmdFreeze: BATON.FREEZE id epoch grace-ms — enter TAKEN_OVER for
// takeover id if this node is the primary of epoch. Parked blocking
// commands are released with -TAKENOVER. Then a checkpoint: every other
// connection busy at the freeze must finish its pipeline (replies
// written) within grace, or it is closed — its writes are journaled
// already. Reply: [final LSN, connections force-closed].
func (s *Server) cmdFreeze(c *keyspace.Ctx) {
	cl := clientOf(c)
	id, err1 := strconv.ParseUint(string(c.Args[1]), 10, 64)
	epoch, err2 := strconv.ParseUint(string(c.Args[2]), 10, 64)
	graceMs, err3 := strconv.ParseUint(string(c.Args[3]), 10, 32)
	if err1 != nil || err2 != nil || err3 != nil || id == 0 {
		c.Err("ERR BATON.FREEZE id epoch grace-ms: positive integers expected")
		return
	}
	if s.isReplica() {
		c.Err("ERR BATON.FREEZE: this node is a replica")
		return
	}
	if cur := s.repl.epoch.Load(); cur != epoch {
		c.Err("ERR BATON.FREEZE: this node is at epoch " + strconv.FormatUint(cur, 10) +
			", not " + strconv.FormatUint(epoch, 10))
		return
	}
	// Invariant: a takeover this node saw end never freezes it again (a
	// FREEZE overtaken by its rollback's UNFREEZE arrives late).
	if over := s.freeze.over.Load(); id <= over {
		c.Err("ERR BATON.FREEZE: takeover " + strconv.FormatUint(id, 10) +
			" is over (this node thawed takeover " + strconv.FormatUint(over, 10) + ")")
		return
	}
	s.freeze.id.Store(id)
	s.met.freezes.Inc()
	s.leaseLog.End(epoch, time.Now())
	s.wakeAllBlockedLocked()
	lsn := s.lastLSN
	busy := s.busyClients(cl)
	s.log.Info("frozen for a takeover", "takeover", id, "epoch", epoch, "lsn", lsn, "busy_connections", len(busy))
	grace := time.Duration(graceMs) * time.Millisecond
	cl.deferred = func(w keyspace.Replier) {
		closed := s.checkpoint(busy, grace)
		w.WriteArray(2)
		w.WriteInt(int(lsn))
		w.WriteInt(closed)
	}
}

// cmdUnfreeze: BATON.UNFREEZE id — leave TAKEN_OVER (a rolled-back
// takeover). Replies 1 if the node was frozen under id, else 0. Either
// way takeover id is over: a later FREEZE with an ID up to id is refused.
func (s *Server) cmdUnfreeze(c *keyspace.Ctx) {
	id, err := strconv.ParseUint(string(c.Args[1]), 10, 64)
	if err != nil || id == 0 {
		c.Err("ERR BATON.UNFREEZE id: a positive integer expected")
		return
	}
	s.freeze.ended(id)
	if s.thaw(id, "unfreeze") {
		c.W.WriteInt(1)
		return
	}
	c.W.WriteInt(0)
}

// busyMark is a connection that was running a pipeline at the freeze, and
// how many pipelines it had finished then.
type busyMark struct {
	cl     *client
	served uint64
}

// busyClients lists the connections (but self, replication streams and
// subscribers) in the middle of a pipeline.
func (s *Server) busyClients(self *client) []busyMark {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	var out []busyMark
	for _, cl := range s.clients {
		if cl == self || cl.psync != nil || cl.sub != nil || !cl.busy.Load() {
			continue
		}
		out = append(out, busyMark{cl: cl, served: cl.served.Load()})
	}
	return out
}

// checkpoint waits until every marked connection finished the pipeline it
// was in (hung clients that never read their replies never do), up to
// grace, then closes the rest and returns how many it closed.
func (s *Server) checkpoint(busy []busyMark, grace time.Duration) int {
	deadline := time.Now().Add(grace)
	for {
		left := busy[:0]
		for _, b := range busy {
			if b.cl.busy.Load() && b.cl.served.Load() == b.served {
				left = append(left, b)
			}
		}
		busy = left
		if len(busy) == 0 || !time.Now().Before(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for _, b := range busy {
		s.log.Warn("takeover: closing a connection that missed the checkpoint", "id", b.cl.id, "addr", b.cl.addr, "grace", grace)
		s.stats.takeoverClosed.Add(1)
		b.cl.killed.Store(true)
		if b.cl.conn != nil {
			b.cl.conn.NetConn().Close()
		}
	}
	return len(busy)
}
