package chaos

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonkv/baton/chaos/check"
	"github.com/batonkv/baton/internal/resp"
)

// fakeNode is a loopback RESP server answering INFO, DIGEST and LRANGE
// from fields the test changes while it runs.
type fakeNode struct {
	addr string
	mu   sync.Mutex
	// offset is INFO's master_repl_offset; it advances by step on every
	// INFO until it reaches target.
	offset, target, step uint64
	digest               string
	// tryAgain is how many more LRANGEs are refused with -TRYAGAIN.
	tryAgain int
}

func startFakeNode(t *testing.T, offset uint64, digest string) *fakeNode {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	n := &fakeNode{addr: ln.Addr().String(), offset: offset, target: offset, digest: digest}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go n.serve(c)
		}
	}()
	return n
}

func (n *fakeNode) serve(c net.Conn) {
	defer c.Close()
	r := resp.NewReader(c)
	for {
		v, err := r.ReadValue()
		if err != nil {
			return
		}
		var args []string
		for _, e := range v.Elems {
			args = append(args, e.Str)
		}
		n.mu.Lock()
		var reply string
		switch strings.ToUpper(args[0]) {
		case "INFO":
			if n.offset < n.target {
				n.offset = min(n.target, n.offset+n.step)
			}
			s := fmt.Sprintf("# Replication\r\nrole:x\r\nmaster_repl_offset:%d\r\n", n.offset)
			reply = fmt.Sprintf("$%d\r\n%s\r\n", len(s), s)
		case "DIGEST":
			reply = fmt.Sprintf("$%d\r\n%s\r\n", len(n.digest), n.digest)
		case "LRANGE":
			if n.tryAgain > 0 {
				n.tryAgain--
				reply = "-TRYAGAIN no read lease (epoch 3): retry\r\n"
			} else {
				reply = "*1\r\n$1\r\na\r\n"
			}
		default:
			reply = "-ERR unknown command\r\n"
		}
		n.mu.Unlock()
		if _, err := c.Write([]byte(reply)); err != nil {
			return
		}
	}
}

// addrTarget is a fakeTarget whose nodes are fakeNodes.
type addrTarget struct {
	*fakeTarget
	nodes map[string]*fakeNode
}

func (a *addrTarget) DirectAddr(id string) string { return a.nodes[id].addr }

func newAddrTarget(t *testing.T, digests map[string]string, offsets map[string]uint64) *addrTarget {
	a := &addrTarget{fakeTarget: newFake("n1", "c1"), nodes: map[string]*fakeNode{}}
	for _, id := range []string{"n1", "n2", "n3"} {
		a.nodes[id] = startFakeNode(t, offsets[id], digests[id])
	}
	return a
}

func TestReadNodeStates(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	ctx := context.Background()
	t.Run("waits for a lagging replica, then agrees", func(t *testing.T) {
		tg := newAddrTarget(t, map[string]string{"n1": a, "n2": a, "n3": a}, map[string]uint64{"n1": 50, "n2": 50, "n3": 20})
		tg.nodes["n3"].target, tg.nodes["n3"].step = 50, 10
		res := check.Digests(readNodeStates(ctx, tg, 5*time.Second))
		if !res.OK || !strings.Contains(res.Summary, "3 nodes agree at offset 50") {
			t.Fatalf("%s %q", res.Summary, res.Details)
		}
	})
	t.Run("diverged replica at equal offsets fails", func(t *testing.T) {
		tg := newAddrTarget(t, map[string]string{"n1": a, "n2": b, "n3": a}, map[string]uint64{"n1": 50, "n2": 50, "n3": 50})
		res := check.Digests(readNodeStates(ctx, tg, 5*time.Second))
		if res.OK || !strings.Contains(res.Summary, "DIVERGED") {
			t.Fatalf("%s %q", res.Summary, res.Details)
		}
	})
	t.Run("offsets that never converge fail within the bound", func(t *testing.T) {
		tg := newAddrTarget(t, map[string]string{"n1": a, "n2": a, "n3": a}, map[string]uint64{"n1": 50, "n2": 40, "n3": 50})
		began := time.Now()
		res := check.Digests(readNodeStates(ctx, tg, 500*time.Millisecond))
		if res.OK || !strings.Contains(res.Summary, "offsets never converged: primary n1 at 50, n2 at 40") {
			t.Fatalf("%s %q", res.Summary, res.Details)
		}
		if d := time.Since(began); d > 3*time.Second {
			t.Errorf("took %v, want about the 500ms bound", d)
		}
	})
}

func TestReadFinalRetriesTryAgain(t *testing.T) {
	a := strings.Repeat("a", 64)
	tg := newAddrTarget(t, map[string]string{"n1": a}, nil)
	tg.nodes["n1"].tryAgain = 3
	ops := []check.Op{{Kind: "append", Key: "l", Value: "a"}}
	final, primary, err := readFinal(context.Background(), tg, ops)
	if err != nil || primary != "n1" || strings.Join(final.Lists["l"], ",") != "a" {
		t.Fatalf("readFinal = %v %q %v, want [a] from n1 after the refusals", final.Lists, primary, err)
	}
}
