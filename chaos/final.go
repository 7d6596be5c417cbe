package chaos

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/batonkv/baton/chaos/check"
	"github.com/redis/go-redis/v9"
)

// finalRetry bounds how long readFinal retries a primary that refuses the
// read with -TRYAGAIN.
const finalRetry = 10 * time.Second

// readFinal reads, from the primary directly, every list, set and counter
// the history wrote to. A coordinated primary serves reads only under its
// lease: right after a failover (or a renewal missed under load) it answers
// -TRYAGAIN, so a refusal re-reads the topology and retries the whole read
// for up to finalRetry; any other error ends it.
func readFinal(ctx context.Context, t Target, ops []check.Op) (check.Final, string, error) {
	deadline := time.Now().Add(finalRetry)
	for {
		final, primary, err := readFinalOnce(ctx, t, ops)
		if err == nil || !isTryAgain(err) || time.Now().After(deadline) || !sleepCtx(ctx, 100*time.Millisecond) {
			return final, primary, err
		}
	}
}

// isTryAgain reports whether err is a server's -TRYAGAIN refusal.
func isTryAgain(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "TRYAGAIN")
}

// readFinalOnce is one attempt of readFinal.
func readFinalOnce(ctx context.Context, t Target, ops []check.Op) (check.Final, string, error) {
	final := check.Final{Lists: map[string][]string{}, Sets: map[string][]string{}, Counters: map[string]int64{}}
	topo, err := t.Topology(ctx)
	if err != nil {
		return final, "", err
	}
	cl := redis.NewClient(&redis.Options{Addr: t.DirectAddr(topo.Primary), MaxRetries: -1, Protocol: 2,
		DisableIdentity: true, DialTimeout: time.Second, ReadTimeout: 10 * time.Second})
	defer cl.Close()
	kinds := map[string]string{}
	for _, op := range ops {
		switch op.Kind {
		case "append", "add", "incr":
			kinds[op.Key] = op.Kind
		}
	}
	keys := make([]string, 0, len(kinds))
	for k := range kinds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var err error
		switch kinds[k] {
		case "append":
			final.Lists[k], err = cl.LRange(ctx, k, 0, -1).Result()
		case "add":
			final.Sets[k], err = cl.SMembers(ctx, k).Result()
		case "incr":
			var s string
			s, err = cl.Get(ctx, k).Result()
			if errors.Is(err, redis.Nil) {
				s, err = "0", nil
			}
			if err == nil {
				final.Counters[k], err = strconv.ParseInt(s, 10, 64)
			}
		}
		if err != nil {
			return final, topo.Primary, fmt.Errorf("read %s on %s: %w", k, topo.Primary, err)
		}
	}
	return final, topo.Primary, nil
}
