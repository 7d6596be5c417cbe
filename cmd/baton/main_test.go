package main

import (
	"bytes"
	"strings"
	"testing"
)

// Test_Help_ListsSubcommandsInFixedOrder: --help shows every subcommand, in
// the declared order, the same way every time (a map would shuffle it).
func Test_Help_ListsSubcommandsInFixedOrder(t *testing.T) {
	want := []string{"up", "node", "coordinator", "proxy", "ctl", "chaos", "healthcheck"}
	var first string
	for i := 0; i < 20; i++ {
		var out, errw bytes.Buffer
		if code := run([]string{"--help"}, &out, &errw); code != 0 {
			t.Fatalf("--help exit %d", code)
		}
		var got []string
		for _, line := range strings.Split(errw.String(), "\n") {
			if f := strings.Fields(line); strings.HasPrefix(line, "  ") && len(f) > 1 {
				got = append(got, f[0])
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("subcommands listed as %v, want %v", got, want)
		}
		if first == "" {
			first = errw.String()
		} else if errw.String() != first {
			t.Fatalf("--help changed between calls:\n%s\n---\n%s", first, errw.String())
		}
	}
}

// Test_Help_UnknownSubcommand exits 2 naming the subcommand.
func Test_Help_UnknownSubcommand(t *testing.T) {
	var out, errw bytes.Buffer
	if code := run([]string{"nosuch"}, &out, &errw); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(errw.String(), `unknown subcommand "nosuch"`) {
		t.Fatalf("stderr %q", errw.String())
	}
}
