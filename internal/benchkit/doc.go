// Package benchkit is what Baton's benchmark programs (scripts/benchfailover,
// scripts/benchtakeover) share: server processes on loopback, a Baton
// appliance of 3 coordinators and 3 nodes, clients that never retry on
// their own, polling with a bound, and the statistics their tables print.
// It exists so the two programs measure with the same definitions instead
// of two copies that drift apart.
package benchkit
