// Command benchrepl is the measuring half of scripts/bench-repl.sh: it speaks
// RESP to a primary and its replicas (baton node or redis-server, which share
// the INFO replication fields it reads) and prints key=value lines the script
// turns into a table.
//
//	benchrepl gen -keys N -size S            SET commands in RESP on stdout (for redis-cli --pipe)
//	benchrepl attach -primary A -replica B   REPLICAOF, then wait until B is in sync; prints seconds
//	benchrepl lag -primary A -replicas B,C -- CMD ARGS...
//	                                          run CMD while sampling offsets; prints lag statistics
//
// Offsets are whatever the system reports: Baton's are LSNs (one per write),
// Redis' are bytes of the replication stream. Lag in milliseconds is
// comparable across both; lag in offsets is not.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/batonkv/baton/internal/redisinfo"
	"github.com/redis/go-redis/v9"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchrepl gen|attach|lag [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = runGen(os.Args[2:])
	case "attach":
		err = runAttach(os.Args[2:])
	case "lag":
		err = runLag(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrepl:", err)
		os.Exit(1)
	}
}

// runGen writes keys SET commands with distinct, incompressible values of
// size bytes in RESP. The values are random letters: Redis compresses
// strings in its RDB (LZF), so repetitive values would make its full sync
// look faster than the dataset size says.
func runGen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	keys := fs.Int("keys", 1000000, "number of keys")
	size := fs.Int("size", 1000, "value size in bytes")
	seed := fs.Uint64("seed", 1, "random seed")
	_ = fs.Parse(args)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	rng := rand.New(rand.NewChaCha8([32]byte{byte(*seed), byte(*seed >> 8)}))
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	val := make([]byte, *size)
	for i := 0; i < *keys; i++ {
		for j := range val {
			val[j] = alphabet[rng.Uint32()&63]
		}
		key := fmt.Sprintf("key:%010d", i)
		fmt.Fprintf(w, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n", len(key), key, len(val))
		w.Write(val)
		w.WriteString("\r\n")
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("gen: write: %w", err)
	}
	return nil
}

// replInfo is the part of INFO replication this program reads.
type replInfo struct {
	role          string
	linkUp        bool  // replica: master_link_status:up
	syncing       bool  // replica: master_sync_in_progress:1
	replicaOffset int64 // replica: slave_repl_offset (applied)
	masterOffset  int64 // master_repl_offset
}

// info fetches and parses INFO replication from c.
func info(ctx context.Context, c *redis.Client) (replInfo, error) {
	f, err := redisinfo.Fetch(ctx, c, "replication")
	if err != nil {
		return replInfo{}, err
	}
	r := replInfo{role: f["role"], linkUp: f["master_link_status"] == "up"}
	if v, ok := f["master_sync_in_progress"]; ok {
		r.syncing = v != "0"
	}
	r.replicaOffset, _ = strconv.ParseInt(f["slave_repl_offset"], 10, 64)
	r.masterOffset, _ = strconv.ParseInt(f["master_repl_offset"], 10, 64)
	return r, nil
}

func newClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: addr, PoolSize: 2, DialTimeout: 2 * time.Second,
		ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second,
		MaxRetries: -1, Protocol: 2, DisableIdentity: true,
	})
}

// runAttach makes the replica follow the primary and waits, bounded by
// -timeout, until it reports the link up, no sync in progress and an applied
// offset equal to the primary's. It prints seconds=S measured from just
// before REPLICAOF was sent, so a node that handshakes before replying OK
// (Baton's REPLICAOF v2) pays for it as Redis pays for its asynchronous one.
func runAttach(args []string) error {
	fs := flag.NewFlagSet("attach", flag.ExitOnError)
	primary := fs.String("primary", "", "primary host:port")
	replica := fs.String("replica", "", "replica host:port")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	poll := fs.Duration("poll", 10*time.Millisecond, "polling interval")
	_ = fs.Parse(args)
	host, port, err := net.SplitHostPort(*primary)
	if err != nil {
		return fmt.Errorf("attach: -primary: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	p, r := newClient(*primary), newClient(*replica)
	defer p.Close()
	defer r.Close()

	start := time.Now()
	if err := r.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
		return fmt.Errorf("attach: REPLICAOF %s %s on %s (does this server replicate?): %w", host, port, *replica, err)
	}
	var last string
	for {
		ri, err := info(ctx, r)
		if err == nil {
			var pi replInfo
			// The primary's offset is read after the replica's, so equality
			// means the replica had applied everything the primary had
			// written when its own INFO was taken.
			pi, err = info(ctx, p)
			if err == nil {
				if ri.linkUp && !ri.syncing && ri.replicaOffset == pi.masterOffset && pi.masterOffset >= 0 {
					fmt.Printf("seconds=%.3f\noffset=%d\n", time.Since(start).Seconds(), pi.masterOffset)
					return nil
				}
				last = fmt.Sprintf("role=%s link_up=%v sync_in_progress=%v replica_offset=%d primary_offset=%d",
					ri.role, ri.linkUp, ri.syncing, ri.replicaOffset, pi.masterOffset)
			}
		}
		if err != nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("attach: %s not in sync with %s after %v; last seen: %s", *replica, *primary, *timeout, last)
		case <-time.After(*poll):
		}
	}
}

// sample is one offset reading: mono is time since the run started.
type sample struct {
	mono   time.Duration
	offset int64
}

// poller reads one node's offset every interval until ctx ends. Each sample's
// time is taken when the reply arrived, on the monotonic clock.
func poller(ctx context.Context, c *redis.Client, start time.Time, interval time.Duration, primary bool) ([]sample, error) {
	var out []sample
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ri, err := info(ctx, c)
		if err != nil {
			if ctx.Err() != nil {
				return out, nil
			}
			return out, err
		}
		off := ri.replicaOffset
		if primary {
			off = ri.masterOffset
		}
		out = append(out, sample{time.Since(start), off})
		select {
		case <-ctx.Done():
			return out, nil
		case <-t.C:
		}
	}
}

// runLag samples the primary's master_repl_offset and each replica's
// slave_repl_offset every -interval while CMD runs, then keeps sampling until
// every replica reached the primary's final offset (bounded by
// -catchup-timeout), and prints:
//
//	max_offset_lag: max over replica samples of (primary's offset at its
//	  newest sample not later than the replica's) − replica's offset;
//	lag_ms max and p99: for a replica sample at t with offset o,
//	  t − (first time the primary was sampled with offset ≥ o), floored at 0.
//
// Sampling every 10 ms makes lag_ms an estimate with ~10 ms resolution: the
// primary reached o at or before the sample that first showed it.
// Only replica samples from the first primary offset change after CMD
// started count, so idle time before the benchmark (and a Redis primary's
// periodic PING, which moves its offset) does not dilute the percentile.
func runLag(args []string) error {
	fs := flag.NewFlagSet("lag", flag.ExitOnError)
	primary := fs.String("primary", "", "primary host:port")
	replicas := fs.String("replicas", "", "comma-separated replica host:port list")
	interval := fs.Duration("interval", 10*time.Millisecond, "sampling interval")
	catchup := fs.Duration("catchup-timeout", 2*time.Minute, "how long replicas may take to catch up after CMD")
	cmdTimeout := fs.Duration("timeout", 10*time.Minute, "how long CMD may run")
	_ = fs.Parse(args)
	cmdArgs := fs.Args()
	if len(cmdArgs) == 0 || *primary == "" || *replicas == "" {
		return errors.New("lag: need -primary, -replicas and a command after --")
	}
	addrs := append([]string{*primary}, strings.Split(*replicas, ",")...)
	clients := make([]*redis.Client, len(addrs))
	for i, a := range addrs {
		clients[i] = newClient(a)
		defer clients[i].Close()
	}

	start := time.Now()
	sctx, stop := context.WithCancel(context.Background())
	defer stop()
	samples := make([][]sample, len(addrs))
	errs := make([]error, len(addrs))
	var wg sync.WaitGroup
	for i := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			samples[i], errs[i] = poller(sctx, clients[i], start, *interval, i == 0)
		}()
	}

	cctx, ccancel := context.WithTimeout(context.Background(), *cmdTimeout)
	defer ccancel()
	cmd := exec.CommandContext(cctx, cmdArgs[0], cmdArgs[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmdStart := time.Since(start)
	cmdErr := cmd.Run()
	cmdEnd := time.Since(start)

	// Wait until every replica applied the primary's final offset.
	caught := waitCaughtUp(clients, *catchup)
	stop()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("lag: sampling %s: %w", addrs[i], err)
		}
	}
	if cmdErr != nil {
		return fmt.Errorf("lag: %s: %w", strings.Join(cmdArgs, " "), cmdErr)
	}
	if caught != nil {
		return fmt.Errorf("lag: %w", caught)
	}
	printLag(samples, cmdStart, cmdEnd)
	return nil
}

// waitCaughtUp polls until each replica's applied offset equals the
// primary's, or timeout passes.
func waitCaughtUp(clients []*redis.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		pi, err := info(ctx, clients[0])
		done := err == nil
		for _, c := range clients[1:] {
			if !done {
				break
			}
			ri, rerr := info(ctx, c)
			done = rerr == nil && ri.replicaOffset >= pi.masterOffset
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("replicas did not catch up with the primary within %v", timeout)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// lagResult is what runLag reports; offsets are in the system's own unit.
type lagResult struct {
	samples, primarySamples int
	maxOffsetLag            int64
	p50, p99, max           float64 // lag in milliseconds
	finalOffset             int64
}

// lagStats computes the statistics runLag documents from the primary's
// samples (ps[0], offsets non-decreasing) and the replicas' (ps[1:]).
func lagStats(ps [][]sample, cmdStart, cmdEnd time.Duration) lagResult {
	prim := ps[0]
	if len(prim) == 0 {
		return lagResult{}
	}
	// The window starts at the first primary sample past the offset the
	// primary had when CMD started.
	k := max(0, sort.Search(len(prim), func(i int) bool { return prim[i].mono > cmdStart })-1)
	from := cmdEnd
	for _, s := range prim[k:] {
		if s.offset > prim[k].offset {
			from = s.mono
			break
		}
	}
	res := lagResult{primarySamples: len(prim), finalOffset: prim[len(prim)-1].offset}
	var lags []float64
	for _, rs := range ps[1:] {
		for _, s := range rs {
			if s.mono < from {
				continue
			}
			// Newest primary sample not later than s.
			k := sort.Search(len(prim), func(i int) bool { return prim[i].mono > s.mono }) - 1
			if k >= 0 && prim[k].offset-s.offset > res.maxOffsetLag {
				res.maxOffsetLag = prim[k].offset - s.offset
			}
			// First primary sample with offset ≥ s.offset.
			j := sort.Search(len(prim), func(i int) bool { return prim[i].offset >= s.offset })
			lag := 0.0
			if j < len(prim) && s.mono > prim[j].mono {
				lag = float64(s.mono-prim[j].mono) / float64(time.Millisecond)
			}
			lags = append(lags, lag)
		}
	}
	sort.Float64s(lags)
	pct := func(p float64) float64 {
		if len(lags) == 0 {
			return 0
		}
		i := int(p*float64(len(lags))+0.5) - 1
		return lags[max(0, min(i, len(lags)-1))]
	}
	res.samples = len(lags)
	res.p50, res.p99, res.max = pct(0.5), pct(0.99), pct(1)
	return res
}

// printLag prints lagStats' result as key=value lines for bench-repl.sh.
func printLag(ps [][]sample, cmdStart, cmdEnd time.Duration) {
	r := lagStats(ps, cmdStart, cmdEnd)
	fmt.Printf("samples=%d\nprimary_samples=%d\nmax_offset_lag=%d\nlag_ms_max=%.1f\nlag_ms_p99=%.1f\nlag_ms_p50=%.1f\nfinal_offset=%d\n",
		r.samples, r.primarySamples, r.maxOffsetLag, r.max, r.p99, r.p50, r.finalOffset)
}
