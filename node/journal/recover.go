package journal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrGap means the journal does not continue where it should: an LSN is
// missing between two records, two segments, or the snapshot and the
// journal.
var ErrGap = errors.New("journal: LSN gap")

// ErrOtherHistory means the journal does not continue the snapshot it is
// recovered with: the segment holding the entry after the snapshot has
// another replication id.
var ErrOtherHistory = errors.New("journal: another history")

// segmentScan is the result of reading one segment.
type segmentScan struct {
	hdr header
	// end is the offset just past the last good record.
	end int64
	// last is the LSN of the last good record (hdr.FirstLSN-1 if none).
	last uint64
	// bad is why reading stopped before the end of the data (nil at a
	// clean end): a short or corrupt record at offset end.
	bad error
}

// scanSegment reads a segment of size bytes from r, calling fn for every
// good record in order. It stops at the first record that does not decode
// and reports it in bad; an unreadable header, an LSN out of sequence in a
// record whose checksum verifies, an I/O error or an error from fn are
// returned as err.
func scanSegment(r io.Reader, size int64, fn func(Entry) error) (segmentScan, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var sc segmentScan
	var hb [headerSize]byte
	if _, err := io.ReadFull(br, hb[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return sc, fmt.Errorf("header: %w", errShort)
		}
		return sc, err
	}
	h, err := decodeHeader(hb[:])
	if err != nil {
		return sc, fmt.Errorf("header: %w", err)
	}
	sc.hdr, sc.end, sc.last = h, headerSize, h.FirstLSN-1
	var head [recordHead]byte
	for {
		if _, err := io.ReadFull(br, head[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return sc, nil
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				sc.bad = errShort
				return sc, nil
			}
			return sc, err
		}
		n, err := recordLen(head[:])
		if err != nil {
			sc.bad = err
			return sc, nil
		}
		if int64(n) > size-sc.end-recordHead {
			sc.bad = errShort
			return sc, nil
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				sc.bad = errShort
				return sc, nil
			}
			return sc, err
		}
		e, err := decodePayload(binary.LittleEndian.Uint32(head[4:]), payload)
		if err != nil {
			sc.bad = err
			return sc, nil
		}
		if e.LSN != sc.last+1 {
			return sc, fmt.Errorf("%w: record at offset %d has LSN %d, want %d", ErrGap, sc.end, e.LSN, sc.last+1)
		}
		if fn != nil {
			if err := fn(e); err != nil {
				return sc, err
			}
		}
		sc.end += int64(recordHead + n)
		sc.last = e.LSN
	}
}

// validRecordAfter reports whether b (the bytes after a bad record's start)
// holds, at some offset past 0, a record whose checksum verifies and whose
// LSN follows last: proof that the bad record is corruption in the middle
// rather than a torn tail.
func validRecordAfter(b []byte, last uint64) (int, bool) {
	for i := 1; i+recordHead+minPayload <= len(b); i++ {
		n := int(binary.LittleEndian.Uint32(b[i:]))
		if n < minPayload || n > len(b)-i-recordHead {
			continue
		}
		lsn := binary.LittleEndian.Uint64(b[i+recordHead:])
		if lsn <= last || lsn-last > 1<<32 {
			continue
		}
		if _, _, err := decodeRecord(b[i:]); err == nil {
			return i, true
		}
	}
	return 0, false
}

// listSegments returns the segment files in dir ordered by first LSN,
// removing leftover temporary files of interrupted segment creations.
func listSegments(dir string) ([]segment, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var segs []segment
	for _, de := range ents {
		name := de.Name()
		if strings.HasPrefix(name, segmentPrefix) && strings.HasSuffix(name, segmentSuffix+tmpSuffix) {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		if first, ok := parseSegmentName(name); ok && de.Type().IsRegular() {
			segs = append(segs, segment{path: filepath.Join(dir, name), first: first})
		}
	}
	sort.Slice(segs, func(a, b int) bool { return segs[a].first < segs[b].first })
	return segs, nil
}

// histSeg is one link of the history chain recovery reconstructs: a
// segment's replication id and first LSN (0 for the snapshot's id, which
// precedes the segments).
type histSeg struct {
	replid string
	first  uint64
}

// prevHistory returns the history before the newest one of chain (ordered
// by LSN): the id before its last change, and the LSN just before the
// segment where it changed. Empty and 0 when the id never changes.
func prevHistory(chain []histSeg) (string, uint64) {
	for i := len(chain) - 1; i > 0; i-- {
		if chain[i].replid != chain[i-1].replid {
			return chain[i-1].replid, chain[i].first - 1
		}
	}
	return "", 0
}

// recover reads the segments in the directory, applies the entries after
// opts.After, cuts off a torn last record, and leaves j.f open on the
// segment to append to.
//
// The segments form one LSN sequence but may change history (replication
// id) at a segment boundary, where NewHistory started a segment: the
// newest segment's id is the current history, the last change gives the
// previous one. The snapshot (opts.Replid at opts.After) must belong to the
// history of the segment holding After+1, unless that segment starts at
// After+1 (After > 0): a promotion may have happened right at the snapshot.
func (j *Journal) recover() error {
	dir := j.opts.Dir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("journal: create %s: %w", dir, err)
	}
	segs, err := listSegments(dir)
	if err != nil {
		return fmt.Errorf("journal: list %s: %w", dir, err)
	}
	j.info.Segments = len(segs)
	after := j.opts.After
	last := after // the last LSN recovered, from the snapshot or the journal
	var tail segmentScan
	scanned := false
	var chain []histSeg
	for i, sg := range segs {
		newest := i == len(segs)-1
		if !newest && segs[i+1].first <= after+1 {
			// Every entry is covered by the snapshot: the segment is
			// neither read nor checked; its header, if readable, only
			// extends the history chain.
			if h, err := readHeader(sg.path); err == nil {
				chain = append(chain, histSeg{h.Replid, sg.first})
			}
			continue
		}
		switch {
		case !scanned && sg.first > after+1:
			return fmt.Errorf("%w: %s starts at LSN %d but the snapshot ends at %d",
				ErrGap, sg.path, sg.first, after)
		case scanned && sg.first != tail.last+1:
			return fmt.Errorf("%w: %s starts at LSN %d but the previous segment ends at %d",
				ErrGap, sg.path, sg.first, tail.last)
		}
		var refuse error
		if !scanned {
			if refuse, err = j.checkSnapshotHistory(sg); err != nil {
				return err
			}
			if len(chain) == 0 && j.opts.Replid != "" {
				chain = append(chain, histSeg{j.opts.Replid, 0})
			}
		}
		sc, err := j.readSegment(sg, newest, refuse)
		if err != nil {
			return err
		}
		if refuse != nil && sc.last >= after {
			// The segment holds (or, being the newest, would receive)
			// After+1.
			return refuse
		}
		if sc.last > last {
			last = sc.last
		}
		chain = append(chain, histSeg{sc.hdr.Replid, sg.first})
		tail, scanned = sc, true
	}
	j.lsn = last
	if len(segs) == 0 || tail.last < after {
		// Empty directory, or a journal that ends before the snapshot:
		// continue in a new segment right after the snapshot, in its
		// history. The old segments are not part of that history's chain,
		// nor of the backlog (which must be gapless).
		j.bl.reset()
		switch {
		case j.opts.Replid != "":
			j.replid = j.opts.Replid
		case scanned:
			j.replid = tail.hdr.Replid
		default:
			j.replid = NewReplid()
		}
		f, path, err := createSegment(dir, j.replid, after+1)
		if err != nil {
			return fmt.Errorf("journal: create segment: %w", err)
		}
		j.f = f
		j.segs = append(segs, segment{path: path, first: after + 1})
		j.headFirst = after + 1
		return nil
	}
	j.replid = tail.hdr.Replid
	j.prevReplid, j.prevEnd = prevHistory(chain)
	tailSeg := segs[len(segs)-1]
	f, err := os.OpenFile(tailSeg.path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("journal: open %s: %w", tailSeg.path, err)
	}
	if _, err := f.Seek(tail.end, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("journal: seek %s: %w", tailSeg.path, err)
	}
	j.f = f
	j.segs = segs
	j.headFirst = tailSeg.first
	return nil
}

// checkSnapshotHistory reads the header of sg, the first segment recovery
// reads, and returns a non-nil refuse error when its history is not the
// snapshot's although it may hold After+1: the caller refuses the segment
// if it does (rather than ending before the snapshot, in which case it is
// irrelevant). err reports an unreadable header.
func (j *Journal) checkSnapshotHistory(sg segment) (refuse, err error) {
	want, after := j.opts.Replid, j.opts.After
	if want == "" || (sg.first == after+1 && after > 0) {
		return nil, nil
	}
	h, err := readHeader(sg.path)
	if err != nil {
		return nil, err
	}
	if h.Replid == want {
		return nil, nil
	}
	return fmt.Errorf("%w: %s has replication id %s but the snapshot at LSN %d is of %s",
		ErrOtherHistory, sg.path, h.Replid, after, want), nil
}

// readHeader reads and decodes the header of the segment file at path.
func readHeader(path string) (header, error) {
	f, err := os.Open(path)
	if err != nil {
		return header{}, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	var b [headerSize]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errShort
		}
		return header{}, fmt.Errorf("journal %s: header: %w", path, err)
	}
	h, err := decodeHeader(b[:])
	if err != nil {
		return header{}, fmt.Errorf("journal %s: header: %w", path, err)
	}
	return h, nil
}

// readSegment scans one segment, applying entries after opts.After (unless
// refuse is set: the first such entry then fails the scan with it). A bad
// record in the newest segment with nothing valid after it is a torn tail:
// the file is truncated there. Any other bad record is corruption and an
// error naming the file and offset.
func (j *Journal) readSegment(sg segment, newest bool, refuse error) (segmentScan, error) {
	f, err := os.Open(sg.path)
	if err != nil {
		return segmentScan{}, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return segmentScan{}, fmt.Errorf("journal: %w", err)
	}
	size := st.Size()
	sc, err := scanSegment(f, size, func(e Entry) error {
		if j.bl.limit > 0 && (j.bl.first == 0 || e.LSN == j.bl.first+uint64(len(j.bl.offs))) {
			// The recovered tail refills the backlog, so replicas that
			// were behind this node before it restarted continue with a
			// partial sync.
			j.scratch = appendRecord(j.scratch[:0], e.LSN, e.Args)
			j.bl.add(e.LSN, j.scratch)
		}
		if e.LSN <= j.opts.After {
			return nil
		}
		if refuse != nil {
			return refuse
		}
		if j.opts.Apply == nil {
			return nil
		}
		if err := j.opts.Apply(e); err != nil {
			return fmt.Errorf("apply LSN %d: %w", e.LSN, err)
		}
		j.info.Applied++
		return nil
	})
	if err != nil {
		return sc, fmt.Errorf("journal %s: %w", sg.path, err)
	}
	if sc.hdr.FirstLSN != sg.first {
		return sc, fmt.Errorf("%w: %s: header says first LSN %d", ErrCorrupt, sg.path, sc.hdr.FirstLSN)
	}
	if sc.bad == nil {
		return sc, nil
	}
	rest := make([]byte, size-sc.end)
	if _, err := f.ReadAt(rest, sc.end); err != nil && !errors.Is(err, io.EOF) {
		return sc, fmt.Errorf("journal: %w", err)
	}
	if off, found := validRecordAfter(rest, sc.last); !newest || found {
		why := "in a finished segment"
		if found {
			why = fmt.Sprintf("followed by a valid record at offset %d", sc.end+int64(off))
		}
		return sc, fmt.Errorf("%w: %s: bad record at offset %d (%v), %s: not a torn tail, refusing to recover",
			ErrCorrupt, sg.path, sc.end, sc.bad, why)
	}
	if err := truncate(sg.path, sc.end); err != nil {
		return sc, err
	}
	j.info.TornFile, j.info.TornOffset, j.info.TornBytes = sg.path, sc.end, size-sc.end
	return sc, nil
}

// truncate cuts path at size and makes the cut durable.
func truncate(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("journal: truncate %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("journal: fsync %s: %w", path, err)
	}
	return nil
}
