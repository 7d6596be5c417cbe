package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonkv/baton/chaos/check"
	"github.com/redis/go-redis/v9"
)

// Workloads shapes the client load of a run: how many workers of each
// kind, on how many keys each, and the pause between a worker's
// operations. Every worker has its own connection through the proxy.
type Workloads struct {
	// Registers: GET, SET and compare-and-set (WATCH/MULTI/EXEC) on
	// "reg:N", checked for linearizability.
	Registers int
	// Lists and Sets: RPUSH / SADD of unique values to "list:N" / "set:N",
	// checked for lost acknowledged writes.
	Lists, Sets int
	// Counters: INCR of "ctr:N", checked for lost or doubled increments.
	Counters int
	// TTLs: pipelines of SET … PX and PEXPIRE with TTLs of 10–200 ms on
	// "ttl:N", so the primary keeps expiring keys and journaling the
	// deletions; nothing is checked of them but the nodes' final DIGESTs
	// (and everything else, under that load).
	TTLs int
	// Keys is how many keys each kind spreads over.
	Keys int
	// Pace is each worker's pause between operations (it bounds the
	// history porcupine must search).
	Pace time.Duration
}

// DefaultWorkloads is the load of `baton chaos run`.
func DefaultWorkloads() Workloads {
	return Workloads{Registers: 3, Lists: 2, Sets: 2, Counters: 2, Keys: 3, Pace: 5 * time.Millisecond}
}

// load is the running workers of one run.
type load struct {
	h    *history
	halt atomic.Bool
	wg   sync.WaitGroup
}

// startLoad starts the workers, spread over addrs in turn; their choices
// come from seed.
func startLoad(addrs []string, w Workloads, h *history, seed uint64) *load {
	l := &load{h: h}
	n := 0
	for _, k := range []struct {
		kind    string
		workers int
	}{{"register", w.Registers}, {"list", w.Lists}, {"set", w.Sets}, {"counter", w.Counters}, {"ttl", w.TTLs}} {
		for range k.workers {
			addr := addrs[n%len(addrs)]
			wk := &worker{id: n, kind: k.kind, h: h, keys: max(w.Keys, 1), pace: w.Pace,
				rng: rand.New(rand.NewPCG(seed, uint64(n))), last: map[string]string{},
				cl: redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1, Protocol: 2,
					DisableIdentity: true, DialTimeout: time.Second, ReadTimeout: 6 * time.Second, WriteTimeout: 2 * time.Second})}
			n++
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				wk.run(&l.halt)
			}()
		}
	}
	return l
}

// stop halts the workers and waits for their last operations.
func (l *load) stop() {
	l.halt.Store(true)
	l.wg.Wait()
}

// worker is one client of one workload kind.
type worker struct {
	id   int
	kind string
	h    *history
	cl   *redis.Client
	rng  *rand.Rand
	keys int
	pace time.Duration
	proc int
	seq  int
	// backoff grows while operations fail (a dead proxy or primary
	// behind toxiproxy fails fast): every failure is one more ambiguous
	// operation for porcupine, which an outage must not flood.
	backoff time.Duration
	// last is the register value this worker last saw per key (the
	// expectation of its next compare-and-set).
	last map[string]string
}

// run issues operations until halt is set.
func (w *worker) run(halt *atomic.Bool) {
	defer w.cl.Close()
	w.proc = w.h.process()
	for !halt.Load() {
		switch w.kind {
		case "register":
			w.register()
		case "list":
			key, v := w.key("list"), w.unique()
			w.do(check.Op{Kind: "append", Key: key, Value: v}, func(ctx context.Context, op *check.Op) error {
				return w.cl.RPush(ctx, key, v).Err()
			})
		case "set":
			key, v := w.key("set"), w.unique()
			w.do(check.Op{Kind: "add", Key: key, Value: v}, func(ctx context.Context, op *check.Op) error {
				return w.cl.SAdd(ctx, key, v).Err()
			})
		case "ttl":
			w.ttl()
		case "counter":
			key := w.key("ctr")
			w.do(check.Op{Kind: "incr", Key: key}, func(ctx context.Context, op *check.Op) error {
				n, err := w.cl.Incr(ctx, key).Result()
				op.Out = strconv.FormatInt(n, 10)
				return err
			})
		}
		time.Sleep(w.pace + w.backoff)
	}
}

// ttl pipelines SET key v PX t, PEXPIRE of another key and a SET with no
// TTL that the PEXPIRE may hit later: keys expire all the time, and every
// expiry is a journaled deletion. Recorded as one "ttl" operation, which
// no checker reads: the load is the point.
func (w *worker) ttl() {
	k1, k2, v := w.key("ttl"), w.key("ttl"), w.unique()
	px := time.Duration(between(w.rng, 10, 200)) * time.Millisecond
	w.do(check.Op{Kind: "ttl", Key: k1, Value: v}, func(ctx context.Context, op *check.Op) error {
		_, err := w.cl.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, k1, v, px)
			p.PExpire(ctx, k2, px)
			p.Set(ctx, w.key("ttl"), v, 0)
			p.PExpire(ctx, k1, 2*px)
			return nil
		})
		return err
	})
}

// key picks one of the worker's keys of a prefix.
func (w *worker) key(prefix string) string {
	return fmt.Sprintf("%s:%d", prefix, w.rng.IntN(w.keys))
}

// unique returns a value no other operation of the run writes.
func (w *worker) unique() string {
	w.seq++
	return fmt.Sprintf("w%d-%d", w.id, w.seq)
}

// do runs one operation, classifies its outcome and records it.
func (w *worker) do(op check.Op, f func(ctx context.Context, op *check.Op) error) {
	op.Process = w.proc
	op.Call = w.h.since()
	err := f(context.Background(), &op)
	op.Return = w.h.since()
	op.Status = Classify(err)
	if err != nil {
		op.Err = err.Error()
	}
	w.h.add(op)
	if op.Status == check.Info {
		w.proc = w.h.process()
	}
	if op.Status == check.OK {
		w.backoff = 0
	} else {
		w.backoff = min(max(2*w.backoff, minBackoff), maxBackoff)
	}
}

// A worker's pause after a failed operation doubles from minBackoff up to
// maxBackoff while failures last.
const (
	minBackoff = 20 * time.Millisecond
	maxBackoff = 200 * time.Millisecond
)
