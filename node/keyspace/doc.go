// Package keyspace is Baton's data model: the keyspace (DB), its value
// types and the handlers of the commands that read and write it, run one at
// a time in a Ctx under the server's lock.
//
// A handler reaches the server that runs it only through Host (expiry
// policy, journal, WATCH and blocking wake-ups, limits), so this package
// never imports node. Its files follow Redis' command families:
// strings.go, keys.go (generic key commands), lists.go, hashes.go, sets.go
// and zsets.go hold the handlers; list_value.go and zset_value.go the
// collection types; db.go the keyspace and its expiry; scan.go, digest.go
// and parse.go what the families share. Each family file binds its
// handlers to the command names declared in node/command (handlers.go
// collects them). A new family (scripting, streams, bitmaps, HyperLogLog,
// geo) gets a file of its own here, named after it, with its metadata in
// node/command.
package keyspace
