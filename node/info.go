package node

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/batonkv/baton/node/keyspace"
)

// Version is Baton's version, reported by INFO as baton_version.
const Version = "0.1.0"

// infoSection is one INFO section: its name and a function adding its
// fields. defaults marks sections of plain INFO; the rest come with
// "all" or "everything" or by name.
type infoSection struct {
	name     string
	defaults bool
	fill     func(s *Server, now time.Time, add func(k, v string))
}

// infoSections are INFO's sections in Redis' order.
var infoSections = []infoSection{
	{"Server", true, infoServer},
	{"Clients", true, infoClients},
	{"Memory", true, infoMemory},
	{"Persistence", true, infoPersistence},
	{"Stats", true, infoStats},
	{"Replication", true, infoReplication},
	{"CPU", true, infoCPU},
	{"Modules", true, nil},
	{"Commandstats", false, nil},
	{"Errorstats", true, nil},
	{"Latencystats", false, nil},
	{"Cluster", true, func(_ *Server, _ time.Time, add func(k, v string)) { add("cluster_enabled", "0") }},
	{"Keyspace", true, infoKeyspace},
}

// cmdInfo: INFO [section ...] replies the server's state as "# Section"
// blocks of "field:value" lines, as Redis does.
func (s *Server) cmdInfo(c *keyspace.Ctx) {
	want := map[string]bool{}
	all, defaults := false, len(c.Args) == 1
	for _, a := range c.Args[1:] {
		switch sec := strings.ToLower(string(a)); sec {
		case "all", "everything":
			all = true
		case "default":
			defaults = true
		default:
			want[sec] = true
		}
	}
	c.W.WriteBulkString(s.infoString(time.Now(), want, all, defaults))
}

// infoString renders the selected sections.
func (s *Server) infoString(now time.Time, want map[string]bool, all, defaults bool) string {
	var b strings.Builder
	add := func(k, v string) {
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(v)
		b.WriteString("\r\n")
	}
	n := 0
	for _, sec := range infoSections {
		if !all && !(defaults && sec.defaults) && !want[strings.ToLower(sec.name)] {
			continue
		}
		if n > 0 {
			b.WriteString("\r\n")
		}
		n++
		b.WriteString("# " + sec.name + "\r\n")
		if sec.fill != nil {
			sec.fill(s, now, add)
		}
	}
	return b.String()
}

// runID returns the node's 40-hex run id, fixed for the process's life.
func (s *Server) runID() string {
	s.admin.runIDOnce.Do(func() {
		var b [20]byte
		rand.Read(b[:])
		s.admin.runID = hex.EncodeToString(b[:])
	})
	return s.admin.runID
}

// infoServer fills INFO server.
func infoServer(s *Server, now time.Time, add func(k, v string)) {
	_, port := s.listenHostPort()
	exe, _ := os.Executable()
	up := now.Sub(s.start)
	add("redis_version", redisVersion)
	add("baton_version", Version)
	add("redis_git_sha1", "00000000")
	add("redis_git_dirty", "0")
	add("redis_build_id", "0")
	add("redis_mode", "standalone")
	add("os", runtime.GOOS+" "+runtime.GOARCH)
	add("arch_bits", strconv.Itoa(strconv.IntSize))
	add("go_version", runtime.Version())
	add("process_id", strconv.Itoa(os.Getpid()))
	add("process_supervised", "no")
	add("run_id", s.runID())
	add("tcp_port", port)
	add("server_time_usec", keyspace.Itoa(now.UnixMicro()))
	add("uptime_in_seconds", keyspace.Itoa(int64(up/time.Second)))
	add("uptime_in_days", keyspace.Itoa(int64(up/(24*time.Hour))))
	add("hz", "10")
	add("configured_hz", "10")
	add("executable", exe)
	add("config_file", "")
	add("io_threads_active", "0")
}

// infoClients fills INFO clients.
func infoClients(s *Server, _ time.Time, add func(k, v string)) {
	s.clientsMu.Lock()
	connected := len(s.clients)
	s.clientsMu.Unlock()
	blocked := map[*waiter]bool{}
	for _, ws := range s.blocked {
		for _, w := range ws {
			blocked[w] = true
		}
	}
	add("connected_clients", strconv.Itoa(connected))
	add("cluster_connections", "0")
	add("maxclients", strconv.Itoa(s.cfg.MaxClients))
	add("client_recent_max_input_buffer", "0")
	add("client_recent_max_output_buffer", "0")
	add("blocked_clients", strconv.Itoa(len(blocked)))
	add("tracking_clients", "0")
	add("clients_in_timeout_table", "0")
}

// bytesToHuman formats n like Redis' INFO *_human fields.
func bytesToHuman(n uint64) string {
	f := float64(n)
	for _, u := range []struct {
		size float64
		unit string
	}{{1 << 50, "P"}, {1 << 40, "T"}, {1 << 30, "G"}, {1 << 20, "M"}, {1 << 10, "K"}} {
		if f >= u.size {
			return fmt.Sprintf("%.2f%s", f/u.size, u.unit)
		}
	}
	return strconv.FormatUint(n, 10) + "B"
}

// infoMemory fills INFO memory from the Go runtime's statistics.
func infoMemory(s *Server, _ time.Time, add func(k, v string)) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	used := ms.HeapAlloc
	peak := s.admin.memPeak.Load()
	for used > peak && !s.admin.memPeak.CompareAndSwap(peak, used) {
		peak = s.admin.memPeak.Load()
	}
	peak = max(peak, used)
	add("used_memory", strconv.FormatUint(used, 10))
	add("used_memory_human", bytesToHuman(used))
	add("used_memory_rss", strconv.FormatUint(ms.Sys, 10))
	add("used_memory_rss_human", bytesToHuman(ms.Sys))
	add("used_memory_peak", strconv.FormatUint(peak, 10))
	add("used_memory_peak_human", bytesToHuman(peak))
	add("maxmemory", "0")
	add("maxmemory_human", "0B")
	add("maxmemory_policy", "noeviction")
	add("mem_allocator", "go-"+runtime.Version())
	add("go_gc_cycles", strconv.FormatUint(uint64(ms.NumGC), 10))
}

// okErr formats a last-operation status as Redis does.
func okErr(ok bool) string {
	if ok {
		return "ok"
	}
	return "err"
}

// infoPersistence fills INFO persistence: snapshots as Redis' rdb fields,
// the journal as its aof fields, plus the journal's history and LSN.
func infoPersistence(s *Server, _ time.Time, add func(k, v string)) {
	p := s.Persistence()
	add("loading", "0")
	add("async_loading", "0")
	add("rdb_changes_since_last_save", strconv.FormatUint(p.ChangesSinceLastSave, 10))
	add("rdb_bgsave_in_progress", boolInt(p.SaveInProgress))
	add("rdb_last_save_time", keyspace.Itoa(p.LastSaveTime))
	add("rdb_last_bgsave_status", okErr(p.LastSaveOK))
	add("aof_enabled", boolInt(s.cfg.DataDir != ""))
	add("aof_rewrite_in_progress", "0")
	add("aof_last_write_status", "ok")
	add("baton_journal_replid", p.Replid)
	add("baton_journal_lsn", strconv.FormatUint(p.LSN, 10))
	add("baton_journal_fsync", string(s.cfg.Fsync))
	add("baton_journal_fsyncs", keyspace.Itoa(p.JournalFsyncs))
}

// boolInt formats a boolean as 1 or 0.
func boolInt(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// infoStats fills INFO stats.
func infoStats(s *Server, _ time.Time, add func(k, v string)) {
	st := &s.stats
	add("total_connections_received", keyspace.Itoa(st.connections.Load()))
	add("total_commands_processed", keyspace.Itoa(st.commands.Load()))
	add("instantaneous_ops_per_sec", "0")
	add("rejected_connections", keyspace.Itoa(st.rejectedConns.Load()))
	add("expired_keys", keyspace.Itoa(st.expiredKeys.Load()))
	add("evicted_keys", "0")
	add("keyspace_hits", keyspace.Itoa(st.keyspaceHits.Load()))
	add("keyspace_misses", keyspace.Itoa(st.keyspaceMisses.Load()))
	add("sync_full", keyspace.Itoa(st.syncFull.Load()))
	add("sync_partial_ok", keyspace.Itoa(st.syncPartialOK.Load()))
	add("sync_partial_err", keyspace.Itoa(st.syncPartialErr.Load()))
	add("baton_divergent_tails", keyspace.Itoa(s.repl.divergentTails.Load()))
	add("baton_divergent_entries_discarded", keyspace.Itoa(s.repl.divergentEntries.Load()))
}

// infoCPU fills INFO cpu from getrusage.
func infoCPU(_ *Server, _ time.Time, add func(k, v string)) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return
	}
	secs := func(tv syscall.Timeval) string {
		return fmt.Sprintf("%d.%06d", tv.Sec, tv.Usec)
	}
	add("used_cpu_sys", secs(ru.Stime))
	add("used_cpu_user", secs(ru.Utime))
}

// infoKeyspace fills INFO keyspace: db0 when it holds keys.
func infoKeyspace(s *Server, _ time.Time, add func(k, v string)) {
	if n := s.db.Size(); n > 0 {
		add("db0", fmt.Sprintf("keys=%d,expires=%d,avg_ttl=0", n, len(s.db.Expires)))
	}
}
