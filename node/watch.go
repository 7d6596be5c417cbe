package node

// touchKey records that key was modified: clients WATCHing it will fail
// their EXEC, and clients blocked on it retry. The caller holds s.mu.
func (s *Server) touchKey(key string) {
	s.signalKey(key)
}

// unwatchAll forgets cl's WATCHed keys; the caller holds s.mu.
func (s *Server) unwatchAll(cl *client) {
	cl.watched = nil
	cl.watchDirty = false
}
