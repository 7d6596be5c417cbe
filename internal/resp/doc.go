// Package resp is Baton's one RESP2 client codec: a Reader of reply values
// (simple strings, errors, integers, bulks, nulls and nested arrays), a
// Writer of commands (arrays of bulk strings), Dial (connect and, with a
// secret, AUTH) and Sanitize (client text made safe for one log or error
// line). Every Go client of a Baton component — coordinator clients,
// replication, the proxy's backends, tools and tests — reads and writes RESP
// through it rather than a private copy.
//
// The Reader is built for hostile peers: every declared length is checked
// against a bound before anything is allocated, bulks larger than a chunk
// grow only as their bytes arrive, and nesting depth is limited, so a
// malformed or malicious stream costs an error, never unbounded memory.
package resp
