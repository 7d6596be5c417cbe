package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/benchkit"
)

// switchRec is one switch of the primary role, on the load's clock.
type switchRec struct {
	start, end  time.Duration // the switch command sent, and its outcome known
	total       time.Duration // Baton: the report's total_ms; Redis: end - start
	ok          bool          // committed (Baton) or completed (Redis)
	forceClosed int64
	steps       []coordapi.TakeoverStep
	// prep is when hung clients were being connected before the switch
	// (zero without): the ack gap then is reported apart.
	prepStart, prepEnd time.Duration
}

// result is one scenario's measurements.
type result struct {
	name     string // the scenario's name in -systems
	label    string
	limit    time.Duration // target for the max pause; 0 for the anchor
	switches []switchRec
	pauses   []time.Duration // per switch: longest append in flight
	gaps     []time.Duration // per switch: longest gap between acknowledgements
	prepGaps []time.Duration // per switch with hung clients: longest gap while connecting them
	errs     map[string]int  // failed attempts by kind
	acked    int
	// unplanned counts failovers the coordinators made on their own
	// (Baton) during the scenario.
	unplanned int
	bad       []string // writers whose list is wrong: lost, duplicated or reordered appends
}

// errCount is the number of failed attempts.
func (r *result) errCount() int {
	n := 0
	for _, v := range r.errs {
		n += v
	}
	return n
}

// warmUp waits until every writer has had an append acknowledged, then
// lets the load run for settle.
func warmUp(ctx context.Context, cfg config, l *appendLoad) error {
	if err := l.waitFlowing(ctx, cfg.waitTimeout); err != nil {
		return err
	}
	benchkit.Sleep(ctx, cfg.settle)
	return nil
}

// measureBaton runs cfg.k takeovers alternating between n1 and n2 under a
// load through the proxy; with hung > 0, that many hung clients are
// connected to the primary before each one and GRACE is cfg.grace.
func measureBaton(ctx context.Context, cfg config, a *appliance, name string, hung int) (*result, error) {
	b := &batonRun{cfg: cfg, a: a, hung: hung,
		r: &result{name: name, label: "baton takeover via proxy", limit: 250 * time.Millisecond}}
	if hung > 0 {
		b.grace = cfg.grace
		b.r.label = fmt.Sprintf("baton takeover via proxy, %d hung clients, GRACE %v", hung, b.grace)
		b.r.limit += b.grace
	}
	b.l = &appendLoad{prefix: "bt-" + name, backoff: cfg.backoff, interval: cfg.interval,
		resolve: func(context.Context) (string, error) { return a.proxy.Addr, nil }}
	b.l.start(ctx, cfg.clients)
	defer b.l.stop()
	if err := warmUp(ctx, cfg, b.l); err != nil {
		return nil, err
	}
	for len(b.r.switches) < cfg.k {
		if b.r.unplanned > cfg.k {
			return nil, fmt.Errorf("%d automatic failovers: the cluster does not hold still", b.r.unplanned)
		}
		if err := b.step(ctx); err != nil {
			return nil, fmt.Errorf("takeover %d: %w", len(b.r.switches)+1, err)
		}
		benchkit.Sleep(ctx, cfg.settle)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return b.r, finish(ctx, cfg, b.r, b.l, func(ctx context.Context) (string, error) {
		p, err := a.Primary(ctx)
		if err != nil {
			return "", err
		}
		return p.Addr, nil
	})
}

// batonRun is one Baton scenario in progress.
type batonRun struct {
	cfg   config
	a     *appliance
	l     *appendLoad
	r     *result
	hung  int
	grace time.Duration
	epoch uint64 // the epoch as the last step left it
}

// step performs one takeover away from the current primary. When the epoch
// moved without a takeover of ours (the coordinators failed the primary
// over on their own: it missed probes for --down-after), it counts that in
// r.unplanned and, if it happened while the hung clients were connected,
// records no switch: the caller tries again.
func (b *batonRun) step(ctx context.Context) error {
	p, err := b.a.Primary(ctx)
	if err != nil {
		return err
	}
	b.noteEpoch(ctx, "during the previous window or settle")
	to := "n2"
	if p.Name == "n2" {
		to = "n1"
	}
	s := switchRec{}
	var h *hungClients
	if b.hung > 0 {
		s.prepStart = b.l.now()
		if h, err = hangClients(ctx, p.Addr, b.hung, b.cfg.waitTimeout); err != nil {
			return err
		}
		defer h.close()
		s.prepEnd = b.l.now()
	}
	if err := b.l.waitFlowing(ctx, b.cfg.waitTimeout); err != nil {
		return err
	}
	if b.noteEpoch(ctx, "while the hung clients were connected") {
		return nil
	}
	s.start = b.l.now()
	rep, err := b.a.takeover(ctx, to, b.cfg.timeout, b.grace)
	s.end = b.l.now()
	if err != nil {
		return fmt.Errorf("%s → %s: %w", p.Name, to, err)
	}
	h.close()
	b.epoch = rep.Epoch
	s.total, s.ok = time.Duration(rep.TotalMs*float64(time.Millisecond)), rep.Outcome == coordapi.OutcomeCommitted
	s.forceClosed, s.steps = rep.ForceClosed, rep.Steps
	b.r.switches = append(b.r.switches, s)
	fmt.Fprintf(os.Stderr, "%s: takeover %d/%d %s → %s: %s, total %.1f ms, force-closed %d%s\n", b.r.name, len(b.r.switches),
		b.cfg.k, rep.From, rep.To, rep.Outcome, rep.TotalMs, rep.ForceClosed, reason(rep))
	return nil
}

// noteEpoch reads the topology's epoch and reports whether it moved since
// the last step without a takeover of ours (counted in r.unplanned).
func (b *batonRun) noteEpoch(ctx context.Context, when string) bool {
	t, err := b.a.Topology(ctx)
	if err != nil {
		return false
	}
	moved := b.epoch != 0 && t.Epoch != b.epoch
	if moved {
		b.r.unplanned++
		fmt.Fprintf(os.Stderr, "%s: the coordinators failed the primary over on their own %s (epoch %d → %d, primary %s)\n",
			b.r.name, when, b.epoch, t.Epoch, t.Primary)
	}
	b.epoch = t.Epoch
	return moved
}

// rel is t - origin in whole milliseconds.
func rel(t, origin time.Duration) int64 { return (t - origin).Round(time.Millisecond).Milliseconds() }

// reason is a rolled-back takeover's failed step and reason, for progress.
func reason(rep coordapi.TakeoverReport) string {
	if rep.Outcome == coordapi.OutcomeCommitted {
		return ""
	}
	return fmt.Sprintf(" (step %s: %s)", rep.FailedStep, rep.Reason)
}

// measureRedis runs cfg.k Redis FAILOVERs between a primary and its replica
// under the same load written straight to the current primary.
func measureRedis(ctx context.Context, cfg config, dir string) (*result, error) {
	fmt.Fprintln(os.Stderr, "redis-failover: starting a primary and a replica")
	rp := &redisPair{dir: dir, wait: cfg.waitTimeout}
	defer rp.stop()
	if err := rp.start(ctx); err != nil {
		return nil, fmt.Errorf("redis-failover: start: %w", err)
	}
	r := &result{name: "redis-failover", label: "Redis 7 FAILOVER (anchor), direct to the primary"}
	l := &appendLoad{prefix: "redis", backoff: cfg.backoff, interval: cfg.interval, resolve: rp.primaryAddr}
	l.start(ctx, cfg.clients)
	defer l.stop()
	if err := warmUp(ctx, cfg, l); err != nil {
		return nil, err
	}
	for i := range cfg.k {
		p, _, err := rp.ready(ctx)
		if err != nil {
			return nil, fmt.Errorf("FAILOVER %d: %w", i+1, err)
		}
		if err := l.waitFlowing(ctx, cfg.waitTimeout); err != nil {
			return nil, fmt.Errorf("FAILOVER %d: %w", i+1, err)
		}
		start := l.now()
		ok, err := rp.failover(ctx, p, cfg.timeout)
		end := l.now()
		if err != nil {
			return nil, fmt.Errorf("FAILOVER %d: %w", i+1, err)
		}
		r.switches = append(r.switches, switchRec{start: start, end: end, total: end - start, ok: ok})
		fmt.Fprintf(os.Stderr, "redis-failover: FAILOVER %d/%d from %s: completed %v in %.1f ms\n", i+1, cfg.k, p.Name, ok,
			float64((end-start).Microseconds())/1000)
		benchkit.Sleep(ctx, cfg.settle)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return r, finish(ctx, cfg, r, l, func(ctx context.Context) (string, error) {
		p, _, err := rp.ready(ctx)
		if err != nil {
			return "", err
		}
		return p.Addr, nil
	})
}

// finish stops the load, checks every writer's list on the final primary
// (primary waits for one) and computes the per-switch windows.
func finish(ctx context.Context, cfg config, r *result, l *appendLoad, primary func(context.Context) (string, error)) error {
	end := l.now()
	l.stop()
	addr, err := primary(ctx)
	if err != nil {
		return fmt.Errorf("final primary: %w", err)
	}
	if r.bad, err = l.verify(ctx, addr); err != nil {
		return err
	}
	ops, acks, errs := l.results()
	r.errs, r.acked = errs, len(acks)
	for i, s := range r.switches {
		to := min(s.end+cfg.tail, end)
		if i+1 < len(r.switches) {
			to = min(to, r.switches[i+1].start)
		}
		o := longestInFlight(ops, s.start, to)
		r.pauses = append(r.pauses, o.reply-o.send)
		r.gaps = append(r.gaps, benchkit.LongestGap(acks, s.start, to))
		if s.prepEnd > 0 {
			r.prepGaps = append(r.prepGaps, benchkit.LongestGap(acks, s.prepStart, s.prepEnd))
		}
		fmt.Fprintf(os.Stderr, "%s: switch %d: pause %s ms (append sent at %+d ms, answered at %+d ms from the command; switch ended at %+d ms), ack gap %s ms\n",
			r.name, i+1, benchkit.Ms(o.reply-o.send), rel(o.send, s.start), rel(o.reply, s.start), rel(s.end, s.start), benchkit.Ms(r.gaps[i]))
	}
	return nil
}
