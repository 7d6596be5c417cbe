package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/redis/go-redis/v9"
)

// runCtlStatus runs `baton ctl status`: the shard's topology, every node's
// role, epoch, LSN, lag and lease, and every coordinator's Raft state, as
// tables; with --watch it redraws them in place.
func runCtlStatus(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("ctl status", stderr)
	target := addCtlTarget(fs)
	nodeAuth := fs.String("node-auth", "", "password to AUTH with on the nodes (their --requirepass)")
	watch := fs.Duration("watch", 0, "redraw every interval (e.g. 1s) until interrupted; 0: print once")
	if err := parseWithEnv(fs, args); err != nil {
		return 2
	}
	c, err := target.conn()
	if err != nil {
		fmt.Fprintln(stderr, "baton ctl status:", err)
		return 2
	}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		st, err := c.status(ctx, *nodeAuth)
		cancel()
		if *watch > 0 {
			fmt.Fprint(stdout, "\033[H\033[2J") // home + clear: redraw in place
		}
		if err != nil {
			fmt.Fprintln(stderr, "baton ctl status:", err)
			if *watch == 0 {
				return 1
			}
		} else {
			st.print(stdout)
		}
		if *watch == 0 {
			return 0
		}
		time.Sleep(*watch)
	}
}

// shardStatus is what ctl status shows.
type shardStatus struct {
	topo   coordapi.Topology
	coords []coordStatus
	nodes  []nodeStatus
}

// coordStatus is one coordinator as seen from ctl.
type coordStatus struct {
	id, api, raft, state string
	version, epoch       uint64
}

// nodeStatus is one node's INFO replication, as seen from ctl.
type nodeStatus struct {
	id, addr, health string
	info             map[string]string
}

// status gathers the committed topology (newest any coordinator applied),
// each coordinator's view, and each node's replication state.
func (c *ctlConn) status(ctx context.Context, nodeAuth string) (shardStatus, error) {
	var st shardStatus
	leader := ""
	// views are the records the coordinators asked so far applied, by API
	// address: the second round (every member the record names) reuses
	// them.
	views := map[string]coordapi.Topology{}
	found := false
	for _, addr := range c.addrs {
		cl := c.client(addr, time.Second)
		if t, err := localTopology(ctx, cl); err == nil {
			views[addr] = t
			if !found || t.Version > st.topo.Version {
				st.topo, found = t, true
			}
		}
		if leader == "" {
			if lines, err := cl.Do(ctx, coordapi.CmdMembers).StringSlice(); err == nil {
				for _, l := range lines {
					if f := strings.Fields(l); len(f) >= 4 && f[len(f)-1] == "leader" {
						leader = f[0]
					}
				}
			}
		}
		cl.Close()
	}
	if !found {
		return st, fmt.Errorf("no coordinator of %v answered", c.addrs)
	}
	for _, co := range st.topo.Coordinators {
		cs := coordStatus{id: co.ID, api: co.APIAddr, raft: co.RaftAddr, state: "unreachable"}
		t, ok := views[co.APIAddr]
		if !ok {
			cl := c.client(co.APIAddr, time.Second)
			var err error
			t, err = localTopology(ctx, cl)
			ok = err == nil
			cl.Close()
		}
		if ok {
			cs.state, cs.version, cs.epoch = "follower", t.Version, t.Epoch
			if co.ID == leader {
				cs.state = "leader"
			}
		}
		st.coords = append(st.coords, cs)
	}
	for _, m := range st.topo.Members {
		ns := nodeStatus{id: m.ID, addr: m.Addr, health: "down"}
		cl := redis.NewClient(&redis.Options{Addr: m.Addr, Password: nodeAuth, MaxRetries: -1, DialTimeout: time.Second,
			ReadTimeout: time.Second, Protocol: 2, DisableIdentity: true})
		if s, err := cl.Info(ctx, "replication").Result(); err == nil {
			ns.health, ns.info = "ok", parseInfo(s)
		} else {
			ns.health = "down: " + err.Error()
		}
		cl.Close()
		st.nodes = append(st.nodes, ns)
	}
	return st, nil
}

// parseInfo reads INFO's key:value lines.
func parseInfo(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			out[k] = v
		}
	}
	return out
}

// print writes the status tables.
func (st shardStatus) print(w io.Writer) {
	t := st.topo
	fmt.Fprintf(w, "shard: epoch %d, primary %s, state %s (record version %d)\n\n", t.Epoch, t.Primary, t.State, t.Version)
	primaryLSN := uint64(0)
	for _, n := range st.nodes {
		if n.id == t.Primary && n.info != nil {
			primaryLSN, _ = strconv.ParseUint(n.info["master_repl_offset"], 10, 64)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tADDR\tROLE\tEPOCH\tLSN\tLAG\tLINK\tLEASE\tHEALTH")
	for _, n := range st.nodes {
		if n.info == nil {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\t%s\n", n.id, n.addr, n.health)
			continue
		}
		i := n.info
		lsn, _ := strconv.ParseUint(i["master_repl_offset"], 10, 64)
		lag, link, lease := "-", "-", "-"
		if i["role"] == "slave" {
			lag = strconv.FormatInt(int64(primaryLSN)-int64(lsn), 10)
			link = i["baton_link_state"]
		} else if ms := i["baton_lease_ms_left"]; ms != "" {
			lease = ms + "ms"
		}
		role := i["role"]
		if i["master_failover_state"] == "failover-in-progress" {
			role += " (taken over)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", n.id, n.addr, role, i["baton_epoch"], lsn, lag, link, lease, n.health)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COORDINATOR\tAPI\tRAFT\tSTATE\tAPPLIED")
	for _, c := range st.coords {
		applied := "-"
		if c.state != "unreachable" {
			applied = fmt.Sprintf("epoch %d, version %d", c.epoch, c.version)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.id, c.api, c.raft, c.state, applied)
	}
	tw.Flush()
}
