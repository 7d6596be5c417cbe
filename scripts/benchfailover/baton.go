package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// system is one replicated store under test: how to start it, how a client
// finds the primary, and which process to kill.
type system interface {
	// name labels the system in the table.
	name() string
	// start brings up the cluster and returns once it has a primary with
	// two connected replicas.
	start(ctx context.Context) error
	// discover returns the primary's address as a client would learn it
	// after an error (the call a client makes before every retry).
	discover(ctx context.Context, hint int) (string, error)
	// primary returns the process that is primary now, once the cluster
	// agrees on one with both replicas connected.
	primary(ctx context.Context) (*proc, error)
	// waitReplica returns once p, restarted, is a replica with its link up.
	waitReplica(ctx context.Context, p *proc) error
	// stop kills every process.
	stop()
}

// batonCluster is 3 coordinators and 3 nodes of bin/baton on loopback.
type batonCluster struct {
	bin, dir, secret string
	syncReplicas     int
	downAfter, lease time.Duration
	waitTimeout      time.Duration
	coords, nodes    []*proc
	coordClients     []*redis.Client
	rr               atomic.Uint64
}

func (b *batonCluster) name() string { return "baton" }

func (b *batonCluster) start(ctx context.Context) error {
	ports, err := freePorts(9)
	if err != nil {
		return err
	}
	var peers, apis []string
	for i := 0; i < 3; i++ {
		peers = append(peers, fmt.Sprintf("c%d=127.0.0.1:%d/127.0.0.1:%d", i+1, ports[i], ports[3+i]))
		apis = append(apis, fmt.Sprintf("127.0.0.1:%d", ports[3+i]))
	}
	for i := 0; i < 3; i++ {
		id := fmt.Sprintf("c%d", i+1)
		p := &proc{name: id, addr: apis[i], bin: b.bin, log: filepath.Join(b.dir, id+".log"), args: []string{
			"coordinator", "--id", id, "--raft-addr", fmt.Sprintf("127.0.0.1:%d", ports[i]), "--addr", apis[i],
			"--dir", filepath.Join(b.dir, id), "--peers", strings.Join(peers, ","), "--cluster-secret", b.secret,
			"--lease", b.lease.String(), "--down-after", b.downAfter.String(), "--log-level", "info",
		}}
		if err := p.start(); err != nil {
			return err
		}
		b.coords = append(b.coords, p)
		b.coordClients = append(b.coordClients, newClient(apis[i], b.secret))
	}
	for i := 0; i < 3; i++ {
		id := fmt.Sprintf("n%d", i+1)
		addr := fmt.Sprintf("127.0.0.1:%d", ports[6+i])
		p := &proc{name: id, addr: addr, bin: b.bin, log: filepath.Join(b.dir, id+".log"), args: []string{
			"node", "--addr", addr, "--dir", filepath.Join(b.dir, id), "--coordinators", strings.Join(apis, ","),
			"--node-id", id, "--cluster-secret", b.secret, "--sync-replicas", fmt.Sprint(b.syncReplicas),
			"--log-level", "info",
		}}
		b.nodes = append(b.nodes, p)
	}
	// The first node to register is primary of epoch 1: start n1 alone and
	// wait for it to lead, then its replicas.
	if err := b.nodes[0].start(); err != nil {
		return err
	}
	if err := poll(ctx, "n1 to become primary", b.waitTimeout, func(ctx context.Context) error {
		t, err := b.topology(ctx)
		if err != nil {
			return err
		}
		if t.Primary != "n1" {
			return fmt.Errorf("%w: topology primary %q", errNotYet, t.Primary)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("%w (n1: %s; c1: %s)", err, b.nodes[0].tail(3), b.coords[0].tail(3))
	}
	for _, p := range b.nodes[1:] {
		if err := p.start(); err != nil {
			return err
		}
	}
	_, err = b.primary(ctx)
	return err
}

// topology is the part of BATON.TOPOLOGY the benchmark reads.
type topology struct {
	Epoch   uint64 `json:"epoch"`
	Primary string `json:"primary"`
	Members []struct {
		ID   string `json:"id"`
		Addr string `json:"addr"`
	} `json:"members"`
}

// topology returns the newest topology any coordinator has applied
// (BATON.TOPOLOGY LOCAL on each, highest epoch wins), so a lagging follower
// does not send clients back to a dead primary.
func (b *batonCluster) topology(ctx context.Context) (topology, error) {
	var best topology
	var lastErr error
	ok := false
	for _, c := range b.coordClients {
		s, err := c.Do(ctx, "BATON.TOPOLOGY", "LOCAL").Text()
		if err != nil {
			lastErr = err
			continue
		}
		var t topology
		if err := json.Unmarshal([]byte(s), &t); err != nil {
			lastErr = fmt.Errorf("BATON.TOPOLOGY: %w", err)
			continue
		}
		if !ok || t.Epoch > best.Epoch {
			best, ok = t, true
		}
	}
	if !ok {
		return best, fmt.Errorf("no coordinator answered BATON.TOPOLOGY LOCAL: %w", lastErr)
	}
	return best, nil
}

func (b *batonCluster) discover(ctx context.Context, _ int) (string, error) {
	t, err := b.topology(ctx)
	if err != nil {
		return "", err
	}
	for _, m := range t.Members {
		if m.ID == t.Primary {
			return m.Addr, nil
		}
	}
	return "", fmt.Errorf("topology epoch %d: no primary (%q)", t.Epoch, t.Primary)
}

func (b *batonCluster) primary(ctx context.Context) (*proc, error) {
	var found *proc
	err := poll(ctx, "a baton primary with 2 connected replicas", b.waitTimeout, func(ctx context.Context) error {
		t, err := b.topology(ctx)
		if err != nil {
			return err
		}
		for _, p := range b.nodes {
			if p.name != t.Primary {
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
		return fmt.Errorf("%w: topology primary %q", errNotYet, t.Primary)
	})
	return found, err
}

func (b *batonCluster) waitReplica(ctx context.Context, p *proc) error {
	return waitLinkUp(ctx, p, b.waitTimeout)
}

// waitLinkUp polls p until it reports itself a replica with its link up.
func waitLinkUp(ctx context.Context, p *proc, timeout time.Duration) error {
	c := newClient(p.addr, "")
	defer c.Close()
	err := poll(ctx, p.name+" to be a connected replica", timeout, func(ctx context.Context) error {
		ri, err := getReplInfo(ctx, c)
		if err != nil {
			return err
		}
		if ri.role != "slave" || !ri.linkUp {
			return fmt.Errorf("%w: role %s link up %v", errNotYet, ri.role, ri.linkUp)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w (log: %s)", err, p.tail(3))
	}
	return nil
}

func (b *batonCluster) stop() {
	for _, c := range b.coordClients {
		c.Close()
	}
	for _, p := range append(append([]*proc{}, b.nodes...), b.coords...) {
		_ = p.kill()
	}
}
