// Package consensus is Baton's coordinator: a small Raft group
// (hashicorp/raft with raft-boltdb/v2) that records which node is primary in
// which epoch, grants the primary its write lease, detects failure and drives
// failover and coordinated takeover.
//
// The record it replicates and serves, its "which is newer" rule, the
// command names and error codes are the wire contract in package coordapi;
// this package holds the server side: the Raft FSM (fsm.go, a thin adapter
// over Apply in apply.go), the RESP API (api.go, watch.go), leases
// (lease.go), failure detection (detector.go, candidate.go) and the
// takeover state machine (takeover.go). DESIGN.md explains the invariants.
package consensus
