// Package journal is a node's write-ahead log: every write command the node
// executes is appended as an Entry with the next log sequence number (LSN).
// LSNs start at 1, increase by exactly one per entry and never repeat within a
// history (replication id). The journal is the unit of durability (fsync
// policy with group commit, torn-tail detection on recovery) and, later, of
// replication.
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
package journal
