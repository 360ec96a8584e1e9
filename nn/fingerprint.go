package nn

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
)

// DataSHA256 returns the hex SHA-256 of a data set's content: its name,
// shape, inputs (float32 bits), labels and, for a subset, the indices of
// its samples in the full set. It names the samples an analysis used (the
// shards of one analysis must agree on it) whatever folder they came from.
// A nil data set hashes as an empty one; a data set that Dataset.Check
// refuses (say, an Index of another length than Y) hashes too.
func DataSHA256(data *Dataset) string {
	if data == nil {
		data = &Dataset{}
	}
	h := sha256.New()
	var buf [8]byte
	fmt.Fprintf(h, "%s %d %d %d %d;", data.Name, data.N, data.C, data.H, data.W)
	// The inputs (tens of MB) in 64 KiB writes: the same bytes as one
	// 4-byte write per value, without a call per value.
	chunk := make([]byte, 0, 64<<10)
	for _, v := range data.X {
		chunk = binary.LittleEndian.AppendUint32(chunk, math.Float32bits(v))
		if len(chunk) == cap(chunk) {
			h.Write(chunk)
			chunk = chunk[:0]
		}
	}
	h.Write(chunk)
	for i, y := range data.Y {
		binary.LittleEndian.PutUint64(buf[:], uint64(y))
		h.Write(buf[:])
		if i < len(data.Index) {
			binary.LittleEndian.PutUint64(buf[:], uint64(data.Index[i]))
			h.Write(buf[:])
		}
	}
	// An Index of another length than Y (a data set that Check refuses)
	// still hashes, each entry once, rather than panicking.
	for _, s := range data.Index[min(len(data.Index), len(data.Y)):] {
		binary.LittleEndian.PutUint64(buf[:], uint64(s))
		h.Write(buf[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Fingerprint returns the hex SHA-256 of the DataSHA256 of each data set,
// in order (a nil set counts as absent): what a run read, a training and
// a test set say, whatever folder they came from. A folder that moved
// keeps its fingerprint; other files in its place change it.
func Fingerprint(sets ...*Dataset) string {
	h := sha256.New()
	for _, d := range sets {
		if d == nil {
			fmt.Fprint(h, "nil;")
			continue
		}
		fmt.Fprintf(h, "%s;", DataSHA256(d))
	}
	return hex.EncodeToString(h.Sum(nil))
}
