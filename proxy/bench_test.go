package proxy

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/batonkv/baton/internal/resp"
	"github.com/batonkv/baton/internal/testutil"
	"github.com/batonkv/baton/node"
	"github.com/batonkv/baton/node/nodetest"
)

// The benchmarks drive an in-process proxy in front of an in-process node
// the way redis-benchmark does (scripts/bench-proxy.sh): many connections,
// each sending SETs or GETs in pipelines of a fixed depth and reading the
// replies. Their point is a CPU profile of the proxy's shared path
// (go test -run XXX -bench Proxy -cpuprofile cpu.out ./proxy); the
// Direct variants give the node alone for comparison.

// benchClients is redis-benchmark's default -c 50.
const benchClients = 50

// quietLogger discards logs, so benchmarks measure the data path.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
}

// benchNode starts an in-memory node and returns its address.
func benchNode(b *testing.B) string {
	b.Helper()
	return nodetest.StartAddr(b, node.Config{Logger: quietLogger()})
}

// benchProxy starts a proxy in front of backend and returns its address.
func benchProxy(b *testing.B, backend string) string {
	b.Helper()
	p, err := New(Config{Backend: backend, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	return testutil.ServeLoopback(b, p, false)
}

// runPipelined sends b.N commands from benchClients connections to addr in
// pipelines of depth commands, each cmd(i) with its own key, and checks
// that no reply is an error.
func runPipelined(b *testing.B, addr string, depth int, cmd func(key string) []byte) {
	conns := make([]net.Conn, benchClients)
	for i := range conns {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		defer nc.Close()
		conns[i] = nc
	}
	per := (b.N + benchClients - 1) / benchClients
	rounds := (per + depth - 1) / depth
	errs := make(chan error, benchClients)
	var wg sync.WaitGroup
	b.ResetTimer()
	for ci, nc := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- pipelineRounds(nc, ci, rounds, depth, cmd)
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rounds*depth*benchClients)/b.Elapsed().Seconds(), "cmds/s")
}

// pipelineRounds is one benchmark connection: rounds pipelines of depth
// commands, each followed by reading its replies.
func pipelineRounds(nc net.Conn, ci, rounds, depth int, cmd func(key string) []byte) error {
	rr := resp.NewReader(nc)
	var out []byte
	for r := 0; r < rounds; r++ {
		out = out[:0]
		for d := 0; d < depth; d++ {
			out = append(out, cmd("key:"+strconv.Itoa(ci*depth+d))...)
		}
		if _, err := nc.Write(out); err != nil {
			return err
		}
		for d := 0; d < depth; d++ {
			reply, err := rr.ReadRaw(nil)
			if err != nil {
				return err
			}
			if reply[0] == '-' {
				return fmt.Errorf("reply %q", reply)
			}
		}
	}
	return nil
}

// benchSet and benchGet encode the benchmark's commands (3-byte values, as
// redis-benchmark's default -d 3).
func benchSet(key string) []byte { return resp.AppendCommand(nil, "SET", key, "xxx") }
func benchGet(key string) []byte { return resp.AppendCommand(nil, "GET", key) }

func benchPaths(b *testing.B, direct bool) {
	for _, depth := range []int{1, 16} {
		for _, t := range []struct {
			name string
			cmd  func(string) []byte
		}{{"SET", benchSet}, {"GET", benchGet}} {
			b.Run(fmt.Sprintf("%s/P%d", t.name, depth), func(b *testing.B) {
				addr := benchNode(b)
				if !direct {
					addr = benchProxy(b, addr)
				}
				runPipelined(b, addr, depth, t.cmd)
			})
		}
	}
}

// Benchmark_Proxy is the proxy's shared (non-pinned) path.
func Benchmark_Proxy(b *testing.B) { benchPaths(b, false) }

// Benchmark_Direct is the node alone, the baseline of Benchmark_Proxy.
func Benchmark_Direct(b *testing.B) { benchPaths(b, true) }
