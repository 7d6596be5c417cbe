package keyspace

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"maps"
	"math"
	"slices"
)

// digestHandlers binds the digest commands declared in node/command.
var digestHandlers = map[string]Handler{
	"digest": cmdDigest,
}

// cmdDigest: DIGEST replies a 64-hex hash of the whole dataset.
func cmdDigest(c *Ctx) { c.W.WriteBulkString(Digest(c.DB, c.Now)) }

// Digest returns a hash of the whole keyspace as 64 hex digits: equal for
// two keyspaces holding the same live keys, values and absolute expiries,
// however the data got there, and all zeros for an empty one. Per-key
// SHA-256 digests are combined by XOR, so the result does not depend on map
// or insertion order. Keys expired at now are skipped but not removed (a
// digest is a pure read).
func Digest(db *DB, now int64) string {
	var sum [sha256.Size]byte
	h := sha256.New()
	var kd [sha256.Size]byte
	for key, v := range db.Keys {
		if db.Expired(key, now) {
			continue
		}
		h.Reset()
		DigestKey(h, key, v, db.Expires)
		h.Sum(kd[:0])
		for i := range sum {
			sum[i] ^= kd[i]
		}
	}
	return hex.EncodeToString(sum[:])
}

// DigestKey writes the canonical form of one key to h: name, type, value
// (sets and hashes sorted, lists and sorted sets in order) and absolute
// expiry (-1 when none).
func DigestKey(h hash.Hash, key string, v any, expires map[string]int64) {
	var num [8]byte
	putInt := func(n uint64) {
		binary.BigEndian.PutUint64(num[:], n)
		h.Write(num[:])
	}
	putBytes := func(b []byte) {
		putInt(uint64(len(b)))
		h.Write(b)
	}
	putString := func(str string) {
		putInt(uint64(len(str)))
		h.Write([]byte(str))
	}
	putString(key)
	putString(typeName(v))
	switch val := v.(type) {
	case []byte:
		putBytes(val)
	case *List:
		putInt(uint64(val.Len()))
		val.Range(func(e []byte) bool {
			putBytes(e)
			return true
		})
	case Set:
		members := slices.Sorted(maps.Keys(val))
		putInt(uint64(len(members)))
		for _, m := range members {
			putString(m)
		}
	case Hash:
		fields := slices.Sorted(maps.Keys(val))
		putInt(uint64(len(fields)))
		for _, f := range fields {
			putString(f)
			putBytes(val[f])
		}
	case *ZSet:
		putInt(uint64(val.Len()))
		val.Range(func(m string, score float64) bool {
			putString(m)
			putInt(math.Float64bits(score))
			return true
		})
	}
	when, ok := expires[key]
	if !ok {
		when = -1
	}
	putInt(uint64(when))
}
