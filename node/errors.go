package node

import "github.com/batonkv/baton/internal/lifecycle"

// Reply error strings of the server itself, byte for byte as Redis 7 sends
// them (the keyspace's are in node/keyspace).
const (
	errNoAuth     = "NOAUTH Authentication required."
	errMaxClients = "ERR max number of clients reached"
)

// ErrClosed is returned by Serve on a closed Server.
var ErrClosed = lifecycle.ErrClosed
