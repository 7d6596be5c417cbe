package node

import (
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/coordapi/coordapitest"
)

// fakeTakeoverCoord is a coordinator that answers BATON.TAKEOVER with
// reply ("" closes the connection instead) and every other command with
// an error; takeovers counts the BATON.TAKEOVER it received.
type fakeTakeoverCoord struct {
	*coordapitest.Fake
	takeovers atomic.Int64
}

func newFakeTakeoverCoord(t *testing.T, reply string) *fakeTakeoverCoord {
	f := &fakeTakeoverCoord{}
	f.Fake = coordapitest.NewFake(t, func(args []string) string {
		if len(args) == 0 || args[0] != coordapi.CmdTakeover {
			return "-ERR not in this test\r\n"
		}
		f.takeovers.Add(1)
		return reply
	})
	return f
}

// bulk is s as a RESP bulk string.
func bulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

// Test_Failover_Report: FAILOVER replies +OK for a committed takeover and
// says which step failed for a rolled-back one; a reply that is not a
// report is an error.
func Test_Failover_Report(t *testing.T) {
	cases := []struct {
		reply string
		want  any
	}{
		{bulk(`{"outcome":"committed","epoch":2}`), "OK"},
		{bulk(`{"outcome":"rolled_back","failed_step":"parity","reason":"target lags"}`),
			"ERR:ERR FAILOVER rolled back at step parity: target lags"},
		{"+OK\r\n", "ERR:ERR FAILOVER: unexpected reply from the coordinators"},
	}
	for _, tc := range cases {
		coord := newFakeTakeoverCoord(t, tc.reply)
		n := mustNewNode(t, Config{Coordinators: []string{coord.Addr}, NodeID: "n1"})
		expectReplies(t, mustClient(t, n), []replyCase{rc(tc.want, "FAILOVER", "TIMEOUT", 100)})
		if got := coord.takeovers.Load(); got != 1 {
			t.Errorf("reply %q: %d BATON.TAKEOVER sent, want 1", tc.reply, got)
		}
	}
}

// Test_Failover_NeverResends: a connection that breaks after BATON.TAKEOVER
// was sent fails the FAILOVER; the takeover is not sent to another
// coordinator.
func Test_Failover_NeverResends(t *testing.T) {
	a, b := newFakeTakeoverCoord(t, ""), newFakeTakeoverCoord(t, "")
	n := mustNewNode(t, Config{Coordinators: []string{a.Addr, b.Addr}, NodeID: "n1"})
	got := doReply(t, mustClient(t, n), "FAILOVER", "TIMEOUT", 100)
	if s, _ := got.(string); !strings.HasPrefix(s, "ERR:ERR FAILOVER: "+coordapi.CmdTakeover) {
		t.Fatalf("FAILOVER = %#v, want the broken connection's error", got)
	}
	if sent := a.takeovers.Load() + b.takeovers.Load(); sent != 1 {
		t.Fatalf("BATON.TAKEOVER sent %d times, want once", sent)
	}
}
