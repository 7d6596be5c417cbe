package node

import (
	"fmt"
	"time"

	"github.com/batonkv/baton/node/command"
	"github.com/batonkv/baton/node/journal"
	"github.com/batonkv/baton/node/keyspace"
	"github.com/batonkv/baton/node/repl"
)

// continueSync adopts the primary's history id after a partial sync (the
// primary may have been promoted since: its new id continues ours).
func (s *Server) continueSync(replid string, lsn uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastLSN != lsn {
		return fmt.Errorf("psync: %w: CONTINUE at %d but this node is at %d", repl.ErrProtocol, lsn, s.lastLSN)
	}
	if s.jr.Replid() != replid {
		if _, err := s.jr.SwitchHistory(replid); err != nil {
			return err
		}
	}
	s.repl.status.SetSynced(true)
	s.repl.status.Applied.Store(s.lastLSN)
	return nil
}

// applyRecords journals and applies raw journal records from the primary,
// with the keyspace lock held for the batch. Each record must carry the
// next LSN; it is journaled byte for byte as the primary's (tx holds a
// transaction's records until its exec: see repl.Txn).
func (s *Server) applyRecords(tx *repl.Txn, records []byte) error {
	lsn, err := s.applyRecordsLocked(tx, records)
	if err != nil || lsn == 0 {
		return err
	}
	// Invariant (issue 16): what a replica acknowledges (REPLCONF ACK) and
	// advertises (ROLE's offset, which failovers and takeovers choose and
	// wait by) is in its journal file, not only in memory: a kill -9 right
	// after — of a takeover's target just committed, say — must not bring
	// it back below an LSN the coordinators counted on. Written to the OS
	// (fsynced under --fsync always), once per batch, without the lock.
	if err := s.jr.WaitDurable(lsn); err != nil {
		return fmt.Errorf("replica journal: %w", err)
	}
	s.repl.status.Applied.Store(lsn)
	return nil
}

// applyRecordsLocked journals and applies records under the keyspace lock
// and returns the last LSN of a complete batch (0: none completed).
func (s *Server) applyRecordsLocked(tx *repl.Txn, records []byte) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var done uint64
	_, err := journal.EachRecord(records, func(e journal.Entry, raw []byte) error {
		ready, apply, err := tx.Add(e, raw, s.lastLSN)
		if err != nil || len(ready) == 0 {
			return err
		}
		for _, r := range ready {
			if err := s.appendReplicated(r); err != nil {
				return err
			}
		}
		for _, r := range apply {
			if err := s.applyReplicated(r.Args); err != nil {
				return err
			}
		}
		done = s.lastLSN
		return nil
	})
	return done, err
}

// appendReplicated journals a record of the primary's stream as is; the
// caller holds s.mu.
func (s *Server) appendReplicated(r repl.Record) error {
	lsn, err := s.jr.AppendRecord(r.Raw)
	if err != nil {
		return err
	}
	s.lastLSN = lsn
	if s.journalTap != nil {
		s.journalTap(r.Args)
	}
	return nil
}

// applyReplicated applies one entry of the primary's stream: like replay
// (the primary's history decides expiry), but through exec, so snapshots
// in progress preserve keys and WATCHers see the change. The caller holds
// s.mu and has journaled the entry.
func (s *Server) applyReplicated(args [][]byte) error {
	cmd := command.Lookup(args[0])
	if cmd == nil || !cmd.ArityOK(len(args)) {
		return errUnknownEntry(args)
	}
	c := keyspace.Ctx{Host: s.host(), DB: s.db, Client: s.replApplier, W: keyspace.Discard{}, Args: args, Cmd: cmd, Now: time.Now().UnixMilli(), Replay: true}
	s.exec(&c)
	return nil
}
