package repl

import "testing"

// Test_Metrics_ReplicaNamesUnique: replicas that announce the same ip:port
// (containers behind one toxiproxy) get distinct labels, so /metrics does
// not fail with duplicate series; a lone replica keeps ip:port.
func Test_Metrics_ReplicaNamesUnique(t *testing.T) {
	a := &Peer{Addr: "172.25.0.2:40001", IP: "172.25.0.2", Port: 6379}
	b := &Peer{Addr: "172.25.0.2:40002", IP: "172.25.0.2", Port: 6379}
	c := &Peer{Addr: "10.0.0.9:51000", IP: "10.0.0.9", Port: 6380}
	names := Names([]*Peer{a, b, c})
	if names[a] != "172.25.0.2:40001" || names[b] != "172.25.0.2:40002" || names[c] != "10.0.0.9:6380" {
		t.Fatalf("replica names %v", names)
	}
}
