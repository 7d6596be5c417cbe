package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
)

// Link groups: sets of links chosen relative to the roles at injection
// time.
const (
	GroupClient       = "client"        // workloads → proxy
	GroupPrimaryNode  = "primary-node"  // proxy and coordinators → primary
	GroupReplication  = "replication"   // the primary's stream to its replicas
	GroupPrimaryCoord = "primary-coord" // primary → every coordinator
	GroupReplicaCoord = "replica-coord" // one replica → every coordinator
	GroupRaftLeader   = "raft-leader"   // Raft to and from the leader
	GroupPrimaryAll   = "primary-all"   // every link of the primary
	// GroupReplicaCoordAll: one replica and the coordinators, both ways
	// (its renewals and their probes).
	GroupReplicaCoordAll = "replica-coord-all"
	// GroupProxyCoord: one proxy → every coordinator (its topology).
	GroupProxyCoord = "proxy-coord"
)

// links chooses one of groups and resolves it to links. Like pick it
// draws exactly two numbers.
func (e *Env) links(ctx context.Context, groups ...string) (string, []*Link, error) {
	g := groups[e.Rand.IntN(len(groups))]
	n := e.Rand.IntN(1 << 20)
	var member string
	switch g {
	case GroupPrimaryNode, GroupReplication, GroupPrimaryCoord, GroupReplicaCoord, GroupReplicaCoordAll, GroupPrimaryAll:
		t, err := e.Target.Topology(ctx)
		if err != nil {
			return g, nil, err
		}
		member = t.Primary
		if g == GroupReplicaCoord || g == GroupReplicaCoordAll {
			if r := t.ReplicaIDs(); len(r) > 0 {
				member = r[n%len(r)]
			}
		}
	case GroupProxyCoord:
		if p := e.Target.Members(KindProxy); len(p) > 0 {
			member = p[n%len(p)]
		}
	case GroupRaftLeader:
		leader, err := e.Target.RaftLeader(ctx)
		if err != nil {
			return g, nil, err
		}
		member = leader
	}
	var out []*Link
	for _, l := range e.Target.Links() {
		if inGroup(l, g, member) {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return g, nil, fmt.Errorf("no links in group %s (member %q)", g, member)
	}
	return g, out, nil
}

// inGroup reports whether l belongs to group g aimed at member.
func inGroup(l *Link, g, member string) bool {
	switch g {
	case GroupClient:
		return l.Kind == LinkClient
	case GroupPrimaryNode:
		return l.Kind == LinkNode && l.To == member
	case GroupReplication:
		return l.Kind == LinkReplication && l.To == member
	case GroupPrimaryCoord, GroupReplicaCoord:
		return l.Kind == LinkNodeCoord && l.From == member
	case GroupReplicaCoordAll:
		return (l.Kind == LinkNodeCoord && l.From == member) || (l.Kind == LinkNode && l.From == "coordinators" && l.To == member)
	case GroupProxyCoord:
		return l.Kind == LinkProxyCoord && l.From == member
	case GroupRaftLeader:
		return l.Kind == LinkRaft && (l.From == member || l.To == member)
	case GroupPrimaryAll:
		return ((l.Kind == LinkNode || l.Kind == LinkReplication) && l.To == member) ||
			(l.Kind == LinkNodeCoord && l.From == member)
	}
	return false
}

// streamDown is the pseudo toxic type of a link taken down: both
// directions by disabling the proxy, one direction by a timeout toxic
// that black-holes it (toxiproxy has no one-way disable).
const streamDown = "down"

// linkNemesis puts one toxiproxy toxic (or a partition) on a group of
// links.
type linkNemesis struct {
	env     *Env
	name    string
	typ     string // toxiproxy toxic type, or streamDown
	groups  []string
	streams []string // "upstream", "downstream" or "both"
	attrs   func(r *rand.Rand) map[string]any

	// applied undoes the last Inject.
	applied []func() error
}

// LinkToxic returns a nemesis adding a toxic of type typ (attributes
// drawn by attrs) on one direction or both of a group of links.
func LinkToxic(env *Env, name, typ string, groups, streams []string, attrs func(r *rand.Rand) map[string]any) Nemesis {
	return &linkNemesis{env: env, name: name, typ: typ, groups: groups, streams: streams, attrs: attrs}
}

// Partition returns a nemesis taking a group of links down, in both
// directions ("both") or one.
func Partition(env *Env, name string, groups, streams []string) Nemesis {
	return &linkNemesis{env: env, name: name, typ: streamDown, groups: groups, streams: streams,
		attrs: func(*rand.Rand) map[string]any { return map[string]any{"timeout": 0} }}
}

// Name implements Nemesis.
func (n *linkNemesis) Name() string { return n.name }

// Available implements Nemesis.
func (n *linkNemesis) Available(t Target) error { return needs(t, n.name, CapLinks) }

// Inject implements Nemesis.
func (n *linkNemesis) Inject(ctx context.Context) (string, error) {
	g, ls, err := n.env.links(ctx, n.groups...)
	stream := n.streams[n.env.Rand.IntN(len(n.streams))]
	attrs := n.attrs(n.env.Rand)
	if err != nil {
		return "", err
	}
	dirs := []string{stream}
	if stream == "both" {
		dirs = []string{"upstream", "downstream"}
	}
	var names []string
	for _, l := range ls {
		names = append(names, l.Name)
		if n.typ == streamDown && stream == "both" {
			if err := l.Down(); err != nil {
				return "", err
			}
			n.applied = append(n.applied, l.Up)
			continue
		}
		typ := n.typ
		if typ == streamDown {
			typ = "timeout"
		}
		for _, d := range dirs {
			toxic := n.name + "-" + d
			if err := l.AddToxic(toxic, typ, d, attrs); err != nil {
				return "", err
			}
			n.applied = append(n.applied, func() error { return l.RemoveToxic(toxic) })
		}
	}
	what := n.typ + " " + formatAttrs(attrs)
	switch {
	case n.typ == streamDown && stream == "both":
		what = "link down"
	case n.typ == streamDown:
		what = "one-way black hole"
	}
	return fmt.Sprintf("%s %s on %s (%s)", what, stream, strings.Join(names, ","), g), nil
}

// Heal implements Nemesis.
func (n *linkNemesis) Heal(context.Context) error {
	var errs []error
	for i := len(n.applied) - 1; i >= 0; i-- {
		errs = append(errs, n.applied[i]())
	}
	n.applied = nil
	return errors.Join(errs...)
}

// formatAttrs prints toxic attributes in a stable order.
func formatAttrs(a map[string]any) string {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, a[k]))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// between draws an integer in [lo, hi].
func between(r *rand.Rand, lo, hi int) int { return lo + r.IntN(hi-lo+1) }
