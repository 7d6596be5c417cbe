package node

import (
	"errors"
	"fmt"

	"github.com/batonkv/baton/node/command"
	"github.com/batonkv/baton/node/keyspace"
)

// serverHandlers binds the server's own commands (connection, CLIENT,
// pub/sub, transactions, replication, takeover, administration and
// persistence), which need the Server and not only the keyspace.
func (s *Server) serverHandlers() map[string]keyspace.Handler {
	return map[string]keyspace.Handler{
		"ping":            s.cmdPing,
		"echo":            s.cmdEcho,
		"quit":            s.cmdQuit,
		"auth":            s.cmdAuth,
		"hello":           s.cmdHello,
		"select":          s.cmdSelect,
		"reset":           s.cmdReset,
		"client":          s.cmdClient,
		"publish":         s.cmdPublish,
		"subscribe":       s.cmdSubscribe,
		"unsubscribe":     s.cmdUnsubscribe,
		"psubscribe":      s.cmdPsubscribe,
		"punsubscribe":    s.cmdPunsubscribe,
		"pubsub":          s.cmdPubsub,
		"multi":           s.cmdMulti,
		"exec":            s.cmdExec,
		"discard":         s.cmdDiscard,
		"watch":           s.cmdWatch,
		"unwatch":         s.cmdUnwatch,
		"replicaof":       s.cmdReplicaof,
		"slaveof":         s.cmdReplicaof,
		"wait":            s.cmdWait,
		"replconf":        s.cmdReplconf,
		"baton.epoch":     s.cmdEpoch,
		"baton.handshake": s.cmdHandshake,
		"baton.psync":     s.cmdPsync,
		"failover":        s.cmdFailover,
		"baton.freeze":    s.cmdFreeze,
		"baton.unfreeze":  s.cmdUnfreeze,
		"role":            s.cmdRole,
		"time":            s.cmdTime,
		"config":          s.cmdConfig,
		"shutdown":        s.cmdShutdown,
		"command":         s.cmdCommand,
		"info":            s.cmdInfo,
		"save":            s.cmdSave,
		"bgsave":          s.cmdBgsave,
		"lastsave":        s.cmdLastsave,
	}
}

// errHandlerTable reports a command table and handler sets that do not
// match one to one.
var errHandlerTable = errors.New("command table and handlers differ")

// bindHandlers returns the handler of every command in command.List,
// indexed by its Index, from handler sets keyed by command name. Every
// command must have exactly one handler and every handler a command.
func bindHandlers(sets ...map[string]keyspace.Handler) ([]keyspace.Handler, error) {
	table := make([]keyspace.Handler, len(command.List()))
	for _, set := range sets {
		for name, fn := range set {
			cmd := command.Lookup([]byte(name))
			if cmd == nil || cmd.Name != name {
				return nil, fmt.Errorf("handler %q: no such command: %w", name, errHandlerTable)
			}
			if table[cmd.Index()] != nil {
				return nil, fmt.Errorf("command %q: bound twice: %w", name, errHandlerTable)
			}
			table[cmd.Index()] = fn
		}
	}
	for i, fn := range table {
		if fn == nil {
			return nil, fmt.Errorf("command %q: no handler: %w", command.List()[i].Name, errHandlerTable)
		}
	}
	return table, nil
}
