// Package command is Baton's command table: every command's Redis metadata
// (name, arity, flags, key positions), lookup by name, stable indexes and
// the classification of replies for the per-command metrics.
//
// It holds no handlers and imports nothing of the datastore, so the proxy
// can route and count commands with it alone. Each Redis family declares
// its commands in a file of its own (strings.go, lists.go, ...); the node
// binds a handler to every entry by Index (node/keyspace for data
// commands, node for server commands).
package command
