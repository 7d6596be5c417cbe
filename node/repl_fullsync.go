package node

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/node/repl"
)

// fullSyncMarker exists in the data directory while a replica replaces its
// files with a full sync's: a crash in between leaves a mix of two
// histories, which recovery then discards (the replica syncs again).
const fullSyncMarker = "fullsync-in-progress"

// fullSync receives the primary's snapshot at (replid, lsn) and installs
// it. The snapshot is decoded as it arrives into a new keyspace, off the
// lock: the old data stays readable until the swap, which is the only
// moment clients wait (the "loading" state lasts that long).
func (l *replLink) fullSync(ctx context.Context, rc *resp.Conn, replid string, lsn uint64) error {
	s := l.s
	s.mu.Lock()
	s.repl.synced = false
	s.mu.Unlock()
	s.repl.linkState.Store(linkSync)
	start := time.Now()
	ss := &snapStream{rc: rc, l: l}
	var tmp string
	var f *os.File
	if dir := s.cfg.DataDir; dir != "" {
		tmp = filepath.Join(dir, fmt.Sprintf("%sfullsync-%d%s%s", snapPrefix, lsn, snapSuffix, snapTmpSuffix))
		var err error
		if f, err = os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644); err != nil {
			return fmt.Errorf("create %s: %w", tmp, err)
		}
		defer func() {
			f.Close()
			os.Remove(tmp)
		}()
		ss.tee = bufio.NewWriterSize(f, 1<<20)
	}
	snap, err := decodeSnapshot(ss, -1)
	if err != nil {
		return err
	}
	if snap.replid != replid || snap.lsn != lsn {
		return fmt.Errorf("%w: snapshot is (%s, %d), FULL said (%s, %d)", repl.ErrProtocol, snap.replid, snap.lsn, replid, lsn)
	}
	if f != nil {
		if err := ss.tee.Flush(); err != nil {
			return fmt.Errorf("write %s: %w", tmp, err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("fsync %s: %w", tmp, err)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := s.installSnapshot(snap, tmp); err != nil {
		return err
	}
	s.log.Info("full sync done", "replid", replid, "lsn", lsn, "keys", len(snap.keys),
		"bytes", ss.n, "took", time.Since(start))
	return nil
}

// installSnapshot replaces the keyspace and the journal's history with a
// full sync's snapshot (kept at tmp when the node has a data directory).
func (s *Server) installSnapshot(snap *snapshotData, tmp string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.abortAllSnapshots()
	if dir := s.cfg.DataDir; dir != "" {
		marker := filepath.Join(dir, fullSyncMarker)
		if err := writeFileDurable(marker, nil); err != nil {
			return err
		}
		olds, err := listSnapshots(dir)
		if err != nil {
			return err
		}
		for _, o := range olds {
			if err := os.Remove(o.path); err != nil {
				return err
			}
		}
		if err := os.Rename(tmp, filepath.Join(dir, snapshotName(snap.lsn))); err != nil {
			return err
		}
		if err := s.jr.Reset(snap.replid, snap.lsn); err != nil {
			return fmt.Errorf("reset journal: %w", err)
		}
		if err := os.Remove(marker); err != nil {
			return err
		}
		if err := syncDirectory(dir); err != nil {
			return err
		}
	} else if err := s.jr.Reset(snap.replid, snap.lsn); err != nil {
		return fmt.Errorf("reset journal: %w", err)
	}
	s.db.Keys, s.db.Expires = snap.keys, snap.expires
	s.lastLSN = snap.lsn
	if s.snap != nil {
		s.snap.lastLSN.Store(snap.lsn)
	}
	s.repl.applied.Store(snap.lsn)
	s.repl.synced = true
	s.invalidateAllWatches()
	return nil
}

// invalidateAllWatches fails the EXEC of every client WATCHing a key (the
// keyspace was replaced); the caller holds s.mu.
func (s *Server) invalidateAllWatches() {
	seen := map[*client]struct{}{}
	for _, ws := range s.pubsub().watches {
		for cl := range ws {
			seen[cl] = struct{}{}
		}
	}
	for cl := range seen {
		cl.watchDirty = true
		s.dropWatches(cl)
	}
}

// discardInterruptedFullSync removes a data directory's snapshots and
// journal when a full sync was cut short by a crash while replacing them:
// what is left mixes two histories. The node starts empty and syncs again.
func discardInterruptedFullSync(dir string) (bool, error) {
	marker := filepath.Join(dir, fullSyncMarker)
	if _, err := os.Stat(marker); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, de := range ents {
		n := de.Name()
		if strings.HasPrefix(n, snapPrefix) || strings.HasPrefix(n, "journal-") {
			if err := os.Remove(filepath.Join(dir, n)); err != nil {
				return false, err
			}
		}
	}
	if err := os.Remove(marker); err != nil {
		return false, err
	}
	return true, syncDirectory(dir)
}

// syncDirectory fsyncs a directory (renames and removals in it).
func syncDirectory(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// snapStream reads a full sync's snapshot out of SNAP frames: the body,
// then SNAPEND's checksum as the trailer, then EOF. It copies what it reads
// to tee when set (the replica keeps the snapshot as its own file).
type snapStream struct {
	rc   *resp.Conn
	f    resp.Frame
	l    *replLink
	tee  *bufio.Writer
	cur  []byte
	done bool
	n    int64
}

// Read implements io.Reader.
func (ss *snapStream) Read(p []byte) (int, error) {
	for len(ss.cur) == 0 {
		if ss.done {
			return 0, io.EOF
		}
		if err := ss.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, ss.cur)
	ss.cur = ss.cur[n:]
	return n, nil
}

// next reads the next frame of the snapshot.
func (ss *snapStream) next() error {
	ss.rc.NetConn().SetReadDeadline(time.Now().Add(linkTimeout))
	if err := ss.rc.ReadFrame(&ss.f); err != nil {
		return err
	}
	frame := ss.f.Args
	ss.l.s.repl.lastIO.Store(time.Now().UnixNano())
	switch string(frame[0]) {
	case repl.FrameSnap:
		if len(frame) != 2 {
			return fmt.Errorf("%w: SNAP frame of %d elements", repl.ErrProtocol, len(frame))
		}
		ss.cur = frame[1]
	case repl.FrameSnapEnd:
		if len(frame) != 2 {
			return fmt.Errorf("%w: SNAPEND frame of %d elements", repl.ErrProtocol, len(frame))
		}
		crc, err := repl.FrameUint(frame[1])
		if err != nil || crc > 1<<32-1 {
			return fmt.Errorf("%w: bad snapshot checksum %q", repl.ErrProtocol, frame[1])
		}
		ss.cur = binary.LittleEndian.AppendUint32(nil, uint32(crc))
		ss.done = true
	case repl.FramePing, repl.FrameGetAck:
		return nil
	default:
		return fmt.Errorf("%w: unexpected frame %q during a full sync", repl.ErrProtocol, frame[0])
	}
	ss.n += int64(len(ss.cur))
	if ss.tee != nil {
		if _, err := ss.tee.Write(ss.cur); err != nil {
			return err
		}
	}
	return nil
}
