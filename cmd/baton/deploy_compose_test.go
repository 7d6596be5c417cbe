package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// composeServices reads docker-compose.yml's services: command and
// environment (merge keys resolved).
func composeServices(t testing.TB, data []byte) map[string]struct {
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
} {
	t.Helper()
	var cf struct {
		Services map[string]struct {
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return cf.Services
}

// checkComposeFlags returns the problems of the compose file's baton
// commands: a subcommand that is not one, a flag it does not have, an
// argument that stops flag parsing, or a BATON_ variable that neither the
// subcommand nor `ctl` (run with `exec … /baton ctl`) reads.
func checkComposeFlags(t testing.TB, data []byte, flags func(sub string) map[string]bool) []string {
	var bad []string
	ctl := map[string]bool{}
	for _, op := range []string{"ctl status", "ctl takeover"} {
		for f := range flags(op) {
			ctl[f] = true
		}
	}
	for name, svc := range composeServices(t, data) {
		if len(svc.Command) == 0 {
			continue // toxiproxy, chaos (its command comes from scripts/compose.sh), observability
		}
		sub := svc.Command[0]
		if sub != "coordinator" && sub != "node" && sub != "proxy" {
			bad = append(bad, fmt.Sprintf("%s: subcommand %q", name, sub))
			continue
		}
		known := flags(sub)
		args, err := parseFlagArgs(svc.Command[1:])
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", name, err))
		}
		for f := range args {
			if !known[f] {
				bad = append(bad, fmt.Sprintf("%s: baton %s has no flag --%s", name, sub, f))
			}
		}
		for env := range svc.Environment {
			if f, ok := envFlag(env); ok && !known[f] && !ctl[f] {
				bad = append(bad, fmt.Sprintf("%s: %s is read by neither baton %s nor baton ctl", name, env, sub))
			}
		}
	}
	return bad
}

// TestComposeFlags: every baton command and BATON_ variable of
// docker-compose.yml is one the binary reads, and a misspelled flag or
// variable is caught.
func TestComposeFlags(t *testing.T) {
	data, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	flags := k8sFlags(t)
	if bad := checkComposeFlags(t, data, flags); len(bad) > 0 {
		t.Fatalf("docker-compose.yml:\n%s", strings.Join(bad, "\n"))
	}
	broken := strings.Replace(string(data), "--replication-addr", "--replica-addr", 1)
	broken = strings.Replace(broken, "BATON_LOG_LEVEL:", "BATON_LOGLEVEL:", 1)
	bad := checkComposeFlags(t, []byte(broken), flags)
	if len(bad) < 2 || !strings.Contains(strings.Join(bad, "\n"), "--replica-addr") ||
		!strings.Contains(strings.Join(bad, "\n"), "BATON_LOGLEVEL") {
		t.Fatalf("a broken copy gave %q, want the misspelled flag and variable reported", bad)
	}
}
