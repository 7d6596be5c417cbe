package check

import "time"

// Builders for hand-made histories. Times are in milliseconds from the
// start of the run; every builder makes an acknowledged (OK) operation.

func at(call, ret int) (time.Duration, time.Duration) {
	return time.Duration(call) * time.Millisecond, time.Duration(ret) * time.Millisecond
}

func setOp(p int, key, v string, call, ret int) Op {
	c, r := at(call, ret)
	return Op{Process: p, Kind: "set", Key: key, Value: v, Call: c, Return: r}
}

// getOp reads out; "∅" means the key was missing.
func getOp(p int, key, out string, call, ret int) Op {
	c, r := at(call, ret)
	if out == "∅" {
		return Op{Process: p, Kind: "get", Key: key, Missing: true, Call: c, Return: r}
	}
	return Op{Process: p, Kind: "get", Key: key, Out: out, Call: c, Return: r}
}

func casOp(p int, key, expect, v string, swapped bool, call, ret int) Op {
	c, r := at(call, ret)
	out := "0"
	if swapped {
		out = "1"
	}
	return Op{Process: p, Kind: "cas", Key: key, Expect: expect, Value: v, Out: out, Call: c, Return: r}
}

func writeOp(p int, kind, key, v string, call, ret int) Op {
	c, r := at(call, ret)
	return Op{Process: p, Kind: kind, Key: key, Value: v, Call: c, Return: r}
}

func incrOp(p int, key, out string, call, ret int) Op {
	c, r := at(call, ret)
	return Op{Process: p, Kind: "incr", Key: key, Out: out, Call: c, Return: r}
}

// failed marks op as refused (definitely not applied) with err.
func failed(op Op, err string) Op {
	op.Status, op.Err, op.Out = Fail, err, ""
	return op
}

// unknown marks op as of unknown outcome with err; its Return and output
// are meaningless and scrambled to prove the checkers ignore them.
func unknown(op Op, err string) Op {
	op.Status, op.Err, op.Out, op.Return = Info, err, "garbage", 0
	return op
}
