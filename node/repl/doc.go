// Package repl is Baton's replication between nodes: the wire protocol of
// a link (frame names, frame writers, the bounds a replica reads frames
// with); the replica's side of a link (Dial for REPLICAOF's handshake,
// Link to connect, PSYNC, receive a full sync, apply the stream and ack);
// the primary's side (Accept for BATON.PSYNC, Sender to stream a
// copy-on-write snapshot and the journal); and, on the primary, the
// tracking of replicas' acknowledgements that WAIT and --sync-replicas
// rely on (Acks, Peer) and of the keys whose writes are not acknowledged
// yet (Unacked).
//
// Everything server-specific (the keyspace lock, the journal, applying
// records, installing a snapshot, epochs, snapshot steps, goroutines,
// logging, counters) is reached through one interface, Host, that package
// node implements. DESIGN.md states the invariants.
package repl
