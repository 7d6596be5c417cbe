package command

import "strings"

// Flags describe a command the way Redis' command table does; the node's
// dispatch, MULTI and pub/sub handling and the proxy branch on them.
type Flags uint32

// Command flags.
const (
	// FlagWrite marks commands that may modify the keyspace (journaled when
	// they do, refused on replicas).
	FlagWrite Flags = 1 << iota
	// FlagReadonly marks commands that only read the keyspace.
	FlagReadonly
	// FlagAdmin marks server administration commands.
	FlagAdmin
	// FlagPubSub marks publish/subscribe commands.
	FlagPubSub
	// FlagNoAuth marks commands allowed before AUTH.
	FlagNoAuth
	// FlagBlocking marks commands that may block the connection.
	FlagBlocking
	// FlagNoMulti marks commands that run at once even inside MULTI.
	FlagNoMulti
	// FlagFast marks O(1) or O(log N) commands.
	FlagFast
	// FlagConnState marks commands that change connection state.
	FlagConnState
	// FlagSubscribed marks commands allowed in subscribed (RESP2) mode.
	FlagSubscribed
	// FlagNoJournal marks write commands that are never journaled as-is
	// (they journal their effects explicitly).
	FlagNoJournal
	// FlagInternal marks the appliance's control commands (replication,
	// epochs, takeovers, shutdown): run only for its own processes and
	// operators, never for an application client (see Internal).
	FlagInternal
)

// Command is one entry of the command table: its Redis metadata. Its
// handler lives with the code it runs (node/keyspace for data commands,
// node for server commands) and is found by Index.
type Command struct {
	// Name is the lower-case command name.
	Name string
	// Arity is Redis' arity: n > 0 means exactly n arguments including the
	// name, n < 0 means at least -n.
	Arity int
	// Flags classify the command.
	Flags Flags
	// FirstKey, LastKey and Step locate the key arguments like Redis'
	// key specs: LastKey -1 means the last argument, -2 the one before it.
	// FirstKey 0 means the command takes no keys.
	FirstKey, LastKey, Step int
	// internalSubs are the subcommands that belong to the control plane
	// (CONFIG SET, CLIENT KILL...): see Internal.
	internalSubs []subcommand
	// nameBytes is Name as journaled.
	nameBytes []byte
	// idx is the command's position in table (see Index).
	idx int
}

// byName is the command table by lower-case name, filled by register
// calls from each family's file at init time.
var byName = map[string]*Command{}

// table is the command table in registration order: table[i] has idx i.
var table []*Command

// register adds commands to the table; a duplicate name is a programming
// error.
func register(cmds ...*Command) {
	for _, cmd := range cmds {
		if _, dup := byName[cmd.Name]; dup {
			panic("command: registered twice: " + cmd.Name)
		}
		cmd.nameBytes = []byte(cmd.Name)
		cmd.idx = len(table)
		byName[cmd.Name] = cmd
		table = append(table, cmd)
	}
}

// keyed returns a command whose only key is its first argument.
func keyed(name string, arity int, flags Flags) *Command {
	return &Command{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1}
}

// keyedAll returns a command whose arguments are all keys.
func keyedAll(name string, arity int, flags Flags) *Command {
	return &Command{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: -1, Step: 1}
}

// Lookup finds a command by name, case-insensitively, without allocating
// for names of up to 32 bytes.
func Lookup(name []byte) *Command {
	if cmd, ok := byName[string(name)]; ok {
		return cmd
	}
	var buf [32]byte
	if len(name) > len(buf) {
		return byName[strings.ToLower(string(name))]
	}
	for i, ch := range name {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
	}
	return byName[string(buf[:len(name)])]
}

// ByName returns the command table by lower-case name, for the proxy's
// routing decisions. Callers must not modify it.
func ByName() map[string]*Command { return byName }

// List returns the command table ordered by Index. Callers must not
// modify it.
func List() []*Command { return table }

// Index is the command's position in List, fixed for the life of the
// process: metrics keep per-command counters and the node its handlers in
// slices indexed by it, so neither costs a map lookup.
func (cmd *Command) Index() int { return cmd.idx }

// NameBytes is Name as journaled. Callers must not modify it.
func (cmd *Command) NameBytes() []byte { return cmd.nameBytes }

// KeyIndexes returns the indexes of the key arguments in args.
func (cmd *Command) KeyIndexes(args [][]byte) []int {
	var idx []int
	cmd.EachKey(args, func(i int) { idx = append(idx, i) })
	return idx
}

// EachKey calls fn with the index of every key argument in args.
func (cmd *Command) EachKey(args [][]byte, fn func(i int)) {
	if cmd.FirstKey <= 0 {
		return
	}
	last := cmd.LastKey
	if last < 0 {
		last = len(args) + last
	}
	step := cmd.Step
	if step <= 0 {
		step = 1
	}
	for i := cmd.FirstKey; i <= last && i < len(args); i += step {
		fn(i)
	}
}

// ArityOK reports whether n arguments (including the name) fit the arity.
func (cmd *Command) ArityOK(n int) bool { return ArityOK(cmd.Arity, n) }

// ArityOK reports whether n arguments (the name included) satisfy Redis'
// arity: exactly arity when it is positive, at least -arity otherwise.
func ArityOK(arity, n int) bool {
	if arity >= 0 {
		return n == arity
	}
	return n >= -arity
}
