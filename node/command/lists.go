package command

// init registers the list commands, blocking pops included.
func init() {
	const w, r, f, b, nj = FlagWrite, FlagReadonly, FlagFast, FlagBlocking, FlagNoJournal
	register(
		&Command{Name: "lpush", Arity: -3, Flags: w | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "rpush", Arity: -3, Flags: w | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "lpushx", Arity: -3, Flags: w | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "rpushx", Arity: -3, Flags: w | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "lpop", Arity: -2, Flags: w | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "rpop", Arity: -2, Flags: w | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "lrange", Arity: 4, Flags: r, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "llen", Arity: 2, Flags: r | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "lindex", Arity: 3, Flags: r, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "lset", Arity: 4, Flags: w, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "lrem", Arity: 4, Flags: w, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "ltrim", Arity: 4, Flags: w, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "linsert", Arity: 5, Flags: w, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "lpos", Arity: -3, Flags: r, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "lmove", Arity: 5, Flags: w, FirstKey: 1, LastKey: 2, Step: 1},
		&Command{Name: "rpoplpush", Arity: 3, Flags: w, FirstKey: 1, LastKey: 2, Step: 1},
		&Command{Name: "blpop", Arity: -3, Flags: w | b | nj, FirstKey: 1, LastKey: -2, Step: 1},
		&Command{Name: "brpop", Arity: -3, Flags: w | b | nj, FirstKey: 1, LastKey: -2, Step: 1},
		&Command{Name: "blmove", Arity: 6, Flags: w | b | nj, FirstKey: 1, LastKey: 2, Step: 1},
		&Command{Name: "brpoplpush", Arity: 4, Flags: w | b | nj, FirstKey: 1, LastKey: 2, Step: 1},
	)
}
