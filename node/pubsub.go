package node

// subscriber is a client's pub/sub state.
type subscriber struct {
	channels map[string]struct{}
	patterns map[string]struct{}
}

// count is the number of channels and patterns subscribed.
func (sb *subscriber) count() int { return len(sb.channels) + len(sb.patterns) }

// unsubscribeAll drops every subscription of cl.
func (s *Server) unsubscribeAll(cl *client) {}
