package keyspace

import "strconv"

// Value types stored in the keyspace. Strings are stored as []byte; the
// other types are the named types below, so a type switch tells them apart.
type (
	// Hash is a Redis hash: field → value.
	Hash map[string][]byte
	// Set is a Redis set of members.
	Set map[string]struct{}
)

// DB is the keyspace (Redis' db 0). It is not safe for concurrent use: the
// Server serializes every command under its lock, so the keyspace behaves as
// a single-threaded Redis does, command by command.
type DB struct {
	// Keys holds every key's value; Expires the absolute deadlines (Unix
	// ms) of the keys that have one.
	Keys    map[string]any
	Expires map[string]int64

	// OnExpire, when set, is called for every key removed by expiry, so
	// the deletion is journaled as an explicit DEL.
	OnExpire func(key string)
	// PreWrite and PreFlush, when set, are called before expiry removes a
	// key and before flush empties the keyspace, so a snapshot in progress
	// can keep the old state.
	PreWrite func(key string)
	PreFlush func()
	// Touched is called for every key a command modified, for WATCH,
	// blocking wake-ups and snapshots.
	Touched func(key string)
}

// newDB returns an empty keyspace.
func NewDB() *DB {
	return &DB{Keys: make(map[string]any), Expires: make(map[string]int64)}
}

// Get returns the value of key, or nil when it is missing or expired.
func (db *DB) Get(key string, now int64, activeExpire bool) any {
	v, ok := db.Keys[key]
	if !ok {
		return nil
	}
	if db.expireIfNeeded(key, now, activeExpire) {
		return nil
	}
	return v
}

// Set stores v under key, leaving any expiry as it is.
func (db *DB) Set(key string, v any) { db.Keys[key] = v }

// remove deletes key and its expiry, reporting whether it existed.
func (db *DB) remove(key string) bool {
	if _, ok := db.Keys[key]; !ok {
		return false
	}
	delete(db.Keys, key)
	delete(db.Expires, key)
	return true
}

// SetExpire sets key's absolute deadline (Unix ms).
func (db *DB) SetExpire(key string, when int64) { db.Expires[key] = when }

// Persist removes key's deadline, reporting whether it had one.
func (db *DB) Persist(key string) bool {
	if _, ok := db.Expires[key]; !ok {
		return false
	}
	delete(db.Expires, key)
	return true
}

// ttl returns key's deadline and whether it has one.
func (db *DB) ttl(key string) (int64, bool) {
	when, ok := db.Expires[key]
	return when, ok
}

// Size is the number of keys, counting expired ones not yet removed
// (as Redis' DBSIZE does).
func (db *DB) Size() int { return len(db.Keys) }

// Flush empties the keyspace.
func (db *DB) Flush() {
	if db.PreFlush != nil {
		db.PreFlush()
	}
	db.Keys = make(map[string]any)
	db.Expires = make(map[string]int64)
}

// typeName is the TYPE reply for a value.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "none"
	case []byte:
		return "string"
	case *List:
		return "list"
	case Hash:
		return "hash"
	case Set:
		return "set"
	case *ZSet:
		return "zset"
	}
	return "unknown"
}

// Itoa formats n in decimal, for replies and journal rewrites.
func Itoa(n int64) string { return strconv.FormatInt(n, 10) }
