package command

import "strings"

// Internal reports whether args (name first) is a control-plane command
// that an application client may not run: one marked FlagInternal, or an
// internal subcommand (CONFIG SET, CLIENT KILL...). A node with a cluster
// secret runs these only for the appliance's internal identity; the proxy
// never forwards them. The name is the one NOPERM names, as Redis' ACL
// error does ("config|set").
func (cmd *Command) Internal(args [][]byte) (string, bool) {
	if cmd.Flags&FlagInternal != 0 {
		return cmd.Name, true
	}
	if len(cmd.internalSubs) == 0 || len(args) < 2 {
		return "", false
	}
	for _, sub := range cmd.internalSubs {
		// A subcommand with the wrong arity is the arity error's, which
		// Redis replies before its ACL check (and which runs nothing).
		if strings.EqualFold(string(args[1]), sub.name) && ArityOK(sub.arity, len(args)) {
			return cmd.Name + "|" + sub.name, true
		}
	}
	return "", false
}

// subcommand is an internal subcommand and its Redis arity.
type subcommand struct {
	name  string
	arity int
}

// NoPerm is the error (without its leading '-') for an internal command an
// application client sent, Redis' ACL refusal with the name Internal gave.
func NoPerm(name string) string {
	return "NOPERM this user has no permissions to run the '" + name + "' command"
}
