// Package proxy will hold Baton's RESP-aware proxy: the one endpoint
// applications use. It holds client connections, routes each command to the
// primary of the newest committed epoch, and holds and replays commands across
// role changes so that a planned takeover costs clients nothing but a pause.
package proxy
