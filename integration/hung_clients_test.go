package integration

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/testutil"
	"github.com/redis/go-redis/v9"
)

// Issue 17's reproduction: 20 writers and 10 hung clients through the
// proxy, each hung client a pipeline of 64 GETs of its own 1 MiB value that
// it never reads.
const (
	hungWriters   = 20
	hungClients   = 10
	hungGets      = 64
	hungValue     = 1 << 20
	hungHardLimit = 16 << 20 // the proxy's normal hard limit in these tests
	hungWindow    = 5 * time.Second
)

// writeLoad runs hungWriters writers through addr for window and returns
// the writes acknowledged and the errors seen.
func writeLoad(t *testing.T, addr, prefix string, window time.Duration) (acked, errs int64) {
	t.Helper()
	var ok, bad atomic.Int64
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), window)
	defer cancel()
	for w := range hungWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true,
				ReadTimeout: 5 * time.Second, ContextTimeoutEnabled: false})
			defer c.Close()
			for i := 0; ctx.Err() == nil; i++ {
				// Each write has its own time bound; the window only says
				// when to stop starting new ones.
				wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := c.Set(wctx, fmt.Sprintf("%s:%d:%d", prefix, w, i), "v", 0).Err()
				wcancel()
				if err != nil {
					bad.Add(1)
					t.Logf("writer %d: %v", w, err)
					return
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	return ok.Load(), bad.Load()
}

// hangThrough opens hungClients connections to addr, each sending a
// pipeline of hungGets GETs of its own hungValue-byte value and never
// reading. They are closed at the end of the test.
func hangThrough(t *testing.T, addr string) {
	t.Helper()
	setup := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer setup.Close()
	big := strings.Repeat("x", hungValue)
	for i := range hungClients {
		key := fmt.Sprintf("hung:%d", i)
		if err := setup.Set(context.Background(), key, big, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", key, err)
		}
		testutil.HungClient(t, addr, key, hungGets)
	}
}

// peakRSS is a process's peak resident set size (VmHWM), in bytes.
func peakRSS(t *testing.T, p *nodeProc) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.run.PID()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", p.run.PID())
	return 0
}

// Test_Proxy_HungClientsDoNotSlowWriters: issue 17. With 10 hung clients
// through the proxy, 20 writers see no error and keep at least 0.8× the
// throughput of the same run without them; the hung clients are closed at
// the proxy's output limit (counted in its metrics), and the peak memory
// of the proxy and the node stays within the limits plus a constant.
func Test_Proxy_HungClientsDoNotSlowWriters(t *testing.T) {
	n := startNode(t, nil)
	web := freeAddrs(t, 1)[0]
	p := startBaton(t, "proxy", []string{"--addr", "127.0.0.1:0", "--backend", n.addr, "--log-level", "warn",
		"--http-addr", web, "--client-output-buffer-limit", fmt.Sprintf("normal %d 4mb 2", hungHardLimit)})

	base, errs := writeLoad(t, p.addr, "base", hungWindow)
	if errs > 0 || base == 0 {
		t.Fatalf("without hung clients: %d writes, %d errors", base, errs)
	}
	hangThrough(t, p.addr)
	with, errs := writeLoad(t, p.addr, "hung", hungWindow)
	t.Logf("writes in %v: %d without hung clients, %d with %d hung clients (ratio %.2f)",
		hungWindow, base, with, hungClients, float64(with)/float64(base))
	if errs > 0 {
		t.Fatalf("with hung clients: %d writer errors", errs)
	}
	if float64(with) < 0.8*float64(base) {
		t.Fatalf("with hung clients the writers made %d writes, less than 0.8× the %d without", with, base)
	}
	waitFor(t, "the hung clients to be closed at their output limit", func() (bool, string) {
		ms := scrape(t, web)
		v, _ := ms.Sample("baton_proxy_output_limit_closed_total", map[string]string{"class": "normal"})
		return v == hungClients, fmt.Sprintf("output_limit_closed_total{class=normal} = %v", v)
	})
	// Memory: the proxy keeps at most a hard limit of replies per hung
	// client; the node at most a batch's replies per shared connection.
	const constant = 256 << 20
	if rss := peakRSS(t, p); rss > hungClients*hungHardLimit+constant {
		t.Errorf("proxy peak RSS %d MB, over %d hung clients × %d MB + %d MB", rss>>20, hungClients, hungHardLimit>>20, constant>>20)
	} else {
		t.Logf("proxy peak RSS %d MB", rss>>20)
	}
	if rss := peakRSS(t, n); rss > constant {
		t.Errorf("node peak RSS %d MB, over %d MB", rss>>20, constant>>20)
	} else {
		t.Logf("node peak RSS %d MB", rss>>20)
	}
}

// Test_Takeover_HungClientsThroughTheProxy: issue 17 with a takeover in
// the middle: 10 hung clients through the proxy while 20 writers append
// through it; the takeover commits, the writers see no error and lose
// nothing, and the hung clients are closed at the proxy's output limit.
func Test_Takeover_HungClientsThroughTheProxy(t *testing.T) {
	c := startCluster(t, clusterOpts{syncReplicas: 1, extraArgs: func(id string) []string {
		if strings.HasPrefix(id, "c") {
			return []string{"--down-after", "5s"} // as in Test_Takeover_HungClientsAreForceClosed
		}
		return nil
	}})
	var apis []string
	for _, m := range c.coords {
		apis = append(apis, m.addr)
	}
	web := freeAddrs(t, 1)[0]
	px := startBaton(t, "proxy", []string{"--addr", "127.0.0.1:0", "--coordinators", strings.Join(apis, ","),
		"--cluster-secret", clusterSecret, "--log-level", "warn", "--http-addr", web,
		"--client-output-buffer-limit", fmt.Sprintf("normal %d 4mb 2", hungHardLimit)})
	l := startAppendLoad(t, px.addr, hungWriters)
	l.waitProgress(300)
	hangThrough(t, px.addr)
	rep := c.takeover("TO", "n2", "TIMEOUT", 5000, "GRACE", 300)
	if rep.Outcome != "committed" {
		t.Fatalf("takeover with hung clients through the proxy: %+v", rep)
	}
	l.waitProgress(300)
	if errs := l.errors(); len(errs) > 0 {
		t.Fatalf("writers saw errors: %v", errs)
	}
	waitFor(t, "the hung clients to be closed at their output limit", func() (bool, string) {
		ms := scrape(t, web)
		v, _ := ms.Sample("baton_proxy_output_limit_closed_total", map[string]string{"class": "normal"})
		return v == hungClients, fmt.Sprintf("output_limit_closed_total{class=normal} = %v", v)
	})
	t.Logf("takeover with %d hung clients through the proxy: %+v; longest single append %v", hungClients, rep, l.longest())
	l.verify(c.node("n2").client)
}
