package node

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"os"
	"time"

	"github.com/batonkv/baton/node/journal"
	"github.com/batonkv/baton/node/keyspace"
)

// errBadSnapshot wraps every reason a snapshot file does not load.
var errBadSnapshot = errors.New("bad snapshot")

// snapshotData is a decoded snapshot.
type snapshotData struct {
	replid  string
	lsn     uint64
	keys    map[string]any
	expires map[string]int64
}

// recover rebuilds the keyspace from cfg.DataDir — the newest snapshot that
// verifies, then the journal entries after it — and opens the journal for
// appending after the last recovered entry: in a new history continuing the
// recovered one when the node starts as a primary, in the same history
// when it starts as a replica (see the invariant below). A torn last
// journal record is cut off and logged; corruption anywhere else, or an
// LSN gap, refuses to start.
func (s *Server) recover() (*journal.Journal, error) {
	opts := journal.Options{Dir: s.cfg.DataDir, Fsync: journal.Policy(s.cfg.Fsync), BacklogBytes: s.cfg.BacklogBytes,
		OnFsync: func(d time.Duration) { s.met.fsync.Observe(d.Seconds()) }}
	if s.cfg.DataDir == "" {
		return journal.Open(opts)
	}
	if err := os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	removeSnapshotTemps(s.cfg.DataDir)
	if discarded, err := discardInterruptedFullSync(s.cfg.DataDir); err != nil {
		return nil, fmt.Errorf("discard an interrupted full sync: %w", err)
	} else if discarded {
		s.log.Warn("a full sync was interrupted while replacing the data files: starting empty (the replica syncs again)")
	}
	snap, err := s.loadSnapshot()
	if err != nil {
		return nil, err
	}
	if snap != nil {
		s.db.Keys, s.db.Expires = snap.keys, snap.expires
		opts.After = snap.lsn
		if snap.lsn > 0 {
			// A snapshot at 0 holds no entry of any history: the
			// journal's own id stands.
			opts.Replid = snap.replid
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var txn txnReplay
	opts.Apply = func(e journal.Entry) error {
		if len(e.Args) == 0 {
			return fmt.Errorf("empty entry: %w", errBadEntry)
		}
		return txn.apply(e.Args, s.applyEntry)
	}
	jr, err := journal.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("recover from %s: %w", s.cfg.DataDir, err)
	}
	if n := txn.unfinished(); n >= 0 {
		// The journal ends inside a transaction (a crash cut it): its
		// client never got EXEC's reply, so none of it is applied, and a
		// discard marker closes it for every later recovery.
		s.log.Warn("journal: unfinished transaction at the end dropped", "entries", n)
		s.lastLSN = jr.Append([][]byte{[]byte(journalDiscard)})
	}
	info := jr.Recovery()
	if info.TornFile != "" {
		s.log.Warn("journal: torn last record cut off, not applied",
			"file", info.TornFile, "offset", info.TornOffset, "bytes", info.TornBytes)
	}
	s.lastLSN = jr.LSN()
	// Invariant: a node never appends its own entries to a history it
	// recovered. It streamed entries before journaling them, so its
	// replicas may hold entries of that history past what the disk kept;
	// continuing it would give those LSNs other contents. A node starting
	// as a primary begins a new history at the recovered LSN, remembering
	// the recovered one as the previous history ending there (as a
	// promotion does): a replica at or below that LSN continues with a
	// partial sync, one beyond it gets a full sync (repl.Accept). A node
	// starting as a replica continues its primary's history; it would mint
	// one only at promotion, which does the same. The boundary is forced
	// to disk below, before the node serves.
	var hist journal.History
	if s.cfg.ReplicaOf == "" {
		hist = jr.NewHistory()
	}
	snapLSN := uint64(0)
	if snap != nil {
		snapLSN = snap.lsn
	}
	s.snap = newSnapshotter(snapLSN)
	s.log.Info("recovered", "dir", s.cfg.DataDir, "replid", jr.Replid(), "snapshot_lsn", snapLSN,
		"journal_entries", info.Applied, "lsn", jr.LSN(), "keys", len(s.db.Keys),
		"prev_replid", jr.History().PrevReplid)
	if hist.Replid != "" {
		if err := jr.Sync(hist.LSN); err != nil {
			jr.Close()
			return nil, fmt.Errorf("start a new history after recovery: %w", err)
		}
	}
	return jr, nil
}

// loadSnapshot returns the newest snapshot in the data directory whose
// checksum verifies, or nil when there is none. A newest snapshot that does
// not verify falls back to an older one (logged); if none verifies, that is
// an error.
func (s *Server) loadSnapshot() (*snapshotData, error) {
	snaps, err := listSnapshots(s.cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	var errs []error
	for _, sf := range snaps {
		snap, err := readSnapshotFile(sf.path)
		if err == nil && snap.lsn != sf.lsn {
			err = fmt.Errorf("%w: header LSN %d does not match the file name", errBadSnapshot, snap.lsn)
		}
		if err == nil {
			return snap, nil
		}
		s.log.Warn("snapshot does not load; trying an older one", "file", sf.path, "err", err)
		errs = append(errs, fmt.Errorf("%s: %w", sf.path, err))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("no snapshot verifies, refusing to start: %w", errors.Join(errs...))
	}
	return nil, nil
}

// readSnapshotFile decodes the snapshot at path.
func readSnapshotFile(path string) (*snapshotData, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return decodeSnapshot(f, st.Size())
}

// snapReader reads a snapshot's body, checksumming what it reads and never
// reading (or allocating) past the trailer.
type snapReader struct {
	r    *bufio.Reader
	crc  hash.Hash32
	left int64 // bytes before the trailer not yet read
	err  error
}

// fail records the first error.
func (r *snapReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{errBadSnapshot}, args...)...)
	}
}

// bytes reads n bytes.
func (r *snapReader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(r.left) {
		r.fail("length %d exceeds the %d bytes left", n, r.left)
		return nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.r, b); err != nil {
		r.fail("read: %v", err)
		return nil
	}
	r.left -= int64(n)
	r.crc.Write(b)
	return b
}

// byte reads one byte.
func (r *snapReader) byte() byte {
	b := r.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

// u64 reads a little-endian uint64.
func (r *snapReader) u64() uint64 {
	b := r.bytes(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// uvarint reads an unsigned varint.
func (r *snapReader) uvarint() uint64 {
	var x uint64
	for shift := 0; shift < 70; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if shift == 63 && c > 1 {
			break
		}
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x
		}
	}
	r.fail("varint overflows 64 bits")
	return 0
}

// varint reads a zig-zag signed varint.
func (r *snapReader) varint() int64 {
	u := r.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// count reads an element count; every element takes at least one byte, so
// a count beyond the bytes left is corrupt.
func (r *snapReader) count() int {
	n := r.uvarint()
	if n > uint64(r.left) {
		r.fail("count %d exceeds the %d bytes left", n, r.left)
		return 0
	}
	return int(n)
}

// str reads a length-prefixed byte string.
func (r *snapReader) str() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	return r.bytes(n)
}

// decodeSnapshot decodes a snapshot of size bytes from rd. It accepts the
// data only if the trailer checksum matches everything before it, nothing
// follows it, and every record is well formed.
//
// A negative size means a stream of unknown length (a full sync): the
// snapshot must then end with its trailer exactly where rd ends.
func decodeSnapshot(rd io.Reader, size int64) (*snapshotData, error) {
	streamed := size < 0
	if !streamed && size < snapHeaderLen+1+4 {
		return nil, fmt.Errorf("%w: %d bytes is too short", errBadSnapshot, size)
	}
	left := size - 4
	if streamed {
		left = math.MaxInt64
	}
	r := &snapReader{r: bufio.NewReaderSize(rd, 256<<10), crc: crc32.New(crc32c), left: left}
	if magic := r.bytes(8); r.err == nil && string(magic) != snapMagic {
		return nil, fmt.Errorf("%w: bad magic %q", errBadSnapshot, magic)
	}
	if v := r.bytes(4); r.err == nil && binary.LittleEndian.Uint32(v) != snapVersion {
		return nil, fmt.Errorf("%w: unsupported version %d", errBadSnapshot, binary.LittleEndian.Uint32(v))
	}
	snap := &snapshotData{replid: string(r.bytes(40)), lsn: r.u64(),
		keys: make(map[string]any), expires: make(map[string]int64)}
	for r.err == nil {
		typ := r.byte()
		if r.err != nil || typ == snapEnd {
			break
		}
		key := string(r.str())
		if typ&snapHasExpiry != 0 {
			snap.expires[key] = r.varint()
		}
		v := r.value(typ &^ snapHasExpiry)
		if r.err != nil {
			break
		}
		if _, dup := snap.keys[key]; dup {
			r.fail("key %q appears twice", key)
			break
		}
		snap.keys[key] = v
	}
	if r.err != nil {
		return nil, r.err
	}
	if !streamed && r.left != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the end marker", errBadSnapshot, r.left)
	}
	var trailer [4]byte
	if _, err := io.ReadFull(r.r, trailer[:]); err != nil {
		return nil, fmt.Errorf("%w: trailer: %v", errBadSnapshot, err)
	}
	if streamed {
		if n, _ := r.r.Read(make([]byte, 1)); n > 0 {
			return nil, fmt.Errorf("%w: data after the trailer", errBadSnapshot)
		}
	}
	if got, want := binary.LittleEndian.Uint32(trailer[:]), r.crc.Sum32(); got != want {
		return nil, fmt.Errorf("%w: checksum %08x, computed %08x", errBadSnapshot, got, want)
	}
	if !journal.ValidReplid(snap.replid) {
		return nil, fmt.Errorf("%w: bad replication id %q", errBadSnapshot, snap.replid)
	}
	return snap, nil
}

// value reads one value of type typ.
func (r *snapReader) value(typ byte) any {
	switch typ {
	case snapString:
		return r.str()
	case snapList:
		n := r.count()
		l := keyspace.NewList()
		for i := 0; i < n && r.err == nil; i++ {
			l.PushBack(r.str())
		}
		r.nonEmpty(n)
		return l
	case snapSet:
		n := r.count()
		set := make(keyspace.Set, min(n, 1<<16))
		for i := 0; i < n && r.err == nil; i++ {
			set[string(r.str())] = struct{}{}
		}
		r.distinct(n, len(set))
		return set
	case snapHash:
		n := r.count()
		h := make(keyspace.Hash, min(n, 1<<16))
		for i := 0; i < n && r.err == nil; i++ {
			f := string(r.str())
			h[f] = r.str()
		}
		r.distinct(n, len(h))
		return h
	case snapZSet:
		n := r.count()
		z := keyspace.NewZSet()
		for i := 0; i < n && r.err == nil; i++ {
			m := string(r.str())
			score := math.Float64frombits(r.u64())
			if math.IsNaN(score) {
				r.fail("NaN score")
			}
			z.Add(m, score)
		}
		r.distinct(n, z.Len())
		return z
	}
	r.fail("unknown value type %d", typ)
	return nil
}

// nonEmpty rejects empty collections, which a snapshot never holds.
func (r *snapReader) nonEmpty(n int) {
	if n == 0 {
		r.fail("empty collection")
	}
}

// distinct rejects empty collections and duplicate members.
func (r *snapReader) distinct(n, got int) {
	r.nonEmpty(n)
	if r.err == nil && got != n {
		r.fail("%d elements but %d distinct", n, got)
	}
}
