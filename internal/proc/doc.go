// Package proc is Baton's one process harness: it starts a program (a
// `baton SUB` subcommand, or redis-server for the benchmarks) as a child
// process, captures its output, reads the address from its
// "baton SUB listening on ADDR" line, signals it (SIGKILL, SIGSTOP,
// SIGCONT, SIGTERM), waits for it with a bound and restarts it with the
// same arguments. It also picks free loopback ports for the addresses
// fixed in advance.
//
// `baton up`, the chaos local target, the benchmark kit and the
// integration tests all start their processes through it, so a start
// that fails reports the same clear error (with the child's last output
// lines) everywhere, and no caller leaves a child or a goroutine behind.
//
// Every child gets a death signal (Linux Pdeathsig, SIGKILL unless
// configured), so it does not outlive a parent killed outright.
package proc
