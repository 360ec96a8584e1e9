package awd

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The encoding of a State inside a partial-analysis file (see
// accumulation_file.go), so that shards accumulated on other machines merge.
// Little-endian:
//
//	magic      8 bytes  "AWDSTATE"
//	version    uint32   StateVersion
//	ints       9 x int64: M, In, Pair2 (0/1), Chunk, Count, PairCount, ZeroA, Batches, hasMB (0/1)
//	floats     2 x float64: SumDTheta2, LocMax
//	arrays     float64: kron (3 T(M) x T(In)), pair (T(M) x T(In)), pair2 (d x d, if Pair2),
//	           mb (d x d, if hasMB), SumG (d), SumGB (d);  T(k) = k(k+1)/2, d = M In
//	checksum   SHA-256 of everything before it
//
// The array lengths follow from the header, so the reader checks the file
// size before it allocates anything.

// StateVersion is the schema version of the partial-state file.
const StateVersion = 1

const stateMagic = "AWDSTATE"

// maxStateDim bounds M and In in a file (a d x d matrix of d = 2^16 would
// already be 32 GiB).
const maxStateDim = 1 << 16

// ErrStateFormat is wrapped by every error about a malformed state file.
var ErrStateFormat = errors.New("not a valid awd state file")

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (s *State) encode() []byte {
	d := s.D()
	size := 8 + 4 + 9*8 + 2*8 + 8*(len(s.kron.g.Data)+len(s.pair.g.Data)+len(s.pair2.Data)+len(s.mb.Data)+2*d) + sha256.Size
	buf := make([]byte, 0, size)
	buf = append(buf, stateMagic...)
	buf = binary.LittleEndian.AppendUint32(buf, StateVersion)
	for _, v := range []int64{int64(s.M), int64(s.In), b2i(s.Opt.Pair2), int64(s.Opt.Chunk), int64(s.Count), int64(s.PairCount), int64(s.ZeroA), int64(s.Batches), b2i(s.mb.Data != nil)} {
		buf = binary.LittleEndian.AppendUint64(buf, uint64(v))
	}
	for _, arr := range [][]float64{{s.SumDTheta2, s.LocMax}, s.kron.g.Data, s.pair.g.Data, s.pair2.Data, s.mb.Data, s.SumG, s.SumGB} {
		for _, v := range arr {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
		}
	}
	sum := sha256.Sum256(buf)
	return append(buf, sum[:]...)
}

func decodeState(data []byte) (*State, error) {
	const head = 8 + 4 + 9*8 + 2*8
	if len(data) < head+sha256.Size {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrStateFormat, len(data), head+sha256.Size)
	}
	if string(data[:8]) != stateMagic {
		return nil, fmt.Errorf("%w: magic %q, want %q", ErrStateFormat, data[:8], stateMagic)
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != StateVersion {
		return nil, fmt.Errorf("%w: schema version %d, this build reads %d", ErrStateFormat, v, StateVersion)
	}
	var h [9]int64
	names := [9]string{"M", "In", "pair2", "chunk", "count", "pair count", "zero-a count", "batches", "has-mb"}
	for i := range h {
		h[i] = int64(binary.LittleEndian.Uint64(data[12+8*i:]))
	}
	if h[0] < 1 || h[0] > maxStateDim || h[1] < 1 || h[1] > maxStateDim {
		return nil, fmt.Errorf("%w: layer %dx%d outside [1, %d]", ErrStateFormat, h[0], h[1], maxStateDim)
	}
	for _, i := range []int{2, 8} {
		if h[i] != 0 && h[i] != 1 {
			return nil, fmt.Errorf("%w: field %s = %d, want 0 or 1", ErrStateFormat, names[i], h[i])
		}
	}
	if h[3] < 1 {
		return nil, fmt.Errorf("%w: field chunk = %d, want >= 1", ErrStateFormat, h[3])
	}
	for i := 3; i < 8; i++ {
		if h[i] < 0 || h[i] > math.MaxInt32*int64(1<<16) {
			return nil, fmt.Errorf("%w: field %s = %d", ErrStateFormat, names[i], h[i])
		}
	}
	m, in := int(h[0]), int(h[1])
	d := int64(m) * int64(in)
	want := int64(head) + 8*(int64(nBlocks+1)*int64(triLen(m))*int64(triLen(in))+2*d) + sha256.Size
	if h[2] == 1 {
		want += 8 * d * d
	}
	if h[8] == 1 {
		want += 8 * d * d
	}
	if int64(len(data)) != want {
		return nil, fmt.Errorf("%w: %d bytes, the header (layer %dx%d, pair2=%d, mb=%d) says %d", ErrStateFormat, len(data), m, in, h[2], h[8], want)
	}
	body := data[:len(data)-sha256.Size]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], data[len(body):]) {
		return nil, fmt.Errorf("%w: checksum mismatch (file damaged or truncated and padded)", ErrStateFormat)
	}
	s := NewState(m, in, StateOptions{Pair2: h[2] == 1, Chunk: int(h[3])})
	s.Count, s.PairCount, s.ZeroA, s.Batches = int(h[4]), int(h[5]), int(h[6]), int(h[7])
	if h[8] == 1 {
		s.mb.Rows, s.mb.Cols, s.mb.Stride = int(d), int(d), int(d)
		s.mb.Data = make([]float64, d*d)
	}
	off := 12 + 8*9
	next := func() float64 {
		v := math.Float64frombits(binary.LittleEndian.Uint64(data[off:]))
		off += 8
		return v
	}
	s.SumDTheta2, s.LocMax = next(), next()
	for _, arr := range [][]float64{s.kron.g.Data, s.pair.g.Data, s.pair2.Data, s.mb.Data, s.SumG, s.SumGB} {
		for i := range arr {
			arr[i] = next()
		}
	}
	return s, nil
}
