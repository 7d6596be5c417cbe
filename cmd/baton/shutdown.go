package main

import "github.com/batonkv/baton/node"

// shutdownRequested is the channel closed when a client sends SHUTDOWN.
func shutdownRequested(srv *node.Server) <-chan struct{} {
	type requester interface{ ShutdownRequested() <-chan struct{} }
	if r, ok := any(srv).(requester); ok {
		return r.ShutdownRequested()
	}
	return nil
}
