package node

import (
	"time"

	"github.com/batonkv/baton/node/keyspace"
)

// hooks is the Server as the keyspace sees it (keyspace.Host): the few
// server services a command handler needs, without the keyspace importing
// node. Converting a *Server costs nothing.
type hooks Server

var _ keyspace.Host = (*hooks)(nil)

// host returns s as the commands' keyspace.Host.
func (s *Server) host() keyspace.Host { return (*hooks)(s) }

func (h *hooks) ActiveExpire() bool { return (*Server)(h).activeExpire() }

func (h *hooks) CountLookup(hit bool) {
	if hit {
		h.stats.keyspaceHits.Add(1)
	} else {
		h.stats.keyspaceMisses.Add(1)
	}
}

func (h *hooks) Journal(args [][]byte) { (*Server)(h).appendJournal(args) }

func (h *hooks) Touch(key string) { (*Server)(h).touchKey(key) }

func (h *hooks) Block(c *keyspace.Ctx, keys []string, timeout time.Duration) {
	(*Server)(h).block(c, keys, timeout)
}

func (h *hooks) MaxBulkLen() int64 { return h.cfg.MaxBulkLen }

// clientOf is the client that issued c's command.
func clientOf(c *keyspace.Ctx) *client { return c.Client.(*client) }
