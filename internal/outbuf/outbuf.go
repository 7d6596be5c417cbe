// Package outbuf holds Redis' client-output-buffer-limit: its classes,
// limits, syntax and reply format, shared by the node and the proxy.
package outbuf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limit is the output limit of one class of clients: a client with more
// than Hard bytes of replies pending is closed at once, and one with more
// than Soft bytes pending for SoftFor without a break is closed then.
// Zero disables a bound (Redis' "0").
type Limit struct {
	Hard, Soft int64
	SoftFor    time.Duration
}

// Over reports whether pending bytes, pending above the soft limit since
// since (zero: not above it), overcome l at now; which is "hard" or
// "soft".
func (l Limit) Over(pending int64, since, now time.Time) (which string, over bool) {
	if l.Hard > 0 && pending > l.Hard {
		return "hard", true
	}
	if l.Soft > 0 && pending > l.Soft && !since.IsZero() && now.Sub(since) >= l.SoftFor {
		return "soft", true
	}
	return "", false
}

// String formats l as CONFIG GET does: "hard soft seconds".
func (l Limit) String() string {
	return fmt.Sprintf("%d %d %d", l.Hard, l.Soft, int64(l.SoftFor/time.Second))
}

// Classes of clients.
const (
	Normal  = "normal"
	Replica = "replica"
	PubSub  = "pubsub"
)

// Limits are the limits of the three classes.
type Limits struct {
	Normal, Replica, PubSub Limit
}

// Defaults are Redis' defaults: no bound for normal clients, 256 MB
// (64 MB for 60 s) for replicas, 32 MB (8 MB for 60 s) for subscribers.
func Defaults() Limits {
	return Limits{
		Replica: Limit{Hard: 256 << 20, Soft: 64 << 20, SoftFor: 60 * time.Second},
		PubSub:  Limit{Hard: 32 << 20, Soft: 8 << 20, SoftFor: 60 * time.Second},
	}
}

// String formats ls as Redis' CONFIG GET client-output-buffer-limit does.
func (ls Limits) String() string {
	return "normal " + ls.Normal.String() + " slave " + ls.Replica.String() + " pubsub " + ls.PubSub.String()
}

// Errors of Parse, worded as Redis' CONFIG SET words them.
var (
	ErrArgs  = errors.New("Wrong number of arguments in buffer limit configuration.")
	ErrClass = errors.New("Invalid client class specified in buffer limit configuration.")
	ErrValue = errors.New("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
)

// Parse applies Redis' syntax, "<class> <hard> <soft> <seconds>" repeated
// (classes normal, replica or slave, pubsub; sizes in bytes or with a k,
// kb, m, mb, g or gb suffix), to ls and returns the result; classes not
// named keep their limits. On error ls is returned unchanged.
func Parse(s string, ls Limits) (Limits, error) {
	f := strings.Fields(s)
	if len(f) == 0 || len(f)%4 != 0 {
		return ls, ErrArgs
	}
	out := ls
	for i := 0; i < len(f); i += 4 {
		var l *Limit
		switch strings.ToLower(f[i]) {
		case "normal":
			l = &out.Normal
		case "replica", "slave":
			l = &out.Replica
		case "pubsub":
			l = &out.PubSub
		default:
			return ls, ErrClass
		}
		hard, err1 := ParseMemory(f[i+1])
		soft, err2 := ParseMemory(f[i+2])
		secs, err3 := strconv.ParseInt(f[i+3], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || secs < 0 {
			return ls, ErrValue
		}
		*l = Limit{Hard: hard, Soft: soft, SoftFor: time.Duration(secs) * time.Second}
	}
	return out, nil
}

// ParseMemory parses a Redis memory size: bytes, or a number with a k, kb,
// m, mb, g or gb suffix (k = 1000, kb = 1024, as Redis reads them).
func ParseMemory(s string) (int64, error) {
	ls := strings.ToLower(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"g", 1e9}, {"m", 1e6}, {"k", 1e3}, {"b", 1}} {
		if strings.HasSuffix(ls, u.suffix) {
			ls, mult = strings.TrimSuffix(ls, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(ls, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid memory size %q", s)
	}
	return n * mult, nil
}
