package keyspace

// Handlers returns the handlers of the keyspace's commands by command name:
// the node binds them, with its own server commands, to the command table
// by index. Each family file declares its handlers next to them.
func Handlers() map[string]Handler {
	all := make(map[string]Handler)
	for _, family := range []map[string]Handler{
		stringHandlers,
		keyHandlers,
		listHandlers,
		hashHandlers,
		setHandlers,
		sortedSetHandlers,
		digestHandlers,
	} {
		for name, fn := range family {
			if _, dup := all[name]; dup {
				panic("keyspace: handler bound twice: " + name)
			}
			all[name] = fn
		}
	}
	return all
}
