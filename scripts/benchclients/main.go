// Command benchclients measures what hung clients cost the clients that
// behave (issue 17): WRITERS writers SET for WINDOW while 0, 10 or 50 hung
// clients — each a pipeline of GETS GETs of its own VALUE-byte value,
// never read — are connected, through `baton proxy` and straight to
// `baton node`, next to redis-server with the same hung clients straight
// to it. Every server closes a hung client at its output limit (LIMIT, the
// same client-output-buffer-limit for all three). It prints writer
// throughput and p99 latency per row, as Markdown, then the node's CPU for
// a pipeline of N GETs of a 256 KB value (N = 50 and 200, ratio ≤ 5 means
// linear). The numbers are reported, never enforced.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/batonkv/baton/internal/benchkit"
	"github.com/batonkv/baton/internal/proc"
	"github.com/redis/go-redis/v9"
)

type config struct {
	baton, redis string
	writers      int
	hung         string
	window       time.Duration
	value, gets  int
	limit        string
}

func main() {
	var cfg config
	flag.StringVar(&cfg.baton, "baton", "bin/baton", "baton binary")
	flag.StringVar(&cfg.redis, "redis", "redis-server", "redis-server binary (empty: skip)")
	flag.IntVar(&cfg.writers, "writers", 20, "writers")
	flag.StringVar(&cfg.hung, "hung", "0,10,50", "hung client counts, comma-separated")
	flag.DurationVar(&cfg.window, "window", 5*time.Second, "measurement window per row")
	flag.IntVar(&cfg.value, "value", 1<<20, "bytes of each hung client's value")
	flag.IntVar(&cfg.gets, "gets", 64, "GETs in each hung client's pipeline")
	flag.StringVar(&cfg.limit, "limit", "normal 32mb 8mb 10", "client-output-buffer-limit of the normal class, for every server")
	flag.Parse()
	benchkit.Main("bench-clients", func(ctx context.Context) error { return run(ctx, cfg) })
}

// row is one measurement.
type row struct {
	target    string
	hung      int
	writes    int
	errs      int
	p50, p99  time.Duration
	peakRSSMB int64
}

func run(ctx context.Context, cfg config) error {
	dir, err := os.MkdirTemp("", "bench-clients-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	node, err := proc.Start(ctx, proc.Config{Name: "node", Bin: cfg.baton, LogPath: filepath.Join(dir, "node.log"),
		// No normal-class limit while the proxy is in front: the node's
		// clients are then the proxy's shared connections. The direct
		// rows set it (CONFIG SET) before they run.
		Args:       []string{"node", "--addr", "127.0.0.1:0", "--log-level", "warn"},
		AddrPrefix: proc.Listening("node")})
	if err != nil {
		return err
	}
	defer node.Kill()
	px, err := proc.Start(ctx, proc.Config{Name: "proxy", Bin: cfg.baton, LogPath: filepath.Join(dir, "proxy.log"),
		Args: []string{"proxy", "--addr", "127.0.0.1:0", "--backend", node.Addr(), "--log-level", "warn",
			"--client-output-buffer-limit", cfg.limit}, AddrPrefix: proc.Listening("proxy")})
	if err != nil {
		return err
	}
	defer px.Kill()
	type target struct {
		name, addr string
		pid        int
	}
	targets := []target{{"baton via proxy", px.Addr(), px.PID()}, {"baton direct", node.Addr(), node.PID()}}
	if cfg.redis != "" {
		ports, err := proc.FreePorts(1)
		if err != nil {
			return err
		}
		rs, err := proc.Start(ctx, proc.Config{Name: "redis", Bin: cfg.redis, LogPath: filepath.Join(dir, "redis.log"),
			Args: []string{"--port", strconv.Itoa(ports[0]), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
				"--client-output-buffer-limit", cfg.limit}})
		if err != nil {
			return err
		}
		defer rs.Kill()
		addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
		if err := benchkit.Poll(ctx, "redis-server", 10*time.Second, func(ctx context.Context) error {
			return benchkit.NewClient(addr, "").Ping(ctx).Err()
		}); err != nil {
			return err
		}
		targets = append(targets, target{"redis-server direct", addr, rs.PID()})
	}
	var rows []row
	for _, t := range targets {
		if t.name == "baton direct" {
			c := benchkit.NewClient(t.addr, "")
			err := c.ConfigSet(ctx, "client-output-buffer-limit", cfg.limit).Err()
			c.Close()
			if err != nil {
				return fmt.Errorf("CONFIG SET client-output-buffer-limit: %w", err)
			}
		}
		for _, f := range strings.Split(cfg.hung, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return fmt.Errorf("-hung %q: %w", cfg.hung, err)
			}
			conns, err := hang(ctx, t.addr, n, cfg)
			if err != nil {
				return err
			}
			r := measure(ctx, t.addr, cfg)
			for _, c := range conns {
				c.Close()
			}
			// Let the server drop what it still had for them before the
			// next row.
			benchkit.Sleep(ctx, time.Second)
			r.target, r.hung, r.peakRSSMB = t.name, n, peakRSS(t.pid)>>20
			fmt.Fprintf(os.Stderr, "%s, %d hung: %d writes, %d errors\n", t.name, n, r.writes, r.errs)
			rows = append(rows, r)
		}
	}
	fmt.Printf("## Writers with hung clients (WRITERS %d, window %v, hung: pipeline of %d GETs of %d bytes, limit %q)\n\n",
		cfg.writers, cfg.window, cfg.gets, cfg.value, cfg.limit)
	fmt.Println("| target | hung | writes/s | × no hung | errors | p50 ms | p99 ms | peak RSS MB |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
	base := map[string]float64{}
	for _, r := range rows {
		rate := float64(r.writes) / cfg.window.Seconds()
		if r.hung == 0 {
			base[r.target] = rate
		}
		ratio := "-"
		if b := base[r.target]; b > 0 {
			ratio = fmt.Sprintf("%.2f", rate/b)
		}
		fmt.Printf("| %s | %d | %.0f | %s | %d | %s | %s | %d |\n", r.target, r.hung, rate, ratio, r.errs,
			benchkit.Ms(r.p50), benchkit.Ms(r.p99), r.peakRSSMB)
	}
	return pipelineCPU(ctx, node.Addr(), node.PID())
}

// hang opens n connections to addr that each store their own value and
// send a pipeline of GETs of it, never reading.
func hang(ctx context.Context, addr string, n int, cfg config) ([]net.Conn, error) {
	setup := benchkit.NewClient(addr, "")
	defer setup.Close()
	big := strings.Repeat("x", cfg.value)
	var out []net.Conn
	for i := range n {
		key := fmt.Sprintf("hung:%d", i)
		if err := setup.Set(ctx, key, big, 0).Err(); err != nil {
			return out, fmt.Errorf("SET %s: %w", key, err)
		}
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			return out, err
		}
		nc.(*net.TCPConn).SetReadBuffer(4096)
		var pipeline []byte
		for range cfg.gets {
			pipeline = fmt.Appendf(pipeline, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(key), key)
		}
		nc.Write(pipeline)
		out = append(out, nc)
	}
	return out, nil
}

// measure runs the writers for the window.
func measure(ctx context.Context, addr string, cfg config) row {
	var mu sync.Mutex
	var lat []time.Duration
	var r row
	var wg sync.WaitGroup
	end := time.Now().Add(cfg.window)
	for w := range cfg.writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true, ReadTimeout: 5 * time.Second})
			defer c.Close()
			var mine []time.Duration
			errs := 0
			for i := 0; time.Now().Before(end) && ctx.Err() == nil; i++ {
				start := time.Now()
				if err := c.Set(ctx, fmt.Sprintf("w:%d:%d", w, i), "v", 0).Err(); err != nil {
					errs++
					continue
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			r.errs += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r.writes = len(lat)
	r.p50, r.p99 = benchkit.Percentile(lat, 0.5), benchkit.Percentile(lat, 0.99)
	return r
}

// pipelineCPU prints the node's CPU for a pipeline of N GETs of a 256 KB
// value, N = 50 and 200.
func pipelineCPU(ctx context.Context, addr string, pid int) error {
	c := benchkit.NewClient(addr, "")
	defer c.Close()
	// 200 replies of 256 KB pass the direct rows' limit: no bound here.
	if err := c.ConfigSet(ctx, "client-output-buffer-limit", "normal 0 0 0").Err(); err != nil {
		return err
	}
	if err := c.Set(ctx, "cpu:big", strings.Repeat("x", 256<<10), 0).Err(); err != nil {
		return err
	}
	cost := func(n int) (time.Duration, error) {
		const rounds = 5
		before := cpuTime(pid)
		for range rounds {
			pipe := c.Pipeline()
			for range n {
				pipe.Get(ctx, "cpu:big")
			}
			if _, err := pipe.Exec(ctx); err != nil {
				return 0, err
			}
		}
		return (cpuTime(pid) - before) / rounds, nil
	}
	cost(50) // warm up
	c50, err := cost(50)
	if err != nil {
		return err
	}
	c200, err := cost(200)
	if err != nil {
		return err
	}
	fmt.Printf("\n## Node CPU per pipeline of N GETs of a 256 KB value\n\n| N | CPU ms |\n|---:|---:|\n| 50 | %s |\n| 200 | %s |\n\nratio 200/50: %.2f (≤ 5: linear)\n",
		benchkit.Ms(c50), benchkit.Ms(c200), float64(c200)/float64(max(c50, 1)))
	return nil
}

// cpuTime is a process's user+system CPU time, from /proc (clock ticks of
// 10 ms, Linux' USER_HZ).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// peakRSS is a process's peak resident set (VmHWM), in bytes.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
