package node

import (
	"encoding/binary"
	"hash/crc32"
	"iter"
	"maps"
)

// cowStepKeys is how many keys one step of a background snapshot
// serializes with the keyspace lock held (a variable so tests can make
// steps tiny and interleave many writes).
var cowStepKeys = 1024

// cowSnapshot is a snapshot in progress at LSN lsn, taken without stopping
// writes: the keyspace is serialized a step at a time, and a key about to
// change before its step is serialized first, as it was at lsn (a
// copy-on-write of one key, the consistent-iterator idea of Dragonfly's
// snapshots). Every field is guarded by the server lock.
//
// Invariant: a key is in done once the snapshot holds its state as of lsn —
// its record was written, or it did not exist at lsn (created since). Every
// key is serialized at most once, so the file holds exactly the effects of
// journal entries 1..lsn.
type cowSnapshot struct {
	lsn  uint64
	buf  []byte
	done map[string]struct{}
	next func() (string, any, bool)
	stop func()
}

// startSnapshot begins a snapshot at the current LSN and starts a new
// journal segment there; the caller holds s.mu. The cost under the lock is
// the header only.
func (s *Server) startSnapshot() *cowSnapshot {
	lsn := s.jr.LSN()
	b := make([]byte, 0, 64+32*len(s.db.keys))
	b = append(b, snapMagic...)
	b = binary.LittleEndian.AppendUint32(b, snapVersion)
	var id [40]byte
	copy(id[:], s.jr.Replid())
	b = append(b, id[:]...)
	b = binary.LittleEndian.AppendUint64(b, lsn)
	next, stop := iter.Pull2(maps.All(s.db.keys))
	cs := &cowSnapshot{lsn: lsn, buf: b, done: make(map[string]struct{}), next: next, stop: stop}
	s.cow = cs
	s.db.preWrite = s.preserveKey
	s.db.preFlush = s.drainSnapshot
	s.jr.Rotate()
	return cs
}

// preserveKey is called, with s.mu held, before key may change: while a
// snapshot runs, the key's state as of the snapshot's LSN is recorded
// first (or, for a key that does not exist, its absence).
func (s *Server) preserveKey(key string) {
	cs := s.cow
	if cs == nil {
		return
	}
	if _, ok := cs.done[key]; ok {
		return
	}
	cs.done[key] = struct{}{}
	if v, ok := s.db.keys[key]; ok {
		cs.buf = appendSnapshotKey(cs.buf, key, v, s.db.expires)
	}
}

// stepSnapshot serializes up to n keys not yet recorded and reports whether
// every key has been visited; the caller holds s.mu.
func (s *Server) stepSnapshot(n int) bool {
	cs := s.cow
	for i := 0; i < n; {
		key, v, ok := cs.next()
		if !ok {
			return true
		}
		if _, done := cs.done[key]; done {
			continue
		}
		cs.done[key] = struct{}{}
		cs.buf = appendSnapshotKey(cs.buf, key, v, s.db.expires)
		i++
	}
	return false
}

// drainSnapshot serializes every key not yet recorded (before FLUSHALL
// empties the keyspace, and for SAVE); the caller holds s.mu.
func (s *Server) drainSnapshot() {
	if s.cow != nil {
		for !s.stepSnapshot(1 << 30) {
		}
	}
}

// endSnapshot finishes the snapshot in progress and returns the file's
// bytes; the caller holds s.mu.
func (s *Server) endSnapshot() *pendingSnapshot {
	s.drainSnapshot()
	cs := s.cow
	cs.stop()
	s.cow = nil
	s.db.preWrite, s.db.preFlush = nil, nil
	b := append(cs.buf, snapEnd)
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crc32c))
	return &pendingSnapshot{lsn: cs.lsn, data: b}
}

// preserveCommandKeys records, before a write command runs, the snapshot
// state of every key it names; the caller holds s.mu.
func (s *Server) preserveCommandKeys(c *Ctx) {
	c.cmd.eachKey(c.args, func(i int) { s.preserveKey(string(c.args[i])) })
}

// abortSnapshot drops the snapshot in progress (the server is closing);
// the caller holds s.mu.
func (s *Server) abortSnapshot() {
	if cs := s.cow; cs != nil {
		cs.stop()
		s.cow = nil
		s.db.preWrite, s.db.preFlush = nil, nil
	}
}
