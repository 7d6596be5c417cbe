package proxy

import (
	"bytes"
	"context"
	"errors"
	"time"
)

// Error replies the proxy gives when it cannot get an answer from a primary.
const (
	// replyAmbiguous is the answer to a write whose backend connection broke
	// before its reply: it may or may not have been applied, and the proxy
	// never guesses (no silent retry of a write).
	replyAmbiguous = "-ERR proxy: the primary connection was lost before a reply; the write may or may not have been applied\r\n"
	// replyNoPrimary is the answer after HoldTimeout without a primary.
	replyNoPrimary = "-TRYAGAIN proxy: no primary available within the hold timeout\r\n"
	// replyClosed is the answer to commands caught by Close.
	replyClosed = "-ERR proxy: shutting down\r\n"
)

// retriable reports whether a reply is an error the primary gives before
// executing anything: the command can be replayed on the next primary.
func retriable(reply []byte) bool {
	return bytes.HasPrefix(reply, []byte("-TAKENOVER")) ||
		bytes.HasPrefix(reply, []byte("-READONLY")) ||
		bytes.HasPrefix(reply, []byte("-TRYAGAIN"))
}

// forward sends reqs to the primary as one pipelined batch and returns one
// raw reply per request, in order. It holds, don't fail: with no primary,
// or for commands the primary rejected before execution, it waits for a
// (new) primary up to HoldTimeout and replays them. A command whose
// connection broke before its reply is replayed only if it is read-only;
// a write gets replyAmbiguous.
//
// Replays can reorder a pipeline: if command i was rejected and command
// i+1 ran, i runs after i+1. A primary rejects every command once it stops
// taking writes, so this needs a read after a rejected write.
func (p *Proxy) forward(reqs []request) [][]byte {
	out := make([][]byte, len(reqs))
	if len(reqs) == 0 {
		return out
	}
	todo := make([]int, len(reqs))
	for i := range todo {
		todo[i] = i
	}
	// --read-from replicas (replicas.go): a read-only batch may be
	// answered by a replica; what it could not answer goes on below.
	if todo = p.readFromReplica(reqs, todo, out); len(todo) == 0 {
		return out
	}
	deadline := time.Now().Add(p.cfg.HoldTimeout)
	var lastErr []byte
	for {
		addr, changed := p.primary()
		if addr != "" {
			todo, lastErr = p.attempt(addr, reqs, todo, out)
			if len(todo) == 0 {
				return out
			}
			p.refresh()
		}
		if !p.hold(deadline, changed) {
			fill := []byte(replyNoPrimary)
			if lastErr != nil {
				fill = lastErr
			}
			if p.ctx.Err() != nil {
				fill = []byte(replyClosed)
			}
			for _, i := range todo {
				out[i] = fill
			}
			return out
		}
	}
}

// hold waits until the primary changes, the retry interval passes, or the
// deadline or Close; it reports whether to try again.
func (p *Proxy) hold(deadline time.Time, changed <-chan struct{}) bool {
	left := time.Until(deadline)
	if left <= 0 {
		return false
	}
	t := time.NewTimer(min(left, holdRetryInterval))
	defer t.Stop()
	select {
	case <-p.done:
		return false
	case <-changed:
	case <-t.C:
	}
	return true
}

// attempt sends the requests at indexes todo to addr, stores final replies
// in out, and returns the indexes to replay (with the last error reply
// seen for them, to give the client if the hold times out).
func (p *Proxy) attempt(addr string, reqs []request, todo []int, out [][]byte) ([]int, []byte) {
	pl, err := p.poolFor(addr)
	if err != nil {
		return todo, []byte(replyClosed)
	}
	bc, err := pl.get(p.ctx)
	if err != nil {
		p.log.Debug("backend unavailable", "addr", addr, "err", err)
		return todo, []byte("-TRYAGAIN proxy: primary " + addr + " unreachable\r\n")
	}
	var payload []byte
	for _, i := range todo {
		payload = encodeCommand(payload, reqs[i].args)
	}
	b := &batch{want: len(todo), done: make(chan struct{})}
	if err := bc.send(b, payload); err != nil {
		// Refused before anything was written: replay all.
		return todo, []byte("-TRYAGAIN proxy: primary " + addr + " connection lost\r\n")
	}
	<-b.done // the pool is closed by Close, which fails every batch
	var again []int
	var lastErr []byte
	for k, i := range todo {
		switch {
		case k < len(b.replies) && retriable(b.replies[k]):
			again, lastErr = append(again, i), b.replies[k]
		case k < len(b.replies):
			out[i] = b.replies[k]
		case reqs[i].readonly && !errors.Is(p.ctx.Err(), context.Canceled):
			again = append(again, i)
		default:
			out[i] = []byte(replyAmbiguous)
		}
	}
	if b.err != nil {
		p.log.Info("backend connection lost", "addr", addr, "err", b.err)
	}
	return again, lastErr
}
