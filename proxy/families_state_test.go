package proxy

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The stateful families of Test_Proxy_Families: pipelines, transactions,
// pub/sub and blocking pops, which go through the proxy's batching and its
// pinned connections.

// famPipelines: pipelines of many commands, with errors among them, with
// a stateful command in the middle (the proxy pins there), and
// concurrent pipelines of two clients.
func famPipelines(e *famEnv) {
	ctx := e.ctx
	cmds, err := e.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range 200 {
			p.Incr(ctx, "ctr")
			if i%50 == 0 {
				p.LPush(ctx, "ctr", "x") // WRONGTYPE, the rest goes on
				p.Do(ctx, "get")         // arity, checked at the proxy
			}
		}
		p.Get(ctx, "ctr")
		return nil
	})
	e.addf("pipeline error: %v", err)
	e.add(cmds...)
	cmds, err = e.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "a", "1", 0)
		p.ClientSetName(ctx, "piped") // pins the client here
		p.Incr(ctx, "a")
		p.ClientGetName(ctx)
		p.Do(ctx, "blpop", "empty", "0.01") // go-redis rounds durations to 1 s
		p.Get(ctx, "a")
		return nil
	})
	e.addf("pinning pipeline error: %v", err)
	e.add(cmds...)
	// Two clients' pipelines at once: each gets its own replies in order.
	done := make(chan []redis.Cmder, 1)
	go func() {
		cmds, _ := e.other.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := range 100 {
				p.Echo(ctx, "other"+strconv.Itoa(i))
			}
			return nil
		})
		done <- cmds
	}()
	cmds, _ = e.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range 100 {
			p.Echo(ctx, "mine"+strconv.Itoa(i))
		}
		return nil
	})
	e.add(cmds...)
	e.add(<-done...)
}

// famTransactions: MULTI/EXEC with TxPipelined, errors queued and at EXEC,
// and WATCH both untouched and touched by another client.
func famTransactions(e *famEnv) {
	ctx, c := e.ctx, e.c
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "t", "1", 0)
		p.Incr(ctx, "t")
		p.LPush(ctx, "t", "x") // fails at EXEC, the rest applies
		p.Get(ctx, "t")
		return nil
	})
	e.addf("tx error: %v", err)
	e.add(cmds...)
	cmds, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "t2", "1", 0)
		p.Do(ctx, "nosuchcommand") // refused when queued: EXECABORT
		return nil
	})
	e.addf("aborted tx error: %v", err)
	e.add(cmds...)
	e.add(c.Exists(ctx, "t2"))
	// WATCH untouched: the transaction applies.
	err = c.Watch(ctx, func(tx *redis.Tx) error {
		n, err := tx.Get(ctx, "t").Int()
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "t", n*10, 0)
			return nil
		})
		return err
	}, "t")
	e.addf("watch: %v", err)
	e.add(c.Get(ctx, "t"))
	// WATCH touched by another client in between: EXEC fails.
	err = c.Watch(ctx, func(tx *redis.Tx) error {
		if err := e.other.Set(ctx, "t", "changed", 0).Err(); err != nil {
			return err
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "t", "mine", 0)
			return nil
		})
		return err
	}, "t")
	e.addf("watch touched: TxFailedErr %v (%v)", errors.Is(err, redis.TxFailedErr), err)
	e.add(c.Get(ctx, "t"), c.Do(ctx, "exec"), c.Do(ctx, "discard"), c.Do(ctx, "unwatch"))
}

// famPubSub: channel and pattern subscriptions, messages published by
// another client, and the PUBSUB introspection.
func famPubSub(e *famEnv) {
	ctx, c := e.ctx, e.c
	sub := c.Subscribe(ctx, "news", "sport")
	defer sub.Close()
	for range 2 {
		m, err := sub.Receive(ctx)
		e.addf("subscribe: %v %v", m, err)
	}
	psub := c.PSubscribe(ctx, "n*")
	defer psub.Close()
	m, err := psub.Receive(ctx)
	e.addf("psubscribe: %v %v", m, err)
	e.sorted(e.other.PubSubChannels(ctx, "*"))
	e.add(e.other.PubSubNumSub(ctx, "news", "other"), e.other.PubSubNumPat(ctx))
	e.add(e.other.Publish(ctx, "news", "hello"), e.other.Publish(ctx, "sport", "goal"), e.other.Publish(ctx, "none", "x"))
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for range 2 {
		msg, err := sub.ReceiveMessage(rctx)
		e.addf("message: %v %v", msg, err)
	}
	msg, err := psub.ReceiveMessage(rctx)
	e.addf("pmessage: %v %v", msg, err)
	e.addf("unsubscribe: %v", sub.Unsubscribe(ctx, "sport"))
	m, err = sub.Receive(rctx)
	e.addf("unsubscribed: %v %v", m, err)
	e.addf("ping in subscribed mode: %v", sub.Ping(ctx, "p"))
	m, err = sub.Receive(rctx)
	e.addf("pong: %v %v", m, err)
}

// famBlocking: blocking pops answered at once, timing out, and served by
// another client's push once the pop waits on the node.
func famBlocking(e *famEnv) {
	ctx, c := e.ctx, e.c
	e.add(c.RPush(ctx, "q", "a", "b"), c.BLPop(ctx, time.Second, "q"), c.BRPop(ctx, time.Second, "empty", "q"))
	e.add(c.Do(ctx, "blpop", "empty", "0.05"), c.Do(ctx, "blpop", "q", "notatimeout"))
	pops := []func() redis.Cmder{
		func() redis.Cmder { return c.BLPop(ctx, 5*time.Second, "w1") },
		func() redis.Cmder { return c.BRPop(ctx, 5*time.Second, "nothing", "w2") },
		func() redis.Cmder { return c.BLMove(ctx, "w3", "dst", "LEFT", "RIGHT", 5*time.Second) },
		func() redis.Cmder { return c.BRPopLPush(ctx, "w4", "dst", 5*time.Second) },
	}
	for i, pop := range pops {
		key := "w" + strconv.Itoa(i+1)
		done := make(chan redis.Cmder, 1)
		go func() { done <- pop() }()
		e.waitBlocked()
		e.add(e.other.RPush(ctx, key, "job"+strconv.Itoa(i)))
		e.add(<-done)
	}
	e.add(c.LRange(ctx, "dst", 0, -1))
	// MULTI does not block: an empty list pops nil at once.
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.BLPop(ctx, 0, "empty")
		return nil
	})
	e.addf("pop in MULTI: %v", err)
	e.add(cmds...)
}
