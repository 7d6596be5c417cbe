// Package node is Baton's datastore: a Redis-compatible RESP server
// (tidwall/redcon) over an in-memory keyspace whose every write is recorded in
// a journal with a monotonically increasing log sequence number (LSN).
//
// The journal is the unit of durability (fsync policy, snapshots, recovery)
// and, later, of replication: replaying a journal from the start reproduces
// the dataset exactly, so every write is journaled in its effective,
// deterministic form (relative expiry times become absolute, random pops
// become explicit removals, expiry deletions become DEL).
package node
