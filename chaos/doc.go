// Package chaos will hold Baton's chaos suite: toxiproxy-driven nemeses,
// workloads through the proxy, and checkers (porcupine linearizability, lost
// acknowledged writes, split brain, availability) with reproducible reports.
package chaos
