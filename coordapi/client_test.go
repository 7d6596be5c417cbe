package coordapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonkv/baton/internal/resp"
)

// fakeCoord is a coordinator that answers every command with reply(cmd)
// (raw RESP; "" closes the connection without answering) and counts them.
type fakeCoord struct {
	addr  string
	count atomic.Int64
}

func newFakeCoord(t *testing.T, reply func(args []string) string) *fakeCoord {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	f := &fakeCoord{addr: ln.Addr().String()}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(nc, reply)
		}
	}()
	return f
}

func (f *fakeCoord) serve(nc net.Conn, reply func([]string) string) {
	defer nc.Close()
	r := resp.NewReader(nc)
	for {
		v, err := r.ReadValue()
		if err != nil {
			return
		}
		args := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			args[i] = e.Str
		}
		f.count.Add(1)
		out := reply(args)
		if out == "" {
			return
		}
		nc.Write([]byte(out))
	}
}

// deadAddr is an address nothing listens on.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func Test_Client_FollowsLeader(t *testing.T) {
	leader := newFakeCoord(t, func(args []string) string { return "$2\r\n{}\r\n" })
	follower := newFakeCoord(t, func([]string) string { return "-REDIRECT " + leader.addr + "\r\n" })
	electing := newFakeCoord(t, func([]string) string { return "-NOLEADER no coordinator leader elected\r\n" })
	c := NewClient([]string{deadAddr(t), electing.addr, follower.addr, leader.addr}, "")
	defer c.Close()
	if _, err := c.Topology(ctxT(t), CmdTopology); err != nil {
		t.Fatal(err)
	}
	if follower.count.Load() != 1 || leader.count.Load() != 1 || electing.count.Load() != 1 {
		t.Fatalf("counts: follower %d leader %d electing %d", follower.count.Load(), leader.count.Load(), electing.count.Load())
	}
	// The connection to the leader is kept.
	if _, err := c.Topology(ctxT(t), CmdTopology); err != nil || leader.count.Load() != 2 || follower.count.Load() != 1 {
		t.Fatalf("second request: %v, leader %d", err, leader.count.Load())
	}
}

// A command whose connection fails after it was sent is never resent by
// Do; DoIdempotent moves on to the next coordinator.
func Test_Client_NeverResends(t *testing.T) {
	broken := newFakeCoord(t, func([]string) string { return "" })
	good := newFakeCoord(t, func([]string) string { return "+OK\r\n" })
	c := NewClient([]string{broken.addr, good.addr}, "")
	defer c.Close()
	if _, err := c.Do(ctxT(t), CmdTakeover); err == nil || broken.count.Load() != 1 || good.count.Load() != 0 {
		t.Fatalf("Do after a failure past sending: %v (broken %d, good %d)", err, broken.count.Load(), good.count.Load())
	}
	c = NewClient([]string{broken.addr, good.addr}, "")
	defer c.Close()
	if v, err := c.DoIdempotent(ctxT(t), CmdTopology); err != nil || v.Str != "OK" {
		t.Fatalf("DoIdempotent = %v, %v", v, err)
	}
}

func Test_Client_ErrorCodes(t *testing.T) {
	coord := newFakeCoord(t, func(args []string) string {
		switch args[0] {
		case CmdLease:
			if args[2] == "5" {
				return ":3000\r\n"
			}
			return "-NOTPRIMARY epoch 4's primary is \"n2\"\r\n"
		case CmdTakeover:
			return "-ERR a takeover is already in progress\r\n"
		}
		return "-NOAUTH Authentication required.\r\n"
	})
	c := NewClient([]string{coord.addr}, "")
	defer c.Close()
	if d, err := c.Lease(ctxT(t), "n1", 5); err != nil || d != 3*time.Second {
		t.Fatalf("Lease = %v, %v", d, err)
	}
	if _, err := c.Lease(ctxT(t), "n1", 4); !errors.Is(err, ErrNotPrimary) || !HasCode(err, ErrCodeNotPrimary) {
		t.Fatalf("Lease of an old epoch: %v", err)
	}
	if _, err := c.Do(ctxT(t), CmdTakeover); !HasCode(err, "ERR") || Redirected(err) {
		t.Fatalf("error reply: %v", err)
	}
	if _, err := c.Do(ctxT(t), CmdTopology); !errors.Is(err, ErrAuth) {
		t.Fatalf("NOAUTH: %v", err)
	}
	if !HasCode(errors.New("TAKENOVER 3 handed over"), ErrCodeTakenOver) || HasCode(nil, ErrCodeTakenOver) {
		t.Fatal("HasCode on a plain error text")
	}
}

func Test_LeaderDo_NoLeaderGivesUp(t *testing.T) {
	electing := newFakeCoord(t, func([]string) string { return "-NOLEADER no coordinator leader elected\r\n" })
	start := time.Now()
	_, err := LeaderDo(ctxT(t), []string{deadAddr(t), electing.addr}, "", 3, CmdFailover)
	if !errors.Is(err, ErrNoLeader) || electing.count.Load() != 3 || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("LeaderDo = %v after %d tries in %v", err, electing.count.Load(), time.Since(start))
	}
}

func Test_Watch(t *testing.T) {
	pushes := string(resp.AppendCommand(resp.AppendCommand(nil, PushTopology, `{"epoch":1,"version":2}`),
		PushTopology, `{"epoch":2,"version":5}`))
	coord := newFakeCoord(t, func(args []string) string {
		if args[0] != CmdWatch {
			return "-ERR unexpected\r\n"
		}
		return pushes
	})
	var got []Topology
	err := Watch(ctxT(t), coord.addr, "", time.Second, 200*time.Millisecond, func(t Topology) { got = append(got, t) })
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Watch ended with %v, want the idle timeout", err)
	}
	if len(got) != 2 || got[1].Epoch != 2 || got[1].Version != 5 {
		t.Fatalf("pushes = %+v", got)
	}
	refusing := newFakeCoord(t, func([]string) string { return "-NOAUTH Authentication required.\r\n" })
	err = Watch(ctxT(t), refusing.addr, "", time.Second, time.Second, func(Topology) {})
	if !HasCode(err, ErrCodeNoAuth) {
		t.Fatalf("refused watch: %v", err)
	}
}

func Test_decodePush(t *testing.T) {
	js := `{"version":7,"epoch":3,"primary":"a","members":[{"id":"a","addr":"h:1"}]}`
	raw := fmt.Sprintf("*2\r\n$8\r\ntopology\r\n$%d\r\n%s\r\n", len(js), js)
	top, err := decodePush(readRaw(t, raw))
	if err != nil || top.Epoch != 3 || top.Version != 7 || top.PrimaryAddr() != "h:1" {
		t.Fatalf("decodePush = %+v, %v", top, err)
	}
	if _, err := decodePush(readRaw(t, "-ERR unknown command 'baton.watch'\r\n")); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("error reply: %v", err)
	}
	if _, err := decodePush(readRaw(t, "*2\r\n$7\r\nmessage\r\n$2\r\n{}\r\n")); err == nil {
		t.Fatal("a push that is not a topology was accepted")
	}
}

func readRaw(t *testing.T, raw string) resp.Value {
	t.Helper()
	v, err := resp.NewReader(strings.NewReader(raw)).ReadValue()
	if err != nil {
		t.Fatal(err)
	}
	return v
}
