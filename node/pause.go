package node

// pausedFor reports whether CLIENT PAUSE currently holds back args from cl.
func (s *Server) pausedFor(cl *client, args [][]byte) bool { return false }

// waitPause waits, without the keyspace lock, until the pause ends.
func (s *Server) waitPause(cl *client, args [][]byte) {}
