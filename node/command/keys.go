package command

// init registers the generic key commands (DEL, EXPIRE, TYPE, SCAN, FLUSHALL...).
func init() {
	const rf = FlagReadonly | FlagFast
	const wf = FlagWrite | FlagFast
	register(
		&Command{Name: "del", Arity: -2, Flags: FlagWrite, FirstKey: 1, LastKey: -1, Step: 1},
		&Command{Name: "unlink", Arity: -2, Flags: wf, FirstKey: 1, LastKey: -1, Step: 1},
		&Command{Name: "exists", Arity: -2, Flags: rf, FirstKey: 1, LastKey: -1, Step: 1},
		&Command{Name: "expire", Arity: -3, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "pexpire", Arity: -3, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "expireat", Arity: -3, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "pexpireat", Arity: -3, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "ttl", Arity: 2, Flags: rf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "pttl", Arity: 2, Flags: rf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "persist", Arity: 2, Flags: wf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "type", Arity: 2, Flags: rf, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "keys", Arity: 2, Flags: FlagReadonly},
		&Command{Name: "scan", Arity: -2, Flags: FlagReadonly},
		&Command{Name: "rename", Arity: 3, Flags: FlagWrite, FirstKey: 1, LastKey: 2, Step: 1},
		&Command{Name: "renamenx", Arity: 3, Flags: wf, FirstKey: 1, LastKey: 2, Step: 1},
		&Command{Name: "randomkey", Arity: 1, Flags: FlagReadonly},
		&Command{Name: "dbsize", Arity: 1, Flags: rf},
		&Command{Name: "flushdb", Arity: -1, Flags: FlagWrite},
		&Command{Name: "flushall", Arity: -1, Flags: FlagWrite},
	)
}
