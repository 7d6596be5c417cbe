package benchkit

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/batonkv/baton/internal/proc"
	"github.com/redis/go-redis/v9"
)

// BatonCluster is 3 coordinators and 3 nodes of bin/baton on loopback, each
// with its data and log under Dir.
type BatonCluster struct {
	Bin, Dir, Secret string
	SyncReplicas     int
	// DownAfter and Lease are the coordinators' --down-after and --lease;
	// zero leaves Baton's defaults.
	DownAfter, Lease time.Duration
	WaitTimeout      time.Duration // bound on every wait for a cluster state

	Coords, Nodes []*Proc
	coordClients  []*redis.Client
}

// Start brings the cluster up and returns once n1 is primary with two
// connected replicas.
func (b *BatonCluster) Start(ctx context.Context) error {
	ports, err := proc.FreePorts(9)
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
		p := &Proc{Name: id, Addr: apis[i], Bin: b.Bin, Log: filepath.Join(b.Dir, id+".log"), Args: []string{
			"coordinator", "--id", id, "--raft-addr", fmt.Sprintf("127.0.0.1:%d", ports[i]), "--addr", apis[i],
			"--dir", filepath.Join(b.Dir, id), "--peers", strings.Join(peers, ","), "--cluster-secret", b.Secret,
			"--lease", b.Lease.String(), "--down-after", b.DownAfter.String(), "--log-level", "info",
		}}
		if err := p.Start(); err != nil {
			return err
		}
		b.Coords = append(b.Coords, p)
		b.coordClients = append(b.coordClients, NewClient(apis[i], b.Secret))
	}
	for i := 0; i < 3; i++ {
		id := fmt.Sprintf("n%d", i+1)
		addr := fmt.Sprintf("127.0.0.1:%d", ports[6+i])
		p := &Proc{Name: id, Addr: addr, Bin: b.Bin, Log: filepath.Join(b.Dir, id+".log"), Args: []string{
			"node", "--addr", addr, "--dir", filepath.Join(b.Dir, id), "--coordinators", strings.Join(apis, ","),
			"--node-id", id, "--cluster-secret", b.Secret, "--sync-replicas", fmt.Sprint(b.SyncReplicas),
			"--log-level", "info",
		}}
		b.Nodes = append(b.Nodes, p)
	}
	// The first node to register is primary of epoch 1: start n1 alone and
	// wait for it to lead, then its replicas.
	if err := b.Nodes[0].Start(); err != nil {
		return err
	}
	if err := Poll(ctx, "n1 to become primary", b.WaitTimeout, func(ctx context.Context) error {
		t, err := b.Topology(ctx)
		if err != nil {
			return err
		}
		if t.Primary != "n1" {
			return fmt.Errorf("%w: topology primary %q", ErrNotYet, t.Primary)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("%w (n1: %s; c1: %s)", err, b.Nodes[0].Tail(3), b.Coords[0].Tail(3))
	}
	for _, p := range b.Nodes[1:] {
		if err := p.Start(); err != nil {
			return err
		}
	}
	_, err = b.Primary(ctx)
	return err
}

// CoordAddrs returns the coordinators' API addresses.
func (b *BatonCluster) CoordAddrs() []string {
	var out []string
	for _, p := range b.Coords {
		out = append(out, p.Addr)
	}
	return out
}

// Topology returns the newest topology any coordinator has applied
// (BATON.TOPOLOGY LOCAL on each, the newest by coordapi's rule), so a lagging follower
// does not send clients back to a dead primary.
func (b *BatonCluster) Topology(ctx context.Context) (coordapi.Topology, error) {
	var best coordapi.Topology
	var lastErr error
	ok := false
	for _, c := range b.coordClients {
		s, err := c.Do(ctx, coordapi.CmdTopology, "LOCAL").Text()
		if err != nil {
			lastErr = err
			continue
		}
		t, err := coordapi.Decode(s)
		if err != nil {
			lastErr = fmt.Errorf("BATON.TOPOLOGY: %w", err)
			continue
		}
		if !ok || t.NewerThan(best) {
			best, ok = t, true
		}
	}
	if !ok {
		return best, fmt.Errorf("no coordinator answered BATON.TOPOLOGY LOCAL: %w", lastErr)
	}
	return best, nil
}

// PrimaryAddr returns the primary's address as the newest topology names
// it: the lookup a client makes before every retry.
func (b *BatonCluster) PrimaryAddr(ctx context.Context) (string, error) {
	t, err := b.Topology(ctx)
	if err != nil {
		return "", err
	}
	if addr := t.PrimaryAddr(); addr != "" {
		return addr, nil
	}
	return "", fmt.Errorf("topology epoch %d: no primary (%q)", t.Epoch, t.Primary)
}

// Primary returns the node that is primary now, once the topology is
// stable and that node reports itself master with both replicas connected.
func (b *BatonCluster) Primary(ctx context.Context) (*Proc, error) {
	var found *Proc
	err := Poll(ctx, "a baton primary with 2 connected replicas", b.WaitTimeout, func(ctx context.Context) error {
		t, err := b.Topology(ctx)
		if err != nil {
			return err
		}
		if t.State != "" && t.State != coordapi.StateStable {
			return fmt.Errorf("%w: topology state %s", ErrNotYet, t.State)
		}
		for _, p := range b.Nodes {
			if p.Name != t.Primary {
				continue
			}
			c := NewClient(p.Addr, "")
			defer c.Close()
			ri, err := GetReplInfo(ctx, c)
			if err != nil {
				return err
			}
			if ri.Role != "master" || ri.Replicas < 2 {
				return fmt.Errorf("%w: %s role %s with %d replicas", ErrNotYet, p.Name, ri.Role, ri.Replicas)
			}
			found = p
			return nil
		}
		return fmt.Errorf("%w: topology primary %q", ErrNotYet, t.Primary)
	})
	return found, err
}

// WaitLinkUp polls p until it reports itself a replica with its link up.
func WaitLinkUp(ctx context.Context, p *Proc, timeout time.Duration) error {
	c := NewClient(p.Addr, "")
	defer c.Close()
	err := Poll(ctx, p.Name+" to be a connected replica", timeout, func(ctx context.Context) error {
		ri, err := GetReplInfo(ctx, c)
		if err != nil {
			return err
		}
		if ri.Role != "slave" || !ri.LinkUp {
			return fmt.Errorf("%w: role %s link up %v", ErrNotYet, ri.Role, ri.LinkUp)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w (log: %s)", err, p.Tail(3))
	}
	return nil
}

// Stop kills every process and closes the coordinator clients.
func (b *BatonCluster) Stop() {
	for _, c := range b.coordClients {
		c.Close()
	}
	for _, p := range append(append([]*Proc{}, b.Nodes...), b.Coords...) {
		_ = p.Kill()
	}
}
