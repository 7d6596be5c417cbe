package node

import (
	"time"

	"github.com/batonkv/baton/node/keyspace"
)

// Digest returns a hash of the whole dataset as 64 hex digits
// (keyspace.Digest): equal for two nodes holding the same live keys, values
// and absolute expiries, however the data got there.
func (s *Server) Digest() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return keyspace.Digest(s.db, time.Now().UnixMilli())
}
