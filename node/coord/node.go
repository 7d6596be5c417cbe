package coord

// Node is the server as coordination sees it: the few actions reconciling
// a topology record needs. node.Server implements it.
type Node interface {
	// View snapshots the node's role for a decision (it takes the
	// keyspace lock).
	View() View
	// Epoch is the newest epoch the node has seen, read without locking
	// (the write fence reads it for every write).
	Epoch() uint64
	// RaiseEpoch persists epoch and then adopts it, if it is newer than
	// the node's: the node never acts on an epoch a restart could forget.
	// An older epoch is an error.
	RaiseEpoch(epoch uint64) error
	// Promote makes a replica the primary of a new history (nothing on a
	// primary).
	Promote()
	// ReplicaOf makes the node replicate from the primary at addr
	// (nothing when it already does); a failed handshake is an error.
	ReplicaOf(addr string) error
	// FrozenBy is the ID of the takeover the node is frozen (TAKEN_OVER)
	// under, 0 when it is not frozen.
	FrozenBy() uint64
	// Thaw leaves the freeze of takeover id (nothing when the node is not
	// frozen under id).
	Thaw(id uint64, why string)
}

// View is the part of the node's state reconciliation looks at.
type View struct {
	// ID is this node's id in the topology.
	ID string
	// Epoch is the newest epoch the node has seen.
	Epoch uint64
	// Replica is true when the node is a replica, following Primary
	// ("host:port" as REPLICAOF stores it).
	Replica bool
	Primary string
}
