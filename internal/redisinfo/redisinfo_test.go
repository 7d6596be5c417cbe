package redisinfo

import "testing"

func Test_Parse(t *testing.T) {
	got := Parse("# Replication\r\nrole:slave\r\nmaster_link_status:up\r\n\r\nslave0:ip=1.2.3.4,port=5\r\n")
	want := map[string]string{"role": "slave", "master_link_status": "up", "slave0": "ip=1.2.3.4,port=5"}
	if len(got) != len(want) {
		t.Fatalf("Parse = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("Parse[%q] = %q, want %q", k, got[k], v)
		}
	}
}

func Test_CountPendingOutput(t *testing.T) {
	list := "id=1 addr=a omem=0 cmd=get\nid=2 addr=b omem=8388608 cmd=get\nid=3 addr=c omem=1048575 cmd=get\nid=4 addr=d omem=1048576 cmd=client\n"
	if got := CountPendingOutput(list, 1<<20); got != 2 {
		t.Fatalf("CountPendingOutput = %d, want 2 (ids 2 and 4)", got)
	}
	if got := CountPendingOutput(list, 1); got != 3 {
		t.Fatalf("CountPendingOutput(min 1) = %d, want 3", got)
	}
}
