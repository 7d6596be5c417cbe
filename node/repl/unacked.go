package repl

// Unacked tracks unacknowledged writes, per key, under --sync-replicas: a
// read must not show a write its replicas have not acknowledged (a
// failover could take it back after a client saw it), but a read of keys
// no such write touched need not wait — a primary whose replicas are gone
// keeps serving the data they already have. The map holds, for each key a
// recent write touched, the LSN of that write; entries at or below what k
// replicas acknowledged are pruned when the map grows. The zero value is
// ready; the owner serializes calls (the node's keyspace lock).
type Unacked struct {
	keys map[string]uint64
	// all is the LSN of the last write whose keys are unknown (keyless
	// commands such as FLUSHALL) or of the promotion: every read waits
	// for it.
	all uint64
	// pruneAt is the map size that triggers the next prune.
	pruneAt int
}

// unackedPruneMin is the smallest map size worth a prune.
const unackedPruneMin = 1024

// NoteKey records a write of key at lsn; floor is what k replicas
// acknowledged so far (entries at or below it are pruned).
func (u *Unacked) NoteKey(key string, lsn, floor uint64) {
	if u.keys == nil {
		u.keys, u.pruneAt = make(map[string]uint64), unackedPruneMin
	}
	u.keys[key] = lsn
	if len(u.keys) >= u.pruneAt {
		for k, l := range u.keys {
			if l <= floor {
				delete(u.keys, k)
			}
		}
		u.pruneAt = max(unackedPruneMin, 2*len(u.keys))
	}
}

// NoteAll records a write at lsn whose keys are unknown: every read waits
// for it.
func (u *Unacked) NoteAll(lsn uint64) { u.all = lsn }

// Reset starts over at a role change: a new primary's reads wait until
// its replicas reach the promotion point (all = its LSN); a replica keeps
// nothing (all = 0).
func (u *Unacked) Reset(all uint64) {
	u.keys, u.pruneAt = nil, unackedPruneMin
	u.all = all
}

// All is the LSN every read waits for.
func (u *Unacked) All() uint64 { return u.all }

// Of is the LSN of the latest unacknowledged write of key (0 if none).
func (u *Unacked) Of(key []byte) uint64 { return u.keys[string(key)] }
