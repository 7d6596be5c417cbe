// Package tlsfiles serves TLS from certificate files that an operator may
// replace while the process runs (a renewed certificate is picked up on
// the next handshake, no restart), and creates the private CA and server
// certificate `baton up --tls` uses.
package tlsfiles
