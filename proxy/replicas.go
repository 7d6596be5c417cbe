package proxy

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/batonkv/baton/internal/redisinfo"
	"github.com/batonkv/baton/internal/resp"
)

// Read routing modes (Config.ReadFrom, --read-from).
const (
	// ReadFromPrimary sends every command to the primary.
	ReadFromPrimary = "primary"
	// ReadFromReplicas sends read-only pipelines of the shared path to a
	// replica within MaxReplicaLag when there is one.
	ReadFromReplicas = "replicas"
)

// Replica tracking timing and bounds.
const (
	// replicaPollInterval is how often the primary's and every replica's
	// INFO replication are read.
	replicaPollInterval = 200 * time.Millisecond
	// replicaInfoTimeout bounds dialing a node and reading its INFO, so one
	// black-holed replica delays a round by at most this much.
	replicaInfoTimeout = 500 * time.Millisecond
	// maxLSNSamples bounds the primary LSN history; dropping old samples
	// only makes a replica look staler than it is, never fresher.
	maxLSNSamples = 1024
)

// lsnSample says that every write the primary acknowledged before at has
// an LSN of at most lsn: at is taken before INFO is sent, lsn is the
// primary's master_repl_offset in its reply.
type lsnSample struct {
	at  time.Time
	lsn uint64
}

// freshReplica is a replica known, as of at, to hold every write the
// primary had acknowledged: its staleness at time now is at most now-at.
type freshReplica struct {
	addr string
	at   time.Time
}

// replicaTracker decides which replicas may serve reads. Every
// replicaPollInterval it reads INFO replication on the primary (its LSN,
// recorded as an lsnSample) and on every candidate replica (link state,
// history and applied LSN, slave_repl_offset). A replica is fresh as of the
// newest sample whose LSN it has applied; it serves reads while that sample
// is at most maxLag old. A replica that is not a synced replica of the
// primary's current history, whose link is down, or whose INFO could not
// be read this round, is not eligible.
type replicaTracker struct {
	p      *Proxy
	every  time.Duration
	maxLag time.Duration

	// Owned by the run goroutine: INFO connections by address, the
	// primary and history the samples belong to, and the samples (oldest
	// first).
	conns   map[string]*infoConn
	primary string
	replid  string
	samples []lsnSample

	mu sync.Mutex
	// fresh is the last round's verdict, for primary (nil: none).
	fresh     []freshReplica
	freshFor  string
	nextFresh int
}

// infoConn is one connection the tracker reads INFO over (nil c: not
// connected).
type infoConn struct {
	c *resp.Conn
}

// startReplicaTracker starts tracking replicas when reads may go to them.
func (p *Proxy) startReplicaTracker() {
	if p.cfg.ReadFrom != ReadFromReplicas {
		return
	}
	p.replicas = &replicaTracker{p: p, every: p.cfg.replicaPoll, maxLag: p.cfg.MaxReplicaLag, conns: map[string]*infoConn{}}
	p.life.Go(func(context.Context) { p.replicas.run() })
}

// run polls until the proxy closes.
func (rt *replicaTracker) run() {
	defer func() {
		for _, c := range rt.conns {
			c.close()
		}
	}()
	t := time.NewTicker(rt.every)
	defer t.Stop()
	for {
		rt.round()
		select {
		case <-rt.p.ctx().Done():
			return
		case <-t.C:
		}
	}
}

// round reads INFO on the primary and the candidates and publishes which
// replicas are fresh.
func (rt *replicaTracker) round() {
	primary, _ := rt.p.primary()
	cands := rt.p.replicaCandidates(primary)
	rt.keepConns(append([]string{primary}, cands...))
	if primary == "" {
		rt.publish(primary, nil)
		return
	}
	at := time.Now()
	infos := rt.fetchAll(append([]string{primary}, cands...))
	pi := infos[0]
	lsn, err := strconv.ParseUint(pi["master_repl_offset"], 10, 64)
	if pi == nil || pi["role"] != "master" || err != nil {
		rt.samples = nil
		rt.publish(primary, nil)
		return
	}
	if primary != rt.primary || pi["master_replid"] != rt.replid {
		rt.primary, rt.replid, rt.samples = primary, pi["master_replid"], nil
	}
	rt.addSample(lsnSample{at: at, lsn: lsn})
	var fresh []freshReplica
	for i, addr := range cands {
		off, ok := syncedOffset(infos[i+1], rt.replid)
		if !ok {
			continue
		}
		if t, ok := caughtUpAt(rt.samples, off); ok {
			fresh = append(fresh, freshReplica{addr: addr, at: t})
		}
	}
	rt.publish(primary, fresh)
}

// addSample appends s and drops samples that can no longer make a replica
// eligible (older than maxLag), keeping the newest and at most
// maxLSNSamples.
func (rt *replicaTracker) addSample(s lsnSample) {
	rt.samples = append(rt.samples, s)
	drop := 0
	for drop < len(rt.samples)-1 && (s.at.Sub(rt.samples[drop].at) > rt.maxLag || len(rt.samples)-drop > maxLSNSamples) {
		drop++
	}
	rt.samples = append(rt.samples[:0], rt.samples[drop:]...)
}

// caughtUpAt returns the time of the newest sample (oldest first in
// samples) whose LSN a replica at offset off has applied: the replica then
// holds every write the primary acknowledged before that time.
func caughtUpAt(samples []lsnSample, off uint64) (time.Time, bool) {
	for i := len(samples) - 1; i >= 0; i-- {
		if samples[i].lsn <= off {
			return samples[i].at, true
		}
	}
	return time.Time{}, false
}

// syncedOffset returns a replica's applied LSN from its INFO replication
// when it is a replica of history replid with its link up and no sync in
// progress (ok false otherwise, or when info is nil: unknown).
func syncedOffset(info map[string]string, replid string) (uint64, bool) {
	if info == nil || info["role"] != "slave" || info["master_link_status"] != "up" ||
		info["master_sync_in_progress"] != "0" || replid == "" || info["master_replid"] != replid {
		return 0, false
	}
	off, err := strconv.ParseUint(info["slave_repl_offset"], 10, 64)
	return off, err == nil
}

// publish replaces the verdict.
func (rt *replicaTracker) publish(primary string, fresh []freshReplica) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.fresh, rt.freshFor = fresh, primary
}

// pick returns a replica of primary fresh enough at now, round-robin
// among the eligible ones ("" when none).
func (rt *replicaTracker) pick(primary string, now time.Time) string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if primary == "" || primary != rt.freshFor {
		return ""
	}
	for range rt.fresh {
		rt.nextFresh = (rt.nextFresh + 1) % len(rt.fresh)
		if f := rt.fresh[rt.nextFresh]; now.Sub(f.at) <= rt.maxLag {
			return f.addr
		}
	}
	return ""
}

// suspect takes addr out of rotation until the next round vouches for it
// again (a read on it failed).
func (rt *replicaTracker) suspect(addr string) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.fresh = slices.DeleteFunc(slices.Clone(rt.fresh), func(f freshReplica) bool { return f.addr == addr })
	rt.nextFresh = 0
}

// replicaCandidates lists the replica addresses to track: the topology's
// members (with coordinators) or the static Replicas, without primary.
func (p *Proxy) replicaCandidates(primary string) []string {
	p.mu.Lock()
	src := p.cfg.Replicas
	if len(p.cfg.Coordinators) > 0 {
		src = p.members
	}
	p.mu.Unlock()
	var out []string
	for _, a := range src {
		if a != "" && a != primary && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// replicaFor is forward's hook for ReadFromReplicas: the fresh replica a
// batch of read-only commands goes to first ("" for none). What the
// replica could not answer (its connection broke, or it refused before
// executing) goes on to the primary like any other batch (replicaFailed).
// A batch with a write stays whole on the primary, so a pipeline reads its
// own writes.
func (p *Proxy) replicaFor(reqs []request) string {
	rt := p.replicas
	if rt == nil || len(reqs) == 0 {
		return ""
	}
	for i := range reqs {
		if !reqs[i].readonly {
			return ""
		}
	}
	primary, _ := p.primary()
	return rt.pick(primary, time.Now())
}

// replicaFailed notes that replica addr left n commands of a batch to the
// primary.
func (p *Proxy) replicaFailed(addr string, n int) {
	p.log.Debug("read on replica failed; retrying on the primary", "replica", addr, "commands", n)
	p.met.replicaFell.Add(float64(n))
	p.met.backendErrors.WithLabelValues(backendReplicaRd).Inc()
	p.replicas.suspect(addr)
}

// keepConns closes the INFO connections to addresses no longer tracked.
func (rt *replicaTracker) keepConns(addrs []string) {
	for a, c := range rt.conns {
		if !slices.Contains(addrs, a) {
			c.close()
			delete(rt.conns, a)
		}
	}
}

// fetchAll reads INFO replication on every address concurrently; a nil
// entry means it could not be read.
func (rt *replicaTracker) fetchAll(addrs []string) []map[string]string {
	out := make([]map[string]string, len(addrs))
	var wg sync.WaitGroup
	for i, a := range addrs {
		c := rt.conns[a]
		if c == nil {
			c = &infoConn{}
			rt.conns[a] = c
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = c.fetch(rt.p.ctx(), a, rt.p.cfg.BackendAuth)
		}()
	}
	wg.Wait()
	return out
}

// fetch reads INFO replication from addr (dialing if needed) within
// replicaInfoTimeout; nil on any error, after which the connection is
// closed.
func (ic *infoConn) fetch(ctx context.Context, addr, password string) map[string]string {
	if ic.c == nil {
		dctx, cancel := context.WithTimeout(ctx, replicaInfoTimeout)
		c, err := dialBackend(dctx, addr, password)
		cancel()
		if err != nil {
			return nil
		}
		ic.c = c
	}
	ctx, cancel := context.WithTimeout(ctx, replicaInfoTimeout)
	defer cancel()
	v, err := ic.c.Do(ctx, "INFO", "replication")
	if err != nil || v.Kind != resp.BulkString || v.Null {
		ic.close()
		return nil
	}
	return redisinfo.Parse(v.Str)
}

// close closes the connection (a later fetch dials again).
func (ic *infoConn) close() {
	if ic.c != nil {
		ic.c.Close()
		ic.c = nil
	}
}
