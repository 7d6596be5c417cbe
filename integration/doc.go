// Package integration holds end-to-end tests that build and start the real
// baton binary as separate processes on loopback (and, later, in containers
// for the compose suite), and talk to them with real Redis clients.
package integration
