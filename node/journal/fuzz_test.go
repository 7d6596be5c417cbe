package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"os"
	"testing"

	"github.com/batonkv/baton/internal/testutil"
)

// FuzzJournalDecode feeds arbitrary bytes to the segment decoder. It must
// never panic, and every record it accepts must be exactly what the encoder
// produces for that entry at that position (so garbage is only ever
// accepted where crc32c cannot tell it apart).
func FuzzJournalDecode(f *testing.F) {
	f.Add(validSegment(3))
	f.Add(validSegment(0))
	f.Fuzz(func(t *testing.T, data []byte) {
		off := int64(headerSize)
		var prev uint64
		first := true
		sc, err := scanSegment(bytes.NewReader(data), int64(len(data)), func(e Entry) error {
			enc := appendRecord(nil, e.LSN, e.Args)
			if end := off + int64(len(enc)); end > int64(len(data)) || !bytes.Equal(enc, data[off:end]) {
				t.Fatalf("record at %d decoded to %v, which does not re-encode to the input", off, e)
			}
			if !first && e.LSN != prev+1 {
				t.Fatalf("LSN %d accepted after %d", e.LSN, prev)
			}
			first, prev = false, e.LSN
			off += int64(len(enc))
			return nil
		})
		if err != nil {
			return
		}
		if sc.end != off || sc.end > int64(len(data)) {
			t.Fatalf("end %d, decoded up to %d of %d", sc.end, off, len(data))
		}
		if sc.bad == nil && sc.end != int64(len(data)) {
			t.Fatalf("clean end at %d of %d bytes", sc.end, len(data))
		}
		if sc.bad != nil {
			validRecordAfter(data[sc.end:], sc.last)
		}
		// The byte-slice decoders agree with the streaming one.
		if len(data) >= headerSize {
			rest := data[headerSize:]
			for len(rest) > 0 {
				_, n, err := decodeRecord(rest)
				if err != nil {
					break
				}
				rest = rest[n:]
			}
			whole := len(data) - headerSize - len(rest)
			n, err := DecodeRecords(data[headerSize:], func(Entry) error { return nil })
			if n != whole || (err == nil) != (len(rest) == 0) || (err != nil && !errors.Is(err, ErrCorrupt)) {
				t.Fatalf("DecodeRecords consumed %d (%v), the record decoder %d of %d", n, err, whole, len(data)-headerSize)
			}
		}
	})
}

// validSegment is a segment with n test entries.
func validSegment(n int) []byte {
	b := appendHeader(nil, header{Replid: "0123456789abcdef0123456789abcdef01234567", FirstLSN: 1})
	for i := 1; i <= n; i++ {
		b = appendRecord(b, uint64(i), entryArgs(i))
	}
	return b
}

// Test_Journal_WriteFuzzSeeds regenerates the checked-in seed corpus when
// BATON_WRITE_SEEDS=1 (it is skipped otherwise).
func Test_Journal_WriteFuzzSeeds(t *testing.T) {
	if os.Getenv("BATON_WRITE_SEEDS") != "1" {
		t.Skip("set BATON_WRITE_SEEDS=1 to regenerate testdata/fuzz/FuzzJournalDecode")
	}
	seg := validSegment(4)
	lastLen := len(appendRecord(nil, 4, entryArgs(4)))
	flipped := bytes.Clone(seg)
	flipped[len(seg)-lastLen/2] ^= 1
	mid := bytes.Clone(seg)
	mid[headerSize+10] ^= 0x80
	badHeader := bytes.Clone(seg)
	badHeader[20] = 'Z'
	seeds := map[string][]byte{
		"valid-4":        seg,
		"valid-empty":    validSegment(0),
		"torn-tail":      seg[:len(seg)-3],
		"torn-head":      seg[:len(seg)-lastLen+5],
		"flipped-tail":   flipped,
		"flipped-middle": mid,
		"bad-header":     badHeader,
		"short-header":   seg[:headerSize-1],
		"huge-argc":      hugeArgc(),
	}
	testutil.WriteFuzzSeeds(t, "FuzzJournalDecode", seeds)
}

// hugeArgc is a segment whose one record claims 2^32-1 arguments (with a
// valid checksum), which must not make the decoder allocate them.
func hugeArgc() []byte {
	payload := binary.LittleEndian.AppendUint64(nil, 1)
	payload = binary.LittleEndian.AppendUint32(payload, math.MaxUint32)
	rec := binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))
	rec = binary.LittleEndian.AppendUint32(rec, crc32.Checksum(payload, castagnoli))
	return append(append(validSegment(0), rec...), payload...)
}
