package proc

import (
	"io"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Defaults of Config's zero fields.
const (
	// DefaultStartTimeout bounds the wait for the address line.
	DefaultStartTimeout = 20 * time.Second
	// reapLimit bounds the wait for a child to be reaped after SIGKILL.
	reapLimit = 10 * time.Second
	// waitDelay bounds the drain of a child's output after it exited (a
	// grandchild may still hold the pipes).
	waitDelay = 2 * time.Second
	// tailLines is how many output lines an error message quotes.
	tailLines = 10
)

// Config describes one child process; a restart reuses it unchanged.
type Config struct {
	// Name labels the process in errors (c1, n2, proxy); default: the
	// program's base name and its first argument.
	Name string
	// Bin is the executable, Args its arguments (the subcommand first).
	Bin  string
	Args []string
	// Env is added to this process's environment.
	Env []string
	// Dir is the working directory; empty: this process's.
	Dir string
	// LogPath, when set, is a file the child's stdout and stderr are
	// appended to, across restarts.
	LogPath string
	// Output, when set, also receives the child's stdout and stderr.
	Output io.Writer
	// AddrPrefix, when set, makes Start wait until the child's first
	// stdout line starts with it (see Listening) and read the rest of
	// that line as its address.
	AddrPrefix string
	// StartTimeout bounds that wait; zero: DefaultStartTimeout.
	StartTimeout time.Duration
	// DeathSignal is sent to the child if this process dies first; zero:
	// SIGKILL.
	DeathSignal syscall.Signal
}

// Listening is the start of the line every `baton SUB` prints on stdout
// once it accepts connections: "baton SUB listening on ADDR".
func Listening(sub string) string { return "baton " + sub + " listening on " }

// name returns c.Name or its default.
func (c Config) name() string {
	if c.Name != "" {
		return c.Name
	}
	return strings.TrimSpace(filepath.Base(c.Bin) + " " + strings.Join(c.Args[:min(1, len(c.Args))], ""))
}

// startTimeout returns c.StartTimeout or its default.
func (c Config) startTimeout() time.Duration {
	if c.StartTimeout > 0 {
		return c.StartTimeout
	}
	return DefaultStartTimeout
}

// deathSignal returns c.DeathSignal or its default.
func (c Config) deathSignal() syscall.Signal {
	if c.DeathSignal != 0 {
		return c.DeathSignal
	}
	return syscall.SIGKILL
}
