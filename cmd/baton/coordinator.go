package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/batonkv/baton/consensus"
	"github.com/batonkv/baton/internal/proc"
	"github.com/hashicorp/raft"
)

// runCoordinator runs `baton coordinator`: one member of the Raft group of
// primary epochs and leases, until SIGINT/SIGTERM.
func runCoordinator(args []string, stdout, stderr io.Writer) int {
	d := consensus.DefaultConfig()
	fs := newFlagSet("coordinator", stderr)
	id := fs.String("id", "", "this member's id (required)")
	raftAddr := fs.String("raft-addr", "", "Raft transport address, host:port (required; bound exactly)")
	addr := fs.String("addr", d.APIAddr, "RESP API address for nodes, proxies and redis-cli; port 0 picks a free port")
	httpAddr := fs.String("http-addr", "", "address for /metrics and /healthz (empty: off)")
	dir := fs.String("dir", "", "data directory for the Raft log, stable store and snapshots (required)")
	peers := fs.String("peers", "", "bootstrap group: id=raft-addr/api-addr,... including this member (only used on a fresh directory)")
	join := fs.String("join", "", "API address of a running member to join through (fresh directory, no --peers)")
	secret := fs.String("cluster-secret", "", "secret every API client must AUTH with")
	nodeAuth := fs.String("node-auth", "", "password to AUTH with on datastore nodes when probing them")
	lease := fs.Duration("lease", d.Lease, "write lease granted to the primary")
	downAfter := fs.Duration("down-after", d.DownAfter, "how long the primary must miss probes to be declared down")
	grace := fs.Duration("takeover-grace", d.TakeoverGrace, "how long a takeover waits for the old primary's connections to pass the checkpoint before force-closing them")
	probe := fs.Duration("probe-interval", d.ProbeInterval, "how often the leader probes every node")
	raftDial := fs.String("raft-dial", "", "id=host:port,... : dial these members' Raft at these addresses instead of their --peers Raft address (a toxiproxy proxy per link, for chaos runs)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logger, code, ok := parseAndLog(fs, "coordinator", args, logLevel, stderr)
	if !ok {
		return code
	}
	ps, err := parsePeers(*peers)
	if err != nil {
		fmt.Fprintln(stderr, "baton coordinator: --peers:", err)
		return 2
	}
	if *id == "" || *raftAddr == "" || *dir == "" {
		fmt.Fprintln(stderr, "baton coordinator: --id, --raft-addr and --dir are required")
		return 2
	}
	dial, err := parseRaftDial(*raftDial, *id, *raftAddr)
	if err != nil {
		fmt.Fprintln(stderr, "baton coordinator: --raft-dial:", err)
		return 2
	}
	ln, err := listen(*addr, false)
	if err != nil {
		logger.Error("listen", "addr", *addr, "err", err)
		return 1
	}
	svc, err := consensus.New(consensus.Config{
		ID: *id, RaftAddr: *raftAddr, APIAddr: ln.Addr().String(), HTTPAddr: *httpAddr, Dir: *dir,
		Peers: ps, Join: *join, Secret: *secret, NodeAuth: *nodeAuth,
		Lease: *lease, DownAfter: *downAfter, TakeoverGrace: *grace, ProbeInterval: *probe, Logger: logger,
		AddressProvider: dial,
	})
	if err != nil {
		ln.Close()
		logger.Error("start coordinator", "err", err)
		return 1
	}
	fmt.Fprintln(stdout, proc.Listening("coordinator")+ln.Addr().String())
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ln) }()
	return waitAndClose(logger, svc, served, nil)
}

// parsePeers parses id=raft-addr/api-addr,...
func parsePeers(s string) ([]consensus.Peer, error) {
	if s == "" {
		return nil, nil
	}
	var out []consensus.Peer
	for _, p := range strings.Split(s, ",") {
		id, addrs, ok := strings.Cut(strings.TrimSpace(p), "=")
		raftAddr, apiAddr, ok2 := strings.Cut(addrs, "/")
		if !ok || !ok2 || id == "" || raftAddr == "" || apiAddr == "" {
			return nil, fmt.Errorf("%q: want id=raft-addr/api-addr", p)
		}
		out = append(out, consensus.Peer{ID: id, RaftAddr: raftAddr, APIAddr: apiAddr})
	}
	return out, nil
}

// raftDialMap routes Raft RPCs to a member through the address --raft-dial
// names for it (members it does not name: their own Raft address).
type raftDialMap map[raft.ServerID]raft.ServerAddress

// ServerAddr implements raft.ServerAddressProvider.
func (m raftDialMap) ServerAddr(id raft.ServerID) (raft.ServerAddress, error) {
	if a, ok := m[id]; ok {
		return a, nil
	}
	return "", fmt.Errorf("no --raft-dial address for %s", id)
}

// parseRaftDial parses id=host:port,...; empty gives nil (no provider).
// The member's own id maps to its own Raft address unless named (Raft
// asks the provider about every server, itself included).
func parseRaftDial(s, selfID, selfAddr string) (raft.ServerAddressProvider, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	m := raftDialMap{}
	for _, item := range splitList(s) {
		id, addr, ok := strings.Cut(item, "=")
		if !ok || id == "" || addr == "" {
			return nil, fmt.Errorf("%q: want id=host:port", item)
		}
		m[raft.ServerID(id)] = raft.ServerAddress(addr)
	}
	if _, ok := m[raft.ServerID(selfID)]; !ok {
		m[raft.ServerID(selfID)] = raft.ServerAddress(selfAddr)
	}
	return m, nil
}
