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
