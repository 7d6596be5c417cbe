package node

import "github.com/batonkv/baton/node/coord"

// coordHooks is the Server as coordination sees it (coord.Node): the role,
// the epoch, promotion, REPLICAOF and the takeover freeze, without
// node/coord importing node. Converting a *Server costs nothing.
type coordHooks Server

var _ coord.Node = (*coordHooks)(nil)

func (h *coordHooks) View() coord.View { return (*Server)(h).view() }

func (h *coordHooks) Epoch() uint64 { return h.repl.epoch.Load() }

func (h *coordHooks) RaiseEpoch(epoch uint64) error { return (*Server)(h).raiseEpoch(epoch) }

func (h *coordHooks) Promote() { (*Server)(h).promote() }

func (h *coordHooks) ReplicaOf(addr string) error {
	_, err := (*Server)(h).replicaof(addr)
	return err
}

func (h *coordHooks) FrozenBy() uint64 { return h.freeze.id.Load() }

func (h *coordHooks) Thaw(id uint64, why string) { (*Server)(h).thaw(id, why) }

// view snapshots the node's role for reconciliation.
func (s *Server) view() coord.View {
	s.mu.Lock()
	defer s.mu.Unlock()
	return coord.View{
		ID:      s.cfg.NodeID,
		Epoch:   s.repl.epoch.Load(),
		Replica: s.isReplica(),
		Primary: s.repl.primary,
	}
}
