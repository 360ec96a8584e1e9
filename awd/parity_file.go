package awd

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/awd-toolkit/awd/linalg"
)

// The code's accumulators in the partial-analysis file
// (accumulation_file.go): their integers in the JSON header, their sums as
// float64 arrays after the per-sample spectra, in the order of setParity.

type mbHeader struct {
	Batch   []int  `json:"batch"`
	Size    []int  `json:"size"`
	Count   int    `json:"count"`
	Stratum string `json:"stratum"`
}

type codeHeader struct {
	Batch []int `json:"batch"`
	Rows  int   `json:"rows"`
	Div   int   `json:"div"`
	Count int   `json:"count"`
	Pairs int   `json:"pairs"`
}

type bootHeader struct {
	Group  []int `json:"group"`
	Counts []int `json:"counts"`
}

type anchorHeader struct {
	Rule       string      `json:"rule"`
	Pair2      bool        `json:"pair2"`
	Chunk      int         `json:"chunk"`
	SumDTheta2 float64     `json:"sum_dtheta2"`
	PairCount  int         `json:"pairs"`
	ZeroA      int         `json:"zero_a"`
	Code       *codeHeader `json:"code,omitempty"`
}

func codeHead(c *CodePair2Acc) *codeHeader {
	if c == nil {
		return nil
	}
	return &codeHeader{Batch: c.Batch, Rows: c.S.Rows, Div: c.Div, Count: c.Count, Pairs: c.Pairs}
}

// setParity records the accumulators of acc in h and returns their arrays.
func (h *accumHeader) setParity(acc *Accumulation) [][]float64 {
	var arrays [][]float64
	if mb := acc.MB; mb != nil {
		h.MB = &mbHeader{Batch: mb.Batch, Size: mb.Size, Count: mb.Count, Stratum: mb.Stratum}
		arrays = append(arrays, mb.G.Data)
	}
	if c := acc.Code; c != nil {
		h.Code = codeHead(c)
		arrays = append(arrays, c.S.Data, c.T.Data)
	}
	if b := acc.Boot; b != nil {
		h.Boot = &bootHeader{Group: b.Group}
		for _, st := range b.States {
			h.Boot.Counts = append(h.Boot.Counts, st.Count)
			arrays = append(arrays, st.kron.g.Data, st.SumG)
		}
	}
	if p := acc.Anchor; p != nil {
		h.Anchor = &anchorHeader{Rule: p.Rule, Pair2: p.Pair2, Chunk: p.Chunk, SumDTheta2: p.SumDTheta2, PairCount: p.PairCount, ZeroA: p.ZeroA, Code: codeHead(p.Code)}
		arrays = append(arrays, p.pair.g.Data)
		if p.Pair2 {
			arrays = append(arrays, p.pair2.Data)
		}
		if p.Code != nil {
			arrays = append(arrays, p.Code.S.Data, p.Code.T.Data)
		}
	}
	return arrays
}

// parityWords checks the header's accumulators and returns how many float64
// numbers their sums take in the file.
func (h *accumHeader) parityWords() (float64, error) {
	m, in := h.Info.M, h.Info.In
	d := float64(m) * float64(in)
	checkBatches := func(what string, batch []int, rows int) error {
		if rows < 0 || rows > len(batch) {
			return fmt.Errorf("%w: %s: %d batches for %d samples", ErrStateFormat, what, rows, len(batch))
		}
		for _, b := range batch {
			if b < 0 || b >= rows {
				return fmt.Errorf("%w: %s: a sample in batch %d of %d", ErrStateFormat, what, b, rows)
			}
		}
		return nil
	}
	var w float64
	if mb := h.MB; mb != nil {
		if err := checkBatches("mini-batches", mb.Batch, len(mb.Size)); err != nil {
			return 0, err
		}
		w += float64(len(mb.Size)) * d
	}
	codeWords := func(c *codeHeader) error {
		if c == nil {
			return nil
		}
		if c.Div < 1 {
			return fmt.Errorf("%w: C_pair2 (code): divisor %d", ErrStateFormat, c.Div)
		}
		if err := checkBatches("C_pair2 (code)", c.Batch, c.Rows); err != nil {
			return err
		}
		w += 2 * float64(c.Rows) * d
		return nil
	}
	if err := codeWords(h.Code); err != nil {
		return 0, err
	}
	if b := h.Boot; b != nil {
		if err := checkBatches("bootstrap groups", b.Group, len(b.Counts)); err != nil {
			return 0, err
		}
		w += float64(len(b.Counts)) * (float64(nBlocks)*float64(triLen(m))*float64(triLen(in)) + d)
	}
	if a := h.Anchor; a != nil {
		w += float64(triLen(m)) * float64(triLen(in))
		if a.Pair2 {
			w += d * d
		}
		if err := codeWords(a.Code); err != nil {
			return 0, err
		}
	}
	return w, nil
}

// getParity rebuilds the accumulators of h in acc from their arrays at the
// start of data (whose size parityWords has checked).
func (h *accumHeader) getParity(acc *Accumulation, data []byte) {
	m, in := h.Info.M, h.Info.In
	d := m * in
	off := 0
	fill := func(dst []float64) {
		for i := range dst {
			dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[off:]))
			off += 8
		}
	}
	code := func(c *codeHeader) *CodePair2Acc {
		if c == nil {
			return nil
		}
		a := &CodePair2Acc{M: m, In: in, Batch: c.Batch, Div: c.Div, Count: c.Count, Pairs: c.Pairs,
			S: linalg.NewDense(c.Rows, d), T: linalg.NewDense(c.Rows, d)}
		fill(a.S.Data)
		fill(a.T.Data)
		return a
	}
	if mb := h.MB; mb != nil {
		acc.MB = &MinibatchAcc{M: m, In: in, Batch: mb.Batch, Size: mb.Size, Count: mb.Count, Stratum: mb.Stratum,
			G: linalg.NewDense(len(mb.Size), d)}
		fill(acc.MB.G.Data)
	}
	acc.Code = code(h.Code)
	if b := h.Boot; b != nil {
		acc.Boot = &BootGroups{Group: b.Group}
		for _, c := range b.Counts {
			st := newBootState(m, in)
			fill(st.kron.g.Data)
			fill(st.SumG)
			st.Count = c
			acc.Boot.States = append(acc.Boot.States, st)
		}
	}
	if a := h.Anchor; a != nil {
		p := &PairAcc{Rule: a.Rule, M: m, In: in, Pair2: a.Pair2, Chunk: max(a.Chunk, 1), pair: newKron(m, in, 1),
			SumDTheta2: a.SumDTheta2, PairCount: a.PairCount, ZeroA: a.ZeroA}
		fill(p.pair.g.Data)
		if a.Pair2 {
			p.pair2 = linalg.NewDense(d, d)
			fill(p.pair2.Data)
		}
		p.Code = code(a.Code)
		acc.Anchor = p
	}
}
