package benchkit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/redisinfo"
	"github.com/redis/go-redis/v9"
)

// NewClient returns a go-redis client for one server that never retries on
// its own: a retried write could be applied twice or hide an ambiguous one.
func NewClient(addr, password string) *redis.Client {
	return redis.NewClient(ClientOptions(addr, password))
}

// ClientOptions are NewClient's options, for a caller that changes one
// (a longer read timeout, a larger pool) and keeps the rest.
func ClientOptions(addr, password string) *redis.Options {
	return &redis.Options{
		Addr: addr, Password: password, PoolSize: 1, MinIdleConns: 0,
		DialTimeout: 500 * time.Millisecond, ReadTimeout: 3 * time.Second, WriteTimeout: 3 * time.Second,
		MaxRetries: -1, Protocol: 2, DisableIdentity: true,
		// One dial attempt: go-redis' default of 5 attempts 100 ms apart
		// would keep a client on a dead primary's address for up to 0.5 s
		// instead of sending it back to discovery.
		DialerRetries: 1, DialerRetryTimeout: time.Millisecond,
	}
}

// quietLogger drops go-redis' internal log lines.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...interface{}) {}

// SilenceRedisLog drops go-redis' internal log lines for the whole program
// (one per failed dial to a killed or demoted server: expected in a
// benchmark, and they would drown its report).
func SilenceRedisLog() { redis.SetLogger(quietLogger{}) }

// ReplInfo is the part of INFO replication the benchmarks read; baton node
// and redis-server share these fields.
type ReplInfo struct {
	Role     string // master or slave
	LinkUp   bool   // a replica's link to its primary is up
	Replicas int    // a primary's connected replicas
	// FailoverState is Redis' master_failover_state (no-failover,
	// waiting-for-sync, failover-in-progress); empty on a baton node.
	FailoverState string
}

// GetReplInfo reads INFO replication on c.
func GetReplInfo(ctx context.Context, c *redis.Client) (ReplInfo, error) {
	f, err := redisinfo.Fetch(ctx, c, "replication")
	if err != nil {
		return ReplInfo{}, err
	}
	r := ReplInfo{Role: f["role"], LinkUp: f["master_link_status"] == "up", FailoverState: f["master_failover_state"]}
	fmt.Sscan(f["connected_slaves"], &r.Replicas)
	return r, nil
}

// Outcome is what a failed write means for the history.
type Outcome int

const (
	// OutcomeOther is an error that fits neither class.
	OutcomeOther Outcome = iota
	// OutcomeRejected: certainly not applied, safe to retry the same write.
	OutcomeRejected
	// OutcomeAmbiguous: maybe applied, never counted as acknowledged.
	OutcomeAmbiguous
)

// Classify sorts a failed write. Refusals before execution (TRYAGAIN: no
// write lease; READONLY: a replica; LOADING / MASTERDOWN: not serving yet)
// and failed dials are safe to retry. A connection that broke after the
// command was sent, a timeout, or NOREPL (applied on the primary, not
// acknowledged by enough replicas) is ambiguous.
func Classify(err error) Outcome {
	var re redis.Error
	if errors.As(err, &re) {
		msg := re.Error()
		for _, p := range []string{coordapi.ErrCodeTryAgain, "READONLY", "LOADING", "MASTERDOWN"} {
			if strings.HasPrefix(msg, p) {
				return OutcomeRejected
			}
		}
		if strings.HasPrefix(msg, coordapi.ErrCodeNoRepl) {
			return OutcomeAmbiguous
		}
		return OutcomeOther
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" || errors.Is(err, syscall.ECONNREFUSED) {
		return OutcomeRejected
	}
	return OutcomeAmbiguous
}
