package chaos

import (
	"context"
	"errors"

	"github.com/batonkv/baton/chaos/check"
	"github.com/redis/go-redis/v9"
)

// register issues one register operation: a GET (half), a SET of a unique
// value, or a compare-and-set from the value the worker last saw.
func (w *worker) register() {
	key := w.key("reg")
	switch r := w.rng.IntN(10); {
	case r < 5:
		w.do(check.Op{Kind: "get", Key: key}, func(ctx context.Context, op *check.Op) error {
			v, err := w.cl.Get(ctx, key).Result()
			if errors.Is(err, redis.Nil) {
				op.Missing = true
				err = nil
			}
			op.Out = v
			if err == nil {
				w.last[key] = v
			}
			return err
		})
	case r < 8:
		v := w.unique()
		w.do(check.Op{Kind: "set", Key: key, Value: v}, func(ctx context.Context, op *check.Op) error {
			err := w.cl.Set(ctx, key, v, 0).Err()
			if err == nil {
				w.last[key] = v
			}
			return err
		})
	default:
		v, expect := w.unique(), w.last[key]
		w.do(check.Op{Kind: "cas", Key: key, Value: v, Expect: expect}, func(ctx context.Context, op *check.Op) error {
			return w.cas(ctx, op, key, expect, v)
		})
	}
}

// cas sets key to v if it holds expect ("" = absent), with WATCH, GET,
// MULTI, SET, EXEC. Out is "1" when it swapped, "0" when the GET saw
// another value. Errors before EXEC was sent are errNotSent (nothing was
// written); an EXEC aborted by the WATCH is redis.TxFailedErr (Fail too).
func (w *worker) cas(ctx context.Context, op *check.Op, key, expect, v string) error {
	sent := false
	err := w.cl.Watch(ctx, func(tx *redis.Tx) error {
		cur, err := tx.Get(ctx, key).Result()
		missing := errors.Is(err, redis.Nil)
		if err != nil && !missing {
			return err
		}
		if missing != (expect == "") || (!missing && cur != expect) {
			op.Out = "0"
			if !missing {
				w.last[key] = cur
			}
			return nil
		}
		sent = true
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, v, 0)
			return nil
		})
		if err == nil {
			op.Out = "1"
			w.last[key] = v
		}
		return err
	}, key)
	if err != nil && !sent {
		return errNotSent{err}
	}
	return err
}
