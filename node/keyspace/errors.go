package keyspace

// Reply error strings, byte for byte as Redis 7 sends them (without the
// leading '-', which the writer adds). They are exported for the server
// commands and the tests that expect them.
const (
	ErrWrongType      = "WRONGTYPE Operation against a key holding the wrong kind of value"
	ErrNotInteger     = "ERR value is not an integer or out of range"
	ErrNotFloat       = "ERR value is not a valid float"
	ErrSyntax         = "ERR syntax error"
	ErrNoSuchKey      = "ERR no such key"
	ErrOverflow       = "ERR increment or decrement would overflow"
	ErrIncrNaN        = "ERR increment would produce NaN or Infinity"
	ErrIndexRange     = "ERR index out of range"
	ErrInvalidExpire  = "ERR invalid expire time in '%s' command"
	ErrOutOfRangeZero = "ERR value is out of range, must be positive"
	ErrInvalidCursor  = "ERR invalid cursor"
)
