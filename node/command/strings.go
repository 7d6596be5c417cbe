package command

// init registers the string commands (GET, SET, INCR...).
func init() {
	const rf = FlagReadonly | FlagFast
	const wf = FlagWrite | FlagFast
	register(
		&Command{Name: "get", Arity: 2, Flags: rf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "set", Arity: -3, Flags: FlagWrite, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "setnx", Arity: 3, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "setex", Arity: 4, Flags: FlagWrite, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "psetex", Arity: 4, Flags: FlagWrite, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "mget", Arity: -2, Flags: rf, FirstKey: 1, LastKey: -1, Step: 1},
		&Command{Name: "mset", Arity: -3, Flags: FlagWrite, FirstKey: 1, LastKey: -1, Step: 2},
		&Command{Name: "msetnx", Arity: -3, Flags: FlagWrite, FirstKey: 1, LastKey: -1, Step: 2},
		&Command{Name: "incr", Arity: 2, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "decr", Arity: 2, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "incrby", Arity: 3, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "decrby", Arity: 3, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "incrbyfloat", Arity: 3, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "append", Arity: 3, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "strlen", Arity: 2, Flags: rf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "getrange", Arity: 4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "setrange", Arity: 4, Flags: FlagWrite, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "getdel", Arity: 2, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "getex", Arity: -2, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "getset", Arity: 3, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1},
	)
}
