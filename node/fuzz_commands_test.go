package node

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/tidwall/redcon"
)

// fuzzSkip are commands the in-process command fuzzer does not run: they act
// on the connection or the process (detaching, closing, shutting down)
// rather than on the keyspace, and need a real socket.
var fuzzSkip = map[string]bool{
	"subscribe": true, "psubscribe": true, "unsubscribe": true, "punsubscribe": true,
	"quit": true, "shutdown": true, "client": true, "debug": true, "reset": true,
	"save": true, "bgsave": true, "monitor": true, "hello": true, "auth": true,
}

// newFuzzServer returns a memory-only node for in-process command runs.
func newFuzzServer(t testing.TB) *Server {
	t.Helper()
	s, err := New(Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// runCommand executes args on s as cl and returns the raw reply bytes. A
// command that would block is unparked at once (nil reply bytes).
func runCommand(s *Server, cl *client, args [][]byte) []byte {
	w := redcon.NewWriter(nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	if blocked := s.call(cl, w, args, false); blocked != nil {
		s.unregisterWaiter(blocked)
		return nil
	}
	return w.Buffer()
}

// parseScript splits a fuzz input into commands (lines) of space-separated
// arguments.
func parseScript(data []byte) [][][]byte {
	var cmds [][][]byte
	for _, line := range bytes.Split(data, []byte("\n")) {
		args := bytes.Fields(line)
		if len(args) == 0 || len(cmds) == 64 {
			continue
		}
		if fuzzSkip[strings.ToLower(string(args[0]))] {
			continue
		}
		cmds = append(cmds, args)
	}
	return cmds
}

// FuzzCommands runs arbitrary command sequences through the dispatcher and
// checks three invariants: no panic; every command replies exactly one
// well-formed RESP value (or blocks, with no reply); and replaying the
// journal the run produced onto an empty node reproduces the same dataset
// (DIGEST equal), i.e. every write is journaled in a deterministic form.
func FuzzCommands(f *testing.F) {
	for _, seed := range fuzzSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cmds := parseScript(data)
		if len(cmds) == 0 {
			return
		}
		live := newFuzzServer(t)
		log := tapJournal(live)
		cl := authedClient()
		for _, args := range cmds {
			reply := runCommand(live, cl, args)
			if reply == nil {
				continue
			}
			n, resp := redcon.ReadNextRESP(reply)
			if n == 0 || n != len(reply) {
				t.Fatalf("%q replied %q: want exactly one RESP value (parsed %d of %d bytes, type %q)",
					args, reply, n, len(reply), resp.Type)
			}
		}
		log.checkReplay(t, live)
	})
}

// fuzzSeeds cover every command family, including the commands whose
// journal form differs from what the client sent.
var fuzzSeeds = []string{
	"SET a 1\nINCR a\nINCRBY a 5\nDECR a\nGET a\nAPPEND a xyz\nSETRANGE a 10 q\nGETRANGE a 0 -1",
	"SET a 1 EX 100\nSET b 2 PX 100000 NX\nSET a 3 KEEPTTL GET\nSETEX c 10 v\nPSETEX d 10000 v\nGETEX a PX 5000\nGETEX b PERSIST\nTTL a",
	"INCRBYFLOAT f 1.5\nINCRBYFLOAT f 0.1\nMSET x 1 y 2\nMSETNX y 3 z 4\nGETDEL x\nGETSET y 9\nSTRLEN y",
	"SET k v\nEXPIRE k 100\nPEXPIRE k 100000 GT\nEXPIREAT k 4102444800\nPERSIST k\nEXPIRE k -1\nEXISTS k",
	"SET a 1\nRENAME a b\nRENAMENX b c\nDEL c\nUNLINK b\nFLUSHALL\nDBSIZE",
	"HSET h a 1 b 2\nHINCRBY h a 3\nHINCRBYFLOAT h c 1.25\nHDEL h b\nHSETNX h d 4\nHGETALL h",
	"RPUSH l a b c\nLPUSH l z\nLPOP l\nRPOP l 2\nLINSERT l BEFORE b x\nLSET l 0 y\nLREM l 0 y\nLTRIM l 0 5\nLMOVE l m LEFT RIGHT\nBLPOP m 0.01\nBRPOP empty 0.01",
	"SADD s a b c d e\nSPOP s\nSPOP s 2\nSREM s a\nSADD t c d\nSINTERSTORE u s t\nSUNIONSTORE u s t\nSDIFFSTORE u s t\nSMOVE s t e",
	"ZADD z 1 a 2 b 3 c\nZINCRBY z 2 a\nZADD z INCR 5 b\nZADD z GT CH 0 c\nZPOPMIN z\nZPOPMAX z\nZREMRANGEBYSCORE z -inf 1\nZREMRANGEBYRANK z 0 0",
	"MULTI\nSET a 1\nINCR a\nLPUSH l x\nEXEC\nWATCH a\nMULTI\nDEL a\nEXEC",
	"SET a x\nINCR a\nLPUSH a x\nHSET a f v\nSADD a m\nZADD a 1 m\nGET nokey\nNOSUCHCMD x",
}

func Test_Fuzz_SeedsAreMeaningful(t *testing.T) {
	// Every seed must survive the parser with commands left to run, or
	// the corpus silently tests nothing.
	for _, seed := range fuzzSeeds {
		if len(parseScript([]byte(seed))) == 0 {
			t.Fatalf("seed %q parses to no commands", seed)
		}
	}
}
