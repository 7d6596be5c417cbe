package consensus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/resp"
)

// nodeStatus is what the leader last learned of a node by probing it.
type nodeStatus struct {
	ReplicaStatus
	// lastOK is when a probe last succeeded (the leader's clock).
	lastOK time.Time
}

// prober probes every node of the shard with ROLE on a short interval (the
// leader only), keeping one small client per node address.
type prober struct {
	c       *Service
	mu      sync.Mutex
	clients map[string]*nodeClient
	status  map[string]nodeStatus
	// resetAt is when this leadership term began.
	resetAt time.Time
}

// newProber returns an empty prober.
func newProber(c *Service) *prober {
	return &prober{c: c, clients: make(map[string]*nodeClient), status: make(map[string]nodeStatus)}
}

// reset forgets what an earlier term learned; nodes count as last seen at
// now, so a node is declared down only after down-after of this term's
// probes.
func (p *prober) reset(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status = make(map[string]nodeStatus)
	p.resetAt = now
}

// client returns the probe client for addr.
func (p *prober) client(addr string) *nodeClient {
	p.mu.Lock()
	defer p.mu.Unlock()
	cl, ok := p.clients[addr]
	if !ok {
		// One dial attempt (nodeClient), each step within the timeout: a
		// dead node's probe must not hold up the detection of its death.
		timeout := probeTimeout(p.c.cfg.ProbeInterval)
		user, pass := p.c.nodeCreds()
		cl = &nodeClient{addr: addr, user: user, pass: pass, fallback: p.c.cfg.NodeAuth, dialTimeout: timeout, ioTimeout: timeout}
		p.clients[addr] = cl
	}
	return cl
}

// probeTimeout bounds one round of probes, and each probe's dial, write
// and read: two probe intervals, at least 100 ms.
func probeTimeout(interval time.Duration) time.Duration {
	return max(2*interval, 100*time.Millisecond)
}

// close closes every probe client.
func (p *prober) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, cl := range p.clients {
		cl.close()
	}
	p.clients = map[string]*nodeClient{}
}

// probeAll probes every member of t but skip concurrently and records the
// results, within a bound of two probe intervals (at least 100 ms), so one
// hung node never delays the verdict on the others.
func (p *prober) probeAll(ctx context.Context, t coordapi.Topology, skip string) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout(p.c.cfg.ProbeInterval))
	defer cancel()
	var wg sync.WaitGroup
	for _, n := range t.Members {
		if n.ID == skip {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := probeRole(ctx, p.client(n.Addr), n.ID)
			p.mu.Lock()
			defer p.mu.Unlock()
			prev := p.status[n.ID]
			if err != nil {
				prev.ID, prev.Reachable = n.ID, false
				p.status[n.ID] = prev
				p.c.metrics.setNodeUp(n.ID, false)
				return
			}
			st.lastOK = time.Now()
			p.status[n.ID] = st
			p.c.metrics.setNodeUp(n.ID, true)
		}()
	}
	wg.Wait()
}

// probeRole asks a node for ROLE.
func probeRole(ctx context.Context, cl *nodeClient, id string) (nodeStatus, error) {
	reply, err := cl.do(ctx, "role")
	if err != nil {
		return nodeStatus{}, err
	}
	if reply.Kind != resp.Array || reply.Null {
		return nodeStatus{}, fmt.Errorf("unexpected ROLE reply %v", reply)
	}
	v := reply.Elems
	st := nodeStatus{ReplicaStatus: ReplicaStatus{ID: id, Reachable: true}}
	if len(v) == 0 {
		return st, errors.New("empty ROLE reply")
	}
	st.Role = text(v[0])
	switch {
	case st.Role == "master" && len(v) >= 2:
		st.Offset = uint64(max(v[1].Int, 0))
	case st.Role == "slave" && len(v) == 5:
		st.Following = text(v[1]) + ":" + strconv.FormatInt(v[2].Int, 10)
		st.LinkState = text(v[3])
		st.Offset = uint64(max(v[4].Int, 0))
	default:
		return st, fmt.Errorf("unexpected ROLE reply %v", reply)
	}
	return st, nil
}

// text is a reply element's text: a simple or bulk string's ("" for any
// other kind).
func text(v resp.Value) string {
	if v.Kind == resp.SimpleString || v.Kind == resp.BulkString {
		return v.Str
	}
	return ""
}

// lastSeen is when the node last answered a probe (the term's start when it
// has not yet).
func (p *prober) lastSeen(id string) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.status[id]; ok && !st.lastOK.IsZero() {
		return st.lastOK
	}
	return p.resetAt
}

// statuses lists the probe results of t's members.
func (p *prober) statuses(t coordapi.Topology) []ReplicaStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]ReplicaStatus, 0, len(t.Members))
	for _, n := range t.Members {
		st, ok := p.status[n.ID]
		if !ok {
			st.ID = n.ID
		}
		out = append(out, st.ReplicaStatus)
	}
	return out
}

// leaderLoop runs the leader's duties while this member leads: probing,
// failure detection and failover. A new term starts from the committed
// topology alone (and from a lease floor), so a failover a previous leader
// began is simply finished here.
func (c *Service) leaderLoop(ctx context.Context) {
	tick := time.NewTicker(c.cfg.ProbeInterval)
	defer tick.Stop()
	leading := false
	var ledTerm uint64 // the term whose start this loop last handled
	var lastWarn time.Time
	var epoch uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-c.raft.LeaderChanges():
		}
		term, now := c.leaderTerm()
		// A new term (also one lost and regained between two ticks) starts
		// from a lease floor: the grants of the leaders in between are
		// unknown here.
		if now && term != ledTerm {
			ledTerm = term
			c.leases.enterTerm(term, time.Now(), c.cfg.Lease)
			c.probes.reset(time.Now())
			c.log.Info("leading the coordinator group", "term", term, "lease_floor", c.cfg.Lease+leaseMargin(c.cfg.Lease))
		}
		leading = now
		if !leading {
			continue
		}
		t := c.raft.Local()
		if t.Epoch != epoch {
			// A new primary is due to renew from now on.
			epoch = t.Epoch
			c.leases.newEpoch(time.Now())
		}
		c.probes.probeAll(ctx, t, "")
		if t.State == coordapi.StateTakeover && !c.takeoverBusy.Load() {
			// A takeover an earlier leader began and did not finish: roll
			// it back (its commit would have left the record stable).
			if err := c.rollbackTakeover(ctx); err != nil && ctx.Err() == nil {
				c.log.Warn("rolling back an orphaned takeover", "err", err)
			}
			continue
		}
		if err := c.checkPrimary(ctx, t); err != nil && ctx.Err() == nil && time.Since(lastWarn) > 2*time.Second {
			// Retried every probe interval; said every 2 s.
			lastWarn = time.Now()
			c.log.Warn("failover not possible yet", "err", err)
		}
	}
}

// checkPrimary fails over when the primary missed down-after of probes, or
// did not renew its lease for down-after: a primary the probes reach but
// that cannot reach the coordinators has no lease, so it takes no writes —
// for the shard it is as down as a dead one.
func (c *Service) checkPrimary(ctx context.Context, t coordapi.Topology) error {
	if t.Primary == "" || t.State != coordapi.StateStable && t.State != "" {
		return nil
	}
	reason := ""
	switch {
	case time.Since(c.probes.lastSeen(t.Primary)) >= c.cfg.DownAfter:
		reason = "primary down"
	case time.Since(c.leases.lastRenewal(t.Primary)) >= c.cfg.DownAfter+c.cfg.Lease/3:
		reason = "primary stopped renewing its lease"
	default:
		return nil
	}
	_, err := c.failover(ctx, t, "", reason)
	return err
}

// failover moves the primary role of t's epoch to to (or the best
// candidate): refuse the current primary's renewals, wait until any lease
// it holds has ended, re-probe, choose, and commit epoch+1 by
// compare-and-set. Nodes converge on the new topology themselves.
func (c *Service) failover(ctx context.Context, t coordapi.Topology, to, reason string) (coordapi.Topology, error) {
	term, err := c.awaitLeaseEnd(ctx, t.Primary, t.Epoch)
	if err != nil {
		return t, err
	}
	// Fresh replica states (not the lost primary's: a black-holed one would
	// cost a whole probe timeout).
	c.probes.probeAll(ctx, t, t.Primary)
	statuses := c.probes.statuses(t)
	if to != "" {
		var only []ReplicaStatus
		for _, st := range statuses {
			if st.ID == to {
				only = append(only, st)
			}
		}
		statuses = only
	}
	cand, err := ChooseCandidate(t, statuses)
	if err != nil {
		c.metrics.failovers.WithLabelValues(failoverNoCandidate).Inc()
		return t, err
	}
	var lsn uint64
	for _, st := range statuses {
		if st.ID == cand {
			lsn = st.Offset
		}
	}
	// Bound to the wait's term: should leadership move again before the
	// entry is appended, the FSM refuses it (ErrStaleTerm).
	nt, err := c.raft.Apply(ctx, Command{Op: OpPromote, FromEpoch: t.Epoch, Term: term, Primary: cand, PromotedAt: &coordapi.Promotion{LSN: lsn}})
	if err != nil {
		c.metrics.failovers.WithLabelValues(failoverFailed).Inc()
		return t, fmt.Errorf("commit epoch %d: %w", t.Epoch+1, err)
	}
	c.metrics.failovers.WithLabelValues(failoverCommitted).Inc()
	c.log.Warn("failover committed", "reason", reason, "old_primary", t.Primary, "new_primary", cand,
		"epoch", nt.Epoch, "lsn", lsn)
	return nt, nil
}

// awaitLeaseEnd refuses node's renewals in epoch and waits until any lease
// it may hold has ended, all within one leadership term, which it returns:
// the promote that follows is bound to that term (Command.Term).
//
// Invariant: the wait is valid only for the term it ran in. If this member
// lost leadership meanwhile, another leader may have granted node a lease
// this one never saw; if it is leader again (the term moved), it knows no
// more than a newly elected leader, so it starts the term's lease floor (a
// full lease from now), revokes again and waits again. If it no longer
// leads, the failover ends: nothing was committed.
func (c *Service) awaitLeaseEnd(ctx context.Context, node string, epoch uint64) (uint64, error) {
	for {
		term, leading := c.leaderTerm()
		if !leading {
			return 0, fmt.Errorf("failover: lease wait: %w", &NotLeaderError{})
		}
		if c.leases.enterTerm(term, time.Now(), c.cfg.Lease) {
			c.log.Info("failover: a new leadership term; waiting a full lease for grants this member did not see", "term", term)
		}
		c.leases.revoke(node, epoch)
		if wait := time.Until(c.leases.expiry(node)); wait > 0 {
			c.log.Info("failover: waiting for the primary's lease to end", "primary", node, "epoch", epoch, "wait", wait, "term", term)
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
		if now, ok := c.leaderTerm(); ok && now == term {
			return term, nil
		}
	}
}
