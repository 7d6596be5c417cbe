package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strconv"
	"strings"
)

// On-disk format of a segment file (all integers little-endian):
//
//	header (64 bytes):
//	  magic    [8]byte "BATONJNL"
//	  version  u32     (1)
//	  replid   [40]byte lower-case hex
//	  firstLSN u64     LSN of the segment's first record
//	  crc      u32     crc32c of the 60 bytes before it
//	records, back to back:
//	  length   u32     payload length
//	  crc      u32     crc32c of the payload
//	  payload:
//	    lsn    u64
//	    argc   u32
//	    argc × (len u32, bytes)
//
// Segments are named journal-<firstLSN, 20 digits>.log so that the name
// order is the LSN order.

const (
	headerMagic   = "BATONJNL"
	formatVersion = 1
	headerSize    = 8 + 4 + 40 + 8 + 4
	recordHead    = 8 // length + crc
	// minPayload is an entry with no arguments: lsn + argc.
	minPayload = 8 + 4

	segmentPrefix = "journal-"
	segmentSuffix = ".log"
	tmpSuffix     = ".tmp"
)

// castagnoli is the crc32c table used for headers and records.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Decoding errors. A record that fails to decode is either a torn tail (cut
// off at recovery) or corruption (refused); the caller decides which from
// its position.
var (
	// ErrCorrupt wraps every decoding failure of a journal file.
	ErrCorrupt = errors.New("journal: corrupt")
	// errShort means the data ends inside a header or record.
	errShort = fmt.Errorf("%w: truncated", ErrCorrupt)
)

// header is a segment file's header.
type header struct {
	Replid   string
	FirstLSN uint64
}

// appendHeader appends h's encoding to b.
func appendHeader(b []byte, h header) []byte {
	start := len(b)
	b = append(b, headerMagic...)
	b = binary.LittleEndian.AppendUint32(b, formatVersion)
	var id [40]byte
	copy(id[:], h.Replid)
	b = append(b, id[:]...)
	b = binary.LittleEndian.AppendUint64(b, h.FirstLSN)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// decodeHeader parses a segment header from the start of b.
func decodeHeader(b []byte) (header, error) {
	if len(b) < headerSize {
		return header{}, errShort
	}
	if string(b[:8]) != headerMagic {
		return header{}, fmt.Errorf("%w: bad magic %q", ErrCorrupt, b[:8])
	}
	if crc := binary.LittleEndian.Uint32(b[60:64]); crc != crc32.Checksum(b[:60], castagnoli) {
		return header{}, fmt.Errorf("%w: header checksum mismatch", ErrCorrupt)
	}
	if v := binary.LittleEndian.Uint32(b[8:12]); v != formatVersion {
		return header{}, fmt.Errorf("%w: unsupported version %d", ErrCorrupt, v)
	}
	h := header{Replid: string(b[12:52]), FirstLSN: binary.LittleEndian.Uint64(b[52:60])}
	if !ValidReplid(h.Replid) {
		return header{}, fmt.Errorf("%w: bad replication id %q", ErrCorrupt, h.Replid)
	}
	if h.FirstLSN == 0 {
		return header{}, fmt.Errorf("%w: first LSN 0", ErrCorrupt)
	}
	return h, nil
}

// ValidReplid reports whether id is 40 lower-case hex digits.
func ValidReplid(id string) bool {
	if len(id) != 40 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// appendRecord appends the encoding of entry (lsn, args) to b.
func appendRecord(b []byte, lsn uint64, args [][]byte) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0) // length and crc, filled below
	b = binary.LittleEndian.AppendUint64(b, lsn)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(args)))
	for _, a := range args {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(a)))
		b = append(b, a...)
	}
	payload := b[start+recordHead:]
	binary.LittleEndian.PutUint32(b[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(payload, castagnoli))
	return b
}

// recordLen returns the payload length in a record head, checking that it
// could be a record at all.
func recordLen(head []byte) (int, error) {
	n := binary.LittleEndian.Uint32(head)
	if n < minPayload {
		return 0, fmt.Errorf("%w: record length %d below minimum", ErrCorrupt, n)
	}
	return int(n), nil
}

// decodePayload checks a payload against its crc and parses it. The
// returned args alias payload.
func decodePayload(crc uint32, payload []byte) (Entry, error) {
	if crc32.Checksum(payload, castagnoli) != crc {
		return Entry{}, fmt.Errorf("%w: record checksum mismatch", ErrCorrupt)
	}
	lsn := binary.LittleEndian.Uint64(payload)
	argc := binary.LittleEndian.Uint32(payload[8:])
	rest := payload[minPayload:]
	if uint64(argc) > uint64(len(rest)/4) {
		return Entry{}, fmt.Errorf("%w: argument count %d exceeds record", ErrCorrupt, argc)
	}
	args := make([][]byte, argc)
	for i := range args {
		if len(rest) < 4 {
			return Entry{}, fmt.Errorf("%w: argument %d truncated", ErrCorrupt, i)
		}
		n := binary.LittleEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return Entry{}, fmt.Errorf("%w: argument %d length %d exceeds record", ErrCorrupt, i, n)
		}
		args[i] = rest[:n:n]
		rest = rest[n:]
	}
	if len(rest) != 0 {
		return Entry{}, fmt.Errorf("%w: %d trailing bytes in record", ErrCorrupt, len(rest))
	}
	if lsn == 0 {
		return Entry{}, fmt.Errorf("%w: record LSN 0", ErrCorrupt)
	}
	return Entry{LSN: lsn, Args: args}, nil
}

// decodeRecord decodes the record at the start of b, returning the entry
// and the record's size. errShort means b ends inside the record.
func decodeRecord(b []byte) (Entry, int, error) {
	if len(b) < recordHead {
		return Entry{}, 0, errShort
	}
	n, err := recordLen(b)
	if err != nil {
		return Entry{}, 0, err
	}
	if len(b)-recordHead < n {
		return Entry{}, 0, errShort
	}
	e, err := decodePayload(binary.LittleEndian.Uint32(b[4:]), b[recordHead:recordHead+n])
	if err != nil {
		return Entry{}, 0, err
	}
	return e, recordHead + n, nil
}

// segmentName is the file name of the segment starting at first.
func segmentName(first uint64) string {
	return fmt.Sprintf("%s%020d%s", segmentPrefix, first, segmentSuffix)
}

// parseSegmentName returns the first LSN encoded in a segment file name.
func parseSegmentName(name string) (uint64, bool) {
	name = filepath.Base(name)
	if !strings.HasPrefix(name, segmentPrefix) || !strings.HasSuffix(name, segmentSuffix) {
		return 0, false
	}
	digits := strings.TrimSuffix(strings.TrimPrefix(name, segmentPrefix), segmentSuffix)
	if len(digits) != 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil
}
