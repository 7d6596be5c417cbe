// Package journal is a node's write-ahead log: every write command the node
// executes is appended as an Entry with the next log sequence number (LSN).
// LSNs start at 1, increase by exactly one per entry and never repeat. The
// journal is the unit of durability (fsync policy with group commit,
// torn-tail detection on recovery) and the source of replication.
//
// On disk the journal is a sequence of segment files, journal-<first LSN>.log,
// each a checksummed header (magic, version, replid, first LSN) followed by
// records [u32 length][u32 crc32c][u64 LSN, u32 argc, (u32 len, bytes)*]
// (format.go). Append only encodes into memory under the caller's lock; one
// writer goroutine (writer.go) writes each batch and fsyncs per policy, so
// one fsync covers every entry that arrived meanwhile. Open (recover.go)
// replays the segments, cuts off a torn last record and refuses corruption
// anywhere else or an LSN gap. Rotate starts a new segment (at a snapshot)
// and Compact deletes segments a snapshot made unnecessary.
//
// Histories (history.go). A history is a replication id; the data is
// identified by (replid, LSN). NewHistory, on promotion, mints a new id and
// remembers the old one and its last LSN (PSYNC2), so replicas of the old
// history continue with a partial sync; LSNs continue across it, and the new
// id starts a new segment, so recovery rebuilds the chain from the segment
// headers (the id may change only at a segment boundary). Reset, after a
// replica's full sync, discards everything and continues as the primary's
// history after the snapshot's LSN.
//
// Replication (backlog.go, cursor.go). The backlog keeps the newest records,
// encoded, in memory. A primary streams them to each replica through a
// Cursor, which reads raw records (exactly the on-disk record bytes) and is
// signalled on every Append; DecodeRecords turns them back into entries on
// the replica. An open cursor pins the records it has not read yet, up to a
// hard cap past which it falls behind (ErrNotInBacklog: full sync).
package journal
