package chaos

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// composeFile is the part of docker-compose.yml the wiring test reads.
type composeFile struct {
	Services map[string]struct {
		Image       string   `yaml:"image"`
		Command     []string `yaml:"command"`
		Restart     string   `yaml:"restart"`
		Ports       []string `yaml:"ports"`
		Volumes     []string `yaml:"volumes"`
		Profiles    []string `yaml:"profiles"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// toxiLink is one proxy of deploy/compose/toxiproxy.json.
type toxiLink struct {
	Name, Listen, Upstream string
	Enabled                bool
}

// readComposeWiring reads docker-compose.yml and the toxiproxy links.
func readComposeWiring(t *testing.T) (composeFile, map[string]toxiLink) {
	t.Helper()
	var cf composeFile
	b, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	var links []toxiLink
	b, err = os.ReadFile("../deploy/compose/toxiproxy.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &links); err != nil {
		t.Fatalf("toxiproxy.json: %v", err)
	}
	byPort := map[string]toxiLink{}
	for _, l := range links {
		port := l.Listen[strings.LastIndex(l.Listen, ":")+1:]
		if _, dup := byPort[port]; dup || !strings.HasPrefix(l.Listen, "0.0.0.0:") || !l.Enabled {
			t.Errorf("link %+v: want a unique port on 0.0.0.0, enabled", l)
		}
		byPort[port] = l
	}
	return cf, byPort
}

// flagValue returns the value of --name in a command, "" if absent.
func flagValue(cmd []string, name string) string {
	if i := slices.Index(cmd, "--"+name); i >= 0 && i+1 < len(cmd) {
		return cmd[i+1]
	}
	return ""
}

// checkWiring checks that every address a member dials for another member
// is a toxiproxy link of the right kind, from the right member, to the
// right upstream, and that members and links are as the compose target
// expects. It returns the problems found.
func checkWiring(cf composeFile, byPort map[string]toxiLink) []string {
	var bad []string
	via := func(from, addr, wantName, wantUp string) {
		port, ok := strings.CutPrefix(addr, "toxiproxy:")
		l := byPort[port]
		if !ok || l.Name != wantName || l.Upstream != wantUp {
			bad = append(bad, fmt.Sprintf("%s dials %s: want link %s to %s, got %+v", from, addr, wantName, wantUp, l))
		}
	}
	for _, m := range composeMembers {
		svc, ok := cf.Services[m.id]
		if !ok || len(svc.Command) == 0 || svc.Command[0] != m.kind {
			bad = append(bad, fmt.Sprintf("service %s: want a %s", m.id, m.kind))
			continue
		}
		cmd := svc.Command
		switch m.kind {
		case KindCoordinator:
			for _, d := range strings.Split(flagValue(cmd, "raft-dial"), ",") {
				to, addr, _ := strings.Cut(d, "=")
				via(m.id, addr, m.id+"-"+to, to+":7000")
			}
			if n := len(strings.Split(flagValue(cmd, "raft-dial"), ",")); n != 2 {
				bad = append(bad, fmt.Sprintf("%s dials %d peers' Raft through toxiproxy, want 2", m.id, n))
			}
		case KindNode:
			via(m.id, flagValue(cmd, "advertise-addr"), m.id, m.id+":6379")
			via(m.id, flagValue(cmd, "replication-addr"), "repl-"+m.id, m.id+":6379")
			for i, addr := range strings.Split(flagValue(cmd, "coordinators"), ",") {
				c := fmt.Sprintf("c%d", i+1)
				via(m.id, addr, m.id+"-"+c, c+":7379")
			}
		case KindProxy:
			for i, addr := range strings.Split(flagValue(cmd, "coordinators"), ",") {
				c := fmt.Sprintf("c%d", i+1)
				via(m.id, addr, m.id+"-"+c, c+":7379")
			}
		}
		if svc.Restart == "" || !slices.Equal(svc.Healthcheck.Test, []string{"CMD", "/baton", "healthcheck"}) {
			bad = append(bad, fmt.Sprintf("%s: restart %q, healthcheck %v", m.id, svc.Restart, svc.Healthcheck.Test))
		}
	}
	return bad
}

// Test_Compose_EveryLinkThroughToxiproxy: in docker-compose.yml every
// member reaches every other member through its own toxiproxy link
// (Raft, node → coordinator, proxy → coordinator, replication, proxy and
// coordinators → node), as the compose chaos target reads the links.
func Test_Compose_EveryLinkThroughToxiproxy(t *testing.T) {
	cf, byPort := readComposeWiring(t)
	for _, p := range checkWiring(cf, byPort) {
		t.Error(p)
	}
	kinds := map[string]int{}
	for _, l := range byPort {
		kind, _, _, err := parseLinkName(l.Name)
		if err != nil {
			t.Error(err)
		}
		kinds[kind]++
	}
	want := map[string]int{LinkClient: 2, LinkRaft: 6, LinkNode: 3, LinkReplication: 3, LinkNodeCoord: 9, LinkProxyCoord: 6}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("links by kind %v, want %v", kinds, want)
	}
	if l := byPort[strings.TrimPrefix(composeClient, "toxiproxy:")]; l.Name != "client-proxy1" {
		t.Errorf("the runner's client address %s is link %+v, want client-proxy1", composeClient, l)
	}
}

// Test_Compose_WiringCheckCatchesABypass: a node that dials a coordinator
// directly, or through another node's link, is reported.
func Test_Compose_WiringCheckCatchesABypass(t *testing.T) {
	cf, byPort := readComposeWiring(t)
	n2 := cf.Services["n2"]
	cmd := slices.Clone(n2.Command)
	cmd[slices.Index(cmd, "--coordinators")+1] = "c1:7379,toxiproxy:7322,toxiproxy:7333"
	n2.Command = cmd
	cf.Services["n2"] = n2
	bad := checkWiring(cf, byPort)
	if len(bad) != 2 || !strings.Contains(bad[0], "c1:7379") || !strings.Contains(bad[1], "toxiproxy:7333") {
		t.Fatalf("problems %q, want the direct dial and the wrong link of n2", bad)
	}
}

// Test_Compose_AppliancePieces: named volumes for every node and
// coordinator, proxies published on loopback only, toxiproxy with its
// healthcheck, and the chaos and observability services behind profiles.
func Test_Compose_AppliancePieces(t *testing.T) {
	cf, _ := readComposeWiring(t)
	for _, m := range composeMembers {
		svc := cf.Services[m.id]
		if m.kind != KindProxy {
			vol, _, _ := strings.Cut(svc.Volumes[0], ":")
			if _, ok := cf.Volumes[vol]; !ok {
				t.Errorf("%s keeps its data in %q, want a named volume", m.id, svc.Volumes[0])
			}
			continue
		}
		if len(svc.Ports) != 1 || !strings.Contains(svc.Ports[0], "127.0.0.1:") {
			t.Errorf("%s publishes %v, want one port on 127.0.0.1", m.id, svc.Ports)
		}
	}
	if tp := cf.Services["toxiproxy"]; len(tp.Healthcheck.Test) < 3 || tp.Healthcheck.Test[1] != "/baton" {
		t.Errorf("toxiproxy healthcheck %v", tp.Healthcheck.Test)
	}
	for svc, profile := range map[string]string{"chaos": "chaos", "prometheus": "observability", "grafana": "observability"} {
		if !slices.Equal(cf.Services[svc].Profiles, []string{profile}) {
			t.Errorf("service %s has profiles %v, want [%s]", svc, cf.Services[svc].Profiles, profile)
		}
	}
}
