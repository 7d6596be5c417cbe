package keyspace

// Expired reports whether key has a deadline at or before now (ms).
func (db *DB) Expired(key string, now int64) bool {
	when, ok := db.Expires[key]
	return ok && when <= now
}

// expireIfNeeded removes key if it has expired, reporting whether it did.
// When activeExpire is false (replicas, replay) the key stays but reads as
// missing: only the primary decides that a key is gone, and its DEL arrives
// through the journal.
func (db *DB) expireIfNeeded(key string, now int64, activeExpire bool) bool {
	if !db.Expired(key, now) {
		return false
	}
	if activeExpire {
		if db.PreWrite != nil {
			db.PreWrite(key)
		}
		db.remove(key)
		if db.OnExpire != nil {
			db.OnExpire(key)
		}
		if db.Touched != nil {
			db.Touched(key)
		}
	}
	return true
}

// ActiveExpireCycle samples keys with a deadline and removes the expired
// ones, like Redis' active expiry: it repeats while more than a quarter of a
// sample was expired, bounded by maxRounds so one cycle never stalls
// clients.
func (db *DB) ActiveExpireCycle(now int64, maxRounds int) int {
	const sample = 20
	removed := 0
	for round := 0; round < maxRounds && len(db.Expires) > 0; round++ {
		seen, gone := 0, 0
		for key, when := range db.Expires { // map order is randomized
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
