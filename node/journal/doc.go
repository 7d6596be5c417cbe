// Package journal is a node's write-ahead log: every write command the node
// executes is appended as an Entry with the next log sequence number (LSN).
// LSNs start at 1, increase by exactly one per entry and never repeat within a
// history (replication id). The journal is the unit of durability (fsync
// policy with group commit, torn-tail detection on recovery) and, later, of
// replication.
package journal
