package node

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/batonkv/baton/node/repl"
)

// fullSyncMarker exists in the data directory while a replica replaces its
// files with a full sync's: a crash in between leaves a mix of two
// histories, which recovery then discards (the replica syncs again).
const fullSyncMarker = "fullsync-in-progress"

// fullSync loads a full sync's snapshot at (replid, lsn) from body and
// installs it. The snapshot is decoded as it arrives into a new keyspace,
// off the lock: the old data stays readable until the swap, which is the
// only moment clients wait (the "loading" state lasts that long). With a
// data directory, the body is kept as the node's snapshot file.
func (s *Server) fullSync(ctx context.Context, body io.Reader, replid string, lsn uint64) error {
	var tmp string
	var f *os.File
	var tee *bufio.Writer
	if dir := s.cfg.DataDir; dir != "" {
		tmp = filepath.Join(dir, fmt.Sprintf("%sfullsync-%d%s%s", snapPrefix, lsn, snapSuffix, snapTmpSuffix))
		var err error
		if f, err = os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600); err != nil {
			return fmt.Errorf("create %s: %w", tmp, err)
		}
		defer func() {
			f.Close()
			os.Remove(tmp)
		}()
		tee = bufio.NewWriterSize(f, 1<<20)
		body = io.TeeReader(body, tee)
	}
	snap, err := decodeSnapshot(body, -1)
	if err != nil {
		return err
	}
	if snap.replid != replid || snap.lsn != lsn {
		return fmt.Errorf("%w: snapshot is (%s, %d), FULL said (%s, %d)", repl.ErrProtocol, snap.replid, snap.lsn, replid, lsn)
	}
	if f != nil {
		if err := tee.Flush(); err != nil {
			return fmt.Errorf("write %s: %w", tmp, err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("fsync %s: %w", tmp, err)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return s.installSnapshot(snap, tmp)
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
	s.repl.status.Applied.Store(snap.lsn)
	s.repl.status.SetSynced(true)
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
