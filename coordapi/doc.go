// Package coordapi owns the coordinators' wire contract: everything a
// producer (the coordinator group, package consensus) and its consumers
// (nodes, proxies, baton ctl, chaos, benchmarks, tests) must agree on.
//
//   - The topology record (Topology) as BATON.TOPOLOGY, BATON.REGISTER,
//     BATON.FAILOVER and the BATON.WATCH stream carry it as JSON, its
//     helpers, and the one rule for which of two records is newer
//     (Topology.Compare: epoch first, then version).
//   - The takeover report BATON.TAKEOVER answers (TakeoverReport).
//   - The BATON.* command names and the error codes callers branch on
//     (ErrCode*, HasCode).
//   - The one client (Client, LeaderDo, Watch): dial and AUTH, follow the
//     Raft leader through -REDIRECT and -NOLEADER without ever sending a
//     non-idempotent command twice, and read the watch stream.
//
// No other package declares a struct that decodes these records.
package coordapi
