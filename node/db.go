package node

import "strconv"

// Value types stored in the keyspace. Strings are stored as []byte; the
// other types are the named types below, so a type switch tells them apart.
type (
	// hashValue is a Redis hash: field → value.
	hashValue map[string][]byte
	// setValue is a Redis set of members.
	setValue map[string]struct{}
)

// DB is the keyspace (Redis' db 0). It is not safe for concurrent use: the
// Server serializes every command under its lock, so the keyspace behaves as
// a single-threaded Redis does, command by command.
type DB struct {
	keys    map[string]any
	expires map[string]int64 // absolute expiry, Unix milliseconds

	// onDelete, when set, is called for every key removed by expiry, so the
	// deletion is journaled as an explicit DEL.
	onExpire func(key string)
	// preWrite and preFlush, when set, are called before expiry removes a
	// key and before flush empties the keyspace, so a snapshot in progress
	// can keep the old state (cowsnap.go).
	preWrite func(key string)
	preFlush func()
	// touched is called for every key a command modified, for WATCH,
	// blocking wake-ups and snapshots.
	touched func(key string)
}

// newDB returns an empty keyspace.
func newDB() *DB {
	return &DB{keys: make(map[string]any), expires: make(map[string]int64)}
}

// expired reports whether key has a deadline at or before now (ms).
func (db *DB) expired(key string, now int64) bool {
	when, ok := db.expires[key]
	return ok && when <= now
}

// expireIfNeeded removes key if it has expired, reporting whether it did.
// When activeExpire is false (replicas, replay) the key stays but reads as
// missing: only the primary decides that a key is gone, and its DEL arrives
// through the journal.
func (db *DB) expireIfNeeded(key string, now int64, activeExpire bool) bool {
	if !db.expired(key, now) {
		return false
	}
	if activeExpire {
		if db.preWrite != nil {
			db.preWrite(key)
		}
		db.remove(key)
		if db.onExpire != nil {
			db.onExpire(key)
		}
		if db.touched != nil {
			db.touched(key)
		}
	}
	return true
}

// get returns the value of key, or nil when it is missing or expired.
func (db *DB) get(key string, now int64, activeExpire bool) any {
	v, ok := db.keys[key]
	if !ok {
		return nil
	}
	if db.expireIfNeeded(key, now, activeExpire) {
		return nil
	}
	return v
}

// set stores v under key, leaving any expiry as it is.
func (db *DB) set(key string, v any) { db.keys[key] = v }

// remove deletes key and its expiry, reporting whether it existed.
func (db *DB) remove(key string) bool {
	if _, ok := db.keys[key]; !ok {
		return false
	}
	delete(db.keys, key)
	delete(db.expires, key)
	return true
}

// setExpire sets key's absolute deadline (Unix ms).
func (db *DB) setExpire(key string, when int64) { db.expires[key] = when }

// persist removes key's deadline, reporting whether it had one.
func (db *DB) persist(key string) bool {
	if _, ok := db.expires[key]; !ok {
		return false
	}
	delete(db.expires, key)
	return true
}

// ttl returns key's deadline and whether it has one.
func (db *DB) ttl(key string) (int64, bool) {
	when, ok := db.expires[key]
	return when, ok
}

// size is the number of keys, counting expired ones not yet removed
// (as Redis' DBSIZE does).
func (db *DB) size() int { return len(db.keys) }

// flush empties the keyspace.
func (db *DB) flush() {
	if db.preFlush != nil {
		db.preFlush()
	}
	db.keys = make(map[string]any)
	db.expires = make(map[string]int64)
}

// typeName is the TYPE reply for a value.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "none"
	case []byte:
		return "string"
	case *listValue:
		return "list"
	case hashValue:
		return "hash"
	case setValue:
		return "set"
	case *zsetValue:
		return "zset"
	}
	return "unknown"
}

// activeExpireCycle samples keys with a deadline and removes the expired
// ones, like Redis' active expiry: it repeats while more than a quarter of a
// sample was expired, bounded by maxRounds so one cycle never stalls
// clients.
func (db *DB) activeExpireCycle(now int64, maxRounds int) int {
	const sample = 20
	removed := 0
	for round := 0; round < maxRounds && len(db.expires) > 0; round++ {
		seen, gone := 0, 0
		for key, when := range db.expires { // map order is randomized
			if seen == sample {
				break
			}
			seen++
			if when <= now {
				db.expireIfNeeded(key, now, true)
				gone++
			}
		}
		removed += gone
		if gone*4 <= seen {
			break
		}
	}
	return removed
}

// itoa is strconv.Itoa for int64, for replies and journal rewrites.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
