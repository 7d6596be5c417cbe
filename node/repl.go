package node

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/batonkv/baton/node/repl"
)

// Replication roles.
const (
	rolePrimary = iota
	roleReplica
)

// replState is a node's replication state: its role, its link to its
// primary when it is a replica, and its replicas when it serves any.
type replState struct {
	// opMu serializes REPLICAOF: the v2 algorithm handshakes before it
	// changes anything, and two switches must not interleave.
	opMu sync.Mutex

	// Guarded by the server lock.
	role int
	// primary is the "host:port" this replica follows ("" on a primary).
	primary string
	link    *repl.Link

	// epoch is the newest primary epoch this node has seen (its own while
	// it is primary). It only grows; it is persisted in the data
	// directory.
	epoch atomic.Uint64
	// epochMu serializes raising the epoch (its file is rewritten).
	epochMu sync.Mutex
	// epochRefusals counts streams refused for a stale epoch; lastRefusal
	// describes the newest (INFO).
	epochRefusals atomic.Int64
	lastRefusal   atomic.Value // string

	// status is the replica link's state, applied LSN and whether it
	// completed a sync with its current primary (set under the server
	// lock).
	status repl.Status

	// acks tracks the replicas streaming from this node and what they
	// acknowledged (the primary side).
	acks *repl.Acks
	// divergentTails and divergentEntries count replicas that came back
	// with entries of a previous history beyond where this node's history
	// branched off (a former primary's writes nobody else has): the full
	// sync they get discards them.
	divergentTails   atomic.Int64
	divergentEntries atomic.Int64
}

// initRepl sets up replication state at start: the persisted epoch and, for
// a node started with ReplicaOf, the replica role (the link starts in
// startReplication once the server runs).
func (s *Server) initRepl() error {
	s.repl.acks = repl.NewAcks(s.cfg.SyncReplicas)
	s.repl.acks.SetGate(s.acksCount)
	s.repl.lastRefusal.Store("")
	epoch, err := s.loadEpoch()
	if err != nil {
		return err
	}
	s.repl.epoch.Store(max(epoch, s.cfg.Epoch))
	if s.cfg.ReplicaOf != "" {
		s.repl.role = roleReplica
		s.repl.primary = s.cfg.ReplicaOf
	}
	return nil
}

// startReplication starts the link of a node configured as a replica.
func (s *Server) startReplication() {
	if s.cfg.ReplicaOf == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repl.link = repl.StartLink(s.life.Context(), s.replHost(), s.cfg.ReplicaOf, nil)
}

// isReplica reports whether the node is a replica; the caller holds s.mu.
func (s *Server) isReplica() bool { return s.repl.role == roleReplica }

// roleName is the node's replication role as ROLE, HELLO and INFO say it;
// the caller holds s.mu.
func (s *Server) roleName() string {
	if s.isReplica() {
		return "slave"
	}
	return "master"
}

// replicaOffset is the offset a replica advertises: its LSN once it
// completed a sync with its current primary, 0 before (repl.Status.Offset).
// The caller holds s.mu.
func (s *Server) replicaOffset() uint64 {
	// What the journal file holds (applyRecords), not what memory does.
	return s.repl.status.Offset(min(s.lastLSN, s.repl.status.Applied.Load()))
}

// Epoch is the newest primary epoch this node has seen.
func (s *Server) Epoch() uint64 { return s.repl.epoch.Load() }

// leadEpoch is the epoch this node streams as (repl.Host.LeadEpoch). A
// standalone node leads its epoch. A coordinated node leads only the epoch
// the coordinators' record made it primary of (coord.Lease.Renewing; 0
// when none): hearing of a newer epoch (BATON.EPOCH, a record naming
// another primary) must not let a deposed primary's stream and handshake
// pass a replica's "refuse a lower epoch" check, or that replica would
// accept and acknowledge the deposed primary's tail.
func (s *Server) leadEpoch() uint64 {
	if s.coord == nil {
		return s.repl.epoch.Load()
	}
	return min(s.coord.Lease().Renewing(), s.repl.epoch.Load())
}

// raiseEpoch persists and then adopts e if it is newer (the node never acts
// on an epoch a restart could forget); e lower than the current epoch is
// repl.ErrStaleEpoch.
func (s *Server) raiseEpoch(e uint64) error {
	if e == s.repl.epoch.Load() {
		return nil
	}
	s.repl.epochMu.Lock()
	defer s.repl.epochMu.Unlock()
	cur := s.repl.epoch.Load()
	if e < cur {
		return fmt.Errorf("%w: %d is older than the current epoch %d", repl.ErrStaleEpoch, e, cur)
	}
	if e == cur {
		return nil
	}
	if err := s.storeEpoch(e); err != nil {
		return err
	}
	s.repl.epoch.Store(e)
	s.log.Info("epoch raised", "from", cur, "to", e)
	return nil
}

// epochFile is where the epoch is kept in the data directory.
const epochFile = "epoch"

// loadEpoch reads the persisted epoch (0 when there is none).
func (s *Server) loadEpoch() (uint64, error) {
	if s.cfg.DataDir == "" {
		return 0, nil
	}
	b, err := os.ReadFile(filepath.Join(s.cfg.DataDir, epochFile))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read epoch: %w", err)
	}
	e, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("epoch file %s: %w", filepath.Join(s.cfg.DataDir, epochFile), err)
	}
	return e, nil
}

// storeEpoch makes e durable before the node acts on it.
func (s *Server) storeEpoch(e uint64) error {
	if s.cfg.DataDir == "" {
		return nil
	}
	path := filepath.Join(s.cfg.DataDir, epochFile)
	if err := writeFileDurable(path, []byte(strconv.FormatUint(e, 10)+"\n")); err != nil {
		return fmt.Errorf("store epoch: %w", err)
	}
	return nil
}

// refuseEpoch records a stream refused for its stale epoch.
func (s *Server) refuseEpoch(primary string, theirs uint64) {
	ours := s.repl.epoch.Load()
	s.repl.epochRefusals.Add(1)
	msg := fmt.Sprintf("%s epoch %d < %d", primary, theirs, ours)
	s.repl.lastRefusal.Store(msg)
	s.log.Warn("replication stream refused: primary's epoch is older than ours",
		"primary", primary, "primary_epoch", theirs, "epoch", ours)
}

// splitHostPort parses "host:port" with a numeric port.
func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("invalid port %q", p)
	}
	return host, port, nil
}
