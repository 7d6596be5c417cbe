package consensus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/resp"
)

// DefaultTakeoverGrace is how long the old primary waits for every
// connection to pass its checkpoint before force-closing the rest (the
// default timeout is coordapi.DefaultTakeoverTimeout).
const DefaultTakeoverGrace = 500 * time.Millisecond

// ErrTakeoverBusy is returned while this leader runs another takeover.
var ErrTakeoverBusy = errors.New("ERR a takeover is already in progress")

// takeoverRun is one takeover in progress on this leader.
type takeoverRun struct {
	c      *Service
	rep    coordapi.TakeoverReport
	t      coordapi.Topology // the latest record this run committed
	from   coordapi.Node
	toAddr string
	grace  time.Duration
	start  time.Time
	stepAt time.Time
}

// Takeover moves the primary role to to (or the most caught-up replica) in
// a planned handover: record the intent, freeze the old primary at a final
// LSN (its connections pass a checkpoint or are force-closed after grace),
// wait for the target to reach that LSN, and commit the next epoch. Any
// failure before the commit rolls back: the old primary is thawed and the
// epoch does not move. Only the leader runs it, one at a time.
func (c *Service) Takeover(ctx context.Context, to string, timeout, grace time.Duration) (coordapi.TakeoverReport, error) {
	if !c.takeoverBusy.CompareAndSwap(false, true) {
		return coordapi.TakeoverReport{}, ErrTakeoverBusy
	}
	defer c.takeoverBusy.Store(false)
	if timeout <= 0 {
		timeout = coordapi.DefaultTakeoverTimeout
	}
	if grace <= 0 {
		grace = c.cfg.TakeoverGrace
	}
	t, err := c.raft.Read(ctx)
	if err != nil {
		return coordapi.TakeoverReport{}, err
	}
	r := &takeoverRun{c: c, t: t, grace: grace, start: time.Now()}
	r.stepAt = r.start
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := r.plan(ctx, to); err != nil {
		c.metrics.takeovers.WithLabelValues("refused").Inc()
		return coordapi.TakeoverReport{}, err
	}
	c.log.Info("takeover: starting", "from", r.rep.From, "to", r.rep.To, "epoch", t.Epoch, "timeout", timeout, "grace", grace)
	if step, err := r.run(ctx, time.Now().Add(timeout)); err != nil {
		return r.rollback(step, err), nil
	}
	r.rep.Outcome = coordapi.OutcomeCommitted
	r.rep.Epoch = r.t.Epoch
	r.awaitPromotion(ctx)
	r.rep.TotalMs = msSince(r.start)
	c.metrics.takeovers.WithLabelValues("committed").Inc()
	c.log.Warn("takeover committed", "from", r.rep.From, "to", r.rep.To, "epoch", r.t.Epoch,
		"lsn", r.rep.LSN, "force_closed", r.rep.ForceClosed, "total_ms", r.rep.TotalMs)
	return r.rep, nil
}

// plan checks the shard can hand over now and picks the target.
func (r *takeoverRun) plan(ctx context.Context, to string) error {
	t := r.t
	if t.Primary == "" {
		return errors.New("ERR the shard has no primary to take over from")
	}
	if t.State != coordapi.StateStable && t.State != "" {
		return fmt.Errorf("ERR the shard is not stable (state %s)", t.State)
	}
	for _, m := range t.Members {
		if to != "" && m.Addr == to {
			to = m.ID // FAILOVER TO host port names the target by address
		}
	}
	if to == t.Primary {
		return fmt.Errorf("ERR %q is already the primary", to)
	}
	if _, ok := t.Member(to); to != "" && !ok {
		return fmt.Errorf("ERR %q is not a member of this shard", to)
	}
	cand, err := r.chooseTarget(ctx, to)
	if err != nil {
		return fmt.Errorf("ERR no target for the takeover: %v", err)
	}
	from, _ := t.Member(t.Primary)
	target, _ := t.Member(cand)
	r.rep.From, r.rep.To = from.ID, target.ID
	r.from, r.toAddr = from, target.Addr
	return nil
}

// chooseTarget probes the replicas and picks to (or the best candidate)
// once it is eligible: a replica of the current primary with a completed
// sync. Right after an earlier takeover the old primary needs a moment to
// become a replica, so it waits for that, within ctx.
func (r *takeoverRun) chooseTarget(ctx context.Context, to string) (string, error) {
	for {
		r.c.probes.probeAll(ctx, r.t, r.t.Primary)
		statuses := r.c.probes.statuses(r.t)
		if to != "" {
			statuses = slices.DeleteFunc(statuses, func(st ReplicaStatus) bool { return st.ID != to })
		}
		cand, err := ChooseCandidate(r.t, statuses)
		if err == nil {
			return cand, nil
		}
		select {
		case <-ctx.Done():
			return "", err
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// run performs the steps up to and including the commit. On error it
// returns the step that failed.
func (r *takeoverRun) run(ctx context.Context, deadline time.Time) (string, error) {
	t := r.t
	intent := Command{
		Op: OpSetState, FromEpoch: t.Epoch, FromVersion: t.Version, State: coordapi.StateTakeover,
		Takeover: &coordapi.Takeover{ID: t.Version + 1, From: r.rep.From, To: r.rep.To, Deadline: deadline, Step: coordapi.StepHold},
	}
	if err := r.commit(ctx, intent); err != nil {
		return "intent", err
	}
	r.done("intent")
	lsn, closed, err := r.freeze(ctx)
	if err != nil {
		return "freeze", err
	}
	r.rep.LSN, r.rep.ForceClosed = lsn, closed
	r.done("freeze")
	next := *r.t.Takeover
	next.Step = coordapi.StepParity
	if err := r.commit(ctx, Command{Op: OpSetState, FromEpoch: t.Epoch, FromVersion: r.t.Version, State: coordapi.StateTakeover, Takeover: &next}); err != nil {
		return "freeze", err
	}
	if err := r.awaitParity(ctx, lsn); err != nil {
		return "parity", err
	}
	r.done("parity")
	if err := r.promote(ctx, lsn); err != nil {
		return "commit", err
	}
	r.done("commit")
	return "", nil
}

// promote commits the next epoch with the target as primary, from LSN lsn.
//
// Invariant: a promote whose apply was indeterminate (leadership lost,
// Raft shut down, ctx ended) may have committed; the record decides, not
// the error. If it shows the promote, the takeover is committed (the
// target is the primary whatever this run reports); only a promote the
// record does not show, or whose fate stays unknown, goes on to rollback.
func (r *takeoverRun) promote(ctx context.Context, lsn uint64) error {
	before := r.t
	err := r.commit(ctx, Command{Op: OpPromote, FromEpoch: before.Epoch, FromVersion: before.Version, Primary: r.rep.To, PromotedAt: &coordapi.Promotion{LSN: lsn}})
	if err == nil || !errors.Is(err, ErrIndeterminate) {
		return err
	}
	nt, committed, known := r.c.promoteOutcome(ctx, before, r.rep.To)
	if committed {
		r.c.log.Warn("takeover: the promote's outcome was unknown; the record shows it committed", "epoch", nt.Epoch, "err", err)
		r.t = nt
		return nil
	}
	if known {
		return fmt.Errorf("%w (the record shows it did not commit)", err)
	}
	return err
}

// promoteOutcome finds out whether the promote of to from record before
// committed, within 2 s: this member's applied record proves a commit
// (applied entries are committed) or proves none when the record moved on
// at the same epoch; a linearizable read, when this member leads again,
// decides either way (its barrier commits whatever of the promote's term
// it holds, and nothing else of that term can commit any more).
func (c *Service) promoteOutcome(ctx context.Context, before coordapi.Topology, to string) (t coordapi.Topology, committed, known bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	promoted := func(t coordapi.Topology) bool { return t.Epoch == before.Epoch+1 && t.Primary == to }
	for {
		if t := c.raft.Local(); promoted(t) {
			return t, true, true
		} else if t.Epoch == before.Epoch && t.Version > before.Version {
			return t, false, true
		}
		if t, err := c.raft.Read(ctx); err == nil {
			return t, promoted(t), true
		}
		select {
		case <-ctx.Done():
			return coordapi.Topology{}, false, false
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// commit applies one chained step; r.t becomes the committed record.
func (r *takeoverRun) commit(ctx context.Context, cmd Command) error {
	nt, err := r.c.apply(ctx, cmd)
	if err != nil {
		return err
	}
	r.t = nt
	return nil
}

// done records the end of a step.
func (r *takeoverRun) done(name string) {
	now := time.Now()
	r.rep.Steps = append(r.rep.Steps, coordapi.TakeoverStep{Name: name, Ms: float64(now.Sub(r.stepAt).Microseconds()) / 1000})
	r.c.metrics.takeoverStep.WithLabelValues(name).Observe(now.Sub(r.stepAt).Seconds())
	r.stepAt = now
}

// freeze puts the old primary in TAKEN_OVER under the takeover's ID and
// returns its final LSN and how many connections it force-closed.
func (r *takeoverRun) freeze(ctx context.Context) (uint64, int64, error) {
	id := r.t.Takeover.ID
	v, err := r.c.nodeCall(ctx, r.from.Addr, "BATON.FREEZE", strconv.FormatUint(id, 10),
		strconv.FormatUint(r.t.Epoch, 10), strconv.FormatInt(r.grace.Milliseconds(), 10))
	if err == nil && (v.Kind != resp.Array || v.Null) {
		err = fmt.Errorf("unexpected reply %v", v)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("freeze %s: %w", r.rep.From, err)
	}
	if len(v.Elems) < 2 {
		return 0, 0, fmt.Errorf("freeze %s: unexpected reply %v", r.rep.From, v)
	}
	return uint64(v.Elems[0].Int), v.Elems[1].Int, nil
}

// awaitParity waits until the target replicates the old primary and has
// applied exactly its final LSN.
func (r *takeoverRun) awaitParity(ctx context.Context, lsn uint64) error {
	cl := r.c.nodeClient(r.toAddr)
	defer cl.close()
	var last nodeStatus
	var lastErr error
	for {
		st, err := probeRole(ctx, cl, r.rep.To)
		if err == nil {
			last, lastErr = st, nil
			if st.Role == "slave" && replicatedFrom(r.from, st.Following) && st.Offset == lsn {
				return nil
			}
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("target %s did not answer: %v", r.rep.To, lastErr)
			}
			return fmt.Errorf("target %s at LSN %d (following %s, link %s), old primary at %d",
				r.rep.To, last.Offset, last.Following, last.LinkState, lsn)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// awaitPromotion waits, briefly and for the report only, until the target
// reports itself primary (the commit is already final).
func (r *takeoverRun) awaitPromotion(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	cl := r.c.nodeClient(r.toAddr)
	defer cl.close()
	for ctx.Err() == nil {
		if st, err := probeRole(ctx, cl, r.rep.To); err == nil && st.Role == "master" {
			r.done("promoted")
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// rollback undoes a takeover that failed at step: the record goes back to
// stable at the same epoch, then the old primary is thawed.
func (r *takeoverRun) rollback(step string, cause error) coordapi.TakeoverReport {
	r.rep.Outcome, r.rep.FailedStep, r.rep.Reason = coordapi.OutcomeRolledBack, step, cause.Error()
	r.rep.Epoch = r.t.Epoch
	r.c.log.Warn("takeover: rolling back", "step", step, "err", cause)
	ctx, cancel := context.WithTimeout(r.c.life.Context(), 2*time.Second)
	defer cancel()
	if err := r.c.rollbackTakeover(ctx); err != nil {
		r.rep.Reason += "; rollback: " + err.Error()
	}
	r.rep.TotalMs = msSince(r.start)
	r.c.metrics.takeovers.WithLabelValues("rolled_back").Inc()
	return r.rep
}

// rollbackTakeover ends whatever takeover the committed record holds:
// stable again at the same epoch (compare-and-set on the version, so a
// concurrent commit wins or loses cleanly), then the old primary is thawed
// under the takeover's ID. A new leader calls it for a takeover it did not
// start.
func (c *Service) rollbackTakeover(ctx context.Context) error {
	for {
		t, err := c.raft.Read(ctx)
		if err != nil {
			return err
		}
		if t.State != coordapi.StateTakeover || t.Takeover == nil {
			return nil
		}
		tk := *t.Takeover
		_, err = c.raft.Apply(ctx, Command{Op: OpSetState, FromEpoch: t.Epoch, FromVersion: t.Version, State: coordapi.StateStable})
		if errors.Is(err, ErrStaleEpoch) {
			continue
		}
		if err != nil {
			return err
		}
		// The old primary's renewals were refused while the takeover ran:
		// it is due to renew from now on, not declared down for the gap.
		c.leases.dueFrom(time.Now())
		from, ok := t.Member(tk.From)
		if !ok {
			return nil
		}
		if _, err := c.nodeCall(ctx, from.Addr, "BATON.UNFREEZE", strconv.FormatUint(tk.ID, 10)); err != nil {
			// The node thaws itself once it sees the record stable again.
			c.log.Warn("takeover rollback: unfreeze", "node", tk.From, "err", err)
		}
		c.log.Info("takeover rolled back", "from", tk.From, "to", tk.To, "epoch", t.Epoch, "id", tk.ID)
		return nil
	}
}

// msSince is the time since start in milliseconds.
func msSince(start time.Time) float64 {
	return float64(time.Since(start).Microseconds()) / 1000
}
