package node

import (
	"github.com/batonkv/baton/node/command"
)

// noteUnacked records the write cmd just journaled at s.lastLSN (see
// repl.Unacked: reads of its keys wait for its acknowledgement).
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
		s.unacked.NoteAll(s.lastLSN)
	}
}

// noteUnackedKey records a write of key at s.lastLSN (expiry's DEL too).
func (s *Server) noteUnackedKey(key string) {
	if s.cfg.SyncReplicas <= 0 || s.isReplica() {
		return
	}
	s.unacked.NoteKey(key, s.lastLSN, s.repl.acks.Floor())
}

// resetUnacked starts over at a role change: a new primary's reads wait
// until its replicas reach the promotion point (all = its LSN); a replica
// keeps nothing.
func (s *Server) resetUnacked(primary bool) {
	if primary {
		s.unacked.Reset(s.lastLSN)
	} else {
		s.unacked.Reset(0)
	}
}

// readLSN is the LSN a read of cmd with args must see acknowledged before
// its reply leaves: the latest unacknowledged write of one of its keys, or
// of any key (s.lastLSN) when the command names none (DBSIZE, SCAN, EXEC…).
func (s *Server) readLSN(cmd *command.Command, args [][]byte) uint64 {
	if s.cfg.SyncReplicas <= 0 || s.isReplica() {
		return 0
	}
	need, n := s.unacked.All(), 0
	cmd.EachKey(args, func(i int) {
		n++
		need = max(need, s.unacked.Of(args[i]))
	})
	if n == 0 {
		need = s.lastLSN
	}
	return need
}
