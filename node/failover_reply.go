package node

// reply is a coordinator's reply as FAILOVER (cmd_failover.go) inspects it:
// its RESP kind byte and its text.
type reply struct {
	kind byte
	str  string
}
