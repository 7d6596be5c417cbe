package node

import (
	"github.com/batonkv/baton/node/command"
)

// Unacknowledged writes, per key, under --sync-replicas: a read must not
// show a write its replicas have not acknowledged (a failover could take it
// back after a client saw it), but a read of keys no such write touched
// need not wait — a primary whose replicas are gone keeps serving the data
// they already have. The map holds, for each key a recent write touched,
// the LSN of that write; entries at or below what k replicas acknowledged
// are pruned when the map grows. All fields are guarded by s.mu.
type unackedWrites struct {
	keys map[string]uint64
	// all is the LSN of the last write whose keys are unknown (keyless
	// commands such as FLUSHALL) or of the promotion: every read waits
	// for it.
	all uint64
	// pruneAt is the map size that triggers the next prune.
	pruneAt int
}

// unackedPruneMin is the smallest map size worth a prune.
const unackedPruneMin = 1024

// noteUnacked records the write cmd just journaled at s.lastLSN.
func (s *Server) noteUnacked(cmd *command.Command, args [][]byte) {
	if s.cfg.SyncReplicas <= 0 || s.isReplica() {
		return
	}
	n := 0
	cmd.EachKey(args, func(i int) {
		s.noteUnackedKey(string(args[i]))
		n++
	})
	if n == 0 {
		s.unacked.all = s.lastLSN
	}
}

// noteUnackedKey records a write of key at s.lastLSN (expiry's DEL too).
func (s *Server) noteUnackedKey(key string) {
	if s.cfg.SyncReplicas <= 0 || s.isReplica() {
		return
	}
	u := &s.unacked
	if u.keys == nil {
		u.keys, u.pruneAt = make(map[string]uint64), unackedPruneMin
	}
	u.keys[key] = s.lastLSN
	if len(u.keys) >= u.pruneAt {
		floor := s.repl.ackedFloor.Load()
		for k, lsn := range u.keys {
			if lsn <= floor {
				delete(u.keys, k)
			}
		}
		u.pruneAt = max(unackedPruneMin, 2*len(u.keys))
	}
}

// resetUnacked starts over at a role change: a new primary's reads wait
// until its replicas reach the promotion point (all = its LSN); a replica
// keeps nothing.
func (s *Server) resetUnacked(primary bool) {
	s.unacked.keys, s.unacked.pruneAt = nil, unackedPruneMin
	s.unacked.all = 0
	if primary {
		s.unacked.all = s.lastLSN
	}
}

// readLSN is the LSN a read of cmd with args must see acknowledged before
// its reply leaves: the latest unacknowledged write of one of its keys, or
// of any key (s.lastLSN) when the command names none (DBSIZE, SCAN, EXEC…).
func (s *Server) readLSN(cmd *command.Command, args [][]byte) uint64 {
	if s.cfg.SyncReplicas <= 0 || s.isReplica() {
		return 0
	}
	need, n := s.unacked.all, 0
	cmd.EachKey(args, func(i int) {
		n++
		if lsn := s.unacked.keys[string(args[i])]; lsn > need {
			need = lsn
		}
	})
	if n == 0 {
		need = s.lastLSN
	}
	return need
}

// ackFloor is the highest LSN at least k replicas acknowledged.
func (s *Server) ackFloor(k int) uint64 {
	s.repl.replicasMu.Lock()
	defer s.repl.replicasMu.Unlock()
	acks := make([]uint64, 0, len(s.repl.replicas))
	for r := range s.repl.replicas {
		acks = append(acks, r.ack.Load())
	}
	if len(acks) < k || k <= 0 {
		return 0
	}
	// k-th highest: a partial selection is not worth it for a handful.
	for i := 0; i < k; i++ {
		for j := i + 1; j < len(acks); j++ {
			if acks[j] > acks[i] {
				acks[i], acks[j] = acks[j], acks[i]
			}
		}
	}
	return acks[k-1]
}
