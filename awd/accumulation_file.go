package awd

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/awd-toolkit/awd/internal/atomicfile"
	"github.com/awd-toolkit/awd/nn"
)

// The partial-analysis file: an Accumulation saved so that the shards of one
// analysis can be accumulated on different machines and merged. Little-endian:
//
//	magic     8 bytes  "AWDACCUM"
//	version   uint32   AccumulationVersion
//	header    uint64 length, then JSON: info, samples, loss and correct sums,
//	          timings, and the per-sample spectra's N, M, In, R (R 0: none)
//	state     uint64 length, then the State (the partial-state format of
//	          state_file.go, with its own checksum)
//	spectra   float64: A (N In), Norm2 (N), Scale (N), Mu (N R), G (N R M)
//	parity    float64, each present when the header has it: the shuffled
//	          mini-batch sums G (nb x d); the code's C_pair2 sums S, T
//	          (nb x d each); the anchor rule's packed C_pair sum (T(M) x
//	          T(In)), its C_pair2 sum (d x d, with pair2) and its code's S, T;
//	          per bootstrap group the packed C, H, M2 sums and sum g
//	checksum  SHA-256 of everything before it

// AccumulationVersion is the schema version of the partial-analysis file
// (2: the per-sample labels and the code's estimators; 3: spectra_v, the
// eigenvectors kept per sample, which version 2 files keep all of; 4: the
// info's build, the awd that accumulated, which older files lack: they
// merge only with each other). This build reads versions 2 to 4; builds
// before version 4 refuse its files rather than merge them unchecked.
const AccumulationVersion = 4

const accumMagic = "AWDACCUM"

type accumHeader struct {
	Info    AccumulationInfo `json:"info"`
	Samples []int            `json:"samples"`
	LossSum float64          `json:"loss_sum"`
	Correct int              `json:"correct"`
	Timings Timings          `json:"timings"`
	SpecN   int              `json:"spectra_n"`
	SpecR   int              `json:"spectra_r"`           // 0: no per-sample spectra
	SpecV   int              `json:"spectra_v,omitempty"` // eigenvectors kept per sample (0: files before it, all R)
	Labels  []int            `json:"spectra_labels,omitempty"`
	MB      *mbHeader        `json:"minibatch,omitempty"`
	Code    *codeHeader      `json:"pair2_code,omitempty"`
	Anchor  *anchorHeader    `json:"anchor,omitempty"`
	Boot    *bootHeader      `json:"bootstrap,omitempty"`
}

// Save writes acc to path atomically. A nil or empty Accumulation (one
// that Accumulate or LoadAccumulation did not make) is an error.
func (acc *Accumulation) Save(path string) error {
	if acc == nil || acc.Info.Shards == 0 {
		return fmt.Errorf("awd: save %s: no accumulation (make one with Accumulate or LoadAccumulation)", path)
	}
	if acc.State == nil {
		return fmt.Errorf("awd: save %s: the accumulation was already finalised", path)
	}
	h := accumHeader{Info: acc.Info, Samples: acc.Samples, LossSum: acc.LossSum, Correct: acc.Correct, Timings: acc.Timings}
	if ss := acc.Spectra; ss != nil {
		h.SpecN, h.SpecR, h.SpecV, h.Labels = ss.N, ss.R, ss.Kept(), ss.Label
	}
	arrays := h.setParity(acc)
	js, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("awd: save %s: %w", path, err)
	}
	st := acc.State.encode()
	var buf bytes.Buffer
	buf.WriteString(accumMagic)
	binary.Write(&buf, binary.LittleEndian, uint32(AccumulationVersion))
	binary.Write(&buf, binary.LittleEndian, uint64(len(js)))
	buf.Write(js)
	binary.Write(&buf, binary.LittleEndian, uint64(len(st)))
	buf.Write(st)
	if ss := acc.Spectra; ss != nil {
		arrays = append([][]float64{ss.A[:ss.N*ss.In], ss.Norm2[:ss.N], ss.Scale[:ss.N], ss.Mu[:ss.N*ss.R], ss.G[:ss.N*ss.Kept()*ss.M]}, arrays...)
	}
	var w8 [8]byte
	for _, arr := range arrays {
		for _, v := range arr {
			binary.LittleEndian.PutUint64(w8[:], math.Float64bits(v))
			buf.Write(w8[:])
		}
	}
	sum := sha256.Sum256(buf.Bytes())
	buf.Write(sum[:])
	if err := atomicfile.WriteBytes(path, buf.Bytes()); err != nil {
		return fmt.Errorf("awd: save accumulation: %w", err)
	}
	return nil
}

// accumulationReadError says why the accumulation file path could not be
// read and which file to give: a shard's folder names its shard files.
func accumulationReadError(path string, err error) error {
	const which = "give a file Accumulation.Save wrote (awd analyze --shard i/n writes OUT/shard_i_of_n.acc)"
	if st, serr := os.Stat(path); serr == nil && st.IsDir() {
		if shards, _ := filepath.Glob(filepath.Join(path, "shard_*_of_*.acc")); len(shards) > 0 {
			return nn.Reworded(err, fmt.Sprintf("awd: load accumulation: %s is a folder: give its shard file, %s", path, strings.Join(shards, " ")))
		}
		return nn.Reworded(err, fmt.Sprintf("awd: load accumulation: %s is a folder, not an accumulation file: %s", path, which))
	}
	if errors.Is(err, os.ErrNotExist) {
		return nn.Reworded(err, fmt.Sprintf("awd: load accumulation: %s: no such file: %s", path, which))
	}
	return fmt.Errorf("awd: load accumulation: %w", err)
}

// LoadAccumulation reads a file written by Accumulation.Save, verifying the
// magic, the version, the sizes and the checksum before it allocates
// anything large.
func LoadAccumulation(path string) (*Accumulation, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, accumulationReadError(path, err)
	}
	acc, err := decodeAccumulation(data)
	if err != nil {
		return nil, fmt.Errorf("awd: load accumulation %s: %w", path, err)
	}
	return acc, nil
}

// accumDamaged says what to do about an accumulation file damaged after it
// was written: shards are made again cheaply, and the same command writes
// its file anew over a damaged one.
const accumDamaged = "the file was damaged or truncated after it was written: " +
	"run the awd analyze --shard i/n that wrote it once more (Accumulation.Save in the library) to write it anew"

// maxAccumHeader bounds the JSON header (the sample list of a 10^6-sample
// analysis is about 8 MB).
const maxAccumHeader = 64 << 20

func decodeAccumulation(data []byte) (*Accumulation, error) {
	const pre = 8 + 4 + 8
	if len(data) < pre+sha256.Size {
		return nil, fmt.Errorf("%w: %d bytes, %s", ErrStateFormat, len(data), accumDamaged)
	}
	if string(data[:8]) != accumMagic {
		return nil, fmt.Errorf("%w: magic %q, want %q (a partial analysis written by awd analyze --shard)", ErrStateFormat, data[:8], accumMagic)
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v < 2 || v > AccumulationVersion {
		return nil, fmt.Errorf("%w: version %d, this build reads 2 to %d", ErrStateFormat, v, AccumulationVersion)
	}
	body := data[:len(data)-sha256.Size]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], data[len(body):]) {
		return nil, fmt.Errorf("%w: checksum mismatch, %s", ErrStateFormat, accumDamaged)
	}
	hl := binary.LittleEndian.Uint64(data[12:])
	if hl > maxAccumHeader || uint64(len(body)) < pre+hl+8 {
		return nil, fmt.Errorf("%w: header of %d bytes in a %d-byte file", ErrStateFormat, hl, len(data))
	}
	var h accumHeader
	if err := json.Unmarshal(body[pre:pre+hl], &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrStateFormat, err)
	}
	off := pre + hl
	sl := binary.LittleEndian.Uint64(body[off:])
	off += 8
	if sl > uint64(len(body))-off {
		return nil, fmt.Errorf("%w: state of %d bytes in a %d-byte file", ErrStateFormat, sl, len(data))
	}
	st, err := decodeState(body[off : off+sl])
	if err != nil {
		return nil, err
	}
	off += sl
	in := h.Info
	if err := checkAccumHeader(h, st); err != nil {
		return nil, err
	}
	acc := &Accumulation{Info: in, State: st, Samples: h.Samples, LossSum: h.LossSum, Correct: h.Correct, Timings: h.Timings}
	rest := uint64(len(body)) - off
	n, m, inDim, r := uint64(h.SpecN), uint64(in.M), uint64(in.In), uint64(h.SpecR)
	v := r
	if h.SpecV > 0 {
		v = uint64(h.SpecV)
	}
	fw := 8 * float64(n) * float64(inDim+2+r+v*m)
	if r == 0 {
		fw = 0
	}
	pw, err := h.parityWords()
	if err != nil {
		return nil, err
	}
	if fw+8*pw != float64(rest) {
		return nil, fmt.Errorf("%w: %d bytes of per-sample spectra and parity sums, the header says %d samples of R=%d and %.0f parity numbers", ErrStateFormat, rest, n, r, pw)
	}
	if r > 0 && h.Labels != nil && len(h.Labels) != h.SpecN {
		return nil, fmt.Errorf("%w: %d labels for %d per-sample spectra", ErrStateFormat, len(h.Labels), h.SpecN)
	}
	if r > 0 {
		ss := NewSampleSpectra(in.M, in.In, h.SpecR)
		ss.N, ss.V = h.SpecN, int(v)
		next := func(k uint64) []float64 {
			v := make([]float64, k)
			for i := range v {
				v[i] = math.Float64frombits(binary.LittleEndian.Uint64(body[off:]))
				off += 8
			}
			return v
		}
		ss.A, ss.Norm2, ss.Scale, ss.Mu, ss.G = next(n*inDim), next(n), next(n), next(n*r), next(n*v*m)
		ss.Label = h.Labels
		acc.Spectra = ss
	}
	h.getParity(acc, body[off:])
	return acc, nil
}

// checkAccumHeader checks that the header agrees with itself and the State.
func checkAccumHeader(h accumHeader, st *State) error {
	in := h.Info
	switch {
	case in.M != st.M || in.In != st.In:
		return fmt.Errorf("%w: header says a %dx%d layer, the state is %dx%d", ErrStateFormat, in.M, in.In, st.M, st.In)
	case in.Shards < 1 || len(in.Have) == 0 || len(in.Counts) != len(in.Have):
		return fmt.Errorf("%w: shards %d, have %v, counts %v", ErrStateFormat, in.Shards, in.Have, in.Counts)
	case len(h.Samples) != st.Count:
		return fmt.Errorf("%w: %d sample indices for %d accumulated samples", ErrStateFormat, len(h.Samples), st.Count)
	case h.SpecR < 0 || h.SpecN < 0 || h.SpecR > maxStateDim || h.SpecR > 0 && (h.SpecN != st.Count || h.SpecR != in.Head):
		return fmt.Errorf("%w: per-sample spectra of %d samples, R=%d, for %d samples and %d logits", ErrStateFormat, h.SpecN, h.SpecR, st.Count, in.Head)
	case h.SpecV < 0 || h.SpecV > h.SpecR:
		return fmt.Errorf("%w: per-sample spectra keep %d eigenvectors of R=%d", ErrStateFormat, h.SpecV, h.SpecR)
	}
	total := 0
	for i, s := range in.Have {
		if s < 0 || s >= in.Shards || i > 0 && s <= in.Have[i-1] || in.Counts[i] < 0 {
			return fmt.Errorf("%w: shards %v of %d", ErrStateFormat, in.Have, in.Shards)
		}
		total += in.Counts[i]
	}
	if total != st.Count {
		return fmt.Errorf("%w: shard counts %v for %d samples", ErrStateFormat, in.Counts, st.Count)
	}
	return in.Config.Validate()
}
