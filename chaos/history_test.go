package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/batonkv/baton/chaos/check"
	"github.com/redis/go-redis/v9"
)

// replyErr is an error reply as go-redis returns it (redis.Error).
type replyErr string

func (e replyErr) Error() string { return string(e) }
func (replyErr) RedisError()     {}

func Test_Classify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := []struct {
		err  error
		want check.Status
	}{
		{nil, check.OK},
		{redis.TxFailedErr, check.Fail},
		{errNotSent{io.EOF}, check.Fail},
		{refused, check.Fail},
		{fmt.Errorf("wrapped: %w", syscall.ECONNREFUSED), check.Fail},
		{&net.OpError{Op: "dial", Err: errors.New("i/o timeout")}, check.Fail},
		{replyErr("TRYAGAIN proxy: no primary available within the hold timeout"), check.Fail},
		{replyErr("READONLY You can't write against a read only replica."), check.Fail},
		{replyErr("EXECABORT proxy: the primary changed during the transaction; it was discarded"), check.Fail},
		{replyErr("ERR proxy: the primary changed during the transaction; it will be discarded at EXEC"), check.Fail},
		{replyErr("ERR proxy: the primary connection was lost before a reply; the write may or may not have been applied"), check.Info},
		{replyErr("NOREPL write applied and journaled at LSN 7 but acknowledged by 0 of 1 required replicas"), check.Info},
		{io.EOF, check.Info},
		{&net.OpError{Op: "read", Err: errors.New("i/o timeout")}, check.Info},
	}
	for _, c := range cases {
		if got := Classify(c.err); got != c.want {
			t.Errorf("Classify(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func Test_History_NewProcessAfterInfo(t *testing.T) {
	h := newHistory()
	w := &worker{h: h, proc: h.process()}
	first := w.proc
	w.do(check.Op{Kind: "set"}, func(ctx context.Context, op *check.Op) error { return nil })
	if w.proc != first {
		t.Fatalf("process changed after an OK op: %d → %d", first, w.proc)
	}
	w.do(check.Op{Kind: "set"}, func(ctx context.Context, op *check.Op) error { return io.EOF })
	if w.proc == first {
		t.Fatal("process kept after an Info op: its next op would overlap the pending one")
	}
	if w.backoff != minBackoff {
		t.Fatalf("backoff after a failure = %v, want %v", w.backoff, minBackoff)
	}
	for range 10 {
		w.do(check.Op{Kind: "get"}, func(ctx context.Context, op *check.Op) error { return io.EOF })
	}
	if w.backoff != maxBackoff {
		t.Fatalf("backoff after 11 failures = %v, want the cap %v", w.backoff, maxBackoff)
	}
	w.do(check.Op{Kind: "get"}, func(ctx context.Context, op *check.Op) error { return nil })
	if w.backoff != 0 {
		t.Fatalf("backoff after a success = %v, want 0", w.backoff)
	}
	ops := h.snapshot()
	if len(ops) != 13 || ops[1].Status != check.Info || ops[1].Err != "EOF" || ops[0].Return < ops[0].Call {
		t.Fatalf("history %+v", ops)
	}
}
