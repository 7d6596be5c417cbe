// Package coord is a coordinated node's side of the coordinator group: with
// coordinators configured, the group, not REPLICAOF from an operator,
// decides the node's role. A Coordinator
//
//   - registers (BATON.REGISTER id advertise-addr [replication-addr]) until
//     it succeeds (coord.go);
//   - learns topology records from a BATON.WATCH stream to any coordinator
//     and from a BATON.TOPOLOGY poll every second, at once when the watch
//     breaks or the lease is refused (watch.go);
//   - reconciles each record (reconcile.go): adopt its epoch, then lead it
//     (promote, renew the lease) or follow its primary (REPLICAOF);
//   - renews the write lease while it leads (lease.go, renew.go), appends
//     every granted window to the lease log (leaselog.go), and fences: a
//     primary without a valid lease refuses writes (fence.go).
//
// The server-specific actions — read the role and epoch, persist an epoch,
// promote, REPLICAOF, leave a takeover's freeze — are reached through Node,
// which node.Server implements (node/coord_hooks.go), so this package never
// imports node. The wire contract (commands, records, error codes, the
// leader-following client) is coordapi's.
//
// Without coordinators the node has no Coordinator and behaves as a
// standalone Redis-like server.
package coord
