// Package node is Baton's datastore: a Redis-compatible RESP server
// (tidwall/redcon) over an in-memory keyspace whose every write is recorded in
// a journal with a monotonically increasing log sequence number (LSN).
//
// The journal is the unit of durability (fsync policy, snapshots, recovery)
// and of replication: replaying a journal from the start reproduces
// the dataset exactly, so every write is journaled in its effective,
// deterministic form (relative expiry times become absolute, random pops
// become explicit removals, expiry deletions become DEL).
//
// This package is the composition: Server, connections, dispatch,
// configuration, lifecycle (internal/lifecycle), the takeover freeze,
// pub/sub, persistence and the server's side of replication (applying the
// stream, installing a full sync, roles and epochs), with the handlers of the server's own commands (CLIENT,
// CONFIG, INFO, MULTI/EXEC, REPLICAOF, FAILOVER, BATON.*...). The command
// table is node/command; the keyspace, its value types and the data
// commands' handlers are node/keyspace, which reaches the Server only
// through keyspace.Host (hooks.go). The coordination side (registration,
// the topology watch, reconciliation, the write lease and its fence) is
// node/coord, which reaches the Server through coord.Node
// (coord_hooks.go). Replication's protocol, replica link, sender and
// acknowledgements are node/repl, which reaches the Server through
// repl.Host (repl_hooks.go). handlers.go binds every command of the table to its
// handler by index, so dispatch costs no map lookup.
package node
