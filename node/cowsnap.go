package node

import (
	"encoding/binary"
	"hash/crc32"
	"iter"
	"maps"
	"slices"

	"github.com/batonkv/baton/node/keyspace"
)

// cowStepKeys is how many keys one step of a background snapshot
// serializes with the keyspace lock held (a variable so tests can make
// steps tiny and interleave many writes).
var cowStepKeys = 1024

// cowSnapshot is a snapshot in progress at LSN lsn, taken without stopping
// writes: the keyspace is serialized a step at a time, and a key about to
// change before its step is serialized first, as it was at lsn (a
// copy-on-write of one key, the consistent-iterator idea of Dragonfly's
// snapshots). Several may run at once (a background save and full syncs to
// replicas); each keeps its own state. Every field is guarded by the server
// lock.
//
// Invariant: a key is in done once the snapshot holds its state as of lsn —
// its record was written, or it did not exist at lsn (created since). Every
// key is serialized at most once, so the data holds exactly the effects of
// journal entries 1..lsn.
type cowSnapshot struct {
	lsn  uint64
	buf  []byte
	done map[string]struct{}
	next func() (string, any, bool)
	stop func()
	// aborted is set when the keyspace was replaced under the snapshot
	// (a replica's full sync) or the server closed: its data is void.
	aborted bool
}

// startSnapshot begins a snapshot at the current LSN; the caller holds
// s.mu. With rotate, a new journal segment starts there (a snapshot for
// disk, after which older segments can be compacted). The cost under the
// lock is the header only.
func (s *Server) startSnapshot(rotate bool) *cowSnapshot {
	lsn := s.jr.LSN()
	b := make([]byte, 0, 64+32*len(s.db.Keys))
	b = append(b, snapMagic...)
	b = binary.LittleEndian.AppendUint32(b, snapVersion)
	var id [40]byte
	copy(id[:], s.jr.Replid())
	b = append(b, id[:]...)
	b = binary.LittleEndian.AppendUint64(b, lsn)
	next, stop := iter.Pull2(maps.All(s.db.Keys))
	cs := &cowSnapshot{lsn: lsn, buf: b, done: make(map[string]struct{}), next: next, stop: stop}
	s.cows = append(s.cows, cs)
	s.db.PreWrite = s.preserveKey
	s.db.PreFlush = s.drainSnapshots
	if rotate {
		s.jr.Rotate()
	}
	return cs
}

// preserveKey is called, with s.mu held, before key may change: every
// snapshot in progress records the key's state as of its LSN first (or,
// for a key that does not exist, its absence).
func (s *Server) preserveKey(key string) {
	for _, cs := range s.cows {
		if _, ok := cs.done[key]; ok {
			continue
		}
		cs.done[key] = struct{}{}
		if v, ok := s.db.Keys[key]; ok {
			cs.buf = appendSnapshotKey(cs.buf, key, v, s.db.Expires)
		}
	}
}

// stepSnapshot serializes up to n keys of cs not yet recorded and reports
// whether every key has been visited; the caller holds s.mu.
func (s *Server) stepSnapshot(cs *cowSnapshot, n int) bool {
	if cs.aborted {
		return true
	}
	for i := 0; i < n; {
		key, v, ok := cs.next()
		if !ok {
			return true
		}
		if _, done := cs.done[key]; done {
			continue
		}
		cs.done[key] = struct{}{}
		cs.buf = appendSnapshotKey(cs.buf, key, v, s.db.Expires)
		i++
	}
	return false
}

// drainSnapshots serializes every key not yet recorded by any snapshot in
// progress (before FLUSHALL empties the keyspace); the caller holds s.mu.
func (s *Server) drainSnapshots() {
	for _, cs := range s.cows {
		for !s.stepSnapshot(cs, 1<<30) {
		}
	}
}

// takeBytes hands over what cs serialized so far (streamed to a
// replica step by step); the caller holds s.mu.
// spare, when not nil, is a chunk taken earlier and already sent: its
// memory is reused rather than grown anew for every chunk.
func (cs *cowSnapshot) takeBytes(spare []byte) []byte {
	b := cs.buf
	if spare == nil {
		spare = make([]byte, 0, 64<<10)
	}
	cs.buf = spare[:0]
	return b
}

// endSnapshot finishes cs and returns the rest of its bytes up to and
// including the end marker, without the trailer checksum (a streamed
// snapshot checksums its chunks as they go; sealSnapshot seals one kept
// whole); nil when cs was aborted. The caller holds s.mu.
func (s *Server) endSnapshot(cs *cowSnapshot) *pendingSnapshot {
	if cs.aborted {
		return nil
	}
	for !s.stepSnapshot(cs, 1<<30) {
	}
	s.removeSnapshot(cs)
	b := append(cs.buf, snapEnd)
	return &pendingSnapshot{lsn: cs.lsn, data: b}
}

// removeSnapshot forgets cs and unhooks the DB when no snapshot is left;
// the caller holds s.mu.
func (s *Server) removeSnapshot(cs *cowSnapshot) {
	cs.stop()
	s.cows = slices.DeleteFunc(s.cows, func(o *cowSnapshot) bool { return o == cs })
	if len(s.cows) == 0 {
		s.db.PreWrite, s.db.PreFlush = nil, nil
	}
}

// preserveCommandKeys records, before a write command runs, the snapshot
// state of every key it names; the caller holds s.mu.
func (s *Server) preserveCommandKeys(c *keyspace.Ctx) {
	c.Cmd.EachKey(c.Args, func(i int) { s.preserveKey(string(c.Args[i])) })
}

// abortSnapshot drops cs (the server is closing); the caller holds s.mu.
func (s *Server) abortSnapshot(cs *cowSnapshot) {
	if !cs.aborted {
		cs.aborted = true
		s.removeSnapshot(cs)
	}
}

// abortAllSnapshots voids every snapshot in progress: the keyspace is being
// replaced (a replica's full sync). The caller holds s.mu.
func (s *Server) abortAllSnapshots() {
	for _, cs := range slices.Clone(s.cows) {
		s.abortSnapshot(cs)
	}
}

// sealSnapshot appends the trailer checksum to a complete snapshot held in
// one buffer.
func sealSnapshot(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crc32c))
}
