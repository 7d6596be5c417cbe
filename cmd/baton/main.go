// Command baton is Baton's single binary. Each role is a subcommand; this
// file only parses flags and wires components in dependency order.
package main

import (
	"fmt"
	"io"
	"os"
)

// subcommand is one entry point of the binary; run returns the exit code.
type subcommand struct {
	name    string
	run     func(args []string, stdout, stderr io.Writer) int
	summary string
}

// subcommands lists the entry points in the order --help shows them: the
// appliance's processes first, then the tools that drive them.
var subcommands = []subcommand{
	{"up", runUp, "run the whole local appliance (3 coordinators, 3 nodes, 1 proxy) on loopback"},
	{"node", runNode, "run a datastore node (RESP server with a journal)"},
	{"coordinator", runCoordinator, "run a coordinator: a Raft member recording primary epochs and leases"},
	{"proxy", runProxy, "run the RESP proxy applications connect to; it follows the primary"},
	{"ctl", runCtl, "operator commands to the coordinators (status, takeover)"},
	{"chaos", runChaos, "run the chaos suite: faults on every link and process, workloads, checkers, reports"},
	{"healthcheck", runHealthcheck, "check a process's /healthz: exit 0 when healthy, 1 otherwise (container healthchecks)"},
}

// lookupSubcommand finds a subcommand by name.
func lookupSubcommand(name string) (subcommand, bool) {
	for _, sub := range subcommands {
		if sub.name == name {
			return sub, true
		}
	}
	return subcommand{}, false
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub, ok := lookupSubcommand(args[0])
	if !ok {
		fmt.Fprintf(stderr, "baton: unknown subcommand %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return sub.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Baton: a proxy-fronted, Raft-coordinated, Redis-compatible HA datastore.")
	fmt.Fprintln(w, "\nUsage: baton <subcommand> [flags]   (baton <subcommand> --help for flags)")
	fmt.Fprintln(w, "\nSubcommands:")
	for _, sub := range subcommands {
		fmt.Fprintf(w, "  %-12s %s\n", sub.name, sub.summary)
	}
}
