package main

import "github.com/batonkv/baton/node"

// shutdownRequested is closed once a client's SHUTDOWN has closed the node.
func shutdownRequested(srv *node.Server) <-chan struct{} { return srv.ShutdownRequested() }
