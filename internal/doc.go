// Package internal holds what two or more of Baton's components share and
// no one outside the module should import: the RESP client codec, the
// process harness, the RESP input limits, the metrics HTTP server, the
// Docker Engine client, INFO parsing and the benchmark kit.
package internal
