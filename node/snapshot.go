package node

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/node/keyspace"
)

// Snapshot file format (integers little-endian, varints as encoding/binary's
// unsigned/signed LEB128):
//
//	header:  magic "BATONSNP", version u32 (1), replid [40]byte, lsn u64
//	keys:    one record per key:
//	           type byte (snapString..snapZSet; | snapHasExpiry when the key
//	                      has a deadline)
//	           key       uvarint length + bytes
//	           expiry    varint absolute Unix ms (only with snapHasExpiry)
//	           value     string: uvarint length + bytes
//	                     list, set: uvarint count, then each element
//	                     hash: uvarint count, then field, value pairs
//	                     zset: uvarint count, then member, score (u64 bits)
//	end:     snapEnd byte
//	trailer: crc32c (u32) of every byte before it
//
// The snapshot at LSN X holds exactly the effects of journal entries 1..X;
// recovery loads it and replays the journal after X. Files are named
// snapshot-<X, 20 digits>.snap; the newest two are kept so a corrupt newest
// one can fall back to the older, and the journal is compacted only up to
// the older one's LSN.
const (
	snapMagic     = "BATONSNP"
	snapVersion   = 1
	snapHeaderLen = 8 + 4 + 40 + 8
	snapPrefix    = "snapshot-"
	snapSuffix    = ".snap"
	snapTmpSuffix = ".tmp"
	snapsKept     = 2

	snapString    byte = 1
	snapList      byte = 2
	snapSet       byte = 3
	snapHash      byte = 4
	snapZSet      byte = 5
	snapHasExpiry byte = 0x80
	snapEnd       byte = 0xff
)

// crc32c is the Castagnoli table, as the journal uses.
var crc32c = crc32.MakeTable(crc32.Castagnoli)

// errSaveInProgress is Redis' reply when a snapshot is already running.
const errSaveInProgress = "ERR Background save already in progress"

// snapshotter is a node's snapshot state.
type snapshotter struct {
	// running is set while a snapshot is taken (one at a time).
	running atomic.Bool
	// lastLSN is the LSN of the newest durable snapshot (or the one
	// recovered from).
	lastLSN atomic.Uint64
	// lastSave is the Unix time in seconds of the last successful save
	// (LASTSAVE), initially the start time as in Redis.
	lastSave atomic.Int64
	// lastOK is false after a failed save (INFO persistence).
	lastOK atomic.Bool
	// bgReq asks the snapshot loop for a background save whose running
	// flag the requester already set.
	bgReq chan struct{}
}

// newSnapshotter returns the state for a node that recovered a snapshot at
// lsn (0 for none).
func newSnapshotter(lsn uint64) *snapshotter {
	sn := &snapshotter{bgReq: make(chan struct{}, 1)}
	sn.lastLSN.Store(lsn)
	sn.lastSave.Store(time.Now().Unix())
	sn.lastOK.Store(true)
	return sn
}

// PersistenceInfo is what INFO persistence reports about snapshots and the
// journal.
type PersistenceInfo struct {
	ChangesSinceLastSave uint64
	SaveInProgress       bool
	LastSaveTime         int64
	LastSaveOK           bool
	Replid               string
	LSN                  uint64
	JournalFsyncs        int64
	// JournalErr is the journal's sticky write or fsync error (nil when
	// healthy; INFO's aof_last_write_status).
	JournalErr error
}

// Persistence returns the snapshot and journal state for INFO.
func (s *Server) Persistence() PersistenceInfo {
	lsn := s.jr.LSN()
	pi := PersistenceInfo{Replid: s.jr.Replid(), LSN: lsn, JournalFsyncs: s.jr.Fsyncs(), LastSaveOK: true, JournalErr: s.jr.Err()}
	if sn := s.snap; sn != nil {
		pi.ChangesSinceLastSave = lsn - min(lsn, sn.lastLSN.Load())
		pi.SaveInProgress = sn.running.Load()
		pi.LastSaveTime = sn.lastSave.Load()
		pi.LastSaveOK = sn.lastOK.Load()
	}
	return pi
}

// cmdSave: SAVE takes a snapshot synchronously. Like Redis' SAVE it blocks
// every client meanwhile: the file is written with the keyspace lock held.
func (s *Server) cmdSave(c *keyspace.Ctx) {
	sn := s.snap
	if sn == nil {
		c.Err("ERR no data directory: this node keeps its data in memory only")
		return
	}
	if !sn.running.CompareAndSwap(false, true) {
		c.Err(errSaveInProgress)
		return
	}
	defer sn.running.Store(false)
	start := time.Now()
	if err := s.finishSnapshot(s.beginSnapshot()); err != nil {
		c.Err("ERR " + err.Error())
		return
	}
	s.met.snapshot.WithLabelValues("save").Observe(time.Since(start).Seconds())
	c.OK()
}

// cmdBgsave: BGSAVE [SCHEDULE] starts a snapshot in the background.
func (s *Server) cmdBgsave(c *keyspace.Ctx) {
	schedule := false
	if len(c.Args) > 2 || (len(c.Args) == 2 && !keyspace.EqFold(c.Args[1], "schedule")) {
		c.Err(keyspace.ErrSyntax)
		return
	} else if len(c.Args) == 2 {
		schedule = true
	}
	sn := s.snap
	if sn == nil {
		c.Err("ERR no data directory: this node keeps its data in memory only")
		return
	}
	if !sn.running.CompareAndSwap(false, true) {
		if schedule {
			c.W.WriteString("Background saving scheduled")
			return
		}
		c.Err(errSaveInProgress)
		return
	}
	select {
	case sn.bgReq <- struct{}{}:
	default:
	}
	c.W.WriteString("Background saving started")
}

// cmdLastsave: LASTSAVE replies the Unix time of the last successful save.
func (s *Server) cmdLastsave(c *keyspace.Ctx) {
	if sn := s.snap; sn != nil {
		c.W.WriteInt64(sn.lastSave.Load())
		return
	}
	c.W.WriteInt64(s.start.Unix())
}

// snapshotLoop takes background snapshots: on BGSAVE, and every
// SnapshotInterval when at least SnapshotMinWrites entries were journaled
// since the last one.
func (s *Server) snapshotLoop(ctx context.Context) {
	sn := s.snap
	var tick <-chan time.Time
	if s.cfg.SnapshotInterval > 0 {
		t := time.NewTicker(s.cfg.SnapshotInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-sn.bgReq:
		case <-tick:
			if s.jr.LSN()-min(s.jr.LSN(), sn.lastLSN.Load()) < s.cfg.SnapshotMinWrites {
				continue
			}
			if !sn.running.CompareAndSwap(false, true) {
				continue
			}
		}
		s.backgroundSnapshot()
		sn.running.Store(false)
	}
}

// backgroundSnapshot serializes the keyspace a step at a time, taking the
// keyspace lock only per step, so clients keep writing meanwhile, and
// writes the file without the lock. The caller set sn.running.
func (s *Server) backgroundSnapshot() {
	start := time.Now()
	var pause time.Duration
	locked := func(fn func()) {
		t := time.Now()
		s.mu.Lock()
		fn()
		s.mu.Unlock()
		pause = max(pause, time.Since(t))
	}
	var cs *cowSnapshot
	locked(func() { cs = s.startSnapshot(true) })
	for done := false; !done; {
		if s.life.Context().Err() != nil {
			locked(func() { s.abortSnapshot(cs) })
			return
		}
		locked(func() { done = s.stepSnapshot(cs, cowStepKeys) })
		// Go's mutex lets the releasing goroutine take it straight back:
		// yield, so waiting clients run between steps.
		runtime.Gosched()
	}
	var p *pendingSnapshot
	locked(func() { p = s.endSnapshot(cs) })
	if p == nil {
		s.log.Info("snapshot abandoned: the keyspace was replaced by a full sync")
		return
	}
	p.data = sealSnapshot(p.data)
	if err := s.finishSnapshot(p); err != nil {
		s.log.Error("snapshot failed", "lsn", p.lsn, "err", err)
		return
	}
	took := time.Since(start)
	s.met.snapshot.WithLabelValues("background").Observe(took.Seconds())
	s.log.Info("snapshot saved", "lsn", p.lsn, "bytes", len(p.data), "longest_pause", pause, "took", took)
}

// pendingSnapshot is a serialized keyspace not yet on disk.
type pendingSnapshot struct {
	lsn  uint64
	data []byte
}

// beginSnapshot serializes the whole keyspace at the current LSN in one go
// (SAVE, which blocks clients like Redis' SAVE); the caller holds s.mu.
func (s *Server) beginSnapshot() *pendingSnapshot {
	p := s.endSnapshot(s.startSnapshot(true))
	p.data = sealSnapshot(p.data)
	return p
}

// finishSnapshot makes a serialized snapshot durable: the journal up to its
// LSN first (so the journal on disk always reaches the newest snapshot),
// then the file (temp file, fsync, rename, directory fsync); then it drops
// old snapshots and the journal segments no kept snapshot needs.
func (s *Server) finishSnapshot(p *pendingSnapshot) (err error) {
	sn := s.snap
	defer func() { sn.lastOK.Store(err == nil) }()
	if err := s.jr.Sync(p.lsn); err != nil {
		return fmt.Errorf("journal sync: %w", err)
	}
	dir := s.cfg.DataDir
	path := filepath.Join(dir, snapshotName(p.lsn))
	if err := writeFileDurable(path, p.data); err != nil {
		return err
	}
	sn.lastLSN.Store(p.lsn)
	sn.lastSave.Store(time.Now().Unix())
	return s.pruneSnapshots()
}

// pruneSnapshots keeps the newest snapsKept snapshots and compacts the
// journal up to the oldest of them.
func (s *Server) pruneSnapshots() error {
	snaps, err := listSnapshots(s.cfg.DataDir)
	if err != nil {
		return err
	}
	if len(snaps) < snapsKept {
		return nil
	}
	for _, old := range snaps[snapsKept:] {
		if err := os.Remove(old.path); err != nil {
			return err
		}
	}
	if _, err := s.jr.Compact(snaps[snapsKept-1].lsn); err != nil {
		return fmt.Errorf("compact journal: %w", err)
	}
	return nil
}

// writeFileDurable writes data to path atomically and durably.
func writeFileDurable(path string, data []byte) error {
	tmp := path + snapTmpSuffix
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write snapshot %s: %w", path, err)
	}
	return syncDirectory(filepath.Dir(path))
}

// snapshotFile is a snapshot file found on disk.
type snapshotFile struct {
	path string
	lsn  uint64
}

// removeSnapshotTemps deletes the temp files of snapshot writes that a
// crash interrupted (at start-up, before any snapshot can be running).
func removeSnapshotTemps(dir string) {
	tmps, _ := filepath.Glob(filepath.Join(dir, snapPrefix+"*"+snapSuffix+snapTmpSuffix))
	for _, p := range tmps {
		os.Remove(p)
	}
}

// snapshotName is the file name of the snapshot at lsn.
func snapshotName(lsn uint64) string {
	return fmt.Sprintf("%s%020d%s", snapPrefix, lsn, snapSuffix)
}

// listSnapshots returns the snapshots in dir, newest first.
func listSnapshots(dir string) ([]snapshotFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []snapshotFile
	for _, de := range ents {
		name := de.Name()
		if !strings.HasPrefix(name, snapPrefix) {
			continue
		}
		digits := strings.TrimSuffix(strings.TrimPrefix(name, snapPrefix), snapSuffix)
		lsn, err := strconv.ParseUint(digits, 10, 64)
		if err != nil || len(digits) != 20 || !strings.HasSuffix(name, snapSuffix) {
			continue
		}
		out = append(out, snapshotFile{path: filepath.Join(dir, name), lsn: lsn})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].lsn > out[b].lsn })
	return out, nil
}

// encodeSnapshot serializes db as a snapshot at (replid, lsn).
func encodeSnapshot(replid string, lsn uint64, db *keyspace.DB) []byte {
	b := make([]byte, 0, 64+32*len(db.Keys))
	b = append(b, snapMagic...)
	b = binary.LittleEndian.AppendUint32(b, snapVersion)
	var id [40]byte
	copy(id[:], replid)
	b = append(b, id[:]...)
	b = binary.LittleEndian.AppendUint64(b, lsn)
	for key, v := range db.Keys {
		b = appendSnapshotKey(b, key, v, db.Expires)
	}
	b = append(b, snapEnd)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crc32c))
}

// appendSnapshotKey appends one key's record. Empty collections (which
// Redis never keeps) are left out.
func appendSnapshotKey(b []byte, key string, v any, expires map[string]int64) []byte {
	var typ byte
	switch val := v.(type) {
	case []byte:
		typ = snapString
	case *keyspace.List:
		typ = snapList
		if val.Len() == 0 {
			return b
		}
	case keyspace.Set:
		typ = snapSet
		if len(val) == 0 {
			return b
		}
	case keyspace.Hash:
		typ = snapHash
		if len(val) == 0 {
			return b
		}
	case *keyspace.ZSet:
		typ = snapZSet
		if val.Len() == 0 {
			return b
		}
	default:
		panic(fmt.Sprintf("snapshot: key %q has unknown value type %T", key, v))
	}
	when, hasExpiry := expires[key]
	if hasExpiry {
		typ |= snapHasExpiry
	}
	b = append(b, typ)
	b = appendSnapString(b, key)
	if hasExpiry {
		b = binary.AppendVarint(b, when)
	}
	switch val := v.(type) {
	case []byte:
		b = appendSnapBytes(b, val)
	case *keyspace.List:
		b = binary.AppendUvarint(b, uint64(val.Len()))
		val.Range(func(e []byte) bool {
			b = appendSnapBytes(b, e)
			return true
		})
	case keyspace.Set:
		b = binary.AppendUvarint(b, uint64(len(val)))
		for m := range val {
			b = appendSnapString(b, m)
		}
	case keyspace.Hash:
		b = binary.AppendUvarint(b, uint64(len(val)))
		for f, fv := range val {
			b = appendSnapString(b, f)
			b = appendSnapBytes(b, fv)
		}
	case *keyspace.ZSet:
		b = binary.AppendUvarint(b, uint64(val.Len()))
		val.Range(func(m string, score float64) bool {
			b = appendSnapString(b, m)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(score))
			return true
		})
	}
	return b
}

// appendSnapBytes appends a length-prefixed byte string.
func appendSnapBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// appendSnapString appends a length-prefixed string.
func appendSnapString(b []byte, v string) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}
