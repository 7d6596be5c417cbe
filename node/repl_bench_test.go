package node

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// Replication throughput end to end over loopback, in process: the
// primary journals, streams LOG frames; the replica parses, journals and
// applies them. Both journals are on disk (fsync everysec).

// benchPair starts a primary and a replica following it, in sync.
func benchPair(b *testing.B) (primary, replica *testNode) {
	b.Helper()
	primary = mustNewNode(b, Config{})
	replica = mustNewNode(b, Config{})
	host, port, _ := strings.Cut(primary.addr, ":")
	if err := mustClient(b, replica).Do(context.Background(), "replicaof", host, port).Err(); err != nil {
		b.Fatal(err)
	}
	waitApplied(b, primary, replica)
	return primary, replica
}

// waitApplied waits until the replica applied everything the primary
// journaled.
func waitApplied(b *testing.B, primary, replica *testNode) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for replica.repl.status.Applied.Load() != primary.jr.LSN() || !replica.repl.status.Synced() {
		if time.Now().After(deadline) {
			b.Fatalf("replica at %d, primary at %d", replica.repl.status.Applied.Load(), primary.jr.LSN())
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// Benchmark_Repl_Stream writes pipelines of 64 SETs of 100-byte values to
// the primary and waits, every 64 pipelines and at the end, until the
// replica applied them: the replica keeps up or the time shows it.
func Benchmark_Repl_Stream(b *testing.B) {
	primary, replica := benchPair(b)
	nc, err := net.Dial("tcp", primary.addr)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	val := strings.Repeat("v", 100)
	var req []byte
	for i := range 64 {
		req = fmt.Appendf(req, "*3\r\n$3\r\nSET\r\n$6\r\nkey%03d\r\n$100\r\n%s\r\n", i, val)
	}
	r := bufio.NewReader(nc)
	replies := make([]byte, 64*len("+OK\r\n"))
	b.SetBytes(int64(len(req)))
	n := 0
	for b.Loop() {
		if _, err := nc.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(r, replies); err != nil {
			b.Fatal(err)
		}
		if n++; n%64 == 0 {
			waitApplied(b, primary, replica)
		}
	}
	waitApplied(b, primary, replica)
}

// Benchmark_Repl_FullSync times a full sync of 20,000 keys of 1 KB to a
// fresh replica.
func Benchmark_Repl_FullSync(b *testing.B) {
	primary := mustNewNode(b, Config{})
	c := mustClient(b, primary)
	ctx := context.Background()
	val := strings.Repeat("v", 1024)
	for i := 0; i < 20000; i += 500 {
		p := c.Pipeline()
		for k := i; k < i+500; k++ {
			p.Set(ctx, fmt.Sprintf("key:%d", k), val, 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	host, port, _ := strings.Cut(primary.addr, ":")
	b.SetBytes(20000 * 1024)
	for b.Loop() {
		replica := mustNewNode(b, Config{})
		if err := mustClient(b, replica).Do(ctx, "replicaof", host, port).Err(); err != nil {
			b.Fatal(err)
		}
		waitApplied(b, primary, replica)
	}
}
