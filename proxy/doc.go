// Package proxy is Baton's RESP-aware proxy: the one endpoint applications
// use. It follows the primary of the newest epoch (the coordinators'
// BATON.WATCH streams with a BATON.TOPOLOGY LOCAL poll as fallback, or a
// static backend), optionally sends read-only pipelines to replicas within
// a lag bound (--read-from replicas), forwards each client pipeline as
// one batch over a small pool of shared, pipelined backend connections,
// and holds and replays commands across role changes.
//
// Invariants:
//   - A batch is queued, its commands contiguous, on one backend
//     connection under its lock (the connection's flusher writes many
//     clients' batches at once) and its replies are read back in FIFO
//     order, so replies always reach the right client in the right order.
//   - Only a strictly higher epoch moves the proxy to another primary; a
//     lagging coordinator never moves it back.
//   - Replies -TAKENOVER, -READONLY and -TRYAGAIN mean "not executed": the
//     command is held (up to HoldTimeout, at most MaxHeld commands at
//     once) and replayed. A write whose
//     connection broke before its reply is ambiguous and gets an error,
//     never a silent retry; a read-only command is retried.
//   - Stateful clients (MULTI/WATCH, SUBSCRIBE, blocking commands,
//     connection state such as CLIENT SETNAME or SELECT) are pinned to a
//     backend connection of their own; replies are matched to commands in
//     FIFO order and leave in command order. When the primary changes, the
//     session restores name, database and subscriptions on the new one,
//     replays what did not run (a blocking pop with the rest of its
//     timeout), answers a write that may have run as ambiguous, and fails a
//     MULTI or WATCH open across the switch (EXECABORT): nothing of it runs.
package proxy
