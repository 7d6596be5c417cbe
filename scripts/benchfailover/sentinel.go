package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// sentinelCluster is 3 redis-servers (1 primary, 2 replicas) watched by 3
// Sentinels (quorum 2), the anchor the Baton numbers are compared with.
type sentinelCluster struct {
	dir              string
	downAfter        time.Duration
	waitTimeout      time.Duration
	nodes, sentinels []*proc
	sClients         []*redis.Client
}

const masterName = "mymaster"

func (s *sentinelCluster) name() string { return "redis-sentinel" }

func (s *sentinelCluster) start(ctx context.Context) error {
	ports, err := freePorts(6)
	if err != nil {
		return err
	}
	for i := 0; i < 3; i++ {
		id := fmt.Sprintf("r%d", i+1)
		d := filepath.Join(s.dir, id)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("redis dir: %w", err)
		}
		// Persistence matched to baton node's default (--fsync everysec).
		// A restart uses the same arguments without --replicaof: a returning
		// old primary comes back as a primary and Sentinel demotes it, as it
		// would in production.
		p := &proc{name: id, addr: fmt.Sprintf("127.0.0.1:%d", ports[i]), bin: "redis-server",
			log: filepath.Join(s.dir, id+".log"), args: []string{
				"--port", fmt.Sprint(ports[i]), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
				"--appendfsync", "everysec", "--dir", d, "--daemonize", "no",
			}}
		args := p.args
		if i > 0 {
			args = append(append([]string{}, p.args...), "--replicaof", "127.0.0.1", fmt.Sprint(ports[0]))
		}
		if err := (&proc{name: p.name, bin: p.bin, args: args, log: p.log}).startInto(p); err != nil {
			return err
		}
		s.nodes = append(s.nodes, p)
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
		p := &proc{name: id, addr: fmt.Sprintf("127.0.0.1:%d", ports[3+i]), bin: "redis-server",
			log: filepath.Join(s.dir, id+".log"), args: []string{conf, "--sentinel"}}
		if err := p.start(); err != nil {
			return err
		}
		s.sentinels = append(s.sentinels, p)
		s.sClients = append(s.sClients, newClient(p.addr, ""))
	}
	_, err = s.primary(ctx)
	return err
}

// startInto starts q's command and records the process in p, so p can be
// restarted later with its own (different) arguments.
func (q *proc) startInto(p *proc) error {
	if err := q.start(); err != nil {
		return err
	}
	p.cmd, p.done = q.cmd, q.done
	return nil
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

func (s *sentinelCluster) primary(ctx context.Context) (*proc, error) {
	var found *proc
	err := poll(ctx, "all sentinels to agree on a primary with 2 connected replicas", s.waitTimeout, func(ctx context.Context) error {
		var addrs []string
		for i := range s.sClients {
			a, err := s.askSentinel(ctx, i)
			if err != nil {
				return err
			}
			addrs = append(addrs, a)
		}
		if addrs[0] != addrs[1] || addrs[1] != addrs[2] {
			return fmt.Errorf("%w: sentinels say %s", errNotYet, strings.Join(addrs, ", "))
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
			if p.addr != addrs[0] {
				continue
			}
			c := newClient(p.addr, "")
			defer c.Close()
			ri, err := getReplInfo(ctx, c)
			if err != nil {
				return err
			}
			if ri.role != "master" || ri.replicas < 2 {
				return fmt.Errorf("%w: %s role %s with %d replicas", errNotYet, p.name, ri.role, ri.replicas)
			}
			found = p
			return nil
		}
		return fmt.Errorf("%w: sentinels name unknown primary %s", errNotYet, addrs[0])
	})
	return found, err
}

func (s *sentinelCluster) waitReplica(ctx context.Context, p *proc) error {
	return waitLinkUp(ctx, p, s.waitTimeout)
}

func (s *sentinelCluster) stop() {
	for _, c := range s.sClients {
		c.Close()
	}
	for _, p := range append(append([]*proc{}, s.sentinels...), s.nodes...) {
		_ = p.kill()
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
		return fmt.Errorf("%w: sentinel %s: flags %q, other sentinels %s", errNotYet, c.Options().Addr,
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
		return fmt.Errorf("%w: sentinel %s knows %d healthy replicas", errNotYet, c.Options().Addr, ok)
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
