package consensus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// Peer is a member of the coordinator group: its ID, Raft address and API
// address.
type Peer struct {
	ID, RaftAddr, APIAddr string
}

// RaftConfig configures a member's Raft.
type RaftConfig struct {
	// ID, RaftAddr (bound and advertised), APIAddr (recorded in the
	// topology's coordinator list) and Dir (raft.db and snapshots) of this
	// member.
	ID, RaftAddr, APIAddr, Dir string
	// Peers is the bootstrap set, including this member. It is used only
	// when Dir holds no Raft state; empty: wait to be added by a leader.
	Peers []Peer
	// Logger receives Raft's logs (hclog adapted); nil discards them.
	Logger *slog.Logger
	// Raft timings; 0 means 500ms, 500ms, 250ms, 10ms.
	HeartbeatTimeout, ElectionTimeout, LeaderLeaseTimeout, CommitTimeout time.Duration
	// SnapshotThreshold (entries) and SnapshotInterval; 0 means 1024 and 30s.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	// AddressProvider optionally routes peer links (tests: via toxiproxy).
	AddressProvider raft.ServerAddressProvider
	// OnApply, when set, is told how long each Apply took and its error
	// (nil: committed and applied), for metrics; it must not block.
	OnApply func(took time.Duration, err error)
	// OnLeaderChange, when set, is called whenever this member learns of a
	// newly elected leader (metrics); it must not block.
	OnLeaderChange func()
}

// withDefaults fills zero fields.
func (c RaftConfig) withDefaults() RaftConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.HeartbeatTimeout, 500*time.Millisecond)
	def(&c.ElectionTimeout, 500*time.Millisecond)
	def(&c.LeaderLeaseTimeout, 250*time.Millisecond)
	def(&c.CommitTimeout, 10*time.Millisecond)
	def(&c.SnapshotInterval, 30*time.Second)
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = 1024
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports a configuration OpenRaft cannot use.
func (c RaftConfig) Validate() error {
	if c.ID == "" || c.RaftAddr == "" || c.Dir == "" {
		return errors.New("consensus: raft config: ID, RaftAddr and Dir are required")
	}
	if len(c.Peers) > 0 && !slices.ContainsFunc(c.Peers, func(p Peer) bool { return p.ID == c.ID }) {
		return fmt.Errorf("consensus: raft config: bootstrap peers do not include this member %q", c.ID)
	}
	return nil
}

// NotLeaderError is returned by leader-only operations on a member that is
// not the leader. It names the leader when this member knows it, so a
// caller can redirect. errors.Is(err, ErrNotLeader) matches it.
type NotLeaderError struct {
	LeaderID, LeaderRaftAddr string
}

// Error describes the error and the known leader.
func (e *NotLeaderError) Error() string {
	if e.LeaderID == "" {
		return "no leader"
	}
	return "not the leader (leader: " + e.LeaderID + ")"
}

// Is makes errors.Is(err, ErrNotLeader) true for a *NotLeaderError.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }

var (
	// ErrNotLeader: the operation needs the leader; it did not happen.
	ErrNotLeader = errors.New("not the leader")
	// ErrIndeterminate: leadership was lost, Raft shut down or the caller's
	// context ended while a command was in flight. It may have committed:
	// re-read the topology, do not assume either way.
	ErrIndeterminate = errors.New("outcome unknown")
)

// Raft is a coordinator member's Raft: the topology FSM, replicated through
// hashicorp/raft over TCP, with raft-boltdb storage.
type Raft struct {
	cfg       RaftConfig
	log       *slog.Logger
	fsm       *FSM
	raft      *raft.Raft
	store     *raftboltdb.BoltStore
	transport *raft.NetworkTransport
	observer  *raft.Observer

	leaderCh chan struct{} // LeaderChanges: buffered 1, signalled without blocking
	kick     chan struct{} // wakes the reconcile loop after leadership gain

	mu          sync.Mutex
	barrierTerm uint64 // the term in which a Barrier last succeeded (0: none)

	ctx       context.Context // cancelled by Close; bounds owned goroutines
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// OpenRaft opens (or creates) the member's Raft state in cfg.Dir and starts
// Raft: raft-boltdb at Dir/raft.db as log and stable store, file snapshots
// in Dir (two retained), a TCP transport bound to and advertising RaftAddr.
// A Dir with no state is bootstrapped with cfg.Peers (if any), exactly once.
func OpenRaft(cfg RaftConfig) (*Raft, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("consensus: raft dir: %w", err)
	}
	r := &Raft{
		cfg:      cfg,
		log:      cfg.Logger,
		fsm:      NewFSM(),
		leaderCh: make(chan struct{}, 1),
		kick:     make(chan struct{}, 1),
	}
	hl := newHCLogger(cfg.Logger, "raft")
	ok := false
	defer func() {
		if !ok {
			r.closeResources()
		}
	}()

	var err error
	r.store, err = raftboltdb.New(raftboltdb.Options{Path: filepath.Join(cfg.Dir, "raft.db")})
	if err != nil {
		return nil, fmt.Errorf("consensus: open raft.db: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, 2, hl.Named("snapshots"))
	if err != nil {
		return nil, fmt.Errorf("consensus: snapshot store: %w", err)
	}
	adv, err := net.ResolveTCPAddr("tcp", cfg.RaftAddr)
	if err != nil {
		return nil, fmt.Errorf("consensus: raft address %q: %w", cfg.RaftAddr, err)
	}
	r.transport, err = raft.NewTCPTransportWithConfig(cfg.RaftAddr, adv, &raft.NetworkTransportConfig{
		ServerAddressProvider: cfg.AddressProvider,
		Logger:                hl.Named("transport"),
		MaxPool:               3,
		Timeout:               5 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("consensus: raft transport on %s: %w", cfg.RaftAddr, err)
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.Logger = hl
	// A removed member stays up (outside the group) until Close: with
	// ShutdownOnRemove Raft shuts itself down, and a later Shutdown returns
	// without waiting for Raft's goroutines, so Close would close the store
	// under them.
	rc.ShutdownOnRemove = false
	if err := raft.ValidateConfig(rc); err != nil {
		return nil, fmt.Errorf("consensus: raft config: %w", err)
	}

	existing, err := raft.HasExistingState(r.store, r.store, snaps)
	if err != nil {
		return nil, fmt.Errorf("consensus: check raft state: %w", err)
	}
	if !existing && len(cfg.Peers) > 0 {
		// Bootstrap only a fresh Dir: a member that has state already
		// knows its configuration from its log, and bootstrapping again
		// could resurrect a configuration the group has moved past.
		var conf raft.Configuration
		for _, p := range cfg.Peers {
			conf.Servers = append(conf.Servers, raft.Server{
				Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.RaftAddr),
			})
		}
		if err := raft.BootstrapCluster(rc, r.store, r.store, snaps, r.transport, conf); err != nil {
			return nil, fmt.Errorf("consensus: bootstrap: %w", err)
		}
	}

	r.raft, err = raft.NewRaft(rc, r.fsm, r.store, r.store, snaps, r.transport)
	if err != nil {
		return nil, fmt.Errorf("consensus: start raft: %w", err)
	}
	ok = true

	r.ctx, r.cancel = context.WithCancel(context.Background())
	obs := make(chan raft.Observation, 16)
	r.observer = raft.NewObserver(obs, false, func(o *raft.Observation) bool {
		_, isLeader := o.Data.(raft.LeaderObservation)
		return isLeader
	})
	r.raft.RegisterObserver(r.observer)
	r.wg.Add(2)
	go r.watchLeader(obs)
	go r.reconcileLoop()
	return r, nil
}

// watchLeader turns leader observations into LeaderChanges signals and
// kicks the reconcile loop when this member gains leadership.
func (r *Raft) watchLeader(obs <-chan raft.Observation) {
	defer r.wg.Done()
	for {
		select {
		case <-r.ctx.Done():
			return
		case o := <-obs:
			lo, _ := o.Data.(raft.LeaderObservation)
			r.log.Info("raft leader changed", "member", r.cfg.ID, "leader", string(lo.LeaderID))
			if lo.LeaderID != "" && r.cfg.OnLeaderChange != nil {
				r.cfg.OnLeaderChange()
			}
			signal(r.leaderCh)
			if string(lo.LeaderID) == r.cfg.ID {
				signal(r.kick)
			}
		}
	}
}

// signal sends on a buffered-1 channel without blocking: a pending signal
// already says "something changed".
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// reconcileLoop makes sure, while this member leads, that every bootstrap
// peer still in the Raft configuration has its Coordinator entry in the
// topology. It retries (bounded by leadership and Close) until done.
func (r *Raft) reconcileLoop() {
	defer r.wg.Done()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.kick:
		}
		for attempt := 0; r.IsLeader(); attempt++ {
			err := r.reconcileCoordinators()
			if err == nil {
				break
			}
			r.log.Warn("recording coordinators failed", "member", r.cfg.ID, "err", err)
			select {
			case <-r.ctx.Done():
				return
			case <-time.After(min(time.Duration(attempt+1)*100*time.Millisecond, 2*time.Second)):
			}
		}
	}
}

func (r *Raft) reconcileCoordinators() error {
	if len(r.cfg.Peers) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
	defer cancel()
	// Read through the leader so the topology includes every committed entry.
	topo, err := r.Read(ctx)
	if err != nil {
		return err
	}
	servers, err := r.Servers()
	if err != nil {
		return err
	}
	for _, p := range r.cfg.Peers {
		if !slices.ContainsFunc(servers, func(s raft.Server) bool { return string(s.ID) == p.ID }) {
			continue // removed from the group since bootstrap
		}
		want := coordapi.Coordinator{ID: p.ID, RaftAddr: p.RaftAddr, APIAddr: p.APIAddr}
		if have, ok := topo.Coordinator(p.ID); ok && have == want {
			continue
		}
		if _, err := r.Apply(ctx, Command{Op: OpSetCoordinator, Coordinator: &want}); err != nil {
			return fmt.Errorf("record coordinator %s: %w", p.ID, err)
		}
	}
	return nil
}

// Apply proposes c and waits until it is applied. Only the leader can
// propose (else a *NotLeaderError). FSM refusals (ErrStaleEpoch,
// ErrUnknownNode, ErrBadCommand) come back as is, with the topology as it
// stood. A lost leadership, a shutdown or ctx ending mid-flight returns an
// error wrapping ErrIndeterminate: the command may have committed. Other
// errors (enqueue timeout, leadership transfer in progress) mean it did not
// happen.
func (r *Raft) Apply(ctx context.Context, c Command) (coordapi.Topology, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return coordapi.Topology{}, fmt.Errorf("consensus: encode %s: %w", c.Op, err)
	}
	start := time.Now()
	f := r.raft.Apply(b, enqueueTimeout(ctx))
	err = r.wait(ctx, f, true)
	if r.cfg.OnApply != nil {
		r.cfg.OnApply(time.Since(start), err)
	}
	if err != nil {
		return coordapi.Topology{}, fmt.Errorf("consensus: apply %s: %w", c.Op, err)
	}
	res, ok := f.Response().(ApplyResult)
	if !ok {
		return coordapi.Topology{}, fmt.Errorf("consensus: apply %s: unexpected FSM response %T", c.Op, f.Response())
	}
	return res.Topology, res.Err
}

// Read returns the topology with linearizable semantics: on the leader, a
// Barrier once per leadership term (so every earlier-term entry is
// applied), then per read the state is taken and leadership verified after
// (so no other leader could have committed anything newer before the read).
// A follower returns a *NotLeaderError.
func (r *Raft) Read(ctx context.Context) (coordapi.Topology, error) {
	if !r.IsLeader() {
		return coordapi.Topology{}, r.notLeader()
	}
	term := r.raft.CurrentTerm()
	r.mu.Lock()
	needBarrier := r.barrierTerm != term
	r.mu.Unlock()
	if needBarrier {
		if err := r.wait(ctx, r.raft.Barrier(enqueueTimeout(ctx)), false); err != nil {
			return coordapi.Topology{}, fmt.Errorf("consensus: read barrier: %w", err)
		}
		r.mu.Lock()
		r.barrierTerm = term
		r.mu.Unlock()
	}
	t := r.fsm.Current()
	if err := r.wait(ctx, r.raft.VerifyLeader(), false); err != nil {
		return coordapi.Topology{}, fmt.Errorf("consensus: read: %w", err)
	}
	if r.raft.CurrentTerm() != term {
		// Lost and regained leadership between the barrier check and the
		// verification: the state read may predate the other leader's entries.
		return coordapi.Topology{}, fmt.Errorf("consensus: read: term moved from %d: %w", term, r.notLeader())
	}
	return t, nil
}

// enqueueTimeout turns ctx's deadline into Raft's enqueue timeout (0: none).
func enqueueTimeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Millisecond)
	}
	return 0
}

// wait waits for f within ctx and maps Raft's errors. write says whether f
// carries a command, whose fate is unknown if leadership is lost; for
// reads, a lost leadership is simply "not the leader".
func (r *Raft) wait(ctx context.Context, f raft.Future, write bool) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		if write {
			return fmt.Errorf("%w: %w", ErrIndeterminate, ctx.Err())
		}
		return ctx.Err()
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader):
		return r.notLeader()
	case errors.Is(err, raft.ErrLeadershipLost) && !write:
		return r.notLeader()
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("%w: %w", ErrIndeterminate, err)
	}
	return err
}

func (r *Raft) notLeader() *NotLeaderError {
	id, addr := r.Leader()
	if id == r.cfg.ID {
		// Raft still names us while we are stepping down.
		id, addr = "", ""
	}
	return &NotLeaderError{LeaderID: id, LeaderRaftAddr: addr}
}

// Local returns this member's applied topology; it may be stale.
func (r *Raft) Local() coordapi.Topology { return r.fsm.Current() }

// Changed returns a channel closed at the next applied change (FSM.Changed).
func (r *Raft) Changed() <-chan struct{} { return r.fsm.Changed() }

// IsLeader reports whether this member is the Raft leader now.
func (r *Raft) IsLeader() bool { return r.raft.State() == raft.Leader }

// LeaderTerm returns the current Raft term and whether this member is the
// leader in it (false if the term moved while it looked).
func (r *Raft) LeaderTerm() (term uint64, leading bool) {
	term = r.raft.CurrentTerm()
	leading = r.IsLeader()
	return term, leading && r.raft.CurrentTerm() == term
}

// Leader returns the leader this member knows of ("" if none).
func (r *Raft) Leader() (id, raftAddr string) {
	addr, sid := r.raft.LeaderWithID()
	return string(sid), string(addr)
}

// LeaderChanges is signalled (buffered 1, never blocking Raft) on every
// leader change this member observes, including losing the leader.
func (r *Raft) LeaderChanges() <-chan struct{} { return r.leaderCh }

// AddVoter adds p to the group as a voter and records it as a coordinator.
// Leader only. Retrying after an error is safe.
func (r *Raft) AddVoter(ctx context.Context, p Peer) error {
	if p.ID == "" || p.RaftAddr == "" {
		return fmt.Errorf("consensus: add voter: %w: ID and RaftAddr required", ErrBadCommand)
	}
	f := r.raft.AddVoter(raft.ServerID(p.ID), raft.ServerAddress(p.RaftAddr), 0, enqueueTimeout(ctx))
	if err := r.wait(ctx, f, true); err != nil {
		return fmt.Errorf("consensus: add voter %s: %w", p.ID, err)
	}
	c := coordapi.Coordinator{ID: p.ID, RaftAddr: p.RaftAddr, APIAddr: p.APIAddr}
	if _, err := r.Apply(ctx, Command{Op: OpSetCoordinator, Coordinator: &c}); err != nil {
		return fmt.Errorf("consensus: add voter %s: %w", p.ID, err)
	}
	return nil
}

// RemoveServer removes member id from the group and its coordinator entry.
// Leader only. The entry goes first: once a leader removes itself it can no
// longer apply anything. Retrying after an error is safe.
func (r *Raft) RemoveServer(ctx context.Context, id string) error {
	if _, err := r.Apply(ctx, Command{Op: OpRemoveCoordinator, ID: id}); err != nil {
		return fmt.Errorf("consensus: remove server %s: %w", id, err)
	}
	f := r.raft.RemoveServer(raft.ServerID(id), 0, enqueueTimeout(ctx))
	if err := r.wait(ctx, f, true); err != nil {
		return fmt.Errorf("consensus: remove server %s: %w", id, err)
	}
	return nil
}

// Servers returns the group's current Raft configuration.
func (r *Raft) Servers() ([]raft.Server, error) {
	f := r.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("consensus: raft configuration: %w", err)
	}
	return f.Configuration().Servers, nil
}

// Close stops the member: its goroutines, Raft (Shutdown), the transport
// and the store, in that order. It is safe to call more than once.
func (r *Raft) Close() error {
	r.closeOnce.Do(func() {
		r.cancel()
		err := r.raft.Shutdown().Error()
		r.raft.DeregisterObserver(r.observer)
		r.wg.Wait()
		if cerr := r.closeResources(); err == nil {
			err = cerr
		}
		if err != nil {
			r.closeErr = fmt.Errorf("consensus: close raft %s: %w", r.cfg.ID, err)
		}
	})
	return r.closeErr
}

// closeResources closes the transport and the store (either may be nil
// when OpenRaft failed part way).
func (r *Raft) closeResources() error {
	var errs []error
	if r.transport != nil {
		errs = append(errs, r.transport.Close())
	}
	if r.store != nil {
		errs = append(errs, r.store.Close())
	}
	return errors.Join(errs...)
}
