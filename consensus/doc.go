// Package consensus will hold Baton's coordinator: a small Raft group
// (hashicorp/raft with raft-boltdb/v2) that records which node is primary in
// which epoch, grants the primary its write lease, detects failure and drives
// failover and coordinated takeover.
package consensus
