package chaos

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/batonkv/baton/chaos/check"
	"github.com/redis/go-redis/v9"
)

// readFinal reads, from the primary directly, every list, set and counter
// the history wrote to.
func readFinal(ctx context.Context, t Target, ops []check.Op) (check.Final, string, error) {
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
