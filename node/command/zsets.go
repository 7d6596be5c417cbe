package command

// init registers the sorted set commands.
func init() {
	const w, r, f = FlagWrite, FlagReadonly, FlagFast
	register(
		&Command{Name: "zadd", Arity: -4, Flags: w | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zincrby", Arity: 4, Flags: w | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zrem", Arity: -3, Flags: w | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zscore", Arity: 3, Flags: r | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zmscore", Arity: -3, Flags: r | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zcard", Arity: 2, Flags: r | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zcount", Arity: 4, Flags: r | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zlexcount", Arity: 4, Flags: r | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zrank", Arity: 3, Flags: r | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zrevrank", Arity: 3, Flags: r | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zpopmin", Arity: -2, Flags: w | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zpopmax", Arity: -2, Flags: w | f, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zremrangebyscore", Arity: 4, Flags: w, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zremrangebyrank", Arity: 4, Flags: w, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zremrangebylex", Arity: 4, Flags: w, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zscan", Arity: -3, Flags: r, FirstKey: 1, LastKey: 1, Step: 1},
	)
	register(
		&Command{Name: "zrange", Arity: -4, Flags: r, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zrangebyscore", Arity: -4, Flags: r, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zrevrange", Arity: -4, Flags: r, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zrevrangebyscore", Arity: -4, Flags: r, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zrangebylex", Arity: -4, Flags: r, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zrevrangebylex", Arity: -4, Flags: r, FirstKey: 1, LastKey: 1, Step: 1},
		&Command{Name: "zrangestore", Arity: -5, Flags: FlagWrite, FirstKey: 1, LastKey: 2, Step: 1},
	)
}
