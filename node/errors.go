package node

import "errors"

// Reply error strings, byte for byte as Redis 7 sends them (without the
// leading '-', which the writer adds).
const (
	errWrongType      = "WRONGTYPE Operation against a key holding the wrong kind of value"
	errNotInteger     = "ERR value is not an integer or out of range"
	errNotFloat       = "ERR value is not a valid float"
	errSyntax         = "ERR syntax error"
	errNoSuchKey      = "ERR no such key"
	errOverflow       = "ERR increment or decrement would overflow"
	errIncrNaN        = "ERR increment would produce NaN or Infinity"
	errIndexRange     = "ERR index out of range"
	errNoAuth         = "NOAUTH Authentication required."
	errInvalidExpire  = "ERR invalid expire time in '%s' command"
	errOutOfRangeZero = "ERR value is out of range, must be positive"
	errMaxClients     = "ERR max number of clients reached"
	errInvalidCursor  = "ERR invalid cursor"
)

// ErrClosed is returned by operations on a closed Server.
var ErrClosed = errors.New("node: server closed")
