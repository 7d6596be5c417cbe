package coordapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/batonkv/baton/coordapi/coordapitest"
	"github.com/batonkv/baton/internal/resp"
)

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
	leader := coordapitest.NewFake(t, func(args []string) string { return "$2\r\n{}\r\n" })
	follower := coordapitest.NewFake(t, func([]string) string { return "-REDIRECT " + leader.Addr + "\r\n" })
	electing := coordapitest.NewFake(t, func([]string) string { return "-NOLEADER no coordinator leader elected\r\n" })
	c := NewClient([]string{deadAddr(t), electing.Addr, follower.Addr, leader.Addr}, "")
	defer c.Close()
	if _, err := c.Topology(ctxT(t), CmdTopology); err != nil {
		t.Fatal(err)
	}
	if follower.Count() != 1 || leader.Count() != 1 || electing.Count() != 1 {
		t.Fatalf("counts: follower %d leader %d electing %d", follower.Count(), leader.Count(), electing.Count())
	}
	// The connection to the leader is kept.
	if _, err := c.Topology(ctxT(t), CmdTopology); err != nil || leader.Count() != 2 || follower.Count() != 1 {
		t.Fatalf("second request: %v, leader %d", err, leader.Count())
	}
}

// A command whose connection fails after it was sent is never resent by
// Do; DoIdempotent moves on to the next coordinator.
func Test_Client_NeverResends(t *testing.T) {
	broken := coordapitest.NewFake(t, func([]string) string { return "" })
	good := coordapitest.NewFake(t, func([]string) string { return "+OK\r\n" })
	c := NewClient([]string{broken.Addr, good.Addr}, "")
	defer c.Close()
	if _, err := c.Do(ctxT(t), CmdTakeover); err == nil || broken.Count() != 1 || good.Count() != 0 {
		t.Fatalf("Do after a failure past sending: %v (broken %d, good %d)", err, broken.Count(), good.Count())
	}
	c = NewClient([]string{broken.Addr, good.Addr}, "")
	defer c.Close()
	if v, err := c.DoIdempotent(ctxT(t), CmdTopology); err != nil || v.Str != "OK" {
		t.Fatalf("DoIdempotent = %v, %v", v, err)
	}
}

func Test_Client_ErrorCodes(t *testing.T) {
	coord := coordapitest.NewFake(t, func(args []string) string {
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
	c := NewClient([]string{coord.Addr}, "")
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
	electing := coordapitest.NewFake(t, func([]string) string { return "-NOLEADER no coordinator leader elected\r\n" })
	start := time.Now()
	_, err := LeaderDo(ctxT(t), []string{deadAddr(t), electing.Addr}, "", 3, CmdFailover)
	if !errors.Is(err, ErrNoLeader) || electing.Count() != 3 || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("LeaderDo = %v after %d tries in %v", err, electing.Count(), time.Since(start))
	}
}

func Test_Watch(t *testing.T) {
	pushes := string(resp.AppendCommand(resp.AppendCommand(nil, PushTopology, `{"epoch":1,"version":2}`),
		PushTopology, `{"epoch":2,"version":5}`))
	coord := coordapitest.NewFake(t, func(args []string) string {
		if args[0] != CmdWatch {
			return "-ERR unexpected\r\n"
		}
		return pushes
	})
	var got []Topology
	err := Watch(ctxT(t), coord.Addr, "", time.Second, 200*time.Millisecond, func(t Topology) { got = append(got, t) })
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Watch ended with %v, want the idle timeout", err)
	}
	if len(got) != 2 || got[1].Epoch != 2 || got[1].Version != 5 {
		t.Fatalf("pushes = %+v", got)
	}
	refusing := coordapitest.NewFake(t, func([]string) string { return "-NOAUTH Authentication required.\r\n" })
	err = Watch(ctxT(t), refusing.Addr, "", time.Second, time.Second, func(Topology) {})
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
