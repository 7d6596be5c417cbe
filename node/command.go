package node

import "strings"

// Flags describe a command the way Redis' command table does; the proxy and
// MULTI/pub-sub handling branch on them.
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
)

// Command is one entry of the command table: its Redis metadata and handler.
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
	// fn executes the command.
	fn func(c *Ctx)
	// nameBytes is Name as journaled.
	nameBytes []byte
	// idx is the command's position in commandTable (see Index).
	idx int
}

// commands is the command table, filled by register calls from each
// family's file at init time.
var commands = map[string]*Command{}

// commandTable is the command table in registration order: commandTable[i]
// has idx i.
var commandTable []*Command

// register adds commands to the table; a duplicate name is a programming
// error.
func register(cmds ...*Command) {
	for _, cmd := range cmds {
		if _, dup := commands[cmd.Name]; dup {
			panic("node: command registered twice: " + cmd.Name)
		}
		cmd.nameBytes = []byte(cmd.Name)
		cmd.idx = len(commandTable)
		commands[cmd.Name] = cmd
		commandTable = append(commandTable, cmd)
	}
}

// lookupCommand finds a command by name, case-insensitively, without
// allocating for names that are already lower case.
func lookupCommand(name []byte) *Command {
	if cmd, ok := commands[string(name)]; ok {
		return cmd
	}
	var buf [32]byte
	if len(name) > len(buf) {
		return commands[strings.ToLower(string(name))]
	}
	for i, ch := range name {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
	}
	return commands[string(buf[:len(name)])]
}

// Commands returns the command table, for COMMAND and for the proxy's
// routing decisions.
func Commands() map[string]*Command { return commands }

// CommandList returns the command table ordered by Index. Callers must not
// modify it.
func CommandList() []*Command { return commandTable }

// Index is the command's position in CommandList, fixed for the life of
// the process: metrics keep per-command counters in arrays indexed by it,
// so counting a command costs no map lookup.
func (cmd *Command) Index() int { return cmd.idx }

// KeyIndexes returns the indexes of the key arguments in args.
func (cmd *Command) KeyIndexes(args [][]byte) []int {
	var idx []int
	cmd.eachKey(args, func(i int) { idx = append(idx, i) })
	return idx
}

// eachKey calls fn with the index of every key argument in args.
func (cmd *Command) eachKey(args [][]byte, fn func(i int)) {
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

// arityOK reports whether n arguments (including the name) fit the arity.
func (cmd *Command) arityOK(n int) bool {
	if cmd.Arity >= 0 {
		return n == cmd.Arity
	}
	return n >= -cmd.Arity
}
