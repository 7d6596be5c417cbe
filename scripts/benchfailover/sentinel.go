package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/batonkv/baton/internal/benchkit"
	"github.com/batonkv/baton/internal/proc"
	"github.com/redis/go-redis/v9"
)

// sentinelCluster is 3 redis-servers (1 primary, 2 replicas) watched by 3
// Sentinels (quorum 2), the anchor the Baton numbers are compared with.
type sentinelCluster struct {
	dir              string
	downAfter        time.Duration
	waitTimeout      time.Duration
	nodes, sentinels []*benchkit.Proc
	sClients         []*redis.Client
}

const masterName = "mymaster"

func (s *sentinelCluster) name() string { return "redis-sentinel" }

func (s *sentinelCluster) start(ctx context.Context) error {
	ports, err := proc.FreePorts(6)
	if err != nil {
		return err
	}
	// A restarted node comes back as a primary and Sentinel demotes it.
	s.nodes, err = benchkit.StartRedisGroup(s.dir, ports[:3])
	if err != nil {
		return err
	}
	for i := 0; i < 3; i++ {
		id := fmt.Sprintf("s%d", i+1)
		conf := filepath.Join(s.dir, id+".conf")
		text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndaemonize no\ndir %s\n"+
			"sentinel monitor %s 127.0.0.1 %d 2\nsentinel down-after-milliseconds %s %d\n"+
			"sentinel failover-timeout %s 10000\n",
			ports[3+i], s.dir, masterName, ports[0], masterName, s.downAfter.Milliseconds(), masterName)
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			return fmt.Errorf("sentinel config: %w", err)
		}
		p := &benchkit.Proc{Name: id, Addr: fmt.Sprintf("127.0.0.1:%d", ports[3+i]), Bin: "redis-server",
			Log: filepath.Join(s.dir, id+".log"), Args: []string{conf, "--sentinel"}}
		if err := p.Start(); err != nil {
			return err
		}
		s.sentinels = append(s.sentinels, p)
		s.sClients = append(s.sClients, benchkit.NewClient(p.Addr, ""))
	}
	_, err = s.primary(ctx)
	return err
}

// askSentinel is SENTINEL get-master-addr-by-name on sentinel i.
func (s *sentinelCluster) askSentinel(ctx context.Context, i int) (string, error) {
	c := s.sClients[i%len(s.sClients)]
	r, err := c.Do(ctx, "SENTINEL", "get-master-addr-by-name", masterName).StringSlice()
	if err != nil {
		return "", fmt.Errorf("SENTINEL get-master-addr-by-name on %s: %w", c.Options().Addr, err)
	}
	if len(r) != 2 {
		return "", fmt.Errorf("SENTINEL get-master-addr-by-name: reply %q", r)
	}
	return net.JoinHostPort(r[0], r[1]), nil
}

// discover asks one sentinel, a different one per hint, as a Sentinel-aware
// client library walking its sentinel list would.
func (s *sentinelCluster) discover(ctx context.Context, hint int) (string, error) {
	return s.askSentinel(ctx, hint)
}

func (s *sentinelCluster) primary(ctx context.Context) (*benchkit.Proc, error) {
	var found *benchkit.Proc
	err := benchkit.Poll(ctx, "all sentinels to agree on a primary with 2 connected replicas", s.waitTimeout, func(ctx context.Context) error {
		var addrs []string
		for i := range s.sClients {
			a, err := s.askSentinel(ctx, i)
			if err != nil {
				return err
			}
			addrs = append(addrs, a)
		}
		if addrs[0] != addrs[1] || addrs[1] != addrs[2] {
			return fmt.Errorf("%w: sentinels say %s", benchkit.ErrNotYet, strings.Join(addrs, ", "))
		}
		// Each sentinel must also know both replicas as healthy and the two
		// other sentinels: a kill before that (replicas are learnt from the
		// primary's INFO every 10 s, sentinels from hello messages every
		// 2 s) could not fail over at all.
		for _, c := range s.sClients {
			if err := sentinelReady(ctx, c); err != nil {
				return err
			}
		}
		for _, p := range s.nodes {
			if p.Addr != addrs[0] {
				continue
			}
			c := benchkit.NewClient(p.Addr, "")
			defer c.Close()
			ri, err := benchkit.GetReplInfo(ctx, c)
			if err != nil {
				return err
			}
			if ri.Role != "master" || ri.Replicas < 2 {
				return fmt.Errorf("%w: %s role %s with %d replicas", benchkit.ErrNotYet, p.Name, ri.Role, ri.Replicas)
			}
			found = p
			return nil
		}
		return fmt.Errorf("%w: sentinels name unknown primary %s", benchkit.ErrNotYet, addrs[0])
	})
	return found, err
}

func (s *sentinelCluster) waitReplica(ctx context.Context, p *benchkit.Proc) error {
	return benchkit.WaitLinkUp(ctx, p, s.waitTimeout)
}

func (s *sentinelCluster) stop() {
	for _, c := range s.sClients {
		c.Close()
	}
	for _, p := range append(append([]*benchkit.Proc{}, s.sentinels...), s.nodes...) {
		_ = p.Kill()
	}
}

// sentinelReady checks one sentinel's view of mymaster: flags exactly
// "master", two other sentinels, and two replicas flagged exactly "slave"
// (not s_down, not disconnected).
func sentinelReady(ctx context.Context, c *redis.Client) error {
	m, err := c.Do(ctx, "SENTINEL", "master", masterName).Slice()
	if err != nil {
		return fmt.Errorf("SENTINEL master on %s: %w", c.Options().Addr, err)
	}
	f := pairs(m)
	if f["flags"] != "master" || f["num-other-sentinels"] != "2" {
		return fmt.Errorf("%w: sentinel %s: flags %q, other sentinels %s", benchkit.ErrNotYet, c.Options().Addr,
			f["flags"], f["num-other-sentinels"])
	}
	rs, err := c.Do(ctx, "SENTINEL", "replicas", masterName).Slice()
	if err != nil {
		return fmt.Errorf("SENTINEL replicas on %s: %w", c.Options().Addr, err)
	}
	ok := 0
	for _, r := range rs {
		if rr, isSlice := r.([]interface{}); isSlice && pairs(rr)["flags"] == "slave" {
			ok++
		}
	}
	if ok < 2 {
		return fmt.Errorf("%w: sentinel %s knows %d healthy replicas", benchkit.ErrNotYet, c.Options().Addr, ok)
	}
	return nil
}

// pairs turns a flat RESP2 key/value array into a map.
func pairs(kv []interface{}) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = fmt.Sprint(kv[i+1])
	}
	return m
}
