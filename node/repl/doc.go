// Package repl holds the node-independent parts of Baton's replication:
// the wire protocol of a replication link (frame names, frame writers, the
// bounds a replica reads frames with) and, on the primary, the tracking of
// replicas' acknowledgements that WAIT and --sync-replicas rely on (Acks,
// Peer) and of the keys whose writes are not acknowledged yet (Unacked).
//
// The replica link itself (connect, handshake, partial and full sync,
// applying the stream) and the primary's sender live in package node: they
// drive the keyspace lock, the journal and copy-on-write snapshots, and
// reach this package for the protocol and the acknowledgement state.
//
// Invariants kept here: an acknowledgement is an LSN of the current
// history only, so Acks counts generations (one per role change) and a
// waiter of a previous generation fails; the --sync-replicas floor only
// grows within a generation; a read waits for the latest unacknowledged
// write of its keys (Unacked), never for writes of other keys.
package repl
