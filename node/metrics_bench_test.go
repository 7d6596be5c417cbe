package node

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/batonkv/baton/node/command"
)

// The metrics' cost on the hot path, measured two ways: what they add to
// one pipeline of 16 SETs (Benchmark_Metrics_HotPath16: 16 counter bumps
// and one histogram observation with its clock reading), against what such
// a pipeline costs end to end over loopback (Benchmark_Node_Pipeline16).
// The ratio is the overhead; docs/OPERATIONS.md quotes it.

// Benchmark_Metrics_HotPath16 is the instrumentation of a 16-command
// pipeline alone.
func Benchmark_Metrics_HotPath16(b *testing.B) {
	m := newMetrics()
	set := command.Lookup([]byte("set"))
	start := time.Now()
	for b.Loop() {
		for range 16 {
			m.countCommand(set, command.ResultOK)
		}
		m.pipeline.Observe(time.Since(start).Seconds())
	}
}

// Benchmark_Node_Pipeline16 sends pipelines of 16 SETs over one loopback
// connection to an in-process node (journal on disk, fsync everysec) and
// reads the 16 replies.
func Benchmark_Node_Pipeline16(b *testing.B) {
	n := mustNewNode(b, Config{Logger: testLogger(b)})
	nc, err := net.Dial("tcp", n.addr)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	var req []byte
	for range 16 {
		req = append(req, "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$3\r\nval\r\n"...)
	}
	r := bufio.NewReader(nc)
	replies := make([]byte, 16*len("+OK\r\n"))
	for b.Loop() {
		if _, err := nc.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(r, replies); err != nil {
			b.Fatal(err)
		}
	}
}
