// Package redisinfo reads an INFO section of a Redis-protocol server (a
// Baton node or redis-server) as fields, for the benchmark tools that
// compare the two.
package redisinfo

import (
	"context"
	"fmt"
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
