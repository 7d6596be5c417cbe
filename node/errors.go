package node

import "errors"

// Reply error strings of the server itself, byte for byte as Redis 7 sends
// them (the keyspace's are in node/keyspace).
const (
	errNoAuth     = "NOAUTH Authentication required."
	errMaxClients = "ERR max number of clients reached"
)

// ErrClosed is returned by operations on a closed Server.
var ErrClosed = errors.New("node: server closed")
