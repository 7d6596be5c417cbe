package node

import (
	"strconv"
	"time"

	"github.com/batonkv/baton/node/command"
	"github.com/batonkv/baton/node/coord"
)

// Coordination: with Config.Coordinators set, the coordinator group, not
// REPLICAOF from an operator, decides this node's role. node/coord runs it
// (registration, the topology watch, reconciliation, the write lease) and
// reaches the Server through coord.Node (coord_hooks.go); this file starts
// it and applies its write fence. Without coordinators s.coord is nil and
// the node behaves as a standalone server.

// initCoord creates the lease log and, on a coordinated node, the
// Coordinator.
func (s *Server) initCoord() {
	s.leaseLog = coord.NewLeaseLog(s.cfg.LeaseLog, s.cfg.NodeID, s.log)
	s.writeLog = coord.NewWriteLog(s.cfg.WriteLog, s.cfg.NodeID, s.log)
	if len(s.cfg.Coordinators) == 0 {
		return
	}
	s.coord = coord.New(coord.Config{
		Coordinators:    s.cfg.Coordinators,
		Secret:          s.cfg.ClusterSecret,
		NodeID:          s.cfg.NodeID,
		Advertise:       s.cfg.AdvertiseAddr,
		ReplicationAddr: s.cfg.ReplicationAddr,
		AckedLSN:        s.ackedLSN,
		SyncReplicas:    max(s.cfg.SyncReplicas, 0),
	}, (*coordHooks)(s), s.leaseLog, s.log)
}

// ackedLSN is what a lease renewal reports as acknowledged: the highest LSN
// --sync-replicas replicas acknowledged (0 without --sync-replicas, when
// no write is promised durable).
func (s *Server) ackedLSN() uint64 {
	if s.cfg.SyncReplicas <= 0 || s.repl.acks == nil {
		return 0
	}
	return s.repl.acks.Floor()
}

// startCoord starts the Coordinator once the node serves (so the
// advertised address can default to the listener's).
func (s *Server) startCoord() {
	if s.coord == nil {
		return
	}
	addr := s.cfg.Addr
	if a := s.Addr(); a != nil {
		addr = a.String()
	}
	s.coord.DefaultAdvertise(addr)
	if !s.life.Own() {
		return
	}
	go func() {
		defer s.life.Done()
		s.coord.Run(s.life.Context())
	}()
}

// fenceWrite reports why a data command (write or read) must be refused
// on this (non-replica) node, or "" when it may run: a coordinated node
// needs a valid lease of its current epoch now
// (coord.Coordinator.FenceWrite). The caller holds s.mu.
func (s *Server) fenceWrite() string {
	if s.coord == nil || unsafeIgnoreLease {
		return ""
	}
	return s.coord.FenceWrite()
}

// needsLease reports whether cmd runs only under the lease on a
// coordinated primary: writes, reads of the keyspace (but admin commands
// such as DIGEST, an operator's check rather than a client's read), and an
// EXEC whose queue holds one of those.
func needsLease(cl *client, cmd *command.Command) bool {
	if cmd.Flags&command.FlagWrite != 0 || cmd.Flags&(command.FlagReadonly|command.FlagAdmin) == command.FlagReadonly {
		return true
	}
	return cmd.Name == "exec" && cl.inMulti && !cl.multiErr && multiNeedsLease(cl)
}

// multiNeedsLease reports whether cl's queued transaction holds a command
// that needs the lease.
func multiNeedsLease(cl *client) bool {
	for _, args := range cl.multiQueue {
		if cmd := command.Lookup(args[0]); cmd != nil && cmd.Name != "exec" && needsLease(cl, cmd) {
			return true
		}
	}
	return false
}

// leaseInfo is INFO's view of the lease: milliseconds left and its epoch.
func (s *Server) leaseInfo(now time.Time) (string, string) {
	if s.coord == nil {
		return "0", "0"
	}
	d, e := s.coord.Lease().Left(now)
	return strconv.FormatInt(d.Milliseconds(), 10), strconv.FormatUint(e, 10)
}
