// Package redisinfo reads an INFO section of a Redis-protocol server (a
// Baton node or redis-server) as fields, for the benchmark tools that
// compare the two, and counts CLIENT LIST's clients with pending output.
package redisinfo

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Fetch returns the "key:value" fields of INFO section on c.
func Fetch(ctx context.Context, c *redis.Client, section string) (map[string]string, error) {
	s, err := c.Info(ctx, section).Result()
	if err != nil {
		return nil, fmt.Errorf("INFO %s on %s: %w", section, c.Options().Addr, err)
	}
	return Parse(s), nil
}

// Parse splits an INFO reply into its fields (section headers and blank
// lines skipped).
func Parse(s string) map[string]string {
	out := make(map[string]string)
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && !strings.HasPrefix(k, "#") {
			out[k] = v
		}
	}
	return out
}

// CountPendingOutput counts the connections of a CLIENT LIST reply with at
// least min bytes of replies waiting to be written (omem): clients that do
// not read what they asked for, as the takeover tests and benchmarks hang
// them on purpose.
func CountPendingOutput(clientList string, min int64) int {
	n := 0
	for _, line := range strings.Split(clientList, "\n") {
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "omem="); ok {
				if b, err := strconv.ParseInt(v, 10, 64); err == nil && b >= min {
					n++
				}
			}
		}
	}
	return n
}
