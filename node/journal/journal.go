package journal

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Entry is one journaled write: the command in its effective, deterministic
// form, and its position in the history.
type Entry struct {
	LSN  uint64
	Args [][]byte
}

// Policy is the fsync policy: "always", "everysec" or "no".
type Policy string

// Fsync policies, with the meaning of Redis' appendfsync.
const (
	// Always makes WaitDurable wait for an fsync covering the entry; one
	// fsync serves every waiter that arrived meanwhile (group commit).
	Always Policy = "always"
	// EverySec writes every batch promptly and fsyncs once a second.
	EverySec Policy = "everysec"
	// No writes every batch promptly and leaves flushing to the OS.
	No Policy = "no"
)

// ErrClosed is returned by WaitDurable and Sync for entries the journal
// could not make durable because it was closed first.
var ErrClosed = errors.New("journal: closed")

// Options configure a Journal.
type Options struct {
	// Dir holds the segment files; empty keeps the journal in memory only
	// (LSNs are still assigned).
	Dir string
	// Fsync is the fsync policy.
	Fsync Policy
	// Replid is the history being recovered (the snapshot's); empty means
	// the journal's own, or a new one for an empty directory. Segments of
	// another history are refused.
	Replid string
	// After is the LSN the caller already holds (a snapshot's): entries up
	// to it are skipped, and appending continues after max(After, last
	// entry on disk).
	After uint64
	// BacklogBytes is how much of the newest journal the backlog keeps in
	// memory for partial resync (0: DefaultBacklogBytes; negative: none).
	BacklogBytes int
	// BacklogHardBytes caps the backlog while open Cursors pin records
	// they have not read yet (0: max(DefaultBacklogHardBytes,
	// 4×BacklogBytes); negative: cursors pin nothing). Past the cap the
	// oldest records go anyway and the cursors left behind get
	// ErrNotInBacklog, as Redis disconnects a replica whose output buffer
	// exceeds client-output-buffer-limit.
	BacklogHardBytes int
	// Apply, when set, is called by Open for every entry after After, in
	// LSN order. The entry's Args are not reused by the journal.
	Apply func(Entry) error
	// OnFsync, when set, is told the duration of every fsync of segment
	// data (metrics). It runs on the goroutine doing the fsync and must
	// not block.
	OnFsync func(time.Duration)
}

// RecoveryInfo describes what Open found on disk.
type RecoveryInfo struct {
	// Segments is the number of segment files found.
	Segments int
	// Applied is the number of entries passed to Options.Apply.
	Applied int
	// TornFile, TornOffset and TornBytes describe a torn last record that
	// was cut off (TornFile is empty when there was none).
	TornFile   string
	TornOffset int64
	TornBytes  int64
}

// Journal assigns LSNs and makes entries durable. Append is called with the
// caller's lock held, in LSN order; it never waits for I/O: it encodes the
// entry into a buffer that one writer goroutine hands to the OS and fsyncs
// according to the policy.
type Journal struct {
	opts Options
	info RecoveryInfo

	mu sync.Mutex
	// replid is the current history; prevReplid and prevEnd are the
	// history it continues and that history's last LSN (PSYNC2: a replica
	// of prevReplid holding at most prevEnd entries is a prefix of ours).
	replid, prevReplid string
	prevEnd            uint64
	// gen counts Resets: a WaitDurable or Sync that sees it change returns
	// ErrReset, since the entry it waited for belonged to a discarded
	// history.
	gen uint64
	// durable is signalled whenever written, synced or err change.
	durable *sync.Cond
	// lsn is the last assigned LSN.
	lsn uint64
	// buf holds encoded records the writer has not taken yet; marks are
	// the segment rotations requested inside it.
	buf   []byte
	marks []mark
	// headFirst is the first LSN of the newest segment, pending or not.
	headFirst uint64
	// written and synced are the highest LSNs handed to the OS and fsynced.
	written, synced uint64
	// syncReq is the highest LSN a Sync caller forces to disk.
	syncReq uint64
	// bl is the replication backlog; scratch encodes records for it when
	// there is no file to write.
	bl      backlog
	scratch []byte
	// writing is set while one goroutine flushes (the writer or a waiting
	// client); spare is a drained buffer kept for reuse.
	writing bool
	spare   []byte
	// err is the first write or fsync error; it is sticky.
	err error
	// closing is set by Close; stopped once the writer has exited.
	closing, stopped bool
	// segs are the segment files on disk, oldest first.
	segs []segment

	kick   chan struct{}
	done   chan struct{}
	fsyncs atomic.Int64
	// bytesOut counts the record bytes written to segment files.
	bytesOut atomic.Uint64

	// fileMu lets the everysec fsync use f while a writer writes to it;
	// only a rotation (which swaps f) excludes it.
	fileMu sync.RWMutex
	// f is the active segment, written only by the current writer.
	f *os.File
	// Test hooks, read by the writer: beforeFsync runs before each fsync,
	// writeHook can fail a write.
	beforeFsync func()
	writeHook   func() error
}

// segment is one segment file on disk.
type segment struct {
	path  string
	first uint64
}

// mark is a rotation requested at offset off of the pending buffer: the
// records from there on go to a new segment starting at first, whose
// header carries replid (the history current when the mark was made, so a
// NewHistory between the mark and the writer does not relabel it).
type mark struct {
	off    int
	first  uint64
	replid string
}

// Open opens (or creates) the journal in opts.Dir, replays the entries after
// opts.After through opts.Apply, cuts off a torn last record, and returns
// the journal ready to append after the last entry.
func Open(opts Options) (*Journal, error) {
	if opts.Fsync == "" {
		opts.Fsync = EverySec
	}
	j := &Journal{opts: opts, replid: opts.Replid, lsn: opts.After}
	switch {
	case opts.BacklogBytes == 0:
		j.bl.limit = DefaultBacklogBytes
	case opts.BacklogBytes > 0:
		j.bl.limit = opts.BacklogBytes
	}
	switch {
	case opts.BacklogHardBytes == 0:
		j.bl.hard = max(DefaultBacklogHardBytes, 4*j.bl.limit)
	case opts.BacklogHardBytes > 0:
		j.bl.hard = opts.BacklogHardBytes
	}
	j.durable = sync.NewCond(&j.mu)
	if opts.Dir == "" {
		if j.replid == "" {
			j.replid = NewReplid()
		}
		return j, nil
	}
	if err := j.recover(); err != nil {
		if j.f != nil {
			j.f.Close()
		}
		return nil, err
	}
	j.written, j.synced = j.lsn, j.lsn
	j.kick = make(chan struct{}, 1)
	j.done = make(chan struct{})
	go j.run()
	return j, nil
}

// Append records args as the next entry and returns its LSN. It only
// encodes into memory; the writer goroutine does the I/O. Open Cursors are
// signalled (a non-blocking send each, no allocation).
func (j *Journal) Append(args [][]byte) uint64 {
	j.mu.Lock()
	j.lsn++
	lsn := j.lsn
	switch {
	case j.kick != nil:
		start := len(j.buf)
		j.buf = appendRecord(j.buf, lsn, args)
		if j.bl.limit > 0 {
			j.bl.add(lsn, j.buf[start:])
		}
	case j.bl.limit > 0:
		j.scratch = appendRecord(j.scratch[:0], lsn, args)
		j.bl.add(lsn, j.scratch)
	}
	for _, c := range j.bl.cursors {
		c.signal()
	}
	j.mu.Unlock()
	return lsn
}

// wake tells the writer there is work, without ever blocking.
func (j *Journal) wake() {
	if j.kick == nil {
		return
	}
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

// WaitDurable returns once the entry at lsn is as durable as the policy
// promises before a reply: fsynced for "always" (group commit); written to
// the OS for "everysec" and "no" (one write serves every waiting client, so
// a process crash loses nothing). It returns the journal's sticky write or
// fsync error, if any: the entry must then not be acknowledged. A Reset
// while it waits, or an LSN beyond the last assigned one (discarded by a
// Reset), makes it return ErrReset.
func (j *Journal) WaitDurable(lsn uint64) error {
	if j.kick == nil {
		return nil
	}
	if j.opts.Fsync != Always {
		return j.waitWritten(lsn)
	}
	return j.waitSynced(lsn)
}

// waitWritten waits until lsn was handed to the OS (write(2) returned), so
// a crash of the process alone loses no acknowledged write, as with Redis'
// appendfsync everysec and no.
func (j *Journal) waitWritten(lsn uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	gen := j.gen
	for j.written < lsn && j.err == nil && !j.stopped && j.gen == gen && lsn <= j.lsn {
		if j.writing || j.closing {
			j.durable.Wait()
			continue
		}
		j.flushLocked(false)
	}
	switch {
	case j.gen != gen || lsn > j.lsn:
		return ErrReset
	case j.written >= lsn:
		return nil
	case j.err != nil:
		return j.err
	}
	return ErrClosed
}

// Sync forces every entry up to lsn to be written and fsynced, whatever the
// policy, and waits for it (snapshots use it so that the journal on disk
// always reaches the snapshot's LSN).
func (j *Journal) Sync(lsn uint64) error {
	if j.kick == nil {
		return nil
	}
	j.mu.Lock()
	if lsn > j.syncReq {
		j.syncReq = lsn
	}
	j.mu.Unlock()
	j.wake()
	return j.waitSynced(lsn)
}

// waitSynced waits until an fsync covered lsn, or the journal failed or
// stopped.
func (j *Journal) waitSynced(lsn uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	gen := j.gen
	for j.synced < lsn && j.err == nil && !j.stopped && j.gen == gen && lsn <= j.lsn {
		if j.writing || j.closing {
			j.durable.Wait()
			continue
		}
		j.flushLocked(true)
	}
	switch {
	case j.gen != gen || lsn > j.lsn:
		return ErrReset
	case j.synced >= lsn:
		return nil
	case j.err != nil:
		return j.err
	}
	return ErrClosed
}

// Err is the sticky write or fsync error, nil while the journal is healthy.
func (j *Journal) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// LSN is the last assigned LSN.
func (j *Journal) LSN() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.lsn
}

// Replid is the replication id of the current history (NewHistory and
// Reset change it).
func (j *Journal) Replid() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.replid
}

// Recovery describes what Open found on disk.
func (j *Journal) Recovery() RecoveryInfo { return j.info }

// Fsyncs is the number of fsyncs of segment data so far (group commit makes
// it smaller than the number of acknowledged writes under "always").
func (j *Journal) Fsyncs() int64 { return j.fsyncs.Load() }

// BytesWritten is the number of record bytes written to segment files so
// far (0 for a journal kept in memory).
func (j *Journal) BytesWritten() uint64 { return j.bytesOut.Load() }

// Rotate starts a new segment at the next LSN (the writer creates the file;
// Rotate itself does no I/O, so it may be called under the caller's lock).
// It returns the new segment's first LSN. Rotating an empty segment is a
// no-op.
func (j *Journal) Rotate() uint64 {
	j.mu.Lock()
	first := j.lsn + 1
	if j.kick == nil || first == j.headFirst || j.closing {
		j.mu.Unlock()
		return first
	}
	j.marks = append(j.marks, mark{off: len(j.buf), first: first, replid: j.replid})
	j.headFirst = first
	j.mu.Unlock()
	j.wake()
	return first
}

// Compact deletes the segment files whose entries all have LSN <= upto
// (never the active segment) and returns how many it deleted.
func (j *Journal) Compact(upto uint64) (int, error) {
	if j.kick == nil {
		return 0, nil
	}
	j.mu.Lock()
	n := 0
	for n+1 < len(j.segs) && j.segs[n+1].first <= upto+1 {
		n++
	}
	gone := append([]segment(nil), j.segs[:n]...)
	j.segs = j.segs[n:]
	j.mu.Unlock()
	var firstErr error
	for _, sg := range gone {
		if err := os.Remove(sg.path); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if n > 0 {
		if err := syncDir(j.opts.Dir); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return n, firstErr
}

// Segments lists the segment files on disk, oldest first.
func (j *Journal) Segments() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]string, len(j.segs))
	for i, sg := range j.segs {
		out[i] = sg.path
	}
	return out
}

// Close writes and fsyncs everything appended, stops the writer and closes
// the active segment. It returns the sticky error, if any.
func (j *Journal) Close() error {
	if j.kick == nil {
		return nil
	}
	j.mu.Lock()
	if j.closing {
		j.mu.Unlock()
		<-j.done
		return nil
	}
	j.closing = true
	j.mu.Unlock()
	j.wake()
	<-j.done
	err := j.f.Close()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	return err
}

// NewReplid returns a random 40-hex-digit replication id.
func NewReplid() string {
	var b [20]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// syncDir fsyncs a directory so that file creations, renames and removals
// in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// createSegment atomically creates the segment file starting at first with
// its header written and fsynced (temp file, rename, directory fsync), and
// returns it open for appending.
func createSegment(dir, replid string, first uint64) (*os.File, string, error) {
	path := filepath.Join(dir, segmentName(first))
	tmp := path + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, "", err
	}
	if _, err := f.Write(appendHeader(nil, header{Replid: replid, FirstLSN: first})); err != nil {
		f.Close()
		return nil, "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		f.Close()
		return nil, "", err
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, "", err
	}
	return f, path, nil
}
